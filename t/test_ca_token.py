# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The key ceremony on PKCS#11 tokens (SoftHSM tokens made here):
cacert-ca makes the Root's key on a token of its own and the SubRoots' on
another, never extractable; signerd signs with them; `cacert-ca verify`
checks the result and finds what is wrong; `cacert-ca renew-ocsp` renews
a responder with a token-held CA key.  Certificates are checked with
openssl."""

import os
import shutil
import subprocess

import pytest

import signerwire as w
from test_signerd import Signer, cacert_ca_tool, keys, sign_body  # noqa: F401
from softhsm import MODULE, Tokens
from test_signerd_token import PIN

pytestmark = pytest.mark.skipif(not (os.path.exists(MODULE) and shutil.which("pkcs11-tool")
                                     and shutil.which("softhsm2-util")),
                                reason="softhsm2 and opensc (pkcs11-tool) are not installed")

SUBS = "ceremony-subroots"
ROOT = "ceremony-root"


def tool(*args, env=None, check=True):
    r = subprocess.run([cacert_ca_tool(), *args], capture_output=True, text=True, env=env,
                       timeout=300)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


@pytest.fixture(scope="module")
def ceremony():
    if not cacert_ca_tool():
        pytest.skip("tools/cacert-ca not built")
    t = Tokens("cacert-ceremony-", [SUBS, ROOT], PIN)
    d, env, conf = t.dir, t.env, t.conf
    pin = os.path.join(d, "pin")
    with open(pin, "w") as f:
        f.write(PIN + "\n")
    top = os.path.join(d, "ca")
    r = tool("init", "--dir", top, "--name", "CAcert Token", "--key-type", "ec:P-256",
             "--passphrase-file", pin, "--pkcs11-module", MODULE, "--token", SUBS,
             "--root-token", ROOT, "--ocsp-base", "http://ocsp.test.invalid",
             "--crl-base", "http://crl.test.invalid", env=env)
    t.give_to("nobody")
    yield {"dir": top, "env": env, "conf": conf, "pin": pin, "out": r.stdout, "tmp": d}
    shutil.rmtree(d, ignore_errors=True)


def objects(env, label):
    r = subprocess.run(["pkcs11-tool", "--module", MODULE, "--token-label", label, "--login",
                        "--pin", PIN, "-O"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def signerd_lines(c):
    uri = {n: open(os.path.join(c["dir"], "signer", f"{n}.uri")).read().strip()
           for n in ("member", "assured")}
    return [
        f"ca member cert={c['dir']}/signer/member.crt key={uri['member']} "
        "profiles=client,server max_days=180 md=sha256 ocsp=http://ocsp.test.invalid "
        "crl=http://crl.test.invalid/member.crl",
        f"ca assured cert={c['dir']}/signer/assured.crt key={uri['assured']} "
        "profiles=client,server max_days=730 md=sha256 ocsp=http://ocsp.test.invalid "
        "crl=http://crl.test.invalid/assured.crl",
    ]


def test_keys_are_made_on_the_tokens_and_never_leave(ceremony):
    c = ceremony
    for n in ("member", "assured", "org"):
        assert os.path.exists(os.path.join(c["dir"], "signer", f"{n}.uri"))
        assert not os.path.exists(os.path.join(c["dir"], "signer", f"{n}.key"))
        uri = open(os.path.join(c["dir"], "signer", f"{n}.uri")).read()
        assert uri.startswith(f"pkcs11:token={SUBS};object={n};id=%") and "pin" not in uri
    assert os.path.exists(os.path.join(c["dir"], "offline", "root.uri"))
    assert not os.path.exists(os.path.join(c["dir"], "offline", "root.key"))
    subs = objects(c["env"], SUBS)
    assert subs.count("Private Key Object") == 3
    assert subs.count("never extractable") == 3 and "Access:     sensitive" in subs
    root = objects(c["env"], ROOT)
    assert root.count("Private Key Object") == 1 and "never extractable" in root
    # the summary tells the operator what to put into signerd.conf
    assert f"key=pkcs11:token={SUBS};object=member" in c["out"]
    # openssl: each SubRoot under the Root, each responder under its SubRoot
    web = os.path.join(c["dir"], "web")
    for n in ("member", "assured", "org"):
        r = subprocess.run(["openssl", "verify", "-x509_strict", "-CAfile",
                            os.path.join(web, "root.crt"), os.path.join(web, f"{n}.crt")],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        r = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(web, "root.crt"),
                            "-untrusted", os.path.join(web, f"{n}.crt"), "-purpose", "any",
                            os.path.join(web, f"ocsp-{n}.crt")], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["openssl", "crl", "-in", os.path.join(web, "root.crl"), "-inform",
                        "DER", "-CAfile", os.path.join(web, "root.crt"), "-noout"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "verify OK" in r.stderr + r.stdout, r.stdout + r.stderr


def test_signerd_signs_with_the_ceremony_keys(ceremony, keys, tmp_path, monkeypatch):
    c = ceremony
    monkeypatch.setenv("SOFTHSM2_CONF", c["conf"])
    cas = {"dir": c["tmp"], "passfile": c["pin"]}
    s = Signer(str(tmp_path), cas, extra=[f"pkcs11-module {MODULE}"],
               ca_lines=signerd_lines(c))
    try:
        s.start()
        s.hello()
        f = s.request(w.SIGN, 31, sign_body("member", "client", keys["p256"], days=90,
                                            cn="CAcert WoT Member", email="c@example.org",
                                            san_email=["c@example.org"]))
        assert f.type == w.CERT, f
        leaf = tmp_path / "leaf.der"
        leaf.write_bytes(f.get(w.T_CERT))
        pem = tmp_path / "leaf.pem"
        subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(leaf), "-out",
                        str(pem)], check=True)
        web = os.path.join(c["dir"], "web")
        r = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(web, "root.crt"),
                            "-untrusted", os.path.join(web, "member.crt"), str(pem)],
                           capture_output=True, text=True)
        assert r.returncode == 0 and ": OK" in r.stdout, r.stdout + r.stderr
    finally:
        s.close()
    assert "logged out of 1 token" in s.log


def write_conf(c, path, lines):
    with open(path, "w") as f:
        f.write(f"pkcs11-module {MODULE}\n" + "\n".join(lines) + "\n")


def test_verify_passes_on_the_ceremony(ceremony, tmp_path):
    c = ceremony
    conf = tmp_path / "signerd.conf"
    write_conf(c, conf, signerd_lines(c))
    r = tool("verify", "--dir", c["dir"], "--signerd-conf", str(conf), "--passphrase-file",
             c["pin"], env=c["env"])
    assert "0 errors, 0 warnings" in r.stdout, r.stdout
    assert "signerd's key for ca member belongs to" in r.stdout
    assert "ocsp-org.crt is org's OCSP responder" in r.stdout


def test_verify_finds_what_is_wrong(ceremony, tmp_path):
    c = ceremony
    bad = str(tmp_path / "ca")
    shutil.copytree(c["dir"], bad)
    web = os.path.join(bad, "web")
    # the web host has the wrong certificate for member, and org's responder
    # key was replaced
    shutil.copy(os.path.join(web, "assured.crt"), os.path.join(web, "member.crt"))
    shutil.copy(os.path.join(web, "ocsp-assured.key"), os.path.join(web, "ocsp-org.key"))
    conf = tmp_path / "signerd.conf"
    write_conf(c, conf, signerd_lines(c))
    r = tool("verify", "--dir", bad, "--signerd-conf", str(conf), "--passphrase-file",
             c["pin"], env=c["env"], check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert "chain-member.pem is not the CA's certificate" in out
    assert "ocsp-member.crt is not issued by" in out
    assert "ocsp-org.key is not the key of" in out
    assert "signerd's certificate for ca member" in out and "is not the web host's" in out
    # signerd's assured key does not belong to a certificate it is not
    lines = signerd_lines(c)
    lines[1] = lines[1].replace("object=assured", "object=org").replace(
        open(os.path.join(c["dir"], "signer", "assured.uri")).read().strip().split(";id=")[1]
        .split(";")[0], open(os.path.join(c["dir"], "signer", "org.uri")).read().strip()
        .split(";id=")[1].split(";")[0])
    write_conf(c, conf, lines)
    r = tool("verify", "--dir", c["dir"], "--signerd-conf", str(conf), "--passphrase-file",
             c["pin"], env=c["env"], check=False)
    assert r.returncode == 1 and "signerd's key for ca assured" in r.stdout, r.stdout


def test_renew_ocsp_with_a_token_key_and_expiry_warnings(ceremony, tmp_path):
    c = ceremony
    d = str(tmp_path / "ca")
    shutil.copytree(c["dir"], d)
    old = open(os.path.join(d, "web", "ocsp-member.crt")).read()
    # a responder that expires soon: verify warns
    tool("renew-ocsp", "--dir", d, "--ca", "member", "--days", "10", "--passphrase-file",
         c["pin"], "--pkcs11-module", MODULE, env=c["env"])
    r = tool("verify", "--dir", d, env=c["env"])
    assert "WARNING: " in r.stdout and "ocsp-member.crt expires in 10 days" in r.stdout, r.stdout
    assert "0 errors" in r.stdout
    # renewed for a year: no warning; the old pair kept
    tool("renew-ocsp", "--dir", d, "--ca", "member", "--passphrase-file", c["pin"],
         "--pkcs11-module", MODULE, env=c["env"])
    r = tool("verify", "--dir", d, env=c["env"])
    assert "0 errors, 0 warnings" in r.stdout, r.stdout
    new = open(os.path.join(d, "web", "ocsp-member.crt")).read()
    assert new != old and os.path.exists(os.path.join(d, "web", "ocsp-member.crt.old"))
    web = os.path.join(d, "web")
    r = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(web, "root.crt"),
                        "-untrusted", os.path.join(web, "member.crt"), "-purpose", "any",
                        os.path.join(web, "ocsp-member.crt")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # a wrong PIN changes nothing
    bad = tmp_path / "badpin"
    bad.write_text("000000\n")
    r = tool("renew-ocsp", "--dir", d, "--ca", "member", "--passphrase-file", str(bad),
             "--pkcs11-module", MODULE, env=c["env"], check=False)
    assert r.returncode == 1 and open(os.path.join(web, "ocsp-member.crt")).read() == new


def test_init_refuses_bad_token_options(tmp_path):
    if not cacert_ca_tool():
        pytest.skip("tools/cacert-ca not built")
    r = tool("init", "--dir", str(tmp_path / "x"), "--name", "X", "--token", "t", check=False)
    assert r.returncode == 2 and "--pkcs11-module" in r.stderr
    r = tool("init", "--dir", str(tmp_path / "x"), "--name", "X", "--pkcs11-module", MODULE,
             "--token", "t", "--root-token", "t", check=False)
    assert r.returncode == 2 and "token of the Root's own" in r.stderr
