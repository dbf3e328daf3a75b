# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers the account tests share: a member's data, forms with their CSRF
token, registration and confirmation through the real mail sink."""

import html
import itertools
import re

_counter = itertools.count(1)

PASSWORD = "Quiet-Harbour-47-lantern"


def unique_email(prefix="member"):
    return f"{prefix}{next(_counter)}.{id(_counter) % 100000}@example.org"


def member_data(**over):
    d = {
        "given": "Anna", "middle": "", "family": "Schmidt", "suffix": "",
        "dob_day": "14", "dob_month": "3", "dob_year": "1985",
        "email": unique_email(),
        "password": PASSWORD, "password2": PASSWORD,
        "q1": "Name of my first pet?", "a1": "Rex",
        "q2": "Street I grew up in?", "a2": "Elm Street",
        "q3": "My favourite teacher?", "a3": "Mrs Green",
        "q4": "My first car?", "a4": "Beetle",
        "q5": "City my parents met in?", "a5": "Leipzig",
        "cca": "yes",
    }
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def csrf_of(page_text):
    m = re.search(r'name="csrf" value="([^"]*)"', page_text)
    assert m, "page has no CSRF field"
    return html.unescape(m.group(1))


def get_form(http, path):
    r = http.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:500])
    return csrf_of(r.text)


def post(http, path, data, csrf_from=None):
    """POST a form the way a browser does: first GET the page for its token."""
    token = get_form(http, csrf_from or path)
    body = dict(data)
    body.setdefault("csrf", token)
    return http.post(path, data=body, allow_redirects=False)


def register(http, stack, **over):
    data = member_data(**over)
    r = post(http, "/account/register", data)
    return data, r


def confirm_link(stack, address, subject_contains=None):
    mail = stack.wait_for_mail(address, subject_contains=subject_contains)
    links = [l for l in mail.links if "/account/confirm?" in l]
    assert links, mail.body
    return mail, links[0]


def confirm(http, stack, address, link=None):
    """Follow the link of the ping mail to address and press Confirm."""
    if link is None:
        mail, link = confirm_link(stack, address)
    r = http.get(link)
    assert r.status_code == 200, r.text
    m = re.search(r'name="id" value="(\d+)"', r.text)
    c = re.search(r'name="code" value="([^"]*)"', r.text)
    assert m and c, r.text
    r = http.post("/account/confirm", data={"csrf": csrf_of(r.text), "id": m.group(1),
                                            "code": html.unescape(c.group(1))},
                  allow_redirects=False)
    return r


def registered_member(http, stack, **over):
    """A registered, confirmed member; returns its form data."""
    data, r = register(http, stack, **over)
    assert r.status_code == 200, r.text
    r = confirm(http, stack, data["email"])
    assert r.status_code == 200 and "confirmed" in r.text, r.text
    return data


def login(http, email, password=PASSWORD):
    return post(http, "/account/login", {"email": email, "password": password})


def page_errors(text):
    """The messages shown beside fields and at the top of a page."""
    return [html.unescape(m) for m in
            re.findall(r'class="(?:field-error|error)"[^>]*>([^<]*)<', text)]
