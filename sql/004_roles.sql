-- Copyright 2026 The cacert-httpd authors
-- SPDX-License-Identifier: Apache-2.0
-- 004: console roles (support, arbitrator, TTP-admin, organisation assurer,
-- administrator).  Granted only by an administrator; every grant and removal
-- is a row here (append-only: removal sets removed_at) and an audit entry.
-- The first administrator is bootstrapped from the command line.
CREATE TABLE member_roles (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    role        text NOT NULL CHECK (role IN
                    ('support', 'arbitrator', 'ttp-admin', 'org-assurer', 'admin')),
    granted_by  bigint REFERENCES members(id),      -- NULL: command-line bootstrap
    granted_at  timestamptz NOT NULL DEFAULT now(),
    ticket      text NOT NULL,                       -- ticket or arbitration reference
    removed_by  bigint REFERENCES members(id),
    removed_at  timestamptz,
    removal_ticket text
);
CREATE UNIQUE INDEX member_roles_live ON member_roles (member_id, role)
    WHERE removed_at IS NULL;
