#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""OCSP A/B: two builds of the responder side by side, to tell a change's
effect from a noisy machine.  Each tree (its build/, conf/, sql/, tools/)
gets a stack of its own with the same certificates; then wrk runs against
A and B in turns (the order flips every round), POST and GET, so that a
slow moment of the machine falls on both.  Prints each round and the
median of the B/A ratios.

  bench/ocsp_ab.py --b /path/to/other/tree [--a this tree]"""

import argparse
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, os.path.join(REPO, "tools"))

from cryptography import x509  # noqa: E402

import cacertstack  # noqa: E402
from ocsp_bench import (CA, Checker, check_all, fill_db, load_cert, log, make_certs,  # noqa: E402
                        ocsp_request_der, wrk)


def requests_for(stack, certs, sample, d, name):
    """The requests of sample (serial, revoked) for this stack's CA, as
    files for wrk and as (der, serial) pairs."""
    web = os.path.join(stack.ca_dir, "web")
    issuer = load_cert(os.path.join(web, f"{CA}.crt"))
    name_hash = hashlib.sha1(issuer.subject.public_bytes()).digest()
    key_hash = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest
    reqdir = os.path.join(d, f"requests-{name}")
    os.makedirs(reqdir)
    reqs = []
    for i, (s, _) in enumerate(sample):
        der = ocsp_request_der(name_hash, key_hash, s)
        with open(os.path.join(reqdir, f"{i}.der"), "wb") as f:
            f.write(der)
        reqs.append((der, int.from_bytes(s, "big")))
    os.chmod(reqdir, 0o755)
    want = {int.from_bytes(s, "big"): ("revoked" if rev else "good") for s, rev in certs}
    checker = Checker(load_cert(os.path.join(web, f"ocsp-{CA}.crt")), want)
    return reqdir, reqs, checker


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", default=REPO, help="tree A (default: this one)")
    ap.add_argument("--b", required=True, help="tree B")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--certs", type=int, default=100000)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    d = tempfile.mkdtemp(prefix="cacert-ocspab-", dir="/tmp")
    os.chmod(d, 0o755)
    certs = make_certs(args.certs, 0.10, rng)
    sample = rng.sample(certs, args.requests)
    sides = {}
    try:
        for name, tree in (("A", args.a), ("B", args.b)):
            tree = os.path.abspath(tree)
            st = cacertstack.Stack(os.path.join(d, name), builddir=os.path.join(tree, "build"),
                                   port=0, repo=tree)
            sides[name] = {"stack": st, "tree": tree}
            st.start()
            fill_db(st, certs)
            reqdir, reqs, checker = requests_for(st, certs, sample, d, name)
            url = st.http_url.replace("localhost", "127.0.0.1") + "/ocsp"
            check_all(name, url, reqs, checker)                  # right, and cached
            check_all(name, url, reqs, checker, method="GET", limit=50)
            sides[name].update(url=url, reqdir=reqdir, n=len(reqs))
            log(f"{name}: {tree} on {url}")
        print(f"OCSP A/B, {args.certs} certificates, {args.requests} requests, wrk -t2 "
              f"-c{args.connections} -d{args.seconds}s per run, {args.rounds} rounds, "
              "order flipped every round")
        print(f"  A = {sides['A']['tree']}\n  B = {sides['B']['tree']}")
        ratios = {"POST": [], "GET": []}
        figures = {(s, m): [] for s in "AB" for m in ratios}
        for r in range(args.rounds):
            order = "AB" if r % 2 == 0 else "BA"
            line = []
            for method, script in (("POST", "post.lua"), ("GET", "get.lua")):
                got = {}
                for s in order:
                    res = wrk(sides[s]["url"], args.seconds, args.connections, script,
                              sides[s]["reqdir"], sides[s]["n"])
                    got[s] = res["rps"]
                    figures[(s, method)].append(res["rps"])
                ratios[method].append(got["B"] / got["A"])
                line.append(f"{method} A {got['A']:.0f} B {got['B']:.0f} "
                            f"(B/A {got['B'] / got['A']:.3f})")
            print(f"  round {r + 1} ({order}): " + "; ".join(line))
        for method in ratios:
            print(f"  {method}: median A {statistics.median(figures[('A', method)]):.0f}, "
                  f"median B {statistics.median(figures[('B', method)]):.0f} req/s; "
                  f"median of the B/A ratios {statistics.median(ratios[method]):.3f} "
                  f"(min {min(ratios[method]):.3f}, max {max(ratios[method]):.3f})")
    finally:
        for s in sides.values():
            s["stack"].stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
