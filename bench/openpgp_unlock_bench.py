#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""What one OpenPGP certification costs inside signerd, with the CA key
protected the way gpg protects it by default (S2K calibrated to about
100 ms, as at a real key ceremony; the test stack makes it cheap on
purpose).  signerd runs over a pty, no httpd; N PGPSIGN requests one after
another (each with its own id), the time from request to answer.

  bench/openpgp_unlock_bench.py [--builddir build] [--requests 20]

Run it with another tree's build (--builddir) to compare."""

import argparse
import os
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "t"))

import pgphelp  # noqa: E402
import signerwire as w  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--requests", type=int, default=20)
    a = ap.parse_args()
    os.environ["CACERT_BUILDDIR"] = os.path.abspath(a.builddir)
    import test_signerd as ts
    from test_signerd_openpgp import EMAIL, GOOD, NAME, pgpsign  # noqa: F401

    from cryptography.hazmat.primitives.asymmetric import rsa
    tmp = tempfile.mkdtemp(prefix="cacert-pgpbench-")
    os.chmod(tmp, 0o755)
    pf = os.path.join(tmp, "passphrase")
    with open(pf, "wb") as f:
        f.write(ts.PASSPHRASE + b"\n")
    cas = {"dir": tmp, "passfile": pf}
    for n in ("member", "assured", "org"):
        cas[n] = ts.make_ca(tmp, n, rsa.generate_private_key(65537, 2048))
    home = pgphelp.new_home("cacert-pgpbench-ca-")
    # gpg's own default protection: no s2k-calibration override
    pgphelp.gpg(home, "--quick-gen-key", "CAcert Bench OpenPGP Key <openpgp@bench.invalid>",
                "ed25519", "sign,cert", "2y", passphrase=ts.PASSPHRASE.decode())
    fpr = pgphelp.fingerprint(home, "CAcert Bench OpenPGP Key <openpgp@bench.invalid>")
    pgphelp.kill_agent(home)
    if os.geteuid() == 0:
        pgphelp.chown_tree(home, "nobody")
    mhome = pgphelp.new_home()
    mfpr = pgphelp.make_key(mhome, [GOOD])
    key = pgphelp.export(mhome, mfpr, armor=False)
    pgphelp.remove_home(mhome)

    s = ts.Signer(tmp, cas, extra=[f"openpgp home={home} fpr={fpr} days=30 digest=sha256 "
                                   "cps=http://www.bench.invalid/cps"])
    t0 = time.monotonic()
    s.start(timeout=120)
    s.hello()
    start = time.monotonic() - t0
    times = []
    try:
        for i in range(a.requests):
            t = time.monotonic()
            f = s.request(w.PGPSIGN, 1000 + i, pgpsign(key, mfpr, [GOOD]), timeout=60)
            times.append(time.monotonic() - t)
            assert f.type == w.PGPKEY, f
    finally:
        s.close()
        pgphelp.remove_home(home)
    times.sort()
    print(f"signerd from {a.builddir}: start-up to ready {start:.2f} s; "
          f"{a.requests} certifications, median {statistics.median(times) * 1000:.0f} ms, "
          f"p90 {times[int(0.9 * (len(times) - 1))] * 1000:.0f} ms, "
          f"min {times[0] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
