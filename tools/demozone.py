#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""demozone: the demo's own corner of the Internet, on the loopback.

The domain checks of a real CA ask the world's DNS and the member's web
server.  In the demo (scripts/run) they ask this process instead, so that a
newcomer can prove control of a made-up domain without owning one:

  * a DNS server on 127.0.0.1:PORT (UDP and TCP) that answers every A
    question with 127.0.0.1, and TXT questions from files:
        ZONE/dns/<name>         one TXT string per line
    e.g. ZONE/dns/_cacert.example.test holding the cookie of the DNS check;
  * a web server on 127.0.0.1:PORT that serves, by Host name,
        ZONE/www/<host>/<path>
    e.g. ZONE/www/example.test/.well-known/cacert-domain.txt.

Files are read at every question, so publishing is writing a file (what
`scripts/run publish-txt` and `scripts/run publish-file` do).  Names are
lower case without the trailing dot; nothing outside ZONE is ever read.

    demozone.py --zone DIR --portfile FILE [--pidfile FILE]
"""

import argparse
import os
import re
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

NAME_RE = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")
MAX_FILE = 64 * 1024


def safe_name(name):
    """A DNS/host name fit to be a file name, or None."""
    name = name.lower().rstrip(".")
    if len(name) > 253 or not NAME_RE.match(name):
        return None
    return name


def txt_values(zone, name):
    name = safe_name(name)
    if not name:
        return []
    try:
        with open(os.path.join(zone, "dns", name), encoding="utf-8", errors="replace") as f:
            lines = f.read(MAX_FILE).splitlines()
    except OSError:
        return []
    return [l.strip()[:255] for l in lines if l.strip()]


def answer(zone, wire):
    q = dns.message.from_wire(wire)
    r = dns.message.make_response(q)
    r.flags |= dns.flags.RA | dns.flags.AA
    if len(q.question) != 1:
        r.set_rcode(dns.rcode.FORMERR)
        return r
    name = q.question[0].name.to_text()
    qt = q.question[0].rdtype
    owner = name if name.endswith(".") else name + "."
    if qt == dns.rdatatype.A:
        r.answer.append(dns.rrset.from_text(owner, 60, dns.rdataclass.IN,
                                            dns.rdatatype.A, "127.0.0.1"))
    elif qt == dns.rdatatype.TXT:
        vals = txt_values(zone, name)
        if vals:
            quoted = ['"%s"' % v.replace("\\", "\\\\").replace('"', '\\"') for v in vals]
            r.answer.append(dns.rrset.from_text_list(owner, 60, dns.rdataclass.IN,
                                                     dns.rdatatype.TXT, quoted))
    return r


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            sock.sendto(answer(self.server.zone, data).to_wire(), self.client_address)
        except Exception as e:           # never die on a question
            print(f"demozone: bad DNS question from {self.client_address}: {e}", flush=True)


class TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(5)
        try:
            n = int.from_bytes(self.request.recv(2), "big")
            data = b""
            while len(data) < n:
                chunk = self.request.recv(n - len(data))
                if not chunk:
                    return
                data += chunk
            out = answer(self.server.zone, data).to_wire()
            self.request.sendall(len(out).to_bytes(2, "big") + out)
        except Exception as e:
            print(f"demozone: bad DNS question over TCP: {e}", flush=True)


class UDP(socketserver.ThreadingUDPServer):
    daemon_threads = True


class TCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_web_handler(zone):
    root = os.path.realpath(os.path.join(zone, "www"))

    class Web(BaseHTTPRequestHandler):
        server_version = "demozone"

        def log_message(self, fmt, *a):
            print("demozone web: " + fmt % a, flush=True)

        def do_GET(self):
            host = safe_name((self.headers.get("Host") or "").rsplit(":", 1)[0])
            path = self.path.split("?", 1)[0]
            target = None
            if host and path.startswith("/") and ".." not in path.split("/"):
                target = os.path.realpath(os.path.join(root, host, path.lstrip("/")))
                if not target.startswith(root + os.sep) or not os.path.isfile(target):
                    target = None
            if target is None:
                self.send_error(404)
                return
            with open(target, "rb") as f:
                body = f.read(MAX_FILE)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Web


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zone", required=True)
    ap.add_argument("--portfile", required=True, help='written last: "DNS_PORT HTTP_PORT"')
    ap.add_argument("--pidfile")
    a = ap.parse_args(argv)
    zone = os.path.abspath(a.zone)
    for sub in ("dns", "www"):
        os.makedirs(os.path.join(zone, sub), exist_ok=True)
    # one port number for DNS over UDP and TCP
    for _ in range(50):
        udp = UDP(("127.0.0.1", 0), UDPHandler)
        port = udp.server_address[1]
        try:
            tcp = TCP(("127.0.0.1", port), TCPHandler)
            break
        except OSError:
            udp.server_close()
    else:
        print("demozone: no free port for DNS", file=sys.stderr)
        return 1
    udp.zone = tcp.zone = zone
    web = ThreadingHTTPServer(("127.0.0.1", 0), make_web_handler(zone))
    web.daemon_threads = True
    for srv in (udp, tcp, web):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    tmp = a.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port} {web.server_address[1]}\n")
    os.rename(tmp, a.portfile)
    print(f"demozone: DNS on 127.0.0.1:{port}, web on 127.0.0.1:{web.server_address[1]}, "
          f"zone {zone}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
