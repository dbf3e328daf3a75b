# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Bad requests for certificates: each gets a clear message and changes
nothing (no request reaches the signer queue)."""

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from accounts import csrf_of, login
from issuing import (issue, make_csr, member, new_key, page_errors, request_form)


def queued(db):
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM signer_requests")
    return cur.fetchone()[0]


def refused(http, db, message, **fields):
    before = queued(db)
    r = request_form(http, **fields)
    assert r.status_code == 422, (r.status_code, r.text[:500])
    errs = page_errors(r.text)
    assert any(message in e for e in errs), (message, errs)
    assert queued(db) == before
    return r


def signed_csr_with_subject(key, name):
    return (x509.CertificateSigningRequestBuilder().subject_name(name)
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())


def test_broken_csrs(http, stack, db):
    member(http, stack, db, points=10)
    good = make_csr(new_key()).decode()
    refused(http, db, "Please paste", profile="client", email0="yes", csr="")
    refused(http, db, "not a certificate signing request", profile="client", email0="yes",
            csr="hello world")
    refused(http, db, "not a certificate signing request", profile="client", email0="yes",
            csr=good[:len(good) // 2])
    refused(http, db, "too long", profile="client", email0="yes", csr="A" * 20000)
    # a flipped byte inside the signature
    der = bytearray(x509.load_pem_x509_csr(good.encode()).public_bytes(
        serialization.Encoding.DER))
    der[-3] ^= 1
    import base64
    bad = ("-----BEGIN CERTIFICATE REQUEST-----\n"
           + base64.encodebytes(bytes(der)).decode()
           + "-----END CERTIFICATE REQUEST-----\n")
    refused(http, db, "signature is wrong", profile="client", email0="yes", csr=bad)


def test_weak_and_odd_keys(http, stack, db):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    member(http, stack, db, points=10)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    refused(http, db, "at least 2048 bits", profile="client", email0="yes",
            csr=make_csr(small).decode())
    e3 = rsa.generate_private_key(public_exponent=3, key_size=2048)
    refused(http, db, "unsafe public exponent", profile="client", email0="yes",
            csr=make_csr(e3).decode())
    p521 = ec.generate_private_key(ec.SECP521R1())
    refused(http, db, "P-256 and P-384", profile="client", email0="yes",
            csr=make_csr(p521).decode())


def test_subject_with_control_characters(http, stack, db):
    member(http, stack, db, points=10)
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "evil\x07name")])
    refused(http, db, "not clean text", profile="client", email0="yes",
            csr=signed_csr_with_subject(key, name))


def test_names_and_entitlements(http, stack, db):
    member(http, stack, db, points=10, domains=["example.org"])
    csr = make_csr(new_key()).decode()
    refused(http, db, "not in one of your verified domains", profile="server",
            hosts="www.example.com", csr=csr)
    refused(http, db, "Wildcard names need 50", profile="server", hosts="*.example.org", csr=csr)
    refused(http, db, "one host name", profile="server",
            hosts="a.example.org b.example.org", csr=csr)
    refused(http, db, "not a valid host name", profile="server", hosts="bad_name.example.org",
            csr=csr)
    refused(http, db, "once you have 50 assurance points", profile="client", email0="yes",
            use_name="yes", csr=csr)
    refused(http, db, "choose at least one", profile="client", csr=csr)
    refused(http, db, "100 assurance points", profile="codesign", email0="yes", csr=csr)
    refused(http, db, "not available", profile="nonsense", email0="yes", csr=csr)
    refused(http, db, "SHA-256, SHA-384 or SHA-512", profile="client", email0="yes", md="md5",
            csr=csr)


def test_a_key_of_another_member_is_refused(http, stack, db):
    from conftest import StackSession
    key = new_key()
    member(http, stack, db, points=10)
    issue(http, key=key, profile="client", email0="yes")
    with StackSession(stack) as other:
        member(other, stack, db, points=10)
        refused(other, db, "belongs to a certificate of another member", profile="client",
                email0="yes", csr=make_csr(key).decode())


def test_revoking_another_members_certificate(http, stack, db):
    from conftest import StackSession
    member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    with StackSession(stack) as other:
        member(other, stack, db, points=10)
        token = csrf_of(other.get("/certs/").text)
        before = queued(db)
        r = other.post("/certs/revoke", data={"csrf": token, "id": cid}, allow_redirects=False)
        assert r.status_code == 404
        assert other.get(f"/certs/view?id={cid}").status_code == 404
        assert other.get(f"/certs/download?id={cid}&fmt=pem").status_code == 404
        assert queued(db) == before
    assert "active" in http.get(f"/certs/view?id={cid}").text


def test_csr_as_an_uploaded_file(http, stack, db):
    from cryptography.hazmat.primitives import serialization as ser
    member(http, stack, db, points=10)
    key = new_key()
    der = make_csr(key, pem=False)
    r = http.get("/certs/new")
    token = csrf_of(r.text)
    fields = {"csrf": token, "profile": "client", "email0": "yes", "md": "sha256", "csr": ""}
    r = http.post("/certs/new", data=fields, files={"csr_file": ("req.der", der)},
                  allow_redirects=False)
    from issuing import wait_for_cert, download
    cid = wait_for_cert(http, r)
    cert = x509.load_pem_x509_certificate(download(http, cid))
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    # both pasted text and a file: refused, nothing queued
    before = queued(db)
    fields["csr"] = make_csr(new_key()).decode()
    r = http.post("/certs/new", data=fields, files={"csr_file": ("req.der", der)},
                  allow_redirects=False)
    assert r.status_code == 422 and "not both" in r.text
    # a broken multipart body
    r = http.post("/certs/new", data=b"--x\r\ngarbage",
                  headers={"Content-Type": "multipart/form-data; boundary=x"},
                  allow_redirects=False)
    assert r.status_code == 400 and "arrived damaged" in r.text
    assert queued(db) == before


def test_description_is_one_rule_at_request_and_edit(http, stack, db):
    """The description is trimmed and may hold 100 characters, wherever it
    is set: the request form once stored it untrimmed (and counted the
    spaces), the edit form trimmed it."""
    member(http, stack, db, points=10)
    padded = "  " + "d" * 100 + "  "
    cid, cert, key = issue(http, profile="client", email0="yes", description=padded)
    cur = db.cursor()
    cur.execute("SELECT description FROM certificates WHERE id = %s", (cid,))
    assert cur.fetchone()[0] == "d" * 100
    r = request_form(http, profile="client", email0="yes", description="e" * 101,
                     csr=make_csr(new_key()).decode())
    assert r.status_code == 422 and "too long" in r.text
    token = csrf_of(http.get(f"/certs/view?id={cid}").text)
    r = http.post("/certs/edit", data={"csrf": token, "id": cid, "description": "e" * 101},
                  allow_redirects=False)
    assert r.status_code == 422
    r = http.post("/certs/edit", data={"csrf": token, "id": cid, "description": "  laptop  "},
                  allow_redirects=False)
    assert r.status_code == 303
    cur.execute("SELECT description FROM certificates WHERE id = %s", (cid,))
    assert cur.fetchone()[0] == "laptop"
