# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Password checks at the same moment (real httpd, threaded workers): the
dictionary check (libpwquality/cracklib) keeps global state, so twenty
registrations or password changes at once must neither crash a child nor
call a good password "too easy to guess"."""

import threading

import pytest

from accounts import PASSWORD, confirm, csrf_of, login, member_data, post
from conftest import StackSession

ROUNDS = 3
AT_ONCE = 20
NEW_PASSWORD = "Fresh-Meadow-38-violin"
TOO_EASY = "too easy to guess"


def at_once(fn, args):
    """fn(*a) for each a in args, all released together; the results."""
    barrier = threading.Barrier(len(args))
    out = [None] * len(args)

    def run(i, a):
        barrier.wait()
        try:
            out[i] = fn(*a)
        except Exception as e:          # a lost answer is a result too
            out[i] = e

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def crashes(stack, log_from):
    return stack.error_log_lines(log_from, lambda l: "AH00052" in l or "exit signal" in l)


@pytest.fixture
def many_registrations(stack):
    with stack.configured(["CAcertRegistrationsPerClient 1000"]):
        yield


def test_concurrent_registrations(stack, many_registrations):
    import os
    log_from = os.path.getsize(stack.error_log)
    for _ in range(ROUNDS):
        sessions = [StackSession(stack) for _ in range(AT_ONCE)]
        forms = []
        for s in sessions:
            page = s.get("/account/register")
            assert page.status_code == 200
            forms.append((s, dict(member_data(), csrf=csrf_of(page.text))))

        def register(s, data):
            return s.post("/account/register", data=data, allow_redirects=False)

        results = at_once(register, forms)
        for s in sessions:
            s.close()
        lost = [r for r in results if isinstance(r, Exception)]
        assert not lost, lost[:3]
        easy = [r for r in results if TOO_EASY in r.text]
        assert not easy, f"{len(easy)} of {AT_ONCE} got a false 'too easy'"
        assert all(r.status_code == 200 for r in results), \
            [(r.status_code, r.text[:200]) for r in results if r.status_code != 200][:3]
        assert not crashes(stack, log_from)


def test_concurrent_password_changes(stack, many_registrations):
    import os
    sessions, passwords = [], []
    for _ in range(AT_ONCE):
        s = StackSession(stack)
        data = member_data()
        r = post(s, "/account/register", data)
        assert r.status_code == 200, r.text[:300]
        assert confirm(s, stack, data["email"]).status_code == 200
        assert login(s, data["email"], PASSWORD).status_code == 303
        sessions.append(s)
        passwords.append(PASSWORD)
    log_from = os.path.getsize(stack.error_log)
    for rnd in range(ROUNDS):
        new = NEW_PASSWORD if rnd % 2 == 0 else PASSWORD
        forms = []
        for s, old in zip(sessions, passwords):
            page = s.get("/account/password")
            assert page.status_code == 200
            forms.append((s, {"csrf": csrf_of(page.text), "current": old,
                              "password": new, "password2": new}))

        def change(s, data):
            return s.post("/account/password", data=data, allow_redirects=False)

        results = at_once(change, forms)
        lost = [r for r in results if isinstance(r, Exception)]
        assert not lost, lost[:3]
        easy = [r for r in results if TOO_EASY in r.text]
        assert not easy, f"{len(easy)} of {AT_ONCE} got a false 'too easy'"
        assert all(r.status_code == 200 and "password has been changed" in r.text
                   for r in results), [r.status_code for r in results]
        passwords = [new] * AT_ONCE
        assert not crashes(stack, log_from)
    for s in sessions:
        s.close()
