# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the test harness itself (tools/cacertstack.py, tools/mailsink.py,
tools/cacert-migrate): if these fail, nothing else can be trusted."""

import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

import pytest

from cacertstack import LogWatcher, Stack, bad_log_lines, pid_alive

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- PostgreSQL and migrations ------------------------------------------------

def test_postgres_answers_and_migrations_table_exists(db):
    cur = db.cursor()
    cur.execute("SELECT current_user, current_database()")
    assert cur.fetchone() == ("cacert", "cacert")
    cur.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
    assert cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM schema_migrations")
    applied = cur.fetchone()[0]
    sql = [f for f in os.listdir(os.path.join(REPO, "sql")) if f.endswith(".sql")] \
        if os.path.isdir(os.path.join(REPO, "sql")) else []
    if not os.environ.get("CACERT_SQLDIR"):
        assert applied == len(sql), "every sql/NNN_*.sql is recorded as applied"


def test_migrate_is_idempotent_and_ordered(stack, db):
    sqldir = tempfile.mkdtemp(prefix="cacert-mig-")
    try:
        # numeric order, not lexical: 999 before 1000 (versions far above
        # the real migrations of sql/, which reach 9 and more)
        with open(os.path.join(sqldir, "1000_second.sql"), "w") as f:
            f.write("ALTER TABLE harness_mig ADD COLUMN b int;\n")
        with open(os.path.join(sqldir, "999_first.sql"), "w") as f:
            f.write("CREATE TABLE harness_mig (a int);\n")
        argv = ["bash", os.path.join(REPO, "tools", "cacert-migrate"),
                "--host", stack.pg_socket_dir, "--port", str(stack.pg_port),
                "--db", "cacert", "--user", "cacert", "--sqldir", sqldir]
        env = dict(os.environ, PATH=Stack.pg_bindir() + ":" + os.environ["PATH"])
        r = subprocess.run(argv, capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        assert "applying 999_first" in r.stdout and "applying 1000_second" in r.stdout
        assert r.stdout.index("999_first") < r.stdout.index("1000_second")
        r = subprocess.run(argv, capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        assert "applying" not in r.stdout
        # a failing migration leaves nothing behind, not even half of itself
        with open(os.path.join(sqldir, "1001_bad.sql"), "w") as f:
            f.write("CREATE TABLE harness_half (x int);\nSELECT no_such_function();\n")
        r = subprocess.run(argv, capture_output=True, text=True, env=env)
        assert r.returncode != 0
        cur = db.cursor()
        cur.execute("SELECT to_regclass('public.harness_half')")
        assert cur.fetchone()[0] is None
        cur.execute("SELECT version FROM schema_migrations"
                    " WHERE version IN (999, 1000, 1001) ORDER BY 1")
        assert [v for (v,) in cur.fetchall()] == [999, 1000]
    finally:
        cur = db.cursor()
        cur.execute("DROP TABLE IF EXISTS harness_mig")
        cur.execute("DELETE FROM schema_migrations WHERE version IN (999, 1000, 1001)")
        for f in os.listdir(sqldir):
            os.unlink(os.path.join(sqldir, f))
        os.rmdir(sqldir)


def test_migrate_on_a_database_in_use(stack, db):
    """A migration that needs a lock the site holds waits at most
    --lock-timeout, rolls back and tries again (the site's queries are not
    queued behind it for longer); two runs at once apply each file once."""
    import psycopg2
    sqldir = tempfile.mkdtemp(prefix="cacert-mig-")
    argv = ["bash", os.path.join(REPO, "tools", "cacert-migrate"),
            "--host", stack.pg_socket_dir, "--port", str(stack.pg_port),
            "--db", "cacert", "--user", "cacert", "--sqldir", sqldir,
            "--lock-timeout", "1", "--tries", "5"]
    env = dict(os.environ, PATH=Stack.pg_bindir() + ":" + os.environ["PATH"])
    site = psycopg2.connect(**stack.pg_connect_args())
    try:
        with open(os.path.join(sqldir, "998_busy.sql"), "w") as f:
            f.write("CREATE TABLE harness_busy (a int);\n"
                    "ALTER TABLE members ADD COLUMN harness_busy int;\n")
        # the site: a transaction that reads members and stays open
        cur = site.cursor()
        cur.execute("SELECT count(*) FROM members")
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
        time.sleep(2.5)
        site.rollback()                       # the site's transaction ends
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, out + err
        assert "for a lock the site holds" in err and "trying again" in err, err
        c = db.cursor()
        c.execute("SELECT to_regclass('public.harness_busy') IS NOT NULL,"
                  " (SELECT count(*) FROM schema_migrations WHERE version = 998)")
        assert c.fetchone() == (True, 1)
        # two runs at once: each file once, both succeed
        for v in (996, 997):
            with open(os.path.join(sqldir, f"{v}_twice.sql"), "w") as f:
                f.write(f"CREATE TABLE harness_twice_{v} (a int); SELECT pg_sleep(0.5);\n")
        ps = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env) for _ in range(2)]
        outs = [q.communicate(timeout=60) for q in ps]
        assert all(q.returncode == 0 for q in ps), outs
        c.execute("SELECT version, count(*) FROM schema_migrations WHERE version IN (996, 997)"
                  " GROUP BY 1 ORDER BY 1")
        assert c.fetchall() == [(996, 1), (997, 1)]
    finally:
        site.close()
        c = db.cursor()
        c.execute("ALTER TABLE members DROP COLUMN IF EXISTS harness_busy")
        for t in ("harness_busy", "harness_twice_996", "harness_twice_997"):
            c.execute(f"DROP TABLE IF EXISTS {t}")
        c.execute("DELETE FROM schema_migrations WHERE version IN (996, 997, 998)")
        shutil.rmtree(sqldir, ignore_errors=True)


# ---- mail sink -------------------------------------------------------------------

def test_mail_sink_stores_message(stack):
    to = "harness-smtp@example.org"
    body = "Hello,\r\n.leading dot line\r\nlink: https://localhost/x?y=1\r\n\r\nÄrger 8bit\r\n"
    msg = ("From: CAcert <noreply@localhost>\r\n"
           f"To: {to}\r\n"
           "Subject: harness test\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n" + body)
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
        code, caps = smtp.ehlo("tester")
        assert code == 250 and b"8BITMIME" in caps
        smtp.sendmail("noreply@localhost", [to, "second@example.org"], msg.encode("utf-8"),
                      mail_options=["BODY=8BITMIME"])
    m = stack.wait_for_mail(to, subject_contains="harness", timeout=10)
    assert m["Subject"] == "harness test"
    assert m.envelope_to == [to, "second@example.org"]
    assert ".leading dot line" in m.body            # dot-unstuffing kept one dot
    assert "Ärger 8bit" in m.body
    assert m.links == ["https://localhost/x?y=1"]
    assert os.path.dirname(m.path).endswith("/new")
    assert not os.listdir(os.path.join(stack.maildir, "tmp"))
    # claimed once: the same mail is not returned again
    with pytest.raises(TimeoutError):
        stack.wait_for_mail(to, subject_contains="harness", timeout=0.3)
    assert len(stack.mails(to=to)) == 1


def test_mail_sink_rejects_bad_clients(stack):
    with socket.create_connection(("127.0.0.1", stack.smtp_port), timeout=10) as s:
        f = s.makefile("rwb")
        assert f.readline().startswith(b"220")

        def cmd(line):
            f.write(line + b"\r\n")
            f.flush()
            return f.readline()
        assert cmd(b"DATA").startswith(b"503")
        assert cmd(b"RCPT TO:<a@b>").startswith(b"503")
        assert cmd(b"X" * 5000).startswith(b"500")
        assert cmd(b"MAIL FROM:bogus<").startswith(b"501")
        assert cmd(b"NOOP").startswith(b"250")
        assert cmd(b"RSET").startswith(b"250")
        assert cmd(b"QUIT").startswith(b"221")


# ---- httpd ------------------------------------------------------------------------

def test_httpd_serves_static_over_tls(stack, http):
    # the certificate verifies for localhost (and 127.0.0.1) against itself
    ctx = ssl.create_default_context(cafile=stack.cert_file)
    for host in ("localhost", "127.0.0.1"):
        with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=host) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
    r = http.get("/static/no-such-file.css")
    assert r.status_code == 404
    css = os.path.join(REPO, "htdocs", "cacert.css")
    if os.path.exists(css):
        r = http.get("/static/cacert.css")
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/css")
        with open(css, "rb") as f:
            assert r.content == f.read()
    r = http.get("/", allow_redirects=False)
    assert r.status_code in (301, 302) and r.headers["Location"].endswith("/account/")


def test_tls_refuses_old_protocols(stack):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(stack.cert_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as s:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            ctx.wrap_socket(s, server_hostname="localhost")


# ---- the error-log check -------------------------------------------------------

PLANTED = [
    "[Sat Nov 21 14:55:22.433657 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: fine",
    "[Sat Nov 21 14:55:22.433657 2026] [foo:error] [pid 1:tid 1] planted error",
    "[Sat Nov 21 14:55:22.433657 2026] [ssl:warn] [pid 1:tid 1] AH01909: planted warning",
    "[Sat Nov 21 14:55:22.433657 2026] [:crit] [pid 1] planted crit",
    "[Sat Nov 21 14:55:22.433657 2026] [cacert_account:info] [pid 1] warn: not a level",
    "[Sat Nov 21 14:55:22.433657 2026] [core:emerg] [pid 1] planted emerg",
]


def test_error_log_checker_catches_planted_lines():
    bad = bad_log_lines(PLANTED)
    assert [b.split("] ")[1] for b in bad] == ["[foo:error", "[ssl:warn", "[:crit", "[core:emerg"]
    # allow_log regexes exempt what they match, and only that
    bad = bad_log_lines(PLANTED, [r"planted (warning|crit)", r"AH00489"])
    assert [b.split("] ")[1] for b in bad] == ["[foo:error", "[core:emerg"]


def test_log_watcher_reads_only_new_complete_lines(tmp_path):
    p = tmp_path / "error.log"
    p.write_text(PLANTED[0] + "\n")
    w = LogWatcher(str(p))                 # starts at the end
    assert w.new_lines() == []
    with open(p, "a") as f:
        f.write(PLANTED[1] + "\n" + "[partial")
    assert w.new_lines() == [PLANTED[1]]
    with open(p, "a") as f:
        f.write(" line]\n")
    assert w.new_lines() == ["[partial line]"]


@pytest.mark.allow_log(r"planted by test_allow_log_marker")
def test_allow_log_marker(stack):
    # an expected line written into the live error log does not fail this test
    with open(stack.error_log, "a") as f:
        f.write("[Sat Nov 21 14:55:22.433657 2026] [harness:error] [pid 0] "
                "planted by test_allow_log_marker\n")


def test_stack_status_and_state_file(stack):
    # earlier tests may have made signerd stop on purpose (a refused request)
    if not pid_alive(stack.pids.get("signerd")):
        stack.start_signerd()
    stack.wait_healthy()
    st = stack.status()
    assert st["healthy"], st
    again = Stack.load(stack.dir)
    assert again.port == stack.port and again.smtp_port == stack.smtp_port
    assert again.pg_socket_dir == stack.pg_socket_dir
    r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "cacertstack.py"),
                        "status", "--dir", stack.dir], capture_output=True, text=True)
    assert r.returncode == 0 and "running" in r.stdout, r.stdout + r.stderr


def test_restart_with_extra_conf(stack, http):
    t0 = time.monotonic()
    with stack.configured(['Header always set X-Harness "yes"']):
        assert http.get("/static/x").headers.get("X-Harness") == "yes"
    assert "X-Harness" not in http.get("/static/x").headers
    assert time.monotonic() - t0 < 60


@pytest.mark.allow_log(r"AH00098", r"AH00016", r"CA21104", r"CA2110[0-9]", r"Unclean shutdown")
def test_httpd_killed_is_restarted_every_time(stack, http):
    """SIGKILL to httpd's master leaves a zombie (until its parent reaps it),
    a pid file naming it and children holding the port; the stack's restart
    starts httpd every time."""
    import signal
    for i in range(10):
        pid = stack.httpd_pid()
        assert pid, f"round {i}: no httpd"
        os.kill(pid, signal.SIGKILL)
        stack.restart()
        assert stack.httpd_pid() not in (None, pid)
        r = http.get("/static/x")
        assert r.status_code in (200, 404), r.status_code
    assert stack.health()["httpd"][0]


def test_httpd_processes_run_as_www_data_when_root(stack):
    if os.geteuid() != 0:
        pytest.skip("only meaningful when the stack is started as root")
    pids = stack._httpd_children()
    users = set()
    for p in pids:
        with open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    users.add(int(line.split()[1]))
    assert 33 in users or any(u != 0 for u in users)


def test_browser_reaches_stack(browser, stack):
    browser.go("/static/no-such-file.css")
    assert "Not Found" in browser.page_source or "404" in browser.page_source


def test_sanitizer_report_detection(stack):
    # a planted report file is found once (and then counted as seen)
    import conftest
    planted = os.path.join(stack.san_logdir, "asan.999999")
    os.makedirs(stack.san_logdir, exist_ok=True)
    with open(planted, "w") as f:
        f.write("==999999==ERROR: LeakSanitizer: detected memory leaks (planted)\n")
    try:
        found = conftest._new_sanitizer_reports(stack)
        assert planted in found and "planted" in found[planted]
        assert conftest._new_sanitizer_reports(stack) == {}
    finally:
        os.unlink(planted)


def test_account_module_answers(stack, http):
    if not stack.modules:
        pytest.skip("stack started without the cacert modules")
    # only that the module is loaded and handles /account: the pages
    # themselves are tested elsewhere
    r = http.get("/account/")
    assert r.status_code < 500, r.text[:500]
    assert "text/html" in r.headers["Content-Type"]
    assert r.headers.get("Server") == "Apache"


# ---- library versions: every start of httpd is checked ---------------------------

AH01882 = ("[Thu Dec 03 08:00:00.000000 2026] [ssl:warn] [pid 1:tid 1] AH01882: Init: this "
           "version of mod_ssl was compiled against a newer library (OpenSSL 3.0.22 1 Jul "
           "2026, version currently loaded is OpenSSL 3.0.19 27 Jan 2026) - may result in "
           "undefined or erroneous behavior")


def test_library_mismatch_lines_are_caught(tmp_path):
    s = Stack(str(tmp_path / "s"), port=0)
    os.makedirs(s.logdir)
    with open(s.error_log, "w") as f:
        f.write(PLANTED[0] + "\n")
        start = f.tell()
        f.write(AH01882 + "\n" + PLANTED[1] + "\n")
    assert s.mismatch_lines(0) == [AH01882]
    assert s.mismatch_lines(start) == [AH01882]
    assert s.mismatch_lines(os.path.getsize(s.error_log)) == []


def test_no_httpd_start_logged_a_library_mismatch(stack):
    # start_httpd refuses to go on when a start logs one; the whole log of
    # the session's stack (every restart so far) has none
    assert stack.mismatch_lines(0) == []


def test_status_reports_each_part(stack):
    h = stack.health()
    assert set(h) == ({"postgres", "mail sink", "httpd", "signer", "ocsp"} if stack.modules
                      else {"postgres", "mail sink", "httpd"})
    # (the signer's state depends on what earlier tests did to signerd)
    assert all(ok for part, (ok, _) in h.items() if part != "signer"), h
