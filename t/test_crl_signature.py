# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""A CRL is stored as its fields and its signature, not its body (migration
025, docs/issuance.md "/pki"): /pki builds the body again from the CA's
revocations up to the CRL's revoked_upto and serves it only if the
signature verifies.  30,000 revocations in the member CA make a CRL of
about 1.3 MB; a CRL stored with its body before 025 (whole, or in parts of
023) is still served as it is, unless its count of parts is damaged; a row
whose signature does not match what the revocations give is not served at
all."""

import os
import sys

import pytest
from cryptography import x509

from conftest import own_stack
from issuing import issue, member, revoke, wait_for_crl
from test_crl_incremental import check_matches

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))

from bigdata_fill import fill  # noqa: E402
from crl_stall_bench import journal_append  # noqa: E402

PART = 1 << 20


@pytest.fixture(scope="module")
def stack():
    """a stack of this module's own: the fill adds 30,000 revocations to
    the member CA, which every later CRL of the session's stack would
    carry"""
    yield from own_stack("cacert-crlsig-stack-")


def newest_row(db):
    with db.cursor() as cur:
        cur.execute("SELECT crl_number, der IS NULL, parts, entries, md, revoked_upto,"
                    " signature, (SELECT count(*) FROM crl_parts p WHERE p.ca = c.ca"
                    "  AND p.crl_number = c.crl_number)"
                    " FROM crls c WHERE ca = 'member' ORDER BY crl_number DESC LIMIT 1")
        return cur.fetchone()


@pytest.mark.allow_log(r"AH00098", r"AH00016", r"CA21104", r"Unclean shutdown")
def test_a_crl_of_30000_entries_is_stored_as_its_signature_and_served_whole(http, stack, db):
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    fill(stack, members=200, certs=30000, revoked=30000, assurances=300,
         ca_weights={"member": 1.0})
    # signerd learns revocations from its journal only: the filled ones
    # are appended to it (as bench/crl_stall_bench.py does), so journal and
    # database agree and the CRL is signed
    stack.stop_httpd()
    stack.stop_signerd()
    assert journal_append(stack, db) >= 30000
    stack.start_signerd()
    stack.start_httpd()
    http.close()
    revoke(http, cid)
    crl = wait_for_crl(http, "member", cert.serial_number, timeout=120)
    check_matches(http, db, crl)
    assert len(list(crl)) > 30000
    raw = http.get("/pki/member.crl").content
    assert len(raw) > PART
    number, der_null, parts, entries, md, upto, sig, stored = newest_row(db)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number
    # no body in the database: the fields, the signature and the last
    # revocation number it lists
    assert der_null and parts == 0 and stored == 0
    assert entries == len(list(crl)) and md == "sha256"
    assert bytes(sig) == crl.signature
    with db.cursor() as cur:
        cur.execute("SELECT count(*), max(revoked_seq) FROM certificates"
                    " WHERE ca = 'member' AND revoked_seq <= %s", (upto,))
        assert cur.fetchone() == (entries, upto)
    # every child builds the same bytes
    for _ in range(6):
        http.close()
        assert http.get("/pki/member.crl").content == raw


def test_crls_stored_with_their_body_before_025_are_still_served(http, stack, db):
    latest = http.get("/pki/member.crl").content
    if len(latest) < 100:
        member(http, stack, db, points=10)
        cid, cert, _ = issue(http, profile="client", email0="yes")
        revoke(http, cid)
        wait_for_crl(http, "member", cert.serial_number, timeout=30)
        latest = http.get("/pki/member.crl").content
    old = x509.load_der_x509_crl(latest)
    number = newest_row(db)[0]
    whole, in_parts = number + 1000, number + 2000
    parts = [latest[i:i + PART // 4] for i in range(0, len(latest), PART // 4)]
    with db.cursor() as cur:
        try:
            # stored whole, as before 023
            cur.execute("INSERT INTO crls (ca, crl_number, this_update, next_update, entries,"
                        " der) VALUES ('member', %s, now(), now() + interval '1 day', %s, %s)",
                        (whole, len(list(old)), latest))
            assert http.get("/pki/member.crl").content == latest
            # stored in parts, as 023 and 024 did
            cur.execute("INSERT INTO crls (ca, crl_number, this_update, next_update, entries,"
                        " parts) VALUES ('member', %s, now(), now() + interval '1 day', %s, %s)",
                        (in_parts, len(list(old)), len(parts)))
            for i, part in enumerate(parts):
                cur.execute("INSERT INTO crl_parts (ca, crl_number, seq, part)"
                            " VALUES ('member', %s, %s, %s)", (in_parts, i, part))
            for _ in range(4):
                http.close()
                assert http.get("/pki/member.crl").content == latest
        finally:
            cur.execute("DELETE FROM crl_parts WHERE ca = 'member' AND crl_number = %s",
                        (in_parts,))
            cur.execute("DELETE FROM crls WHERE ca = 'member' AND crl_number IN (%s, %s)",
                        (whole, in_parts))
    # the database decides which CRL is newest: the signed row again
    for _ in range(4):
        http.close()
        assert http.get("/pki/member.crl").content == latest


@pytest.mark.allow_log(r"CA10628", r"CA50052")
def test_a_row_whose_signature_does_not_match_is_not_served(http, stack, db):
    latest = http.get("/pki/member.crl").content
    assert len(latest) > 100
    number, _, _, entries, md, upto, sig, _ = newest_row(db)
    bad = bytearray(bytes(sig))
    bad[len(bad) // 2] ^= 0x01
    log = os.path.getsize(stack.error_log)
    with db.cursor() as cur:
        try:
            # the same revocations and signature under a number the
            # signature was not made for, then with the signature damaged
            # too (numbers the test before did not use: a child keeps what
            # it served under its number, and numbers are never used twice)
            for n, s in ((number + 3000, bytes(sig)), (number + 4000, bytes(bad))):
                cur.execute("INSERT INTO crls (ca, crl_number, this_update, next_update,"
                            " entries, md, revoked_upto, signature) SELECT ca, %s,"
                            " this_update, next_update, entries, md, revoked_upto, %s"
                            " FROM crls WHERE ca = 'member' AND crl_number = %s",
                            (n, s, number))
                for _ in range(3):
                    http.close()
                    r = http.get("/pki/member.crl")
                    assert r.status_code == 503 and r.content != latest, r.status_code
        finally:
            cur.execute("DELETE FROM crls WHERE ca = 'member' AND crl_number > %s", (number,))
    assert any("CA10628" in ln and "does not match its signature" in ln
               for ln in stack.error_log_lines(log))
    # nothing changed: the signed CRL is served again
    for _ in range(4):
        http.close()
        assert http.get("/pki/member.crl").content == latest


@pytest.mark.allow_log(r"CA10626")
def test_a_row_before_025_whose_part_count_is_damaged_is_not_served(http, stack, db):
    """A CRL stored in parts (023, 024) whose count of parts does not
    match the parts stored: nothing is sized by that count before it is
    checked (here the largest the column holds: two arrays of 16 GB
    before), it is logged (CA10626) and no CRL is served from it."""
    latest = http.get("/pki/member.crl").content
    assert len(latest) > 100
    number = newest_row(db)[0]
    damaged = number + 5000
    parts = [latest[i:i + PART // 4] for i in range(0, len(latest), PART // 4)]
    log = os.path.getsize(stack.error_log)
    with db.cursor() as cur:
        try:
            cur.execute("INSERT INTO crls (ca, crl_number, this_update, next_update, entries,"
                        " parts) VALUES ('member', %s, now(), now() + interval '1 day', 0,"
                        " 2147483647)", (damaged,))
            for i, part in enumerate(parts):
                cur.execute("INSERT INTO crl_parts (ca, crl_number, seq, part)"
                            " VALUES ('member', %s, %s, %s)", (damaged, i, part))
            for _ in range(3):
                http.close()
                r = http.get("/pki/member.crl")
                assert r.status_code == 500 and r.content != latest, r.status_code
        finally:
            cur.execute("DELETE FROM crl_parts WHERE ca = 'member' AND crl_number = %s",
                        (damaged,))
            cur.execute("DELETE FROM crls WHERE ca = 'member' AND crl_number = %s", (damaged,))
    assert any("CA10626" in ln and f"has {len(parts)} parts of 2147483647" in ln
               for ln in stack.error_log_lines(log))
    for _ in range(4):
        http.close()
        assert http.get("/pki/member.crl").content == latest
