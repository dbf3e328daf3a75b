-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 013: one revocation request per certificate.
--
-- The "already asked" check of ca_issue_revoke_in_tx read the queue in the
-- snapshot taken before it waited for the certificate's row lock, so
-- concurrent revocations of one certificate each queued a request (each
-- with a journal REVOKE and an audit row).  The database now refuses the
-- second: a unique index over the open and done revocation requests of a
-- certificate, which the insert meets with ON CONFLICT DO NOTHING.
--
-- Doubles queued before this migration are kept, marked refused with the
-- reason, so the index can be built and nothing is deleted.
UPDATE signer_requests r
   SET state = 'refused',
       reason = 'a second request to revoke the same certificate (set aside by migration 013)'
 WHERE r.kind = 'revoke' AND r.state IN ('queued', 'sent', 'done')
   AND EXISTS (SELECT 1 FROM signer_requests o
                WHERE o.kind = 'revoke' AND o.cert_id = r.cert_id
                  AND o.state IN ('queued', 'sent', 'done') AND o.id < r.id);
CREATE UNIQUE INDEX signer_requests_one_revoke ON signer_requests (cert_id)
    WHERE kind = 'revoke' AND state IN ('queued', 'sent', 'done');
