# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers for the console and organisation tests: members holding console
roles, each in its own HTTP session, and posting console forms."""

import re

from accounts import csrf_of, login, registered_member
from issuing import give_points, member_id


def session(stack):
    from conftest import StackSession
    return StackSession(stack)


def grant(db, mid, *roles):
    cur = db.cursor()
    for role in roles:
        cur.execute("INSERT INTO member_roles (member_id, role, ticket)"
                    " VALUES (%s, %s, 'a20261121.99')", (mid, role))


def actor(stack, db, *roles, points=0, assurer=False):
    """A logged-in member holding roles: (session, member data with "id")."""
    s = session(stack)
    m = registered_member(s, stack)
    m["id"] = member_id(db, m["email"])
    if points:
        give_points(db, m["id"], points, assurer=assurer)
    grant(db, m["id"], *roles)
    assert login(s, m["email"]).status_code == 303
    return s, m


def token(s):
    r = s.get("/wot/")
    assert r.status_code == 200, r.text[:300]
    return csrf_of(r.text)


def post(s, path, **fields):
    data = {"csrf": token(s)}
    data.update(fields)
    return s.post("/wot/" + path, data=data, allow_redirects=False)


def last_audit(db, mid, action=None):
    cur = db.cursor()
    if action:
        cur.execute("SELECT actor_id, action, detail FROM audit_log WHERE member_id = %s"
                    " AND action = %s ORDER BY id DESC LIMIT 1", (mid, action))
    else:
        cur.execute("SELECT actor_id, action, detail FROM audit_log WHERE member_id = %s"
                    " ORDER BY id DESC LIMIT 1", (mid,))
    return cur.fetchone()


def message_of(text):
    m = re.search(r'<p class="message">([^<]*)<', text)
    return m.group(1) if m else text[:300]
