#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""cacertstack: the local cacert-httpd stack, for the demo and for the tests.

One implementation, two users: scripts/run (through the command line below)
and the pytest fixtures in t/conftest.py (through the Stack class).

    cacertstack.py start  --dir DIR --builddir BUILD [--port 8443] [--asan]
                          [--no-modules] [--argon2 "3 65536 1"] [--conf LINE]...
    cacertstack.py stop   --dir DIR
    cacertstack.py status --dir DIR

What start does, all of it below DIR:
  * PostgreSQL: a throwaway cluster (initdb, trust auth) in DIR/pg listening
    only on the Unix socket directory DIR/pgsock; role and database "cacert";
    the schema migrations from sql/ applied with tools/cacert-migrate;
  * a mail sink (tools/mailsink.py) on 127.0.0.1, storing into DIR/mail;
  * a self-signed TLS certificate for localhost/127.0.0.1 in DIR/tls;
  * httpd (Debian's apache2) with DIR/httpd.conf generated from
    conf/stack/httpd.conf.in, on https://localhost:PORT/ ;
  * DIR/stack.json with every port, path and pid, for stop/status/tests.

When run as root, PostgreSQL runs as "postgres" and httpd's children as
"www-data": the stack makes what they need reachable to them.  When DIR
cannot be made reachable (it lies below a private directory such as /root)
or its socket path would be too long, the parts they need (cluster, socket,
sanitizer logs) live in a side directory under /tmp, recorded in stack.json.
"""

import argparse
import datetime
import email
import email.policy
import grp
import hashlib
import ipaddress
import json
import os
import pwd
import re
import shutil
import secrets
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from email.message import EmailMessage

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HTTPD_BIN = "/usr/sbin/apache2"
# the demo: where an ACME client serves http-01 (README)
DEMO_ACME_HTTP01_PORT = 8402
HTTPD_MODDIR = "/usr/lib/apache2/modules"
HTTPD_USER = "www-data"
PG_USER = "postgres"
# signerd drops to its own system user when started as root (the user the
# Debian package creates; the stack creates it when it is missing)
SIGNERD_USER = "cacert-signerd"
DEFAULT_ARGON2 = "3 65536 1"
MAX_SOCKET_PATH = 100          # sun_path is 108 bytes incl. NUL; keep a margin

# An httpd error-log line at warn level or worse: "[ssl:warn] ", "[:error] ", ...
BAD_LOG_RE = re.compile(r"\[[A-Za-z0-9_.-]*:(warn|error|crit|alert|emerg)\]")


class StackError(RuntimeError):
    pass


def _log(msg):
    print(f"cacertstack: {msg}", file=sys.stderr, flush=True)


def is_root():
    return os.geteuid() == 0


# ---------------------------------------------------------------------------
# helpers: processes, ports, permissions
# ---------------------------------------------------------------------------

def pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                return False
    except (OSError, IndexError):
        pass
    return True


def wait_pid_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


def proc_cmdline(pid):
    """A process's arguments as bytes ([] when it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def read_pidfile(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def port_in_use(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc, port, what, timeout=20):
    """Wait until a server started as proc answers on 127.0.0.1:port;
    StackError(what) (a text, or a function that makes it) when it ends or
    the time is up first."""
    deadline = time.monotonic() + timeout
    while not port_in_use(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise StackError(what() if callable(what) else what)
        time.sleep(0.05)


def end_process(proc):
    """SIGTERM to a server started as proc, SIGKILL when it lingers."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _user_ids(user):
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid, set(g.gr_gid for g in grp.getgrall() if user in g.gr_mem) | {pw.pw_gid}


def can_access(user, path, want_x=True, want_r=False, want_w=False):
    """Could `user` reach (and r/w) path, judging by mode bits along the way?
    Returns (ok, first blocking path or None)."""
    uid, _, gids = _user_ids(user)
    path = os.path.abspath(path)
    parts = []
    p = path
    while True:
        parts.append(p)
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    parts.reverse()

    def allowed(st, bit_r, bit_w, bit_x):
        if st.st_uid == uid:
            shift = 6
        elif st.st_gid in gids:
            shift = 3
        else:
            shift = 0
        mode = st.st_mode >> shift
        return ((not bit_r or mode & 4) and (not bit_w or mode & 2) and (not bit_x or mode & 1))

    for i, p in enumerate(parts):
        try:
            st = os.stat(p)
        except OSError:
            return False, p
        last = i == len(parts) - 1
        if not last or stat.S_ISDIR(st.st_mode):
            need_x = (not last) or want_x
            if not allowed(st, want_r and last, want_w and last, need_x):
                return False, p
        elif not allowed(st, want_r, want_w, False):
            return False, p
    return True, None


def make_tree_readable(path, user, limit_to):
    """Make `path` (a dir tree or file) readable by `user`, changing modes only
    of entries inside `limit_to` and only by adding o+r / o+x (o+rX).
    Returns True if `user` can read it afterwards."""
    limit_to = os.path.abspath(limit_to)
    path = os.path.abspath(path)
    for _ in range(64):
        ok, blocker = can_access(user, path, want_r=True)
        if ok:
            break
        if not (blocker == limit_to or blocker.startswith(limit_to + "/")):
            return False
        st = os.stat(blocker)
        if blocker != path:
            add = 0o001
        else:
            add = 0o005 if stat.S_ISDIR(st.st_mode) else 0o004
        if st.st_mode & add == add:
            return False          # mode bits allow it: something else blocks
        os.chmod(blocker, st.st_mode | add)
    else:
        return False
    # the tree itself
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            for d in dirs:
                p = os.path.join(root, d)
                st = os.lstat(p)
                if stat.S_ISDIR(st.st_mode) and (st.st_mode & 0o005) != 0o005:
                    os.chmod(p, st.st_mode | 0o005)
            for f in files:
                p = os.path.join(root, f)
                st = os.lstat(p)
                if stat.S_ISREG(st.st_mode) and not st.st_mode & 0o004:
                    os.chmod(p, st.st_mode | 0o004)
            st = os.stat(root)
            if (st.st_mode & 0o005) != 0o005:
                os.chmod(root, st.st_mode | 0o005)
    return can_access(user, path, want_r=True)[0]


def chown_user(path, user):
    uid, gid, _ = _user_ids(user)
    os.chown(path, uid, gid)


# ---------------------------------------------------------------------------
# mail
# ---------------------------------------------------------------------------

_LINK_RE = re.compile(r"https://[^\s<>\"')\]]+")


class Mail(EmailMessage):
    """A message read from the sink's Maildir (email.message.EmailMessage)
    plus: .path, .envelope_to (list of addresses), .body (decoded text
    part), .links (https:// URLs in the body)."""

    path = None

    @property
    def envelope_to(self):
        raw = self.get("X-Envelope-To", "")
        return [a.strip().strip("<>") for a in str(raw).split(",") if a.strip()]

    @property
    def body(self):
        part = self.get_body(preferencelist=("plain", "html"))
        if part is None:
            payload = self.get_payload(decode=True)
            return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload or "")
        try:
            return part.get_content()
        except (LookupError, KeyError):
            payload = part.get_payload(decode=True) or b""
            return payload.decode("utf-8", "replace")

    @property
    def links(self):
        return [u.rstrip(".,;:") for u in _LINK_RE.findall(self.body)]

    def addressed_to(self, addr):
        addr = addr.lower()
        if any(a.lower() == addr for a in self.envelope_to):
            return True
        for h in ("To", "Cc"):
            for v in self.get_all(h, []):
                if addr in str(v).lower():
                    return True
        return False


MAIL_POLICY = email.policy.default.clone(message_factory=Mail)


def read_mail(path):
    with open(path, "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=MAIL_POLICY)
    msg.path = path
    return msg


def maildir_files(maildir):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            continue
        out.extend(os.path.join(d, n) for n in names if not n.startswith("."))

    def key(p):
        try:
            return (os.stat(p).st_mtime_ns, os.path.basename(p))
        except OSError:
            return (0, os.path.basename(p))
    return sorted(out, key=key)


# ---------------------------------------------------------------------------
# error log watching
# ---------------------------------------------------------------------------

def bad_log_lines(lines, allow=()):
    """The lines at warn level or worse that no regex in `allow` matches."""
    pats = [re.compile(a) if isinstance(a, str) else a for a in allow]
    bad = []
    for line in lines:
        if BAD_LOG_RE.search(line) and not any(p.search(line) for p in pats):
            bad.append(line)
    return bad


class LogWatcher:
    """Returns the lines appended to a file since the last call."""

    def __init__(self, path, from_end=True):
        self.path = path
        self.offset = 0
        self.inode = None
        if from_end:
            self.skip_to_end()

    def skip_to_end(self):
        try:
            st = os.stat(self.path)
            self.offset, self.inode = st.st_size, st.st_ino
        except FileNotFoundError:
            self.offset, self.inode = 0, None

    def new_lines(self):
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return []
        if self.inode is not None and (st.st_ino != self.inode or st.st_size < self.offset):
            self.offset = 0       # rotated or truncated
        self.inode = st.st_ino
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        # only complete lines; a partial last line waits for next time
        cut = data.rfind(b"\n") + 1
        self.offset += cut
        return data[:cut].decode("utf-8", "replace").splitlines()


# ---------------------------------------------------------------------------
# the stack
# ---------------------------------------------------------------------------

class OCSPFrontend:
    """See Stack.start_ocsp_frontend."""

    def __init__(self, stack, name, dbd_params=None, cache=None, extra=()):
        self.stack = stack
        self.dir = os.path.join(stack.shared, f"frontend-{name}")
        self.dbd_params = dbd_params or f"host={stack.pg_socket_dir} dbname=cacert user=cacert"
        self.cache = cache or f"shmcb:{self.dir}/ocsp_cache(1048576)"
        self.extra = list(extra)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/ocsp"
        self.conf_file = os.path.join(self.dir, "httpd.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.proc = None

    def start(self):
        st = self.stack
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        with open(os.path.join(st.repo, "conf", "stack", "ocsp-frontend.conf.in")) as f:
            text = f.read()
        values = {
            "DIR": self.dir, "PORT": str(self.port), "HTTPD_MODDIR": HTTPD_MODDIR,
            "USER_GROUP": f"User {HTTPD_USER}\nGroup {HTTPD_USER}" if st.root
            else "# not started as root",
            "DBD_PARAMS": self.dbd_params, "OCSP_CACHE": self.cache,
            "EXTRA": "\n".join(self.extra),
            "BUILDDIR": st.builddir, "CA_DIR": st.ca_dir,
        }
        # EXTRA last and literally, so its content is never re-expanded
        extra = values.pop("EXTRA")
        text = re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], text.replace(
            "@EXTRA@", "\0EXTRA\0")).replace("\0EXTRA\0", extra)
        with open(self.conf_file, "w") as f:
            f.write(text)
        for old in ("error.log", "access.log"):      # this start's lines only
            if os.path.exists(os.path.join(self.dir, old)):
                os.unlink(os.path.join(self.dir, old))
        out = open(os.path.join(self.dir, "httpd.stderr"), "ab")
        self.proc = subprocess.Popen([HTTPD_BIN, "-f", self.conf_file, "-DFOREGROUND"],
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                     env=st.httpd_env(), cwd=self.dir, start_new_session=True)
        out.close()
        deadline = time.monotonic() + (60 if st.asan else 30)
        while not port_in_use(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise StackError(f"the OCSP frontend did not start (exit {self.proc.poll()})"
                                 + st._file_tail(self.error_log)
                                 + st._file_tail(os.path.join(self.dir, "httpd.stderr")))
            time.sleep(0.05)
        _log(f"OCSP frontend on {self.url}")
        return self

    def status(self):
        """The counters of its /ocsp-status page, as a dict of ints."""
        import urllib.request
        with urllib.request.urlopen(self.url + "-status", timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            k, _, v = line.partition(": ")
            if v.strip().isdigit():
                out[k] = int(v)
        return out

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGWINCH)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(30)


class Stack:
    """The whole local system below one directory.

    Stack(dir, builddir, port=8443, asan=False, modules=True,
          argon2="3 65536 1", extra_conf=(), sqldir=None)
    .start() / .stop() / .status() / .restart(extra_conf=None) / .reload()
    .configured(lines) context manager: httpd runs with extra lines inside it
    .url, .port, .cert_file, .maildir, .error_log, .pg_socket_dir, .dsn ...
    .mails(to=None), .wait_for_mail(to, subject_contains=None, timeout=10)
    Stack.load(dir) rebuilds the object from DIR/stack.json.
    """

    def __init__(self, dir, builddir="build", port=8443, asan=False, modules=True,
                 argon2=DEFAULT_ARGON2, extra_conf=(), sqldir=None, repo=REPO, demo=False,
                 token=False):
        self.dir = os.path.abspath(dir)
        self.repo = os.path.abspath(repo)
        b = builddir if os.path.isabs(builddir) else os.path.join(self.repo, builddir)
        self.builddir = os.path.abspath(b)
        self.port = int(port) if port else free_port()
        # plain HTTP, for what relying parties fetch: OCSP and CRLs
        self.http_port = free_port()
        while self.http_port == self.port:
            self.http_port = free_port()
        self.asan = bool(asan)
        self.modules = bool(modules)
        self.argon2 = " ".join(str(argon2).split())
        self.extra_conf = list(extra_conf)
        self.sqldir = os.path.abspath(sqldir) if sqldir else os.path.join(self.repo, "sql")
        self.root = is_root()
        # the demo (scripts/run): its own DNS and web server for the domain
        # checks (tools/demozone.py) and demo Assurers
        self.demo = bool(demo)
        # the SubRoots' keys on a SoftHSM token (made by cacert-ca), not in
        # files: signerd signs through PKCS#11
        self.token = bool(token)
        self.zone_ports = None
        self.shared = None             # set by _layout()
        self.smtp_port = None
        self.pids = {}
        self._claimed = set()
        self._layout()

    # ---- paths ------------------------------------------------------------

    def _layout(self, shared=None):
        d = self.dir
        self.conf_file = os.path.join(d, "httpd.conf")
        self.state_file = os.path.join(d, "stack.json")
        self.rundir = os.path.join(d, "run")
        self.logdir = os.path.join(d, "logs")
        self.tlsdir = os.path.join(d, "tls")
        self.maildir = os.path.join(d, "mail")
        # the demo TLS CA (what clients trust) and the localhost certificate
        # it signed (what httpd serves, with the CA after it)
        self.cert_file = os.path.join(self.tlsdir, "demo-tls-ca.crt")
        self.tls_ca_key = os.path.join(self.tlsdir, "demo-tls-ca.key")
        self.tls_cert = os.path.join(self.tlsdir, "localhost.crt")
        self.key_file = os.path.join(self.tlsdir, "localhost.key")
        self.error_log = os.path.join(self.logdir, "error.log")
        self.access_log = os.path.join(self.logdir, "access.log")
        self.sink_log = os.path.join(self.logdir, "mailsink.log")
        self.zone_dir = os.path.join(d, "domains")
        self.zone_log = os.path.join(self.logdir, "demozone.log")
        self.shared = shared or self.shared or d
        s = self.shared
        self.pg_data = os.path.join(s, "pg")
        self.pg_socket_dir = os.path.join(s, "pgsock")
        self.pg_log = os.path.join(s, "pglog", "postgresql.log")
        self.san_logdir = os.path.join(s, "logs") if s != d else self.logdir
        self.pg_port = 5432       # only names the socket file; no TCP listener
        self.templates = os.path.join(self.repo, "templates")
        self.htdocs = os.path.join(self.repo, "htdocs")
        self.help = os.path.join(self.repo, "docs", "members")
        self.locale = os.path.join(self.builddir, "locale")
        self.module_so = os.path.join(self.builddir, "modules", ".libs", "mod_cacert_account.so")
        # the signing side: a demo CA, a pty line, signerd.  httpd's children
        # (www-data) open the line and read the CA certificates, signerd (its
        # own user) reads its keys and OpenPGP home and writes its journal:
        # all of it lives where those users can reach (the shared directory)
        self.ca_dir = os.path.join(s, "ca")
        self.line_dir = os.path.join(s, "line")
        self.signer_dir = os.path.join(s, "signer")
        self.signerd_conf = os.path.join(d, "signerd.conf")
        self.signerd_log = os.path.join(self.logdir, "signerd.log")
        self.relay_log = os.path.join(self.logdir, "relay.log")
        self.passphrase_file = os.path.join(self.ca_dir, "passphrase")
        self.softhsm_dir = os.path.join(s, "softhsm")
        self.softhsm_conf = os.path.join(self.softhsm_dir, "softhsm2.conf")

    def _choose_shared(self):
        """Pick the directory for what other users (postgres, www-data) must
        reach: DIR itself when possible, else a side dir under /tmp."""
        d = self.dir
        sock = os.path.join(d, "pgsock", f".s.PGSQL.{self.pg_port}")
        need_side = len(sock) > MAX_SOCKET_PATH
        if self.root and not need_side:
            for user in (PG_USER, HTTPD_USER):
                ok, blocker = can_access(user, d)
                while not ok and any(blocker == t or blocker.startswith(t + "/")
                                     for t in (d, self.repo)):
                    # inside DIR or the tree: add o+x only (never more)
                    mode = os.stat(blocker).st_mode
                    if mode & 0o001:
                        break
                    os.chmod(blocker, mode | 0o001)
                    ok, blocker = can_access(user, d)
                if not ok:
                    need_side = True
                    break
        if not need_side:
            return d
        h = hashlib.sha256(d.encode()).hexdigest()[:12]
        side = os.path.join(tempfile.gettempdir(), f"cacert-stack-{os.geteuid()}-{h}")
        os.makedirs(side, exist_ok=True)
        os.chmod(side, 0o755)
        _log(f"using side directory {side} for the database and sockets ({d} is not reachable by the service users or its socket path is too long)")
        return side

    @property
    def url(self):
        return f"https://localhost:{self.port}"

    @property
    def http_url(self):
        """Plain HTTP: OCSP and CRLs only."""
        return f"http://localhost:{self.http_port}"

    @property
    def dsn(self):
        return f"host={self.pg_socket_dir} port={self.pg_port} dbname=cacert user=cacert"

    def pg_connect_args(self):
        return dict(host=self.pg_socket_dir, port=self.pg_port, dbname="cacert", user="cacert")

    # ---- state file -------------------------------------------------------

    def to_json(self):
        return {
            "dir": self.dir, "shared": self.shared, "repo": self.repo,
            "builddir": self.builddir, "port": self.port, "url": self.url,
            "http_port": self.http_port,
            "asan": self.asan, "modules": self.modules, "argon2": self.argon2,
            "extra_conf": self.extra_conf, "sqldir": self.sqldir,
            "smtp_port": self.smtp_port, "pids": self.pids,
            "conf": self.conf_file, "error_log": self.error_log,
            "access_log": self.access_log, "maildir": self.maildir,
            "cert": self.cert_file, "tls_cert": self.tls_cert, "key": self.key_file,
            "pg_data": self.pg_data, "pg_socket_dir": self.pg_socket_dir,
            "pg_port": self.pg_port, "pg_log": self.pg_log, "dsn": self.dsn,
            "san_logdir": self.san_logdir, "templates": self.templates,
            "htdocs": self.htdocs, "help": self.help, "locale": self.locale,
            "root": self.root,
            "demo": self.demo, "zone_ports": self.zone_ports, "zone_dir": self.zone_dir,
            "token": self.token,
        }

    def save(self):
        os.makedirs(self.dir, exist_ok=True)
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.to_json(), f, indent=2, sort_keys=True)
            f.write("\n")
        os.rename(tmp, self.state_file)

    @classmethod
    def load(cls, dir):
        path = os.path.join(os.path.abspath(dir), "stack.json")
        with open(path) as f:
            j = json.load(f)
        s = cls(j["dir"], j["builddir"], j["port"], j.get("asan", False),
                j.get("modules", True), j.get("argon2", DEFAULT_ARGON2),
                j.get("extra_conf", ()), j.get("sqldir"), j.get("repo", REPO))
        s.smtp_port = j.get("smtp_port")
        s.http_port = j.get("http_port", s.http_port)
        s.pids = j.get("pids", {})
        s.demo = j.get("demo", False)
        s.token = j.get("token", False)
        s.zone_ports = j.get("zone_ports")
        s._layout(j.get("shared"))
        s.templates = j.get("templates", s.templates)
        s.htdocs = j.get("htdocs", s.htdocs)
        s.help = j.get("help", s.help)
        s.locale = j.get("locale", s.locale)
        return s

    # ---- environment ------------------------------------------------------

    def san_env(self):
        """Environment for a sanitizer build, or {}."""
        if not self.asan:
            return {}
        libasan = subprocess.run(["gcc", "-print-file-name=libasan.so"], check=True,
                                 capture_output=True, text=True).stdout.strip()
        if not os.path.isabs(libasan) or not os.path.exists(libasan):
            raise StackError("libasan.so not found (gcc -print-file-name=libasan.so)")
        libasan = os.path.realpath(libasan)
        # httpd's children (www-data) read the suppressions: a copy beside
        # their reports, since the tree itself may be a 0700 clone
        supp = os.path.join(self.san_logdir, "lsan.supp")
        src = os.path.join(self.repo, "t", "lsan.supp")
        os.makedirs(self.san_logdir, exist_ok=True)
        with open(src, "rb") as f:
            data = f.read()
        try:
            with open(supp, "rb") as f:
                same = f.read() == data
        except OSError:
            same = False
        if not same:
            tmp = supp + ".new"
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, supp)
        return {
            "LD_PRELOAD": libasan,
            "ASAN_OPTIONS": (f"detect_leaks=1:abort_on_error=0:log_path={self.san_logdir}/asan"
                             ":fast_unwind_on_malloc=0:malloc_context_size=64"),
            "UBSAN_OPTIONS": f"print_stacktrace=1:halt_on_error=0:log_path={self.san_logdir}/ubsan",
            "LSAN_OPTIONS": f"suppressions={supp}:print_suppressions=0",
        }

    def tool_san_env(self):
        """Sanitizer environment for our own programs (signerd, cacert-ca):
        the fast unwinder on malloc, since key derivation mallocs a million
        times and the slow one makes that take minutes."""
        env = self.san_env()
        if env:
            env["ASAN_OPTIONS"] = env["ASAN_OPTIONS"].replace("fast_unwind_on_malloc=0",
                                                              "fast_unwind_on_malloc=1")
        return env

    def sanitizer_reports(self):
        """{path: content} of every non-empty ASan/UBSan report file."""
        out = {}
        try:
            names = os.listdir(self.san_logdir)
        except FileNotFoundError:
            return out
        for n in sorted(names):
            if n.startswith("asan.") or n.startswith("ubsan."):
                p = os.path.join(self.san_logdir, n)
                try:
                    with open(p, errors="replace") as f:
                        text = f.read()
                except OSError:
                    continue
                if text.strip():
                    out[p] = text
        return out

    # ---- PostgreSQL -------------------------------------------------------

    @staticmethod
    def pg_bindir():
        base = "/usr/lib/postgresql"
        versions = []
        try:
            for v in os.listdir(base):
                if os.path.exists(os.path.join(base, v, "bin", "initdb")):
                    try:
                        versions.append((float(v), v))
                    except ValueError:
                        pass
        except FileNotFoundError:
            pass
        if versions:
            return os.path.join(base, max(versions)[1], "bin")
        try:
            return subprocess.run(["pg_config", "--bindir"], capture_output=True,
                                  text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            pass
        initdb = shutil.which("initdb")
        if initdb:
            return os.path.dirname(initdb)
        raise StackError("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql")

    def _as_pg(self, argv):
        return (["runuser", "-u", PG_USER, "--"] + argv) if self.root else argv

    def _run(self, argv, what, env=None, cwd=None, check=True, timeout=300):
        e = dict(os.environ)
        e.update(env or {})
        r = subprocess.run(argv, capture_output=True, text=True, env=e,
                           cwd=cwd or self.shared, timeout=timeout)
        if check and r.returncode != 0:
            raise StackError(f"{what} failed (exit {r.returncode}): {' '.join(argv)}\n"
                             f"{r.stdout}{r.stderr}")
        return r

    def pg_superuser(self):
        return PG_USER if self.root else pwd.getpwuid(os.geteuid()).pw_name

    def pg_running(self):
        pid = read_pidfile(os.path.join(self.pg_data, "postmaster.pid"))
        return pid if pid and pid_alive(pid) else None

    def start_postgres(self):
        bindir = self.pg_bindir()
        for d in (self.pg_data, self.pg_socket_dir, os.path.dirname(self.pg_log)):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.pg_data, 0o700)
        os.chmod(self.pg_socket_dir, 0o755)
        os.chmod(os.path.dirname(self.pg_log), 0o755)
        if self.root:
            for d in (self.pg_data, self.pg_socket_dir, os.path.dirname(self.pg_log)):
                chown_user(d, PG_USER)
        if not os.path.exists(os.path.join(self.pg_data, "PG_VERSION")):
            _log(f"initdb {self.pg_data}")
            base = [os.path.join(bindir, "initdb"), "-D", self.pg_data, "--auth=trust",
                    "-E", "UTF8", "--no-sync", "-U", self.pg_superuser()]
            r = self._run(self._as_pg(base + ["--locale=C.UTF-8"]), "initdb", check=False)
            if r.returncode != 0:
                for entry in os.listdir(self.pg_data):
                    p = os.path.join(self.pg_data, entry)
                    shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
                self._run(self._as_pg(base + ["--locale=C"]), "initdb")
            conf = os.path.join(self.pg_data, "postgresql.conf")
            with open(conf, "a") as f:
                f.write("\n# cacertstack\n"
                        "listen_addresses = ''\n"
                        f"unix_socket_directories = '{self.pg_socket_dir}'\n"
                        "unix_socket_permissions = 0777\n"
                        f"port = {self.pg_port}\n"
                        "max_connections = 100\n"
                        "fsync = off\n"
                        "synchronous_commit = off\n"
                        "full_page_writes = off\n"
                        "log_min_messages = warning\n"
                        "log_line_prefix = '%m [%p] %q%u@%d '\n"
                        "timezone = 'UTC'\n")
        if not self.pg_running():
            stale = os.path.join(self.pg_data, "postmaster.pid")
            if os.path.exists(stale):
                os.unlink(stale)
            _log("starting PostgreSQL")
            self._run(self._as_pg([os.path.join(bindir, "pg_ctl"), "-D", self.pg_data,
                                   "-l", self.pg_log, "-w", "-t", "60", "start"]),
                      "pg_ctl start")
        # wait until it accepts connections
        deadline = time.monotonic() + 60
        while True:
            r = subprocess.run([os.path.join(bindir, "pg_isready"), "-q", "-h",
                                self.pg_socket_dir, "-p", str(self.pg_port)])
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise StackError("PostgreSQL did not become ready; see " + self.pg_log)
            time.sleep(0.1)
        self.pids["postgres"] = self.pg_running()
        self._create_role_db(bindir)
        self.migrate()

    def psql(self, sql, db="cacert", user="cacert", check=True):
        bindir = self.pg_bindir()
        return self._run([os.path.join(bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                          "-h", self.pg_socket_dir, "-p", str(self.pg_port),
                          "-U", user, "-d", db, "-At", "-c", sql], "psql", check=check)

    def _create_role_db(self, bindir):
        su = self.pg_superuser()
        self.psql("DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cacert') "
                  "THEN CREATE ROLE cacert LOGIN; END IF; END$$;", db="postgres", user=su)
        exists = self.psql("SELECT 1 FROM pg_database WHERE datname = 'cacert'",
                           db="postgres", user=su).stdout.strip()
        if exists != "1":
            self.psql("CREATE DATABASE cacert OWNER cacert TEMPLATE template0 ENCODING 'UTF8'",
                      db="postgres", user=su)

    def migrate(self):
        tool = os.path.join(self.repo, "tools", "cacert-migrate")
        env = {"PATH": self.pg_bindir() + ":" + os.environ.get("PATH", "")}
        r = self._run(["bash", tool, "--host", self.pg_socket_dir, "--port", str(self.pg_port),
                       "--db", "cacert", "--user", "cacert", "--sqldir", self.sqldir],
                      "cacert-migrate", env=env)
        for line in (r.stdout + r.stderr).splitlines():
            _log(line)

    def stop_postgres(self):
        if not os.path.exists(os.path.join(self.pg_data, "PG_VERSION")):
            return
        if not self.pg_running():
            return
        _log("stopping PostgreSQL")
        bindir = self.pg_bindir()
        r = self._run(self._as_pg([os.path.join(bindir, "pg_ctl"), "-D", self.pg_data,
                                   "-m", "fast", "-w", "-t", "60", "stop"]),
                      "pg_ctl stop", check=False)
        if r.returncode != 0 and self.pg_running():
            raise StackError(f"pg_ctl stop failed: {r.stdout}{r.stderr}")

    def restart_postgres(self):
        """pg_ctl restart (fast): every session ends, the server is back at
        once -- what an operator's restart or a failover does to httpd's
        connections."""
        bindir = self.pg_bindir()
        _log("restarting PostgreSQL")
        self._run(self._as_pg([os.path.join(bindir, "pg_ctl"), "-D", self.pg_data,
                               "-l", self.pg_log, "-m", "fast", "-w", "-t", "60", "restart"]),
                  "pg_ctl restart")
        self.pids["postgres"] = self.pg_running()

    # ---- mail sink --------------------------------------------------------

    def start_sink(self):
        pid = self.pids.get("sink")
        if pid and pid_alive(pid) and self.smtp_port and port_in_use(self.smtp_port):
            return
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
        portfile = os.path.join(self.rundir, "mailsink.port")
        p, ports = self._spawn_with_portfile(
            "mail sink", "mailsink.py", portfile, self.sink_log,
            ["--listen", "127.0.0.1:0", "--maildir", self.maildir,
             "--pidfile", os.path.join(self.rundir, "mailsink.pid"), "-v"])
        self.smtp_port = ports[0]
        self.pids["sink"] = p.pid
        self._sink_proc = p

    def _spawn_with_portfile(self, what, script, portfile, logfile, args):
        """Start tools/SCRIPT in a session of its own, logging to logfile;
        wait until it has written its port numbers into portfile."""
        if os.path.exists(portfile):
            os.unlink(portfile)
        log = open(logfile, "ab")
        p = subprocess.Popen([sys.executable, os.path.join(self.repo, "tools", script),
                              "--portfile", portfile] + args,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True, cwd=self.dir)
        log.close()
        deadline = time.monotonic() + 15
        while not os.path.exists(portfile):
            if p.poll() is not None or time.monotonic() > deadline:
                raise StackError(f"{what} did not start; see {logfile}")
            time.sleep(0.05)
        with open(portfile) as f:
            return p, [int(x) for x in f.read().split()]

    @staticmethod
    def _terminate(pid, grace=10):
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            if not wait_pid_gone(pid, grace):
                os.kill(pid, signal.SIGKILL)
                wait_pid_gone(pid, 5)

    def stop_sink(self):
        pid = self.pids.get("sink") or read_pidfile(os.path.join(self.rundir, "mailsink.pid"))
        if pid and pid_alive(pid) and self._is_our_sink(pid):
            self._terminate(pid)
        self.pids.pop("sink", None)

    def _is_our_sink(self, pid):
        cmd = proc_cmdline(pid)
        return any(c.endswith(b"mailsink.py") for c in cmd) and self.maildir.encode() in cmd

    # ---- the demo's DNS and web server ----------------------------------------

    def start_demozone(self):
        pid = self.pids.get("demozone")
        if pid and pid_alive(pid) and self.zone_ports:
            return
        os.makedirs(self.zone_dir, exist_ok=True)
        p, self.zone_ports = self._spawn_with_portfile(
            "the demo DNS and web server", "demozone.py",
            os.path.join(self.rundir, "demozone.ports"), self.zone_log, ["--zone", self.zone_dir])
        self.pids["demozone"] = p.pid

    def stop_demozone(self):
        self._terminate(self.pids.get("demozone"), 5)
        self.pids.pop("demozone", None)

    def demo_conf(self):
        """httpd lines that point the domain checks at the demo's DNS and web
        server (loopback addresses allowed: the demo's domains live there)."""
        if not (self.demo and self.zone_ports):
            return []
        dns_port, web_port = self.zone_ports
        return ["# the demo: domain checks ask tools/demozone.py on the loopback",
                f"CAcertDomainResolver 127.0.0.1:{dns_port}",
                f"CAcertDomainHTTPPort {web_port}",
                "CAcertDomainProbePrivateAddresses on",
                "# ACME's http-01 is fetched where certbot --http-01-port listens",
                f"CAcertACMEHTTP01Port {DEMO_ACME_HTTP01_PORT}"]

    def publish(self, kind, name, value):
        """The demo's DNS TXT record (kind "txt": name is the record's name,
        e.g. _cacert.example.test) or web file (kind "file": name is the
        host; the file is /.well-known/cacert-domain.txt).  Returns the path."""
        import demozone
        host = demozone.safe_name(name)
        if not host:
            raise StackError(f"not a host name: {name!r}")
        if kind == "txt":
            path = os.path.join(self.zone_dir, "dns", host)
        else:
            path = os.path.join(self.zone_dir, "www", host, ".well-known", "cacert-domain.txt")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w") as f:
            f.write(value.strip() + "\n")
        os.rename(path + ".tmp", path)
        return path

    # ---- the demo's Assurers ------------------------------------------------

    DEMO_ASSURERS = (("Ada", "Demo-Assurer", "assurer1@demo.cacert.localhost"),
                     ("Bert", "Demo-Assurer", "assurer2@demo.cacert.localhost"))

    @property
    def demo_assurers_file(self):
        return os.path.join(self.dir, "demo-assurers.txt")

    def seed_demo_assurers(self):
        """Two Assurers for the demo, so that a newcomer can be assured face
        to face (twice 35 points: an Assured Member) and try everything the
        points open.  Their accounts are registered and confirmed through the
        member pages like anyone's; their own 100 points and the Assurer
        Challenge, which in a real CA come from earlier assurances and the
        challenge system, are written into the demo database directly (from
        three seed members who cannot log in).  Once per DIR."""
        import html as _html
        import requests
        if os.path.exists(self.demo_assurers_file):
            return
        password = "Demo-" + secrets.token_urlsafe(12)
        for given, family, email in self.DEMO_ASSURERS:
            http = requests.Session()
            http.verify = self.cert_file
            http.trust_env = False     # REQUESTS_CA_BUNDLE would override verify

            def token(path):
                r = http.get(self.url + path, timeout=30)
                m = re.search(r'name="csrf" value="([^"]*)"', r.text)
                if r.status_code != 200 or not m:
                    raise StackError(f"demo Assurer: GET {path}: HTTP {r.status_code}")
                return _html.unescape(m.group(1))
            form = {"given": given, "middle": "", "family": family, "suffix": "",
                    "dob_day": "1", "dob_month": "5", "dob_year": "1970", "email": email,
                    "password": password, "password2": password, "cca": "yes",
                    "csrf": token("/account/register")}
            for i, (q, a) in enumerate((("First school?", "Hill"), ("First pet?", "Tom"),
                                        ("Favourite book?", "Momo"), ("First car?", "Ente"),
                                        ("Grandmother's town?", "Ulm")), 1):
                form[f"q{i}"], form[f"a{i}"] = q, a
            r = http.post(self.url + "/account/register", data=form, timeout=60)
            if r.status_code != 200:
                said = [_html.unescape(e) for e in re.findall(
                    r'class="(?:field-error|error)"[^>]*>([^<]*)<', r.text)]
                raise StackError(f"demo Assurer {email}: registration answered HTTP "
                                 f"{r.status_code}: {'; '.join(said) or r.text[:300]}")
            mail = self.wait_for_mail(email, timeout=30)
            link = [l for l in mail.links if "/account/confirm?" in l][0]
            r = http.get(link, timeout=30)
            mid = re.search(r'name="id" value="(\d+)"', r.text)
            code = re.search(r'name="code" value="([^"]*)"', r.text)
            csrf = re.search(r'name="csrf" value="([^"]*)"', r.text)
            if not (mid and code and csrf):
                raise StackError(f"demo Assurer {email}: no confirmation form")
            http.post(self.url + "/account/confirm", timeout=30,
                      data={"csrf": _html.unescape(csrf.group(1)), "id": mid.group(1),
                            "code": _html.unescape(code.group(1))})
        emails = ",".join(f"'{e}'" for _, _, e in self.DEMO_ASSURERS)
        # 25 seed members: the first three gave each demo Assurer 35 + 35 + 30
        # points; each demo Assurer met all 25 face to face (50 experience
        # points), so that they may award 35 points per assurance
        self.psql(f"""
            BEGIN;
            CREATE TEMP TABLE seed AS
              WITH m AS (INSERT INTO members (given_name, middle_name, family_name, suffix, dob,
                                              password_hash)
                         SELECT 'Seed', '', 'Member ' || g, '', '1960-01-01', '$argon2id$none'
                         FROM generate_series(1, 25) g RETURNING id)
              SELECT id, row_number() OVER (ORDER BY id) AS n FROM m;
            CREATE TEMP TABLE demo AS
              SELECT member_id AS id FROM emails WHERE address IN ({emails}) AND is_primary;
            INSERT INTO assurances (assurer_id, assuree_id, points, location, documents,
                                    cca_agreed, face_to_face)
              SELECT s.id, d.id, CASE WHEN s.n = 3 THEN 30 ELSE 35 END, 'demo seed', 2, true, true
              FROM seed s, demo d WHERE s.n <= 3;
            INSERT INTO assurances (assurer_id, assuree_id, points, location, documents,
                                    cca_agreed, face_to_face)
              SELECT d.id, s.id, 1, 'demo seed', 2, true, true FROM seed s, demo d;
            UPDATE members SET assurer_challenge_at = now() WHERE id IN (SELECT id FROM demo);
            COMMIT;""")
        with open(self.demo_assurers_file + ".tmp", "w") as f:
            os.fchmod(f.fileno(), 0o600)
            for _, _, email in self.DEMO_ASSURERS:
                f.write(f"{email} {password}\n")
        os.rename(self.demo_assurers_file + ".tmp", self.demo_assurers_file)

    def demo_assurer_logins(self):
        try:
            with open(self.demo_assurers_file) as f:
                return [tuple(l.split()) for l in f if l.strip()]
        except OSError:
            return []

    # ---- the signing side ---------------------------------------------------

    SIGNER_CAS = (
        ("member", "client,server", 183, "no", 1),
        ("assured", "client,server,codesign", 730, "yes", 100),
        ("org", "org-client,org-server", 730, "yes", 100),
    )

    def ensure_ca(self):
        """A demo CA hierarchy made with tools/cacert-ca (once per DIR)."""
        if os.path.exists(os.path.join(self.ca_dir, "web", "root.crt")):
            return
        os.makedirs(self.dir, exist_ok=True)
        tmp = self.ca_dir + ".new"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        pp = os.path.join(tmp, "passphrase")
        with open(pp, "w") as f:
            f.write(secrets.token_urlsafe(24) + "\n")
        os.chmod(pp, 0o600)
        # cacert-ca makes DIR itself and refuses an existing one
        out = os.path.join(tmp, "h")
        env = dict(os.environ, **(self.tool_san_env() if self.asan else {}))
        token_args = []
        if self.token:
            token_args = self.ensure_token(pp, env)
        self._run([os.path.join(self.builddir, "tools", "cacert-ca"), "init", "--dir", out,
                   "--name", "CAcert Demo", "--key-type", "ec:P-384",
                   "--passphrase-file", pp,
                   "--ocsp-base", f"http://localhost:{self.http_port}/ocsp",
                   "--crl-base", f"http://localhost:{self.http_port}/pki"] + token_args,
                  "cacert-ca init", env=env)
        for sub in os.listdir(out):
            os.rename(os.path.join(out, sub), os.path.join(tmp, sub))
        os.rmdir(out)
        # the CAs whose certificates may log members in (mod_ssl client auth)
        with open(os.path.join(tmp, "web", "clientauth.pem"), "w") as f:
            for name in ("root", "member", "assured", "org"):
                with open(os.path.join(tmp, "web", name + ".crt")) as c:
                    f.write(c.read())
        os.rename(tmp, self.ca_dir)
        if self.root:
            # traversable, not listable, by the service users
            os.chmod(self.ca_dir, 0o711)
            make_tree_readable(os.path.join(self.ca_dir, "web"), HTTPD_USER, self.shared)

    SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
    TOKEN_LABEL = "cacert-subroots"

    def ensure_token(self, pinfile, env):
        """A fresh SoftHSM token for the SubRoots' keys (its PIN: the CA
        passphrase); env gets SOFTHSM2_CONF.  Returns cacert-ca's options."""
        shutil.rmtree(self.softhsm_dir, ignore_errors=True)
        os.makedirs(os.path.join(self.softhsm_dir, "tokens"), mode=0o700)
        with open(self.softhsm_conf, "w") as f:
            f.write(f"directories.tokendir = {self.softhsm_dir}/tokens\n"
                    "objectstore.backend = file\nlog.level = ERROR\n")
        env["SOFTHSM2_CONF"] = self.softhsm_conf
        with open(pinfile) as f:
            pin = f.read().strip()
        self._run(["softhsm2-util", "--init-token", "--free", "--label", self.TOKEN_LABEL,
                   "--pin", pin, "--so-pin", secrets.token_hex(8)],
                  "softhsm2-util --init-token", env=env)
        return ["--pkcs11-module", self.SOFTHSM_MODULE, "--token", self.TOKEN_LABEL]

    def _own_token(self):
        """signerd's user owns the token, as on a signing host"""
        if self.token and self.root and os.path.isdir(self.softhsm_dir):
            pw = pwd.getpwnam(SIGNERD_USER)
            for dirpath, dirnames, filenames in os.walk(self.softhsm_dir):
                for n in [dirpath] + [os.path.join(dirpath, x) for x in filenames]:
                    os.chown(n, pw.pw_uid, pw.pw_gid)

    OPENPGP_UID = "CAcert Demo OpenPGP Signing Key <openpgp@cacert.localhost>"

    @property
    def openpgp_home(self):
        return os.path.join(self.ca_dir, "openpgp")

    def openpgp_fpr(self):
        with open(os.path.join(self.ca_dir, "openpgp.fpr")) as f:
            return f.read().strip()

    def ensure_openpgp(self):
        """The CA's OpenPGP key (once per DIR): made with gpg in its own home
        directory for signerd (protected with the stack's passphrase), its
        public key exported to the web side.  Never committed."""
        pub = os.path.join(self.ca_dir, "web", "openpgp.asc")
        if os.path.exists(pub) and os.path.exists(os.path.join(self.ca_dir, "openpgp.fpr")):
            return
        home = self.openpgp_home
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(home, mode=0o700)
        # every certification unlocks the key in gpg-agent again (the
        # passphrase's KDF): a cheap one for the demo (signerd rewrites this
        # file at start; the key keeps the protection it got here)
        with open(os.path.join(home, "gpg-agent.conf"), "w") as f:
            f.write("s2k-calibration 20\n")
        gpg = ["gpg", "--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback",
               "--passphrase-file", self.passphrase_file]
        try:
            self._run(gpg + ["--quick-gen-key", self.OPENPGP_UID, "rsa3072", "cert", "5y"],
                      "gpg --quick-gen-key (the CA's OpenPGP key)")
            out = subprocess.run(["gpg", "--homedir", home, "--batch", "--with-colons",
                                  "--list-secret-keys"], capture_output=True, text=True,
                                 check=True, timeout=60).stdout
            fpr = [l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:")][0]
            asc = subprocess.run(["gpg", "--homedir", home, "--batch", "--armor", "--export",
                                  fpr], capture_output=True, check=True, timeout=60).stdout
        finally:
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                           capture_output=True, timeout=30)
        with open(pub + ".tmp", "wb") as f:
            f.write(asc)
        os.chmod(pub + ".tmp", 0o644)
        os.rename(pub + ".tmp", pub)
        with open(os.path.join(self.ca_dir, "openpgp.fpr"), "w") as f:
            f.write(fpr + "\n")

    def ensure_challenge_client(self):
        """The client certificate of a stand-in for the external Assurer
        Challenge system (mod_cacert_assure's CAcertChallengeImportClient):
        a CA of its own, added to the CAs mod_ssl accepts client
        certificates from, and a certificate with its key the tests use."""
        web = os.path.join(self.ca_dir, "web")
        crt = os.path.join(web, "challenge-client.crt")
        key_file = os.path.join(self.ca_dir, "challenge-client.key")
        ca_crt = os.path.join(web, "challenge-ca.crt")
        if not (os.path.exists(crt) and os.path.exists(key_file) and os.path.exists(ca_crt)):
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
            now = datetime.datetime.utcnow()
            ca_key = ec.generate_private_key(ec.SECP256R1())
            ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                    "Demo Assurer Challenge CA")])
            ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
                  .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                  .not_valid_before(now - datetime.timedelta(minutes=5))
                  .not_valid_after(now + datetime.timedelta(days=3650))
                  .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                  .add_extension(x509.KeyUsage(digital_signature=False, key_encipherment=False,
                                               content_commitment=False, data_encipherment=False,
                                               key_agreement=False, key_cert_sign=True,
                                               crl_sign=True, encipher_only=False,
                                               decipher_only=False), critical=True)
                  .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                                 critical=False)
                  .sign(ca_key, hashes.SHA256()))
            key = ec.generate_private_key(ec.SECP256R1())
            cert = (x509.CertificateBuilder()
                    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                                "challenge.localhost")]))
                    .issuer_name(ca_name).public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(minutes=5))
                    .not_valid_after(now + datetime.timedelta(days=3650))
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                   critical=False)
                    .sign(ca_key, hashes.SHA256()))
            with open(key_file, "wb") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
            for path, c in ((crt, cert), (ca_crt, ca)):
                with open(path, "wb") as f:
                    f.write(c.public_bytes(serialization.Encoding.PEM))
                os.chmod(path, 0o644)
        bundle = os.path.join(web, "clientauth.pem")
        with open(ca_crt) as f:
            ca_pem = f.read()
        with open(bundle) as f:
            have = f.read()
        if ca_pem not in have:
            with open(bundle, "a") as f:
                f.write(ca_pem)
        self.challenge_cert = crt
        self.challenge_key = key_file

    def start_relay(self):
        pid = self.pids.get("relay") or read_pidfile(os.path.join(self.line_dir, "relay.pid"))
        if pid and pid_alive(pid) and os.path.exists(os.path.join(self.line_dir, "link.tty")):
            self.pids["relay"] = pid
            return
        os.makedirs(self.line_dir, exist_ok=True)
        if self.root:
            os.chmod(self.line_dir, 0o755)
        argv = [sys.executable, os.path.join(self.repo, "tools", "serial-relay.py"),
                "--dir", self.line_dir]
        if self.root:
            argv += ["--owner", HTTPD_USER]
        if getattr(self, "relay_baud", 0):
            argv += ["--baud", str(self.relay_baud)]
        log = open(self.relay_log, "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True, cwd=self.dir)
        log.close()
        deadline = time.monotonic() + 15
        while not (os.path.exists(os.path.join(self.line_dir, "link.tty"))
                   and os.path.exists(os.path.join(self.line_dir, "relay.sock"))):
            if p.poll() is not None or time.monotonic() > deadline:
                raise StackError("serial relay did not start; see " + self.relay_log)
            time.sleep(0.02)
        self.pids["relay"] = p.pid

    def stop_relay(self):
        pid = self.pids.get("relay") or read_pidfile(os.path.join(self.line_dir, "relay.pid"))
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            if not wait_pid_gone(pid, 5):
                os.kill(pid, signal.SIGKILL)
                wait_pid_gone(pid, 5)
        self.pids.pop("relay", None)

    def _release_line(self):
        """A link that died with the line open (httpd killed) left the pty
        exclusive: the relay gives that up before a new httpd opens it."""
        pid = self.pids.get("relay") or read_pidfile(os.path.join(self.line_dir, "relay.pid"))
        if pid and pid_alive(pid):
            try:
                self.relay("release")
            except OSError:
                pass

    def relay(self, command, timeout=5):
        """Send a command to the serial relay (flip-next-to-signer N, stats, ...)."""
        import socket
        me = os.path.join(self.line_dir, f"ctl-{os.getpid()}.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            if os.path.exists(me):
                os.unlink(me)
            sock.bind(me)
            sock.settimeout(timeout)
            sock.sendto(command.encode(), os.path.join(self.line_dir, "relay.sock"))
            return sock.recv(256).decode()
        finally:
            sock.close()
            if os.path.exists(me):
                os.unlink(me)

    def write_signerd_conf(self, deadman=60, extra=(), replace=()):
        lines = [f"device {self.line_dir}/signer.tty", "baud 115200",
                 f"journal {self.signer_dir}/journal", f"deadman {deadman}"]
        if self.root:
            lines.append(f"user {SIGNERD_USER}")
        base = f"http://localhost:{self.http_port}/pki"
        if self.token:
            lines.append(f"pkcs11-module {self.SOFTHSM_MODULE}")
        for name, profiles, days, wild, sans in self.SIGNER_CAS:
            key = f"{self.ca_dir}/signer/{name}.key"
            if self.token:
                with open(f"{self.ca_dir}/signer/{name}.uri") as f:
                    key = f.read().strip()
            lines.append(f"ca {name} cert={self.ca_dir}/signer/{name}.crt "
                         f"key={key} profiles={profiles} "
                         f"max_days={days} md=sha256,sha384,sha512 "
                         f"ocsp=http://localhost:{self.http_port}/ocsp crl={base}/{name}.crl "
                         f"issuers={base}/{name}.cer cps=https://www.cacert.org/policy/ "
                         f"wildcards={wild} max_sans={sans}")
        if os.path.exists(os.path.join(self.ca_dir, "openpgp.fpr")):
            lines.append(f"openpgp home={self.openpgp_home} fpr={self.openpgp_fpr()} days=365 "
                         f"digest=sha256 cps=https://www.cacert.org/policy/")
        lines.extend(extra)
        text = "\n".join(lines) + "\n"
        for old, new in replace:
            text = text.replace(old, new)
        with open(self.signerd_conf, "w") as f:
            f.write(text)

    def ensure_signerd_user(self):
        """As root: signerd's own system user exists and owns the OpenPGP
        home (signerd runs gpg as that user after dropping privileges; it
        opens its keys and journal before)."""
        if not self.root:
            return
        try:
            pwd.getpwnam(SIGNERD_USER)
        except KeyError:
            _log(f"creating the system user {SIGNERD_USER} for signerd")
            self._run(["useradd", "--system", "--user-group", "--no-create-home",
                       "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                       SIGNERD_USER], "useradd " + SIGNERD_USER)
        home = self.openpgp_home
        if os.path.isdir(home):
            uid, gid, _ = _user_ids(SIGNERD_USER)
            for dirpath, dirnames, filenames in os.walk(home):
                for n in dirnames + filenames:
                    os.lchown(os.path.join(dirpath, n), uid, gid)
            os.chown(home, uid, gid)

    def start_signerd(self, deadman=60, extra=(), replace=()):
        """Start signerd on the signer end of the line (restarting it);
        replace: (old, new) text replacements in its configuration."""
        self.stop_signerd()
        self.ensure_signerd_user()
        os.makedirs(self.signer_dir, exist_ok=True)
        self.write_signerd_conf(deadman, extra, replace)
        env = dict(os.environ)
        if self.asan:
            env.update(self.tool_san_env())
        if self.token:
            env["SOFTHSM2_CONF"] = self.softhsm_conf
            self._own_token()
        log = open(self.signerd_log, "ab")
        p = subprocess.Popen([os.path.join(self.builddir, "signerd", "signerd"),
                              "-c", self.signerd_conf, "--passphrase-file",
                              self.passphrase_file, "--foreground"],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True, cwd=self.dir, env=env)
        log.close()
        self.pids["signerd"] = p.pid
        self._signerd_proc = p
        if os.path.exists(self.state_file):
            self.save()                 # "status" from another process sees it
        return p

    def stop_signerd(self, sig=signal.SIGTERM):
        pid = self.pids.get("signerd")
        if pid and pid_alive(pid):
            os.kill(pid, sig)
            if not wait_pid_gone(pid, 10):
                os.kill(pid, signal.SIGKILL)
                wait_pid_gone(pid, 5)
        proc = getattr(self, "_signerd_proc", None)
        if proc is not None:
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            self._signerd_proc = None
        self.pids.pop("signerd", None)

    # ---- TLS --------------------------------------------------------------

    def ensure_cert(self):
        """The HTTPS certificate: a small demo TLS CA (CA:TRUE, path length 0,
        made once per DIR; the file clients trust is self.cert_file) and a
        localhost/127.0.0.1 server certificate it signs (renewed when it has
        less than 2 days left).  A CA and a leaf, as in the world: curl,
        Python, OpenSSL and browsers all accept a CA as trust anchor, not a
        self-signed CA:FALSE leaf."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
        os.makedirs(self.tlsdir, exist_ok=True)
        os.chmod(self.tlsdir, 0o755)
        now = datetime.datetime.utcnow()

        def load(path):
            try:
                with open(path, "rb") as f:
                    return x509.load_pem_x509_certificate(f.read())
            except (OSError, ValueError):
                return None

        def write(path, data, mode, group=None):
            tmp = path + ".tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, mode)
            if group is not None:
                os.chown(tmp, 0, group)
            os.rename(tmp, path)

        def key_usage(sign):
            return x509.KeyUsage(digital_signature=not sign, key_encipherment=False,
                                 content_commitment=False, data_encipherment=False,
                                 key_agreement=False, key_cert_sign=sign, crl_sign=sign,
                                 encipher_only=False, decipher_only=False)

        ca = load(self.cert_file)
        if (ca is None or not os.path.exists(self.tls_ca_key)
                or ca.not_valid_after - now < datetime.timedelta(days=30)):
            _log("generating the demo TLS CA")
            ca_key = ec.generate_private_key(ec.SECP256R1())
            ca_name = x509.Name([
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cacert-httpd local stack"),
                x509.NameAttribute(NameOID.COMMON_NAME,
                                   f"cacert-httpd demo TLS CA {secrets.token_hex(4)}")])
            ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
            ca = (x509.CertificateBuilder()
                  .subject_name(ca_name).issuer_name(ca_name)
                  .public_key(ca_key.public_key())
                  .serial_number(x509.random_serial_number())
                  .not_valid_before(now - datetime.timedelta(minutes=5))
                  .not_valid_after(now + datetime.timedelta(days=3650))
                  .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                  .add_extension(key_usage(True), critical=True)
                  .add_extension(ski, critical=False)
                  .sign(ca_key, hashes.SHA256()))
            write(self.tls_ca_key, ca_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()), 0o600)
            write(self.cert_file, ca.public_bytes(serialization.Encoding.PEM), 0o644)
            leaf = None
        else:
            leaf = load(self.tls_cert)
        if (leaf is not None and os.path.exists(self.key_file)
                and leaf.issuer == ca.subject
                and leaf.not_valid_after - now > datetime.timedelta(days=2)):
            return
        _log("generating the localhost TLS certificate (signed by the demo TLS CA)")
        with open(self.tls_ca_key, "rb") as f:
            ca_key = serialization.load_pem_private_key(f.read(), None)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cacert-httpd local stack"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        leaf = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(ca.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=365))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(key_usage(False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        write(self.key_file, key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()), 0o640,
              grp.getgrnam(HTTPD_USER).gr_gid if self.root else None)
        # the leaf and then the CA: httpd sends the chain
        write(self.tls_cert, leaf.public_bytes(serialization.Encoding.PEM)
              + ca.public_bytes(serialization.Encoding.PEM), 0o644)

    # ---- httpd ------------------------------------------------------------

    def render_conf(self, overrides=None):
        """httpd.conf.in filled in; overrides: {VARIABLE: value} over the
        stack's own (another frontend's ports and directories)."""
        with open(os.path.join(self.repo, "conf", "stack", "httpd.conf.in")) as f:
            text = f.read()
        if not self.modules:
            text = re.sub(r"(?ms)^#@CACERT_BEGIN@$.*?^#@CACERT_END@$\n?", "", text)
        else:
            text = text.replace("#@CACERT_BEGIN@\n", "").replace("#@CACERT_END@\n", "")
        user_group = (f"User {HTTPD_USER}\nGroup {HTTPD_USER}\n"
                      f"CoreDumpDirectory \"{self.rundir}\"") if self.root else \
            "# not started as root: children keep the caller's user"
        values = {
            "DIR": self.dir, "RUNDIR": self.rundir, "LOGDIR": self.logdir,
            "HTTPD_MODDIR": HTTPD_MODDIR, "USER_GROUP": user_group,
            "HTDOCS": self.htdocs, "PORT": str(self.port),
            "TLS_CERT": self.tls_cert, "TLS_KEY": self.key_file,
            "PGSOCK": self.pg_socket_dir, "BUILDDIR": self.builddir,
            "TEMPLATES": self.templates, "SMTP_PORT": str(self.smtp_port),
            "ARGON2": self.argon2, "HTTP_PORT": str(self.http_port),
            "CA_DIR": self.ca_dir, "LINE_DIR": self.line_dir,
            "HELP": self.help, "LOCALE": self.locale,
            "GRACEFUL": "30" if self.asan else "5",
            "EXTRA_CONF": "\n".join(self.demo_conf() + self.extra_conf),
        }
        values.update(overrides or {})

        def sub(m):
            k = m.group(1)
            if k not in values:
                raise StackError(f"httpd.conf.in: unknown variable @{k}@")
            return values[k]
        # EXTRA_CONF last and literally, so its content is never re-expanded
        return re.sub(r"@([A-Z][A-Z0-9_]*)@", sub, text)

    def start_ocsp_frontend(self, name="b", dbd_params=None, cache=None, extra=()):
        """A second host's OCSP responder (conf/stack/ocsp-frontend.conf.in):
        an httpd of its own with its own cache, on a port of its own, on this
        stack's database and CA files, without a signer link.  dbd_params,
        cache (CAcertOCSPCache) and extra lines change that (a hot standby,
        a shared cache: tools/dbcluster.py).  Returns an OCSPFrontend (.url
        of its /ocsp, .status(), .stop())."""
        return OCSPFrontend(self, name, dbd_params, cache, extra).start()

    def write_conf(self):
        text = self.render_conf()
        tmp = self.conf_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.conf_file)

    def _check_readable_by_httpd(self):
        """As root, httpd's children (www-data) read templates and htdocs at
        request time and write sanitizer logs: make sure they can."""
        if not self.root:
            return
        for attr in ("htdocs", "templates", "help", "locale"):
            path = getattr(self, attr)
            if not os.path.exists(path):
                continue
            if make_tree_readable(path, HTTPD_USER, self.repo):
                continue
            # Blocked above the repo (e.g. a clone in /root): use a copy.
            copy = os.path.join(self.shared, "share", attr)
            _log(f"{path} is not readable by {HTTPD_USER}; serving a copy from {copy}")
            if os.path.exists(copy):
                shutil.rmtree(copy)
            shutil.copytree(path, copy)
            make_tree_readable(copy, HTTPD_USER, self.shared)
            setattr(self, attr, copy)
        if self.modules and os.path.exists(self.module_so):
            # the master loads modules as root; children only need it mapped.
            pass

    def httpd_env(self):
        env = dict(os.environ)
        env.update(self.san_env())
        env.setdefault("LANG", "C")
        return env

    def httpd_pid(self):
        pid = read_pidfile(os.path.join(self.rundir, "httpd.pid"))
        return pid if pid and pid_alive(pid) else None

    def _is_our_httpd(self, pid):
        cmd = proc_cmdline(pid)
        return bool(cmd) and self.conf_file.encode() in cmd and cmd[0].endswith(b"apache2")

    def _clear_dead_httpd(self):
        """What a master killed without a stop leaves behind: its pid file
        (httpd refuses to start while the pid in it exists, and a killed
        master is a zombie until its parent reaps it; the pid may also have
        gone to another process since) and its children, which hold the port
        until they notice."""
        pidfile = os.path.join(self.rundir, "httpd.pid")
        pid = read_pidfile(pidfile)
        # (a master killed a moment ago may still be on its way out)
        if pid and pid_alive(pid) and self._is_our_httpd(pid) and not wait_pid_gone(pid, 2):
            return False
        if pid:
            # dead, a zombie, or somebody else's now: give the old master time
            # to be reaped (ours is reaped by pid_alive), then drop the file
            wait_pid_gone(pid, 5)
            try:
                os.unlink(pidfile)
                _log(f"removed the stale pid file of httpd (pid {pid})")
            except FileNotFoundError:
                pass
        orphans = self._httpd_children()
        if orphans:
            _log(f"ending {len(orphans)} children of a killed httpd")
            for c in orphans:
                try:
                    os.kill(c, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for c in orphans:
                wait_pid_gone(c, 10)
        return True

    def start_httpd(self):
        if self.modules and not os.path.exists(self.module_so):
            raise StackError(f"module not built: {self.module_so} (run scripts/setup, "
                             "or start with --no-modules)")
        for d in (self.rundir, self.logdir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        if self.asan:
            os.makedirs(self.san_logdir, exist_ok=True)
            # children run as www-data when started as root and write reports here
            os.chmod(self.san_logdir, 0o1777 if self.root else 0o755)
        self._check_readable_by_httpd()
        self.write_conf()
        if not self._clear_dead_httpd():
            raise StackError(f"httpd already runs with {self.conf_file} (stop it first)")
        # a port the old httpd's last child just let go of may still answer
        # for a moment
        deadline = time.monotonic() + 10
        while port_in_use(self.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        if port_in_use(self.port):
            raise StackError(f"port {self.port} on 127.0.0.1 is already in use "
                             "(set another with --port / CACERT_PORT)")
        env = self.httpd_env()
        tenv = dict(env)
        if self.asan:   # the syntax check process leaks what any httpd leaks: don't report
            tenv["ASAN_OPTIONS"] += ":detect_leaks=0"
        r = subprocess.run([HTTPD_BIN, "-t", "-f", self.conf_file], capture_output=True,
                           text=True, env=tenv, cwd=self.dir)
        if r.returncode != 0:
            raise StackError(f"httpd configuration test failed:\n{r.stdout}{r.stderr}")
        self._release_line()
        _log(f"starting httpd on {self.url}")
        try:
            log_start = os.path.getsize(self.error_log)
        except OSError:
            log_start = 0
        # In the foreground (no daemonizing parent that would exit, and be
        # leak-checked, on its own), in a session of its own so it outlives
        # the command line tool; output before ErrorLog opens goes to a file.
        self.httpd_stderr = os.path.join(self.logdir, "httpd.stderr")
        out = open(self.httpd_stderr, "ab")
        proc = subprocess.Popen([HTTPD_BIN, "-f", self.conf_file, "-DFOREGROUND"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                env=env, cwd=self.dir, start_new_session=True)
        out.close()
        self._httpd_proc = proc
        pid = proc.pid
        self._httpd_log_start = log_start
        deadline = time.monotonic() + (60 if self.asan else 30)
        while True:
            if proc.poll() is not None:
                raise StackError(f"httpd exited during start-up (exit {proc.returncode})"
                                 + self._file_tail(self.httpd_stderr) + self._error_log_tail())
            if self._tls_answers():
                break
            if time.monotonic() > deadline:
                raise StackError(f"httpd did not answer on port {self.port}" + self._error_log_tail())
            time.sleep(0.05)
        self.pids["httpd"] = pid
        bad = self.mismatch_lines(log_start)
        if bad:
            raise StackError("httpd runs with modules built against other library versions "
                             "than the installed ones; run scripts/setup (it brings every "
                             "package to the archive's version):\n" + "\n".join(bad))

    # mod_ssl (AH01882) or any module telling that it was built against
    # another version of a library than the one loaded
    MISMATCH_RE = re.compile(r"AH01882|compiled against a (newer|different) (library|version)")

    def error_log_lines(self, start=0, match=lambda line: True):
        """Error-log lines from byte offset start on that match."""
        try:
            with open(self.error_log, "rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return [l for l in text.splitlines() if match(l)]

    def mismatch_lines(self, start=0):
        """Error-log lines since byte offset start that tell of a library
        version mismatch."""
        return self.error_log_lines(start, self.MISMATCH_RE.search)

    def _tls_answers(self, port=None):
        """A TLS handshake on port (the stack's httpd's by default) works:
        httpd binds its port long before its children answer."""
        ctx = ssl.create_default_context(cafile=self.cert_file)
        try:
            with socket.create_connection(("127.0.0.1", port or self.port), timeout=2) as s:
                with ctx.wrap_socket(s, server_hostname="localhost"):
                    return True
        except (OSError, ssl.SSLError):
            return False

    def _file_tail(self, path, n=30):
        try:
            with open(path, errors="replace") as f:
                lines = f.readlines()[-n:]
        except OSError:
            return ""
        return f"\n--- last lines of {path} ---\n" + "".join(lines) if lines else ""

    def _error_log_tail(self, n=30):
        return self._file_tail(self.error_log, n)

    def stop_httpd(self):
        pid = self.httpd_pid() or (self.pids.get("httpd") if pid_alive(self.pids.get("httpd")) else None)
        if not pid:
            self._clear_dead_httpd()
            self.pids.pop("httpd", None)
            return
        _log("stopping httpd")
        # A graceful stop ("apache2 -k graceful-stop") lets the workers finish
        # and close idle keep-alive connections themselves; a plain SIGTERM
        # races with them (AH03093 "apr_pollset_add failure for keep alive").
        # GracefulShutdownTimeout in the config bounds it; SIGTERM after that.
        try:
            os.kill(pid, signal.SIGWINCH)
        except ProcessLookupError:
            pass
        if not wait_pid_gone(pid, 45 if self.asan else 15):
            _log("httpd did not stop gracefully in time; sending SIGTERM")
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        # leak checking under ASan makes exit slower
        if not wait_pid_gone(pid, 60 if self.asan else 30):
            _log("httpd did not stop in time; killing it")
            try:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            except OSError:
                os.kill(pid, signal.SIGKILL)
            wait_pid_gone(pid, 5)
        if read_pidfile(os.path.join(self.rundir, "httpd.pid")) == pid:
            # the master died without removing its pid file (it was killed):
            # its children stay until they are ended
            self._clear_dead_httpd()
        # children finish their leak reports after the master is gone
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self._httpd_children():
            time.sleep(0.1)
        self.pids.pop("httpd", None)

    def _httpd_children(self):
        """Live processes still running with our config file."""
        return [int(p) for p in os.listdir("/proc")
                if p.isdigit() and self._is_our_httpd(int(p)) and pid_alive(int(p))]

    # ---- whole stack ------------------------------------------------------

    def start(self):
        """Start everything (restarting what already runs in this DIR)."""
        if os.path.exists(self.state_file):
            try:
                old = Stack.load(self.dir)
                if old.status()["running"]:
                    _log(f"{self.dir} is running: restarting it")
                old.stop()
            except (OSError, ValueError, KeyError) as e:
                _log(f"ignoring unreadable {self.state_file}: {e}")
        os.makedirs(self.dir, exist_ok=True)
        if self.root:
            os.chmod(self.dir, os.stat(self.dir).st_mode | 0o055)
        self._layout(self._choose_shared())
        for d in (self.rundir, self.logdir):
            os.makedirs(d, exist_ok=True)
        self.pids = {}
        self.save()
        try:
            self.start_postgres()
            self.save()
            self.start_sink()
            self.save()
            if self.demo:
                self.start_demozone()
                self.save()
            self.ensure_cert()
            if self.modules:
                self.ensure_ca()
                self.ensure_openpgp()
                self.ensure_challenge_client()
                self.start_relay()
                self.start_signerd()
                self.save()
            self.start_httpd()
            self.save()
            self.wait_healthy()
            if self.demo and self.modules:
                self.seed_demo_assurers()
        except BaseException:
            try:
                self.stop()
            except Exception as e:  # keep the original error
                _log(f"cleanup after failed start: {e}")
            raise
        self._error_watch = LogWatcher(self.error_log, from_end=False)
        return self

    def stop(self):
        """Stop httpd, the sink and PostgreSQL; fine if nothing runs."""
        errors = []
        for step in (self.stop_httpd, self.stop_signerd, self.stop_relay, self.stop_sink,
                     self.stop_demozone, self.stop_postgres):
            try:
                step()
            except Exception as e:
                errors.append(str(e))
        self.pids = {}
        if os.path.isdir(self.dir):
            self.save()
        if errors:
            raise StackError("; ".join(errors))

    def restart(self, extra_conf=None, argon2=None):
        """Restart httpd with a fresh configuration (a new master process, so
        every directive is re-read); PostgreSQL and the sink keep running.
        extra_conf replaces the extra lines when given."""
        if extra_conf is not None:
            self.extra_conf = list(extra_conf)
        if argon2 is not None:
            self.argon2 = " ".join(str(argon2).split())
        self.stop_httpd()
        self.start_httpd()
        self.save()

    reload = restart

    @contextmanager
    def configured(self, lines):
        """with stack.configured(["CAcertX 3"]): ... -- httpd runs with the
        extra lines inside the block and without them afterwards."""
        old = list(self.extra_conf)
        self.restart(old + list(lines))
        try:
            yield self
        finally:
            self.restart(old)

    # ---- health: each part answering -----------------------------------------

    PARTS = ("postgres", "mail sink", "httpd", "signer", "ocsp")

    def _check_postgres(self):
        try:
            r = self.psql("SELECT count(*) FROM schema_migrations", check=False)
        except (OSError, subprocess.SubprocessError, StackError) as e:
            return False, str(e)
        if r.returncode != 0:
            return False, (r.stderr or r.stdout).strip().splitlines()[-1:] or ["psql failed"]
        return True, f"answers on {self.pg_socket_dir} ({r.stdout.strip()} migrations)"

    def _check_sink(self):
        pid = self.pids.get("sink")
        if not pid_alive(pid):
            return False, "not running" + self._file_tail(self.sink_log, 5)
        try:
            with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=5) as c:
                banner = c.recv(256)
        except OSError as e:
            return False, f"SMTP on 127.0.0.1:{self.smtp_port}: {e}"
        if not banner.startswith(b"220"):
            return False, f"SMTP on 127.0.0.1:{self.smtp_port} greets with {banner[:60]!r}"
        return True, f"SMTP on 127.0.0.1:{self.smtp_port}"

    def _check_httpd(self):
        import urllib.error
        import urllib.request
        if not self.httpd_pid():
            return False, "not running" + self._error_log_tail(5)
        ctx = ssl.create_default_context(cafile=self.cert_file)
        path = "/account/login" if self.modules else "/static/"
        try:
            with urllib.request.urlopen(self.url + path, context=ctx, timeout=10) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        except (OSError, ssl.SSLError) as e:
            return False, f"GET {self.url}{path}: {e}"
        ok = code == 200 or (not self.modules and code in (403, 404))
        return ok, f"GET {self.url}{path}: HTTP {code}"

    def _signer_log_lines(self, tags):
        return self.error_log_lines(getattr(self, "_httpd_log_start", 0),
                                    lambda l: any(t in l for t in tags))

    def _check_signer(self):
        pid = self.pids.get("signerd")
        if not pid_alive(pid):
            why = [l for l in self._file_tail(self.signerd_log, 40).splitlines()
                   if "[error]" in l or "[crit]" in l or "[alert]" in l or "[emerg]" in l]
            return False, ("signerd is not running: "
                           + ("\n".join(why[-3:]) if why
                              else "see " + self.signerd_log + self._file_tail(self.signerd_log, 5)))
        # the signer link in httpd logs CA21103 each time signerd answers HELLO
        # (and CA21109 while it cannot open the line)
        lines = self._signer_log_lines(("CA21103", "CA21109", "CA21108"))
        if lines and "CA21103" in lines[-1]:
            return True, f"signerd (pid {pid}) answers HELLO on {self.line_dir}/link.tty"
        if lines:
            return False, lines[-1]
        return False, "signerd has not answered HELLO on the line yet"

    def _check_ocsp(self):
        web = os.path.join(self.ca_dir, "web")
        serial = "0x" + secrets.token_hex(12)
        try:
            r = subprocess.run(["openssl", "ocsp", "-issuer", os.path.join(web, "member.crt"),
                                "-serial", serial, "-url", self.http_url + "/ocsp",
                                "-CAfile", os.path.join(web, "root.crt"),
                                "-verify_other", os.path.join(web, "member.crt"),
                                "-timeout", "10"],
                               capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as e:
            return False, f"openssl ocsp: {e}"
        out = (r.stdout + r.stderr).strip()
        if r.returncode == 0 and "Response verify OK" in out and f"{serial}:" in out:
            return True, f"{self.http_url}/ocsp answers, signed (a random serial: " \
                         f"{out.split(serial + ':', 1)[1].split()[0]})"
        return False, f"{self.http_url}/ocsp: " + " / ".join(out.splitlines()[-3:])

    def health(self):
        """{part: (ok, detail)} for each part the stack runs."""
        checks = {"postgres": self._check_postgres, "mail sink": self._check_sink,
                  "httpd": self._check_httpd}
        if self.modules:
            checks.update({"signer": self._check_signer, "ocsp": self._check_ocsp})
        return {name: fn() for name, fn in checks.items()}

    def wait_healthy(self, timeout=None):
        """Until every part answers: raise StackError naming the first part
        that does not, with the log line that says why."""
        if timeout is None:
            timeout = 120 if self.asan else 60
        deadline = time.monotonic() + timeout
        while True:
            h = self.health()
            bad = [(n, d) for n, (ok, d) in h.items() if not ok]
            signer_dead = any(n == "signer" and "not running" in str(d) for n, d in bad)
            if not bad:
                return h
            if signer_dead or time.monotonic() > deadline:
                name, detail = bad[0]
                raise StackError(f"{name} is not working: {detail}")
            time.sleep(0.2)

    def status(self):
        st = {
            "dir": self.dir, "url": self.url,
            "httpd": self.httpd_pid(),
            "postgres": self.pg_running(),
            "sink": self.pids.get("sink") if pid_alive(self.pids.get("sink")) else None,
            "smtp_port": self.smtp_port, "maildir": self.maildir,
            "error_log": self.error_log, "pg_socket_dir": self.pg_socket_dir,
            "database": self.dsn, "tls_ca": self.cert_file,
        }
        st["running"] = bool(st["httpd"] or st["postgres"] or st["sink"])
        st["healthy"] = bool(st["httpd"] and st["postgres"] and st["sink"])
        return st

    # ---- mails ------------------------------------------------------------

    def mails(self, to=None, subject_contains=None):
        """All stored mails (oldest first), optionally only those to `to`."""
        out = []
        for p in maildir_files(self.maildir):
            try:
                m = read_mail(p)
            except OSError:
                continue
            if to and not m.addressed_to(to):
                continue
            if subject_contains and subject_contains not in str(m.get("Subject", "")):
                continue
            out.append(m)
        return out

    def wait_for_mail(self, to, subject_contains=None, timeout=30):
        """The oldest matching mail not yet returned by wait_for_mail; waits
        up to `timeout` seconds for one to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.mails(to, subject_contains):
                if m.path not in self._claimed:
                    self._claimed.add(m.path)
                    return m
            if time.monotonic() > deadline:
                have = [(m.get("To"), m.get("Subject")) for m in self.mails()]
                raise TimeoutError(f"no new mail to {to!r}"
                                   + (f" with subject containing {subject_contains!r}" if subject_contains else "")
                                   + f" within {timeout}s; mails present: {have}")
            time.sleep(0.05)

    def clear_mails(self):
        for p in maildir_files(self.maildir):
            try:
                os.unlink(p)
            except OSError:
                pass
        self._claimed.clear()

    # ---- logs -------------------------------------------------------------

    def error_log_watcher(self, from_end=True):
        return LogWatcher(self.error_log, from_end=from_end)


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def describe_mail(m):
    lines = [f"--- mail {time.strftime('%H:%M:%S')}: {os.path.basename(m.path)}",
             f"    From:    {m.get('From', '')}",
             f"    To:      {m.get('To', '') or ', '.join(m.envelope_to)}",
             f"    Subject: {m.get('Subject', '')}"]
    try:
        links = m.links
    except Exception:          # a malformed mail must not stop the watcher
        links = []
    for u in links:
        lines.append(f"    link:    {u}")
    return "\n".join(lines)


def banner(s, detached):
    ca = s.cert_file
    lines = ["", "  cacert-httpd is running: every part answered (scripts/run status shows them).", "",
             f"    Register:   {s.url}/account/register",
             f"    HTTPS:      signed by the demo's own TLS CA: trust {ca}",
             f"                (curl --cacert {ca}; Python: verify=\"{ca}\";",
             "                 browsers: import it as an authority for websites)",
             f"    Mails:      land in {s.maildir}/new (every message the system sends)",
             f"    Logs:       {s.logdir}/error.log, access.log, signerd.log",
             f"    Database:   psql \"{s.dsn}\""]
    if s.demo:
        lines += ["",
                  "    Domains:    the demo's own DNS and web server answer for any name, e.g.",
                  "                example.test (every name is 127.0.0.1).  Claim it at",
                  f"                {s.url}/domains/ and publish what the page asks for:",
                  "                  DNS check:  scripts/run publish-txt _cacert.example.test COOKIE",
                  "                  file check: scripts/run publish-file example.test COOKIE",
                  "                  email ping: the mail to postmaster@example.test lands in Mails"]
        logins = s.demo_assurer_logins()
        if logins:
            lines += ["",
                      "    Assurers:   two demo Assurers can assure you at /wot/assure (35 points",
                      "                each: 70 make you an Assured Member):"]
            lines += [f"                  {e}  password {p}" for e, p in logins]
    lines += ["", "    Stop:       scripts/run stop" + ("" if detached else "   (or Ctrl-C here)"), ""]
    return "\n".join(lines)


def watch_mail(stack, show_existing=False, interval=0.5):
    """Announce every new mail in the stack's Maildir until Ctrl-C or until
    the stack is stopped (e.g. by "scripts/run stop" elsewhere)."""
    seen = set() if show_existing else set(maildir_files(stack.maildir))
    last_check = time.monotonic()
    try:
        while True:
            for p in maildir_files(stack.maildir):
                if p in seen:
                    continue
                seen.add(p)
                try:
                    print(describe_mail(read_mail(p)), flush=True)
                except OSError:
                    pass
            if time.monotonic() - last_check > 2:
                last_check = time.monotonic()
                if not stack.httpd_pid():
                    print("cacertstack: httpd is no longer running; stopping the watch", flush=True)
                    return 3
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="cacertstack.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start", help="start (or restart) the stack in DIR")
    p.add_argument("--dir", required=True)
    p.add_argument("--builddir", default="build")
    p.add_argument("--port", type=int, default=8443, help="0 picks a free port")
    p.add_argument("--asan", action="store_true", help="httpd with the ASan/UBSan runtime preloaded")
    p.add_argument("--no-modules", action="store_true", help="httpd without the cacert modules")
    p.add_argument("--argon2", default=DEFAULT_ARGON2, help='"iterations memory_kib lanes"')
    p.add_argument("--sqldir", help="migrations directory (default: sql/ of the tree)")
    p.add_argument("--conf", action="append", default=[], help="extra httpd.conf line (repeatable)")
    p.add_argument("--json", action="store_true", help="print stack.json when started")
    p.add_argument("--demo", action="store_true",
                   help="the demo: a DNS and web server for the domain checks, demo Assurers")
    for name in ("stop", "status"):
        q = sub.add_parser(name)
        q.add_argument("--dir", required=True)
    q = sub.add_parser("banner", help="what scripts/run prints once the stack runs")
    q.add_argument("--dir", required=True)
    q.add_argument("--detached", default="0")
    for name, what in (("publish-txt", "NAME is the record's name, e.g. _cacert.example.test"),
                       ("publish-file", "NAME is the host, e.g. example.test")):
        q = sub.add_parser(name, help=f"the demo: publish VALUE ({what})")
        q.add_argument("--dir", required=True)
        q.add_argument("name")
        q.add_argument("value")
    q = sub.add_parser("watch-mail", help="print each new mail (From/To/Subject/links) "
                       "until interrupted or the stack stops")
    q.add_argument("--dir", required=True)
    q.add_argument("--all", action="store_true", help="also show mails already there")
    args = ap.parse_args(argv)

    try:
        if args.cmd == "start":
            s = Stack(args.dir, args.builddir, args.port, args.asan, not args.no_modules,
                      args.argon2, args.conf, args.sqldir, demo=args.demo)
            s.start()
            if args.json:
                print(json.dumps(s.to_json(), indent=2, sort_keys=True))
            else:
                print(f"cacert stack running: {s.url}/  (mail: {s.maildir}/new, "
                      f"logs: {s.logdir}, state: {s.state_file})")
            return 0
        state = os.path.join(os.path.abspath(args.dir), "stack.json")
        if not os.path.exists(state):
            if args.cmd == "stop":
                print(f"nothing to stop in {args.dir}")
                return 0
            print(f"no stack in {args.dir}")
            return 3
        s = Stack.load(args.dir)
        if args.cmd == "watch-mail":
            return watch_mail(s, args.all)
        if args.cmd == "banner":
            print(banner(s, args.detached == "1"))
            return 0
        if args.cmd in ("publish-txt", "publish-file"):
            if not s.demo:
                print("cacertstack: publish-txt and publish-file are for the demo (scripts/run)",
                      file=sys.stderr)
                return 2
            path = s.publish(args.cmd[len("publish-"):], args.name, args.value)
            print(f"published in {path}")
            return 0
        if args.cmd == "stop":
            s.stop()
            print(f"stopped the stack in {s.dir}")
            return 0
        st = s.status()
        for k in ("url", "httpd", "postgres", "sink", "smtp_port", "maildir", "error_log",
                  "pg_socket_dir", "database", "tls_ca"):
            print(f"{k:14} {st[k] if st[k] is not None else '-'}")
        health = s.health() if st["running"] else {}
        for part, (ok, detail) in health.items():
            first, *rest = str(detail).splitlines() or [""]
            print(f"{'  ' + part:14} {'ok  ' if ok else 'FAIL'} {first}")
            for line in rest:
                print(f"{'':19}{line}")
        healthy = bool(health) and all(ok for ok, _ in health.values())
        print(f"{'state':14} {'running' if healthy else ('partly running' if st['running'] else 'stopped')}")
        return 0 if healthy else 3
    except StackError as e:
        print(f"cacertstack: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
