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
    mh.params           # DBDParams naming both servers (read-write wanted)
    mh.stop()

What it starts, besides the stack's primary, mail sink and signerd:

- the standby (tools/dbcluster.py), streaming from the primary;
- redis-server, CAcertOCSPCache of a and b: an answer one signed the other
  serves;
- a and b with the same site lines: DBDParams and CAcertOCSPPrimary with
  both servers and target_session_attrs=read-write (a promotion needs no
  httpd restart), the Redis cache; b also has a plain-HTTP virtual host
  for relying parties whose DBDParams name the standby: OCSP (its listener
  is on the primary, through CAcertOCSPPrimary) and /pki;
- signerd with two lines, one to each member frontend;
- c: an OCSP-only host (Stack.start_ocsp_frontend) with its own shmcb cache,
  on the failover parameters;
- memcached, and d and e: two more OCSP-only hosts whose CAcertOCSPCache is
  that memcached (mod_socache_memcache), on the failover parameters;
- haproxy in front of a and b.
"""

from cacertstack import free_port
from dbcluster import Memcached, Redis, Standby, failover_params
from frontends import Haproxy, MemberFrontend


class MultiHost:
    def __init__(self, stack):
        self.stack = stack
        self.a = stack
        self.standby = self.redis = self.b = self.c = self.lb = None
        self.memcached = self.d = self.e = None
        self.params = None
        self.b_standby_port = free_port()

    @property
    def b_standby_url(self):
        return f"http://127.0.0.1:{self.b_standby_port}"

    @property
    def b_standby_ocsp(self):
        return self.b_standby_url + "/ocsp"

    def site_lines(self):
        """The lines a and b share after the stack's site."""
        return [Redis.LOAD,
                f'CAcertOCSPCache "{self.redis.cache_spec}"',
                f'DBDParams "{self.params}"',
                f'CAcertOCSPPrimary "{self.params}"']

    def standby_vhost(self):
        """b's virtual host for relying parties (OCSP, /pki) and the
        statistics on the standby
        (mod_dbd is per virtual host)."""
        port = self.b_standby_port
        return [f"Listen 127.0.0.1:{port} http",
                f"<VirtualHost 127.0.0.1:{port}>",
                f"    ServerName localhost:{port}",
                "    SSLEngine off",
                "    Header always unset Strict-Transport-Security",
                f'    DBDParams "{self.standby.dbd_params}"',
                '    <Location "/">', "        Require all denied", "    </Location>",
                '    <Location "/ocsp">', "        Require all granted", "    </Location>",
                '    <Location "/pki">', "        Require all granted", "    </Location>",
                '    <Location "/wot/stats">', "        Require all granted", "    </Location>",
                '    <Location "/static">', "        Require all granted", "    </Location>",
                "</VirtualHost>"]

    def start(self):
        st = self.stack
        try:
            self.standby = Standby(st).start()
            self.redis = Redis(st).start()
            self.params = failover_params(st, self.standby)
            st.restart(st.extra_conf + self.site_lines())
            self.b = MemberFrontend(st, "b", extra=self.standby_vhost()).start()
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
        for part, step in ((self.lb, "stop"), (self.e, "stop"), (self.d, "stop"),
                           (self.memcached, "stop"), (self.c, "stop"), (self.b, "close"),
                           (self.redis, "stop"), (self.standby, "stop")):
            if part:
                getattr(part, step)()
