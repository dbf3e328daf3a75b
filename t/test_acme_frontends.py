# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""ACME over two frontends: a second httpd with the same modules and
configuration on the same PostgreSQL (without the signer link, which one
host drives), as behind a load balancer.  Nonces, accounts, orders and
authorisations live in the database, so every step works whichever
frontend takes it: a nonce from one is good on the other, an order made on
one is finalized on the other."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import cacertstack
from acme import Client, acme_member, b64, eab, load_certs, unique_domain
from test_acme_bad_input import csr_for


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_frontend(stack, extra=()):
    """Another httpd on the stack's configuration and database, without
    the signer link, with extra directives; yields its URL prefix
    (https://localhost:PORT)."""
    d = tempfile.mkdtemp(prefix="cacert-front2-", dir="/tmp")
    os.chmod(d, 0o755)
    rundir, logdir = os.path.join(d, "run"), os.path.join(d, "logs")
    for x in (rundir, logdir):
        os.makedirs(x)
        os.chmod(x, 0o777)
    port, http_port = free_port(), free_port()
    conf = open(stack.conf_file).read()
    conf = conf.replace(stack.rundir, rundir).replace(stack.logdir, logdir)
    conf = conf.replace(f"Listen 127.0.0.1:{stack.port} https", f"Listen 127.0.0.1:{port} https")
    conf = conf.replace(f"Listen 127.0.0.1:{stack.http_port} http",
                        f"Listen 127.0.0.1:{http_port} http")
    conf = re.sub(r"(?m)^CAcertSignerDevice .*$", "", conf)
    conf += "\n" + "\n".join(extra) + "\n"
    path = os.path.join(d, "httpd.conf")
    with open(path, "w") as f:
        f.write(conf)
    os.chmod(path, 0o644)
    out = open(os.path.join(logdir, "stderr"), "ab")
    proc = subprocess.Popen([cacertstack.HTTPD_BIN, "-f", path, "-DFOREGROUND"],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                            env=stack.httpd_env(), cwd=stack.dir, start_new_session=True)
    out.close()
    url = f"https://localhost:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert proc.poll() is None, open(os.path.join(logdir, "stderr")).read()
            assert time.monotonic() < deadline, "the second frontend did not start"
            time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def second(stack):
    yield from start_frontend(stack)


@pytest.fixture(scope="module")
def strict(stack):
    """A frontend with small limits and short-lived nonces."""
    yield from start_frontend(stack, ["CAcertACMEOrderLimit 2 3", "CAcertACMENonceLifetime 1s",
                                      "CAcertACMEMaxBody 2000"])


def test_every_step_on_either_frontend(http, stack, db, second):
    name = unique_domain()
    acme_member(http, stack, db, points=20, domains=[name], checks=["http"])
    c = Client(stack)
    first = stack.url

    def on(front, url):
        """The same resource on another frontend: the JWS still names the
        URL as the directory gives it, as a load balancer would pass it."""
        return front + url[len(first):]

    def post(front, url, payload, **kw):
        import json
        body = c.jws(url, payload, **kw)
        return c.http.post(on(front, url), data=json.dumps(body),
                           headers={"Content-Type": "application/jose+json"})

    # a nonce from the first, used on the second
    nonce = c.http.head(c.dir["newNonce"]).headers["Replay-Nonce"]
    kid, key = eab(http)
    r = post(second, c.dir["newAccount"], {"termsOfServiceAgreed": True,
                                           "externalAccountBinding": c.eab_binding(kid, key)},
             jwk=True, nonce=nonce)
    assert r.status_code == 201, r.text
    c.kid = r.headers["Location"]
    # a nonce from the second, used on the first
    nonce = c.http.head(on(second, c.dir["newNonce"])).headers["Replay-Nonce"]
    r = post(first, c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]},
             nonce=nonce)
    assert r.status_code == 201, r.text
    order_url, o = r.headers["Location"], r.json()
    # and not twice, on either
    r = post(second, c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]},
             nonce=nonce)
    assert r.status_code == 400 and r.json()["type"].endswith("badNonce")
    # the order made on the first, finalized on the second
    key = ec.generate_private_key(ec.SECP256R1())
    r = post(second, o["finalize"], {"csr": b64(csr_for([name], key))})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    fronts = [first, second]
    while (o := post(fronts[0], order_url, None).json())["status"] == "processing":
        fronts.reverse()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert o["status"] == "valid", o
    r = post(second, o["certificate"], None)
    assert r.status_code == 200
    cert = load_certs(r.content)[0]
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()


def test_limits_and_expiry(http, stack, db, strict):
    """Orders per account and per member in the window, the request size
    and the nonce lifetime, as the directives set them; expired nonces are
    cleaned up by the watchdog."""
    import json
    name = unique_domain()
    acme_member(http, stack, db, points=20, domains=[name], checks=["http"])
    first = stack.url

    def on(url):
        return strict + url[len(first):]

    def post(c, url, payload, **kw):
        body = c.jws(url, payload, nonce=c.http.head(on(c.dir["newNonce"])).headers["Replay-Nonce"],
                     **kw)
        return c.http.post(on(url), data=json.dumps(body),
                           headers={"Content-Type": "application/jose+json"})

    clients = []
    for _ in range(2):
        c = Client(stack)
        kid, key = eab(http)
        r = post(c, c.dir["newAccount"], {"termsOfServiceAgreed": True,
                                          "externalAccountBinding": c.eab_binding(kid, key)},
                 jwk=True)
        assert r.status_code == 201, r.text
        c.kid = r.headers["Location"]
        clients.append(c)
    order = {"identifiers": [{"type": "dns", "value": name}]}
    a, b = clients
    assert post(a, a.dir["newOrder"], order).status_code == 201
    assert post(a, a.dir["newOrder"], order).status_code == 201
    r = post(a, a.dir["newOrder"], order)                 # the account's third
    assert r.status_code == 429 and r.json()["type"].endswith("rateLimited")
    assert int(r.headers["Retry-After"]) > 0
    assert post(b, b.dir["newOrder"], order).status_code == 201
    r = post(b, b.dir["newOrder"], order)                 # the member's fourth
    assert r.status_code == 429 and r.json()["type"].endswith("rateLimited")
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM acme_orders o JOIN acme_accounts a ON a.id = o.account_id"
                " WHERE a.id IN (%s, %s)", (a.kid.rsplit("/", 1)[1], b.kid.rsplit("/", 1)[1]))
    assert cur.fetchone()[0] == 3
    # a larger body than CAcertACMEMaxBody
    r = post(a, a.dir["newOrder"], dict(order, pad="x" * 3000))
    assert r.status_code == 413 and r.json()["type"].endswith("malformed")
    # a nonce older than its lifetime
    nonce = a.http.head(on(a.dir["newNonce"])).headers["Replay-Nonce"]
    time.sleep(2.2)
    body = a.jws(a.dir["newOrder"], order, nonce=nonce)
    r = a.http.post(on(a.dir["newOrder"]), data=json.dumps(body),
                    headers={"Content-Type": "application/jose+json"})
    assert r.status_code == 400 and r.json()["type"].endswith("badNonce")
    # the watchdog (CAcertExpiryCheckInterval 1s in the tests) removes them
    deadline = time.monotonic() + 10
    while True:
        cur.execute("SELECT count(*) FROM acme_nonces WHERE expires_at < now() - interval '1 second'")
        if cur.fetchone()[0] == 0:
            break
        assert time.monotonic() < deadline, "expired nonces were not cleaned up"
        time.sleep(0.3)
