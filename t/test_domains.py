# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Domain control (CPS 4.2.2, 3.1.7): claims, the three probes against real
servers on the loopback (t/probes.py), the re-test watchdog, the two-of-N
rule through the real issuance path, and the bad input."""

import html
import itertools
import re
import time

import pytest

import probes
from accounts import csrf_of, page_errors, post
from issuing import issue, member, request_form

_n = itertools.count(1)


def uniq(prefix="d"):
    return f"{prefix}{next(_n)}x{int(time.time() * 1000) % 10**8}"


@pytest.fixture
def srv(stack):
    return probes.servers()


def claim(http, name, expect=303):
    r = post(http, "/domains/", {"action": "add", "domain": name})
    assert r.status_code == expect, (r.status_code, r.text[:2000])
    if expect == 303:
        return re.search(r"id=(\d+)", r.headers["Location"]).group(1)
    return r


def view(http, did):
    r = http.get(f"/domains/view?id={did}")
    assert r.status_code == 200, r.text[:500]
    return r.text


def cookie_of(http, did):
    return html.unescape(re.search(r"Your code for this domain: <code>([^<]+)</code>",
                                   view(http, did)).group(1))


def probe(http, did, action, **extra):
    data = {"action": action, "id": did}
    data.update(extra)
    return post(http, "/domains/view", data, csrf_from=f"/domains/view?id={did}")


def checks(db, did):
    cur = db.cursor()
    cur.execute("SELECT method, kind, result, detail FROM domain_checks"
                " WHERE domain_id = %s ORDER BY id", (did,))
    return cur.fetchall()


def domain_count(db):
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM domains")
    return cur.fetchone()[0]


def check_count(db):
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM domain_checks")
    return cur.fetchone()[0]


# ---- claims ----

def test_add_list_remove(http, stack, db):
    member(http, stack, db)
    name = uniq() + ".example.test"
    did = claim(http, name)
    page = http.get("/domains/").text
    assert name in page and "not verified yet" in page
    assert "_cacert." + name in view(http, did)
    # the same name again in the same account
    r = claim(http, name, expect=409)
    assert "in your account already" in " ".join(page_errors(r.text))
    r = post(http, "/domains/", {"action": "remove", "id": did})
    assert r.status_code == 200 and "has been removed" in r.text
    assert name not in http.get("/domains/").text
    # someone else's id, or a removed one
    r = post(http, "/domains/", {"action": "remove", "id": did})
    assert r.status_code == 404
    assert http.get(f"/domains/view?id={did}").status_code == 404
    claim(http, name)           # free again


def test_one_domain_one_account(http, stack, db):
    import requests  # noqa: F401
    from conftest import StackSession
    base = uniq() + ".example.test"
    member(http, stack, db)
    claim(http, "shop." + base)
    other = StackSession(stack)
    try:
        member(other, stack, db)
        before = (domain_count(db), check_count(db))
        for name, why in [("shop." + base, "belongs to another account"),
                          ("www.shop." + base, "A domain above this one"),
                          (base, "A domain below this one")]:
            r = claim(other, name, expect=409)
            assert why in " ".join(page_errors(r.text)), (name, page_errors(r.text))
        assert (domain_count(db), check_count(db)) == before
        claim(other, "other." + base)          # a sibling is unrelated
        # another account's domain is not visible nor removable
        cur = db.cursor()
        cur.execute("SELECT id FROM domains WHERE name = %s", ("shop." + base,))
        did = str(cur.fetchone()[0])
        assert other.get(f"/domains/view?id={did}").status_code == 404
        assert post(other, "/domains/", {"action": "remove", "id": did},
                    csrf_from="/domains/").status_code == 404
    finally:
        other.close()


def test_org_domain_blocks_member_claims(http, stack, db):
    """A live organisation domain (006's org_domains) blocks a member's claim
    of the same name, of a name below it and of a name above it, each with
    its own message and nothing stored; a removed one blocks nothing."""
    base = uniq() + ".example.test"
    m = member(http, stack, db)
    cur = db.cursor()
    cur.execute("INSERT INTO organisations (name, town, country, contact_email, ticket,"
                " created_by) VALUES (%s, 'Berlin', 'DE', 'o@example.org', 's20261121.6', %s)"
                " RETURNING id", ("Org " + base, m["id"]))
    org = cur.fetchone()[0]
    cur.execute("INSERT INTO org_domains (organisation_id, name, ticket, verified_by)"
                " VALUES (%s, %s, 's20261121.6', %s) RETURNING id",
                (org, "shop." + base, m["id"]))
    odid = cur.fetchone()[0]
    before = (domain_count(db), check_count(db))
    for name, why in [("shop." + base, "This domain belongs to an organisation"),
                      ("SHOP." + base, "This domain belongs to an organisation"),
                      ("www.shop." + base, "A domain above this one belongs to an organisation"),
                      (base, "A domain below this one belongs to an organisation")]:
        r = claim(http, name, expect=409)
        assert why in " ".join(page_errors(r.text)), (name, page_errors(r.text))
    assert (domain_count(db), check_count(db)) == before
    claim(http, "other." + base)               # a sibling is unrelated
    cur.execute("UPDATE org_domains SET removed_at = now(), removed_by = %s WHERE id = %s",
                (m["id"], odid))
    claim(http, "shop." + base)                # free once the organisation lets go


BAD_NAMES = [
    ("", "Please enter a domain name"),
    ("example.org.", "leave out the dot"),
    ("192.0.2.1", "IP addresses cannot be claimed"),
    ("[2001:db8::1]", "IP addresses cannot be claimed"),
    ("2001:db8::1", "IP addresses cannot be claimed"),
    ("co.uk", "public suffix"),
    ("github.io", "public suffix"),
    ("org", "full domain name"),
    ("a..example.org", "not a valid domain name"),
    ("-a.example.org", "not a valid domain name"),
    ("a_b.example.org", "not a valid domain name"),
    ("a b.example.org", "not a valid domain name"),
    ("*.example.org", "without"),
    ("a" * 64 + ".example.org", "longer than 63"),
    (".".join(["a" * 60] * 5) + ".org", "longer than 253"),
    ("xn--pypal-4ve.com", "mixes writing systems"),       # Latin + Cyrillic a
    ("xn--zz-ab.example.org", "not valid (IDNA2008)"),
]


@pytest.mark.parametrize("name,why", BAD_NAMES)
def test_bad_names_refused(http, stack, db, name, why):
    member(http, stack, db)
    before = (domain_count(db), check_count(db))
    r = post(http, "/domains/", {"action": "add", "domain": name})
    assert r.status_code == 422, (name, r.status_code)
    assert why in " ".join(page_errors(r.text)), (name, page_errors(r.text))
    assert (domain_count(db), check_count(db)) == before


def test_nul_byte_refused(http, stack, db):
    member(http, stack, db)
    before = domain_count(db)
    token = csrf_of(http.get("/domains/").text)
    r = http.post("/domains/", data=b"csrf=" + token.encode() + b"&action=add&domain=a%00b.test",
                  headers={"Content-Type": "application/x-www-form-urlencoded"},
                  allow_redirects=False)
    assert r.status_code == 422
    assert page_errors(r.text)
    assert domain_count(db) == before


IDN_CASES = [
    # typed, accepted, stored as
    ("bücher.example.org", True, "xn--bcher-kva.example.org"),
    ("xn--bcher-kva.example.org", True, "xn--bcher-kva.example.org"),
    ("пример.example.test", True, "xn--e1afmkfd.example.test"),          # one script per label
    ("xn--pypal-4ve.de", True, "xn--pypal-4ve.de"),                     # .de: on the CPS list
    ("xn--pypal-4ve.example.org", True, "xn--pypal-4ve.example.org"),   # .org: on the list
    ("xn--pypal-4ve.example.test", False, "mixes writing systems"),
    ("pаypal.example.com", False, "mixes writing systems"),             # typed with Cyrillic а
    ("xn--80ak6aa92e-1.example.test", False, "not valid (IDNA2008)"),
]


@pytest.mark.parametrize("typed,ok,what", IDN_CASES)
def test_idn_pages(http, stack, db, typed, ok, what):
    member(http, stack, db)
    # unique names: the parent part is made unique per run
    tag = uniq("i")
    typed = typed.replace("example.", f"{tag}.example.")
    what = what.replace("example.", f"{tag}.example.")
    if ok:
        did = claim(http, typed)
        cur = db.cursor()
        cur.execute("SELECT name FROM domains WHERE id = %s", (did,))
        assert cur.fetchone()[0] == what
    else:
        r = post(http, "/domains/", {"action": "add", "domain": typed})
        assert r.status_code == 422
        assert what in " ".join(page_errors(r.text))


def test_idn_rule_for_email_addresses(http, stack, db):
    member(http, stack, db)
    r = post(http, "/account/emails", {"action": "add", "email": "x@xn--pypal-4ve.example.net"})
    assert r.status_code == 422
    assert "mixes writing systems" in " ".join(page_errors(r.text))
    r = post(http, "/account/emails", {"action": "add", "email": "x@xn--pypal-4ve.example.de"})
    assert r.status_code == 200, page_errors(r.text)


# ---- DNS ----

def test_dns_probe(http, stack, db, srv):
    member(http, stack, db)
    name = uniq() + ".example.test"
    did = claim(http, name)
    r = probe(http, did, "dns")
    assert r.status_code == 422 and "No TXT record" in r.text
    srv.zone.set_txt("_cacert." + name, "not-the-cookie")
    r = probe(http, did, "dns")
    assert r.status_code == 422 and "does not hold this domain" in r.text
    srv.zone.set_txt("_cacert." + name, cookie_of(http, did))
    r = probe(http, did, "dns")
    assert r.status_code == 200 and "The check passed" in r.text
    assert [c[:3] for c in checks(db, did)] == [("dns", "probe", "failed")] * 2 + \
        [("dns", "probe", "passed")]
    page = http.get("/domains/").text
    assert "verified for the Member SubRoot" in page
    assert "_cacert." + name + " TXT" in view(http, did)


@pytest.mark.allow_log(r"CA8")
def test_dns_timeout_and_garbage(http, stack, db, srv):
    member(http, stack, db)
    for zone, why in [("timeout.test", "did not answer in time"),
                      ("garbage.test", "could not be understood")]:
        did = claim(http, f"{uniq()}.{zone}")
        r = probe(http, did, "dns")
        assert r.status_code == 422, r.text[:300]
        assert why in r.text
        assert [c[2] for c in checks(db, did)] == ["failed"]
    # the file check resolves through the same server
    did = claim(http, f"{uniq()}.timeout.test")
    r = probe(http, did, "http")
    assert r.status_code == 422 and "did not answer in time" in r.text


def test_dns_probe_through_dnsmasq(http, stack, db, srv):
    member(http, stack, db)
    name = uniq() + ".dnsmasq.test"
    did = claim(http, name)
    srv.start_dnsmasq(f"_cacert.{name},{cookie_of(http, did)}")
    try:
        r = probe(http, did, "dns")
        assert r.status_code == 200 and "The check passed" in r.text
    finally:
        srv.stop_dnsmasq()


# ---- HTTP ----

def test_http_probe(http, stack, db, srv):
    member(http, stack, db)
    name = uniq() + ".example.test"
    did = claim(http, name)
    r = probe(http, did, "http")
    assert r.status_code == 422 and "did not deliver the file" in r.text
    srv.web.files[(name, "/.well-known/cacert-domain.txt")] = b"something else"
    r = probe(http, did, "http")
    assert r.status_code == 422 and "does not hold this domain" in r.text
    srv.serve_cookie(name, cookie_of(http, did))
    r = probe(http, did, "http")
    assert r.status_code == 200 and "The check passed" in r.text
    assert checks(db, did)[-1][:3] == ("http", "probe", "passed")


def test_http_redirects(http, stack, db, srv):
    member(http, stack, db)
    # within the domain: followed
    name = "inside." + uniq() + ".example.test"
    did = claim(http, name)
    srv.serve_cookie("www." + name, cookie_of(http, did))
    r = probe(http, did, "http")
    assert r.status_code == 200, r.text[:300]
    # elsewhere: refused, and elsewhere is never asked
    name = "away." + uniq() + ".example.test"
    did = claim(http, name)
    srv.serve_cookie("elsewhere.test", cookie_of(http, did))
    r = probe(http, did, "http")
    assert r.status_code == 422 and "redirected to another domain" in r.text
    assert not [h for h, p in srv.web.requests if h == "elsewhere.test"]
    # within the domain, but to another port or scheme: refused
    for pre in ("port.", "https."):
        name = pre + uniq() + ".example.test"
        did = claim(http, name)
        srv.serve_cookie("www." + name, cookie_of(http, did))
        r = probe(http, did, "http")
        assert r.status_code == 422 and "redirected to another domain" in r.text, pre
        assert checks(db, did)[-1][2:] == ("failed", "probe.http.redirect")
        assert not [h for h, p in srv.web.requests if h == "www." + name]
    # in circles
    did = claim(http, "loop." + uniq() + ".example.test")
    r = probe(http, did, "http")
    assert r.status_code == 422 and "too many times" in r.text


def test_http_huge_and_hanging(http, stack, db, srv):
    member(http, stack, db)
    name = "huge." + uniq() + ".example.test"
    did = claim(http, name)
    r = probe(http, did, "http")
    assert r.status_code == 422 and "we stopped reading" in r.text
    assert checks(db, did)[-1][2:] == ("failed", "probe.http.toolarge")
    # the server noticed the client leave long before 1 GB
    deadline = time.monotonic() + 20
    while name not in srv.web.huge_sent:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert srv.web.huge_sent[name] < probes.HUGE
    did = claim(http, "hang." + uniq() + ".example.test")
    r = probe(http, did, "http")
    assert r.status_code == 422 and "did not answer in time" in r.text
    assert checks(db, did)[-1][2:] == ("failed", "probe.http.timeout")


def test_http_private_addresses_refused_by_default(http, stack, db, srv):
    lines = [l for l in stack.extra_conf if "PrivateAddresses" not in l]
    old = list(stack.extra_conf)
    stack.restart(lines)
    try:
        member(http, stack, db)
        name = uniq() + ".example.test"
        did = claim(http, name)
        srv.serve_cookie(name, cookie_of(http, did))
        r = probe(http, did, "http")
        assert r.status_code == 422 and "private or loopback" in r.text
        assert not [h for h, p in srv.web.requests if h == name]
    finally:
        stack.restart(old)


# ---- email ping ----

def test_email_ping_fixed_mailbox(http, stack, db, srv):
    member(http, stack, db)
    name = uniq() + ".example.test"
    did = claim(http, name)
    page = view(http, did)
    for box in ("root", "hostmaster", "postmaster", "admin", "webmaster"):
        assert f'value="{box}@{name}"' in page
    r = probe(http, did, "email", mailbox=f"hostmaster@{name}")
    assert r.status_code == 200 and "has been sent" in r.text
    assert checks(db, did) == [("email", "probe", "sent", "")]
    mail = stack.wait_for_mail(f"hostmaster@{name}")
    link = [l for l in mail.links if "/domains/confirm?c=" in l][0]
    r = http.get(link)
    assert r.status_code == 200
    c = html.unescape(re.search(r'name="cookie" value="([^"]*)"', r.text).group(1))
    r = http.post("/domains/confirm", data={"csrf": csrf_of(r.text), "cookie": c})
    assert r.status_code == 200 and "control of this domain is confirmed" in r.text
    assert checks(db, did)[-1][:3] == ("email", "probe", "passed")
    # once only
    r = http.post("/domains/confirm", data={"csrf": csrf_of(r.text), "cookie": c})
    assert r.status_code == 404
    r = http.post("/domains/confirm", data={"csrf": csrf_of(r.text), "cookie": "guess"})
    assert r.status_code == 404
    assert "email ping" in view(http, did)


def test_email_ping_only_to_the_domain(http, stack, db, srv):
    member(http, stack, db)
    name = uniq() + ".example.test"
    did = claim(http, name)
    before = check_count(db)
    for to in ("someone@example.org", f"info@{name}", f"hostmaster@other.{name}",
               f"hostmaster@{name}.evil.test", "not an address"):
        r = probe(http, did, "email", mailbox=to)
        assert r.status_code == 422 and "one of the listed addresses" in r.text, to
    assert check_count(db) == before
    assert not stack.mails(to="someone@example.org")


def test_email_ping_whois_address(http, stack, db, srv):
    member(http, stack, db)
    name = uniq() + ".example.test"
    owner = f"owner-{uniq()}@mail.example.net"
    srv.whois.records[name] = (
        "% terms of use: abuse@registry.example never gets the ping\r\n"
        f"Domain Name: {name.upper()}\r\n"
        f"Registrant Email: {owner}\r\n"
        "Tech Email: <Tech@Mail.Example.NET>.\r\n")
    did = claim(http, name)
    r = probe(http, did, "whois")
    assert r.status_code == 200
    assert f'value="{owner}"' in r.text and 'value="Tech@mail.example.net"' in r.text
    assert "abuse@registry.example" not in r.text
    r = probe(http, did, "email", mailbox=owner)
    assert r.status_code == 200 and "has been sent" in r.text
    stack.wait_for_mail(owner)
    # a domain whose whois lists nothing, or a whois server that stalls
    did2 = claim(http, uniq() + ".example.test")
    r = probe(http, did2, "whois")
    assert r.status_code == 422 and "lists no email address" in r.text
    did3 = claim(http, "slow." + uniq() + ".example.test")
    r = probe(http, did3, "whois")
    assert r.status_code == 422 and "did not answer in time" in r.text
    did4 = claim(http, "big." + uniq() + ".example.test")
    r = probe(http, did4, "whois")
    assert r.status_code == 422 and "too large" in r.text


# ---- limits, re-tests, issuance ----

def test_probe_rate_limit(http, stack, db, srv):
    with stack.configured(["CAcertDomainProbesPerDomain 2"]):
        member(http, stack, db)
        did = claim(http, uniq() + ".example.test")
        assert probe(http, did, "dns").status_code == 422
        assert probe(http, did, "http").status_code == 422
        r = probe(http, did, "dns")
        assert r.status_code == 429 and "Too many checks" in r.text
        assert len(checks(db, did)) == 2


def test_probe_rate_limit_per_account(http, stack, db, srv):
    """CAcertDomainProbesPerAccount counts one account's probes over all of
    its domains; another account is not held back by it."""
    from conftest import StackSession
    with stack.configured(["CAcertDomainProbesPerAccount 2"]):
        member(http, stack, db)
        one = claim(http, uniq() + ".example.test")
        two = claim(http, uniq() + ".example.test")
        assert probe(http, one, "dns").status_code == 422
        assert probe(http, two, "http").status_code == 422
        r = probe(http, two, "dns")            # a third probe, on either domain
        assert r.status_code == 429 and "Too many checks" in r.text
        assert probe(http, one, "http").status_code == 429
        assert len(checks(db, one)) == 1 and len(checks(db, two)) == 1
        other = StackSession(stack)
        try:
            member(other, stack, db)
            three = claim(other, uniq() + ".example.test")
            assert probe(other, three, "dns").status_code == 422
            assert len(checks(db, three)) == 1
        finally:
            other.close()


def test_retest_marks_failing_domain(http, stack, db, srv):
    with stack.configured(["CAcertDomainRetestInterval 2s"]):
        m = member(http, stack, db, points=60)
        name = uniq() + ".example.test"
        did = claim(http, name)
        cookie = cookie_of(http, did)
        srv.zone.set_txt("_cacert." + name, cookie)
        srv.serve_cookie(name, cookie)
        assert probe(http, did, "dns").status_code == 200
        assert probe(http, did, "http").status_code == 200
        assert "verified for the Assured SubRoot" in http.get("/domains/").text
        # the watchdog re-tests both and they pass
        deadline = time.monotonic() + 30
        while not [c for c in checks(db, did) if c[1] == "retest"]:
            assert time.monotonic() < deadline, "no re-test"
            time.sleep(0.2)
        # the member takes the record away: the next re-test fails
        srv.zone.set_txt("_cacert." + name)
        deadline = time.monotonic() + 30
        while not [c for c in checks(db, did) if c[1:3] == ("retest", "failed")]:
            assert time.monotonic() < deadline, "no failing re-test"
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while "a re-test failed" not in http.get("/domains/").text:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        page = http.get("/domains/").text
        assert "verified for the Member SubRoot" in page
        assert "re-test" in view(http, did)
        cur = db.cursor()
        cur.execute("SELECT count(*) FROM audit_log WHERE member_id = %s"
                    " AND action = 'domain.retest.failed'", (m["id"],))
        assert cur.fetchone()[0] >= 1
        # an Assured SubRoot certificate for it is refused now: one check
        # still passes, a second one is needed
        r = request_form(http, profile="server", hosts="www." + name,
                         csr=_csr())
        assert r.status_code == 422
        assert_needs_second_check(http, r, did, name)


def _csr():
    from issuing import make_csr, new_key
    return make_csr(new_key()).decode()


SECOND_CHECK = {
    "en": ("That host name is in one of your domains, but for server certificates"
           " from this root the domain needs a second check by a different method.",
           "Run another check of {name}"),
    "de": ("Dieser Hostname liegt in einer Ihrer Domains, aber für Server-Zertifikate"
           " dieser SubRoot braucht die Domain eine zweite Prüfung mit einer anderen"
           " Methode.", "{name} mit einer weiteren Methode prüfen"),
}


def assert_needs_second_check(http, r, did, name, lang="en"):
    """The refusal of a host in a domain with one passed check: says that a
    second, different check is needed (not that the domain is unverified)
    and links to the domain's page, where the checks are run."""
    text, link = SECOND_CHECK[lang]
    errors = " ".join(page_errors(r.text))
    assert text in errors, errors
    assert "not in one of your verified domains" not in errors
    assert "keiner Ihrer bestätigten Domains" not in errors
    m = re.search(r'<p class="field-error">[^<]*<a href="([^"]+)">([^<]+)</a>', r.text)
    assert m, r.text
    assert html.unescape(m.group(1)) == f"/domains/view?id={did}"
    assert html.unescape(m.group(2)) == link.format(name=name)
    page = http.get(html.unescape(m.group(1)))
    assert page.status_code == 200 and f"<h1>{name}</h1>" in page.text
    assert 'name="action" value="http"' in page.text


def test_two_of_n_for_the_assured_subroot(http, stack, db, srv):
    member(http, stack, db, points=60)
    name = uniq() + ".example.test"
    did = claim(http, name)
    srv.zone.set_txt("_cacert." + name, cookie_of(http, did))
    assert probe(http, did, "dns").status_code == 200
    # one method: the Member SubRoot would do, the Assured SubRoot refuses,
    # and says what is missing (the domain list shows the domain verified)
    assert "verified for the Member SubRoot" in http.get("/domains/").text
    r = request_form(http, profile="server", hosts="www." + name, csr=_csr())
    assert r.status_code == 422
    assert_needs_second_check(http, r, did, name)
    # a host outside every domain keeps the old message, next to it
    r = request_form(http, profile="server", hosts=f"www.{name} www.{uniq()}.example.test",
                     csr=_csr())
    assert r.status_code == 422
    assert_needs_second_check(http, r, did, name)
    r = request_form(http, profile="server", hosts=f"www.{uniq()}.example.test www.{name}",
                     csr=_csr())
    assert r.status_code == 422
    assert "not in one of your verified domains" in " ".join(page_errors(r.text))
    assert "/domains/view" not in r.text.split('id="hosts"')[1].split("</div>")[0]
    # in German too
    post(http, "/account/language", {"lang": "de", "back": ""}, csrf_from="/certs/new")
    r = request_form(http, profile="server", hosts="www." + name, csr=_csr())
    assert r.status_code == 422
    assert_needs_second_check(http, r, did, name, lang="de")
    post(http, "/account/language", {"lang": "en", "back": ""}, csrf_from="/certs/new")
    # the same method twice is still one method
    assert probe(http, did, "dns").status_code == 200
    r = request_form(http, profile="server", hosts="www." + name, csr=_csr())
    assert r.status_code == 422
    assert_needs_second_check(http, r, did, name)
    # a second, different method
    srv.serve_cookie(name, cookie_of(http, did))
    assert probe(http, did, "http").status_code == 200
    cid, cert, key = issue(http, profile="server", hosts="www." + name)
    from cryptography import x509
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["www." + name]
    assert "assured" in cert.issuer.rfc4514_string().lower()


def test_one_check_for_the_member_subroot(http, stack, db, srv):
    member(http, stack, db, points=10)
    name = uniq() + ".example.test"
    did = claim(http, name)
    r = request_form(http, profile="server", hosts=name, csr=_csr())
    assert r.status_code == 422
    srv.serve_cookie(name, cookie_of(http, did))
    assert probe(http, did, "http").status_code == 200
    cid, cert, key = issue(http, profile="server", hosts=name)
    assert "member" in cert.issuer.rfc4514_string().lower()


def test_checks_rule_is_a_directive(http, stack, db, srv):
    with stack.configured(["CAcertDomainChecks member 2 dns http"]):
        member(http, stack, db, points=10)
        name = uniq() + ".example.test"
        did = claim(http, name)
        srv.serve_cookie(name, cookie_of(http, did))
        assert probe(http, did, "http").status_code == 200
        assert "not verified" not in http.get("/domains/").text
        r = request_form(http, profile="server", hosts=name, csr=_csr())
        assert r.status_code == 422
        srv.zone.set_txt("_cacert." + name, cookie_of(http, did))
        assert probe(http, did, "dns").status_code == 200
        issue(http, profile="server", hosts=name)
