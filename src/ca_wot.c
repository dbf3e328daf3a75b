#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "ca_wot.h"
#include "ca_roles.h"
#include "ca_log.h"

const ca_stmt_t ca_wot_stmts[] = {
    { "cacert_wot_member_by_email",
      "SELECT member_id FROM emails WHERE lower(address) = lower(%s)"
      " AND deleted_at IS NULL AND verified_at IS NOT NULL" },
    { NULL, NULL }
};

apr_status_t ca_wot_member_by_email(const char **pmember_id, ca_db_t *db,
                                    const char *email, apr_pool_t *p)
{
    const char **row;
    apr_status_t rv;

    *pmember_id = NULL;
    rv = ca_db_select1(&row, db, "cacert_wot_member_by_email", CA_ARGS(email), p);
    if (rv == APR_SUCCESS) {
        *pmember_id = row[0];
    }
    return rv;
}
