# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""SoftHSM tokens for the tests: a folder of their own with a softhsm2.conf,
tokens initialised in it, and handing them to the user signerd runs as."""

import os
import pwd
import subprocess
import tempfile

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
SO_PIN = "31415926"


class Tokens:
    def __init__(self, prefix, labels, pin):
        """labels: the tokens to initialise, each with the user PIN pin"""
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)
        self.tokdir = os.path.join(self.dir, "tokens")
        os.mkdir(self.tokdir)
        self.conf = os.path.join(self.dir, "softhsm2.conf")
        with open(self.conf, "w") as f:
            f.write(f"directories.tokendir = {self.tokdir}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
        self.env = dict(os.environ, SOFTHSM2_CONF=self.conf)
        for label in labels:
            r = subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label,
                                "--pin", pin, "--so-pin", SO_PIN], env=self.env,
                               capture_output=True, timeout=60)
            assert r.returncode == 0, r.stderr

    def give_to(self, user="nobody"):
        """the token files belong to signerd's user, as on a signing host
        (as root; otherwise they are the caller's already)"""
        if os.geteuid() != 0:
            return
        pw = pwd.getpwnam(user)
        for root, dirs, files in os.walk(self.tokdir):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.chown(n, pw.pw_uid, pw.pw_gid)
