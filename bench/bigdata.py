#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""CAcert-sized data: starts its own stack, registers --heavy members through
the web, fills the database (bench/bigdata_fill.py) with 300,000 members,
3,000,000 certificates (300,000 revoked) and 1,000,000 assurances, times
--scale, gives each heavy member hundreds of certificates and assurances,
and measures with wrk (keep-alive, loopback):

  - GET /account/, /wot/points, /wot/ and /certs/ logged in as a heavy
    member (bar: >= 2,000 req/s);
  - GET /wot/stats uncached (CAcertStatsCacheTime 0): the first render and
    req/s; and cached (CAcertStatsCacheTime 5m) at the end;
  - OCSP POST for --ocsp-requests certificates drawn at random from all of
    them (every CA), from one file of DER requests (bench/ocsp/packed.lua):
    cache cold (each request a serial not asked before), then warm (every
    one of them answered once, then asked at random), each against the same
    httpd serving a static file as large as an answer, in the same run (bar:
    warm >= 0.7x static).  The OCSP cache (shmcb) is sized for the requests
    drawn; the bench prints what the cache held.

    bench/bigdata.py [--scale 0.01] [--seconds 10] [--dir DIR] [--keep]

The stack lives in DIR (default: a new folder under /tmp), removed at the
end unless --keep.  Bounded: each wrk run lasts --seconds."""

import argparse
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import psycopg2  # noqa: E402
import requests  # noqa: E402
from cryptography import x509  # noqa: E402

import cacertstack  # noqa: E402
from bigdata_fill import fill  # noqa: E402
from ocsp_bench import Checker, load_cert, ocsp_request_der, ocsp_status, status_delta  # noqa: E402
from web_bench import login_member, register_member  # noqa: E402

LUA = os.path.join(REPO, "bench", "ocsp", "packed.lua")
FULL = dict(members=300000, certs=3000000, revoked=300000, assurances=1000000)


def log(msg):
    print(f"bigdata: {msg}", file=sys.stderr, flush=True)


def wrk(url, seconds, conns, headers=(), script_args=None, threads=2):
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--latency",
           "--timeout", "10s"]
    for h in headers:
        cmd += ["-H", h]
    if script_args:
        cmd += ["-s", LUA, url, "--"] + [str(a) for a in script_args]
    else:
        cmd += [url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 300)
    out = p.stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({p.returncode}): {out}{p.stderr}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return dict(rps=float(m.group(1)), total=int(re.search(r"(\d+) requests in", out).group(1)),
                p50=re.search(r"(?m)^\s+50%\s+(\S+)", out).group(1),
                p99=re.search(r"(?m)^\s+99%\s+(\S+)", out).group(1),
                non2xx=int(non2xx.group(1)) if non2xx else 0,
                errors=errors.group(0) if errors else "")


def row(name, w, static=None):
    ratio = f"  {w['rps'] / static:5.2f}x static" if static else ""
    return (f"  {name:48s} {w['rps']:9.1f} req/s  p50 {w['p50']:>8s}  p99 {w['p99']:>8s}{ratio}"
            + (f"  non-2xx/3xx: {w['non2xx']}" if w["non2xx"] else "")
            + (f"  {w['errors']}" if w["errors"] else ""))


def member_id(stack, email):
    return int(stack.psql(f"SELECT member_id FROM emails WHERE address = '{email}'").stdout)


def ocsp_requests(stack, n, seed, path):
    """n requests for certificates drawn at random over all of them: writes
    them end to end in path; returns [(der, ca, serial int, 'good'|'revoked')]."""
    web = os.path.join(stack.ca_dir, "web")
    conn = psycopg2.connect(**stack.pg_connect_args(), connect_timeout=10)
    try:
        cur = conn.cursor()
        cur.execute("SELECT min(id), max(id) FROM certificates")
        lo, hi = cur.fetchone()
        rng = random.Random(seed)
        ids = rng.sample(range(lo, hi + 1), min(n, hi - lo + 1))
        cur.execute("SELECT ca, serial, revoked_at IS NOT NULL FROM certificates"
                    " WHERE id = ANY(%s)", (ids,))
        rows = cur.fetchall()
    finally:
        conn.close()
    rng.shuffle(rows)
    hashes = {}
    out = []
    with open(path, "wb") as f:
        for ca, serial, rev in rows:
            if ca not in hashes:
                issuer = load_cert(os.path.join(web, f"{ca}.crt"))
                hashes[ca] = (hashlib.sha1(issuer.subject.public_bytes()).digest(),
                              x509.SubjectKeyIdentifier.from_public_key(
                                  issuer.public_key()).digest)
            sb = bytes.fromhex(serial)
            der = ocsp_request_der(*hashes[ca], sb)
            f.write(der)
            out.append((der, ca, int.from_bytes(sb, "big"), "revoked" if rev else "good"))
    return out


def check_answers(stack, url, reqs, limit):
    """POST the first `limit` requests one by one; every answer right."""
    web = os.path.join(stack.ca_dir, "web")
    checkers = {}
    sizes = []
    for der, ca, sn, want in reqs[:limit]:
        if ca not in checkers:
            checkers[ca] = Checker(load_cert(os.path.join(web, f"ocsp-{ca}.crt")), {})
        checkers[ca].want[sn] = want
        r = requests.post(url, data=der, timeout=30,
                          headers={"Content-Type": "application/ocsp-request"})
        assert r.status_code == 200, r.status_code
        err = checkers[ca].check(r.content, sn)
        assert not err, err
        sizes.append(len(r.content))
    return sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--scale", type=float, default=1.0,
                    help="share of CAcert's size (0.01: a quick run)")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--heavy", type=int, default=2, help="members made through the web")
    ap.add_argument("--heavy-certs", type=int, default=300)
    ap.add_argument("--heavy-given", type=int, default=300)
    ap.add_argument("--ocsp-requests", type=int, default=None,
                    help="distinct OCSP requests (default: 10%% of the certificates, "
                         "at least 2,000)")
    ap.add_argument("--answer-bytes", type=int, default=4000,
                    help="room per answer when sizing the OCSP cache")
    ap.add_argument("--dir", default=None, help="the stack's folder (default: new under /tmp)")
    ap.add_argument("--keep", action="store_true", help="leave the stack's folder")
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args()
    size = {k: max(1, int(v * args.scale)) for k, v in FULL.items()}
    size["members"] = max(size["members"], 50)
    nreq = args.ocsp_requests or max(5000, size["certs"] // 10)
    t_start = time.monotonic()

    d = args.dir or tempfile.mkdtemp(prefix="cacert-bigdata-", dir="/tmp")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    # where www-data reaches it whatever DIR is
    static_dir = tempfile.mkdtemp(prefix="cacert-bigdata-static-", dir="/tmp")
    os.chmod(static_dir, 0o755)
    static_file = os.path.join(static_dir, "resp.der")
    with open(static_file, "wb") as f:
        f.write(b"\0")
    os.chmod(static_file, 0o644)
    static_port = cacertstack.free_port()
    cache_bytes = max(4 << 20, int(nreq * args.answer_bytes * 1.3))
    stack_dir = os.path.join(d, "stack")
    conf = [
        "CAcertStatsCacheTime 0",
        f'CAcertOCSPCache "shmcb:{os.path.join(stack_dir, "run", "ocsp_bigdata")}'
        f'({cache_bytes})"',
        f"Listen 127.0.0.1:{static_port} http",
        f"<VirtualHost 127.0.0.1:{static_port}>",
        "    ServerName localhost",
        "    SSLEngine off",
        f'    Alias /bench-static "{static_file}"',
        f'    <Directory "{static_dir}">',
        "        Require all granted",
        "    </Directory>",
        "</VirtualHost>"]
    stack = cacertstack.Stack(stack_dir, builddir=os.path.abspath(args.builddir), port=0,
                              argon2="1 8192 1", extra_conf=conf)
    try:
        stack.start()
        v = stack.cert_file
        # -- the heavy members: registered and confirmed through the web
        heavy = []
        for i in range(args.heavy):
            s, data = register_member(stack, f"heavy{i}@bigdata.example.org")
            heavy.append((s, data, member_id(stack, data["email"])))
        # -- the fill
        log(f"filling: {size} + {args.heavy} heavy members")
        info = fill(stack, heavy=[h[2] for h in heavy], heavy_certs=args.heavy_certs,
                    heavy_given=args.heavy_given, seed=args.seed, log=log, **size)
        db_size = stack.psql("SELECT pg_size_pretty(pg_database_size('cacert'))").stdout.strip()
        s, data, mid = heavy[0]
        session, _ = login_member(stack, s, data)
        cookie = [f"Cookie: __Host-cacert-session={session}"]
        for path, want in (("/account/", "<main"), ("/wot/points", "up to"),
                           ("/certs/", "<table"), ("/wot/stats", "<svg")):
            r = s.get(stack.url + path, verify=v, timeout=120)
            assert r.status_code == 200 and want in r.text, (path, r.status_code, r.text[:1000])
        mine = stack.psql(f"SELECT (SELECT count(*) FROM certificates WHERE member_id = {mid})"
                          f" || ' certificates, ' || (SELECT count(*) FROM assurances"
                          f" WHERE assurer_id = {mid}) || ' assurances given, '"
                          f" || (SELECT count(*) FROM assurances WHERE assuree_id = {mid})"
                          f" || ' received'").stdout.strip()
        print(f"CAcert-sized data (scale {args.scale}): {info['members']} members, "
              f"{info['certificates']} certificates ({info['revoked']} revoked), "
              f"{info['assurances']} assurances; filled in {info['seconds']} s; "
              f"database {db_size}")
        print(f"  fill steps (s): " + ", ".join(f"{k} {v}" for k, v in info["steps"].items()))
        print(f"  measured member: {mine}; wrk -t2 -c{args.connections} -d{args.seconds}s, "
              f"keep-alive, loopback, {os.cpu_count()} cores")
        sec, c = args.seconds, args.connections

        # -- the pages
        print(row("GET /account/ (logged-in overview)",
                  wrk(stack.url + "/account/", sec, c, headers=cookie)), flush=True)
        print(row("GET /wot/points (logged in)",
                  wrk(stack.url + "/wot/points", sec, c, headers=cookie)), flush=True)
        print(row("GET /wot/ (logged in)", wrk(stack.url + "/wot/", sec, c, headers=cookie)),
              flush=True)
        print(row("GET /certs/ (logged in, the certificate list)",
                  wrk(stack.url + "/certs/", sec, c, headers=cookie)), flush=True)
        firsts = []
        for _ in range(3):
            t0 = time.monotonic()
            r = requests.get(stack.url + "/wot/stats", verify=v, timeout=300)
            firsts.append(time.monotonic() - t0)
            assert r.status_code == 200
        print(f"  GET /wot/stats uncached (CAcertStatsCacheTime 0): one render "
              f"{min(firsts) * 1000:.0f}-{max(firsts) * 1000:.0f} ms", flush=True)
        print(row("GET /wot/stats uncached, -c4", wrk(stack.url + "/wot/stats", sec, 4)),
              flush=True)

        # -- OCSP
        ours = stack.http_url.replace("localhost", "127.0.0.1") + "/ocsp"
        reqfile = os.path.join(d, "ocsp-requests.der")
        t0 = time.monotonic()
        reqs = ocsp_requests(stack, nreq, args.seed, reqfile)
        log(f"{len(reqs)} OCSP requests in {reqfile} ({time.monotonic() - t0:.1f} s)")
        # a few answers checked, taken from the end: the cold run starts at the front
        sizes = check_answers(stack, ours, reqs[-200:], 200)
        with open(static_file, "wb") as f:
            f.write(requests.post(ours, data=reqs[-1][0], timeout=30,
                                  headers={"Content-Type": "application/ocsp-request"}).content)
        static_url = f"http://127.0.0.1:{static_port}/bench-static"
        n_rev = sum(1 for r in reqs if r[3] == "revoked")
        cas = sorted({r[1] for r in reqs})
        print(f"  OCSP: {len(reqs)} distinct requests ({n_rev} revoked; CAs {', '.join(cas)}) "
              f"drawn over all {info['certificates']} certificates; 200 answers checked "
              f"right ({min(sizes)}-{max(sizes)} bytes); cache shmcb {cache_bytes >> 20} MB",
              flush=True)
        st0 = ocsp_status(stack)
        cold = wrk(ours, sec, c, script_args=(reqfile, "seq", 2))
        st1 = ocsp_status(stack)
        static1 = wrk(static_url, sec, c)
        print(row("OCSP POST, cache cold (each serial new)", cold, static1["rps"]))
        print(f"    cold run: {cold['total']} requests of {len(reqs)} "
              f"({'wrapped: some asked twice' if cold['total'] > len(reqs) else 'none twice'});"
              f" cache {status_delta(st0, st1)}", flush=True)
        # every request answered once, then at random
        t0 = time.monotonic()
        warm_secs = int(len(reqs) / max(cold["rps"], 1) * 1.2) + 5
        wrk(ours, warm_secs, c, script_args=(reqfile, "seq", 2))
        st2 = ocsp_status(stack)
        log(f"warmed in {time.monotonic() - t0:.0f} s: {status_delta(st1, st2)}")
        warm = wrk(ours, sec, c, script_args=(reqfile, "random"))
        st3 = ocsp_status(stack)
        static2 = wrk(static_url, sec, c)
        print(row("OCSP POST, cache warm (random over all drawn)", warm, static2["rps"]))
        print(row(f"static file ({os.path.getsize(static_file)} bytes, same httpd)", static2))
        print(f"    warm run: cache {status_delta(st2, st3)}")
        st = ocsp_status(stack)
        if st:
            print("    /ocsp-status at the end: " + "; ".join(f"{k}: {v}" for k, v in st.items()))
        bar = warm["rps"] / static2["rps"]
        print(f"    bar: warm >= 0.7x static: {bar:.2f}x {'met' if bar >= 0.7 else 'MISSED'}"
              + ("" if len(reqs) >= info["certificates"] else
                 f" (warm over {len(reqs)} of {info['certificates']} serials drawn at random; "
                 f"all {info['certificates']} would need ~"
                 f"{int(info['certificates'] * args.answer_bytes * 1.3) >> 20} MB of cache)"),
              flush=True)

        # -- the statistics page cached, as deployed (a restart)
        stack.restart(extra_conf=[x for x in conf if not x.startswith("CAcertStatsCacheTime")]
                      + ["CAcertStatsCacheTime 5m"])
        requests.get(stack.url + "/wot/stats", verify=v, timeout=300)
        print(row("GET /wot/stats cached (CAcertStatsCacheTime 5m)",
                  wrk(stack.url + "/wot/stats", sec, c)))
        print(f"  (whole bench: {time.monotonic() - t_start:.0f} s)")
    finally:
        stack.stop()
        if not args.keep:
            # the database may live in a side folder (cacertstack: when the
            # service users cannot reach DIR)
            if stack.shared and os.path.abspath(stack.shared) != os.path.abspath(stack.dir):
                shutil.rmtree(stack.shared, ignore_errors=True)
            shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(static_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
