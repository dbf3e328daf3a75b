/* The list of all statement tables lives with the tools that need it: a
 * new ca_xxx_stmts[] goes here and into the list of each module using it. */
#include <stddef.h>

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
    NULL
};
