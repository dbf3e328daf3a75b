/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The support and arbitration console and role grants, pages of
 * mod_cacert_assure (docs/console.md).
 *
 * Who may do what is the route table at the end of this file, checked by
 * the module's dispatcher before a handler runs.  Every action names a
 * ticket or arbitration reference (ca_ticket_ok); without one, or with a
 * malformed one, it is refused with a message and nothing changes.  The
 * action itself is one transaction in the core (src/ca_console.c) that
 * writes the audit log. */
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>

#include "mod_cacert_assure.h"
#include <http_config.h>
#include <http_log.h>
#include "ca_console.h"
#include "ca_issue.h"
#include "ca_valid.h"

APLOG_USE_MODULE(cacert_assure);

#define CONSOLE_ROLES (CA_ROLE_SUPPORT | CA_ROLE_ARBITRATOR | CA_ROLE_ADMIN)

/* what the pages show of the core's records */
#define STR(type, f)   CACERT_VAR(STR, type, f)
#define SOME(type, f)  CACERT_VAR(NONEMPTY, type, f)

static const cacert_var_t hit_vars[] = {
    STR(ca_con_hit_t, id), STR(ca_con_hit_t, name), STR(ca_con_hit_t, email),
    STR(ca_con_hit_t, created), CACERT_VAR(FLAG, ca_con_hit_t, locked),
    CACERT_VAR(FLAG, ca_con_hit_t, deleted), { NULL }
};

static const cacert_var_t member_vars[] = {
    STR(ca_con_member_t, id), CACERT_VAR_AS("member_id", STR, ca_con_member_t, id),
    STR(ca_con_member_t, given), STR(ca_con_member_t, middle), STR(ca_con_member_t, family),
    STR(ca_con_member_t, suffix), STR(ca_con_member_t, dob), STR(ca_con_member_t, language),
    STR(ca_con_member_t, created), SOME(ca_con_member_t, locked),
    SOME(ca_con_member_t, deleted), SOME(ca_con_member_t, deletion_ticket),
    SOME(ca_con_member_t, retain_until), SOME(ca_con_member_t, blocked),
    SOME(ca_con_member_t, challenge), CACERT_VAR(FLAG, ca_con_member_t, codesign),
    CACERT_VAR(FLAG, ca_con_member_t, assurer), CACERT_VAR(INT, ca_con_member_t, points),
    CACERT_VAR_AS("received", INT, ca_con_member_t, standing.received), { NULL }
};

static const cacert_var_t email_vars[] = {
    STR(ca_con_email_t, address), SOME(ca_con_email_t, verified),
    SOME(ca_con_email_t, removed), CACERT_VAR(FLAG, ca_con_email_t, primary), { NULL }
};

static const cacert_var_t domain_vars[] = {
    STR(ca_con_domain_t, name), SOME(ca_con_domain_t, verified),
    SOME(ca_con_domain_t, removed), { NULL }
};

static const cacert_var_t assurance_vars[] = {
    STR(ca_con_assurance_t, id), STR(ca_con_assurance_t, other_id),
    STR(ca_con_assurance_t, other_name), STR(ca_con_assurance_t, method),
    STR(ca_con_assurance_t, location), STR(ca_con_assurance_t, date),
    CACERT_VAR(INT, ca_con_assurance_t, points), SOME(ca_con_assurance_t, revoked), { NULL }
};

static const cacert_var_t cert_vars[] = {
    STR(ca_cert_t, id), STR(ca_cert_t, serial), STR(ca_cert_t, profile), STR(ca_cert_t, subject),
    STR(ca_cert_t, not_after), STR(ca_cert_t, status), { NULL }
};

static const cacert_var_t role_vars[] = {
    STR(ca_con_role_t, role), STR(ca_con_role_t, granted), STR(ca_con_role_t, ticket), { NULL }
};

static const cacert_var_t event_vars[] = {
    STR(ca_con_event_t, at), STR(ca_con_event_t, actor), STR(ca_con_event_t, action),
    STR(ca_con_event_t, detail), { NULL }
};

/* /wot/console?q=...: find a member */
static int page_search(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    const char *query = assure_arg(q, "q");
    apr_array_header_t *hits;
    apr_status_t rv;

    if (query && *query) {
        ca_tmpl_set(ctx, "v_q", query);
        ca_tmpl_set(ctx, "searched", "1");
        if ((rv = ca_console_search(&hits, q->pg->db, query, q->r->pool)) != APR_SUCCESS) {
            return assure_internal_error(q, rv, "console search");
        }
        cacert_tmpl_items(ctx, "hits", hits, hit_vars);
    }
    return assure_render(q, "console.html", HTTP_OK);
}

/* rows a page of each long list of the member page */
#define CONSOLE_PAGE 200
/* rows of the addresses and domains a member ever had (about 100 bytes,
 * removed ones kept) on one page */
#define CONSOLE_SHORT_PAGE 1000

/* /wot/console-member?id=N: what the console shows of a member */
static int page_member(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    const char *done = assure_arg(q, "done");
    ca_con_member_t *m;
    apr_pool_t *p = q->r->pool;
    const char *url;
    apr_status_t rv;

    rv = ca_console_member(&m, q->pg->db, assure_arg(q, "id"), q->r->pool);
    if (rv == APR_NOTFOUND) {
        return assure_message(q, "title.console", "console.nomember", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, "console member");
    }
    if (done && !strcmp(done, "1")) {
        assure_set_msg(q, "done", "console.done");
    }
    cacert_tmpl_vars(ctx, m, member_vars);
    /* an Assurer's thousands of assurances, a member's thousands of
     * certificates: each list a page at a time, with its own page argument
     * (a row with its revoke form is about 570 bytes; the templates stop
     * at 1 MiB) */
    url = apr_pstrcat(p, "?id=", m->id, "&", NULL);
    if (cacert_tmpl_items_page(ctx, "emails", m->emails, email_vars, "email_pager",
                               apr_pstrcat(p, url, "ep=", NULL), assure_arg(q, "ep"),
                               CONSOLE_SHORT_PAGE, p) != 0
        || cacert_tmpl_items_page(ctx, "domains", m->domains, domain_vars, "domain_pager",
                                  apr_pstrcat(p, url, "dp=", NULL), assure_arg(q, "dp"),
                                  CONSOLE_SHORT_PAGE, p) != 0
        || cacert_tmpl_items_page(ctx, "received_list", m->received, assurance_vars,
                               "received_pager", apr_pstrcat(p, url, "rp=", NULL),
                               assure_arg(q, "rp"), CONSOLE_PAGE, p) != 0
        || cacert_tmpl_items_page(ctx, "given_list", m->given_list, assurance_vars,
                                  "given_pager", apr_pstrcat(p, url, "gp=", NULL),
                                  assure_arg(q, "gp"), CONSOLE_PAGE, p) != 0
        || cacert_tmpl_items_page(ctx, "cert_list", m->certs, cert_vars, "cert_pager",
                                  apr_pstrcat(p, url, "cp=", NULL), assure_arg(q, "cp"),
                                  CONSOLE_PAGE, p) != 0) {
        return assure_message(q, "title.console", "err.nopage", HTTP_NOT_FOUND);
    }
    cacert_tmpl_items(ctx, "roles", m->roles, role_vars);
    cacert_tmpl_items(ctx, "history", m->history, event_vars);
    return assure_render(q, "console_member.html", HTTP_OK);
}

/* the outcome of an action: back to the member, or a message saying why
 * nothing changed */
static int outcome(assure_req_t *q, apr_status_t rv, const char *action, const char *member_id,
                   const char *ticket)
{
    const char *key;
    int status;

    switch (rv) {
    case APR_SUCCESS:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA45501: member %s: %s on member %s (ticket %s)", q->member_id,
                      action, member_id, ticket);
        return assure_redirect(q, apr_pstrcat(q->r->pool, "console-member?id=", member_id,
                                              "&done=1", NULL));
    case APR_NOTFOUND:
        key = "console.nomember";
        status = HTTP_NOT_FOUND;
        break;
    case APR_EEXIST:
        key = "console.already";
        status = HTTP_CONFLICT;
        break;
    case APR_EACCES:
        key = q->member_id && member_id && !strcmp(q->member_id, member_id) ? "console.self"
              : "console.deleted";
        status = HTTP_FORBIDDEN;
        break;
    case APR_EINVAL:
        key = "console.badinput";
        status = HTTP_UNPROCESSABLE_ENTITY;
        break;
    default:
        return assure_internal_error(q, rv, action);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA45502: member %s: %s on member %s refused (%s)", q->member_id, action,
                  member_id, key);
    return assure_message(q, "title.console", key, status);
}

/* the fields every action has: the member and the ticket; 0 and the page
 * when the ticket is missing or malformed */
static int action_fields(assure_req_t *q, const char **pmember_id, const char **pticket,
                         int *prc)
{
    *pmember_id = ca_trim(assure_form(q, "id"), q->r->pool);
    *pticket = ca_trim(assure_form(q, "ticket"), q->r->pool);
    if (!ca_ticket_ok(*pticket)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA45503: member %s: console action without a valid ticket reference",
                      q->member_id);
        *prc = assure_message(q, "title.console",
                              **pticket ? "console.ticket.invalid" : "console.ticket.missing",
                              HTTP_UNPROCESSABLE_ENTITY);
        return 0;
    }
    return 1;
}

static int on_off(assure_req_t *q, const char *field)
{
    return !strcmp(assure_form(q, field), "1");
}

/* an action that turns something on or off (field "1": on) */
typedef apr_status_t toggle_fn(ca_db_t *db, const char *actor, const char *member_id,
                               const char *ticket, int on, apr_pool_t *p);

static int toggle(assure_req_t *q, toggle_fn *fn, const char *field, const char *on_action,
                  const char *off_action)
{
    const char *id, *ticket;
    int rc, on = on_off(q, field);

    if (!action_fields(q, &id, &ticket, &rc)) {
        return rc;
    }
    return outcome(q, fn(q->pg->db, q->member_id, id, ticket, on, q->r->pool),
                   on ? on_action : off_action, id, ticket);
}

static int page_lock(assure_req_t *q)
{
    return toggle(q, ca_console_lock, "lock", "lock", "unlock");
}

static int page_identity(assure_req_t *q)
{
    apr_pool_t *p = q->r->pool;
    const char *id, *ticket, *dob = NULL;
    int rc;

    if (!action_fields(q, &id, &ticket, &rc)) {
        return rc;
    }
    if (ca_valid_dob(&dob, ca_trim(assure_form(q, "dob_year"), p),
                     ca_trim(assure_form(q, "dob_month"), p),
                     ca_trim(assure_form(q, "dob_day"), p), apr_time_now(), p)) {
        return outcome(q, APR_EINVAL, "identity", id, ticket);
    }
    return outcome(q, ca_console_set_identity(q->pg->db, q->member_id, id, ticket,
                                              ca_trim(assure_form(q, "given"), p),
                                              ca_trim(assure_form(q, "middle"), p),
                                              ca_trim(assure_form(q, "family"), p),
                                              ca_trim(assure_form(q, "suffix"), p), dob, p),
                   "identity", id, ticket);
}

static int page_revoke_assurance(assure_req_t *q)
{
    const char *id, *ticket;
    int rc;

    if (!action_fields(q, &id, &ticket, &rc)) {
        return rc;
    }
    return outcome(q, ca_console_revoke_assurance(q->pg->db, q->member_id, id,
                                                  assure_form(q, "assurance"), ticket,
                                                  q->r->pool),
                   "assurance revocation", id, ticket);
}

static int page_block(assure_req_t *q)
{
    return toggle(q, ca_console_block, "block", "block", "unblock");
}

static int page_codesign(assure_req_t *q)
{
    return toggle(q, ca_console_codesign, "allow", "code-signing grant", "code-signing removal");
}

static int page_revoke_certs(assure_req_t *q)
{
    const char *id, *ticket, *reason;
    apr_status_t rv;
    int rc, count = 0;

    if (!action_fields(q, &id, &ticket, &rc)) {
        return rc;
    }
    reason = assure_form(q, "reason");
    rv = ca_console_revoke_certs(&count, q->pg->db, q->member_id, id, ticket,
                                 *reason ? atoi(reason) : 9, q->r->pool);
    if (rv == APR_EEXIST) {
        return assure_message(q, "title.console", "console.nocerts", HTTP_CONFLICT);
    }
    return outcome(q, rv, "revocation of all certificates", id, ticket);
}

static int page_delete(assure_req_t *q)
{
    const char *id, *ticket;
    int rc;

    if (!action_fields(q, &id, &ticket, &rc)) {
        return rc;
    }
    if (strcmp(assure_form(q, "confirm"), "yes")) {
        return assure_message(q, "title.console", "console.delete.confirm",
                              HTTP_UNPROCESSABLE_ENTITY);
    }
    return outcome(q, ca_console_delete(q->pg->db, q->member_id, id, ticket, q->r->pool),
                   "account deletion", id, ticket);
}

static int page_role(assure_req_t *q)
{
    const char *id, *ticket, *role = assure_form(q, "role");
    int rc, grant = on_off(q, "grant");

    if (!action_fields(q, &id, &ticket, &rc)) {
        return rc;
    }
    if (!ca_role_bit(role)) {
        return outcome(q, APR_EINVAL, "role change", id, ticket);
    }
    return outcome(q, ca_console_role(q->pg->db, q->member_id, id, role, ticket, grant,
                                      q->r->pool),
                   apr_pstrcat(q->r->pool, grant ? "grant of role " : "removal of role ", role,
                               NULL), id, ticket);
}

/* the console part of the authorisation matrix (docs/console.md) */
const cacert_route_t assure_console_routes[] = {
    ASSURE_ROUTE("console", CACERT_GET, ASSURE_ROLE, CONSOLE_ROLES, NULL, page_search),
    ASSURE_ROUTE("console-member", CACERT_GET, ASSURE_ROLE, CONSOLE_ROLES, NULL, page_member),
    ASSURE_ROUTE("console-lock", CACERT_POST, ASSURE_ROLE,
                 CA_ROLE_SUPPORT | CA_ROLE_ARBITRATOR, NULL, page_lock),
    ASSURE_ROUTE("console-revoke-certs", CACERT_POST, ASSURE_ROLE,
                 CA_ROLE_SUPPORT | CA_ROLE_ARBITRATOR, NULL, page_revoke_certs),
    ASSURE_ROUTE("console-identity", CACERT_POST, ASSURE_ROLE, CA_ROLE_ARBITRATOR, NULL,
                 page_identity),
    ASSURE_ROUTE("console-assurance-revoke", CACERT_POST, ASSURE_ROLE, CA_ROLE_ARBITRATOR,
                 NULL, page_revoke_assurance),
    ASSURE_ROUTE("console-block", CACERT_POST, ASSURE_ROLE, CA_ROLE_ARBITRATOR, NULL,
                 page_block),
    ASSURE_ROUTE("console-delete", CACERT_POST, ASSURE_ROLE, CA_ROLE_ARBITRATOR, NULL,
                 page_delete),
    ASSURE_ROUTE("console-codesign", CACERT_POST, ASSURE_ROLE,
                 CA_ROLE_ARBITRATOR | CA_ROLE_ADMIN, NULL, page_codesign),
    ASSURE_ROUTE("console-role", CACERT_POST, ASSURE_ROLE, CA_ROLE_ADMIN, NULL, page_role),
    { NULL }
};
