# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""ACME accounts and revocation with the tests' small client: key change,
deactivation by the client, authorisations given up, revokeCert signed by
the certificate's own key, the CRL."""

import json
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from acme import (Client, acme_member, b64, eab, jwk_of, load_certs, problem, sign, thumbprint,
                  unique_domain)
from test_acme_bad_input import bound, csr_for, ready_order  # noqa: F401 (fixture)


def issued(c, name, key=None):
    """An order for name finalized and its certificate."""
    url, o = ready_order(c, name)
    key = key or ec.generate_private_key(ec.SECP256R1())
    r = c.post(o["finalize"], {"csr": b64(csr_for([name], key))})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    while (o := c.post(url, None).json())["status"] == "processing":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert o["status"] == "valid", o
    return load_certs(c.post(o["certificate"], None).content)[0], key


def test_key_change(stack, db, bound):
    _, c, name = bound
    new = ec.generate_private_key(ec.SECP256R1())
    url = c.dir["keyChange"]
    r = c.post(url, inner_jws(url, {"account": c.kid, "oldKey": jwk_of(c.key)}, new))
    assert r.status_code == 200, r.text
    old, c.key = c.key, new
    assert c.order(name).status_code == 201
    c.key = old
    r = c.order(name)
    assert problem(r)[0] == "malformed"          # the old key no longer signs for it
    cur = db.cursor()
    cur.execute("SELECT thumbprint FROM acme_accounts WHERE id = %s", (c.kid.rsplit("/", 1)[1],))
    assert cur.fetchone()[0] == thumbprint(new)


def inner_jws(url, payload, key):
    prot = b64(json.dumps({"alg": "ES256", "jwk": jwk_of(key), "url": url}))
    body = b64(json.dumps(payload))
    return {"protected": prot, "payload": body,
            "signature": b64(sign(key, f"{prot}.{body}".encode()))}


def test_key_change_refusals(stack, db, bound):
    _, c, name = bound
    new = ec.generate_private_key(ec.SECP256R1())
    url = c.dir["keyChange"]
    # the inner JWS names another account, or another old key, or is signed by the old key
    for payload, key in (({"account": c.kid + "9", "oldKey": jwk_of(c.key)}, new),
                         ({"account": c.kid, "oldKey": jwk_of(new)}, new)):
        r = c.post(url, inner_jws(url, payload, key))
        assert r.status_code == 400 and problem(r)[0] == "malformed", r.text
    # a key another account has
    r = c.post(url, inner_jws(url, {"account": c.kid, "oldKey": jwk_of(c.key)}, c.key))
    assert r.status_code == 409 and problem(r)[0] == "conflict"


def test_deactivation_by_the_client(stack, db, bound):
    m, c, name = bound
    r = c.post(c.kid, {"status": "deactivated"})
    assert r.status_code == 200 and r.json()["status"] == "deactivated"
    r = c.order(name)
    assert r.status_code == 401 and problem(r)[0] == "unauthorized"
    cur = db.cursor()
    cur.execute("SELECT action FROM audit_log WHERE member_id = %s ORDER BY id DESC LIMIT 1",
                (m["id"],))
    assert cur.fetchone()[0] == "acme.account.deactivate"


def test_authz_given_up_makes_the_order_invalid(stack, db, bound):
    _, c, name = bound
    url, o = ready_order(c, name)
    r = c.post(o["authorizations"][0], {"status": "deactivated"})
    assert r.status_code == 200 and r.json()["status"] == "deactivated"
    o = c.post(url, None).json()
    assert o["status"] == "invalid" and "authorisation" in o["error"]["detail"]
    r = c.post(o["finalize"], {"csr": b64(csr_for([name]))})
    assert problem(r)[0] == "orderNotReady"


def test_revoke_by_the_certificate_key_and_the_crl(http, stack, db, bound):
    _, c, name = bound
    cert, key = issued(c, name, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    der = cert.public_bytes(serialization.Encoding.DER)
    # a stranger's account may not revoke it
    other_name = unique_domain()
    from conftest import StackSession
    s2 = StackSession(stack)
    acme_member(s2, stack, db, points=20, domains=[other_name], checks=["http"])
    stranger = Client(stack)
    assert stranger.register(*eab(s2)).status_code == 201
    r = stranger.post(stranger.dir["revokeCert"], {"certificate": b64(der)})
    assert r.status_code == 403 and problem(r)[0] == "unauthorized"
    # nor a key that is not the certificate's, by jwk
    r = Client(stack).post(c.dir["revokeCert"], {"certificate": b64(der)}, jwk=True)
    assert r.status_code == 403 and problem(r)[0] == "unauthorized"
    r = c.post(c.dir["revokeCert"], {"certificate": b64(der), "reason": 2})
    assert problem(r)[0] == "badRevocationReason"
    # signed by the certificate's own key (a jwk request, no account)
    holder = Client(stack, key=key)
    r = holder.post(c.dir["revokeCert"], {"certificate": b64(der), "reason": 1}, jwk=True)
    assert r.status_code == 200, r.text
    r = holder.post(c.dir["revokeCert"], {"certificate": b64(der)}, jwk=True)
    assert problem(r)[0] == "alreadyRevoked"
    # the CRL of the member CA lists it once the signer has made a new one
    deadline = time.monotonic() + 30
    while True:
        crl = x509.load_der_x509_crl(http.get(stack.http_url + "/pki/member.crl").content)
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number):
            break
        assert time.monotonic() < deadline, "the revocation did not reach the CRL"
        time.sleep(0.3)


def test_only_return_existing_and_contacts(stack, db, bound):
    """newAccount with onlyReturnExisting finds the bound key and no other;
    contacts are mailto: addresses, refused otherwise with nothing changed."""
    _, c, _ = bound
    r = c.post(c.dir["newAccount"], {"onlyReturnExisting": True}, jwk=True)
    assert r.status_code == 200 and r.headers["Location"] == c.kid
    r = Client(stack).post(c.dir["newAccount"], {"onlyReturnExisting": True}, jwk=True)
    assert r.status_code == 400 and problem(r)[0] == "accountDoesNotExist"
    r = c.post(c.kid, {"contact": ["mailto:ops@example.org"]})
    assert r.status_code == 200 and r.json()["contact"] == ["mailto:ops@example.org"]
    for bad in (["tel:+4912345"], ["mailto:a@b", "mailto:c@d", "mailto:e@f", "mailto:g@h",
                                   "mailto:i@j"], "mailto:x@y"):
        r = c.post(c.kid, {"contact": bad})
        assert r.status_code == 400 and problem(r)[0] == "invalidContact", bad
    cur = db.cursor()
    cur.execute("SELECT contact FROM acme_accounts WHERE id = %s", (c.kid.rsplit("/", 1)[1],))
    assert cur.fetchone()[0] == "mailto:ops@example.org"
