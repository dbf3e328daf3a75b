-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 002: what certificates need: the standing of a member (assurances and
-- flags, which the web of trust will write; until it lands, operators and
-- tests set them directly), claimed domains (domain control will write
-- verified_at), the durable signer queue, certificates, and CRLs.

-- assurance records; append-only, a revoked assurance is marked
CREATE TABLE assurances (
    id          bigserial PRIMARY KEY,
    assurer_id  bigint NOT NULL REFERENCES members(id),
    assuree_id  bigint NOT NULL REFERENCES members(id),
    points      integer NOT NULL CHECK (points BETWEEN 0 AND 35),
    method      text NOT NULL DEFAULT 'face-to-face',
    location    text NOT NULL DEFAULT '',
    assured_on  date NOT NULL DEFAULT current_date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK (assurer_id <> assuree_id)
);
CREATE INDEX assurances_assuree ON assurances (assuree_id) WHERE revoked_at IS NULL;
CREATE INDEX assurances_assurer ON assurances (assurer_id) WHERE revoked_at IS NULL;

ALTER TABLE members
    ADD COLUMN assurer_challenge_at timestamptz,   -- passed the Assurer Challenge
    ADD COLUMN codesign_allowed boolean NOT NULL DEFAULT false,
    ADD COLUMN blocked_at timestamptz;             -- blocked as Assurer

-- domains a member claims; domain control sets verified_at
CREATE TABLE domains (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    name        text NOT NULL CHECK (length(name) <= 253),
    created_at  timestamptz NOT NULL DEFAULT now(),
    verified_at timestamptz,
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX domains_name_live ON domains (lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX domains_member ON domains (member_id);

-- the durable signer queue: a request is committed here before it goes on
-- the line, and its id is the request id on the wire, so a crash of either
-- side neither loses it nor signs it twice
CREATE TABLE signer_requests (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('sign', 'revoke', 'crl')),
    member_id   bigint REFERENCES members(id),
    ca          text NOT NULL,
    profile     text,                    -- sign: the profile
    csr_der     bytea,                   -- sign: the member's CSR
    description text NOT NULL DEFAULT '',
    cert_id     bigint,                  -- revoke: the certificate
    payload     bytea NOT NULL,          -- the exact bytes sent, every time
    state       text NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sent', 'done', 'quarantined', 'refused')),
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    done_at     timestamptz,
    answer      bytea,                   -- the payload of the answer
    reason      text                     -- why signerd stopped on it
);
CREATE INDEX signer_requests_open ON signer_requests (id) WHERE state IN ('queued', 'sent');

CREATE TABLE certificates (
    id            bigserial PRIMARY KEY,
    member_id     bigint NOT NULL REFERENCES members(id),
    request_id    bigint NOT NULL UNIQUE REFERENCES signer_requests(id),
    ca            text NOT NULL,
    profile       text NOT NULL,
    serial        text NOT NULL UNIQUE,          -- lowercase hex
    subject       text NOT NULL,
    sans          text NOT NULL DEFAULT '',
    spki_sha256   text NOT NULL,
    md            text NOT NULL,
    not_before    timestamptz NOT NULL,
    not_after     timestamptz NOT NULL,
    der           bytea NOT NULL,
    csr_der       bytea NOT NULL,                -- renewal = a new certificate from the same CSR
    description   text NOT NULL DEFAULT '',
    login_disabled boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    revoke_reason smallint,
    revoked_by    bigint REFERENCES members(id)
);
CREATE INDEX certificates_member ON certificates (member_id);
CREATE INDEX certificates_spki ON certificates (spki_sha256);
CREATE INDEX certificates_revoked ON certificates (ca, serial) WHERE revoked_at IS NOT NULL;

-- a revoked certificate stays revoked: no update may clear revoked_at
CREATE FUNCTION certificates_keep_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL AND (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
                                        OR NEW.serial <> OLD.serial) THEN
        RAISE EXCEPTION 'a revocation cannot be undone';
    END IF;
    IF NEW.der <> OLD.der OR NEW.serial <> OLD.serial OR NEW.member_id <> OLD.member_id THEN
        RAISE EXCEPTION 'an issued certificate cannot be changed';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER certificates_keep_revocation BEFORE UPDATE ON certificates
    FOR EACH ROW EXECUTE FUNCTION certificates_keep_revocation();
CREATE FUNCTION certificates_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued certificates are kept: revoke instead of deleting';
END $$;
CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION certificates_no_delete();

CREATE TABLE crls (
    ca          text NOT NULL,
    crl_number  bigint NOT NULL,
    this_update timestamptz NOT NULL,
    next_update timestamptz NOT NULL,
    entries     integer NOT NULL,
    der         bytea NOT NULL,
    PRIMARY KEY (ca, crl_number)
);
