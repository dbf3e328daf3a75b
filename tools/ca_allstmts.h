/* Every statement table of the core, for the tools that prepare them all
 * (cacert-dbcheck, cacert-grant).  The httpd modules each list the tables
 * they use themselves. */
#ifndef CA_ALLSTMTS_H
#define CA_ALLSTMTS_H

#include "ca_db.h"

/* NULL-terminated list of NULL-label-terminated tables */
extern const ca_stmt_t *const ca_all_stmts[];

#endif
