# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The database side of several hosts (docs/scaling.md), against real
processes started here: a hot standby of the stack's primary made with
pg_basebackup -R (tools/dbcluster.py), second OCSP hosts (an httpd each),
redis-server as their shared cache.

  scenario 2: a revocation through host A (the stack's httpd) is answered
              "revoked" by hosts B and C within 1 s, with a shared Redis
              cache and with a shmcb cache per host;
  scenario 6: a host whose OCSP reads a lagging standby (replay paused)
              keeps that promise: the listener, on the primary, keeps a
              notice with the primary's WAL position;
  scenario 4: the primary restarts; the stack's httpd and a second host
              recover without an httpd restart (seconds of failed requests
              printed);
  scenario 5: the primary stops and the standby is promoted (the runbook):
              both find it through multi-host DBDParams, service resumes,
              no committed certificate is lost.
"""

import os
import time

import pytest
import requests
from cryptography import x509
from cryptography.x509 import ocsp

from cacertstack import bad_log_lines
from accounts import PASSWORD, login
from conftest import StackSession
from dbcluster import (Redis, Standby, SteadyClient, fail_back, failover_params,
                       primary_lsn_at_stop, restart_primary, stop_primary)
from issuing import issue, member, revoke, wait_for_crl
from test_faults_db import DB_GONE
from test_ocsp import ca_file, der_request, load

PRIMARY_PARAMS = "host={sock} dbname=cacert user=cacert"


@pytest.fixture(scope="module")
def standby(stack):
    sb = Standby(stack).start()
    yield sb
    sb.stop()


@pytest.fixture(scope="module")
def redis(stack):
    r = Redis(stack).start()
    yield r
    r.stop()


def check_log(fe, allow=()):
    with open(fe.error_log, errors="replace") as f:
        bad = bad_log_lines(f.read().splitlines(), allow)
    assert not bad, "\n".join(bad[:20])


@pytest.fixture
def frontends(stack):
    """Start OCSP hosts with stack.start_ocsp_frontend(...) through this;
    each is stopped, and its error log checked, after the test."""
    started = []

    def start(*a, allow=(), **kw):
        fe = stack.start_ocsp_frontend(*a, **kw)
        started.append((fe, allow))
        return fe
    yield start
    for fe, allow in started:
        fe.stop()
    for fe, allow in started:
        check_log(fe, allow)


def status_at(url, body):
    r = requests.post(url, data=body, headers={"Content-Type": "application/ocsp-request"},
                      timeout=30)
    assert r.status_code == 200, r.text[:300]
    resp = ocsp.load_der_ocsp_response(r.content)
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL, resp.response_status
    return resp.certificate_status


def fresh_status(url, cert, stack):
    """With a nonce: never from a cache, always from the database."""
    return status_at(url, der_request(cert, load(ca_file(stack, "member")),
                                      nonce=os.urandom(16)))


def revoked_within_a_second(url, body, t0):
    while status_at(url, body) != ocsp.OCSPCertStatus.REVOKED:
        assert time.monotonic() - t0 < 1.0, f"{url} still says good after 1 s"
        time.sleep(0.02)
    return time.monotonic() - t0


# ---- scenario 2: revoked within 1 s on every host, shared or own cache ---------

@pytest.mark.parametrize("kind", ["redis", "shmcb"])
def test_scenario2_revocation_through_a_reaches_b_and_c(http, stack, db, redis, frontends,
                                                        kind):
    extra = [Redis.LOAD] if kind == "redis" else []
    cache = redis.cache_spec if kind == "redis" else None
    b = frontends("b", cache=cache, extra=extra)
    c = frontends("c", cache=cache, extra=extra)
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    body = der_request(cert, load(ca_file(stack, "member")))      # no nonce: cached
    assert status_at(b.url, body) == ocsp.OCSPCertStatus.GOOD
    before_c = c.status()
    assert status_at(c.url, body) == ocsp.OCSPCertStatus.GOOD
    if kind == "redis":
        # one cache for both: C's first answer is the one B signed
        assert c.status()["cache hits"] == before_c["cache hits"] + 1
        assert any(k.startswith("cacert-ocsp") or "member" in k for k in redis.keys())
    assert status_at(b.url, body) == ocsp.OCSPCertStatus.GOOD
    assert status_at(c.url, body) == ocsp.OCSPCertStatus.GOOD
    revoke(http, cid)                       # through host A
    t0 = time.monotonic()
    took_b = revoked_within_a_second(b.url, body, t0)
    took_c = revoked_within_a_second(c.url, body, t0)
    assert status_at(stack.http_url + "/ocsp", body) == ocsp.OCSPCertStatus.REVOKED
    print(f"\n{kind}: B revoked after {took_b:.3f} s, C after {took_c:.3f} s")


# ---- scenario 6: OCSP from a lagging standby keeps the 1 s promise ------------------

@pytest.mark.allow_log(r"CA22104", r"terminating connection")
def test_scenario6_ocsp_from_a_lagging_standby(http, stack, db, standby, frontends):
    s = frontends("s", dbd_params=standby.dbd_params,
                  extra=[f'CAcertOCSPPrimary "{PRIMARY_PARAMS.format(sock=stack.pg_socket_dir)}"'])
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    cid2, cert2, _ = issue(http, profile="client", email0="yes")
    standby.wait_replayed()
    body = der_request(cert, load(ca_file(stack, "member")))
    body2 = der_request(cert2, load(ca_file(stack, "member")))
    assert status_at(s.url, body) == ocsp.OCSPCertStatus.GOOD
    assert status_at(s.url, body) == ocsp.OCSPCertStatus.GOOD            # cached
    standby.pause_replay()
    try:
        before = s.status()
        revoke(http, cid)
        revoke(http, cid2)
        t0 = time.monotonic()
        # the standby has not seen it: read there, the answer would be "good"
        assert standby.psql(f"SELECT revoked_at IS NULL FROM certificates WHERE id = {cid}"
                            ).stdout.strip() == "t"
        took = revoked_within_a_second(s.url, body, t0)
        # never asked before, and fresh answers: from the notices
        revoked_within_a_second(s.url, body2, t0)
        assert fresh_status(s.url, cert, stack) == ocsp.OCSPCertStatus.REVOKED
        after = s.status()
        assert after["answered from notices"] >= before["answered from notices"] + 2
        # the notice has the primary's time and reason: the same answer
        r = requests.post(s.url, data=body2, timeout=30,
                          headers={"Content-Type": "application/ocsp-request"})
        r_a = requests.post(stack.http_url + "/ocsp", data=body2, timeout=30,
                            headers={"Content-Type": "application/ocsp-request"})
        a1, a2 = ocsp.load_der_ocsp_response(r.content), ocsp.load_der_ocsp_response(r_a.content)
        assert a1.revocation_time == a2.revocation_time
        assert a1.revocation_reason == a2.revocation_reason
        # still lagging all along
        assert standby.psql(f"SELECT revoked_at IS NULL FROM certificates WHERE id = {cid}"
                            ).stdout.strip() == "t"
    finally:
        standby.resume_replay()
    standby.wait_replayed()
    n = s.status()["answered from notices"]
    # replayed: the standby's own word again
    assert fresh_status(s.url, cert, stack) == ocsp.OCSPCertStatus.REVOKED
    assert s.status()["answered from notices"] == n
    print(f"\nstandby paused: the responder on it said revoked after {took:.3f} s")


# ---- scenarios 4 and 5: the primary restarts; the standby is promoted ---------------

# what the hosts log while no database takes writes (besides DB_GONE)
FAILOVER = DB_GONE + (r"CA22103", r"CA22104", r"read-only", r"recovery",
                      r"target_session_attrs", r"not accepting connections")


def ocsp_client(url, stack, cert):
    return SteadyClient(lambda: fresh_status(url, cert, stack) == ocsp.OCSPCertStatus.GOOD,
                        name=url)


def page_client(stack, m):
    sess = StackSession(stack)
    assert login(sess, m["email"], PASSWORD).status_code == 303
    return SteadyClient(lambda: sess.get("/certs/", timeout=10,
                                         allow_redirects=False).status_code == 200,
                        name="member page")


def run_outage(clients, outage, limit=15.0):
    """Start the clients, cause the outage, wait until every client works
    again (at most limit seconds after it), then a few seconds more;
    returns (t0, back, per-client (label, span, failed, total))."""
    for c in clients:
        c.start()
    time.sleep(2)
    t0 = time.monotonic()
    outage()
    back = time.monotonic()
    while not all(c.log and c.log[-1][1] for c in clients):
        assert time.monotonic() - back < limit, "still failing: " + ", ".join(
            c.label for c in clients if not (c.log and c.log[-1][1]))
        time.sleep(0.05)
    time.sleep(3)
    for c in clients:
        c.finish()
    for c in clients:
        assert c.all_ok_after(time.monotonic() - 2.5), c.label
    return t0, back, [(c.label,) + c.failed(t0) for c in clients]


def report(what, t0, back, rows):
    print(f"\n{what}: the outage took {back - t0:.2f} s")
    for label, span, n, total in rows:
        print(f"  {label}: failed requests over {span:.2f} s ({n} of {total})")


@pytest.mark.allow_log(*FAILOVER)
def test_scenario4_primary_restart_both_frontends_recover(http, stack, db, frontends):
    b = frontends("b", allow=FAILOVER)
    m = member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    clients = [ocsp_client(stack.http_url + "/ocsp", stack, cert),
               ocsp_client(b.url, stack, cert), page_client(stack, m)]
    t0, back, rows = run_outage(clients, lambda: restart_primary(stack))
    report("primary restart (pg_ctl restart -m fast)", t0, back, rows)
    for label, span, n, total in rows:
        assert span < 10, f"{label}: {span:.2f} s of failed requests"


@pytest.mark.allow_log(*FAILOVER)
def test_scenario5_promotion_resumes_service_and_loses_nothing(http, stack, db, standby,
                                                               frontends):
    params = failover_params(stack, standby)
    with stack.configured([f'DBDParams "{params}"']):
        b = frontends("b", dbd_params=params, allow=FAILOVER)
        m = member(http, stack, db, points=10)
        login(http, m["email"], PASSWORD)
        cid, cert, _ = issue(http, profile="client", email0="yes")
        with db.cursor() as cur:
            cur.execute("SELECT id, serial FROM certificates ORDER BY id")
            committed = cur.fetchall()
        db.close()
        clients = [ocsp_client(stack.http_url + "/ocsp", stack, cert),
                   ocsp_client(b.url, stack, cert), page_client(stack, m)]

        def promote():
            # the runbook: stop the primary, check the standby has replayed
            # past its last checkpoint, promote
            stop_primary(stack)
            last = primary_lsn_at_stop(stack)
            deadline = time.monotonic() + 30
            while standby.psql(f"SELECT pg_last_wal_replay_lsn() >= '{last}'::pg_lsn"
                               ).stdout.strip() != "t":
                assert time.monotonic() < deadline, "the standby did not catch up"
                time.sleep(0.05)
            standby.promote()
        try:
            t0, back, rows = run_outage(clients, promote, limit=20.0)
            report("promotion (stop the primary, promote the standby)", t0, back, rows)
            # issuance on the promoted server, through the same httpd
            cid2, cert2, _ = issue(http, profile="client", email0="yes")
            import psycopg2
            conn = psycopg2.connect(**standby.connect_args())
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT id, serial FROM certificates ORDER BY id")
                    now = cur.fetchall()
            finally:
                conn.close()
            assert set(committed) <= set(now), "committed certificates lost"
            assert int(cid2) in {r[0] for r in now}
            for label, span, n, total in rows:
                assert span < 20, f"{label}: {span:.2f} s of failed requests"
        finally:
            for c in clients:
                c.finish()
            b.stop()
            fail_back(stack, standby)
            standby.start()


# ---- /pki from the standby ----------------------------------------------------------

def test_pki_from_the_standby(http, stack, db, standby):
    """A virtual host for relying parties with DBDParams of its own naming
    the standby serves the CRLs; a new CRL appears there once replayed."""
    from cacertstack import free_port
    port = free_port()
    vhost = [f"Listen 127.0.0.1:{port} http",
             f"<VirtualHost 127.0.0.1:{port}>",
             f"    ServerName localhost:{port}",
             "    SSLEngine off",
             f'    DBDParams "{standby.dbd_params}"',
             '    <Location "/">', "        Require all denied", "    </Location>",
             '    <Location "/pki">', "        Require all granted", "    </Location>",
             "</VirtualHost>"]
    url = f"http://127.0.0.1:{port}/pki/member.crl"
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    with stack.configured(vhost):
        standby.wait_replayed()
        r = requests.get(url, timeout=10)
        assert r.status_code == 200
        assert r.content == requests.get(stack.http_url + "/pki/member.crl", timeout=10).content
        standby.pause_replay()
        try:
            revoke(http, cid)
            wait_for_crl(http, "member", cert.serial_number)
            crl = x509.load_der_x509_crl(requests.get(url, timeout=10).content)
            assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is None
        finally:
            standby.resume_replay()
        standby.wait_replayed()
        crl = x509.load_der_x509_crl(requests.get(url, timeout=10).content)
        assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
