#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""OpenPGP key signing benchmark: its own stack (httpd, PostgreSQL, the pty
line, signerd with the CA's OpenPGP key), one member with 50 points, an
Ed25519 key with two user IDs made by gpg, then N rounds one after another
of: upload the key, look at its page, choose both user IDs, wait for the
signed key -- the median (and p90) time from the upload's POST to the page
that offers the signed key, and the bytes on the line per request (both
directions, from the relay).  Run unpaced and paced like a 115200-baud
serial line.  Bounded by --requests."""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from urllib.parse import urljoin

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import cacertstack  # noqa: E402
import pgphelp  # noqa: E402
from issue_bench import Member  # noqa: E402
from accounts import csrf_of  # noqa: E402


def one_round(m, asc):
    t0 = time.perf_counter()
    r = m.get("/certs/openpgp")
    r = m.s.post(m.url + "/certs/openpgp", verify=m.v, allow_redirects=False,
                 data={"csrf": csrf_of(r.text), "key": asc},
                 files={"dummy": ("", b"", "application/octet-stream")})
    assert r.status_code == 303, r.text[:500]
    page = m.s.get(urljoin(m.url, r.headers["Location"]), verify=m.v)
    key_id = re.search(r'name="id" value="(\d+)"', page.text).group(1)
    r = m.s.post(m.url + "/certs/openpgp_key", verify=m.v, allow_redirects=False,
                 data={"csrf": csrf_of(page.text), "id": key_id, "uid0": "yes",
                       "uid1": "yes"})
    assert r.status_code == 303, r.text[:500]
    loc = urljoin(m.url, r.headers["Location"])       # a path (cacert_redirect)
    while True:
        r = m.s.get(loc, verify=m.v, allow_redirects=False)
        if r.status_code == 303 and "signed=" in r.headers["Location"]:
            return time.perf_counter() - t0
        assert r.status_code == 200, r.text[:300]


def run(args, baud):
    d = tempfile.mkdtemp(prefix="cacert-bench-pgp-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(args.builddir), port=0,
                              argon2="1 8192 1",
                              extra_conf=["CAcertRegistrationsPerClient 1000"])
    stack.relay_baud = baud
    home = pgphelp.new_home()
    try:
        stack.start()
        import psycopg2
        db = psycopg2.connect(**stack.pg_connect_args())
        db.autocommit = True
        m = Member(stack, db, 0)
        cur = db.cursor()
        cur.execute("SELECT member_id FROM emails WHERE address = 'bench0@example.org'")
        mid = cur.fetchone()[0]
        cur.execute("UPDATE members SET given_name = 'Alice', middle_name = '',"
                    " family_name = 'Example', suffix = '' WHERE id = %s", (mid,))
        for i in range(2):
            cur.execute("INSERT INTO members (given_name, family_name, dob, password_hash)"
                        " VALUES ('A', 'B', '1970-01-01', 'x') RETURNING id")
            cur.execute("INSERT INTO assurances (assurer_id, assuree_id, points)"
                        " VALUES (%s, %s, 35)", (cur.fetchone()[0], mid))
        m = relogin(stack, "bench0@example.org")   # the session carries the name
        fpr = pgphelp.make_key(home, ["Alice Example <bench0@example.org>",
                                      "<bench0@example.org>"])
        asc = pgphelp.export(home, fpr).decode()
        one_round(m, asc)                   # warm up
        stack.relay("reset-stats")
        lat = sorted(one_round(m, asc) for _ in range(args.requests))
        stats = stack.relay("stats")
        to_signer, to_link = (int(x.split("=")[1]) for x in stats.split())
        p90 = lat[min(len(lat) - 1, int(round(0.9 * len(lat))) - 1)]
        line = f"pty paced to {baud} baud" if baud else "pty, unpaced"
        print(f"  {line}: {args.requests} keys (2 user IDs each), upload -> signed key: "
              f"median {statistics.median(lat) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms, "
              f"max {lat[-1] * 1000:.1f} ms")
        print(f"    bytes on the line per request: {to_signer / args.requests:.0f} to signerd"
              f" + {to_link / args.requests:.0f} back = "
              f"{(to_signer + to_link) / args.requests:.0f} (heartbeats included)")
        db.close()
    finally:
        pgphelp.remove_home(home)
        stack.stop()
        shutil.rmtree(d, ignore_errors=True)


def relogin(stack, email):
    import requests
    from accounts import PASSWORD
    m = Member.__new__(Member)
    m.s = requests.Session()
    m.v = stack.cert_file
    m.url = stack.url
    r = m.get("/account/login")
    r = m.s.post(m.url + "/account/login", verify=m.v, allow_redirects=False,
                 data={"csrf": csrf_of(r.text), "email": email, "password": PASSWORD})
    assert r.status_code == 303
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--requests", type=int, default=30)
    args = ap.parse_args()
    print("== OpenPGP key signing: upload -> choice -> signer link -> signerd (gpg) -> page ==")
    run(args, 0)
    run(args, 115200)


if __name__ == "__main__":
    main()
