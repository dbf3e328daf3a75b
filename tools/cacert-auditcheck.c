/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* cacert-auditcheck: walks the audit log's hash chain in id order and
 * recomputes every hash in C (not with the database's audit_log_hash(),
 * which whoever changed rows could have replaced too).
 *
 *   cacert-auditcheck [--anchor ID:HASH] "host=/path/to/socket dbname=cacert user=cacert"
 *
 * Prints "N entries, chain intact" (and the last entry's id and hash, to be
 * kept as the anchor of a later run) and exits 0; or names the first broken
 * link ("entry 42: ...") and exits 1.  Exit status 2: usage or database
 * error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_dbd.h>

#include "ca_audit.h"
#include "ca_allstmts.h"
#include "ca_db.h"
#include "ca_log.h"

static const ca_stmt_t *const tables[] = { ca_audit_stmts, NULL };

static int usage(FILE *out, const char *argv0)
{
    fprintf(out, "usage: %s [--anchor ID:HASH] PGSQL-CONNINFO\n"
            "  verifies the hash chain of the audit log (man cacert-auditcheck)\n", argv0);
    return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    ca_db_t db = { 0 };
    ca_audit_walk_t w;
    const char *conninfo = NULL, *anchor_id = NULL, *anchor_hash = NULL;
    apr_status_t rv;
    int i, rc = 2;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        return usage(stdout, argv[0]);
    }
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--anchor") && i + 1 < argc) {
            anchor_id = argv[++i];
        }
        else if (argv[i][0] == '-' || conninfo) {
            return usage(stderr, argv[0]);
        }
        else {
            conninfo = argv[i];
        }
    }
    if (!conninfo) {
        return usage(stderr, argv[0]);
    }
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    if (anchor_id) {
        const char *colon = strchr(anchor_id, ':');
        const char *idpart = colon ? apr_pstrmemdup(p, anchor_id,
                                                    (apr_size_t)(colon - anchor_id)) : "";
        anchor_hash = colon ? colon + 1 : "";
        if (strlen(anchor_hash) != 64 || !*idpart
            || strspn(idpart, "0123456789") != strlen(idpart)) {
            fprintf(stderr, "CA45101: --anchor wants ID:HASH as printed by an earlier run\n");
            return 2;
        }
        anchor_id = idpart;
    }
    if (ca_tool_connect(&db, conninfo, tables, p)) {
        goto leave;
    }
    rv = ca_audit_verify(&w, &db, anchor_id, anchor_hash, p);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "CA45105: reading the audit log failed\n");
        goto leave;
    }
    if (w.broken_id) {
        printf("entry %" APR_INT64_T_FMT ": %s\n", w.broken_id, w.broken_why);
        printf("chain BROKEN after %" APR_INT64_T_FMT " intact entries\n", w.entries);
        rc = 1;
        goto leave;
    }
    printf("%" APR_INT64_T_FMT " entries, chain intact\n", w.entries);
    if (w.entries) {
        printf("last entry %" APR_INT64_T_FMT ":%s\n", w.last_id, w.last_hash);
    }
    if (w.gaps) {
        printf("%" APR_INT64_T_FMT " ids unused (writes rolled back; the chain links"
               " across them)\n", w.gaps);
    }
    rc = 0;

leave:
    apr_pool_destroy(p);
    return rc;
}
