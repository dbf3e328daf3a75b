/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_lib.h>

#include "ca_roles.h"

const ca_stmt_t ca_roles_stmts[] = {
    { "cacert_role_of",
      "SELECT role FROM member_roles WHERE member_id = %s::bigint AND removed_at IS NULL" },
    { "cacert_role_audit",
      "INSERT INTO audit_log (actor_id, member_id, action, detail)"
      " VALUES (%s::bigint, %s::bigint, %s, %s)" },
    { NULL, NULL }
};

static const struct {
    const char *name;
    unsigned bit;
} roles[] = {
    { "support", CA_ROLE_SUPPORT },
    { "arbitrator", CA_ROLE_ARBITRATOR },
    { "ttp-admin", CA_ROLE_TTP_ADMIN },
    { "org-assurer", CA_ROLE_ORG_ASSURER },
    { "admin", CA_ROLE_ADMIN },
    { NULL, 0 }
};

unsigned ca_role_bit(const char *name)
{
    int i;

    for (i = 0; name && roles[i].name; i++) {
        if (!strcmp(name, roles[i].name)) {
            return roles[i].bit;
        }
    }
    return 0;
}

const char *ca_role_name(unsigned bit)
{
    int i;

    for (i = 0; roles[i].name; i++) {
        if (bit == roles[i].bit) {
            return roles[i].name;
        }
    }
    return NULL;
}

apr_status_t ca_roles_of(unsigned *pmask, ca_db_t *db, const char *member_id,
                         apr_pool_t *p)
{
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *pmask = 0;
    rv = ca_db_rows(&rows, db, "cacert_role_of", CA_ARGS(member_id), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nelts; i++) {
        *pmask |= ca_role_bit(ca_col(APR_ARRAY_IDX(rows, i, const ca_row_t *), "role"));
    }
    return APR_SUCCESS;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int ca_ticket_ok(const char *ref)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int i, y, m, d, n;

    if (!ref || (ref[0] != 's' && ref[0] != 'a')) {
        return 0;
    }
    for (i = 1; i <= 8; i++) {
        if (!apr_isdigit(ref[i])) {
            return 0;
        }
    }
    if (ref[9] != '.') {
        return 0;
    }
    y = (ref[1] - '0') * 1000 + (ref[2] - '0') * 100 + (ref[3] - '0') * 10 + (ref[4] - '0');
    m = (ref[5] - '0') * 10 + (ref[6] - '0');
    d = (ref[7] - '0') * 10 + (ref[8] - '0');
    if (y < 2000 || m < 1 || m > 12 || d < 1
        || d > mdays[m - 1] + (m == 2 && leap(y))) {
        return 0;
    }
    if (ref[10] == '0') {
        return 0;
    }
    for (n = 0, i = 10; ref[i]; i++, n++) {
        if (!apr_isdigit(ref[i]) || n >= 6) {
            return 0;
        }
    }
    return n >= 1 ? ref[0] : 0;
}

apr_status_t ca_audit_write(ca_db_t *db, const char *actor_id, const char *member_id,
                            const char *action, const char *detail, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_role_audit",
                       CA_ARGS(actor_id, member_id, action, detail ? detail : ""), p);
}
