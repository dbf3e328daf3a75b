# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The database goes away and comes back while httpd and signerd run (real
PostgreSQL, httpd, relay and signerd): after a restart every part works
again within seconds without restarting httpd -- statements are prepared
again on the reconnected sessions -- and a long outage neither kills signerd
(the link keeps sending heartbeats) nor loses a queued request."""

import os
import signal
import threading
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from accounts import PASSWORD, login
from conftest import StackSession
from issuing import download, issue, make_csr, member, new_key, request_form, wait_for_cert

# what httpd's log says while the database is away (mod_dbd, apr-util's
# driver, the core's statements, the link and the OCSP responder)
DB_GONE = (r"dbd", r"DBD", r"AH0063\d", r"AH00629", r"CA1030\d", r"CA20102", r"CA20103",
           r"CA21110", r"CA21106", r"CA21204", r"CA22101", r"CA21306", r"CA2110[0-9]",
           r"CA2111[67]",   # the link loses its lock with the database, and waits for it
           r"CA21119",      # the link cannot read the revocations for its CRLs meanwhile
           r"CA21121",      # a CRL signed meanwhile cannot be stored (asked again later)
           r"CA22105",      # nor can the CRL store thread open its own connection
           r"no connection", r"server closed", r"could not connect", r"Connection refused",
           r"terminating connection", r"the database system is", r"No such file")


def ocsp_request(stack, cert, nonce):
    with open(os.path.join(stack.ca_dir, "web", "member.crt"), "rb") as f:
        issuer = x509.load_pem_x509_certificate(f.read())
    req = (ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
           .add_extension(x509.OCSPNonce(nonce), critical=False).build())
    return req.public_bytes(serialization.Encoding.DER)


def ocsp_ok(stack, cert):
    """An OCSP answer with a fresh nonce (never from the cache): good and echoed."""
    nonce = os.urandom(16)
    r = requests.post(stack.http_url + "/ocsp", data=ocsp_request(stack, cert, nonce),
                      headers={"Content-Type": "application/ocsp-request"}, timeout=10)
    if r.status_code != 200:
        return False
    resp = ocsp.load_der_ocsp_response(r.content)
    return (resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
            and resp.certificate_status == ocsp.OCSPCertStatus.GOOD
            and resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce)


def everything_works(http, stack, m, cert):
    """Login, a member page, the CRL and OCSP answer; (ok, what failed)."""
    try:
        with StackSession(stack) as s:
            r = login(s, m["email"], PASSWORD)
            if r.status_code != 303:
                return False, f"login {r.status_code}"
            r = s.get("/certs/")
            if r.status_code != 200 or "Certificates" not in r.text:
                return False, f"/certs/ {r.status_code}"
        r = requests.get(stack.http_url + "/pki/member.crl", timeout=10)
        if r.status_code != 200:
            return False, f"CRL {r.status_code}"
        x509.load_der_x509_crl(r.content)
        if not ocsp_ok(stack, cert):
            return False, "OCSP"
    except requests.RequestException as e:
        return False, str(e)
    return True, ""


class SteadyClient(threading.Thread):
    """A member's page every 50 ms on a session of its own; records each
    request's time and status."""

    def __init__(self, stack, m, path="/certs/"):
        super().__init__(daemon=True)
        self.stack, self.m, self.path = stack, m, path
        self.stop = threading.Event()
        self.log = []

    def run(self):
        with StackSession(self.stack) as s:
            assert login(s, self.m["email"], PASSWORD).status_code == 303
            while not self.stop.is_set():
                t = time.monotonic()
                try:
                    ok = s.get(self.path, timeout=10, allow_redirects=False).status_code == 200
                except requests.RequestException:
                    ok = False
                self.log.append((t, ok))
                time.sleep(0.05)

    def failed_seconds(self, since):
        bad = [t for t, ok in self.log if t >= since and not ok]
        return (max(bad) - min(bad) + 0.05) if bad else 0.0, len(bad)


def wait_all_work(http, stack, m, cert, since, limit=5.0):
    deadline = since + limit
    while True:
        ok, why = everything_works(http, stack, m, cert)
        if ok:
            return time.monotonic() - since
        assert time.monotonic() < deadline, f"still failing {limit} s after the restart: {why}"
        time.sleep(0.1)


def no_missing_statements(stack, log_from):
    lines = stack.error_log_lines(log_from, lambda l: "does not exist" in l)
    assert not lines, lines[:5]


@pytest.mark.allow_log(*DB_GONE)
def test_postgres_restart_while_idle(http, stack, db):
    m = member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    # every kind of connection is in use before: pages, OCSP, the link
    assert everything_works(http, stack, m, cert)[0]
    time.sleep(1)
    log_from = os.path.getsize(stack.error_log)
    stack.restart_postgres()
    back = time.monotonic()
    took = wait_all_work(http, stack, m, cert, back)
    # and issuance: a new certificate through the page and the signer
    with StackSession(stack) as s:
        assert login(s, m["email"], PASSWORD).status_code == 303
        issue(s, profile="client", email0="yes")
    no_missing_statements(stack, log_from)
    print(f"\nidle httpd: everything answered {took:.2f} s after pg_ctl restart")


@pytest.mark.allow_log(*DB_GONE)
def test_postgres_restart_under_load(http, stack, db):
    m = member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    clients = [SteadyClient(stack, m) for _ in range(3)]
    clients.append(SteadyClient(stack, m, "/account/"))
    for c in clients:
        c.start()
    time.sleep(2)
    log_from = os.path.getsize(stack.error_log)
    t0 = time.monotonic()
    stack.restart_postgres()
    back = time.monotonic()
    took = wait_all_work(http, stack, m, cert, back)
    time.sleep(max(0.0, back + 8 - time.monotonic()))
    for c in clients:
        c.stop.set()
    for c in clients:
        c.join(20)
    # 5 s after the database is back, every request of the steady clients worked
    late = [ok for c in clients for t, ok in c.log if t > back + 5]
    assert late and all(late), f"{late.count(False)} of {len(late)} failed 5 s after"
    failed = [c.failed_seconds(t0) for c in clients]
    no_missing_statements(stack, log_from)
    print(f"\nunder load: restart took {back - t0:.2f} s; everything answered {took:.2f} s "
          f"after; steady clients' failures: " +
          ", ".join(f"{s:.2f} s ({n} requests)" for s, n in failed))


@pytest.fixture
def short_deadman(stack):
    """signerd with a 20 s dead-man timer for the test; the usual one after."""
    stack.start_signerd(deadman=20)
    yield
    stack.start_signerd()


@pytest.mark.allow_log(*DB_GONE)
def test_long_outage_keeps_signerd_and_the_queue(http, stack, db, short_deadman):
    """90 s without PostgreSQL (4.5 dead-man periods): signerd still runs,
    and the request that was on the line when the database went is issued
    once it is back, exactly once."""
    import psycopg2
    m = member(http, stack, db, points=10)
    pid = stack.pids["signerd"]
    os.kill(pid, signal.SIGSTOP)          # the request stays on the line
    try:
        r = request_form(http, profile="client", email0="yes", csr=make_csr(new_key()).decode())
        assert r.status_code == 303
        cur = db.cursor()
        cur.execute("SELECT max(id) FROM signer_requests WHERE kind = 'sign'")
        req = cur.fetchone()[0]
        deadline = time.monotonic() + 20
        while True:
            cur.execute("SELECT state FROM signer_requests WHERE id = %s", (req,))
            if cur.fetchone()[0] == "sent":
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        db.close()
        stack.stop_postgres()
    finally:
        os.kill(pid, signal.SIGCONT)
    try:
        # the member's pages say so, clearly, at once
        t = time.monotonic()
        page = http.get("/certs/")
        assert page.status_code == 503 and "database" in page.text, page.text[:500]
        assert time.monotonic() - t < 5
        time.sleep(90)
        with open(f"/proc/{pid}/stat") as f:       # signerd still runs
            assert f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    finally:
        stack.start_postgres()
    cid = wait_for_cert(http, r, timeout=60)
    conn = psycopg2.connect(**stack.pg_connect_args())
    try:
        cur = conn.cursor()
        cur.execute("SELECT state FROM signer_requests WHERE id = %s", (req,))
        assert cur.fetchone()[0] == "done"
        cur.execute("SELECT count(*), min(id) FROM certificates WHERE request_id = %s", (req,))
        assert cur.fetchone() == (1, int(cid))
    finally:
        conn.close()
    assert stack.pids["signerd"] == pid
    # CA21110 (the link's database) or CA21117 (its lock's): whichever
    # the link tried first while the database was away
    assert stack.error_log_lines(0, lambda l: "CA21110" in l or "CA21117" in l), \
        "the outage was not logged"


@pytest.mark.allow_log(*DB_GONE)
def test_connections_first_used_while_the_database_is_away(http, stack, db):
    """Connections httpd opened at start and first uses during an outage
    (so the modules first see them dead): once the database is back, their
    new sessions get the statements too."""
    m = member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    db.close()
    stack.restart()                   # fresh children, connections never used
    log_from = os.path.getsize(stack.error_log)
    stack.stop_postgres()
    try:
        # one of each: a connection seen dead once, and not again before
        # the database is back, is the case that went wrong
        for _ in range(1):
            with StackSession(stack) as s:
                assert s.get("/account/login").status_code == 503
            r = requests.post(stack.http_url + "/ocsp", data=ocsp_request(stack, cert, b"n"),
                              headers={"Content-Type": "application/ocsp-request"}, timeout=10)
            assert ocsp.load_der_ocsp_response(r.content).response_status \
                == ocsp.OCSPResponseStatus.TRY_LATER
    finally:
        stack.start_postgres()
    wait_all_work(http, stack, m, cert, time.monotonic())
    for _ in range(10):
        assert everything_works(http, stack, m, cert)[0]
    no_missing_statements(stack, log_from)
