/* mod_cacert_assure: the web of trust -- assurance entry, points views,
 * the CAP form, TTP, the Assurer Challenge (admin entry and import), "find
 * an Assurer" and the statistics page.  The support/arbitration console and
 * organisation assurance are linked in from assure_console.c and
 * assure_org.c; the contract between the files is in mod_cacert_assure.h.
 *
 * Thin glue: directives, the one authorisation check (the dispatcher),
 * the pages.  Rules live in the core (ca_points.c, ca_wot.c); words in
 * templates/. */
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_lib.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_ssl.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca_log.h"
#include "ca_form.h"
#include "ca_tmpl.h"
#include "ca_valid.h"
#include "ca_points.h"
#include "ca_roles.h"
#include "ca_wot.h"
#include "mod_cacert.h"
#include "mod_cacert_assure.h"

APLOG_USE_MODULE(cacert_assure);

#include "mod_cacert_glue.h"
module AP_MODULE_DECLARE_DATA cacert_assure_module;

#define HANDLER_NAME    "cacert-assure"
#define UNSET           (-1)

/* ---- configuration ---- */

struct assure_cfg_t {
    int junior_max;             /* CAcertJuniorMaxPoints */
    int junior_ttp;             /* CAcertJuniorTTP */
    int topup_max;              /* CAcertTTPTopUpMax */
    int contact_limit;          /* CAcertAssurerContactLimit: messages ... */
    apr_int64_t contact_window; /* ... per this many seconds */
    const char *import_client;  /* CAcertChallengeImportClient: as configured */
    const char *import_sha256;  /* ... its SHA-256 fingerprint, lowercase hex */
};

static void *create_srv_cfg(apr_pool_t *p, server_rec *s)
{
    assure_cfg_t *c = apr_pcalloc(p, sizeof(*c));

    c->junior_max = c->junior_ttp = c->topup_max = c->contact_limit = UNSET;
    c->contact_window = UNSET;
    return c;
}

#define MERGE_PTR(f) c->f = add->f ? add->f : base->f
#define MERGE_NUM(f) c->f = add->f != UNSET ? add->f : base->f

static void *merge_srv_cfg(apr_pool_t *p, void *basev, void *addv)
{
    assure_cfg_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    MERGE_NUM(junior_max);
    MERGE_NUM(junior_ttp);
    MERGE_NUM(topup_max);
    MERGE_NUM(contact_limit);
    MERGE_NUM(contact_window);
    MERGE_PTR(import_client);
    MERGE_PTR(import_sha256);
    return c;
}

static int cfg_int(int v, int def)
{
    return v != UNSET ? v : def;
}

void assure_points_rules(ca_points_rules_t *rules, const assure_cfg_t *cfg)
{
    ca_points_rules_default(rules);
    rules->junior_max = cfg_int(cfg->junior_max, rules->junior_max);
    rules->junior_ttp = cfg_int(cfg->junior_ttp, rules->junior_ttp);
    rules->topup_max = cfg_int(cfg->topup_max, rules->topup_max);
}

int assure_contact_limit(const assure_cfg_t *cfg)
{
    return cfg_int(cfg->contact_limit, 5);
}

apr_int64_t assure_contact_window(const assure_cfg_t *cfg)
{
    return cfg->contact_window != UNSET ? cfg->contact_window : 86400;
}

static assure_cfg_t *srv_cfg_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &cacert_assure_module);
}

static const char *cmd_err(cmd_parms *cmd, const char *msg)
{
    return msg ? apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL) : NULL;
}

/* an integer from 0 to the maximum in cmd->info's low bits */
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
        return cmd_err(cmd, "must be a number of points from 0 to 35");
    }
    if (!strcmp(cmd->cmd->name, "CAcertJuniorMaxPoints")) {
        c->junior_max = (int)n;
    }
    else {
        c->topup_max = (int)n;
    }
    return NULL;
}

static const char *set_junior_ttp(cmd_parms *cmd, void *dc, int on)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    srv_cfg_of(cmd)->junior_ttp = on;
    return NULL;
}

/* "5" or "5 1d": messages per sender in a window (default a day) */
static const char *set_contact_limit(cmd_parms *cmd, void *dc, const char *arg,
                                     const char *window)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    assure_cfg_t *c = srv_cfg_of(cmd);
    char *end;
    apr_int64_t n, secs = 86400;

    if (err) {
        return err;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (end == arg || *end || n < 0 || n > 1000) {
        return cmd_err(cmd, "must be a number of messages from 0 to 1000");
    }
    if (window && (parse_seconds(&secs, window) || secs < 60)) {
        return cmd_err(cmd, "the window must be a duration of at least 60s, e.g. 1d");
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

/* the SHA-256 fingerprint of the first certificate of a PEM file */
static const char *file_fingerprint(const char *file, apr_pool_t *p)
{
    BIO *b = BIO_new_file(file, "r");
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
    fp = file_fingerprint(ap_server_root_relative(cmd->pool, arg), cmd->pool);
    if (!fp) {
        return cmd_err(cmd, apr_pstrcat(cmd->pool, "takes a SHA-256 fingerprint (64 hex "
                                        "digits) or a PEM certificate file; cannot read "
                                        "a certificate from ", arg, NULL));
    }
    c->import_sha256 = fp;
    return NULL;
}

static const command_rec assure_cmds[] = {
    AP_INIT_TAKE1("CAcertJuniorMaxPoints", set_points, NULL, RSRC_CONF,
                  "the most an Assurer under 18 may award, 0-35 (default 10)"),
    AP_INIT_FLAG("CAcertJuniorTTP", set_junior_ttp, NULL, RSRC_CONF,
                 "the TTP programme is open to members under 18 (default off)"),
    AP_INIT_TAKE1("CAcertTTPTopUpMax", set_points, NULL, RSRC_CONF,
                  "the most a TTP top-up may award, 0-35 (default 30)"),
    AP_INIT_TAKE12("CAcertAssurerContactLimit", set_contact_limit, NULL, RSRC_CONF,
                   "messages a member may send to listed Assurers, and the window "
                   "(default 5 1d)"),
    AP_INIT_TAKE1("CAcertChallengeImportClient", set_import_client, NULL, RSRC_CONF,
                  "the client certificate of the external challenge system: a PEM "
                  "file or its SHA-256 fingerprint (not set: no import)"),
    { NULL }
};

/* ---- the page API of mod_cacert_account ---- */

static APR_OPTIONAL_FN_TYPE(cacert_page_start) *page_start;
static APR_OPTIONAL_FN_TYPE(cacert_page_render) *page_render;
static APR_OPTIONAL_FN_TYPE(cacert_page_message) *page_message;
static APR_OPTIONAL_FN_TYPE(cacert_page_set_msg) *page_set_msg;
static APR_OPTIONAL_FN_TYPE(cacert_page_headers) *page_headers;
static APR_OPTIONAL_FN_TYPE(cacert_mail) *send_mail;
static APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *ssl_lookup;

static void retrieve_fns(void)
{
    page_start = APR_RETRIEVE_OPTIONAL_FN(cacert_page_start);
    page_render = APR_RETRIEVE_OPTIONAL_FN(cacert_page_render);
    page_message = APR_RETRIEVE_OPTIONAL_FN(cacert_page_message);
    page_set_msg = APR_RETRIEVE_OPTIONAL_FN(cacert_page_set_msg);
    page_headers = APR_RETRIEVE_OPTIONAL_FN(cacert_page_headers);
    send_mail = APR_RETRIEVE_OPTIONAL_FN(cacert_mail);
    ssl_lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
}

/* ---- helpers offered to the page files (mod_cacert_assure.h) ---- */

int assure_has_role(const assure_req_t *q, unsigned roles)
{
    return (q->roles & roles) != 0;
}

const char *assure_form(const assure_req_t *q, const char *name)
{
    const char *v = q->pg && q->pg->form ? apr_table_get(q->pg->form, name) : NULL;
    return v ? v : "";
}

const char *assure_arg(const assure_req_t *q, const char *name)
{
    apr_table_t *args, *errs;
    const char *err;
    ca_form_limits_t lim = { 2048, 16, 256, NULL, 0 };

    if (!q->r->args || ca_form_parse(&args, &errs, &err, q->r->args, strlen(q->r->args),
                                     &lim, q->r->pool) != APR_SUCCESS) {
        return NULL;
    }
    return apr_table_get(args, name);
}

/* the variables every page of the module sets */
static void role_vars(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    unsigned bit;

    ca_tmpl_set(ctx, "wot", q->pg->base);
    if (q->is_assurer) {
        ca_tmpl_set(ctx, "is_assurer", "1");
    }
    for (bit = 1; bit & CA_ROLE_ALL; bit <<= 1) {
        if (q->roles & bit) {
            ca_tmpl_set(ctx, apr_pstrcat(q->r->pool, "role_", ca_role_name(bit), NULL), "1");
            ca_tmpl_set(ctx, "role_any", "1");
        }
    }
}

int assure_render(assure_req_t *q, const char *tmpl, int status)
{
    role_vars(q);
    return page_render(q->pg, tmpl, status);
}

int assure_message(assure_req_t *q, const char *title_key, const char *text_key,
                   int status)
{
    role_vars(q);
    return page_message(q->pg, title_key, text_key, status);
}

void assure_set_msg(assure_req_t *q, const char *var, const char *key)
{
    page_set_msg(q->pg, var, key);
}

int assure_redirect(assure_req_t *q, const char *where)
{
    const char *url = apr_pstrcat(q->r->pool, q->pg->base, "/", where, NULL);

    page_headers(q->r);
    apr_table_setn(q->r->headers_out, "Location", ap_construct_url(q->r->pool, url, q->r));
    return HTTP_SEE_OTHER;
}

int assure_internal_error(assure_req_t *q, apr_status_t rv, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r, "CA40001: %s failed", what);
    return assure_message(q, "title.error", "err.internal", HTTP_INTERNAL_SERVER_ERROR);
}

apr_status_t assure_mail(assure_req_t *q, const char *lang, const char *tmpl,
                         ca_tmpl_ctx_t *ctx, const char *address)
{
    if (!send_mail) {
        return APR_ENOTIMPL;
    }
    return send_mail(q->r->server, lang, tmpl, ctx, address, q->r->pool);
}

apr_status_t assure_find_member(const char **pmember_id, assure_req_t *q,
                                const char *email)
{
    return ca_wot_member_by_email(pmember_id, q->pg->db, email, q->r->pool);
}

/* today's date (UTC) as YYYY-MM-DD */
static const char *today(apr_pool_t *p)
{
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, apr_time_now());
    return apr_psprintf(p, "%04d-%02d-%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday);
}

/* ---- pages ---- */

static void standing_vars(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    const ca_standing_t *s = &q->standing;
    ca_points_rules_t rules;
    int exp = ca_points_experience(s->given);

    assure_points_rules(&rules, q->cfg);
    ca_tmpl_setf(ctx, "received", "%d", s->received);
    ca_tmpl_setf(ctx, "received_counted", "%d", ca_points_received(s->received));
    ca_tmpl_setf(ctx, "experience", "%d", exp);
    ca_tmpl_setf(ctx, "total", "%d", ca_points_total(s));
    ca_tmpl_setf(ctx, "assurers", "%d", s->assurers);
    ca_tmpl_setf(ctx, "given", "%d", s->given);
    if (ca_is_assured(s)) {
        ca_tmpl_set(ctx, "assured", "1");
    }
    if (q->is_assurer) {
        ca_tmpl_setf(ctx, "max_award", "%d",
                     ca_points_max_award(1, exp, q->junior, &rules));
    }
}

/* /wot/: what the member's points are and what to do next */
static int page_overview(assure_req_t *q)
{
    standing_vars(q);
    return assure_render(q, "wot.html", HTTP_OK);
}

/* ---- the route table and the one authorisation check ---- */

const cacert_route_t assure_wot_routes[] = {
    { "",        ASSURE_GET, ASSURE_MEMBER, 0, NULL, page_overview },
    { NULL, 0, 0, 0, NULL, NULL }
};

static const cacert_route_t *find_route(const char *path)
{
    const cacert_route_t *const tables[] = { assure_wot_routes, assure_console_routes,
                                             assure_org_routes, NULL };
    const cacert_route_t *rt;
    int t;

    for (t = 0; tables[t]; t++) {
        for (rt = tables[t]; rt->path; rt++) {
            if (!strcmp(rt->path, path)) {
                return rt;
            }
        }
    }
    return NULL;
}

/* the client certificate of the request is the configured import client */
static int import_client_ok(request_rec *r, const assure_cfg_t *c)
{
    const char *verify, *pem, *fp;
    BIO *b;
    X509 *x;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    char hex[65];

    if (!c->import_sha256 || !ssl_lookup) {
        return 0;
    }
    verify = ssl_lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_VERIFY");
    pem = ssl_lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_CERT");
    /* pinned by fingerprint: mod_ssl's chain check (SUCCESS) or none
     * (GENEROUS, with SSLVerifyClient optional_no_ca) */
    if (!verify || (strcmp(verify, "SUCCESS") && strcmp(verify, "GENEROUS"))
        || !pem || !*pem) {
        return 0;
    }
    b = BIO_new_mem_buf(pem, -1);
    x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x || !X509_digest(x, EVP_sha256(), md, &n) || n != 32) {
        X509_free(x);
        return 0;
    }
    X509_free(x);
    for (i = 0; i < n; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    fp = c->import_sha256;
    return CRYPTO_memcmp(hex, fp, 64) == 0;
}

/* a refusal: 403 and the page that says so */
static int forbidden(assure_req_t *q, const cacert_route_t *rt)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA40002: %s /%s refused to %s", q->r->method, rt->path,
                  q->member_id ? apr_pstrcat(q->r->pool, "member ", q->member_id, NULL)
                               : "a visitor");
    return assure_message(q, "title.forbidden", "err.forbidden", HTTP_FORBIDDEN);
}

static int assure_handler(request_rec *r)
{
    const cacert_route_t *rt;
    const char *slash;
    assure_req_t *q;
    unsigned want;
    apr_status_t rv;
    int rc;

    if (!r->handler || strcmp(r->handler, HANDLER_NAME)) {
        return DECLINED;
    }
    if (!page_start) {
        retrieve_fns();
    }
    if (!page_start) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CA40003: mod_cacert_assure needs mod_cacert_account");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    slash = strrchr(r->uri, '/');
    if (!slash) {
        return DECLINED;
    }
    rt = find_route(slash + 1);
    want = r->method_number == M_GET ? ASSURE_GET : r->method_number == M_POST ? ASSURE_POST
           : 0;
    if (rt && !(rt->methods & want)) {
        r->allowed = ((rt->methods & ASSURE_GET) ? (AP_METHOD_BIT << M_GET) : 0)
                     | ((rt->methods & ASSURE_POST) ? (AP_METHOD_BIT << M_POST) : 0);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    q = apr_pcalloc(r->pool, sizeof(*q));
    q->r = r;
    q->cfg = ap_get_module_config(r->server->module_config, &cacert_assure_module);

    if (rt && rt->access == ASSURE_CLIENT) {
        /* a machine, not a browser: no session, no CSRF token, plain text */
        if (!import_client_ok(r, q->cfg)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          "CA40004: /%s without the configured client certificate",
                          rt->path);
            return HTTP_FORBIDDEN;
        }
        return rt->handler(q);
    }

    rc = page_start(&q->pg, r, rt && rt->access != ASSURE_ANON ? 1 : -1,
                    rt ? rt->text_fields : NULL);
    if (rc != OK) {
        return rc;
    }
    if (!rt) {
        return assure_message(q, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
    }
    if (q->pg->sess) {
        q->member_id = q->pg->sess->member_id;
        if ((rv = ca_roles_of(&q->roles, q->pg->db, q->member_id, r->pool)) != APR_SUCCESS
            || (rv = ca_account_standing(&q->standing, q->pg->db, q->member_id, r->pool))
            != APR_SUCCESS) {
            return assure_internal_error(q, rv, "member standing");
        }
        q->is_assurer = ca_is_assurer(&q->standing);
        q->junior = ca_points_junior(q->pg->sess->dob, today(r->pool));
    }
    switch (rt->access) {
    case ASSURE_ANON:
        break;
    case ASSURE_MEMBER:
        if (!q->member_id) {
            return forbidden(q, rt);
        }
        break;
    case ASSURE_ASSURER:
        if (!q->member_id || !q->is_assurer) {
            return forbidden(q, rt);
        }
        break;
    case ASSURE_ROLE:
        if (!q->member_id || !rt->roles || !assure_has_role(q, rt->roles)) {
            return forbidden(q, rt);
        }
        break;
    default:
        return forbidden(q, rt);
    }
    return rt->handler(q);
}

static int assure_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *s)
{
    log_server = s;
    ca_log_set_sink(log_sink, NULL);
    retrieve_fns();
    if (!page_start) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CA40005: mod_cacert_assure needs mod_cacert_account (load it first)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(assure_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(assure_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA cacert_assure_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    create_srv_cfg,
    merge_srv_cfg,
    assure_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
