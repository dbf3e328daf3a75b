-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 016: every host hears of a revocation at once.
--
-- Several frontends may answer OCSP from caches of their own (mod_socache
-- shmcb on each host); only the one that drives the signer link records a
-- revocation.  The database tells every listener when it commits: a
-- notification on the channel cacert_revoked with the payload
-- "<ca> <serial>", and each host's OCSP responder drops its cached answers
-- for that certificate (docs/scaling.md).  A notification is sent when the
-- transaction commits, never for one rolled back.
CREATE FUNCTION certificates_notify_revoked() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('cacert_revoked', NEW.ca || ' ' || NEW.serial);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER certificates_notify_revoked
    AFTER UPDATE OF revoked_at ON certificates
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION certificates_notify_revoked();
