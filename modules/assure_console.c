/* The support and arbitration console, role grants and the audit-log
 * pages of mod_cacert_assure.
 *
 * OWNED BY THE CONSOLE ENGINEER (branch issue4-console): this file is a
 * placeholder shipped with the module skeleton.  Add routes to the table
 * below (paths start with "console"); the dispatcher in
 * mod_cacert_assure.c checks each route's access before the handler runs.
 * The contract is at the top of mod_cacert_assure.h. */
#include "mod_cacert_assure.h"

const cacert_route_t assure_console_routes[] = {
    { NULL, 0, 0, 0, NULL, NULL }
};
