# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""mod_cacert_ocsp on its own: a second httpd beside the stack's that loads
no other cacert module (not mod_cacert_account, issue or assure), only what
the responder needs (mod_dbd, mod_socache_shmcb, mod_watchdog built in),
against the stack's database.  It prepares its own statements: it answers
for a certificate the stack issued (good) and for one it revoked, as
openssl ocsp and python3-cryptography read the answers."""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

import cacertstack
from cacertstack import HTTPD_BIN, HTTPD_MODDIR, HTTPD_USER, bad_log_lines
from issuing import download, issue, member, revoke

CONF = """\
ServerRoot "{dir}"
PidFile "{dir}/httpd.pid"
DefaultRuntimeDir "{dir}"
Mutex file:{dir} default
ServerName localhost
Timeout 30
GracefulShutdownTimeout 5
<IfModule !mpm_event_module>
    LoadModule mpm_event_module {moddir}/mod_mpm_event.so
</IfModule>
<IfModule !authz_core_module>
    LoadModule authz_core_module {moddir}/mod_authz_core.so
</IfModule>
<IfModule !unixd_module>
    LoadModule unixd_module {moddir}/mod_unixd.so
</IfModule>
<IfModule !socache_shmcb_module>
    LoadModule socache_shmcb_module {moddir}/mod_socache_shmcb.so
</IfModule>
<IfModule !dbd_module>
    LoadModule dbd_module {moddir}/mod_dbd.so
</IfModule>
<IfModule !watchdog_module>
    LoadModule watchdog_module {moddir}/mod_watchdog.so
</IfModule>
{user_group}
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 2
    ThreadsPerChild 10
    MinSpareThreads 10
    MaxSpareThreads 20
    MaxRequestWorkers 20
</IfModule>
ErrorLog "{dir}/error.log"
LogLevel warn
Listen 127.0.0.1:{port}
<Directory />
    Require all denied
</Directory>
DBDriver pgsql
DBDParams "host={pgsock} dbname=cacert user=cacert"
DBDPersist on
DBDMin 1
DBDKeep 2
DBDMax 4

LoadModule cacert_ocsp_module "{builddir}/modules/.libs/mod_cacert_ocsp.so"
CAcertOCSPResponder member "{ca}/member.crt" "{ca}/ocsp-member.crt" "{ca}/ocsp-member.key"
CAcertOCSPResponder assured "{ca}/assured.crt" "{ca}/ocsp-assured.crt" "{ca}/ocsp-assured.key"
CAcertOCSPCache "shmcb:{dir}/ocsp_cache(512000)"
Mutex file:{dir} cacert-ocsp-cache
<Location "/ocsp">
    SetHandler cacert-ocsp
    Require all granted
</Location>
"""


@pytest.fixture(scope="module")
def alone(stack):
    """The second httpd: its URL; its error log must stay clean."""
    d = tempfile.mkdtemp(prefix="cacert-ocsp-alone-", dir="/tmp")
    os.chmod(d, 0o755)      # the children (www-data when root) reopen the mutex file
    port = cacertstack.free_port()
    root = os.geteuid() == 0
    conf = os.path.join(d, "httpd.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(dir=d, moddir=HTTPD_MODDIR, port=port,
                            user_group=(f"User {HTTPD_USER}\nGroup {HTTPD_USER}"
                                        if root else ""),
                            pgsock=stack.pg_socket_dir, builddir=stack.builddir,
                            ca=os.path.join(stack.ca_dir, "web")))
    loaded = subprocess.run([HTTPD_BIN, "-M", "-f", conf], capture_output=True, text=True,
                            env=stack.httpd_env(), cwd=d)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    for other in ("cacert_account", "cacert_issue", "cacert_assure"):
        assert other not in loaded.stdout
    assert "cacert_ocsp_module" in loaded.stdout
    out = open(os.path.join(d, "httpd.stderr"), "ab")
    proc = subprocess.Popen([HTTPD_BIN, "-f", conf, "-DFOREGROUND"], stdin=subprocess.DEVNULL,
                            stdout=out, stderr=out, env=stack.httpd_env(), cwd=d,
                            start_new_session=True)
    out.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + (60 if stack.asan else 30)
    while not cacertstack.port_in_use(port):
        assert proc.poll() is None, "httpd exited: " + _read(os.path.join(d, "httpd.stderr")) \
            + _read(os.path.join(d, "error.log"))
        assert time.monotonic() < deadline, "httpd did not answer"
        time.sleep(0.05)
    yield url, os.path.join(d, "error.log")
    proc.send_signal(signal.SIGWINCH)       # graceful stop, as the stack does
    try:
        proc.wait(timeout=60 if stack.asan else 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    bad = bad_log_lines(_read(os.path.join(d, "error.log")).splitlines())
    shutil.rmtree(d, ignore_errors=True)
    assert not bad, "unexpected lines in the OCSP-only httpd's error log:\n" + "\n".join(bad)


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def ca_file(stack, name):
    return os.path.join(stack.ca_dir, "web", name + ".crt")


def openssl_ocsp(stack, url, cert_path, *extra):
    p = subprocess.run(["openssl", "ocsp", "-issuer", ca_file(stack, "member"),
                        "-cert", cert_path, "-url", url + "/ocsp",
                        "-CAfile", ca_file(stack, "root"),
                        "-verify_other", ca_file(stack, "member"), *extra],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def python_status(stack, url, cert):
    with open(ca_file(stack, "member"), "rb") as f:
        issuer = x509.load_pem_x509_certificate(f.read())
    der = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()) \
        .build().public_bytes(serialization.Encoding.DER)
    r = requests.post(url + "/ocsp", data=der,
                      headers={"Content-Type": "application/ocsp-request"}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/ocsp-response"
    resp = ocsp.load_der_ocsp_response(r.content)
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert resp.serial_number == cert.serial_number
    return resp


def test_good_then_revoked(http, stack, db, alone):
    url, _ = alone
    member(http, stack, db, points=10)
    cid, cert, _key = issue(http, profile="client", email0="yes")
    d = tempfile.mkdtemp(prefix="cacert-ocsp-alone-cert-")
    try:
        path = os.path.join(d, "cert.pem")
        with open(path, "wb") as f:
            f.write(download(http, cid))
        rc, out = openssl_ocsp(stack, url, path)
        assert rc == 0 and "Response verify OK" in out and ": good" in out, out
        assert python_status(stack, url, cert).certificate_status == ocsp.OCSPCertStatus.GOOD

        # revoked through the stack's pages.  openssl asks with a nonce:
        # the answer is signed afresh from the database.  (The SHA-256
        # answer above stays in this httpd's cache: revocations clear the
        # cache of the httpd whose mod_cacert_issue records them only.)
        revoke(http, cid)
        rc, out = openssl_ocsp(stack, url, path)
        assert rc == 0 and "Response verify OK" in out and ": revoked" in out, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_revoked_certificate_never_asked_before(http, stack, db, alone):
    """The SHA-256 answer for a certificate revoked before its first
    question: revoked, with the time of the revocation."""
    url, _ = alone
    member(http, stack, db, points=10)
    cid, cert, _key = issue(http, profile="client", email0="yes")
    revoke(http, cid)
    resp = python_status(stack, url, cert)
    assert resp.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert resp.revocation_time is not None
