/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Organisation assurance, pages of mod_cacert_assure
 * (docs/organisations.md).
 *
 * Organisation Assurers (role org-assurer) create organisations, record
 * their documents, add their domains and appoint O-Admins and the master
 * O-Admin; a master O-Admin appoints further O-Admins.  Whether a member
 * administers a given organisation depends on the data, so the route table
 * lets members in and the core (ca_org_appoint, ca_org_admin_of) decides
 * per organisation.  Organisation certificates are requested at
 * /certs/org (mod_cacert_issue). */
#include <string.h>

#include <apr_strings.h>

#include "mod_cacert_assure.h"
#include <http_config.h>
#include <http_log.h>

#include "ca_org.h"
#include "ca_valid.h"

APLOG_USE_MODULE(cacert_assure);

#define fv assure_trimmed

/* what the pages show of the core's records */
#define STR(type, f) CACERT_VAR(STR, type, f)
#define ORG(f)       CACERT_VAR_AS(#f, STR, ca_org_view_t, org.f)

static const cacert_var_t list_vars[] = {
    STR(ca_org_t, id), STR(ca_org_t, name), STR(ca_org_t, town), STR(ca_org_t, country),
    { NULL }
};

static const cacert_var_t new_vars[] = {
    CACERT_VAR_AS("v_name", STR, ca_org_t, name), CACERT_VAR_AS("v_town", STR, ca_org_t, town),
    CACERT_VAR_AS("v_state", STR, ca_org_t, state),
    CACERT_VAR_AS("v_country", STR, ca_org_t, country),
    CACERT_VAR_AS("v_contact", STR, ca_org_t, contact), { NULL }
};

static const cacert_var_t view_vars[] = {
    CACERT_VAR_AS("org_id", STR, ca_org_view_t, org.id), ORG(name), ORG(town), ORG(state),
    ORG(country), ORG(contact), ORG(ticket), ORG(created), { NULL }
};

static const cacert_var_t domain_vars[] = {
    STR(ca_org_domain_t, id), STR(ca_org_domain_t, name), STR(ca_org_domain_t, verified),
    { NULL }
};

static const cacert_var_t admin_vars[] = {
    STR(ca_org_admin_t, member_id), STR(ca_org_admin_t, name), STR(ca_org_admin_t, email),
    STR(ca_org_admin_t, appointed), CACERT_VAR(FLAG, ca_org_admin_t, master), { NULL }
};

static const cacert_var_t document_vars[] = {
    STR(ca_org_document_t, kind), STR(ca_org_document_t, description),
    STR(ca_org_document_t, ticket), STR(ca_org_document_t, recorded), { NULL }
};

static int refused(assure_req_t *q, const char *key, int status)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r, "CA45601: member %s: %s refused (%s)",
                  q->member_id, q->r->uri, key);
    return assure_message(q, "title.org", key, status);
}

/* a refusal or failure of the core, as a message */
static int org_outcome(assure_req_t *q, apr_status_t rv, const char *why, const char *org_id,
                       const char *what)
{
    switch (rv) {
    case APR_SUCCESS:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r, "CA45602: member %s: %s, organisation %s",
                      q->member_id, what, org_id);
        return assure_redirect(q, apr_pstrcat(q->r->pool, "org-view?id=", org_id, "&done=1",
                                              NULL));
    case APR_NOTFOUND:
        return refused(q, why ? why : "org.notfound", HTTP_NOT_FOUND);
    case APR_EEXIST:
        return refused(q, why ? why : "org.domain.taken", HTTP_CONFLICT);
    case APR_EACCES:
        return refused(q, why ? why : "err.forbidden", HTTP_FORBIDDEN);
    case APR_EINVAL:
        return refused(q, why ? why : "console.badinput", HTTP_UNPROCESSABLE_ENTITY);
    default:
        return assure_internal_error(q, rv, what);
    }
}

/* the ticket an Organisation Assurer's action needs */
static int ticket_refused(assure_req_t *q, const char *ticket)
{
    return refused(q, *ticket ? "console.ticket.invalid" : "console.ticket.missing",
                   HTTP_UNPROCESSABLE_ENTITY);
}

/* /wot/org: the organisations the member administers (all of them for an
 * Organisation Assurer) */
static int page_list(assure_req_t *q)
{
    int assurer = assure_has_role(q, CA_ROLE_ORG_ASSURER);
    apr_array_header_t *orgs;
    apr_status_t rv;

    rv = ca_org_list(&orgs, q->pg->db, assurer ? NULL : q->member_id, q->r->pool);
    if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, "organisation list");
    }
    cacert_tmpl_items(q->pg->ctx, "orgs", orgs, list_vars);
    return assure_render(q, "orgs.html", HTTP_OK);
}

/* /wot/org-new: an Organisation Assurer creates an organisation */
static int page_new(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    const char *field, *e, *ticket, *org_id;
    ca_org_t o;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        return assure_render(q, "org_new.html", HTTP_OK);
    }
    memset(&o, 0, sizeof(o));
    o.name = fv(q, "name");
    o.town = fv(q, "town");
    o.state = fv(q, "state");
    o.country = fv(q, "country");
    o.contact = fv(q, "contact");
    ticket = fv(q, "ticket");
    cacert_tmpl_vars(ctx, &o, new_vars);
    ca_tmpl_set(ctx, "v_ticket", ticket);
    if ((e = ca_org_check(&field, &o))) {
        assure_set_msg(q, apr_pstrcat(q->r->pool, "err_", field, NULL), e);
        return assure_render(q, "org_new.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if (!ca_ticket_ok(ticket)) {
        assure_set_msg(q, "err_ticket", *ticket ? "console.ticket.invalid"
                                                : "console.ticket.missing");
        return assure_render(q, "org_new.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    rv = ca_org_create(&org_id, q->pg->db, q->member_id, &o, ticket, q->r->pool);
    if (rv == APR_EEXIST) {
        assure_set_msg(q, "err_name", "org.exists");
        return assure_render(q, "org_new.html", HTTP_CONFLICT);
    }
    return org_outcome(q, rv, NULL, org_id, "organisation created");
}

/* rows a page of an organisation's domains */
#define ORG_PAGE 200

/* /wot/org-view?id=N: for Organisation Assurers and the organisation's
 * O-Admins */
static int page_view(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    const char *id = assure_arg(q, "id"), *done = assure_arg(q, "done");
    int assurer = assure_has_role(q, CA_ROLE_ORG_ASSURER), admin = 0, master = 0;
    ca_org_view_t *v;
    apr_status_t rv;

    if ((rv = ca_org_admin_of(&admin, &master, q->pg->db, id, q->member_id, q->r->pool))
        != APR_SUCCESS) {
        return assure_internal_error(q, rv, "O-Admin check");
    }
    if (!assurer && !admin) {
        return refused(q, "err.org.notadmin", HTTP_FORBIDDEN);
    }
    rv = ca_org_get(&v, q->pg->db, id, q->r->pool);
    if (rv == APR_NOTFOUND) {
        return refused(q, "org.notfound", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, "organisation");
    }
    if (done && !strcmp(done, "1")) {
        assure_set_msg(q, "done", "org.done");
    }
    if (assurer) ca_tmpl_set(ctx, "org_assurer", "1");
    if (admin) ca_tmpl_set(ctx, "org_admin", "1");
    if (master || assurer) ca_tmpl_set(ctx, "may_appoint", "1");
    cacert_tmpl_vars(ctx, v, view_vars);
    /* an organisation's thousands of domains: a page at a time (a row with
     * its remove form is about 430 bytes; the templates stop at 1 MiB) */
    if (cacert_tmpl_items_page(ctx, "domains", v->domains, domain_vars, "domain_pager",
                               apr_pstrcat(q->r->pool, "?id=", v->org.id, "&dp=", NULL),
                               assure_arg(q, "dp"), ORG_PAGE, q->r->pool) != 0) {
        return refused(q, "err.nopage", HTTP_NOT_FOUND);
    }
    cacert_tmpl_items(ctx, "admins", v->admins, admin_vars);
    cacert_tmpl_items(ctx, "documents", v->documents, document_vars);
    return assure_render(q, "org_view.html", HTTP_OK);
}

static int page_document(assure_req_t *q)
{
    const char *org_id = fv(q, "id"), *ticket = fv(q, "ticket");
    const char *kind = fv(q, "kind"), *desc = fv(q, "description");
    apr_status_t rv;

    if (!ca_ticket_ok(ticket)) {
        return ticket_refused(q, ticket);
    }
    rv = ca_org_document(q->pg->db, q->member_id, org_id, kind, desc, ticket, q->r->pool);
    return org_outcome(q, rv, rv == APR_EINVAL ? "org.document.invalid" : NULL, org_id,
                       "document recorded");
}

static int page_domain(assure_req_t *q)
{
    APR_OPTIONAL_FN_TYPE(cacert_domain_cfg) *dcfg = APR_RETRIEVE_OPTIONAL_FN(cacert_domain_cfg);
    const char *org_id = fv(q, "id"), *ticket = fv(q, "ticket"), *name = fv(q, "domain");
    const char *why = NULL;
    apr_status_t rv;

    if (!ca_ticket_ok(ticket)) {
        return ticket_refused(q, ticket);
    }
    rv = ca_org_add_domain(&why, q->pg->db, q->member_id, org_id, name,
                           dcfg ? dcfg(q->r->server) : NULL, ticket, q->r->pool);
    return org_outcome(q, rv, why, org_id, apr_pstrcat(q->r->pool, "domain ", name,
                                                         " added", NULL));
}

static int page_domain_remove(assure_req_t *q)
{
    const char *org_id = fv(q, "id"), *ticket = fv(q, "ticket");
    apr_status_t rv;

    if (!ca_ticket_ok(ticket)) {
        return ticket_refused(q, ticket);
    }
    rv = ca_org_remove_domain(q->pg->db, q->member_id, org_id, fv(q, "domain_id"), ticket,
                              q->r->pool);
    return org_outcome(q, rv, NULL, org_id, "domain removed");
}

/* appoint (or remove) an O-Admin: by an Organisation Assurer, or by a
 * master O-Admin of that organisation (the core decides) */
static int page_admin(assure_req_t *q)
{
    const char *org_id = fv(q, "id"), *ticket = fv(q, "ticket"), *why = NULL, *mid = NULL;
    int assurer = assure_has_role(q, CA_ROLE_ORG_ASSURER);
    int remove = !strcmp(assure_form(q, "remove"), "1");
    apr_status_t rv;

    if ((assurer || *ticket) && !ca_ticket_ok(ticket)) {
        return ticket_refused(q, ticket);
    }
    if (remove) {
        mid = fv(q, "member");
    }
    else if ((rv = assure_find_member(&mid, q, fv(q, "email"))) != APR_SUCCESS) {
        if (rv == APR_NOTFOUND) {
            return refused(q, "org.admin.nomember", HTTP_NOT_FOUND);
        }
        return assure_internal_error(q, rv, "member lookup");
    }
    rv = remove ? ca_org_remove_admin(&why, q->pg->db, q->member_id, assurer, org_id, mid,
                                      ticket, q->r->pool)
                : ca_org_appoint(&why, q->pg->db, q->member_id, assurer, org_id, mid,
                                 !strcmp(assure_form(q, "master"), "1"), ticket, q->r->pool);
    return org_outcome(q, rv, why, org_id, apr_pstrcat(q->r->pool, remove ? "O-Admin removed "
                                                       : "O-Admin appointed ", mid, NULL));
}

/* the organisation part of the authorisation matrix (docs/organisations.md) */
const cacert_route_t assure_org_routes[] = {
    ASSURE_ROUTE("org", CACERT_GET, ASSURE_MEMBER, 0, NULL, page_list),
    ASSURE_ROUTE("org-new", CACERT_GET | CACERT_POST, ASSURE_ROLE, CA_ROLE_ORG_ASSURER, NULL,
                 page_new),
    ASSURE_ROUTE("org-view", CACERT_GET, ASSURE_MEMBER, 0, NULL, page_view),
    ASSURE_ROUTE("org-document", CACERT_POST, ASSURE_ROLE, CA_ROLE_ORG_ASSURER, NULL,
                 page_document),
    ASSURE_ROUTE("org-domain", CACERT_POST, ASSURE_ROLE, CA_ROLE_ORG_ASSURER, NULL,
                 page_domain),
    ASSURE_ROUTE("org-domain-remove", CACERT_POST, ASSURE_ROLE, CA_ROLE_ORG_ASSURER, NULL,
                 page_domain_remove),
    ASSURE_ROUTE("org-admin", CACERT_POST, ASSURE_MEMBER, 0, NULL, page_admin),
    { NULL }
};
