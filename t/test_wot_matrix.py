# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The authorisation matrix of mod_cacert_assure: every route x every role,
expecting exactly the allowed ones to get through the dispatcher's check.

ROUTES is the table: (method, path) -> the set of roles allowed.  Pages of
assure_console.c and assure_org.c add their lines here.  "Works" means the
page ran (any status but 403 and the redirect to the login); refused means
403 for a member and the redirect to the login for a visitor.  The POST
bodies are empty forms: they change nothing whoever sends them."""

import pytest

from accounts import csrf_of, login
from conftest import StackSession
from wot import grant_role, make_assurer, web_member

ANON = "anonymous"
ROLES = (ANON, "member", "assurer", "support", "arbitrator", "ttp-admin", "org-assurer",
         "admin")
MEMBERS = set(ROLES) - {ANON}
EVERYONE = set(ROLES)

ROUTES = {
    ("GET", "/wot/"): MEMBERS,
    ("GET", "/wot/points"): MEMBERS,
    ("GET", "/wot/cap"): MEMBERS,
    ("GET", "/wot/assure"): {"assurer"},
    ("POST", "/wot/assure"): {"assurer"},
    ("GET", "/wot/ttp"): MEMBERS,
    ("POST", "/wot/ttp"): MEMBERS,
    ("GET", "/wot/ttp-admin"): {"ttp-admin"},
    ("POST", "/wot/ttp-admin"): {"ttp-admin"},
    ("GET", "/wot/challenge"): {"admin"},
    ("POST", "/wot/challenge"): {"admin"},
    # only the challenge system's client certificate (test_wot_challenge.py)
    ("POST", "/wot/challenge-import"): set(),
    ("GET", "/wot/listing"): {"assurer"},
    ("POST", "/wot/listing"): {"assurer"},
    ("GET", "/wot/find"): MEMBERS,
    ("GET", "/wot/find?country=DE"): MEMBERS,
    ("GET", "/wot/contact?id=1"): MEMBERS,
    ("POST", "/wot/contact"): MEMBERS,
    ("GET", "/wot/stats"): EVERYONE,
    # assure_console.c (docs/console.md; t/test_console_authz.py checks the statuses)
    ("GET", "/wot/console"): {"support", "arbitrator", "admin"},
    ("GET", "/wot/console-member"): {"support", "arbitrator", "admin"},
    ("POST", "/wot/console-lock"): {"support", "arbitrator"},
    ("POST", "/wot/console-revoke-certs"): {"support", "arbitrator"},
    ("POST", "/wot/console-identity"): {"arbitrator"},
    ("POST", "/wot/console-assurance-revoke"): {"arbitrator"},
    ("POST", "/wot/console-block"): {"arbitrator"},
    ("POST", "/wot/console-delete"): {"arbitrator"},
    ("POST", "/wot/console-codesign"): {"arbitrator", "admin"},
    ("POST", "/wot/console-role"): {"admin"},
    # assure_org.c (docs/organisations.md): org-view and org-admin let members
    # in, the organisation decides (nobody here administers one)
    ("GET", "/wot/org"): MEMBERS,
    ("GET", "/wot/org-new"): {"org-assurer"},
    ("POST", "/wot/org-new"): {"org-assurer"},
    ("GET", "/wot/org-view"): {"org-assurer"},
    ("POST", "/wot/org-document"): {"org-assurer"},
    ("POST", "/wot/org-domain"): {"org-assurer"},
    ("POST", "/wot/org-domain-remove"): {"org-assurer"},
    ("POST", "/wot/org-admin"): MEMBERS,
}


@pytest.fixture(scope="module")
def sessions(stack):
    """One logged-in session per role (a visitor's without login)."""
    import psycopg2
    db = psycopg2.connect(**stack.pg_connect_args())
    db.autocommit = True
    out = {}
    for role in ROLES:
        s = StackSession(stack)
        if role != ANON:
            m = web_member(s, stack, db)
            if role == "assurer":
                make_assurer(db, m["id"])
            elif role != "member":
                grant_role(db, m["id"], role)
            assert login(s, m["email"]).status_code == 303
        out[role] = s
    yield out
    for s in out.values():
        s.close()
    db.close()


@pytest.mark.allow_log(r"CA40002", r"CA40004")
@pytest.mark.parametrize("method,path", sorted(ROUTES))
def test_matrix(sessions, method, path):
    allowed = ROUTES[(method, path)]
    for role in ROLES:
        s = sessions[role]
        if method == "GET":
            r = s.get(path, allow_redirects=False)
        else:
            token = csrf_of(s.get("/wot/stats").text)
            r = s.post(path, data={"csrf": token}, allow_redirects=False)
        to_login = r.status_code == 303 and r.headers["Location"].endswith("/account/login")
        if role in allowed:
            assert r.status_code != 403 and not to_login, (role, method, path, r.status_code)
        elif role == ANON and not path.startswith("/wot/challenge-import"):
            assert to_login, (role, method, path, r.status_code)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code, r.text[:200])


def test_every_route_is_in_the_matrix():
    """Every route of the module's tables (read from the sources) has its
    line in ROUTES, for each method it accepts."""
    import os
    import re
    here = os.path.dirname(os.path.abspath(__file__))
    known = {(m, p.split("?")[0]) for m, p in ROUTES}
    found = 0
    modules = os.path.join(here, "..", "modules")
    for name in sorted(os.listdir(modules)):
        if not re.fullmatch(r"(mod_cacert_assure|assure_\w+)\.c", name):
            continue
        with open(os.path.join(modules, name)) as f:
            text = f.read()
        for path, methods in re.findall(r'ASSURE_ROUTE\(\s*"([a-z0-9-]*)",\s*(CACERT_(?:GET|POST)'
                                        r'(?:\s*\|\s*CACERT_(?:GET|POST))?)', text):
            for method in ("GET", "POST"):
                if "CACERT_" + method in methods:
                    found += 1
                    assert (method, "/wot/" + path) in known, (method, path)
    assert found >= len(ROUTES) - 2
