/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_assure: the web of trust at /wot, in files linked into the one
 * mod_cacert_assure.so:
 *   mod_cacert_assure.c  the page helpers below, the dispatcher, the hooks
 *   assure_config.c      the configuration: defaults, getters, directives
 *   assure_wot.c         overview, points, CAP form, listing, find an
 *                        Assurer, contact, statistics
 *   assure_entry.c       assurance entry (face to face, TTP), TTP
 *                        requests, the Assurer Challenge and its import
 *   assure_console.c     the support/arbitration console
 *   assure_org.c         organisation assurance
 *
 * THE CONTRACT between those files
 * --------------------------------
 * Routes.  Every page is one entry of a route table (cacert_route_t of
 * cacert_glue.h, written with ASSURE_ROUTE: path, methods, access, roles,
 * text fields, handler).  The dispatcher (mod_cacert_assure.c) looks the
 * path up in assure_wot_routes[], assure_entry_routes[],
 * assure_console_routes[] and assure_org_routes[]; each table ends with
 * an entry whose path is NULL.
 * Adding a page = adding a line to your own table; nobody edits another
 * file's table.
 *
 *  - path: ONE URL segment below where the handler is mounted (the site
 *    does <Location "/wot"> SetHandler cacert-assure), e.g. "points" is
 *    /wot/points; "" is /wot/.  No '/' inside: use hyphens, e.g.
 *    "console-member".  Console paths start with "console", organisation
 *    paths with "org", so the tables never collide.
 *  - methods: CACERT_GET, CACERT_POST or both.  Anything else: 405.
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
 *  - the handler gets an assure_req_t (struct cacert_req, below) with the page started: the
 *    session, the database, the member's roles and standing are there; for
 *    a POST the form was read and its CSRF token checked.
 *
 * Everything a handler needs is declared below (assure_*): form values,
 * rendering with the role variables set, messages, field errors,
 * redirects, internal errors, mail, the member search, the standing, the
 * configuration getters.  Core
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
#include "cacert_glue.h"
#include "mod_cacert.h"

typedef enum {
    ASSURE_ANON = 0,
    ASSURE_MEMBER,
    ASSURE_ASSURER,
    ASSURE_ROLE,
    ASSURE_CLIENT
} assure_access_t;

/* a route of the module: the page is started for members unless it is
 * public (the access class decides; ASSURE_CLIENT pages are not started) */
#define ASSURE_ROUTE(path, methods, access, roles, text_fields, fn) \
    { (path), (methods), (access) == ASSURE_ANON ? -1 : 1, (access), (roles), \
      (text_fields), (fn) }

/* the module's configuration, read through the getters below */
typedef struct assure_cfg_t assure_cfg_t;

/* what a handler is given */
struct cacert_req {
    request_rec *r;
    cacert_page_t *pg;          /* pg->sess NULL for a visitor; pg->db set */
    const assure_cfg_t *cfg;
    const char *member_id;      /* the logged-in member or NULL */
    unsigned roles;             /* their live CA_ROLE_* bits (0 for visitors) */
    ca_standing_t standing;     /* their standing (zero for visitors) */
    int is_assurer;             /* ca_is_assurer(&standing) */
    int junior;                 /* the member is under 18 today */
};
typedef struct cacert_req assure_req_t;

/* the tables; each ends with { NULL } */
extern const cacert_route_t assure_wot_routes[];         /* assure_wot.c */
extern const cacert_route_t assure_entry_routes[];       /* assure_entry.c */
extern const cacert_route_t assure_console_routes[];     /* assure_console.c */
extern const cacert_route_t assure_org_routes[];         /* assure_org.c */

/* 1 if the member holds any of the role bits */
int assure_has_role(const assure_req_t *q, unsigned roles);
/* a POST field ("" when absent), the same trimmed, a query-string
 * argument (NULL when absent) */
const char *assure_form(const assure_req_t *q, const char *name);
const char *assure_trimmed(const assure_req_t *q, const char *name);
const char *assure_arg(const assure_req_t *q, const char *name);
/* render templates/<tmpl> in the page's language; sets the variables every assure page
 * uses first: wot (the module's base URL path), is_assurer, and role_<name>
 * ("role_support", "role_ttp-admin", ...) for each role the member holds */
int assure_render(assure_req_t *q, const char *tmpl, int status);
/* a page with a title and a text (message keys) */
int assure_message(assure_req_t *q, const char *title_key, const char *text_key,
                   int status);
/* set variable var to a message key's text in the page's language */
void assure_set_msg(assure_req_t *q, const char *var, const char *key);
/* a message beside a field (err_<field>) and the form's general error */
void assure_field_error(assure_req_t *q, const char *field, const char *key);
/* the typed values back into the form (v_<field>) and the decoder's
 * field errors */
void assure_keep_values(assure_req_t *q);
/* 303 to another page of the module: where is "points", "assure?x=1", ... */
int assure_redirect(assure_req_t *q, const char *where);
/* after a core action that may refuse: the internal-error page when rv
 * is an error (what failed), the redirect to where when it was done;
 * DECLINED when it was refused (the refusal is set as the form's error) */
int assure_done(assure_req_t *q, apr_status_t rv, const char *refusal, const char *what,
                const char *where);
/* log (tag CA40001) and show the internal-error page */
int assure_internal_error(assure_req_t *q, apr_status_t rv, const char *what);
/* mail templates/mail/<tmpl>, in lang, to address (cacert_mail) */
apr_status_t assure_mail(assure_req_t *q, const char *lang, const char *tmpl,
                         ca_tmpl_ctx_t *ctx, const char *address);
/* the member with the live address email (any of their verified
 * addresses, case-insensitive): APR_NOTFOUND if none */
apr_status_t assure_find_member(const char **pmember_id, assure_req_t *q,
                                const char *email);
/* the member's primary address, as variable var of ctx (unset if none) */
apr_status_t assure_primary_email(assure_req_t *q, ca_tmpl_ctx_t *ctx, const char *var,
                                  apr_pool_t *p);
/* today (UTC), and the latest meeting date accepted: today in the
 * easternmost time zone (UTC+14; docs/wot.md), as YYYY-MM-DD */
const char *assure_today(apr_pool_t *p);
const char *assure_latest_date(apr_pool_t *p);
/* the most the member may award now */
int assure_max_award(const assure_req_t *q);
/* the member's points and what comes next, as the variables of wot.html */
void assure_standing_vars(assure_req_t *q);

/* the statistics cache's lock, made at a child's start (assure_wot.c) */
void assure_wot_child_init(apr_pool_t *pchild);

/* configuration getters (assure_config.c; defaults when a directive is
 * not set) */
void assure_points_rules(ca_points_rules_t *rules, const assure_cfg_t *cfg);
int assure_contact_limit(const assure_cfg_t *cfg);       /* messages per sender ... */
apr_int64_t assure_contact_window(const assure_cfg_t *cfg); /* ... per this many seconds */
apr_int64_t assure_stats_cache(const assure_cfg_t *cfg);  /* seconds, 0: none */
/* 1 if the PEM certificate is the configured CAcertChallengeImportClient */
int assure_is_import_client(const assure_cfg_t *cfg, const char *pem, apr_pool_t *p);
/* the directives, and the configuration's create and merge */
extern const command_rec assure_cmds[];
void *assure_create_srv_cfg(apr_pool_t *p, server_rec *s);
void *assure_merge_srv_cfg(apr_pool_t *p, void *basev, void *addv);

#endif
