# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The member's account pages, languages, headers on every page, start-up
checks of the configuration, and the SQL statements against the schema."""

import os
import re
import subprocess

import pytest

from accounts import (csrf_of, login, page_errors, post, registered_member,
                      unique_email)

VISITOR_PAGES = ["/account/register", "/account/login", "/account/lost", "/account/confirm"]
MEMBER_PAGES = ["/account/", "/account/emails", "/account/profile", "/account/password"]


def member_session(http, stack, **over):
    m = registered_member(http, stack, **over)
    assert login(http, m["email"]).status_code == 303
    return m


def test_security_headers_on_every_page(http, stack):
    for path in VISITOR_PAGES + ["/account/nonexistent"]:
        r = http.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp          # no script at all
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert "no-store" in r.headers["Cache-Control"]
        assert "<script" not in r.text.lower()
        cookie = r.headers.get("Set-Cookie", "")
        if cookie:
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    member_session(http, stack)
    for path in MEMBER_PAGES:
        r = http.get(path, allow_redirects=False)
        assert r.status_code == 200, path
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        # every form that changes something carries the session's token
        for form in re.findall(r'<form method="post".*?</form>', r.text, re.S):
            assert 'name="csrf"' in form


def test_every_page_has_layout_and_labels(http, stack):
    for path in VISITOR_PAGES:
        t = http.get(path).text
        assert 'name="viewport"' in t
        assert "Certification Practice Statement" in t
        # each visible input has a label
        for fid in re.findall(r'<input id="([^"]+)"', t):
            assert f'for="{fid}"' in t, (path, fid)


def test_remove_address_but_not_primary(http, stack, db):
    m = member_session(http, stack)
    second = unique_email("extra")
    r = post(http, "/account/emails", {"action": "add", "email": second})
    assert r.status_code == 200
    cur = db.cursor()
    cur.execute("SELECT id FROM emails WHERE address = %s", (second,))
    second_id = cur.fetchone()[0]
    cur.execute("SELECT id FROM emails WHERE address = %s", (m["email"],))
    primary_id = cur.fetchone()[0]
    r = post(http, "/account/emails", {"action": "remove", "id": str(primary_id)})
    assert r.status_code == 422 and "cannot be removed" in r.text
    r = post(http, "/account/emails", {"action": "remove", "id": str(second_id)})
    assert r.status_code == 200 and "has been removed" in r.text
    assert second not in r.text
    # the row stays, marked: nothing is lost
    cur.execute("SELECT deleted_at IS NOT NULL FROM emails WHERE id = %s", (second_id,))
    assert cur.fetchone() == (True,)
    # another member's address cannot be removed through this account
    from conftest import StackSession
    with StackSession(stack) as other_http:
        other = member_session(other_http, stack)
        extra = unique_email("others")
        assert post(other_http, "/account/emails", {"action": "add", "email": extra}).status_code == 200
    cur.execute("SELECT id FROM emails WHERE address = %s", (extra,))
    extra_id = cur.fetchone()[0]
    r = post(http, "/account/emails", {"action": "remove", "id": str(extra_id)})
    assert r.status_code == 422 and "cannot be removed" in r.text
    cur.execute("SELECT deleted_at FROM emails WHERE id = %s", (extra_id,))
    assert cur.fetchone() == (None,)
    assert other["email"] not in r.text
    r = post(http, "/account/emails", {"action": "explode"})
    assert r.status_code == 400


def test_edit_name_and_date_of_birth(http, stack, db):
    m = member_session(http, stack)
    r = http.get("/account/profile")
    assert 'value="Anna"' in r.text and 'value="1985"' in r.text
    r = post(http, "/account/profile", {"given": "Anne-Marie", "middle": "Zoë", "family": "O'Brien",
                                        "suffix": "Jr.", "dob_day": "15", "dob_month": "4",
                                        "dob_year": "1984"})
    assert r.status_code == 200 and "have been saved" in r.text
    r = http.get("/account/")
    assert "Anne-Marie Zoë O&#39;Brien Jr." in r.text
    assert "15 April 1984" in r.text
    r = post(http, "/account/profile", {"given": "<b>", "middle": "", "family": "X",
                                        "suffix": "", "dob_day": "30", "dob_month": "2",
                                        "dob_year": "1984"})
    assert r.status_code == 422
    errs = page_errors(r.text)
    assert any("Use letters" in e for e in errs) and any("does not exist" in e for e in errs)
    assert "15 April 1984" in http.get("/account/").text


def test_language_from_browser_and_chooser(http, stack):
    r = http.get("/account/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in r.text
    r = http.get("/account/login", headers={"Accept-Language": "it, en;q=0.1"})
    assert '<html lang="en">' in r.text
    r = http.get("/account/login", headers={"Accept-Language": "x" * 5000})
    assert r.status_code == 200 and '<html lang="en">' in r.text
    # the chooser wins over the browser's wish
    r = http.post("/account/language", data={"csrf": csrf_of(r.text), "lang": "de",
                                              "back": "login"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/account/login")
    r = http.get("/account/login", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in r.text
    # no open redirect through "back"
    r = http.post("/account/language", data={"csrf": csrf_of(r.text), "lang": "en",
                                              "back": "//evil.example/"}, allow_redirects=False)
    assert r.headers["Location"].endswith("/account/")
    assert '<html lang="en">' in http.get("/account/login").text


def test_mail_in_the_members_language(http, stack):
    from accounts import member_data
    data = member_data()
    r = http.get("/account/register", headers={"Accept-Language": "de"})
    r = http.post("/account/register", data=dict(data, csrf=csrf_of(r.text)),
                  headers={"Accept-Language": "de"}, allow_redirects=False)
    assert r.status_code == 200, page_errors(r.text)
    mail = stack.wait_for_mail(data["email"])
    assert mail["Subject"] != "Confirm your CAcert account"      # German subject
    assert any("/account/confirm?" in l for l in mail.links)


def test_statements_prepare_against_the_schema(stack):
    tool = os.path.join(stack.builddir, "tools", "cacert-dbcheck")
    p = subprocess.run([tool, stack.dsn], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, **stack.san_env()) if stack.asan else None)
    assert p.returncode == 0, p.stdout + p.stderr
    n = re.match(r"(\d+) statements, (\d+) prepared, 0 failed", p.stdout)
    assert n and n.group(1) == n.group(2) and int(n.group(1)) >= 30, p.stdout


def separate_conf(stack, name, conf):
    """The stack's configuration for a second, short-lived httpd: its own
    port, pid file and error log."""
    import cacertstack
    conf = re.sub(r'(?m)^PidFile .*$', f'PidFile "{stack.dir}/{name}.pid"', conf)
    conf = re.sub(r'(?m)^Listen 127\.0\.0\.1:\d+', f'Listen 127.0.0.1:{cacertstack.free_port()}', conf, count=1)
    # the plain HTTP listener and its virtual host move too
    conf = conf.replace(f"127.0.0.1:{stack.http_port}", f"127.0.0.1:{cacertstack.free_port()}")
    conf = re.sub(r'(?m)^ErrorLog .*$', f'ErrorLog "{stack.dir}/{name}-error.log"', conf)
    path = os.path.join(stack.dir, name + ".conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def test_missing_configuration_stops_startup(stack):
    conf = stack.render_conf().replace("CAcertSiteURL", "#CAcertSiteURL")
    path = separate_conf(stack, "broken", conf)
    p = subprocess.run(["/usr/sbin/apache2", "-f", path, "-DFOREGROUND"], capture_output=True,
                       text=True, timeout=60, env=stack.httpd_env())
    assert p.returncode != 0
    with open(os.path.join(stack.dir, "broken-error.log")) as f:
        log = f.read()
    assert "CA20001" in log and "CAcertSiteURL" in log, log


@pytest.mark.parametrize("line,message", [
    ("CAcertEmailPingLifetime 48 hours", "CAcertEmailPingLifetime"),
    ("CAcertEmailPingLifetime -5h", "positive duration"),
    ("CAcertArgon2 0 65536 1", "iterations"),
    ("CAcertSiteURL http://insecure.example", "https://"),
    ("CAcertMailFrom not-an-address", "CAcertMailFrom"),
    ("CAcertSMTPServer host:port:extra", "CAcertSMTPServer"),
    ("CAcertLoginFailuresPerAccount 0", "out of range"),
    ('CAcertOCSPPrimary "host=/tmp nosuchparameter=1"', "not libpq's connection parameters"),
])
def test_bad_directives_are_refused(stack, line, message):
    path = separate_conf(stack, "bad", stack.render_conf() + "\n" + line + "\n")
    p = subprocess.run(["/usr/sbin/apache2", "-f", path, "-t"], capture_output=True,
                       text=True, timeout=60, env=stack.httpd_env())
    assert p.returncode != 0
    assert message in p.stderr, p.stderr


def documented_defaults():
    """(directive, default) of every directive docs/ gives a default, in
    its section ("| Default | `X` |") or in a table row ("| `Name ...` |
    `X` |")."""
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")
    found = {}
    for name in sorted(os.listdir(docs)):
        if not name.endswith(".md"):
            continue
        with open(os.path.join(docs, name)) as f:
            text = f.read()
        for m in re.finditer(r"(?m)^### (CAcert\w+)\n(?:.*\n){0,6}?\| Default \| `([^`]*)` \|",
                             text):
            found[m.group(1)] = m.group(2)
        for m in re.finditer(r"(?m)^\| `(CAcert\w+)[^`]*` \| `([^`]*)` \|", text):
            found[m.group(1)] = m.group(2)
    return found


def test_a_directive_without_its_value_is_refused_naming_the_documented_default(stack):
    # httpd answers a directive given without its value with the
    # directive's help text; each help text states the default docs/
    # gives (one list of settings per module states both default and
    # help, modules/*_SETTINGS; CAcertEmailPingAttempts said 5 where the
    # default is 20).  CAcertExpiryWarnings takes any number of values, so
    # httpd hands it an empty list, which it refuses in its own words; an
    # On/Off directive httpd refuses with "must be On or Off" alone.
    defaults = documented_defaults()
    assert len(defaults) > 50 and defaults["CAcertEmailPingAttempts"] == "20"
    wrong = []
    for directive, default in sorted(defaults.items()):
        if directive == "CAcertExpiryWarnings":
            continue
        path = separate_conf(stack, "bare", stack.render_conf() + "\n" + directive + "\n")
        p = subprocess.run(["/usr/sbin/apache2", "-f", path, "-t"], capture_output=True,
                           text=True, timeout=60, env=stack.httpd_env())
        if "must be On or Off" in p.stderr:
            continue
        if p.returncode == 0 or directive not in p.stderr \
                or not re.search(f"default:? {re.escape(default)}", p.stderr):
            wrong.append((directive, default, p.stderr.strip()[-300:]))
    assert not wrong, "\n".join(map(repr, wrong))


def test_the_shipped_configuration_sets_the_documented_defaults():
    # conf/cacert_*.conf say "the values below are the defaults": each
    # directive they set that docs/ gives a default has that default
    # (cacert_account.conf set CAcertEmailPingAttempts 5, the old help's
    # number, where the default is 20)
    defaults = documented_defaults()
    conf = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conf")
    wrong, seen = [], 0
    for name in sorted(os.listdir(conf)):
        if not name.startswith("cacert_") or not name.endswith(".conf"):
            continue
        with open(os.path.join(conf, name)) as f:
            for line in f:
                m = re.match(r"\s+(CAcert\w+)\s+(.*?)\s*$", line)
                if m and m.group(1) in defaults:
                    seen += 1
                    if m.group(2).strip('"') != defaults[m.group(1)]:
                        wrong.append((name, m.group(1), m.group(2)))
    assert seen > 40 and not wrong, wrong
