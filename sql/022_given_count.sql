-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 022: the face-to-face assurances an Assurer gave, counted from an index.
--
-- Every page of /wot/ reads the member's standing (cacert_acc_standing),
-- which counts the live face-to-face assurances the member gave: their
-- experience points and the figure the points page shows.  An active
-- Assurer gave hundreds; through assurances_assurer each of them was read
-- from the table and its method checked (about 0.18 ms for 300 rows, most
-- of the statement).  This index holds exactly the rows counted, so the
-- count is an index-only scan (about 0.05 ms for 300 rows).
CREATE INDEX assurances_given_f2f ON assurances (assurer_id)
    WHERE revoked_at IS NULL AND method = 'face-to-face';
