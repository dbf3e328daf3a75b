# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Certificate issuance end to end: the request form, the signer link over a
pty to the real signerd, the certificate checked field by field against
CPS 7.1.2, openssl verify against the published chain and CRL, revocation."""

import datetime
import re
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from issuing import (download, issue, make_csr, member, new_key, openssl_verify, wait_for_crl,
                     page_errors, request_form, wait_for_cert)

CPS_OID = "1.3.6.1.4.1.18506.4.4"
MS_EFS = x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.4")
MS_SGC = x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3")
NS_SGC = x509.ObjectIdentifier("2.16.840.1.113730.4.1")
MS_CODE_IND = x509.ObjectIdentifier("1.3.6.1.4.1.311.2.1.21")
MS_CODE_COM = x509.ObjectIdentifier("1.3.6.1.4.1.311.2.1.22")

EKUS = {
    "client": {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH,
               MS_EFS, MS_SGC, NS_SGC},
    "server": {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH, NS_SGC, MS_SGC},
    "codesign": {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH,
                 ExtendedKeyUsageOID.CODE_SIGNING, MS_CODE_IND, MS_CODE_COM, MS_EFS, MS_SGC,
                 NS_SGC},
}


def check_profile(stack, cert, profile, ca, days, key):
    """Every field CPS 7.1.2 lists, and the rest of what we promise."""
    ext = cert.extensions
    assert cert.version == x509.Version.v3
    assert cert.serial_number.bit_length() >= 64
    bc = ext.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
    assert bc.critical and bc.value.ca is False
    ku = ext.get_extension_for_oid(ExtensionOID.KEY_USAGE)
    assert ku.critical and ku.value.digital_signature and ku.value.key_agreement
    assert ku.value.key_cert_sign is False and ku.value.crl_sign is False
    eku = ext.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    assert set(eku.value) == EKUS[profile]
    aia = ext.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    assert any(d.access_location.value == f"http://localhost:{stack.http_port}/ocsp" for d in aia)
    cdp = ext.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    assert cdp[0].full_name[0].value == f"http://localhost:{stack.http_port}/pki/{ca}.crl"
    pol = ext.get_extension_for_oid(ExtensionOID.CERTIFICATE_POLICIES).value
    assert any(p.policy_identifier.dotted_string == CPS_OID for p in pol)
    ext.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    ext.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    issuer = x509.load_pem_x509_certificate(open(f"{stack.ca_dir}/web/{ca}.crt", "rb").read())
    assert cert.issuer == issuer.subject
    life = cert.not_valid_after - cert.not_valid_before
    assert life == datetime.timedelta(days=days)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)


def chain_pem(http, cid):
    return download(http, cid, "chain")


def test_client_certificate_1_to_49_points(http, stack, db):
    m = member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    check_profile(stack, cert, "client", "member", 183, key)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "CAcert WoT Member"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == [m["email"]]
    ok, out = openssl_verify(stack, download(http, cid), chain=chain_pem(http, cid))
    assert ok, out
    # the page lists it, with downloads
    r = http.get(f"/certs/view?id={cid}")
    assert "active" in r.text and "fmt=der" in r.text
    der = download(http, cid, "der")
    assert x509.load_der_x509_certificate(der) == cert
    assert "CAcert WoT Member" in http.get("/certs/").text


def test_assured_member_gets_name_wildcards_and_24_months(http, stack, db):
    m = member(http, stack, db, points=60, domains=["example.net"])
    cid, cert, key = issue(http, key=new_key("ec"), profile="client", email0="yes",
                           use_name="yes", md="sha256")
    check_profile(stack, cert, "client", "assured", 730, key)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Anna Schmidt"
    cid, cert, key = issue(http, profile="server", hosts="www.example.net *.example.net")
    check_profile(stack, cert, "server", "assured", 730, key)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.net", "*.example.net"]
    ok, out = openssl_verify(stack, download(http, cid), chain=chain_pem(http, cid))
    assert ok, out


def test_server_certificate_1_to_49_points(http, stack, db):
    member(http, stack, db, points=20, domains=["example.com"])
    cid, cert, key = issue(http, profile="server", hosts="mail.example.com")
    check_profile(stack, cert, "server", "member", 183, key)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "mail.example.com"


def test_code_signing_for_assurers_with_the_flag(http, stack, db):
    m = member(http, stack, db, points=100, assurer=True, codesign=True)
    cid, cert, key = issue(http, profile="codesign", email0="yes")
    check_profile(stack, cert, "codesign", "assured", 730, key)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Anna Schmidt"


@pytest.mark.parametrize("points,assurer,codesign,profile,why", [
    (0, False, False, "client", "at least one assurance point"),
    (60, False, False, "codesign", "Assurer Challenge"),
    (100, True, False, "codesign",
     "enabled for your account by an administrator or an arbitrator"),
])
def test_what_is_not_offered_says_why(http, stack, db, points, assurer, codesign, profile, why):
    member(http, stack, db, points=points, assurer=assurer, codesign=codesign)
    r = http.get("/certs/new")
    assert why in r.text
    assert f'value="{profile}" disabled' in r.text or f'value="{profile}"  disabled' in r.text
    r = request_form(http, profile=profile, email0="yes", csr=make_csr(new_key()).decode())
    assert r.status_code == 422


def test_code_signing_refusal_names_who_sets_the_flag(http, stack, db):
    """Only an administrator or an arbitrator sets the flag (docs/console.md,
    console-codesign): the refusal says so, in English and German, and does
    not send the member to support."""
    import html
    from accounts import csrf_of
    member(http, stack, db, points=100, assurer=True)
    for lang, text in (("en", "code signing must be enabled for your account by an"
                               " administrator or an arbitrator."),
                       ("de", "Code-Signing muss von einem Administrator oder einem"
                              " Schiedsrichter (Arbitrator) für Ihr Konto freigeschaltet"
                              " werden.")):
        r = http.post("/account/language", data={"csrf": csrf_of(http.get("/certs/new").text),
                                                  "lang": lang, "back": ""})
        r = http.get("/certs/new")
        assert f'<html lang="{lang}">' in r.text
        page = html.unescape(r.text)
        assert text in page, page
        assert "by support" not in page and "vom Support" not in page
        r = request_form(http, profile="codesign", email0="yes",
                         csr=make_csr(new_key()).decode())
        assert r.status_code == 422
        assert text in html.unescape(r.text)


def test_revocation_reaches_the_crl_and_openssl(http, stack, db):
    member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    pem = download(http, cid)
    r = http.get(f"/certs/view?id={cid}")
    from accounts import csrf_of
    r = http.post("/certs/revoke", data={"csrf": csrf_of(r.text), "id": cid},
                  allow_redirects=False)
    assert r.status_code == 303
    deadline = time.monotonic() + 20
    while "revoked on" not in http.get(f"/certs/view?id={cid}").text:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # a new CRL follows the revocation
    crl = wait_for_crl(http, "member", cert.serial_number)
    issuer = x509.load_pem_x509_certificate(http.get("/pki/member.crt").content)
    assert crl.is_signature_valid(issuer.public_key())
    assert crl.extensions.get_extension_for_class(x509.CRLNumber)
    assert crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    crl_pem = crl.public_bytes(serialization.Encoding.PEM)
    ok, out = openssl_verify(stack, pem, crl_pem=crl_pem, chain=chain_pem(http, cid))
    assert not ok and "revoked" in out, out
    # a second revocation is refused and changes nothing
    r = http.get(f"/certs/view?id={cid}")
    assert "Revoke this certificate" not in r.text
    r = http.post("/certs/revoke", data={"csrf": csrf_of(http.get("/certs/").text), "id": cid},
                  allow_redirects=False)
    assert r.status_code == 409


def signed_by(cert, issuer):
    """True if issuer's key made cert's signature (RSA or EC)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    key = issuer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                       cert.signature_hash_algorithm)
        else:
            assert isinstance(key, ec.EllipticCurvePublicKey)
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(cert.signature_hash_algorithm))
    except InvalidSignature:
        return False
    return True


def ca_issuers_url(cert):
    aia = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    urls = [d.access_location.value for d in aia.value
            if d.access_method == x509.oid.AuthorityInformationAccessOID.CA_ISSUERS]
    assert len(urls) == 1, urls
    return urls[0]


def test_aia_ca_issuers_serves_the_issuer_in_der(http, stack, db):
    """RFC 5280 4.2.2.1: the caIssuers URL of an issued certificate (and of
    each SubRoot) answers over plain HTTP with the issuer's certificate in
    DER, as application/pkix-cert."""
    import requests

    def issuer_in_der(cert, name):
        url = ca_issuers_url(cert)
        assert url.startswith("http://") and url.endswith(f"/pki/{name}.cer"), url
        r = requests.get(url, timeout=30)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/pkix-cert"
        issuer = x509.load_der_x509_certificate(r.content)
        assert issuer.subject == cert.issuer and signed_by(cert, issuer)
        return url, issuer

    member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    _, issuer = issuer_in_der(cert, "member")
    # the SubRoot's own caIssuers leads to the Root, also in DER
    url, root = issuer_in_der(issuer, "root")
    # the PEM form stays where it was documented
    r = requests.get(url[:-len(".cer")] + ".crt", timeout=30)
    assert r.headers["Content-Type"] == "application/x-pem-file"
    assert x509.load_pem_x509_certificate(r.content) == root


@pytest.mark.allow_log(r"AH01630: client denied by server configuration: .*/account")
def test_published_ca_files(http, stack):
    for name in ("root", "member", "assured", "org"):
        r = http.get(f"/pki/{name}.crt")
        assert r.status_code == 200 and b"BEGIN CERTIFICATE" in r.content
        d = http.get(f"/pki/{name}.der")
        assert x509.load_der_x509_certificate(d.content) == \
            x509.load_pem_x509_certificate(r.content)
    assert http.get("/pki/nothing.crt").status_code == 404
    assert http.get("/pki/root.crl").status_code == 404
    # relying parties fetch over plain HTTP; the member pages are not there
    import requests
    assert requests.get(stack.http_url + "/pki/member.crt").status_code == 200
    assert requests.get(stack.http_url + "/account/login").status_code == 403
    # the page that lists them, with fingerprints to compare
    page = http.get("/pki/")
    assert page.status_code == 200
    root = x509.load_pem_x509_certificate(http.get("/pki/root.crt").content)
    fp = root.fingerprint(hashes.SHA256()).hex(":").upper()
    assert fp in page.text
    assert 'href="member.crl"' in page.text and 'href="root.crl"' not in page.text


def test_renewal_and_pkcs7(http, stack, db):
    from accounts import csrf_of
    from cryptography.hazmat.primitives.serialization import pkcs7
    member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    p7 = pkcs7.load_der_pkcs7_certificates(download(http, cid, "p7"))
    assert p7[0] == cert and len(p7) == 3          # the certificate, its SubRoot, the root
    r = http.get(f"/certs/view?id={cid}")
    r = http.post("/certs/renew", data={"csrf": csrf_of(r.text), "id": cid},
                  allow_redirects=False)
    cid2 = wait_for_cert(http, r)
    assert cid2 != cid
    from cryptography import x509
    cert2 = x509.load_pem_x509_certificate(download(http, cid2))
    assert cert2.public_key().public_numbers() == cert.public_key().public_numbers()
    assert cert2.subject == cert.subject and cert2.serial_number != cert.serial_number
    assert cert2.extensions.get_extension_for_class(x509.SubjectAlternativeName) == \
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


COPIES = """
WITH r AS (
    INSERT INTO signer_requests (kind, member_id, ca, profile, csr_der, payload, state, done_at)
    SELECT 'sign', member_id, ca, profile, csr_der, '\\x00'::bytea, 'done', now()
    FROM certificates, generate_series(1, %(n)s) g WHERE id = %(id)s RETURNING id)
INSERT INTO certificates (member_id, request_id, ca, profile, serial, subject, spki_sha256, md,
                          not_before, not_after, der, csr_der)
SELECT c.member_id, r.id, c.ca, c.profile, 'c0ffee' || lpad(to_hex(r.id), 20, '0'),
       'CN=copy ' || r.id, c.spki_sha256, c.md, c.not_before, c.not_after, c.der, c.csr_der
FROM certificates c, r WHERE c.id = %(id)s
"""


def test_a_member_with_thousands_of_certificates_gets_the_list_in_pages(http, stack, db):
    """A member with more certificates than one page holds (renewed by ACME
    for years, say) gets the list 500 at a time, newest first, with links
    to the newer and older ones; 5,000 of them once made the page larger
    than the templates' 1 MiB limit and the member got a 500.  A page that
    does not exist is a clear 404, and a short list has no paging."""
    member(http, stack, db, points=10)
    cid, _, _ = issue(http, profile="client", email0="yes")
    r = http.get("/certs/")
    assert r.status_code == 200 and f"view?id={cid}" in r.text
    assert "Next page" not in r.text
    with db.cursor() as cur:
        cur.execute(COPIES, {"n": 5200, "id": int(cid)})
        cur.execute("SELECT id FROM certificates WHERE member_id ="
                    " (SELECT member_id FROM certificates WHERE id = %s) ORDER BY id DESC",
                    (int(cid),))
        ids = [str(row[0]) for row in cur.fetchall()]
    assert len(ids) == 5201
    # a certificate issued now makes the list read again (the kept list
    # of this member is older than it)
    cid2, _, _ = issue(http, profile="client", email0="yes")
    ids.insert(0, cid2)
    walk_certs(http, ids)


def walk_certs(http, ids):
    """The member's certificates page by page: ids, newest first"""
    seen = []
    page, url = 0, "/certs/"
    while url:
        page += 1
        r = http.get(url)
        assert r.status_code == 200, r.text[:300]
        rows = re.findall(r'view\?id=(\d+)"', r.text)
        first = (page - 1) * 500 + 1
        assert f"Rows {first} to {first + len(rows) - 1} of 5202." in r.text
        newer = re.search(r'"\?p=(\d+)">Previous page', r.text)
        assert (newer.group(1) if newer else None) == (str(page - 1) if page > 1 else None)
        older = re.search(r'"\?p=(\d+)">Next page', r.text)
        url = f"/certs/?p={older.group(1)}" if older else None
        seen += rows
    assert page == 11 and seen == ids
    for bad in ("12", "0", "-1", "x", "1x", "99999999999999999999"):
        r = http.get(f"/certs/?p={bad}")
        assert r.status_code == 404 and "This list has no such page." in r.text
