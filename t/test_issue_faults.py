# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Faults on the signer line, with the real httpd, PostgreSQL, relay and
signerd: damaged bytes, signerd killed mid-request, the web side killed
mid-request, a request signerd refuses, and a silent link (dead-man).
Each ends with one certificate per request, never two, and nothing lost."""

import os
import signal
import time

import pytest

from issuing import download, issue, make_csr, member, new_key, request_form, wait_for_cert


def request_state(db, req_id):
    cur = db.cursor()
    cur.execute("SELECT state, reason FROM signer_requests WHERE id = %s", (req_id,))
    return cur.fetchone()


def certs_for(db, req_id):
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM certificates WHERE request_id = %s", (req_id,))
    return cur.fetchone()[0]


def journal_signs(stack, req_id):
    """How many certificates signerd's journal records for this request id."""
    n = 0
    with open(os.path.join(stack.signer_dir, "journal")) as f:
        for line in f:
            parts = line.split()
            if len(parts) > 3 and parts[2] == "SIGN" and parts[3] == str(req_id):
                n += 1
    return n


def last_request(db):
    cur = db.cursor()
    cur.execute("SELECT max(id) FROM signer_requests WHERE kind = 'sign'")
    return cur.fetchone()[0]


def wait_state(db, req_id, states, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        st = request_state(db, req_id)
        if st and st[0] in states:
            return st
        assert time.monotonic() < deadline, f"request {req_id} stays {st}"
        time.sleep(0.05)


def signerd_pid(stack):
    return stack.pids["signerd"]


@pytest.fixture
def fresh_signerd(stack):
    """Leave signerd running with its normal configuration after the test."""
    yield
    stack.start_signerd()


def test_damaged_bytes_are_resent(http, stack, db):
    member(http, stack, db, points=10)
    # a bit flipped towards signerd, and one towards the link
    assert stack.relay("flip-next-to-signer 40") == "ok"
    cid, cert, key = issue(http, profile="client", email0="yes")
    req = last_request(db)
    assert certs_for(db, req) == 1
    assert stack.relay("flip-next-to-link 60") == "ok"
    cid2, cert2, key2 = issue(http, profile="client", email0="yes")
    req2 = last_request(db)
    assert certs_for(db, req2) == 1 and journal_signs(stack, req2) == 1
    assert cert2.serial_number != cert.serial_number
    log = open(stack.error_log).read()
    assert "CA21101" in log or "CA21102" in log      # a resend was logged


@pytest.mark.parametrize("direction,seen", [("signer", "CA61411"), ("link", "CA21113")])
def test_a_lengthened_frame_costs_seconds(http, stack, db, direction, seen):
    """A frame whose length field claims 4096 bytes more than were sent: the
    receiver drops it after the protocol's second of silence and the request
    is sent again; issuance takes seconds, not minutes."""
    member(http, stack, db, points=10)
    logs = {"signer": stack.signerd_log, "link": stack.error_log}
    log_from = os.path.getsize(logs[direction])
    assert stack.relay(f"length-next-to-{direction}") == "ok"
    t0 = time.monotonic()
    r = request_form(http, profile="client", email0="yes", csr=make_csr(new_key()).decode())
    cid = wait_for_cert(http, r, timeout=30)
    took = time.monotonic() - t0

    req = last_request(db)
    assert certs_for(db, req) == 1 and journal_signs(stack, req) == 1
    with open(logs[direction], "rb") as f:
        f.seek(log_from)
        assert seen.encode() in f.read(), f"the {direction} side dropped no frame"
    assert took < 5, f"the request took {took:.1f} s"


def test_signerd_killed_mid_request(http, stack, db, fresh_signerd):
    member(http, stack, db, points=10)
    pid = signerd_pid(stack)
    os.kill(pid, signal.SIGSTOP)                       # it will read the request later
    r = request_form(http, profile="client", email0="yes", csr=make_csr(new_key()).decode())
    assert r.status_code == 303
    req = last_request(db)
    wait_state(db, req, {"sent"})
    time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    os.kill(pid, signal.SIGCONT)
    stack.start_signerd()
    cid = wait_for_cert(http, r, timeout=60)
    assert request_state(db, req)[0] == "done"
    assert certs_for(db, req) == 1
    assert journal_signs(stack, req) <= 1


@pytest.mark.allow_log(r"AH00098", r"AH00016", r"CA21104", r"Unclean shutdown")
def test_web_side_killed_mid_request(http, stack, db, fresh_signerd):
    member(http, stack, db, points=10)
    pid = signerd_pid(stack)
    os.kill(pid, signal.SIGSTOP)
    r = request_form(http, profile="client", email0="yes", csr=make_csr(new_key()).decode())
    req = last_request(db)
    wait_state(db, req, {"sent"})
    # httpd dies at once: no graceful anything
    for p in stack._httpd_children():
        os.kill(p, signal.SIGKILL)
    proc = getattr(stack, "_httpd_proc", None)
    if proc is not None:
        proc.wait(timeout=10)
    os.kill(pid, signal.SIGCONT)                       # signerd answers into the void
    time.sleep(0.5)
    stack.start_httpd()
    cid = wait_for_cert(http, r, timeout=60)
    assert certs_for(db, req) == 1
    assert journal_signs(stack, req) == 1              # signed once, answered twice
    # the certificate the member gets is the one signerd journalled
    import base64
    from cryptography import x509
    cert = x509.load_pem_x509_certificate(download(http, cid))
    der = cert.public_bytes(__import__("cryptography.hazmat.primitives.serialization",
                                       fromlist=["Encoding"]).Encoding.DER)
    with open(os.path.join(stack.signer_dir, "journal")) as f:
        answer = [l.split()[6] for l in f if l.split()[2:4] == ["SIGN", str(req)]][0]
    assert der in base64.b64decode(answer)


@pytest.mark.allow_log(r"CA21108")
def test_refused_request_is_quarantined_and_the_rest_flows(http, stack, db, fresh_signerd):
    member(http, stack, db, points=10)
    # a signer whose own limit is stricter than what the web side asks
    p = stack.start_signerd(replace=[("max_days=183", "max_days=90")])
    r = request_form(http, profile="client", email0="yes", csr=make_csr(new_key()).decode())
    req = last_request(db)
    state, reason = wait_state(db, req, {"quarantined"})
    assert reason and "days" in reason
    assert p.wait(timeout=30) == 3                     # signerd stopped, as it must
    stack.pids.pop("signerd", None)
    r2 = http.get(r.headers["Location"])
    assert "refused this request" in r2.text
    assert certs_for(db, req) == 0
    # after a restart (normal configuration) the next request goes through
    stack.start_signerd()
    cid, cert, key = issue(http, profile="client", email0="yes")
    assert request_state(db, req)[0] == "quarantined"   # never fed again


def test_signerd_dies_when_the_link_falls_silent(http, stack, db, fresh_signerd):
    proc = stack.start_signerd(deadman=2)
    # the link's heartbeats (every 10 s) are too rare for a 2 s dead-man:
    # silence, so signerd wipes its keys and leaves
    assert proc.wait(timeout=20) == 4
    stack.pids.pop("signerd", None)
    log = open(stack.signerd_log).read()
    assert "dead-man" in log.lower() or "deadman" in log.lower()
    assert "wiped" in log


def test_httpd_stops_within_seconds_while_the_link_works(http, stack, db):
    """The link works its rounds and the waiting pages' listener listens for
    up to 30 s per watchdog call.  A graceful stop must still end each child
    within seconds: the child's end joins the watchdog threads, and httpd's
    parent kills a child that lags (AH00045/AH00046, which the error-log
    check of every test refuses)."""
    member(http, stack, db, points=10)
    issue(http, profile="client", email0="yes")   # the line is up, the listener listens
    # a second waiting page: the listener is in the middle of a call
    request_form(http, profile="client", email0="yes", csr=make_csr(new_key()).decode())
    time.sleep(1)
    t0 = time.monotonic()
    stack.stop_httpd()
    took = time.monotonic() - t0
    stack.start_httpd()
    # within GracefulShutdownTimeout (5 s here, 30 s under ASan): after it
    # the parent sends SIGTERM (AH00045).  httpd's own listener takes about
    # 3 s of it to let the keep-alive connections go.
    assert took < (30 if stack.asan else 5), f"httpd took {took:.1f} s to stop"
    issue(http, profile="client", email0="yes")
