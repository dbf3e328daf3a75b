-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 021: a version number for each member's long lists.
--
-- The points page (/wot/points: the assurances a member received and gave)
-- and the certificate list (/certs/) of an active Assurer or of a member
-- with many certificates hold hundreds of rows.  Each httpd child keeps the
-- rows it read last, with the member's version of their lists at the time
-- (src/ca_listcache.c), and reads them again only when the version has
-- moved on.  The version moves, in the transaction that makes the change,
-- whenever something those lists show may change:
--   - an assurance is made or changed (both its Assurer and its assuree);
--   - a member's name changes (every member whose points page names them);
--   - a certificate is stored or changed (its member);
--   - a revocation request is made or moves on (the certificate's member:
--     the list shows "revoking" while it is open).
-- A version that moved for nothing costs one read; a change that did not
-- move it would show an old list, so every path that writes those tables
-- goes through these triggers.  A member with no row here is at version 0.
--
-- Rows are written in member order, and with no foreign key (whose key
-- share lock would tie these writes to the locks on members): two
-- transactions bumping the same two members cannot deadlock on them.
CREATE TABLE list_versions (
    member_id   bigint PRIMARY KEY,
    v           bigint NOT NULL
);

CREATE FUNCTION list_versions_bump(ids bigint[]) RETURNS void AS $$
    INSERT INTO list_versions AS l (member_id, v)
    SELECT DISTINCT i, 1 FROM unnest(ids) AS i WHERE i IS NOT NULL ORDER BY 1
    ON CONFLICT (member_id) DO UPDATE SET v = l.v + 1;
$$ LANGUAGE sql;

-- assurances: one statement may write many rows (a fill, an import)
CREATE FUNCTION assurances_bump_lists() RETURNS trigger AS $$
BEGIN
    PERFORM list_versions_bump(ARRAY(SELECT assurer_id FROM new_rows
                                     UNION SELECT assuree_id FROM new_rows));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER assurances_bump_lists_insert AFTER INSERT ON assurances
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION assurances_bump_lists();
CREATE TRIGGER assurances_bump_lists_update AFTER UPDATE ON assurances
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION assurances_bump_lists();

-- certificates (a certificate's member never changes: the new rows say it)
CREATE FUNCTION certificates_bump_lists() RETURNS trigger AS $$
BEGIN
    PERFORM list_versions_bump(ARRAY(SELECT member_id FROM new_rows));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER certificates_bump_lists_insert AFTER INSERT ON certificates
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION certificates_bump_lists();
CREATE TRIGGER certificates_bump_lists_update AFTER UPDATE ON certificates
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION certificates_bump_lists();

-- revocation requests: the member of the certificate (not the one who asked:
-- support may revoke a member's certificate)
CREATE FUNCTION signer_requests_bump_lists() RETURNS trigger AS $$
BEGIN
    PERFORM list_versions_bump(ARRAY(SELECT c.member_id FROM new_rows r
                                     JOIN certificates c ON c.id = r.cert_id
                                     WHERE r.kind = 'revoke'));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER signer_requests_bump_lists_insert AFTER INSERT ON signer_requests
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION signer_requests_bump_lists();
CREATE TRIGGER signer_requests_bump_lists_update AFTER UPDATE ON signer_requests
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION signer_requests_bump_lists();

-- a new name: every member whose points page shows it
CREATE FUNCTION members_bump_lists() RETURNS trigger AS $$
BEGIN
    PERFORM list_versions_bump(ARRAY(SELECT NEW.id
                                     UNION SELECT assurer_id FROM assurances
                                           WHERE assuree_id = NEW.id
                                     UNION SELECT assuree_id FROM assurances
                                           WHERE assurer_id = NEW.id));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER members_bump_lists AFTER UPDATE OF given_name, family_name ON members
    FOR EACH ROW WHEN (OLD.given_name IS DISTINCT FROM NEW.given_name
                       OR OLD.family_name IS DISTINCT FROM NEW.family_name)
    EXECUTE FUNCTION members_bump_lists();
