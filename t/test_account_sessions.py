# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Sessions, rate limits and the lost-password limits, against the real
stack.  Time is moved by editing timestamps in PostgreSQL, never by waiting."""

import pytest

from accounts import (PASSWORD, csrf_of, login, post, register, registered_member,
                      unique_email)


@pytest.fixture
def clean_limits(db):
    """The rate-limit tables count per client address, and every test runs
    from 127.0.0.1: start and leave them empty."""
    cur = db.cursor()
    cur.execute("DELETE FROM login_failures")
    cur.execute("DELETE FROM lost_password_failures")
    yield
    cur.execute("DELETE FROM login_failures")
    cur.execute("DELETE FROM lost_password_failures")


def session_hash(http):
    import hashlib
    return hashlib.sha256(http.cookies.get("__Host-cacert-session").encode()).hexdigest()


def test_new_session_id_at_each_login(http, stack, db, clean_limits):
    m = registered_member(http, stack)
    assert login(http, m["email"]).status_code == 303
    first = http.cookies.get("__Host-cacert-session")
    # logged in already: the login page sends members to their account
    r = http.get("/account/login", allow_redirects=False)
    assert r.status_code == 200
    r = post(http, "/account/login", {"email": m["email"], "password": PASSWORD})
    assert r.status_code == 303
    second = http.cookies.get("__Host-cacert-session")
    assert first != second
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM sessions s JOIN emails e ON e.member_id = s.member_id"
                " WHERE e.address = %s AND s.ended_at IS NULL", (m["email"],))
    assert cur.fetchone()[0] == 1
    # the session id is stored hashed only
    cur.execute("SELECT count(*) FROM sessions WHERE id_hash = %s", (second,))
    assert cur.fetchone()[0] == 0


def test_idle_and_absolute_timeouts(http, stack, db, clean_limits):
    m = registered_member(http, stack)
    cur = db.cursor()
    assert login(http, m["email"]).status_code == 303
    assert http.get("/account/", allow_redirects=False).status_code == 200
    cur.execute("UPDATE sessions SET last_seen = now() - interval '31 minutes'"
                " WHERE id_hash = %s", (session_hash(http),))
    r = http.get("/account/", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/account/login")

    assert login(http, m["email"]).status_code == 303
    cur.execute("UPDATE sessions SET last_seen = now() - interval '29 minutes'"
                " WHERE id_hash = %s", (session_hash(http),))
    assert http.get("/account/", allow_redirects=False).status_code == 200
    cur.execute("UPDATE sessions SET expires_at = now() - interval '1 second'"
                " WHERE id_hash = %s", (session_hash(http),))
    assert http.get("/account/", allow_redirects=False).status_code == 303


def test_unknown_address_and_wrong_password_look_the_same(http, stack, clean_limits):
    m = registered_member(http, stack)
    a = login(http, m["email"], "Wrong-Password-123456")
    b = login(http, unique_email("nobody"), "Wrong-Password-123456")
    assert a.status_code == b.status_code == 422
    assert "The email address or the password is not right." in a.text
    assert "is not right" in b.text


def test_login_rate_limit_per_account(http, stack, clean_limits):
    m = registered_member(http, stack)
    for i in range(5):
        r = login(http, m["email"], f"Wrong-Password-{i}-xyz")
        assert r.status_code == 422
    # even the right password is refused now, with a message that says why
    r = login(http, m["email"])
    assert r.status_code == 429
    assert "Too many failed logins" in r.text
    # the same holds for an address nobody has: the answer does not tell
    ghost = unique_email("ghost")
    for i in range(5):
        login(http, ghost, f"Wrong-Password-{i}-xyz")
    assert login(http, ghost).status_code == 429


def test_login_rate_limit_per_client(http, stack, clean_limits):
    m = registered_member(http, stack)
    for i in range(20):
        r = login(http, unique_email("spray"), "Wrong-Password-123456")
        assert r.status_code == 422
    r = login(http, m["email"])
    assert r.status_code == 429


def test_lost_password_needs_three_answers_and_is_limited(http, stack, db, clean_limits):
    m = registered_member(http, stack)
    dob = {"dob_day": m["dob_day"], "dob_month": m["dob_month"], "dob_year": m["dob_year"]}
    # wrong date of birth: the same answer as an unknown address
    r = post(http, "/account/lost", dict(dob, email=m["email"], dob_year="1986"))
    assert r.status_code == 422 and "do not match" in r.text
    r = post(http, "/account/lost", dict(dob, email=unique_email("nobody")))
    assert r.status_code == 422 and "do not match" in r.text
    # two right answers are not enough
    r = post(http, "/account/lost", dict(dob, email=m["email"]))
    assert r.status_code == 200
    r = http.post("/account/lost", data=dict(dob, csrf=csrf_of(r.text), step="answers",
                                             email=m["email"], a1="Rex", a2="Elm Street",
                                             a3="x", a4="y", a5="z"),
                  allow_redirects=False)
    assert r.status_code == 422 and "do not match" in r.text
    assert stack.mails(to=m["email"], subject_contains="new CAcert password") == []
    # the third failure in the window locks the lost-password path
    r = post(http, "/account/lost", dict(dob, email=m["email"]))
    assert r.status_code == 200
    r = http.post("/account/lost", data=dict(dob, csrf=csrf_of(r.text), step="answers",
                                             email=m["email"], a1="Rex", a2="x",
                                             a3="y", a4="z", a5="w"),
                  allow_redirects=False)
    assert r.status_code == 422
    r = post(http, "/account/lost", dict(dob, email=m["email"]))
    assert r.status_code == 429 and "Too many failed attempts" in r.text
    r = http.post("/account/lost", data=dict(dob, csrf=csrf_of(http.get("/account/lost").text),
                                             step="answers", email=m["email"], a1="Rex",
                                             a2="Elm Street", a3="Mrs Green", a4="Beetle",
                                             a5="Leipzig"), allow_redirects=False)
    assert r.status_code == 429
    assert stack.mails(to=m["email"], subject_contains="new CAcert password") == []


def test_reset_link_expires_and_a_new_one_replaces_it(http, stack, db, clean_limits):
    m = registered_member(http, stack)
    dob = {"dob_day": m["dob_day"], "dob_month": m["dob_month"], "dob_year": m["dob_year"]}
    answers = {"a1": "Rex", "a2": "Elm Street", "a3": "Mrs Green", "a4": "Beetle", "a5": "Leipzig"}
    links = []
    for _ in range(2):
        r = post(http, "/account/lost", dict(dob, email=m["email"]))
        r = http.post("/account/lost", data=dict(dob, **answers, csrf=csrf_of(r.text),
                                                 step="answers", email=m["email"]),
                      allow_redirects=False)
        assert r.status_code == 200
        mail = stack.wait_for_mail(m["email"], subject_contains="new CAcert password")
        links.append([l for l in mail.links if "/account/reset?t=" in l][0])
    assert http.get(links[0]).status_code == 404      # replaced by the newer link
    assert http.get(links[1]).status_code == 200
    cur = db.cursor()
    cur.execute("UPDATE password_resets SET expires_at = now() - interval '1 second'"
                " WHERE used_at IS NULL")
    r = http.get(links[1])
    assert r.status_code == 404 and "not valid" in r.text
    assert http.get("/account/reset?t=" + "A" * 43).status_code == 404
    assert http.get("/account/reset").status_code == 404


def test_password_change_ends_other_sessions(http, stack, db, clean_limits):
    import requests
    m = registered_member(http, stack)
    assert login(http, m["email"]).status_code == 303
    other = requests.Session()
    other.verify = stack.cert_file
    r = other.get(stack.url + "/account/login", verify=stack.cert_file)
    r = other.post(stack.url + "/account/login", verify=stack.cert_file, allow_redirects=False,
                   data={"csrf": csrf_of(r.text), "email": m["email"], "password": PASSWORD})
    assert r.status_code == 303
    # wrong current password, weak new password: refused
    r = post(http, "/account/password", {"current": "nope-nope-nope", "password": "Fresh-Meadow-38-violin",
                                         "password2": "Fresh-Meadow-38-violin"})
    assert r.status_code == 422 and "current password is not right" in r.text
    r = post(http, "/account/password", {"current": PASSWORD, "password": "password",
                                         "password2": "password"})
    assert r.status_code == 422
    r = post(http, "/account/password", {"current": PASSWORD, "password": "Fresh-Meadow-38-violin",
                                         "password2": "Fresh-Meadow-38-violin"})
    assert r.status_code == 200 and "password has been changed" in r.text
    assert http.get("/account/", allow_redirects=False).status_code == 200
    assert other.get(stack.url + "/account/", verify=stack.cert_file,
                     allow_redirects=False).status_code == 303
    http.cookies.clear()
    assert login(http, m["email"], "Fresh-Meadow-38-violin").status_code == 303


def test_registrations_per_client_are_limited(http, stack, db):
    cur = db.cursor()
    # registrations, and tries with a taken address, count alike
    cur.execute("SELECT (SELECT count(*) FROM cca_agreements WHERE client_addr = '127.0.0.1'"
                " AND agreed_at > now() - interval '1 hour')"
                " + (SELECT count(*) FROM registrations_taken WHERE client_addr = '127.0.0.1'"
                " AND at > now() - interval '1 hour')")
    done = cur.fetchone()[0]
    # given twice, the later directive wins
    with stack.configured([f"CAcertRegistrationsPerClient {done + 1}"]):
        data, r = register(http, stack)
        assert r.status_code == 200
        data, r = register(http, stack)
        assert r.status_code == 429
        assert "Too many accounts were created" in r.text
        cur.execute("SELECT count(*) FROM emails WHERE address = %s", (data["email"],))
        assert cur.fetchone()[0] == 0
        assert stack.mails(to=data["email"]) == []


def test_password_policy_is_the_same_at_change_and_reset(http, stack, db, clean_limits):
    """Registration refuses a password holding the member's name or the
    local part of their address; a change and a reset now refuse it too
    (the core reads the member's words itself, in the transaction that sets
    the password: once the change page did not pass the address, and the
    reset page passed nothing)."""
    m = registered_member(http, stack, given="Wilhelmina", family="Oberkirch")
    local = m["email"].split("@")[0]
    with_address = f"Zq-{local}-Harbour-91"
    with_name = "Wilhelmina-Harbour-91-quartz"
    assert login(http, m["email"]).status_code == 303
    cur = db.cursor()
    cur.execute("SELECT password_hash FROM members m JOIN emails e ON e.member_id = m.id"
                " WHERE e.address = %s", (m["email"],))
    before = cur.fetchone()[0]
    for weak in (with_address, with_name):
        r = post(http, "/account/password", {"current": PASSWORD, "password": weak,
                                             "password2": weak})
        assert r.status_code == 422, weak
        assert "contains your name or email address" in r.text, weak
    # a wrong current password with such a new one: the password is named first
    r = post(http, "/account/password", {"current": "nope-nope-nope", "password": with_address,
                                         "password2": with_address})
    assert r.status_code == 422 and "contains your name or email address" in r.text
    cur.execute("SELECT password_hash FROM members m JOIN emails e ON e.member_id = m.id"
                " WHERE e.address = %s", (m["email"],))
    assert cur.fetchone()[0] == before

    # the reset path: the same refusal, and the link stays usable
    http.cookies.clear()
    dob = {"dob_day": m["dob_day"], "dob_month": m["dob_month"], "dob_year": m["dob_year"]}
    answers = {"a1": "Rex", "a2": "Elm Street", "a3": "Mrs Green", "a4": "Beetle", "a5": "Leipzig"}
    r = post(http, "/account/lost", dict(dob, email=m["email"]))
    r = http.post("/account/lost", data=dict(dob, **answers, csrf=csrf_of(r.text),
                                             step="answers", email=m["email"]),
                  allow_redirects=False)
    assert r.status_code == 200
    mail = stack.wait_for_mail(m["email"], subject_contains="new CAcert password")
    link = [l for l in mail.links if "/account/reset?t=" in l][0]
    token = link.split("t=", 1)[1]
    for weak in (with_name, with_address):
        r = post(http, "/account/reset", {"t": token, "password": weak, "password2": weak},
                 csrf_from=link)
        assert r.status_code == 422, weak
        assert "contains your name or email address" in r.text, weak
    cur.execute("SELECT count(*) FROM password_resets WHERE used_at IS NULL"
                " AND member_id = (SELECT member_id FROM emails WHERE address = %s)",
                (m["email"],))
    assert cur.fetchone()[0] == 1
    good = "Fresh-Meadow-38-violin"
    r = post(http, "/account/reset", {"t": token, "password": good, "password2": good},
             csrf_from=link)
    assert r.status_code == 200, r.text
    assert login(http, m["email"], good).status_code == 303
