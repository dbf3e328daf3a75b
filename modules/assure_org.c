/* Organisation assurance and organisation certificates in mod_cacert_assure.
 *
 * OWNED BY THE CONSOLE ENGINEER (branch issue4-console): this file is a
 * placeholder shipped with the module skeleton.  Add routes to the table
 * below (paths start with "org"); the dispatcher in mod_cacert_assure.c
 * checks each route's access before the handler runs.  The contract is at
 * the top of mod_cacert_assure.h. */
#include "mod_cacert_assure.h"

const cacert_route_t assure_org_routes[] = {
    { NULL, 0, 0, 0, NULL, NULL }
};
