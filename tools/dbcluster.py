# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""dbcluster: a PostgreSQL hot standby of a Stack's primary, for the tests
and benchmarks of several hosts (docs/scaling.md).

    sb = Standby(stack).start()     # pg_basebackup -R from the primary, then
                                    # a server of its own (streaming replication)
    sb.dbd_params                   # DBDParams of the standby
    failover_params(stack, sb)      # DBDParams of both, read-write one wanted
    sb.wait_replayed()              # replayed all the primary has written
    sb.pause_replay() / sb.resume_replay()
    restart_primary(stack)          # the runbook: restarting the database
    stop_primary(stack); sb.promote()   # the runbook: promoting the standby
    fail_back(stack, sb)            # the promoted data becomes the stack's
                                    # primary again (tests only)
    sb.stop()
    Redis(stack), Memcached(stack)  # a shared cache of the OCSP responders

Everything lives in the stack's shared directory, next to the primary: the
data directory pg-NAME, the socket directory pgsock-NAME (Unix socket only,
like the primary: no TCP listener), the log pglog/NAME.log.  As root, the
server runs as the same unprivileged user as the primary (postgres).
"""

import os
import shutil
import subprocess
import threading
import time

from cacertstack import (PG_USER, StackError, _log, chown_user, end_process, free_port,
                         pid_alive, read_pidfile, wait_listening)

STANDBY_PORT = 5433         # names the socket file; the primary's is 5432


class Standby:
    def __init__(self, stack, name="standby", port=STANDBY_PORT):
        self.stack = stack
        self.name = name
        self.port = port
        s = stack.shared
        self.data = os.path.join(s, f"pg-{name}")
        self.socket_dir = os.path.join(s, f"pgsock-{name}")
        self.log = os.path.join(s, "pglog", f"{name}.log")

    # ---- parameters ---------------------------------------------------------

    @property
    def dbd_params(self):
        return f"host={self.socket_dir} port={self.port} dbname=cacert user=cacert"

    def connect_args(self, user="cacert", db="cacert"):
        return {"host": self.socket_dir, "port": self.port, "dbname": db, "user": user}

    def _bin(self, name):
        return os.path.join(self.stack.pg_bindir(), name)

    def _pg(self, argv, what, check=True, timeout=300):
        return self.stack._run(self.stack._as_pg(argv), what, check=check, timeout=timeout)

    def psql(self, sql, db="cacert", user=None, check=True):
        user = user or self.stack.pg_superuser()
        return self.stack._run([self._bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                "-h", self.socket_dir, "-p", str(self.port),
                                "-U", user, "-d", db, "-At", "-c", sql], "psql (standby)",
                               check=check)

    def running(self):
        pid = read_pidfile(os.path.join(self.data, "postmaster.pid"))
        return pid if pid and pid_alive(pid) else None

    # ---- life ---------------------------------------------------------------

    def start(self, fresh=True):
        """A base backup of the primary (pg_basebackup -R: it writes
        standby.signal and primary_conninfo), then the server, in recovery,
        streaming from the primary.  Returns self once it accepts
        connections and has replayed all the primary had written."""
        st = self.stack
        if self.running():
            return self
        if fresh and os.path.exists(self.data):
            shutil.rmtree(self.data)
        for d in (self.data, self.socket_dir, os.path.dirname(self.log)):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.data, 0o700)
        os.chmod(self.socket_dir, 0o755)
        if st.root:
            for d in (self.data, self.socket_dir):
                chown_user(d, PG_USER)
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            _log(f"pg_basebackup -R into {self.data}")
            self._pg([self._bin("pg_basebackup"), "-D", self.data, "-R", "-X", "stream",
                      "--checkpoint=fast", "-h", st.pg_socket_dir, "-p", str(st.pg_port),
                      "-U", st.pg_superuser(), "--no-sync"], "pg_basebackup")
            # the primary's settings, but a socket of its own
            with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
                f.write(f"\n# dbcluster: the standby {self.name}\n"
                        "listen_addresses = ''\n"
                        f"unix_socket_directories = '{self.socket_dir}'\n"
                        f"port = {self.port}\n"
                        "hot_standby = on\n"
                        "hot_standby_feedback = on\n")
        stale = os.path.join(self.data, "postmaster.pid")
        if os.path.exists(stale):
            os.unlink(stale)
        _log(f"starting the standby {self.name}")
        self._pg([self._bin("pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "60",
                  "start"], "pg_ctl start (standby)")
        self._wait_ready()
        self.wait_replayed()
        return self

    def _wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while subprocess.run([self._bin("pg_isready"), "-q", "-h", self.socket_dir,
                              "-p", str(self.port)]).returncode != 0:
            if time.monotonic() > deadline:
                raise StackError(f"the standby did not become ready; see {self.log}")
            time.sleep(0.1)

    def stop(self):
        if not self.running():
            return
        _log(f"stopping the standby {self.name}")
        self._pg([self._bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "-t", "60",
                  "stop"], "pg_ctl stop (standby)", check=False)

    # ---- replication --------------------------------------------------------

    def in_recovery(self):
        return self.psql("SELECT pg_is_in_recovery()").stdout.strip() == "t"

    def replay_lsn(self):
        return self.psql("SELECT pg_last_wal_replay_lsn()").stdout.strip()

    def wait_replayed(self, timeout=30):
        """Until the standby has replayed all the primary has written so far."""
        target = self.stack.psql("SELECT pg_current_wal_insert_lsn()",
                                 user=self.stack.pg_superuser()).stdout.strip()
        deadline = time.monotonic() + timeout
        while self.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
                        ).stdout.strip() != "t":
            if time.monotonic() > deadline:
                raise StackError(f"the standby has not replayed up to {target}")
            time.sleep(0.05)

    def pause_replay(self):
        """WAL keeps arriving, nothing of it is applied: a standby lagging
        behind for as long as the test wants."""
        self.psql("SELECT pg_wal_replay_pause()")

    def resume_replay(self):
        self.psql("SELECT pg_wal_replay_resume()")

    def promote(self):
        """The runbook's last step: pg_ctl promote; returns once the server
        takes writes."""
        _log(f"promoting the standby {self.name}")
        self._pg([self._bin("pg_ctl"), "-D", self.data, "-w", "-t", "60", "promote"],
                 "pg_ctl promote")
        deadline = time.monotonic() + 60
        while self.in_recovery():
            if time.monotonic() > deadline:
                raise StackError("the standby did not leave recovery")
            time.sleep(0.05)


def failover_params(stack, standby, extra="connect_timeout=2", primary=None):
    """DBDParams with both servers, libpq picking the one that takes writes
    (target_session_attrs=read-write): after a promotion, mod_dbd's next
    reconnection finds the promoted standby without an httpd restart.
    primary: the primary's host (its Unix socket directory by default, or
    an address it listens on)."""
    return (f"host={primary or stack.pg_socket_dir},{standby.socket_dir} "
            f"port={stack.pg_port},{standby.port} dbname=cacert user=cacert "
            f"target_session_attrs=read-write {extra}").strip()


def restart_primary(stack):
    """The runbook: restarting the database (pg_ctl restart -m fast)."""
    stack.restart_postgres()


def stop_primary(stack):
    """The runbook, promoting the standby, first step: the primary stops
    (pg_ctl stop -m fast: its WAL sender hands the standby everything up to
    the shutdown checkpoint before it exits)."""
    stack.stop_postgres()


def primary_lsn_at_stop(stack):
    """The primary's last checkpoint location, from pg_controldata (the
    server stopped): the standby must have replayed past it before it is
    promoted, or committed transactions would be lost."""
    r = stack._run(stack._as_pg([os.path.join(stack.pg_bindir(), "pg_controldata"),
                                 "-D", stack.pg_data]), "pg_controldata")
    for line in r.stdout.splitlines():
        if line.startswith("Latest checkpoint location:"):
            return line.split(":", 1)[1].strip()
    raise StackError("pg_controldata: no checkpoint location")


def fail_back(stack, standby):
    """For the tests after a promotion: the promoted standby's data becomes
    the stack's primary again, at the primary's socket (what an operator
    does with pg_basebackup from the new primary is in the runbook; here a
    copy of the stopped server is enough).  The standby is then made anew
    with standby.start()."""
    standby.stop()
    stack.stop_postgres()
    _log("failing back: the promoted data becomes the stack's primary")
    shutil.rmtree(stack.pg_data)
    shutil.copytree(standby.data, stack.pg_data, symlinks=True)
    for f in ("standby.signal", "postmaster.pid"):
        p = os.path.join(stack.pg_data, f)
        if os.path.exists(p):
            os.unlink(p)
    auto = os.path.join(stack.pg_data, "postgresql.auto.conf")
    if os.path.exists(auto):
        with open(auto) as f:
            lines = [ln for ln in f if not ln.startswith("primary_conninfo")]
        with open(auto, "w") as f:
            f.writelines(lines)
    with open(os.path.join(stack.pg_data, "postgresql.conf"), "a") as f:
        f.write("\n# dbcluster: the primary again\n"
                f"unix_socket_directories = '{stack.pg_socket_dir}'\n"
                f"port = {stack.pg_port}\n")
    if stack.root:
        subprocess.run(["chown", "-R", f"{PG_USER}:{PG_USER}", stack.pg_data], check=True)
    os.chmod(stack.pg_data, 0o700)
    shutil.rmtree(standby.data)
    stack.start_postgres()


class Redis:
    """redis-server on 127.0.0.1, nothing kept on disk: the shared cache of
    the OCSP responders (CAcertOCSPCache redis:127.0.0.1:PORT through
    mod_socache_redis)."""

    LOAD = ("<IfModule !socache_redis_module>\n"
            "    LoadModule socache_redis_module /usr/lib/apache2/modules/mod_socache_redis.so\n"
            "</IfModule>")

    def __init__(self, stack, name="redis"):
        self.dir = os.path.join(stack.shared, name)
        self.port = free_port()
        self.log = os.path.join(self.dir, "redis.log")
        self.proc = None

    @property
    def cache_spec(self):
        return f"redis:127.0.0.1:{self.port}"

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir,
             "--logfile", self.log], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        wait_listening(self.proc, self.port, f"redis-server did not start; see {self.log}")
        _log(f"redis on 127.0.0.1:{self.port}")
        return self

    def keys(self, pattern="*"):
        r = subprocess.run(["redis-cli", "-p", str(self.port), "--raw", "keys", pattern],
                           capture_output=True, text=True, timeout=10)
        return [k for k in r.stdout.splitlines() if k]

    def stop(self):
        end_process(self.proc)


class Memcached:
    """memcached on 127.0.0.1 (TCP only, 16 MB): a shared cache of OCSP
    responders too (CAcertOCSPCache memcache:127.0.0.1:PORT through
    mod_socache_memcache)."""

    LOAD = ("<IfModule !socache_memcache_module>\n"
            "    LoadModule socache_memcache_module "
            "/usr/lib/apache2/modules/mod_socache_memcache.so\n"
            "</IfModule>")

    def __init__(self, stack, name="memcached"):
        self.dir = os.path.join(stack.shared, name)
        self.port = free_port()
        self.log = os.path.join(self.dir, "memcached.log")
        self.root = stack.root
        self.proc = None

    @property
    def cache_spec(self):
        return f"memcache:127.0.0.1:{self.port}"

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        argv = [shutil.which("memcached") or "/usr/bin/memcached", "-l", "127.0.0.1",
                "-p", str(self.port), "-U", "0", "-m", "16"]
        if self.root:
            argv += ["-u", "nobody"]            # memcached will not run as root
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        wait_listening(self.proc, self.port, f"memcached did not start; see {self.log}")
        _log(f"memcached on 127.0.0.1:{self.port}")
        return self

    def stats(self):
        """memcached's "stats" as a dict of strings"""
        import socket
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"stats\r\n")
            buf = b""
            while not buf.endswith(b"END\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return {f[1]: f[2] for f in (ln.split() for ln in buf.decode().splitlines())
                if len(f) == 3 and f[0] == "STAT"}

    def stop(self):
        end_process(self.proc)


class SteadyClient(threading.Thread):
    """A bounded steady load: fn() (True when the request worked) every
    interval seconds, each one's start time and outcome recorded."""

    def __init__(self, fn, interval=0.05, name=""):
        super().__init__(daemon=True)
        self.fn, self.interval, self.label = fn, interval, name
        self.stop_event = threading.Event()
        self.log = []

    def run(self):
        while not self.stop_event.is_set():
            t = time.monotonic()
            try:
                ok = bool(self.fn())
            except Exception:           # a refused connection, a timeout, a bad answer
                ok = False
            self.log.append((t, ok))
            time.sleep(max(0.0, self.interval - (time.monotonic() - t)))

    def finish(self, timeout=30):
        self.stop_event.set()
        self.join(timeout)

    def failed(self, since):
        """(seconds from the first to the end of the last failed request
        started at or after since, how many failed, how many in all)."""
        rows = [(t, ok) for t, ok in self.log if t >= since]
        bad = [t for t, ok in rows if not ok]
        span = (max(bad) - min(bad) + self.interval) if bad else 0.0
        return span, len(bad), len(rows)

    def all_ok_after(self, t0):
        late = [ok for t, ok in self.log if t > t0]
        return bool(late) and all(late)
