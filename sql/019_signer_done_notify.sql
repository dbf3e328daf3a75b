-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 019: waiting pages hear when their request ends.
--
-- Several frontends share one database and only one of them drives the
-- signer line (docs/scaling.md).  A member's waiting page may be on any of
-- them: the database tells every listener when a signer request ends --
-- answered (done), refused, or quarantined -- with a notification on the
-- channel cacert_signer_done whose payload is the request id.  Each httpd
-- child listens (mod_cacert_issue) and wakes the pages waiting for that
-- request.  A notification is sent when the transaction commits, never
-- for one rolled back; a page that misses one reads its request again
-- after a second anyway.
CREATE FUNCTION signer_requests_notify_done() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('cacert_signer_done', NEW.id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER signer_requests_notify_done
    AFTER UPDATE OF state ON signer_requests
    FOR EACH ROW WHEN (NEW.state IN ('done', 'refused', 'quarantined')
                       AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION signer_requests_notify_done();
