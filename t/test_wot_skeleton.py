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
