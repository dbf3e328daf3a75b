#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""OCSP benchmark: mod_cacert_ocsp against other responders, side by side.

Starts its own stack, fills the database with --certs (100,000) certificates
of CA "member" (10% revoked) in bulk, builds --requests (1,000) OCSP
requests (DER, one SHA-1 CertID, no nonce) for random ones of them, and
measures with wrk (-t2 -cN, keep-alive where the server allows it, loopback;
bench/ocsp/post.lua and get.lua pick a random request each time):

  - ours: mod_cacert_ocsp over plain HTTP, POST and GET, cache warmed by one
    pass over the requests; plus a short run at --wide connections (256);
  - openssl ocsp -index (the same certificates in an index.txt), -multi 2,
    POST and (OpenSSL 3 answers it too) GET, a fresh responder per run;
  - cfssl ocspserve (Debian golang-cfssl) with all responses pre-signed
    here with the same responder key, POST, and GET when it answers GET
    (Debian's 2016 cfssl does not: it is reported, not measured);
  - the same httpd serving a static file as large as one of our answers, on
    a plain-HTTP virtual host of its own (the ceiling for ours).

Every responder first answers all the requests once (POST) and every answer
is parsed and checked with python3-cryptography: SUCCESSFUL, signed by the
responder certificate, the asked serial, good or revoked as in the database
(so everyone in the table answers correctly).  Bounded: each run lasts
--seconds (default 10); every subprocess has a timeout; everything started
is stopped in finally blocks."""

import argparse
import base64
import datetime
import hashlib
import io
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))

import psycopg2  # noqa: E402
import requests  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding  # noqa: E402
from cryptography.x509 import ocsp  # noqa: E402

import cacertstack  # noqa: E402

LUA_DIR = os.path.join(REPO, "bench", "ocsp")
CA = "member"
REASON = x509.ReasonFlags.key_compromise      # every revoked entry, for all responders
REASON_CODE = 1


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def log(msg):
    print(f"ocsp_bench: {msg}", file=sys.stderr, flush=True)


def wait_port(port, proc=None, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def kill_group(proc, name):
    """Stop a process started with process_group=0, and its children."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
    log(f"{name} (pid {proc.pid}) did not stop")


def group_cpu_ticks(pgid):
    """{pid: utime+stime} of the processes in process group pgid."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            out[int(name)] = int(fields[11]) + int(fields[12])
    return out


class OpensslOCSP:
    """openssl ocsp -index ... -multi 2 on a port of its own.

    Each run gets a fresh one: openssl 3.0's children spin at 100% CPU, and
    stop answering, on a connection the client closes before sending a
    request (openssl/openssl#23934, #31129); wrk leaves such connections
    when it stops, and a bare connect() to test the port makes one.  So the
    readiness test sends a real request, and busy_children() reports the
    stuck ones after a run."""

    def __init__(self, index, web, logfile, probe):
        self.index, self.web, self.logfile, self.probe = index, web, logfile, probe
        self.proc = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    def start(self):
        self.stop()
        self.port = cacertstack.free_port()
        w = self.web
        with open(self.logfile, "a") as log_f:
            # its own process group, not its own session: with -multi, openssl
            # calls setpgid(0, 0), which fails (exit 1) in a session leader
            # (openssl/openssl#16205)
            self.proc = subprocess.Popen(
                ["openssl", "ocsp", "-index", self.index, "-port", str(self.port),
                 "-rsigner", os.path.join(w, f"ocsp-{CA}.crt"),
                 "-rkey", os.path.join(w, f"ocsp-{CA}.key"),
                 "-CA", os.path.join(w, f"{CA}.crt"), "-multi", "2", "-ndays", "1",
                 "-resp_key_id"],
                stdout=log_f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                process_group=0)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"openssl ocsp exited with {self.proc.returncode}; "
                                   f"see {self.logfile}")
            try:
                r = requests.post(self.url, data=self.probe, timeout=5,
                                  headers={"Content-Type": "application/ocsp-request"})
                if r.status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("openssl ocsp does not answer after 60 s")
            time.sleep(0.2)

    def busy_children(self, interval=1.0):
        """How many of its processes use more than half a CPU while idle."""
        if not self.proc or self.proc.poll() is not None:
            return 0
        time.sleep(0.5)
        a = group_cpu_ticks(self.proc.pid)
        time.sleep(interval)
        b = group_cpu_ticks(self.proc.pid)
        hz = os.sysconf("SC_CLK_TCK")
        return sum(1 for pid, t in b.items() if (t - a.get(pid, t)) / hz > interval / 2)

    def stop(self):
        if self.proc is not None:
            kill_group(self.proc, "openssl ocsp")
            self.proc = None


def der_tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + head + body


SHA1_ALG = der_tlv(0x30, der_tlv(0x06, bytes.fromhex("2b0e03021a")) + b"\x05\x00")


def ocsp_request_der(name_hash, key_hash, serial):
    """OCSPRequest { TBSRequest { requestList { Request { CertID } } } }: one
    SHA-1 CertID, no nonce, no signature.  (python3-cryptography 38 has no
    add_certificate_by_hash; the result is checked with its parser.)"""
    certid = der_tlv(0x30, SHA1_ALG + der_tlv(0x04, name_hash) + der_tlv(0x04, key_hash)
                     + der_tlv(0x02, serial))
    return der_tlv(0x30, der_tlv(0x30, der_tlv(0x30, der_tlv(0x30, certid))))


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


# ---------------------------------------------------------------------------
# the certificates
# ---------------------------------------------------------------------------

def make_certs(n, revoked_share, rng):
    """[(serial bytes, revoked_at datetime or None)]: 16 random bytes, the
    first 0x01..0x7f (a positive INTEGER of exactly 16 bytes)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    seen = set()
    out = []
    n_rev = int(n * revoked_share)
    while len(out) < n:
        s = bytes([rng.randint(1, 0x7f)]) + rng.randbytes(15)
        if s in seen:
            continue
        seen.add(s)
        out.append(s)
    revoked = set(rng.sample(range(n), n_rev))
    return [(s, now - datetime.timedelta(seconds=rng.randint(3600, 300 * 86400))
             if i in revoked else None) for i, s in enumerate(out)]


def fill_db(stack, certs):
    t0 = time.monotonic()
    conn = psycopg2.connect(**stack.pg_connect_args(), connect_timeout=10)
    try:
        cur = conn.cursor()
        cur.execute("SET statement_timeout = '120s'")
        cur.execute("INSERT INTO members (given_name, family_name, dob, password_hash)"
                    " VALUES ('Bench', 'OCSP', '1970-01-01', 'x') RETURNING id")
        mid = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM signer_requests")
        base = cur.fetchone()[0]
        cur.execute("CREATE TEMP TABLE bench_certs (n bigint, serial text, revoked_at timestamptz)")
        buf = io.StringIO()
        for i, (s, rev) in enumerate(certs):
            buf.write(f"{i + 1}\t{s.hex()}\t{rev.isoformat() if rev else chr(92) + 'N'}\n")
        buf.seek(0)
        cur.copy_expert("COPY bench_certs FROM STDIN", buf)
        cur.execute("INSERT INTO signer_requests (id, kind, member_id, ca, profile, payload,"
                    " state, attempts, sent_at, done_at)"
                    " SELECT %s + n, 'sign', %s, %s, 'client', '\\x00'::bytea, 'done', 1,"
                    " now(), now() FROM bench_certs", (base, mid, CA))
        cur.execute("SELECT setval(pg_get_serial_sequence('signer_requests', 'id'), %s)",
                    (base + len(certs),))
        cur.execute("INSERT INTO certificates (member_id, request_id, ca, profile, serial,"
                    " subject, spki_sha256, md, not_before, not_after, der, csr_der,"
                    " revoked_at, revoke_reason)"
                    " SELECT %s, %s + n, %s, 'client', serial, 'CN=bench', md5(serial), 'sha256',"
                    " now() - interval '1 day', now() + interval '365 days',"
                    " '\\x3000'::bytea, '\\x3000'::bytea, revoked_at,"
                    " CASE WHEN revoked_at IS NULL THEN NULL ELSE %s END FROM bench_certs",
                    (mid, base, CA, REASON_CODE))
        conn.commit()
        cur.execute("ANALYZE certificates")
        conn.commit()
        cur.execute("SELECT count(*), count(revoked_at) FROM certificates WHERE ca = %s", (CA,))
        total, rev = cur.fetchone()
    finally:
        conn.close()
    log(f"database: {total} certificates of {CA}, {rev} revoked ({time.monotonic() - t0:.1f} s)")


def write_index(path, certs):
    """An openssl ca index.txt with the same serials."""
    exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=365)) \
        .strftime("%y%m%d%H%M%SZ")
    with open(path, "w") as f:
        for s, rev in certs:
            hexs = s.hex().upper()
            if rev is None:
                f.write(f"V\t{exp}\t\t{hexs}\tunknown\t/CN=x{hexs}\n")
            else:
                f.write(f"R\t{exp}\t{rev.strftime('%y%m%d%H%M%SZ')},keyCompromise\t{hexs}"
                        f"\tunknown\t/CN=x{hexs}\n")
    with open(path + ".attr", "w") as f:
        f.write("unique_subject = no\n")


# ---------------------------------------------------------------------------
# pre-signed responses for cfssl
# ---------------------------------------------------------------------------

_signer = {}


def _sign_init(issuer_pem, cert_pem, key_pem, now_ts):
    _signer["issuer"] = x509.load_pem_x509_certificate(issuer_pem)
    _signer["cert"] = x509.load_pem_x509_certificate(cert_pem)
    _signer["key"] = serialization.load_pem_private_key(key_pem, None)
    _signer["now"] = datetime.datetime.fromtimestamp(now_ts, datetime.timezone.utc) \
        .replace(tzinfo=None)


def _sign_chunk(chunk):
    iss, cert, key, now = _signer["issuer"], _signer["cert"], _signer["key"], _signer["now"]
    out = []
    for serial_hex, rev_ts in chunk:
        b = ocsp.OCSPResponseBuilder()
        b = b.add_response(
            cert=_stub_cert(bytes.fromhex(serial_hex), iss), issuer=iss, algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.REVOKED if rev_ts is not None else ocsp.OCSPCertStatus.GOOD,
            this_update=now, next_update=now + datetime.timedelta(days=1),
            revocation_time=(datetime.datetime.fromtimestamp(rev_ts, datetime.timezone.utc)
                             .replace(tzinfo=None) if rev_ts is not None else None),
            revocation_reason=REASON if rev_ts is not None else None)
        b = b.responder_id(ocsp.OCSPResponderEncoding.HASH, cert).certificates([cert])
        out.append(base64.b64encode(b.sign(key, hashes.SHA256())
                                    .public_bytes(serialization.Encoding.DER)).decode())
    return out


_stub = {}


def _stub_cert(serial, issuer):
    """A certificate with this 16-byte serial, issued (in name) by issuer:
    add_response only hashes the issuer's name and key and takes the
    serial.  One template is signed; each stub is the template with its
    serial bytes replaced (the signature no longer matches; nothing checks)."""
    if "der" not in _stub:
        k = ec.generate_private_key(ec.SECP256R1())
        marker = bytes([0x7e]) + bytes(range(0x50, 0x5f))
        t = datetime.datetime(2020, 1, 1)
        der = (x509.CertificateBuilder().subject_name(issuer.subject).issuer_name(issuer.subject)
               .public_key(k.public_key()).serial_number(int.from_bytes(marker, "big"))
               .not_valid_before(t).not_valid_after(t + datetime.timedelta(days=1))
               .sign(k, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
        i = der.index(b"\x02\x10" + marker) + 2
        _stub["der"], _stub["at"] = der, i
    der, i = _stub["der"], _stub["at"]
    return x509.load_der_x509_certificate(der[:i] + serial + der[i + 16:])


def sign_responses(path, certs, ca_web, procs):
    t0 = time.monotonic()
    rd = lambda n: open(os.path.join(ca_web, n), "rb").read()  # noqa: E731
    init = (rd(f"{CA}.crt"), rd(f"ocsp-{CA}.crt"), rd(f"ocsp-{CA}.key"), time.time())
    items = [(s.hex(), rev.timestamp() if rev else None) for s, rev in certs]
    chunks = [items[i:i + 2000] for i in range(0, len(items), 2000)]
    with multiprocessing.get_context("fork").Pool(procs, _sign_init, init) as pool:
        res = pool.map_async(_sign_chunk, chunks)
        lines = [line for part in res.get(timeout=240) for line in part]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    log(f"cfssl: {len(lines)} responses signed in {time.monotonic() - t0:.1f} s ({procs} processes)")


# ---------------------------------------------------------------------------
# checking answers
# ---------------------------------------------------------------------------

class Checker:
    def __init__(self, responder_cert, want):
        self.key = responder_cert.public_key()
        self.want = want            # serial int -> "good" | "revoked"

    def check(self, der, serial):
        """None when the answer is right, else what is wrong."""
        try:
            resp = ocsp.load_der_ocsp_response(der)
        except ValueError as e:
            return f"unparsable ({e})"
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return f"status {resp.response_status.name}"
        if resp.serial_number != serial:
            return f"serial {resp.serial_number:x} for {serial:x}"
        try:
            if isinstance(self.key, ec.EllipticCurvePublicKey):
                self.key.verify(resp.signature, resp.tbs_response_bytes,
                                ec.ECDSA(resp.signature_hash_algorithm))
            else:
                self.key.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(),
                                resp.signature_hash_algorithm)
        except Exception as e:  # InvalidSignature and friends
            return f"bad signature ({type(e).__name__})"
        got = {ocsp.OCSPCertStatus.GOOD: "good", ocsp.OCSPCertStatus.REVOKED: "revoked"} \
            .get(resp.certificate_status, resp.certificate_status.name)
        if got != self.want[serial]:
            return f"{got}, should be {self.want[serial]}"
        return None


def check_all(name, url, reqs, checker, method="POST", limit=None):
    """Send every request once (one connection), check every answer.
    Returns (answer sizes, count by status); raises if any is wrong."""
    s = requests.Session()
    sizes, counts, bad = [], {}, []
    base = url.rstrip("/")
    for der, serial in reqs[:limit]:
        if method == "POST":
            r = s.post(url, data=der, headers={"Content-Type": "application/ocsp-request"},
                       timeout=10)
        else:
            r = s.get(base + "/" + urllib.parse.quote(base64.b64encode(der).decode(), safe=""),
                      timeout=10)
        err = f"HTTP {r.status_code}" if r.status_code != 200 else checker.check(r.content, serial)
        if err:
            bad.append(f"{serial:x}: {err}")
        else:
            st = checker.want[serial]
            counts[st] = counts.get(st, 0) + 1
            sizes.append(len(r.content))
    s.close()
    if bad:
        raise RuntimeError(f"{name} {method}: {len(bad)} wrong answers of {len(reqs[:limit])}, "
                           f"e.g. {bad[:3]}")
    return sizes, counts


def ocsp_status(stack):
    """Our responder's counters from /ocsp-status ({} if unavailable)."""
    try:
        r = requests.get(stack.url + "/ocsp-status", verify=stack.cert_file, timeout=10)
    except requests.RequestException:
        return {}
    if r.status_code != 200:
        return {}
    out = {}
    for line in r.text.splitlines():
        k, _, v = line.partition(":")
        out[k.strip()] = v.strip()
    return out


def status_delta(a, b):
    def d(k):
        try:
            return int(b[k]) - int(a[k])
        except (KeyError, ValueError):
            return "?"
    return f"{d('cache hits')} hits, {d('cache misses')} misses, {d('signatures')} signatures"


# ---------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------

def wrk(url, seconds, conns, script, reqdir, nreq, threads=2):
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--latency",
           "--timeout", "5s"]
    cmd += ["-s", os.path.join(LUA_DIR, script), url, "--", reqdir, str(nreq)] if script else [url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    out = p.stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({p.returncode}): {out}{p.stderr}")
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = re.search(r"(?m)^\s+50%\s+(\S+)", out).group(1)
    p99 = re.search(r"(?m)^\s+99%\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return dict(rps=float(m.group(1)), total=total, p50=p50, p99=p99,
                non2xx=int(non2xx.group(1)) if non2xx else 0,
                errors=errors.group(0) if errors else "")


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--wide", type=int, default=256, help="connections of the short wide run")
    ap.add_argument("--certs", type=int, default=100000)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--revoked", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    for tool in ("wrk", "openssl", "cfssl"):
        if not shutil.which(tool):
            log(f"{tool} not found" + (" (apt-get install golang-cfssl)" if tool == "cfssl" else ""))
    rng = random.Random(args.seed)
    t_start = time.monotonic()

    d = tempfile.mkdtemp(prefix="cacert-ocspbench-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(os.path.join(d, "stack"), builddir=os.path.abspath(args.builddir),
                              port=0)
    peers = {}
    rows = []
    notes = []
    try:
        stack.start()
        web = os.path.join(stack.ca_dir, "web")
        issuer = load_cert(os.path.join(web, f"{CA}.crt"))
        responder = load_cert(os.path.join(web, f"ocsp-{CA}.crt"))

        # -- the certificates, in the database and for the peers
        certs = make_certs(args.certs, args.revoked, rng)
        fill_db(stack, certs)
        want = {int.from_bytes(s, "big"): ("revoked" if rev else "good") for s, rev in certs}
        checker = Checker(responder, want)

        # -- the requests
        name_hash = hashlib.sha1(issuer.subject.public_bytes()).digest()
        key_hash = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest
        reqdir = os.path.join(d, "requests")
        os.makedirs(reqdir)
        reqs = []
        for i, (s, rev) in enumerate(rng.sample(certs, args.requests)):
            der = ocsp_request_der(name_hash, key_hash, s)
            parsed = ocsp.load_der_ocsp_request(der)
            assert parsed.serial_number == int.from_bytes(s, "big")
            assert parsed.issuer_name_hash == name_hash and parsed.issuer_key_hash == key_hash
            with open(os.path.join(reqdir, f"{i}.der"), "wb") as f:
                f.write(der)
            reqs.append((der, int.from_bytes(s, "big")))
        n_rev = sum(1 for _, sn in reqs if want[sn] == "revoked")
        log(f"{len(reqs)} requests ({n_rev} for revoked certificates) in {reqdir}")
        os.chmod(reqdir, 0o755)

        # -- the static file: one of our answers, on a plain-HTTP vhost of its own
        ours = stack.http_url.replace("localhost", "127.0.0.1") + "/ocsp"
        r = requests.post(ours, data=reqs[0][0], timeout=10,
                          headers={"Content-Type": "application/ocsp-request"})
        assert r.status_code == 200 and not checker.check(r.content, reqs[0][1]), r.status_code
        static_dir = os.path.join(d, "static")
        os.makedirs(static_dir)
        os.chmod(static_dir, 0o755)
        static_file = os.path.join(static_dir, "resp.der")
        with open(static_file, "wb") as f:
            f.write(r.content)
        os.chmod(static_file, 0o644)
        static_port = cacertstack.free_port()
        stack.restart(extra_conf=stack.extra_conf + [
            f"Listen 127.0.0.1:{static_port} http",
            f"<VirtualHost 127.0.0.1:{static_port}>",
            "    ServerName localhost",
            "    SSLEngine off",
            f'    Alias /bench-static "{static_file}"',
            f'    <Directory "{static_dir}">',
            "        Require all granted",
            "    </Directory>",
            "</VirtualHost>"])
        static_url = f"http://127.0.0.1:{static_port}/bench-static"
        r = requests.get(static_url, timeout=10)
        assert r.status_code == 200 and r.content == open(static_file, "rb").read(), r.status_code

        # -- ours: every answer checked (this also warms the cache), GET checked too
        st0 = ocsp_status(stack)
        sizes, counts = check_all("ours", ours, reqs, checker)
        st1 = ocsp_status(stack)
        check_all("ours", ours, reqs, checker)
        st2 = ocsp_status(stack)
        notes.append("ours, cache: first pass over the requests " + status_delta(st0, st1)
                     + "; second pass " + status_delta(st1, st2))
        check_all("ours", ours, reqs, checker, method="GET", limit=50)
        notes.append(f"ours: all {len(reqs)} POST answers right ({counts}), "
                     f"{min(sizes)}-{max(sizes)} bytes; first 50 by GET right too")
        size_ours = sum(sizes) / len(sizes)

        # -- openssl ocsp: a fresh responder for each run (see OpensslOCSP)
        index = os.path.join(d, "index.txt")
        write_index(index, certs)
        ossl = OpensslOCSP(index, web, os.path.join(d, "openssl-ocsp.log"), reqs[0][0])
        peers["openssl"] = ossl
        ossl.start()
        osizes, ocounts = check_all("openssl ocsp", ossl.url, reqs, checker)
        notes.append(f"openssl ocsp: all {len(reqs)} POST answers right ({ocounts}), "
                     f"{min(osizes)}-{max(osizes)} bytes")
        openssl_get = True
        try:
            check_all("openssl ocsp", ossl.url, reqs, checker, method="GET", limit=50)
            notes.append("openssl ocsp: first 50 by GET right too")
        except Exception as e:  # noqa: BLE001  (reported, not fatal)
            openssl_get = False
            notes.append(f"openssl ocsp GET: not measured ({str(e)[:160]})")
        ossl.stop()

        # -- cfssl ocspserve
        cfssl_url = None
        cfssl_get = True
        if shutil.which("cfssl"):
            respfile = os.path.join(d, "cfssl-responses.txt")
            sign_responses(respfile, certs, web, max(1, os.cpu_count() or 1))
            cport = cacertstack.free_port()
            clog = open(os.path.join(d, "cfssl.log"), "w")
            t0 = time.monotonic()
            peers["cfssl"] = subprocess.Popen(
                ["cfssl", "ocspserve", "-address", "127.0.0.1", "-port", str(cport),
                 "-responses", respfile, "-loglevel", "3"],
                stdout=clog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                process_group=0)
            clog.close()
            wait_port(cport, peers["cfssl"], timeout=180)
            log(f"cfssl ocspserve loaded its responses in {time.monotonic() - t0:.1f} s")
            cfssl_url = f"http://127.0.0.1:{cport}/"
            csizes, ccounts = check_all("cfssl", cfssl_url, reqs, checker)
            notes.append(f"cfssl ocspserve: all {len(reqs)} POST answers right ({ccounts}), "
                         f"{min(csizes)}-{max(csizes)} bytes")
            try:
                check_all("cfssl", cfssl_url, reqs, checker, method="GET", limit=20)
            except Exception as e:  # noqa: BLE001  (reported, not fatal)
                cfssl_get = False
                notes.append(f"cfssl ocspserve GET: not measured ({str(e)[:160]}; this cfssl "
                             "decodes the path with its leading '/', cf. cloudflare/cfssl#1121)")
        else:
            notes.append("cfssl ocspserve: not measured (no cfssl: apt-get install golang-cfssl)")

        # -- the runs
        sec, c = args.seconds, args.connections
        nreq = len(reqs)
        log(f"measuring: {sec} s per run")
        for name, script in (("ours POST /ocsp", "post.lua"), ("ours GET /ocsp/<b64>", "get.lua")):
            a = ocsp_status(stack)
            rows.append((name, wrk(ours, sec, c, script, reqdir, nreq)))
            notes.append(f"{name}, cache: " + status_delta(a, ocsp_status(stack)))
        for method, script in (("POST", "post.lua"), ("GET", "get.lua")):
            if method == "GET" and not openssl_get:
                continue
            ossl.start()
            rows.append((f"openssl ocsp -multi 2, {method}",
                         wrk(ossl.url, sec, c, script, reqdir, nreq)))
            busy = ossl.busy_children()
            if busy:
                notes.append(f"openssl ocsp after the {method} run: {busy} of its children "
                             "spinning at full CPU on a connection the client closed "
                             "(openssl#23934); restarted for the next run")
            ossl.stop()
        if cfssl_url:
            rows.append(("cfssl ocspserve POST", wrk(cfssl_url, sec, c, "post.lua", reqdir, nreq)))
            if cfssl_get:
                rows.append(("cfssl ocspserve GET",
                             wrk(cfssl_url, sec, c, "get.lua", reqdir, nreq)))
        rows.append((f"httpd static file ({len(open(static_file, 'rb').read())} bytes)",
                     wrk(static_url, sec, c, None, None, None)))
        wide_sec = max(2, min(5, sec))
        rows.append((f"ours POST, -c{args.wide} ({wide_sec} s)",
                     wrk(ours, wide_sec, args.wide, "post.lua", reqdir, nreq)))
        # still answering after the wide run?
        sizes, _ = check_all("ours (after the wide run)", ours, reqs, checker, limit=20)
        notes.append(f"ours after -c{args.wide}: still answers (20 of 20 right)")

        # -- the table
        static_rps = rows[-2][1]["rps"]
        print(f"OCSP responders, {args.certs} certificates ({int(args.certs * args.revoked)} "
              f"revoked), {nreq} distinct requests (SHA-1 CertID, no nonce), wrk -t2 -c{c} "
              f"-d{sec}s --latency, loopback, {os.cpu_count()} cores (client and servers share them)")
        print(f"  {'':42s} {'req/s':>10s} {'p50':>9s} {'p99':>9s} {'vs static':>9s}  "
              f"{'non-2xx':>7s}  socket errors")
        for name, w in rows:
            ratio = f"{w['rps'] / static_rps:8.2f}x" if static_rps else "-"
            print(f"  {name:42s} {w['rps']:10.1f} {w['p50']:>9s} {w['p99']:>9s} {ratio:>9s}  "
                  f"{w['non2xx']:7d}  {w['errors'] or '-'}")
        print(f"  answer sizes: ours {size_ours:.0f} bytes average; static file "
              f"{len(open(static_file, 'rb').read())} bytes")
        for n in notes:
            print(f"  {n}")
        st = ocsp_status(stack)
        if st:
            print("  ours, /ocsp-status at the end: "
                  + "; ".join(f"{k}: {v}" for k, v in st.items()))
        print(f"  (whole bench: {time.monotonic() - t_start:.0f} s)")
    finally:
        for name, p in peers.items():
            if isinstance(p, OpensslOCSP):
                p.stop()
            else:
                kill_group(p, name)
        try:
            stack.stop()
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
