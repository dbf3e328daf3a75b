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

/* the defaults (ACC_SETTINGS, account_private.h): what a directive not
 * given in any server means */
const acc_srv_cfg acc_defaults = { CACERT_SETTINGS_DEFAULTS(ACC_SETTINGS) };

/* the fields that merge as they are: all but the domain part's */
static const cacert_field_t fields[] = { CACERT_SETTINGS_MERGE(ACC_SETTINGS, acc_srv_cfg) { 0 } };

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

/* the directives: ACC_SETTINGS and domain control's */
const command_rec acc_cmds[] = {
    CACERT_SETTINGS_CMDS(ACC_SETTINGS, acc_srv_cfg)
    CACERT_SETTINGS_CMDS(ACCOUNT_DOMAIN_SETTINGS, account_domain_cfg_t)
    { NULL }
};

account_domain_cfg_t *account_domain_cfg_of(server_rec *s)
{
    return acc_cfg_of(s)->domain;
}
