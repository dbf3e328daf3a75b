# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The TTP programme: a member asks for TTP assistance, two TTP-admins enter
two TTP assurances from two different TTPs (70 points), an administrator
records the Assurer Challenge, a third TTP-admin tops up to 100 and the
member is an Assurer.  Every limit on the way is refused with no change;
under-18 members are refused the programme."""

import datetime

import pytest

from accounts import csrf_of, login
from wot import (assure, counts, db_member, grant_role, page_errors, points_of, scalar,
                 web_member)

TTP = "/wot/ttp-admin"

# restarting httpd: the signer link of mod_cacert_issue may find no database
# connection for a moment (CA21110, seen in test_ocsp.py's restarts too)
RESTART_LOG = pytest.mark.allow_log(r"CA21110", r"CA21306")



def ttp_admin(http, stack, db):
    t = web_member(http, stack, db)
    grant_role(db, t["id"], "ttp-admin")
    return t


def refused(http, db, member, points, message, **kw):
    before = counts(db)
    r = assure(http, member, points, path=TTP, **kw)
    assert r.status_code == 422, (r.status_code, r.text[:500])
    assert message in " ".join(page_errors(r.text)), page_errors(r.text)
    assert counts(db) == before


def test_ttp_to_70_then_topup_to_assurer(http, stack, db):
    m = web_member(http, stack, db, given="Tomas", family="Novak")
    # the member asks for TTP assistance
    r = http.get("/wot/ttp")
    assert r.status_code == 200
    r = http.post("/wot/ttp", data={"csrf": csrf_of(r.text), "country": "CZ",
                                    "note": "No Assurer in Brno.\r\nThanks!"},
                  allow_redirects=False)
    assert r.status_code == 303
    assert "is open" in http.get("/wot/ttp").text
    assert scalar(db, "SELECT count(*) FROM ttp_requests WHERE member_id = %s"
                      " AND closed_at IS NULL", m["id"]) == 1
    # a second request while one is open: refused, nothing changes
    before = counts(db)
    r = http.post("/wot/ttp", data={"csrf": csrf_of(http.get("/wot/").text),
                                    "country": "CZ"}, allow_redirects=False)
    assert r.status_code == 422 and counts(db) == before

    t1 = ttp_admin(http, stack, db)
    r = http.get(TTP)
    assert r.status_code == 200 and m["email"] in r.text and "No Assurer in Brno." in r.text
    refused(http, db, m, 36, "more points than you may award", kind="ttp", ttp="Notary A")
    refused(http, db, m, 35, "fill in this field", kind="ttp", ttp="")
    r = assure(http, m, 35, path=TTP, kind="ttp", ttp="Notary Jana Dvorak, Brno")
    assert r.status_code == 303, page_errors(r.text)
    assert scalar(db, "SELECT count(*) FROM ttp_requests WHERE member_id = %s"
                      " AND closed_at IS NULL", m["id"]) == 0
    # the same TTP-admin cannot enter the second
    refused(http, db, m, 35, "another TTP-admin", kind="ttp", ttp="Bank B")

    t2 = ttp_admin(http, stack, db)
    refused(http, db, m, 35, "different TTP", kind="ttp", ttp="notary jana dvorak, brno")
    refused(http, db, m, 10, "needs the two TTP assurances", kind="ttp-topup", ttp="Bank")
    r = assure(http, m, 35, path=TTP, kind="ttp", ttp="Komercni banka, Brno")
    assert r.status_code == 303
    assert points_of(db, m["id"]) == 70

    t3 = ttp_admin(http, stack, db)
    refused(http, db, m, 5, "two TTP assurances already", kind="ttp", ttp="Post office")
    refused(http, db, m, 30, "needs the Assurer Challenge", kind="ttp-topup",
            ttp="Post office")

    # an administrator records the challenge
    admin = web_member(http, stack, db)
    grant_role(db, admin["id"], "admin")
    r = http.get("/wot/challenge")
    r = http.post("/wot/challenge", data={"csrf": csrf_of(r.text), "email": m["email"],
                                          "date": datetime.date.today().isoformat(),
                                          "variant": "cats-v3", "ticket": "s20261121.5"},
                  allow_redirects=False)
    assert r.status_code == 303
    assert scalar(db, "SELECT source FROM challenge_passes WHERE member_id = %s",
                  m["id"]) == "admin"

    # the third TTP-admin tops up (at most 30 by default)
    assert login(http, t3["email"]).status_code == 303
    refused(http, db, m, 31, "more points than you may award", kind="ttp-topup",
            ttp="Post office")
    r = assure(http, m, 30, path=TTP, kind="ttp-topup", ttp="Post office Brno")
    assert r.status_code == 303, page_errors(r.text)
    assert points_of(db, m["id"]) == 100
    # a second top-up, by a fourth TTP-admin: refused
    ttp_admin(http, stack, db)
    refused(http, db, m, 5, "top-up already", kind="ttp-topup", ttp="Elsewhere")

    # the member is an Assurer now
    assert login(http, m["email"]).status_code == 303
    r = http.get("/wot/points")
    assert "Points received</dt><dd>100 " in r.text and "up to 10 points" in r.text
    assert "TTP top-up" in r.text and "Komercni banka, Brno" in r.text
    assert http.get("/wot/assure").status_code == 200
    assert t1 and t2


def test_ttp_is_refused_under_18(http, stack, db):
    born = datetime.date.today().replace(year=datetime.date.today().year - 15, day=1)
    m = web_member(http, stack, db, dob_year=str(born.year), dob_month=str(born.month),
                   dob_day="1")
    r = http.get("/wot/ttp")
    assert "not open to members under 18" in r.text
    before = counts(db)
    r = http.post("/wot/ttp", data={"csrf": csrf_of(r.text), "country": "DE"},
                  allow_redirects=False)
    assert r.status_code == 422 and counts(db) == before
    ttp_admin(http, stack, db)
    refused(http, db, m, 10, "not open to members under 18", kind="ttp", ttp="Notary")


@RESTART_LOG
def test_ttp_open_to_under_18_by_directive(http, stack, db):
    born = datetime.date.today().replace(year=datetime.date.today().year - 15, day=1)
    with stack.configured(["CAcertJuniorTTP on", "CAcertTTPTopUpMax 35"]):
        m = db_member(db, dob=born.isoformat())
        ttp_admin(http, stack, db)
        r = assure(http, m, 20, path=TTP, kind="ttp", ttp="Notary")
        assert r.status_code == 303, page_errors(r.text)


def test_ttp_queue_leaves_out_locked_and_deleted_members(http, stack, db):
    live, locked, gone = db_member(db), db_member(db), db_member(db)
    cur = db.cursor()
    for m in (live, locked, gone):
        cur.execute("INSERT INTO ttp_requests (member_id, country, note) VALUES (%s, 'DE', %s)",
                    (m["id"], f"note of {m['email']}"))
    cur.execute("UPDATE members SET locked_at = now() WHERE id = %s", (locked["id"],))
    cur.execute("UPDATE members SET locked_at = now(), deleted_at = now(), retain_until = now(),"
                " deletion_ticket = 's20261121.1' WHERE id = %s",
                (gone["id"],))
    ttp_admin(http, stack, db)
    r = http.get(TTP)
    assert r.status_code == 200
    assert live["email"] in r.text
    assert locked["email"] not in r.text and gone["email"] not in r.text
