# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The registration -> email confirmation -> login walk in headless Chromium,
so the pages are proved usable by a real browser (no JavaScript needed)."""

import os

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from accounts import PASSWORD, member_data


def left(old):
    """A wait condition: the page holding `old` has been replaced.  Like
    expected_conditions.staleness_of, but chromedriver sometimes reports the
    stale node as an inspector error ("Node with given id does not belong to
    the document") instead of a stale-element error: that means gone too."""
    def check(_driver):
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
    return check


def fill(browser, values):
    for name, value in values.items():
        el = browser.find_element(By.NAME, name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        elif el.get_attribute("type") == "checkbox":
            if value and not el.is_selected():
                el.click()
        else:
            el.clear()
            el.send_keys(value)


def submit(browser, label):
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.XPATH, f"//main//button[normalize-space()='{label}']").click()
    # the click returns before the next page has loaded
    WebDriverWait(browser, 20).until(left(old))


def heading(browser):
    return WebDriverWait(browser, 20).until(
        EC.presence_of_element_located((By.TAG_NAME, "h1"))).text


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
