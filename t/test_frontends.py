# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Several frontends (docs/scaling.md).  A second host's OCSP responder, an
httpd of its own with a cache of its own on the same database, learns of a
revocation that the first host records (it drives the signer link) within a
second: the database notifies every listener when the revocation commits
(sql/016), and each responder drops its cached answers for that
certificate.  Here: the same when the database has just ended every
listening session; the plain case, with a shared and with per-host caches,
is scenario 2 of t/test_multihost.py."""

import time

import pytest
import requests
from cryptography.x509 import ocsp

from cacertstack import bad_log_lines
from issuing import issue, member, revoke
from test_ocsp import ca_file, der_request, load


# what a responder reports when the database ends its listening session
# (CA10303: the cut came while it read the revocations it had missed on
# that session, right after connecting; it reads them again once connected
# anew)
CUT = ("CA22104", "terminating connection due to administrator command",
       r"CA10303: cacert_iss_revoked_since: server closed the connection unexpectedly")


@pytest.fixture(scope="module")
def frontend_b(stack):
    fe = stack.start_ocsp_frontend("b")
    yield fe
    fe.stop()
    # its own error log: only the cut connections of the test below
    with open(fe.error_log, errors="replace") as f:
        bad = bad_log_lines(f.read().splitlines(), CUT)
    assert not bad, "\n".join(bad)


def status_at(url, body):
    r = requests.post(url, data=body, headers={"Content-Type": "application/ocsp-request"},
                      timeout=30)
    assert r.status_code == 200, r.text[:300]
    resp = ocsp.load_der_ocsp_response(r.content)
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    return resp.certificate_status


@pytest.mark.allow_log(*CUT)
def test_the_promise_holds_when_the_listening_connection_is_cut(http, stack, db, frontend_b):
    """The database ends every listening session (as a restart or a
    failover would) just before a revocation: the responders connect again
    and catch up on what they missed from the table, still within 1 s."""
    member(http, stack, db, points=10)
    cid, cert, _ = issue(http, profile="client", email0="yes")
    body = der_request(cert, load(ca_file(stack, "member")))
    assert status_at(frontend_b.url, body) == ocsp.OCSPCertStatus.GOOD
    assert status_at(frontend_b.url, body) == ocsp.OCSPCertStatus.GOOD
    with db.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = 'cacert-listen'")
        assert cur.fetchone()[0] >= 2          # both hosts listen
    revoke(http, cid)
    t0 = time.monotonic()
    while status_at(frontend_b.url, body) != ocsp.OCSPCertStatus.REVOKED:
        assert time.monotonic() - t0 < 1.0, "frontend B still says good after 1 s"
        time.sleep(0.02)
