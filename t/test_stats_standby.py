# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The statistics page from a hot standby (docs/scaling.md): a virtual
host for the public pages whose DBDParams name the standby serves
/wot/stats, so that its full scans of members, assurances and certificates
run there and not on the primary.  Its figures follow the primary once the
standby has replayed; it writes nothing, so a standby in recovery (which
refuses every write) serves it."""

import re

import pytest
import requests

from cacertstack import free_port
from dbcluster import Standby
from issuing import member
from wot import scalar


@pytest.fixture(scope="module")
def standby(stack):
    sb = Standby(stack, name="stats", port=free_port()).start()
    yield sb
    sb.stop()


def figures(text):
    """The figures of the page's table, in order (thousands separators
    dropped)."""
    return [int(re.sub(r"\D", "", n)) for n in re.findall(r"<td[^>]*>([\d.,\s\u202f]+)</td>", text)]


def test_statistics_from_the_standby(http, stack, db, standby):
    port = free_port()
    vhost = [f"Listen 127.0.0.1:{port} http",
             f"<VirtualHost 127.0.0.1:{port}>",
             f"    ServerName localhost:{port}",
             "    SSLEngine off",
             f'    DBDParams "{standby.dbd_params}"',
             '    <Location "/">', "        Require all denied", "    </Location>",
             '    <Location "/wot/stats">', "        Require all granted", "    </Location>",
             '    <Location "/static">', "        Require all granted", "    </Location>",
             "</VirtualHost>",
             "CAcertStatsCacheTime 0"]
    url = f"http://127.0.0.1:{port}/wot/stats"
    with stack.configured(vhost):
        standby.wait_replayed()
        r = requests.get(url, timeout=30)
        assert r.status_code == 200, r.text[:500]
        assert "<svg" in r.text
        primary = http.get("/wot/stats")
        assert primary.status_code == 200
        assert figures(r.text) == figures(primary.text) and figures(r.text)
        # the queries ran on the standby: it is in recovery, and a member
        # made on the primary shows there only once replayed
        assert standby.in_recovery()
        before = scalar(db, "SELECT count(*) FROM members")
        standby.pause_replay()
        try:
            member(http, stack, db)
            assert scalar(db, "SELECT count(*) FROM members") == before + 1
            assert figures(http.get("/wot/stats").text) != figures(r.text)
            assert figures(requests.get(url, timeout=30).text) == figures(r.text)
        finally:
            standby.resume_replay()
        standby.wait_replayed()
        assert figures(requests.get(url, timeout=30).text) == figures(http.get("/wot/stats").text)
