/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* cacert-grant: grants (or removes) a console role from the command line,
 * for the first administrator, who cannot be granted through the web.
 *
 *   cacert-grant --db CONNINFO --email ADDR --role ROLE --ticket REF [--remove]
 *
 * ROLE is support, arbitrator, ttp-admin, org-assurer or admin.  Writes the
 * member_roles row (granted_by NULL: the command line) and an audit entry
 * in one transaction.  Exit status 0 on success, 1 when refused (unknown
 * address, malformed ticket, role held already), 2 on usage or database
 * errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_dbd.h>

#include "ca_allstmts.h"
#include "ca_console.h"
#include "ca_roles.h"
#include "ca_db.h"
#include "ca_log.h"

static int usage(FILE *out, const char *argv0)
{
    fprintf(out, "usage: %s --db CONNINFO --email ADDRESS --role ROLE --ticket REF"
            " [--remove]\n  ROLE: support, arbitrator, ttp-admin, org-assurer, admin\n",
            argv0);
    return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    ca_db_t db = { 0 };
    const char *conninfo = NULL, *email = NULL, *role = NULL, *ticket = NULL;
    const char *member_id;
    apr_status_t rv;
    int i, remove = 0, rc = 2;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        return usage(stdout, argv[0]);
    }
    for (i = 1; i < argc; i++) {
        const char **slot = !strcmp(argv[i], "--db") ? &conninfo
                            : !strcmp(argv[i], "--email") ? &email
                            : !strcmp(argv[i], "--role") ? &role
                            : !strcmp(argv[i], "--ticket") ? &ticket : NULL;
        if (!strcmp(argv[i], "--remove")) {
            remove = 1;
        }
        else if (slot && i + 1 < argc) {
            *slot = argv[++i];
        }
        else {
            return usage(stderr, argv[0]);
        }
    }
    if (!conninfo || !email || !role || !ticket) {
        return usage(stderr, argv[0]);
    }
    if (!ca_role_bit(role)) {
        fprintf(stderr, "CA45401: unknown role '%s'\n", role);
        return usage(stderr, argv[0]);
    }
    if (!ca_ticket_ok(ticket)) {
        fprintf(stderr, "CA45402: the ticket reference is not in the documented format"
                " (docs/console.md)\n");
        return 1;
    }
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    if (ca_tool_connect(&db, conninfo, ca_all_stmts, p)) {
        goto leave;
    }
    rv = ca_console_member_by_email(&member_id, &db, email, p);
    if (rv == APR_NOTFOUND) {
        fprintf(stderr, "CA45406: no member has the address %s\n", email);
        rc = 1;
        goto leave;
    }
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_console_role(&db, NULL, member_id, role, ticket, !remove, p);
    if (rv == APR_EEXIST) {
        fprintf(stderr, "CA45407: member %s %s the role %s already\n", member_id,
                remove ? "does not hold" : "holds", role);
        rc = 1;
    }
    else if (rv == APR_EACCES) {
        fprintf(stderr, "CA45408: member %s is locked or deleted\n", member_id);
        rc = 1;
    }
    else if (rv != APR_SUCCESS) {
        fprintf(stderr, "CA45409: the change failed\n");
    }
    else {
        printf("member %s (%s): role %s %s (ticket %s)\n", member_id, email, role,
               remove ? "removed" : "granted", ticket);
        rc = 0;
    }

leave:
    apr_pool_destroy(p);
    return rc;
}
