# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers for the ACME tests: members with claimed domains, binding
credentials from the member's ACME page, a small ACME client that can also
send what real clients never would (for the bad-input tests), and the
certbot and lego command lines."""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import probes
from accounts import csrf_of
from issuing import member

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unique_domain():
    return f"a{secrets.token_hex(5)}.test"


def acme_member(http, stack, db, points=0, domains=(), checks=()):
    """A logged-in member with `domains` claimed; each domain has passed
    the checks named in `checks` ("dns", "http"), none by default."""
    m = member(http, stack, db, points=points)
    cur = db.cursor()
    for d in domains:
        cur.execute("INSERT INTO domains (member_id, name, cookie) VALUES (%s, %s, 'c')"
                    " RETURNING id", (m["id"], d))
        did = cur.fetchone()[0]
        for c in checks:
            cur.execute("INSERT INTO domain_checks (domain_id, member_id, method, kind, result,"
                        " target) VALUES (%s, %s, %s, 'probe', 'passed', 'test')",
                        (did, m["id"], c))
        if checks:
            cur.execute("UPDATE domains SET verified_at = now() WHERE id = %s", (did,))
    return m


def eab(http):
    """New binding credentials from the member's ACME page: (kid, hmac)."""
    r = http.post("/certs/acme", data={"csrf": csrf_of(http.get("/certs/acme").text)})
    assert r.status_code == 200, r.text[:500]
    kid = re.search(r'id="eab-kid">([^<]+)<', r.text).group(1)
    key = re.search(r'id="eab-hmac">([^<]+)<', r.text).group(1)
    return kid, key


def load_certs(pem):
    """Every certificate of a PEM chain (Debian's cryptography has no
    load_pem_x509_certificates)."""
    from cryptography import x509
    if isinstance(pem, str):
        pem = pem.encode()
    end = b"-----END CERTIFICATE-----"
    return [x509.load_pem_x509_certificate(part + end)
            for part in pem.split(end) if b"-----BEGIN CERTIFICATE-----" in part]


def directory_url(stack):
    return stack.url + "/acme/directory"


# ---- a small ACME client ----

def jwk_of(key):
    pub = key.public_key()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        n = pub.public_numbers()
        size = (pub.curve.key_size + 7) // 8
        return {"crv": "P-256" if size == 32 else "P-384", "kty": "EC",
                "x": b64(n.x.to_bytes(size, "big")), "y": b64(n.y.to_bytes(size, "big"))}
    n = pub.public_numbers()
    return {"e": b64(n.e.to_bytes((n.e.bit_length() + 7) // 8, "big")), "kty": "RSA",
            "n": b64(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big"))}


def thumbprint(key):
    return b64(hashlib.sha256(json.dumps(jwk_of(key), sort_keys=True,
                                         separators=(",", ":")).encode()).digest())


def sign(key, data):
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(
            hashes.SHA256() if size == 32 else hashes.SHA384())))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    from cryptography.hazmat.primitives.asymmetric import padding
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


class _Session(requests.Session):
    """verify per request: REQUESTS_CA_BUNDLE in the environment would
    otherwise override the session's"""

    def request(self, method, url, *a, **kw):
        kw.setdefault("verify", self.verify)
        kw.setdefault("timeout", 60)
        return super().request(method, url, *a, **kw)


class Client:
    def __init__(self, stack, key=None):
        self.stack = stack
        self.http = _Session()
        self.http.verify = stack.cert_file
        self.dir = self.http.get(directory_url(stack), timeout=30).json()
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        self.kid = None

    def nonce(self):
        r = self.http.head(self.dir["newNonce"], timeout=30)
        return r.headers["Replay-Nonce"]

    def jws(self, url, payload, key=None, kid=None, jwk=False, nonce=None, alg=None,
            protected=None, tamper=False):
        """A flattened JWS; payload None is POST-as-GET."""
        key = key or self.key
        prot = {"alg": alg or ("ES256" if isinstance(key, ec.EllipticCurvePrivateKey)
                               else "RS256"),
                "nonce": nonce or self.nonce(), "url": url}
        if jwk or not (kid or self.kid):
            prot["jwk"] = jwk_of(key)
        if kid or (self.kid and not jwk):
            prot["kid"] = kid or self.kid
        prot.update(protected or {})
        p64 = b64(json.dumps(prot))
        body64 = "" if payload is None else b64(json.dumps(payload))
        sig = sign(key, f"{p64}.{body64}".encode())
        if tamper:
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        return {"protected": p64, "payload": body64, "signature": b64(sig)}

    def post(self, url, payload, **kw):
        body = self.jws(url, payload, **kw)
        return self.http.post(url, data=json.dumps(body), timeout=60,
                              headers={"Content-Type": "application/jose+json"})

    def eab_binding(self, kid, hmac_key, url=None, key=None):
        prot = b64(json.dumps({"alg": "HS256", "kid": kid, "url": url or self.dir["newAccount"]}))
        payload = b64(json.dumps(jwk_of(key or self.key)))
        mac = hmac.new(base64.urlsafe_b64decode(hmac_key + "=" * (-len(hmac_key) % 4)),
                       f"{prot}.{payload}".encode(), hashlib.sha256).digest()
        return {"protected": prot, "payload": payload, "signature": b64(mac)}

    def register(self, kid, hmac_key):
        r = self.post(self.dir["newAccount"], {
            "termsOfServiceAgreed": True,
            "externalAccountBinding": self.eab_binding(kid, hmac_key)}, jwk=True)
        if r.status_code in (200, 201):
            self.kid = r.headers["Location"]
        return r

    def order(self, *names):
        return self.post(self.dir["newOrder"],
                         {"identifiers": [{"type": "dns", "value": n} for n in names]})


def problem(r):
    assert r.headers.get("Content-Type", "").startswith("application/problem+json"), \
        (r.status_code, r.text[:300])
    p = r.json()
    return p["type"].rsplit(":", 1)[-1], p.get("detail", "")


# ---- the real clients ----

def client_env(stack):
    env = dict(os.environ)
    env["REQUESTS_CA_BUNDLE"] = stack.cert_file
    env["LEGO_CA_CERTIFICATES"] = stack.cert_file
    return env


class Certbot:
    def __init__(self, stack):
        self.stack = stack
        self.dir = tempfile.mkdtemp(prefix="certbot-")

    def run(self, *args, timeout=180):
        cmd = ["certbot", *args, "--non-interactive",
               "--config-dir", f"{self.dir}/config", "--work-dir", f"{self.dir}/work",
               "--logs-dir", f"{self.dir}/logs", "--server", directory_url(self.stack)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=client_env(self.stack))

    def certonly(self, name, kid, hmac_key, *extra):
        return self.run("certonly", "--standalone", "--agree-tos",
                        "--register-unsafely-without-email", "--eab-kid", kid,
                        "--eab-hmac-key", hmac_key, "-d", name,
                        "--http-01-port", str(probes.servers().acme_http_port),
                        "--http-01-address", "127.0.0.1", *extra)

    def live(self, name, what="cert.pem"):
        with open(f"{self.dir}/config/live/{name}/{what}", "rb") as f:
            return f.read()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Lego:
    def __init__(self, stack):
        self.stack = stack
        self.dir = tempfile.mkdtemp(prefix="lego-")

    def run(self, kid, hmac_key, names, challenge="http", timeout=180, extra_env=None):
        s = probes.servers()
        cmd = ["lego", "--path", self.dir, "--server", directory_url(self.stack),
               "--accept-tos", "--email", "acme@example.org", "--eab", "--kid", kid,
               "--hmac", hmac_key, "--key-type", "ec256"]
        for n in names:
            cmd += ["--domains", n]
        env = client_env(self.stack)
        if challenge == "http":
            cmd += ["--http", "--http.port", f"127.0.0.1:{s.acme_http_port}"]
        else:
            cmd += ["--dns", "exec", "--dns.resolvers", f"127.0.0.1:{s.dns.port}",
                    "--dns.disable-cp"]
            env["EXEC_PATH"] = os.path.join(REPO, "t", "acme_dns_hook")
            env["CACERT_ZONE_DIR"] = s.zone.txt_dir
            env["EXEC_PROPAGATION_TIMEOUT"] = "20"
            env["EXEC_POLLING_INTERVAL"] = "1"
        env.update(extra_env or {})
        return subprocess.run(cmd + ["run"], capture_output=True, text=True, timeout=timeout,
                              env=env)

    def cert(self, name):
        fn = name.replace("*", "_")
        with open(f"{self.dir}/certificates/{fn}.crt", "rb") as f:
            return f.read()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
