#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""ACME benchmark: its own stack (httpd, PostgreSQL, the pty line and
signerd) with the tests' loopback DNS and HTTP servers, then
  - certbot's wall time for `certonly --standalone` with external account
    binding and an http-01 challenge (a new member domain each run): median
    and max of --runs;
  - orders/s: C clients at once, each ordering, finalizing, polling and
    downloading certificates for a domain verified beforehand (no
    challenge), through the small ACME client of the tests.
Run once with the line unpaced (a pty) and once paced like a 115200-baud
serial line."""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))
sys.path.insert(0, os.path.join(REPO, "bench"))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

import cacertstack  # noqa: E402
import probes  # noqa: E402
from acme import Certbot, Client, b64, unique_domain  # noqa: E402
from issue_bench import Member, at_once  # noqa: E402
from test_acme_bad_input import csr_for  # noqa: E402


def claim(db, email, name, checks=()):
    cur = db.cursor()
    cur.execute("SELECT member_id FROM emails WHERE address = %s", (email,))
    mid = cur.fetchone()[0]
    cur.execute("INSERT INTO domains (member_id, name, cookie) VALUES (%s, %s, 'c') RETURNING id",
                (mid, name))
    did = cur.fetchone()[0]
    for c in checks:
        cur.execute("INSERT INTO domain_checks (domain_id, member_id, method, kind, result)"
                    " VALUES (%s, %s, %s, 'probe', 'passed')", (did, mid, c))


def eab(m):
    import re
    from accounts import csrf_of
    r = m.s.post(m.url + "/certs/acme", verify=m.v,
                 data={"csrf": csrf_of(m.get("/certs/acme").text)})
    return (re.search(r'id="eab-kid">([^<]+)<', r.text).group(1),
            re.search(r'id="eab-hmac">([^<]+)<', r.text).group(1))


def one_order(c, name):
    """Seconds from newOrder to the downloaded certificate."""
    t0 = time.perf_counter()
    r = c.order(name)
    assert r.status_code == 201, r.text
    url, o = r.headers["Location"], r.json()
    r = c.post(o["finalize"], {"csr": b64(csr_for([name], ec.generate_private_key(
        ec.SECP256R1())))})
    assert r.status_code == 200, r.text
    while (o := c.post(url, None).json())["status"] == "processing":
        time.sleep(0.05)
    assert o["status"] == "valid", o
    r = c.post(o["certificate"], None)
    assert r.status_code == 200
    return time.perf_counter() - t0


def run(args, baud):
    d = tempfile.mkdtemp(prefix="cacert-bench-acme-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(args.builddir), port=0,
                              argon2="1 8192 1",
                              extra_conf=["CAcertRegistrationsPerClient 1000",
                                          "CAcertACMEOrderLimit 100000 100000"]
                              + probes.stack_conf())
    stack.relay_baud = baud
    line = f"pty paced to {baud} baud" if baud else "pty, unpaced"
    try:
        stack.start()
        import psycopg2
        db = psycopg2.connect(**stack.pg_connect_args())
        db.autocommit = True
        m = Member(stack, db, 0)
        walls = []
        for i in range(args.runs):
            name = unique_domain()
            claim(db, "bench0@example.org", name)
            kid, key = eab(m)
            cb = Certbot(stack)
            t0 = time.perf_counter()
            p = cb.certonly(name, kid, key)
            walls.append(time.perf_counter() - t0)
            cb.cleanup()
            assert p.returncode == 0, p.stdout + p.stderr
        print(f"  {line}: certbot certonly --standalone (EAB, http-01), {args.runs} runs: "
              f"median {statistics.median(walls):.2f} s, max {max(walls):.2f} s")
        # concurrent orders for verified domains
        clients = []
        for i in range(args.concurrency):
            mm = Member(stack, db, i) if i else m
            name = unique_domain()
            claim(db, f"bench{i}@example.org", name, checks=("http",))
            c = Client(stack)
            r = c.register(*eab(mm))
            assert r.status_code == 201, r.text
            clients.append((c, name))
        one_order(*clients[0])                               # warm up
        lat = []

        def worker(cn):
            for _ in range(args.per_client):
                lat.append(one_order(*cn))
        dt, errors = at_once(worker, clients)
        n = len(lat)
        print(f"    {args.concurrency} clients at once, {n} orders (newOrder, finalize, polling, "
              f"download) in {dt:.2f} s = {n / dt:.1f} orders/s; per order median "
              f"{statistics.median(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms"
              + (f" ({len(errors)} errors: {errors[0]})" if errors else ""))
        db.close()
    finally:
        stack.stop()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--per-client", type=int, default=10)
    args = ap.parse_args()
    if not shutil.which("certbot"):
        sys.exit("certbot is not installed (scripts/setup installs it)")
    print("== ACME: certbot and concurrent clients -> mod_cacert_issue -> signer link ==")
    run(args, 0)
    run(args, 115200)


if __name__ == "__main__":
    main()
