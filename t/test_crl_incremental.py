# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""CRLs from incremental state (docs/issuance.md, "How CRLs are made"): a
revocation is in the published CRL within 5 s, and the CRL still matches
the database after httpd and signerd are restarted (the link loads its
revocations again, signerd replays its journal)."""

import datetime
import time

import pytest
import requests
from cryptography import x509

from accounts import csrf_of
from issuing import issue, member, revoke, wait_for_crl


def db_revoked(db, ca):
    with db.cursor() as cur:
        cur.execute("SELECT serial, extract(epoch FROM revoked_at)::bigint FROM certificates"
                    " WHERE ca = %s AND revoked_at IS NOT NULL", (ca,))
        return {int(s, 16): t for s, t in cur.fetchall()}


def crl_revoked(crl):
    return {r.serial_number: int(r.revocation_date.replace(tzinfo=datetime.timezone.utc).timestamp()) for r in crl}


def crl_number(crl):
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def check_matches(http, db, crl):
    issuer = x509.load_pem_x509_certificate(http.get("/pki/member.crt").content)
    assert crl.is_signature_valid(issuer.public_key())
    assert crl_revoked(crl) == db_revoked(db, "member")


def test_revocation_in_the_published_crl_within_5s(http, stack, db):
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    t0 = time.monotonic()
    r = http.post("/certs/revoke", data={"csrf": csrf_of(http.get("/certs/").text),
                                         "id": cid}, allow_redirects=False)
    assert r.status_code == 303
    crl = wait_for_crl(http, "member", cert.serial_number, timeout=5)
    assert time.monotonic() - t0 < 5
    check_matches(http, db, crl)


@pytest.mark.allow_log(r"AH00098", r"AH00016", r"CA21104", r"Unclean shutdown")
def test_crl_matches_the_database_after_restarts(http, stack, db):
    with db.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM signer_requests")
        first = cur.fetchone()[0]
    member(http, stack, db, points=10)
    certs = [issue(http, profile="client", email0="yes") for _ in range(3)]
    revoke(http, certs[0][0])
    before = wait_for_crl(http, "member", certs[0][1].serial_number)
    check_matches(http, db, before)
    # httpd: the new link reads the revocations from the database again
    stack.stop_httpd()
    stack.start_httpd()
    revoke(http, certs[1][0], timeout=30)
    crl = wait_for_crl(http, "member", certs[1][1].serial_number, timeout=10)
    check_matches(http, db, crl)
    assert crl_number(crl) > crl_number(before)
    # signerd: its journal replayed into its set
    stack.start_signerd()
    t0 = time.monotonic()
    revoke(http, certs[2][0], timeout=30)
    after = wait_for_crl(http, "member", certs[2][1].serial_number, timeout=10)
    assert time.monotonic() - t0 < 30
    check_matches(http, db, after)
    assert crl_number(after) > crl_number(crl)
    # nothing refused on the way (the stack's earlier tests may have)
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM signer_requests WHERE kind = 'crl'"
                    " AND state IN ('refused', 'quarantined') AND id > %s", (first,))
        assert cur.fetchone()[0] == 0


@pytest.mark.parametrize("md", ["sha384", "sha512"])
def test_crl_signed_with_another_hash(http, stack, db, md):
    """CAcertCRLHash sha384 or sha512: signerd signs its own body's digest
    with that hash (taken in the same pass as the SHA-256 it compares with
    the link's); the published CRL says so and verifies"""
    with stack.configured([f"CAcertCRLHash {md}"]):
        member(http, stack, db, points=10)
        cid, cert, _ = issue(http, profile="client", email0="yes")
        revoke(http, cid)
        crl = wait_for_crl(http, "member", cert.serial_number, timeout=10)
        assert crl.signature_hash_algorithm.name == md
        check_matches(http, db, crl)


def test_a_burst_of_revocations_all_in_the_crl_none_refused(http, stack, db):
    """Revocations sent one after the other while CRLs are being made: the
    link hashes a new CRL request off its line from a copy of its set, and
    sends it only if no revocation came since the copy (signerd would hold
    one that the copy lacks and refuse it).  Every revocation reaches a
    published CRL, and no CRL request is refused on the way."""
    member(http, stack, db, points=10)
    certs = [issue(http, profile="client", email0="yes") for _ in range(8)]
    with db.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM signer_requests")
        first = cur.fetchone()[0]
    csrf = csrf_of(http.get("/certs/").text)
    for cid, _, _ in certs:
        r = http.post("/certs/revoke", data={"csrf": csrf, "id": cid}, allow_redirects=False)
        assert r.status_code == 303
    for _, cert, _ in certs:
        crl = wait_for_crl(http, "member", cert.serial_number, timeout=10)
    check_matches(http, db, crl)
    assert all(crl.get_revoked_certificate_by_serial_number(c.serial_number) is not None
               for _, c, _ in certs)
    with db.cursor() as cur:
        cur.execute("SELECT kind, state, count(*) FROM signer_requests WHERE id > %s"
                    " GROUP BY kind, state", (first,))
        states = {(k, s): n for k, s, n in cur.fetchall()}
    assert states.get(("revoke", "done")) == 8, states
    assert not [k for k in states if k[1] in ("refused", "quarantined")], states


def test_each_download_is_the_newest_crl(http, stack, db):
    """Each child keeps the newest CRL it read (modules/issue_pki.c): the
    same bytes while no newer one is published, the newer one as soon as it
    is, on every connection (any child), never the older one again."""
    member(http, stack, db, points=10)
    certs = [issue(http, profile="client", email0="yes") for _ in range(2)]
    revoke(http, certs[0][0])
    first = wait_for_crl(http, "member", certs[0][1].serial_number)
    again = [requests.get(stack.url + "/pki/member.crl", verify=stack.cert_file).content
             for _ in range(6)]
    assert all(b == again[0] for b in again)
    assert crl_number(x509.load_der_x509_crl(again[0])) >= crl_number(first)
    revoke(http, certs[1][0])
    newer = wait_for_crl(http, "member", certs[1][1].serial_number)
    for _ in range(6):
        crl = x509.load_der_x509_crl(
            requests.get(stack.url + "/pki/member.crl", verify=stack.cert_file).content)
        assert crl_number(crl) >= crl_number(newer)
        assert crl.get_revoked_certificate_by_serial_number(certs[1][1].serial_number)
    check_matches(http, db, crl)
