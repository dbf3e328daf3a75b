# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The long lists each httpd child keeps (the points page and the
certificate list: src/ca_listcache.c) are read again whenever the member's
version of their lists moves (migration 021), so a page never shows less
than the database has, whoever made the change: the member, an Assurer,
support through the console, the signer link.  Each page is asked for
several times on one keep-alive connection before and after each change,
so the child that answers has the list kept from before."""

import re
import time

from consolehelp import actor, message_of, post
from issuing import issue, member, revoke
from wot import assure, db_member, make_assurer, scalar, web_member

TICKET = "a20261204.1"


def pages(http, path, n=4):
    out = []
    for _ in range(n):
        r = http.get(path)
        assert r.status_code == 200, (r.status_code, r.text[:300])
        out.append(r.text)
    return out


def version(db, mid):
    return scalar(db, "SELECT coalesce((SELECT v FROM list_versions WHERE member_id = %s),"
                      " 0)", mid)


def status_in_list(text, cert_id):
    """The status cell of the certificate's row on /certs/."""
    for row in re.findall(r"<tr>(.*?)</tr>", text, re.S):
        if f'view?id={cert_id}"' in row:
            return re.sub(r"<[^>]*>", "", row.split("</td>")[0]).strip()
    return None


def test_points_page_follows_assurances_names_and_revocations(http, stack, db):
    x = web_member(http, stack, db)
    make_assurer(db, x["id"])
    y = db_member(db, given="Ylva", family="Lindqvist")
    for text in pages(http, "/wot/points"):
        assert "Ylva" not in text
    # an assurance made through the page: both lists move
    v0 = version(db, y["id"])
    assert assure(http, y, 10).status_code == 303
    assert version(db, y["id"]) > v0
    for text in pages(http, "/wot/points"):
        assert "Ylva Lindqvist" in text
    # support corrects the assuree's name: the Assurer's page names her anew
    arb, _ = actor(stack, db, "arbitrator")
    r = post(arb, "console-identity", id=y["id"], ticket=TICKET, given="Ylva", middle="",
             family="Berg", suffix="", dob_year=y["dob_year"], dob_month=y["dob_month"],
             dob_day=y["dob_day"])
    assert r.status_code == 303, message_of(r.text)
    for text in pages(http, "/wot/points"):
        assert "Ylva Berg" in text and "Lindqvist" not in text
    # an arbitrator revokes the assurance: gone from the list
    aid = scalar(db, "SELECT id FROM assurances WHERE assuree_id = %s", y["id"])
    r = post(arb, "console-assurance-revoke", id=y["id"], ticket=TICKET, assurance=str(aid))
    assert r.status_code == 303, message_of(r.text)
    for text in pages(http, "/wot/points"):
        assert "Ylva" not in text


def test_certificate_list_follows_revocation_and_the_clock(http, stack, db):
    m = member(http, stack, db, points=50)
    first, _, _ = issue(http, profile="client", email0="yes")
    second, _, _ = issue(http, profile="client", email0="yes")
    for text in pages(http, "/certs/"):
        assert status_in_list(text, first) == "active"
        assert status_in_list(text, second) == "active"
    # the signer link stores the revocation: the list says so
    revoke(http, first)
    for text in pages(http, "/certs/"):
        assert status_in_list(text, first) == "revoked"
        assert status_in_list(text, second) == "active"
    # a certificate that expires while its list is kept: the kept list
    # still says when, and the page says expired once that time is past
    cur = db.cursor()
    cur.execute("UPDATE certificates SET not_after = now() + interval '3 seconds'"
                " WHERE id = %s", (second,))
    v = version(db, m["id"])
    assert status_in_list(pages(http, "/certs/", n=2)[-1], second) == "active"
    # asked on the same connection (a pause would start a new one, perhaps
    # to another child) until the time is past
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        pages(http, "/certs/", n=1)
        time.sleep(0.5)
    for text in pages(http, "/certs/"):
        assert status_in_list(text, second) == "expired"
    assert version(db, m["id"]) == v


def test_one_statement_writing_many_rows_moves_every_member(db):
    """A fill or an import writes many certificates in one statement: every
    member concerned moves, each once per statement."""
    a, b = db_member(db), db_member(db)
    va, vb = version(db, a["id"]), version(db, b["id"])
    cur = db.cursor()
    cur.execute("UPDATE members SET given_name = given_name WHERE id IN (%s, %s)",
                (a["id"], b["id"]))
    assert (version(db, a["id"]), version(db, b["id"])) == (va, vb)  # no new name
    cur.execute("UPDATE members SET family_name = family_name || 'x' WHERE id IN (%s, %s)",
                (a["id"], b["id"]))
    assert (version(db, a["id"]), version(db, b["id"])) == (va + 1, vb + 1)
