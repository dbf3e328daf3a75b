/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The list of all statement tables lives with the tools that need it: a
 * new ca_xxx_stmts[] goes here and into the list of each module using it. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <apr_dbd.h>

#include "ca_allstmts.h"
#include "ca_account.h"
#include "ca_issue.h"
#include "ca_pgpkeys.h"
#include "ca_domain.h"
#include "ca_roles.h"
#include "ca_wot.h"
#include "ca_audit.h"
#include "ca_console.h"
#include "ca_org.h"
#include "ca_submit.h"
#include "ca_acme.h"

const ca_stmt_t *const ca_all_stmts[] = {
    ca_account_stmts,
    ca_issue_stmts,
    ca_pgpkeys_stmts,
    ca_domain_stmts,
    ca_roles_stmts,
    ca_wot_stmts,
    ca_audit_stmts,
    ca_console_stmts,
    ca_org_stmts,
    ca_submit_stmts,
    ca_acme_stmts,
    NULL
};

static apr_status_t close_db(void *data)
{
    ca_db_t *db = data;

    apr_dbd_close(db->driver, db->handle);
    return APR_SUCCESS;
}

int ca_tool_connect(ca_db_t *db, const char *conninfo, const ca_stmt_t *const *tables,
                    apr_pool_t *p)
{
    const char *err = NULL;

    memset(db, 0, sizeof(*db));
    apr_dbd_init(p);
    if (apr_dbd_get_driver(p, "pgsql", &db->driver) != APR_SUCCESS) {
        fprintf(stderr, "CA30001: the APR DBD pgsql driver is missing "
                "(install libaprutil1-dbd-pgsql)\n");
        return 1;
    }
    if (apr_dbd_open_ex(db->driver, p, conninfo, &db->handle, &err) != APR_SUCCESS) {
        fprintf(stderr, "CA30002: cannot connect: %s\n", err ? err : "unknown error");
        return 1;
    }
    apr_pool_cleanup_register(p, db, close_db, apr_pool_cleanup_null);
    if (tables && ca_db_prepare_tables(db, tables, p) != 0) {
        fprintf(stderr, "CA30003: the statements do not fit the database schema"
                " (run cacert-migrate)\n");
        return 1;
    }
    return 0;
}
