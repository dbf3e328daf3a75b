# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers for the web-of-trust tests: members made through the web or,
where the web flow is not what a test is about, inserted into the database;
Assurers set up through the database (assurance rows from helper assurers
and the challenge flag, as t/issuing.py does); role grants as member_roles
rows; the two steps of the assurance form."""

import datetime
import html
import itertools
import re

from accounts import csrf_of, login, registered_member, unique_email
from issuing import give_points, member_id

_n = itertools.count(1)

TICKET = "s20261121.1"


def today():
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def days_from_today(n):
    return (datetime.datetime.now(datetime.timezone.utc).date()
            + datetime.timedelta(days=n)).isoformat()


def web_member(http, stack, db, **over):
    """A member registered and confirmed through the web, logged in on http;
    returns the form data with "id"."""
    http.cookies.clear()        # a visitor again: registration is for visitors
    m = registered_member(http, stack, **over)
    m["id"] = member_id(db, m["email"])
    assert login(http, m["email"]).status_code == 303
    return m


def db_member(db, given="Bea", family=None, dob="1980-05-17", middle="", suffix="",
              verified=True, locked=False, prefix="assuree"):
    """A member inserted into the database with a primary address (verified
    unless told otherwise); cannot log in.  Returns a dict like web_member's."""
    family = family or f"Member{next(_n)}"
    email = unique_email(prefix)
    cur = db.cursor()
    cur.execute("INSERT INTO members (given_name, middle_name, family_name, suffix, dob,"
                " password_hash, locked_at) VALUES (%s, %s, %s, %s, %s, '$argon2id$none',"
                " CASE WHEN %s THEN now() END) RETURNING id",
                (given, middle, family, suffix, dob, locked))
    mid = cur.fetchone()[0]
    cur.execute("INSERT INTO emails (member_id, address, is_primary, verified_at)"
                " VALUES (%s, %s, true, CASE WHEN %s THEN now() END)", (mid, email, verified))
    y, mo, d = dob.split("-")
    return {"id": mid, "email": email, "given": given, "middle": middle, "family": family,
            "suffix": suffix, "dob_year": y, "dob_month": str(int(mo)), "dob_day": str(int(d))}


def make_assurer(db, mid, points=100, challenge=True):
    """points received from helper assurers, and the challenge passed."""
    give_points(db, mid, points, assurer=challenge)


def give_experience(db, mid, n):
    """n face-to-face assurances given by mid (to members made for it)."""
    cur = db.cursor()
    for _ in range(n):
        other = db_member(db, prefix="met")
        cur.execute("INSERT INTO assurances (assurer_id, assuree_id, points, location,"
                    " documents, cca_agreed, face_to_face) VALUES (%s, %s, 1, 'Somewhere',"
                    " 2, true, true)", (mid, other["id"]))


def grant_role(db, mid, role, ticket=TICKET):
    cur = db.cursor()
    cur.execute("INSERT INTO member_roles (member_id, role, ticket) VALUES (%s, %s, %s)",
                (mid, role, ticket))


def scalar(db, sql, *params):
    cur = db.cursor()
    cur.execute(sql, params)
    return cur.fetchone()[0]


def counts(db):
    """What a refused form must not change."""
    return (scalar(db, "SELECT count(*) FROM assurances"),
            scalar(db, "SELECT count(*) FROM audit_log"),
            scalar(db, "SELECT count(*) FROM challenge_passes"),
            scalar(db, "SELECT count(*) FROM ttp_requests"))


def points_of(db, mid):
    return scalar(db, "SELECT coalesce(sum(points), 0) FROM assurances"
                      " WHERE assuree_id = %s AND revoked_at IS NULL", mid)


def find_step(http, email, path="/wot/assure", kind=None):
    """Step 1 of the assurance form; returns (response, version or None)."""
    r = http.get(path)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    data = {"csrf": csrf_of(r.text), "step": "find", "email": email}
    if kind:
        data["kind"] = kind
    r = http.post(path, data=data, allow_redirects=False)
    m = re.search(r'name="version" value="([^"]*)"', r.text)
    return r, (html.unescape(m.group(1)) if m else None)


def enter_step(http, assuree, version, points, path="/wot/assure", date=None,
               location="Berlin, DE", documents="2", cca="yes", f2f="yes", kind=None,
               ttp=None, csrf_page=None, **over):
    """Step 2 with the assuree's data as re-entered (over: fields to change)."""
    token = csrf_of(http.get(csrf_page or path).text)
    data = {"csrf": token, "step": "enter", "email": assuree["email"], "version": version,
            "given": assuree["given"], "middle": assuree.get("middle", ""),
            "family": assuree["family"], "suffix": assuree.get("suffix", ""),
            "dob_day": assuree["dob_day"], "dob_month": assuree["dob_month"],
            "dob_year": assuree["dob_year"], "date": date or today(),
            "location": location, "documents": documents, "points": str(points)}
    if cca:
        data["cca"] = cca
    if f2f:
        data["f2f"] = f2f
    if kind:
        data["kind"] = kind
    if ttp is not None:
        data["ttp"] = ttp
    data.update(over)
    data = {k: v for k, v in data.items() if v is not None}
    return http.post(path, data=data, allow_redirects=False)


def assure(http, assuree, points, path="/wot/assure", kind=None, **kw):
    """Both steps; returns the response of the second."""
    r, version = find_step(http, assuree["email"], path=path, kind=kind)
    assert r.status_code == 200 and version, (r.status_code, r.text[:800])
    return enter_step(http, assuree, version, points, path=path, kind=kind, **kw)


def page_errors(text):
    return [html.unescape(m) for m in
            re.findall(r'class="(?:field-error|error)"[^>]*>([^<]*)<', text)]
