# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Find an Assurer: Assurers opt in with country and town; members search;
messages are relayed by mail without showing the Assurer's address, and
limited per sender; the statistics page shows aggregates only."""

import re

import pytest

from accounts import csrf_of, login
from wot import counts, db_member, make_assurer, scalar, web_member

# restarting httpd: the signer link of mod_cacert_issue may find no database
# connection for a moment (CA21110, seen in test_ocsp.py's restarts too)
RESTART_LOG = pytest.mark.allow_log(r"CA21110", r"CA21306")



def list_me(http, country, town, languages="de, en", listed="yes"):
    r = http.get("/wot/listing")
    assert r.status_code == 200
    data = {"csrf": csrf_of(r.text), "country": country, "town": town,
            "languages": languages}
    if listed:
        data["listed"] = listed
    return http.post("/wot/listing", data=data, allow_redirects=False)


def test_listing_search_and_contact(http, stack, db):
    a = web_member(http, stack, db, given="Greta", family="Lindqvist")
    make_assurer(db, a["id"])
    # bad input changes nothing
    before = counts(db)
    assert list_me(http, "de", "Uppsala").status_code == 422
    assert list_me(http, "SE", "").status_code == 422
    assert counts(db) == before
    assert list_me(http, "SE", "Uppsala").status_code == 303
    assert 'value="Uppsala"' in http.get("/wot/listing").text

    m = web_member(http, stack, db, given="Olle")
    r = http.get("/wot/find?country=SE&town=uppsala")
    assert r.status_code == 200
    assert "Greta L." in r.text and "Lindqvist" not in r.text
    assert a["email"] not in r.text
    assert "Greta L." in http.get("/wot/find?country=SE").text
    assert "Greta L." not in http.get("/wot/find?country=SE&town=Lund").text
    assert http.get("/wot/find?country=Sweden").status_code == 422
    aid = re.search(r"contact\?id=(\d+)", r.text).group(1)
    assert int(aid) == a["id"]

    r = http.get(f"/wot/contact?id={aid}")
    assert r.status_code == 200 and a["email"] not in r.text
    r = http.post("/wot/contact", data={"csrf": csrf_of(r.text), "id": aid,
                                        "message": "Hej!\r\nCould we meet on Saturday?"},
                  allow_redirects=False)
    assert r.status_code == 200 and "on its way" in r.text, r.text[:500]
    mail = stack.wait_for_mail(a["email"], subject_contains="meet an Assurer")
    assert "Could we meet on Saturday?" in mail.body and m["email"] in mail.body
    assert scalar(db, "SELECT count(*) FROM contact_relays WHERE sender_id = %s",
                  m["id"]) == 1

    # an empty message, an unknown or unlisted Assurer: refused
    token = csrf_of(http.get(f"/wot/contact?id={aid}").text)
    r = http.post("/wot/contact", data={"csrf": token, "id": aid, "message": " "},
                  allow_redirects=False)
    assert r.status_code == 422
    other = db_member(db)
    r = http.post("/wot/contact", data={"csrf": token, "id": str(other["id"]), "message": "hi"},
                  allow_redirects=False)
    assert r.status_code == 422 and "no listed Assurer" in r.text
    r = http.post("/wot/contact", data={"csrf": token, "id": str(m["id"]), "message": "hi"},
                  allow_redirects=False)
    assert r.status_code == 422 and "cannot write to yourself" in r.text

    # the Assurer opts out: no longer found, no longer reachable
    assert login(http, a["email"]).status_code == 303
    assert list_me(http, "SE", "Uppsala", listed=None).status_code == 303
    assert login(http, m["email"]).status_code == 303
    assert "Greta L." not in http.get("/wot/find?country=SE").text
    token = csrf_of(http.get(f"/wot/contact?id={aid}").text)
    r = http.post("/wot/contact", data={"csrf": token, "id": aid, "message": "hi"},
                  allow_redirects=False)
    assert r.status_code == 422


@RESTART_LOG
def test_contact_rate_limit(http, stack, db):
    with stack.configured(["CAcertAssurerContactLimit 2 1h"]):
        a = web_member(http, stack, db)
        make_assurer(db, a["id"])
        assert list_me(http, "NL", "Delft").status_code == 303
        web_member(http, stack, db)
        for i in range(2):
            token = csrf_of(http.get(f"/wot/contact?id={a['id']}").text)
            r = http.post("/wot/contact", data={"csrf": token, "id": str(a["id"]),
                                                "message": f"message {i}"},
                          allow_redirects=False)
            assert r.status_code == 200
        before = scalar(db, "SELECT count(*) FROM contact_relays")
        token = csrf_of(http.get(f"/wot/contact?id={a['id']}").text)
        r = http.post("/wot/contact", data={"csrf": token, "id": str(a["id"]),
                                            "message": "one more"}, allow_redirects=False)
        assert r.status_code == 429 and "as many messages as allowed" in r.text
        assert scalar(db, "SELECT count(*) FROM contact_relays") == before


def test_statistics_are_aggregates(http, stack, db):
    a = web_member(http, stack, db, given="Statia", family="Privatova")
    make_assurer(db, a["id"])
    http.cookies.clear()
    r = http.get("/wot/stats")
    assert r.status_code == 200
    assert "<svg" in r.text and "<rect" in r.text
    # numbers as the English page writes them: 2,885 (the shared stack
    # holds what every test before made)
    n = {k: int(v.replace(",", "")) for k, v in re.findall(
        r"<tr><th scope=\"row\">([^<]*)</th><td>([\d,]+)</td></tr>", r.text)}
    assert n["Members"] == scalar(db, "SELECT count(*) FROM members m WHERE locked_at IS NULL"
                                      " AND EXISTS (SELECT 1 FROM emails e WHERE"
                                      " e.member_id = m.id AND e.is_primary AND"
                                      " e.verified_at IS NOT NULL AND e.deleted_at IS NULL)")
    assert n["Assurances"] == scalar(db, "SELECT count(*) FROM assurances"
                                         " WHERE revoked_at IS NULL")
    assert n["Assurers"] >= 1 and n["Assured Members (50 points or more)"] >= n["Assurers"]
    # this month's bar carries this month's assurances
    month = scalar(db, "SELECT to_char(now(), 'YYYY-MM')")
    this = scalar(db, "SELECT count(*) FROM assurances WHERE revoked_at IS NULL"
                      " AND date_trunc('month', created_at) = date_trunc('month', now())")
    assert f"<title>{month}: {this:,}</title>" in r.text
    # no names, no addresses
    assert "Privatova" not in r.text and a["email"] not in r.text
    assert "@" not in re.sub(r"<footer.*", "", r.text, flags=re.S)


@RESTART_LOG
def test_statistics_cache(http, stack, db):
    """With CAcertStatsCacheTime a process reuses what it counted."""
    from wot import db_member, give_experience
    with stack.configured(["CAcertStatsCacheTime 1h"]):
        # one process serves both requests over one keep-alive connection
        first = http.get("/wot/stats").text
        a = db_member(db)
        give_experience(db, a["id"], 3)
        assert http.get("/wot/stats").text == first
    # counted at every request again
    n = scalar(db, "SELECT count(*) FROM assurances WHERE revoked_at IS NULL")
    assert f'Assurances</th><td>{n:,}</td>' in http.get("/wot/stats").text
