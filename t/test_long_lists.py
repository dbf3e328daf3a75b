# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Long lists a page at a time (the shared pager, templates/pager.html):
an organisation's domains, a member's ACME accounts, domains and email
addresses, the assurances an Assurer gave, and the TTP-admins' open
requests.  Rows with a form (about 430 to 600 bytes) or a long note made
the page larger than the templates' 1 MiB limit at a few thousand, and the
page a 500.  Every row is reachable page by page, and a page that does not
exist is a 404 that says so.  (The certificate list: test_issue.py; the
console's member page: test_console.py.)"""

import html
import re

from acme import acme_member
from consolehelp import actor
from test_org import T, new_org

NO_PAGE = "This list has no such page."


def walk(s, path, params, arg, section, total, per, field=None, row=None):
    """The ids of a list's rows (the value of each row's form field
    field, or what the pattern row finds in each row), page by page
    through the Next page links; each page says which rows it shows."""
    seen, page = [], 0
    row = row or r'name="' + field + r'" value="(\d+)"'
    while True:
        page += 1
        r = s.get(path, params=params)
        assert r.status_code == 200, r.text[:500]
        part = section(r.text)
        rows = re.findall(row, part)
        first = (page - 1) * per + 1
        assert f"Rows {first} to {first + len(rows) - 1} of {total}." in part, part[-600:]
        nxt = re.search(r'href="\?([^"]*?)' + arg + r'=(\d+)">Next page', part)
        seen += rows
        if not nxt:
            return page, seen
        params = dict(params, **{arg: nxt.group(2)})


def new_members(db, given, tag, n):
    """The ids of n new members named "given Number<i>x<tag>" """
    cur = db.cursor()
    cur.execute("INSERT INTO members (given_name, family_name, dob, password_hash)"
                " SELECT %s, 'Number' || g || 'x' || %s, '1980-01-01', 'x'"
                " FROM generate_series(1, %s) g RETURNING id", (given, tag, n))
    return [r[0] for r in cur.fetchall()]


def add_domains(db, mid, prefix, n):
    """n live domains prefix-<i>-<mid>.example of member mid"""
    with db.cursor() as cur:
        cur.execute("INSERT INTO domains (member_id, name) SELECT %s,"
                    " %s || '-' || g || '-' || %s || '.example'"
                    " FROM generate_series(1, %s) g", (mid, prefix, mid, n))
    db.commit()


def add_addresses(db, mid, prefix, n, removed=False):
    """n confirmed addresses prefix-<i>-<mid>@long-list.example of member
    mid, removed ones if removed"""
    with db.cursor() as cur:
        cur.execute("INSERT INTO emails (member_id, address, verified_at, deleted_at)"
                    " SELECT %s, %s || '-' || g || '-' || %s || '@long-list.example', now(),"
                    " CASE WHEN %s THEN now() END FROM generate_series(1, %s) g",
                    (mid, prefix, mid, removed, n))
    db.commit()


def test_an_organisations_domains_come_a_page_at_a_time(stack, db):
    oa, o = actor(stack, db, "org-assurer")
    oid = new_org(oa)
    cur = db.cursor()
    cur.execute("INSERT INTO org_domains (organisation_id, name, ticket, verified_by)"
                " SELECT %s, 'org-page-' || g || '-' || %s || '.example', %s, %s"
                " FROM generate_series(1, 450) g", (oid, oid, T, o["id"]))
    db.commit()
    cur.execute("SELECT id FROM org_domains WHERE organisation_id = %s AND removed_at IS NULL"
                " ORDER BY id", (oid,))
    ids = [str(r[0]) for r in cur.fetchall()]

    def section(text):
        return text[text.index("<h2>Domains"):text.index("<h2>O-Admins")]
    pages, seen = walk(oa, "/wot/org-view", {"id": oid}, "dp", section, 450, 200, "domain_id")
    assert pages == 3 and len(seen) == 450 and set(seen) == set(ids)
    for bad in ("4", "0", "x"):
        r = oa.get("/wot/org-view", params={"id": oid, "dp": bad})
        assert r.status_code == 404 and NO_PAGE in r.text


def test_a_members_acme_accounts_come_a_page_at_a_time(http, stack, db):
    m = acme_member(http, stack, db, points=10)
    cur = db.cursor()
    cur.execute("INSERT INTO acme_eab (kid, member_id, hmac_key, expires_at, used_at)"
                " SELECT 'page-' || %s || '-' || g, %s, 'x', now(), now()"
                " FROM generate_series(1, 430) g", (m["id"], m["id"]))
    cur.execute("INSERT INTO acme_accounts (member_id, eab_kid, jwk, thumbprint)"
                " SELECT %s, kid, '{}', 'tp-' || kid FROM acme_eab WHERE member_id = %s"
                " ORDER BY kid", (m["id"], m["id"]))
    db.commit()
    cur.execute("SELECT count(*) FROM acme_accounts WHERE member_id = %s", (m["id"],))
    assert cur.fetchone()[0] == 430

    def section(text):
        return text[text.index("Your ACME accounts"):]
    pages, seen = walk(http, "/certs/acme", {}, "p", section, 430, 200, "id")
    assert pages == 3 and len(set(seen)) == 430
    r = http.get("/certs/acme", params={"p": "9"})
    assert r.status_code == 404 and NO_PAGE in r.text


def test_a_members_domains_and_addresses_come_a_page_at_a_time(stack, db):
    """2,500 domains (a remove form each, about 480 bytes) and 2,500 email
    addresses: 500 a page.  The overview lists the first 500 addresses and
    its pager leads on to the address page."""
    s, m = actor(stack, db)
    tag = m["id"]
    add_domains(db, tag, "member-page", 2500)
    add_addresses(db, tag, "page", 2499)
    cur = db.cursor()
    cur.execute("SELECT id FROM domains WHERE member_id = %s AND deleted_at IS NULL", (tag,))
    domains = {str(r[0]) for r in cur.fetchall()}

    def domain_table(text):
        return text[text.index("<table"):text.index("<h2>")]
    pages, seen = walk(s, "/domains/", {}, "p", domain_table, 2500, 500,
                       row=r'view\?id=(\d+)"')
    assert pages == 5 and len(seen) == 2500 and set(seen) == domains

    def address_table(text):
        return text[text.index("<table"):text.index("<h2>")]
    pages, seen = walk(s, "/account/emails", {}, "p", address_table, 2500, 500,
                       row=r"<tr>\s*<td>([^<]+)</td>")
    assert pages == 5 and len(set(seen)) == 2500 and m["email"] in seen

    over = s.get("/account/")
    assert over.status_code == 200
    assert "Rows 1 to 500 of 2500." in over.text
    pager = html.unescape(over.text[over.text.index("Rows 1 to"):])
    assert 'href="/account/emails?p=2">Next page' in pager, pager[:300]
    for path in ("/domains/", "/account/emails"):
        for bad in ("6", "0", "x"):
            r = s.get(path, params={"p": bad})
            assert r.status_code == 404 and NO_PAGE in r.text


def test_an_assurers_points_page_comes_a_page_at_a_time(stack, db):
    """The member's own points page lists every assurance given, about 110
    bytes each: 10,000 of them pass 1 MiB.  1,000 a page."""
    s, m = actor(stack, db, points=100, assurer=True)
    assurees = new_members(db, "Pointsee", m["id"], 10000)
    cur = db.cursor()
    cur.execute("INSERT INTO assurances (assurer_id, assuree_id, points, location)"
                " SELECT %s, unnest(%s::bigint[]), 10, 'Hamburg'", (m["id"], assurees))
    db.commit()

    def given(text):
        return text[text.index("<h2>Given"):text.index("What your points allow")]
    pages, seen = walk(s, "/wot/points", {}, "gp", given, 10000, 1000,
                       row=r"<tr><td>[^<]*</td><td>(Pointsee [^<]*)</td>")
    assert pages == 10 and len(set(seen)) == 10000
    r = s.get("/wot/points")
    assert "Rows 1 to" not in r.text[:r.text.index("<h2>Given")]   # 3 received: no pager
    r = s.get("/wot/points", params={"gp": "11"})
    assert r.status_code == 404 and NO_PAGE in r.text


def test_the_open_ttp_requests_come_a_page_at_a_time(stack, db):
    """600 open requests, each with a note of 1,900 characters: 200 a
    page on the TTP-admin's page."""
    s, t = actor(stack, db, "ttp-admin")
    waiting = new_members(db, "Ttpwaiting", t["id"], 600)
    cur = db.cursor()
    cur.execute("INSERT INTO ttp_requests (member_id, country, note)"
                " SELECT unnest(%s::bigint[]), 'AU', repeat('long note ', 190)", (waiting,))
    db.commit()
    try:
        cur.execute("SELECT count(*) FROM ttp_requests r JOIN members m ON m.id = r.member_id"
                    " WHERE r.closed_at IS NULL AND m.locked_at IS NULL"
                    " AND m.deleted_at IS NULL")
        total = cur.fetchone()[0]

        def requests(text):
            return text[text.index("Open TTP requests"):text.index("</section>")]
        pages, seen = walk(s, "/wot/ttp-admin", {}, "p", requests, total, 200,
                           row=r"<tr><td>[^<]*</td><td>([^<]*)</td>")
        assert len(seen) == total and pages == -(-total // 200)
        assert {n for n in seen if n.startswith("Ttpwaiting ")} == {
            f"Ttpwaiting Number{g}x{t['id']}" for g in range(1, 601)}
        r = s.get("/wot/ttp-admin", params={"p": str(pages + 1)})
        assert r.status_code == 404 and NO_PAGE in r.text
    finally:
        # the later TTP tests look for their own request on the first page
        cur.execute("UPDATE ttp_requests SET closed_at = now()"
                    " WHERE member_id = ANY(%s::bigint[])", (waiting,))
        db.commit()


def test_the_consoles_member_page_gives_addresses_and_domains_a_page_at_a_time(stack, db):
    """The console lists every address and domain a member ever had,
    removed ones too: 1,000 a page each (ep, dp)."""
    sup, _ = actor(stack, db, "support")
    _, m = actor(stack, db)
    add_addresses(db, m["id"], "gone", 2499, removed=True)
    add_domains(db, m["id"], "console-page", 1200)

    def addresses(text):
        return text[text.index("<h2>Email addresses"):text.index("<h2>Domains")]

    def domains(text):
        return text[text.index("<h2>Domains"):text.index("Assurances received")]
    pages, seen = walk(sup, "/wot/console-member", {"id": m["id"]}, "ep", addresses, 2500,
                       1000, row=r"<li>([^<]*?long-list\.example|" + re.escape(m["email"]) + ")")
    assert pages == 3 and len(set(seen)) == 2500
    pages, seen = walk(sup, "/wot/console-member", {"id": m["id"]}, "dp", domains, 1200,
                       1000, row=r"<li>(console-page-[^ <]*)")
    assert pages == 2 and len(set(seen)) == 1200
    r = sup.get("/wot/console-member", params={"id": m["id"], "ep": "4"})
    assert r.status_code == 404 and NO_PAGE in r.text
