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

/* the defaults, in one place: what the directives' help texts and
 * docs/directives.md promise */
const ocsp_srv_cfg ocsp_defaults = {
    .validity = APR_USEC_PER_SEC * 3600,
    .max_age = APR_USEC_PER_SEC * 60,
    .refresh = APR_USEC_PER_SEC * 60,
    .nonce = 1,
    .path = "/ocsp",
    .cache_spec = "shmcb",
    .primary = NULL,
};


/* the fields the glue makes and merges: all of them */
static const cacert_field_t fields[] = {
    CACERT_FIELD_ARR(ocsp_srv_cfg, responder_confs, responder_conf_t),
    CACERT_FIELD_NUM(ocsp_srv_cfg, validity),
    CACERT_FIELD_NUM(ocsp_srv_cfg, max_age),
    CACERT_FIELD_NUM(ocsp_srv_cfg, refresh),
    CACERT_FIELD_NUM(ocsp_srv_cfg, nonce),
    CACERT_FIELD_PTR(ocsp_srv_cfg, path),
    CACERT_FIELD_PTR(ocsp_srv_cfg, cache_spec),
    CACERT_FIELD_PTR(ocsp_srv_cfg, primary),
    { 0 }
};

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

#define OFF(f) (void *)APR_OFFSETOF(ocsp_srv_cfg, f)

const command_rec ocsp_cmds[] = {
    AP_INIT_TAKE_ARGV("CAcertOCSPResponder", set_responder, NULL, RSRC_CONF,
                      "CA name, issuer certificate, responder certificate, responder key"),
    AP_INIT_TAKE1("CAcertOCSPValidity", set_duration, OFF(validity), RSRC_CONF,
                  "nextUpdate - thisUpdate of responses (default 1h)"),
    AP_INIT_TAKE1("CAcertOCSPMaxAge", set_duration, OFF(max_age), RSRC_CONF,
                  "HTTP max-age of GET answers (default 60s)"),
    AP_INIT_TAKE1("CAcertOCSPRefresh", set_duration, OFF(refresh), RSRC_CONF,
                  "how often cached answers near their nextUpdate are signed anew "
                  "(default 60s)"),
    AP_INIT_FLAG("CAcertOCSPNonce", set_flag, OFF(nonce), RSRC_CONF,
                 "echo request nonces in freshly signed answers (default on)"),
    AP_INIT_TAKE1("CAcertOCSPPath", set_path, NULL, RSRC_CONF,
                  "URL path of the responder, for GET requests (default /ocsp)"),
    AP_INIT_TAKE1("CAcertOCSPCache", set_global, OFF(cache_spec), RSRC_CONF,
                  "mod_socache provider and its argument for signed answers "
                  "(default shmcb)"),
    AP_INIT_TAKE1("CAcertOCSPPrimary", set_primary, OFF(primary), RSRC_CONF,
                  "libpq parameters of the primary database, when mod_dbd reads a hot "
                  "standby (default: none, mod_dbd's database is the primary)"),
    { NULL }
};
