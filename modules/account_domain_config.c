/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The domain directives of mod_cacert_account (account_domain.h): the
 * server configuration's part for domain control, made, merged and set
 * here; its defaults are read where they are used (account_domain.c). */
#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>

#include "ca_domain.h"
#include "account_private.h"


/* ---- configuration ---- */

typedef account_domain_cfg_t dom_srv_cfg;

static const cacert_field_t fields[] = {
    CACERT_SETTINGS_MERGE(ACCOUNT_DOMAIN_SETTINGS, dom_srv_cfg) { 0 }
};

account_domain_cfg_t *account_domain_create_cfg(apr_pool_t *p)
{
    return cacert_cfg_create(fields, sizeof(dom_srv_cfg), p);
}

account_domain_cfg_t *account_domain_merge_cfg(apr_pool_t *p,
                                               const account_domain_cfg_t *base,
                                               const account_domain_cfg_t *add)
{
    return cacert_cfg_merge(base, add, fields, sizeof(dom_srv_cfg), p);
}

static dom_srv_cfg *srv_cfg_of(cmd_parms *cmd)
{
    return account_domain_cfg_of(cmd->server);
}

const char *account_domain_set_time(cmd_parms *cmd, void *dc, const char *arg)
{
    return cacert_set_time(cmd, srv_cfg_of(cmd), arg);
}

const char *account_domain_set_int(cmd_parms *cmd, void *dc, const char *arg)
{
    return cacert_set_int(cmd, srv_cfg_of(cmd), arg, 1, 100000000);
}

const char *account_domain_set_flag(cmd_parms *cmd, void *dc, int on)
{
    return cacert_set_flag(cmd, srv_cfg_of(cmd), on);
}

/* HOST[:PORT] or [IPv6]:PORT into host and port (0: not given) */
static const char *host_port(const char **phost, int *pport, const char *arg, apr_pool_t *p)
{
    char *scope = NULL, *host = NULL;
    apr_port_t port = 0;

    if (apr_parse_addr_port(&host, &scope, &port, arg, p) != APR_SUCCESS || !host || scope) {
        return "must be HOST, HOST:PORT or [IPv6]:PORT";
    }
    *phost = host;
    *pport = port;
    return NULL;
}

const char *account_domain_set_resolver(cmd_parms *cmd, void *dc, const char *arg)
{
    dom_srv_cfg *c = srv_cfg_of(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    unsigned char a[16];

    if (err || (err = cacert_cmd_err(cmd, host_port(&c->resolver, &c->resolver_port, arg,
                                                    cmd->pool)))) {
        return err;
    }
    /* an address: the resolver is what answers the probes' questions, so
     * it must not itself depend on a name lookup */
    if (inet_pton(AF_INET, c->resolver, a) != 1 && inet_pton(AF_INET6, c->resolver, a) != 1) {
        return cacert_cmd_err(cmd, "must be an IP address (and port)");
    }
    return NULL;
}

const char *account_domain_set_whois(cmd_parms *cmd, void *dc, const char *arg)
{
    dom_srv_cfg *c = srv_cfg_of(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    return cacert_cmd_err(cmd, host_port(&c->whois, &c->whois_port, arg, cmd->pool));
}

const char *account_domain_set_scheme(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    if (strcmp(arg, "http") && strcmp(arg, "https")) {
        return cacert_cmd_err(cmd, "must be http or https");
    }
    srv_cfg_of(cmd)->http_scheme = arg;
    return NULL;
}

const char *account_domain_set_port(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = account_domain_set_int(cmd, dc, arg);

    if (!err && *(int *)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) > 65535) {
        return cacert_cmd_err(cmd, "must be a port, 1-65535");
    }
    return err;
}

const char *account_domain_set_rule(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    dom_srv_cfg *c = srv_cfg_of(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    ca_domain_rule_t rule;
    int i;

    if (err
        || (err = cacert_cmd_err(cmd, ca_domain_rule_parse(&rule, argc, argv, cmd->pool)))) {
        return err;
    }
    for (i = 0; i < c->rules->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(c->rules, i, ca_domain_rule_t).root, rule.root)) {
            return cacert_cmd_err(cmd, apr_pstrcat(cmd->pool, "given twice for ", rule.root,
                                                   NULL));
        }
    }
    APR_ARRAY_PUSH(c->rules, ca_domain_rule_t) = rule;
    return NULL;
}

const char *account_domain_set_registrars(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    dom_srv_cfg *c = srv_cfg_of(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    int i;

    if (err) {
        return err;
    }
    c->registrars = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        const char *t = argv[i][0] == '.' ? argv[i] + 1 : argv[i], *s;
        if (!strcmp(argv[i], "none") && argc == 1) {
            break;
        }
        for (s = t; *s; s++) {
            if (!apr_isalnum(*s) && *s != '-') {
                return cacert_cmd_err(cmd, "takes top-level domains in ASCII (xn--) form, "
                                      "or none");
            }
        }
        if (!*t) {
            return cacert_cmd_err(cmd, "takes top-level domains in ASCII (xn--) form, or none");
        }
        APR_ARRAY_PUSH(c->registrars, const char *) = apr_pstrdup(cmd->pool, t);
    }
    return NULL;
}

/* the command table: ACCOUNT_DOMAIN_SETTINGS in account_domain.h */
