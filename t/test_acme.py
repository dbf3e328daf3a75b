# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""ACME end to end with the clients members use, both from Debian: certbot
(http-01, renew, revoke) and lego (http-01, dns-01 through its exec
provider and the tests' loopback DNS server), against the real stack:
httpd with the modules, PostgreSQL, signerd over a pty.  Every certificate
is checked field by field against CPS 7.1.2 and the member's points, as
the form's are (test_issue.py)."""

import os
import subprocess
import tempfile
import time

from cryptography import x509
from cryptography.x509.oid import NameOID

from acme import Certbot, Lego, acme_member, eab, load_certs, unique_domain
from test_issue import check_profile


def load(pem):
    return load_certs(pem)


def ca_file(stack, name):
    return os.path.join(stack.ca_dir, "web", f"{name}.crt")


def ocsp_says(stack, cert_pem, ca):
    with tempfile.NamedTemporaryFile(suffix=".pem") as f:
        f.write(cert_pem)
        f.flush()
        p = subprocess.run(["openssl", "ocsp", "-issuer", ca_file(stack, ca), "-cert", f.name,
                            "-url", stack.http_url + "/ocsp", "-CAfile", ca_file(stack, "root"),
                            "-verify_other", ca_file(stack, ca), "-no_nonce"],
                           capture_output=True, text=True, timeout=30)
    return p.stdout + p.stderr


class _Key:
    """check_profile compares the certificate's key with key.public_key()."""
    def __init__(self, cert):
        self.cert = cert

    def public_key(self):
        return self.cert.public_key()


def sans(cert):
    return cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def test_certbot_certonly_renew_revoke(http, stack, db):
    """http-01 with external account binding, for a 20-point member whose
    domain has no check yet: the challenge is the HTTP file check."""
    name = unique_domain()
    m = acme_member(http, stack, db, points=20, domains=[name])
    kid, key = eab(http)
    cb = Certbot(stack)
    try:
        p = cb.certonly(name, kid, key)
        assert p.returncode == 0, p.stdout + p.stderr
        chain = load(cb.live(name, "fullchain.pem"))
        cert = chain[0]
        check_profile(stack, cert, "server", "member", 183, _Key(cert))
        assert sans(cert) == [name]
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name
        assert chain[1].subject == load(open(ca_file(stack, "member"), "rb").read())[0].subject
        # the challenge is recorded as the domain's HTTP check
        cur = db.cursor()
        cur.execute("SELECT c.method, c.kind, c.result FROM domain_checks c JOIN domains d"
                    " ON d.id = c.domain_id WHERE d.name = %s", (name,))
        assert cur.fetchall() == [("http", "acme", "passed")]
        # listed on the member's certificate page
        cur.execute("SELECT id, serial, description FROM certificates WHERE member_id = %s",
                    (m["id"],))
        rows = cur.fetchall()
        assert len(rows) == 1 and int(rows[0][1], 16) == cert.serial_number
        assert "ACME order" in rows[0][2]
        assert f"view?id={rows[0][0]}" in http.get("/certs/").text
        # renew: a new certificate, the authorisation now by the domain's standing
        p = cb.run("renew", "--force-renewal", "--no-random-sleep-on-renew")
        assert p.returncode == 0, p.stdout + p.stderr
        renewed = load(cb.live(name))[0]
        assert renewed.serial_number != cert.serial_number
        check_profile(stack, renewed, "server", "member", 183, _Key(renewed))
        # revoke: OCSP says so within a second of certbot's return
        assert ": good" in ocsp_says(stack, cb.live(name), "member")
        p = cb.run("revoke", "--cert-path", f"{cb.dir}/config/live/{name}/cert.pem",
                   "--no-delete-after-revoke", "--reason", "keycompromise")
        assert p.returncode == 0, p.stdout + p.stderr
        t0 = time.monotonic()
        while ": revoked" not in (out := ocsp_says(stack, cb.live(name), "member")):
            assert time.monotonic() - t0 < 1.0, out
            time.sleep(0.05)
        cur.execute("SELECT serial, revoke_reason, revoked_at IS NOT NULL FROM certificates"
                    " WHERE member_id = %s", (m["id"],))
        states = {int(s_, 16): (reason, revoked) for s_, reason, revoked in cur.fetchall()}
        assert states[renewed.serial_number] == (1, True)
        assert states[cert.serial_number] == (None, False)
    finally:
        cb.cleanup()


def test_lego_http01(http, stack, db):
    name = unique_domain()
    acme_member(http, stack, db, points=20, domains=[name])
    kid, key = eab(http)
    lego = Lego(stack)
    try:
        p = lego.run(kid, key, [f"www.{name}"])
        assert p.returncode == 0, p.stdout + p.stderr
        cert = load(lego.cert(f"www.{name}"))[0]
        check_profile(stack, cert, "server", "member", 183, _Key(cert))
        assert sans(cert) == [f"www.{name}"]
        # a subdomain's challenge authorises that name only: the domain
        # itself gains no check
        cur = db.cursor()
        cur.execute("SELECT count(*) FROM domain_checks c JOIN domains d ON d.id = c.domain_id"
                    " WHERE d.name = %s", (name,))
        assert cur.fetchone()[0] == 0
    finally:
        lego.cleanup()


def test_lego_dns01_wildcard_for_an_assured_member(http, stack, db):
    """The Assured SubRoot needs two methods: the domain's standing HTTP
    check and the dns-01 challenge make two."""
    name = unique_domain()
    acme_member(http, stack, db, points=60, domains=[name], checks=["http"])
    kid, key = eab(http)
    lego = Lego(stack)
    try:
        p = lego.run(kid, key, [f"*.{name}", name], challenge="dns")
        assert p.returncode == 0, p.stdout + p.stderr
        cert = load(lego.cert(f"*.{name}"))[0]
        check_profile(stack, cert, "server", "assured", 730, _Key(cert))
        assert sorted(sans(cert)) == sorted([f"*.{name}", name])
    finally:
        lego.cleanup()


def test_lego_wildcard_refused_under_50_points(http, stack, db):
    name = unique_domain()
    m = acme_member(http, stack, db, points=20, domains=[name], checks=["dns", "http"])
    kid, key = eab(http)
    lego = Lego(stack)
    try:
        cur = db.cursor()
        cur.execute("SELECT count(*) FROM signer_requests WHERE member_id = %s", (m["id"],))
        before = cur.fetchone()[0]
        p = lego.run(kid, key, [f"*.{name}"], challenge="dns")
        assert p.returncode != 0
        out = p.stdout + p.stderr
        assert "rejectedIdentifier" in out and "Wildcard names need 50 assurance points" in out, out
        cur.execute("SELECT count(*) FROM signer_requests WHERE member_id = %s", (m["id"],))
        assert cur.fetchone()[0] == before
    finally:
        lego.cleanup()


def test_acme_page_binds_lists_and_deactivates(http, stack, db):
    from acme import Client
    from accounts import csrf_of
    name = unique_domain()
    m = acme_member(http, stack, db, points=20, domains=[name], checks=["http"])
    kid, key = eab(http)
    page = http.get("/certs/acme").text
    assert kid in page and key not in page           # the HMAC key is shown once
    c = Client(stack)
    r = c.register(kid, key)
    assert r.status_code == 201, r.text
    acct_id = c.kid.rsplit("/", 1)[1]
    page = http.get("/certs/acme").text
    assert kid in page and "valid" in page
    cur = db.cursor()
    cur.execute("SELECT action FROM audit_log WHERE member_id = %s AND action LIKE 'acme.%%'"
                " ORDER BY id", (m["id"],))
    assert [a for (a,) in cur.fetchall()] == ["acme.eab.create", "acme.account.bind"]
    r = http.post("/certs/acme_deactivate", data={"csrf": csrf_of(page), "id": acct_id},
                  allow_redirects=False)
    assert r.status_code == 303
    r = c.order(name)
    assert r.status_code == 401 and "deactivated" in r.text
    cur.execute("SELECT status FROM acme_accounts WHERE id = %s", (acct_id,))
    assert cur.fetchone()[0] == "deactivated"
