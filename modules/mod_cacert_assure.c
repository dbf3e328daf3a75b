/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_assure: the web of trust at /wot (mod_cacert_assure.h names
 * its files and the contract between them).  This file: the page helpers
 * the page files share, the route tables' lookup, the one authorisation
 * check (the dispatcher), the hooks and the module.  Rules live in the
 * core (ca_points.c, ca_wot.c); words in templates/. */
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_ssl.h>

#include "ca_account.h"
#include "ca_tmpl.h"
#include "ca_valid.h"
#include "ca_wot.h"
#include "ca_console.h"
#include "ca_domain.h"
#include "ca_issue.h"
#include "ca_org.h"
#include "mod_cacert_assure.h"

APLOG_USE_MODULE(cacert_assure);

module AP_MODULE_DECLARE_DATA cacert_assure_module;

#define HANDLER_NAME    "cacert-assure"
#define ASSURE_TAG      "CA40001"

/* ---- the page API of mod_cacert_account ---- */

static cacert_page_api_t api;
static APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *ssl_lookup;

static void retrieve_fns(void)
{
    cacert_page_api(&api);
    ssl_lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
}

/* ---- helpers offered to the page files (mod_cacert_assure.h) ---- */

int assure_has_role(const assure_req_t *q, unsigned roles)
{
    return (q->roles & roles) != 0;
}

const char *assure_form(const assure_req_t *q, const char *name)
{
    return cacert_field(q->pg, name);
}

const char *assure_trimmed(const assure_req_t *q, const char *name)
{
    return ca_trim(assure_form(q, name), q->r->pool);
}

const char *assure_arg(const assure_req_t *q, const char *name)
{
    return cacert_query_arg(q->r, name);
}

/* the variables every page of the module sets */
static void role_vars(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    unsigned bit;

    ca_tmpl_set(ctx, "wot", q->pg->base);
    if (q->is_assurer) {
        ca_tmpl_set(ctx, "is_assurer", "1");
    }
    for (bit = 1; bit & CA_ROLE_ALL; bit <<= 1) {
        if (q->roles & bit) {
            ca_tmpl_set(ctx, apr_pstrcat(q->r->pool, "role_", ca_role_name(bit), NULL), "1");
            ca_tmpl_set(ctx, "role_any", "1");
        }
    }
}

int assure_render(assure_req_t *q, const char *tmpl, int status)
{
    role_vars(q);
    return api.render(q->pg, tmpl, status);
}

int assure_message(assure_req_t *q, const char *title_key, const char *text_key,
                   int status)
{
    role_vars(q);
    return api.message(q->pg, title_key, text_key, status);
}

void assure_set_msg(assure_req_t *q, const char *var, const char *key)
{
    api.set_msg(q->pg, var, key);
}

void assure_field_error(assure_req_t *q, const char *field, const char *key)
{
    const char *var = apr_pstrcat(q->r->pool, "err_", field, NULL);

    if (!ca_tmpl_get(q->pg->ctx, var)) {
        assure_set_msg(q, var, key);
    }
    if (!ca_tmpl_get(q->pg->ctx, "error")) {
        assure_set_msg(q, "error", "err.form");
    }
}

void assure_keep_values(assure_req_t *q)
{
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    int i;

    if (!q->pg->form) {
        return;
    }
    arr = apr_table_elts(q->pg->form);
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; i++) {
        if (strcmp(e[i].key, "csrf")) {
            ca_tmpl_set(q->pg->ctx, apr_pstrcat(q->r->pool, "v_", e[i].key, NULL), e[i].val);
        }
    }
    if (q->pg->form_errors) {
        arr = apr_table_elts(q->pg->form_errors);
        e = (const apr_table_entry_t *)arr->elts;
        for (i = 0; i < arr->nelts; i++) {
            assure_field_error(q, e[i].key, e[i].val);
        }
    }
}

int assure_redirect(assure_req_t *q, const char *where)
{
    return cacert_redirect(q->r, q->pg->base, where);
}

int assure_internal_error(assure_req_t *q, apr_status_t rv, const char *what)
{
    role_vars(q);
    return cacert_internal_error(q->pg, ASSURE_TAG, rv, what);
}

int assure_done(assure_req_t *q, apr_status_t rv, const char *refusal, const char *what,
                const char *where)
{
    if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, what);
    }
    if (!refusal) {
        return assure_redirect(q, where);
    }
    assure_set_msg(q, "error", refusal);
    return DECLINED;
}

apr_status_t assure_mail(assure_req_t *q, const char *lang, const char *tmpl,
                         ca_tmpl_ctx_t *ctx, const char *address)
{
    if (!api.mail) {
        return APR_ENOTIMPL;
    }
    return api.mail(q->r->server, lang, tmpl, ctx, address, q->r->pool);
}

apr_status_t assure_find_member(const char **pmember_id, assure_req_t *q,
                                const char *email)
{
    return ca_wot_member_by_email(pmember_id, q->pg->db, email, q->r->pool);
}

apr_status_t assure_primary_email(assure_req_t *q, ca_tmpl_ctx_t *ctx, const char *var,
                                  apr_pool_t *p)
{
    apr_array_header_t *emails;
    apr_status_t rv;
    int i;

    if ((rv = ca_account_emails(&emails, q->pg->db, q->member_id, p)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < emails->nelts; i++) {
        const ca_email_t *e = &APR_ARRAY_IDX(emails, i, ca_email_t);
        if (e->primary) {
            ca_tmpl_set(ctx, var, e->address);
        }
    }
    return APR_SUCCESS;
}

const char *assure_today(apr_pool_t *p)
{
    return ca_wot_date_of(apr_time_now(), p);
}

const char *assure_latest_date(apr_pool_t *p)
{
    return ca_wot_latest_date(apr_time_now(), p);
}

int assure_max_award(const assure_req_t *q)
{
    ca_points_rules_t rules;

    assure_points_rules(&rules, q->cfg);
    return ca_points_max_award(q->is_assurer, ca_points_experience(q->standing.given),
                               q->junior, &rules);
}

void assure_standing_vars(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    const ca_standing_t *s = &q->standing;
    int exp = ca_points_experience(s->given);

    ca_tmpl_setf(ctx, "received", "%d", s->received);
    ca_tmpl_setf(ctx, "received_counted", "%d", ca_points_received(s->received));
    ca_tmpl_setf(ctx, "experience", "%d", exp);
    ca_tmpl_setf(ctx, "total", "%d", ca_points_total(s));
    ca_tmpl_setf(ctx, "assurers", "%d", s->assurers);
    ca_tmpl_setf(ctx, "given", "%d", s->given);
    if (ca_is_assured(s)) {
        ca_tmpl_set(ctx, "assured", "1");
    }
    if (s->challenge) {
        ca_tmpl_set(ctx, "challenge", "1");
    }
    if (q->is_assurer) {
        int next = ca_points_experience_to_next(exp);
        ca_tmpl_setf(ctx, "max_award", "%d", assure_max_award(q));
        if (next && !q->junior) {
            ca_tmpl_setf(ctx, "exp_next", "%d", next);
            ca_tmpl_setf(ctx, "assurances_next", "%d",
                         (next + CA_POINTS_EXP_PER_ASSURANCE - 1) / CA_POINTS_EXP_PER_ASSURANCE);
            ca_tmpl_setf(ctx, "award_next", "%d", assure_max_award(q) + 5);
        }
        if (q->junior) {
            ca_tmpl_set(ctx, "junior", "1");
        }
    }
    else if (s->received >= CA_POINTS_ASSURER && !s->challenge) {
        ca_tmpl_set(ctx, "needs_challenge", "1");
    }
}

/* ---- the routes and the one authorisation check ---- */

static const cacert_route_t *const route_tables[] = {
    assure_wot_routes, assure_entry_routes, assure_console_routes, assure_org_routes, NULL
};

/* the client certificate of the request is the configured import client */
static int import_client_ok(request_rec *r, const assure_cfg_t *c)
{
    const char *verify, *pem;

    if (!ssl_lookup) {
        return 0;
    }
    verify = ssl_lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_VERIFY");
    pem = ssl_lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_CERT");
    /* pinned by fingerprint: mod_ssl's chain check (SUCCESS) or none
     * (GENEROUS, with SSLVerifyClient optional_no_ca) */
    if (!verify || (strcmp(verify, "SUCCESS") && strcmp(verify, "GENEROUS"))) {
        return 0;
    }
    return assure_is_import_client(c, pem, r->pool);
}

/* a refusal: 403 and the page that says so */
static int forbidden(assure_req_t *q, const cacert_route_t *rt)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA40002: %s /%s refused to %s", q->r->method, rt->path,
                  q->member_id ? apr_pstrcat(q->r->pool, "member ", q->member_id, NULL)
                               : "a visitor");
    return assure_message(q, "title.forbidden", "err.forbidden", HTTP_FORBIDDEN);
}

/* the route's access class admits the request's member */
static int admitted(const assure_req_t *q, const cacert_route_t *rt)
{
    switch (rt->access) {
    case ASSURE_ANON:
        return 1;
    case ASSURE_MEMBER:
        return q->member_id != NULL;
    case ASSURE_ASSURER:
        return q->member_id && q->is_assurer;
    case ASSURE_ROLE:
        return q->member_id && rt->roles && assure_has_role(q, rt->roles);
    default:
        return 0;
    }
}

static int assure_handler(request_rec *r)
{
    const cacert_route_t *rt;
    const char *slash;
    assure_req_t *q;
    apr_status_t rv;
    int rc;

    if (!r->handler || strcmp(r->handler, HANDLER_NAME)) {
        return DECLINED;
    }
    if (!api.start) {
        retrieve_fns();
    }
    if (!api.start) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CA40003: mod_cacert_assure needs mod_cacert_account");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    slash = strrchr(r->uri, '/');
    if (!slash) {
        return DECLINED;
    }
    rt = cacert_route_find(route_tables, slash + 1);
    if (rt && (rc = cacert_route_method(r, rt)) != OK) {
        return rc;
    }
    q = apr_pcalloc(r->pool, sizeof(*q));
    q->r = r;
    q->cfg = ap_get_module_config(r->server->module_config, &cacert_assure_module);

    if (rt && rt->access == ASSURE_CLIENT) {
        /* a machine, not a browser: no session, no CSRF token, plain text */
        if (!import_client_ok(r, q->cfg)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "CA40004: /%s without the configured client certificate",
                          rt->path);
            return HTTP_FORBIDDEN;
        }
        return rt->fn(q);
    }

    rc = api.start(&q->pg, r, rt ? rt->login : -1, rt ? rt->text_fields : NULL);
    if (rc != OK) {
        return rc;
    }
    if (!rt) {
        return assure_message(q, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
    }
    if (q->pg->sess) {
        q->member_id = q->pg->sess->member_id;
        q->roles = q->pg->sess->roles;
        if ((!q->pg->sess->read
             && (rv = ca_roles_of(&q->roles, q->pg->db, q->member_id, r->pool)) != APR_SUCCESS)
            || (rv = ca_account_standing(&q->standing, q->pg->db, q->member_id, r->pool))
            != APR_SUCCESS) {
            return assure_internal_error(q, rv, "member standing");
        }
        q->is_assurer = ca_is_assurer(&q->standing);
        q->junior = ca_points_junior(q->pg->sess->dob, assure_today(r->pool));
    }
    if (!admitted(q, rt)) {
        return forbidden(q, rt);
    }
    return rt->fn(q);
}

static int assure_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *s)
{
    cacert_log_to(s);
    retrieve_fns();
    if (!api.start) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CA40005: mod_cacert_assure needs mod_cacert_account (load it first)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void assure_child_init(apr_pool_t *pchild, server_rec *s)
{
    assure_wot_child_init(pchild);
}

/* the statements of the tables this module uses, for mod_dbd */
static const ca_stmt_t *const assure_stmts[] = {
    ca_account_stmts, ca_console_stmts, ca_domain_stmts, ca_issue_stmts, ca_org_stmts,
    ca_roles_stmts, ca_wot_stmts, NULL
};

static void register_hooks(apr_pool_t *p)
{
    cacert_hook_module(assure_stmts, assure_post_config, assure_child_init, assure_handler);
}

CACERT_MODULE(cacert_assure_module, assure_);
