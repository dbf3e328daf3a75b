-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 025: a CRL is stored as its fields and its signature, not its body.
--
-- At a million revocations a CRL's body is 42 MB, and storing it cost the
-- database 0.2-0.4 s of CPU per CRL (in parts, 023), on the cores that
-- answer the members (issue 19: issuance p99 while CRLs are made).  The
-- body is the TBS every server can build itself from the revocations
-- (certificates.revoked_seq, 017) and the CRL's fields, plus the signature.
-- So a CRL row now keeps:
--   md            the signature's hash ("sha256", ...);
--   revoked_upto  the highest revoked_seq of the CA the CRL lists: it lists
--                 exactly the CA's revocations numbered up to this one;
--   signature     the signer's signature over that TBS.
-- /pki builds the TBS again from its own copy of the revocations, checks
-- the signature over it with the CA certificate's key, and serves the CRL
-- only if it verifies (docs/issuance.md, "/pki").  The CRLs stored before
-- keep their body (der or crl_parts) and are served from it.
ALTER TABLE crls ADD COLUMN md text;
ALTER TABLE crls ADD COLUMN revoked_upto bigint CHECK (revoked_upto >= 0);
ALTER TABLE crls ADD COLUMN signature bytea;
ALTER TABLE crls DROP CONSTRAINT crls_der_or_parts;
ALTER TABLE crls ADD CONSTRAINT crls_der_or_parts
    CHECK ((signature IS NULL AND md IS NULL AND revoked_upto IS NULL
            AND ((der IS NULL) = (parts > 0) OR (pruned_at IS NOT NULL AND der IS NULL)))
           OR (signature IS NOT NULL AND md IS NOT NULL AND revoked_upto IS NOT NULL
               AND der IS NULL AND parts = 0));
