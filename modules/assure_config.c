/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The configuration of mod_cacert_assure: the server configuration, its
 * defaults in one table, the getters the pages read it through, and the
 * directives (docs/directives.md). */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mod_cacert_assure.h"

extern module AP_MODULE_DECLARE_DATA cacert_assure_module;

/* every setting of mod_cacert_assure, a line each (cacert_glue.h): the
 * field, its default, the directive that sets it and its help (the
 * setters are below; the points' defaults are the core's,
 * ca_points_rules_default) */
#define ASSURE_SETTINGS(S, t) \
    S(t, I64, stats_cache, 300, TAKE1, "CAcertStatsCacheTime", set_stats_cache, "how long each process reuses the statistics it counted (default 5m; 0: count at every request)") \
    S(t, INT, junior_max, CACERT_UNSET, TAKE1, "CAcertJuniorMaxPoints", set_points, "the most an Assurer under 18 may award, 0-35 (default 10)") \
    S(t, INT, junior_ttp, CACERT_UNSET, FLAG, "CAcertJuniorTTP", set_flag, "the TTP programme is open to members under 18 (default off)") \
    S(t, INT, topup_max, CACERT_UNSET, TAKE1, "CAcertTTPTopUpMax", set_points, "the most a TTP top-up may award, 0-35 (default 30)") \
    S(t, INT, contact_limit, 5, TAKE12, "CAcertAssurerContactLimit", set_contact_limit, "messages a member may send to listed Assurers, and the window (default 5 1d)") \
    S(t, I64, contact_window, 86400, NONE, -, -, "the window of the contact limit in seconds, set by CAcertAssurerContactLimit") \
    S(t, STR, import_client, NULL, TAKE1, "CAcertChallengeImportClient", set_import_client, "the client certificate of the external challenge system: a PEM file or its SHA-256 fingerprint (not set: no import)") \
    S(t, STR, import_sha256, NULL, NONE, -, -, "the import client's SHA-256 fingerprint, lowercase hex, set by CAcertChallengeImportClient")

struct assure_cfg_t {
    CACERT_SETTINGS_FIELDS(ASSURE_SETTINGS)
};

static const assure_cfg_t defaults = { CACERT_SETTINGS_DEFAULTS(ASSURE_SETTINGS) };

static const cacert_field_t fields[] = {
    CACERT_SETTINGS_MERGE(ASSURE_SETTINGS, assure_cfg_t) { 0 }
};

CACERT_SRV_CFG_FNS(assure_, assure_cfg_t)

/* ---- getters ---- */

void assure_points_rules(ca_points_rules_t *rules, const assure_cfg_t *cfg)
{
    ca_points_rules_default(rules);
    rules->junior_max = cacert_cfg_int(cfg->junior_max, rules->junior_max);
    rules->junior_ttp = cacert_cfg_int(cfg->junior_ttp, rules->junior_ttp);
    rules->topup_max = cacert_cfg_int(cfg->topup_max, rules->topup_max);
}

/* seconds, not apr_time: the same 64-bit getter */
CACERT_GET_INT(assure_, assure_cfg_t, contact_limit)
CACERT_GET_TIME(assure_, assure_cfg_t, contact_window)
CACERT_GET_TIME(assure_, assure_cfg_t, stats_cache)

/* the SHA-256 fingerprint of the first PEM certificate of b, lowercase
 * hex; NULL if there is none */
static const char *pem_sha256(BIO *b, apr_pool_t *p)
{
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    char *hex = NULL;

    BIO_free(b);
    if (x && X509_digest(x, EVP_sha256(), md, &n) && n == 32) {
        hex = apr_palloc(p, 2 * n + 1);
        for (i = 0; i < n; i++) {
            apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
        }
    }
    X509_free(x);
    return hex;
}

int assure_is_import_client(const assure_cfg_t *cfg, const char *pem, apr_pool_t *p)
{
    const char *fp;

    if (!cfg->import_sha256 || !pem || !*pem) {
        return 0;
    }
    fp = pem_sha256(BIO_new_mem_buf(pem, -1), p);
    return fp && CRYPTO_memcmp(fp, cfg->import_sha256, 64) == 0;
}

/* ---- directives ---- */

CACERT_SETTERS(assure_cfg_t, cacert_assure_module)

/* CAcertJuniorMaxPoints, CAcertTTPTopUpMax: 0 to CA_POINTS_AWARD_MAX */
static const char *set_points(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    assure_cfg_t *c = srv_cfg_of(cmd);
    char *end;
    apr_int64_t n;

    if (err) {
        return err;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (end == arg || *end || n < 0 || n > CA_POINTS_AWARD_MAX) {
        return cacert_cmd_err(cmd, "must be a number of points from 0 to 35");
    }
    if (!strcmp(cmd->cmd->name, "CAcertJuniorMaxPoints")) {
        c->junior_max = (int)n;
    }
    else {
        c->topup_max = (int)n;
    }
    return NULL;
}

/* "5" or "5 1d": messages per sender in a window (default a day) */
static const char *set_contact_limit(cmd_parms *cmd, void *dc, const char *arg,
                                     const char *window)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    assure_cfg_t *c = srv_cfg_of(cmd);
    char *end;
    apr_int64_t n, secs = defaults.contact_window;

    if (err) {
        return err;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (end == arg || *end || n < 0 || n > 1000) {
        return cacert_cmd_err(cmd, "must be a number of messages from 0 to 1000");
    }
    if (window && (cacert_parse_seconds(&secs, window) || secs < 60)) {
        return cacert_cmd_err(cmd, "the window must be a duration of at least 60s, e.g. 1d");
    }
    c->contact_limit = (int)n;
    c->contact_window = secs;
    return NULL;
}

/* "AB:CD:..." or "abcd..." (64 hex digits) -> lowercase hex, or NULL */
static const char *fingerprint_of(const char *arg, apr_pool_t *p)
{
    char *out = apr_palloc(p, 65);
    int n = 0;

    for (; *arg; arg++) {
        if (*arg == ':') {
            continue;
        }
        if (!apr_isxdigit(*arg) || n >= 64) {
            return NULL;
        }
        out[n++] = (char)apr_tolower(*arg);
    }
    out[n] = '\0';
    return n == 64 ? out : NULL;
}

static const char *set_import_client(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    assure_cfg_t *c = srv_cfg_of(cmd);
    const char *fp;

    if (err) {
        return err;
    }
    c->import_client = arg;
    if ((fp = fingerprint_of(arg, cmd->pool)) != NULL) {
        c->import_sha256 = fp;
        return NULL;
    }
    fp = pem_sha256(BIO_new_file(ap_server_root_relative(cmd->pool, arg), "r"), cmd->pool);
    if (!fp) {
        return cacert_cmd_err(cmd, apr_pstrcat(cmd->pool, "takes a SHA-256 fingerprint (64 "
                                               "hex digits) or a PEM certificate file; "
                                               "cannot read a certificate from ", arg, NULL));
    }
    c->import_sha256 = fp;
    return NULL;
}

static const char *set_stats_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    apr_int64_t secs;

    if (err) {
        return err;
    }
    if (cacert_parse_seconds(&secs, arg) || secs > 86400) {
        return cacert_cmd_err(cmd, "must be a duration from 0 to 1d, e.g. 5m");
    }
    srv_cfg_of(cmd)->stats_cache = secs;
    return NULL;
}

const command_rec assure_cmds[] = {
    CACERT_SETTINGS_CMDS(ASSURE_SETTINGS, assure_cfg_t) { NULL }
};
