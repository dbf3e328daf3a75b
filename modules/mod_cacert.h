/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* What the cacert modules share: one layout, one session, one template
 * store, one way to read forms -- owned by mod_cacert_account and offered
 * to the other modules as optional functions. */
#ifndef MOD_CACERT_H
#define MOD_CACERT_H

#include <apr_optional.h>
#include <httpd.h>

#include <string.h>

#include "ca_account.h"
#include "ca_form.h"
#include "ca_db.h"
#include "ca_tmpl.h"
#include "ca_probe.h"

typedef struct cacert_page_t {
    request_rec *r;
    const char *base;               /* URL path of the calling page's folder */
    const ca_session_t *sess;       /* NULL for a visitor */
    const char *lang;
    const ca_i18n_t *i18n;
    ca_tmpl_ctx_t *ctx;             /* the layout's variables are set */
    ca_db_t *db;
    apr_table_t *form;              /* a POST's fields (after the CSRF check) */
    apr_table_t *form_errors;       /* field -> message key from the decoder */
    apr_array_header_t *files;      /* file parts of a multipart form
                                     * (ca_file_part_t, ca_multipart.h) or NULL */
    void *priv;
    int scripts;                    /* 1: the page runs scripts from the site
                                     * itself (script-src 'self'); only the
                                     * in-browser key page does */
} cacert_page_t;

/* a field of a POST's form; "" when absent */
static inline const char *cacert_field(const cacert_page_t *pg, const char *name)
{
    const char *v = pg && pg->form ? apr_table_get(pg->form, name) : NULL;
    return v ? v : "";
}

/* a parameter of the query string; NULL when absent or when the query
 * string is malformed or larger than a page's links ever make it */
static inline const char *cacert_query_arg(request_rec *r, const char *name)
{
    apr_table_t *args, *errs;
    const char *err;
    ca_form_limits_t lim = { 2048, 16, 256, NULL, 0 };

    if (!r->args || ca_form_parse(&args, &errs, &err, r->args, strlen(r->args), &lim,
                                  r->pool) != APR_SUCCESS) {
        return NULL;
    }
    return apr_table_get(args, name);
}

/* Start a page: language, session, CSRF cookie, layout variables, database;
 * for a POST the form is read and its CSRF token checked.  login: 1 the
 * page is for members (visitors are sent to the login page).  Returns OK,
 * or a status the handler returns as it is (the error page or redirect is
 * already done). */
APR_DECLARE_OPTIONAL_FN(int, cacert_page_start,
                        (cacert_page_t **ppage, request_rec *r, int login,
                         const char *const *text_fields));
/* render templates/<name> in the page's language with the page's variables */
APR_DECLARE_OPTIONAL_FN(int, cacert_page_render,
                        (cacert_page_t *page, const char *name, int status));
/* a page with a title and a text, both message keys */
APR_DECLARE_OPTIONAL_FN(int, cacert_page_message,
                        (cacert_page_t *page, const char *title_key, const char *text_key,
                         int status));
/* set variable var to the message key's text in the page's language */
APR_DECLARE_OPTIONAL_FN(void, cacert_page_set_msg,
                        (cacert_page_t *page, const char *var, const char *key));
/* the response headers every page carries (CSP and the rest) */
APR_DECLARE_OPTIONAL_FN(void, cacert_page_headers, (request_rec *r));

/* render templates/<tmpl> in lang (a mail text: "Subject:" line, empty
 * line, body) and send it to address through the SMTP relay of server s.
 * Variables set for the template: address, site, account and certs (the
 * public URLs of those pages).  lang falls back to the default language. */
APR_DECLARE_OPTIONAL_FN(apr_status_t, cacert_mail,
                        (server_rec *s, const char *lang, const char *tmpl,
                         ca_tmpl_ctx_t *ctx, const char *address, apr_pool_t *p));

/* mod_cacert_ocsp: a revocation was recorded; the cached OCSP answers for
 * that certificate are dropped at once (serial as in certificates.serial) */
APR_DECLARE_OPTIONAL_FN(void, cacert_ocsp_forget,
                        (server_rec *s, const char *ca, const char *serial, apr_pool_t *p));

/* mod_cacert_account (account_domain.c): the domain-control rules of server s (which checks a
 * server certificate needs under each root), for ca_issue_facts_for;
 * NULL: the defaults */
struct ca_domain_cfg_t;
APR_DECLARE_OPTIONAL_FN(const struct ca_domain_cfg_t *, cacert_domain_cfg, (server_rec *s));

/* mod_cacert_account (account_domain.c): one domain probe of server s with
 * its rules, for ACME: dns 1, the TXT records of owner; 0, the file at path
 * on owner's web server over http at http_port.  And the probes' own
 * limits (per member, per domain, in window). */
APR_DECLARE_OPTIONAL_FN(apr_status_t, cacert_domain_probe,
                        (server_rec *s, ca_probe_result_t *res, int dns, const char *owner,
                         const char *path, const char *expect, int http_port,
                         apr_pool_t *p));
APR_DECLARE_OPTIONAL_FN(void, cacert_domain_limits,
                        (server_rec *s, int *pper_account, int *pper_domain,
                         apr_interval_time_t *pwindow));

/* mod_cacert_account: the text of a message key in server s's default
 * language (NULL if there is none) */
APR_DECLARE_OPTIONAL_FN(const char *, cacert_msg_text, (server_rec *s, const char *key));

#endif
