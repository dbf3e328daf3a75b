# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Strangers against members (real httpd and PostgreSQL): wrong codes that
must not burn the owner's confirmation, wrong logins that must not lock the
owner out, a forged Host header that must not reach a redirect, and the
headers of static files and httpd's own error pages.  A second client is a
second loopback address (127.0.0.2): the server sees another client."""

import re
import time

import pytest
import requests

from accounts import PASSWORD, csrf_of, login, member_data, post, registered_member
from conftest import StackSession
from test_issue_certlogin import cert_session  # noqa: F401 (a fixture)

STRANGER = "127.0.0.2"


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Connections from a chosen local address."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*a, **kw)


def client_from(stack, source):
    s = StackSession(stack)
    s.mount("https://", SourceAdapter(source))
    return s


@pytest.fixture
def clean_failures(db):
    cur = db.cursor()
    for t in ("login_failures", "lost_password_failures", "confirm_failures"):
        cur.execute(f"DELETE FROM {t}")
    yield
    for t in ("login_failures", "lost_password_failures", "confirm_failures"):
        cur.execute(f"DELETE FROM {t}")


def test_a_stranger_cannot_burn_the_confirmation(http, stack, db, clean_failures):
    data = member_data()
    r = post(http, "/account/register", data)
    assert r.status_code == 200
    mail = stack.wait_for_mail(data["email"])
    link = [l for l in mail.links if "/account/confirm?" in l][0]
    ping_id = link.split("id=")[1].split("&")[0]
    with client_from(stack, STRANGER) as s:
        codes = []
        for i in range(30):
            token = csrf_of(s.get("/account/confirm").text)
            by = {"id": ping_id} if i % 2 else {"email": data["email"]}
            codes.append(s.post("/account/confirm", allow_redirects=False,
                                data=dict(by, csrf=token, code=f"guess-{i}")).status_code)
        # the stranger is slowed down after 20 wrong codes (the default)...
        assert codes[:20] == [422] * 20 and set(codes[20:]) == {429}, codes
    # ... and the owner's mailed link still works
    r = http.get(link)
    r = http.post("/account/confirm", allow_redirects=False, data={
        "csrf": csrf_of(r.text), "id": re.search(r'name="id" value="(\d+)"', r.text).group(1),
        "code": link.split("code=")[1]})
    assert r.status_code == 200 and "confirmed" in r.text, r.text[:500]


def test_confirm_by_address_does_not_tell_whether_a_ping_is_pending(http, stack, db,
                                                                    clean_failures):
    data = member_data()
    assert post(http, "/account/register", data).status_code == 200
    answers = []
    for address in (data["email"], "nobody-%d@example.org" % time.monotonic_ns()):
        r = post(http, "/account/confirm", {"email": address, "code": "not-the-code"})
        body = r.text.replace(address, "ADDRESS")
        body = re.sub(r'name="csrf" value="[^"]*"', "", body)
        answers.append((r.status_code, body))
    assert answers[0] == answers[1]


@pytest.fixture
def short_login_delay(stack):
    with stack.configured(["CAcertLoginDelayMax 3s"]):
        yield


def test_fifty_wrong_logins_do_not_lock_the_owner_out(http, stack, db, clean_failures,
                                                      short_login_delay):
    m = registered_member(http, stack)
    http.cookies.clear()
    with client_from(stack, STRANGER) as s:
        token = csrf_of(s.get("/account/login").text)
        codes = [s.post("/account/login", allow_redirects=False,
                        data={"csrf": token, "email": m["email"],
                              "password": f"Wrong-Guess-{i}-xyz"}).status_code
                 for i in range(50)]
        assert codes[:5] == [422] * 5 and 429 in codes, codes
        # the owner, from another client, at once
        assert login(http, m["email"], PASSWORD).status_code == 303
        # the owner from the stranger's client: after the documented delay
        # (CAcertLoginDelayMax, 3 s here), never locked
        time.sleep(3.2)
        r = s.post("/account/login", allow_redirects=False,
                   data={"csrf": token, "email": m["email"], "password": PASSWORD})
        assert r.status_code == 303, r.text[:300]


def test_a_client_certificate_login_ignores_password_failures(http, stack, db, clean_failures,
                                                              cert_session):
    """Password failures for the member's address from this client (the
    password login must wait) never hold up a login by certificate."""
    from issuing import download, issue, member
    from test_issue_certlogin import cert_login
    m = member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    s = cert_session(download(http, cid), key)
    http.cookies.clear()
    # ten failures for the address from this client just now: a wait of 32 s
    cur = db.cursor()
    cur.execute("INSERT INTO login_failures (address, client_addr)"
                " SELECT lower(%s), '127.0.0.1' FROM generate_series(1, 10)", (m["email"],))
    assert login(http, m["email"], PASSWORD).status_code == 429
    r = cert_login(stack, s)
    assert r.status_code == 303, r.text[:500]


@pytest.mark.parametrize("path,method", [("/", "GET"), ("/account", "GET"),
                                          ("/account/login", "POST"), ("/static", "GET"),
                                          ("/certs/", "GET"), ("/wot/stats", "GET")])
def test_a_forged_host_never_reaches_a_location(http, stack, path, method):
    r = http.request(method, path, headers={"Host": "evil.example"}, allow_redirects=False,
                     data={"email": "a@example.org", "password": "x"} if method == "POST" else None)
    loc = r.headers.get("Location", "")
    assert "evil" not in loc, (r.status_code, loc)
    assert "evil.example" not in r.text


def test_headers_of_static_files_and_error_pages(http, stack):
    for path, status in (("/static/cacert.css", 200), ("/static/no-such-file.css", 404),
                         ("/no-such-page", 404)):
        r = http.get(path, allow_redirects=False)
        assert r.status_code == status, (path, r.status_code)
        assert r.headers.get("X-Content-Type-Options") == "nosniff", path
        assert "default-src 'none'" in r.headers.get("Content-Security-Policy", ""), path
        assert r.headers.get("Strict-Transport-Security", "").startswith("max-age="), path
    # a module's page keeps its own policy, once
    r = http.get("/account/login")
    assert r.headers["Content-Security-Policy"].count("default-src") == 1
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_stats_page_is_not_cached_publicly(http, stack):
    r = http.get("/wot/stats")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"


def test_registration_answers_the_same_for_a_taken_address(http, stack, db, clean_failures):
    """Whether an address has an account is told to the address's owner
    (by mail), never to whoever registers with it."""
    owner = registered_member(http, stack)
    http.cookies.clear()
    answers = []
    for address in (owner["email"], "fresh-%d@example.org" % time.monotonic_ns()):
        with StackSession(stack) as s:
            r = post(s, "/account/register", member_data(email=address))
        body = re.sub(r'name="csrf" value="[^"]*"', "", r.text.replace(address, "ADDRESS"))
        answers.append((r.status_code, body))
    assert answers[0] == answers[1]
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM emails WHERE lower(address) = lower(%s)", (owner["email"],))
    assert cur.fetchone()[0] == 1
    mail = stack.wait_for_mail(owner["email"], subject_contains="tried to register")
    assert "no new account" in mail.body


def test_adding_an_address_answers_the_same_for_a_taken_address(http, stack, db):
    """Adding an address that another account holds looks, to the member who
    adds it, like adding a free one: the same answer and the same list
    afterwards (waiting for its confirmation).  The owner of the address is
    mailed; the address stays with its account and no code exists for it."""
    owner = registered_member(http, stack)
    http.cookies.clear()
    answers = []
    for address in (owner["email"], "fresh-%d@example.org" % time.monotonic_ns()):
        with StackSession(stack) as s:
            m = registered_member(s, stack)
            assert login(s, m["email"]).status_code == 303
            pages = [post(s, "/account/emails", {"action": "add", "email": address}),
                     s.get("/account/emails")]
            norm = []
            for r in pages:
                body = r.text.replace(address, "ADDRESS").replace(m["email"], "MINE")
                body = re.sub(r'name="(csrf|id)" value="[^"]*"', r'name="\1"', body)
                norm.append((r.status_code, body))
            answers.append(norm)
    assert answers[0] == answers[1]
    assert answers[0][0][0] == 200 and "waiting for confirmation" in answers[0][1][1]
    mail = stack.wait_for_mail(owner["email"], subject_contains="add your address")
    assert owner["email"] in mail.body
    cur = db.cursor()
    cur.execute("SELECT count(*), bool_and(is_primary) FROM emails"
                " WHERE lower(address) = lower(%s) AND deleted_at IS NULL", (owner["email"],))
    assert cur.fetchone() == (1, True)
    cur.execute("SELECT count(*) FROM email_pings p JOIN emails e ON e.id = p.email_id"
                " WHERE lower(e.address) = lower(%s)", (owner["email"],))
    assert cur.fetchone()[0] == 1          # the owner's own, from registration


def test_a_claim_of_a_taken_address_can_be_removed(http, stack, db):
    owner = registered_member(http, stack)
    http.cookies.clear()
    m = registered_member(http, stack)
    assert login(http, m["email"]).status_code == 303
    post(http, "/account/emails", {"action": "add", "email": owner["email"]})
    page = http.get("/account/emails").text
    ids = re.findall(r'name="id" value="(\d+)"', page)
    assert len(ids) == 1
    r = post(http, "/account/emails", {"action": "remove", "id": ids[0]})
    assert r.status_code == 200 and owner["email"] not in r.text
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM emails WHERE lower(address) = lower(%s)"
                " AND deleted_at IS NULL", (owner["email"],))
    assert cur.fetchone()[0] == 1


def test_old_rows_of_the_failure_tables_are_pruned(http, stack, db):
    """The watchdog deletes failure and limit rows older than a week (or the
    longest window) at its first round and then hourly; newer rows stay."""
    cur = db.cursor()
    registered_member(http, stack)
    cur.execute("SELECT id FROM members ORDER BY id DESC LIMIT 1")
    mid = cur.fetchone()[0]
    tables = {"login_failures": "address, client_addr", "lost_password_failures":
              "address, client_addr", "confirm_failures": "client_addr",
              "registrations_taken": "client_addr", "wot_mismatches": "assurer_id, assuree_id"}
    for table, cols in tables.items():
        values = {"address, client_addr": "'x@example.org', '198.51.100.7'",
                  "client_addr": "'198.51.100.7'",
                  "assurer_id, assuree_id": f"{mid}, {mid}"}[cols]
        for age in ("8 days", "6 days"):
            cur.execute(f"INSERT INTO {table} (at, {cols}) VALUES (now() - interval '{age}',"
                        f" {values})")
    with stack.configured(["CAcertDomainRetestInterval 10s"]):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            cur.execute("SELECT count(*) FROM login_failures WHERE at < now() - interval '7 days'")
            if cur.fetchone()[0] == 0:
                break
            time.sleep(0.5)
    for table in tables:
        cur.execute(f"SELECT count(*) FILTER (WHERE at < now() - interval '7 days'),"
                    f" count(*) FILTER (WHERE at < now() - interval '5 days') FROM {table}")
        assert cur.fetchone() == (0, 1), table
    assert "old rows of the failure tables pruned" in open(stack.error_log).read()
