# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""A whole community on the real stack: a new Assurer climbing from 10 to 35
through 25 assurances entered on the web form, a member who reaches 50 only
with a second Assurer, the 100 and 150 caps, an Assurer under 18, the mails
both parties get, and what the points page says."""

import datetime
import re

from accounts import login
from wot import (assure, counts, db_member, find_step, give_experience, make_assurer,
                 page_errors, points_of, scalar, web_member)


def max_on_form(http, assuree):
    """The maximum the form offers the logged-in Assurer."""
    r, version = find_step(http, assuree["email"])
    assert r.status_code == 200 and version, r.text[:500]
    return int(re.search(r"Points \(0 to (\d+)\)", r.text).group(1))


def test_new_assurer_climbs_from_10_to_35(http, stack, db):
    a = web_member(http, stack, db)
    make_assurer(db, a["id"], points=140)       # received: counted up to 100
    expected = {0: 10, 5: 15, 10: 20, 15: 25, 20: 30, 25: 35}
    current = 10
    for n in range(25):
        current = expected.get(n, current)
        b = db_member(db)
        assert max_on_form(http, b) == current, n
        if n in expected or n == 24:
            # one point more than the maximum is refused, and changes nothing
            before = counts(db)
            r = assure(http, b, current + 1)
            assert r.status_code == 422, r.text[:500]
            assert counts(db) == before
        r = assure(http, b, current)
        assert r.status_code == 303, (n, page_errors(r.text))
        assert points_of(db, b["id"]) == current
    b = db_member(db)
    assert max_on_form(http, b) == 35
    # 140 received count as 100, 25 assurances as 50 experience points: 150
    r = http.get("/wot/points")
    assert r.status_code == 200
    assert re.search(r"Points received</dt><dd>100 ", r.text), r.text[:2000]
    assert "Experience points</dt><dd>50 " in r.text
    assert "Total</dt><dd>150</dd>" in r.text
    assert "up to 35 points" in r.text
    assert scalar(db, "SELECT count(*) FROM assurances WHERE assurer_id = %s"
                      " AND method = 'face-to-face'", a["id"]) == 25
    assert scalar(db, "SELECT count(*) FROM audit_log WHERE actor_id = %s"
                      " AND action = 'assurance.add'", a["id"]) == 25


def test_fifty_points_need_two_assurers(http, stack, db):
    first = web_member(http, stack, db)
    make_assurer(db, first["id"])
    give_experience(db, first["id"], 25)        # may award 35
    m = web_member(http, stack, db)
    assert login(http, first["email"]).status_code == 303
    assert assure(http, m, 35).status_code == 303
    assert points_of(db, m["id"]) == 35
    # the same Assurer cannot add the missing 15
    before = counts(db)
    r = assure(http, m, 15)
    assert r.status_code == 422
    assert "one assurance per pair" in " ".join(page_errors(r.text))
    assert counts(db) == before
    # the member sees 35 points, no Assured Member status, and what 50 would give
    assert login(http, m["email"]).status_code == 303
    r = http.get("/wot/points")
    assert "Points received</dt><dd>35 " in r.text
    assert "Assured Member</span>" not in r.text
    assert "With 50 points from two Assurers" in r.text
    # a second Assurer brings 45: not yet; a third, 50 from three
    second = web_member(http, stack, db)
    make_assurer(db, second["id"])
    assert assure(http, m, 10).status_code == 303
    assert login(http, m["email"]).status_code == 303
    assert "Assured Member</span>" not in http.get("/wot/points").text
    third = web_member(http, stack, db)
    make_assurer(db, third["id"])
    assert assure(http, m, 5).status_code == 303
    assert login(http, m["email"]).status_code == 303
    r = http.get("/wot/points")
    assert "Assured Member</span>" in r.text
    assert "Points received</dt><dd>50 " in r.text
    # the certificate policy agrees: the name in client certificates
    assert "with your name" in r.text


def test_both_parties_get_a_mail(http, stack, db):
    a = web_member(http, stack, db, given="Carla", family="Assurer")
    make_assurer(db, a["id"])
    b = db_member(db, given="Dieter", family="Neumann")
    assert assure(http, b, 10, location="Hamburg, DE").status_code == 303
    got = stack.wait_for_mail(b["email"], subject_contains="assured")
    assert "Carla Assurer" in got.body and "10" in got.body and "Hamburg, DE" in got.body
    mine = stack.wait_for_mail(a["email"], subject_contains="Dieter")
    assert "recorded" in mine.body and "Hamburg, DE" in mine.body


def test_under_18_assurer_awards_at_most_10(http, stack, db):
    born = datetime.date.today().replace(year=datetime.date.today().year - 16)
    if born.month == 2 and born.day == 29:
        born = born.replace(day=28)
    a = web_member(http, stack, db, dob_year=str(born.year), dob_month=str(born.month),
                   dob_day=str(born.day))
    make_assurer(db, a["id"])
    give_experience(db, a["id"], 25)            # would allow 35 at 18
    b = db_member(db)
    assert max_on_form(http, b) == 10
    before = counts(db)
    r = assure(http, b, 11)
    assert r.status_code == 422
    assert counts(db) == before
    assert assure(http, b, 10).status_code == 303
    r = http.get("/wot/points")
    assert "up to 10 points (under 18)" in r.text


def test_received_points_cap_at_100(http, stack, db):
    m = web_member(http, stack, db)
    make_assurer(db, m["id"], points=175, challenge=False)
    r = http.get("/wot/points")
    assert "Points received</dt><dd>100 " in r.text
    assert "Total</dt><dd>100</dd>" in r.text
    assert "pass the Assurer Challenge" in http.get("/wot/").text
