/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_issue: ACME (RFC 8555; docs/acme.md).  The protocol is in the
 * core (src/ca_acme.c); here are the request read and the answer written,
 * the core's settings from the directives, and the member's ACME page
 * (/certs/acme): binding credentials, the bound accounts, deactivation. */
#include <string.h>

#include <apr_strings.h>
#include <apr_uri.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include "ca_acme.h"
#include "issue_private.h"

APLOG_USE_MODULE(cacert_issue);

const char *iss_acme_check(iss_srv_cfg *c, apr_pool_t *p)
{
    apr_uri_t u;
    size_t n;

    if (!c->acme_base || c->acme_path) {
        return NULL;
    }
    if (apr_uri_parse(p, c->acme_base, &u) != APR_SUCCESS || !u.scheme || !u.hostname
        || (strcasecmp(u.scheme, "https") && strcasecmp(u.scheme, "http")) || u.query
        || u.fragment) {
        return apr_pstrcat(p, "CAcertACME: not an http(s) URL: ", c->acme_base, NULL);
    }
    c->acme_path = apr_pstrdup(p, u.path ? u.path : "");
    n = strlen(c->acme_path);
    while (n && c->acme_path[n - 1] == '/') {
        ((char *)c->acme_path)[--n] = '\0';
    }
    n = strlen(c->acme_base);
    while (n && c->acme_base[n - 1] == '/') {
        c->acme_base = apr_pstrmemdup(p, c->acme_base, --n);
    }
    return NULL;
}

/* ---- the core's settings ---- */

typedef struct {
    server_rec *s;
    iss_srv_cfg *c;
    APR_OPTIONAL_FN_TYPE(cacert_domain_probe) *probe;
    APR_OPTIONAL_FN_TYPE(cacert_msg_text) *text;
} acme_host_t;

static const char *chain_of(const char *root, void *baton)
{
    acme_host_t *h = baton;
    issuer_t *is = iss_find_issuer(h->c, root);

    return is ? is->pem : NULL;
}

static const char *text_of(const char *key, void *baton)
{
    acme_host_t *h = baton;

    return h->text ? h->text(h->s, key) : NULL;
}

static apr_status_t probe_of(ca_probe_result_t *res, int dns, const char *owner,
                             const char *path, const char *expect, void *baton, apr_pool_t *p)
{
    acme_host_t *h = baton;

    return h->probe(h->s, res, dns, owner, path, expect, ISS_CFG(h->c, acme_http01_port), p);
}

static void acme_cfg(ca_acme_cfg_t *ac, ca_submit_cfg_t *sc, acme_host_t *h, request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(cacert_domain_limits) *limits =
        APR_RETRIEVE_OPTIONAL_FN(cacert_domain_limits);
    iss_srv_cfg *c = iss_cfg_of(r->server);

    memset(ac, 0, sizeof(*ac));
    h->s = r->server;
    h->c = c;
    h->probe = APR_RETRIEVE_OPTIONAL_FN(cacert_domain_probe);
    h->text = APR_RETRIEVE_OPTIONAL_FN(cacert_msg_text);
    *sc = iss_submit_cfg(c, r->server);
    ac->base = c->acme_base;
    ac->website = c->acme_website;
    ac->nonce_lifetime = ISS_CFG(c, acme_nonce_lifetime);
    ac->order_lifetime = ISS_CFG(c, acme_order_lifetime);
    ac->window = ISS_CFG(c, acme_window);
    ac->orders_per_account = ISS_CFG(c, acme_orders_account);
    ac->orders_per_member = ISS_CFG(c, acme_orders_member);
    ac->failed_per_account = ISS_CFG(c, acme_failed_account);
    ac->failed_per_member = ISS_CFG(c, acme_failed_member);
    ac->max_body = (apr_size_t)ISS_CFG(c, acme_max_body);
    ac->submit = sc;
    ac->chain = chain_of;
    ac->chain_baton = h;
    ac->text = text_of;
    ac->text_baton = h;
    if (h->probe) {
        ac->probe = probe_of;
        ac->probe_baton = h;
    }
    if (limits) {
        limits(r->server, &ac->probe_per_account, &ac->probe_per_domain, &ac->probe_window);
    }
}

/* ---- the protocol ---- */

static int answer(request_rec *r, const ca_acme_resp_t *resp, const char *base)
{
    apr_table_add(r->headers_out, "Link",
                  apr_pstrcat(r->pool, "<", base, "/directory>;rel=\"index\"", NULL));
    if (resp->link) {
        apr_table_add(r->headers_out, "Link", resp->link);
    }
    if (resp->nonce) {
        apr_table_set(r->headers_out, "Replay-Nonce", resp->nonce);
    }
    if (resp->location) {
        apr_table_set(r->headers_out, "Location", resp->location);
    }
    if (resp->retry_after) {
        apr_table_set(r->headers_out, "Retry-After", apr_itoa(r->pool, resp->retry_after));
    }
    apr_table_set(r->headers_out, "Cache-Control", resp->no_store ? "no-store" : "public, max-age=0");
    apr_table_set(r->headers_out, "X-Content-Type-Options", "nosniff");
    r->status = resp->status;
    if (!resp->content_type) {
        return OK;
    }
    ap_set_content_type(r, resp->content_type);
    ap_set_content_length(r, (apr_off_t)resp->len);
    if (r->header_only) {
        return OK;
    }
    ap_rwrite(resp->body, (int)resp->len, r);
    return OK;
}

int iss_acme_handler(request_rec *r)
{
    iss_srv_cfg *c = iss_cfg_of(r->server);
    ca_acme_resp_t resp;
    ca_submit_cfg_t sc;
    ca_acme_cfg_t ac;
    acme_host_t h;
    ca_db_t db;
    const char *path;
    char *body = NULL;
    apr_size_t len = 0, n;
    apr_status_t rv;
    int rc;

    if (!c->acme_base || !c->acme_path) {
        return HTTP_NOT_FOUND;
    }
    n = strlen(c->acme_path);
    if (strncmp(r->uri, c->acme_path, n) || r->uri[n] != '/' || r->args) {
        return HTTP_NOT_FOUND;
    }
    path = r->uri + n;
    acme_cfg(&ac, &sc, &h, r);
    if (r->method_number == M_POST) {
        rc = cacert_read_body(&body, &len, r, ac.max_body);
        if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
            body = NULL;                /* not read: the core answers with its problem */
            len = ac.max_body + 1;
        }
        else if (rc != OK) {
            return rc;
        }
    }
    if ((rv = cacert_db_acquire(&db, r)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "CA21301: ACME: no database connection");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    rv = ca_acme_handle(&resp, &db, &ac, r->method_number == M_GET && r->header_only ? "HEAD"
                                       : r->method, path,
                        apr_table_get(r->headers_in, "Content-Type"), body, len, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "CA21302: ACME %s %s failed", r->method,
                      path);
    }
    return answer(r, &resp, c->acme_base);
}

/* ---- the member's ACME page ---- */

static const cacert_page_api_t *page_api(void)
{
    static cacert_page_api_t api;

    if (!api.render) {
        cacert_page_api(&api);
    }
    return &api;
}

static const cacert_var_t account_vars[] = {
    CACERT_VAR(STR, ca_acme_account_t, id),
    CACERT_VAR(STR, ca_acme_account_t, thumbprint),
    CACERT_VAR(STR, ca_acme_account_t, contact),
    CACERT_VAR(STR, ca_acme_account_t, status),
    CACERT_VAR(STR, ca_acme_account_t, created),
    CACERT_VAR(STR, ca_acme_account_t, kid),
    CACERT_VAR(INT, ca_acme_account_t, orders),
    CACERT_VAR(FLAG, ca_acme_account_t, is_valid),
    { NULL }
};

static const cacert_var_t cred_vars[] = {
    CACERT_VAR(STR, ca_acme_eab_t, kid),
    CACERT_VAR(STR, ca_acme_eab_t, created),
    CACERT_VAR(STR, ca_acme_eab_t, expires),
    CACERT_VAR(FLAG, ca_acme_eab_t, expired),
    { NULL }
};

static int page_error(iss_req_t *q, apr_status_t rv, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r, "CA21303: ACME page: %s failed", what);
    return page_api()->message(q->pg, "title.acme", "err.internal", HTTP_INTERNAL_SERVER_ERROR);
}

/* rows a page of the member's ACME accounts */
#define ACME_PAGE 200

int iss_acme_page(iss_req_t *q)
{
    const char *member = q->pg->sess->member_id, *kid = NULL, *hmac = NULL;
    apr_array_header_t *accounts, *creds;
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    apr_status_t rv;

    if (!q->cfg->acme_base) {
        return page_api()->message(q->pg, "title.acme", "acme.off", HTTP_NOT_FOUND);
    }
    if (q->r->method_number == M_POST) {
        rv = ca_acme_eab_create(&kid, &hmac, q->pg->db, member, ISS_CFG(q->cfg, acme_eab_lifetime),
                                q->r->pool);
        if (rv != APR_SUCCESS) {
            return page_error(q, rv, "new credentials");
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA21304: member %s creates ACME binding credentials %s", member, kid);
        ca_tmpl_set(ctx, "new_kid", kid);
        ca_tmpl_set(ctx, "new_hmac", hmac);
    }
    if ((rv = ca_acme_accounts(&accounts, &creds, q->pg->db, member, q->r->pool))
        != APR_SUCCESS) {
        return page_error(q, rv, "account list");
    }
    ca_tmpl_set(ctx, "directory", apr_pstrcat(q->r->pool, q->cfg->acme_base, "/directory", NULL));
    /* scripted set-ups that register a new account each run pile them up:
     * a page at a time (a row with its form is about 550 bytes; the
     * templates stop at 1 MiB) */
    if (cacert_tmpl_items_page(ctx, "accounts", accounts, account_vars, "account_pager", "?p=",
                               cacert_query_arg(q->r, "p"), ACME_PAGE, q->r->pool) != 0) {
        return page_api()->message(q->pg, "title.acme", "err.nopage", HTTP_NOT_FOUND);
    }
    cacert_tmpl_items(ctx, "creds", creds, cred_vars);
    return page_api()->render(q->pg, "acme.html", HTTP_OK);
}

int iss_acme_page_deactivate(iss_req_t *q)
{
    const char *id = cacert_field(q->pg, "id");
    apr_status_t rv = ca_acme_deactivate(q->pg->db, q->pg->sess->member_id, id, q->r->pool);

    if (rv == APR_NOTFOUND) {
        return page_api()->message(q->pg, "title.acme", "acme.account.gone", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return page_error(q, rv, "deactivation");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA21305: member %s deactivates ACME account %s", q->pg->sess->member_id, id);
    return cacert_redirect(q->r, q->pg->base, "acme");
}

void iss_acme_cleanup(server_rec *s, ca_db_t *db, apr_pool_t *p)
{
    apr_status_t rv;
    int n = 0;

    if (!iss_cfg_of(s)->acme_base) {
        return;
    }
    if ((rv = ca_acme_cleanup(&n, db, p)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "CA21306: ACME clean-up failed");
    }
    else if (n) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "CA21307: ACME clean-up: %d rows", n);
    }
}
