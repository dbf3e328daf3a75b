# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Organisation assurance end to end: an Organisation Assurer creates an
organisation, records its documents, adds its domains and appoints O-Admins;
a master O-Admin appoints another; an O-Admin gets an organisation server
certificate under the Organisation SubRoot, verified with openssl against
the org chain, with O, L, ST and C in the subject."""

import itertools
import os
import re

from cryptography import x509
from cryptography.x509.oid import NameOID

from accounts import csrf_of
from consolehelp import actor, message_of, post
from issuing import add_domain, download, make_csr, new_key, openssl_verify, wait_for_cert
from test_audit import assert_intact

T = "s20261121.11"
_n = itertools.count(1)


def new_org(oa, name=None):
    name = name or f"Example {next(_n)} GmbH {os.getpid()}"
    r = post(oa, "org-new", name=name, town="Berlin", state="Berlin", country="DE",
             contact="info@example.org", ticket=T)
    assert r.status_code == 303, message_of(r.text)
    return re.search(r"org-view\?id=(\d+)", r.headers["Location"]).group(1)


def domain():
    # a registrable domain of its own: a name below another test's member
    # domain (test_issue.py claims example.net) would be refused
    return f"org{next(_n)}-{os.getpid()}-example.net"


def org_request(s, org_id, **fields):
    r = s.get(f"/certs/org?org={org_id}")
    assert r.status_code == 200, r.text[:500]
    data = {"csrf": csrf_of(r.text), "org": org_id, "md": "sha256"}
    data.update(fields)
    return s.post("/certs/org", data=data, allow_redirects=False)


def test_organisation_to_server_certificate(stack, db):
    oa, o = actor(stack, db, "org-assurer")
    org_id = new_org(oa)
    cur = db.cursor()
    cur.execute("SELECT name, town, state, country, created_by, ticket FROM organisations"
                " WHERE id = %s", (org_id,))
    row = cur.fetchone()
    assert row[1:] == ("Berlin", "Berlin", "DE", o["id"], T)
    cur.execute("SELECT actor_id, action FROM audit_log WHERE action = 'org.create'"
                " ORDER BY id DESC LIMIT 1")
    assert cur.fetchone() == (o["id"], "org.create")
    # documents and domains
    r = post(oa, "org-document", id=org_id, kind="Trade register extract",
             description="HRB 12345, Amtsgericht Berlin", ticket=T)
    assert r.status_code == 303, message_of(r.text)
    dom = domain()
    r = post(oa, "org-domain", id=org_id, domain=dom, ticket=T)
    assert r.status_code == 303, message_of(r.text)
    assert post(oa, "org-domain", id=org_id, domain=dom, ticket=T).status_code == 409
    # O-Admins must be Assurers; a master appoints further O-Admins
    _, plain = actor(stack, db, points=10)
    r = post(oa, "org-admin", id=org_id, email=plain["email"], master="1", ticket=T)
    assert r.status_code == 422 and "Assurers" in message_of(r.text)
    ms, master = actor(stack, db, points=100, assurer=True)
    r = post(oa, "org-admin", id=org_id, email=master["email"], master="1", ticket=T)
    assert r.status_code == 303, message_of(r.text)
    adm, admin = actor(stack, db, points=100, assurer=True)
    r = post(ms, "org-admin", id=org_id, email=admin["email"], master="1", ticket=T)
    assert r.status_code == 403                 # a master cannot make masters
    r = post(ms, "org-admin", id=org_id, email=admin["email"])
    assert r.status_code == 422                 # a master needs a ticket too
    assert "ticket" in message_of(r.text)
    r = post(ms, "org-admin", id=org_id, email=admin["email"], ticket=T)
    assert r.status_code == 303, message_of(r.text)
    cur.execute("SELECT member_id, is_master, appointed_by FROM org_admins"
                " WHERE organisation_id = %s AND removed_at IS NULL ORDER BY id", (org_id,))
    assert cur.fetchall() == [(master["id"], True, o["id"]), (admin["id"], False, master["id"])]
    r = post(adm, "org-admin", id=org_id, email=plain["email"], ticket=T)
    assert r.status_code == 403                 # a plain O-Admin appoints nobody
    page = adm.get(f"/wot/org-view?id={org_id}")
    assert page.status_code == 200 and dom in page.text and "(master)" in page.text
    assert "Trade register extract" not in page.text      # documents: Org Assurers only
    assert "Trade register extract" in oa.get(f"/wot/org-view?id={org_id}").text
    # the certificate
    key = new_key()
    r = org_request(adm, org_id, profile="org-server", unit="IT Services",
                    hosts=f"www.{dom} {dom}", csr=make_csr(key).decode())
    cid = wait_for_cert(adm, r)
    pem = download(adm, cid)
    cert = x509.load_pem_x509_certificate(pem)
    subj = cert.subject

    def one(oid):
        return [a.value for a in subj.get_attributes_for_oid(oid)]
    assert one(NameOID.ORGANIZATION_NAME) == [row[0]]
    assert one(NameOID.ORGANIZATIONAL_UNIT_NAME) == ["IT Services"]
    assert one(NameOID.LOCALITY_NAME) == ["Berlin"]
    assert one(NameOID.STATE_OR_PROVINCE_NAME) == ["Berlin"]
    assert one(NameOID.COUNTRY_NAME) == ["DE"]
    assert one(NameOID.COMMON_NAME) == [f"www.{dom}"]
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(sans.get_values_for_type(x509.DNSName)) == sorted([f"www.{dom}", dom])
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku
    with open(os.path.join(stack.ca_dir, "web", "org.crt"), "rb") as f:
        org_ca = f.read()
    assert cert.issuer == x509.load_pem_x509_certificate(org_ca).subject
    ok, out = openssl_verify(stack, pem, chain=org_ca)
    assert ok, out
    cur.execute("SELECT r.organisation_id, c.profile, c.ca FROM certificates c"
                " JOIN signer_requests r ON r.id = c.request_id WHERE c.id = %s", (cid,))
    assert cur.fetchone() == (int(org_id), "org-server", "org")
    # an organisation client certificate for an address in the domain
    r = org_request(adm, org_id, profile="org-client", emails=f"sales@{dom}",
                    cn="Sales Team", csr=make_csr(new_key("ec")).decode())
    cid2 = wait_for_cert(adm, r)
    c2 = x509.load_pem_x509_certificate(download(adm, cid2))
    assert c2.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Sales Team"
    assert c2.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == row[0]
    # a blocked O-Admin is no longer an Assurer: no organisation certificate
    cur.execute("SELECT count(*) FROM signer_requests WHERE organisation_id = %s", (org_id,))
    queued = cur.fetchone()[0]
    cur.execute("UPDATE members SET blocked_at = now() WHERE id = %s", (admin["id"],))
    r = org_request(adm, org_id, profile="org-server", hosts=dom,
                    csr=make_csr(new_key()).decode())
    assert r.status_code == 403, r.status_code
    cur.execute("SELECT count(*) FROM signer_requests WHERE organisation_id = %s", (org_id,))
    assert cur.fetchone()[0] == queued
    assert_intact(stack)


def test_organisation_bad_input(stack, db, http):
    oa, o = actor(stack, db, "org-assurer")
    org_id = new_org(oa)
    # without a ticket, with a bad country, a taken name
    r = post(oa, "org-new", name="Other AG", town="Bern", country="CH",
             contact="a@example.org", ticket="")
    assert r.status_code == 422
    r = post(oa, "org-new", name="Other AG", town="Bern", country="UK",
             contact="a@example.org", ticket=T)
    assert r.status_code == 422 and "ISO 3166" in r.text
    cur = db.cursor()
    cur.execute("SELECT name FROM organisations WHERE id = %s", (org_id,))
    name = cur.fetchone()[0]
    r = post(oa, "org-new", name=name, town="Bern", country="DE", contact="a@example.org",
             ticket=T)
    assert r.status_code == 409
    # a domain a member holds, a malformed one, a missing ticket
    _, m = actor(stack, db)
    taken = domain()
    add_domain(db, m["id"], taken)
    assert post(oa, "org-domain", id=org_id, domain=taken, ticket=T).status_code == 409
    assert post(oa, "org-domain", id=org_id, domain="Not A Domain",
                ticket=T).status_code == 422
    assert post(oa, "org-domain", id=org_id, domain=domain(), ticket="").status_code == 422
    cur.execute("SELECT count(*) FROM org_domains WHERE organisation_id = %s", (org_id,))
    assert cur.fetchone()[0] == 0
    # and the other way round: a member cannot claim an organisation's domain
    dom = domain()
    assert post(oa, "org-domain", id=org_id, domain=dom, ticket=T).status_code == 303
    import psycopg2
    try:
        add_domain(db, m["id"], dom)
        assert False, "a member claimed an organisation's domain"
    except psycopg2.Error:
        pass
    # members without the role, and O-Admins of other organisations
    mem, _ = actor(stack, db, points=100, assurer=True)
    assert mem.get("/wot/org-new").status_code == 403
    assert post(mem, "org-domain", id=org_id, domain=domain(), ticket=T).status_code == 403
    assert mem.get(f"/wot/org-view?id={org_id}").status_code == 403
    assert mem.get(f"/certs/org?org={org_id}").status_code == 403
    r = post(mem, "org-admin", id=org_id, email=m["email"])
    assert r.status_code == 403
    # an O-Admin asking for a host outside the organisation's domains
    r = post(oa, "org-admin", id=org_id, email=_admin_email(stack, db), ticket=T)
    assert r.status_code == 303
    adm = _last_admin_session
    r = org_request(adm, org_id, profile="org-server", hosts="www.example.com",
                    csr=make_csr(new_key()).decode())
    assert r.status_code == 422 and "domains" in r.text
    cur.execute("SELECT count(*) FROM signer_requests WHERE organisation_id = %s", (org_id,))
    assert cur.fetchone()[0] == 0
    assert_intact(stack)


_last_admin_session = None


def _admin_email(stack, db):
    global _last_admin_session
    s, a = actor(stack, db, points=100, assurer=True)
    _last_admin_session = s
    return a["email"]


def test_organisation_domain_claim_rules(stack, db):
    """An organisation's domain follows the member side's rules: no public
    suffix, and no name that is, lies above or lies below a domain of a
    member or of another organisation; the database refuses them too."""
    import psycopg2
    oa, _ = actor(stack, db, "org-assurer")
    org_id, other = new_org(oa), new_org(oa)
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM org_domains WHERE organisation_id = %s", (org_id,))
    assert cur.fetchone()[0] == 0
    for suffix in ("co.uk", "github.io", "com"):
        r = post(oa, "org-domain", id=org_id, domain=suffix, ticket=T)
        assert r.status_code == 422, (suffix, r.status_code)
    r = post(oa, "org-domain", id=org_id, domain="co.uk", ticket=T)
    assert "public suffix" in message_of(r.text)
    # a member's domain: its parent and its child are refused
    _, m = actor(stack, db)
    base = domain()
    add_domain(db, m["id"], "www." + base)
    r = post(oa, "org-domain", id=org_id, domain=base, ticket=T)
    assert r.status_code == 409 and "below this one" in message_of(r.text)
    r = post(oa, "org-domain", id=org_id, domain="x.www." + base, ticket=T)
    assert r.status_code == 409 and "above this one" in message_of(r.text)
    # another organisation's domain, same name, parent and child
    dom = domain()
    assert post(oa, "org-domain", id=other, domain=dom, ticket=T).status_code == 303
    for name in (dom, "shop." + dom):
        assert post(oa, "org-domain", id=org_id, domain=name, ticket=T).status_code == 409
    # the organisation itself may hold a name below its own
    assert post(oa, "org-domain", id=other, domain="shop." + dom, ticket=T).status_code == 303
    assert post(oa, "org-domain", id=other, domain=dom, ticket=T).status_code == 409
    cur.execute("SELECT count(*) FROM org_domains WHERE organisation_id = %s", (org_id,))
    assert cur.fetchone()[0] == 0
    # the member side: a member cannot claim below an organisation's domain,
    # nor can a direct insert get around it
    for name in ("a." + dom, "b.shop." + dom):
        try:
            add_domain(db, m["id"], name)
            assert False, f"{name} was claimed by a member"
        except psycopg2.Error as e:
            assert e.pgcode == "23505", e
    for name in ("deep.www." + base, base, "x.shop." + dom):
        try:
            cur.execute("INSERT INTO org_domains (organisation_id, name, ticket, verified_by)"
                        " VALUES (%s, %s, %s, %s)", (org_id, name, T, m["id"]))
            assert False, f"organisation domain {name} was stored"
        except psycopg2.Error as e:
            assert e.pgcode == "23505", e
