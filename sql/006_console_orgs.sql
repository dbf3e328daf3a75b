-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 006: the support and arbitration console, and organisation assurance.
-- Applied by tools/cacert-migrate, in one transaction.  Every console
-- action is also an audit_log entry carrying its ticket reference.

-- Deletion of an account by arbitration is a marked state, not a DELETE
-- (docs/console.md, "Retention"): the secrets and the session data are
-- wiped, what CPS 5.5 keeps for seven years stays until retain_until.
ALTER TABLE members
    ADD COLUMN deleted_at      timestamptz,
    ADD COLUMN deleted_by      bigint REFERENCES members(id),
    ADD COLUMN deletion_ticket text,
    ADD COLUMN retain_until    timestamptz,
    ADD CONSTRAINT members_deletion_marked CHECK (
        (deleted_at IS NULL AND retain_until IS NULL AND deletion_ticket IS NULL)
        OR (deleted_at IS NOT NULL AND retain_until IS NOT NULL
            AND deletion_ticket IS NOT NULL AND locked_at IS NOT NULL));

-- organisations, created by an Organisation Assurer after checking the
-- organisation's documents (the COAP form); the subject of its
-- certificates is O, (OU,) L, ST, C
CREATE TABLE organisations (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    town          text NOT NULL CHECK (length(town) BETWEEN 1 AND 128),
    state         text NOT NULL DEFAULT '' CHECK (length(state) <= 128),
    country       text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),   -- ISO 3166-1 alpha-2
    contact_email text NOT NULL CHECK (length(contact_email) BETWEEN 3 AND 254),
    ticket        text NOT NULL,
    created_by    bigint NOT NULL REFERENCES members(id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_by    bigint REFERENCES members(id),
    deleted_at    timestamptz
);
CREATE UNIQUE INDEX organisations_name_live ON organisations (lower(name), country)
    WHERE deleted_at IS NULL;

-- what the Organisation Assurer saw (trade register extract, statutes,
-- the authorisation of the O-Admins, ...): append-only
CREATE TABLE organisation_documents (
    id              bigserial PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations(id),
    kind            text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    ticket          text NOT NULL,
    recorded_by     bigint NOT NULL REFERENCES members(id),
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organisation_documents_org ON organisation_documents (organisation_id);

-- the organisation's domains, verified by the Organisation Assurer who adds
-- them; a domain belongs to one account only, organisations included (the
-- triggers below check both tables)
CREATE TABLE org_domains (
    id              bigserial PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations(id),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 253),
    ticket          text NOT NULL,
    verified_by     bigint NOT NULL REFERENCES members(id),
    verified_at     timestamptz NOT NULL DEFAULT now(),
    removed_by      bigint REFERENCES members(id),
    removed_at      timestamptz
);
CREATE UNIQUE INDEX org_domains_name_live ON org_domains (lower(name)) WHERE removed_at IS NULL;
CREATE INDEX org_domains_org ON org_domains (organisation_id);

-- one domain, one holder: a live org domain may not be a live member
-- domain and the other way round (the advisory lock per name serialises
-- the two checks)
CREATE FUNCTION domain_one_holder() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'org_domains' THEN
        IF NEW.removed_at IS NOT NULL THEN
            RETURN NEW;
        END IF;
    ELSIF NEW.deleted_at IS NOT NULL THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(7366324, hashtext(lower(NEW.name)));
    IF TG_TABLE_NAME = 'org_domains' THEN
        IF EXISTS (SELECT 1 FROM domains WHERE lower(name) = lower(NEW.name)
                   AND deleted_at IS NULL) THEN
            RAISE EXCEPTION 'domain % belongs to a member account', NEW.name
                USING ERRCODE = 'unique_violation';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM org_domains WHERE lower(name) = lower(NEW.name)
                  AND removed_at IS NULL) THEN
        RAISE EXCEPTION 'domain % belongs to an organisation', NEW.name
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER org_domains_one_holder BEFORE INSERT OR UPDATE ON org_domains
    FOR EACH ROW EXECUTE FUNCTION domain_one_holder();
CREATE TRIGGER domains_one_holder BEFORE INSERT OR UPDATE ON domains
    FOR EACH ROW EXECUTE FUNCTION domain_one_holder();

-- the organisation's administrators (O-Admins, who must be Assurers); a
-- master O-Admin may appoint further O-Admins.  Removal sets removed_at.
CREATE TABLE org_admins (
    id              bigserial PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations(id),
    member_id       bigint NOT NULL REFERENCES members(id),
    is_master       boolean NOT NULL DEFAULT false,
    ticket          text NOT NULL,
    appointed_by    bigint NOT NULL REFERENCES members(id),
    appointed_at    timestamptz NOT NULL DEFAULT now(),
    removed_by      bigint REFERENCES members(id),
    removed_at      timestamptz
);
CREATE UNIQUE INDEX org_admins_live ON org_admins (organisation_id, member_id)
    WHERE removed_at IS NULL;
CREATE INDEX org_admins_member ON org_admins (member_id) WHERE removed_at IS NULL;

-- an organisation certificate is requested by an O-Admin for the
-- organisation: the request (and so the certificate) names it
ALTER TABLE signer_requests
    ADD COLUMN organisation_id bigint REFERENCES organisations(id);
CREATE INDEX signer_requests_org ON signer_requests (organisation_id)
    WHERE organisation_id IS NOT NULL;
