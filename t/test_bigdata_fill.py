# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The bulk fill of bench/bigdata.py (bench/bigdata_fill.py), at a tiny
scale on the test stack: it keeps to the schema (it runs at all: foreign
keys, checks, unique indexes), writes what the application writes, and the
pages and the OCSP responder answer right on what it wrote."""

import hashlib
import os
import re
import sys

import pytest
import requests
from cryptography import x509
from cryptography.x509 import ocsp

from conftest import own_stack
from issuing import member

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))

from bigdata_fill import fill  # noqa: E402
from ocsp_bench import ocsp_request_der  # noqa: E402


@pytest.fixture(scope="module")
def stack():
    """a stack of this module's own (http and db use it): the fill writes
    revocations that signerd's journal never saw, so the CRLs of its
    database can no longer be signed (CA10605), rightly; the session's
    stack must not inherit that"""
    yield from own_stack("cacert-fill-stack-")


def one(db, sql, *args):
    cur = db.cursor()
    cur.execute(sql, args)
    return cur.fetchone()


def test_fill_tiny_then_pages_and_ocsp(http, stack, db):
    m = member(http, stack, db)
    before = one(db, "SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM certificates),"
                     " (SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL),"
                     " (SELECT count(*) FROM assurances WHERE revoked_at IS NULL)")
    info = fill(stack, members=60, certs=400, revoked=40, assurances=150,
                ca_weights={"member": 0.5, "assured": 0.4, "org": 0.1},
                heavy=[m["id"]], heavy_certs=12, heavy_revoked=3, heavy_given=10,
                heavy_received=5, seed=7)
    assert (info["members"], info["certificates"], info["revoked"], info["assurances"]) == (
        before[0] + 60, before[1] + 400 + 12, before[2] + 40 + 3, before[3] + 150 + 5 + 10)
    lo, hi = info["cert_ids"]

    # what the application writes: one 'sign' request per certificate, one
    # 'revoke' per revocation, serials as signerd makes them, sane dates
    assert one(db, "SELECT count(*) FROM certificates c JOIN signer_requests r"
                   " ON r.id = c.request_id AND r.kind = 'sign' AND r.state = 'done'"
                   " AND r.member_id = c.member_id AND r.ca = c.ca"
                   " WHERE c.id BETWEEN %s AND %s", lo, hi)[0] == 412
    assert one(db, "SELECT count(*) FROM certificates c WHERE c.id BETWEEN %s AND %s"
                   " AND c.revoked_at IS NOT NULL AND EXISTS (SELECT 1 FROM signer_requests r"
                   " WHERE r.kind = 'revoke' AND r.cert_id = c.id AND r.state = 'done')",
               lo, hi)[0] == 43
    assert one(db, "SELECT count(*) FROM certificates WHERE id BETWEEN %s AND %s AND ("
                   " serial !~ '^[0-7][0-9a-f]{31}$' OR serial ~ '^00'"
                   " OR not_after <= not_before OR not_before > now()"
                   " OR (revoked_at IS NOT NULL AND (revoked_at < not_before"
                   "     OR revoked_at > now() OR revoke_reason NOT IN (0, 1, 3, 4, 5)))"
                   " OR (revoked_at IS NULL) <> (revoke_reason IS NULL)"
                   " OR ca NOT IN ('member', 'assured', 'org'))", lo, hi)[0] == 0
    assert one(db, "SELECT count(DISTINCT ca) FROM certificates WHERE id BETWEEN %s AND %s",
               lo, hi)[0] == 3
    a_lo, a_hi = info["member_ids"]
    assert one(db, "SELECT count(*) FROM members m WHERE m.id BETWEEN %s AND %s AND"
                   " (SELECT count(*) FROM emails e WHERE e.member_id = m.id AND e.is_primary"
                   "  AND e.verified_at IS NOT NULL) <> 1", a_lo, a_hi)[0] == 0
    # every Assurer made by the fill holds 100 points
    assert one(db, "SELECT count(*) FROM members m WHERE m.id BETWEEN %s AND %s"
                   " AND m.assurer_challenge_at IS NOT NULL AND (SELECT sum(points)"
                   " FROM assurances WHERE assuree_id = m.id AND revoked_at IS NULL) < 100",
               a_lo, a_hi)[0] == 0

    # the pages, logged in as the heavy member (its password still works)
    r = http.get("/account/")
    assert r.status_code == 200 and "<main" in r.text
    r = http.get("/wot/points")
    assert r.status_code == 200 and "up to 20 points" in r.text, r.text[:2000]  # 10 given
    assert r.text.count("Bigdata") >= 15          # 5 received + 10 given, by name
    r = http.get("/certs/")
    assert r.status_code == 200
    assert len(set(re.findall(r"view\?id=(\d+)", r.text))) == 12
    r = http.get("/wot/stats")
    assert r.status_code == 200 and "<svg" in r.text

    # OCSP on filled serials of each CA, good and revoked
    cur = db.cursor()
    cur.execute("(SELECT ca, serial, revoked_at, revoke_reason FROM certificates"
                "  WHERE id BETWEEN %s AND %s AND revoked_at IS NOT NULL ORDER BY id LIMIT 6)"
                " UNION ALL (SELECT ca, serial, revoked_at, revoke_reason FROM certificates"
                "  WHERE id BETWEEN %s AND %s AND revoked_at IS NULL ORDER BY id DESC LIMIT 6)"
                " UNION ALL (SELECT DISTINCT ON (ca) ca, serial, revoked_at, revoke_reason"
                "  FROM certificates WHERE id BETWEEN %s AND %s ORDER BY ca, id)",
                (lo, hi, lo, hi, lo, hi))
    web = os.path.join(stack.ca_dir, "web")
    url = stack.http_url + "/ocsp"
    for ca, serial, revoked_at, reason in cur.fetchall():
        with open(os.path.join(web, f"{ca}.crt"), "rb") as f:
            issuer = x509.load_pem_x509_certificate(f.read())
        der = ocsp_request_der(hashlib.sha1(issuer.subject.public_bytes()).digest(),
                               x509.SubjectKeyIdentifier.from_public_key(
                                   issuer.public_key()).digest, bytes.fromhex(serial))
        r = requests.post(url, data=der, timeout=30,
                          headers={"Content-Type": "application/ocsp-request"})
        assert r.status_code == 200
        resp = ocsp.load_der_ocsp_response(r.content)
        assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL, (ca, serial)
        assert resp.serial_number == int(serial, 16)
        if revoked_at is None:
            assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD, (ca, serial)
        else:
            assert resp.certificate_status == ocsp.OCSPCertStatus.REVOKED, (ca, serial)
            assert abs(resp.revocation_time.timestamp()
                       - revoked_at.replace(microsecond=0).timestamp()) <= 1
            got = resp.revocation_reason
            assert (got.value if got else "unspecified") == x509.ReasonFlags(
                {0: "unspecified", 1: "keyCompromise", 3: "affiliationChanged",
                 4: "superseded", 5: "cessationOfOperation"}[reason]).value
