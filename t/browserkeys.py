# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers for the in-browser key page (/certs/key, docs/browser-keys.md):
drive it in Chromium, read the key the page keeps in IndexedDB, download the
PKCS#12 it makes, and collect what the browser sent."""

import base64
import json
import os
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from accounts import PASSWORD
from browsing import submit

# every key the page keeps, exported: [{id, pkcs8 (base64 DER), jwk}]
READ_KEYS_JS = """
const done = arguments[arguments.length - 1];
(async () => {
    const db = await new Promise((res, rej) => {
        const r = indexedDB.open("cacert-keys");
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
    });
    if (!db.objectStoreNames.contains("keys")) { db.close(); return []; }
    const recs = await new Promise((res, rej) => {
        const r = db.transaction("keys").objectStore("keys").getAll();
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
    });
    db.close();
    const out = [];
    for (const k of recs) {
        const p8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", k.privateKey));
        let s = "";
        for (const b of p8) s += String.fromCharCode(b);
        out.push({id: k.id, type: k.type, pkcs8: btoa(s),
                  jwk: await crypto.subtle.exportKey("jwk", k.privateKey)});
    }
    return out;
})().then(done, (e) => done({error: String(e)}));
"""


def read_keys(browser):
    browser.set_script_timeout(30)
    out = browser.execute_async_script(READ_KEYS_JS)
    assert not isinstance(out, dict), out
    return out


def browser_login(browser, email, password=PASSWORD):
    browser.go("/account/login")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(password)
    submit(browser, "Log in")
    assert "/account/" in browser.current_url


def wait_visible(browser, el_id, timeout=30):
    return WebDriverWait(browser, timeout).until(
        EC.visibility_of_element_located((By.ID, el_id)))


def wait_url(browser, part, timeout=60):
    WebDriverWait(browser, timeout).until(lambda d: part in d.current_url)


def start_key_request(browser, keytype="p256"):
    """On /certs/key: choose the kind of key and submit; returns at once."""
    button = WebDriverWait(browser, 20).until(EC.element_to_be_clickable((By.ID, "bk-submit")))
    browser.find_element(By.ID, f"keytype-{keytype}").click()
    button.click()


def allow_downloads(browser, folder):
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": folder})


def make_p12(browser, password, friendly=None, legacy=False):
    """On the PKCS#12 step: fill in and make the file; returns seconds from
    the click to the download link."""
    wait_visible(browser, "bk-p12")
    if friendly is not None:
        f = browser.find_element(By.ID, "bk-friendly")
        f.clear()
        f.send_keys(friendly)
    for el_id in ("bk-password", "bk-password2"):
        el = browser.find_element(By.ID, el_id)
        el.clear()
        el.send_keys(password)
    if legacy:
        browser.find_element(By.ID, "bk-legacy").click()
    t0 = time.monotonic()
    browser.find_element(By.ID, "bk-make").click()
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "bk-download").get_attribute("href"))
    wait_visible(browser, "bk-result")
    return time.monotonic() - t0


def download_p12(browser, folder, timeout=30):
    link = browser.find_element(By.ID, "bk-download")
    name = link.get_attribute("download")
    link.click()
    path = os.path.join(folder, name)
    deadline = time.monotonic() + timeout
    while not (os.path.exists(path) and not os.path.exists(path + ".crdownload")):
        assert time.monotonic() < deadline, f"no download {path}: {os.listdir(folder)}"
        time.sleep(0.05)
    with open(path, "rb") as f:
        return f.read()


class NetLog:
    """Every request the browser sent, from the DevTools protocol's network
    events (the performance log): url, method and body (bytes)."""

    def __init__(self, browser):
        self.browser = browser
        self.requests = []

    def drain(self):
        for entry in self.browser.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") != "Network.requestWillBeSent":
                continue
            req = msg["params"]["request"]
            body = b""
            if "postData" in req:
                body = req["postData"].encode("utf-8", "surrogateescape")
            if req.get("postDataEntries"):
                body = b"".join(base64.b64decode(e.get("bytes", ""))
                                for e in req["postDataEntries"])
            if req.get("hasPostData"):
                assert body, f"the body of {req['method']} {req['url']} was not captured"
            self.requests.append({"url": req["url"], "method": req["method"], "body": body})
        return self.requests
