# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Loopback servers for the domain-control tests, started by the tests
themselves (once per session, in threads of the pytest process):

  * a DNS server (dnspython: for the test server only) answering for *.test:
    TXT records the tests set, A 127.0.0.1 for every other name, no answer
    at all below timeout.test, garbage below garbage.test, and names below
    dnsmasq.test forwarded to a real dnsmasq the tests may start;
  * an HTTP server for the file check, by Host: the files the tests set,
    and hosts that redirect elsewhere, redirect within the domain, stream
    1 GB (lazily, 64 KiB at a time, until the client hangs up) or never
    answer;
  * a whois server (RFC 3912) answering from a table the tests fill.

stack_conf() starts them and returns the httpd directives that point
the domain control of mod_cacert_account at them; t/conftest.py adds those to the stack.
"""

import atexit
import os
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

HUGE = 1 << 30
CHUNK = 64 * 1024


class Zone:
    def __init__(self):
        self.lock = threading.Lock()
        self.txt = {}           # name (no trailing dot, lower case) -> [text]
        self.a = {}             # name -> [address]
        self.queries = []
        self.dnsmasq_port = None
        # TXT records written by programs outside pytest (lego's exec DNS
        # provider, t/acme_dns_hook): a file per name holding its values
        self.txt_dir = tempfile.mkdtemp(prefix="cacert-zone-")
        os.chmod(self.txt_dir, 0o777)
        atexit.register(shutil.rmtree, self.txt_dir, True)

    def txt_of(self, name):
        with self.lock:
            txt = self.txt.get(name)
        if txt:
            return txt
        try:
            with open(os.path.join(self.txt_dir, name)) as f:
                return [line.strip() for line in f if line.strip()]
        except OSError:
            return None

    def set_txt(self, name, *values):
        with self.lock:
            self.txt[name.lower().rstrip(".")] = list(values)

    def set_a(self, name, *addrs):
        with self.lock:
            self.a[name.lower().rstrip(".")] = list(addrs)


class DNSServer(threading.Thread):
    def __init__(self, zone):
        super().__init__(daemon=True)
        self.zone = zone
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                self.answer(data, peer)
            except Exception:       # a test server: never die on a query
                pass

    def answer(self, data, peer):
        q = dns.message.from_wire(data)
        qn = q.question[0].name.to_text().lower().rstrip(".")
        qt = q.question[0].rdtype
        self.zone.queries.append((qn, dns.rdatatype.to_text(qt)))
        if qn.endswith("timeout.test"):
            return                                      # never answers
        if qn.endswith("garbage.test"):
            self.sock.sendto(os.urandom(3) + b"\x81\x80" + os.urandom(40), peer)
            return
        if qn.endswith("dnsmasq.test") and self.zone.dnsmasq_port:
            fwd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            fwd.settimeout(2)
            try:
                fwd.sendto(data, ("127.0.0.1", self.zone.dnsmasq_port))
                self.sock.sendto(fwd.recvfrom(4096)[0], peer)
            finally:
                fwd.close()
            return
        r = dns.message.make_response(q)
        r.flags |= dns.flags.RA
        txt = self.zone.txt_of(qn)
        with self.zone.lock:
            a = self.zone.a.get(qn)
        if qt == dns.rdatatype.TXT and txt:
            r.answer.append(dns.rrset.from_text_list(
                qn + ".", 60, dns.rdataclass.IN, dns.rdatatype.TXT,
                ['"%s"' % t for t in txt]))
        elif qt == dns.rdatatype.A and qn.endswith(".test"):
            r.answer.append(dns.rrset.from_text_list(
                qn + ".", 60, dns.rdataclass.IN, dns.rdatatype.A, a or ["127.0.0.1"]))
        elif not qn.endswith(".test"):
            r.set_rcode(dns.rcode.NXDOMAIN)
        self.sock.sendto(r.to_wire(), peer)


class Web:
    def __init__(self):
        self.files = {}         # (host, path) -> bytes
        self.stop = threading.Event()
        self.requests = []
        self.huge_sent = {}     # host -> bytes written before the client left


def make_handler(web):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            port = self.server.server_address[1]
            web.requests.append((host, self.path))
            if host.startswith("hang."):
                web.stop.wait(30)               # never answers
                return
            if host.startswith("away."):
                return self.redirect(f"http://elsewhere.test:{port}{self.path}")
            if host.startswith("inside."):
                return self.redirect(f"http://www.{host}:{port}{self.path}")
            if host.startswith("port."):        # same host, another port
                return self.redirect(f"http://www.{host}:{port + 1}{self.path}")
            if host.startswith("https."):       # same host and port, https
                return self.redirect(f"https://www.{host}:{port}{self.path}")
            if host.startswith("loop."):
                return self.redirect(f"http://{host}:{port}{self.path}")
            if host.startswith("huge."):
                return self.huge(host)
            body = web.files.get((host, self.path))
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def redirect(self, to):
            self.send_response(302)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def huge(self, host):
            # 1 GB announced by nothing (the connection's end delimits it),
            # made 64 KiB at a time: the client must stop at its limit
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"x" * CHUNK
            sent = 0
            try:
                while sent < HUGE:
                    self.wfile.write(chunk)
                    sent += CHUNK
            except OSError:
                pass
            web.huge_sent[host] = sent
            self.close_connection = True

    return Handler


class Whois:
    def __init__(self):
        self.records = {}       # query (lower case) -> text
        self.stop = threading.Event()


def make_whois_handler(whois):
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            q = self.rfile.readline(1024).decode("utf-8", "replace").strip().lower()
            if q.startswith("slow."):
                whois.stop.wait(30)
                return
            if q.startswith("big."):
                try:
                    for _ in range(1024):
                        self.wfile.write(b"Registrant Email: x@example.net\r\n" * 64)
                except OSError:
                    pass
                return
            self.wfile.write(whois.records.get(q, "No match for \"%s\".\r\n" % q)
                             .encode())

    return Handler


class _ThreadingTCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Servers:
    def __init__(self):
        self.zone = Zone()
        self.dns = DNSServer(self.zone)
        self.dns.start()
        self.web = Web()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.web))
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.http_port = self.httpd.server_address[1]
        self.whois = Whois()
        self.whoisd = _ThreadingTCP(("127.0.0.1", 0), make_whois_handler(self.whois))
        threading.Thread(target=self.whoisd.serve_forever, daemon=True).start()
        self.whois_port = self.whoisd.server_address[1]
        self.dnsmasq = None
        # where the ACME clients (certbot, lego) serve http-01: a port kept
        # free for them, named to mod_cacert_issue (CAcertACMEHTTP01Port)
        p = socket.socket()
        p.bind(("127.0.0.1", 0))
        self.acme_http_port = p.getsockname()[1]
        p.close()

    def serve_cookie(self, host, cookie):
        self.web.files[(host.lower(), "/.well-known/cacert-domain.txt")] = \
            (cookie + "\n").encode()

    def start_dnsmasq(self, *records):
        """A real dnsmasq on a loopback port, serving --txt-record=... lines;
        the test DNS server forwards *.dnsmasq.test to it."""
        self.stop_dnsmasq()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        args = ["dnsmasq", "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                "--pid-file=", "--user=" + (os.environ.get("USER") or "nobody"),
                "--address=/dnsmasq.test/127.0.0.1"]
        args += [f"--txt-record={r}" for r in records]
        self.dnsmasq = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                import dns.query
                dns.query.udp(dns.message.make_query("x.dnsmasq.test", "A"), "127.0.0.1",
                              port=port, timeout=0.5)
                break
            except Exception:
                if self.dnsmasq.poll() is not None or time.monotonic() > deadline:
                    err = self.dnsmasq.stderr.read().decode() if self.dnsmasq.stderr else ""
                    raise RuntimeError("dnsmasq did not start: " + err)
        self.zone.dnsmasq_port = port
        return port

    def stop_dnsmasq(self):
        if self.dnsmasq:
            self.zone.dnsmasq_port = None
            self.dnsmasq.terminate()
            try:
                self.dnsmasq.wait(5)
            except subprocess.TimeoutExpired:
                self.dnsmasq.kill()
                self.dnsmasq.wait()
            self.dnsmasq = None


_servers = None


def servers():
    global _servers
    if _servers is None:
        _servers = Servers()
    return _servers


def stack_conf():
    """The directives that point mod_cacert_account's domain control at the loopback servers."""
    s = servers()
    return [
        f"CAcertDomainResolver 127.0.0.1:{s.dns.port}",
        f"CAcertWhoisServer 127.0.0.1:{s.whois_port}",
        f"CAcertDomainHTTPPort {s.http_port}",
        # the test zone points every name at 127.0.0.1: the file check must
        # be let connect there (production refuses it, see docs/domains.md)
        "CAcertDomainProbePrivateAddresses on",
        "CAcertDomainProbeTimeout 3s",
        "CAcertDomainProbesPerAccount 100000",
        "CAcertDomainProbesPerDomain 100000",
        f"CAcertACMEHTTP01Port {s.acme_http_port}",
    ]
