-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 003: the expiry warnings mailed to members, so each goes out once
CREATE TABLE expiry_warnings (
    cert_id     bigint NOT NULL REFERENCES certificates(id),
    days        integer NOT NULL CHECK (days > 0),
    sent_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cert_id, days)
);
