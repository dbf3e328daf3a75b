-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 015: adding an address that another account holds.
--
-- The member who adds it is answered as for a free address, and the
-- address shows in their list as waiting for its confirmation; the mail
-- goes to the address and tells its owner that it already belongs to an
-- account.  No code is mailed, so the claim can never be confirmed: it only
-- keeps the answer the same, so that the add form does not tell which
-- addresses have an account.  Its ids come from the addresses' own
-- sequence, so that the list's ids do not tell a claim from an address.
CREATE TABLE email_claims (
    id          bigint PRIMARY KEY DEFAULT nextval('emails_id_seq'),
    member_id   bigint NOT NULL REFERENCES members(id),
    address     text NOT NULL CHECK (length(address) <= 254),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    removed_at  timestamptz
);
CREATE INDEX email_claims_member ON email_claims (member_id) WHERE removed_at IS NULL;
