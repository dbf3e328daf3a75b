# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The support and arbitration console on the real stack: every action
with its audit entry (and the chain verifier passing afterwards), and the
bad input it must refuse without changing anything."""

import re
import time

from accounts import login, registered_member
from consolehelp import actor, last_audit, message_of, post, session
from issuing import give_points, issue, member_id
from test_audit import assert_intact

T = "s20261121.7"
A = "a20261121.8"


def target(stack, db, points=0):
    s = session(stack)
    m = registered_member(s, stack)
    m["id"] = member_id(db, m["email"])
    if points:
        give_points(db, m["id"], points)
    assert login(s, m["email"]).status_code == 303
    return s, m


def col(db, sql, *args):
    cur = db.cursor()
    cur.execute(sql, args)
    return cur.fetchone()[0]


def test_search_and_view_show_no_secrets(stack, db):
    sup, _ = actor(stack, db, "support")
    _, m = target(stack, db)
    r = sup.get("/wot/console", params={"q": m["email"]})
    assert r.status_code == 200 and f'console-member?id={m["id"]}' in r.text, r.text[:800]
    r = sup.get("/wot/console", params={"q": "Schmidt"})
    assert f'console-member?id={m["id"]}' in r.text
    r = sup.get("/wot/console", params={"q": "%_\\"})
    assert r.status_code == 200 and "No member matches" in r.text
    r = sup.get("/wot/console-member", params={"id": m["id"]})
    assert r.status_code == 200, r.text[:500]
    assert m["email"] in r.text and "Anna" in r.text
    # never the password hash, never the lost-password questions or answers
    assert "argon2" not in r.text
    for k in ("q1", "a1", "a2", "a3", "q4", "a5"):
        assert m[k] not in r.text, k
    assert sup.get("/wot/console-member", params={"id": "999999999"}).status_code == 404


def test_search_shows_the_newest_of_a_common_name(stack, db):
    """More than 50 members share a name: the newest, the one a support
    request is most likely about, is among the hits (it used to be hidden
    behind the 50 oldest)."""
    sup, _ = actor(stack, db, "support")
    cur = db.cursor()
    for _ in range(55):
        cur.execute("INSERT INTO members (given_name, family_name, dob, password_hash)"
                    " VALUES ('Old', 'Schmidtbauer', '1970-01-01', 'x')")
    db.commit()
    _, m = target(stack, db)
    cur.execute("UPDATE members SET family_name = 'Schmidtbauer' WHERE id = %s", (m["id"],))
    db.commit()
    r = sup.get("/wot/console", params={"q": "Schmidtbauer"})
    assert r.status_code == 200
    assert f'console-member?id={m["id"]}' in r.text
    assert r.text.count("console-member?id=") == 50


def test_support_lock_unlock_and_revoke_certificates(stack, db):
    sup, s = actor(stack, db, "support")
    ts, m = target(stack, db, points=10)
    cid, cert, _ = issue(ts, profile="client", email0="yes")
    # lock: the member's session ends, login refused
    r = post(sup, "console-lock", id=m["id"], ticket=T, lock="1")
    assert r.status_code == 303, message_of(r.text)
    assert col(db, "SELECT locked_at IS NOT NULL FROM members WHERE id = %s", m["id"])
    assert last_audit(db, m["id"]) == (s["id"], "console.lock", f"ticket={T}")
    assert ts.get("/account/", allow_redirects=False).status_code == 303
    assert "locked" in sup.get("/wot/console-member", params={"id": m["id"]}).text
    r = post(sup, "console-lock", id=m["id"], ticket=T, lock="1")
    assert r.status_code == 409
    r = post(sup, "console-lock", id=m["id"], ticket=T, lock="0")
    assert r.status_code == 303
    assert last_audit(db, m["id"])[1] == "console.unlock"
    # revoke all certificates: through the signer, a CRL follows
    r = post(sup, "console-revoke-certs", id=m["id"], ticket=T, reason="9")
    assert r.status_code == 303, message_of(r.text)
    assert last_audit(db, m["id"], "console.certs.revoke")[2] == \
        f"ticket={T} reason=9 certificates={cid}"
    deadline = time.monotonic() + 30
    while not col(db, "SELECT revoked_at IS NOT NULL FROM certificates WHERE id = %s", cid):
        assert time.monotonic() < deadline, "revocation did not reach the signer"
        time.sleep(0.1)
    assert col(db, "SELECT revoke_reason FROM certificates WHERE id = %s", cid) == 9
    assert col(db, "SELECT revoked_by FROM certificates WHERE id = %s", cid) == s["id"]
    deadline = time.monotonic() + 30
    while col(db, "SELECT count(*) FROM signer_requests WHERE kind = 'crl'"
                  " AND state IN ('queued', 'sent')"):
        assert time.monotonic() < deadline, "no CRL after the revocation"
        time.sleep(0.1)
    r = post(sup, "console-revoke-certs", id=m["id"], ticket=T, reason="9")
    assert r.status_code == 409     # nothing left to revoke
    assert_intact(stack)


def test_arbitrator_actions(stack, db):
    arb, a = actor(stack, db, "arbitrator")
    _, m = target(stack, db, points=50)
    # correct name and date of birth
    r = post(arb, "console-identity", id=m["id"], ticket=A, given="Anna", middle="Maria",
             family="Schmidt-Berg", suffix="", dob_year="1985", dob_month="3", dob_day="15")
    assert r.status_code == 303, message_of(r.text)
    cur = db.cursor()
    cur.execute("SELECT given_name, middle_name, family_name, dob::text FROM members"
                " WHERE id = %s", (m["id"],))
    assert cur.fetchone() == ("Anna", "Maria", "Schmidt-Berg", "1985-03-15")
    ev = last_audit(db, m["id"])
    assert ev[0] == a["id"] and ev[1] == "console.identity"
    assert ev[2] == (f'ticket={A} from="Anna Schmidt"'
                     f' to="Anna Maria Schmidt-Berg" dob=changed')
    assert "1985" not in ev[2]
    # revoke an assurance
    aid = col(db, "SELECT min(id) FROM assurances WHERE assuree_id = %s", m["id"])
    r = post(arb, "console-assurance-revoke", id=m["id"], ticket=A, assurance=str(aid))
    assert r.status_code == 303, message_of(r.text)
    cur.execute("SELECT revoked_at IS NOT NULL, revoked_by, revoke_ticket FROM assurances"
                " WHERE id = %s", (aid,))
    assert cur.fetchone() == (True, a["id"], A)
    assert last_audit(db, m["id"])[1] == "console.assurance.revoke"
    r = post(arb, "console-assurance-revoke", id=m["id"], ticket=A, assurance=str(aid))
    assert r.status_code == 409
    # block and unblock as Assurer
    r = post(arb, "console-block", id=m["id"], ticket=A, block="1")
    assert r.status_code == 303
    assert col(db, "SELECT blocked_at IS NOT NULL FROM members WHERE id = %s", m["id"])
    assert last_audit(db, m["id"]) == (a["id"], "console.assurer.block", f"ticket={A}")
    r = post(arb, "console-block", id=m["id"], ticket=A, block="0")
    assert r.status_code == 303
    assert not col(db, "SELECT blocked_at IS NOT NULL FROM members WHERE id = %s", m["id"])
    assert_intact(stack)


def test_admin_codesign_and_roles(stack, db):
    adm, a = actor(stack, db, "admin")
    _, m = target(stack, db)
    r = post(adm, "console-codesign", id=m["id"], ticket=T, allow="1")
    assert r.status_code == 303, message_of(r.text)
    assert col(db, "SELECT codesign_allowed FROM members WHERE id = %s", m["id"])
    assert last_audit(db, m["id"]) == (a["id"], "console.codesign.grant", f"ticket={T}")
    r = post(adm, "console-codesign", id=m["id"], ticket=T, allow="0")
    assert r.status_code == 303
    assert last_audit(db, m["id"])[1] == "console.codesign.remove"
    r = post(adm, "console-role", id=m["id"], ticket=T, role="support", grant="1")
    assert r.status_code == 303, message_of(r.text)
    cur = db.cursor()
    cur.execute("SELECT role, granted_by, ticket FROM member_roles WHERE member_id = %s"
                " AND removed_at IS NULL", (m["id"],))
    assert cur.fetchall() == [("support", a["id"], T)]
    assert last_audit(db, m["id"]) == (a["id"], "role.grant", f"ticket={T} role=support")
    r = post(adm, "console-role", id=m["id"], ticket=T, role="support", grant="1")
    assert r.status_code == 409
    r = post(adm, "console-role", id=m["id"], ticket=T, role="emperor", grant="1")
    assert r.status_code == 422
    r = post(adm, "console-role", id=m["id"], ticket=T, role="support", grant="0")
    assert r.status_code == 303
    assert last_audit(db, m["id"]) == (a["id"], "role.remove", f"ticket={T} role=support")
    assert_intact(stack)


def test_arbitrator_deletes_an_account(stack, db):
    arb, a = actor(stack, db, "arbitrator")
    ts, m = target(stack, db, points=10)
    cid, _, _ = issue(ts, profile="client", email0="yes")
    cur = db.cursor()
    cur.execute("INSERT INTO assurer_listings (member_id, country, town, languages)"
                " VALUES (%s, 'DE', 'Hamburg', 'de en')", (m["id"],))
    cur.execute("INSERT INTO ttp_requests (member_id, country, note) VALUES"
                " (%s, 'DE', 'my passport number is 123')", (m["id"],))
    r = post(arb, "console-delete", id=m["id"], ticket=A)      # not confirmed
    assert r.status_code == 422
    assert not col(db, "SELECT deleted_at IS NOT NULL FROM members WHERE id = %s", m["id"])
    r = post(arb, "console-delete", id=m["id"], ticket=A, confirm="yes")
    assert r.status_code == 303, message_of(r.text)
    cur = db.cursor()
    cur.execute("SELECT deleted_by, deletion_ticket, password_hash, locked_at IS NOT NULL,"
                " retain_until > now() + interval '6 years', given_name, dob::text"
                " FROM members WHERE id = %s", (m["id"],))
    assert cur.fetchone() == (a["id"], A, "!deleted", True, True, "Anna", "1985-03-14")
    # the secrets and sessions are gone; the records stay, the address is free
    assert col(db, "SELECT count(*) FROM lost_password_questions WHERE member_id = %s",
               m["id"]) == 0
    assert col(db, "SELECT count(*) FROM sessions WHERE member_id = %s", m["id"]) == 0
    assert col(db, "SELECT count(*) FROM emails WHERE member_id = %s AND deleted_at IS NULL",
               m["id"]) == 0
    assert col(db, "SELECT count(*) FROM emails WHERE member_id = %s", m["id"]) >= 1
    assert col(db, "SELECT count(*) FROM assurances WHERE assuree_id = %s", m["id"]) >= 1
    assert col(db, "SELECT count(*) FROM signer_requests WHERE kind = 'revoke'"
                   " AND cert_id = %s", cid) == 1
    ev = last_audit(db, m["id"], "console.delete")
    assert ev == (a["id"], "console.delete", f"ticket={A} retention=7y certificates={cid}")
    # the web of trust's personal text: listing gone, TTP request closed and blank
    assert col(db, "SELECT count(*) FROM assurer_listings WHERE member_id = %s", m["id"]) == 0
    cur.execute("SELECT note, closed_at IS NOT NULL, closed_by FROM ttp_requests"
                " WHERE member_id = %s", (m["id"],))
    assert cur.fetchall() == [("", True, a["id"])]
    assert login(session(stack), m["email"]).status_code != 303
    assert ts.get("/account/", allow_redirects=False).status_code == 303
    r = post(arb, "console-delete", id=m["id"], ticket=A, confirm="yes")
    assert r.status_code == 409
    # a member who never held a certificate nor took part in an assurance:
    # nothing is kept (CPS 5.5, resigned non-subscribers)
    _, n = target(stack, db)
    r = post(arb, "console-delete", id=n["id"], ticket=A, confirm="yes")
    assert r.status_code == 303
    cur.execute("SELECT given_name, family_name, dob::text, retain_until <= now()"
                " FROM members WHERE id = %s", (n["id"],))
    assert cur.fetchone() == ("-", "-", "1900-01-01", True)
    assert col(db, "SELECT count(*) FROM emails WHERE member_id = %s AND address <> ''",
               n["id"]) == 0
    assert_intact(stack)


def test_bad_input_changes_nothing(stack, db):
    sup, s = actor(stack, db, "support")
    _, m = target(stack, db)
    before = col(db, "SELECT count(*) FROM audit_log WHERE member_id = %s", m["id"])
    # no ticket, malformed tickets
    for t in ("", "12345", "s2026112.1", "x20261121.1", "s20261121 .1", "s20261321.1",
              "<b>s20261121.1</b>"):
        r = post(sup, "console-lock", id=m["id"], ticket=t, lock="1")
        assert r.status_code == 422, (t, r.status_code)
        assert "reference" in message_of(r.text)
    assert not col(db, "SELECT locked_at IS NOT NULL FROM members WHERE id = %s", m["id"])
    # one's own account
    r = post(sup, "console-lock", id=s["id"], ticket=T, lock="1")
    assert r.status_code == 403 and "own account" in message_of(r.text)
    # no such member
    assert post(sup, "console-lock", id="999999999", ticket=T, lock="1").status_code == 404
    assert post(sup, "console-lock", id="x", ticket=T, lock="1").status_code == 404
    # support trying arbitration and admin-only actions
    for path, extra in (("console-role", {"role": "admin", "grant": "1"}),
                        ("console-delete", {"confirm": "yes"}),
                        ("console-identity", {"given": "Eve", "family": "X"}),
                        ("console-codesign", {"allow": "1"})):
        r = post(sup, path, id=m["id"], ticket=T, **extra)
        assert r.status_code == 403, (path, r.status_code)
    assert col(db, "SELECT count(*) FROM member_roles WHERE member_id = %s", m["id"]) == 0
    # an arbitrator's bad name or date of birth
    arb, _ = actor(stack, db, "arbitrator")
    for extra in ({"given": "Anna", "family": "Schmidt", "dob_year": "2999", "dob_month": "1",
                   "dob_day": "1"},
                  {"given": "<script>", "family": "Schmidt", "dob_year": "1985",
                   "dob_month": "3", "dob_day": "14"},
                  {"given": "", "family": "Schmidt", "dob_year": "1985", "dob_month": "3",
                   "dob_day": "14"}):
        r = post(arb, "console-identity", id=m["id"], ticket=A, **extra)
        assert r.status_code == 422, extra
    assert col(db, "SELECT given_name FROM members WHERE id = %s", m["id"]) == "Anna"
    assert post(arb, "console-assurance-revoke", id=m["id"], ticket=A,
                assurance="1x").status_code == 404
    # a member without a role, a visitor
    mem, _ = actor(stack, db)
    assert mem.get("/wot/console").status_code == 403
    assert post(mem, "console-lock", id=m["id"], ticket=T, lock="1").status_code == 403
    assert session(stack).get("/wot/console", allow_redirects=False).status_code == 303
    assert col(db, "SELECT count(*) FROM audit_log WHERE member_id = %s", m["id"]) == before
    assert not col(db, "SELECT locked_at IS NOT NULL FROM members WHERE id = %s", m["id"])


def test_a_busy_assurers_lists_come_a_page_at_a_time(stack, db):
    """An Assurer who gave thousands of assurances: the Arbitrator's view
    of the member (a revoke form on every live row, about 570 bytes) once
    went past the templates' 1 MiB limit at about 1,850 and answered 500.
    Each long list now comes 200 rows a page with its own page argument;
    every assurance is reachable, and the page's navigation still links
    the member's own certificates (the list of the member's certificates
    used to take the name of that link)."""
    arb, _ = actor(stack, db, "arbitrator")
    _, m = target(stack, db, points=10)
    cur = db.cursor()
    cur.execute("UPDATE members SET assurer_challenge_at = now() WHERE id = %s", (m["id"],))
    cur.execute("INSERT INTO members (given_name, family_name, dob, password_hash)"
                " SELECT 'Assuree', 'Number' || g, '1980-01-01', 'x'"
                " FROM generate_series(1, 2500) g RETURNING id")
    assurees = [r[0] for r in cur.fetchall()]
    cur.execute("INSERT INTO assurances (assurer_id, assuree_id, points, location)"
                " SELECT %s, unnest(%s::bigint[]), 10, 'Hamburg'", (m["id"], assurees))
    db.commit()
    cur.execute("SELECT id FROM assurances WHERE assurer_id = %s ORDER BY id", (m["id"],))
    given = [str(r[0]) for r in cur.fetchall()]
    walk_given(arb, m, given)


def walk_given(arb, m, given):
    """The assurances m gave, page by page on the Arbitrator's view"""
    seen, url, page = [], "/wot/console-member", 0
    params = {"id": m["id"]}
    while True:
        page += 1
        r = arb.get(url, params=params)
        assert r.status_code == 200, r.text[:500]
        part = r.text[r.text.index("Assurances given"):r.text.index("<h2>Certificates")]
        rows = re.findall(r"<tr><td>(\d+)</td>", part)
        assert part.count('name="assurance"') == len(rows)    # the revoke forms
        first = (page - 1) * 200 + 1
        assert f"Rows {first} to {first + len(rows) - 1} of 2500." in part
        nav = r.text[r.text.index("<nav"):r.text.index("</nav>")]
        assert nav.count('certs/">Certificates</a>') == 1, nav
        seen += rows
        nxt = re.search(r'href="\?id=(\d+)&amp;gp=(\d+)">Next page', part)
        if not nxt:
            break
        assert nxt.group(1) == str(m["id"])
        params = {"id": m["id"], "gp": nxt.group(2)}
    assert page == 13 and seen == given
    r = arb.get(url, params={"id": m["id"], "gp": "14"})
    assert r.status_code == 404 and "This list has no such page." in r.text
    r = arb.get(url, params={"id": m["id"], "rp": "x"})
    assert r.status_code == 404
