-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 014: abuse resistance.
--
-- Wrong confirmation codes are counted per client address, not per
-- confirmation: a stranger's guesses can no longer disable the owner's mail
-- (docs/directives.md, CAcertEmailPingAttempts).
CREATE TABLE confirm_failures (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    client_addr text NOT NULL
);
CREATE INDEX confirm_failures_client ON confirm_failures (client_addr, at);

-- Mismatches of name or date of birth entered by an Assurer: limited per
-- Assurer and assuree (ca_wot.h), so that the check cannot be used to guess
-- a member's date of birth; each is also in the audit log.
CREATE TABLE wot_mismatches (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    assurer_id  bigint NOT NULL REFERENCES members(id),
    assuree_id  bigint NOT NULL REFERENCES members(id)
);
CREATE INDEX wot_mismatches_assurer ON wot_mismatches (assurer_id, at);

-- Registrations with an address that has an account: answered like any
-- registration (the owner gets a mail), counted against the client like
-- one (CAcertRegistrationsPerClient).
CREATE TABLE registrations_taken (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    client_addr text NOT NULL
);
CREATE INDEX registrations_taken_client ON registrations_taken (client_addr, at);
