/* mod_cacert_account: the member's door -- registration, email pings,
 * login and sessions, lost password, addresses and identity.
 *
 * Thin glue: directives, hooks and request handling.  The rules live in the
 * core (src/), the words in templates/. */
#include <string.h>
#include <stdlib.h>
#include <stdio.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_cookies.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <mod_ssl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca_log.h"
#include "ca_tmpl.h"
#include "ca_form.h"
#include "ca_multipart.h"
#include "ca_valid.h"
#include "ca_crypto.h"
#include "ca_smtp.h"
#include "ca_mail.h"
#include "ca_db.h"
#include "ca_account.h"
#include "ca_domain.h"
#include "mod_cacert.h"
#include "account_domain.h"

module AP_MODULE_DECLARE_DATA cacert_account_module;
APLOG_USE_MODULE(cacert_account);

#define CACERT_PREPARE_STMTS
#include "mod_cacert_glue.h"

#define HANDLER_NAME    "cacert-account"
#define COOKIE_SESSION  "__Host-cacert-session"
#define COOKIE_CSRF     "__Host-cacert-csrf"
#define COOKIE_LANG     "__Host-cacert-lang"
#define MAX_BODY        (64 * 1024)
#define UNSET           (-1)

/* ---- configuration ---- */

typedef struct {
    const char *template_dir;
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

static void *create_srv_cfg(apr_pool_t *p, server_rec *s)
{
    acc_srv_cfg *c = apr_pcalloc(p, sizeof(*c));

    c->smtp_timeout = c->ping_lifetime = c->session_idle = c->session_max = UNSET;
    c->login_fail_window = c->lost_fail_window = c->reset_lifetime = UNSET;
    c->ping_attempts = c->login_fail_account = c->login_fail_client = UNSET;
    c->lost_fail_max = c->argon2_t = c->argon2_m = c->argon2_p = UNSET;
    c->pw_minlen = c->register_per_client = UNSET;
    c->domain = account_domain_create_cfg(p);
    return c;
}

#define MERGE_PTR(f) c->f = add->f ? add->f : base->f
#define MERGE_NUM(f) c->f = add->f != UNSET ? add->f : base->f

static void *merge_srv_cfg(apr_pool_t *p, void *basev, void *addv)
{
    acc_srv_cfg *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    MERGE_PTR(template_dir);
    MERGE_PTR(default_lang);
    MERGE_PTR(site_url);
    MERGE_PTR(mail_from);
    MERGE_PTR(smtp_spec);
    MERGE_NUM(smtp_timeout);
    MERGE_NUM(ping_lifetime);
    MERGE_NUM(ping_attempts);
    MERGE_NUM(session_idle);
    MERGE_NUM(session_max);
    MERGE_NUM(login_fail_account);
    MERGE_NUM(login_fail_client);
    MERGE_NUM(login_fail_window);
    MERGE_NUM(lost_fail_max);
    MERGE_NUM(lost_fail_window);
    MERGE_NUM(reset_lifetime);
    MERGE_NUM(register_per_client);
    MERGE_NUM(argon2_t);
    MERGE_NUM(argon2_m);
    MERGE_NUM(argon2_p);
    MERGE_NUM(pw_minlen);
    MERGE_PTR(cca_version);
    MERGE_PTR(policy_url);
    MERGE_PTR(static_url);
    MERGE_PTR(account_path);
    MERGE_PTR(certs_path);
    c->domain = account_domain_merge_cfg(p, base->domain, add->domain);
    return c;
}

/* typed getters: the default where a directive was not given */
static const char *cfg_str(const char *v, const char *def)
{
    return v ? v : def;
}

static apr_interval_time_t cfg_time(apr_interval_time_t v, int def_secs)
{
    return v != UNSET ? v : apr_time_from_sec(def_secs);
}

static int cfg_int(int v, int def)
{
    return v != UNSET ? v : def;
}

/* "90", "90s", "30m", "48h", "7d" */
static const char *parse_duration(apr_interval_time_t *pt, const char *arg)
{
    apr_int64_t n = 0;

    if (parse_seconds(&n, arg) || n <= 0) {
        return "must be a positive duration such as 90s, 30m, 48h or 7d";
    }
    *pt = apr_time_from_sec(n);
    return NULL;
}

static const char *parse_count(int *pv, const char *arg, int min, int max)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (end == arg || *end || n < min || n > max) {
        return "is out of range";
    }
    *pv = (int)n;
    return NULL;
}

static acc_srv_cfg *srv_cfg_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &cacert_account_module);
}

static const char *cmd_err(cmd_parms *cmd, const char *msg)
{
    return msg ? apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL) : NULL;
}

/* one setter per kind, the field chosen by cmd->info (an offset) */
static const char *set_str(cmd_parms *cmd, void *dc, const char *arg)
{
    acc_srv_cfg *c = srv_cfg_of(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    if (!*arg) {
        return cmd_err(cmd, "must not be empty");
    }
    *(const char **)((char *)c + (apr_size_t)cmd->info) = arg;
    return NULL;
}

static const char *set_time(cmd_parms *cmd, void *dc, const char *arg)
{
    acc_srv_cfg *c = srv_cfg_of(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    return cmd_err(cmd, parse_duration((apr_interval_time_t *)((char *)c
                                       + (apr_size_t)cmd->info), arg));
}

static const char *set_count(cmd_parms *cmd, void *dc, const char *arg)
{
    acc_srv_cfg *c = srv_cfg_of(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    return cmd_err(cmd, parse_count((int *)((char *)c + (apr_size_t)cmd->info),
                                    arg, 1, 1000000));
}

/* passwords are at most 256 bytes; fewer than 8 characters are never safe */
static const char *set_pw_minlen(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    return cmd_err(cmd, parse_count(&srv_cfg_of(cmd)->pw_minlen, arg, 8, 128));
}

/* a URL path: "/" and path characters only, no trailing '/' */
static const char *set_path(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_str(cmd, dc, arg);
    apr_size_t n = strlen(arg);

    if (err) {
        return err;
    }
    if (arg[0] != '/' || (n > 1 && arg[n - 1] == '/')
        || strspn(arg, "/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
           != n) {
        return cmd_err(cmd, "must be a URL path such as /account, without a trailing '/'");
    }
    return NULL;
}

/* the templates append file names to it */
static const char *set_policy_url(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_str(cmd, dc, arg);

    if (err) {
        return err;
    }
    if (arg[strlen(arg) - 1] != '/' || strpbrk(arg, " \"'<>?#")) {
        return cmd_err(cmd, "must be a URL ending in '/'");
    }
    return NULL;
}

static const char *set_site_url(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_str(cmd, dc, arg);
    apr_size_t n = strlen(arg);

    if (err) {
        return err;
    }
    if (strncmp(arg, "https://", 8) || n < 9 || strpbrk(arg, " \"'<>?#")) {
        return cmd_err(cmd, "must be an https:// URL without query or fragment");
    }
    if (arg[n - 1] == '/') {
        srv_cfg_of(cmd)->site_url = apr_pstrmemdup(cmd->pool, arg, n - 1);
    }
    return NULL;
}

static const char *set_mail_from(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_str(cmd, dc, arg);

    if (err) {
        return err;
    }
    if (ca_valid_email(ca_mail_addr(arg, cmd->pool)) || strpbrk(arg, "\r\n")) {
        return cmd_err(cmd, "must be an address, or \"Name <address>\"");
    }
    return NULL;
}

static const char *set_smtp(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_str(cmd, dc, arg);
    ca_smtp_server_t srv;

    if (err) {
        return err;
    }
    return cmd_err(cmd, ca_smtp_parse_server(&srv, arg, cmd->pool));
}

static const char *set_lang(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_str(cmd, dc, arg);
    const char *s;

    if (err) {
        return err;
    }
    for (s = arg; *s; s++) {
        if (!apr_islower(*s) && !apr_isdigit(*s) && *s != '-') {
            return cmd_err(cmd, "must be a lowercase language tag such as en, de or es-419");
        }
    }
    return NULL;
}

static const char *set_argon2(cmd_parms *cmd, void *dc, const char *t,
                              const char *m, const char *lanes)
{
    acc_srv_cfg *c = srv_cfg_of(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    if (parse_count(&c->argon2_t, t, 1, 100)
        || parse_count(&c->argon2_m, m, 8192, 4 * 1024 * 1024)
        || parse_count(&c->argon2_p, lanes ? lanes : "1", 1, 64)) {
        return cmd_err(cmd, "takes iterations (1-100), memory in KiB "
                       "(8192-4194304) and lanes (1-64)");
    }
    return NULL;
}

#define OFF(f) (void *)APR_OFFSETOF(acc_srv_cfg, f)

static const command_rec acc_cmds[] = {
    AP_INIT_TAKE1("CAcertTemplateDir", set_str, OFF(template_dir), RSRC_CONF,
                  "directory with templates/<lang>/ (required)"),
    AP_INIT_TAKE1("CAcertDefaultLanguage", set_lang, OFF(default_lang), RSRC_CONF,
                  "language used when nothing else matches (default en)"),
    AP_INIT_TAKE1("CAcertSiteURL", set_site_url, OFF(site_url), RSRC_CONF,
                  "public https:// base URL used in mailed links (required)"),
    AP_INIT_TAKE1("CAcertMailFrom", set_mail_from, OFF(mail_from), RSRC_CONF,
                  "sender of mails (required)"),
    AP_INIT_TAKE1("CAcertSMTPServer", set_smtp, OFF(smtp_spec), RSRC_CONF,
                  "host[:port] of the SMTP relay (default localhost:25)"),
    AP_INIT_TAKE1("CAcertSMTPTimeout", set_time, OFF(smtp_timeout), RSRC_CONF,
                  "timeout of each SMTP step (default 30s)"),
    AP_INIT_TAKE1("CAcertEmailPingLifetime", set_time, OFF(ping_lifetime), RSRC_CONF,
                  "how long an email ping stays valid (default 48h)"),
    AP_INIT_TAKE1("CAcertEmailPingAttempts", set_count, OFF(ping_attempts), RSRC_CONF,
                  "wrong cookies before a ping dies (default 5)"),
    AP_INIT_TAKE1("CAcertSessionIdleTimeout", set_time, OFF(session_idle), RSRC_CONF,
                  "idle time that ends a session (default 30m)"),
    AP_INIT_TAKE1("CAcertSessionMaxLifetime", set_time, OFF(session_max), RSRC_CONF,
                  "absolute session lifetime (default 12h)"),
    AP_INIT_TAKE1("CAcertLoginFailuresPerAccount", set_count, OFF(login_fail_account),
                  RSRC_CONF, "failed logins per address in the window (default 5)"),
    AP_INIT_TAKE1("CAcertLoginFailuresPerClient", set_count, OFF(login_fail_client),
                  RSRC_CONF, "failed logins per client address in the window (default 20)"),
    AP_INIT_TAKE1("CAcertLoginFailureWindow", set_time, OFF(login_fail_window), RSRC_CONF,
                  "window in which failed logins are counted (default 15m)"),
    AP_INIT_TAKE1("CAcertLostPasswordFailures", set_count, OFF(lost_fail_max), RSRC_CONF,
                  "failed lost-password attempts per address in the window (default 3)"),
    AP_INIT_TAKE1("CAcertLostPasswordWindow", set_time, OFF(lost_fail_window), RSRC_CONF,
                  "window in which lost-password failures are counted (default 24h)"),
    AP_INIT_TAKE1("CAcertResetLinkLifetime", set_time, OFF(reset_lifetime), RSRC_CONF,
                  "validity of a mailed password reset link (default 1h)"),
    AP_INIT_TAKE1("CAcertRegistrationsPerClient", set_count, OFF(register_per_client),
                  RSRC_CONF, "registrations per client address and hour (default 10)"),
    AP_INIT_TAKE23("CAcertArgon2", set_argon2, NULL, RSRC_CONF,
                   "Argon2id iterations, memory (KiB), lanes (default 3 65536 1)"),
    AP_INIT_TAKE1("CAcertPasswordMinLength", set_pw_minlen, NULL, RSRC_CONF,
                  "minimum password length, 8-128 (default 10)"),
    AP_INIT_TAKE1("CAcertCCAVersion", set_str, OFF(cca_version), RSRC_CONF,
                  "version of the Community Agreement members agree to"),
    AP_INIT_TAKE1("CAcertPolicyURL", set_policy_url, OFF(policy_url), RSRC_CONF,
                  "base URL of the policy documents linked in the footer"),
    AP_INIT_TAKE1("CAcertAccountPath", set_path, OFF(account_path), RSRC_CONF,
                  "URL path of the account pages, for links from other pages (default /account)"),
    AP_INIT_TAKE1("CAcertCertsPath", set_path, OFF(certs_path), RSRC_CONF,
                  "URL path of the certificate pages when mod_cacert_issue is loaded "
                  "(default /certs)"),
    AP_INIT_TAKE1("CAcertStaticURL", set_str, OFF(static_url), RSRC_CONF,
                  "URL path of the stylesheet and images (default /static)"),
    ACCOUNT_DOMAIN_CMDS,
    { NULL }
};

/* ---- logging of the core, through httpd's error log ---- */


/* ---- start-up ---- */

static int acc_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;
    apr_hash_t *loaded = apr_hash_make(ptemp);
    server_rec *sp;

    log_server = s;
    ca_log_set_sink(log_sink, NULL);
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);

    for (sp = s; sp; sp = sp->next) {
        acc_srv_cfg *c = ap_get_module_config(sp->module_config, &cacert_account_module);
        ca_account_cfg_t *a = &c->acc;
        const char *err, *key;
        apr_status_t rv;

        if (!c->template_dir && !c->site_url && !c->mail_from) {
            continue;       /* the module is not used in this server */
        }
        if (!c->template_dir || !c->site_url || !c->mail_from) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp,
                         "CA20001: mod_cacert_account needs CAcertTemplateDir, "
                         "CAcertSiteURL and CAcertMailFrom (server %s:%d)",
                         sp->server_hostname, (int)sp->port);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!dbd_prepare) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp,
                         "CA20002: mod_cacert_account needs mod_dbd to be loaded");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        key = apr_pstrcat(ptemp, c->template_dir, "|", cfg_str(c->default_lang, "en"),
                          NULL);
        c->i18n = apr_hash_get(loaded, key, APR_HASH_KEY_STRING);
        if (!c->i18n) {
            rv = ca_i18n_load(&c->i18n, c->template_dir, cfg_str(c->default_lang, "en"),
                              pconf);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, rv, sp,
                             "CA20003: cannot load templates from %s", c->template_dir);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            if (!ca_i18n_has_lang(c->i18n, cfg_str(c->default_lang, "en"))) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp,
                             "CA20004: %s has no templates for the default language %s",
                             c->template_dir, cfg_str(c->default_lang, "en"));
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            apr_hash_set(loaded, key, APR_HASH_KEY_STRING, c->i18n);
        }
        err = ca_smtp_parse_server(&c->smtp, cfg_str(c->smtp_spec, "localhost:25"), pconf);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, "CA20005: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        c->smtp.timeout = cfg_time(c->smtp_timeout, 30);
        c->smtp.helo = sp->server_hostname ? sp->server_hostname : "localhost";

        a->ping_lifetime = cfg_time(c->ping_lifetime, 48 * 3600);
        a->ping_attempts = cfg_int(c->ping_attempts, 5);
        a->pw_minlen = cfg_int(c->pw_minlen, CA_PASSWORD_MINLEN);
        a->session_idle = cfg_time(c->session_idle, 30 * 60);
        a->session_max = cfg_time(c->session_max, 12 * 3600);
        a->login_fail_account = cfg_int(c->login_fail_account, 5);
        a->login_fail_client = cfg_int(c->login_fail_client, 20);
        a->login_fail_window = cfg_time(c->login_fail_window, 15 * 60);
        a->lost_fail_max = cfg_int(c->lost_fail_max, 3);
        a->lost_fail_window = cfg_time(c->lost_fail_window, 24 * 3600);
        a->reset_lifetime = cfg_time(c->reset_lifetime, 3600);
        a->register_per_client = cfg_int(c->register_per_client, 10);
        a->argon2.t_cost = (uint32_t)cfg_int(c->argon2_t, 3);
        a->argon2.m_cost = (uint32_t)cfg_int(c->argon2_m, 65536);
        a->argon2.lanes = (uint32_t)cfg_int(c->argon2_p, 1);
        a->dummy_hash = ca_pw_dummy_hash(&a->argon2, pconf);
        if (!a->dummy_hash) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp,
                         "CA20006: cannot compute an Argon2id hash with these parameters");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* ---- requests ---- */

typedef struct {
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
} req_t;

static const char *msg(req_t *q, const char *key)
{
    return ca_i18n_msg(q->cfg->i18n, q->lang, key);
}

static void set_msg(req_t *q, const char *var, const char *key)
{
    ca_tmpl_set(q->ctx, var, msg(q, key));
}

/* an error beside the field it concerns */
static void field_error(req_t *q, const char *field, const char *key)
{
    if (!ca_tmpl_get(q->ctx, apr_pstrcat(q->r->pool, "err_", field, NULL))) {
        set_msg(q, apr_pstrcat(q->r->pool, "err_", field, NULL), key);
    }
    ca_tmpl_set(q->ctx, "has_errors", "1");
}

static const char *fval(req_t *q, const char *name)
{
    const char *v = q->form ? apr_table_get(q->form, name) : NULL;
    return v ? v : "";
}

/* keep what the member typed (never passwords) so the form is not lost */
static void keep(req_t *q, const char *name)
{
    ca_tmpl_set(q->ctx, apr_pstrcat(q->r->pool, "v_", name, NULL), fval(q, name));
}

static void security_headers(request_rec *r)
{
    apr_table_t *h = r->err_headers_out;

    apr_table_setn(h, "Content-Security-Policy",
                   "default-src 'none'; style-src 'self'; img-src 'self'; "
                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    apr_table_setn(h, "X-Frame-Options", "DENY");
    apr_table_setn(h, "Referrer-Policy", "no-referrer");
    apr_table_setn(h, "Cache-Control", "no-store");
}

static void set_cookie(request_rec *r, const char *name, const char *value,
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

static int render(req_t *q, const char *name, int status)
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
    security_headers(r);
    r->status = status;
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(out, (int)len, r);
    }
    return OK;
}

/* a page with just a title and a message */
static int message_page(req_t *q, const char *title_key, const char *text_key,
                        int status)
{
    set_msg(q, "msg_title", title_key);
    set_msg(q, "title", title_key);
    set_msg(q, "msg_text", text_key);
    return render(q, "message.html", status);
}

static int internal_error(req_t *q, apr_status_t rv, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r, "CA20102: %s failed", what);
    return message_page(q, "title.error", "err.internal", HTTP_INTERNAL_SERVER_ERROR);
}

static const char *account_path(req_t *q)
{
    return cfg_str(q->cfg->account_path, "/account");
}

static int redirect_to(req_t *q, const char *base, const char *where)
{
    const char *url = apr_pstrcat(q->r->pool, base, "/", where, NULL);

    security_headers(q->r);
    apr_table_setn(q->r->headers_out, "Location",
                   ap_construct_url(q->r->pool, url, q->r));
    return HTTP_SEE_OTHER;
}

static int redirect(req_t *q, const char *where)
{
    const char *url = apr_pstrcat(q->r->pool, q->base, "/", where, NULL);

    security_headers(q->r);
    apr_table_setn(q->r->headers_out, "Location",
                   ap_construct_url(q->r->pool, url, q->r));
    return HTTP_SEE_OTHER;
}

static int need_db(req_t *q)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *acquire;
    ap_dbd_t *dbd;

    if (q->have_db) {
        return 1;
    }
    acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    dbd = acquire ? acquire(q->r) : NULL;
    if (!dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r,
                      "CA20103: no database connection (check DBDriver/DBDParams)");
        return 0;
    }
    q->db.driver = dbd->driver;
    q->db.handle = dbd->handle;
    q->db.prepared = dbd->prepared;
    q->db.trans = NULL;
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

    lim.text_fields = q->text_fields;
    char *buf;
    apr_size_t len = 0;
    const char *err = NULL;
    apr_status_t rv;
    int rc;

    *pkey = "form.malformed";
    boundary = ca_multipart_boundary(ct, r->pool);
    if (!boundary && (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33)
                      || (ct[33] && ct[33] != ';' && ct[33] != ' '))) {
        *pkey = "form.contenttype";
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (r->remaining > MAX_BODY) {
        *pkey = "form.toolarge";
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    buf = apr_palloc(r->pool, MAX_BODY + 1);
    if (ap_should_client_block(r)) {
        long n;
        while ((n = ap_get_client_block(r, buf + len, MAX_BODY + 1 - len)) > 0) {
            len += (apr_size_t)n;
            if (len > MAX_BODY) {
                *pkey = "form.toolarge";
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
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

/* the CSRF token of a POST must match the session's, or for visitors the
 * value of their CSRF cookie */
static int csrf_ok(req_t *q)
{
    const char *sent = fval(q, "csrf");
    const char *want = q->sess ? q->sess->csrf : q->anon_csrf;

    return want && *sent && ca_str_equal_ct(sent, want);
}

/* the field errors the decoder found, beside their fields */
static void decoder_errors(req_t *q)
{
    const apr_array_header_t *arr = apr_table_elts(q->form_errors);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        field_error(q, e[i].key, e[i].val);
    }
}

static const char *client_addr(request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : "unknown";
}

/* ---- mail ---- */

static apr_status_t deliver(acc_srv_cfg *c, const char *lang, const char *tmpl,
                            ca_tmpl_ctx_t *m, const char *address, apr_pool_t *p);

static apr_status_t send_mail(void *baton, const char *kind, const char *address,
                              const char *id, const char *secret, apr_pool_t *p)
{
    req_t *q = baton;
    acc_srv_cfg *c = q->cfg;
    ca_tmpl_ctx_t *m = ca_tmpl_ctx_make(NULL, p);
    const char *tmpl;

    ca_tmpl_set(m, "address", address);
    ca_tmpl_set(m, "site", c->site_url);
    if (!strcmp(kind, "reset")) {
        tmpl = "mail/reset.txt";
        ca_tmpl_set(m, "link", apr_pstrcat(p, c->site_url, q->base, "/reset?t=",
                                           secret, NULL));
        ca_tmpl_setf(m, "minutes", "%" APR_TIME_T_FMT,
                     apr_time_sec(c->acc.reset_lifetime) / 60);
    }
    else {
        tmpl = !strcmp(kind, "register") ? "mail/ping_register.txt" : "mail/ping_email.txt";
        ca_tmpl_set(m, "code", secret);
        ca_tmpl_set(m, "link", apr_pstrcat(p, c->site_url, q->base, "/confirm?id=", id,
                                           "&code=", secret, NULL));
        ca_tmpl_set(m, "confirm_url", apr_pstrcat(p, c->site_url, q->base, "/confirm",
                                                  NULL));
        ca_tmpl_setf(m, "hours", "%" APR_TIME_T_FMT,
                     apr_time_sec(c->acc.ping_lifetime) / 3600);
    }
    return deliver(c, q->lang, tmpl, m, address, p);
}

/* render a mail template in lang and hand it to the SMTP relay */
static apr_status_t deliver(acc_srv_cfg *c, const char *lang, const char *tmpl,
                            ca_tmpl_ctx_t *m, const char *address, apr_pool_t *p)
{
    const char *text, *subject, *body, *msgtext;
    apr_size_t len;
    apr_status_t rv;

    rv = ca_i18n_render(&text, &len, c->i18n, lang, tmpl, m, p);
    if (rv == APR_SUCCESS) {
        rv = ca_mail_split(&subject, &body, text, p);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, log_server, "CA20201: mail template %s",
                     tmpl);
        return rv;
    }
    rv = ca_mail_compose(&msgtext, &len, c->mail_from, address, subject, body,
                         apr_time_now(), p);
    if (rv == APR_SUCCESS) {
        rv = ca_smtp_send(&c->smtp, ca_mail_addr(c->mail_from, p), address, msgtext,
                          len, p);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, log_server,
                     "CA20202: mail (%s) could not be handed to %s:%d", tmpl,
                     c->smtp.host, (int)c->smtp.port);
    }
    return rv;
}

/* mails of other modules (mod_cacert.h): the layout's site variables are
 * set, the member's language chosen with fallback */
static apr_status_t cacert_mail(server_rec *s, const char *lang, const char *tmpl,
                                ca_tmpl_ctx_t *m, const char *address, apr_pool_t *p)
{
    acc_srv_cfg *c = ap_get_module_config(s->module_config, &cacert_account_module);

    if (!c->i18n) {
        return APR_EINIT;
    }
    ca_tmpl_set(m, "address", address);
    ca_tmpl_set(m, "site", c->site_url);
    ca_tmpl_set(m, "account", apr_pstrcat(p, c->site_url,
                                          cfg_str(c->account_path, "/account"), NULL));
    ca_tmpl_set(m, "certs", apr_pstrcat(p, c->site_url, cfg_str(c->certs_path, "/certs"),
                                        NULL));
    if (!lang || !ca_i18n_has_lang(c->i18n, lang)) {
        lang = cfg_str(c->default_lang, "en");
    }
    return deliver(c, lang, tmpl, m, address, p);
}

/* ---- pages ---- */

static void name_fields(req_t *q)
{
    ca_tmpl_ctx_t *item;
    const char *cur = ca_tmpl_get(q->ctx, "v_suffix");
    int i;

    for (i = 0; ca_name_suffixes[i]; i++) {
        item = ca_tmpl_add_item(q->ctx, "suffixes");
        ca_tmpl_set(item, "value", ca_name_suffixes[i]);
        if (cur && !strcmp(cur, ca_name_suffixes[i])) {
            ca_tmpl_set(item, "selected", "1");
        }
    }
}

/* the name and date-of-birth fields shared by registration and profile;
 * returns 1 if they are all valid */
static int check_identity(req_t *q, const char **pgiven, const char **pmiddle,
                          const char **pfamily, const char **psuffix, const char **pdob)
{
    apr_pool_t *p = q->r->pool;
    const char *e;
    int ok = 1;

    *pgiven = ca_trim(fval(q, "given"), p);
    *pmiddle = ca_trim(fval(q, "middle"), p);
    *pfamily = ca_trim(fval(q, "family"), p);
    *psuffix = fval(q, "suffix");
    if ((e = ca_valid_name(*pgiven, 1, 64))) { field_error(q, "given", e); ok = 0; }
    if ((e = ca_valid_name(*pmiddle, 0, 64))) { field_error(q, "middle", e); ok = 0; }
    if ((e = ca_valid_name(*pfamily, 1, 64))) { field_error(q, "family", e); ok = 0; }
    if ((e = ca_valid_suffix(*psuffix))) { field_error(q, "suffix", e); ok = 0; }
    e = ca_valid_dob(pdob, ca_trim(fval(q, "dob_year"), p), ca_trim(fval(q, "dob_month"), p),
                     ca_trim(fval(q, "dob_day"), p), apr_time_now(), p);
    if (e) {
        field_error(q, "dob", e);
        ok = 0;
    }
    return ok;
}

static void keep_identity(req_t *q)
{
    keep(q, "given");
    keep(q, "middle");
    keep(q, "family");
    keep(q, "suffix");
    keep(q, "dob_day");
    keep(q, "dob_month");
    keep(q, "dob_year");
}

static void question_fields(req_t *q, int with_answers)
{
    int i;

    for (i = 1; i <= 5; i++) {
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->ctx, "questions");
        const char *qn = apr_psprintf(q->r->pool, "q%d", i);
        const char *an = apr_psprintf(q->r->pool, "a%d", i);
        const char *e;
        ca_tmpl_setf(item, "n", "%d", i);
        ca_tmpl_set(item, "qname", qn);
        ca_tmpl_set(item, "aname", an);
        ca_tmpl_set(item, "question", fval(q, qn));
        if (with_answers) {
            ca_tmpl_set(item, "answer", fval(q, an));
        }
        if ((e = ca_tmpl_get(q->ctx, apr_pstrcat(q->r->pool, "err_", qn, NULL)))) {
            ca_tmpl_set(item, "err_q", e);
        }
        if ((e = ca_tmpl_get(q->ctx, apr_pstrcat(q->r->pool, "err_", an, NULL)))) {
            ca_tmpl_set(item, "err_a", e);
        }
    }
}

static int page_register(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_registration_t reg;
    const char *e, *member_id, **words;
    int i, idx, is_answer, ok, nwords;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        name_fields(q);
        question_fields(q, 0);
        return render(q, "register.html", HTTP_OK);
    }
    memset(&reg, 0, sizeof(reg));
    decoder_errors(q);
    ok = check_identity(q, &reg.given, &reg.middle, &reg.family, &reg.suffix, &reg.dob);
    reg.email = ca_trim(fval(q, "email"), p);
    if ((e = ca_valid_email(reg.email))) {
        field_error(q, "email", e);
        ok = 0;
    }
    reg.email = ca_email_canonical(reg.email, p);
    ca_registration_words(&words, &nwords, reg.given, reg.family, reg.email, p);
    reg.password = fval(q, "password");
    e = ca_account_password_refusal(reg.password, fval(q, "password2"), words, nwords,
                                    &q->cfg->acc, p);
    if (e) {
        field_error(q, "password", e);
        ok = 0;
    }
    for (i = 0; i < 5; i++) {
        reg.questions[i] = ca_trim(fval(q, apr_psprintf(p, "q%d", i + 1)), p);
        reg.answers[i] = ca_trim(fval(q, apr_psprintf(p, "a%d", i + 1)), p);
    }
    if ((e = ca_valid_questions(&idx, &is_answer, reg.questions, reg.answers, p))) {
        field_error(q, apr_psprintf(p, "%c%d", is_answer ? 'a' : 'q', idx + 1), e);
        ok = 0;
    }
    if (strcmp(fval(q, "cca"), "yes")) {
        field_error(q, "cca", "err.cca.required");
        ok = 0;
    }
    if (ok && !ca_tmpl_get(q->ctx, "has_errors")) {
        reg.language = q->lang;
        reg.cca_version = cfg_str(q->cfg->cca_version, "CCA 2009-04-27");
        reg.client_addr = client_addr(q->r);
        if (!need_db(q)) {
            return internal_error(q, APR_EGENERAL, "database");
        }
        rv = ca_account_register(&member_id, &q->db, &q->cfg->acc, &reg, send_mail, q, p);
        if (rv == APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                          "CA20301: member %s registered", member_id);
            ca_tmpl_set(q->ctx, "address", reg.email);
            ca_tmpl_setf(q->ctx, "hours", "%" APR_TIME_T_FMT,
                         apr_time_sec(q->cfg->acc.ping_lifetime) / 3600);
            return render(q, "register_done.html", HTTP_OK);
        }
        if (rv == APR_EEXIST) {
            field_error(q, "email", "err.email.taken");
        }
        else if (rv == APR_EINVAL) {
            field_error(q, "password", "err.password.weak");
        }
        else if (rv == APR_EAGAIN) {
            set_msg(q, "error", "err.register.throttled");
            q->status = HTTP_TOO_MANY_REQUESTS;
        }
        else {
            set_msg(q, "error", "err.mail_or_db");
            q->status = HTTP_SERVICE_UNAVAILABLE;
        }
    }
    keep_identity(q);
    keep(q, "email");
    name_fields(q);
    question_fields(q, 1);
    if (!strcmp(fval(q, "cca"), "yes")) {
        ca_tmpl_set(q->ctx, "v_cca", "1");
    }
    set_msg(q, "error_summary", "err.form");
    return render(q, "register.html", q->status ? q->status : HTTP_UNPROCESSABLE_ENTITY);
}

static int page_confirm(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_ping_outcome_t out;
    const char *id, *code, *address, *key;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        apr_table_t *args = NULL, *errs;
        const char *err;
        ca_form_limits_t lim = { 2048, 8, 256, NULL, 0 };
        if (q->r->args
            && ca_form_parse(&args, &errs, &err, q->r->args, strlen(q->r->args), &lim, p)
               == APR_SUCCESS) {
            id = apr_table_get(args, "id");
            code = apr_table_get(args, "code");
            /* the link only fills in the form: a click confirms, so mail
             * scanners that fetch links do not confirm for the member */
            if (id && ca_is_id(id) && code) {
                ca_tmpl_set(q->ctx, "v_id", id);
                ca_tmpl_set(q->ctx, "v_code", code);
            }
        }
        return render(q, "confirm.html", HTTP_OK);
    }
    decoder_errors(q);
    id = fval(q, "id");
    code = ca_trim(fval(q, "code"), p);
    address = ca_trim(fval(q, "email"), p);
    if (*id && !ca_is_id(id)) {
        id = "";
    }
    if (!*code) {
        field_error(q, "code", "err.code.required");
    }
    if (!*id && ca_valid_email(address)) {
        field_error(q, "email", "err.email.invalid");
    }
    if (!ca_tmpl_get(q->ctx, "has_errors")) {
        if (!need_db(q)) {
            return internal_error(q, APR_EGENERAL, "database");
        }
        rv = ca_account_confirm(&out, &address, &q->db, &q->cfg->acc, *id ? id : NULL,
                                *id ? NULL : address, code, p);
        if (rv != APR_SUCCESS) {
            return internal_error(q, rv, "email confirmation");
        }
        if (out == CA_PING_OK) {
            ca_tmpl_set(q->ctx, "address", address);
            return render(q, "confirm_done.html", HTTP_OK);
        }
        key = out == CA_PING_WRONG ? "err.ping.wrong"
              : out == CA_PING_EXHAUSTED ? "err.ping.exhausted"
              : out == CA_PING_EXPIRED ? "err.ping.expired" : "err.ping.unknown";
        set_msg(q, "error", key);
    }
    if (*id) {
        ca_tmpl_set(q->ctx, "v_id", id);
    }
    keep(q, "email");
    return render(q, "confirm.html", HTTP_UNPROCESSABLE_ENTITY);
}

static int page_login(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_login_outcome_t out;
    ca_session_t *sess;
    const char *address, *key;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        return render(q, "login.html", HTTP_OK);
    }
    decoder_errors(q);
    address = ca_email_canonical(ca_trim(fval(q, "email"), p), p);
    if (ca_valid_email(address) || !*fval(q, "password")) {
        set_msg(q, "error", "err.login.bad");
        keep(q, "email");
        return render(q, "login.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if (!need_db(q)) {
        return internal_error(q, APR_EGENERAL, "database");
    }
    rv = ca_account_login(&out, &sess, &q->db, &q->cfg->acc, address, fval(q, "password"),
                          client_addr(q->r), p);
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "login");
    }
    if (out == CA_LOGIN_OK) {
        /* a new session id at every login; the old one, if any, ends */
        if (q->sess) {
            ca_session_end(&q->db, q->sess->token, p);
        }
        set_cookie(q->r, COOKIE_SESSION, sess->token, -1);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r, "CA20302: member %s logged in",
                      sess->member_id);
        return redirect(q, "");
    }
    key = out == CA_LOGIN_THROTTLED ? "err.login.throttled"
          : out == CA_LOGIN_UNCONFIRMED ? "err.login.unconfirmed"
          : out == CA_LOGIN_LOCKED ? "err.login.locked" : "err.login.bad";
    set_msg(q, "error", key);
    keep(q, "email");
    return render(q, "login.html", out == CA_LOGIN_THROTTLED ? HTTP_TOO_MANY_REQUESTS
                                                             : HTTP_UNPROCESSABLE_ENTITY);
}

/* the client certificate mod_ssl verified, as DER and serial (hex) */
static int client_cert(const unsigned char **pder, apr_size_t *plen, const char **pserial,
                       request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    const char *verify, *pem;
    const ASN1_INTEGER *sn;
    unsigned char *der = NULL;
    X509 *x = NULL;
    BIO *b;
    int n, i;
    char *hex;

    if (!lookup) {
        return 0;
    }
    verify = lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_VERIFY");
    pem = lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_CERT");
    if (!verify || strcmp(verify, "SUCCESS") || !pem || !*pem) {
        return 0;
    }
    b = BIO_new_mem_buf(pem, -1);
    x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x || (n = i2d_X509(x, &der)) <= 0) {
        X509_free(x);
        return 0;
    }
    *pder = apr_pmemdup(r->pool, der, (apr_size_t)n);
    *plen = (apr_size_t)n;
    OPENSSL_free(der);
    sn = X509_get0_serialNumber(x);
    hex = apr_palloc(r->pool, 2 * (apr_size_t)ASN1_STRING_length(sn) + 1);
    for (i = 0; i < ASN1_STRING_length(sn); i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", ASN1_STRING_get0_data(sn)[i]);
    }
    hex[2 * ASN1_STRING_length(sn)] = '\0';
    *pserial = hex;
    X509_free(x);
    return 1;
}

/* login with the client certificate the browser presented */
static int page_certlogin(req_t *q)
{
    const unsigned char *der;
    const char *serial, *key;
    apr_size_t len;
    ca_login_outcome_t out;
    ca_session_t *sess;
    apr_status_t rv;

    if (!client_cert(&der, &len, &serial, q->r)) {
        set_msg(q, "error", "err.certlogin.none");
        return render(q, "login.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    rv = ca_account_login_cert(&out, &sess, &q->db, &q->cfg->acc, der, len, serial,
                               client_addr(q->r), q->r->pool);
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "certificate login");
    }
    if (out == CA_LOGIN_OK) {
        if (q->sess) {
            ca_session_end(&q->db, q->sess->token, q->r->pool);
        }
        set_cookie(q->r, COOKIE_SESSION, sess->token, -1);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA20303: member %s logged in with certificate %s", sess->member_id,
                      serial);
        return redirect(q, "");
    }
    key = out == CA_LOGIN_LOCKED ? "err.login.locked"
          : out == CA_LOGIN_UNCONFIRMED ? "err.login.unconfirmed" : "err.certlogin.bad";
    set_msg(q, "error", key);
    return render(q, "login.html", HTTP_UNPROCESSABLE_ENTITY);
}

static int page_logout(req_t *q)
{
    if (q->sess) {
        apr_status_t rv = ca_session_end(&q->db, q->sess->token, q->r->pool);
        if (rv != APR_SUCCESS) {
            return internal_error(q, rv, "logout");
        }
    }
    set_cookie(q->r, COOKIE_SESSION, "", 0);
    return redirect(q, "login?bye=1");
}

static void identity_vars(req_t *q)
{
    ca_session_t *s = q->sess;

    ca_tmpl_set(q->ctx, "given", s->given);
    ca_tmpl_set(q->ctx, "middle", s->middle);
    ca_tmpl_set(q->ctx, "family", s->family);
    ca_tmpl_set(q->ctx, "suffix", s->suffix);
    ca_tmpl_set(q->ctx, "dob", s->dob);
}

static int emails_vars(req_t *q)
{
    apr_array_header_t *emails;
    apr_status_t rv;
    int i;

    rv = ca_account_emails(&emails, &q->db, q->sess->member_id, q->r->pool);
    if (rv != APR_SUCCESS) {
        return 0;
    }
    for (i = 0; i < emails->nelts; i++) {
        ca_email_t *e = &APR_ARRAY_IDX(emails, i, ca_email_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->ctx, "emails");
        ca_tmpl_set(item, "id", e->id);
        ca_tmpl_set(item, "address", e->address);
        ca_tmpl_set(item, "primary", e->primary ? "1" : NULL);
        ca_tmpl_set(item, "verified", e->verified ? "1" : NULL);
        ca_tmpl_set(item, "pending", e->pending ? "1" : NULL);
        ca_tmpl_set(item, "expired", !e->verified && !e->pending ? "1" : NULL);
    }
    return 1;
}

static int page_overview(req_t *q)
{
    int points = 0;
    apr_status_t rv;

    identity_vars(q);
    rv = ca_account_points(&points, &q->db, q->sess->member_id, q->r->pool);
    if (rv != APR_SUCCESS || !emails_vars(q)) {
        return internal_error(q, rv, "overview");
    }
    ca_tmpl_setf(q->ctx, "points", "%d", points);
    return render(q, "overview.html", HTTP_OK);
}

static int page_password(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    const char *refusal;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        return render(q, "password.html", HTTP_OK);
    }
    decoder_errors(q);
    if (!*fval(q, "current")) {
        field_error(q, "current", "err.password.required");
    }
    /* the core applies the password policy (with the member's names and
     * addresses) before it looks at the current password; an empty
     * current password fails there and keeps the message above */
    if (!q->form_errors || apr_is_empty_table(q->form_errors)) {
        rv = ca_account_change_password(&refusal, &q->db, &q->cfg->acc, q->sess,
                                        fval(q, "current"), fval(q, "password"),
                                        fval(q, "password2"), p);
        if (rv == APR_SUCCESS) {
            return message_page(q, "title.password", "ok.password", HTTP_OK);
        }
        if (rv == APR_EINVAL) {
            field_error(q, "password", refusal);
        }
        else if (rv == APR_EMISMATCH) {
            field_error(q, "current", "err.password.current");
        }
        else {
            return internal_error(q, rv, "password change");
        }
    }
    return render(q, "password.html", HTTP_UNPROCESSABLE_ENTITY);
}

static int page_emails(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    const char *action, *address, *e;
    apr_status_t rv;
    int status = HTTP_OK;

    if (q->r->method_number == M_POST) {
        decoder_errors(q);
        action = fval(q, "action");
        if (!strcmp(action, "add")) {
            address = ca_email_canonical(ca_trim(fval(q, "email"), p), p);
            if ((e = ca_valid_email(address))) {
                field_error(q, "email", e);
                keep(q, "email");
                status = HTTP_UNPROCESSABLE_ENTITY;
            }
            else {
                rv = ca_account_add_email(&q->db, &q->cfg->acc, q->sess->member_id,
                                          address, send_mail, q, p);
                if (rv == APR_SUCCESS) {
                    set_msg(q, "notice", "ok.email.added");
                    ca_tmpl_set(q->ctx, "notice_address", address);
                }
                else if (rv == APR_EEXIST) {
                    field_error(q, "email", "err.email.taken");
                    keep(q, "email");
                    status = HTTP_UNPROCESSABLE_ENTITY;
                }
                else {
                    set_msg(q, "error", "err.mail_or_db");
                    keep(q, "email");
                    status = HTTP_SERVICE_UNAVAILABLE;
                }
            }
        }
        else if (!strcmp(action, "remove")) {
            rv = ca_account_remove_email(&q->db, q->sess->member_id, fval(q, "id"), p);
            if (rv == APR_SUCCESS) {
                set_msg(q, "notice", "ok.email.removed");
            }
            else if (rv == APR_NOTFOUND) {
                set_msg(q, "error", "err.email.notremovable");
                status = HTTP_UNPROCESSABLE_ENTITY;
            }
            else {
                return internal_error(q, rv, "email removal");
            }
        }
        else {
            set_msg(q, "error", "form.malformed");
            status = HTTP_BAD_REQUEST;
        }
    }
    if (!emails_vars(q)) {
        return internal_error(q, APR_EGENERAL, "email list");
    }
    return render(q, "emails.html", status);
}

static int page_profile(req_t *q)
{
    const char *given, *middle, *family, *suffix, *dob;
    apr_status_t rv;
    int points = 0;

    rv = ca_account_points(&points, &q->db, q->sess->member_id, q->r->pool);
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "points");
    }
    if (points > 0) {
        ca_tmpl_set(q->ctx, "locked", "1");
        identity_vars(q);
        if (q->r->method_number == M_POST) {
            set_msg(q, "error", "err.identity.assured");
            return render(q, "profile.html", HTTP_FORBIDDEN);
        }
        return render(q, "profile.html", HTTP_OK);
    }
    if (q->r->method_number == M_GET) {
        int y = 0, m = 0, d = 0;
        ca_session_t *s = q->sess;
        ca_tmpl_set(q->ctx, "v_given", s->given);
        ca_tmpl_set(q->ctx, "v_middle", s->middle);
        ca_tmpl_set(q->ctx, "v_family", s->family);
        ca_tmpl_set(q->ctx, "v_suffix", s->suffix);
        if (sscanf(s->dob, "%d-%d-%d", &y, &m, &d) == 3) {
            ca_tmpl_setf(q->ctx, "v_dob_year", "%d", y);
            ca_tmpl_setf(q->ctx, "v_dob_month", "%d", m);
            ca_tmpl_setf(q->ctx, "v_dob_day", "%d", d);
        }
        name_fields(q);
        return render(q, "profile.html", HTTP_OK);
    }
    decoder_errors(q);
    if (check_identity(q, &given, &middle, &family, &suffix, &dob)
        && !ca_tmpl_get(q->ctx, "has_errors")) {
        rv = ca_account_set_identity(&q->db, q->sess->member_id, given, middle, family,
                                     suffix, dob, q->r->pool);
        if (rv == APR_SUCCESS) {
            return message_page(q, "title.profile", "ok.identity", HTTP_OK);
        }
        if (rv != APR_EACCES) {
            return internal_error(q, rv, "identity change");
        }
        set_msg(q, "error", "err.identity.assured");
    }
    keep_identity(q);
    name_fields(q);
    return render(q, "profile.html", HTTP_UNPROCESSABLE_ENTITY);
}

static int page_lost(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_lost_outcome_t out;
    apr_array_header_t *questions;
    const char *address, *dob, *e, *answers[5];
    apr_status_t rv;
    int i;

    if (q->r->method_number == M_GET) {
        return render(q, "lost.html", HTTP_OK);
    }
    decoder_errors(q);
    address = ca_email_canonical(ca_trim(fval(q, "email"), p), p);
    if ((e = ca_valid_email(address))) {
        field_error(q, "email", e);
    }
    e = ca_valid_dob(&dob, ca_trim(fval(q, "dob_year"), p), ca_trim(fval(q, "dob_month"), p),
                     ca_trim(fval(q, "dob_day"), p), apr_time_now(), p);
    if (e) {
        field_error(q, "dob", e);
    }
    keep(q, "email");
    keep(q, "dob_day");
    keep(q, "dob_month");
    keep(q, "dob_year");
    if (ca_tmpl_get(q->ctx, "has_errors")) {
        return render(q, "lost.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if (!need_db(q)) {
        return internal_error(q, APR_EGENERAL, "database");
    }
    if (strcmp(fval(q, "step"), "answers")) {
        rv = ca_lost_questions(&out, &questions, &q->db, &q->cfg->acc, address, dob,
                               client_addr(q->r), p);
        if (rv != APR_SUCCESS) {
            return internal_error(q, rv, "lost password");
        }
        if (out == CA_LOST_OK) {
            for (i = 0; i < questions->nelts; i++) {
                ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->ctx, "questions");
                ca_tmpl_setf(item, "aname", "a%d", i + 1);
                ca_tmpl_setf(item, "n", "%d", i + 1);
                ca_tmpl_set(item, "question", APR_ARRAY_IDX(questions, i, const char *));
            }
            return render(q, "lost_answers.html", HTTP_OK);
        }
    }
    else {
        for (i = 0; i < 5; i++) {
            answers[i] = ca_trim(fval(q, apr_psprintf(p, "a%d", i + 1)), p);
        }
        rv = ca_lost_answer(&out, &q->db, &q->cfg->acc, address, dob, answers,
                            client_addr(q->r), send_mail, q, p);
        if (rv != APR_SUCCESS) {
            set_msg(q, "error", "err.mail_or_db");
            return render(q, "lost.html", HTTP_SERVICE_UNAVAILABLE);
        }
        if (out == CA_LOST_OK) {
            return message_page(q, "title.lost", "ok.lost.sent", HTTP_OK);
        }
    }
    set_msg(q, "error", out == CA_LOST_THROTTLED ? "err.lost.throttled" : "err.lost.nomatch");
    return render(q, "lost.html", out == CA_LOST_THROTTLED ? HTTP_TOO_MANY_REQUESTS
                                                           : HTTP_UNPROCESSABLE_ENTITY);
}

static int page_reset(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    const char *token = NULL, *refusal;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        apr_table_t *args = NULL, *errs;
        const char *err;
        ca_form_limits_t lim = { 1024, 4, 128, NULL, 0 };
        if (q->r->args
            && ca_form_parse(&args, &errs, &err, q->r->args, strlen(q->r->args), &lim, p)
               == APR_SUCCESS) {
            token = apr_table_get(args, "t");
        }
    }
    else {
        decoder_errors(q);
        token = fval(q, "t");
    }
    if (!need_db(q)) {
        return internal_error(q, APR_EGENERAL, "database");
    }
    rv = ca_reset_check(&q->db, token, p);
    if (rv == APR_NOTFOUND) {
        return message_page(q, "title.reset", "err.reset.invalid", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "reset check");
    }
    ca_tmpl_set(q->ctx, "v_t", token);
    if (q->r->method_number == M_GET) {
        return render(q, "reset.html", HTTP_OK);
    }
    rv = ca_reset_apply(&refusal, &q->db, &q->cfg->acc, token, fval(q, "password"),
                        fval(q, "password2"), p);
    if (rv == APR_EINVAL) {
        field_error(q, "password", refusal);
        return render(q, "reset.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if (rv == APR_NOTFOUND) {
        return message_page(q, "title.reset", "err.reset.invalid", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "password reset");
    }
    return message_page(q, "title.reset", "ok.reset", HTTP_OK);
}

static int page_language(req_t *q)
{
    const char *lang = fval(q, "lang");
    const char *back = fval(q, "back");

    if (ca_i18n_has_lang(q->cfg->i18n, lang)) {
        set_cookie(q->r, COOKIE_LANG, lang, apr_time_from_sec(365 * 86400));
    }
    /* only pages of this module, never an outside address */
    if (strlen(back) > 64 || strspn(back, "abcdefghijklmnopqrstuvwxyz") != strlen(back)) {
        back = "";
    }
    return redirect(q, back);
}

typedef struct {
    const char *path;
    int (*fn)(req_t *q);
    int login;          /* 1: member pages, 0: visitors' pages, -1: both */
    int post;           /* accepts POST */
    int get;            /* accepts GET */
} route_t;

static const route_t routes[] = {
    { "",         page_overview, 1, 0, 1 },
    { "register", page_register, 0, 1, 1 },
    { "confirm",  page_confirm, -1, 1, 1 },
    { "login",    page_login,   -1, 1, 1 },
    { "logout",   page_logout,  -1, 1, 0 },
    { "certlogin", page_certlogin, -1, 1, 0 },
    { "lost",     page_lost,     0, 1, 1 },
    { "reset",    page_reset,   -1, 1, 1 },
    { "password", page_password, 1, 1, 1 },
    { "emails",   page_emails,   1, 1, 1 },
    { "profile",  page_profile,  1, 1, 1 },
    { "language", page_language, -1, 1, 0 },
    { NULL, NULL, 0, 0, 0 }
};

static const char *account_path(req_t *q);

/* variables every page's layout uses */
static void common_vars(req_t *q)
{
    const apr_array_header_t *langs = ca_i18n_langs(q->cfg->i18n);
    const char *csrf = q->sess ? q->sess->csrf : q->anon_csrf;
    int i;

    ca_tmpl_set(q->ctx, "base", q->base);
    ca_tmpl_set(q->ctx, "account", account_path(q));
    if (ap_find_linked_module("mod_cacert_issue.c")) {
        ca_tmpl_set(q->ctx, "certs", cfg_str(q->cfg->certs_path, "/certs"));
    }
    /* the domain pages are part of this module (account_domain.c) */
    ca_tmpl_set(q->ctx, "domains_url", "/domains");
    if (ap_find_linked_module("mod_cacert_assure.c")) {
        ca_tmpl_set(q->ctx, "wot", "/wot");     /* mod_cacert_assure sets its own base */
    }
    ca_tmpl_set(q->ctx, "static", cfg_str(q->cfg->static_url, "/static"));
    ca_tmpl_set(q->ctx, "policy", cfg_str(q->cfg->policy_url,
                                          "https://www.cacert.org/policy/"));
    ca_tmpl_set(q->ctx, "lang", q->lang);
    ca_tmpl_set(q->ctx, "csrf", csrf);
    ca_tmpl_set(q->ctx, "here", q->path);
    ca_tmpl_setf(q->ctx, "pw_minlen", "%d", q->cfg->acc.pw_minlen);
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
static int page_begin(req_t *q, int login, int need_database)
{
    request_rec *r = q->r;
    const char *tok;
    int rc;

    /* who is this: a session cookie names a member */
    tok = read_cookie(r, COOKIE_SESSION);
    if (tok) {
        apr_status_t rv;
        if (!need_db(q)) {
            common_vars(q);
            return finished(message_page(q, "title.error", "err.internal",
                                HTTP_SERVICE_UNAVAILABLE));
        }
        rv = ca_session_lookup(&q->sess, &q->db, &q->cfg->acc, tok, r->pool);
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
            common_vars(q);
            return finished(internal_error(q, rv, "session lookup"));
        }
        if (!q->sess) {
            set_cookie(r, COOKIE_SESSION, "", 0);
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
                set_cookie(r, COOKIE_CSRF, t, -1);
            }
        }
    }
    common_vars(q);
    if (login == 1 && !q->sess) {
        return redirect_to(q, account_path(q), "login");
    }
    if (login == 0 && q->sess) {
        return redirect_to(q, account_path(q), "");
    }
    if (r->method_number == M_POST) {
        const char *key;
        if ((rc = read_form(q, &key)) != OK) {
            return finished(message_page(q, "title.error", key, rc));
        }
        if (!csrf_ok(q)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "CA20105: form without a valid CSRF token refused");
            return finished(message_page(q, "title.error", "err.csrf", HTTP_FORBIDDEN));
        }
    }
    if (login == 1 || need_database) {
        if (!need_db(q)) {
            return finished(message_page(q, "title.error", "err.internal",
                                         HTTP_SERVICE_UNAVAILABLE));
        }
    }
    return OK;
}

/* ---- the page API other modules use (mod_cacert.h) ---- */

static void cacert_page_headers(request_rec *r)
{
    security_headers(r);
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

static int cacert_page_start(cacert_page_t **ppage, request_rec *r, int login,
                             const char *const *text_fields)
{
    req_t *q = apr_pcalloc(r->pool, sizeof(*q));
    const char *slash = strrchr(r->uri, '/');
    int rc;

    *ppage = NULL;
    q->r = r;
    q->cfg = ap_get_module_config(r->server->module_config, &cacert_account_module);
    if (!q->cfg->i18n || !slash) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CA20106: cacert pages need mod_cacert_account configured in this "
                      "server (CAcertTemplateDir)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    q->base = apr_pstrmemdup(r->pool, r->uri, (apr_size_t)(slash - r->uri));
    q->path = slash + 1;
    q->lang = ca_i18n_pick(q->cfg->i18n, read_cookie(r, COOKIE_LANG),
                           apr_table_get(r->headers_in, "Accept-Language"), r->pool);
    q->ctx = ca_tmpl_ctx_make(NULL, r->pool);
    q->text_fields = text_fields;
    rc = page_begin(q, login, 1);
    /* the language chooser returns to the account pages */
    ca_tmpl_set(q->ctx, "here", "");
    pub_sync(q);
    *ppage = &q->pub;
    return rc;
}

static int cacert_page_render(cacert_page_t *page, const char *name, int status)
{
    return render(page->priv, name, status);
}

static int cacert_page_message(cacert_page_t *page, const char *title_key,
                            const char *text_key, int status)
{
    return message_page(page->priv, title_key, text_key, status);
}

static void cacert_page_set_msg(cacert_page_t *page, const char *var, const char *key)
{
    set_msg(page->priv, var, key);
}

static int acc_handler(request_rec *r)
{
    req_t *q;
    const route_t *rt;
    const char *rest;
    apr_size_t blen;
    int rc;

    if (!r->handler || strcmp(r->handler, HANDLER_NAME)) {
        return DECLINED;
    }
    q = apr_pcalloc(r->pool, sizeof(*q));
    q->r = r;
    q->cfg = ap_get_module_config(r->server->module_config, &cacert_account_module);
    if (!q->cfg->i18n) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CA20104: handler %s used in a server without CAcertTemplateDir",
                      HANDLER_NAME);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* pages are one path segment below the <Location> the handler is set
     * for: the base is the URI up to its last '/' */
    rest = strrchr(r->uri, '/');
    if (!rest) {
        return DECLINED;
    }
    blen = (apr_size_t)(rest - r->uri);
    q->base = apr_pstrmemdup(r->pool, r->uri, blen);
    rest++;
    q->path = rest;
    q->lang = ca_i18n_pick(q->cfg->i18n, read_cookie(r, COOKIE_LANG),
                           apr_table_get(r->headers_in, "Accept-Language"), r->pool);
    q->ctx = ca_tmpl_ctx_make(NULL, r->pool);

    for (rt = routes; rt->path; rt++) {
        if (!strcmp(rt->path, rest)) {
            break;
        }
    }
    if (!rt->path) {
        common_vars(q);
        return message_page(q, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
    }
    if (!((r->method_number == M_GET && rt->get) || (r->method_number == M_POST && rt->post))) {
        r->allowed = (rt->get ? (AP_METHOD_BIT << M_GET) : 0)
                     | (rt->post ? (AP_METHOD_BIT << M_POST) : 0);
        return HTTP_METHOD_NOT_ALLOWED;
    }

    if ((rc = page_begin(q, rt->login, rt->post)) != OK) {
        return rc;
    }
    if (r->method_number == M_GET && q->r->args && !strcmp(rest, "login")
        && strstr(q->r->args, "bye=1")) {
        set_msg(q, "notice", "ok.logout");
    }
    return rt->fn(q);
}

account_domain_cfg_t *account_domain_cfg_of(server_rec *s)
{
    acc_srv_cfg *c = ap_get_module_config(s->module_config, &cacert_account_module);

    return c->domain;
}

/* the statements of the tables this module uses, for mod_dbd */
static const ca_stmt_t *const acc_stmts[] = { ca_account_stmts, ca_domain_stmts, NULL };

static int acc_prepare(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    return prepare_stmts(pconf, s, acc_stmts);
}

static void register_hooks(apr_pool_t *p)
{
    static const char *const succ[] = { "mod_dbd.c", NULL };

    ap_hook_post_config(acc_prepare, NULL, succ, APR_HOOK_MIDDLE);
    ap_hook_post_config(acc_post_config, NULL, succ, APR_HOOK_MIDDLE);
    ap_hook_handler(acc_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_REGISTER_OPTIONAL_FN(cacert_page_start);
    APR_REGISTER_OPTIONAL_FN(cacert_page_render);
    APR_REGISTER_OPTIONAL_FN(cacert_page_message);
    APR_REGISTER_OPTIONAL_FN(cacert_page_set_msg);
    APR_REGISTER_OPTIONAL_FN(cacert_page_headers);
    APR_REGISTER_OPTIONAL_FN(cacert_mail);
    account_domain_register_hooks(p);
}

module AP_MODULE_DECLARE_DATA cacert_account_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    create_srv_cfg,
    merge_srv_cfg,
    acc_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
