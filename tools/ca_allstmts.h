/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* What the command-line tools share: every statement table of the core
 * (cacert-dbcheck and cacert-grant prepare them all; the httpd modules each
 * list the tables they use themselves), and the way to the database. */
#ifndef CA_ALLSTMTS_H
#define CA_ALLSTMTS_H

#include "ca_db.h"

/* NULL-terminated list of NULL-label-terminated tables */
extern const ca_stmt_t *const ca_all_stmts[];

/* the pgsql driver and a connection to conninfo, closed when p is
 * destroyed, with the statements of tables prepared (NULL: none); 0, or 1
 * with the reason on stderr (CA30001 the driver is missing, CA30002 no
 * connection, CA30003 the statements do not fit the schema) */
int ca_tool_connect(ca_db_t *db, const char *conninfo, const ca_stmt_t *const *tables,
                    apr_pool_t *p);

#endif
