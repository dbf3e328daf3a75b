/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* cacert-dbcheck: prepares every SQL statement of the core against a
 * database, so that a statement that does not fit the schema is found by
 * the tests, not by a member.
 *
 *   cacert-dbcheck "host=/path/to/socket dbname=cacert user=cacert"
 *
 * Exit status 0 when all statements prepare, 1 otherwise, 2 on a usage
 * error; --help (or -h) prints the usage on stdout and exits 0. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <apr_general.h>
#include <apr_dbd.h>

#include "ca_allstmts.h"
#include "ca_db.h"
#include "ca_log.h"

int main(int argc, char **argv)
{
    apr_pool_t *p;
    ca_db_t db = { 0 };
    int failed, t, i, n = 0;

    if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        int help = argc == 2;

        fprintf(help ? stdout : stderr, "usage: %s PGSQL-CONNINFO\n"
                "  prepares every statement of the code against the schema"
                " (man cacert-dbcheck)\n", argv[0]);
        return help ? 0 : 2;
    }
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    if (ca_tool_connect(&db, argv[1], NULL, p)) {
        return 1;
    }
    failed = ca_db_prepare_tables(&db, ca_all_stmts, p);
    for (t = 0; ca_all_stmts[t]; t++) {
        for (i = 0; ca_all_stmts[t][i].label; i++) {
            n++;
        }
    }
    printf("%d statements, %d prepared, %d failed\n", n, n - failed, failed);
    apr_pool_destroy(p);
    return failed ? 1 : 0;
}
