#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""scan_forms: the outside scanners against the forms, on a stack of its own.

  tools/scan_forms.py [--builddir build] [--keep]

Starts a stack (limits on failed logins and confirmations raised, so that
the scanners reach the code behind them rather than the 429 in front), a
member who is an Assurer, logged in, and runs at their defaults:

  - sqlmap (Debian) on the register, login, certificate request and
    assurance forms, every field, with the CSRF token fetched anew;
  - wapiti (Debian) on the same four pages (scope: the page), with the
    member's session.

Prints each command line and what it reported: injectable parameters
(sqlmap) and vulnerabilities by kind (wapiti), and how many requests the
server logged.  Needs the packages sqlmap and wapiti (not part of the test
set-up: a manual check, its figures go into the project's notes)."""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))

import cacertstack  # noqa: E402
from accounts import PASSWORD, login, member_data, registered_member  # noqa: E402
from conftest import StackSession  # noqa: E402
from issuing import give_points, make_csr, member_id, new_key  # noqa: E402

LIMITS = ["CAcertRegistrationsPerClient 1000000", "CAcertLoginFailuresPerAccount 1000000",
          "CAcertLoginFailuresPerClient 1000000", "CAcertEmailPingAttempts 1000000",
          "CAcertLostPasswordFailures 1000000"]


def run(cmd, timeout):
    print("$ " + " ".join(cmd if len(" ".join(cmd)) < 400 else cmd[:6] + ["..."]), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default="build")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="cacert-scan-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(args.builddir), port=0,
                              argon2="1 8192 1", extra_conf=LIMITS)
    try:
        stack.start()
        import psycopg2
        db = psycopg2.connect(**stack.pg_connect_args())
        db.autocommit = True
        http = StackSession(stack)
        m = registered_member(http, stack)
        mid = member_id(db, m["email"])
        give_points(db, mid, 100, assurer=True)
        assert login(http, m["email"], PASSWORD).status_code == 303
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        other = member_data()
        url = stack.url
        csr = make_csr(new_key()).decode()
        forms = {
            "register": ("/account/register", dict(other, csrf="x"), False),
            "login": ("/account/login", {"csrf": "x", "email": m["email"], "password": "x"},
                      False),
            "certificate request": ("/certs/new", {"csrf": "x", "profile": "client",
                                                   "email0": "yes", "md": "sha256",
                                                   "description": "laptop", "csr": csr}, True),
            "assurance": ("/wot/assure", {"csrf": "x", "step": "enter",
                                          "email": other["email"], "version": "1",
                                          "given": "Anna", "middle": "", "family": "Schmidt",
                                          "suffix": "", "dob_day": "14", "dob_month": "3",
                                          "dob_year": "1985", "date": "2026-12-01",
                                          "location": "Berlin", "documents": "2",
                                          "points": "10", "cca": "yes", "f2f": "yes"}, True),
        }
        from urllib.parse import urlencode
        for name, (path, data, session) in forms.items():
            out = os.path.join(d, "sqlmap-" + name.replace(" ", "-"))
            cmd = ["sqlmap", "-u", url + path, "--data", urlencode(data), "--batch",
                   "--csrf-token=csrf", "--csrf-url=" + url + path, "--flush-session",
                   "--output-dir=" + out, "--skip=csrf"]
            if session:
                cmd += ["--cookie", cookie]
            text = run(cmd, 3600)
            found = re.findall(r"Parameter: (\S+) \(", text)
            clean = "do not appear to be injectable" in text
            print(f"sqlmap {name}: injectable parameters {found or 'none'}"
                  f"{' (all tested parameters do not appear to be injectable)' if clean else ''}")
        for name, (path, data, session) in forms.items():
            out = os.path.join(d, "wapiti-" + name.replace(" ", "-") + ".json")
            # scope "page": the form's own URL only, so the logout form in the
            # layout is not attacked (wapiti 3.0.4's -x fails on Python 3.11)
            cmd = ["wapiti", "-u", url + path, "--scope", "page", "-f", "json", "-o", out,
                   "--flush-session", "--max-scan-time", "600", "-v", "0"]
            if session:
                cmd += ["-H", "Cookie: " + cookie]
            text = run(cmd, 1200)
            try:
                with open(out) as f:
                    report = json.load(f)
                vulns = {k: len(v) for k, v in report.get("vulnerabilities", {}).items() if v}
                anomalies = {k: len(v) for k, v in report.get("anomalies", {}).items() if v}
            except (OSError, ValueError) as e:
                vulns, anomalies = f"no report ({e}): {text[-500:]}", {}
            print(f"wapiti {name}: vulnerabilities {vulns or 'none'}; anomalies "
                  f"{anomalies or 'none'}")
        logs = glob.glob(os.path.join(stack.logdir, "access.log"))
        n = sum(1 for _ in open(logs[0])) if logs else 0
        print(f"requests the server logged in all: {n}")
    finally:
        stack.stop()
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
