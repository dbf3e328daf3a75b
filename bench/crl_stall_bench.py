#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""CRLs without stalls (issue 19): a stack of its own with N revocations in
the member CA (default 1,000,000), then
  - the first load: seconds from httpd's start to the first published CRL
    with all N entries (the link reads them, signerd replayed its journal);
  - (b) issuance latency, N requests one after another, median and p99:
    idle, then while CRLs of the member CA are produced one after another;
  - the first downloads of /pki/member.crl (each child builds the CRL
    from the revocations, the first time all of them);
  - (a) seconds from a revocation through the real revoke path (the
    member's page, the queue, signerd) to the published /pki/member.crl
    that lists it.
The revocations are filled with bench/bigdata_fill.py's set-based SQL; signerd
learns revocations only from its journal, so the same revocations (request
id, serial, time in whole seconds, reason) are appended to the journal as
REVOKE records with its hash chain before signerd starts again: journal and
database agree, and every CRL is signed.

    crl_stall_bench.py [--revoked N] [--requests K] [--rounds R] [--download] [--builddir build]

Run it from a checkout of main for the figures before (it uses that
checkout's tools/ and sql/)."""

import argparse
import base64
import datetime
import hashlib
import multiprocessing
import os
import random
import re
import select
import shutil
import statistics
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
from accounts import csrf_of  # noqa: E402
from bigdata_fill import fill  # noqa: E402
from issue_bench import Member, csrs  # noqa: E402

ENQUEUE_CRL = ("INSERT INTO signer_requests (kind, ca, payload)"
               " SELECT 'crl', 'member', '\\x'::bytea WHERE NOT EXISTS"
               " (SELECT 1 FROM signer_requests WHERE kind = 'crl' AND ca = 'member'"
               " AND state = 'queued') RETURNING id")


def journal_append(stack, db):
    """The database's revocations as signerd's REVOKE records, chained."""
    path = os.path.join(stack.signer_dir, "journal")
    st = os.stat(path)
    with open(path, "rb") as f:
        last = [ln for ln in f.read().split(b"\n") if ln][-1]
    seq = int(last.split(b" ")[0]) + 1
    chain = bytes.fromhex(last.rsplit(b" ", 1)[1].decode())
    now = int(time.time())
    ans = base64.b64encode(b"\x00").decode()
    db.autocommit = False
    cur = db.cursor(name="journal")
    cur.itersize = 50000
    cur.execute("SELECT r.id, c.ca, c.serial, extract(epoch FROM c.revoked_at)::bigint,"
                " coalesce(c.revoke_reason, 0) FROM certificates c JOIN signer_requests r"
                " ON r.cert_id = c.id AND r.kind = 'revoke' WHERE c.revoked_at IS NOT NULL"
                " ORDER BY r.id")
    n = 0
    with open(path, "a") as f:
        out = []
        for rid, ca, serial, t, reason in cur:
            text = f"{seq} {now} REVOKE {rid} {ca} {'00' * 32} {serial} {t} {reason} {ans}"
            chain = hashlib.sha256(chain + text.encode()).digest()
            out.append(f"{text} {chain.hex()}\n")
            seq += 1
            n += 1
            if len(out) >= 50000:
                f.write("".join(out))
                out = []
        f.write("".join(out))
    cur.close()
    db.rollback()
    db.autocommit = True
    os.chown(path, st.st_uid, st.st_gid)
    return n


def latest_crl(db):
    cur = db.cursor()
    cur.execute("SELECT coalesce(max(crl_number), 0) FROM crls WHERE ca = 'member'")
    return cur.fetchone()[0]


def wait_crl(db, after, entries=None, timeout=600):
    """The number of the first CRL of member above after (with entries)."""
    cur = db.cursor()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cur.execute("SELECT crl_number, entries FROM crls WHERE ca = 'member'"
                    " AND crl_number > %s ORDER BY crl_number DESC LIMIT 1", (after,))
        row = cur.fetchone()
        if row and (entries is None or row[1] >= entries):
            return row[0]
        time.sleep(0.05)
    raise RuntimeError("no CRL in time")


def cpu_seconds(pids=None):
    """CPU seconds so far of the live processes of each kind (PostgreSQL,
    httpd, signerd), from /proc; with pids, of those processes only"""
    out = {"postgres": 0.0, "httpd": 0.0, "signerd": 0.0}
    tck = os.sysconf("SC_CLK_TCK")
    for pid in pids if pids is not None else os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
        except (OSError, ValueError):
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        kind = ("postgres" if comm.startswith("postgres") else
                "httpd" if comm in ("apache2", "httpd") else
                "signerd" if comm.startswith("signerd") else None)
        if kind:
            out[kind] += (int(fields[11]) + int(fields[12])) / tck
    return out


def store_backends(db):
    """the pids of the CRL store thread's sessions (builds that have one)"""
    cur = db.cursor()
    cur.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'cacert-crl-store'")
    return [str(r[0]) for r in cur.fetchall()]


def cpu_line(what, before, after, secs):
    return (f"  CPU {what} ({secs:.0f} s): " + ", ".join(
        f"{k} {after[k] - before[k]:.1f} s" for k in ("postgres", "httpd", "signerd")))


def pct(lat, q):
    lat = sorted(lat)
    return lat[min(len(lat) - 1, max(0, int(round(q * len(lat))) - 1))]


def p99_diff_interval(idle, busy, n=2000, seed=19):
    """The 95 % bootstrap interval of p99(busy) - p99(idle): each phase's
    latencies drawn again with replacement, n times.  An interval that
    holds 0 means the two phases' p99s are not told apart by these
    samples."""
    rnd = random.Random(seed)
    diffs = sorted(pct(rnd.choices(busy, k=len(busy)), 0.99)
                   - pct(rnd.choices(idle, k=len(idle)), 0.99) for _ in range(n))
    return diffs[int(0.025 * n)], diffs[int(0.975 * n) - 1]


def issue_series(m, pool, k, starts=None):
    out = []
    for _ in range(k):
        if starts is not None:
            starts.append(time.time())
        out.append(m.issue(pool.pop()))
    return out


LOG_TIME = re.compile(r"^\[(\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} \d{4})\]")


def crl_windows(stack):
    """From the link's log lines: the time windows (wall clock, seconds)
    in which signerd worked on a CRL (its first ask to its answer) and in
    which the store thread stored one."""
    sign, store = [], []
    for ln in stack.error_log_lines():
        t = LOG_TIME.match(ln)
        if not t:
            continue
        t = datetime.datetime.strptime(t.group(1), "%a %b %d %H:%M:%S.%f %Y").timestamp()
        m = re.search(r"CA21124: .*signed in (\d+) ms.*handed to the CRL store thread in "
                      r"(\d+) ms", ln)
        if m:
            end = t - int(m.group(2)) / 1000
            sign.append((end - int(m.group(1)) / 1000, end))
        m = re.search(r"CA21107: request \d+ \(crl\) done: checked and stored in (\d+) ms", ln)
        if m:
            store.append((t - int(m.group(1)) / 1000, t))
    return sign, store


def slow_requests(stack, starts, lat, spans, q=0.02):
    """Where the slowest q of the requests fell: in signerd's CRL work, in
    a store, in neither; against the share of the time each covers within
    spans (the busy phases: (start, end) on the wall clock)"""
    sign, store = crl_windows(stack)
    cut = sorted(lat)[-max(1, int(len(lat) * q))]

    def hit(ws, a, b):
        return any(x < b and a < y for x, y in ws)

    def share(ws):
        return (sum(max(0.0, min(y, t1) - max(x, t0)) for x, y in ws for t0, t1 in spans)
                / sum(t1 - t0 for t0, t1 in spans))
    slow = [(a, a + d) for a, d in zip(starts, lat) if d >= cut]
    n_sign = sum(1 for a, b in slow if hit(sign, a, b))
    n_store = sum(1 for a, b in slow if hit(store, a, b))
    n_none = sum(1 for a, b in slow if not hit(sign, a, b) and not hit(store, a, b))
    allr = [(a, a + d) for a, d in zip(starts, lat)]
    base_sign = sum(1 for a, b in allr if hit(sign, a, b)) / len(allr)
    base_store = sum(1 for a, b in allr if hit(store, a, b)) / len(allr)
    print(f"  the slowest {len(slow)} requests (>= {cut * 1000:.0f} ms): {n_sign} overlap "
          f"signerd's work on a CRL, {n_store} a store, {n_none} neither (of all requests "
          f"{base_sign * 100:.0f} % and {base_store * 100:.0f} % overlap them; the windows "
          f"cover {share(sign) * 100:.0f} % and {share(store) * 100:.0f} % of the time)",
          flush=True)


def crl_loop(stack, stop, out):
    """CRLs of member one after another until stop: (seconds each, state).
    Each request's end is heard by LISTEN (migration 019's notification),
    not by polling: this runs in a process of its own (side_process), and
    neither its queries nor Python's lock are in the way of the issuance
    being measured."""
    db = psycopg2.connect(**stack.pg_connect_args())
    db.autocommit = True
    cur = db.cursor()
    cur.execute("LISTEN cacert_signer_done")
    while not stop.is_set():
        cur.execute(ENQUEUE_CRL)
        row = cur.fetchone()
        if not row:
            time.sleep(0.05)
            continue
        t0 = time.monotonic()
        while not stop.is_set():
            select.select([db], [], [], 0.5)
            db.poll()
            heard = any(n.payload == str(row[0]) for n in db.notifies)
            db.notifies.clear()
            if not heard:
                continue
            cur.execute("SELECT state FROM signer_requests WHERE id = %s", (row[0],))
            out.append((time.monotonic() - t0, cur.fetchone()[0]))
            break
    db.close()


def downloads(stack, stop, out):
    """A relying party: /pki/member.crl fetched again and again, on a new
    connection each time (so every child builds each new CRL), until stop:
    (seconds each, status, length).  In a process of its own (side_process)."""
    while not stop.is_set():
        t0 = time.monotonic()
        r = requests.get(stack.url + "/pki/member.crl", verify=stack.cert_file)
        out.append((time.monotonic() - t0, r.status_code, len(r.content)))
        time.sleep(0.1)


def side_process(target, stack):
    """target(stack, stop, out) in a process of its own (forked), so that
    the load it drives is not measured against the issuance requests'
    Python lock; returns (stop, finish): set stop, then finish() gives out."""
    ctx = multiprocessing.get_context("fork")
    stop, q = ctx.Event(), ctx.Queue()

    def run():
        out = []
        try:
            target(stack, stop, out)
        finally:
            q.put(out)

    proc = ctx.Process(target=run, daemon=True)
    proc.start()

    def finish():
        stop.set()
        out = q.get(timeout=300)
        proc.join(30)
        return out
    return finish


def revoke_to_crl(stack, m, db, serial, cid):
    """Seconds from the revoke POST to /pki/member.crl listing serial."""
    before = latest_crl(db)
    t0 = time.monotonic()
    r = m.s.post(m.url + "/certs/revoke", verify=m.v, allow_redirects=False,
                 data={"csrf": csrf_of(m.get("/certs/").text), "id": cid})
    assert r.status_code == 303, r.text[:300]
    while True:
        wait_crl(db, before, timeout=60)
        r = requests.get(stack.url + "/pki/member.crl", verify=stack.cert_file)
        t = time.monotonic() - t0
        crl = x509.load_der_x509_crl(r.content)
        if crl.get_revoked_certificate_by_serial_number(serial) is not None:
            return t, len(r.content)
        before = latest_crl(db)


def link_times(stack):
    """Where a CRL's time goes, from the link's log lines (info level) of
    the code that has the CRL store thread: waiting for signerd, the link's
    own part of the answer (catch-up and the copy of the body), and the
    store thread's check, assembly and INSERT."""
    prepared, signed, handed, stored, copied, hashed, asks = [], [], [], [], [], [], []
    off_line = False
    for ln in stack.error_log_lines():
        # a new request's TBS copied on the line and hashed by the store
        # thread (CA21125), since the request's SHA-256 left the line
        # (both by the store thread, "both off the line", since the copy
        # left the line too)
        m = re.search(r"CA21125: request \d+ \(crl\): the TBS copied in (\d+) ms and hashed "
                      r"(?:off the line )?in (\d+) ms", ln)
        if m:
            off_line = "both off the line" in ln
            copied.append(int(m.group(1)))
            hashed.append(int(m.group(2)))
        # "prepared in" (the link's catch-up and SHA-256) since issue 19's
        # CRL line work; older builds log only the other two
        # "(asked N times" since signerd hashes a CRL between other
        # requests (protocol revision 1.2): the line is held per ask only
        m = re.search(r"CA21124: request \d+ \(crl\) (?:prepared in (\d+) ms, )?signed in "
                      r"(\d+) ms(?: \(asked (\d+) times[^)]*\))?, handed to the CRL store "
                      r"thread in (\d+) ms", ln)
        if m:
            if m.group(1) is not None:
                prepared.append(int(m.group(1)))
            signed.append(int(m.group(2)))
            asks.append(int(m.group(3) or 1))
            handed.append(int(m.group(4)))
        m = re.search(r"CA21107: request \d+ \(crl\) done: checked and stored in (\d+) ms",
                      ln)
        if m:
            stored.append(int(m.group(1)))
    if signed and stored:
        # the SHA-256 is in it where CA21125 is not logged
        prep = (f"the link's request (catch-up{'' if copied else ', SHA-256'}) "
                f"{statistics.median(prepared):.0f} ms, " if prepared else "")
        if max(asks) > 1:
            what = (f"signerd's answer {statistics.median(signed):.0f} ms after the first "
                    f"ask, asked {statistics.median(asks):.0f} times (it hashes between other "
                    f"requests; the line is held per ask only)")
        else:
            what = f"signerd {statistics.median(signed):.0f} ms"
        print(f"  per CRL ({len(signed)} signed, {len(stored)} stored; medians): the line "
              f"held for {prep}{what}, the link's hand-over "
              f"{statistics.median(handed):.0f} ms, the store thread "
              f"{statistics.median(stored):.0f} ms", flush=True)
    if copied:
        where = "by the store thread" if off_line else "on the line"
        print(f"  new requests ({len(copied)}, medians): the TBS copied {where} "
              f"{statistics.median(copied):.0f} ms, hashed by the store thread meanwhile "
              f"{statistics.median(hashed):.0f} ms", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--revoked", type=int, default=1000000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--revocations", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1,
                    help="idle and busy phases, alternated this many times")
    ap.add_argument("--download", action="store_true",
                    help="in the busy phases, a relying party downloads the CRL "
                         "every 0.1 s as well")
    args = ap.parse_args()
    print(f"== CRLs without stalls: {args.revoked} revocations in CA member "
          f"({os.path.basename(REPO.rstrip('/'))}, {args.builddir}) ==", flush=True)
    d = tempfile.mkdtemp(prefix="cacert-bench-crlstall-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(args.builddir), port=0,
                              argon2="1 8192 1",
                              extra_conf=["CAcertRegistrationsPerClient 1000"])
    try:
        stack.start()
        db = psycopg2.connect(**stack.pg_connect_args())
        db.autocommit = True
        m = Member(stack, db, 0)
        pool = csrs(2 * args.rounds * args.requests + 2 * args.revocations + 4)
        m.issue(pool.pop())
        t0 = time.monotonic()
        fill(stack, members=2000, certs=args.revoked, revoked=args.revoked, assurances=1000,
             ca_weights={"member": 1.0})
        print(f"  filled the database in {time.monotonic() - t0:.0f} s", flush=True)
        stack.stop_httpd()
        stack.stop_signerd()
        t0 = time.monotonic()
        n = journal_append(stack, db)
        print(f"  appended {n} REVOKE records to signerd's journal in "
              f"{time.monotonic() - t0:.0f} s", flush=True)
        stack.start_signerd()
        before = latest_crl(db)
        db.cursor().execute(ENQUEUE_CRL)
        t0 = time.monotonic()
        stack.start_httpd()
        wait_crl(db, before, entries=n, timeout=900)
        print(f"  after the restart of signerd and httpd: the first CRL with all {n} "
              f"entries published {time.monotonic() - t0:.1f} s after httpd's start",
              flush=True)
        # the first downloads: each child builds the CRL from the
        # revocations (the first time all of them), then keeps it
        took_dl = []
        for _ in range(4):
            t1 = time.monotonic()
            r = requests.get(stack.url + "/pki/member.crl", verify=stack.cert_file)
            took_dl.append(time.monotonic() - t1)
            assert r.status_code == 200, r.status_code
        print(f"  /pki/member.crl ({len(r.content) / 1e6:.1f} MB), four downloads on new "
              f"connections: {', '.join(f'{t:.2f}' for t in took_dl)} s", flush=True)
        m.issue(pool.pop())
        time.sleep(2)
        idle, busy, starts, took, cpu, spans = [], [], [], [], [], []
        sb = store_backends(db)
        rounds = []
        store_cpu = 0.0
        for r in range(args.rounds):
            # an idle phase, then one while CRLs are made back to back; in
            # rounds, so that the spread between rounds of the same phase
            # tells the noise the difference between the phases is set
            # against
            c0, t0 = cpu_seconds(), time.monotonic()
            i_lat = issue_series(m, pool, args.requests)
            c1, t1 = cpu_seconds(), time.monotonic()
            crl_end = side_process(crl_loop, stack)
            if args.download:
                dl_end = side_process(downloads, stack)
            time.sleep(1)
            c2, s2, t2 = cpu_seconds(), cpu_seconds(sb), time.monotonic()
            b_starts = []
            b_lat = issue_series(m, pool, args.requests, b_starts)
            spans.append((b_starts[0], b_starts[-1] + b_lat[-1]))
            c3, s3, t3 = cpu_seconds(), cpu_seconds(sb), time.monotonic()
            crls = crl_end()
            if args.download:
                dls = dl_end()
                ok = [t for t, st, n in dls if st == 200]
                print(f"  round {r + 1}: {len(dls)} downloads of the CRL meanwhile, "
                      f"{len(ok)} answered 200, median {statistics.median(ok):.2f} s, "
                      f"slowest {max(ok):.2f} s" if ok else "  no download answered 200",
                      flush=True)
            b_took = [t for t, st in crls if st == "done"]
            rounds.append((i_lat, b_lat, len(b_took), len(crls) - len(b_took)))
            idle += i_lat
            busy += b_lat
            starts += b_starts
            took += b_took
            cpu.append((c0, c1, t1 - t0, c2, c3, t3 - t2))
            store_cpu += s3["postgres"] - s2["postgres"]
            if args.rounds > 1:
                print(f"  round {r + 1}: idle median {statistics.median(i_lat) * 1000:.0f} ms, "
                      f"p99 {pct(i_lat, 0.99) * 1000:.0f} ms; while CRLs ({len(b_took)} "
                      f"published) median {statistics.median(b_lat) * 1000:.0f} ms, p99 "
                      f"{pct(b_lat, 0.99) * 1000:.0f} ms", flush=True)
            time.sleep(2)
        print(f"  (b) issuance, {len(idle)} one after another, no CRL in progress: "
              f"median {statistics.median(idle) * 1000:.0f} ms, p99 "
              f"{pct(idle, 0.99) * 1000:.0f} ms", flush=True)
        print(f"  (b) issuance while CRLs of {n} entries are produced one after another "
              f"({len(took)} published, {sum(r[3] for r in rounds)} not; each "
              f"{statistics.median(took) if took else 0:.2f} s from queued to stored): "
              f"median {statistics.median(busy) * 1000:.0f} ms, p99 "
              f"{pct(busy, 0.99) * 1000:.0f} ms", flush=True)
        if args.rounds > 1:
            ip = [pct(r[0], 0.99) * 1000 for r in rounds]
            bp = [pct(r[1], 0.99) * 1000 for r in rounds]
            print(f"  p99 by round, idle: {', '.join(f'{x:.0f}' for x in ip)} ms (spread "
                  f"{max(ip) - min(ip):.0f} ms); while CRLs: "
                  f"{', '.join(f'{x:.0f}' for x in bp)} ms; the difference of the pooled "
                  f"p99s: {(pct(busy, 0.99) - pct(idle, 0.99)) * 1000:+.0f} ms", flush=True)
        lo, hi = p99_diff_interval(idle, busy)
        print(f"  the difference of the pooled p99s (while CRLs - idle), 95 % bootstrap "
              f"interval: {lo * 1000:+.1f} .. {hi * 1000:+.1f} ms (0 inside: not told "
              f"apart from noise)", flush=True)
        for what, a, b, secs in (("while idle", 0, 1, 2), ("while CRLs", 3, 4, 5)):
            before = {k: sum(c[a][k] for c in cpu) for k in cpu[0][a]}
            after = {k: sum(c[b][k] for c in cpu) for k in cpu[0][b]}
            print(cpu_line(what, before, after, sum(c[secs] for c in cpu)))
        slow_requests(stack, starts, busy, spans)
        if sb and took:
            print(f"  the CRL store's PostgreSQL session: {store_cpu:.1f} CPU-s in the busy "
                  f"phase, {store_cpu / len(took) * 1000:.0f} ms per CRL", flush=True)
        time.sleep(2)
        for i in range(args.revocations):
            m.issue(pool.pop())
            cur = db.cursor()
            cur.execute("SELECT id, serial FROM certificates WHERE member_id ="
                        " (SELECT member_id FROM emails WHERE address = 'bench0@example.org')"
                        " AND revoked_at IS NULL ORDER BY id DESC LIMIT 1")
            cid, serial = cur.fetchone()
            t, size = revoke_to_crl(stack, m, db, int(serial, 16), cid)
            print(f"  (a) revocation {i + 1}: in the published CRL ({size / 1e6:.1f} MB) "
                  f"{t:.2f} s after the revoke POST", flush=True)
        link_times(stack)
        cur = db.cursor()
        cur.execute("SELECT state, count(*) FROM signer_requests WHERE kind = 'crl'"
                    " GROUP BY state ORDER BY state")
        print("  CRL requests: " + ", ".join(f"{s} {c}" for s, c in cur.fetchall()))
        db.close()
    finally:
        stack.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
