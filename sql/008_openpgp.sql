-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 008: OpenPGP key signing (CPS 4.3.1, Table 4.3.1).  A member uploads a
-- public key (kept as checked, binary), chooses user IDs, and a 'pgpsign'
-- request goes through the durable signer queue; signerd's answer (the key
-- with only the CA's new certifications on the chosen user IDs) is kept as
-- an append-only row.

-- the signer queue learns the new kind (signer protocol revision 1.1)
ALTER TABLE signer_requests DROP CONSTRAINT signer_requests_kind_check;
ALTER TABLE signer_requests ADD CONSTRAINT signer_requests_kind_check
    CHECK (kind IN ('sign', 'revoke', 'crl', 'pgpsign'));

-- keys as uploaded (after the checks; binary transferable public key)
CREATE TABLE openpgp_keys (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9A-F]{40}$'),
    algo        text NOT NULL,
    key         bytea NOT NULL CHECK (length(key) <= 32768),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX openpgp_keys_member ON openpgp_keys (member_id);
CREATE INDEX openpgp_keys_fpr ON openpgp_keys (fingerprint);

-- what a pgpsign request asked for: the key and the chosen user IDs
-- (newline-separated, exactly as on the key)
CREATE TABLE openpgp_requests (
    request_id  bigint PRIMARY KEY REFERENCES signer_requests(id),
    key_id      bigint NOT NULL REFERENCES openpgp_keys(id),
    uids        text NOT NULL
);
CREATE INDEX openpgp_requests_key ON openpgp_requests (key_id);

-- the answers: the key with the CA's certifications, never changed
CREATE TABLE openpgp_signatures (
    id          bigserial PRIMARY KEY,
    key_id      bigint NOT NULL REFERENCES openpgp_keys(id),
    member_id   bigint NOT NULL REFERENCES members(id),
    request_id  bigint NOT NULL UNIQUE REFERENCES signer_requests(id),
    uids        text NOT NULL,
    certifications integer NOT NULL CHECK (certifications > 0),
    signed_key  bytea NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX openpgp_signatures_key ON openpgp_signatures (key_id);

CREATE FUNCTION openpgp_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'OpenPGP keys and signatures are kept as they are';
END $$;
CREATE TRIGGER openpgp_keys_keep BEFORE UPDATE OR DELETE ON openpgp_keys
    FOR EACH ROW EXECUTE FUNCTION openpgp_keep();
CREATE TRIGGER openpgp_signatures_keep BEFORE UPDATE OR DELETE ON openpgp_signatures
    FOR EACH ROW EXECUTE FUNCTION openpgp_keep();
