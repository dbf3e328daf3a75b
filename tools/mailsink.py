#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""mailsink: a tiny SMTP server that stores every message in a Maildir.

    mailsink.py --listen 127.0.0.1:2525 --maildir DIR [--pidfile FILE]

For development and tests only: it accepts any sender and recipient, never
relays, and stores each message atomically (DIR/tmp, then rename into
DIR/new) with an added "X-Envelope-To:" header listing the envelope
recipients (and "X-Envelope-From:").  Speaks EHLO/HELO, MAIL FROM, RCPT TO,
DATA (with dot-unstuffing), RSET, NOOP, VRFY, HELP, QUIT; advertises
8BITMIME, SIZE and PIPELINING (commands are handled strictly in order, so
pipelining clients work).  Bad clients get 500-class replies, long lines and
huge messages are refused, idle connections time out.
"""

import argparse
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time

MAX_LINE = 1000 + 2          # RFC 5321 4.5.3.1.6 text line incl. CRLF
MAX_CMD_LINE = 512 + 2       # RFC 5321 4.5.3.1.4 command line incl. CRLF
MAX_MESSAGE = 10 * 1024 * 1024
MAX_RECIPIENTS = 100
MAX_ERRORS = 10
IDLE_TIMEOUT = 60.0

_counter_lock = threading.Lock()
_counter = 0


def _unique_name():
    global _counter
    with _counter_lock:
        _counter += 1
        n = _counter
    now = time.time()
    sec = int(now)
    usec = int((now - sec) * 1e6)
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
    return f"{sec}.M{usec}P{os.getpid()}Q{n}.{host}"


def maildir_init(path):
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)


def maildir_store(path, data):
    """Write data (bytes) to path/tmp, fsync, then rename into path/new."""
    name = _unique_name()
    tmp = os.path.join(path, "tmp", name)
    new = os.path.join(path, "new", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, new)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return new


_ADDR_RE = re.compile(rb"^\s*(?:FROM|TO)\s*:\s*<([^<>]*)>(?:\s+([^<>]*))?\s*$", re.I)


def parse_path(arg):
    """Parse 'FROM:<addr> params' / 'TO:<addr> params'; return addr or None."""
    m = _ADDR_RE.match(arg)
    if not m:
        # tolerate 'FROM:addr' without brackets (some simple clients)
        m2 = re.match(rb"^\s*(?:FROM|TO)\s*:\s*([^\s<>]+)(?:\s+([^<>]*))?$", arg, re.I)
        if not m2:
            return None
        addr = m2.group(1)
    else:
        addr = m.group(1)
    # Strip a source route (@a,@b:user@host), keep the mailbox.
    if b":" in addr and addr.startswith(b"@"):
        addr = addr.split(b":", 1)[1]
    try:
        return addr.decode("utf-8")
    except UnicodeDecodeError:
        return None


class LineTooLong(Exception):
    pass


class SMTPHandler(socketserver.StreamRequestHandler):
    timeout = IDLE_TIMEOUT

    def setup(self):
        super().setup()
        self.maildir = self.server.maildir
        self.reset()
        self.helo = None
        self.errors = 0

    def reset(self):
        self.mail_from = None
        self.rcpts = []

    def reply(self, code, text, more=()):
        lines = list(more)
        out = []
        if lines:
            out.append(f"{code}-{text}\r\n")
            for i, line in enumerate(lines):
                sep = " " if i == len(lines) - 1 else "-"
                out.append(f"{code}{sep}{line}\r\n")
        else:
            out.append(f"{code} {text}\r\n")
        self.wfile.write("".join(out).encode("ascii", "replace"))
        self.wfile.flush()

    def readline(self, limit):
        line = self.rfile.readline(limit + 1)
        if len(line) > limit:
            # Swallow the rest of the over-long line so we stay in sync.
            while line and not line.endswith(b"\n"):
                line = self.rfile.readline(65536)
            raise LineTooLong()
        return line

    def handle(self):
        try:
            self.reply(220, f"{self.server.hostname} ESMTP mailsink ready")
            while True:
                try:
                    line = self.readline(MAX_CMD_LINE)
                except LineTooLong:
                    self.reply(500, "5.5.2 line too long")
                    if self.bad():
                        return
                    continue
                if not line:
                    return
                if not self.command(line.rstrip(b"\r\n")):
                    return
        except (socket.timeout, TimeoutError):
            try:
                self.reply(421, "4.4.2 timeout, closing connection")
            except OSError:
                pass
        except (ConnectionError, OSError):
            pass

    def bad(self):
        """Count a protocol error; True if the client should be dropped."""
        self.errors += 1
        if self.errors >= MAX_ERRORS:
            self.reply(421, "4.7.0 too many errors, closing connection")
            return True
        return False

    def command(self, line):
        verb, _, arg = line.partition(b" ")
        verb = verb.upper()
        if verb in (b"EHLO", b"HELO"):
            self.helo = arg.strip().decode("utf-8", "replace") or "unknown"
            self.reset()
            if verb == b"EHLO":
                self.reply(250, f"{self.server.hostname} hello {self.helo}",
                           ["8BITMIME", f"SIZE {MAX_MESSAGE}", "PIPELINING", "HELP"])
            else:
                self.reply(250, f"{self.server.hostname} hello {self.helo}")
        elif verb == b"MAIL":
            if self.mail_from is not None:
                self.reply(503, "5.5.1 nested MAIL command")
                return not self.bad()
            addr = parse_path(arg)
            if addr is None:
                self.reply(501, "5.5.4 syntax: MAIL FROM:<address>")
                return not self.bad()
            self.mail_from = addr
            self.reply(250, "2.1.0 sender ok")
        elif verb == b"RCPT":
            if self.mail_from is None:
                self.reply(503, "5.5.1 need MAIL before RCPT")
                return not self.bad()
            addr = parse_path(arg)
            if not addr:
                self.reply(501, "5.5.4 syntax: RCPT TO:<address>")
                return not self.bad()
            if len(self.rcpts) >= MAX_RECIPIENTS:
                self.reply(452, "4.5.3 too many recipients")
                return True
            self.rcpts.append(addr)
            self.reply(250, "2.1.5 recipient ok")
        elif verb == b"DATA":
            if arg.strip():
                self.reply(501, "5.5.4 DATA takes no argument")
                return not self.bad()
            if self.mail_from is None or not self.rcpts:
                self.reply(503, "5.5.1 need MAIL and RCPT before DATA")
                return not self.bad()
            self.reply(354, "end data with <CR><LF>.<CR><LF>")
            return self.data()
        elif verb == b"RSET":
            self.reset()
            self.reply(250, "2.0.0 ok")
        elif verb == b"NOOP":
            self.reply(250, "2.0.0 ok")
        elif verb == b"VRFY":
            self.reply(252, "2.5.0 cannot verify, but will accept")
        elif verb == b"HELP":
            self.reply(214, "EHLO HELO MAIL RCPT DATA RSET NOOP VRFY QUIT")
        elif verb == b"QUIT":
            self.reply(221, "2.0.0 bye")
            return False
        elif verb in (b"STARTTLS", b"AUTH", b"BDAT", b"ETRN", b"EXPN", b"TURN"):
            self.reply(502, "5.5.1 command not implemented")
            return not self.bad()
        else:
            self.reply(500, "5.5.2 command unrecognised")
            return not self.bad()
        return True

    def data(self):
        chunks = []
        size = 0
        too_long = False
        too_big = False
        while True:
            try:
                line = self.readline(MAX_LINE)
            except LineTooLong:
                too_long = True
                continue
            if not line:
                return False        # connection closed mid-DATA: drop message
            if line in (b".\r\n", b".\n"):
                break
            if line.startswith(b"."):
                line = line[1:]     # dot-unstuffing (RFC 5321 4.5.2)
            if not line.endswith(b"\r\n"):
                line = line.rstrip(b"\n") + b"\r\n"
            size += len(line)
            if size > MAX_MESSAGE:
                too_big = True
                chunks = []
                continue
            if not too_big:
                chunks.append(line)
        if too_long:
            self.reset()
            self.reply(500, "5.5.6 line too long in message")
            return not self.bad()
        if too_big:
            self.reset()
            self.reply(552, "5.3.4 message too big")
            return True
        header = (f"Return-Path: <{self.mail_from}>\r\n"
                  f"X-Envelope-From: <{self.mail_from}>\r\n"
                  f"X-Envelope-To: {', '.join('<%s>' % r for r in self.rcpts)}\r\n"
                  f"Received: from {self.helo or 'unknown'} "
                  f"([{self.client_address[0]}]) by {self.server.hostname} "
                  f"(mailsink) ; {time.strftime('%a, %d %b %Y %H:%M:%S %z')}\r\n")
        data = header.encode("utf-8", "replace") + b"".join(chunks)
        try:
            path = maildir_store(self.maildir, data)
        except OSError as e:
            self.reset()
            self.reply(451, f"4.3.0 cannot store message: {e.strerror}")
            return True
        self.reset()
        self.reply(250, f"2.0.0 ok: queued as {os.path.basename(path)}")
        if self.server.verbose:
            print(f"mailsink: stored {path}", file=sys.stderr, flush=True)
        return True


class SinkServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, addr, maildir, verbose=False):
        self.maildir = maildir
        self.verbose = verbose
        self.hostname = "localhost"
        maildir_init(maildir)
        super().__init__(addr, SMTPHandler)


def parse_listen(s):
    host, sep, port = s.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", s
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def main(argv=None):
    ap = argparse.ArgumentParser(description="tiny SMTP sink writing a Maildir")
    ap.add_argument("--listen", default="127.0.0.1:2525", help="HOST:PORT (port 0 = any free port)")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--pidfile")
    ap.add_argument("--portfile", help="write the bound port here (useful with port 0)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    host, port = parse_listen(args.listen)
    server = SinkServer((host, port), os.path.abspath(args.maildir), args.verbose)
    bound = server.server_address[1]

    def _stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(args.pidfile + ".tmp", args.pidfile)
    if args.portfile:
        with open(args.portfile + ".tmp", "w") as f:
            f.write(f"{bound}\n")
        os.rename(args.portfile + ".tmp", args.portfile)
    print(f"mailsink: listening on {host}:{bound}, Maildir {args.maildir}",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
