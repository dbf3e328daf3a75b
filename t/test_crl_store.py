# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The CRL store thread (issue 19, docs/issuance.md "How CRLs are made"): the
link hands a signed CRL to a thread of its own, which stores it on its own
database connection.  Issuance goes on while a CRL waits to be stored; a CRL
whose store fails, or whose httpd process dies before the commit, is stored
later under the same request (nothing lost).

A transaction that holds uncommitted CRL rows with the numbers the next
requests get makes the store's INSERT wait (reads of /pki go on), which is
how a slow 40 MB INSERT looks to the link."""

import os
import signal
import socket
import threading
import time
import urllib.parse

import psycopg2
import pytest

from issuing import issue, journal_revokes, member, revoke, wait_for_crl
from test_crl_incremental import check_matches

KILLED = (r"AH00052", r"CA21121", r"CA21104", r"CA21109", r"CA21101", r"CA21113",
          r"CA21117", r"terminating connection", r"server closed the connection",
          r"AH00629", r"AH00633", r"AH00632", r"CA21119", r"CA21106", r"CA10305")


def until(what, cond, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def store_waiting(db):
    """the pid of the session whose INSERT INTO crls waits for a lock"""
    with db.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE '%%INSERT INTO crls%%'")
        row = cur.fetchone()
        return row[0] if row else None


def open_crl_request(db):
    """the id of the member CA's CRL request that is sent and not done"""
    with db.cursor() as cur:
        cur.execute("SELECT id FROM signer_requests WHERE kind = 'crl' AND ca = 'member'"
                    " AND state = 'sent' ORDER BY id")
        rows = cur.fetchall()
        return rows[0][0] if len(rows) == 1 else None


def refused(url):
    """1 when nothing accepts a connection at url's host and port"""
    u = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((u.hostname, u.port), timeout=0.5).close()
    except OSError:
        return True
    return False


def request_state(db, rid):
    with db.cursor() as cur:
        cur.execute("SELECT state FROM signer_requests WHERE id = %s", (rid,))
        return cur.fetchone()[0]


def crl_numbers(db):
    with db.cursor() as cur:
        cur.execute("SELECT crl_number FROM crls WHERE ca = 'member'")
        return {r[0] for r in cur.fetchall()}


def locked_crls(stack, db):
    """A transaction holding CRL rows of the member CA with the numbers the
    next requests will get: the store's INSERT of such a number waits for it
    (a lock on the table itself would also stop mod_dbd's new connections,
    which prepare that INSERT)."""
    with db.cursor() as cur:
        cur.execute("SELECT last_value FROM signer_requests_id_seq")
        last = cur.fetchone()[0]
    conn = psycopg2.connect(**stack.pg_connect_args())
    cur = conn.cursor()
    cur.execute("INSERT INTO crls (ca, crl_number, this_update, next_update, entries, der)"
                " SELECT 'member', g, now(), now(), 0, '\\x00'::bytea"
                " FROM generate_series(%s::bigint + 1, %s::bigint + 20) g", (last, last))
    return conn


def no_crl_open(db):
    """1 when no CRL of the member CA is queued or sent"""
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM signer_requests WHERE kind = 'crl'"
                    " AND ca = 'member' AND state IN ('queued', 'sent')")
        return cur.fetchone()[0] == 0


def revoke_and_hold(http, stack, db):
    """a revocation whose CRL is signed and waits to be stored: (lock's
    connection, the CRL request's id, the revoked certificate).

    A CRL still queued from before (the link queues one per CA when it
    starts, and paces CRLs after a slow store) would take the revocation
    in under a number below the lock's, and be stored without waiting:
    the lock is taken only once no CRL of the CA is open.  If the store
    is not seen waiting, the lock is let go before the failure is raised,
    or its rows would hold up every later test's lock."""
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    until("no CRL queued or sent", lambda: no_crl_open(db))
    lock = locked_crls(stack, db)
    try:
        revoke(http, cid)
        until("the CRL's store waits", lambda: store_waiting(db))
        rid = until("one open CRL request", lambda: open_crl_request(db))
    except BaseException:
        lock.rollback()
        lock.close()
        raise
    return lock, rid, cert


def test_issuance_goes_on_while_a_crl_is_stored(http, stack, db):
    lock, rid, cert = revoke_and_hold(http, stack, db)
    try:
        # the line is free: a certificate is issued meanwhile
        cid2, cert2, _ = issue(http, profile="client", email0="yes")
        assert cert2.serial_number != cert.serial_number
        # the CRL is not published yet, its request still open
        assert rid not in crl_numbers(db)
        assert request_state(db, rid) == "sent"
        assert store_waiting(db)
    finally:
        lock.rollback()
        lock.close()
    published_by(http, db, rid, cert)


def published_by(http, db, rid, cert):
    """The CRL listing cert is published, matches the database, and was
    stored by request rid (done, its number among the CRLs)."""
    crl = wait_for_crl(http, "member", cert.serial_number, timeout=30)
    check_matches(http, db, crl)
    until("the request done", lambda: request_state(db, rid) == "done")
    assert rid in crl_numbers(db)


@pytest.mark.allow_log(*KILLED)
def test_a_crl_whose_store_failed_is_stored_later(http, stack, db):
    lock, rid, cert = revoke_and_hold(http, stack, db)
    try:
        # the store's session ends under it: its transaction fails
        with db.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (store_waiting(db),))
        until("the store failed", lambda: stack.error_log_lines(
            match=lambda ln: "CA21121" in ln and f"request {rid} " in ln))
        assert request_state(db, rid) == "sent"
    finally:
        lock.rollback()
        lock.close()
    # the same request is signed again and stored
    published_by(http, db, rid, cert)


@pytest.mark.allow_log(*KILLED)
def test_a_crl_asked_again_after_a_revocation_is_replaced_by_a_newer_one(http, stack, db):
    """A CRL whose store failed is asked again with its old body.  When the
    signer has recorded a revocation meanwhile, it refuses to sign that body:
    nothing is published from it, and the newer CRL (enqueued by that
    revocation) lists both.  Logged as a notice (CA10625), not as the error
    of a real disagreement between journal and database (CA10605), which
    the log check would refuse."""
    lock, rid, cert = revoke_and_hold(http, stack, db)
    try:
        cid2, cert2, _ = issue(http, profile="client", email0="yes")
        revoke(http, cid2)
        with db.cursor() as cur:
            until("the second revocation stored", lambda: (cur.execute(
                "SELECT revoked_at IS NOT NULL FROM certificates WHERE id = %s", (cid2,))
                or cur.fetchone()[0]))
            cur.execute("SELECT pg_terminate_backend(%s)", (store_waiting(db),))
        until("the store failed", lambda: stack.error_log_lines(
            match=lambda ln: "CA21121" in ln and f"request {rid} " in ln))
    finally:
        lock.rollback()
        lock.close()
    until("the old body refused", lambda: request_state(db, rid) == "refused")
    assert stack.error_log_lines(match=lambda ln: "CA10625" in ln and f"CRL {rid} " in ln)
    assert rid not in crl_numbers(db)
    crl = wait_for_crl(http, "member", cert2.serial_number, timeout=30)
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    check_matches(http, db, crl)


@pytest.mark.allow_log(*KILLED)
def test_nothing_lost_when_httpd_dies_while_a_crl_is_stored(http, stack, db):
    lock, rid, cert = revoke_and_hold(http, stack, db)
    try:
        # every child of httpd dies (the link's with its store thread);
        # the parent starts new ones
        before = set(stack._httpd_children())
        for pid in before:
            if pid != stack.httpd_pid():
                os.kill(pid, signal.SIGKILL)
        killed = before - {stack.httpd_pid()}
        until("the children gone", lambda: not killed & set(stack._httpd_children()))
        http.close()        # its connections were to the children killed
        stack.relay("release")  # the link died with its line open (exclusive)
        assert request_state(db, rid) == "sent"
        assert rid not in crl_numbers(db)
    finally:
        lock.rollback()
        lock.close()
    published_by(http, db, rid, cert)


def test_the_store_has_a_connection_of_its_own_and_a_graceful_stop_waits_for_it(
        http, stack, db):
    """The store runs on a connection of its own (an operator sees it as
    cacert-crl-store in pg_stat_activity), not on one of mod_dbd's, which
    the child's other threads share and its end closes.  A graceful stop
    that comes while a CRL is stored waits for that store: the CRL is
    stored and published once, with nothing logged but the stop."""
    lock, rid, cert = revoke_and_hold(http, stack, db)
    log_start = os.path.getsize(stack.error_log)
    stopper = threading.Thread(target=stack.stop_httpd)
    t0 = time.monotonic()
    steps = []      # what happened when, for the message of a failure
    try:
        with db.cursor() as cur:
            cur.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s",
                        (store_waiting(db),))
            assert cur.fetchone()[0] == "cacert-crl-store"
        stopper.start()
        # the stop is under way once httpd no longer accepts connections
        # (the parent and its children close their listeners first); the
        # store still waits then, so the ending child waits for it
        until("httpd stops accepting", lambda: refused(stack.url), timeout=10)
        steps.append(f"refused after {time.monotonic() - t0:.2f} s")
        assert store_waiting(db), steps
    finally:
        lock.rollback()
        lock.close()
        steps.append(f"lock released after {time.monotonic() - t0:.2f} s")
        # whatever failed above, the stop ends and httpd runs again for the
        # tests after this one
        if stopper.ident:
            stopper.join()
        steps.append(f"httpd stopped after {time.monotonic() - t0:.2f} s")
        state = request_state(db, rid)
        if not stack.httpd_pid():
            stack.start_httpd()
            http.close()
    # stored by the child that was stopping, before it ended
    log = stack.error_log_lines(log_start)
    assert state == "done", (state, steps, log[-20:])
    assert rid in crl_numbers(db)
    published_by(http, db, rid, cert)


def test_after_a_slow_store_the_next_crl_waits(http, stack, db):
    """CRLs are paced (docs/issuance.md "CRLs paced"): after a CRL whose
    store took W, no CRL request goes out for 30 W or more, at most 2 s.
    A store held for 0.7 s by a lock makes the next CRL (queued by a
    second revocation meanwhile) wait at least 2 s after it; it is then
    published with both revocations."""
    lock, rid, cert = revoke_and_hold(http, stack, db)
    try:
        cid2, cert2, _ = issue(http, profile="client", email0="yes")
        revoke(http, cid2)
        with db.cursor() as cur:
            cur.execute("SELECT id FROM signer_requests WHERE kind = 'crl' AND ca = 'member'"
                        " AND state = 'queued' AND id > %s ORDER BY id LIMIT 1", (rid,))
            second = cur.fetchone()[0]
        time.sleep(0.7)
    finally:
        lock.rollback()
        lock.close()
    until("the first CRL stored", lambda: request_state(db, rid) == "done", timeout=10)
    done = time.monotonic()
    until("the second CRL sent", lambda: request_state(db, second) != "queued", timeout=10)
    assert time.monotonic() - done > 1.0      # 2 s; without pacing at once
    crl = wait_for_crl(http, "member", cert2.serial_number, timeout=30)
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    check_matches(http, db, crl)


def test_a_store_session_ended_at_rest_is_replaced_before_the_next_crl(http, stack, db):
    """The database ends the store's session between two CRLs (a restart
    or a failover does): the next CRL is stored on a new session, with no
    failed store and no error logged (the log check refuses any)."""
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    revoke(http, cid)
    wait_for_crl(http, "member", cert.serial_number)
    with db.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = 'cacert-crl-store'")
        assert cur.fetchone()[0] == 1
    cid2, cert2, _ = issue(http, profile="client", email0="yes")
    revoke(http, cid2)
    crl = wait_for_crl(http, "member", cert2.serial_number, timeout=5)
    check_matches(http, db, crl)
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = 'cacert-crl-store'")
        assert cur.fetchone()[0] == 1


FAIL_REVOKE = """
CREATE FUNCTION test_fail_revoke() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'test: this revocation is not stored'; END $$;
CREATE TRIGGER test_fail_revoke BEFORE UPDATE ON certificates FOR EACH ROW
  WHEN (NEW.id = %s AND NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION test_fail_revoke();
"""


@pytest.mark.allow_log(*KILLED, r"CA10302: cacert_iss_revoked: ERROR:  test: this revocation")
def test_a_crl_asked_again_while_a_revocation_is_open_is_replaced_by_a_newer_one(
        http, stack, db):
    """signerd recorded a revocation whose answer the database has not
    taken yet (its store fails: a trigger refuses it), and a CRL made before
    it is asked again with its old body.  signerd refuses that body; the
    database's own body lacks the revocation too, but its request is still
    open: a notice (CA10625), nothing published from the old body, and the
    newer CRL lists the revocation once it is stored.  Without the open
    request this would be the error of a real disagreement (CA10605)."""
    lock, rid, cert = revoke_and_hold(http, stack, db)
    cur = db.cursor()
    try:
        cid2, cert2, _ = issue(http, profile="client", email0="yes")
        before = journal_revokes(stack)
        cur.execute(FAIL_REVOKE % int(cid2))
        revoke(http, cid2, wait=False)      # its answer is not stored
        until("signerd recorded the revocation", lambda: journal_revokes(stack) > before)
        cur.execute("SELECT id FROM signer_requests WHERE kind = 'revoke' AND cert_id = %s",
                    (cid2,))
        rev2 = cur.fetchone()[0]
        until("its answer not stored", lambda: stack.error_log_lines(
            match=lambda ln: "CA21106" in ln and f"request {rev2} " in ln))
        # the old CRL's store fails: it is asked again with its old body
        cur.execute("SELECT pg_terminate_backend(%s)", (store_waiting(db),))
        lock.rollback()
        until("the old body refused", lambda: request_state(db, rid) == "refused", timeout=90)
        assert request_state(db, rev2) == "sent"
    finally:
        lock.rollback()
        lock.close()
        cur.execute("DROP TRIGGER IF EXISTS test_fail_revoke ON certificates;"
                    " DROP FUNCTION IF EXISTS test_fail_revoke()")
    assert stack.error_log_lines(match=lambda ln: "CA10625" in ln and f"CRL {rid} " in ln)
    assert not stack.error_log_lines(match=lambda ln: "CA10605" in ln)
    assert rid not in crl_numbers(db)
    until("the revocation stored", lambda: request_state(db, rev2) == "done", timeout=30)
    assert journal_revokes(stack) == before + 1      # asked again, recorded once
    crl = wait_for_crl(http, "member", cert2.serial_number, timeout=30)
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    check_matches(http, db, crl)
