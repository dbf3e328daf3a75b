/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* What the files of mod_cacert_account share (mod_md style, one .so):
 *   mod_cacert_account.c  the hooks, the dispatcher, the module struct
 *   account_config.c      the server configuration, its defaults and directives
 *   account_page.c        the page framework: session, CSRF, layout, forms,
 *                         rendering, and the page API offered to the other
 *                         modules (mod_cacert.h)
 *   account_mail.c        the mails
 *   account_pages.c       the visitors' pages (registration, login, lost password)
 *   account_member.c      the members' pages (overview, password, addresses, identity)
 *   account_domain.c      domain control: start-up, the re-test watchdog, the
 *                         pages (account_domain.h)
 *   account_domain_config.c  the domain directives
 * Nothing here leaves the .so (httpd loads the modules into one global
 * symbol table). */
#ifndef ACCOUNT_PRIVATE_H
#define ACCOUNT_PRIVATE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include <httpd.h>
#include <http_config.h>

#include "ca_account.h"
#include "ca_db.h"
#include "ca_smtp.h"
#include "ca_tmpl.h"
#include "mod_cacert.h"
#include "cacert_glue.h"
#include "account_domain.h"

extern module AP_MODULE_DECLARE_DATA cacert_account_module;

#pragma GCC visibility push(hidden)

#define ACC_HANDLER     "cacert-account"
#define DOMAIN_HANDLER  "cacert-domain"
#define COOKIE_SESSION  "__Host-cacert-session"
#define COOKIE_CSRF     "__Host-cacert-csrf"
#define COOKIE_LANG     "__Host-cacert-lang"

/* ---- configuration (account_config.c) ---- */

typedef struct {
    const char *template_dir;
    const char *locale_dir;
    const char *default_lang;
    const char *site_url;
    const char *mail_from;
    const char *smtp_spec;
    apr_interval_time_t smtp_timeout;
    apr_interval_time_t ping_lifetime;
    int ping_attempts;
    apr_interval_time_t session_idle;
    apr_interval_time_t session_max;
    int login_fail_account;
    int login_fail_client;
    apr_interval_time_t login_fail_window;
    apr_interval_time_t login_delay_max;
    int lost_fail_max;
    apr_interval_time_t lost_fail_window;
    apr_interval_time_t reset_lifetime;
    int register_per_client;
    int argon2_t, argon2_m, argon2_p;
    int pw_minlen;
    const char *cca_version;
    const char *policy_url;
    const char *static_url;
    const char *account_path;
    const char *certs_path;

    /* filled in post_config */
    ca_i18n_t *i18n;
    ca_account_cfg_t acc;
    ca_smtp_server_t smtp;

    /* domain control (account_domain.c) */
    account_domain_cfg_t *domain;
} acc_srv_cfg;

CACERT_SRV_CFG_DECLS(acc_, acc_srv_cfg);

/* the defaults: what a directive not given in any server means
 * (account_config.c); ACC_CFG(c, timeout): the setting of c, or its
 * default, typed as the field */
extern const acc_srv_cfg acc_defaults;
#define ACC_CFG(c, f) CACERT_CFG(c, acc_defaults, f)

/* ---- requests (account_page.c) ---- */

/* the request of every page of this module, the account's and the
 * domains' (cacert_glue.h's struct cacert_req) */
struct cacert_req {
    cacert_page_t pub;          /* what other modules see */
    request_rec *r;
    acc_srv_cfg *cfg;
    const char *base;           /* e.g. "/account" */
    const char *path;           /* below base, without leading '/' */
    const char *lang;
    ca_db_t db;
    int have_db;
    ca_session_t *sess;
    const char *anon_csrf;      /* value of the anonymous CSRF cookie */
    const char *const *text_fields;  /* form fields that may hold pasted text */
    ca_tmpl_ctx_t *ctx;
    apr_table_t *form;          /* decoded POST body */
    apr_array_header_t *files;  /* file parts of a multipart body */
    apr_table_t *form_errors;   /* field -> message key */
    int status;                 /* HTTP status of the page rendered */
};
typedef cacert_req_t req_t;

/* a request of the pages below r->uri's last '/' (base, path, language,
 * template context); NULL when r->uri has no '/' */
req_t *acc_req_make(request_rec *r, acc_srv_cfg *cfg);
/* session, CSRF cookie, layout variables, the login rule (1 members only,
 * 0 visitors only, -1 both), and for a POST the form and its CSRF token:
 * OK to go on; anything else is returned by the handler as it is */
int acc_page_begin(req_t *q, int login, int need_database);
/* what cacert_page_start does, with the request: *pq is NULL only when
 * the module is not configured in r's server */
int acc_page_start(req_t **pq, request_rec *r, int login, const char *const *text_fields);
/* variables every page's layout uses */
void acc_common_vars(req_t *q);

int acc_render(req_t *q, const char *name, int status);
/* a page with just a title and a message */
int acc_message(req_t *q, const char *title_key, const char *text_key, int status);
/* log "CA20102: <what> failed" and answer with the error page */
#define acc_internal_error(q, rv, what) \
    cacert_internal_error(&(q)->pub, "CA20102", (rv), (what))

void acc_set_msg(req_t *q, const char *var, const char *key);
/* an error beside the field it concerns */
void acc_field_error(req_t *q, const char *field, const char *key);
/* the field errors the decoder found, beside their fields */
void acc_decoder_errors(req_t *q);
const char *acc_fval(req_t *q, const char *name);
/* a form's action the page does not know: the error set, the status */
int acc_unknown_action(req_t *q);
/* keep what the member typed (never passwords) so the form is not lost */
void acc_keep(req_t *q, const char *name);
void acc_set_cookie(request_rec *r, const char *name, const char *value,
                    apr_interval_time_t max_age);
/* the request's database connection: 1, or 0 (logged) when there is none */
int acc_need_db(req_t *q);
const char *acc_client_addr(request_rec *r);

/* the page API of mod_cacert.h, registered by register_hooks */
int cacert_page_start(cacert_page_t **ppage, request_rec *r, int login,
                      const char *const *text_fields);
int cacert_page_render(cacert_page_t *page, const char *name, int status);
int cacert_page_message(cacert_page_t *page, const char *title_key, const char *text_key,
                        int status);
void cacert_page_set_msg(cacert_page_t *page, const char *var, const char *key);
void cacert_page_headers(request_rec *r);

/* ---- mail (account_mail.c) ---- */

/* the core's mail callback (ca_account.h); baton: the req_t */
apr_status_t acc_send_mail(void *baton, const char *kind, const char *address,
                           const char *id, const char *secret, apr_pool_t *p);
/* mod_cacert.h's cacert_mail */
apr_status_t cacert_mail(server_rec *s, const char *lang, const char *tmpl,
                         ca_tmpl_ctx_t *m, const char *address, apr_pool_t *p);
/* the server the module's log lines go to (mod_cacert_account.c) */
server_rec *acc_log_server(void);

/* ---- pages (account_pages.c, account_member.c, account_domain.c) ---- */

extern const cacert_route_t acc_visitor_routes[];
extern const cacert_route_t acc_member_routes[];
extern const cacert_route_t account_domain_routes[];

/* the name and date-of-birth fields shared by registration and profile */
void acc_name_fields(req_t *q);
/* 1 if they are all valid */
int acc_check_identity(req_t *q, const char **pgiven, const char **pmiddle,
                       const char **pfamily, const char **psuffix, const char **pdob);
void acc_keep_identity(req_t *q);

#pragma GCC visibility pop

#endif
