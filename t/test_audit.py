# Copyright 2026 The cacert-httpd authors
# SPDX-License-Identifier: Apache-2.0
"""The audit log's hash chain and its command-line verifier
(tools/cacert-auditcheck), and the bootstrap of the first administrator
(tools/cacert-grant).  Tampering is done the way an attacker with database
access would: as the superuser, with the append-only trigger disabled."""

import os
import re
import subprocess

from accounts import registered_member


def tool(stack, name, *args):
    path = os.path.join(stack.builddir, "tools", name)
    env = dict(os.environ, **stack.san_env()) if stack.asan else None
    return subprocess.run([path, *args], capture_output=True, text=True, timeout=120, env=env)


def auditcheck(stack, *args):
    p = tool(stack, "cacert-auditcheck", *args, stack.dsn)
    return p.returncode, p.stdout + p.stderr


def assert_intact(stack):
    rc, out = auditcheck(stack)
    assert rc == 0, out
    m = re.search(r"(\d+) entries, chain intact", out)
    assert m and int(m.group(1)) > 0, out
    return out


def su(stack, sql):
    return stack.psql(sql, user=stack.pg_superuser()).stdout.strip()


def some_entry(db, action):
    cur = db.cursor()
    cur.execute("SELECT max(id) FROM audit_log WHERE action = %s", (action,))
    return cur.fetchone()[0]


def test_intact_chain(http, stack):
    registered_member(http, stack)
    out = assert_intact(stack)
    m = re.search(r"last entry (\d+):([0-9a-f]{64})", out)
    assert m, out
    # the anchor of this run holds in the next one
    rc, out2 = auditcheck(stack, "--anchor", f"{m.group(1)}:{m.group(2)}")
    assert rc == 0, out2
    rc, out3 = auditcheck(stack, "--anchor", f"{m.group(1)}:{'0' * 64}")
    assert rc == 1 and f"entry {m.group(1)}:" in out3, out3
    rc, out4 = auditcheck(stack, "--anchor", "nonsense")
    assert rc == 2, out4


def unused_ids(out):
    """what cacert-auditcheck counts as unused ids (0 when it says nothing)"""
    m = re.search(r"^(\d+) ids unused", out, re.M)
    return int(m.group(1)) if m else 0


def test_one_id_per_entry(http, stack, db):
    """Each entry takes one id: ids are consecutive unless a write rolled
    back (docs/audit.md), and the verifier finds no new unused ids."""
    rc, before_out = auditcheck(stack)
    assert rc == 0, before_out
    cur = db.cursor()
    cur.execute("SELECT coalesce(max(id), 0) FROM audit_log")
    before = cur.fetchone()[0]
    # audited actions through different writers: registration and address
    # confirmation (ca_account.c), a role granted and removed (ca_roles.c)
    m = registered_member(http, stack)
    registered_member(http, stack)
    for args in (("--ticket", "a20261122.1"), ("--ticket", "a20261122.2", "--remove")):
        p = tool(stack, "cacert-grant", "--db", stack.dsn, "--email", m["email"],
                 "--role", "support", *args)
        assert p.returncode == 0, p.stdout + p.stderr
    cur.execute("SELECT id FROM audit_log WHERE id > %s ORDER BY id", (before,))
    ids = [r[0] for r in cur.fetchall()]
    assert len(ids) >= 4, ids
    assert ids == list(range(before + 1, before + 1 + len(ids))), ids
    out = assert_intact(stack)
    assert unused_ids(out) == unused_ids(before_out), out


def test_edited_row_is_named(http, stack, db):
    registered_member(http, stack)
    registered_member(http, stack)
    victim = some_entry(db, "account.register")
    cur = db.cursor()
    cur.execute("SELECT detail FROM audit_log WHERE id = %s", (victim,))
    original = cur.fetchone()[0]
    # the owner cannot: the table is append-only
    cur.execute("SELECT 1")
    import psycopg2
    try:
        cur.execute("UPDATE audit_log SET detail = 'x' WHERE id = %s", (victim,))
        assert False, "audit_log accepted an UPDATE"
    except psycopg2.Error:
        pass
    try:
        su(stack, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;"
                  f"UPDATE audit_log SET detail = detail || ' (edited)' WHERE id = {victim};"
                  "ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable")
        rc, out = auditcheck(stack)
        assert rc == 1, out
        assert re.search(rf"^entry {victim}: .*changed", out, re.M), out
        assert "chain BROKEN" in out
    finally:
        su(stack, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;"
                  f"UPDATE audit_log SET detail = $${original}$$ WHERE id = {victim};"
                  "ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable")
    assert_intact(stack)


def test_rehashed_row_breaks_the_next_link(http, stack, db):
    """Whoever also recomputes the edited row's hash (even with the SQL
    function) is caught at the next entry's prev_hash."""
    registered_member(http, stack)
    registered_member(http, stack)
    nxt = some_entry(db, "account.register")
    cur = db.cursor()
    cur.execute("SELECT max(id) FROM audit_log WHERE id < %s", (nxt,))
    victim = cur.fetchone()[0]
    cur.execute("SELECT action, hash FROM audit_log WHERE id = %s", (victim,))
    action, old_hash = cur.fetchone()
    try:
        su(stack, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;"
                  f"UPDATE audit_log SET action = 'x', hash = audit_log_hash(prev_hash, id, at,"
                  f" actor_id, member_id, 'x', detail) WHERE id = {victim};"
                  "ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable")
        rc, out = auditcheck(stack)
        assert rc == 1, out
        assert re.search(rf"^entry {nxt}: prev_hash does not match the hash of entry "
                         rf"{victim}", out, re.M), out
    finally:
        su(stack, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;"
                  f"UPDATE audit_log SET action = $${action}$$, hash = '{old_hash}'"
                  f" WHERE id = {victim};"
                  "ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable")
    assert_intact(stack)


def test_deleted_row_is_named(http, stack, db):
    registered_member(http, stack)
    registered_member(http, stack)
    victim = some_entry(db, "account.register")
    cur = db.cursor()
    cur.execute("SELECT id, at, actor_id, member_id, action, detail, prev_hash, hash"
                " FROM audit_log WHERE id = %s", (victim,))
    row = cur.fetchone()
    try:
        su(stack, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable;"
                  f"DELETE FROM audit_log WHERE id = {victim};"
                  "ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable")
        rc, out = auditcheck(stack)
        assert rc == 1, out
        m = re.search(r"^entry \d+: prev_hash does not match .*: entries (\d+) to "
                      r"(\d+) are missing \(deleted\)", out, re.M)
        assert m and int(m.group(1)) <= victim <= int(m.group(2)), out
    finally:
        # put it back exactly (both triggers off: the chain trigger would
        # give it a new id and hash)
        cur.execute("SELECT count(*) FROM audit_log WHERE id = %s", (victim,))
        if cur.fetchone()[0] == 0:
            import psycopg2
            conn = psycopg2.connect(**dict(stack.pg_connect_args(), user=stack.pg_superuser()))
            try:
                with conn, conn.cursor() as c:
                    c.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
                    c.execute("INSERT INTO audit_log (id, at, actor_id, member_id, action,"
                              " detail, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                              row)
                    c.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
            finally:
                conn.close()
    assert_intact(stack)


def test_grant_bootstraps_the_first_administrator(http, stack, db):
    m = registered_member(http, stack)
    cur = db.cursor()
    cur.execute("SELECT member_id FROM emails WHERE address = %s", (m["email"],))
    mid = cur.fetchone()[0]
    # refused: malformed ticket, unknown role, unknown address -- nothing written
    p = tool(stack, "cacert-grant", "--db", stack.dsn, "--email", m["email"], "--role",
             "admin", "--ticket", "no ticket")
    assert p.returncode == 1 and "format" in p.stderr, p.stderr
    p = tool(stack, "cacert-grant", "--db", stack.dsn, "--email", m["email"], "--role",
             "emperor", "--ticket", "a20261121.1")
    assert p.returncode == 2, p.stderr
    p = tool(stack, "cacert-grant", "--db", stack.dsn, "--email", "nobody@example.org",
             "--role", "admin", "--ticket", "a20261121.1")
    assert p.returncode == 1 and "no member" in p.stderr, p.stderr
    cur.execute("SELECT count(*) FROM member_roles WHERE member_id = %s", (mid,))
    assert cur.fetchone()[0] == 0
    # granted, once
    p = tool(stack, "cacert-grant", "--db", stack.dsn, "--email", m["email"], "--role",
             "admin", "--ticket", "a20261121.1")
    assert p.returncode == 0, p.stdout + p.stderr
    p2 = tool(stack, "cacert-grant", "--db", stack.dsn, "--email", m["email"], "--role",
              "admin", "--ticket", "a20261121.1")
    assert p2.returncode == 1 and "already" in p2.stderr
    cur.execute("SELECT role, granted_by, ticket FROM member_roles WHERE member_id = %s"
                " AND removed_at IS NULL", (mid,))
    assert cur.fetchall() == [("admin", None, "a20261121.1")]
    cur.execute("SELECT actor_id, action, detail FROM audit_log WHERE member_id = %s"
                " ORDER BY id DESC LIMIT 1", (mid,))
    assert cur.fetchone() == (None, "role.grant", "ticket=a20261121.1 role=admin")
    # and removed
    p = tool(stack, "cacert-grant", "--db", stack.dsn, "--email", m["email"], "--role",
             "admin", "--ticket", "a20261121.2", "--remove")
    assert p.returncode == 0, p.stderr
    cur.execute("SELECT removal_ticket FROM member_roles WHERE member_id = %s", (mid,))
    assert cur.fetchall() == [("a20261121.2",)]
    assert_intact(stack)
