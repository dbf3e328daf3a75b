# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The Assurer Challenge: recorded by an administrator on the web page, or
imported by the external challenge system, which proves itself with the
client certificate CAcertChallengeImportClient names."""

import datetime
import os

import pytest

from accounts import csrf_of
from wot import counts, db_member, grant_role, page_errors, scalar, web_member

IMPORT = "/wot/challenge-import"

# restarting httpd: the signer link of mod_cacert_issue may find no database
# connection for a moment (CA21110, seen in test_ocsp.py's restarts too)
RESTART_LOG = pytest.mark.allow_log(r"CA21110", r"CA21306")



def client(stack):
    return (os.path.join(stack.ca_dir, "web", "challenge-client.crt"),
            os.path.join(stack.ca_dir, "challenge-client.key"))


def today():
    return datetime.date.today().isoformat()


def test_import_with_the_client_certificate(http, stack, db):
    m = db_member(db)
    before = counts(db)
    r = http.post(IMPORT, data={"email": m["email"], "date": today(), "variant": "cats-v3"},
                  cert=client(stack))
    assert r.status_code == 200 and r.text == "OK recorded\n", r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    row = scalar(db, "SELECT source || ' ' || variant FROM challenge_passes"
                     " WHERE member_id = %s", m["id"])
    assert row == "import cats-v3"
    assert scalar(db, "SELECT assurer_challenge_at IS NOT NULL FROM members WHERE id = %s",
                  m["id"])
    assert scalar(db, "SELECT count(*) FROM audit_log WHERE member_id = %s"
                      " AND action = 'challenge.pass'", m["id"]) == 1
    after = counts(db)
    assert after[2] == before[2] + 1
    # the same pass again: nothing new
    r = http.post(IMPORT, data={"email": m["email"], "date": today(), "variant": "cats-v3"},
                  cert=client(stack))
    assert r.status_code == 200 and r.text == "OK already recorded\n"
    assert counts(db) == after


@pytest.mark.parametrize("data,status,text", [
    ({"email": "nobody@example.org", "date": "2026-01-05", "variant": "v1"}, 404,
     "ERROR unknown member\n"),
    ({"email": "x@example.org", "date": "2099-01-05", "variant": "v1"}, 400, "ERROR date\n"),
    ({"email": "x@example.org", "date": "05.01.2026", "variant": "v1"}, 400, "ERROR date\n"),
    ({"email": "x@example.org", "date": "2026-01-05", "variant": "V 1"}, 400,
     "ERROR variant\n"),
    ({"email": "not an address", "date": "2026-01-05", "variant": "v1"}, 400,
     "ERROR email\n"),
    ({"date": "2026-01-05", "variant": "v1"}, 400, "ERROR email\n"),
])
def test_import_bad_input(http, stack, db, data, status, text):
    before = counts(db)
    r = http.post(IMPORT, data=data, cert=client(stack))
    assert (r.status_code, r.text) == (status, text)
    assert counts(db) == before


@RESTART_LOG
def test_import_without_or_with_another_certificate(http, stack, db):
    m = db_member(db)
    before = counts(db)
    r = http.post(IMPORT, data={"email": m["email"], "date": today(), "variant": "v1"})
    assert r.status_code == 403
    r = http.get(IMPORT, cert=client(stack))
    assert r.status_code == 405
    # the configured fingerprint is another one: the same certificate is refused
    with stack.configured(["CAcertChallengeImportClient " + "ab:" * 31 + "ab"]):
        r = http.post(IMPORT, data={"email": m["email"], "date": today(), "variant": "v1"},
                      cert=client(stack))
        assert r.status_code == 403
    assert counts(db) == before


def test_admin_records_a_pass(http, stack, db):
    m = db_member(db)
    admin = web_member(http, stack, db)
    grant_role(db, admin["id"], "admin")
    r = http.get("/wot/challenge")
    assert r.status_code == 200
    token = csrf_of(r.text)
    before = counts(db)
    for bad in ({"date": "2099-01-01"}, {"date": "someday"}, {"variant": ""},
                {"email": "nobody@example.org"}, {"ticket": ""}, {"ticket": "ticket 7"},
                {"email": admin["email"]}):
        data = {"csrf": token, "email": m["email"], "date": today(), "variant": "cats-v3",
                "ticket": "s20261121.4"}
        data.update(bad)
        r = http.post("/wot/challenge", data=data, allow_redirects=False)
        assert r.status_code == 422, bad
        assert counts(db) == before
        if "ticket" in bad:
            assert "ticket" in " ".join(page_errors(r.text)).lower(), bad
        if "email" in bad and bad["email"] == admin["email"]:
            assert "for yourself" in " ".join(page_errors(r.text))
    data = {"csrf": token, "email": m["email"], "date": today(), "variant": "cats-v3",
            "ticket": "s20261121.4"}
    r = http.post("/wot/challenge", data=data, allow_redirects=False)
    assert r.status_code == 303
    assert scalar(db, "SELECT recorded_by FROM challenge_passes WHERE member_id = %s",
                  m["id"]) == admin["id"]
    assert scalar(db, "SELECT actor_id FROM audit_log WHERE member_id = %s"
                      " AND action = 'challenge.pass'", m["id"]) == admin["id"]
    assert scalar(db, "SELECT detail FROM audit_log WHERE member_id = %s"
                      " AND action = 'challenge.pass'", m["id"]).startswith("ticket=s20261121.4 ")
    r = http.post("/wot/challenge", data=data, allow_redirects=False)
    assert r.status_code == 422 and "recorded already" in r.text
