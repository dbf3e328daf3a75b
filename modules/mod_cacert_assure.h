/* mod_cacert_assure: the web of trust, TTP, the Assurer Challenge, "find an
 * Assurer", statistics -- and, in files of their own linked into the same
 * mod_cacert_assure.so, the support/arbitration console
 * (modules/assure_console.c) and organisation assurance
 * (modules/assure_org.c).
 *
 * THE CONTRACT between those files
 * --------------------------------
 * Routes.  Every page is one entry of a route table: {path, methods,
 * access, roles, text fields, handler}.  The dispatcher (mod_cacert_assure.c)
 * walks assure_wot_routes[] (its own), then assure_console_routes[], then
 * assure_org_routes[]; each table ends with an entry whose path is NULL.
 * Adding a page = adding a line to your own table; nobody edits another
 * file's table.
 *
 *  - path: ONE URL segment below where the handler is mounted (the site
 *    does <Location "/wot"> SetHandler cacert-assure), e.g. "points" is
 *    /wot/points; "" is /wot/.  No '/' inside: use hyphens, e.g.
 *    "console-member".  Console paths start with "console", organisation
 *    paths with "org", so the tables never collide.
 *  - methods: ASSURE_GET, ASSURE_POST or both.  Anything else: 405.
 *  - access, checked in ONE place (the dispatcher) before the handler runs:
 *      ASSURE_ANON     anyone, visitor or member (public pages)
 *      ASSURE_MEMBER   a logged-in member (visitors are sent to the login)
 *      ASSURE_ASSURER  a member who is an Assurer now (ca_is_assurer)
 *      ASSURE_ROLE     a member holding ANY of the CA_ROLE_* bits in roles
 *      ASSURE_CLIENT   no session: the request's TLS client certificate
 *                      must be the one CAcertChallengeImportClient names
 *    A refusal is a 403 page (err.forbidden) and an INFO log line; the
 *    handler never runs.  Handlers may refine (e.g. "admin only for this
 *    button") with assure_has_role(), but the coarse check is the table's.
 *  - text_fields: form fields that may hold pasted multi-line text (NULL:
 *    none), as cacert_page_start takes them.
 *  - the handler gets an assure_req_t (below) with the page started: the
 *    session, the database, the member's roles and standing are there; for
 *    a POST the form was read and its CSRF token checked.
 *
 * Everything a handler needs is declared below (assure_*): form values,
 * rendering with the role variables set, messages, redirects, internal
 * errors, mail, the member search, the configuration getters.  Core
 * functions: ca_roles.h (roles, ca_ticket_ok, ca_audit_write), ca_points.h
 * (the points engine), ca_wot.h (assurances, members).  Statements go in a
 * core file's ca_xxx_stmts[], listed in assure_stmts (mod_cacert_assure.c)
 * and in tools/ca_allstmts.c. */
#ifndef MOD_CACERT_ASSURE_H
#define MOD_CACERT_ASSURE_H

#include <httpd.h>

#include "ca_policy.h"
#include "ca_points.h"
#include "ca_roles.h"
#include "mod_cacert.h"

#define ASSURE_GET  1u
#define ASSURE_POST 2u

typedef enum {
    ASSURE_ANON = 0,
    ASSURE_MEMBER,
    ASSURE_ASSURER,
    ASSURE_ROLE,
    ASSURE_CLIENT
} assure_access_t;

/* the module's configuration, read through the getters below */
typedef struct assure_cfg_t assure_cfg_t;

typedef struct assure_req_t {
    request_rec *r;
    cacert_page_t *pg;          /* pg->sess NULL for a visitor; pg->db set */
    const assure_cfg_t *cfg;
    const char *member_id;      /* the logged-in member or NULL */
    unsigned roles;             /* their live CA_ROLE_* bits (0 for visitors) */
    ca_standing_t standing;     /* their standing (zero for visitors) */
    int is_assurer;             /* ca_is_assurer(&standing) */
    int junior;                 /* the member is under 18 today */
} assure_req_t;

typedef int assure_handler_fn(assure_req_t *q);

typedef struct {
    const char *path;
    unsigned methods;
    assure_access_t access;
    unsigned roles;                     /* ASSURE_ROLE: any of these bits */
    const char *const *text_fields;
    assure_handler_fn *handler;
} cacert_route_t;

/* the three tables; each ends with { NULL } */
extern const cacert_route_t assure_wot_routes[];
extern const cacert_route_t assure_console_routes[];     /* assure_console.c */
extern const cacert_route_t assure_org_routes[];         /* assure_org.c */

/* 1 if the member holds any of the role bits */
int assure_has_role(const assure_req_t *q, unsigned roles);
/* a POST field ("" when absent), a query-string argument (NULL when absent) */
const char *assure_form(const assure_req_t *q, const char *name);
const char *assure_arg(const assure_req_t *q, const char *name);
/* render templates/<lang>/<tmpl>; sets the variables every assure page
 * uses first: wot (the module's base URL path), is_assurer, and role_<name>
 * ("role_support", "role_ttp-admin", ...) for each role the member holds */
int assure_render(assure_req_t *q, const char *tmpl, int status);
/* a page with a title and a text (message keys) */
int assure_message(assure_req_t *q, const char *title_key, const char *text_key,
                   int status);
/* set variable var to a message key's text in the page's language */
void assure_set_msg(assure_req_t *q, const char *var, const char *key);
/* 303 to another page of the module: where is "points", "assure?x=1", ... */
int assure_redirect(assure_req_t *q, const char *where);
/* log (tag CA40001) and show the internal-error page */
int assure_internal_error(assure_req_t *q, apr_status_t rv, const char *what);
/* mail templates/<lang>/mail/<tmpl> to address (cacert_mail) */
apr_status_t assure_mail(assure_req_t *q, const char *lang, const char *tmpl,
                         ca_tmpl_ctx_t *ctx, const char *address);
/* the member with the live address email (any of their verified
 * addresses, case-insensitive): APR_NOTFOUND if none */
apr_status_t assure_find_member(const char **pmember_id, assure_req_t *q,
                                const char *email);

/* configuration getters (defaults when a directive is not set) */
void assure_points_rules(ca_points_rules_t *rules, const assure_cfg_t *cfg);
int assure_contact_limit(const assure_cfg_t *cfg);       /* messages per sender ... */
apr_int64_t assure_contact_window(const assure_cfg_t *cfg); /* ... per this many seconds */

#endif
