# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""A CRL is stored in parts of at most 1 MiB (migration 023, docs/issuance.md
"The CRL store thread"): 30,000 revocations in the member CA make a CRL of
about 1.3 MB, which is stored as two parts and served whole by /pki; a CRL
stored in one piece before the migration is still served as it is."""

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
    yield from own_stack("cacert-crlparts-stack-")


@pytest.mark.allow_log(r"AH00098", r"AH00016", r"CA21104", r"Unclean shutdown")
def test_a_crl_over_1_mib_is_stored_in_parts_and_served_whole(http, stack, db):
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
    with db.cursor() as cur:
        cur.execute("SELECT c.crl_number, c.parts, c.der IS NULL,"
                    " array_agg(length(p.part) ORDER BY p.seq),"
                    " array_agg(p.seq ORDER BY p.seq)"
                    " FROM crls c JOIN crl_parts p USING (ca, crl_number)"
                    " WHERE c.ca = 'member' GROUP BY 1, 2, 3 ORDER BY 1 DESC LIMIT 1")
        number, parts, der_null, lens, seqs = cur.fetchone()
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number
    assert der_null and parts == len(lens) >= 2
    assert seqs == list(range(parts))
    assert all(n == PART for n in lens[:-1]) and 0 < lens[-1] <= PART
    assert sum(lens) == len(raw)


def test_a_crl_stored_whole_before_023_is_still_served(http, stack, db):
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM crls WHERE ca = 'member' AND parts > 0")
        if cur.fetchone()[0] < 2:
            # run alone: two CRLs, the second with a revocation more
            member(http, stack, db, points=10)
            for _ in range(2):
                cid, cert, _ = issue(http, profile="client", email0="yes")
                revoke(http, cid)
                wait_for_crl(http, "member", cert.serial_number, timeout=30)
    latest = http.get("/pki/member.crl").content
    with db.cursor() as cur:
        # an older CRL (without the last revocation), put together from its
        # parts, stored again as the schema before 023 held it: in der,
        # with no parts, under a number above every other
        cur.execute("SELECT string_agg(p.part, ''::bytea ORDER BY p.seq), max(c.crl_number)"
                    " OVER () + 1000 FROM crls c JOIN crl_parts p USING (ca, crl_number)"
                    " WHERE c.ca = 'member' GROUP BY c.crl_number ORDER BY c.crl_number LIMIT 1")
        older, number = cur.fetchone()
        older = bytes(older)
        assert older != latest
        x509.load_der_x509_crl(older)       # a CRL (raises if not)
        cur.execute("INSERT INTO crls (ca, crl_number, this_update, next_update, entries, der)"
                    " VALUES ('member', %s, now(), now() + interval '1 day', 0, %s)",
                    (number, older))
        try:
            assert http.get("/pki/member.crl").content == older
        finally:
            cur.execute("DELETE FROM crls WHERE ca = 'member' AND crl_number = %s", (number,))
    # the database decides which CRL is newest: the child that kept the
    # one under the higher number, now gone, serves the newest again (it
    # used to keep serving the higher number, without the revocations
    # since, until the numbers passed it)
    for _ in range(5):
        assert http.get("/pki/member.crl").content == latest


def test_only_the_newest_three_crl_bodies_are_kept(http, stack, db):
    """Migration 024: a CRL's body (its parts) is dropped once three newer
    CRLs of its CA are stored; its row stays, with pruned_at.  At a million
    revocations every body is 42 MB, and one is made after every revocation:
    kept for ever they filled the database by gigabytes a day."""
    member(http, stack, db, points=10)
    for _ in range(4):
        cid, cert, _ = issue(http, profile="client", email0="yes")
        revoke(http, cid)
        crl = wait_for_crl(http, "member", cert.serial_number, timeout=120)
    newest = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    with db.cursor() as cur:
        cur.execute("SELECT c.crl_number, c.pruned_at IS NOT NULL, c.der IS NULL, c.parts,"
                    " (SELECT count(*) FROM crl_parts p"
                    "  WHERE p.ca = c.ca AND p.crl_number = c.crl_number)"
                    " FROM crls c WHERE c.ca = 'member' ORDER BY c.crl_number DESC")
        rows = cur.fetchall()
    assert rows[0][0] == newest and len(rows) >= 5
    for number, pruned, der_null, parts, stored in rows[:3]:
        assert not pruned and parts > 0 and stored == parts, rows[:4]
    for number, pruned, der_null, parts, stored in rows[3:]:
        assert pruned and der_null and stored == 0, (number, rows[:6])
    # the newest is served whole, and is the CRL the member saw
    assert x509.load_der_x509_crl(http.get("/pki/member.crl").content) == crl
