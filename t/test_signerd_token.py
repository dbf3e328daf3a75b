# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""signerd with its CA keys on a PKCS#11 token: a SoftHSM token made here
(softhsm2-util, pkcs11-tool), signerd over a pty as in test_signerd.py.
Certificates and CRL signatures are checked with openssl; a key that can
leave the token, a wrong PIN and a bad URI refuse the start; a STOP and the
dead-man end the token session."""

import datetime
import os
import shutil
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import signerwire as w
from softhsm import MODULE, Tokens
from test_signerd import Signer, check_cert, crl_body, keys, revoke_body, sign_body  # noqa: F401

PIN = "271828"
LABEL = "cacert-subroots"

pytestmark = pytest.mark.skipif(not (os.path.exists(MODULE) and shutil.which("pkcs11-tool")
                                     and shutil.which("softhsm2-util")),
                                reason="softhsm2 and opensc (pkcs11-tool) are not installed")


def p11(env, *args, pin=True):
    cmd = ["pkcs11-tool", "--module", MODULE, "--token-label", LABEL]
    if pin:
        cmd += ["--login", "--pin", PIN]
    r = subprocess.run(cmd + list(args), env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
    return r.stdout


def subroot_cert(d, name, pub_der, root_key, root_name):
    """the SubRoot certificate of a token key, issued by a file root"""
    pub = serialization.load_der_public_key(pub_der)
    now = datetime.datetime.utcnow()
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CAcert test"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"Token {name} SubRoot")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(root_name)
            .public_key(pub).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
            .sign(root_key, hashes.SHA256()))
    path = os.path.join(d, f"{name}.crt")
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert, None, path, None


@pytest.fixture(scope="module")
def token():
    """a SoftHSM token with two SubRoot keys made on it (EC P-256 and RSA
    2048, never extractable) and one extractable key; its files belong to
    the user signerd drops to, as on a signing host"""
    t = Tokens("cacert-token-", [LABEL], PIN)
    d, env = t.dir, t.env
    p11(env, "--keypairgen", "--key-type", "EC:prime256v1", "--label", "member", "--id", "01")
    p11(env, "--keypairgen", "--key-type", "rsa:2048", "--label", "assured", "--id", "02")
    p11(env, "--keypairgen", "--key-type", "EC:prime256v1", "--label", "loose", "--id", "03",
        "--extractable")
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Token test root")])
    cas = {"dir": d}
    for name in ("member", "assured", "loose"):
        pub = p11(env, "--read-object", "--type", "pubkey", "--label", name)
        cas[name] = subroot_cert(d, name, pub, root_key, root_name)
    pf = os.path.join(d, "pin")
    with open(pf, "w") as f:
        f.write(PIN + "\n")
    os.chmod(pf, 0o600)
    cas["passfile"] = pf
    t.give_to("nobody")
    yield cas, t.conf, env
    shutil.rmtree(d, ignore_errors=True)


def uri(name, **extra):
    s = f"pkcs11:token={LABEL};object={name};type=private"
    for k, v in extra.items():
        s += f";{k}={v}"
    return s


def ca_lines(cas, member_key=None, assured_key=None):
    return [
        f"ca member cert={cas['member'][2]} key={member_key or uri('member')} "
        "profiles=client,server max_days=180 md=sha256,sha384 "
        "ocsp=http://ocsp.test.invalid crl=http://crl.test.invalid/member.crl",
        f"ca assured cert={cas['assured'][2]} key={assured_key or uri('assured', id='%02')} "
        "profiles=client,server,codesign max_days=730 md=sha256 "
        "ocsp=http://ocsp.test.invalid crl=http://crl.test.invalid/assured.crl",
    ]


@pytest.fixture
def tsigner(tmp_path, token, monkeypatch):
    cas, conf, env = token
    monkeypatch.setenv("SOFTHSM2_CONF", conf)
    made = []

    def make(lines=None, extra=("pkcs11-module " + MODULE,), **kw):
        s = Signer(str(tmp_path), cas, extra=list(extra),
                   ca_lines=lines if lines is not None else ca_lines(cas), **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def openssl_verify(tmp_path, cas, ca, der):
    """openssl checks the signature of the certificate with the SubRoot's
    certificate (partial chain: the SubRoot is the trust anchor here)"""
    leaf = tmp_path / "leaf.der"
    leaf.write_bytes(der)
    pem = tmp_path / "leaf.pem"
    subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(leaf), "-out", str(pem)],
                   check=True, capture_output=True)
    r = subprocess.run(["openssl", "verify", "-partial_chain", "-CAfile", cas[ca][2],
                        "-purpose", "any", str(pem)], capture_output=True, text=True)
    assert r.returncode == 0 and ": OK" in r.stdout, r.stdout + r.stderr


def test_sign_revoke_and_crl_with_token_keys(tsigner, token, keys, tmp_path):
    cas = token[0]
    s = tsigner()
    s.start()
    s.hello()
    assert "logged out" not in s.log
    f = s.request(w.SIGN, 11, sign_body("member", "client", keys["p256"], days=90,
                                        cn="CAcert WoT Member", email="t@example.org",
                                        san_email=["t@example.org"]))
    check_cert(f, cas, "member", 90, ExtendedKeyUsageOID.CLIENT_AUTH, keys["p256"],
               emails=["t@example.org"])
    openssl_verify(tmp_path, cas, "member", f.get(w.T_CERT))
    g = s.request(w.SIGN, 12, sign_body("assured", "server", keys["rsa2048"], days=365,
                                        cn="www.example.org", san_dns=["www.example.org"]))
    check_cert(g, cas, "assured", 365, ExtendedKeyUsageOID.SERVER_AUTH, keys["rsa2048"],
               dns=["www.example.org"])
    openssl_verify(tmp_path, cas, "assured", g.get(w.T_CERT))
    # revocation, and a CRL signature over the digest signerd computes
    serial = g.get(w.T_SERIAL)
    r = s.request(w.REVOKE, 13, revoke_body("assured", serial, 1))
    assert r.type == w.REVOKED
    now = int(time.time())
    d = s.request(w.CRL, 14, crl_body("assured", 1, now, now + 86400, bytes(32)))
    digest = d.get(w.T_TBS_SHA256)
    c = s.request(w.CRL, 15, crl_body("assured", 1, now, now + 86400, digest))
    sig = c.get(w.T_SIGNATURE)
    assert sig and c.uint(w.T_COUNT) == 1
    # openssl checks the RSA signature over that digest with the SubRoot key
    (tmp_path / "digest").write_bytes(digest)
    (tmp_path / "sig").write_bytes(sig)
    pub = tmp_path / "pub.pem"
    subprocess.run(["openssl", "x509", "-in", cas["assured"][2], "-pubkey", "-noout",
                    "-out", str(pub)], check=True)
    v = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub),
                        "-in", str(tmp_path / "digest"), "-sigfile", str(tmp_path / "sig"),
                        "-pkeyopt", "digest:sha256"], capture_output=True, text=True)
    assert v.returncode == 0 and "Success" in v.stdout, v.stdout + v.stderr
    s.stop()
    assert "logged out of 1 token" in s.log and "keys wiped" in s.log


def test_stop_ends_the_token_session(tsigner, keys):
    s = tsigner()
    s.start()
    s.hello()
    f = s.request(w.SIGN, 21, sign_body("member", "client", keys["p256"], days=9999,
                                        cn="CAcert WoT Member"))
    assert f.type == w.STOP
    assert s.wait_exit() == 3
    assert "logged out of 1 token" in s.log


def test_deadman_ends_the_token_session(tsigner, keys):
    s = tsigner(deadman=2)
    s.start()
    assert s.wait_exit(timeout=15) == 4
    assert "logged out of 1 token" in s.log
    # nothing signs any more until signerd is started again (and logs in)
    s.send(w.SIGN, 31, sign_body("member", "client", keys["p256"], cn="CAcert WoT Member"))
    with pytest.raises(AssertionError, match="no answer"):
        s.recv(timeout=2)
    s.start()
    s.hello()
    f = s.request(w.SIGN, 32, sign_body("member", "client", keys["p256"],
                                        cn="CAcert WoT Member"))
    assert f.type == w.CERT


@pytest.mark.parametrize("member_key,needle", [
    (uri("loose"), "the key is extractable"),
    (uri("nosuchkey"), "no such private key"),
    ("pkcs11:token=other-token;object=member;type=private", "no such token"),
])
def test_refused_token_keys(tsigner, token, member_key, needle):
    cas = token[0]
    lines = ca_lines(cas, member_key=member_key)
    if "loose" in member_key:
        lines[0] = lines[0].replace(cas["member"][2], cas["loose"][2])
    s = tsigner(lines=lines)
    s.start(expect_ready=False)
    assert s.wait_exit() == 1
    assert needle in s.log and "ready on" not in s.log


@pytest.mark.parametrize("key,needle", [
    (uri("member") + "?pin-value=" + PIN, "must not carry the PIN"),
    (uri("member") + ";type=cert", "type given twice"),
    ("pkcs11:token=x;object=%zz", "bad %-escape"),
    ("pkcs11:token=x", "must name the key"),
])
def test_bad_uris_refused_by_the_config(tsigner, token, key, needle):
    s = tsigner(lines=ca_lines(token[0], member_key=key))
    s.start(expect_ready=False)
    assert s.wait_exit() == 1
    assert needle in s.log


def test_a_token_key_needs_the_module_directive(tsigner):
    s = tsigner(extra=())
    s.start(expect_ready=False)
    assert s.wait_exit() == 1
    assert "needs the 'pkcs11-module' directive" in s.log


def test_wrong_pin_refuses_start(tsigner, token, tmp_path):
    cas = dict(token[0])
    bad = tmp_path / "badpin"
    bad.write_text("000000\n")
    cas["passfile"] = str(bad)
    s = tsigner()
    s.cas = cas
    s.start(expect_ready=False)
    assert s.wait_exit() == 1
    assert "login failed" in s.log


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: signerd drops to another user")
def test_a_token_the_unprivileged_user_cannot_reach_refuses_start(tsigner, token, tmp_path,
                                                                  monkeypatch):
    """signerd logs in as root, then signs once with every key as the user
    it drops to: a token that user cannot reach is found at start, not at
    the first request"""
    cas, conf, env = token
    tokens = tmp_path / "tokens"
    shutil.copytree(os.path.join(cas["dir"], "tokens"), tokens)
    for root, dirs, files in os.walk(tokens):
        for n in [root] + [os.path.join(root, x) for x in files]:
            os.chown(n, 0, 0)
            os.chmod(n, 0o700 if os.path.isdir(n) else 0o600)
    root_conf = tmp_path / "softhsm2.conf"
    root_conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                         "log.level = ERROR\n")
    s = tsigner()
    monkeypatch.setenv("SOFTHSM2_CONF", str(root_conf))
    s.start(expect_ready=False)
    assert s.wait_exit() == 1
    assert "cannot sign as this user" in s.log and "ready on" not in s.log
    assert "logged out of 1 token" in s.log
