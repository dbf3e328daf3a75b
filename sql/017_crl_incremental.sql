-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 017: CRLs from incremental state.
--
-- The signer link keeps, per CA, the revoked certificates sorted and
-- encoded in memory (docs/issuance.md, "How CRLs are made") and reads only
-- what was revoked since it last looked: every revocation gets a number
-- from certificates_revoked_seq when revoked_at is set, and the index
-- below finds those above the last number seen.  Revocations are stored by
-- the one signer link that drives the line, one transaction after the
-- other, so the numbers are committed in order.
CREATE SEQUENCE certificates_revoked_seq;
ALTER TABLE certificates ADD COLUMN revoked_seq bigint;

-- the revocations made before: numbered in the order they were made
UPDATE certificates c SET revoked_seq = s.n
  FROM (SELECT id, row_number() OVER (ORDER BY revoked_at, id) AS n
          FROM certificates WHERE revoked_at IS NOT NULL) s
 WHERE c.id = s.id;
SELECT setval('certificates_revoked_seq',
              coalesce((SELECT max(revoked_seq) FROM certificates), 0) + 1, false);

CREATE FUNCTION certificates_number_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revoked_seq := nextval('certificates_revoked_seq');
    RETURN NEW;
END $$;
CREATE TRIGGER certificates_number_revocation BEFORE UPDATE OF revoked_at ON certificates
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION certificates_number_revocation();
CREATE TRIGGER certificates_number_revocation_insert BEFORE INSERT ON certificates
    FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION certificates_number_revocation();

CREATE INDEX certificates_revocations ON certificates (ca, revoked_seq)
    WHERE revoked_seq IS NOT NULL;

-- a CRL of a large CA is tens of MB of serial numbers that do not
-- compress: stored out of line as they are, without a compression pass
ALTER TABLE crls ALTER COLUMN der SET STORAGE EXTERNAL;
