# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""signerd with two lines (docs/signerd.md): a cable to each of two web
hosts, only one of which drives its line at a time.  Each line has its own
framing; the journal and the ids are shared, so a request asked again on
the other line after a takeover gets the same answer and is never signed
twice; heartbeats on either line keep the dead-man switch quiet; a
refusal on either line stops signerd."""

import os
import pwd
import select
import shutil
import tempfile
import time
import tty

import pytest

import signerwire as w
from test_signerd import Signer, cas, keys, sign_body  # noqa: F401  (fixtures)


class Line:
    """the web host's end of signerd's second line"""

    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        self.dec = w.Decoder()
        self.pending = []

    def send(self, mtype, mid, payload=b""):
        os.write(self.master, w.encode(mtype, mid, payload))

    def recv(self, timeout=5):
        end = time.monotonic() + timeout
        while not self.pending:
            left = end - time.monotonic()
            assert left > 0, "no answer on the second line"
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    time.sleep(0.01)
                    continue
                self.pending += self.dec.feed(data)
        return self.pending.pop(0)

    def request(self, mtype, mid, payload=b"", timeout=5):
        self.send(mtype, mid, payload)
        return self.recv(timeout)

    def close(self):
        os.close(self.master)
        os.close(self.slave)


class TwoLines(Signer):
    def __init__(self, tmp, cas, **kw):
        self.second = Line()
        super().__init__(tmp, cas, **kw)
        # the second device by a name of its own, as /dev/serial/by-id/...
        # names an adapter: the cable can go and come back under it
        # (in a folder the user signerd runs as can pass, to open it again)
        self.linkdir = tempfile.mkdtemp(prefix="cacert-line-", dir="/tmp")
        os.chmod(self.linkdir, 0o755)
        self.second_path = os.path.join(self.linkdir, "line2")
        os.symlink(os.ttyname(self.second.slave), self.second_path)
        # blanks first: Signer.start fills in every line that starts with
        # "device " with its own pty (signerd skips leading blanks)
        self.conf_lines.insert(2, f" device {self.second_path}")

    def replug_second(self):
        """the second cable comes back: a new pty under the same name,
        which the user signerd runs as may open (the device's group, on a
        real host)"""
        self.second = Line()
        dev = os.ttyname(self.second.slave)
        if os.geteuid() == 0:
            os.chown(dev, pwd.getpwnam("nobody").pw_uid, -1)
        tmp = self.second_path + ".new"
        os.symlink(dev, tmp)
        os.replace(tmp, self.second_path)

    def close(self):
        super().close()
        self.second.close()
        shutil.rmtree(self.linkdir, ignore_errors=True)


@pytest.fixture
def two(tmp_path, cas):  # noqa: F811
    made = []

    def make(**kw):
        s = TwoLines(str(tmp_path), cas, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def journal_sign_ids(s):
    with open(s.journal) as f:
        return [l.split()[3] for l in f if l.split()[2] == "SIGN"]


def test_a_request_asked_again_on_the_other_line(two, keys):  # noqa: F811
    s = two()
    s.start()
    assert " and " in s.log                         # ready on both lines
    assert s.request(w.HELLO, 0).type == w.HELLO_OK
    body = sign_body("member", "client", keys["rsa2048"], email="a@example.org",
                     san_email=["a@example.org"])
    first = s.request(w.SIGN, 501, body)
    assert first.type == w.CERT
    # the host that sent it died: the other host asks again, by id
    b = s.second
    assert b.request(w.HELLO, 0).type == w.HELLO_OK
    again = b.request(w.SIGN, 501, body)
    assert again.type == w.CERT and again.payload == first.payload
    assert journal_sign_ids(s) == ["501"]
    s.wait_log("CA61408")                           # repeated: the journal's answer
    s.wait_log("CA61036")                           # requests moved to the other line
    # and a new request on the second line is signed there, once
    assert b.request(w.SIGN, 502, sign_body("member", "client", keys["p256"], email="b@example.org",
                                            san_email=["b@example.org"])).type == w.CERT
    assert journal_sign_ids(s) == ["501", "502"]
    # the first line still answers too
    assert s.request(w.HEARTBEAT, 0).type == w.HEARTBEAT_OK


def test_heartbeats_on_either_line_keep_signerd_up(two):
    s = two(deadman=2)
    s.start()
    for _ in range(6):                              # 3 s, over the dead-man's 2 s
        assert s.second.request(w.HEARTBEAT, 0).type == w.HEARTBEAT_OK
        time.sleep(0.5)
    assert s.proc.poll() is None
    assert s.wait_exit(6) == 4                      # silence on both: dead-man


def test_a_refusal_on_the_second_line_stops_signerd(two, keys):  # noqa: F811
    s = two()
    s.start()
    f = s.second.request(w.SIGN, 7, sign_body("member", "codesign", keys["rsa2048"]))
    assert f.type == w.STOP and f.id == 7
    assert s.wait_exit() == 3
    assert "keys wiped" in s.log
    s.check_sanitizers()


@pytest.mark.parametrize("extra,needle", [
    ([" device /dev/ptmx"], "at most two 'device' lines"),
])
def test_at_most_two_lines(two, extra, needle):
    s = two(extra=extra)
    s.start(expect_ready=False)
    assert s.wait_exit() == 1
    assert needle in s.log


def test_the_same_device_twice(tmp_path, cas):  # noqa: F811
    s = Signer(str(tmp_path), cas)
    s.conf_lines.insert(2, "device /dev/null")      # replaced by the same pty at start
    s.start(expect_ready=False)
    try:
        assert s.wait_exit() == 1
        assert "given twice" in s.log
    finally:
        s.close()


def test_a_failed_line_is_opened_again(two, keys):  # noqa: F811
    """The second cable is pulled: signerd closes that line and goes on with
    the first; plugged back in under the same name, the line is opened
    again (every 5 s) and answers, and an id asked on both is signed once."""
    s = two()
    s.start()
    body = sign_body("member", "client", keys["rsa2048"], email="r@example.org",
                     san_email=["r@example.org"])
    assert s.second.request(w.HELLO, 0).type == w.HELLO_OK
    first = s.second.request(w.SIGN, 601, body)
    assert first.type == w.CERT
    s.second.close()                                # the cable is pulled
    s.wait_log("CA61037")
    assert s.request(w.HEARTBEAT, 0).type == w.HEARTBEAT_OK
    s.wait_log("CA61040", timeout=10)               # nothing under the name yet
    s.replug_second()
    s.wait_log("CA61039", timeout=10)               # open again
    b = s.second
    assert b.request(w.HELLO, 0).type == w.HELLO_OK
    again = b.request(w.SIGN, 601, body)
    assert again.type == w.CERT and again.payload == first.payload
    assert b.request(w.SIGN, 602, sign_body("member", "client", keys["p256"],
                                            email="q@example.org",
                                            san_email=["q@example.org"])).type == w.CERT
    assert journal_sign_ids(s) == ["601", "602"]
    assert s.request(w.HEARTBEAT, 0).type == w.HEARTBEAT_OK
    assert s.proc.poll() is None
    s.check_sanitizers()
