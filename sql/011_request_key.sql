-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 011: the key of a signing request.
--
-- A key may serve one member only.  The rule was checked against issued
-- certificates, so a key on its way to the signer in another member's
-- request slipped past it (and two requests at the same moment both did).
-- The request now records its key (hex SHA-256 of the SubjectPublicKeyInfo,
-- as certificates.spki_sha256), and ca_issue_submit checks both under a
-- lock per key.  Requests queued before this migration carry none; they
-- are signed or refused within minutes of an upgrade.
ALTER TABLE signer_requests ADD COLUMN spki_sha256 text;
CREATE INDEX signer_requests_spki ON signer_requests (spki_sha256)
    WHERE kind = 'sign' AND state IN ('queued', 'sent');
