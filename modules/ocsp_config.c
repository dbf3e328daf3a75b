/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_ocsp's directives and their defaults (see ocsp_config.h). */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "cacert_glue.h"
#include "ocsp_config.h"

extern module AP_MODULE_DECLARE_DATA cacert_ocsp_module;

/* the defaults, in one place (OCSP_SETTINGS, ocsp_config.h): what the
 * directives' help texts and docs/directives.md promise */
const ocsp_srv_cfg ocsp_defaults = { CACERT_SETTINGS_DEFAULTS(OCSP_SETTINGS) };

/* the fields the glue makes and merges: all of them */
static const cacert_field_t fields[] = { CACERT_SETTINGS_MERGE(OCSP_SETTINGS, ocsp_srv_cfg) { 0 } };

CACERT_SRV_CFG_FNS(ocsp_, ocsp_srv_cfg)

ocsp_srv_cfg *ocsp_cfg_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &cacert_ocsp_module);
}

CACERT_SETTERS(ocsp_srv_cfg, cacert_ocsp_module)

static const char *set_responder(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    responder_conf_t *rc;

    if (err) {
        return err;
    }
    if (argc != 4) {
        return cacert_cmd_err(cmd, "takes the CA name, the issuing CA's certificate, the "
                       "responder certificate and the responder key");
    }
    rc = apr_array_push(srv_cfg_of(cmd)->responder_confs);
    rc->name = argv[0];
    rc->issuer = ap_server_root_relative(cmd->pool, argv[1]);
    rc->cert = ap_server_root_relative(cmd->pool, argv[2]);
    rc->key = ap_server_root_relative(cmd->pool, argv[3]);
    return NULL;
}

static const char *set_duration(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    apr_int64_t n = 0;

    if (err) {
        return err;
    }
    if (cacert_parse_seconds(&n, arg)
        || (n == 0 && cmd->info == (void *)APR_OFFSETOF(ocsp_srv_cfg, validity))) {
        return cacert_cmd_err(cmd, "must be a duration such as 60s, 30m, 1h or 4d");
    }
    if (n > 7 * 86400) {
        return cacert_cmd_err(cmd, "must be at most 7d");
    }
    *(apr_interval_time_t *)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) =
        apr_time_from_sec(n);
    return NULL;
}

static const char *set_path(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    if (arg[0] != '/' || (strlen(arg) > 1 && arg[strlen(arg) - 1] == '/')) {
        return cacert_cmd_err(cmd, "must be a URL path such as /ocsp, without a trailing '/'");
    }
    srv_cfg_of(cmd)->path = arg;
    return NULL;
}

/* a string of the main server alone into the field at the offset
 * cmd->info */
static const char *set_global(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (!err) {
        *(const char **)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) = arg;
    }
    return err;
}

/* libpq's parameters of the primary, checked for their syntax here */
static const char *set_primary(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_global(cmd, dc, arg);

    if (!err) {
        err = cacert_cmd_err(cmd, *arg ? cacert_check_conninfo(arg, cmd->pool)
                                       : "must not be empty");
    }
    return err;
}

const command_rec ocsp_cmds[] = { CACERT_SETTINGS_CMDS(OCSP_SETTINGS, ocsp_srv_cfg) { NULL } };
