# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""MultiHost: every part of a CA on several hosts at once, on the loopback,
around a Stack of its own (docs/scaling.md, "All of it at once").

    mh = MultiHost(stack).start()
    mh.a, mh.b          # the member frontends: the stack's httpd and a
                        # MemberFrontend with its own pty line into signerd
    mh.lb.url           # haproxy, round robin over a and b
    mh.standby          # the hot standby (pg_basebackup -R)
    mh.redis            # the OCSP cache a and b share
    mh.c                # an OCSP host with a cache of its own (shmcb)
    mh.d, mh.e          # two OCSP hosts sharing one memcached (mh.memcached)
    mh.b_standby_ocsp   # b's OCSP on a virtual host that reads the standby
    mh.b_standby_url    # that virtual host (its /pki too)
    mh.params           # DBDParams naming both servers (read-write wanted),
                        # c's, d's and e's (the primary's Unix socket)
    mh.fe_params["a"]   # a's and b's: the primary over TCP, at an address
                        # of each one's own (mh.pg_addr["a"], ["b"])
    with mh.silent("a"):    # a's packets to and from the database dropped
        ...                 # (nftables): a host that dies without a word
    mh.stop()

What it starts, besides the stack's primary, mail sink and signerd:

- the primary listens on TCP too, on two loopback addresses of a /24 of
  its own (127.x.y.2 for a, .3 for b), so that each member frontend's
  database traffic can be told apart and cut (silent());
- the standby (tools/dbcluster.py), streaming from the primary;
- redis-server, CAcertOCSPCache of a and b: an answer one signed the other
  serves;
- a and b with the same site lines: DBDParams and CAcertOCSPPrimary with
  both servers and target_session_attrs=read-write (a promotion needs no
  httpd restart), the primary over TCP at the host's own address, the
  Redis cache; b also has a plain-HTTP virtual host
  for relying parties whose DBDParams name the standby: OCSP (its listener
  is on the primary, through CAcertOCSPPrimary) and /pki;
- signerd with two lines, one to each member frontend;
- c: an OCSP-only host (Stack.start_ocsp_frontend) with its own shmcb cache,
  on the failover parameters;
- memcached, and d and e: two more OCSP-only hosts whose CAcertOCSPCache is
  that memcached (mod_socache_memcache), on the failover parameters;
- haproxy in front of a and b.
"""

import contextlib
import os
import random
import socket
import subprocess

from cacertstack import free_port
from dbcluster import Memcached, Redis, Standby, failover_params, restart_primary
from frontends import Haproxy, MemberFrontend


# what docs/scaling.md asks of DBDParams over TCP: a query on a connection
# whose peer went silent fails after 10 s instead of the kernel's 15 minutes
TCP_TIMEOUTS = ("keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=3"
                " tcp_user_timeout=10000")


class MultiHost:
    def __init__(self, stack):
        self.stack = stack
        self.a = stack
        self.standby = self.redis = self.b = self.c = self.lb = None
        self.memcached = self.d = self.e = None
        self.params = None
        self.fe_params = {}
        self.pg_addr = {}
        self.nft_table = None
        self.b_standby_port = free_port()
        self.b_cached_ports = {"standby": free_port(), "primary": free_port()}

    @property
    def b_standby_url(self):
        return f"http://127.0.0.1:{self.b_standby_port}"

    def b_cached_url(self, which):
        """b's virtual host on which ("standby" or "primary") whose
        statistics are kept for 5 minutes"""
        return f"http://127.0.0.1:{self.b_cached_ports[which]}"

    @property
    def b_standby_ocsp(self):
        return self.b_standby_url + "/ocsp"

    def site_lines(self, who="a"):
        """The lines a and b share after the stack's site (with who's own
        address of the primary)."""
        return [Redis.LOAD,
                f'CAcertOCSPCache "{self.redis.cache_spec}"'] + self.db_lines(who)

    def db_lines(self, who):
        return [f'DBDParams "{self.fe_params[who]}"',
                f'CAcertOCSPPrimary "{self.fe_params[who]}"']

    def _pick_addresses(self):
        """two loopback addresses on the primary's port that nothing uses"""
        port = self.stack.pg_port
        for _ in range(50):
            net = f"127.{random.randint(16, 250)}.{random.randint(0, 254)}"
            addrs = {"a": f"{net}.2", "b": f"{net}.3"}
            try:
                for addr in addrs.values():
                    with socket.socket() as s:
                        s.bind((addr, port))
            except OSError:
                continue
            return addrs
        raise RuntimeError("no free loopback address for the primary")

    def primary_over_tcp(self):
        """The primary listens on a's and b's addresses too (trust: the
        connections come from 127.0.0.1, which initdb's pg_hba trusts).
        The stack's httpd stops first (it is started again with a's lines):
        its sessions would end with errors in its log."""
        st = self.stack
        st.stop_httpd()
        self.pg_addr = self._pick_addresses()
        with open(os.path.join(st.pg_data, "postgresql.conf"), "a") as f:
            f.write("\n# multihost: a and b reach the primary over TCP\n"
                    f"listen_addresses = '{self.pg_addr['a']},{self.pg_addr['b']}'\n")
        restart_primary(st)

    # ---- a host that dies without a word --------------------------------------

    @contextlib.contextmanager
    def silent(self, who):
        """While in it, every packet to and from who's address of the
        primary is dropped on arrival (nftables, input hook): for the
        database, and for who, the other is gone without a word; no socket
        is closed, and the senders retransmit."""
        self.cut(who)
        try:
            yield
        finally:
            self.mend()

    @staticmethod
    def packet_filter_error():
        """None when nftables can filter here, else why not (no nft, no
        CAP_NET_ADMIN in a container)"""
        t = f"cacert_mh_probe_{os.getpid()}"
        try:
            r = subprocess.run(["nft", "add", "table", "inet", t], capture_output=True,
                               text=True, timeout=10)
        except OSError as e:
            return f"nft: {e}"
        if r.returncode != 0:
            return f"nft: {r.stderr.strip()}"
        subprocess.run(["nft", "delete", "table", "inet", t], check=False, timeout=10)
        return None

    def cut(self, who):
        addr = self.pg_addr[who]
        port = self.stack.pg_port
        self.nft_table = f"cacert_mh_{os.getpid()}"
        t = self.nft_table
        rules = (f"add table inet {t}\n"
                 f"add chain inet {t} input {{ type filter hook input priority 0; }}\n"
                 f"add rule inet {t} input ip daddr {addr} tcp dport {port} drop\n"
                 f"add rule inet {t} input ip saddr {addr} tcp sport {port} drop\n")
        subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True, timeout=10)

    def mend(self):
        if self.nft_table:
            subprocess.run(["nft", "delete", "table", "inet", self.nft_table], check=False,
                           timeout=10)
            self.nft_table = None

    def public_vhost(self, port, params, extra=()):
        """a virtual host of b for relying parties (OCSP, /pki) and the
        statistics, on the database params name (mod_dbd is per virtual
        host)"""
        return [f"Listen 127.0.0.1:{port} http",
                f"<VirtualHost 127.0.0.1:{port}>",
                f"    ServerName localhost:{port}",
                "    SSLEngine off",
                "    Header always unset Strict-Transport-Security",
                f'    DBDParams "{params}"'] + [f"    {line}" for line in extra] + [
                '    <Location "/">', "        Require all denied", "    </Location>",
                '    <Location "/ocsp">', "        Require all granted", "    </Location>",
                '    <Location "/pki">', "        Require all granted", "    </Location>",
                '    <Location "/wot/stats">', "        Require all granted", "    </Location>",
                '    <Location "/static">', "        Require all granted", "    </Location>",
                "</VirtualHost>"]

    def standby_vhost(self):
        """b's virtual host on the standby, and two more whose statistics are
        kept for 5 minutes: one on the standby, one on the primary (each
        virtual host keeps its own figures)"""
        cached = ["CAcertStatsCacheTime 300"]
        return (self.public_vhost(self.b_standby_port, self.standby.dbd_params)
                + self.public_vhost(self.b_cached_ports["standby"], self.standby.dbd_params,
                                    cached)
                + self.public_vhost(self.b_cached_ports["primary"], self.fe_params["b"],
                                    cached))

    def start(self):
        st = self.stack
        try:
            self.primary_over_tcp()
            self.standby = Standby(st).start()
            self.redis = Redis(st).start()
            self.params = failover_params(st, self.standby)
            self.fe_params = {who: failover_params(st, self.standby, primary=addr,
                                                   extra="connect_timeout=2 " + TCP_TIMEOUTS)
                              for who, addr in self.pg_addr.items()}
            st.restart(st.extra_conf + self.site_lines("a"))
            self.b = MemberFrontend(st, "b", extra=self.db_lines("b")
                                    + self.standby_vhost()).start()
            st.start_signerd(extra=[self.b.signerd_device_line()])
            self.c = st.start_ocsp_frontend("c", dbd_params=self.params)
            self.memcached = Memcached(st).start()
            self.d = self.memcache_host("d")
            self.e = self.memcache_host("e")
            self.lb = Haproxy(st, [st, self.b]).start()
        except BaseException:
            self.stop()
            raise
        return self

    def memcache_host(self, name):
        """an OCSP-only host whose cache is the shared memcached"""
        return self.stack.start_ocsp_frontend(name, dbd_params=self.params,
                                              cache=self.memcached.cache_spec,
                                              extra=[Memcached.LOAD])

    def frontend(self, who):
        """'a' or 'b' -> the object with .url, .error_log"""
        return self.a if who == "a" else self.b

    def stop(self):
        self.mend()
        for part, step in ((self.lb, "stop"), (self.e, "stop"), (self.d, "stop"),
                           (self.memcached, "stop"), (self.c, "stop"), (self.b, "close"),
                           (self.redis, "stop"), (self.standby, "stop")):
            if part:
                getattr(part, step)()
