/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_issue's pages at /certs: the request form, the waiting page,
 * the member's certificates (list, view, download, revoke, renew, edit),
 * organisation certificates; OpenPGP's are in issue_openpgp.c.  Each
 * request for a certificate is one call of the core (ca_issue_submit). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include <openssl/x509.h>

#include "ca_account.h"
#include "ca_form.h"
#include "ca_issue.h"
#include "ca_log.h"
#include "ca_multipart.h"
#include "ca_org.h"
#include "ca_policy.h"
#include "ca_tmpl.h"
#include "ca_valid.h"
#include "ca_x509.h"
#include "issue_private.h"

APLOG_USE_MODULE(cacert_issue);

static APR_OPTIONAL_FN_TYPE(cacert_page_start) *page_start;
static APR_OPTIONAL_FN_TYPE(cacert_page_render) *page_render;
static APR_OPTIONAL_FN_TYPE(cacert_page_message) *page_message;
static APR_OPTIONAL_FN_TYPE(cacert_page_set_msg) *page_set_msg;

static void retrieve_fns(void)
{
    page_start = APR_RETRIEVE_OPTIONAL_FN(cacert_page_start);
    page_render = APR_RETRIEVE_OPTIONAL_FN(cacert_page_render);
    page_message = APR_RETRIEVE_OPTIONAL_FN(cacert_page_message);
    page_set_msg = APR_RETRIEVE_OPTIONAL_FN(cacert_page_set_msg);
}

static int redirect(iss_req_t *q, const char *where)
{
    return cacert_redirect(q->r, q->pg->base, where);
}

static int internal_error(iss_req_t *q, apr_status_t rv, const char *what)
{
    return cacert_internal_error(q->pg, "CA21201", rv, what);
}

static ca_submit_cfg_t submit_cfg(iss_req_t *q)
{
    return iss_submit_cfg(q->cfg, q->r->server);
}

/* the options the member is entitled to, and why others are not */
static apr_status_t offer(iss_req_t *q)
{
    static const ca_profile_t profiles[] = { CA_PROFILE_CLIENT, CA_PROFILE_SERVER,
                                             CA_PROFILE_CODESIGN };
    ca_submit_cfg_t sc = submit_cfg(q);
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    apr_pool_t *p = q->r->pool;
    ca_member_facts_t facts;
    ca_standing_t st;
    ca_grant_t sg;
    apr_status_t rv;
    const char *chosen = cacert_field(q->pg, "profile");
    int i;

    /* the domains listed are those verified enough for server
     * certificates under the root the member would get them from */
    if ((rv = ca_account_standing(&st, q->pg->db, q->pg->sess->member_id, p)) != APR_SUCCESS) {
        return rv;
    }
    ca_policy_grant(&sg, &st, CA_PROFILE_SERVER, &sc.policy);
    if ((rv = ca_issue_facts_for(&facts, q->pg->db, q->pg->sess->member_id, sg.ca, sc.domains,
                                 p)) != APR_SUCCESS) {
        return rv;
    }
    ca_tmpl_setf(ctx, "points", "%d", ca_points_total(&st));
    for (i = 0; i < 3; i++) {
        ca_grant_t g;
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "profiles");
        const char *name = ca_profile_name(profiles[i]);
        ca_policy_grant(&g, &st, profiles[i], &sc.policy);
        ca_tmpl_set(item, "value", name);
        page_set_msg(q->pg, "label", apr_pstrcat(p, "profile.", name, NULL));
        ca_tmpl_set(item, "label", ca_tmpl_get(ctx, "label"));
        if (g.ca) {
            ca_tmpl_set(item, "allowed", "1");
            ca_tmpl_setf(item, "days", "%d", g.days);
            ca_tmpl_set(item, "ca", g.ca);
            if (g.may_name) ca_tmpl_set(item, "may_name", "1");
            if (g.may_wildcard) ca_tmpl_set(item, "may_wildcard", "1");
            if (g.may_multi) ca_tmpl_set(item, "may_multi", "1");
            if (!strcmp(chosen, name) || (!*chosen && i == 0)) {
                ca_tmpl_set(item, "checked", "1");
            }
        }
        else {
            page_set_msg(q->pg, "why", g.refusal);
            ca_tmpl_set(item, "why", ca_tmpl_get(ctx, "why"));
        }
    }
    ca_tmpl_set(ctx, "label", NULL);
    ca_tmpl_set(ctx, "why", NULL);
    for (i = 0; i < facts.emails->nelts; i++) {
        const char *e = APR_ARRAY_IDX(facts.emails, i, const char *);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "emails");
        ca_tmpl_set(item, "address", e);
        ca_tmpl_setf(item, "n", "%d", i);
        if (q->pg->form ? *cacert_field(q->pg, apr_psprintf(p, "email%d", i)) != '\0' : i == 0) {
            ca_tmpl_set(item, "checked", "1");
        }
    }
    for (i = 0; i < facts.domains->nelts; i++) {
        ca_tmpl_set(ca_tmpl_add_item(ctx, "domains"), "name",
                    APR_ARRAY_IDX(facts.domains, i, const char *));
    }
    return APR_SUCCESS;
}

/* the addresses ticked in the form: "email<N>" fields, N the place of the
 * address in the member's list (primary first) */
static apr_array_header_t *picked(iss_req_t *q)
{
    const apr_array_header_t *arr = apr_table_elts(q->pg->form);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *picks = apr_array_make(q->r->pool, 4, sizeof(int));
    int i;

    for (i = 0; i < arr->nelts; i++) {
        const char *k = e[i].key;
        if (!strncmp(k, "email", 5) && k[5] && strlen(k) <= 8
            && strspn(k + 5, "0123456789") == strlen(k + 5) && e[i].val && *e[i].val) {
            APR_ARRAY_PUSH(picks, int) = atoi(k + 5);
        }
    }
    return picks;
}

/* host names as typed: separated by spaces or commas, lowercase */
static apr_array_header_t *host_list(const char *text, apr_pool_t *p)
{
    apr_array_header_t *hosts = apr_array_make(p, 4, sizeof(const char *));
    char *list = apr_pstrdup(p, text), *tok, *last, *c;

    for (tok = apr_strtok(list, " ,", &last); tok; tok = apr_strtok(NULL, " ,", &last)) {
        for (c = tok; *c; c++) {
            *c = (char)apr_tolower(*c);
        }
        APR_ARRAY_PUSH(hosts, const char *) = tok;
    }
    return hosts;
}

/* the in-browser key page is on when its script and integrity value were
 * read at start-up (CAcertBrowserKeys); its variables for the templates */
static int browser_keys_on(iss_req_t *q)
{
    return q->cfg->bk_sri != NULL;
}

static void browser_keys_vars(iss_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;

    if (browser_keys_on(q)) {
        ca_tmpl_set(ctx, "browser_keys", "1");
        ca_tmpl_set(ctx, "bk_url", q->cfg->bk_url);
        ca_tmpl_set(ctx, "bk_sri", q->cfg->bk_sri);
    }
    if (q->cfg->help_url) {
        ca_tmpl_set(ctx, "help", q->cfg->help_url);
    }
}

/* the request form: what was typed goes back into it, the core decides
 * and queues in one call, a refusal is shown beside its field.  browser 1:
 * the in-browser key page (certs_key.html, the script makes the key and
 * puts its request into the same "csr" field); the waiting page then goes
 * on to that page's PKCS#12 step instead of the certificate's page */
static int request_form(iss_req_t *q, int browser)
{
    const char *tmpl = browser ? "certs_key.html" : "certs_new.html";
    apr_pool_t *p = q->r->pool;
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    ca_submit_cfg_t sc = submit_cfg(q);
    ca_submit_t ask;
    ca_refusal_t refusal;
    const char *req_id, *md;
    apr_status_t rv;
    int i;

    if (q->r->method_number == M_GET) {
        if ((rv = offer(q)) != APR_SUCCESS) {
            return internal_error(q, rv, "certificate offer");
        }
        ca_tmpl_set(ctx, "md_sha256", "1");
        return page_render(q->pg, tmpl, HTTP_OK);
    }
    memset(&ask, 0, sizeof(ask));
    /* what the decoder refused, beside its field */
    {
        const apr_array_header_t *arr = apr_table_elts(q->pg->form_errors);
        const apr_table_entry_t *te = (const apr_table_entry_t *)arr->elts;
        for (i = 0; i < arr->nelts; i++) {
            page_set_msg(q->pg, apr_pstrcat(p, "err_", te[i].key, NULL), te[i].val);
            ca_tmpl_set(ctx, "has_errors", "1");
        }
    }
    ask.csr = cacert_field(q->pg, "csr");
    ask.csr_len = strlen(ask.csr);
    ca_tmpl_set(ctx, "v_csr", ask.csr);
    /* an uploaded file (PEM or DER) instead of pasted text */
    for (i = 0; q->pg->files && i < q->pg->files->nelts; i++) {
        ca_file_part_t *f = &APR_ARRAY_IDX(q->pg->files, i, ca_file_part_t);
        if (!strcmp(f->name, "csr_file")) {
            if (ask.csr_len) {
                page_set_msg(q->pg, "err_csr", "csr.both");
                ca_tmpl_set(ctx, "has_errors", "1");
            }
            ask.csr = (const char *)f->data;
            ask.csr_len = f->len;
        }
    }
    ca_tmpl_set(ctx, "v_hosts", cacert_field(q->pg, "hosts"));
    ca_tmpl_set(ctx, "v_description", cacert_field(q->pg, "description"));
    md = *cacert_field(q->pg, "md") ? cacert_field(q->pg, "md") : "sha256";
    if (ca_policy_md_ok(md)) {
        ca_tmpl_set(ctx, apr_pstrcat(p, "md_", md, NULL), "1");
    }
    ask.use_name = !strcmp(cacert_field(q->pg, "use_name"), "yes");
    if (ask.use_name) {
        ca_tmpl_set(ctx, "v_use_name", "1");
    }
    if (ca_tmpl_get(ctx, "has_errors")) {
        goto refuse;
    }
    ask.kind = CA_SUBMIT_NEW;
    ask.profile = ca_profile_from_name(cacert_field(q->pg, "profile"));
    ask.md = md;
    ask.picks = picked(q);
    ask.hosts = host_list(cacert_field(q->pg, "hosts"), p);
    ask.description = cacert_field(q->pg, "description");
    rv = ca_issue_submit(&req_id, &refusal, q->pg->db, q->pg->sess->member_id, &ask, &sc, p);
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "certificate request");
    }
    if (req_id) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA21202: member %s asked for a %s certificate (request %s)",
                      q->pg->sess->member_id, ca_profile_name(ask.profile), req_id);
        return redirect(q, apr_pstrcat(p, "wait?id=", req_id, browser ? "&key=1" : "", NULL));
    }
    page_set_msg(q->pg, apr_pstrcat(p, "err_", refusal.field ? refusal.field : "profile",
                                    NULL), refusal.key);
    if (refusal.domain_id) {
        ca_tmpl_set(ctx, "more_checks_id", refusal.domain_id);
        ca_tmpl_set(ctx, "more_checks_name", refusal.domain_name);
    }

refuse:
    if ((rv = offer(q)) != APR_SUCCESS) {
        return internal_error(q, rv, "certificate offer");
    }
    page_set_msg(q->pg, "error_summary", "err.form");
    return page_render(q->pg, tmpl, HTTP_UNPROCESSABLE_ENTITY);
}

static int page_new(iss_req_t *q)
{
    browser_keys_vars(q);
    return request_form(q, 0);
}

/* the waiting page: holds until the certificate is there (or a while) */
static int page_wait(iss_req_t *q)
{
    const char *id = cacert_query_arg(q->r, "id");
    apr_time_t end = ca_mono_now() + ISS_CFG(q->cfg, wait);
    apr_uint64_t gen = iss_wait_mark();
    ca_request_t *req;
    apr_status_t rv;

    for (;;) {
        rv = ca_issue_request(&req, q->pg->db, id, q->pg->sess->member_id, q->r->pool);
        if (rv == APR_NOTFOUND) {
            return page_message(q->pg, "title.certs", "err.certs.norequest", HTTP_NOT_FOUND);
        }
        if (rv != APR_SUCCESS) {
            return internal_error(q, rv, "request state");
        }
        if (!strcmp(req->state, "done") && req->cert_id) {
            return redirect(q, apr_pstrcat(q->r->pool,
                                           cacert_query_arg(q->r, "key") && browser_keys_on(q)
                                           ? "key?id=" : "view?id=", req->cert_id, NULL));
        }
        if (!strcmp(req->state, "quarantined") || !strcmp(req->state, "refused")) {
            return page_message(q->pg, "title.certs", "err.certs.refused", HTTP_OK);
        }
        if (ca_mono_now() >= end || q->r->connection->aborted) {
            break;
        }
        /* woken when the database announces the end of this request (or
         * after a second at most), never polled */
        iss_wait_for(&gen, req->id, end);
    }
    ca_tmpl_set(q->pg->ctx, "v_id", req->id);
    if (cacert_query_arg(q->r, "key")) {
        ca_tmpl_set(q->pg->ctx, "v_key", "1");
    }
    page_set_msg(q->pg, "progress", !strcmp(req->state, "sent") ? "certs.progress.sent"
                                                                : "certs.progress.queued");
    apr_table_setn(q->r->headers_out, "Refresh", "2");
    return page_render(q->pg, "certs_wait.html", HTTP_OK);
}

/* what a failure on one of the member's certificates shows: not theirs
 * (or no such), revoked already, a description too long, or our error */
static int cert_failed(iss_req_t *q, apr_status_t rv, const char *what)
{
    if (rv == APR_NOTFOUND) {
        return page_message(q->pg, "title.certs", "err.certs.nocert", HTTP_NOT_FOUND);
    }
    if (rv == APR_EEXIST) {
        return page_message(q->pg, "title.certs", "err.certs.revoked", HTTP_CONFLICT);
    }
    if (rv == APR_EINVAL) {
        return page_message(q->pg, "title.certs", "field.toolong", HTTP_UNPROCESSABLE_ENTITY);
    }
    return internal_error(q, rv, what);
}

#define CERT(f) CACERT_VAR(STR, ca_cert_t, f)
static const cacert_var_t cert_fields[] = {
    CERT(id), CERT(ca), CERT(profile), CERT(serial), CERT(subject), CERT(sans), CERT(md),
    CERT(not_before), CERT(not_after), CERT(revoked_at), CERT(description), CERT(status),
    { NULL }
};
#undef CERT

/* a row of the list (certs.html): only what it shows, the strings not
 * copied (they are the kept list's, held by the request); every name
 * the row's template asks for is set, so none is looked up in the page */
#define CERT(f) CACERT_VAR(STR, ca_cert_t, f)
static const cacert_var_t cert_row_fields[] = {
    CERT(id), CERT(profile), CERT(subject), CERT(sans), CERT(not_after), CERT(description),
    { NULL }
};
#undef CERT

static void cert_row_vars(ca_tmpl_ctx_t *ctx, const ca_cert_t *c)
{
    static const char *const flags[] = { "is_active", "is_revoked", "is_revoking",
                                         "is_expired", NULL };
    int i;

    cacert_tmpl_vars_ref(ctx, c, cert_row_fields);
    for (i = 0; flags[i]; i++) {
        ca_tmpl_set_ref(ctx, flags[i], !strcmp(c->status, flags[i] + 3) ? "1" : "");
    }
}

static void cert_vars(ca_tmpl_ctx_t *ctx, const ca_cert_t *c)
{
    cacert_tmpl_vars(ctx, c, cert_fields);
    ca_tmpl_set_static(ctx, "is_active", !strcmp(c->status, "active") ? "1" : NULL);
    ca_tmpl_set_static(ctx, "is_revoked", !strcmp(c->status, "revoked") ? "1" : NULL);
    ca_tmpl_set_static(ctx, "is_revoking", !strcmp(c->status, "revoking") ? "1" : NULL);
    ca_tmpl_set_static(ctx, "is_expired", !strcmp(c->status, "expired") ? "1" : NULL);
}

/* the certificate lists this child read last (ca_listcache) */
static ca_listcache_t *certs_cache;

void iss_pages_child_init(apr_pool_t *pchild)
{
    ca_listcache_make(&certs_cache, CACERT_LIST_CACHE, pchild);
    iss_pki_child_init(pchild);
}

/* The list shows this many certificates a page, newest first (?p=2 for
 * the next): a member with thousands (renewed by ACME, say) still gets
 * the page, under the templates' 1 MiB output limit (about 4,900 rows). */
#define CERTS_PAGE 500

static int page_list(iss_req_t *q)
{
    apr_array_header_t *certs;
    apr_status_t rv;
    int i, first, last;

    rv = ca_issue_certs(&certs, certs_cache, q->pg->db, q->pg->sess->member_id,
                        q->pg->sess->lists_v, q->r->pool);
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "certificate list");
    }
    if (cacert_list_page(&first, &last, q->pg->ctx, "certs_pager", "?p=",
                         cacert_query_arg(q->r, "p"), certs->nelts, CERTS_PAGE,
                         q->r->pool) != 0) {
        return page_message(q->pg, "title.certs", "err.nopage", HTTP_NOT_FOUND);
    }
    for (i = first; i < last; i++) {
        cert_row_vars(ca_tmpl_add_item(q->pg->ctx, "certlist"),
                      &APR_ARRAY_IDX(certs, i, ca_cert_t));
    }
    return page_render(q->pg, "certs.html", HTTP_OK);
}

static int page_view(iss_req_t *q)
{
    ca_cert_t *c;
    apr_status_t rv = ca_issue_cert(&c, q->pg->db, cacert_query_arg(q->r, "id"),
                                    q->pg->sess->member_id, q->r->pool);

    if (rv != APR_SUCCESS) {
        return cert_failed(q, rv, "certificate");
    }
    cert_vars(q->pg->ctx, c);
    if (cacert_query_arg(q->r, "revoking")) {
        page_set_msg(q->pg, "notice", "ok.certs.revoking");
    }
    if (cacert_query_arg(q->r, "saved")) {
        page_set_msg(q->pg, "notice", "ok.certs.saved");
    }
    if (c->login_disabled) {
        ca_tmpl_set(q->pg->ctx, "login_disabled", "1");
    }
    browser_keys_vars(q);
    return page_render(q->pg, "certs_view.html", HTTP_OK);
}

static int page_download(iss_req_t *q)
{
    apr_pool_t *p = q->r->pool;
    const char *fmt = cacert_query_arg(q->r, "fmt");
    ca_cert_t *c;
    issuer_t *is;
    const char *body, *base;
    apr_status_t rv = ca_issue_cert(&c, q->pg->db, cacert_query_arg(q->r, "id"),
                                    q->pg->sess->member_id, p);

    if (rv != APR_SUCCESS) {
        return cert_failed(q, rv, "certificate");
    }
    base = apr_pstrcat(p, "cacert-", c->serial, NULL);
    if (fmt && !strcmp(fmt, "der")) {
        return cacert_send(q->r, "application/pkix-cert", apr_pstrcat(p, base, ".cer", NULL),
                         c->der, c->der_len);
    }
    body = iss_pem_of(c->der, c->der_len, "CERTIFICATE", p);
    if (fmt && !strcmp(fmt, "chain")) {
        body = iss_chain_pem(q->cfg, c, p);
        return cacert_send(q->r, "application/x-pem-file",
                         apr_pstrcat(p, base, "-chain.pem", NULL), body, strlen(body));
    }
    if (fmt && !strcmp(fmt, "p7")) {
        const unsigned char *p7;
        apr_size_t p7len;
        is = iss_find_issuer(q->cfg, c->ca);
        if (iss_pkcs7_of(&p7, &p7len, c, is, q->cfg->root, p) != APR_SUCCESS) {
            return internal_error(q, APR_EGENERAL, "PKCS#7");
        }
        return cacert_send(q->r, "application/x-pkcs7-certificates",
                         apr_pstrcat(p, base, ".p7b", NULL), p7, p7len);
    }
    if (fmt && strcmp(fmt, "pem")) {
        return page_message(q->pg, "title.certs", "err.notfound", HTTP_NOT_FOUND);
    }
    return cacert_send(q->r, "application/x-pem-file", apr_pstrcat(p, base, ".pem", NULL),
                     body, strlen(body));
}

/* /certs/key: the in-browser key page (docs/browser-keys.md).  Without
 * an id, the request form; with id=<certificate>, the PKCS#12 step: the
 * chain goes into the page, the script finds the key in the browser's
 * storage and assembles the PKCS#12 there.  The only page that runs a
 * script (script-src 'self', with Subresource Integrity). */
static int page_key(iss_req_t *q)
{
    const char *id = q->r->method_number == M_GET ? cacert_query_arg(q->r, "id") : NULL;
    ca_cert_t *c;
    apr_status_t rv;

    if (!browser_keys_on(q)) {
        return page_message(q->pg, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
    }
    browser_keys_vars(q);
    q->pg->scripts = 1;
    if (!id) {
        return request_form(q, 1);
    }
    if ((rv = ca_issue_cert(&c, q->pg->db, id, q->pg->sess->member_id, q->r->pool))
        != APR_SUCCESS) {
        q->pg->scripts = 0;
        return cert_failed(q, rv, "certificate");
    }
    cert_vars(q->pg->ctx, c);
    ca_tmpl_set(q->pg->ctx, "chain", iss_chain_pem(q->cfg, c, q->r->pool));
    return page_render(q->pg, "certs_p12.html", HTTP_OK);
}

static int page_revoke(iss_req_t *q)
{
    const char *id = cacert_field(q->pg, "id"), *req_id;
    apr_status_t rv;

    rv = ca_issue_enqueue_revoke(&req_id, q->pg->db, id, q->pg->sess->member_id, 0,
                                 q->pg->sess->member_id, q->r->pool);
    if (rv != APR_SUCCESS) {
        return cert_failed(q, rv, "revocation");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA21203: member %s revokes certificate %s (request %s)",
                  q->pg->sess->member_id, id, req_id);
    return redirect(q, apr_pstrcat(q->r->pool, "view?id=", id, "&revoking=1", NULL));
}

/* renewal: a new certificate from the same CSR, with the same names,
 * decided again by today's policy and proofs */
static int page_renew(iss_req_t *q)
{
    ca_submit_cfg_t sc = submit_cfg(q);
    ca_submit_t ask;
    ca_refusal_t refusal;
    const char *req_id;
    apr_status_t rv;

    memset(&ask, 0, sizeof(ask));
    ask.kind = CA_SUBMIT_RENEW;
    ask.cert_id = cacert_field(q->pg, "id");
    rv = ca_issue_submit(&req_id, &refusal, q->pg->db, q->pg->sess->member_id, &ask, &sc,
                         q->r->pool);
    if (rv != APR_SUCCESS) {
        return cert_failed(q, rv, "renewal");
    }
    if (!req_id) {
        return page_message(q->pg, "title.certs", refusal.key, HTTP_UNPROCESSABLE_ENTITY);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA21205: member %s renews certificate %s (request %s)",
                  q->pg->sess->member_id, ask.cert_id, req_id);
    return redirect(q, apr_pstrcat(q->r->pool, "wait?id=", req_id, NULL));
}

static int page_edit(iss_req_t *q)
{
    const char *id = cacert_field(q->pg, "id");
    apr_status_t rv;

    rv = apr_table_get(q->pg->form_errors, "description") ? APR_EINVAL
         : ca_issue_settings(q->pg->db, id, q->pg->sess->member_id,
                             cacert_field(q->pg, "description"),
                             !strcmp(cacert_field(q->pg, "login_disabled"), "yes"), q->r->pool);
    if (rv != APR_SUCCESS) {
        return cert_failed(q, rv, "certificate settings");
    }
    return redirect(q, apr_pstrcat(q->r->pool, "view?id=", id, "&saved=1", NULL));
}

/* ---- organisation certificates (docs/organisations.md) ---- */

static apr_array_header_t *word_list(const char *text, apr_pool_t *p)
{
    apr_array_header_t *list = apr_array_make(p, 4, sizeof(const char *));
    char *copy = apr_pstrdup(p, text), *tok, *last, *c;

    for (tok = apr_strtok(copy, " ,", &last); tok; tok = apr_strtok(NULL, " ,", &last)) {
        for (c = tok; *c && *c != '@'; c++) {
        }
        for (; *c; c++) {
            *c = (char)apr_tolower(*c);     /* host names, address domains */
        }
        if (!strchr(tok, '@')) {
            for (c = tok; *c; c++) {
                *c = (char)apr_tolower(*c);
            }
        }
        APR_ARRAY_PUSH(list, const char *) = tok;
    }
    return list;
}

/* the organisation page, with an O-Admin's rights checked */
static int org_render(iss_req_t *q, const char *org_id, const char *error, int status)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    ca_org_facts_t facts;
    apr_status_t rv;
    int admin = 0, master = 0, i;

    if ((rv = ca_org_admin_of(&admin, &master, q->pg->db, org_id, q->pg->sess->member_id,
                              q->r->pool)) != APR_SUCCESS) {
        return internal_error(q, rv, "O-Admin check");
    }
    if (!admin) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA45701: member %s is no O-Admin of organisation %s",
                      q->pg->sess->member_id, org_id ? org_id : "(none)");
        return page_message(q->pg, "title.certs_org", "err.org.notadmin", HTTP_FORBIDDEN);
    }
    if ((rv = ca_org_facts(&facts, q->pg->db, org_id, q->r->pool)) != APR_SUCCESS) {
        return internal_error(q, rv, "organisation");
    }
    ca_tmpl_set(ctx, "org_id", org_id);
    ca_tmpl_set(ctx, "org_name", facts.name);
    ca_tmpl_set(ctx, "org_town", facts.town);
    ca_tmpl_set(ctx, "org_state", facts.state);
    ca_tmpl_set(ctx, "org_country", facts.country);
    for (i = 0; i < facts.domains->nelts; i++) {
        ca_tmpl_set(ca_tmpl_add_item(ctx, "domains"), "name",
                    APR_ARRAY_IDX(facts.domains, i, const char *));
    }
    if (error) {
        page_set_msg(q->pg, "error", error);
    }
    return page_render(q->pg, "certs_org.html", status);
}

/* /certs/org?org=N: an O-Admin requests an organisation client or server
 * certificate under the Organisation SubRoot */
static int page_org(iss_req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    ca_submit_cfg_t sc = submit_cfg(q);
    const char *org_id = q->pg->form ? cacert_field(q->pg, "org") : cacert_query_arg(q->r, "org");
    const char *req_id;
    ca_submit_t ask;
    ca_refusal_t refusal;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        return org_render(q, org_id, NULL, HTTP_OK);
    }
    ca_tmpl_set(ctx, "v_csr", cacert_field(q->pg, "csr"));
    ca_tmpl_set(ctx, "v_unit", cacert_field(q->pg, "unit"));
    ca_tmpl_set(ctx, "v_cn", cacert_field(q->pg, "cn"));
    ca_tmpl_set(ctx, "v_emails", cacert_field(q->pg, "emails"));
    ca_tmpl_set(ctx, "v_hosts", cacert_field(q->pg, "hosts"));
    if (apr_table_elts(q->pg->form_errors)->nelts) {
        return org_render(q, org_id, "form.malformed", HTTP_UNPROCESSABLE_ENTITY);
    }
    memset(&ask, 0, sizeof(ask));
    ask.kind = CA_SUBMIT_ORG;
    ask.org_id = org_id;
    ask.profile = ca_profile_from_name(cacert_field(q->pg, "profile"));
    ask.unit = cacert_field(q->pg, "unit");
    ask.cn = cacert_field(q->pg, "cn");
    ask.emails = word_list(cacert_field(q->pg, "emails"), p);
    ask.hosts = word_list(cacert_field(q->pg, "hosts"), p);
    ask.md = cacert_field(q->pg, "md");
    ask.csr = cacert_field(q->pg, "csr");
    ask.csr_len = strlen(ask.csr);
    rv = ca_issue_submit(&req_id, &refusal, q->pg->db, q->pg->sess->member_id, &ask, &sc, p);
    if (rv == APR_EACCES) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA45701: member %s is no O-Admin of organisation %s",
                      q->pg->sess->member_id, org_id ? org_id : "(none)");
        return page_message(q->pg, "title.certs_org", "err.org.notadmin", HTTP_FORBIDDEN);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "organisation certificate request");
    }
    if (!req_id) {
        return org_render(q, org_id, refusal.key, HTTP_UNPROCESSABLE_ENTITY);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA45702: member %s asked for an %s certificate of organisation %s"
                  " (request %s)", q->pg->sess->member_id, ca_profile_name(ask.profile),
                  org_id, req_id);
    return redirect(q, apr_pstrcat(p, "wait?id=", req_id, NULL));
}

/* OpenPGP key signing: the pages are in issue_openpgp.c */
static int pgp_off(iss_req_t *q)
{
    return page_message(q->pg, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
}
static int page_pgp_list(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_list(q->pg, &q->cfg->pgp) : pgp_off(q);
}
static int page_pgp_key(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_key(q->pg, &q->cfg->pgp) : pgp_off(q);
}
static int page_pgp_wait(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_wait(q->pg, &q->cfg->pgp, ISS_CFG(q->cfg, wait))
                              : pgp_off(q);
}
static int page_pgp_download(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_download(q->pg, &q->cfg->pgp) : pgp_off(q);
}
static int page_pgp_resign(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_resign(q->pg, &q->cfg->pgp) : pgp_off(q);
}

#define GET CACERT_GET
#define POST CACERT_POST
#define BOTH (CACERT_GET | CACERT_POST)

/* every page of /certs is for members; the CSR and the key are text */
static const char *const text_fields[] = { "csr", "key", NULL };

static const cacert_route_t routes[] = {
    { "",                 GET,  1, 0, 0, text_fields, page_list },
    { "new",              BOTH, 1, 0, 0, text_fields, page_new },
    { "key",              BOTH, 1, 0, 0, text_fields, page_key },
    { "wait",             GET,  1, 0, 0, text_fields, page_wait },
    { "view",             GET,  1, 0, 0, text_fields, page_view },
    { "download",         GET,  1, 0, 0, text_fields, page_download },
    { "revoke",           POST, 1, 0, 0, text_fields, page_revoke },
    { "edit",             POST, 1, 0, 0, text_fields, page_edit },
    { "renew",            POST, 1, 0, 0, text_fields, page_renew },
    { "openpgp",          BOTH, 1, 0, 0, text_fields, page_pgp_list },
    { "openpgp_key",      BOTH, 1, 0, 0, text_fields, page_pgp_key },
    { "openpgp_wait",     GET,  1, 0, 0, text_fields, page_pgp_wait },
    { "openpgp_download", GET,  1, 0, 0, text_fields, page_pgp_download },
    { "openpgp_resign",   POST, 1, 0, 0, text_fields, page_pgp_resign },
    { "org",              BOTH, 1, 0, 0, text_fields, page_org },
    { "acme",             BOTH, 1, 0, 0, text_fields, iss_acme_page },
    { "acme_deactivate",  POST, 1, 0, 0, text_fields, iss_acme_page_deactivate },
    { NULL }
};

int iss_certs_handler(request_rec *r)
{
    static const cacert_route_t *const tables[] = { routes, NULL };
    const char *slash = strrchr(r->uri, '/');
    const cacert_route_t *rt;
    iss_req_t q;
    int rc;

    if (!page_start) {
        retrieve_fns();
    }
    if (!slash) {
        return DECLINED;
    }
    rt = cacert_route_find(tables, slash + 1);
    if (rt && (rc = cacert_route_method(r, rt)) != OK) {
        return rc;
    }
    q.r = r;
    q.cfg = iss_cfg_of(r->server);
    if ((rc = page_start(&q.pg, r, 1, text_fields)) != OK) {
        return rc;
    }
    if (!rt) {
        return page_message(q.pg, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
    }
    return rt->fn(&q);
}
