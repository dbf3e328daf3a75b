# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""signerd over a real pty pair, no httpd: the protocol, the signing
decisions, idempotency, faults, the dead-man, the journal.

Environment: CACERT_BUILDDIR (default build) holds signerd/signerd; under
CACERT_ASAN=1 that binary is ASan-instrumented and any sanitizer report in
its stderr fails the test.  The CAs are made here with python3-cryptography
(tools/cacert-ca can replace that once it exists).
"""

import datetime
import os
import select
import signal
import subprocess
import sys
import threading
import time
import tty

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import signerwire as w  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSPHRASE = b"correct horse battery staple"
ASAN = os.environ.get("CACERT_ASAN", "").lower() not in ("", "0", "no", "false")


def signerd_binary():
    b = os.environ.get("CACERT_BUILDDIR", "build")
    if not os.path.isabs(b):
        b = os.path.join(REPO, b)
    path = os.path.join(b, "signerd", "signerd")
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} not built")
    return path


# ---- CA material -------------------------------------------------------

def make_ca(d, name, key):
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CAcert test"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"Test {name} SubRoot")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    os.makedirs(os.path.join(d, "signer"), exist_ok=True)
    crt = os.path.join(d, "signer", f"{name}.crt")
    kp = os.path.join(d, "signer", f"{name}.key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    enc = (serialization.BestAvailableEncryption(PASSPHRASE) if name != "assured"
           else serialization.NoEncryption())
    fd = os.open(kp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8, enc))
    return cert, key, crt, kp


def cacert_ca_tool():
    b = os.environ.get("CACERT_BUILDDIR", "build")
    if not os.path.isabs(b):
        b = os.path.join(REPO, b)
    path = os.path.join(b, "tools", "cacert-ca")
    return path if os.access(path, os.X_OK) else None


def cas_from_tool(tool, d, passfile):
    """the SubRoots as the key ceremony tool makes them (EC P-256 here: its
    RSA keys are 3072 bits and up, too slow to make for a test)"""
    top = os.path.join(d, "tool")
    r = subprocess.run([tool, "init", "--dir", top, "--name", "CAcert Test",
                        "--key-type", "ec:P-256", "--passphrase-file", passfile],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
    out = {}
    for n in ("member", "assured", "org"):
        crt = os.path.join(top, "signer", f"{n}.crt")
        with open(crt, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        out[n] = (cert, None, crt, os.path.join(top, "signer", f"{n}.key"))
    return out


@pytest.fixture(scope="module")
def cas(tmp_path_factory):
    """made with python3-cryptography: quick to make and to load (the key
    ceremony tool's keys use 600,000 PBKDF2 rounds; test_cacert_ca_keys
    uses those).  member: RSA, encrypted PKCS#8; assured: EC P-256, clear;
    org: RSA, encrypted"""
    d = str(tmp_path_factory.mktemp("signer-ca"))
    pf = os.path.join(d, "passphrase")
    with open(pf, "wb") as f:
        f.write(PASSPHRASE + b"\n")
    return {
        "dir": d, "passfile": pf,
        "member": make_ca(d, "member", rsa.generate_private_key(65537, 2048)),
        "assured": make_ca(d, "assured", ec.generate_private_key(ec.SECP256R1())),
        "org": make_ca(d, "org", rsa.generate_private_key(65537, 2048)),
    }


@pytest.fixture(scope="module")
def keys():
    """subject keys, made once"""
    return {
        "rsa2048": rsa.generate_private_key(65537, 2048),
        "rsa1024": rsa.generate_private_key(65537, 1024),
        "rsa_e3": rsa.generate_private_key(3, 2048),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p521": ec.generate_private_key(ec.SECP521R1()),
    }


def spki(key):
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


# ---- the daemon over a pty ----------------------------------------------

class Signer:
    def __init__(self, tmp, cas, deadman=30, extra=None, ca_lines=None):
        self.tmp = tmp
        self.cas = cas
        self.journal = os.path.join(tmp, "journal")
        self.conf = os.path.join(tmp, "signerd.conf")
        self.master = self.slave = None
        self.proc = None
        self.lines = []
        self.dec = w.Decoder()
        self.pending = []
        self.deadman = deadman
        self.extra = extra or []
        self.ca_lines = ca_lines
        self.write_conf()

    def write_conf(self):
        c = self.cas
        lines = [
            "# written by t/test_signerd.py",
            "device /dev/null",           # replaced at start
            "baud 115200",
            f"journal {self.journal}",
            f"deadman {self.deadman}",
        ]
        if os.geteuid() == 0:
            lines.append("user nobody")
        lines += self.extra
        lines += self.ca_lines or [
            f"ca member cert={c['member'][2]} key={c['member'][3]} "
            "profiles=client,server max_days=180 md=sha256,sha384 "
            "ocsp=http://ocsp.test.invalid crl=http://crl.test.invalid/member.crl "
            "max_sans=3 wildcards=no",
            f"ca assured cert={c['assured'][2]} key={c['assured'][3]} "
            "profiles=client,server,codesign max_days=730 md=sha256,sha384,sha512 "
            "ocsp=http://ocsp.test.invalid crl=http://crl.test.invalid/assured.crl "
            "issuers=http://www.test.invalid/assured.cer cps=http://www.test.invalid/cps "
            "wildcards=yes max_sans=10 ec_curves=P-256,P-384",
            f"ca org cert={c['org'][2]} key={c['org'][3]} profiles=org-client,org-server "
            "max_days=730 md=sha256 ocsp=http://ocsp.test.invalid "
            "crl=http://crl.test.invalid/org.crl",
        ]
        self.conf_lines = lines

    def start(self, expect_ready=True, timeout=15, passphrase_fd=False):
        if self.master is None:
            self.master, self.slave = os.openpty()
            tty.setraw(self.slave)
            tty.setraw(self.master)
        lines = [f"device {os.ttyname(self.slave)}" if l.startswith("device ") else l
                 for l in self.conf_lines]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.lines = []
        if passphrase_fd:
            r, wfd = os.pipe()
            os.write(wfd, PASSPHRASE + b"\n")
            os.close(wfd)
            args, fds = ["--passphrase-fd", str(r)], (r,)
        else:
            args, fds = ["--passphrase-file", self.cas["passfile"]], ()
        self.proc = subprocess.Popen(
            [signerd_binary(), "-c", self.conf, *args, "--foreground"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env, pass_fds=fds)
        for fd in fds:
            os.close(fd)
        self.collector = threading.Thread(target=self._collect,
                                          args=(self.proc, self.lines), daemon=True)
        self.collector.start()
        if expect_ready:
            self.wait_log("ready on", timeout)
            self.dec = w.Decoder()
            self.pending = []

    @staticmethod
    def _collect(proc, lines):
        for raw in proc.stderr:
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    @property
    def log(self):
        return "\n".join(self.lines)

    def wait_log(self, needle, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.log:
                return
            if self.proc.poll() is not None:
                time.sleep(0.1)
                if needle in self.log:
                    return
                raise AssertionError(f"signerd exited {self.proc.returncode} before "
                                     f"'{needle}':\n{self.log}")
            time.sleep(0.01)
        raise AssertionError(f"no '{needle}' in signerd's log:\n{self.log}")

    def write(self, data):
        os.write(self.master, data)

    def send(self, mtype, mid, payload=b""):
        self.write(w.encode(mtype, mid, payload))

    def recv(self, timeout=5):
        end = time.monotonic() + timeout
        while not self.pending:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no answer within {timeout} s:\n{self.log}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    time.sleep(0.01)
                    continue
                self.pending += self.dec.feed(data)
        return self.pending.pop(0)

    def request(self, mtype, mid, payload=b"", timeout=5):
        self.send(mtype, mid, payload)
        return self.recv(timeout)

    def hello(self):
        f = self.request(w.HELLO, 0)
        assert f.type == w.HELLO_OK and f.id == 0
        assert f.text(w.T_TEXT).startswith("signerd ")
        return f

    def wait_exit(self, timeout=10):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"signerd still running after {timeout} s:\n{self.log}")
        self.collector.join(5)      # the last lines of its stderr
        return rc

    def check_sanitizers(self):
        if self.proc.poll() is not None:
            self.collector.join(5)
        bad = [l for l in self.lines if "Sanitizer" in l or "runtime error:" in l]
        assert not bad, "sanitizer report:\n" + self.log

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.collector.join(5)
        if self.proc:
            self.check_sanitizers()

    def close(self):
        self.stop()
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None


@pytest.fixture
def signer(tmp_path, cas):
    made = []

    def make(**kw):
        s = Signer(str(tmp_path), cas, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def sd(signer):
    s = signer()
    s.start()
    s.hello()
    return s


# ---- requests ------------------------------------------------------------

def sign_body(ca="member", profile="client", key=None, days=90, md="sha256", cn=None,
              email=None, san_email=(), san_dns=(), org=None):
    parts = [(w.T_CA, ca), (w.T_PROFILE, profile)]
    if cn:
        parts.append((w.T_CN, cn))
    if email:
        parts.append((w.T_EMAIL, email))
    parts += [(w.T_SAN_EMAIL, e) for e in san_email]
    parts += [(w.T_SAN_DNS, d) for d in san_dns]
    parts += [(w.T_SPKI, spki(key)), (w.T_DAYS, days, 2), (w.T_MD, md)]
    for tag, v in (org or {}).items():
        parts.append((tag, v))
    return w.tlvs(*parts)


def revoke_body(ca, serial, reason=1):
    return w.tlvs((w.T_CA, ca), (w.T_SERIAL, serial), (w.T_REASON, reason, 1))


def crl_body(ca, number, this, nxt, digest, md="sha256"):
    return w.tlvs((w.T_CA, ca), (w.T_CRL_NUMBER, number, 8), (w.T_THIS_UPDATE, this, 8),
                  (w.T_NEXT_UPDATE, nxt, 8), (w.T_MD, md), (w.T_TBS_SHA256, digest))


def check_cert(frame, cas, ca, days, eku, key, dns=(), emails=()):
    assert frame.type == w.CERT, frame
    cert = x509.load_der_x509_certificate(frame.get(w.T_CERT))
    ca_cert = cas[ca][0]
    assert cert.issuer == ca_cert.subject
    pub = ca_cert.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                   cert.signature_hash_algorithm)
    else:
        pub.verify(cert.signature, cert.tbs_certificate_bytes,
                   ec.ECDSA(cert.signature_hash_algorithm))
    assert cert.not_valid_after - cert.not_valid_before == datetime.timedelta(days=days)
    assert abs((cert.not_valid_before - datetime.datetime.utcnow()).total_seconds()) < 120
    assert cert.serial_number.bit_length() >= 64
    assert int.from_bytes(frame.get(w.T_SERIAL), "big") == cert.serial_number
    assert cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == spki(key)
    ekus = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert eku in list(ekus)
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    if dns or emails:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.DNSName) == list(dns)
        assert san.get_values_for_type(x509.RFC822Name) == list(emails)
    # the URLs come from signerd's config, never from the request
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert any(d.access_location.value == "http://ocsp.test.invalid" for d in aia)
    return cert


def expect_stop(s, frame, mid, reason_part):
    assert frame.type == w.STOP, frame
    assert frame.id == mid
    assert reason_part in frame.text(w.T_TEXT)
    assert s.wait_exit() == 3
    assert reason_part in s.log
    assert "keys wiped" in s.log
    s.check_sanitizers()


# ---- tests ---------------------------------------------------------------

def test_hello_heartbeat(sd):
    f = sd.request(w.HEARTBEAT, 0)
    assert f.type == w.HEARTBEAT_OK and f.id == 0 and f.payload == b""
    f = sd.request(w.HELLO, 0, w.tlvs((w.T_TEXT, "signer-link test")))
    assert f.type == w.HELLO_OK


def test_sign_profiles(sd, cas, keys):
    f = sd.request(w.SIGN, 101, sign_body("member", "client", keys["rsa2048"], days=180,
                                          cn="CAcert WoT Member", email="a@example.org",
                                          san_email=["a@example.org"]))
    check_cert(f, cas, "member", 180, ExtendedKeyUsageOID.CLIENT_AUTH, keys["rsa2048"],
               emails=["a@example.org"])
    f = sd.request(w.SIGN, 102, sign_body("member", "server", keys["p256"], days=30,
                                          md="sha384", cn="www.example.org",
                                          san_dns=["www.example.org", "example.org"]))
    check_cert(f, cas, "member", 30, ExtendedKeyUsageOID.SERVER_AUTH, keys["p256"],
               dns=["www.example.org", "example.org"])
    f = sd.request(w.SIGN, 103, sign_body("assured", "codesign", keys["p384"], days=730,
                                          md="sha512", cn="Alice Example",
                                          email="alice@example.org",
                                          san_email=["alice@example.org"]))
    check_cert(f, cas, "assured", 730, ExtendedKeyUsageOID.CODE_SIGNING, keys["p384"],
               emails=["alice@example.org"])
    f = sd.request(w.SIGN, 104, sign_body("assured", "server", keys["rsa2048"], days=365,
                                          san_dns=["*.example.net", "example.net"]))
    check_cert(f, cas, "assured", 365, ExtendedKeyUsageOID.SERVER_AUTH, keys["rsa2048"],
               dns=["*.example.net", "example.net"])
    f = sd.request(w.SIGN, 105, sign_body(
        "org", "org-server", keys["p256"], days=365, san_dns=["shop.example.com"],
        org={w.T_ORG_O: "Example Ltd", w.T_ORG_L: "Sydney", w.T_ORG_C: "AU"}))
    cert = check_cert(f, cas, "org", 365, ExtendedKeyUsageOID.SERVER_AUTH, keys["p256"],
                      dns=["shop.example.com"])
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == \
        "Example Ltd"
    # the answer is compact enough for the wire budget
    assert len(f.payload) < 2500


def test_round_trip_latency(sd, keys):
    times = []
    for i in range(20):
        t0 = time.perf_counter()
        f = sd.request(w.SIGN, 200 + i, sign_body("member", "client", keys["p256"],
                                                  cn="CAcert WoT Member"))
        times.append(time.perf_counter() - t0)
        assert f.type == w.CERT
    t0 = time.perf_counter()
    for _ in range(20):
        assert sd.request(w.HEARTBEAT, 0).type == w.HEARTBEAT_OK
    hb = (time.perf_counter() - t0) / 20
    times.sort()
    print(f"\nSIGN round trip over the pty: median {times[10] * 1000:.1f} ms, "
          f"max {times[-1] * 1000:.1f} ms; HEARTBEAT {hb * 1000:.2f} ms")
    # a tripwire against sleeps in the loop, not a benchmark
    assert times[10] < (1.0 if ASAN else 0.25)


def test_repeated_id_same_bytes(sd, keys):
    body = sign_body("member", "client", keys["rsa2048"], cn="CAcert WoT Member")
    a = sd.request(w.SIGN, 300, body)
    b = sd.request(w.SIGN, 300, body)
    assert a.type == w.CERT and a.payload == b.payload
    assert "repeated" in sd.log


def test_same_id_different_body_stops(sd, keys):
    a = sd.request(w.SIGN, 310, sign_body("member", "client", keys["rsa2048"],
                                          cn="CAcert WoT Member"))
    assert a.type == w.CERT
    f = sd.request(w.SIGN, 310, sign_body("member", "client", keys["p256"],
                                          cn="CAcert WoT Member"))
    expect_stop(sd, f, 310, "reused with a different request")


def test_flipped_byte_nak_then_resend(sd, keys):
    frame = w.encode(w.SIGN, 320, sign_body("member", "client", keys["p256"],
                                            cn="CAcert WoT Member"))
    for pos in (2, 10, 14, 40, len(frame) - 1):
        bad = bytearray(frame)
        bad[pos] ^= 0x10
        if pos == 14:
            # a longer length field: the decoder waits, then gives up after
            # a second of silence
            bad[13] = 0x00
            bad[14] = 0x80
        sd.write(bytes(bad))
        f = sd.recv(timeout=5)
        assert f.type == w.NAK and f.id == 0, (pos, f)
    # the signature and key in the payload are random bytes: now and then
    # they hold the two magic bytes, and the resync inside a damaged frame
    # takes them for a frame of their own, damaged too (one NAK more, at
    # once or after the second of silence).  Whatever came of the damaged
    # frames is NAKs and nothing else, and the line is quiet again before
    # the good frame goes.
    while True:
        try:
            f = sd.recv(timeout=1.5)
        except AssertionError:
            break
        assert f.type == w.NAK and f.id == 0, f
    sd.write(frame)
    f = sd.recv()
    assert f.type == w.CERT and f.id == 320
    assert "damaged frame" in sd.log or "incomplete frame" in sd.log


def test_garbage_between_frames(sd):
    sd.write(b"\x00\x01garbage\xca\xca" + w.encode(w.HEARTBEAT, 0) + b"\xff" * 100
             + w.encode(w.HELLO, 0) + b"\x5e\xca")
    assert sd.recv().type == w.HEARTBEAT_OK
    assert sd.recv().type == w.HELLO_OK
    # byte by byte
    for b in w.encode(w.HEARTBEAT, 0):
        sd.write(bytes([b]))
    assert sd.recv().type == w.HEARTBEAT_OK


def test_nak_from_link_resends_last_answer(sd):
    a = sd.request(w.HELLO, 0)
    f = sd.request(w.NAK, 0)
    assert f.type == a.type and f.payload == a.payload


DISALLOWED = [
    ("unknown-ca", dict(ca="class3"), "unknown CA"),
    ("profile", dict(ca="member", profile="codesign", cn="A B"), "profile codesign not allowed"),
    ("days", dict(days=181), "validity of 181 days"),
    ("rsa1024", dict(key="rsa1024"), "RSA key of 1024 bits"),
    ("e3", dict(key="rsa_e3"), "exponent"),
    ("curve", dict(key="p521"), "EC key on curve secp521r1"),
    ("md", dict(md="sha512"), "hash 'sha512' not allowed"),
    ("wildcard", dict(profile="server", san_dns=["*.example.org"]), "wildcard"),
    ("max-sans", dict(profile="server", san_dns=["a.example", "b.example", "c.example",
                                                   "d.example"]), "4 subjectAltNames"),
    ("dns-in-client", dict(san_dns=["a.example"]), "DNS name in a client"),
]


@pytest.mark.parametrize("name,kw,reason", DISALLOWED, ids=[d[0] for d in DISALLOWED])
def test_disallowed_stops(sd, keys, name, kw, reason):
    kw = dict(kw)
    kw["key"] = keys[kw.get("key", "p256")]
    kw.setdefault("ca", "member")
    kw.setdefault("profile", "client")
    if kw["profile"] == "client":
        kw.setdefault("cn", "CAcert WoT Member")
    f = sd.request(w.SIGN, 400, sign_body(**kw))
    expect_stop(sd, f, 400, reason)


@pytest.mark.parametrize("name,payload,mtype,mid,reason", [
    ("unknown-type", b"", 0x42, 5, "unknown message type"),
    ("answer-type", w.tlvs((w.T_TEXT, "x")), w.HELLO_OK, 0, "unexpected message"),
    ("tlv-overrun", b"\x01\x00\x09abc", w.SIGN, 6, "TLVs overrun"),
    ("missing-tag", w.tlvs((w.T_CA, "member")), w.SIGN, 7, "missing tag"),
    ("heartbeat-id", b"", w.HEARTBEAT, 8, "id 0"),
    ("reason-8", revoke_body("member", b"\x01", 8), w.REVOKE, 9, "reason 8"),
], ids=lambda v: v if isinstance(v, str) and "-" in v else None)
def test_malformed_stops(sd, name, payload, mtype, mid, reason):
    f = sd.request(mtype, mid, payload)
    expect_stop(sd, f, mid, reason)


def test_restart_after_stop_keeps_answers(signer, keys, cas):
    s = signer()
    s.start()
    s.hello()
    good = sign_body("member", "client", keys["rsa2048"], cn="CAcert WoT Member")
    a = s.request(w.SIGN, 500, good)
    assert a.type == w.CERT
    f = s.request(w.SIGN, 501, sign_body("member", "client", keys["rsa1024"],
                                         cn="CAcert WoT Member"))
    expect_stop(s, f, 501, "1024 bits")
    s.start()
    s.hello()
    b = s.request(w.SIGN, 500, good)
    assert b.payload == a.payload
    c = s.request(w.SIGN, 502, sign_body("member", "server", keys["p256"],
                                         san_dns=["ok.example"]))
    check_cert(c, cas, "member", 90, ExtendedKeyUsageOID.SERVER_AUTH, keys["p256"],
               dns=["ok.example"])


def test_deadman(signer):
    s = signer(deadman=2)
    s.start()
    s.hello()
    t0 = time.monotonic()
    assert s.wait_exit(timeout=6) == 4
    assert time.monotonic() - t0 < 3.5
    assert "dead-man" in s.log and "keys wiped" in s.log
    s.check_sanitizers()


def test_sigterm(sd):
    sd.proc.send_signal(signal.SIGTERM)
    assert sd.wait_exit() == 0
    assert "keys wiped" in sd.log


def test_kill9_then_restart_same_certificate(signer, keys):
    s = signer()
    s.start()
    s.hello()
    body = sign_body("assured", "server", keys["p384"], san_dns=["k.example"], days=700)
    a = s.request(w.SIGN, 600, body)
    assert a.type == w.CERT
    s.proc.kill()
    s.proc.wait()
    s.start()
    s.hello()
    b = s.request(w.SIGN, 600, body)
    assert b.payload == a.payload


def test_revoke_and_crl(sd, keys, cas):
    c = sd.request(w.SIGN, 700, sign_body("assured", "client", keys["p256"],
                                          cn="Alice Example"))
    serial = c.get(w.T_SERIAL)
    now = int(time.time())
    r = sd.request(w.REVOKE, 701, revoke_body("assured", serial, 1))
    assert r.type == w.REVOKED and r.get(w.T_SERIAL) == serial
    assert r.uint(w.T_COUNT) == 1 and abs(r.int(w.T_TIME) - now) < 5
    # the same serial again under a new id: recorded once, same time
    r2 = sd.request(w.REVOKE, 702, revoke_body("assured", serial, 4))
    assert r2.uint(w.T_COUNT) == 1 and r2.int(w.T_TIME) == r.int(w.T_TIME)
    # a repeated id: the journalled answer
    assert sd.request(w.REVOKE, 701, revoke_body("assured", serial, 1)).payload == r.payload
    r3 = sd.request(w.REVOKE, 703, revoke_body("assured", b"\x11\x22\x33", 0))
    assert r3.uint(w.T_COUNT) == 2
    # a CRL body the signer does not agree with: no signature, its digest
    wrong = bytes(32)
    f = sd.request(w.CRL, 704, crl_body("assured", 7, now, now + 86400, wrong))
    assert f.type == w.CRL_SIG and f.get(w.T_SIGNATURE) is None
    assert f.uint(w.T_COUNT) == 2
    digest = f.get(w.T_TBS_SHA256)
    assert len(digest) == 32 and digest != wrong
    # the same parameters with the signer's digest: signed
    g = sd.request(w.CRL, 705, crl_body("assured", 7, now, now + 86400, digest))
    assert g.type == w.CRL_SIG and g.get(w.T_TBS_SHA256) is None
    assert g.uint(w.T_COUNT) == 2
    cas["assured"][0].public_key().verify(g.get(w.T_SIGNATURE), digest,
                                          ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    # an RSA CA too, with an empty list
    h = sd.request(w.CRL, 706, crl_body("member", 1, now, now + 3600, wrong))
    assert h.uint(w.T_COUNT) == 0 and h.get(w.T_SIGNATURE) is None
    k = sd.request(w.CRL, 707, crl_body("member", 1, now, now + 3600, h.get(w.T_TBS_SHA256)))
    cas["member"][0].public_key().verify(k.get(w.T_SIGNATURE), h.get(w.T_TBS_SHA256),
                                         padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    # revocations survive a restart: the digest is the same
    sd.stop()
    sd.start()
    sd.hello()
    f2 = sd.request(w.CRL, 708, crl_body("assured", 7, now, now + 86400, wrong))
    assert f2.get(w.T_TBS_SHA256) == digest and f2.uint(w.T_COUNT) == 2


def test_a_crl_is_hashed_between_other_requests(signer, keys, cas):
    """A link that says "crl-pending" in its HELLO gets PENDING for a CRL at
    once, has a certificate signed meanwhile, and the signature when it
    asks again with the same request.  A REVOKE while a CRL is hashed
    finishes that CRL first: it is signed without the new revocation (which
    it never leaves out once recorded), and the next CRL has it."""
    s = signer()
    s.start()
    f = s.request(w.HELLO, 0, w.tlvs((w.T_TEXT, "cacert-link crl-pending")))
    assert f.type == w.HELLO_OK
    now = int(time.time())
    for i in range(3):
        r = s.request(w.REVOKE, 800 + i, revoke_body("member", bytes([0x10 + i]) * 9))
        assert r.type == w.REVOKED
    # the digest signerd holds: a CRL with a wrong one, asked until answered
    wrong = bytes(32)

    def ask(mid, body, count=3):
        for _ in range(200):
            g = s.request(w.CRL, mid, body)
            assert g.type == w.CRL_SIG, g
            if g.get(w.T_PENDING) is None:
                return g
            assert g.uint(w.T_PENDING) >= 1 and g.uint(w.T_COUNT) == count
            time.sleep(0.005)
        raise AssertionError("always PENDING")

    first = s.request(w.CRL, 810, crl_body("member", 1, now, now + 3600, wrong))
    assert first.type == w.CRL_SIG and first.get(w.T_PENDING) is not None
    assert first.get(w.T_SIGNATURE) is None and first.get(w.T_TBS_SHA256) is None
    digest = ask(810, crl_body("member", 1, now, now + 3600, wrong)).get(w.T_TBS_SHA256)
    assert len(digest) == 32
    # the right digest: PENDING, a certificate meanwhile, then the signature
    body = crl_body("member", 1, now, now + 3600, digest)
    g = s.request(w.CRL, 811, body)
    assert g.get(w.T_PENDING) is not None
    c = s.request(w.SIGN, 812, sign_body("member", "client", keys["p256"],
                                         email="ann@example.org"))
    assert c.type == w.CERT, c.text(w.T_TEXT)
    g = ask(811, body)
    cas["member"][0].public_key().verify(g.get(w.T_SIGNATURE), digest, padding.PKCS1v15(),
                                         utils.Prehashed(hashes.SHA256()))
    assert g.uint(w.T_COUNT) == 3
    # asked once more after the answer: a new job, the same signature's digest
    assert ask(811, body).get(w.T_SIGNATURE) is not None
    # a REVOKE while the CRL is hashed: the CRL is signed as it was asked
    body = crl_body("member", 1, now, now + 3600, digest)
    assert s.request(w.CRL, 813, body).get(w.T_PENDING) is not None
    r = s.request(w.REVOKE, 814, revoke_body("member", b"\x77" * 9))
    assert r.type == w.REVOKED and r.uint(w.T_COUNT) == 4
    g = s.request(w.CRL, 813, body)
    assert g.get(w.T_PENDING) is None and g.uint(w.T_COUNT) == 3
    cas["member"][0].public_key().verify(g.get(w.T_SIGNATURE), digest, padding.PKCS1v15(),
                                         utils.Prehashed(hashes.SHA256()))
    # the next CRL has the fourth: the old digest no longer signed
    g = ask(815, crl_body("member", 1, now, now + 3600, digest), count=4)
    assert g.get(w.T_SIGNATURE) is None and g.uint(w.T_COUNT) == 4
    assert "CA61402" not in s.log


def test_crl_out_of_range_stops(sd):
    now = int(time.time())
    f = sd.request(w.CRL, 710, crl_body("assured", 1, now, now + 40 * 86400, bytes(32)))
    expect_stop(sd, f, 710, "nextUpdate")


def test_journal_tampering_refuses_start(signer, keys):
    s = signer()
    s.start()
    s.hello()
    a = s.request(w.SIGN, 800, sign_body("member", "client", keys["p256"],
                                         cn="CAcert WoT Member"))
    assert a.type == w.CERT
    s.request(w.REVOKE, 801, revoke_body("member", a.get(w.T_SERIAL)))
    s.stop()
    with open(s.journal, "rb") as f:
        good = f.read()
    lines = good.split(b"\n")
    assert lines[-1] == b""
    # edit a revocation time, drop a record, cut the last record short
    rev = [i for i, l in enumerate(lines) if b" REVOKE " in l][0]
    parts = lines[rev].split(b" ")
    parts[7] = str(int(parts[7]) - 86400).encode()
    edited = lines[:rev] + [b" ".join(parts)] + lines[rev + 1:]
    sign = [i for i, l in enumerate(lines) if b" SIGN " in l][0]
    cases = {
        "edited": b"\n".join(edited),
        "removed": b"\n".join(lines[:sign] + lines[sign + 1:]),
        "torn": good[:-10],
    }
    for name, data in cases.items():
        with open(s.journal, "wb") as f:
            f.write(data)
        s.start(expect_ready=False)
        assert s.wait_exit() == 1, name
        assert "refusing to start" in s.log, (name, s.log)
        s.check_sanitizers()
    with open(s.journal, "wb") as f:
        f.write(good)
    s.start()
    s.hello()
    assert s.request(w.SIGN, 800, sign_body("member", "client", keys["p256"],
                                            cn="CAcert WoT Member")).payload == a.payload


@pytest.mark.parametrize("line,needle", [
    ("bogus 1", "unknown directive 'bogus'"),
    ("baud 12345", "not a standard speed"),
    ("deadman 0", "deadman 0"),
    ("ca x cert=/a key=/b profiles=client,teapot max_days=1 md=sha256 "
     "ocsp=http://o crl=http://c", "profiles=client,teapot"),
    ("ca x cert=/a key=/b profiles=client max_days=1000 md=sha256 "
     "ocsp=http://o crl=http://c", "max_days=1000"),
])
def test_config_errors(signer, line, needle):
    s = signer(extra=[line])
    word = line.split()[0]
    if word != "ca":
        s.conf_lines = [l for l in s.conf_lines if l == line or l.split()[0] != word]
    s.start(expect_ready=False)
    assert s.wait_exit() == 1
    assert needle in s.log
    # the line is named
    assert "signerd.conf:" in s.log


def test_passphrase_fd(signer):
    s = signer()
    s.start(passphrase_fd=True)
    s.hello()


def test_wrong_passphrase_refuses_start(signer, tmp_path):
    s = signer()
    bad = tmp_path / "badpass"
    bad.write_text("wrong\n")
    s.cas = dict(s.cas, passfile=str(bad))
    s.start(expect_ready=False)
    assert s.wait_exit() == 1
    assert "passphrase" in s.log


def test_cacert_ca_keys(tmp_path, cas, keys):
    """the CA hierarchy from tools/cacert-ca (encrypted PKCS#8 SubRoot keys)"""
    tool = cacert_ca_tool()
    if not tool:
        pytest.skip("tools/cacert-ca not built")
    made = cas_from_tool(tool, str(tmp_path), cas["passfile"])
    tcas = dict(cas, **made)
    s = Signer(str(tmp_path), tcas)
    try:
        s.start()
        s.hello()
        f = s.request(w.SIGN, 900, sign_body("assured", "server", keys["rsa2048"],
                                             san_dns=["tool.example"], days=365))
        check_cert(f, tcas, "assured", 365, ExtendedKeyUsageOID.SERVER_AUTH,
                   keys["rsa2048"], dns=["tool.example"])
        now = int(time.time())
        m = s.request(w.CRL, 901, crl_body("member", 1, now, now + 3600, bytes(32)))
        g = s.request(w.CRL, 902, crl_body("member", 1, now, now + 3600,
                                           m.get(w.T_TBS_SHA256)))
        tcas["member"][0].public_key().verify(g.get(w.T_SIGNATURE), m.get(w.T_TBS_SHA256),
                                              ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    finally:
        s.close()
