# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""A key serves one member: the rule holds while the first member's request
is still on its way to the signer, and when two members send the same key
at the same moment (real httpd, PostgreSQL and signerd; signerd is held
with SIGSTOP so that the requests stay queued)."""

import os
import signal
import threading

import pytest

from conftest import StackSession
from issuing import journal_revokes, make_csr, member, new_key, request_form, wait_for_cert

KEY_USED = "belongs to a certificate of another member"


def requests_for_key(db, spki_hex):
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM signer_requests WHERE spki_sha256 = %s", (spki_hex,))
    return cur.fetchone()[0]


def spki_sha256(key):
    import hashlib
    from cryptography.hazmat.primitives import serialization
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


@pytest.fixture
def held_signer(stack):
    """signerd stopped for the test; a fresh one afterwards."""
    pid = stack.pids["signerd"]
    os.kill(pid, signal.SIGSTOP)
    yield
    os.kill(pid, signal.SIGKILL)
    os.kill(pid, signal.SIGCONT)
    stack.start_signerd()


@pytest.mark.allow_log(r"CA21104", r"CA2110[0-9]")
def test_same_key_while_the_first_request_waits(http, stack, db, held_signer):
    key = new_key()
    csr = make_csr(key).decode()
    member(http, stack, db, points=10)
    first = request_form(http, profile="client", email0="yes", csr=csr)
    assert first.status_code == 303, first.text[:500]
    with StackSession(stack) as other:
        member(other, stack, db, points=10)
        r = request_form(other, profile="client", email0="yes", csr=csr)
        assert r.status_code == 422 and KEY_USED in r.text
    assert requests_for_key(db, spki_sha256(key)) == 1
    # the same member may use the key again (renewal does)
    again = request_form(http, profile="client", email0="yes", csr=csr)
    assert again.status_code == 303


@pytest.mark.allow_log(r"CA21104", r"CA2110[0-9]")
def test_two_members_at_once_get_one_request(http, stack, db, held_signer):
    with StackSession(stack) as a, StackSession(stack) as b:
        member(a, stack, db, points=10)
        member(b, stack, db, points=10)
        for _ in range(5):
            key = new_key("ec")
            csr = make_csr(key).decode()
            # both forms fetched first: only the two POSTs race
            forms = {}
            for name, s in (("a", a), ("b", b)):
                page = s.get("/certs/new")
                assert page.status_code == 200
                forms[name] = page.text
            barrier = threading.Barrier(2)
            results = {}

            def post(name, s):
                from accounts import csrf_of
                data = {"csrf": csrf_of(forms[name]), "md": "sha256", "profile": "client",
                        "email0": "yes", "csr": csr}
                barrier.wait()
                results[name] = s.post("/certs/new", data=data, allow_redirects=False)

            threads = [threading.Thread(target=post, args=(n, s)) for n, s in (("a", a),
                                                                                ("b", b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            codes = sorted(r.status_code for r in results.values())
            assert codes == [303, 422], codes
            refused = [r for r in results.values() if r.status_code == 422][0]
            assert KEY_USED in refused.text
            assert requests_for_key(db, spki_sha256(key)) == 1


def test_one_certificate_per_key_once_signed(http, stack, db):
    """With the signer running: the first member gets the certificate, the
    second is refused, and the key is in one certificate only."""
    key = new_key()
    csr = make_csr(key).decode()
    member(http, stack, db, points=10)
    wait_for_cert(http, request_form(http, profile="client", email0="yes", csr=csr))
    with StackSession(stack) as other:
        member(other, stack, db, points=10)
        r = request_form(other, profile="client", email0="yes", csr=csr)
        assert r.status_code == 422 and KEY_USED in r.text
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM certificates WHERE spki_sha256 = %s", (spki_sha256(key),))
    assert cur.fetchone()[0] == 1


def test_concurrent_revocations_of_one_certificate(http, stack, db):
    """Ten revocations of one certificate at the same moment, three times:
    one queue row, one journal REVOKE, one audit row of each kind and one
    CRL entry per certificate (the database refuses the second request)."""
    import time
    from cryptography import x509
    from accounts import csrf_of
    from issuing import issue
    member(http, stack, db, points=10)
    cur = db.cursor()
    for _ in range(3):
        cid, cert, key = issue(http, profile="client", email0="yes")
        before = journal_revokes(stack)
        token = csrf_of(http.get("/certs/").text)
        sessions = []
        for _ in range(10):
            s = StackSession(stack)
            s.cookies.update(http.cookies)
            s.get("/certs/")          # connected: only the POSTs race
            sessions.append(s)
        barrier = threading.Barrier(10)
        codes = []

        def revoke(s):
            barrier.wait()
            codes.append(s.post("/certs/revoke", data={"csrf": token, "id": cid},
                                allow_redirects=False).status_code)

        threads = [threading.Thread(target=revoke, args=(s,)) for s in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for s in sessions:
            s.close()
        assert len(codes) == 10 and all(c in (303, 409, 200) for c in codes), codes
        deadline = time.monotonic() + 20
        while "revoked on" not in http.get(f"/certs/view?id={cid}").text:
            assert time.monotonic() < deadline, "the revocation did not reach the signer"
            time.sleep(0.1)
        time.sleep(0.5)
        cur.execute("SELECT count(*) FROM signer_requests WHERE kind = 'revoke' AND cert_id = %s",
                    (cid,))
        assert cur.fetchone()[0] == 1
        for action in ("cert.revoke.request", "cert.revoke"):
            cur.execute("SELECT count(*) FROM audit_log WHERE action = %s AND detail LIKE %s",
                        (action, f"certificate={cid}%"))
            assert cur.fetchone()[0] == 1, action
        assert journal_revokes(stack) == before + 1
        crl = x509.load_der_x509_crl(http.get("/pki/member.crl").content)
        assert sum(1 for e in crl if e.serial_number == cert.serial_number) == 1
