# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The database side of several hosts (docs/scaling.md), against real
processes started here: a hot standby of the stack's primary made with
pg_basebackup -R (tools/dbcluster.py), and a virtual host for relying
parties that serves /pki from it.

Issue 19's scenarios 2, 4, 5 and 6 (revoked within 1 s on the other hosts
with a shared and with per-host caches, and from a lagging standby; a
restart of the primary; the promotion of the standby) run in
t/test_multihost.py, on the stack of several hosts.
"""

import pytest
import requests
from cryptography import x509

from dbcluster import Standby
from issuing import issue, member, revoke, wait_for_crl


@pytest.fixture(scope="module")
def standby(stack):
    sb = Standby(stack).start()
    yield sb
    sb.stop()


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
