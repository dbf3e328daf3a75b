#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Issuance benchmark: its own stack (httpd, PostgreSQL, the pty line and
signerd), one member with 10 points, then
  - latency: N requests one after another (idle), from the POST of the
    request form to the answer that leads to the certificate page: median
    and p99;
  - bytes on the line per certificate (both directions, from the relay);
  - throughput: the same with C members asking at once.
Run once with the line unpaced (a pty) and once paced like a 115200-baud
serial line.  --token: the SubRoot keys on a SoftHSM token, signed through
PKCS#11.  Bounded by --requests."""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from urllib.parse import urljoin

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))

import requests  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

import cacertstack  # noqa: E402
from accounts import PASSWORD, csrf_of, member_data  # noqa: E402


def csrs(n):
    out = []
    for _ in range(n):
        k = ec.generate_private_key(ec.SECP256R1())
        out.append(x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")]))
            .sign(k, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    return out


class Member:
    def __init__(self, stack, db, n):
        self.s = requests.Session()
        self.v = stack.cert_file
        self.url = stack.url
        data = member_data(email=f"bench{n}@example.org")
        r = self.get("/account/register")
        r = self.s.post(self.url + "/account/register", verify=self.v,
                        data=dict(data, csrf=csrf_of(r.text)))
        assert r.status_code == 200, r.text[:300]
        link = [l for l in stack.wait_for_mail(data["email"]).links if "confirm?" in l][0]
        r = self.s.get(link, verify=self.v)
        self.s.post(self.url + "/account/confirm", verify=self.v, data={
            "csrf": csrf_of(r.text), "id": re.search(r'name="id" value="(\d+)"', r.text).group(1),
            "code": link.split("code=")[1]})
        cur = db.cursor()
        cur.execute("SELECT member_id FROM emails WHERE address = %s", (data["email"],))
        mid = cur.fetchone()[0]
        cur.execute("INSERT INTO members (given_name, family_name, dob, password_hash)"
                    " VALUES ('A', 'B', '1970-01-01', 'x') RETURNING id")
        aid = cur.fetchone()[0]
        cur.execute("INSERT INTO assurances (assurer_id, assuree_id, points) VALUES (%s, %s, 10)",
                    (aid, mid))
        r = self.get("/account/login")
        r = self.s.post(self.url + "/account/login", verify=self.v, allow_redirects=False,
                        data={"csrf": csrf_of(r.text), "email": data["email"],
                              "password": PASSWORD})
        assert r.status_code == 303
        self.token = csrf_of(self.get("/certs/new").text)

    def get(self, path, **kw):
        return self.s.get(self.url + path, verify=self.v, **kw)

    def issue(self, csr):
        """Seconds from the POST to the certificate page's address."""
        t0 = time.perf_counter()
        r = self.s.post(self.url + "/certs/new", verify=self.v, allow_redirects=False,
                        data={"csrf": self.token, "profile": "client", "email0": "yes",
                              "md": "sha256", "csr": csr})
        assert r.status_code == 303, r.text[:500]
        loc = urljoin(self.url, r.headers["Location"])    # a path (cacert_redirect)
        while True:
            r = self.s.get(loc, verify=self.v, allow_redirects=False)
            if r.status_code == 303 and "/certs/view" in r.headers["Location"]:
                return time.perf_counter() - t0
            assert r.status_code == 200, r.text[:300]


def at_once(work, items):
    """work(item) for every item, each in a thread of its own, all at once:
    (seconds until the last is done, the exceptions they raised)."""
    errors = []

    def guarded(item):
        try:
            work(item)
        except Exception as e:          # reported by the caller
            errors.append(e)
    threads = [threading.Thread(target=guarded, args=(i,)) for i in items]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, errors


def run(args, baud):
    d = tempfile.mkdtemp(prefix="cacert-bench-issue-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(args.builddir), port=0,
                              argon2="1 8192 1",
                              extra_conf=["CAcertRegistrationsPerClient 1000"],
                              token=args.token)
    stack.relay_baud = baud
    try:
        stack.start()
        import psycopg2
        db = psycopg2.connect(**stack.pg_connect_args())
        db.autocommit = True
        m = Member(stack, db, 0)
        m.issue(csrs(1)[0])                            # warm up: the first CRLs go out too
        time.sleep(1)
        pool = csrs(args.requests + args.concurrency * args.per_client)
        stack.relay("reset-stats")
        lat = [m.issue(pool.pop()) for _ in range(args.requests)]
        stats = stack.relay("stats")
        to_signer, to_link = (int(x.split("=")[1]) for x in stats.split())
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(round(0.99 * len(lat))) - 1)]
        line = f"pty paced to {baud} baud" if baud else "pty, unpaced"
        line += ", SubRoot keys on a SoftHSM token" if args.token else ", SubRoot keys in files"
        print(f"  {line}: {args.requests} certificates one after another: median "
              f"{statistics.median(lat) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
              f"max {lat[-1] * 1000:.1f} ms")
        print(f"    bytes on the line per certificate: {to_signer / args.requests:.0f} to signerd"
              f" + {to_link / args.requests:.0f} back = "
              f"{(to_signer + to_link) / args.requests:.0f}")
        members = [Member(stack, db, i + 1) for i in range(args.concurrency)]

        def worker(mm):
            for _ in range(args.per_client):
                mm.issue(pool.pop())
        dt, errors = at_once(worker, members)
        n = args.concurrency * args.per_client
        print(f"    throughput: {n} certificates for {args.concurrency} members at once in "
              f"{dt:.2f} s = {n / dt:.1f} certificates/s" + (f" ({len(errors)} errors: {errors[0]})"
                                                            if errors else ""))
        db.close()
    finally:
        stack.stop()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--per-client", type=int, default=25)
    ap.add_argument("--token", action="store_true",
                    help="the SubRoot keys on a SoftHSM token (PKCS#11), not in files")
    ap.add_argument("--unpaced-only", action="store_true")
    args = ap.parse_args()
    print("== certificate issuance: request form -> signer link -> signerd -> page ==")
    run(args, 0)
    if not args.unpaced_only:
        run(args, 115200)


if __name__ == "__main__":
    main()
