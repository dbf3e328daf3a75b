/* The web of trust in the core: assurances, TTP, the Assurer Challenge,
 * "find an Assurer" and the statistics, on top of the points engine
 * (ca_points.h).  Every state change is one transaction with its audit
 * entry; bad input changes nothing. */
#ifndef CA_WOT_H
#define CA_WOT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "ca_db.h"
#include "ca_points.h"
#include "ca_policy.h"

extern const ca_stmt_t ca_wot_stmts[];

/* the member owning the live, verified address email (case-insensitive);
 * APR_NOTFOUND if none */
apr_status_t ca_wot_member_by_email(const char **pmember_id, ca_db_t *db,
                                    const char *email, apr_pool_t *p);

#endif
