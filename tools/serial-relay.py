#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""serial-relay: a serial line between the web host's signer link and
signerd, made of two pseudo-terminals, for the demo and the tests.

  serial-relay.py --dir DIR [--owner USER] [--baud N]

Creates two ptys and links their device names to DIR/link.tty (the web
side, opened by mod_cacert_issue) and DIR/signer.tty (opened by signerd),
then copies bytes between them.  --baud paces the copying like a real line
of that speed (10 bits per byte); without it bytes pass at once.

For fault tests it listens on the Unix socket DIR/relay.sock for commands,
one per datagram, answered with a datagram:
  flip-next-to-signer N   flip one bit in the Nth byte from now going to signerd
  flip-next-to-link N     the same towards the link
  length-next-to-signer   in the next frame header going to signerd, make the
                          payload length 4096 bytes more than it is (at most
                          65536): the receiver waits for bytes that never come
  length-next-to-link     the same towards the link
  stats                   "to_signer=<bytes> to_link=<bytes>"
  reset-stats
  release                 give up a stale exclusive use of both ends: each end
                          opens its device with TIOCEXCL and gives it up on
                          close; one that died (httpd's child, killed) leaves
                          the pty exclusive, and an unprivileged successor
                          could not open it again (a real serial device is
                          released by the kernel on the last close)
"""

import argparse
import fcntl
import os
import pwd
import select
import signal
import socket
import sys
import termios
import time
import tty


def make_pty(path, owner):
    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    if owner is not None:
        os.chown(name, owner, -1)
    os.chmod(name, 0o660 if owner is not None else 0o600)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.symlink(name, path)
    os.set_blocking(master, False)
    # the relay keeps the slave open, so the line never hangs up when one
    # side restarts; it never reads from it
    return master, slave


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--owner", help="user that may open both ends (e.g. www-data)")
    ap.add_argument("--baud", type=int, default=0)
    args = ap.parse_args()

    owner = pwd.getpwnam(args.owner).pw_uid if args.owner else None
    link_m, link_s = make_pty(os.path.join(args.dir, "link.tty"), owner)
    signer_m, signer_s = make_pty(os.path.join(args.dir, "signer.tty"), owner)
    if owner is not None:
        # signerd, started as root, opens its end before dropping privileges;
        # the web side runs as the owner
        os.chmod(os.ttyname(link_s), 0o660)

    sock_path = os.path.join(args.dir, "relay.sock")
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    ctl = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ctl.bind(sock_path)
    os.chmod(sock_path, 0o600)

    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))

    counts = {"to_signer": 0, "to_link": 0}
    flip = {"to_signer": None, "to_link": None}      # bytes until the flip
    lengthen = {"to_signer": False, "to_link": False}  # the next header's length
    pending = {"to_signer": bytearray(), "to_link": bytearray()}
    dest = {"to_signer": signer_m, "to_link": link_m}
    byte_time = 10.0 / args.baud if args.baud else 0.0
    next_ok = {"to_signer": 0.0, "to_link": 0.0}

    with open(os.path.join(args.dir, "relay.pid"), "w") as f:
        f.write(str(os.getpid()))
    sys.stdout.write("serial-relay: %s <-> %s\n" % (os.ttyname(link_s), os.ttyname(signer_s)))
    sys.stdout.flush()

    def take(direction, data):
        data = bytearray(data)
        n = flip[direction]
        if n is not None:
            if n < len(data):
                data[n] ^= 0x10
                flip[direction] = None
            else:
                flip[direction] = n - len(data)
        if lengthen[direction]:
            at = data.find(b"\xca\x5e\x01")
            if at >= 0 and at + 16 <= len(data):
                n = int.from_bytes(data[at + 12:at + 16], "big")
                data[at + 12:at + 16] = min(n + 4096, 65536).to_bytes(4, "big")
                lengthen[direction] = False
        pending[direction] += data

    while not stop:
        timeout = 0.2
        if any(pending.values()):
            timeout = 0.001
        try:
            r, _, _ = select.select([link_m, signer_m, ctl], [], [], timeout)
        except InterruptedError:
            continue
        for fd in r:
            if fd is ctl:
                msg, addr = ctl.recvfrom(256)
                words = msg.decode(errors="replace").split()
                reply = "ok"
                if words[:1] == ["flip-next-to-signer"] and len(words) == 2:
                    flip["to_signer"] = int(words[1])
                elif words[:1] == ["flip-next-to-link"] and len(words) == 2:
                    flip["to_link"] = int(words[1])
                elif words == ["length-next-to-signer"]:
                    lengthen["to_signer"] = True
                elif words == ["length-next-to-link"]:
                    lengthen["to_link"] = True
                elif words == ["stats"]:
                    reply = "to_signer=%d to_link=%d" % (counts["to_signer"], counts["to_link"])
                elif words == ["reset-stats"]:
                    counts["to_signer"] = counts["to_link"] = 0
                elif words == ["release"]:
                    for fd in (link_s, signer_s):
                        fcntl.ioctl(fd, termios.TIOCNXCL)
                else:
                    reply = "unknown command"
                if addr:
                    ctl.sendto(reply.encode(), addr)
                continue
            direction = "to_signer" if fd == link_m else "to_link"
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                # EIO: nobody has the slave open at the moment
                time.sleep(0.01)
                continue
            if data:
                take(direction, data)
        now = time.monotonic()
        for direction, buf in pending.items():
            if not buf or now < next_ok[direction]:
                continue
            n = len(buf)
            if byte_time:
                n = max(1, min(n, int(0.005 / byte_time) or 1))
            try:
                w = os.write(dest[direction], bytes(buf[:n]))
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                continue
            counts[direction] += w
            del buf[:w]
            if byte_time:
                next_ok[direction] = now + w * byte_time
    ctl.close()
    for p in ("link.tty", "signer.tty", "relay.sock", "relay.pid"):
        try:
            os.unlink(os.path.join(args.dir, p))
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    main()
