#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Page A/B: the logged-in overview page (GET /account/) of two builds side
by side, to tell a change's effect from a noisy machine.  Each tree (its
build/, conf/, templates/) gets a stack of its own with one logged-in
member; then wrk runs against A and B in turns (the order flips every
round).  Prints each round and the median of the B/A ratios.  With --lang,
B's page is asked for in that language (its chooser cookie), A's in English.

  bench/page_ab.py --a /path/to/old/tree [--b this tree] [--lang fr]"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))

import cacertstack  # noqa: E402
from web_bench import member_session, wrk  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="tree A (the one before)")
    ap.add_argument("--b", default=REPO, help="tree B (default: this one)")
    ap.add_argument("--lang", action="append", default=[],
                    help="also measure the page in this language (repeatable)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="cacert-pageab-", dir="/tmp")
    os.chmod(d, 0o755)
    sides = {}
    try:
        for name, tree in (("A", args.a), ("B", args.b)):
            tree = os.path.abspath(tree)
            st = cacertstack.Stack(os.path.join(d, name), builddir=os.path.join(tree, "build"),
                                   port=0, repo=tree, argon2="1 8192 1")
            sides[name] = {"stack": st, "tree": tree}
            st.start()
            _, session, _, _ = member_session(st, email=f"bench-{name.lower()}@example.org")
            sides[name]["cookie"] = f"Cookie: __Host-cacert-session={session}"
        langs = ["en"] + args.lang
        variants = [(side, lang) for lang in langs for side in "AB"]
        print(f"overview page A/B, wrk -t2 -c{args.connections} -d{args.seconds}s per run, "
              f"{args.rounds} rounds, order flipped every round, {os.cpu_count()} cores")
        print(f"  A = {sides['A']['tree']}\n  B = {sides['B']['tree']}")
        figures = {v: [] for v in variants}
        ratios = {lang: [] for lang in langs}
        for r in range(args.rounds):
            order = variants if r % 2 == 0 else list(reversed(variants))
            got = {}
            for side, lang in order:
                st = sides[side]["stack"]
                cookie = sides[side]["cookie"] + (f"; __Host-cacert-lang={lang}"
                                                  if lang != "en" else "")
                rps, _, _, non2xx, errors = wrk(st.url + "/account/", args.seconds,
                                                args.connections, headers=[cookie])
                assert not non2xx, (side, lang, non2xx, errors)
                got[(side, lang)] = rps
                figures[(side, lang)].append(rps)
            for lang in ratios:
                ratios[lang].append(got[("B", lang)] / got[("A", lang)])
            print(f"  round {r + 1}: " + ", ".join(f"{s} {l} {got[(s, l)]:.0f}"
                                                   for s, l in variants))
        for lang in langs:
            print(f"  {lang}: median A {statistics.median(figures[('A', lang)]):.0f}, "
                  f"median B {statistics.median(figures[('B', lang)]):.0f} req/s; "
                  f"median of the B/A ratios {statistics.median(ratios[lang]):.3f} "
                  f"(min {min(ratios[lang]):.3f}, max {max(ratios[lang]):.3f})")
    finally:
        for s in sides.values():
            s["stack"].stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
