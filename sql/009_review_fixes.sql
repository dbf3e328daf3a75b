-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 009: fixes after the review of issue 4.
--
-- One domain, one holder, now with parents and children: a live
-- organisation domain may not be, lie above or lie below a live member
-- domain or another organisation's live domain, and a live member domain
-- may not be, lie above or lie below a live organisation domain.  (Members
-- among themselves: ca_domain_add's rule, unchanged.)  The lock is the one
-- the claims take in the application (ca_domain_db.c cacert_dom_lock), so
-- the check and the insert of two claims cannot interleave.  Updates that
-- keep a live row's name (checks, re-test marks) are not checked again.
CREATE OR REPLACE FUNCTION domain_one_holder() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n text := lower(NEW.name);
BEGIN
    IF TG_TABLE_NAME = 'org_domains' THEN
        IF NEW.removed_at IS NOT NULL THEN
            RETURN NEW;
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.removed_at IS NULL AND lower(OLD.name) = n THEN
            RETURN NEW;
        END IF;
    ELSE
        IF NEW.deleted_at IS NOT NULL THEN
            RETURN NEW;
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND lower(OLD.name) = n THEN
            RETURN NEW;
        END IF;
    END IF;
    PERFORM pg_advisory_xact_lock(7366324);
    IF TG_TABLE_NAME = 'org_domains' THEN
        IF EXISTS (SELECT 1 FROM domains WHERE deleted_at IS NULL
                   AND (lower(name) = n OR right(n, length(name) + 1) = '.' || lower(name)
                        OR right(lower(name), length(n) + 1) = '.' || n)) THEN
            RAISE EXCEPTION 'domain % is, or lies above or below, a member''s domain', n
                USING ERRCODE = 'unique_violation';
        END IF;
        IF EXISTS (SELECT 1 FROM org_domains WHERE removed_at IS NULL
                   AND organisation_id <> NEW.organisation_id
                   AND (lower(name) = n OR right(n, length(name) + 1) = '.' || lower(name)
                        OR right(lower(name), length(n) + 1) = '.' || n)) THEN
            RAISE EXCEPTION 'domain % is, or lies above or below, another organisation''s domain', n
                USING ERRCODE = 'unique_violation';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM org_domains WHERE removed_at IS NULL
                  AND (lower(name) = n OR right(n, length(name) + 1) = '.' || lower(name)
                       OR right(lower(name), length(n) + 1) = '.' || n)) THEN
        RAISE EXCEPTION 'domain % is, or lies above or below, an organisation''s domain', n
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;
