# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Several member frontends for the tests and benchmarks (docs/scaling.md).

  fe = MemberFrontend(stack, "b").start()    # a second full httpd
  stack.start_signerd(extra=[fe.signerd_device_line()])   # signerd: two lines
  lb = Haproxy(stack, [stack, fe]).start()   # round robin in front of both
  ...
  fe.kill9()          # the master and its children, as a dead host
  fe.start()          # again (its line given up first)
  lb.stop(); fe.stop()

A MemberFrontend is a second web host: every module, the whole site from
conf/stack/httpd.conf.in, its own ports, run and log directories, and its
own signer line -- a second pty pair (tools/serial-relay.py) whose far end
is signerd's second `device`.  It shares the stack's database, mail sink,
TLS certificate and CA files.  Haproxy balances TCP connections (TLS passes
through) round robin over the frontends, on the loopback.
"""

import os
import signal
import subprocess
import sys
import time

from cacertstack import (HTTPD_BIN, HTTPD_USER, StackError, _log, end_process, free_port,
                         pid_alive, read_pidfile, wait_listening, wait_pid_gone)

HAPROXY_BIN = "/usr/sbin/haproxy"


class MemberFrontend:
    """A second full member frontend of a Stack (see the module's doc)."""

    def __init__(self, stack, name="b", extra=()):
        self.stack = stack
        self.name = name
        self.extra = list(extra)       # lines after the stack's own extra lines
        self.dir = os.path.join(stack.shared, f"member-{name}")
        self.rundir = os.path.join(self.dir, "run")
        self.logdir = os.path.join(self.dir, "logs")
        self.line_dir = os.path.join(stack.shared, f"line-{name}")
        self.conf_file = os.path.join(self.dir, "httpd.conf")
        self.error_log = os.path.join(self.logdir, "error.log")
        self.access_log = os.path.join(self.logdir, "access.log")
        self.relay_log = os.path.join(self.logdir, "relay.log")
        self.port = free_port()
        self.http_port = free_port()
        while self.http_port == self.port:
            self.http_port = free_port()
        self.proc = None
        self.relay_proc = None

    @property
    def url(self):
        return f"https://localhost:{self.port}"

    def signerd_device_line(self):
        """The line for signerd's config: its end of this frontend's cable."""
        return f"device {self.line_dir}/signer.tty"

    # ---- the line ------------------------------------------------------

    def start_relay(self):
        if self.relay_proc and self.relay_proc.poll() is None:
            return
        st = self.stack
        os.makedirs(self.line_dir, exist_ok=True)
        os.makedirs(self.logdir, exist_ok=True)
        if st.root:
            os.chmod(self.line_dir, 0o755)
        argv = [sys.executable, os.path.join(st.repo, "tools", "serial-relay.py"),
                "--dir", self.line_dir]
        if st.root:
            argv += ["--owner", HTTPD_USER]
        log = open(self.relay_log, "ab")
        self.relay_proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=log, start_new_session=True, cwd=self.dir)
        log.close()
        deadline = time.monotonic() + 15
        while not (os.path.exists(os.path.join(self.line_dir, "link.tty"))
                   and os.path.exists(os.path.join(self.line_dir, "relay.sock"))):
            if self.relay_proc.poll() is not None or time.monotonic() > deadline:
                raise StackError("serial relay did not start; see " + self.relay_log)
            time.sleep(0.02)

    def relay(self, command, timeout=5):
        """A command to this line's relay (stats, release, ...)."""
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

    def stop_relay(self):
        if self.relay_proc and self.relay_proc.poll() is None:
            self.relay_proc.terminate()
            try:
                self.relay_proc.wait(5)
            except subprocess.TimeoutExpired:
                self.relay_proc.kill()
                self.relay_proc.wait(5)

    # ---- httpd ---------------------------------------------------------

    def render_conf(self):
        """The stack's site with this host's directories, ports and line
        (and this host's extra lines after the stack's)."""
        st = self.stack
        over = {"DIR": self.dir, "RUNDIR": self.rundir, "LOGDIR": self.logdir,
                "PORT": str(self.port), "HTTP_PORT": str(self.http_port),
                "LINE_DIR": self.line_dir}
        if self.extra:
            over["EXTRA_CONF"] = "\n".join(st.demo_conf() + st.extra_conf + self.extra)
        return st.render_conf(over)

    def start(self):
        st = self.stack
        for d in (self.dir, self.rundir, self.logdir):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        self.start_relay()
        with open(self.conf_file, "w") as f:
            f.write(self.render_conf())
        os.chmod(self.conf_file, 0o644)
        self._clear_dead()
        # a link killed with its line open left the pty exclusive
        try:
            self.relay("release")
        except OSError:
            pass
        out = open(os.path.join(self.logdir, "httpd.stderr"), "ab")
        self.proc = subprocess.Popen([HTTPD_BIN, "-f", self.conf_file, "-DFOREGROUND"],
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                     env=st.httpd_env(), cwd=self.dir, start_new_session=True)
        out.close()
        # answering, not only bound: the master binds the port before its
        # configuration hooks run, which take long under ASan
        deadline = time.monotonic() + (90 if st.asan else 30)
        while not st._tls_answers(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise StackError(f"member frontend {self.name} did not start "
                                 f"(exit {self.proc.poll()})" + st._file_tail(self.error_log)
                                 + st._file_tail(os.path.join(self.logdir, "httpd.stderr")))
            time.sleep(0.05)
        _log(f"member frontend {self.name} on {self.url}")
        return self

    def pids(self):
        """The master and its children (our config file on their command line)."""
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if self.conf_file.encode() in cmd and pid_alive(int(p)):
                out.append(int(p))
        return out

    def _clear_dead(self):
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_pid_gone(pid, 10)
        pidfile = os.path.join(self.rundir, "httpd.pid")
        if os.path.exists(pidfile) and not pid_alive(read_pidfile(pidfile)):
            os.unlink(pidfile)

    def kill9(self):
        """kill -9 of the master and every child: a host that died."""
        pids = self.pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            self.proc.wait(10)
        for pid in pids:
            wait_pid_gone(pid, 10)

    def running(self):
        return bool(self.proc) and self.proc.poll() is None

    def stop(self):
        if self.running():
            self.proc.send_signal(signal.SIGWINCH)
            try:
                self.proc.wait(45 if self.stack.asan else 20)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(30)
        self._clear_dead()

    def close(self):
        self.stop()
        self.stop_relay()


class Haproxy:
    """haproxy on the loopback in front of frontends (objects with .port):
    TCP mode, TLS passes through, round robin per connection."""

    def __init__(self, stack, frontends, name="lb"):
        self.stack = stack
        self.frontends = frontends
        self.dir = os.path.join(stack.shared, f"haproxy-{name}")
        self.conf_file = os.path.join(self.dir, "haproxy.cfg")
        self.log = os.path.join(self.dir, "haproxy.log")
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return f"https://localhost:{self.port}"

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        servers = "\n".join(f"    server fe{i} 127.0.0.1:{fe.port} check inter 500 fall 2 rise 1"
                            for i, fe in enumerate(self.frontends))
        with open(self.conf_file, "w") as f:
            f.write(f"""# written by tools/frontends.py
global
    maxconn 2000
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 2
    option redispatch
frontend members
    bind 127.0.0.1:{self.port}
    default_backend frontends
backend frontends
    balance roundrobin
{servers}
""")
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([HAPROXY_BIN, "-f", self.conf_file, "-db"],
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                     start_new_session=True, cwd=self.dir)
        out.close()
        wait_listening(self.proc, self.port,
                       lambda: "haproxy did not start" + self.stack._file_tail(self.log), 10)
        _log(f"haproxy on {self.url}")
        return self

    def stop(self):
        end_process(self.proc)
