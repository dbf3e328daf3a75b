# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""signerd's OpenPGP key certification over a real pty, no httpd: what it
signs, what it refuses (and then stops), idempotency, and the privilege
drop with gpg as a child.  Keys are made with the real gpg."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgphelp  # noqa: E402
import signerwire as w  # noqa: E402
from test_signerd import PASSPHRASE, Signer, cas  # noqa: E402,F401

NAME = "Alice Example"
EMAIL = "alice@example.org"
GOOD = f"{NAME} <{EMAIL}>"
WRONG_NAME = f"Mallory Example <{EMAIL}>"
UNVERIFIED = f"{NAME} <alice@unverified.example>"
CPS = "http://www.test.invalid/cps"


def key_files(home):
    """the private key files of a gpg home: {name: bytes}"""
    d = os.path.join(home, "private-keys-v1.d")
    if not os.path.isdir(d):
        return {}
    out = {}
    for n in os.listdir(d):
        with open(os.path.join(d, n), "rb") as f:
            out[n] = f.read()
    return out


@pytest.fixture(scope="module")
def pgp_ca():
    """the CA's OpenPGP key, protected with signerd's passphrase, in a home
    owned by the user signerd runs as"""
    home = pgphelp.new_home("cacert-signerd-pgp-")
    fpr, pub = pgphelp.make_ca(home, passphrase=PASSPHRASE.decode(), usage="sign,cert")
    if os.geteuid() == 0:
        pgphelp.chown_tree(home, "nobody")
    yield {"home": home, "fpr": fpr, "pub": pub, "keys": key_files(home)}
    pgphelp.remove_home(home)


@pytest.fixture(scope="module")
def member_key():
    home = pgphelp.new_home()
    fpr = pgphelp.make_key(home, [GOOD, WRONG_NAME, UNVERIFIED, NAME])
    key = pgphelp.export(home, fpr, armor=False)
    pgphelp.remove_home(home)
    return fpr, key


@pytest.fixture
def psd(tmp_path, cas, pgp_ca):  # noqa: F811
    s = Signer(str(tmp_path), cas, extra=[
        f"openpgp home={pgp_ca['home']} fpr={pgp_ca['fpr']} days=30 digest=sha512 cps={CPS}"])
    s.start(timeout=60)
    s.hello()
    yield s
    s.close()


def pgpsign(key, fpr, uids, names=(NAME,), emails=(EMAIL,)):
    pairs = [(w.T_PGP_KEY, key), (w.T_PGP_FPR, bytes.fromhex(fpr))]
    pairs += [(w.T_PGP_UID, u.encode()) for u in uids]
    pairs += [(w.T_PGP_NAME, n.encode()) for n in names]
    pairs += [(w.T_PGP_EMAIL, e.encode()) for e in emails]
    return w.tlvs(*pairs)


def test_certifies_exactly_the_asked_user_ids(psd, pgp_ca, member_key):
    fpr, key = member_key
    payload = pgpsign(key, fpr, [GOOD, NAME])
    f = psd.request(w.PGPSIGN, 41, payload, timeout=60)
    assert f.type == w.PGPKEY and f.id == 41, f
    signed = f.get(w.T_PGP_KEY)
    assert f.uint(w.T_COUNT) == 2
    assert f.int(w.T_TIME) > 0
    sigs, packets = pgphelp.check_sigs(pgp_ca["pub"], signed, fpr)
    ca_keyid = pgp_ca["fpr"][-16:]
    assert set(sigs) == {GOOD, NAME}, sigs      # no other user ID left the signer
    for uid in (GOOD, NAME):
        assert ("!", ca_keyid) in sigs[uid], sigs
    assert f"policy: {CPS}" in packets
    assert "digest algo 10" in packets           # SHA-512 from the config
    assert "secret" not in packets.lower()
    # asked again: the journalled answer, byte for byte
    again = psd.request(w.PGPSIGN, 41, payload, timeout=30)
    assert again.type == w.PGPKEY and again.get(w.T_PGP_KEY) == signed
    assert "certified 2 user IDs" in psd.log
    psd.check_sanitizers()


def refused(s, payload, mid, why):
    f = s.request(w.PGPSIGN, mid, payload, timeout=60)
    assert f.type == w.STOP and f.id == mid, f
    assert why in f.text(w.T_TEXT), f.text(w.T_TEXT)
    assert s.wait_exit() == 3
    assert "refused" in s.log


def test_refuses_a_user_id_the_facts_do_not_allow(psd, member_key):
    fpr, key = member_key
    # the web side did not approve it: its name is not among the names given
    refused(psd, pgpsign(key, fpr, [WRONG_NAME]), 42, "does not fit the facts")


def test_refuses_an_unverified_address(psd, member_key):
    fpr, key = member_key
    refused(psd, pgpsign(key, fpr, [UNVERIFIED]), 43, "does not fit the facts")


def test_refuses_a_user_id_not_on_the_key(psd, member_key):
    fpr, key = member_key
    refused(psd, pgpsign(key, fpr, ["Alice Example <other@example.org>"],
                         emails=(EMAIL, "other@example.org")), 44, "not on the key")


def test_refuses_a_wrong_fingerprint(psd, member_key):
    fpr, key = member_key
    refused(psd, pgpsign(key, "00" * 20, [GOOD]), 45, "fingerprint")


def test_refuses_the_cas_own_key(psd, pgp_ca):
    from pgphelp import gpg
    import base64
    pub = pgp_ca["pub"].decode()
    body = "".join(l for l in pub.splitlines()[2:] if l and not l.startswith(("=", "-")))
    key = base64.b64decode(body)
    uid = "CAcert Test OpenPGP Key <openpgp@test.invalid>"
    refused(psd, pgpsign(key, pgp_ca["fpr"], [uid], names=("CAcert Test OpenPGP Key",),
                         emails=("openpgp@test.invalid",)), 46, "own key")
    assert gpg  # imported for the side effect of a usable gpg


def test_refuses_garbage_as_a_key(psd):
    refused(psd, pgpsign(b"\x99\x00\x01garbage", "11" * 20, [GOOD]), 47, "key is refused")


def test_refuses_a_secret_key(psd):
    home = pgphelp.new_home()
    try:
        fpr = pgphelp.make_key(home, [GOOD])
        sec = pgphelp.gpg(home, "--export-secret-keys", fpr).stdout
    finally:
        pgphelp.remove_home(home)
    refused(psd, pgpsign(sec, fpr, [GOOD]), 48, "pgp.secret")


def test_other_requests_flow_after_a_stop_and_restart(psd, pgp_ca, member_key):
    fpr, key = member_key
    refused(psd, pgpsign(key, fpr, [WRONG_NAME]), 49, "does not fit")
    psd.start(timeout=60)
    psd.hello()
    f = psd.request(w.PGPSIGN, 50, pgpsign(key, fpr, [GOOD]), timeout=60)
    assert f.type == w.PGPKEY, f
    sigs, _ = pgphelp.check_sigs(pgp_ca["pub"], f.get(w.T_PGP_KEY), fpr)
    assert set(sigs) == {GOOD}


def test_bad_openpgp_config_stops_the_start(tmp_path, cas, pgp_ca):  # noqa: F811
    s = Signer(str(tmp_path), cas, extra=[
        f"openpgp home={pgp_ca['home']} fpr={'AB' * 20} days=30 cps={CPS}"])
    s.start(expect_ready=False)
    assert s.wait_exit(60) == 1
    assert "no usable secret key" in s.log
    s.close()


def test_the_key_is_unlocked_once_in_a_session_copy(psd, pgp_ca, member_key):
    """signerd signs in <home>/session, whose copy of the key it protected
    at start with a random passphrase (cheap to unlock for every
    certification); the key in the home itself is left as it was, and the
    copy goes when signerd stops"""
    session = os.path.join(pgp_ca["home"], "session")
    copy = key_files(session)
    assert set(copy) == set(pgp_ca["keys"]) and copy
    assert all(copy[n] != pgp_ca["keys"][n] for n in copy)     # protected anew
    assert key_files(pgp_ca["home"]) == pgp_ca["keys"]
    fpr, key = member_key
    f = psd.request(w.PGPSIGN, 51, pgpsign(key, fpr, [GOOD]), timeout=60)
    assert f.type == w.PGPKEY
    psd.stop()
    assert not os.path.exists(session)
    assert key_files(pgp_ca["home"]) == pgp_ca["keys"]
