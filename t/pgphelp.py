# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""gpg for the OpenPGP tests: members' keys made with the real gpg in
throwaway home directories, the CA's key, and what `gpg --check-sigs` says
in a fresh keyring."""

import os
import pwd
import shutil
import subprocess
import tempfile

GPG = shutil.which("gpg") or "/usr/bin/gpg"


def new_home(prefix="cacert-pgp-"):
    """a gpg home under /tmp (reachable by signerd's unprivileged user)"""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o700)
    return d


def gpg(home, *args, input=None, check=True, passphrase=""):
    argv = [GPG, "--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback",
            "--passphrase", passphrase, *args]
    r = subprocess.run(argv, input=input, capture_output=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"gpg {' '.join(args)} failed ({r.returncode}):\n"
                             f"{r.stderr.decode('utf-8', 'replace')}")
    return r


def kill_agent(home):
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                   capture_output=True, timeout=30)


def remove_home(home):
    kill_agent(home)
    shutil.rmtree(home, ignore_errors=True)


def fingerprint(home, who):
    out = gpg(home, "--with-colons", "--list-keys", who).stdout.decode()
    return [l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:")][0]


def make_key(home, uids, algo="ed25519", expire="1y"):
    """a key with these user IDs (the first is the primary one) and an
    encryption subkey; returns its fingerprint"""
    usage = "sign" if algo.startswith(("ed", "rsa", "dsa")) else "default"
    gpg(home, "--quick-gen-key", uids[0], algo, usage, expire)
    fpr = fingerprint(home, uids[0])
    for u in uids[1:]:
        gpg(home, "--quick-add-uid", fpr, u)
    sub = "cv25519" if algo == "ed25519" else "elg2048" if algo.startswith("dsa") else algo
    gpg(home, "--quick-add-key", fpr, sub, "encr", expire)
    return fpr


def export(home, fpr, armor=True):
    return gpg(home, *(["--armor"] if armor else []), "--export", fpr).stdout


def make_ca(home, uid="CAcert Test OpenPGP Key <openpgp@test.invalid>", passphrase="",
            usage="cert"):
    """the CA's OpenPGP key (certify only); returns (fpr, armoured public key).
    Its passphrase protection is made cheap (the agent re-derives it for
    every certification)."""
    with open(os.path.join(home, "gpg-agent.conf"), "w") as f:
        f.write("s2k-calibration 20\n")
    gpg(home, "--quick-gen-key", uid, "ed25519", usage, "2y", passphrase=passphrase)
    fpr = fingerprint(home, uid)
    pub = export(home, fpr)
    kill_agent(home)
    return fpr, pub


def chown_tree(home, user):
    pw = pwd.getpwnam(user)
    for dirpath, dirnames, filenames in os.walk(home):
        for n in dirnames + filenames:
            os.chown(os.path.join(dirpath, n), pw.pw_uid, pw.pw_gid)
    os.chown(home, pw.pw_uid, pw.pw_gid)


def check_sigs(ca_pub, signed_key, member_fpr):
    """import the CA's public key and the signed key into a FRESH keyring
    and ask `gpg --check-sigs`: {uid: [(status, signer keyid), ...]}; the
    status is '!' for a good signature.  Also the packet dump (for the
    policy URL)."""
    home = new_home("cacert-check-")
    try:
        gpg(home, "--import", input=ca_pub)
        gpg(home, "--import", input=signed_key)
        out = gpg(home, "--with-colons", "--check-sigs", member_fpr).stdout.decode()
        packets = gpg(home, "--list-packets", input=signed_key).stdout.decode()
    finally:
        remove_home(home)
    sigs, cur = {}, None
    for line in out.splitlines():
        f = line.split(":")
        if f[0] == "uid":
            cur = f[9].replace("\\x3a", ":")
            sigs[cur] = []
        elif f[0] in ("sub", "pub"):
            cur = None
        elif f[0] == "sig" and cur is not None:
            sigs[cur].append((f[1], f[4]))
    return sigs, packets
