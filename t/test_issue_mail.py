# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""Mails about certificates: the certificate when it is issued, and the
expiry warnings (each threshold once)."""

import time

from issuing import issue, member, revoke


def test_certificate_is_mailed_when_issued(http, stack, db):
    m = member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    mail = stack.wait_for_mail(m["email"], subject_contains="certificate is ready")
    assert format(cert.serial_number, "x") in mail.body.lower().replace(":", "")
    assert any(l.endswith(f"/certs/view?id={cid}") for l in mail.links)


def test_expiry_warnings_once_per_threshold(http, stack, db):
    m = member(http, stack, db, points=10)
    cid, cert, key = issue(http, profile="client", email0="yes")
    stack.wait_for_mail(m["email"], subject_contains="certificate is ready")
    cur = db.cursor()
    cur.execute("UPDATE certificates SET not_after = now() + interval '20 days' WHERE id = %s",
                (cid,))
    mail = stack.wait_for_mail(m["email"], subject_contains="expires in 30 days")
    assert any(l.endswith(f"/certs/view?id={cid}") for l in mail.links)
    time.sleep(2.5)                        # two more checks: nothing new
    assert len(stack.mails(to=m["email"], subject_contains="expires in")) == 1
    cur.execute("UPDATE certificates SET not_after = now() + interval '12 hours' WHERE id = %s",
                (cid,))
    stack.wait_for_mail(m["email"], subject_contains="expires in 1 day or less")
    cur.execute("SELECT days FROM expiry_warnings WHERE cert_id = %s ORDER BY days", (cid,))
    assert [r[0] for r in cur.fetchall()] == [1, 30]
    # revoked certificates are not warned about (revoked the real way: a
    # revocation only the database knew of would make the CRLs disagree)
    cid2, cert2, key2 = issue(http, profile="client", email0="yes")
    revoke(http, cid2)
    cur.execute("UPDATE certificates SET not_after = now() + interval '5 days' WHERE id = %s",
                (cid2,))
    time.sleep(2.5)
    cur.execute("SELECT count(*) FROM expiry_warnings WHERE cert_id = %s", (cid2,))
    assert cur.fetchone()[0] == 0
