# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Bad input to the account pages: each gets a clear message on the page,
nothing is stored and nothing is mailed."""

from urllib.parse import urlencode

import pytest

from accounts import (csrf_of, get_form, member_data, page_errors, post, register,
                      registered_member, login, unique_email)


def count_members(db, email):
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM emails WHERE lower(address) = lower(%s)", (email,))
    return cur.fetchone()[0]


def assert_nothing_happened(stack, db, email):
    assert count_members(db, email) == 0
    assert stack.mails(to=email) == []


def post_raw(http, path, pairs, csrf_from=None):
    """POST a body with byte values exactly as given (urlencode percent-
    encodes them), with the page's CSRF token."""
    token = get_form(http, csrf_from or path)
    body = urlencode([("csrf", token)] + list(pairs))
    return http.post(path, data=body, allow_redirects=False,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})


@pytest.mark.parametrize("field,value,message", [
    ("given", "A" * 65, "This name is too long"),
    ("given", "A" * 2000, "This is too long."),
    ("family", "<script>alert(1)</script>", "Use letters, spaces"),
    ("family", 'Smith"', "Use letters, spaces"),
    ("middle", "R2D2", "Use letters, spaces"),
    ("given", "", "Please enter this name."),
    ("suffix", "Esquire", "Please choose a suffix"),
    ("email", "not-an-address", "not an email address"),
    ("email", "a@b", "not an email address"),
    ("email", "x" * 250 + "@example.org", "not an email address"),
    ("dob_day", "31", "This date does not exist"),          # 31 March is fine ...
    ("dob_year", "2099", "cannot be in the future"),
    ("dob_year", "1850", "check the year"),
    ("dob_month", "13", "This date does not exist"),
    ("dob_day", "x", "This date does not exist"),
    ("password2", "something-else-entirely-77", "not the same"),
    ("password", "short", "not the same"),
    ("a3", "Rex", "Each answer must be different"),
    ("q2", "name of my  FIRST pet?", "Each question must be different"),
    ("a4", "My first car?", "must not be the same as a question"),
    ("a5", "", "Please write an answer"),
    ("cca", None, "agree to the Community Agreement"),
])
def test_register_refuses(http, stack, db, field, value, message):
    over = {field: value}
    if field == "dob_day" and value == "31":
        over["dob_month"] = "2"                             # ... 31 February is not
    data = member_data(**over)
    email = data["email"]
    r = post(http, "/account/register", data)
    assert r.status_code == 422, r.text
    errs = page_errors(r.text)
    assert any(message in e for e in errs), (message, errs)
    assert "nothing has been saved" in r.text
    if field not in ("email",):
        assert_nothing_happened(stack, db, email)
    # what the member typed is kept, escaped (never passwords)
    assert "<script>alert" not in r.text
    assert data["password"] not in r.text
    if field == "family" and value.startswith("<"):
        assert "&lt;script&gt;alert(1)&lt;&#x2F;script&gt;" in r.text


def test_weak_passwords(http, stack, db):
    for pw, message in [("password1234", "dictionary word"),
                        ("Anna-Schmidt-1985", "contains your name"),
                        ("Xy7#abc", "too short")]:
        data = member_data(password=pw, password2=pw)
        r = post(http, "/account/register", data)
        assert r.status_code == 422
        assert any(message in e for e in page_errors(r.text)), (pw, page_errors(r.text))
        assert_nothing_happened(stack, db, data["email"])


@pytest.mark.parametrize("field,raw,message", [
    ("given", b"\xc0\xaf", "not valid text"),                 # overlong '/'
    ("given", b"Ann\xed\xa0\x80a", "not valid text"),         # surrogate
    ("family", b"\xff\xfe", "not valid text"),
    ("given", b"An\x00na", "control characters"),             # NUL
    ("family", b"Smith\r\nBcc: x@example.org", "control characters"),
    ("middle", b"\xc2\x85", "control characters"),            # C1 NEL
])
def test_register_refuses_raw_bytes(http, stack, db, field, raw, message):
    data = member_data()
    pairs = [(k, raw if k == field else v) for k, v in data.items()]
    r = post_raw(http, "/account/register", pairs)
    assert r.status_code == 422, r.text
    assert any(message in e for e in page_errors(r.text)), page_errors(r.text)
    assert_nothing_happened(stack, db, data["email"])


def test_malformed_forms(http, stack, db):
    data = member_data()
    token = get_form(http, "/account/register")
    base = urlencode(dict(data, csrf=token))
    for body, status, message in [
            (base + "&given=Twice", 400, "has a field twice"),
            (base + "&%zz=1", 400, "arrived damaged"),
            (base + "".join(f"&x{i}=1" for i in range(100)), 400, "too many fields"),
            (base + "&pad=" + "a" * 70000, 413, "too large")]:
        r = http.post("/account/register", data=body, allow_redirects=False,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == status, (status, r.text[:300])
        assert message in r.text
    r = http.post("/account/register", data=base, allow_redirects=False,
                  headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert_nothing_happened(stack, db, data["email"])


def test_csrf_missing_or_wrong(http, stack, db):
    data = member_data()
    get_form(http, "/account/register")           # the visitor has a CSRF cookie
    r = http.post("/account/register", data=data, allow_redirects=False)
    assert r.status_code == 403
    assert "did not come from our pages" in r.text
    r = http.post("/account/register", data=dict(data, csrf="A" * 43), allow_redirects=False)
    assert r.status_code == 403
    assert_nothing_happened(stack, db, data["email"])
    # a member's forms need the session's token, not the visitor's
    m = registered_member(http, stack)
    assert login(http, m["email"]).status_code == 303
    second = unique_email("csrf")
    r = http.post("/account/emails", data={"action": "add", "email": second,
                                           "csrf": "A" * 43}, allow_redirects=False)
    assert r.status_code == 403
    assert_nothing_happened(stack, db, second)


def test_duplicate_addresses(http, stack, db):
    m = registered_member(http, stack)
    other = http.__class__()
    # registering the same address again, in any case of the domain: the
    # page a new registrant sees (t/test_abuse.py compares the two), no new
    # account, and a mail to the owner that says what happened
    data, r = register(http, stack, email=m["email"].replace("example.org", "EXAMPLE.ORG"))
    assert r.status_code == 200 and "Check your mail" in r.text, r.text[:500]
    assert count_members(db, m["email"]) == 1
    mail = stack.wait_for_mail(m["email"], subject_contains="tried to register")
    assert "/account/lost" in mail.body
    # adding an address another account has: answered as for a free one
    # (t/test_abuse.py compares the two), the owner is mailed, and the
    # address stays with its account
    n = registered_member(http, stack)
    assert login(http, n["email"]).status_code == 303
    r = post(http, "/account/emails", {"action": "add", "email": m["email"]})
    assert r.status_code == 200 and "confirmation link" in r.text, r.text[:500]
    mail = stack.wait_for_mail(m["email"], subject_contains="add your address")
    assert "nothing has changed" in mail.body and "code" not in mail.body.lower()
    cur = db.cursor()
    cur.execute("SELECT count(*), bool_and(is_primary) FROM emails"
                " WHERE lower(address) = lower(%s) AND deleted_at IS NULL", (m["email"],))
    assert cur.fetchone() == (1, True)
    # asking again, or for one's own primary address: in the list already
    for address in (m["email"], n["email"]):
        r = post(http, "/account/emails", {"action": "add", "email": address})
        assert r.status_code == 422
        assert any("in your list already" in e for e in page_errors(r.text))
    other.close()


def test_confirmation_cookie_wrong_replayed_expired(http, stack, db):
    data, r = register(http, stack)
    email = data["email"]
    mail = stack.wait_for_mail(email)
    link = [l for l in mail.links if "/account/confirm?" in l][0]
    ping_id = link.split("id=")[1].split("&")[0]
    code = link.split("code=")[1]

    # wrong cookies never spend the ping (t/test_abuse.py has a stranger
    # trying many): the right one works after them
    cur = db.cursor()
    for i in range(6):
        r = post(http, "/account/confirm", {"id": ping_id, "code": "wrong" + str(i)})
        assert r.status_code == 422 and "This code is not right" in r.text
    cur.execute("SELECT attempts FROM email_pings WHERE id = %s", (ping_id,))
    assert cur.fetchone() == (6,)          # counted, for support to see
    r = post(http, "/account/confirm", {"id": ping_id, "code": code})
    assert r.status_code == 200 and "is confirmed" in r.text
    cur.execute("SELECT verified_at IS NOT NULL FROM emails WHERE address = %s", (email,))
    assert cur.fetchone() == (True,)
    cur.execute("DELETE FROM confirm_failures")

    # an expired ping cannot be used
    data, r = register(http, stack)
    mail = stack.wait_for_mail(data["email"])
    link = [l for l in mail.links if "/account/confirm?" in l][0]
    ping_id, code = link.split("id=")[1].split("&")[0], link.split("code=")[1]
    cur.execute("UPDATE email_pings SET expires_at = now() - interval '1 second' WHERE id = %s",
                (ping_id,))
    r = post(http, "/account/confirm", {"id": ping_id, "code": code})
    assert r.status_code == 422 and "has expired" in r.text
    # ... and once expired, the address is free for a new registration
    data2, r = register(http, stack, email=data["email"])
    assert r.status_code == 200, page_errors(r.text)
    mail = stack.wait_for_mail(data["email"])
    link = [l for l in mail.links if "/account/confirm?" in l][0]
    ping_id, code = link.split("id=")[1].split("&")[0], link.split("code=")[1]

    # a used cookie cannot be replayed
    r = post(http, "/account/confirm", {"id": ping_id, "code": code})
    assert r.status_code == 200 and "is confirmed" in r.text
    r = post(http, "/account/confirm", {"id": ping_id, "code": code})
    assert r.status_code == 422 and "nothing to confirm" in r.text
    # nonsense ids
    for bad in ("abc", "-1", "99999999999999999999", "1 OR 1=1"):
        r = post(http, "/account/confirm", {"id": bad, "code": code, "email": "x@example.org"})
        assert r.status_code == 422
    cur.execute("DELETE FROM confirm_failures")


def test_forged_session_cookie(http, stack):
    http.cookies.set("__Host-cacert-session", "A" * 43, domain="localhost.local", path="/")
    r = http.get("/account/", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/account/login")
    r = http.get("/account/emails", allow_redirects=False)
    assert r.status_code == 303


def test_unknown_pages_and_methods(http, stack):
    r = http.get("/account/nonexistent")
    assert r.status_code == 404 and "There is no page at this address" in r.text
    r = http.delete("/account/login")
    assert r.status_code == 405
    r = http.get("/account/logout")
    assert r.status_code == 405
