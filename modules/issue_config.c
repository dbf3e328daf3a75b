/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_issue's configuration: the directives, one table of
 * defaults (read through ISS_CFG, issue_private.h), and the CAs'
 * certificates. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_file_io.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca_policy.h"
#include "ca_serial.h"
#include "issue_private.h"

APLOG_USE_MODULE(cacert_issue);

/* the defaults, in one place (ISS_SETTINGS, issue_private.h): what the
 * directives' help texts and docs/issuance.md promise (the validities
 * default in the core) */
const iss_srv_cfg iss_defaults = { CACERT_SETTINGS_DEFAULTS(ISS_SETTINGS) };

ca_submit_cfg_t iss_submit_cfg(const iss_srv_cfg *c, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(cacert_domain_cfg) *dcfg = APR_RETRIEVE_OPTIONAL_FN(cacert_domain_cfg);
    ca_submit_cfg_t sc;

    memset(&sc, 0, sizeof(sc));
    sc.policy.class1_root = c->class1 == 1;
    sc.policy.member_days = cacert_cfg_int(c->member_days, 0);
    sc.policy.assured_days = cacert_cfg_int(c->assured_days, 0);
    sc.domains = dcfg ? dcfg(s) : NULL;
    sc.weak = c->weak;
    return sc;
}

/* the fields that merge as they are (the browser keys and OpenPGP merge
 * in iss_merge_srv_cfg) */
static const cacert_field_t fields[] = { CACERT_SETTINGS_MERGE(ISS_SETTINGS, iss_srv_cfg) { 0 } };

void *iss_create_srv_cfg(apr_pool_t *p, server_rec *s)
{
    return cacert_cfg_create(fields, sizeof(iss_srv_cfg), p);
}

void *iss_merge_srv_cfg(apr_pool_t *p, void *basev, void *addv)
{
    iss_srv_cfg *base = basev, *add = addv;
    iss_srv_cfg *c = cacert_cfg_merge(base, add, fields, sizeof(*c), p);

    if (add->bk_file) {
        c->bk_file = add->bk_file;
        c->bk_url = add->bk_url;
    }
    else {
        c->bk_file = base->bk_file;
        c->bk_url = base->bk_url;
    }
    c->pgp = add->pgp.key_file ? add->pgp : base->pgp;
    CACERT_MERGE_PTR(c, base, add, pgp.tmpdir);
    return c;
}

iss_srv_cfg *iss_cfg_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &cacert_issue_module);
}

CACERT_SETTERS(iss_srv_cfg, cacert_issue_module)

/* signerd refuses CRLs valid for more than 31 days */
static const char *set_crl_validity(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_time(cmd, dc, arg);

    if (!err && srv_cfg_of(cmd)->crl_validity > apr_time_from_sec(31 * 86400)) {
        return cacert_cmd_err(cmd, "must be at most 31d");
    }
    return err;
}

static const char *set_int(cmd_parms *cmd, void *dc, const char *arg)
{
    return cacert_set_int(cmd, srv_cfg_of(cmd), arg, 1, 4000000);
}

static const char *set_baud(cmd_parms *cmd, void *dc, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (end == arg || *end || !ca_serial_speed_ok(v)) {
        return cacert_cmd_err(cmd, apr_pstrcat(cmd->pool, "must be one of ", ca_serial_speeds(),
                                        NULL));
    }
    return set_int(cmd, dc, arg);
}

/* the wire carries days in 16 bits and the CA/B limit is 825 */
static const char *set_days(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_int(cmd, dc, arg);

    if (!err && *(int *)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) > 825) {
        return cacert_cmd_err(cmd, "must be 1 to 825 days");
    }
    return err;
}

static const char *set_file(cmd_parms *cmd, void *dc, const char *arg)
{
    return set_str(cmd, dc, ap_server_root_relative(cmd->pool, arg));
}

/* days before expiry when members are warned: "45 30 15 1" */
static const char *set_expiry_days(cmd_parms *cmd, void *dc, const char *args)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    char *list = apr_pstrdup(cmd->pool, args), *tok, *last;
    const char *out = NULL;

    if (err) {
        return err;
    }
    for (tok = apr_strtok(list, " \t", &last); tok; tok = apr_strtok(NULL, " \t", &last)) {
        char *end;
        apr_int64_t n = apr_strtoi64(tok, &end, 10);
        if (end == tok || *end || n < 1 || n > 365) {
            return cacert_cmd_err(cmd, "takes numbers of days from 1 to 365, e.g. 45 30 15 1");
        }
        out = out ? apr_psprintf(cmd->pool, "%s,%d", out, (int)n)
                  : apr_psprintf(cmd->pool, "%d", (int)n);
    }
    if (!out) {
        return cacert_cmd_err(cmd, "needs at least one number of days");
    }
    srv_cfg_of(cmd)->expiry_days = out;
    return NULL;
}

static const char *set_md(cmd_parms *cmd, void *dc, const char *arg)
{
    if (!ca_policy_md_ok(arg)) {
        return cacert_cmd_err(cmd, "must be sha256, sha384 or sha512");
    }
    return set_str(cmd, dc, arg);
}

static const char *set_issuer(cmd_parms *cmd, void *dc, const char *name, const char *file)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    issuer_t *is;

    if (err) {
        return err;
    }
    if (strcmp(name, "member") && strcmp(name, "assured") && strcmp(name, "org")
        && strcmp(name, "class1") && strcmp(name, "class3")) {
        return cacert_cmd_err(cmd, "the CA name must be member, assured, org, class1 or class3");
    }
    is = apr_array_push(srv_cfg_of(cmd)->issuers);
    memset(is, 0, sizeof(*is));
    is->name = name;
    is->file = ap_server_root_relative(cmd->pool, file);
    return NULL;
}

/* two limits: per ACME account and per member, the field after the
 * account's (ISS_SETTINGS) */
_Static_assert(APR_OFFSETOF(iss_srv_cfg, acme_orders_member)
               == APR_OFFSETOF(iss_srv_cfg, acme_orders_account) + sizeof(int)
               && APR_OFFSETOF(iss_srv_cfg, acme_failed_member)
               == APR_OFFSETOF(iss_srv_cfg, acme_failed_account) + sizeof(int),
               "a per-member limit follows its per-account limit");
static const char *set_limits(cmd_parms *cmd, void *dc, const char *acct, const char *member)
{
    const char *err = set_int(cmd, dc, acct);
    int *second = (int *)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) + 1;

    return err ? err : cacert_parse_int(second, member, 1, 4000000)
                       ? cacert_cmd_err(cmd, "takes two numbers from 1 up") : NULL;
}

/* CAcertBrowserKeys FILE URL */
static const char *set_browser_keys(cmd_parms *cmd, void *dc, const char *file, const char *url)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    if (url[0] != '/' || strpbrk(url, "\"<>'` ")) {
        return cacert_cmd_err(cmd, "the URL must be a path on this site, e.g. "
                                   "/static/js/cacert-keys.js");
    }
    srv_cfg_of(cmd)->bk_file = ap_server_root_relative(cmd->pool, file);
    srv_cfg_of(cmd)->bk_url = url;
    return NULL;
}

static const char *set_port(cmd_parms *cmd, void *dc, const char *arg)
{
    return cacert_set_int(cmd, srv_cfg_of(cmd), arg, 1, 65535);
}

const command_rec iss_cmds[] = { CACERT_SETTINGS_CMDS(ISS_SETTINGS, iss_srv_cfg) { NULL } };

/* ---- the CAs' certificates ---- */

static apr_status_t free_x509(void *data)
{
    X509_free(data);
    return APR_SUCCESS;
}

/* the issuer's certificate as an X509, freed with p (httpd never destroys
 * its configuration pool, so none is kept there) */
X509 *iss_issuer_x509(const issuer_t *is, apr_pool_t *p)
{
    const unsigned char *d = is->der;
    X509 *x = d2i_X509(NULL, &d, (long)is->der_len);

    if (x) {
        apr_pool_cleanup_register(p, x, free_x509, apr_pool_cleanup_null);
    }
    return x;
}

apr_status_t iss_load_cert(issuer_t *is, apr_pool_t *p, server_rec *s)
{
    BIO *b = BIO_new_file(is->file, "r");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int n;
    BIO *m;
    char *mem;
    long mlen;

    BIO_free(b);
    if (!x) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CA21001: cannot read the certificate of CA %s from %s", is->name,
                     is->file);
        return APR_EGENERAL;
    }
    n = i2d_X509(x, &der);
    is->der = apr_pmemdup(p, der, (apr_size_t)n);
    is->der_len = (apr_size_t)n;
    OPENSSL_free(der);
    m = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(m, x);
    mlen = BIO_get_mem_data(m, &mem);
    is->pem = apr_pstrmemdup(p, mem, (apr_size_t)mlen);
    BIO_free(m);
    X509_free(x);
    is->loaded = 1;
    return APR_SUCCESS;
}

issuer_t *iss_find_issuer(const iss_srv_cfg *c, const char *name)
{
    int i;

    for (i = 0; name && i < c->issuers->nelts; i++) {
        issuer_t *is = &APR_ARRAY_IDX(c->issuers, i, issuer_t);
        if (!strcmp(is->name, name)) {
            return is;
        }
    }
    return NULL;
}

/* ---- the in-browser key bundle ---- */

static const char *read_small(const char *file, apr_size_t max, apr_size_t *plen, apr_pool_t *p)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;

    if (apr_file_open(&f, file, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p) != APR_SUCCESS) {
        return NULL;
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size < 0
        || (apr_size_t)fi.size > max) {
        apr_file_close(f);
        return NULL;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    if (apr_file_read_full(f, buf, n, NULL) != APR_SUCCESS) {
        apr_file_close(f);
        return NULL;
    }
    apr_file_close(f);
    buf[n] = '\0';
    *plen = n;
    return buf;
}

void iss_browser_keys_load(iss_srv_cfg *c, apr_pool_t *p, server_rec *s)
{
    const char *body, *sri;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char b64[128];
    apr_size_t len, slen;

    c->bk_sri = NULL;
    if (!c->bk_file) {
        return;
    }
    body = read_small(c->bk_file, 8 * 1024 * 1024, &len, p);
    sri = read_small(apr_pstrcat(p, c->bk_file, ".sri", NULL), 200, &slen, p);
    if (!body || !sri) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "CA21010: CAcertBrowserKeys: cannot read %s or %s.sri (build it with "
                     "npm ci && npm run build, docs/browser-keys.md); the in-browser key "
                     "page is off", c->bk_file, c->bk_file);
        return;
    }
    while (slen && (sri[slen - 1] == '\n' || sri[slen - 1] == '\r' || sri[slen - 1] == ' ')) {
        slen--;
    }
    if (!EVP_Digest(body, len, md, &mdlen, EVP_sha384(), NULL)
        || EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen) <= 0
        || slen != strlen(b64) + 7 || strncmp(sri, "sha384-", 7)
        || memcmp(sri + 7, b64, strlen(b64))) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "CA21011: CAcertBrowserKeys: %s.sri does not match %s (rebuild with "
                     "npm run build); the in-browser key page is off", c->bk_file, c->bk_file);
        return;
    }
    c->bk_sri = apr_pstrmemdup(p, sri, slen);
}
