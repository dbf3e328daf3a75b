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

static void set_if(ca_tmpl_ctx_t *ctx, const char *name, const char *value)
{
    if (value && *value) {
        ca_tmpl_set(ctx, name, value);
    }
}

/* /wot/console?q=...: find a member */
static int page_search(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    const char *query = assure_arg(q, "q");
    apr_array_header_t *hits;
    apr_status_t rv;
    int i;

    if (query && *query) {
        ca_tmpl_set(ctx, "v_q", query);
        ca_tmpl_set(ctx, "searched", "1");
        if ((rv = ca_console_search(&hits, q->pg->db, query, q->r->pool)) != APR_SUCCESS) {
            return assure_internal_error(q, rv, "console search");
        }
        for (i = 0; i < hits->nelts; i++) {
            const ca_con_hit_t *h = &APR_ARRAY_IDX(hits, i, ca_con_hit_t);
            ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "hits");
            ca_tmpl_set(item, "id", h->id);
            ca_tmpl_set(item, "name", h->name);
            ca_tmpl_set(item, "email", h->email);
            ca_tmpl_set(item, "created", h->created);
            if (h->locked) ca_tmpl_set(item, "locked", "1");
            if (h->deleted) ca_tmpl_set(item, "deleted", "1");
        }
    }
    return assure_render(q, "console.html", HTTP_OK);
}

static void assurance_items(ca_tmpl_ctx_t *ctx, const char *name, apr_array_header_t *list)
{
    int i;

    for (i = 0; i < list->nelts; i++) {
        const ca_con_assurance_t *a = &APR_ARRAY_IDX(list, i, ca_con_assurance_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, name);
        ca_tmpl_set(item, "id", a->id);
        ca_tmpl_set(item, "other_id", a->other_id);
        ca_tmpl_set(item, "other_name", a->other_name);
        ca_tmpl_set(item, "method", a->method);
        ca_tmpl_set(item, "location", a->location);
        ca_tmpl_set(item, "date", a->date);
        ca_tmpl_setf(item, "points", "%d", a->points);
        set_if(item, "revoked", a->revoked);
    }
}

/* /wot/console-member?id=N: what the console shows of a member */
static int page_member(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    const char *done = assure_arg(q, "done");
    ca_con_member_t *m;
    apr_status_t rv;
    int i;

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
    ca_tmpl_set(ctx, "id", m->id);
    ca_tmpl_set(ctx, "member_id", m->id);
    ca_tmpl_set(ctx, "given", m->given);
    ca_tmpl_set(ctx, "middle", m->middle);
    ca_tmpl_set(ctx, "family", m->family);
    ca_tmpl_set(ctx, "suffix", m->suffix);
    ca_tmpl_set(ctx, "dob", m->dob);
    ca_tmpl_set(ctx, "language", m->language);
    ca_tmpl_set(ctx, "created", m->created);
    set_if(ctx, "locked", m->locked);
    set_if(ctx, "deleted", m->deleted);
    set_if(ctx, "deletion_ticket", m->deletion_ticket);
    set_if(ctx, "retain_until", m->retain_until);
    set_if(ctx, "blocked", m->blocked);
    set_if(ctx, "challenge", m->challenge);
    if (m->codesign) ca_tmpl_set(ctx, "codesign", "1");
    if (m->assurer) ca_tmpl_set(ctx, "assurer", "1");
    ca_tmpl_setf(ctx, "points", "%d", m->points);
    ca_tmpl_setf(ctx, "received", "%d", m->standing.received);
    for (i = 0; i < m->emails->nelts; i++) {
        const ca_con_email_t *e = &APR_ARRAY_IDX(m->emails, i, ca_con_email_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "emails");
        ca_tmpl_set(item, "address", e->address);
        set_if(item, "verified", e->verified);
        set_if(item, "removed", e->removed);
        if (e->primary) ca_tmpl_set(item, "primary", "1");
    }
    for (i = 0; i < m->domains->nelts; i++) {
        const ca_con_domain_t *d = &APR_ARRAY_IDX(m->domains, i, ca_con_domain_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "domains");
        ca_tmpl_set(item, "name", d->name);
        set_if(item, "verified", d->verified);
        set_if(item, "removed", d->removed);
    }
    assurance_items(ctx, "received_list", m->received);
    assurance_items(ctx, "given_list", m->given_list);
    for (i = 0; i < m->certs->nelts; i++) {
        const ca_cert_t *c = &APR_ARRAY_IDX(m->certs, i, ca_cert_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "certs");
        ca_tmpl_set(item, "id", c->id);
        ca_tmpl_set(item, "serial", c->serial);
        ca_tmpl_set(item, "profile", c->profile);
        ca_tmpl_set(item, "subject", c->subject);
        ca_tmpl_set(item, "not_after", c->not_after);
        ca_tmpl_set(item, "status", c->status);
    }
    for (i = 0; i < m->roles->nelts; i++) {
        const ca_con_role_t *r = &APR_ARRAY_IDX(m->roles, i, ca_con_role_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "roles");
        ca_tmpl_set(item, "role", r->role);
        ca_tmpl_set(item, "granted", r->granted);
        ca_tmpl_set(item, "ticket", r->ticket);
    }
    for (i = 0; i < m->history->nelts; i++) {
        const ca_con_event_t *ev = &APR_ARRAY_IDX(m->history, i, ca_con_event_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "history");
        ca_tmpl_set(item, "at", ev->at);
        ca_tmpl_set(item, "actor", ev->actor);
        ca_tmpl_set(item, "action", ev->action);
        ca_tmpl_set(item, "detail", ev->detail);
    }
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

static int page_lock(assure_req_t *q)
{
    const char *id, *ticket;
    int rc, lock = on_off(q, "lock");

    if (!action_fields(q, &id, &ticket, &rc)) {
        return rc;
    }
    return outcome(q, ca_console_lock(q->pg->db, q->member_id, id, ticket, lock, q->r->pool),
                   lock ? "lock" : "unlock", id, ticket);
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
    const char *id, *ticket;
    int rc, block = on_off(q, "block");

    if (!action_fields(q, &id, &ticket, &rc)) {
        return rc;
    }
    return outcome(q, ca_console_block(q->pg->db, q->member_id, id, ticket, block, q->r->pool),
                   block ? "block" : "unblock", id, ticket);
}

static int page_codesign(assure_req_t *q)
{
    const char *id, *ticket;
    int rc, allow = on_off(q, "allow");

    if (!action_fields(q, &id, &ticket, &rc)) {
        return rc;
    }
    return outcome(q, ca_console_codesign(q->pg->db, q->member_id, id, ticket, allow,
                                          q->r->pool),
                   allow ? "code-signing grant" : "code-signing removal", id, ticket);
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
