-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 023: a CRL's DER stored in parts of at most 1 MiB.
--
-- At a million revocations a CRL is 42 MB.  As one bytea parameter the
-- backend that stores it spends 0.8-1.1 s of CPU (the message buffer grown
-- by doubling and copied, its pages faulted in, then TOAST), most of one
-- core while CRLs are made back to back, next to the members' requests;
-- reading it back as one value costs 0.4-0.75 s more.  In parts of 1 MiB
-- the same bytes cost 0.2-0.4 s to store and 0.1 s to read (measured with
-- libpq on PostgreSQL 15, docs/scaling.md).
--
-- crls.parts is the number of rows in crl_parts; 0 for the CRLs stored
-- before this migration, whose der stays where it is.
CREATE TABLE crl_parts (
    ca          text NOT NULL,
    crl_number  bigint NOT NULL,
    seq         integer NOT NULL CHECK (seq >= 0),
    part        bytea NOT NULL,
    PRIMARY KEY (ca, crl_number, seq),
    FOREIGN KEY (ca, crl_number) REFERENCES crls (ca, crl_number)
);
-- the serial numbers of a CRL do not compress: stored out of line as they
-- are, without a compression pass (as crls.der, 017)
ALTER TABLE crl_parts ALTER COLUMN part SET STORAGE EXTERNAL;

ALTER TABLE crls ADD COLUMN parts integer NOT NULL DEFAULT 0 CHECK (parts >= 0);
ALTER TABLE crls ALTER COLUMN der DROP NOT NULL;
ALTER TABLE crls ADD CONSTRAINT crls_der_or_parts CHECK ((der IS NULL) = (parts > 0));
