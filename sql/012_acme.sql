-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 012: ACME (RFC 8555) for members' domains (docs/acme.md).
--
-- Everything an ACME exchange needs lives here, never in one httpd
-- process, so that any frontend can take any request: the nonces, the
-- external account binding credentials a member creates, the ACME accounts
-- bound to members, the orders and their authorisations.

-- credentials a member creates on the ACME page: the key id and the HMAC
-- key are shown once; the key is kept to check the binding's MAC.  Used
-- once: used_at is set when an account is bound with it.
CREATE TABLE acme_eab (
    kid         text PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    hmac_key    text NOT NULL,                  -- base64url of 32 random bytes
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX acme_eab_member ON acme_eab (member_id);

CREATE TABLE acme_accounts (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    eab_kid     text NOT NULL UNIQUE REFERENCES acme_eab(kid),
    jwk         text NOT NULL,                  -- RFC 7638 canonical form
    thumbprint  text NOT NULL UNIQUE,           -- base64url SHA-256 of jwk
    contact     text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'valid'
                CHECK (status IN ('valid', 'deactivated')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz
);
CREATE INDEX acme_accounts_member ON acme_accounts (member_id);

CREATE TABLE acme_nonces (
    nonce       text PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX acme_nonces_expiry ON acme_nonces (expires_at);

CREATE TABLE acme_orders (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES acme_accounts(id),
    member_id   bigint NOT NULL REFERENCES members(id),
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
    identifiers text NOT NULL,                  -- the names, lower case, comma-separated
    root        text NOT NULL,                  -- the SubRoot the member's points give
    request_id  bigint REFERENCES signer_requests(id),
    problem     text,                           -- why it is invalid (type and detail)
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX acme_orders_account ON acme_orders (account_id, created_at);
CREATE INDEX acme_orders_member ON acme_orders (member_id, created_at);
CREATE INDEX acme_orders_request ON acme_orders (request_id);

-- one per name of an order.  A name is authorised by its domain's standing
-- verification (method 'standing', valid at once) or by a challenge:
-- http-01 is the HTTP file check, dns-01 the DNS TXT check, both through
-- the domain probes.
CREATE TABLE acme_authz (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES acme_orders(id),
    identifier  text NOT NULL,                  -- without "*."
    wildcard    boolean NOT NULL DEFAULT false,
    domain_id   bigint NOT NULL REFERENCES domains(id),
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired')),
    token       text NOT NULL,
    method      text CHECK (method IN ('standing', 'http-01', 'dns-01')),
    validated_at timestamptz,
    problem     text,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX acme_authz_order ON acme_authz (order_id);
CREATE INDEX acme_authz_failed ON acme_authz (validated_at) WHERE status = 'invalid';

-- a challenge answered over ACME is a domain check of its method
ALTER TABLE domain_checks DROP CONSTRAINT domain_checks_kind_check;
ALTER TABLE domain_checks ADD CONSTRAINT domain_checks_kind_check
    CHECK (kind IN ('probe', 'retest', 'acme'));
