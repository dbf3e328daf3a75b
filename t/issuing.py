# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers for the certificate tests: members with points (set up through
the database until the web of trust exists), CSRs, and the request walk."""

import html
import os
import re
import subprocess
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from accounts import csrf_of, login, registered_member

_assurers = {}                     # per database (a test module may have a stack of its own)


def _assurer_ids(db, n):
    """n members who act as assurers in the assurance rows."""
    cur = db.cursor()
    made = _assurers.setdefault(db.dsn, [])
    while len(made) < n:
        cur.execute("INSERT INTO members (given_name, family_name, dob, password_hash)"
                    " VALUES ('Assurer', %s, '1970-01-01', '$argon2id$none') RETURNING id",
                    (f"Number{len(made)}",))
        made.append(cur.fetchone()[0])
    return made[:n]


def member_id(db, email):
    cur = db.cursor()
    cur.execute("SELECT member_id FROM emails WHERE address = %s AND deleted_at IS NULL", (email,))
    return cur.fetchone()[0]


def give_points(db, mid, points, assurer=False, codesign=False):
    """Assurance rows worth `points` from different assurers (35 at most each)."""
    cur = db.cursor()
    chunks = []
    while points > 0:
        chunks.append(min(35, points))
        points -= chunks[-1]
    for aid, pts in zip(_assurer_ids(db, len(chunks)), chunks):
        cur.execute("INSERT INTO assurances (assurer_id, assuree_id, points, location)"
                    " VALUES (%s, %s, %s, 'Test')", (aid, mid, pts))
    if assurer:
        cur.execute("UPDATE members SET assurer_challenge_at = now() WHERE id = %s", (mid,))
    if codesign:
        cur.execute("UPDATE members SET codesign_allowed = true WHERE id = %s", (mid,))


def add_domain(db, mid, name, methods=("dns", "http")):
    """A claimed domain with passed checks (two different methods: enough
    for the Assured SubRoot under the default rules), written the way
    domain control records them."""
    cur = db.cursor()
    cur.execute("INSERT INTO domains (member_id, name, cookie, verified_at)"
                " VALUES (%s, %s, 'test-cookie', now()) RETURNING id", (mid, name))
    did = cur.fetchone()[0]
    for m in methods:
        cur.execute("INSERT INTO domain_checks (domain_id, member_id, method, kind, result,"
                    " target) VALUES (%s, %s, %s, 'probe', 'passed', 'test')", (did, mid, m))
    return did


def member(http, stack, db, points=0, assurer=False, codesign=False, domains=(), **over):
    m = registered_member(http, stack, **over)
    mid = member_id(db, m["email"])
    if points:
        give_points(db, mid, points, assurer, codesign)
    for d in domains:
        add_domain(db, mid, d)
    assert login(http, m["email"]).status_code == 303
    m["id"] = mid
    return m


def new_key(kind="rsa"):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    return ec.generate_private_key(ec.SECP256R1())


def make_csr(key, cn="whatever", pem=True):
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    enc = serialization.Encoding.PEM if pem else serialization.Encoding.DER
    return csr.public_bytes(enc)


def request_form(http, **fields):
    """POST the request form; returns the response (not followed)."""
    r = http.get("/certs/new")
    assert r.status_code == 200, r.text[:500]
    data = {"csrf": csrf_of(r.text), "md": "sha256"}
    data.update(fields)
    return http.post("/certs/new", data=data, allow_redirects=False)


def wait_for_cert(http, r, timeout=30):
    """Follow the request's redirects to the certificate page; returns its id."""
    assert r.status_code == 303, (r.status_code, r.text[:800])
    loc = r.headers["Location"]
    deadline = time.monotonic() + timeout
    while True:
        r = http.get(loc, allow_redirects=False)
        if r.status_code == 303 and "/certs/view?id=" in r.headers["Location"]:
            return re.search(r"id=(\d+)", r.headers["Location"]).group(1)
        assert r.status_code == 200, (r.status_code, r.text[:800])
        assert "being signed" in r.text or "Signing" in r.text, r.text[:800]
        assert time.monotonic() < deadline, "no certificate in time"


def download(http, cert_id, fmt="pem"):
    r = http.get(f"/certs/download?id={cert_id}&fmt={fmt}")
    assert r.status_code == 200, r.text[:300]
    return r.content


def issue(http, key=None, **fields):
    key = key or new_key()
    fields.setdefault("csr", make_csr(key).decode())
    cid = wait_for_cert(http, request_form(http, **fields))
    cert = x509.load_pem_x509_certificate(download(http, cid))
    return cid, cert, key


def page_errors(text):
    return [html.unescape(m) for m in
            re.findall(r'class="(?:field-error|error)"[^>]*>([^<]*)<', text)]


def openssl_verify(stack, cert_pem, crl_pem=None, chain=None):
    """openssl verify against the published root (and CRL); (ok, output)."""
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        cert = os.path.join(d, "cert.pem")
        with open(cert, "wb") as f:
            f.write(cert_pem)
        args = ["openssl", "verify", "-CAfile", os.path.join(stack.ca_dir, "web", "root.crt")]
        if chain:
            untrusted = os.path.join(d, "chain.pem")
            with open(untrusted, "wb") as f:
                f.write(chain)
            args += ["-untrusted", untrusted]
        if crl_pem:
            crl = os.path.join(d, "crl.pem")
            with open(crl, "wb") as f:
                f.write(crl_pem)
            args += ["-crl_check", "-CRLfile", crl]
        p = subprocess.run(args + [cert], capture_output=True, text=True, timeout=30)
        return p.returncode == 0, p.stdout + p.stderr


def revoke(http, cert_id, timeout=20, wait=True):
    """Revoke through the page and (wait) wait until the signer has recorded it."""
    from accounts import csrf_of
    r = http.post("/certs/revoke", data={"csrf": csrf_of(http.get("/certs/").text),
                                         "id": cert_id}, allow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    if not wait:
        return
    deadline = time.monotonic() + timeout
    while "revoked on" not in http.get(f"/certs/view?id={cert_id}").text:
        assert time.monotonic() < deadline, "the revocation did not reach the signer"
        time.sleep(0.1)


def journal_revokes(stack):
    """How many REVOKE records signerd's journal has."""
    with open(os.path.join(stack.signer_dir, "journal")) as f:
        return sum(1 for line in f if line.split()[2:3] == ["REVOKE"])


def wait_for_crl(http, ca, serial, timeout=20):
    """The CRL of ca published at /pki/ once it lists serial."""
    from cryptography import x509 as _x509
    deadline = time.monotonic() + timeout
    while True:
        r = http.get(f"/pki/{ca}.crl")
        if r.status_code == 200:
            crl = _x509.load_der_x509_crl(r.content)
            if crl.get_revoked_certificate_by_serial_number(serial):
                return crl
        assert time.monotonic() < deadline, f"no CRL of {ca} with the revocation"
        time.sleep(0.1)
