# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Translations as gettext catalogues (docs/translating.md): one set of
templates, po/<lang>.po checked by gettext's own tools, every page and mail
rendered in every language with the English markup, nothing half-translated,
the member's chosen language kept for their mails, and the register + log in
walk in French in Chromium."""

import email.header
import glob
import os
import re
import subprocess
from html.parser import HTMLParser

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from accounts import PASSWORD, csrf_of, member_data, register
from conftest import StackSession
from browsing import fill, heading, left, submit
from catalogues import REPO, TEMPLATES, Catalogue, languages, make_pot
from issuing import member, new_key, make_csr, request_form, wait_for_cert

# the languages every member-facing page and mail must be complete in
COMPLETE = ["de", "es", "fr", "nl"]


def builddir():
    return os.path.abspath(os.environ.get("CACERT_BUILDDIR", "build"))


def test_the_languages_and_one_set_of_templates():
    """English is the templates' own text; each other language is one
    catalogue, not a copy of the templates."""
    assert languages() == COMPLETE
    for lang in ["en"] + COMPLETE:
        assert not os.path.isdir(os.path.join(TEMPLATES, lang)), lang
    html = glob.glob(os.path.join(TEMPLATES, "*.html"))
    assert len(html) >= 45
    for lang in COMPLETE:
        assert os.path.exists(os.path.join(builddir(), "locale", f"{lang}.mo")), lang


@pytest.mark.parametrize("lang", COMPLETE)
def test_msgfmt_check(lang):
    """msgfmt --check (format, header, plural forms) passes; no message is
    fuzzy or untranslated."""
    r = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null",
                        os.path.join(REPO, "po", f"{lang}.po")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    stats = r.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ translated messages\.", stats), stats


def test_no_message_is_left_untranslated(tmp_path):
    """Every message of the templates as they are now (extracted afresh)
    has a translation, not fuzzy, in each complete language: the list of
    those that do not must be empty."""
    pot = make_pot(str(tmp_path / "cacert-httpd.pot"))
    missing = {}
    for lang in COMPLETE:
        r = subprocess.run(["msgcmp", os.path.join(REPO, "po", f"{lang}.po"), pot],
                           capture_output=True, text=True)
        if r.returncode != 0:
            missing[lang] = [l for l in r.stderr.splitlines() if "msgcmp:" not in l][:40]
    assert not missing, missing


def template_names():
    names = []
    for root, dirs, files in os.walk(TEMPLATES):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), TEMPLATES)
            if not f.startswith(".") and rel != "messages.txt":
                names.append(rel)
    return sorted(names)


def value_names():
    """Every value and section name the templates use."""
    names = set()
    for name in template_names():
        with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
            for m in re.finditer(r"\{\{\s*([#^/]?)\s*([A-Za-z0-9_.-]+)(?:\|[a-z]+)?\s*\}\}",
                                 f.read()):
                if m.group(2) not in ("_",):
                    names.add(m.group(2))
    return sorted(names)


class Skeleton(HTMLParser):
    """A page without its text: the tags, their attributes (less those that
    hold text for people), in order."""
    TEXT_ATTRS = {"aria-label", "title", "placeholder", "alt", "lang", "content"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items = []

    def handle_starttag(self, tag, attrs):
        self.items.append((tag, tuple(sorted((k, v) for k, v in attrs
                                             if k not in self.TEXT_ATTRS))))

    def handle_endtag(self, tag):
        self.items.append(("/" + tag,))


def skeleton(text):
    p = Skeleton()
    p.feed(text)
    p.close()
    return p.items


VALUE = "Ⓥ1234"      # what every value holds: found again in every language


def render_all(out, values):
    args = [os.path.join(builddir(), "tools", "cacert-render"), TEMPLATES,
            os.path.join(builddir(), "locale"), out] + template_names() + ["--"] + values
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "CA02003" not in r.stderr, r.stderr[-3000:]


@pytest.mark.parametrize("sections", ["open", "closed"])
def test_every_page_and_mail_in_every_language(tmp_path, sections):
    """Each template renders in each language (once with every section
    open, once with every one closed): its markup is the English markup,
    tag for tag and attribute for attribute, every value appears as often,
    and a mail keeps its subject line and signature."""
    names = value_names()
    values = [f"{n}={VALUE}" for n in names] if sections == "open" else \
        [f"{n}=" for n in names]
    render_all(str(tmp_path), values)
    problems = []
    for name in template_names():
        with open(tmp_path / "en" / name, encoding="utf-8") as f:
            en = f.read()
        for lang in COMPLETE:
            with open(tmp_path / lang / name, encoding="utf-8") as f:
                text = f.read()
            if text.count(VALUE) != en.count(VALUE):
                problems.append(f"{lang}/{name}: {text.count(VALUE)} values, "
                                f"English {en.count(VALUE)}")
            if name.endswith(".html"):
                a, b = skeleton(en), skeleton(text)
                if a != b:
                    diff = next(i for i, (x, y) in enumerate(zip(a + [None], b + [None]))
                                if x != y)
                    problems.append(f"{lang}/{name}: markup differs at tag {diff}: "
                                    f"{a[diff:diff + 2]} vs {b[diff:diff + 2]}")
            elif name.startswith("mail/") and en.startswith("Subject: "):
                if not text.startswith("Subject: ") or "\n\n" not in text:
                    problems.append(f"{lang}/{name}: no subject line")
                if ("\n-- \n" in en) != ("\n-- \n" in text):
                    problems.append(f"{lang}/{name}: signature")
    assert not problems, "\n".join(problems[:40])


def test_pages_follow_the_chooser_and_the_browser(http, stack):
    """The login page in each language, by Accept-Language and by the
    chooser's cookie; <html lang> says which."""
    for lang in COMPLETE:
        c = Catalogue(lang)
        r = http.get("/account/login", headers={"Accept-Language": f"{lang};q=0.9, en;q=0.1"})
        assert f'<html lang="{lang}">' in r.text
        assert f"<h1>{c.text('Log in')}</h1>" in r.text
        r = http.get("/account/login", headers={"Cookie": f"__Host-cacert-lang={lang}"})
        assert f"<h1>{c.text('Log in')}</h1>" in r.text
        # the chooser lists every language by its own name
        assert c.msg("lang.name") in r.text


def choose_language(http, lang):
    """The chooser at the bottom of a page, as a logged-in member."""
    r = http.post("/account/language", data={"csrf": csrf_of(http.get("/account/").text),
                                             "lang": lang, "back": ""},
                  allow_redirects=False)
    assert r.status_code == 303


def mail_subject_msgid(name):
    """The message id of a mail template's subject line."""
    with open(os.path.join(TEMPLATES, "mail", name), encoding="utf-8") as f:
        return re.search(r"\{\{_\}\}(.*?)\{\{/_\}\}", f.readline()).group(1)


def decoded_subject(mail):
    return str(email.header.make_header(email.header.decode_header(mail["Subject"])))


def test_the_chosen_language_is_kept_for_the_members_mails(http, stack, db):
    """A member who chooses French in the footer has French stored with the
    account; the certificate mail is then French, with the date in French,
    even without the cookie."""
    fr = Catalogue("fr")
    m = member(http, stack, db, points=10)
    choose_language(http, "fr")
    with db.cursor() as cur:
        cur.execute("SELECT language FROM members WHERE id = %s", (m["id"],))
        assert cur.fetchone()[0] == "fr"
    cid = wait_for_cert(http, request_form(http, profile="client", email0="yes",
                                           csr=make_csr(new_key()).decode()))
    mail = stack.wait_for_mail(m["email"], timeout=60)
    msgid = mail_subject_msgid("cert_issued.txt")
    want = re.sub(r"\{\{\w+\}\}", ".*", re.escape(fr.text(msgid)).replace(r"\{\{", "{{")
                  .replace(r"\}\}", "}}"))
    assert re.fullmatch(want, decoded_subject(mail)), (decoded_subject(mail), fr.text(msgid))
    # the certificate's page in French shows dates with French month names
    page = http.get(f"/certs/view?id={cid}",
                    headers={"Cookie": "; ".join(f"{k}={v}" for k, v in http.cookies.items()
                                                 if k != "__Host-cacert-lang")}).text
    assert '<html lang="fr">' in page
    months = [fr._get("month", mo) for mo in (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December")]
    assert any(mo in page for mo in months), page[:2000]


def test_a_mail_to_an_addresss_owner_is_in_the_owners_language(http, stack, db):
    """Someone registers, in English, with the address of a member who
    chose Dutch: the warning goes to the member in Dutch."""
    nl = Catalogue("nl")
    m = member(http, stack, db, points=0)
    choose_language(http, "nl")
    visitor = StackSession(stack)
    visitor.headers["Accept-Language"] = "en"
    data, r = register(visitor, stack, email=m["email"])
    assert r.status_code == 200 and 'lang="en"' in r.text
    # the English subject would not match: the mail is Dutch or absent
    stack.wait_for_mail(m["email"],
                        subject_contains=nl.text(mail_subject_msgid("register_taken.txt")))


def test_register_and_log_in_in_french(browser, stack):
    """The walk of test_browser.py in French: the chooser, a mistake shown in
    French beside its field, the confirmation mail in French, log in."""
    fr = Catalogue("fr")
    data = member_data(given="Zoë", family="Lefèvre")
    browser.go("/account/register")
    # the chooser at the bottom of the page: a list and its button
    Select(browser.find_element(By.ID, "lang-choice")).select_by_value("fr")
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.XPATH, "//footer//form//button").click()
    WebDriverWait(browser, 20).until(left(old))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert browser.title.startswith(fr.msg("title.register"))
    fill(browser, dict(data, dob_month="2", dob_day="30"))
    submit(browser, fr.text("Create account"))
    assert browser.find_element(By.ID, "err-dob").text.strip() == fr.msg("err.dob.invalid")
    assert browser.find_element(By.NAME, "family").get_attribute("value") == "Lefèvre"
    fill(browser, {"dob_month": data["dob_month"], "dob_day": data["dob_day"],
                   "password": PASSWORD, "password2": PASSWORD})
    submit(browser, fr.text("Create account"))
    assert fr.msg("title.register_done") in heading(browser)

    mail = stack.wait_for_mail(data["email"])
    assert decoded_subject(mail) == fr.text(mail_subject_msgid("ping_register.txt"))
    link = [l for l in mail.links if "/account/confirm?" in l][0]
    browser.get(link)
    submit(browser, fr.text("Confirm"))
    assert fr.msg("title.confirm_done") in heading(browser)

    browser.go("/account/login")
    fill(browser, {"email": data["email"], "password": PASSWORD})
    submit(browser, fr.text("Log in"))
    assert heading(browser) == fr.text("Welcome, {{given}}", given="Zoë")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    # the French name of the chooser's language, for itself
    assert fr.msg("lang.name") in browser.find_element(By.ID, "lang-choice").text
