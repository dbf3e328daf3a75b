# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Long lists a page at a time (the shared pager, templates/pager.html):
an organisation's domains and a member's ACME accounts.  Each row of both
carries a form (about 430 and 550 bytes), so a few thousand made the page
larger than the templates' 1 MiB limit and the page a 500.  Every row is
reachable page by page, and a page that does not exist is a 404 that says
so.  (The certificate list: test_issue.py; the console's member page:
test_console.py.)"""

import re

from acme import acme_member
from consolehelp import actor
from test_org import T, new_org

NO_PAGE = "This list has no such page."


def walk(s, path, params, arg, section, total, per, field):
    """The ids of a list's rows (the value of each row's form field
    field), page by page through the Next page links; each page says which
    rows it shows."""
    seen, page = [], 0
    while True:
        page += 1
        r = s.get(path, params=params)
        assert r.status_code == 200, r.text[:500]
        part = section(r.text)
        rows = re.findall(r'name="' + field + r'" value="(\d+)"', part)
        first = (page - 1) * per + 1
        assert f"Rows {first} to {first + len(rows) - 1} of {total}." in part, part[-600:]
        nxt = re.search(r'href="\?([^"]*?)' + arg + r'=(\d+)">Next page', part)
        seen += rows
        if not nxt:
            return page, seen
        params = dict(params, **{arg: nxt.group(2)})


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
