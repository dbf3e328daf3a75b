#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Page A/B: the logged-in overview page (GET /account/) of two builds side
by side, to tell a change's effect from a noisy machine.  Each tree (its
build/, conf/, templates/) gets a stack of its own with one logged-in
member; then wrk runs against A and B in turns (the order flips every
round).  Prints each round and the median of the B/A ratios.  With --lang,
B's page is asked for in that language (its chooser cookie), A's in English.
--page (repeatable) measures other pages than /account/; --heavy SCALE
fills each side's database as bench/bigdata.py does at that scale, the
member measured being one of its heavy members (hundreds of certificates
and assurances given: the cost per row of /certs/ and /wot/points).
With --same, B's migrations are applied to A's database and A's stack is
then restarted with B's build and templates, and
every page measured must come out byte-identical, in English and in every
language of B's po/.

  bench/page_ab.py --a /path/to/old/tree [--b this tree] [--lang fr]
                   [--page /wot/points --page /certs/] [--heavy 0.001]"""

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
import requests  # noqa: E402
from web_bench import login_member, member_session, register_member, wrk  # noqa: E402


def fetch_pages(side, pages, langs):
    st = side["stack"]
    cookies = {"__Host-cacert-session": side["cookie"].split("=", 1)[1]}
    out = {}
    for page in pages:
        for lang in langs:
            r = requests.get(st.url + page, verify=st.cert_file, timeout=60,
                             cookies=dict(cookies, **({"__Host-cacert-lang": lang}
                                                      if lang != "en" else {})))
            assert r.status_code == 200, (page, lang, r.status_code)
            out[(page, lang)] = r.content
    return out


def same_pages(sides, pages, langs):
    """A's stack, A's build then B's: the same bytes for every page"""
    a = sides["A"]
    before = fetch_pages(a, pages, langs)
    st = a["stack"]
    st.builddir = os.path.join(sides["B"]["tree"], "build")
    st.repo = sides["B"]["tree"]
    # B's migrations first, as an upgrade does (cacert-migrate, then httpd)
    st.sqldir = os.path.join(st.repo, "sql")
    st.migrate()
    st.restart()
    after = fetch_pages(a, pages, langs)
    for k in before:
        same = before[k] == after[k]
        print(f"  same data, A's build then B's: {k[0]} {k[1]} {len(before[k])} bytes: "
              + ("identical" if same else "DIFFERENT"))
        if not same:
            import difflib
            for line in list(difflib.unified_diff(before[k].decode().splitlines(),
                                                  after[k].decode().splitlines(),
                                                  lineterm=""))[:40]:
                print("    " + line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="tree A (the one before)")
    ap.add_argument("--b", default=REPO, help="tree B (default: this one)")
    ap.add_argument("--lang", action="append", default=[],
                    help="also measure the page in this language (repeatable)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--page", action="append", default=[],
                    help="a page to measure (repeatable; default /account/)")
    ap.add_argument("--heavy", type=float, default=None, metavar="SCALE",
                    help="fill each database at this share of CAcert's size, measuring a "
                         "heavy member (bench/bigdata.py)")
    ap.add_argument("--same", action="store_true",
                    help="at the end: B's build on A's data gives the same pages as A's")
    args = ap.parse_args()
    pages = args.page or ["/account/"]
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
            if args.heavy is None:
                _, session, _, _ = member_session(st, email=f"bench-{name.lower()}@example.org")
            else:
                from bigdata import FULL
                from bigdata_fill import fill
                s, data = register_member(st, f"heavy-{name.lower()}@bigdata.example.org")
                mid = int(st.psql(f"SELECT member_id FROM emails"
                                  f" WHERE address = '{data['email']}'").stdout)
                size = {k: max(1, int(v * args.heavy)) for k, v in FULL.items()}
                size["members"] = max(size["members"], 50)
                fill(st, heavy=[mid], **size)
                session, _ = login_member(st, s, data)
            sides[name]["cookie"] = f"Cookie: __Host-cacert-session={session}"
        langs = ["en"] + args.lang
        variants = [(side, lang, page) for page in pages for lang in langs for side in "AB"]
        print(f"page A/B ({', '.join(pages)}){' heavy member, scale ' + str(args.heavy) if args.heavy is not None else ''}, wrk -t2 -c{args.connections} -d{args.seconds}s per run, "
              f"{args.rounds} rounds, order flipped every round, {os.cpu_count()} cores")
        print(f"  A = {sides['A']['tree']}\n  B = {sides['B']['tree']}")
        figures = {v: [] for v in variants}
        ratios = {(lang, page): [] for page in pages for lang in langs}
        for r in range(args.rounds):
            order = variants if r % 2 == 0 else list(reversed(variants))
            got = {}
            for side, lang, page in order:
                st = sides[side]["stack"]
                cookie = sides[side]["cookie"] + (f"; __Host-cacert-lang={lang}"
                                                  if lang != "en" else "")
                rps, _, _, non2xx, errors = wrk(st.url + page, args.seconds,
                                                args.connections, headers=[cookie])
                assert not non2xx, (side, lang, page, non2xx, errors)
                got[(side, lang, page)] = rps
                figures[(side, lang, page)].append(rps)
            for lang, page in ratios:
                ratios[(lang, page)].append(got[("B", lang, page)] / got[("A", lang, page)])
            print(f"  round {r + 1}: " + ", ".join(f"{s} {p} {l} {got[(s, l, p)]:.0f}"
                                                   for s, l, p in variants), flush=True)
        for lang, page in ratios:
            rt = ratios[(lang, page)]
            print(f"  {page} {lang}: median A {statistics.median(figures[('A', lang, page)]):.0f}, "
                  f"median B {statistics.median(figures[('B', lang, page)]):.0f} req/s; "
                  f"median of the B/A ratios {statistics.median(rt):.3f} "
                  f"(min {min(rt):.3f}, max {max(rt):.3f})")
        if args.same:
            same_pages(sides, pages, ["en"] + sorted(
                f[:-3].replace("_", "-").lower() for f in os.listdir(os.path.join(args.b, "po"))
                if f.endswith(".po")))
    finally:
        for s in sides.values():
            s["stack"].stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
