# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""signerd certifies OpenPGP keys with a CA key held on a PKCS#11 token
(SoftHSM, made here): the key pair is made on the token, gpg reaches it
through gnupg-pkcs11-scd (the agent's scdaemon), and the OpenPGP key is
made from the token's keygrip.  The certification is checked with gpg in a
fresh keyring; the agent (and the token session) goes when signerd stops."""

import os
import shutil
import subprocess
import urllib.parse

import pytest

import pgphelp
import signerwire as w
from test_signerd import PASSPHRASE, Signer, cas  # noqa: F401
from test_signerd_openpgp import CPS, GOOD, NAME, member_key, pgpsign  # noqa: F401
from softhsm import MODULE, Tokens

SCD = "/usr/bin/gnupg-pkcs11-scd"
ENGINE = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so"
LABEL = "cacert-openpgp"
UID = "CAcert Token OpenPGP Key <openpgp@token.invalid>"

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (MODULE, SCD, ENGINE))
    or not shutil.which("pkcs11-tool"),
    reason="softhsm2, gnupg-pkcs11-scd, libengine-pkcs11-openssl and opensc are needed")


def run(argv, env, **kw):
    r = subprocess.run(argv, env=env, capture_output=True, timeout=120, **kw)
    assert r.returncode == 0, (argv, r.stdout, r.stderr)
    return r


@pytest.fixture(scope="module")
def token_pgp():
    """the CA's OpenPGP key on a token: RSA 2048 made on it (never
    extractable), its certificate beside it (gnupg-pkcs11-scd finds keys by
    their certificates), the OpenPGP key made from its keygrip; the token's
    PIN is signerd's passphrase"""
    pin = PASSPHRASE.decode()
    t = Tokens("cacert-pgp-token-", [LABEL], pin)
    d, env, conf = t.dir, t.env, t.conf
    home = os.path.join(d, "home")
    os.mkdir(home, 0o700)
    p11 = ["pkcs11-tool", "--module", MODULE, "--token-label", LABEL, "--login", "--pin", pin]
    run(p11 + ["--keypairgen", "--key-type", "rsa:2048", "--label", "openpgp", "--id", "0a"],
        env)
    uri = (f"pkcs11:token={LABEL};object=openpgp;type=private;"
           f"pin-value={urllib.parse.quote(pin)}")
    cert = os.path.join(d, "cert.der")
    run(["openssl", "req", "-new", "-x509", "-days", "3650", "-subj",
         "/CN=CAcert Token OpenPGP Key", "-engine", "pkcs11", "-keyform", "engine",
         "-key", uri, "-outform", "DER", "-out", cert], env)
    run(p11 + ["--write-object", cert, "--type", "cert", "--id", "0a", "--label", "openpgp"],
        env)
    with open(os.path.join(home, "gnupg-pkcs11-scd.conf"), "w") as f:
        f.write(f"providers p1\nprovider-p1-library {MODULE}\n")
    with open(os.path.join(home, "gpg-agent.conf"), "w") as f:
        f.write(f"scdaemon-program {SCD}\nallow-loopback-pinentry\n")
    # the agent learns the card: a stub of the key (a "shadowed" key) in
    # private-keys-v1.d, and its keygrip
    run(["gpg", "--homedir", home, "--batch", "--card-status"], env)
    learn = run(["gpg-connect-agent", "--homedir", home, "SCD LEARN --force", "/bye"], env)
    grip = [l.split()[2] for l in learn.stdout.decode().splitlines()
            if l.startswith("S KEYPAIRINFO")][0]
    params = os.path.join(d, "params")
    with open(params, "w") as f:
        f.write(f"Key-Type: RSA\nKey-Grip: {grip}\nKey-Usage: cert,sign\n"
                "Name-Real: CAcert Token OpenPGP Key\nName-Email: openpgp@token.invalid\n"
                "Expire-Date: 2y\n%no-protection\n%commit\n")
    run(["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase",
         pin, "--gen-key", params], env)
    fpr = pgphelp.fingerprint(home, UID)
    pub = pgphelp.export(home, fpr)
    run(["gpgconf", "--homedir", home, "--kill", "all"], env)
    if os.geteuid() == 0:
        pgphelp.chown_tree(home, "nobody")
    t.give_to("nobody")
    yield {"home": home, "fpr": fpr, "pub": pub, "conf": conf, "env": env}
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], env=env,
                   capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def test_certifies_with_the_token_key(tmp_path, cas, token_pgp, member_key,  # noqa: F811
                                      monkeypatch):
    monkeypatch.setenv("SOFTHSM2_CONF", token_pgp["conf"])
    s = Signer(str(tmp_path), cas, extra=[
        f"openpgp home={token_pgp['home']} fpr={token_pgp['fpr']} days=30 digest=sha256 "
        f"cps={CPS} scdaemon={SCD}"])
    try:
        s.start(timeout=60)
        s.hello()
        assert "is on a token" in s.log
        assert not os.path.exists(os.path.join(token_pgp["home"], "session"))
        fpr, key = member_key
        f = s.request(w.PGPSIGN, 61, pgpsign(key, fpr, [GOOD, NAME]), timeout=60)
        assert f.type == w.PGPKEY, f
        sigs, packets = pgphelp.check_sigs(token_pgp["pub"], f.get(w.T_PGP_KEY), fpr)
        for uid in (GOOD, NAME):
            assert ("!", token_pgp["fpr"][-16:]) in sigs[uid], sigs
        assert f"policy: {CPS}" in packets
    finally:
        s.close()
    # the agent and its scdaemon are gone with signerd: the token's session too
    r = subprocess.run(["pgrep", "-f", f"gnupg-pkcs11-scd.*{token_pgp['home']}"],
                       capture_output=True)
    assert r.returncode != 0
    r = subprocess.run(["pgrep", "-f", f"gpg-agent --homedir {token_pgp['home']}"],
                       capture_output=True)
    assert r.returncode != 0
