#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Slow clients against the CA: its own stack (httpd with the shipped
hardening, PostgreSQL, the pty line and signerd), then for --seconds
(default 40):

  - --slow (200) slow-header connections and --slow slow-body connections to
    the OCSP port (plain HTTP) and the same to the member vhost (HTTPS), all
    from 127.0.0.1: a header line every 4 s, or one body byte every 4 s of a
    100 kB body; a connection the server closes is opened again at once;
  - meanwhile a normal client from 127.0.0.2 asks every 100 ms for an OCSP
    answer (POST, plain HTTP) and for the login page (HTTPS, a new
    connection each time), 5 s timeout each.

Prints, for OCSP and for the page: requests, failures, p50, p99 and max
latency, and how many slow connections the server closed (reqtimeout at
work).  The bar: the normal client keeps getting answers, p99 < 1 s."""

import argparse
import hashlib
import os
import socket
import ssl
import statistics
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import requests  # noqa: E402
from cryptography import x509  # noqa: E402

from benchstack import own_stack  # noqa: E402
from ocsp_bench import ocsp_request_der  # noqa: E402

NORMAL = "127.0.0.2"


class SlowCrowd(threading.Thread):
    """n slow connections of one kind to one target, kept up until stop."""

    def __init__(self, port, tls, kind, n, stop):
        super().__init__(daemon=True)
        self.port, self.tls, self.kind, self.n, self.stop = port, tls, kind, n, stop
        self.closed_by_server = 0
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def start_request(self):
        path = ("/ocsp" if not self.tls else "/account/login")
        if self.kind == "header":
            return f"GET {path} HTTP/1.1\r\nHost: localhost\r\n".encode()
        return (f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 100000\r\n\r\n").encode()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if self.tls:
            s = self.ctx.wrap_socket(s, server_hostname="localhost")
        s.sendall(self.start_request())
        s.setblocking(False)
        return s

    def run(self):
        conns = []
        for _ in range(self.n):
            try:
                conns.append(self.connect())
            except OSError:
                pass
        while not self.stop.is_set():
            t0 = time.monotonic()
            for i, s in enumerate(conns):
                try:
                    s.send(b"X-Slow: yes\r\n" if self.kind == "header" else b"a")
                    continue
                except (BlockingIOError, ssl.SSLWantWriteError):
                    continue
                except OSError:
                    self.closed_by_server += 1
                try:
                    s.close()
                except OSError:
                    pass
                try:
                    conns[i] = self.connect()
                except OSError:
                    pass
            self.stop.wait(max(0.0, 4 - (time.monotonic() - t0)))
        for s in conns:
            try:
                s.close()
            except OSError:
                pass


class SourceAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (NORMAL, 0)
        super().init_poolmanager(*a, **kw)


def normal_client(stack, body, stop, out):
    ocsp, page = requests.Session(), requests.Session()
    for s in (ocsp, page):
        s.mount("http://", SourceAdapter())
        s.mount("https://", SourceAdapter())
    while not stop.is_set():
        for name, fn in (("ocsp", lambda: ocsp.post(
                             stack.http_url + "/ocsp", data=body, timeout=5,
                             headers={"Content-Type": "application/ocsp-request"})),
                         ("page", lambda: page.get(stack.url + "/account/login", timeout=5,
                                                   verify=stack.cert_file,
                                                   headers={"Connection": "close"}))):
            t = time.perf_counter()
            try:
                ok = fn().status_code == 200
            except requests.RequestException:
                ok = False
            out[name].append((time.perf_counter() - t, ok))
        stop.wait(0.1)


def report(name, rows):
    lat = sorted(t for t, ok in rows)
    fails = sum(1 for t, ok in rows if not ok)
    if not lat:
        print(f"{name}: no requests")
        return
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"{name}: {len(rows)} requests, {fails} failed; latency p50 "
          f"{statistics.median(lat) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
          f"max {lat[-1] * 1000:.0f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default="build")
    ap.add_argument("--slow", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=40)
    args = ap.parse_args()
    stop = threading.Event()
    with own_stack("slow", args.builddir) as stack:
        try:
            with open(os.path.join(stack.ca_dir, "web", "member.crt"), "rb") as f:
                issuer = x509.load_pem_x509_certificate(f.read())
            body = ocsp_request_der(hashlib.sha1(issuer.subject.public_bytes()).digest(),
                                    x509.SubjectKeyIdentifier.from_public_key(
                                        issuer.public_key()).digest,
                                    (0x1234567890).to_bytes(8, "big"))
            out = {"ocsp": [], "page": []}
            crowds = [SlowCrowd(port, tls, kind, args.slow, stop)
                      for port, tls in ((stack.http_port, False), (stack.port, True))
                      for kind in ("header", "body")]
            for c in crowds:
                c.start()
            time.sleep(5)
            client = threading.Thread(target=normal_client, args=(stack, body, stop, out),
                                      daemon=True)
            client.start()
            stop.wait(args.seconds)
            stop.set()
            client.join(15)
            for c in crowds:
                c.join(15)
            print(f"{4 * args.slow} slow connections ({args.slow} slow-header and {args.slow} "
                  f"slow-body to each of OCSP and the member vhost) for {args.seconds} s; "
                  f"the server closed {sum(c.closed_by_server for c in crowds)} of them")
            report("OCSP (normal client)", out["ocsp"])
            report("login page (normal client)", out["page"])
        finally:
            stop.set()


if __name__ == "__main__":
    main()
