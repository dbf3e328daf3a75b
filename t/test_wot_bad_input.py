# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Bad input on the assurance form: each refused with a clear message and
no change (assurances, audit log, challenge passes, TTP requests counted
before and after)."""

import pytest

from accounts import csrf_of, login
from wot import (assure, counts, days_from_today, db_member, enter_step, find_step,
                 make_assurer, page_errors, scalar, web_member)


@pytest.fixture
def assurer(http, stack, db):
    a = web_member(http, stack, db)
    make_assurer(db, a["id"])
    return a


def refused(http, db, assuree, points, message, status=422, audited=0, **kw):
    """audited: audit rows the refusal adds (a mismatch of name or date of
    birth is kept for support)."""
    before = counts(db)
    r = assure(http, assuree, points, **kw)
    assert r.status_code == status, (r.status_code, r.text[:600])
    errors = " ".join(page_errors(r.text))
    assert message in errors, errors
    after = counts(db)
    assert after == (before[0], before[1] + audited, *before[2:])
    return r


@pytest.mark.parametrize("points,message", [
    ("11", "more points than you may award"),
    ("35", "more points than you may award"),
    ("-1", "more points than you may award"),
    ("ten", "whole number"),
    ("5.5", "whole number"),
    ("", "whole number"),
    ("1e1", "whole number"),
])
def test_bad_points(http, db, assurer, points, message):
    refused(http, db, db_member(db), points, message)


@pytest.mark.parametrize("date,message", [
    (days_from_today(2), "cannot be in the future"),
    (days_from_today(400), "cannot be in the future"),
    ("21.11.2026", "YYYY-MM-DD"),
    ("2026-02-30", "YYYY-MM-DD"),
    ("yesterday", "YYYY-MM-DD"),
    ("1999-12-31", "YYYY-MM-DD"),
])
def test_bad_dates(http, db, assurer, date, message):
    refused(http, db, db_member(db), 10, message, date=date)


def test_name_or_date_of_birth_mismatch(http, db, assurer):
    b = db_member(db, given="Johanna", family="Weber", dob="1975-01-02")
    refused(http, db, b, 10, "does not match", audited=1, given="Johana")
    refused(http, db, b, 10, "does not match", audited=1, family="weber")
    refused(http, db, b, 10, "does not match", audited=1, dob_day="3")
    refused(http, db, b, 10, "does not match", audited=1, middle="Maria")
    # spaces around a name are not a mismatch
    assert assure(http, b, 10, given=" Johanna ").status_code == 303
    c = db_member(db, given="Johanna", family="Weber", dob="1975-01-02")
    refused(http, db, c, 10, "does not match", audited=1, suffix="Jr.")


def test_date_of_birth_guessing_is_limited(http, db, assurer):
    """An Assurer who knows a member's name cannot find the date of birth by
    trying dates: after 5 mismatches for that member in a day, every entry
    for them is refused, the right one too; each try is in the audit log."""
    b = db_member(db, given="Greta", family="Lind", dob="1981-07-23")
    for day in range(1, 6):
        refused(http, db, b, 10, "does not match", audited=1, dob_day=str(day))
    r = refused(http, db, b, 10, "did not match too often")
    assert "did not match too often" in r.text
    assert scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'assurance.mismatch'"
                  " AND member_id = %s", b["id"]) >= 5
    # another member is still fine for this Assurer
    assert assure(http, db_member(db), 10).status_code == 303


def test_parallel_date_of_birth_guesses_stay_within_the_limit(http, stack, db, assurer):
    """Guesses sent at once are counted one after another (the mismatch is
    recorded in the refused entry's transaction, under the pair's row
    locks): no more than 5 are checked, the rest are refused by the limit."""
    import concurrent.futures
    from conftest import StackSession
    b = db_member(db, given="Petra", family="Holm", dob="1979-03-14")
    r, version = find_step(http, b["email"])
    assert version

    def guess(day):
        with StackSession(stack) as s:
            s.cookies.update(http.cookies)
            r = enter_step(s, b, version, 10, dob_day=str(day))
            return " ".join(page_errors(r.text))

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(guess, range(1, 13)))
    checked = [a for a in answers if "does not match" in a]
    limited = [a for a in answers if "did not match too often" in a]
    assert len(checked) == 5 and len(limited) == 7, answers
    assert scalar(db, "SELECT count(*) FROM wot_mismatches WHERE assuree_id = %s",
                  b["id"]) == 5
    assert scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'assurance.mismatch'"
                  " AND member_id = %s", b["id"]) == 5


def test_declarations_and_documents(http, db, assurer):
    b = db_member(db)
    refused(http, db, b, 10, "Both declarations", cca=None)
    refused(http, db, b, 10, "Both declarations", f2f=None)
    refused(http, db, b, 10, "Both declarations", cca="no")
    refused(http, db, b, 10, "At least one government-issued", documents="0")
    refused(http, db, b, 10, "how many documents", documents="x")


def test_two_documents_for_more_than_10(http, stack, db):
    a = web_member(http, stack, db)
    make_assurer(db, a["id"])
    from wot import give_experience
    give_experience(db, a["id"], 5)         # may award 15
    b = db_member(db)
    refused(http, db, b, 15, "two identity documents", documents="1")
    assert assure(http, b, 10, documents="1").status_code == 303


def test_unverified_and_locked_assurees(http, db, assurer):
    for b, message in ((db_member(db, verified=False), "not confirmed"),
                       (db_member(db, locked=True), "locked")):
        before = counts(db)
        r, version = find_step(http, b["email"])
        assert r.status_code == 422 and version is None
        assert message in " ".join(page_errors(r.text))
        # the second step posted directly, with a made-up version
        r = enter_step(http, b, "0" * 64, 10)
        assert r.status_code == 422
        assert message in " ".join(page_errors(r.text))
        assert counts(db) == before


def test_unknown_member_and_self(http, db, assurer):
    r, version = find_step(http, "nobody.here@example.org")
    assert r.status_code == 422 and "No member has" in " ".join(page_errors(r.text))
    r, version = find_step(http, assurer["email"])
    assert r.status_code == 422 and "cannot assure yourself" in " ".join(page_errors(r.text))
    me = dict(assurer, dob_day=assurer["dob_day"], middle="", suffix="")
    before = counts(db)
    r = enter_step(http, me, "0" * 64, 5)
    assert r.status_code == 422 and "cannot assure yourself" in " ".join(page_errors(r.text))
    assert counts(db) == before


def test_second_assurance_of_a_pair(http, db, assurer):
    b = db_member(db)
    assert assure(http, b, 10).status_code == 303
    refused(http, db, b, 5, "one assurance per pair")


def test_identity_changed_while_the_form_was_open(http, db, assurer):
    b = db_member(db, given="Lena", family="Fischer")
    r, version = find_step(http, b["email"])
    assert version
    # support corrects the name meanwhile
    db.cursor().execute("UPDATE members SET family_name = 'Fischer-Berg' WHERE id = %s",
                        (b["id"],))
    before = counts(db)
    r = enter_step(http, dict(b, family="Fischer-Berg"), version, 10)
    assert r.status_code == 422
    assert "changed while this form was open" in " ".join(page_errors(r.text))
    assert counts(db) == before
    # a fresh form goes through
    assert assure(http, dict(b, family="Fischer-Berg"), 10).status_code == 303


@pytest.mark.allow_log(r"CA40002")
def test_non_assurer_posting_directly(http, stack, db):
    m = web_member(http, stack, db)
    make_assurer(db, m["id"], points=90)        # 90 points: not an Assurer
    b = db_member(db)
    token = csrf_of(http.get("/wot/").text)
    before = counts(db)
    for data in ({"step": "find", "email": b["email"]},
                 {"step": "enter", "email": b["email"], "version": "0" * 64,
                  "given": b["given"], "family": b["family"], "dob_day": b["dob_day"],
                  "dob_month": b["dob_month"], "dob_year": b["dob_year"], "points": "10",
                  "date": "2026-01-01", "location": "x", "documents": "2", "cca": "yes",
                  "f2f": "yes"}):
        r = http.post("/wot/assure", data=dict(data, csrf=token), allow_redirects=False)
        assert r.status_code == 403, r.text[:300]
        assert "not allowed" in r.text
    assert http.get("/wot/assure").status_code == 403
    assert counts(db) == before


@pytest.mark.allow_log(r"CA40002")
def test_blocked_or_unchallenged_assurer(http, stack, db):
    a = web_member(http, stack, db)
    make_assurer(db, a["id"])
    db.cursor().execute("UPDATE members SET blocked_at = now() WHERE id = %s", (a["id"],))
    assert http.get("/wot/assure").status_code == 403
    c = web_member(http, stack, db)
    make_assurer(db, c["id"], challenge=False)
    assert http.get("/wot/assure").status_code == 403


def test_form_without_csrf_token(http, db, assurer):
    b = db_member(db)
    r, version = find_step(http, b["email"])
    before = counts(db)
    r = http.post("/wot/assure", data={"step": "enter", "email": b["email"],
                                       "version": version, "points": "10"},
                  allow_redirects=False)
    assert r.status_code == 403
    assert counts(db) == before


def test_visitor_is_sent_to_login(http, db):
    r = http.get("/wot/assure", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/account/login")
    assert login is not None


def test_assurer_blocked_during_an_assurance(http, stack, db, assurer):
    """The assurance locks the Assurer's row and reads the standing after
    the lock: a block committed while it waits is seen, and refuses it."""
    import threading
    import time

    import psycopg2
    b = db_member(db)
    r, version = find_step(http, b["email"])
    assert r.status_code == 200 and version
    before = counts(db)
    other = psycopg2.connect(**stack.pg_connect_args())
    try:
        cur = other.cursor()
        cur.execute("SELECT id FROM members WHERE id = %s FOR UPDATE", (assurer["id"],))
        out = {}
        t = threading.Thread(target=lambda: out.update(r=enter_step(http, b, version, 10)))
        t.start()
        waiting = False
        # until the request's transaction waits for the row (pg_stat_activity)
        while t.is_alive() and not waiting:
            time.sleep(0.02)
            c = db.cursor()
            c.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                      " AND datname = current_database() AND query LIKE '%FOR UPDATE%'")
            waiting = c.fetchone()[0] > 0
        cur.execute("UPDATE members SET blocked_at = now() WHERE id = %s", (assurer["id"],))
        other.commit()
        t.join()
    finally:
        other.close()
    assert waiting, "the assurance did not wait for the Assurer's row"
    assert "Only Assurers" in " ".join(page_errors(out["r"].text)), out["r"].status_code
    assert counts(db) == before
