# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Login with a member's client certificate (mod_ssl optional client auth),
the "disable login with this certificate" setting, and revocation."""

import os
import tempfile

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from accounts import csrf_of
from issuing import download, issue, member, revoke


@pytest.fixture
def cert_session():
    """cert_session(cert_pem, key): a requests.Session presenting that client
    certificate.  The files requests reads it from live in one temporary
    folder per test, removed (with the sessions closed) when the test ends,
    passed or failed."""
    tmp = tempfile.TemporaryDirectory(prefix="cacert-clientcert-")
    sessions = []

    def make(cert_pem, key):
        d = tempfile.mkdtemp(dir=tmp.name)
        cf, kf = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        with open(cf, "wb") as f:
            f.write(cert_pem)
        with open(kf, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        s = requests.Session()
        s.cert = (cf, kf)
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.close()
    tmp.cleanup()


def cert_login(stack, s):
    r = s.get(stack.url + "/account/login", verify=stack.cert_file)
    return s.post(stack.url + "/account/certlogin", verify=stack.cert_file,
                  data={"csrf": csrf_of(r.text)}, allow_redirects=False)


def test_login_with_a_client_certificate(http, stack, db, cert_session):
    m = member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    pem = download(http, cid)
    s = cert_session(pem, key)
    r = cert_login(stack, s)
    assert r.status_code == 303, r.text[:500]
    r = s.get(stack.url + "/account/", verify=stack.cert_file)
    assert "Welcome, Anna" in r.text and m["email"] in r.text

    # without a certificate: a clear message, no session
    plain = requests.Session()
    r = cert_login(stack, plain)
    assert r.status_code == 422 and "did not present a client certificate" in r.text

    # the member disables login with it
    r = http.get(f"/certs/view?id={cid}")
    r = http.post("/certs/edit", data={"csrf": csrf_of(r.text), "id": cid,
                                       "description": "laptop", "login_disabled": "yes"},
                  allow_redirects=False)
    assert r.status_code == 303
    r = http.get(r.headers["Location"])
    assert "have been saved" in r.text and 'value="laptop"' in r.text
    s2 = cert_session(pem, key)
    r = cert_login(stack, s2)
    assert r.status_code == 422 and "cannot be used to log in" in r.text
    r = http.post("/certs/edit", data={"csrf": csrf_of(http.get(f"/certs/view?id={cid}").text),
                                       "id": cid, "description": "laptop"},
                  allow_redirects=False)
    assert cert_login(stack, cert_session(pem, key)).status_code == 303

    # revoked: no more logins
    revoke(http, cid)
    r = cert_login(stack, cert_session(pem, key))
    assert r.status_code == 422 and "cannot be used to log in" in r.text


def test_settings_of_someone_elses_certificate(http, stack, db):
    from conftest import StackSession
    member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    with StackSession(stack) as other:
        member(other, stack, db, points=10)
        r = other.post("/certs/edit", data={"csrf": csrf_of(other.get("/certs/").text),
                                            "id": cid, "description": "mine now",
                                            "login_disabled": "yes"}, allow_redirects=False)
        assert r.status_code == 404
    cur = db.cursor()
    cur.execute("SELECT description, login_disabled FROM certificates WHERE id = %s", (cid,))
    assert cur.fetchone() == ("", False)
