# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The step from the harness to the world: scripts/run from a fresh clone in
a private (0700) folder, as root and as a normal user, does everything the
README promises, and says "running" only when every part answers.

The clone is made from this checkout (its committed state plus the changed
and new files of the working tree), built by scripts/run itself and started
on free ports with its own state, beside the session's stack.  It runs once,
in the pass without sanitizers (it is about folders, users and start-up,
not memory; the ASan pass covers the same code through the session stack).
"""

import datetime
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import cacertstack
from conftest import StackSession
from accounts import PASSWORD, csrf_of, login, post, registered_member
from issuing import download, make_csr, new_key, request_form, wait_for_cert
from test_domains import claim, cookie_of, probe
from wot import assure

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASAN = os.environ.get("CACERT_ASAN", "").lower() not in ("", "0", "no", "false")
pytestmark = pytest.mark.skipif(ASAN, reason="deployment test: runs in the pass without "
                                "sanitizers")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_clone(dest):
    """git clone of this checkout, with the working tree's changed and new
    (not ignored) files laid over it: what a user gets from a clone."""
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", REPO, dest], check=True)
    changed = subprocess.run(["git", "-C", REPO, "ls-files", "-z", "-m", "-o",
                              "--exclude-standard"], capture_output=True, check=True
                             ).stdout.split(b"\0")
    for rel in filter(None, (c.decode() for c in changed)):
        src = os.path.join(REPO, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))
    deleted = subprocess.run(["git", "-C", REPO, "ls-files", "-z", "-d"], capture_output=True,
                             check=True).stdout.split(b"\0")
    for rel in filter(None, (d.decode() for d in deleted)):
        if os.path.exists(os.path.join(dest, rel)):
            os.unlink(os.path.join(dest, rel))


def run(clone, *args, user=None, env=None, timeout=900):
    e = dict(os.environ, CACERT_PORT=str(free_port()), CACERT_JOBS="2")
    e.pop("CACERT_BUILDDIR", None)
    e.update(env or {})
    argv = [os.path.join(clone, "scripts", "run"), *args]
    if user:
        argv = ["runuser", "-u", user, "--", "env",
                *[f"{k}={v}" for k, v in e.items() if k.startswith("CACERT_")]] + argv
    return subprocess.run(argv, cwd=clone, env=e, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def private_clone():
    """A clone in a 0700 folder, built and started with scripts/run --detach."""
    if os.geteuid() != 0:
        pytest.skip("needs root (it also runs the stack as a normal user)")
    top = tempfile.mkdtemp(prefix="cacert-private-")
    os.chmod(top, 0o700)
    clone = os.path.join(top, "cacert-httpd")
    make_clone(clone)
    r = run(clone, "--detach")
    if r.returncode != 0:
        run(clone, "stop")
        shutil.rmtree(top, ignore_errors=True)
        pytest.fail(f"scripts/run --detach failed in {clone}:\n{r.stdout[-6000:]}\n"
                    f"{r.stderr[-6000:]}", pytrace=False)
    s = cacertstack.Stack.load(os.path.join(clone, ".run", "demo"))
    s.banner_text = r.stdout
    yield clone, s
    run(clone, "stop")
    side = s.shared
    shutil.rmtree(top, ignore_errors=True)
    if side and side.startswith(tempfile.gettempdir() + "/cacert-stack-"):
        shutil.rmtree(side, ignore_errors=True)


def session_for(stack):
    return StackSession(stack)


def test_private_clone_reports_every_part_running(private_clone):
    clone, s = private_clone
    assert "cacert-httpd is running" in s.banner_text
    r = run(clone, "status")
    assert r.returncode == 0, r.stdout + r.stderr
    for part in ("postgres", "mail sink", "httpd", "signer", "ocsp"):
        assert re.search(rf"^\s+{part}\s+ok\b", r.stdout, re.M), r.stdout
    assert re.search(r"^state\s+running$", r.stdout, re.M), r.stdout
    # the folder stayed private: nothing was opened up to other users
    assert os.stat(os.path.dirname(clone)).st_mode & 0o777 == 0o700
    # no start of httpd logged a library version mismatch
    assert not s.mismatch_lines(0)


def test_private_clone_demo_gives_a_newcomer_an_assured_server_certificate(private_clone):
    """The demo, with nothing edited: register, be assured by the two demo
    Assurers (35 + 35 points), prove a domain by the DNS and the file check
    (published with scripts/run publish-txt / publish-file), and get an
    Assured SubRoot server certificate that the demo's OCSP responder knows."""
    clone, s = private_clone
    logins = s.demo_assurer_logins()
    assert len(logins) == 2
    me_http = session_for(s)
    me = registered_member(me_http, s, given="Nora", family="Newcomer")
    for email, password in logins:
        a = session_for(s)
        assert login(a, email, password).status_code == 303
        r = assure(a, me, 35)
        assert r.status_code == 303, r.text[:2000]
    assert login(me_http, me["email"], PASSWORD).status_code == 303
    assert s.psql("SELECT sum(points) FROM assurances a JOIN emails e ON e.member_id ="
                  f" a.assuree_id WHERE e.address = '{me['email']}'").stdout.strip() == "70"

    name = f"nora{os.getpid()}.example.test"
    did = claim(me_http, name)
    cookie = cookie_of(me_http, did)
    r = run(clone, "publish-txt", f"_cacert.{name}", cookie)
    assert r.returncode == 0, r.stderr
    r = probe(me_http, did, "dns")
    assert r.status_code == 200 and "The check passed" in r.text, r.text[:2000]
    r = run(clone, "publish-file", name, cookie)
    assert r.returncode == 0, r.stderr
    r = probe(me_http, did, "http")
    assert r.status_code == 200 and "The check passed" in r.text, r.text[:2000]

    key = new_key()
    cid = wait_for_cert(me_http, request_form(me_http, profile="server",
                                              hosts=f"www.{name} {name}",
                                              csr=make_csr(key).decode()))
    cert = x509.load_pem_x509_certificate(download(me_http, cid))
    with open(os.path.join(s.ca_dir, "web", "assured.crt"), "rb") as f:
        assured = x509.load_pem_x509_certificate(f.read())
    assert cert.issuer == assured.subject
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {name, f"www.{name}"}
    assert ExtendedKeyUsageOID.SERVER_AUTH in \
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    left = cert.not_valid_after - cert.not_valid_before
    assert left > datetime.timedelta(days=365)         # 24 months, not 6
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value in \
        (name, f"www.{name}")
    # the demo's OCSP responder answers "good" for it
    d = tempfile.mkdtemp(prefix="cacert-deploy-")
    try:
        path = os.path.join(d, "cert.pem")
        with open(path, "wb") as f:
            f.write(download(me_http, cid))
        web = os.path.join(s.ca_dir, "web")
        p = subprocess.run(["openssl", "ocsp", "-issuer", os.path.join(web, "assured.crt"),
                            "-cert", path, "-url", s.http_url + "/ocsp",
                            "-CAfile", os.path.join(web, "root.crt"),
                            "-verify_other", os.path.join(web, "assured.crt")],
                           capture_output=True, text=True, timeout=30)
        assert "Response verify OK" in p.stdout + p.stderr and ": good" in p.stdout, \
            p.stdout + p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_https_of_the_demo_verifies_with_its_tls_ca(private_clone):
    """Trusting the demo TLS CA file works in Python and in curl and openssl,
    which refuse a self-signed CA:FALSE leaf as anchor."""
    clone, s = private_clone
    with open(s.cert_file, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert bc.ca and bc.path_length == 0
    r = requests.get(s.url + "/account/login", verify=s.cert_file, timeout=30)
    assert r.status_code == 200
    c = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                        "--cacert", s.cert_file, s.url + "/account/login"],
                       capture_output=True, text=True, timeout=30)
    if c.returncode != 127:                     # curl is not in every set-up
        assert c.stdout == "200", c.stderr
    o = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{s.port}",
                        "-servername", "localhost", "-verify_hostname", "localhost",
                        "-CAfile", s.cert_file, "-verify_return_error", "-brief"],
                       input="", capture_output=True, text=True, timeout=30)
    assert o.returncode == 0 and "Verification: OK" in o.stderr, o.stderr


def test_broken_signerd_configuration_makes_run_fail_naming_signerd(private_clone):
    clone, s = private_clone
    r = run(clone, "stop")
    assert r.returncode == 0, r.stderr
    with open(s.passphrase_file) as f:
        good = f.read()
    try:
        with open(s.passphrase_file, "w") as f:
            f.write("not-the-passphrase\n")
        r = run(clone, "--detach")
        out = r.stdout + r.stderr
        assert r.returncode != 0, out
        assert "is running" not in out
        assert re.search(r"signer is not working: signerd is not running: .*CA\d{5}", out), out
        # nothing is left running
        st = cacertstack.Stack.load(s.dir).status()
        assert not st["running"], st
    finally:
        with open(s.passphrase_file, "w") as f:
            f.write(good)
    r = run(clone, "--detach")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_private_clone_runs_for_a_normal_user(private_clone):
    """A user without root: the clone in their own 0700 home; everything
    runs as that user (no www-data, no postgres user)."""
    clone, s = private_clone
    user = "cacert-demo-user"
    if subprocess.run(["id", user], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", user], check=True)
    home = pwd.getpwnam(user).pw_dir
    os.chmod(home, 0o700)
    mine = os.path.join(home, "cacert-httpd")
    shutil.rmtree(mine, ignore_errors=True)
    # the user's own copy of the built clone (the build is reused: make
    # finds it up to date)
    subprocess.run(["cp", "-a", clone, mine], check=True)
    shutil.rmtree(os.path.join(mine, ".run"), ignore_errors=True)
    subprocess.run(["chown", "-R", f"{user}:{user}", mine], check=True)
    try:
        r = run(mine, "--detach", user=user)
        assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-6000:]
        assert "cacert-httpd is running" in r.stdout
        st = run(mine, "status", user=user)
        assert st.returncode == 0 and re.search(r"^\s+signer\s+ok\b", st.stdout, re.M), st.stdout
        us = cacertstack.Stack.load(os.path.join(mine, ".run", "demo"))
        # every process of the stack runs as the user
        uid = pwd.getpwnam(user).pw_uid
        for pid in (us.httpd_pid(), us.pg_running(), us.pids.get("signerd")):
            assert pid and os.stat(f"/proc/{pid}").st_uid == uid
        http = session_for(us)
        m = registered_member(http, us)
        assert login(http, m["email"]).status_code == 303
        r = post(http, "/certs/new", {"profile": "client", "email0": "yes", "md": "sha256",
                                      "csr": make_csr(new_key()).decode()})
        # 0 points: refused with the rule, not an internal error
        assert r.status_code in (200, 422) and "point" in r.text, r.text[:1000]
        assert csrf_of(http.get("/account/").text)
    finally:
        run(mine, "stop", user=user)
        shutil.rmtree(mine, ignore_errors=True)
