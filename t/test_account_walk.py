# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The member's whole walk, over HTTPS against the real httpd, PostgreSQL and
mail sink: register -> mail -> confirm -> login -> add and confirm a second
address -> logout -> lost password -> reset -> login with the new password."""

import re

from accounts import (PASSWORD, confirm, confirm_link, csrf_of, login, post,
                      register, registered_member, unique_email)


def test_full_walk(http, stack, db):
    data, r = register(http, stack)
    assert r.status_code == 200, r.text
    assert "Check your mail" in r.text
    email = data["email"]

    # the account exists but cannot be used before the ping is answered
    r = login(http, email)
    assert r.status_code == 422
    assert "not active yet" in r.text

    mail, link = confirm_link(stack, email)
    assert mail["Subject"] == "Confirm your CAcert account"
    assert mail["From"].startswith("CAcert <noreply@")
    code = re.search(r"code=([A-Za-z0-9_-]+)", link).group(1)
    assert len(code) >= 22            # >= 128 bits of base64url
    assert code in mail.body          # the code can also be typed in

    r = confirm(http, stack, email, link)
    assert r.status_code == 200 and "is confirmed" in r.text

    r = login(http, email)
    assert r.status_code == 303
    assert r.headers["Location"].endswith("/account/")
    cookie = r.headers["Set-Cookie"]
    assert "__Host-cacert-session=" in cookie
    for attr in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in cookie

    r = http.get("/account/")
    assert r.status_code == 200
    assert "Welcome, Anna" in r.text
    assert "14 March 1985" in r.text
    assert re.search(r"Assurance points</dt><dd>0<", r.text)
    assert email in r.text

    # a second address, pinged, then confirmed by typing the code
    second = unique_email("second")
    r = post(http, "/account/emails", {"action": "add", "email": second})
    assert r.status_code == 200, r.text
    assert "waiting for confirmation" in r.text
    mail, link = confirm_link(stack, second, "Confirm your email address")
    code = re.search(r"code=([A-Za-z0-9_-]+)", link).group(1)
    r = post(http, "/account/confirm", {"email": second, "code": code})
    assert r.status_code == 200 and "is confirmed" in r.text
    r = http.get("/account/emails")
    assert second in r.text
    assert r.text.count("confirmed") >= 2

    # logout ends the session on the server, not only in the browser
    old_session = http.cookies.get("__Host-cacert-session")
    r = post(http, "/account/logout", {}, csrf_from="/account/")
    assert r.status_code == 303 and "/account/login" in r.headers["Location"]
    r = http.get("/account/", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/account/login")
    cur = db.cursor()
    cur.execute("SELECT ended_at IS NOT NULL FROM sessions WHERE id_hash = encode(sha256(%s::bytea), 'hex')",
                (old_session,))
    assert cur.fetchone() == (True,)

    # lost password: address + date of birth, then three of five answers
    r = post(http, "/account/lost", {"email": email, "dob_day": "14", "dob_month": "03",
                                      "dob_year": "1985"})
    assert r.status_code == 200, r.text
    assert "Name of my first pet?" in r.text
    token = csrf_of(r.text)
    r = http.post("/account/lost", data={
        "csrf": token, "step": "answers", "email": email, "dob_day": "14",
        "dob_month": "3", "dob_year": "1985",
        "a1": "  REX ", "a2": "wrong", "a3": "mrs   green", "a4": "", "a5": "Leipzig"},
        allow_redirects=False)
    assert r.status_code == 200, r.text
    mail = stack.wait_for_mail(email, subject_contains="new CAcert password")
    link = [l for l in mail.links if "/account/reset?t=" in l][0]

    new_pw = "Another-Quiet-Harbour-92"
    r = http.get(link)
    assert r.status_code == 200
    r = http.post("/account/reset", data={"csrf": csrf_of(r.text),
                                          "t": link.split("t=")[1],
                                          "password": new_pw, "password2": new_pw},
                  allow_redirects=False)
    assert r.status_code == 200 and "password has been set" in r.text
    # single use
    assert http.get(link).status_code == 404

    assert login(http, email, PASSWORD).status_code == 422
    assert login(http, email, new_pw).status_code == 303
    assert "Welcome, Anna" in http.get("/account/").text

    # everything that happened is in the hash-chained audit log
    cur.execute("SELECT action FROM audit_log a JOIN emails e ON e.member_id = a.member_id"
                " WHERE e.address = %s ORDER BY a.id", (email,))
    actions = [r[0] for r in cur.fetchall()]
    assert actions == ["account.register", "email.confirm", "email.add", "email.confirm",
                       "password.reset.request", "password.reset"]


def test_confirmed_member_helper(http, stack):
    data = registered_member(http, stack)
    assert login(http, data["email"]).status_code == 303


def test_audit_log_is_chained_and_append_only(http, stack, db):
    registered_member(http, stack)
    cur = db.cursor()
    cur.execute("SET TimeZone = 'America/New_York'")
    cur.execute("SELECT count(*) FROM audit_log WHERE hash <> audit_log_hash(prev_hash, id, at,"
                " actor_id, member_id, action, detail)")
    assert cur.fetchone()[0] == 0
    cur.execute("SELECT count(*) FROM (SELECT prev_hash, lag(hash) OVER (ORDER BY id) AS before"
                " FROM audit_log) x WHERE before IS NOT NULL AND prev_hash <> before")
    assert cur.fetchone()[0] == 0
    import psycopg2
    for sql in ("UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"):
        try:
            cur.execute(sql)
            raise AssertionError(sql + " succeeded")
        except psycopg2.Error as e:
            assert "append-only" in str(e)
