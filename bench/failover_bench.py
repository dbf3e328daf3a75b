#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Availability while the database restarts or fails over (issue 19,
scenarios 4 and 5), on a stack of several hosts of its own
(tools/multihost.py, the stack of t/test_multihost.py): the primary, a hot
standby (pg_basebackup -R, tools/dbcluster.py), member frontends a and b
behind haproxy and an OCSP host c, all with multi-host DBDParams
(target_session_attrs=read-write).

A steady, bounded load runs all along: --clients threads per host (a, b,
c), each asking for a fresh OCSP answer (a nonce: never from a cache, always
from the database) every 50 ms, and --clients threads asking for a member
page on a logged-in session through haproxy (a new connection each).  Then:
  * --restarts times `pg_ctl restart -m fast` of the primary (scenario 4);
  * --promotions times: stop the primary, wait for the standby to replay
    past its last checkpoint, `pg_ctl promote` (scenario 5); between two
    promotions the promoted data is moved back to the primary's place and a
    new standby is made (not measured).
For each event it prints the outage (the command's own time), the span from
the first to the end of the last failed request of any client (the seconds
of failed requests) and how many failed, then the median and the worst.

    bench/failover_bench.py [--builddir build] [--clients 2] [--restarts 3]
                            [--promotions 2]
"""

import argparse
import os
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import requests  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.x509 import ocsp  # noqa: E402

from benchstack import own_stack  # noqa: E402
from dbcluster import (SteadyClient, fail_back, primary_lsn_at_stop,  # noqa: E402
                       restart_primary, stop_primary)
from issue_bench import Member  # noqa: E402
from multihost import MultiHost  # noqa: E402
from takeover_bench import through  # noqa: E402


def ocsp_fn(url, issuer):
    """A fresh OCSP answer about a serial the CA never issued ("unknown"):
    the same lookup as any other, signed anew for the nonce.  The CertIDs
    come from throwaway certificates that name the CA as their issuer (only
    the serial and the issuer's name and key go into a CertID)."""
    import datetime
    import itertools
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    certs = [x509.CertificateBuilder().subject_name(issuer.subject)
             .issuer_name(issuer.subject).public_key(key.public_key())
             .serial_number(int.from_bytes(os.urandom(8), "big") | 1)
             .not_valid_before(datetime.datetime(2020, 1, 1))
             .not_valid_after(datetime.datetime(2030, 1, 1)).sign(key, hashes.SHA256())
             for _ in range(16)]
    cycle = itertools.cycle(certs)

    def fn():
        req = (ocsp.OCSPRequestBuilder().add_certificate(next(cycle), issuer, hashes.SHA1())
               .add_extension(x509.OCSPNonce(os.urandom(16)), critical=False).build())
        r = requests.post(url, data=req.public_bytes(serialization.Encoding.DER), timeout=10,
                          headers={"Content-Type": "application/ocsp-request"})
        return (r.status_code == 200 and ocsp.load_der_ocsp_response(r.content).response_status
                == ocsp.OCSPResponseStatus.SUCCESSFUL)
    return fn


def measure(what, clients, event):
    t0 = time.monotonic()
    event()
    took = time.monotonic() - t0
    deadline = time.monotonic() + 30
    while not all(c.log and c.log[-1][1] for c in clients) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(3)
    bad = [t for c in clients for t, ok in list(c.log) if t >= t0 and not ok]
    total = sum(1 for c in clients for t, ok in list(c.log) if t >= t0)
    span = (max(bad) - min(bad) + 0.05) if bad else 0.0
    per = {}
    for c in clients:
        n = sum(1 for t, ok in list(c.log) if t >= t0 and not ok)
        per[c.label] = per.get(c.label, 0) + n
    print(f"{what}: took {took:.2f} s; failed requests over {span:.2f} s "
          f"({len(bad)} of {total}; " + ", ".join(f"{k} {v}" for k, v in per.items()) + ")",
          flush=True)
    return span, len(bad)


def summary(what, results):
    if not results:
        return
    spans = [s for s, _ in results]
    counts = [n for _, n in results]
    print(f"{what}: seconds of failed requests median {statistics.median(spans):.2f} s, "
          f"worst {max(spans):.2f} s; failed requests median "
          f"{statistics.median(counts):.0f}, worst {max(counts)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default="build")
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--promotions", type=int, default=2)
    args = ap.parse_args()
    with own_stack("failover", args.builddir, ["CAcertRegistrationsPerClient 1000"]) as stack:
        mh = MultiHost(stack).start()
        sb = mh.standby
        clients = []
        try:
            with open(os.path.join(stack.ca_dir, "web", "member.crt"), "rb") as f:
                issuer = x509.load_pem_x509_certificate(f.read())
            import psycopg2
            db = psycopg2.connect(**stack.pg_connect_args())
            db.autocommit = True
            members = [through(Member(stack, db, n), mh.lb.url) for n in range(args.clients)]
            db.close()
            for url in (stack.http_url + "/ocsp", f"http://127.0.0.1:{mh.b.http_port}/ocsp",
                        mh.c.url):
                clients += [SteadyClient(ocsp_fn(url, issuer), name=url)
                            for _ in range(args.clients)]
            clients += [SteadyClient(lambda m=m: m.get("/certs/", allow_redirects=False,
                                                       timeout=10).status_code == 200,
                                     name="page") for m in members]
            for c in clients:
                c.start()
            time.sleep(2)
            print(f"{len(clients)} steady clients (a request every 50 ms each): "
                  f"{args.clients} OCSP per host on 3 hosts, {args.clients} member pages "
                  "through haproxy")
            restarts = [measure(f"restart {i + 1}", clients, lambda: restart_primary(stack))
                        for i in range(args.restarts)]
            promotions = []
            for i in range(args.promotions):
                if i:
                    fail_back(stack, sb)
                    sb.start()
                    time.sleep(3)

                def promote():
                    stop_primary(stack)
                    last = primary_lsn_at_stop(stack)
                    while sb.psql(f"SELECT pg_last_wal_replay_lsn() >= '{last}'::pg_lsn"
                                  ).stdout.strip() != "t":
                        time.sleep(0.02)
                    sb.promote()
                promotions.append(measure(f"promotion {i + 1}", clients, promote))
            summary("primary restart", restarts)
            summary("promotion", promotions)
        finally:
            for c in clients:
                c.finish()
            if not stack.pg_running():
                fail_back(stack, sb)
            mh.stop()


if __name__ == "__main__":
    main()
