# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""pytest fixtures for the integration tests: one local stack per session.

Environment:
  CACERT_BUILDDIR   build tree with modules/.libs/*.so (default: build)
  CACERT_ASAN=1     preload ASan/UBSan into httpd and fail on any report
  CACERT_NO_MODULES=1  httpd without the cacert modules (harness work only)
  CACERT_KEEP=1     keep the stack's temp dir after the session

Fixtures:
  stack    (session) tools/cacertstack.Stack, started; see its docstring:
           .url, .port, .cert_file, .maildir, .error_log, .pg_socket_dir,
           .mails(to=None, subject_contains=None),
           .wait_for_mail(to, subject_contains=None, timeout=10) -> Mail
             (an email.message.EmailMessage with .body, .links, .envelope_to),
           .clear_mails(), .restart(extra_conf=[...]), .configured([...]),
           .psql(sql)
  http     requests.Session bound to the stack: relative URLs ("/account/..."),
           verify= the generated certificate; .base is the base URL.
  db       psycopg2 connection as user cacert, autocommit.
  browser  selenium Chrome (headless chromium), fresh profile per test;
           browser.base is the base URL, browser.go("/account/...").
Markers:
  @pytest.mark.allow_log(r"regex", ...)  error-log lines at warn level or
           worse matching one of these do not fail the test.
"""

import os
import shutil
import sys
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))

import cacertstack  # noqa: E402
import probes  # noqa: E402  (loopback DNS, web and whois servers of the domain tests)
from cacertstack import Stack, bad_log_lines  # noqa: E402,F401

TEST_ARGON2 = "1 8192 1"
TEST_REGISTRATION_LIMIT = "CAcertRegistrationsPerClient 100000"

_session_stack = None


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_log(*regexes): httpd error-log lines (warn or worse) "
        "matching any of these regexes are expected and do not fail the test")


def _truthy(name):
    return os.environ.get(name, "").lower() not in ("", "0", "no", "false")


def own_stack(prefix, **kw):
    """A stack of one test module's own (a module fixture named stack
    overrides the session's, and http and db follow it): started in a new
    folder under /tmp, yielded, stopped and removed.  kw go to Stack."""
    builddir = os.environ.get("CACERT_BUILDDIR", "build")
    if not os.path.isabs(builddir):
        builddir = os.path.join(REPO, builddir)
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    s = Stack(d, builddir=builddir, port=0, asan=_truthy("CACERT_ASAN"),
              extra_conf=[TEST_REGISTRATION_LIMIT], argon2=TEST_ARGON2, **kw)
    try:
        s.start()
    except cacertstack.StackError as e:
        s.stop()
        pytest.fail(f"could not start the stack in {d}:\n{e}", pytrace=False)
    yield s
    s.stop()
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(s.shared, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(request):
    global _session_stack
    builddir = os.environ.get("CACERT_BUILDDIR", "build")
    if not os.path.isabs(builddir):
        builddir = os.path.join(REPO, builddir)
    d = tempfile.mkdtemp(prefix="cacert-test-", dir="/tmp")
    os.chmod(d, 0o755)
    # every test registers from 127.0.0.1: the per-client registration limit
    # is lifted here and tested on its own (test_account_sessions.py)
    s = Stack(d, builddir=builddir, port=0, asan=_truthy("CACERT_ASAN"),
              extra_conf=[TEST_REGISTRATION_LIMIT, "CAcertExpiryCheckInterval 1s"]
              + probes.stack_conf(),
              modules=not _truthy("CACERT_NO_MODULES"), argon2=TEST_ARGON2,
              sqldir=os.environ.get("CACERT_SQLDIR") or None)
    try:
        s.start()
    except cacertstack.StackError as e:
        s.stop()
        pytest.fail(f"could not start the stack in {d}:\n{e}", pytrace=False)
    s.log_watch = s.error_log_watcher(from_end=False)
    s.san_seen = {}
    _session_stack = s
    yield s
    _session_stack = None
    s.stop()
    # leak reports are written when httpd's processes exit: check once more
    reports = _new_sanitizer_reports(s)
    keep = _truthy("CACERT_KEEP") or reports or request.session.testsfailed
    if not keep:
        shutil.rmtree(d, ignore_errors=True)
    else:
        sys.stderr.write(f"\ncacert stack kept for inspection in {d} (logs/, mail/, httpd.conf)\n")
    if reports:
        pytest.fail("sanitizer reports at httpd shutdown (stack kept in "
                    f"{d}):\n" + _format_reports(reports), pytrace=False)


def _new_sanitizer_reports(s):
    """Report files (or grown parts of them) not seen before."""
    out = {}
    for path, text in s.sanitizer_reports().items():
        seen = s.san_seen.get(path, 0)
        if len(text) > seen:
            out[path] = text[seen:]
            s.san_seen[path] = len(text)
    return out


def _format_reports(reports, limit=20000):
    text = "".join(f"==== {p} ====\n{t}\n" for p, t in reports.items())
    return text if len(text) <= limit else text[:limit] + "\n... (truncated; see the files)"


@pytest.fixture(autouse=True)
def _check_httpd_logs(request):
    """After every test: no unexpected warn/error lines in httpd's error log,
    no ASan/UBSan report."""
    yield
    s = _session_stack
    if s is None:
        return
    allow = []
    for m in request.node.iter_markers("allow_log"):
        allow.extend(m.args)
    problems = []
    bad = bad_log_lines(s.log_watch.new_lines(), allow)
    if bad:
        problems.append("unexpected lines in httpd's error log "
                        f"({s.error_log}):\n" + "\n".join(bad))
    if s.asan:
        reports = _new_sanitizer_reports(s)
        if reports:
            problems.append("sanitizer reports:\n" + _format_reports(reports))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


class StackSession:
    """requests.Session with the stack's base URL and certificate."""

    def __new__(cls, stack):
        import requests

        class _S(requests.Session):
            def request(self, method, url, *a, **kw):
                if url.startswith("/"):
                    url = self.base + url
                kw.setdefault("timeout", 30)
                # per request: REQUESTS_CA_BUNDLE in the environment would
                # otherwise override the session's verify
                kw.setdefault("verify", self.verify)
                # httpd closes a keep-alive connection after KeepAliveTimeout
                # (5 s); a request sent on it just then is lost without an
                # answer ("Remote end closed connection").  A test that
                # paused (a key generated, a wait) starts on a new one.
                now = time.monotonic()
                if now - getattr(self, "_last", now) > 3:
                    for adapter in self.adapters.values():
                        adapter.close()
                try:
                    return super().request(method, url, *a, **kw)
                finally:
                    self._last = time.monotonic()

        sess = _S()
        sess.base = stack.url
        sess.verify = stack.cert_file
        return sess


@pytest.fixture
def http(stack):
    s = StackSession(stack)
    yield s
    s.close()


@pytest.fixture
def db(stack):
    import psycopg2
    # a statement that waits for ever (a lock nobody releases) fails after
    # 5 minutes: pytest-timeout's alarm does not reach into libpq
    conn = psycopg2.connect(**stack.pg_connect_args(), options="-c statement_timeout=300s")
    conn.autocommit = True
    yield conn
    conn.close()


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser(stack):
    yield from _chromium(stack)


@pytest.fixture
def browser_netlog(stack):
    """Chromium whose network events (the DevTools protocol's, request
    bodies included) are kept: driver.get_log("performance")."""
    yield from _chromium(stack, capabilities={"goog:loggingPrefs": {"performance": "ALL"}},
                         experimental={"perfLoggingPrefs": {"enableNetwork": True,
                                                            "enablePage": False}})


def _chromium(stack, capabilities=None, experimental=None):
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(f"browser tests need {CHROMIUM} and {CHROMEDRIVER} "
                    "(Debian packages chromium, chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("browser tests need python3-selenium")
    profile = tempfile.mkdtemp(prefix="cacert-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-quic", "--no-first-run", "--no-default-browser-check",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-extensions", "--window-size=1280,1024",
              f"--user-data-dir={profile}"):
        opts.add_argument(a)
    opts.accept_insecure_certs = True
    for k, v in (capabilities or {}).items():
        opts.set_capability(k, v)
    for k, v in (experimental or {}).items():
        opts.add_experimental_option(k, v)
    service = Service(executable_path=CHROMEDRIVER,
                      log_output=os.path.join(profile, "chromedriver.log")) \
        if "log_output" in Service.__init__.__code__.co_varnames else \
        Service(executable_path=CHROMEDRIVER, log_path=os.path.join(profile, "chromedriver.log"))
    drv = webdriver.Chrome(service=service, options=opts)
    drv.set_page_load_timeout(30)
    drv.base = stack.url
    drv.go = lambda path: drv.get(stack.url + path if path.startswith("/") else path)
    try:
        yield drv
    finally:
        try:
            drv.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
