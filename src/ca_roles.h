/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Console roles (sql/004_roles.sql), ticket references and the audit log
 * writer the web of trust and the console share.
 *
 * Ticket references (docs/console.md): every support or arbitration action
 * names the case it belongs to:
 *   s<YYYYMMDD>.<n>   a support ticket, e.g. s20261121.1
 *   a<YYYYMMDD>.<n>   an arbitration case, e.g. a20261121.3
 * YYYYMMDD is a real calendar date (the day the case was opened), n is 1 to
 * 6 digits without a leading zero.  Nothing else is accepted (no spaces). */
#ifndef CA_ROLES_H
#define CA_ROLES_H

#include <apr_pools.h>

#include "ca_db.h"

extern const ca_stmt_t ca_roles_stmts[];

typedef enum {
    CA_ROLE_SUPPORT      = 1 << 0,
    CA_ROLE_ARBITRATOR   = 1 << 1,
    CA_ROLE_TTP_ADMIN    = 1 << 2,
    CA_ROLE_ORG_ASSURER  = 1 << 3,
    CA_ROLE_ADMIN        = 1 << 4
} ca_role_t;

#define CA_ROLE_ALL (CA_ROLE_SUPPORT | CA_ROLE_ARBITRATOR | CA_ROLE_TTP_ADMIN \
                     | CA_ROLE_ORG_ASSURER | CA_ROLE_ADMIN)

/* "support", "arbitrator", "ttp-admin", "org-assurer", "admin" (the values
 * of member_roles.role) <-> the bit; 0 / NULL when unknown */
unsigned ca_role_bit(const char *name);
const char *ca_role_name(unsigned bit);

/* the member's live roles (member_roles rows not removed) as a mask */
apr_status_t ca_roles_of(unsigned *pmask, ca_db_t *db, const char *member_id,
                         apr_pool_t *p);

/* 's' for a support ticket, 'a' for an arbitration reference, 0 if ref is
 * not a ticket reference in the documented format */
int ca_ticket_ok(const char *ref);

/* one entry in the hash-chained audit log (actor or member may be NULL);
 * call inside the transaction of the change it records */
apr_status_t ca_audit_write(ca_db_t *db, const char *actor_id, const char *member_id,
                            const char *action, const char *detail, apr_pool_t *p);

#endif
