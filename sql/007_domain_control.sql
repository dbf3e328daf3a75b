-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 007: domain control (CPS 4.2.2, DESIGN.md "Domain control").
-- A claimed domain (table domains, 002) gets a static cookie that the member
-- publishes in DNS and on the web server; every probe of a domain is one
-- append-only row of domain_checks with its time and result.  Whether a
-- domain is verified for a root is decided from those rows by the core
-- (ca_domain_verified), never by a flag: domains.verified_at only records
-- when the first check passed, for people reading the table.

-- the static cookie (published in DNS and over HTTP, kept for the life of
-- the certificates), and the watchdog's mark when a re-test failed
ALTER TABLE domains
    ADD COLUMN cookie text,
    ADD COLUMN retest_failed_at timestamptz,
    ADD COLUMN retested_at timestamptz;

-- one row per check: a probe the member started ('probe'), or a re-test of
-- the watchdog ('retest').  Results: 'passed', 'failed', or 'sent' for an
-- email ping that went out (it passes with a later 'passed' row).
CREATE TABLE domain_checks (
    id          bigserial PRIMARY KEY,
    domain_id   bigint NOT NULL REFERENCES domains(id),
    member_id   bigint REFERENCES members(id),      -- who started it; NULL: watchdog
    method      text NOT NULL CHECK (method IN ('email', 'dns', 'http')),
    kind        text NOT NULL CHECK (kind IN ('probe', 'retest')),
    result      text NOT NULL CHECK (result IN ('passed', 'failed', 'sent')),
    target      text NOT NULL DEFAULT '',           -- mailbox, DNS name or URL
    detail      text NOT NULL DEFAULT '',           -- why it failed (a message key)
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domain_checks_domain ON domain_checks (domain_id, id);
CREATE INDEX domain_checks_member_at ON domain_checks (member_id, at);

-- email pings of domains: the cookie mailed to the mailbox, stored as its
-- SHA-256; answered once
CREATE TABLE domain_pings (
    id          bigserial PRIMARY KEY,
    check_id    bigint NOT NULL REFERENCES domain_checks(id),
    cookie_hash text NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

CREATE FUNCTION domain_checks_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'domain_checks is append-only';
END $$;

CREATE TRIGGER domain_checks_immutable BEFORE UPDATE OR DELETE ON domain_checks
    FOR EACH ROW EXECUTE FUNCTION domain_checks_immutable();
