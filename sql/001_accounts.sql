-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 001: member accounts, email addresses and pings, sessions, login and
-- lost-password rate limiting, password resets, the Community Agreement
-- record and the hash-chained audit log.
-- Applied by tools/cacert-migrate, in one transaction.

CREATE TABLE members (
    id              bigserial PRIMARY KEY,
    given_name      text NOT NULL,
    middle_name     text NOT NULL DEFAULT '',
    family_name     text NOT NULL,
    suffix          text NOT NULL DEFAULT '',
    dob             date NOT NULL,
    password_hash   text NOT NULL,
    language        text NOT NULL DEFAULT 'en',
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- set by support/arbitration; a locked member cannot log in
    locked_at       timestamptz,
    CHECK (length(given_name) BETWEEN 1 AND 400),
    CHECK (length(family_name) BETWEEN 1 AND 400),
    CHECK (dob >= DATE '1900-01-01')
);

-- the five lost-password questions; answers Argon2id-hashed after
-- normalisation; never shown to anyone (CPS 9.4.2)
CREATE TABLE lost_password_questions (
    member_id   bigint NOT NULL REFERENCES members(id),
    position    smallint NOT NULL CHECK (position BETWEEN 1 AND 5),
    question    text NOT NULL,
    answer_hash text NOT NULL,
    PRIMARY KEY (member_id, position)
);

-- agreement to the CAcert Community Agreement: append-only record
CREATE TABLE cca_agreements (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    version     text NOT NULL,
    agreed_at   timestamptz NOT NULL DEFAULT now(),
    client_addr text NOT NULL
);

-- email addresses; one live address belongs to one account only
CREATE TABLE emails (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    address     text NOT NULL CHECK (length(address) <= 254),
    is_primary  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    verified_at timestamptz,
    -- removed by the member, or an unconfirmed claim that expired
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX emails_address_live ON emails (lower(address))
    WHERE deleted_at IS NULL;
CREATE INDEX emails_member ON emails (member_id);

-- email pings: the cookie is stored as its SHA-256
CREATE TABLE email_pings (
    id          bigserial PRIMARY KEY,
    email_id    bigint NOT NULL REFERENCES emails(id),
    cookie_hash text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    used_at     timestamptz
);
CREATE INDEX email_pings_email ON email_pings (email_id);

-- server-side sessions, keyed by the SHA-256 of the cookie value
CREATE TABLE sessions (
    id_hash     text PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    csrf        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    client_addr text NOT NULL,
    ended_at    timestamptz
);
CREATE INDEX sessions_member ON sessions (member_id);

-- failed logins, counted per attempted address and per client address
CREATE TABLE login_failures (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    address     text NOT NULL,
    client_addr text NOT NULL
);
CREATE INDEX login_failures_address ON login_failures (address, at);
CREATE INDEX login_failures_client ON login_failures (client_addr, at);

-- failed lost-password attempts
CREATE TABLE lost_password_failures (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    address     text NOT NULL,
    client_addr text NOT NULL
);
CREATE INDEX lost_password_failures_address ON lost_password_failures (address, at);
CREATE INDEX lost_password_failures_client ON lost_password_failures (client_addr, at);

-- single-use password reset links (token stored as SHA-256)
CREATE TABLE password_resets (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- the audit log: append-only, each row chained to the previous by SHA-256
-- so that a changed or removed row shows
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint,
    member_id   bigint,
    action      text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);

-- the hashed text does not depend on the session's time zone or settings,
-- and NULL is distinct from every value; a verifier recomputes it with
--   SELECT id FROM audit_log WHERE hash <> audit_log_hash(prev_hash, id, at,
--       actor_id, member_id, action, detail)
-- and checks that each prev_hash is the hash of the row before.
CREATE FUNCTION audit_log_hash(prev text, id bigint, at timestamptz, actor bigint,
                               member bigint, action text, detail text)
    RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws('|', prev, id::text,
        to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        coalesce(actor::text, '-'), coalesce(member::text, '-'),
        length(action)::text, action, length(detail)::text, detail), 'UTF8')), 'hex')
$$;

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prev text;
BEGIN
    -- one writer at a time, so that the chain has no forks; the id is
    -- drawn under the lock, so id order is chain order
    PERFORM pg_advisory_xact_lock(7366323);
    NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    SELECT hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(prev, repeat('0', 64));
    NEW.at := now();
    NEW.hash := audit_log_hash(NEW.prev_hash, NEW.id, NEW.at, NEW.actor_id,
                               NEW.member_id, NEW.action, NEW.detail);
    RETURN NEW;
END $$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;

CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
