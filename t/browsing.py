# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Driving the site's pages in headless Chromium: fill a form, press a button
and wait for the next page, read the heading."""

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait


def left(old):
    """A wait condition: the page holding `old` has been replaced.  Like
    expected_conditions.staleness_of, but chromedriver sometimes reports the
    stale node as an inspector error ("Node with given id does not belong to
    the document", or the old page's script context no longer found) instead
    of a stale-element error: that means gone too."""
    def check(_driver):
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if any(m in str(e) for m in ("does not belong to the document",
                                         "Cannot find context with specified id")):
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
