#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""In-browser key benchmark (docs/browser-keys.md): its own stack (httpd,
PostgreSQL, the pty line and signerd), one member with 10 points, headless
Chromium.  For each kind of key, N times: from the click on "Make the key and
request the certificate" to the PKCS#12 step being ready (key, request,
issuance over the line, the page with the key found), then from the click
on "Make the PKCS#12 file" to the download link; the sum is the time from
the click to the downloadable PKCS#12 (the member's typing of the password
left out).  Run once with the line unpaced (a pty) and once paced like a
115200-baud serial line.  Also prints the bundle's size, raw and gzipped."""

import argparse
import gzip
import os
import shutil
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))
sys.path.insert(0, os.path.join(REPO, "bench"))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import cacertstack  # noqa: E402
from browserkeys import browser_login, wait_visible  # noqa: E402
from conftest import _chromium  # noqa: E402
from issue_bench import Member  # noqa: E402

PASSWORD_P12 = "correct horse battery staple 7"


def one(browser, keytype):
    browser.go("/certs/key")
    button = WebDriverWait(browser, 20).until(EC.element_to_be_clickable((By.ID, "bk-submit")))
    browser.find_element(By.ID, f"keytype-{keytype}").click()
    t0 = time.perf_counter()
    button.click()
    WebDriverWait(browser, 120).until(lambda d: "/certs/key?id=" in d.current_url)
    wait_visible(browser, "bk-p12", timeout=60)
    t1 = time.perf_counter()
    for el_id in ("bk-password", "bk-password2"):
        browser.find_element(By.ID, el_id).send_keys(PASSWORD_P12)
    t2 = time.perf_counter()
    browser.find_element(By.ID, "bk-make").click()
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "bk-download").get_attribute("href"))
    t3 = time.perf_counter()
    browser.execute_script("document.getElementById('bk-after').hidden = false")
    browser.find_element(By.ID, "bk-delete").click()
    WebDriverWait(browser, 10).until(
        EC.text_to_be_present_in_element((By.ID, "bk-status"), "deleted"))
    return t1 - t0, t3 - t2


def run(args, baud):
    d = tempfile.mkdtemp(prefix="cacert-bench-bk-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(args.builddir), port=0,
                              argon2="1 8192 1",
                              extra_conf=["CAcertRegistrationsPerClient 1000"])
    stack.relay_baud = baud
    gen = None
    try:
        stack.start()
        import psycopg2
        db = psycopg2.connect(**stack.pg_connect_args())
        db.autocommit = True
        m = Member(stack, db, 0)
        gen = _chromium(stack)
        browser = next(gen)
        browser_login(browser, "bench0@example.org")
        one(browser, "p256")                             # warm up (and the first CRLs)
        line = f"pty paced to {baud} baud" if baud else "pty, unpaced"
        for keytype in args.keys.split(","):
            issued, p12 = [], []
            for _ in range(args.requests):
                a, b = one(browser, keytype)
                issued.append(a)
                p12.append(b)
            total = sorted(a + b for a, b in zip(issued, p12))
            print(f"  {line}, {keytype}, {args.requests} times: click -> downloadable PKCS#12 "
                  f"median {statistics.median(total) * 1000:.0f} ms, max {total[-1] * 1000:.0f} ms"
                  f" (key + request + issuance {statistics.median(issued) * 1000:.0f} ms, "
                  f"PKCS#12 {statistics.median(p12) * 1000:.0f} ms)")
        db.close()
        del m
    finally:
        if gen is not None:
            gen.close()
        stack.stop()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--requests", type=int, default=10)
    ap.add_argument("--keys", default="p256,rsa2048")
    args = ap.parse_args()
    bundle = os.path.join(REPO, "htdocs", "js", "cacert-keys.js")
    with open(bundle, "rb") as f:
        body = f.read()
    print("== keys made in the browser: click -> downloadable PKCS#12 ==")
    print(f"  the bundle: {len(body)} bytes, {len(gzip.compress(body, 9))} gzipped "
          f"(goal < 150 kB)")
    run(args, 0)
    run(args, 115200)


if __name__ == "__main__":
    main()
