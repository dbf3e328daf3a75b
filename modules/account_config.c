/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_account's server configuration: the directives and their
 * defaults (one table, which the other files read through ACC_CFG,
 * account_private.h). */
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "ca_account.h"
#include "ca_valid.h"
#include "ca_smtp.h"
#include "ca_mail.h"
#include "ca_db.h"
#include "account_private.h"

APLOG_USE_MODULE(cacert_account);

/* ---- configuration ---- */

/* the defaults: what a directive not given in any server means */
const acc_srv_cfg acc_defaults = {
    .default_lang = "en",
    .smtp_spec = "localhost:25",
    .smtp_timeout = APR_USEC_PER_SEC * 30,
    .ping_lifetime = APR_USEC_PER_SEC * 48 * 3600,
    .ping_attempts = 20,
    .session_idle = APR_USEC_PER_SEC * 30 * 60,
    .session_max = APR_USEC_PER_SEC * 12 * 3600,
    .login_fail_account = 5,
    .login_fail_client = 20,
    .login_fail_window = APR_USEC_PER_SEC * 15 * 60,
    .login_delay_max = APR_USEC_PER_SEC * 5 * 60,
    .lost_fail_max = 3,
    .lost_fail_window = APR_USEC_PER_SEC * 24 * 3600,
    .reset_lifetime = APR_USEC_PER_SEC * 3600,
    .register_per_client = 10,
    .argon2_t = 3,
    .argon2_m = 65536,
    .argon2_p = 1,
    .pw_minlen = CA_PASSWORD_MINLEN,
    .cca_version = "CCA 2009-04-27",
    .policy_url = "https://www.cacert.org/policy/",
    .static_url = "/static",
    .account_path = "/account",
    .certs_path = "/certs",
};

#define PTR(f) CACERT_FIELD_PTR(acc_srv_cfg, f)
#define NUM(f) CACERT_FIELD_NUM(acc_srv_cfg, f)

/* the fields that merge as they are: all but the domain part's */
static const cacert_field_t fields[] = {
    PTR(template_dir), PTR(locale_dir), PTR(default_lang), PTR(site_url), PTR(mail_from),
    PTR(smtp_spec), NUM(smtp_timeout), NUM(ping_lifetime), NUM(ping_attempts),
    NUM(session_idle), NUM(session_max),
    NUM(login_fail_account), NUM(login_fail_client), NUM(login_fail_window),
    NUM(login_delay_max), NUM(lost_fail_max), NUM(lost_fail_window), NUM(reset_lifetime),
    NUM(register_per_client), NUM(argon2_t), NUM(argon2_m), NUM(argon2_p), NUM(pw_minlen),
    PTR(cca_version), PTR(policy_url), PTR(static_url), PTR(account_path), PTR(certs_path),
    { 0 }
};

void *acc_create_srv_cfg(apr_pool_t *p, server_rec *s)
{
    acc_srv_cfg *c = cacert_cfg_create(fields, sizeof(*c), p);

    c->domain = account_domain_create_cfg(p);
    return c;
}

void *acc_merge_srv_cfg(apr_pool_t *p, void *basev, void *addv)
{
    acc_srv_cfg *base = basev, *add = addv;
    acc_srv_cfg *c = cacert_cfg_merge(base, add, fields, sizeof(*c), p);

    c->domain = account_domain_merge_cfg(p, base->domain, add->domain);
    return c;
}

acc_srv_cfg *acc_cfg_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &cacert_account_module);
}

/* one setter per kind, the field chosen by cmd->info (an offset) */
CACERT_SETTERS(acc_srv_cfg, cacert_account_module)

static const char *set_count(cmd_parms *cmd, void *dc, const char *arg)
{
    return cacert_set_int(cmd, srv_cfg_of(cmd), arg, 1, 1000000);
}

/* passwords are at most 256 bytes; fewer than 8 characters are never safe */
static const char *set_pw_minlen(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    return cacert_cmd_err(cmd, cacert_parse_int(&srv_cfg_of(cmd)->pw_minlen, arg, 8, 128));
}

/* a string directive whose value check() finds fault with (NULL: none) */
typedef const char *check_fn(const char *arg, apr_pool_t *p);

static const char *set_checked(cmd_parms *cmd, void *dc, const char *arg, check_fn *check)
{
    const char *err = set_str(cmd, dc, arg);

    return err ? err : cacert_cmd_err(cmd, check(arg, cmd->pool));
}

/* a URL path: "/" and path characters only, no trailing '/' */
static const char *check_path(const char *arg, apr_pool_t *p)
{
    apr_size_t n = strlen(arg);

    if (arg[0] != '/' || (n > 1 && arg[n - 1] == '/')
        || strspn(arg, "/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
           != n) {
        return "must be a URL path such as /account, without a trailing '/'";
    }
    return NULL;
}

/* the templates append file names to it */
static const char *check_policy_url(const char *arg, apr_pool_t *p)
{
    if (arg[strlen(arg) - 1] != '/' || strpbrk(arg, " \"'<>?#")) {
        return "must be a URL ending in '/'";
    }
    return NULL;
}

static const char *check_site_url(const char *arg, apr_pool_t *p)
{
    if (strncmp(arg, "https://", 8) || strlen(arg) < 9 || strpbrk(arg, " \"'<>?#")) {
        return "must be an https:// URL without query or fragment";
    }
    return NULL;
}

static const char *check_mail_from(const char *arg, apr_pool_t *p)
{
    if (ca_valid_email(ca_mail_addr(arg, p)) || strpbrk(arg, "\r\n")) {
        return "must be an address, or \"Name <address>\"";
    }
    return NULL;
}

static const char *check_smtp(const char *arg, apr_pool_t *p)
{
    ca_smtp_server_t srv;

    return ca_smtp_parse_server(&srv, arg, p);
}

static const char *check_lang(const char *arg, apr_pool_t *p)
{
    const char *s;

    for (s = arg; *s; s++) {
        if (!apr_islower(*s) && !apr_isdigit(*s) && *s != '-') {
            return "must be a lowercase language tag such as en, de or es-419";
        }
    }
    return NULL;
}

/* set_<name>: a string directive checked by check_<name> */
#define SET_CHECKED(name) \
    static const char *set_##name(cmd_parms *cmd, void *dc, const char *arg) \
    { return set_checked(cmd, dc, arg, check_##name); }

SET_CHECKED(path)
SET_CHECKED(policy_url)
SET_CHECKED(mail_from)
SET_CHECKED(smtp)
SET_CHECKED(lang)

/* kept without its trailing '/' */
static const char *set_site_url(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_checked(cmd, dc, arg, check_site_url);
    apr_size_t n = strlen(arg);

    if (!err && arg[n - 1] == '/') {
        srv_cfg_of(cmd)->site_url = apr_pstrmemdup(cmd->pool, arg, n - 1);
    }
    return err;
}

static const char *set_argon2(cmd_parms *cmd, void *dc, const char *t,
                              const char *m, const char *lanes)
{
    acc_srv_cfg *c = srv_cfg_of(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    if (cacert_parse_int(&c->argon2_t, t, 1, 100)
        || cacert_parse_int(&c->argon2_m, m, 8192, 4 * 1024 * 1024)
        || cacert_parse_int(&c->argon2_p, lanes ? lanes : "1", 1, 64)) {
        return cacert_cmd_err(cmd, "takes iterations (1-100), memory in KiB "
                              "(8192-4194304) and lanes (1-64)");
    }
    return NULL;
}

#define OFF(f) (void *)APR_OFFSETOF(acc_srv_cfg, f)

const command_rec acc_cmds[] = {
    AP_INIT_TAKE1("CAcertTemplateDir", set_str, OFF(template_dir), RSRC_CONF,
                  "directory with the templates (required)"),
    AP_INIT_TAKE1("CAcertLocaleDir", set_str, OFF(locale_dir), RSRC_CONF,
                  "directory with the compiled catalogues <lang>.mo "
                  "(default: none, English only)"),
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
                  RSRC_CONF, "failed logins for an address from one client before it waits "
                  "(default 5)"),
    AP_INIT_TAKE1("CAcertLoginFailuresPerClient", set_count, OFF(login_fail_client),
                  RSRC_CONF, "failed logins from one client before it waits (default 20)"),
    AP_INIT_TAKE1("CAcertLoginDelayMax", set_time, OFF(login_delay_max), RSRC_CONF,
                  "the longest wait after failed logins (default 5m)"),
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

account_domain_cfg_t *account_domain_cfg_of(server_rec *s)
{
    return acc_cfg_of(s)->domain;
}
