# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Keys made in the browser (issue 14, docs/browser-keys.md): the in-browser
key page in headless Chromium, from the key to an imported-and-used PKCS#12;
the private key never sent; the pages without JavaScript; the content rules
(only the key page may run a script, the bundle with its integrity)."""

import base64
import binascii
import hashlib
import html
import os
import re
import subprocess
import tempfile
import urllib.parse
from collections import deque

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from accounts import csrf_of, login
from browsing import submit
from conftest import StackSession
from browserkeys import (NetLog, allow_downloads, browser_login, download_p12, make_p12,
                         read_keys, start_key_request, wait_url, wait_visible)
from issuing import download, make_csr, member, new_key, request_form, wait_for_cert

P12_PASSWORD = "correct horse battery staple 7"

NO_SCRIPT_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'")


def pem_certs(blob):
    return [x509.load_pem_x509_certificate(m) for m in
            re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", blob,
                       re.S)]


def public_der(key_or_cert):
    k = key_or_cert.public_key()
    return k.public_bytes(serialization.Encoding.DER,
                          serialization.PublicFormat.SubjectPublicKeyInfo)


def check_p12(stack, http, cid, data, password, legacy=False):
    """The PKCS#12 as openssl and python3-cryptography read it: the key
    matches the certificate the site issued, the chain is the site's."""
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "cert.p12")
        with open(f, "wb") as fh:
            fh.write(data)
        p = subprocess.run(["openssl", "pkcs12", "-in", f, "-info", "-nodes",
                            "-passin", "pass:" + password],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        info = p.stderr + p.stdout
        if legacy:
            # what Windows 7/8, older macOS and Android read: Triple-DES, SHA-1
            assert "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048" in info, info
            assert "MAC: sha1, Iteration 2048" in info and "PBES2" not in info, info
        else:
            assert "PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256" in info, info
            assert "MAC: sha256, Iteration 100000" in info, info
            assert "friendlyName: CAcert test key" in info, info
        # the key and the certificate openssl found match each other
        k = subprocess.run(["openssl", "pkey", "-pubout"], input=p.stdout,
                           capture_output=True, text=True, timeout=30)
        c = subprocess.run(["openssl", "x509", "-pubkey", "-noout"], input=p.stdout,
                           capture_output=True, text=True, timeout=30)
        assert k.returncode == 0 and c.returncode == 0 and k.stdout == c.stdout, (k, c)
    wrong = subprocess.run(["openssl", "pkcs12", "-noout", "-passin", "pass:wrong"],
                           input=data, capture_output=True, timeout=60)
    assert wrong.returncode != 0

    key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode())
    assert public_der(key) == public_der(cert)
    issued = x509.load_pem_x509_certificate(download(http, cid))
    assert cert == issued
    chain = pem_certs(download(http, cid, "chain"))
    assert [c for c in extra] == chain[1:], "the chain is the site's chain"
    assert extra[0].subject == cert.issuer
    assert extra[-1].subject == extra[-1].issuer, "the chain ends with the root"
    return key, cert


def cert_login_session(stack, cert, key):
    d = tempfile.mkdtemp(prefix="cacert-p12login-")
    cf, kf = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    with open(cf, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kf, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    s = requests.Session()
    s.cert = (cf, kf)
    return s, d


def key_forms(rec):
    """Every way the private key could show in a request: DER (raw, hex,
    base64, base64url, each PEM line), the JWK's private parts."""
    der = base64.b64decode(rec["pkcs8"])
    b64 = base64.b64encode(der).decode()
    forms = {b"der": der, b"hex": binascii.hexlify(der), b"b64": b64.encode(),
             b"b64url": base64.urlsafe_b64encode(der).rstrip(b"=")}
    for i, line in enumerate(re.findall(".{1,64}", b64)[1:-1]):
        forms[f"pem-line-{i}".encode()] = line.encode()
    for part in ("d", "p", "q", "dp", "dq", "qi"):
        if part in rec["jwk"]:
            v = rec["jwk"][part]
            forms[f"jwk-{part}".encode()] = v.encode()
            raw = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))
            forms[f"jwk-{part}-raw".encode()] = raw
            forms[f"jwk-{part}-hex".encode()] = binascii.hexlify(raw)
            forms[f"jwk-{part}-b64".encode()] = base64.b64encode(raw).rstrip(b"=")
    return forms


def assert_never_sent(netlog, rec):
    sent = netlog.drain()
    assert any(r["method"] == "POST" and b"CERTIFICATE REQUEST" in
               urllib.parse.unquote_to_bytes(r["body"]) for r in sent), \
        "the capture saw the request's POST (else it proves nothing)"
    forms = key_forms(rec)
    for r in sent:
        hay = [r["body"], urllib.parse.unquote_to_bytes(r["body"]),
               urllib.parse.unquote_plus(r["body"].decode("latin-1")).encode("latin-1"),
               r["url"].encode(), urllib.parse.unquote_to_bytes(r["url"])]
        for name, form in forms.items():
            for h in hay:
                assert form not in h, f"{name.decode()} of the private key in {r['method']} {r['url']}"
    return sent


def test_key_in_browser_to_pkcs12_to_certificate_login(browser_netlog, http, stack, db):
    """Log in, make the key in Chromium, wait through issuance with reloads
    (signerd stopped meanwhile), make and download the PKCS#12, read it with
    openssl and python3-cryptography, log in with it; and the private key
    (read out of the page's IndexedDB) was never in anything the browser
    sent."""
    browser = browser_netlog
    netlog = NetLog(browser)
    m = member(http, stack, db, points=10)
    browser_login(browser, m["email"])
    browser.go("/certs/new")
    browser.find_element(By.LINK_TEXT, "Make the key in this browser").click()
    wait_url(browser, "/certs/key")
    assert browser.find_element(By.ID, "csr").get_attribute("type") == "hidden"

    stack.stop_signerd()
    try:
        start_key_request(browser, "p256")
        wait_url(browser, "/certs/wait?id=")
        assert "&key=1" in browser.current_url
        # the signer is away: the page waits; a reload does not lose the key
        browser.refresh()
        assert "/certs/wait?id=" in browser.current_url
        assert "being signed" in browser.find_element(By.TAG_NAME, "h1").text
        keys = read_keys(browser)
        assert len(keys) == 1 and keys[0]["type"] == "p256", keys
    finally:
        stack.start_signerd()
    wait_url(browser, "/certs/key?id=", timeout=90)
    cid = re.search(r"id=(\d+)", browser.current_url).group(1)
    # the tab closed, a new one opened: the certificate's page leads back
    old_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    new_tab = browser.current_window_handle
    browser.switch_to.window(old_tab)
    browser.close()
    browser.switch_to.window(new_tab)
    browser.go(f"/certs/view?id={cid}")
    browser.find_element(By.PARTIAL_LINK_TEXT, "with the key in this browser").click()
    wait_visible(browser, "bk-p12")
    rec = read_keys(browser)[0]

    # too weak a password is refused, the strength is shown
    for el_id in ("bk-password", "bk-password2"):
        browser.find_element(By.ID, el_id).send_keys("abc")
    browser.find_element(By.ID, "bk-make").click()
    assert wait_visible(browser, "bk-error").text.startswith("Choose a longer password")
    assert browser.find_element(By.ID, "bk-strength-label").text == "weak"

    folder = tempfile.mkdtemp(prefix="cacert-p12-")
    allow_downloads(browser, folder)
    make_p12(browser, P12_PASSWORD, friendly="CAcert test key")
    assert browser.find_element(By.ID, "bk-strength-label").text in ("good", "strong")
    data = download_p12(browser, folder)
    assert browser.find_element(By.ID, "bk-result").find_elements(By.TAG_NAME, "a")

    key, cert = check_p12(stack, http, cid, data, P12_PASSWORD)
    # the key in the file is the key the browser kept
    kept = serialization.load_der_private_key(base64.b64decode(rec["pkcs8"]), None)
    assert public_der(kept) == public_der(key)
    assert kept.private_numbers() == key.private_numbers()

    sent = assert_never_sent(netlog, rec)
    # the capture went on in the new tab too
    assert any(r["url"].endswith(f"/certs/view?id={cid}") for r in sent), [r["url"] for r in sent]

    # after the download: delete the key from the browser
    wait_visible(browser, "bk-after")
    browser.find_element(By.ID, "bk-delete").click()
    WebDriverWait(browser, 10).until(
        EC.text_to_be_present_in_element((By.ID, "bk-status"), "deleted"))
    assert read_keys(browser) == []
    browser.refresh()
    WebDriverWait(browser, 10).until(
        EC.text_to_be_present_in_element((By.ID, "bk-status"), "holds no key"))

    # log in to the site with the certificate and key from the PKCS#12
    s, d = cert_login_session(stack, cert, key)
    try:
        v = stack.cert_file
        r = s.get(stack.url + "/account/login", verify=v)
        r = s.post(stack.url + "/account/certlogin", data={"csrf": csrf_of(r.text)},
                   allow_redirects=False, verify=v)
        assert r.status_code == 303, r.text[:500]
        r = s.get(stack.url + "/account/", verify=v)
        assert m["email"] in r.text and "Welcome" in r.text
    finally:
        s.close()
    assert_never_sent(netlog, rec)


def test_key_page_on_a_phone_rsa_and_legacy_file(browser, http, stack, db):
    """A phone-sized window: the key page fits, an RSA key is made, the
    legacy PKCS#12 (Triple-DES, SHA-1) is made and read."""
    m = member(http, stack, db, points=10)
    browser.set_window_size(380, 800)
    browser_login(browser, m["email"])
    for path in ("/certs/new", "/certs/key"):
        browser.go(path)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 400, path
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 400
    browser.save_screenshot(os.path.join(stack.dir, "certs-key-phone.png"))
    # a refused request (no address ticked): its key does not stay behind
    browser.find_element(By.ID, "email0").click()
    start_key_request(browser, "rsa2048")
    WebDriverWait(browser, 60).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "#bk[data-refused]")))
    WebDriverWait(browser, 20).until(EC.element_to_be_clickable((By.ID, "bk-submit")))
    assert read_keys(browser) == []
    assert browser.find_element(By.ID, "email0").is_selected() is False
    browser.find_element(By.ID, "email0").click()
    start_key_request(browser, "rsa2048")
    wait_url(browser, "/certs/key?id=", timeout=90)
    cid = re.search(r"id=(\d+)", browser.current_url).group(1)
    wait_visible(browser, "bk-p12")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 400
    folder = tempfile.mkdtemp(prefix="cacert-p12-")
    allow_downloads(browser, folder)
    make_p12(browser, P12_PASSWORD, legacy=True)
    data = download_p12(browser, folder)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 400
    key, cert = check_p12(stack, http, cid, data, P12_PASSWORD, legacy=True)
    assert key.key_size == 2048
    browser.save_screenshot(os.path.join(stack.dir, "certs-p12-phone.png"))


def test_without_javascript_the_csr_path_works(browser, http, stack, db):
    """Scripts off: the key page says it needs them and sends nothing; the
    request form with a pasted CSR issues as before."""
    m = member(http, stack, db, points=10)
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    browser_login(browser, m["email"])
    browser.go("/certs/key")
    assert not browser.find_element(By.ID, "bk-submit").is_enabled()
    assert "needs JavaScript" in browser.find_element(By.TAG_NAME, "main").text
    browser.go("/certs/new")
    key = new_key("ec")
    browser.find_element(By.ID, "csr").send_keys(make_csr(key).decode())
    submit(browser, "Request certificate")
    wait_url(browser, "/certs/view?id=", timeout=60)
    assert "active" in browser.find_element(By.TAG_NAME, "main").text
    cid = re.search(r"id=(\d+)", browser.current_url).group(1)
    cert = x509.load_pem_x509_certificate(download(http, cid))
    assert public_der(cert) == public_der(key)
    # and without a browser at all
    cid2 = wait_for_cert(http, request_form(http, profile="client", email0="yes",
                                            csr=make_csr(new_key()).decode()))
    assert cid2 != cid


def bundle_sri(stack):
    with open(os.path.join(stack.htdocs, "js", "cacert-keys.js"), "rb") as f:
        return "sha384-" + base64.b64encode(hashlib.sha384(f.read()).digest()).decode()


def test_only_the_key_page_may_run_a_script(http, stack, db):
    """Every page reachable from the member's pages (and the login page, the
    static files, an error page) forbids scripts; the key page allows the
    site's own script only, without inline script or eval, and loads the
    bundle with the integrity value of what /static serves."""
    member(http, stack, db, points=10)
    cid = wait_for_cert(http, request_form(http, profile="client", email0="yes",
                                           csr=make_csr(new_key()).decode()))
    start = ["/certs/key", f"/certs/key?id={cid}", "/account/", "/certs/", "/certs/new",
             f"/certs/view?id={cid}", "/wot/", "/certs/openpgp", "/certs/acme", "/pki/",
             "/static/cacert.css", "/certs/nosuchpage"]
    seen, todo, checked, key_pages, helps = set(), deque(start), 0, 0, set()
    while todo and checked < 150:
        path = todo.popleft()
        if path in seen:
            continue
        seen.add(path)
        r = http.get(path, allow_redirects=False)
        csp = r.headers.get("Content-Security-Policy", "")
        checked += 1
        if path.startswith("/help/"):
            # the import help the PKCS#12 step links to (docs/members/)
            assert r.status_code == 200 and r.text.startswith("# "), path
            helps.add(path)
        if urllib.parse.urlsplit(path).path == "/certs/key" and r.status_code == 200:
            key_pages += 1
            assert "script-src 'self';" in csp, (path, csp)
            assert "unsafe" not in csp and "default-src 'none'" in csp, (path, csp)
            scripts = [html.unescape(t) for t in re.findall(r"<script\b[^>]*>", r.text)]
            assert scripts == [f'<script src="/static/js/cacert-keys.js" '
                               f'integrity="{bundle_sri(stack)}">'], scripts
            assert "</script>" in r.text and not re.search(r"<script[^>]*>[^<]", r.text)
            assert not re.search(r"<[^>]+\son[a-z]+=", r.text), "no inline handlers"
        else:
            assert csp, (path, r.status_code)
            assert "script-src" not in csp and "default-src 'none'" in csp, (path, csp)
            assert "<script" not in r.text, path
        if "text/html" in r.headers.get("Content-Type", ""):
            for href in re.findall(r'href="([^"]+)"', r.text):
                href = html.unescape(href).split("#")[0]
                if not href:
                    continue
                u = urllib.parse.urlsplit(urllib.parse.urljoin(stack.url + path, href))
                if u.netloc != urllib.parse.urlsplit(stack.url).netloc:
                    continue
                p = u.path + ("?" + u.query if u.query else "")
                if p not in seen and not u.path.endswith("/logout"):
                    todo.append(p)
    assert key_pages == 2 and checked > 20, (key_pages, checked)
    assert {f"/help/{n}.md" for n in ("import-firefox", "import-chromium-linux", "import-windows",
                                      "import-macos", "import-thunderbird",
                                      "certificate-login")} <= helps, helps
    # and what a visitor sees
    anon = StackSession(stack)
    for path in ("/account/login", "/account/register", "/account/lost", "/pki/", "/certs/key",
                 "/nosuchpage", "/static/nosuchfile.css"):
        r = anon.get(path, allow_redirects=False)
        csp = r.headers.get("Content-Security-Policy", "")
        assert "script-src" not in csp and "default-src 'none'" in csp, (path, csp)
        assert "<script" not in r.text, path
    # the bundle itself: served with the no-script rules (it is no page)
    r = http.get("/static/js/cacert-keys.js")
    assert r.status_code == 200 and "javascript" in r.headers["Content-Type"]
    assert "eval(" not in r.text and "new Function" not in r.text


def test_key_page_is_for_members_and_their_certificates(http, stack, db):
    anon = StackSession(stack)
    r = anon.get("/certs/key", allow_redirects=False)
    assert r.status_code in (302, 303) and "/account/login" in r.headers["Location"]
    member(http, stack, db, points=10)
    cid = wait_for_cert(http, request_form(http, profile="client", email0="yes",
                                           csr=make_csr(new_key()).decode()))
    o = StackSession(stack)
    member(o, stack, db, points=10)
    r = o.get(f"/certs/key?id={cid}")
    assert r.status_code == 404 and "BEGIN CERTIFICATE" not in r.text
    assert "script-src" not in r.headers["Content-Security-Policy"]
    r = http.get(f"/certs/key?id={cid}")
    assert r.status_code == 200 and "BEGIN CERTIFICATE" in r.text


@pytest.mark.allow_log(r"CA21010", r"CA21011")
def test_a_bundle_not_matching_its_integrity_value_turns_the_page_off(http, stack, db, tmp_path):
    """CAcertBrowserKeys: a bundle whose .sri does not match (a stale build)
    or that is missing turns the page off at start-up; the request form
    then has no link to it and works as before."""
    js = tmp_path / "k.js"
    js.write_bytes(b"/* not the bundle */\n")
    (tmp_path / "k.js.sri").write_text(bundle_sri(stack) + "\n")
    os.chmod(tmp_path, 0o755)
    for f in ("k.js", "k.js.sri"):
        os.chmod(tmp_path / f, 0o644)
    m = member(http, stack, db, points=10)
    for conf in ([f'CAcertBrowserKeys "{js}" /static/js/cacert-keys.js'],
                 [f'CAcertBrowserKeys "{tmp_path}/none.js" /static/js/cacert-keys.js']):
        watch = stack.error_log_watcher()
        with stack.configured(conf):
            http.close()
            assert login(http, m["email"]).status_code == 303
            r = http.get("/certs/new")
            assert r.status_code == 200 and "/certs/key" not in r.text
            r = http.get("/certs/key")
            assert r.status_code == 404 and "<script" not in r.text
            assert "script-src" not in r.headers["Content-Security-Policy"]
            cid = wait_for_cert(http, request_form(http, profile="client", email0="yes",
                                                   csr=make_csr(new_key()).decode()))
            assert "/certs/key?id=" not in http.get(f"/certs/view?id={cid}").text
        tags = "".join(watch.new_lines())
        assert ("CA21011" if "none.js" not in conf[0] else "CA21010") in tags, tags
    # back to the real bundle
    http.close()
    assert login(http, m["email"]).status_code == 303
    assert http.get("/certs/key").status_code == 200
