-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 024: the bodies of superseded CRLs are dropped.
--
-- At a million revocations a CRL is 42 MB, and one is made at least every
-- CAcertCRLInterval and after every revocation: kept for ever, they filled
-- the database by gigabytes a day.  Only the newest CRL of a CA is
-- published; a body is kept until three newer ones of its CA are stored
-- (so /pki, which reads the newest number and then its parts, never finds
-- the parts gone).  The crls row stays, with its number, times and entry
-- count, and pruned_at says when its body went.
ALTER TABLE crls ADD COLUMN pruned_at timestamptz;
ALTER TABLE crls DROP CONSTRAINT crls_der_or_parts;
ALTER TABLE crls ADD CONSTRAINT crls_der_or_parts
    CHECK ((der IS NULL) = (parts > 0) OR (pruned_at IS NOT NULL AND der IS NULL));
