# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""ACME bad input: each gets a problem document with the right ACME error
type, never a 500, and nothing is stored."""

import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from acme import Client, acme_member, b64, eab, load_certs, problem, unique_domain


def counts(db):
    cur = db.cursor()
    out = {}
    for t in ("acme_accounts", "acme_orders", "acme_authz", "signer_requests", "certificates"):
        cur.execute(f"SELECT count(*) FROM {t}")
        out[t] = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM acme_eab WHERE used_at IS NOT NULL")
    out["eab_used"] = cur.fetchone()[0]
    return out


@pytest.fixture
def bound(http, stack, db):
    """A 20-point member with a verified domain and a bound ACME client."""
    name = unique_domain()
    m = acme_member(http, stack, db, points=20, domains=[name], checks=["http"])
    c = Client(stack)
    r = c.register(*eab(http))
    assert r.status_code == 201, r.text
    return m, c, name


def csr_for(names, key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
    b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                        critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_directory_and_nonce(stack):
    c = Client(stack)
    assert c.dir["meta"]["externalAccountRequired"] is True
    for k in ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"):
        assert c.dir[k].startswith(stack.url + "/acme/")
    r = c.http.head(c.dir["newNonce"])
    assert r.status_code == 200 and r.headers["Replay-Nonce"]
    assert r.headers["Cache-Control"] == "no-store"
    r = c.http.get(c.dir["newNonce"])
    assert r.status_code == 204 and r.headers["Replay-Nonce"]


def test_replayed_nonce(stack, db, bound):
    _, c, name = bound
    nonce = c.nonce()
    r = c.post(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]},
               nonce=nonce)
    assert r.status_code == 201, r.text
    before = counts(db)
    r = c.post(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]},
               nonce=nonce)
    assert r.status_code == 400 and problem(r)[0] == "badNonce"
    assert r.headers["Replay-Nonce"]                 # a fresh one to go on with
    assert counts(db) == before


def test_wrong_url(stack, db, bound):
    _, c, name = bound
    before = counts(db)
    body = c.jws(c.dir["newAccount"], {"identifiers": [{"type": "dns", "value": name}]})
    r = c.http.post(c.dir["newOrder"], data=json.dumps(body),
                    headers={"Content-Type": "application/jose+json"})
    assert problem(r)[0] == "unauthorized" and r.status_code == 401
    assert counts(db) == before


def test_jwk_and_kid_together(stack, db, bound):
    _, c, name = bound
    before = counts(db)
    r = c.post(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]},
               protected={"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}})
    assert r.status_code == 400 and problem(r)[0] == "malformed"
    assert counts(db) == before


@pytest.mark.parametrize("alg", ["none", "HS256", "PS256", "ES512"])
def test_unsupported_algorithm(stack, db, bound, alg):
    _, c, name = bound
    before = counts(db)
    r = c.post(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]}, alg=alg)
    assert r.status_code == 400 and problem(r)[0] == "badSignatureAlgorithm", r.text
    assert counts(db) == before


def test_bad_signature(stack, db, bound):
    _, c, name = bound
    before = counts(db)
    r = c.post(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]},
               tamper=True)
    assert problem(r)[0] == "malformed" and r.status_code == 400
    # signed by another key than the account's
    r = c.post(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]},
               key=ec.generate_private_key(ec.SECP256R1()), kid=c.kid)
    assert problem(r)[0] == "malformed"
    assert counts(db) == before


def test_eab_wrong_mac_and_used_twice(http, stack, db):
    acme_member(http, stack, db, points=20)
    kid, key = eab(http)
    before = counts(db)
    c = Client(stack)
    r = c.register(kid, b64(b"x" * 32))
    assert r.status_code == 401 and problem(r)[0] == "unauthorized"
    assert "MAC" in problem(r)[1]
    assert counts(db) == before
    r = c.register(kid, key)
    assert r.status_code == 201
    before = counts(db)
    other = Client(stack)
    r = other.register(kid, key)
    assert r.status_code == 401 and problem(r)[0] == "unauthorized"
    assert "used already" in problem(r)[1]
    assert counts(db) == before
    # no binding at all
    r = Client(stack).post(c.dir["newAccount"], {"termsOfServiceAgreed": True}, jwk=True)
    assert problem(r)[0] == "externalAccountRequired"


def test_order_for_another_members_domain_or_a_public_suffix(http, stack, db, bound):
    from conftest import StackSession
    _, c, _ = bound
    other = unique_domain()
    acme_member(StackSession(stack), stack, db, points=20, domains=[other], checks=["http"])
    before = counts(db)
    for n in (other, "co.uk", "test", f"x.{other}"):
        r = c.order(n)
        assert r.status_code in (400, 403), r.text
        assert problem(r)[0] == "rejectedIdentifier", (n, r.text)
    r = c.post(c.dir["newOrder"], {"identifiers": [{"type": "ip", "value": "127.0.0.1"}]})
    assert problem(r)[0] == "unsupportedIdentifier"
    assert counts(db) == before


def ready_order(c, name):
    r = c.order(name)
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["status"] == "ready", o          # the domain's standing authorises it
    return r.headers["Location"], o


def test_csr_names_differ_from_the_order(stack, db, bound):
    _, c, name = bound
    url, o = ready_order(c, name)
    before = counts(db)
    for names in ([f"www.{name}"], [name, f"www.{name}"]):
        r = c.post(o["finalize"], {"csr": b64(csr_for(names))})
        assert r.status_code == 400 and problem(r)[0] == "badCSR", r.text
    r = c.post(url, None)
    assert r.json()["status"] == "ready"
    assert counts(db) == before


def test_csr_with_a_weak_key(stack, db, bound):
    _, c, name = bound
    _, o = ready_order(c, name)
    before = counts(db)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    r = c.post(o["finalize"], {"csr": b64(csr_for([name], weak))})
    assert r.status_code == 400 and problem(r)[0] == "badCSR", r.text
    r = c.post(o["finalize"], {"csr": "not base64url!"})
    assert problem(r)[0] == "malformed"
    assert counts(db) == before


def test_oversized_body(stack, db, bound):
    _, c, name = bound
    before = counts(db)
    body = c.jws(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}],
                                     "pad": "x" * 70000})
    r = c.http.post(c.dir["newOrder"], data=json.dumps(body),
                    headers={"Content-Type": "application/jose+json"})
    assert r.status_code == 413 and problem(r)[0] == "malformed"
    assert counts(db) == before


def test_wrong_content_type(stack, db, bound):
    _, c, name = bound
    before = counts(db)
    body = c.jws(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]})
    r = c.http.post(c.dir["newOrder"], data=json.dumps(body),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 415 and problem(r)[0] == "malformed"
    assert counts(db) == before


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"protected":1}', b"\x00" * 10,
                                  b'{"protected":"e30","payload":"","signature":""}'])
def test_garbage_bodies_are_malformed(stack, db, body):
    c = Client(stack)
    before = counts(db)
    r = c.http.post(c.dir["newOrder"], data=body,
                    headers={"Content-Type": "application/jose+json"})
    assert r.status_code == 400 and problem(r)[0] in ("malformed", "badSignatureAlgorithm")
    assert counts(db) == before


def test_finalize_through_the_core_call(stack, db, bound):
    """A ready order finalized with a good CSR is processing, then valid,
    and its certificate downloads as a PEM chain."""
    import time
    m, c, name = bound
    url, o = ready_order(c, name)
    key = ec.generate_private_key(ec.SECP256R1())
    r = c.post(o["finalize"], {"csr": b64(csr_for([name], key))})
    assert r.status_code == 200, r.text
    assert r.json()["status"] in ("processing", "valid")
    deadline = time.monotonic() + 30
    while (o := c.post(url, None).json())["status"] == "processing":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert o["status"] == "valid", o
    r = c.post(o["certificate"], None)
    assert r.headers["Content-Type"].startswith("application/pem-certificate-chain"), r.text
    certs = load_certs(r.content)
    assert len(certs) == 2
    assert certs[0].public_key().public_numbers() == key.public_key().public_numbers()
    # finalize twice: the order is not ready any more
    r = c.post(o["finalize"], {"csr": b64(csr_for([name], key))})
    assert problem(r)[0] == "orderNotReady"
