#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""What losing the frontend that drives the signer line costs (docs/
scaling.md, scenario 3 of issue 19): its own stack of several hosts
(tools/multihost.py, the stack of t/test_multihost.py: a second member
frontend, signerd on two lines, haproxy round robin in front of both, a hot
standby, Redis, an OCSP host).  C steady clients each ask for a member page every 50 ms through
haproxy (a new connection each, so they land on both frontends), and one
member requests certificates one after the other through haproxy.  Then,
--rounds times, the frontend holding the link's lock is killed with
SIGKILL (master and children), left dead for --dead seconds, and started
again.  For each kill it prints the failed page requests and the span from
the first to the last failure, how long until the other frontend drove the
line (its CA21115), and the issuance latency before, across and after the
takeover; then the figures over all rounds."""

import argparse
import os
import statistics
import sys
import threading
import time
from urllib.parse import urljoin

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import requests  # noqa: E402

from benchstack import own_stack  # noqa: E402
from multihost import MultiHost  # noqa: E402
from issue_bench import Member, csrs  # noqa: E402


def through(m, url):
    """the member's session goes through haproxy, a connection per request"""
    m.url = url
    m.s.headers["Connection"] = "close"
    return m


def steady(m, stop, log):
    while not stop.is_set():
        t = time.monotonic()
        try:
            ok = m.get("/certs/", allow_redirects=False, timeout=10).status_code == 200
        except requests.RequestException:
            ok = False
        log.append((t, ok))
        time.sleep(0.05)


def issuing(m, pems, stop, log):
    """(start, seconds or None when it failed) of each issuance"""
    i = 0
    while not stop.is_set():
        t = time.monotonic()
        try:
            log.append((t, issue(m, pems[i % len(pems)])))
        except (requests.RequestException, AssertionError):
            log.append((t, None))
            time.sleep(0.2)
        i += 1


def issue(m, csr):
    t0 = time.monotonic()
    r = m.s.post(m.url + "/certs/new", verify=m.v, allow_redirects=False, timeout=30,
                 data={"csrf": m.token, "profile": "client", "email0": "yes",
                       "md": "sha256", "csr": csr})
    assert r.status_code == 303, r.status_code
    loc = urljoin(m.url, r.headers["Location"])
    while True:
        try:
            r = m.s.get(loc, verify=m.v, allow_redirects=False, timeout=30)
        except requests.RequestException:
            time.sleep(0.1)             # the frontend that answered died: ask again
            continue
        if r.status_code == 303 and "/certs/view" in r.headers["Location"]:
            return time.monotonic() - t0
        assert r.status_code == 200, r.status_code


def drives(path):
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return -1
    d = text.rfind("CA21115")
    return d if d > max(text.rfind("CA21116"), text.rfind("CA21118")) else -1


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default="build")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dead", type=float, default=5.0)
    args = ap.parse_args()
    with own_stack("takeover", args.builddir, ["CAcertRegistrationsPerClient 1000"]) as stack:
        mh = MultiHost(stack).start()
        fe, lb = mh.b, mh.lb
        try:
            import psycopg2
            db = psycopg2.connect(**stack.pg_connect_args())
            db.autocommit = True
            members = [through(Member(stack, db, n), lb.url) for n in range(args.clients + 1)]
            db.close()
            issuer = members.pop()
            pems = csrs(20)
            stop, log, ilog = threading.Event(), [], []
            threads = [threading.Thread(target=steady, args=(m, stop, log), daemon=True)
                       for m in members]
            threads.append(threading.Thread(target=issuing, args=(issuer, pems, stop, ilog),
                                            daemon=True))
            for t in threads:
                t.start()
            time.sleep(5)
            print(f"{args.clients} steady clients (a member page every 50 ms each, a new "
                  f"connection each) and one member issuing, through haproxy round robin "
                  f"over two frontends; kill -9 of the link holder, dead for {args.dead:.0f} s")
            spans, counts, takeovers, across, lost = [], [], [], [], 0
            for i in range(args.rounds):
                a_drives = drives(stack.error_log) >= 0
                survivor_log = fe.error_log if a_drives else stack.error_log
                t0 = time.monotonic()
                if a_drives:
                    import signal
                    for p in stack._httpd_children():
                        os.kill(p, signal.SIGKILL)
                else:
                    fe.kill9()
                while drives(survivor_log) < 0 and time.monotonic() - t0 < 30:
                    time.sleep(0.02)
                took = time.monotonic() - t0
                time.sleep(max(0.0, args.dead - took))
                if a_drives:
                    stack.start_httpd()
                else:
                    fe.start()
                time.sleep(4)
                win = [(t, ok) for t, ok in list(log) if t >= t0 - 0.5]
                bad = [t for t, ok in win if not ok]
                span = (max(bad) - min(bad) + 0.05) if bad else 0.0
                # issuances that were under way at the kill, and the ones after
                over = [s for t, s in list(ilog) if s is not None and t <= t0 < t + s]
                failed = [t for t, s in list(ilog) if s is None and t >= t0 - 0.5]
                spans.append(span)
                counts.append(len(bad))
                takeovers.append(took)
                across += over
                lost += len(failed)
                print(f"kill {i + 1} ({'a' if a_drives else 'b'} drove): other frontend drives "
                      f"after {took:.2f} s; failed page requests {len(bad)} of {len(win)} over "
                      f"{span:.2f} s; issuance across the kill "
                      f"{', '.join(f'{s:.2f} s' for s in over) or 'none'}; "
                      f"failed issuances {len(failed)}")
            stop.set()
            for t in threads:
                t.join(40)
            before = [s for t, s in ilog if s is not None]
            print(f"takeover (kill to CA21115 on the other): median "
                  f"{statistics.median(takeovers):.2f} s, worst {max(takeovers):.2f} s")
            print(f"failed page requests per kill: median {statistics.median(counts):.0f}, "
                  f"worst {max(counts)}; seconds of failed requests: median "
                  f"{statistics.median(spans):.2f} s, worst {max(spans):.2f} s; "
                  f"{sum(1 for _, ok in log if not ok)} failed of {len(log)} in all")
            print(f"issuance latency over the run ({len(before)} certificates): p50 "
                  f"{pct(before, 50):.3f} s, p99 {pct(before, 99):.3f} s; across a kill: "
                  f"{', '.join(f'{s:.2f} s' for s in across) or 'none'}; "
                  f"issuances lost: {lost}")
        finally:
            mh.stop()


if __name__ == "__main__":
    main()
