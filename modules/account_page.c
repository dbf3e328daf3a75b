/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_account's page framework: language, session, CSRF cookie and
 * token, the layout's variables, reading forms, rendering templates and
 * messages -- for its own pages, the domain pages and, as optional
 * functions (mod_cacert.h), the pages of the other modules. */
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_cookies.h>

#include "ca_tmpl.h"
#include "ca_form.h"
#include "ca_multipart.h"
#include "ca_crypto.h"
#include "ca_account.h"
#include "account_private.h"

APLOG_USE_MODULE(cacert_account);

#define MAX_BODY        (64 * 1024)

static const char *msg(req_t *q, const char *key)
{
    return ca_i18n_msg(q->cfg->i18n, q->lang, key);
}

void acc_set_msg(req_t *q, const char *var, const char *key)
{
    ca_tmpl_set(q->ctx, var, msg(q, key));
}

/* an error beside the field it concerns */
void acc_field_error(req_t *q, const char *field, const char *key)
{
    if (!ca_tmpl_get(q->ctx, apr_pstrcat(q->r->pool, "err_", field, NULL))) {
        acc_set_msg(q, apr_pstrcat(q->r->pool, "err_", field, NULL), key);
    }
    ca_tmpl_set(q->ctx, "has_errors", "1");
}

const char *acc_fval(req_t *q, const char *name)
{
    const char *v = q->form ? apr_table_get(q->form, name) : NULL;
    return v ? v : "";
}

/* keep what the member typed (never passwords) so the form is not lost */
void acc_keep(req_t *q, const char *name)
{
    ca_tmpl_set(q->ctx, apr_pstrcat(q->r->pool, "v_", name, NULL), acc_fval(q, name));
}

/* every page forbids scripts, except the in-browser key page (scripts 1,
 * docs/browser-keys.md): scripts from the site itself, no inline script,
 * no eval, and the bundle only with its Subresource Integrity */
static void security_headers(request_rec *r, int scripts)
{
    apr_table_t *h = r->err_headers_out;

    apr_table_setn(h, "Content-Security-Policy",
                   scripts
                   ? "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
                     "require-trusted-types-for 'script'"
                   : "default-src 'none'; style-src 'self'; img-src 'self'; "
                     "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    apr_table_setn(h, "X-Frame-Options", "DENY");
    apr_table_setn(h, "Referrer-Policy", "no-referrer");
    apr_table_setn(h, "Cache-Control", "no-store");
}

void acc_set_cookie(request_rec *r, const char *name, const char *value,
                    apr_interval_time_t max_age)
{
    const char *c = apr_pstrcat(r->pool, name, "=", value,
                                "; Path=/; Secure; HttpOnly; SameSite=Strict", NULL);
    if (max_age >= 0) {
        c = apr_psprintf(r->pool, "%s; Max-Age=%" APR_TIME_T_FMT, c,
                         apr_time_sec(max_age));
    }
    apr_table_addn(r->err_headers_out, "Set-Cookie", c);
}

static const char *read_cookie(request_rec *r, const char *name)
{
    const char *v = NULL;

    if (ap_cookie_read(r, name, &v, 0) != APR_SUCCESS || !v || !*v) {
        return NULL;
    }
    return v;
}

int acc_render(req_t *q, const char *name, int status)
{
    request_rec *r = q->r;
    const char *out;
    apr_size_t len;
    apr_status_t rv;

    ca_tmpl_set(q->ctx, "page", name);
    if (!ca_tmpl_get(q->ctx, "title")) {
        /* "login.html" -> message "title.login" */
        const char *dot = strchr(name, '.');
        ca_tmpl_set(q->ctx, "title",
                    msg(q, apr_pstrcat(r->pool, "title.",
                                       apr_pstrmemdup(r->pool, name, dot ? (apr_size_t)(dot - name)
                                                                         : strlen(name)),
                                       NULL)));
    }
    rv = ca_i18n_render(&out, &len, q->cfg->i18n, q->lang, name, q->ctx, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "CA20101: rendering template %s (%s) failed", name, q->lang);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    security_headers(r, q->pub.scripts);
    r->status = status;
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(out, (int)len, r);
    }
    return OK;
}

/* a page with just a title and a message */
int acc_message(req_t *q, const char *title_key, const char *text_key, int status)
{
    acc_set_msg(q, "msg_title", title_key);
    acc_set_msg(q, "title", title_key);
    acc_set_msg(q, "msg_text", text_key);
    return acc_render(q, "message.html", status);
}

int acc_need_db(req_t *q)
{
    if (q->have_db) {
        return 1;
    }
    if (cacert_db_acquire(&q->db, q->r) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "CA20103: no database connection (the database is down, or "
                      "DBDriver/DBDParams are wrong)");
        return 0;
    }
    q->have_db = 1;
    return 1;
}

/* read and decode an application/x-www-form-urlencoded body; returns OK,
 * or the HTTP status of the error page with *pkey its message */
static int read_form(req_t *q, const char **pkey)
{
    request_rec *r = q->r;
    const char *ct = apr_table_get(r->headers_in, "Content-Type"), *boundary;
    ca_form_limits_t lim = { MAX_BODY, 60, 1024, NULL, 16384 };
    char *buf;
    apr_size_t len = 0;
    const char *err = NULL;
    apr_status_t rv;
    int rc;

    lim.text_fields = q->text_fields;
    *pkey = "form.malformed";
    boundary = ca_multipart_boundary(ct, r->pool);
    if (!boundary && (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33)
                      || (ct[33] && ct[33] != ';' && ct[33] != ' '))) {
        *pkey = "form.contenttype";
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    if ((rc = cacert_read_body(&buf, &len, r, MAX_BODY)) != OK) {
        if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
            *pkey = "form.toolarge";
        }
        return rc;
    }
    if (boundary) {
        rv = ca_multipart_parse(&q->form, &q->form_errors, &q->files, &err, boundary, buf,
                                len, &lim, r->pool);
    }
    else {
        rv = ca_form_parse(&q->form, &q->form_errors, &err, buf, len, &lim, r->pool);
    }
    if (rv != APR_SUCCESS) {
        *pkey = err ? err : "form.malformed";
        return HTTP_BAD_REQUEST;
    }
    return OK;
}

int acc_unknown_action(req_t *q)
{
    acc_set_msg(q, "error", "form.malformed");
    return HTTP_BAD_REQUEST;
}

/* the CSRF token of a POST must match the session's, or for visitors the
 * value of their CSRF cookie */
static int csrf_ok(req_t *q)
{
    const char *sent = acc_fval(q, "csrf");
    const char *want = q->sess ? q->sess->csrf : q->anon_csrf;

    return want && *sent && ca_str_equal_ct(sent, want);
}

/* the field errors the decoder found, beside their fields */
void acc_decoder_errors(req_t *q)
{
    const apr_array_header_t *arr = apr_table_elts(q->form_errors);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        acc_field_error(q, e[i].key, e[i].val);
    }
}

const char *acc_client_addr(request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : "unknown";
}

/* variables every page's layout uses */
void acc_common_vars(req_t *q)
{
    const apr_array_header_t *langs = ca_i18n_langs(q->cfg->i18n);
    const char *csrf = q->sess ? q->sess->csrf : q->anon_csrf;
    int i;

    ca_tmpl_set(q->ctx, "base", q->base);
    ca_tmpl_set(q->ctx, "account", ACC_CFG(q->cfg, account_path));
    if (ap_find_linked_module("mod_cacert_issue.c")) {
        ca_tmpl_set(q->ctx, "certs", ACC_CFG(q->cfg, certs_path));
    }
    /* the domain pages are part of this module (account_domain.c) */
    ca_tmpl_set(q->ctx, "domains_url", "/domains");
    if (ap_find_linked_module("mod_cacert_assure.c")) {
        ca_tmpl_set(q->ctx, "wot", "/wot");     /* mod_cacert_assure sets its own base */
    }
    ca_tmpl_set(q->ctx, "static", ACC_CFG(q->cfg, static_url));
    ca_tmpl_set(q->ctx, "policy", ACC_CFG(q->cfg, policy_url));
    ca_tmpl_set(q->ctx, "lang", q->lang);
    ca_tmpl_set(q->ctx, "csrf", csrf);
    ca_tmpl_set(q->ctx, "here", q->path);
    ca_tmpl_setf(q->ctx, "pw_minlen", "%d", ACC_CFG(q->cfg, pw_minlen));
    if (q->sess) {
        ca_tmpl_set(q->ctx, "member", "1");
        ca_tmpl_set(q->ctx, "member_name", apr_pstrcat(q->r->pool, q->sess->given, " ",
                                                       q->sess->family, NULL));
    }
    for (i = 0; i < langs->nelts; i++) {
        const char *l = APR_ARRAY_IDX(langs, i, const char *);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->ctx, "langs");
        ca_tmpl_set(item, "code", l);
        ca_tmpl_set(item, "name", ca_i18n_msg(q->cfg->i18n, l, "lang.name"));
        if (!strcmp(l, q->lang)) {
            ca_tmpl_set(item, "current", "1");
        }
    }
}

/* an error page was rendered: the request is done, whatever status the
 * page carries (OK would let the caller go on) */
static int finished(int rc)
{
    return rc == OK ? DONE : rc;
}

/* language was picked; now: session, CSRF cookie, layout variables, the
 * login rule (login: 1 members only, 0 visitors only, -1 both), and for a
 * POST the form and its CSRF token.  OK to go on; anything else is returned
 * by the handler as it is (DONE: a page was rendered) */
int acc_page_begin(req_t *q, int login, int need_database)
{
    request_rec *r = q->r;
    const char *tok;
    int rc;

    /* who is this: a session cookie names a member */
    tok = read_cookie(r, COOKIE_SESSION);
    if (tok) {
        apr_status_t rv;
        if (!acc_need_db(q)) {
            acc_common_vars(q);
            return finished(acc_message(q, "title.error", "err.unavailable",
                                        HTTP_SERVICE_UNAVAILABLE));
        }
        rv = ca_session_lookup(&q->sess, &q->db, &q->cfg->acc, tok, r->pool);
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
            acc_common_vars(q);
            return finished(acc_internal_error(q, rv, "session lookup"));
        }
        if (!q->sess) {
            acc_set_cookie(r, COOKIE_SESSION, "", 0);
        }
        else if (q->sess->language && ca_i18n_has_lang(q->cfg->i18n, q->sess->language)
                 && !read_cookie(r, COOKIE_LANG)) {
            q->lang = q->sess->language;
        }
    }
    if (!q->sess) {
        q->anon_csrf = read_cookie(r, COOKIE_CSRF);
        if (!q->anon_csrf && r->method_number == M_GET) {
            const char *t;
            if (ca_random_token(&t, 32, r->pool) == APR_SUCCESS) {
                q->anon_csrf = t;
                acc_set_cookie(r, COOKIE_CSRF, t, -1);
            }
        }
    }
    acc_common_vars(q);
    if (login == 1 && !q->sess) {
        return cacert_redirect(r, ACC_CFG(q->cfg, account_path), "login");
    }
    if (login == 0 && q->sess) {
        return cacert_redirect(r, ACC_CFG(q->cfg, account_path), "");
    }
    if (r->method_number == M_POST) {
        const char *key;
        if ((rc = read_form(q, &key)) != OK) {
            return finished(acc_message(q, "title.error", key, rc));
        }
        if (!csrf_ok(q)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "CA20105: form without a valid CSRF token refused");
            return finished(acc_message(q, "title.error", "err.csrf", HTTP_FORBIDDEN));
        }
    }
    if (login == 1 || need_database) {
        if (!acc_need_db(q)) {
            return finished(acc_message(q, "title.error", "err.unavailable",
                                        HTTP_SERVICE_UNAVAILABLE));
        }
    }
    return OK;
}

/* ---- the page API other modules use (mod_cacert.h) ---- */

void cacert_page_headers(request_rec *r)
{
    security_headers(r, 0);
}

static void pub_sync(req_t *q)
{
    q->pub.r = q->r;
    q->pub.base = q->base;
    q->pub.sess = q->sess;
    q->pub.lang = q->lang;
    q->pub.i18n = q->cfg->i18n;
    q->pub.ctx = q->ctx;
    q->pub.db = q->have_db ? &q->db : NULL;
    q->pub.form = q->form;
    q->pub.form_errors = q->form_errors;
    q->pub.files = q->files;
    q->pub.priv = q;
}

req_t *acc_req_make(request_rec *r, acc_srv_cfg *cfg)
{
    /* pages are one path segment below the <Location> the handler is set
     * for: the base is the URI up to its last '/' */
    const char *slash = strrchr(r->uri, '/');
    req_t *q;

    if (!slash) {
        return NULL;
    }
    q = apr_pcalloc(r->pool, sizeof(*q));
    q->r = q->pub.r = r;
    q->pub.priv = q;
    q->cfg = cfg;
    q->base = apr_pstrmemdup(r->pool, r->uri, (apr_size_t)(slash - r->uri));
    q->path = slash + 1;
    q->lang = ca_i18n_pick(q->cfg->i18n, read_cookie(r, COOKIE_LANG),
                           apr_table_get(r->headers_in, "Accept-Language"), r->pool);
    q->ctx = ca_tmpl_ctx_make(NULL, r->pool);
    return q;
}

int acc_page_start(req_t **pq, request_rec *r, int login, const char *const *text_fields)
{
    acc_srv_cfg *cfg = acc_cfg_of(r->server);
    req_t *q = cfg->i18n ? acc_req_make(r, cfg) : NULL;
    int rc;

    *pq = q;
    if (!q) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CA20106: cacert pages need mod_cacert_account configured in this "
                      "server (CAcertTemplateDir)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    q->text_fields = text_fields;
    rc = acc_page_begin(q, login, 1);
    /* the language chooser returns to the account pages */
    ca_tmpl_set(q->ctx, "here", "");
    pub_sync(q);
    return rc;
}

int cacert_page_start(cacert_page_t **ppage, request_rec *r, int login,
                      const char *const *text_fields)
{
    req_t *q;
    int rc = acc_page_start(&q, r, login, text_fields);

    *ppage = q ? &q->pub : NULL;
    return rc;
}

int cacert_page_render(cacert_page_t *page, const char *name, int status)
{
    return acc_render(page->priv, name, status);
}

int cacert_page_message(cacert_page_t *page, const char *title_key, const char *text_key,
                        int status)
{
    return acc_message(page->priv, title_key, text_key, status);
}

void cacert_page_set_msg(cacert_page_t *page, const char *var, const char *key)
{
    acc_set_msg(page->priv, var, key);
}
