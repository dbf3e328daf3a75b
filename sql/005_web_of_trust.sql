-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 005: the web of trust: what the CAP form and the TTP programme record on
-- an assurance, TTP requests, Assurer Challenge passes, the "find an
-- Assurer" listing and its contact relay.
--
-- The flags other code reads stay where 002 put them: members.
-- assurer_challenge_at (set, in the same transaction, from the first
-- challenge pass recorded below), blocked_at and codesign_allowed.

-- assurances.method is the kind of assurance: a face-to-face meeting, a TTP
-- assurance entered by a TTP-admin, or a TTP top-up after the challenge.
-- Only face-to-face assurances give the Assurer experience points.
ALTER TABLE assurances
    ADD CONSTRAINT assurances_method
        CHECK (method IN ('face-to-face', 'ttp', 'ttp-topup')),
    -- the TTP (notary, bank, ...) who met the member; NULL for face-to-face
    ADD COLUMN ttp text CHECK (ttp IS NULL OR length(ttp) BETWEEN 1 AND 200),
    -- CAP form declarations: identity documents checked (at least one
    -- government-issued photo ID; two for the full procedure), the member
    -- agreed to the Community Agreement, the meeting was face to face
    ADD COLUMN documents smallint NOT NULL DEFAULT 0 CHECK (documents BETWEEN 0 AND 9),
    ADD COLUMN cca_agreed boolean NOT NULL DEFAULT false,
    ADD COLUMN face_to_face boolean NOT NULL DEFAULT false,
    -- the name and date of birth as the Assurer read them from the documents
    -- (they matched the account when recorded)
    ADD COLUMN entered_name text,
    ADD COLUMN entered_dob date,
    -- revocation by support or arbitration: who, and the ticket
    ADD COLUMN revoked_by bigint REFERENCES members(id),
    ADD COLUMN revoke_ticket text,
    ADD CONSTRAINT assurances_location_len CHECK (length(location) <= 200),
    ADD CONSTRAINT assurances_ttp_named CHECK (method = 'face-to-face' OR ttp IS NOT NULL);

-- one live assurance per (assurer, assuree) pair
CREATE UNIQUE INDEX assurances_pair_live ON assurances (assurer_id, assuree_id)
    WHERE revoked_at IS NULL;
CREATE INDEX assurances_created ON assurances (created_at);

-- an assurance is a fact: only its revocation may be written later
CREATE FUNCTION assurances_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'assurances are kept: revoke instead of deleting';
    END IF;
    IF (NEW.id, NEW.assurer_id, NEW.assuree_id, NEW.points, NEW.method, NEW.location,
        NEW.assured_on, NEW.created_at, NEW.ttp, NEW.documents, NEW.cca_agreed,
        NEW.face_to_face)
       IS DISTINCT FROM (OLD.id, OLD.assurer_id, OLD.assuree_id, OLD.points, OLD.method,
        OLD.location, OLD.assured_on, OLD.created_at, OLD.ttp, OLD.documents,
        OLD.cca_agreed, OLD.face_to_face) THEN
        RAISE EXCEPTION 'an assurance cannot be changed, only revoked';
    END IF;
    -- the re-entered name and date of birth may only be wiped (arbitration)
    IF (NEW.entered_name IS DISTINCT FROM OLD.entered_name AND NEW.entered_name IS NOT NULL)
       OR (NEW.entered_dob IS DISTINCT FROM OLD.entered_dob AND NEW.entered_dob IS NOT NULL) THEN
        RAISE EXCEPTION 'an assurance cannot be changed, only revoked';
    END IF;
    -- a revocation is written once and stays
    IF OLD.revoked_at IS NOT NULL
       AND (NEW.revoked_at, NEW.revoked_by, NEW.revoke_ticket)
           IS DISTINCT FROM (OLD.revoked_at, OLD.revoked_by, OLD.revoke_ticket) THEN
        RAISE EXCEPTION 'a revoked assurance stays revoked';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER assurances_append_only BEFORE UPDATE OR DELETE ON assurances
    FOR EACH ROW EXECUTE FUNCTION assurances_append_only();

-- a member asks for TTP-assisted assurance; a TTP-admin closes the request
-- when the assurance is entered (or declines it)
CREATE TABLE ttp_requests (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,
    closed_by   bigint REFERENCES members(id),
    assurance_id bigint REFERENCES assurances(id)
);
CREATE UNIQUE INDEX ttp_requests_open ON ttp_requests (member_id) WHERE closed_at IS NULL;

-- Assurer Challenge passes: recorded by an administrator or imported from
-- the external challenge system; append-only
CREATE TABLE challenge_passes (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    passed_on   date NOT NULL,
    variant     text NOT NULL CHECK (length(variant) BETWEEN 1 AND 64),
    source      text NOT NULL CHECK (source IN ('admin', 'import')),
    recorded_by bigint REFERENCES members(id),        -- admin; NULL for an import
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (member_id, passed_on, variant)
);
CREATE INDEX challenge_passes_member ON challenge_passes (member_id);

-- "find an Assurer": an Assurer's opt-in listing (no address is shown; a
-- contact form relays messages by mail).  One row per Assurer; opting out
-- sets listed = false.
CREATE TABLE assurer_listings (
    member_id   bigint PRIMARY KEY REFERENCES members(id),
    listed      boolean NOT NULL DEFAULT true,
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    town        text NOT NULL CHECK (length(town) BETWEEN 1 AND 100),
    languages   text NOT NULL DEFAULT '' CHECK (length(languages) <= 100),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assurer_listings_place ON assurer_listings (country, lower(town)) WHERE listed;

-- messages relayed to listed Assurers: counted for the rate limit (the
-- text itself is not kept)
CREATE TABLE contact_relays (
    id          bigserial PRIMARY KEY,
    sender_id   bigint NOT NULL REFERENCES members(id),
    assurer_id  bigint NOT NULL REFERENCES members(id),
    sent_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_relays_sender ON contact_relays (sender_id, sent_at);
CREATE INDEX contact_relays_assurer ON contact_relays (assurer_id, sent_at);
