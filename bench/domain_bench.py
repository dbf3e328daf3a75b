#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of domain control (the domain pages of mod_cacert_account): starts its own stack
pointed at the loopback DNS, web and whois servers of t/probes.py, registers
one member with 20 claimed domains (10 verified by DNS and file), then:
  - GET /domains/ with wrk (keep-alive, loopback): the member's domain list
    (session lookup, one query with each domain's latest checks, template);
  - the latency of each probe through the page, end to end (POST, probe
    against the loopback server, the check recorded, the page rendered):
    DNS TXT, file over HTTP (with its A/AAAA lookups), email ping to the
    SMTP sink, whois lookup; median and 90th percentile of --probes runs.
Bounded: the wrk run lasts --seconds (default 10)."""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import requests  # noqa: E402

import cacertstack  # noqa: E402
import probes  # noqa: E402
from accounts import PASSWORD, csrf_of, member_data  # noqa: E402
from web_bench import wrk  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--probes", type=int, default=30)
    args = ap.parse_args()

    srv = probes.servers()
    d = tempfile.mkdtemp(prefix="cacert-bench-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(args.builddir), port=0,
                              argon2="1 8192 1", extra_conf=probes.stack_conf())
    try:
        stack.start()
        s = requests.Session()
        v = stack.cert_file
        u = stack.url
        data = member_data(email="bench@example.org")
        r = s.get(u + "/account/register", verify=v)
        r = s.post(u + "/account/register", data=dict(data, csrf=csrf_of(r.text)), verify=v)
        assert r.status_code == 200, r.text
        link = [l for l in stack.wait_for_mail(data["email"]).links if "confirm?" in l][0]
        r = s.get(link, verify=v)
        s.post(u + "/account/confirm", verify=v, data={
            "csrf": csrf_of(r.text), "id": re.search(r'name="id" value="(\d+)"', r.text).group(1),
            "code": link.split("code=")[1]})
        r = s.get(u + "/account/login", verify=v)
        r = s.post(u + "/account/login", verify=v, allow_redirects=False,
                   data={"csrf": csrf_of(r.text), "email": data["email"], "password": PASSWORD})
        assert r.status_code == 303, r.text
        session = s.cookies.get("__Host-cacert-session")

        def post(path, fields):
            token = csrf_of(s.get(u + "/domains/", verify=v).text)
            return s.post(u + path, data=dict(fields, csrf=token), verify=v,
                          allow_redirects=False)

        ids = []
        for i in range(20):
            name = f"bench{i}.example.test"
            r = post("/domains/", {"action": "add", "domain": name})
            assert r.status_code == 303, r.text[:500]
            did = re.search(r"id=(\d+)", r.headers["Location"]).group(1)
            ids.append((did, name))
        for did, name in ids[:10]:
            page = s.get(u + f"/domains/view?id={did}", verify=v).text
            cookie = re.search(r"Your code for this domain: <code>([^<]+)</code>", page).group(1)
            srv.zone.set_txt("_cacert." + name, cookie)
            srv.serve_cookie(name, cookie)
            srv.whois.records[name] = f"Domain Name: {name}\r\nRegistrant Email: owner@{name}\r\n"
            assert post("/domains/view", {"action": "dns", "id": did}).status_code == 200
            assert post("/domains/view", {"action": "http", "id": did}).status_code == 200

        print(f"domain pages of mod_cacert_account on {u}, wrk -t2 -c{args.connections} -d{args.seconds}s, "
              f"keep-alive, loopback, {os.cpu_count()} cores")
        rps, p50, p99, non2xx, errors = wrk(u + "/domains/", args.seconds, args.connections,
                                            headers=[f"Cookie: __Host-cacert-session={session}"])
        print(f"  {'GET /domains/ (20 domains, 10 verified)':44s} {rps:10.1f} req/s   "
              f"p50 {p50:>8s}  p99 {p99:>8s}" + (f"  non-2xx/3xx: {non2xx}" if non2xx else "")
              + (f"  {errors}" if errors else ""))

        did, name = ids[0]
        token = csrf_of(s.get(u + f"/domains/view?id={did}", verify=v).text)
        print(f"  probe latency through the page, {args.probes} runs each "
              "(POST -> probe -> check recorded -> page):")
        for action, extra in [("dns", {}), ("http", {}), ("whois", {}),
                              ("email", {"mailbox": f"hostmaster@{name}"})]:
            times = []
            for _ in range(args.probes):
                t0 = time.perf_counter()
                r = s.post(u + "/domains/view", verify=v, allow_redirects=False,
                           data=dict({"csrf": token, "action": action, "id": did}, **extra))
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, (action, r.status_code, r.text[:300])
            times.sort()
            print(f"    {action:6s} median {statistics.median(times):7.1f} ms   "
                  f"p90 {times[int(len(times) * 0.9) - 1]:7.1f} ms")
        n = stack.psql("SELECT count(*) FROM domain_checks").stdout.strip()
        print(f"  checks recorded during the run: {n}")
    finally:
        stack.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
