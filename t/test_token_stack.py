# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The whole path on a token: a stack of its own (httpd, PostgreSQL, the pty
line, signerd) whose SubRoot keys cacert-ca made on a SoftHSM token.  A
member's certificate is issued through the request form, revoked through
the page, and the CRL the web side publishes is checked with openssl;
signerd logged in to the token, and logs out when it stops."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest
from cryptography.hazmat.primitives import serialization

from conftest import own_stack
from issuing import download, issue, member, openssl_verify, revoke, wait_for_crl
from softhsm import MODULE

pytestmark = pytest.mark.skipif(not (os.path.exists(MODULE) and shutil.which("softhsm2-util")),
                                reason="softhsm2 is not installed")


@pytest.fixture(scope="module")
def stack():
    """overrides the session's stack for this module: http and db use it"""
    yield from own_stack("cacert-token-stack-", token=True)


def chain_pem(http, cid):
    return download(http, cid, fmt="chain")


def test_issuance_and_revocation_with_token_keys(http, stack, db):
    with open(stack.signerd_conf) as f:
        conf = f.read()
    assert f"pkcs11-module {MODULE}" in conf and "key=pkcs11:token=cacert-subroots" in conf
    assert not os.path.exists(os.path.join(stack.ca_dir, "signer", "member.key"))
    log = open(stack.signerd_log).read()
    assert "key loaded" in log and "ready on" in log
    member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    pem = download(http, cid)
    ok, out = openssl_verify(stack, pem, chain=chain_pem(http, cid))
    assert ok, out
    revoke(http, cid)
    crl = wait_for_crl(http, "member", cert.serial_number)
    crl_pem = crl.public_bytes(serialization.Encoding.PEM)
    ok, out = openssl_verify(stack, pem, crl_pem=crl_pem, chain=chain_pem(http, cid))
    assert not ok and "revoked" in out, out
    # openssl checks the CRL's signature (made on the token) itself
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "crl.pem")
        with open(p, "wb") as f:
            f.write(crl_pem)
        r = subprocess.run(["openssl", "crl", "-in", p, "-noout", "-CAfile",
                            os.path.join(stack.ca_dir, "web", "member.crt")],
                           capture_output=True, text=True)
        assert "verify OK" in r.stdout + r.stderr, r.stdout + r.stderr


def test_signerd_logs_out_when_it_stops(stack):
    stack.stop_signerd()
    assert "logged out of 1 token" in open(stack.signerd_log).read()
    stack.start_signerd()
    deadline = time.monotonic() + 20
    while open(stack.signerd_log).read().count("ready on") < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
