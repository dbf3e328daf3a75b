# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""OpenPGP key signing end to end: a member with 50 points uploads a key
made by gpg, chooses user IDs, signerd certifies them over the pty, and
`gpg --check-sigs` in a fresh keyring holding the CA's OpenPGP key shows
the CA's valid certification on exactly the permitted user IDs.  Then the
bad input, each refused with nothing signed, and a tampered queue row that
signerd refuses (it stops, the web side quarantines, the rest flows after a
restart)."""

import html
import re
import time

import pytest

import pgphelp
from accounts import csrf_of
from issuing import member

pytestmark = pytest.mark.usefixtures("stack")


def upload(http, text=None, data=None, filename="key.asc"):
    r = http.get("/certs/openpgp")
    assert r.status_code == 200, r.text[:500]
    fields = {"csrf": csrf_of(r.text)}
    files = {}
    if text is not None:
        fields["key"] = text
    if data is not None:
        files["key_file"] = (filename, data, "application/octet-stream")
    else:
        files["dummy"] = ("", b"", "application/octet-stream")
    return http.post("/certs/openpgp", data=fields, files=files, allow_redirects=False)


def errors(text):
    return [html.unescape(m) for m in
            re.findall(r'class="(?:field-error|error)"[^>]*>([^<]*)<', text)]


def key_page(http, r):
    assert r.status_code == 303, (r.status_code, errors(r.text), r.text[:800])
    loc = r.headers["Location"]
    assert "/certs/openpgp_key?id=" in loc
    key_id = re.search(r"id=(\d+)", loc).group(1)
    page = http.get(f"/certs/openpgp_key?id={key_id}")
    assert page.status_code == 200
    return key_id, page.text


def uid_boxes(text):
    """{uid: n} for the user IDs that may be signed"""
    return {html.unescape(u): int(n) for n, u in
            re.findall(r'name="uid(\d+)" value="yes"[^>]*>\s*<label for="uid\d+">([^<]*)<',
                       text)}


def wait_signed(http, r, timeout=60):
    assert r.status_code == 303, (r.status_code, errors(r.text), r.text[:800])
    loc = r.headers["Location"]
    deadline = time.monotonic() + timeout
    while True:
        r = http.get(loc, allow_redirects=False)
        if r.status_code == 303 and "signed=" in r.headers["Location"]:
            return re.search(r"signed=(\d+)", r.headers["Location"]).group(1)
        assert r.status_code == 200, (r.status_code, r.text[:800])
        assert "being signed" in r.text, r.text[:800]
        assert time.monotonic() < deadline, "no signed key in time"


def sign(http, key_id, page, uids):
    boxes = uid_boxes(page)
    data = {"csrf": csrf_of(page), "id": key_id}
    for u in uids:
        data[f"uid{boxes[u]}"] = "yes"
    return http.post("/certs/openpgp_key", data=data, allow_redirects=False)


@pytest.fixture
def assured(http, stack, db):
    return member(http, stack, db, points=50, given="Alice", family="Example")


def signed_count(db):
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM openpgp_signatures")
    return cur.fetchone()[0]


def test_upload_sign_and_check_in_a_fresh_keyring(http, stack, db, assured):
    email = assured["email"]
    good = f"Alice Example <{email}>"
    wrong_name = f"Mallory Example <{email}>"
    unverified = "Alice Example <alice@unverified.example>"
    home = pgphelp.new_home()
    try:
        fpr = pgphelp.make_key(home, [good, wrong_name, unverified, f"<{email}>"])
        asc = pgphelp.export(home, fpr).decode()
    finally:
        pgphelp.remove_home(home)
    key_id, page = key_page(http, upload(http, text=asc))
    # every user ID is listed; only the permitted ones can be chosen
    boxes = uid_boxes(page)
    assert set(boxes) == {good, f"<{email}>"}, page
    assert "the name is not your assured name" in page
    assert "the address is not one of your verified addresses" in page
    stack.clear_mails()
    sig_id = wait_signed(http, sign(http, key_id, page, [good, f"<{email}>"]))
    # the signed key: downloadable, mailed, and listed with its expiry
    r = http.get(f"/certs/openpgp_download?id={sig_id}")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/pgp-keys")
    signed = r.content
    ca_pub = http.get("/pki/openpgp.asc").content
    assert b"BEGIN PGP PUBLIC KEY BLOCK" in ca_pub
    ca_keyid = stack.openpgp_fpr()[-16:]
    sigs, packets = pgphelp.check_sigs(ca_pub, signed, fpr)
    assert set(sigs) == {good, f"<{email}>"}, sigs      # no other user ID came back
    for uid in (good, f"<{email}>"):
        assert ("!", ca_keyid) in sigs[uid], sigs       # the CA's valid certification
    assert "policy: https://www.cacert.org/policy/" in packets
    m = stack.wait_for_mail(email, "OpenPGP")
    assert "BEGIN PGP PUBLIC KEY BLOCK" in m.body and fpr[:4] in m.body
    listing = http.get("/certs/openpgp").text
    assert "Sign again" in listing and "UTC" in listing
    pki = http.get("/pki/").text
    assert stack.openpgp_fpr() in pki
    # re-signing is one click: the same choice, checked again
    before = signed_count(db)
    r = http.post("/certs/openpgp_resign", data={"csrf": csrf_of(listing), "id": key_id},
                  allow_redirects=False)
    sig2 = wait_signed(http, r)
    assert sig2 != sig_id and signed_count(db) == before + 1
    again = http.get(f"/certs/openpgp_download?id={sig2}").content
    sigs, _ = pgphelp.check_sigs(ca_pub, again, fpr)
    assert set(sigs) == {good, f"<{email}>"}


def test_a_user_id_that_may_not_be_signed_is_refused(http, stack, db, assured):
    email = assured["email"]
    home = pgphelp.new_home()
    try:
        fpr = pgphelp.make_key(home, [f"Alice Example <{email}>", f"Mallory <{email}>"])
        asc = pgphelp.export(home, fpr).decode()
    finally:
        pgphelp.remove_home(home)
    key_id, page = key_page(http, upload(http, text=asc))
    before = signed_count(db)
    # the user IDs in the page's (the key's) order; gpg may order them
    order = [html.unescape(u) for u in
             re.findall(r'(?:<label for="uid\d+">|<span class="dropped">)([^<]*)<', page)]
    bad = order.index(f"Mallory <{email}>")
    assert f'name="uid{bad}"' not in page               # no box to tick
    r = http.post("/certs/openpgp_key", data={"csrf": csrf_of(page), "id": key_id,
                                              f"uid{bad}": "yes"}, allow_redirects=False)
    assert r.status_code == 422
    assert "may not be signed" in r.text
    r = http.post("/certs/openpgp_key", data={"csrf": csrf_of(page), "id": key_id},
                  allow_redirects=False)
    assert r.status_code == 422 and "at least one user ID" in r.text
    assert signed_count(db) == before


def make_export(uids, algo="ed25519", secret=False, armor=True):
    home = pgphelp.new_home()
    try:
        fpr = pgphelp.make_key(home, uids, algo=algo)
        if secret:
            return pgphelp.gpg(home, "--armor", "--export-secret-keys", fpr).stdout
        return pgphelp.export(home, fpr, armor=armor)
    finally:
        pgphelp.remove_home(home)


@pytest.mark.parametrize("case", ["several", "secret", "garbage", "huge", "control", "small",
                                  "dsa1024"])
def test_bad_uploads(http, stack, db, assured, case):
    email = assured["email"]
    before_keys = db.cursor()
    before_keys.execute("SELECT count(*) FROM openpgp_keys")
    nkeys = before_keys.fetchone()[0]
    want = {
        "several": "exactly one key",
        "secret": "secret key",
        "garbage": "not an OpenPGP public key",
        "huge": "too large",
        "control": "control characters",
        "small": "at least 2048 bits",
        "dsa1024": "2048 or 3072 bits",
    }[case]
    if case == "several":
        a = make_export([f"Alice Example <{email}>"])
        b = make_export(["Bob <bob@example.org>"])
        r = upload(http, data=a + b)
    elif case == "secret":
        r = upload(http, data=make_export([f"Alice Example <{email}>"], secret=True))
    elif case == "garbage":
        r = upload(http, text="-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 !!\n"
                              "-----END PGP PUBLIC KEY BLOCK-----\n")
    elif case == "huge":
        r = upload(http, data=b"\x99" * 20000)
    elif case == "control":
        key = bytearray(make_export([f"Alice Example <{email}>"], armor=False))
        i = key.index(b"Alice Example")
        key[i + 5] = 0x07                   # a BEL inside the user ID
        r = upload(http, data=bytes(key), filename="key.gpg")
    elif case == "dsa1024":
        r = upload(http, data=make_export([f"Alice Example <{email}>"], algo="dsa1024"))
    else:
        r = upload(http, data=make_export([f"Alice Example <{email}>"], algo="rsa1024"))
    assert r.status_code in (413, 422), (r.status_code, r.text[:300])
    if r.status_code == 422:
        assert any(want in e for e in errors(r.text)), errors(r.text)
    cur = db.cursor()
    cur.execute("SELECT count(*) FROM openpgp_keys")
    assert cur.fetchone()[0] == nkeys


def test_needs_50_points(http, stack, db):
    member(http, stack, db, points=35)
    r = http.get("/certs/openpgp")
    assert r.status_code == 200 and "at least 50 assurance points" in r.text
    r = http.post("/certs/openpgp", data={"csrf": csrf_of(r.text), "key": "x"},
                  allow_redirects=False)
    assert r.status_code == 403


def test_other_members_keys_are_not_visible(http, stack, db, assured):
    cur = db.cursor()
    cur.execute("SELECT max(id) FROM openpgp_signatures")
    sid = cur.fetchone()[0]
    cur.execute("SELECT max(id) FROM openpgp_keys")
    kid = cur.fetchone()[0]
    if sid:
        assert http.get(f"/certs/openpgp_download?id={sid}").status_code == 404
    if kid:
        assert http.get(f"/certs/openpgp_key?id={kid}").status_code == 404


@pytest.mark.allow_log(r"CA21108")
def test_tampered_row_stops_signerd_and_is_quarantined(http, stack, db, assured):
    """a queued request whose user ID the web side never approved (a
    tampered row): signerd refuses it and stops, the web side quarantines
    it, and after a restart of signerd the next request is signed"""
    import signerwire as w
    email = assured["email"]
    good = f"Alice Example <{email}>"
    home = pgphelp.new_home()
    try:
        fpr = pgphelp.make_key(home, [good, f"Mallory <{email}>"])
        asc = pgphelp.export(home, fpr).decode()
    finally:
        pgphelp.remove_home(home)
    key_id, page = key_page(http, upload(http, text=asc))
    cur = db.cursor()
    cur.execute("SELECT key FROM openpgp_keys WHERE id = %s", (key_id,))
    key = bytes(cur.fetchone()[0])
    # the row as an attacker with database access would write it
    payload = w.tlvs((w.T_PGP_KEY, key), (w.T_PGP_FPR, bytes.fromhex(fpr)),
                     (w.T_PGP_UID, f"Mallory <{email}>".encode()),
                     (w.T_PGP_NAME, b"Alice Example"), (w.T_PGP_EMAIL, email.encode()))
    cur.execute("INSERT INTO signer_requests (kind, member_id, ca, payload)"
                " VALUES ('pgpsign', %s, 'openpgp', %s) RETURNING id", (assured["id"], payload))
    rid = cur.fetchone()[0]
    cur.execute("INSERT INTO openpgp_requests (request_id, key_id, uids) VALUES (%s, %s, %s)",
                (rid, key_id, f"Mallory <{email}>"))
    deadline = time.monotonic() + 60
    while True:
        cur.execute("SELECT state, reason FROM signer_requests WHERE id = %s", (rid,))
        state, reason = cur.fetchone()
        if state == "quarantined":
            break
        assert time.monotonic() < deadline, state
        time.sleep(0.1)
    assert "does not fit the facts" in reason
    with open(stack.signerd_log) as f:
        assert f"request {rid} refused" in f.read()
    cur.execute("SELECT count(*) FROM openpgp_signatures WHERE request_id = %s", (rid,))
    assert cur.fetchone()[0] == 0
    stack.start_signerd()
    sig = wait_signed(http, sign(http, key_id, page, [good]))
    signed = http.get(f"/certs/openpgp_download?id={sig}").content
    sigs, _ = pgphelp.check_sigs(http.get("/pki/openpgp.asc").content, signed, fpr)
    assert set(sigs) == {good}
