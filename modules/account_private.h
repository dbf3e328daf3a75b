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

/* every setting of mod_cacert_account but domain control's, a line each
 * (cacert_glue.h): the field, its default, the directive that sets it and
 * its help; the setters are account_config.c's */
#define ACC_SETTINGS(S, t) \
    S(t, STR, template_dir, NULL, TAKE1, "CAcertTemplateDir", set_str, "directory with the templates (required)") \
    S(t, STR, locale_dir, NULL, TAKE1, "CAcertLocaleDir", set_str, "directory with the compiled catalogues <lang>.mo (default: none, English only)") \
    S(t, STR, default_lang, "en", TAKE1, "CAcertDefaultLanguage", set_lang, "language used when nothing else matches (default en)") \
    S(t, STR, site_url, NULL, TAKE1, "CAcertSiteURL", set_site_url, "public https:// base URL used in mailed links (required)") \
    S(t, STR, mail_from, NULL, TAKE1, "CAcertMailFrom", set_mail_from, "sender of mails (required)") \
    S(t, STR, smtp_spec, "localhost:25", TAKE1, "CAcertSMTPServer", set_smtp, "host[:port] of the SMTP relay (default localhost:25)") \
    S(t, TIME, smtp_timeout, apr_time_from_sec(30), TAKE1, "CAcertSMTPTimeout", set_time, "timeout of each SMTP step (default 30s)") \
    S(t, TIME, ping_lifetime, apr_time_from_sec(48 * 3600), TAKE1, "CAcertEmailPingLifetime", set_time, "how long an email ping stays valid (default 48h)") \
    S(t, INT, ping_attempts, 20, TAKE1, "CAcertEmailPingAttempts", set_count, "wrong confirmation codes one client may enter in CAcertLoginFailureWindow (default 20)") \
    S(t, TIME, session_idle, apr_time_from_sec(30 * 60), TAKE1, "CAcertSessionIdleTimeout", set_time, "idle time that ends a session (default 30m)") \
    S(t, TIME, session_max, apr_time_from_sec(12 * 3600), TAKE1, "CAcertSessionMaxLifetime", set_time, "absolute session lifetime (default 12h)") \
    S(t, INT, login_fail_account, 5, TAKE1, "CAcertLoginFailuresPerAccount", set_count, "failed logins for an address from one client before it waits (default 5)") \
    S(t, INT, login_fail_client, 20, TAKE1, "CAcertLoginFailuresPerClient", set_count, "failed logins from one client before it waits (default 20)") \
    S(t, TIME, login_delay_max, apr_time_from_sec(5 * 60), TAKE1, "CAcertLoginDelayMax", set_time, "the longest wait after failed logins (default 5m)") \
    S(t, TIME, login_fail_window, apr_time_from_sec(15 * 60), TAKE1, "CAcertLoginFailureWindow", set_time, "window in which failed logins are counted (default 15m)") \
    S(t, INT, lost_fail_max, 3, TAKE1, "CAcertLostPasswordFailures", set_count, "failed lost-password attempts per address in the window (default 3)") \
    S(t, TIME, lost_fail_window, apr_time_from_sec(24 * 3600), TAKE1, "CAcertLostPasswordWindow", set_time, "window in which lost-password failures are counted (default 24h)") \
    S(t, TIME, reset_lifetime, apr_time_from_sec(3600), TAKE1, "CAcertResetLinkLifetime", set_time, "validity of a mailed password reset link (default 1h)") \
    S(t, INT, register_per_client, 10, TAKE1, "CAcertRegistrationsPerClient", set_count, "registrations per client address and hour (default 10)") \
    S(t, INT, argon2_t, 3, TAKE23, "CAcertArgon2", set_argon2, "Argon2id iterations, memory (KiB), lanes (default 3 65536 1)") \
    S(t, INT, argon2_m, 65536, NONE, -, -, "Argon2id memory in KiB, set by CAcertArgon2") \
    S(t, INT, argon2_p, 1, NONE, -, -, "Argon2id lanes, set by CAcertArgon2") \
    S(t, INT, pw_minlen, CA_PASSWORD_MINLEN, TAKE1, "CAcertPasswordMinLength", set_pw_minlen, "minimum password length, 8-128 (default 10)") \
    S(t, STR, cca_version, "CCA 2009-04-27", TAKE1, "CAcertCCAVersion", set_str, "version of the Community Agreement members agree to (default CCA 2009-04-27)") \
    S(t, STR, policy_url, "https://www.cacert.org/policy/", TAKE1, "CAcertPolicyURL", set_policy_url, "base URL of the policy documents linked in the footer (default https://www.cacert.org/policy/)") \
    S(t, STR, account_path, "/account", TAKE1, "CAcertAccountPath", set_path, "URL path of the account pages, for links from other pages (default /account)") \
    S(t, STR, certs_path, "/certs", TAKE1, "CAcertCertsPath", set_path, "URL path of the certificate pages when mod_cacert_issue is loaded (default /certs)") \
    S(t, STR, static_url, "/static", TAKE1, "CAcertStaticURL", set_str, "URL path of the stylesheet and images (default /static)")

typedef struct {
    CACERT_SETTINGS_FIELDS(ACC_SETTINGS)

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
