# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The console and organisation part of the authorisation matrix: every
console/organisation URL x every role (visitor, member, Assurer, each
console role), expecting exactly the allowed ones to get past the one
access check of mod_cacert_assure (docs/console.md, docs/organisations.md).

A POST that gets through carries no ticket, so it is refused by the page
with 422 (nothing changes); one that does not get through is 403."""

import pytest

from accounts import registered_member
from consolehelp import actor, post, session

ROLES = ("visitor", "member", "assurer", "support", "arbitrator", "ttp-admin",
         "org-assurer", "admin")

VIEW = {"support", "arbitrator", "admin"}
MEMBERS = set(ROLES) - {"visitor"}

# path, method, {role: expected status when allowed}, statuses otherwise
MATRIX = [
    ("console",                  "GET",  {r: 200 for r in VIEW}),
    ("console-member",           "GET",  {r: 200 for r in VIEW}),
    ("console-lock",             "POST", {r: 422 for r in ("support", "arbitrator")}),
    ("console-revoke-certs",     "POST", {r: 422 for r in ("support", "arbitrator")}),
    ("console-identity",         "POST", {"arbitrator": 422}),
    ("console-assurance-revoke", "POST", {"arbitrator": 422}),
    ("console-block",            "POST", {"arbitrator": 422}),
    ("console-delete",           "POST", {"arbitrator": 422}),
    ("console-codesign",         "POST", {"arbitrator": 422, "admin": 422}),
    ("console-role",             "POST", {"admin": 422}),
    ("org",                      "GET",  {r: 200 for r in MEMBERS}),
    ("org-new",                  "GET",  {"org-assurer": 200}),
    # the route lets members in; the organisation decides (none of these
    # administers it, so only the Organisation Assurer sees it)
    ("org-view",                 "GET",  {"org-assurer": 200}),
    ("org-document",             "POST", {"org-assurer": 422}),
    ("org-domain",               "POST", {"org-assurer": 422}),
    ("org-domain-remove",        "POST", {"org-assurer": 422}),
    # members pass the route; without a master's appointment nobody they
    # name is found (404), the Organisation Assurer still needs a ticket
    ("org-admin",                "POST", dict({r: 404 for r in MEMBERS}, **{"org-assurer": 422})),
]


@pytest.fixture(scope="module")
def cast(stack):
    import psycopg2
    db = psycopg2.connect(**stack.pg_connect_args())
    db.autocommit = True
    people = {"visitor": session(stack)}
    for role in ROLES[1:]:
        if role == "member":
            people[role] = actor(stack, db)[0]
        elif role == "assurer":
            people[role] = actor(stack, db, points=100, assurer=True)[0]
        else:
            people[role] = actor(stack, db, role)[0]
    target = session(stack)
    t = registered_member(target, stack)
    cur = db.cursor()
    cur.execute("SELECT member_id FROM emails WHERE address = %s", (t["email"],))
    tid = cur.fetchone()[0]
    cur.execute("INSERT INTO organisations (name, town, country, contact_email, ticket,"
                " created_by) VALUES ('Matrix Org', 'Berlin', 'DE', 'a@example.org',"
                " 's20261121.1', %s) RETURNING id", (tid,))
    org = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM audit_log")
    before = cur.fetchone()[0]
    yield people, tid, org, db, before
    db.close()


def call(s, path, method, tid, org, is_visitor):
    params = {"id": str(org if path.startswith("org") else tid)}
    if method == "GET":
        return s.get("/wot/" + path, params=params, allow_redirects=False)
    if is_visitor:
        # a visitor has no session and no token
        return s.post("/wot/" + path, data=params, allow_redirects=False)
    return post(s, path, **params)


@pytest.mark.parametrize("path,method,allowed", MATRIX, ids=[m[0] for m in MATRIX])
def test_matrix(cast, path, method, allowed):
    people, tid, org, db, before = cast
    got = {}
    for role in ROLES:
        r = call(people[role], path, method, tid, org, role == "visitor")
        got[role] = r.status_code
    want = {}
    for role in ROLES:
        if role in allowed:
            want[role] = allowed[role]
        elif role == "visitor":
            want[role] = got[role] if got[role] in (303, 403) else "303 or 403"
        else:
            want[role] = 403
    assert got == want
    # nothing changed anywhere: no audit entry from all those calls
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM audit_log WHERE actor_id IS NOT NULL"
                " AND action LIKE ANY (ARRAY['console.%%', 'org.%%', 'role.%%'])"
                " AND member_id IS NOT DISTINCT FROM %s", (tid,))
    assert cur.fetchone()[0] == 0
