# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The registration -> email confirmation -> login walk in headless Chromium,
so the pages are proved usable by a real browser (no JavaScript needed)."""

import os

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from accounts import PASSWORD, member_data
from browsing import fill, heading, left, submit


def test_register_confirm_login_in_chromium(browser, stack):
    data = member_data(given="Zoë", family="Müller-Lüdenscheidt", suffix="Jr.")
    browser.go("/account/register")
    assert browser.title.startswith("Join")
    # a mistake first: the error appears beside the field, the rest is kept
    fill(browser, dict(data, dob_month="2", dob_day="30"))
    submit(browser, "Create account")
    err = browser.find_element(By.ID, "err-dob")
    assert "does not exist" in err.text
    assert browser.find_element(By.NAME, "family").get_attribute("value") == "Müller-Lüdenscheidt"
    assert browser.find_element(By.NAME, "password").get_attribute("value") == ""
    fill(browser, {"dob_month": data["dob_month"], "dob_day": data["dob_day"],
                   "password": PASSWORD, "password2": PASSWORD})
    submit(browser, "Create account")
    assert "Check your mail" in heading(browser)

    mail = stack.wait_for_mail(data["email"])
    link = [l for l in mail.links if "/account/confirm?" in l][0]
    browser.get(link)
    submit(browser, "Confirm")
    assert "Address confirmed" in heading(browser)

    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.LINK_TEXT, "log in").click()
    WebDriverWait(browser, 20).until(left(old))
    fill(browser, {"email": data["email"], "password": PASSWORD})
    submit(browser, "Log in")
    assert heading(browser) == "Welcome, Zoë"
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "Zoë Müller-Lüdenscheidt Jr." in body and data["email"] in body
    # the stylesheet loads under the strict CSP
    color = browser.find_element(By.CSS_SELECTOR, "header.site").value_of_css_property("border-bottom-style")
    assert color == "solid"

    # usable on a phone-sized screen too
    browser.set_window_size(380, 800)
    shot = os.path.join(stack.dir, "overview-phone.png")
    browser.save_screenshot(shot)
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 400

    browser.set_window_size(1280, 1024)
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.XPATH, "//button[normalize-space()='Log out']").click()
    WebDriverWait(browser, 20).until(left(old))
    assert "You are logged out." in browser.find_element(By.TAG_NAME, "main").text
