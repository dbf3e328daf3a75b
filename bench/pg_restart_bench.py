#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""What a PostgreSQL restart costs the members: its own stack (httpd,
PostgreSQL, the pty line and signerd), C steady clients each asking for a
member page every 50 ms on a logged-in session, and --restarts times
`pg_ctl restart -m fast` while they run.  For each restart it prints how
long the restart took, the span from the first to the last failed request
of any client (the seconds of failed requests) and how many failed, then
the median and the worst over all restarts."""

import argparse
import os
import statistics
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import requests  # noqa: E402

from benchstack import own_stack  # noqa: E402
from issue_bench import Member  # noqa: E402


def steady(m, stop, log):
    while not stop.is_set():
        t = time.monotonic()
        try:
            ok = m.get("/certs/", allow_redirects=False, timeout=10).status_code == 200
        except requests.RequestException:
            ok = False
        log.append((t, ok))
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default="build")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--restarts", type=int, default=5)
    args = ap.parse_args()
    with own_stack("pg", args.builddir, ["CAcertRegistrationsPerClient 1000"]) as stack:
        import psycopg2
        db = psycopg2.connect(**stack.pg_connect_args())
        db.autocommit = True
        members = [Member(stack, db, n) for n in range(args.clients)]
        db.close()
        stop, log = threading.Event(), []
        threads = [threading.Thread(target=steady, args=(m, stop, log), daemon=True)
                   for m in members]
        for t in threads:
            t.start()
        time.sleep(2)
        spans, counts = [], []
        print(f"{args.clients} steady clients, a member page every 50 ms each")
        for i in range(args.restarts):
            t0 = time.monotonic()
            stack.restart_postgres()
            took = time.monotonic() - t0
            time.sleep(5)
            bad = [t for t, ok in list(log) if t >= t0 - 0.5 and not ok]
            total = sum(1 for t, ok in list(log) if t >= t0 - 0.5)
            span = (max(bad) - min(bad) + 0.05) if bad else 0.0
            spans.append(span)
            counts.append(len(bad))
            print(f"restart {i + 1}: pg_ctl restart {took:.2f} s; failed requests over "
                  f"{span:.2f} s ({len(bad)} of {total})")
        stop.set()
        for t in threads:
            t.join(15)
        late = [ok for t, ok in log if not ok]
        print(f"seconds of failed requests: median {statistics.median(spans):.2f} s, "
              f"worst {max(spans):.2f} s; failed requests: median "
              f"{statistics.median(counts):.0f}, worst {max(counts)}; "
              f"{len(late)} failed of {len(log)} in all")


if __name__ == "__main__":
    main()
