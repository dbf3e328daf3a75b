#!/usr/bin/python3
# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Web benchmark of mod_cacert_account: starts its own stack (the demo's
Argon2id parameters unless --argon2 is given), registers and confirms one
member, then measures with wrk (keep-alive, loopback):
  - GET /account/login        (a visitor's page)
  - GET /account/             (the logged-in overview: session lookup, member
                               and address queries, template rendering), in
                               English and in each translation
  - POST /account/login       (the login itself, bound by Argon2id)
and prints requests/s and latency for each.  Bounded: each run lasts
--seconds (default 10)."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "t"))

import requests  # noqa: E402

import cacertstack  # noqa: E402
from accounts import PASSWORD, csrf_of, member_data  # noqa: E402
from catalogues import languages  # noqa: E402

LOGIN_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "__Host-cacert-csrf=%(csrf)s"
wrk.body = "csrf=%(csrf)s&email=%(email)s&password=%(password)s"
"""


def wrk(url, seconds, conns, threads=2, headers=(), script=None):
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"(?m)^\s+50%\s+(\S+)", out).group(1)
    p99 = re.search(r"(?m)^\s+99%\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return rps, p50, p99, int(non2xx.group(1)) if non2xx else 0, errors.group(0) if errors else ""


def register_member(stack, email):
    """Register and confirm one member on stack: (requests session, data)."""
    s = requests.Session()
    v = stack.cert_file
    data = member_data(email=email)
    r = s.get(stack.url + "/account/register", verify=v)
    r = s.post(stack.url + "/account/register", data=dict(data, csrf=csrf_of(r.text)), verify=v)
    assert r.status_code == 200, r.text
    link = [l for l in stack.wait_for_mail(data["email"]).links if "confirm?" in l][0]
    r = s.get(link, verify=v)
    s.post(stack.url + "/account/confirm", verify=v, data={
        "csrf": csrf_of(r.text), "id": re.search(r'name="id" value="(\d+)"', r.text).group(1),
        "code": link.split("code=")[1]})
    return s, data


def login_member(stack, s, data):
    """Log the member in on session s: (session cookie value, the anonymous
    CSRF token)."""
    v = stack.cert_file
    r = s.get(stack.url + "/account/login", verify=v)
    anon_csrf = s.cookies.get("__Host-cacert-csrf")
    r = s.post(stack.url + "/account/login", verify=v, allow_redirects=False,
               data={"csrf": csrf_of(r.text), "email": data["email"], "password": PASSWORD})
    assert r.status_code == 303, r.text
    return s.cookies.get("__Host-cacert-session"), anon_csrf


def member_session(stack, email="bench@example.org"):
    """Register, confirm and log in one member on stack: (requests session,
    session cookie value, the anonymous CSRF token, the member's data)."""
    s, data = register_member(stack, email)
    session, anon_csrf = login_member(stack, s, data)
    assert '<main' in s.get(stack.url + "/account/", verify=stack.cert_file).text
    return s, session, anon_csrf, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--builddir", default=os.path.join(REPO, "build"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--argon2", default="3 65536 1")
    args = ap.parse_args()

    d = tempfile.mkdtemp(prefix="cacert-bench-", dir="/tmp")
    os.chmod(d, 0o755)
    stack = cacertstack.Stack(d, builddir=os.path.abspath(args.builddir), port=0,
                              argon2=args.argon2)
    try:
        stack.start()
        s, session, anon_csrf, data = member_session(stack)

        print(f"mod_cacert_account on {stack.url}, wrk -t2 -c{args.connections} "
              f"-d{args.seconds}s, keep-alive, loopback, {os.cpu_count()} cores")
        rows = []
        rows.append(("GET /account/login (visitor page)",)
                    + wrk(stack.url + "/account/login", args.seconds, args.connections))
        rows.append(("GET /account/ (logged-in overview)",)
                    + wrk(stack.url + "/account/", args.seconds, args.connections,
                          headers=[f"Cookie: __Host-cacert-session={session}"]))
        for lang in languages():
            rows.append((f"GET /account/ (overview, {lang})",)
                        + wrk(stack.url + "/account/", args.seconds, args.connections,
                              headers=[f"Cookie: __Host-cacert-session={session}; "
                                       f"__Host-cacert-lang={lang}"]))
        rows.append(("GET /static/cacert.css (static file)",)
                    + wrk(stack.url + "/static/cacert.css", args.seconds, args.connections))
        script = os.path.join(d, "login.lua")
        with open(script, "w") as f:
            f.write(LOGIN_LUA % {"csrf": anon_csrf, "email": data["email"].replace("@", "%40"),
                                 "password": PASSWORD})
        # the login's cost is the Argon2id verification: few connections
        rows.append((f"POST /account/login (argon2 {args.argon2})",)
                    + wrk(stack.url + "/account/login", args.seconds, 4, script=script))
        for name, rps, p50, p99, non2xx, errors in rows:
            print(f"  {name:44s} {rps:10.1f} req/s   p50 {p50:>8s}  p99 {p99:>8s}"
                  + (f"  non-2xx/3xx: {non2xx}" if non2xx else "") + (f"  {errors}" if errors else ""))
        # the login runs must all have been successful redirects
        cur_failures = stack.psql("SELECT count(*) FROM login_failures").stdout.strip()
        print(f"  failed logins recorded during the run: {cur_failures}")
    finally:
        stack.stop()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
