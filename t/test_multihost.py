# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Issue 19's six scenarios on one stack of several hosts, all started here
on the loopback (tools/multihost.py, docs/scaling.md): a PostgreSQL primary
and its hot standby (pg_basebackup -R), two member frontends a and b with
every module, haproxy round robin in front of them, Redis as the OCSP cache
a and b share, an OCSP host c with a cache of its own, OCSP hosts d and e
sharing one memcached, signerd with one pty line to each member frontend.
a and b name both database servers in DBDParams
(target_session_attrs=read-write; the primary over TCP, at an address of
each one's own); b has an OCSP virtual host
that reads the standby (CAcertOCSPPrimary: its listener is the primary's).

The tests run in this order on the same hosts, the destructive ones last:

  1  a member's walk through haproxy, the requests alternating;
  2  a revocation through a: b (shared cache) and c (its own cache) answer
     "revoked" within 1 s; so do d and e (memcached); serials of any
     length leave memcached in use;
  6  the same from b's OCSP on the standby, its replay paused;
     then checks that are not scenarios of their own: one frontend drives
     the line, the other stands by; b's /pki from the standby shows a new
     CRL once replayed; a graceful stop of the driving frontend hands the
     line over;
  3  kill -9 of the frontend that drives the line in the middle of an
     issuance: one certificate, one journal entry;
     the driving frontend silent on the network (its database packets
     dropped by nftables): the other takes the line within the
     keepalives' bound and issues, nothing is signed twice, and the silent
     one stands by once it is back;
  4  the primary restarts: both frontends recover without an httpd restart
     (seconds of failed requests printed);
  5  the primary stops and the standby is promoted (the runbook): service
     resumes, no committed certificate is lost.
"""

import datetime
import os
import re
import signal
import time

import psycopg2
import pytest
import requests
from cryptography import x509
from cryptography.x509 import ocsp

from accounts import PASSWORD, csrf_of, login, registered_member
from cacertstack import LogWatcher, bad_log_lines
from conftest import _format_reports, _new_sanitizer_reports, _truthy, own_stack
from dbcluster import SteadyClient, primary_lsn_at_stop, restart_primary, stop_primary
from issuing import (download, give_points, issue, make_csr, member, member_id, new_key,
                     request_form, revoke, wait_for_cert, wait_for_crl)
from multihost import MultiHost
from test_faults_db import DB_GONE
from test_ocsp import ca_file, der_request, load

# what a frontend that lost the line (or whose peer was killed) may log
TAKEOVER = ("CA21116", "CA21117", "CA22104", "CA21101", "CA21113", "CA21109", "CA21104")


def lock_holders(db):
    """pids of the database sessions that hold the signer link's lock"""
    with db.cursor() as cur:
        cur.execute("SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted"
                    " AND a.application_name = 'cacert-signer-lock'")
        return [r[0] for r in cur.fetchall()]


def log_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def driving(stack, fe):
    """'a' or 'b': which of the two error logs said last (by the time of
    its line) that this host drives the line; a host whose last word was
    that it stands by or lost the lock does not drive"""
    def last(path):
        for line in reversed(log_text(path).splitlines()):
            if "CA21116" in line or "CA21118" in line:
                return None
            if "CA21115" in line:
                return datetime.datetime.strptime(line[1:line.index("]")],
                                                  "%a %b %d %H:%M:%S.%f %Y")
        return None
    a, b = last(stack.error_log), last(fe.error_log)
    return "a" if a and (not b or a > b) else "b" if b else None


def wait_until(cond, timeout, what):
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < end, what
        time.sleep(0.05)


class LBSession(requests.Session):
    """Requests through haproxy, one connection each (so they alternate
    between the frontends); links to a frontend's own site URL (mails) go
    through haproxy too."""

    def __init__(self, base, verify):
        super().__init__()
        self.base = base
        self.verify_file = verify
        self.headers["Connection"] = "close"

    def request(self, method, url, *a, **kw):
        url = re.sub(r"^https://localhost:\d+", self.base, url)
        if url.startswith("/"):
            url = self.base + url
        kw.setdefault("timeout", 30)
        kw.setdefault("verify", self.verify_file)
        return super().request(method, url, *a, **kw)


# Under ASan a child's exit runs LeakSanitizer's check, which on a busy
# machine takes longer than httpd waits before it sends SIGTERM (seen in
# gdb: the lingering child is in __lsan::CheckForLeaks); the leak reports
# themselves are still checked
SLOW_EXIT = ("AH00045",) if _truthy("CACERT_ASAN") else ()

# what the hosts log while no database takes writes (besides DB_GONE; the
# member page's certificate list, CA21201, is read by a steady client here)
FAILOVER = DB_GONE + (r"CA22103", r"CA22104", r"read-only", r"recovery",
                      r"target_session_attrs", r"not accepting connections", r"CA21201")


@pytest.fixture(scope="module")
def stack():
    """overrides the session's stack for this module: http and db use it
    (this module stops the primary and promotes the standby)"""
    yield from own_stack("cacert-multihost-")


@pytest.fixture(scope="module")
def mh(stack):
    m = MultiHost(stack).start()
    stack.san_seen = {}
    m.logs = {"a": LogWatcher(stack.error_log, from_end=False),
              "b": LogWatcher(m.b.error_log, from_end=False),
              "c": LogWatcher(m.c.error_log, from_end=False),
              "d": LogWatcher(m.d.error_log, from_end=False),
              "e": LogWatcher(m.e.error_log, from_end=False)}
    yield m
    m.stop()
    stack.stop_httpd()
    problems = log_problems(m, stack, FAILOVER + TAKEOVER + SLOW_EXIT)
    assert not problems, "\n\n".join(problems)


def log_problems(mh, stack, allow):
    """New warn/error lines in the error log of any httpd (a to e) that no
    regex in allow matches, and new ASan/UBSan reports."""
    problems = [f"unexpected lines in {name}'s error log:\n" + "\n".join(bad)
                for name, w in mh.logs.items() if (bad := bad_log_lines(w.new_lines(), allow))]
    if stack.asan and (reports := _new_sanitizer_reports(stack)):
        problems.append("sanitizer reports:\n" + _format_reports(reports))
    return problems


@pytest.fixture(autouse=True)
def _check_every_log(request, mh, stack):
    """After each test: no unexpected warn/error lines in the error log of
    any httpd (a to e), no ASan/UBSan report."""
    yield
    allow = [a for m in request.node.iter_markers("allow_log") for a in m.args]
    problems = log_problems(mh, stack, allow)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def lb_http(mh, stack):
    s = LBSession(mh.lb.url, stack.cert_file)
    yield s
    s.close()


def lb_member(http, stack, db):
    """A member with 10 points, registered and logged in through http."""
    m = registered_member(http, stack)
    m["id"] = member_id(db, m["email"])
    give_points(db, m["id"], 10)
    assert login(http, m["email"]).status_code == 303
    return m


def access_count(path):
    return len(log_text(path).splitlines())


# ---- OCSP ---------------------------------------------------------------------------

def ocsp_answer(url, body, verify=True):
    r = requests.post(url, data=body, headers={"Content-Type": "application/ocsp-request"},
                      timeout=30, verify=verify)
    assert r.status_code == 200, r.text[:300]
    resp = ocsp.load_der_ocsp_response(r.content)
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL, resp.response_status
    return resp


def status_at(url, body, verify=True):
    return ocsp_answer(url, body, verify).certificate_status


def fresh_status(url, cert, stack, verify=True):
    """With a nonce: never from a cache, always from the database."""
    return status_at(url, der_request(cert, load(ca_file(stack, "member")),
                                      nonce=os.urandom(16)), verify)


def revoked_within_a_second(url, body, t0):
    while status_at(url, body) != ocsp.OCSPCertStatus.REVOKED:
        assert time.monotonic() - t0 < 1.0, f"{url} still says good after 1 s"
        time.sleep(0.02)
    return time.monotonic() - t0


def counters(fe, stack):
    """A host's OCSP counters (its /ocsp-status page, over HTTPS)."""
    text = requests.get(fe.url + "/ocsp-status", verify=stack.cert_file, timeout=10).text
    return {k: int(v) for k, _, v in (ln.partition(": ") for ln in text.splitlines())
            if v.strip().isdigit()}


# ---- 1: the member's walk, alternating between the frontends ----------------------------

@pytest.mark.allow_log(*TAKEOVER)
def test_scenario1_member_walk_alternating_frontends(mh, lb_http, stack, db):
    """Register, log in, request a certificate, wait, download, revoke:
    every request on a new connection through haproxy, so they alternate."""
    a0, b0 = access_count(stack.access_log), access_count(mh.b.access_log)
    http = lb_http
    lb_member(http, stack, db)
    r = request_form(http, profile="client", email0="yes", csr=make_csr(new_key()).decode())
    cid = wait_for_cert(http, r)
    assert download(http, cid).startswith(b"-----BEGIN CERTIFICATE-----")
    r = http.post("/certs/revoke", data={"csrf": csrf_of(http.get("/certs/").text),
                                         "id": cid}, allow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    wait_until(lambda: "revoked on" in http.get(f"/certs/view?id={cid}").text, 20,
               "the revocation did not reach the signer")
    # both frontends answered part of the walk
    a1, b1 = access_count(stack.access_log), access_count(mh.b.access_log)
    assert a1 - a0 >= 4 and b1 - b0 >= 4, (a1 - a0, b1 - b0)
    print(f"\nwalk: {a1 - a0} requests answered by a, {b1 - b0} by b")


# ---- 2: revoked within 1 s on the other hosts, shared cache and own cache ---------------

def test_scenario2_revocation_through_a_reaches_b_and_c(mh, http, stack, db):
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")       # through a
    body = der_request(cert, load(ca_file(stack, "member")))          # no nonce: cached
    a_url = stack.http_url + "/ocsp"
    b_url = f"http://127.0.0.1:{mh.b.http_port}/ocsp"
    assert status_at(a_url, body) == ocsp.OCSPCertStatus.GOOD
    # one cache for a and b (Redis): b's first answer is the one a signed
    hits = counters(mh.b, stack)["cache hits"]
    assert status_at(b_url, body) == ocsp.OCSPCertStatus.GOOD
    assert counters(mh.b, stack)["cache hits"] == hits + 1
    # c has a cache of its own: its answer is cached there
    assert status_at(mh.c.url, body) == ocsp.OCSPCertStatus.GOOD
    before = mh.c.status()
    assert status_at(mh.c.url, body) == ocsp.OCSPCertStatus.GOOD
    after = mh.c.status()
    # without the notification c would say "good" until that answer expires
    assert after["cache hits"] == before["cache hits"] + 1
    revoke(http, cid)                       # through a
    t0 = time.monotonic()
    took_b = revoked_within_a_second(b_url, body, t0)
    took_c = revoked_within_a_second(mh.c.url, body, t0)
    assert mh.c.status()["forgotten on revocation"] > after["forgotten on revocation"]
    assert status_at(a_url, body) == ocsp.OCSPCertStatus.REVOKED
    print(f"\nrevoked through a: b (shared Redis cache) said revoked after {took_b:.3f} s,"
          f" c (its own shmcb cache) after {took_c:.3f} s")


# ---- 2, memcache: the same promise with memcached as the shared cache ----------------------

def test_scenario2_memcache_shared_cache_d_and_e(mh, http, stack, db):
    """d and e share one memcached (mod_socache_memcache): an answer d
    signed is e's cached "good"; a revocation through a is "revoked" on
    both within 1 s."""
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")       # through a
    body = der_request(cert, load(ca_file(stack, "member")))          # no nonce: cached
    items = int(mh.memcached.stats()["curr_items"])
    assert status_at(mh.d.url, body) == ocsp.OCSPCertStatus.GOOD     # d signs and stores
    assert int(mh.memcached.stats()["curr_items"]) > items
    before = mh.e.status()
    assert status_at(mh.e.url, body) == ocsp.OCSPCertStatus.GOOD     # e: d's answer
    after = mh.e.status()
    assert after["cache hits"] == before["cache hits"] + 1
    assert after["signatures"] == before["signatures"]
    revoke(http, cid)                       # through a
    t0 = time.monotonic()
    took_e = revoked_within_a_second(mh.e.url, body, t0)
    took_d = revoked_within_a_second(mh.d.url, body, t0)
    assert mh.e.status()["forgotten on revocation"] > after["forgotten on revocation"]
    print(f"\nrevoked through a: e (memcached shared with d, had d's good) said revoked"
          f" after {took_e:.3f} s, d after {took_d:.3f} s")


def _der(tag, body):
    n = len(body)
    head = bytes([n]) if n < 128 else (lambda b: bytes([0x80 | len(b)]) + b)(
        n.to_bytes((n.bit_length() + 7) // 8, "big"))
    return bytes([tag]) + head + body


def long_serial_request(cert, issuer, nbytes):
    """An OCSP request (SHA-1 CertID, no nonce) for cert's issuer with a
    serial of nbytes bytes: no certificate has one (RFC 5280: at most 20),
    and its cache key is as long as a client likes."""
    real = ocsp.load_der_ocsp_request(der_request(cert, issuer))
    serial = bytes([0x7f]) + os.urandom(nbytes - 1)
    certid = _der(0x30, _der(0x30, _der(0x06, bytes.fromhex("2b0e03021a")) + b"\x05\x00")
                  + _der(0x04, real.issuer_name_hash) + _der(0x04, real.issuer_key_hash)
                  + _der(0x02, serial))
    return _der(0x30, _der(0x30, _der(0x30, _der(0x30, certid)))), int.from_bytes(serial, "big")


def test_memcache_long_serials_change_nothing(mh, http, stack, db):
    """Requests whose serials would make cache keys longer than memcached
    takes (250 bytes; one of them turned the cache off for the host): each
    is answered "unknown", d's answer is e's cached one, no log has an
    error, and the shared cache goes on giving every certificate its own
    answer."""
    member(http, stack, db, points=10)
    _, cert, _ = issue(http, profile="client", email0="yes")
    issuer = load(ca_file(stack, "member"))
    body = der_request(cert, issuer)
    for n in (50, 54, 55, 56, 60, 119, 120, 121, 200, 400):
        req, serial = long_serial_request(cert, issuer, n)
        ans = ocsp_answer(mh.d.url, req)
        hits = mh.e.status()["cache hits"]
        for url in (mh.e.url, mh.d.url):
            again = ocsp_answer(url, req)
            assert again.serial_number == serial
            assert again.certificate_status == ocsp.OCSPCertStatus.UNKNOWN
            assert again.produced_at == ans.produced_at         # d's, from the cache
        assert mh.e.status()["cache hits"] == hits + 1
        for url in (mh.d.url, mh.e.url):
            ans = ocsp_answer(url, body)
            assert ans.serial_number == cert.serial_number
            assert ans.certificate_status == ocsp.OCSPCertStatus.GOOD


# ---- 6: OCSP from the standby keeps the 1 s promise --------------------------------------

@pytest.mark.allow_log(r"CA22104", r"terminating connection")
def test_scenario6_ocsp_from_a_lagging_standby(mh, http, stack, db):
    standby, s_url = mh.standby, mh.b_standby_ocsp
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    cid2, cert2, _ = issue(http, profile="client", email0="yes")
    standby.wait_replayed()
    body = der_request(cert, load(ca_file(stack, "member")))
    body2 = der_request(cert2, load(ca_file(stack, "member")))
    assert status_at(s_url, body) == ocsp.OCSPCertStatus.GOOD
    assert status_at(s_url, body) == ocsp.OCSPCertStatus.GOOD            # cached
    standby.pause_replay()
    try:
        before = counters(mh.b, stack)
        revoke(http, cid)
        revoke(http, cid2)
        t0 = time.monotonic()
        # the standby has not seen it: read there, the answer would be "good"
        assert standby.psql(f"SELECT revoked_at IS NULL FROM certificates WHERE id = {cid}"
                            ).stdout.strip() == "t"
        took = revoked_within_a_second(s_url, body, t0)
        # never asked before, and fresh answers: from the notices
        took2 = revoked_within_a_second(s_url, body2, t0)
        assert fresh_status(s_url, cert, stack) == ocsp.OCSPCertStatus.REVOKED
        assert counters(mh.b, stack)["answered from notices"] >= \
            before["answered from notices"] + 2
        # the notice has the primary's time and reason: the same answer as a's
        a1 = ocsp_answer(s_url, body2)
        a2 = ocsp_answer(stack.http_url + "/ocsp", body2)
        assert a1.revocation_time == a2.revocation_time
        assert a1.revocation_reason == a2.revocation_reason
        # still lagging all along
        assert standby.psql(f"SELECT revoked_at IS NULL FROM certificates WHERE id = {cid}"
                            ).stdout.strip() == "t"
    finally:
        standby.resume_replay()
    standby.wait_replayed()
    n = counters(mh.b, stack)["answered from notices"]
    # replayed: the standby's own word again
    assert fresh_status(s_url, cert, stack) == ocsp.OCSPCertStatus.REVOKED
    assert counters(mh.b, stack)["answered from notices"] == n
    print(f"\nstandby's replay paused: b's OCSP on it said revoked after {took:.3f} s"
          f" (cached good before), {took2:.3f} s (never asked)")


# ---- one driver of the line; /pki from the standby; a graceful hand-over ------------------

def test_one_frontend_drives_the_line(mh, stack, db):
    holders = wait_until(lambda: lock_holders(db), 10, "nobody holds the lock")
    assert len(holders) == 1
    who = wait_until(lambda: driving(stack, mh.b), 10, "no frontend says it drives")
    other = mh.frontend("b" if who == "a" else "a")
    wait_until(lambda: "CA21118" in log_text(other.error_log), 30,
               "the other does not stand by")
    # both frontends keep a lock connection, one of them holds the lock
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = 'cacert-signer-lock'")
        assert cur.fetchone()[0] == 2


def test_pki_from_the_standby(mh, http, stack, db):
    """b's virtual host for relying parties, whose DBDParams name the
    standby, serves the CRLs; a new CRL appears there once replayed."""
    standby = mh.standby
    url = mh.b_standby_url + "/pki/member.crl"
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
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


def stats_figures(text):
    """The figures of the statistics page, in order (separators dropped)."""
    return [int(re.sub(r"\D", "", n))
            for n in re.findall(r"<td[^>]*>([\d.,\s\u202f]+)</td>", text)]


def test_statistics_from_the_standby(mh, http, stack, db):
    """The statistics (full scans) from b's virtual host on the standby: its
    figures are the primary's once replayed, and not before."""
    standby = mh.standby
    url = mh.b_standby_url + "/wot/stats"
    standby.wait_replayed()
    r = requests.get(url, timeout=30)
    assert r.status_code == 200 and "<svg" in r.text, r.text[:300]
    before = stats_figures(r.text)
    assert before and before == stats_figures(http.get("/wot/stats").text)
    standby.pause_replay()
    try:
        member(http, stack, db)
        assert stats_figures(http.get("/wot/stats").text) != before
        assert stats_figures(requests.get(url, timeout=30).text) == before
    finally:
        standby.resume_replay()
    standby.wait_replayed()
    assert stats_figures(requests.get(url, timeout=30).text) == \
        stats_figures(http.get("/wot/stats").text)


def test_each_virtual_host_keeps_its_own_statistics(mh, http, stack, db):
    """b has two virtual hosts that keep their statistics for 5 minutes, one
    on the standby and one on the primary.  While the standby lags, each
    shows the figures of its own database however often they are asked in
    turn: one host's cached figures are never served on the other.  (The
    cache is per child process, and b has two; ten turns on new connections
    meet both hosts in one child many times over.)"""
    standby = mh.standby
    on_standby = mh.b_cached_url("standby") + "/wot/stats"
    on_primary = mh.b_cached_url("primary") + "/wot/stats"
    standby.wait_replayed()
    standby.pause_replay()
    try:
        member(http, stack, db)
        fresh = stats_figures(http.get("/wot/stats").text)     # a: not cached
        old = stats_figures(requests.get(on_standby, timeout=30).text)
        assert old and old != fresh
        for _ in range(10):
            assert stats_figures(requests.get(on_primary, timeout=30).text) == fresh
            assert stats_figures(requests.get(on_standby, timeout=30).text) == old
    finally:
        standby.resume_replay()
    standby.wait_replayed()
    assert stats_figures(requests.get(mh.b_standby_url + "/wot/stats", timeout=30).text) \
        == fresh
    assert stats_figures(requests.get(on_primary, timeout=30).text) == fresh


@pytest.mark.allow_log(*TAKEOVER, *SLOW_EXIT)
def test_a_graceful_stop_of_the_holder_hands_over(mh, lb_http, stack, db):
    """A graceful stop of the driving frontend gives the lock up at once;
    the other takes the line, and issuance goes on."""
    who = wait_until(lambda: driving(stack, mh.b), 10, "no frontend drives")
    assert len(lock_holders(db)) == 1
    t0 = time.monotonic()
    if who == "a":
        stack.stop_httpd()
    else:
        mh.b.stop()
    wait_until(lambda: driving(stack, mh.b) != who, 10, "nobody took over")
    took = time.monotonic() - t0
    http = lb_http
    http.base = mh.frontend("b" if who == "a" else "a").url
    lb_member(http, stack, db)
    r = request_form(http, profile="client", email0="yes", csr=make_csr(new_key()).decode())
    wait_for_cert(http, r)
    assert len(lock_holders(db)) == 1
    if who == "a":
        stack.start_httpd()
    else:
        mh.b.start()
    print(f"\nhand-over after a graceful stop of {who}: {took:.2f} s")


# ---- 3: kill -9 of the frontend that drives the line, mid-issuance -----------------------

def journal_records(stack, req_id):
    with open(os.path.join(stack.signer_dir, "journal")) as f:
        return [ln for ln in f if ln.split()[2:4] == ["SIGN", str(req_id)]]


class _Redirect:
    """a stand-in 303 for wait_for_cert"""
    status_code = 303

    def __init__(self, loc):
        self.headers = {"Location": loc}
        self.text = ""


@pytest.mark.allow_log(*TAKEOVER)
def test_scenario3_kill_the_driving_frontend_during_issuance(mh, lb_http, stack, db):
    """The other frontend takes over, the member gets one certificate and
    signerd's journal has one entry for it."""
    http = lb_http
    m = lb_member(http, stack, db)
    who = wait_until(lambda: driving(stack, mh.b), 10, "no frontend drives")
    survivor = mh.frontend("b" if who == "a" else "a")
    signerd = stack.pids["signerd"]
    # A first certificate: the line has just carried a request, so no
    # heartbeat falls due (after 10 s of silence) while signerd holds still
    # below; one unanswered would close the line until signerd answers a
    # HELLO again, and the request would wait in the queue, not on the line.
    first = wait_for_cert(http, request_form(http, profile="client", email0="yes",
                                             csr=make_csr(new_key()).decode()))
    # signerd holds still: the request goes on the line and waits there
    os.kill(signerd, signal.SIGSTOP)
    try:
        r = request_form(http, profile="client", email0="yes", csr=make_csr(new_key()).decode())
        assert r.status_code == 303, r.text[:500]
        req = re.search(r"id=(\d+)", r.headers["Location"]).group(1)
        with db.cursor() as cur:
            def sent():
                cur.execute("SELECT state FROM signer_requests WHERE id = %s", (req,))
                return cur.fetchone()[0] == "sent"
            wait_until(sent, 10, "the request was not sent")
        time.sleep(0.2)                  # on the line
        t0 = time.monotonic()
        if who == "a":
            for p in stack._httpd_children():
                os.kill(p, signal.SIGKILL)
        else:
            mh.b.kill9()
    finally:
        os.kill(signerd, signal.SIGCONT)
    # the member goes on with the survivor (haproxy finds the dead one down)
    http.base = survivor.url
    cid = wait_for_cert(http, _Redirect(f"/certs/wait?id={req}"), timeout=30)
    took = time.monotonic() - t0
    with db.cursor() as cur:
        # the first one, and exactly one for the request on the line
        cur.execute("SELECT id, request_id FROM certificates WHERE member_id = %s ORDER BY id",
                    (m["id"],))
        certs = cur.fetchall()
        assert [c[0] for c in certs] == [int(first), int(cid)], certs
        assert certs[1][1] == int(req)
        cur.execute("SELECT state, attempts FROM signer_requests WHERE id = %s", (req,))
        state, attempts = cur.fetchone()
    assert state == "done" and attempts >= 2, (state, attempts)
    assert len(journal_records(stack, req)) == 1
    assert "CA21115" in log_text(survivor.error_log)
    assert len(wait_until(lambda: lock_holders(db), 10, "no holder")) == 1
    slog = log_text(stack.signerd_log)
    assert re.search(rf"CA61408: request {req} \(SIGN\) repeated", slog), slog[-3000:]
    assert "CA61036" in slog                   # requests moved to the other line
    # the dead frontend comes back, and stands by
    if who == "a":
        stack.start_httpd()
        wait_until(lambda: "CA21118" in log_text(stack.error_log)[-20000:], 10,
                   "a did not stand by")
    else:
        mh.b.start()
        wait_until(lambda: "CA21118" in log_text(mh.b.error_log)[-20000:], 10,
                   "b did not stand by")
    assert len(lock_holders(db)) == 1
    print(f"\nkill -9 of {who}: certificate {cid} {took:.2f} s after the kill")


# ---- a host that dies without a word: its database packets dropped ------------------------

def journal_sign_ids(stack):
    """the request ids of signerd's journal entries for certificates"""
    with open(os.path.join(stack.signer_dir, "journal")) as f:
        return [f[3] for f in (ln.split() for ln in f) if f[2:3] == ["SIGN"]]


# the lock's session ends about 11 s after the last packet the database had
# from its host (docs/scaling.md: keepalives after 5 s idle, 3 probes 2 s
# apart, tcp_user_timeout 10 s); a standby tries for the lock twice a second
SILENT_TAKEOVER = 11 + 0.5 + 1.5         # + the try, + a busy machine


@pytest.mark.allow_log(*TAKEOVER, *FAILOVER)
def test_a_silent_holder_loses_the_line(mh, stack, db):
    """The frontend that drives the line goes silent (every packet to and
    from its database connections dropped, no socket closed, its process
    running on): the keepalives of the lock's connection end its session,
    and the other frontend takes the line within the documented bound and
    issues a certificate requested through it; signerd signs nothing twice.
    Back on the network, the silent one finds the lock taken, closes its
    line and stands by, and its pages issue again (through the other's
    line)."""
    if (why := mh.packet_filter_error()):
        pytest.skip(f"packets cannot be dropped here ({why})")
    who = wait_until(lambda: driving(stack, mh.b), 10, "no frontend drives")
    other = "b" if who == "a" else "a"
    survivor, victim = mh.frontend(other), mh.frontend(who)
    holders = wait_until(lambda: lock_holders(db), 10, "nobody holds the lock")
    assert len(holders) == 1
    http = LBSession(survivor.url, stack.cert_file)
    m = lb_member(http, stack, db)
    seen = {"survivor": len(log_text(survivor.error_log)),
            "victim": len(log_text(victim.error_log))}
    with mh.silent(who):
        t0 = time.monotonic()
        moved = wait_until(lambda: (h := lock_holders(db)) and h != holders and h,
                           SILENT_TAKEOVER + 10, "the lock did not move")
        took = time.monotonic() - t0
        assert len(moved) == 1
        assert took < SILENT_TAKEOVER, f"the lock moved after {took:.1f} s"
        wait_until(lambda: "CA21115" in log_text(survivor.error_log)[seen["survivor"]:], 10,
                   "the other frontend does not say it drives")
        assert driving(stack, mh.b) == other
        # a certificate through the other frontend, on its line
        r = request_form(http, profile="client", email0="yes",
                         csr=make_csr(new_key()).decode())
        assert r.status_code == 303, r.text[:500]
        req = re.search(r"id=(\d+)", r.headers["Location"]).group(1)
        cid = wait_for_cert(http, r, timeout=30)
        issued = time.monotonic() - t0
        assert len(journal_records(stack, req)) == 1
        # the silent host says so, and keeps only heartbeats on its line
        wait_until(lambda: "CA21117" in log_text(victim.error_log)[seen["victim"]:], 30,
                   "the silent frontend does not say that its lock's database is away")
        quiet = time.monotonic() - t0
    t1 = time.monotonic()
    # back on the network: the lock is taken, so it closes its line
    wait_until(lambda: re.search(r"CA2111[68]", log_text(victim.error_log)[seen["victim"]:]),
               60, "the silent frontend does not stand by once it is back")
    back = time.monotonic() - t1
    assert lock_holders(db) == moved
    assert driving(stack, mh.b) == other
    # nothing broken: its pages issue again, the other's line signs
    sess = LBSession(victim.url, stack.cert_file)
    assert login(sess, m["email"], PASSWORD).status_code == 303
    cid2 = int(issue(sess, profile="client", email0="yes")[0])
    sess.close()
    with db.cursor() as cur:
        cur.execute("SELECT id FROM certificates WHERE member_id = %s ORDER BY id", (m["id"],))
        assert [r[0] for r in cur.fetchall()] == [int(cid), cid2]
    assert lock_holders(db) == moved
    assert driving(stack, mh.b) == other
    ids = journal_sign_ids(stack)
    assert len(ids) == len(set(ids)), "a request was signed twice"
    http.close()
    print(f"\n{who} silent: {other} held the lock after {took:.2f} s and issued"
          f" {issued:.2f} s after the cut; {who} said CA21117 after {quiet:.2f} s;"
          f" back on the network, {who} stood by after {back:.2f} s")


# ---- 4 and 5: the primary restarts; the standby is promoted -------------------------------

def steady_clients(mh, stack, m, cert):
    """Through haproxy: a logged-in member's page and fresh OCSP answers
    (both frontends); c's fresh OCSP answers."""
    sess = LBSession(mh.lb.url, stack.cert_file)
    assert login(sess, m["email"], PASSWORD).status_code == 303
    good = ocsp.OCSPCertStatus.GOOD
    return [SteadyClient(lambda: sess.get("/certs/", timeout=10,
                                          allow_redirects=False).status_code == 200,
                         name="member page through haproxy"),
            SteadyClient(lambda: fresh_status(mh.lb.url + "/ocsp", cert, stack,
                                              stack.cert_file) == good,
                         name="OCSP through haproxy"),
            SteadyClient(lambda: fresh_status(mh.c.url, cert, stack) == good,
                         name="OCSP of c")]


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


def httpd_pids(mh, stack):
    return stack.httpd_pid(), mh.b.proc.pid


def both_frontends_work(mh, stack, m, db_args):
    """Each frontend directly: the member's page, and a new certificate
    through it (whichever frontend drives the line); returns the ids."""
    ids = []
    for fe in (stack, mh.b):
        sess = LBSession(fe.url, stack.cert_file)
        assert login(sess, m["email"], PASSWORD).status_code == 303
        assert sess.get("/certs/", allow_redirects=False).status_code == 200
        ids.append(int(issue(sess, profile="client", email0="yes")[0]))
        sess.close()
    conn = psycopg2.connect(**db_args)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM certificates WHERE id = ANY(%s)", (ids,))
            assert cur.fetchone()[0] == 2
    finally:
        conn.close()
    return ids


@pytest.mark.allow_log(*FAILOVER, *TAKEOVER)
def test_scenario4_primary_restart_both_frontends_recover(mh, lb_http, stack, db):
    m = lb_member(lb_http, stack, db)
    cid, cert, _ = issue(lb_http, profile="client", email0="yes")
    pids = httpd_pids(mh, stack)
    clients = steady_clients(mh, stack, m, cert)
    t0, back, rows = run_outage(clients, lambda: restart_primary(stack))
    report("primary restart (pg_ctl restart -m fast)", t0, back, rows)
    # no httpd was restarted, and both work
    assert httpd_pids(mh, stack) == pids
    both_frontends_work(mh, stack, m, stack.pg_connect_args())
    conn = psycopg2.connect(**stack.pg_connect_args())     # db's session ended
    conn.autocommit = True
    try:
        assert len(wait_until(lambda: lock_holders(conn), 10, "no holder")) == 1
    finally:
        conn.close()


@pytest.mark.allow_log(*FAILOVER, *TAKEOVER)
def test_scenario5_promotion_resumes_service_and_loses_nothing(mh, lb_http, stack, db):
    standby = mh.standby
    m = lb_member(lb_http, stack, db)
    cid, cert, _ = issue(lb_http, profile="client", email0="yes")
    with db.cursor() as cur:
        cur.execute("SELECT id, serial FROM certificates ORDER BY id")
        committed = cur.fetchall()
    db.close()
    pids = httpd_pids(mh, stack)
    clients = steady_clients(mh, stack, m, cert)

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
    finally:
        for c in clients:
            c.finish()
    report("promotion (stop the primary, promote the standby)", t0, back, rows)
    assert httpd_pids(mh, stack) == pids
    # issuance on the promoted server, through each httpd as it runs
    new = both_frontends_work(mh, stack, m, standby.connect_args())
    conn = psycopg2.connect(**standby.connect_args())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, serial FROM certificates ORDER BY id")
            now = cur.fetchall()
    finally:
        conn.close()
    assert set(committed) <= set(now), "committed certificates lost"
    assert set(new) <= {r[0] for r in now}
