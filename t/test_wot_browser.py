# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""One assurance entered from the Assurer's side in headless Chromium: log
in, find the member, re-enter name and date of birth, a mistake first, then
the assurance recorded and listed."""

import os

from selenium.webdriver.common.by import By

from accounts import PASSWORD
from browsing import fill, heading, submit
from wot import db_member, make_assurer, points_of, web_member


def test_assurance_in_chromium(browser, stack, http, db):
    a = web_member(http, stack, db, given="Ingrid", family="Assurerin")
    make_assurer(db, a["id"])
    b = db_member(db, given="Paul", middle="Maria", family="Kowalski", dob="1969-07-20")

    browser.go("/account/login")
    fill(browser, {"email": a["email"], "password": PASSWORD})
    submit(browser, "Log in")
    assert heading(browser) == "Welcome, Ingrid"
    browser.go("/wot/")
    assert heading(browser) == "Web of trust"
    browser.find_element(By.LINK_TEXT, "Enter an assurance").click()
    assert heading(browser) == "Enter an assurance"
    fill(browser, {"email": b["email"]})
    submit(browser, "Next")
    assert b["email"] in browser.find_element(By.TAG_NAME, "main").text

    # the family name mistyped: refused, nothing recorded, the form kept
    fill(browser, {"given": "Paul", "middle": "Maria", "family": "Kowalsky",
                   "dob_day": "20", "dob_month": "7", "dob_year": "1969",
                   "location": "Kraków, PL", "points": "10", "cca": True, "f2f": True})
    submit(browser, "Record the assurance")
    assert "does not match" in browser.find_element(By.CSS_SELECTOR, "p.error").text
    assert browser.find_element(By.NAME, "location").get_attribute("value") == "Kraków, PL"
    assert points_of(db, b["id"]) == 0

    fill(browser, {"family": "Kowalski", "cca": True, "f2f": True})
    submit(browser, "Record the assurance")
    assert heading(browser) == "Your assurances"
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "The assurance is recorded" in main
    assert "Paul Kowalski" in main and "Kraków, PL" in main
    assert points_of(db, b["id"]) == 10
    browser.save_screenshot(os.path.join(stack.dir, "wot-assured.png"))
