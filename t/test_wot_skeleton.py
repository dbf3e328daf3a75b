# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""mod_cacert_assure's skeleton: the module loads and is mounted at /wot,
member pages work, visitors are sent to the login, unknown pages are 404 and
wrong methods 405."""

from accounts import login, registered_member


def test_visitor_is_sent_to_login(http):
    r = http.get("/wot/", allow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    assert r.headers["Location"].endswith("/account/login")


def test_member_page(http, stack):
    m = registered_member(http, stack)
    assert login(http, m["email"]).status_code == 303
    r = http.get("/wot/")
    assert r.status_code == 200, r.text[:500]
    assert "Web of trust" in r.text
    assert "Points received" in r.text
    assert "Web of trust</a>" in http.get("/account/").text
    assert "default-src" in r.headers.get("Content-Security-Policy", "")
    r = http.get("/wot/no-such-page")
    assert r.status_code == 404
    r = http.post("/wot/", data={"csrf": "x"}, allow_redirects=False)
    assert r.status_code == 405


def test_every_page_in_both_languages(http, stack, db):
    """Each page of the module renders in English and German, and every
    message key of the web of trust has its German text."""
    import re
    from catalogues import Catalogue, messages
    from wot import grant_role, make_assurer, web_member
    m = web_member(http, stack, db)
    make_assurer(db, m["id"])
    for role in ("ttp-admin", "admin"):
        grant_role(db, m["id"], role)
    pages = {"/wot/": ("Web of trust", "Web of Trust"),
             "/wot/points": ("Your assurances", "Ihre Assurances"),
             "/wot/cap": ("CAP", "CAP"),
             "/wot/assure": ("Enter an assurance", "Assurance eintragen"),
             "/wot/ttp": ("TTP-assisted assurance", "TTP-Assurance"),
             "/wot/ttp-admin": ("TTP assurance", "TTP-Assurance"),
             "/wot/challenge": ("Assurer Challenge", "Assurer Challenge"),
             "/wot/listing": ("Be listed as an Assurer", "Als Assurer eingetragen werden"),
             "/wot/find?country=DE": ("Find an Assurer", "Assurer finden"),
             "/wot/contact?id=1": ("Write to an Assurer", "Einem Assurer schreiben"),
             "/wot/stats": ("Statistics", "Statistik")}
    for path, (en, de) in pages.items():
        for lang, h1 in (("en", en), ("de", de)):
            # the language chosen in the footer (a cookie) wins over the account's
            r = http.get(path, headers={"Cookie": "__Host-cacert-lang=" + lang + "; "
                                        + "; ".join(f"{c.name}={c.value}"
                                                    for c in http.cookies)})
            assert r.status_code == 200, (path, lang, r.status_code)
            assert f'<html lang="{lang}">' in r.text
            assert h1 in re.search(r"<h1>(.*?)</h1>", r.text).group(1), (path, lang)
    en = set(messages())
    ours = {k for k in en if k.startswith(("wot.", "ok.wot.")) or k in (
        "title.wot", "title.forbidden", "err.forbidden", "title.points", "title.cap",
        "title.assure", "title.ttp", "title.challenge", "title.listing", "title.find",
        "title.contact", "title.stats")}
    assert len(ours) > 50
    de = Catalogue("de")
    for k in ours:
        de.msg(k)           # translated, not fuzzy
