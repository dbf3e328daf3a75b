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
#include <apr_dbd.h>
#include <apr_thread_mutex.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_ssl.h>
#include <mod_dbd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca_log.h"
#include "ca_form.h"
#include "ca_tmpl.h"
#include "ca_valid.h"
#include "ca_account.h"
#include "ca_points.h"
#include "ca_roles.h"
#include "ca_wot.h"
#include "ca_console.h"
#include "ca_domain.h"
#include "ca_issue.h"
#include "ca_org.h"
#include "mod_cacert.h"
#include "mod_cacert_assure.h"

APLOG_USE_MODULE(cacert_assure);

#define CACERT_PREPARE_STMTS
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
    apr_int64_t stats_cache;    /* CAcertStatsCacheTime, seconds */
    const char *import_client;  /* CAcertChallengeImportClient: as configured */
    const char *import_sha256;  /* ... its SHA-256 fingerprint, lowercase hex */
};

static void *create_srv_cfg(apr_pool_t *p, server_rec *s)
{
    assure_cfg_t *c = apr_pcalloc(p, sizeof(*c));

    c->junior_max = c->junior_ttp = c->topup_max = c->contact_limit = UNSET;
    c->contact_window = c->stats_cache = UNSET;
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
    MERGE_NUM(stats_cache);
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

static apr_int64_t stats_cache_secs(const assure_cfg_t *cfg)
{
    return cfg->stats_cache != UNSET ? cfg->stats_cache : 300;
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

static const char *set_stats_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    apr_int64_t secs;

    if (err) {
        return err;
    }
    if (parse_seconds(&secs, arg) || secs > 86400) {
        return cmd_err(cmd, "must be a duration from 0 to 1d, e.g. 5m");
    }
    srv_cfg_of(cmd)->stats_cache = secs;
    return NULL;
}

static const command_rec assure_cmds[] = {
    AP_INIT_TAKE1("CAcertStatsCacheTime", set_stats_cache, NULL, RSRC_CONF,
                  "how long each process reuses the statistics it counted (default 5m; "
                  "0: count at every request)"),
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
    return cacert_field(q->pg, name);
}

const char *assure_arg(const assure_req_t *q, const char *name)
{
    return cacert_query_arg(q->r, name);
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
    return ca_wot_date_of(apr_time_now(), p);
}

/* ---- pages ---- */

/* the latest meeting date accepted: today in the easternmost time zone
 * (UTC+14; docs/wot.md) */
static const char *latest_date(apr_pool_t *p)
{
    return ca_wot_latest_date(apr_time_now(), p);
}

static void set_msgf(assure_req_t *q, const char *var, const char *key)
{
    assure_set_msg(q, var, key);
}

/* a message beside a field, and the form's general error */
static void field_error(assure_req_t *q, const char *field, const char *key)
{
    const char *var = apr_pstrcat(q->r->pool, "err_", field, NULL);

    if (!ca_tmpl_get(q->pg->ctx, var)) {
        set_msgf(q, var, key);
    }
    if (!ca_tmpl_get(q->pg->ctx, "error")) {
        set_msgf(q, "error", "err.form");
    }
}

/* the typed values back into the form (escaped by the templates) */
static void keep_values(assure_req_t *q)
{
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    int i;

    if (!q->pg->form) {
        return;
    }
    arr = apr_table_elts(q->pg->form);
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; i++) {
        if (strcmp(e[i].key, "csrf")) {
            ca_tmpl_set(q->pg->ctx, apr_pstrcat(q->r->pool, "v_", e[i].key, NULL), e[i].val);
        }
    }
    if (q->pg->form_errors) {
        arr = apr_table_elts(q->pg->form_errors);
        e = (const apr_table_entry_t *)arr->elts;
        for (i = 0; i < arr->nelts; i++) {
            field_error(q, e[i].key, e[i].val);
        }
    }
}

static const char *trimmed(assure_req_t *q, const char *name)
{
    return ca_trim(assure_form(q, name), q->r->pool);
}

static int max_award(assure_req_t *q)
{
    ca_points_rules_t rules;

    assure_points_rules(&rules, q->cfg);
    return ca_points_max_award(q->is_assurer, ca_points_experience(q->standing.given),
                               q->junior, &rules);
}

static void standing_vars(assure_req_t *q)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    const ca_standing_t *s = &q->standing;
    int exp = ca_points_experience(s->given);

    ca_tmpl_setf(ctx, "received", "%d", s->received);
    ca_tmpl_setf(ctx, "received_counted", "%d", ca_points_received(s->received));
    ca_tmpl_setf(ctx, "experience", "%d", exp);
    ca_tmpl_setf(ctx, "total", "%d", ca_points_total(s));
    ca_tmpl_setf(ctx, "assurers", "%d", s->assurers);
    ca_tmpl_setf(ctx, "given", "%d", s->given);
    if (ca_is_assured(s)) {
        ca_tmpl_set(ctx, "assured", "1");
    }
    if (s->challenge) {
        ca_tmpl_set(ctx, "challenge", "1");
    }
    if (q->is_assurer) {
        int next = ca_points_experience_to_next(exp);
        ca_tmpl_setf(ctx, "max_award", "%d", max_award(q));
        if (next && !q->junior) {
            ca_tmpl_setf(ctx, "exp_next", "%d", next);
            ca_tmpl_setf(ctx, "assurances_next", "%d",
                         (next + CA_POINTS_EXP_PER_ASSURANCE - 1) / CA_POINTS_EXP_PER_ASSURANCE);
            ca_tmpl_setf(ctx, "award_next", "%d", max_award(q) + 5);
        }
        if (q->junior) {
            ca_tmpl_set(ctx, "junior", "1");
        }
    }
    else if (s->received >= CA_POINTS_ASSURER && !s->challenge) {
        ca_tmpl_set(ctx, "needs_challenge", "1");
    }
}

/* /wot/: the member's points and what to do next */
static int page_overview(assure_req_t *q)
{
    standing_vars(q);
    return assure_render(q, "wot.html", HTTP_OK);
}

/* what a standing grants, as template items "grants" */
static void grant_items(assure_req_t *q, const char *list, const ca_standing_t *st)
{
    static const ca_profile_t profiles[] = { CA_PROFILE_CLIENT, CA_PROFILE_SERVER,
                                             CA_PROFILE_CODESIGN };
    ca_policy_cfg_t pc = { 0, 183, 730 };
    apr_pool_t *p = q->r->pool;
    int i;

    for (i = 0; i < 3; i++) {
        ca_grant_t g;
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, list);
        ca_standing_t s = *st;
        /* the code-signing flag is an administrator's decision: shown as
         * possible when everything else is there */
        s.codesign = 1;
        ca_policy_grant(&g, &s, profiles[i], &pc);
        assure_set_msg(q, "label", apr_pstrcat(p, "profile.", ca_profile_name(profiles[i]),
                                               NULL));
        ca_tmpl_set(item, "label", ca_tmpl_get(q->pg->ctx, "label"));
        if (g.ca) {
            ca_tmpl_set(item, "ca", g.ca);
            if (g.may_name) ca_tmpl_set(item, "may_name", "1");
            if (g.may_wildcard) ca_tmpl_set(item, "may_wildcard", "1");
            if (g.may_multi) ca_tmpl_set(item, "may_multi", "1");
            if (!strcmp(g.ca, "assured")) ca_tmpl_set(item, "long", "1");
        }
        else {
            ca_tmpl_set(item, "refused", "1");
        }
    }
    ca_tmpl_set(q->pg->ctx, "label", NULL);
}

static void line_items(assure_req_t *q, const char *list, const apr_array_header_t *lines)
{
    int i;

    for (i = 0; i < lines->nelts; i++) {
        const ca_wot_line_t *l = &APR_ARRAY_IDX(lines, i, ca_wot_line_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, list);
        ca_tmpl_set(item, "date", l->date);
        ca_tmpl_set(item, "other", l->other);
        ca_tmpl_setf(item, "points", "%d", l->points);
        ca_tmpl_set(item, "location", l->location);
        ca_tmpl_set(item, "ttp", l->ttp);
        assure_set_msg(q, "method_text", apr_pstrcat(q->r->pool, "wot.method.", l->method,
                                                     NULL));
        ca_tmpl_set(item, "method", ca_tmpl_get(q->pg->ctx, "method_text"));
    }
    ca_tmpl_set(q->pg->ctx, "method_text", NULL);
}

/* /wot/points: assurances received and given, what the points allow */
static int page_points(assure_req_t *q)
{
    apr_array_header_t *received, *given;
    ca_standing_t next = q->standing;
    apr_status_t rv;

    if ((rv = ca_wot_lines(&received, &given, q->pg->db, q->member_id, q->r->pool))
        != APR_SUCCESS) {
        return assure_internal_error(q, rv, "assurance list");
    }
    standing_vars(q);
    line_items(q, "received_list", received);
    line_items(q, "given_list", given);
    grant_items(q, "grants", &q->standing);
    /* the next level: Assured Member, then Assurer */
    if (!ca_is_assured(&q->standing)) {
        next.received = CA_POINTS_ASSURED > next.received ? CA_POINTS_ASSURED : next.received;
        next.assurers = CA_POINTS_ASSURED_BY;
        ca_tmpl_set(q->pg->ctx, "next_assured", "1");
        grant_items(q, "next_grants", &next);
    }
    else if (!ca_is_assurer(&q->standing) && !q->standing.blocked) {
        next.received = CA_POINTS_ASSURER > next.received ? CA_POINTS_ASSURER : next.received;
        next.challenge = 1;
        ca_tmpl_set(q->pg->ctx, "next_assurer", "1");
        grant_items(q, "next_grants", &next);
    }
    if (assure_arg(q, "done")) {
        assure_set_msg(q, "notice", "ok.wot.assured");
    }
    return assure_render(q, "points.html", HTTP_OK);
}

/* /wot/cap: the CAP form to print, filled in with the member's data */
static int page_cap(assure_req_t *q)
{
    const ca_session_t *s = q->pg->sess;
    apr_array_header_t *emails;
    apr_status_t rv;
    int i;

    if ((rv = ca_account_emails(&emails, q->pg->db, q->member_id, q->r->pool))
        != APR_SUCCESS) {
        return assure_internal_error(q, rv, "addresses");
    }
    ca_tmpl_set(q->pg->ctx, "given", s->given);
    ca_tmpl_set(q->pg->ctx, "middle", s->middle);
    ca_tmpl_set(q->pg->ctx, "family", s->family);
    ca_tmpl_set(q->pg->ctx, "suffix", s->suffix);
    ca_tmpl_set(q->pg->ctx, "dob", s->dob);
    for (i = 0; i < emails->nelts; i++) {
        const ca_email_t *e = &APR_ARRAY_IDX(emails, i, ca_email_t);
        if (e->primary) {
            ca_tmpl_set(q->pg->ctx, "email", e->address);
        }
    }
    ca_tmpl_set(q->pg->ctx, "today", today(q->r->pool));
    return assure_render(q, "cap.html", HTTP_OK);
}

/* ---- assurance entry: face to face (Assurers) and TTP (TTP-admins) ---- */

static void suffix_items(assure_req_t *q, const char *cur)
{
    int i;

    for (i = 0; ca_name_suffixes[i]; i++) {
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, "suffixes");
        ca_tmpl_set(item, "value", ca_name_suffixes[i]);
        if (cur && !strcmp(cur, ca_name_suffixes[i])) {
            ca_tmpl_set(item, "selected", "1");
        }
    }
}

/* render the entry form; step2: the details part */
static int entry_render(assure_req_t *q, ca_wot_kind_t kind, const char *action,
                        int step2, int status)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    ca_points_rules_t rules;

    assure_points_rules(&rules, q->cfg);
    keep_values(q);
    ca_tmpl_set(ctx, "action", action);
    if (kind != CA_WOT_FACE_TO_FACE) {
        ca_tmpl_set(ctx, "ttp_form", "1");
        ca_tmpl_setf(ctx, "max_points", "%d", kind == CA_WOT_TOPUP ? rules.topup_max
                                                                   : CA_POINTS_TTP_EACH);
        ca_tmpl_set(ctx, kind == CA_WOT_TOPUP ? "kind_topup" : "kind_ttp", "1");
    }
    else {
        ca_tmpl_setf(ctx, "max_points", "%d", max_award(q));
    }
    ca_tmpl_set(ctx, apr_pstrcat(q->r->pool, "docsel_",
                                 *assure_form(q, "documents") ? assure_form(q, "documents")
                                                              : "2", NULL), "1");
    if (step2) {
        ca_tmpl_set(ctx, "step2", "1");
        suffix_items(q, assure_form(q, "suffix"));
    }
    return assure_render(q, "assure.html", status);
}

static ca_wot_kind_t kind_of(assure_req_t *q, int ttp)
{
    if (!ttp) {
        return CA_WOT_FACE_TO_FACE;
    }
    return !strcmp(assure_form(q, "kind"), "ttp-topup") ? CA_WOT_TOPUP : CA_WOT_TTP;
}

/* step 1: find the member by address; early, clear refusals */
static int entry_find(assure_req_t *q, const char *action, int ttp)
{
    const char *email = trimmed(q, "email"), *key = NULL;
    ca_wot_kind_t kind = kind_of(q, ttp);
    ca_wot_assuree_t a;
    apr_status_t rv;

    if (ca_valid_email(email)) {
        field_error(q, "email", "wot.email.invalid");
        return entry_render(q, kind, action, 0, HTTP_UNPROCESSABLE_ENTITY);
    }
    rv = ca_wot_assuree(&a, q->pg->db, email, q->r->pool);
    if (rv == APR_NOTFOUND) {
        key = "wot.assuree.unknown";
    }
    else if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, "assuree lookup");
    }
    else if (!strcmp(a.id, q->member_id)) {
        key = "wot.self";
    }
    else if (a.locked) {
        key = "wot.assuree.locked";
    }
    else if (!a.verified) {
        key = "wot.assuree.unverified";
    }
    if (key) {
        field_error(q, "email", key);
        assure_set_msg(q, "error", key);
        return entry_render(q, kind, action, 0, HTTP_UNPROCESSABLE_ENTITY);
    }
    ca_tmpl_set(q->pg->ctx, "v_version", a.version);
    ca_tmpl_set(q->pg->ctx, "v_email", email);
    if (!*assure_form(q, "location") && !ttp) {
        ca_tmpl_set(q->pg->ctx, "v_date", today(q->r->pool));
    }
    return entry_render(q, kind, action, 1, HTTP_OK);
}

static apr_status_t entry_mails(assure_req_t *q, const ca_wot_done_t *d,
                                const ca_wot_entry_t *e)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, q->r->pool);
    apr_status_t rv, rv2;

    ca_tmpl_set(ctx, "assuree", d->assuree_given);
    ca_tmpl_set(ctx, "assurer", d->assurer_name);
    ca_tmpl_set(ctx, "assurer_given", d->assurer_given);
    ca_tmpl_setf(ctx, "points", "%d", e->points);
    ca_tmpl_setf(ctx, "total", "%d", d->assuree_points);
    ca_tmpl_set(ctx, "date", e->date);
    ca_tmpl_set(ctx, "location", e->location);
    ca_tmpl_set(ctx, "method", ca_wot_kind_name(e->kind));
    ca_tmpl_set(ctx, "ttp", e->kind == CA_WOT_FACE_TO_FACE ? NULL : e->ttp);
    ca_tmpl_set(ctx, "wot", ap_construct_url(q->r->pool, q->pg->base, q->r));
    rv = d->assuree_email ? assure_mail(q, d->assuree_lang, "mail/assured.txt", ctx,
                                        d->assuree_email) : APR_SUCCESS;
    rv2 = d->assurer_email ? assure_mail(q, d->assurer_lang, "mail/assurance_given.txt", ctx,
                                         d->assurer_email) : APR_SUCCESS;
    return rv != APR_SUCCESS ? rv : rv2;
}

/* step 2: the details; everything checked again inside the transaction */
static int entry_enter(assure_req_t *q, const char *action, int ttp)
{
    apr_pool_t *p = q->r->pool;
    ca_wot_entry_t e;
    ca_wot_done_t done;
    ca_points_rules_t rules;
    const char *err, *refusal;
    int ok = 1, max;
    apr_status_t rv;

    memset(&e, 0, sizeof(e));
    assure_points_rules(&rules, q->cfg);
    e.kind = kind_of(q, ttp);
    e.assurer_id = q->member_id;
    e.email = trimmed(q, "email");
    e.version = assure_form(q, "version");
    e.given = assure_form(q, "given");
    e.middle = assure_form(q, "middle");
    e.family = assure_form(q, "family");
    e.suffix = assure_form(q, "suffix");
    e.location = trimmed(q, "location");
    e.date = trimmed(q, "date");
    e.cca_agreed = !strcmp(assure_form(q, "cca"), "yes");
    e.face_to_face = !strcmp(assure_form(q, "f2f"), "yes");
    if (ca_valid_dob(&e.dob, assure_form(q, "dob_year"), assure_form(q, "dob_month"),
                     assure_form(q, "dob_day"), apr_time_now(), p)) {
        /* a date that cannot be a date of birth matches no account */
        field_error(q, "dob", "wot.dob.invalid");
        ok = 0;
    }
    if (!*e.given || !*e.family) {
        field_error(q, *e.given ? "family" : "given", "wot.name.required");
        ok = 0;
    }
    max = e.kind == CA_WOT_FACE_TO_FACE ? max_award(q)
          : e.kind == CA_WOT_TOPUP ? rules.topup_max : CA_POINTS_TTP_EACH;
    if ((err = ca_wot_check_points(&e.points, trimmed(q, "points"), max))) {
        field_error(q, "points", err);
        ok = 0;
    }
    if ((err = ca_wot_check_date(e.date, latest_date(p)))) {
        field_error(q, "date", err);
        ok = 0;
    }
    if ((err = ca_wot_check_text(e.location, 200))) {
        field_error(q, "location", err);
        ok = 0;
    }
    if ((err = ca_wot_check_documents(&e.documents, assure_form(q, "documents")))) {
        field_error(q, "documents", err);
        ok = 0;
    }
    if (ttp) {
        e.ttp = trimmed(q, "ttp");
        if ((err = ca_wot_check_text(e.ttp, 200))) {
            field_error(q, "ttp", err);
            ok = 0;
        }
    }
    if (!e.cca_agreed || !e.face_to_face) {
        field_error(q, "declarations", "wot.cap.declarations");
        ok = 0;
    }
    if (!ok) {
        return entry_render(q, e.kind, action, 1, HTTP_UNPROCESSABLE_ENTITY);
    }
    rv = ca_wot_assure(&refusal, &done, q->pg->db, &e, &rules, apr_time_now(), p);
    if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, "assurance");
    }
    if (refusal) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA40010: assurance by member %s refused: %s", q->member_id, refusal);
        assure_set_msg(q, "error", refusal);
        return entry_render(q, e.kind, action, 1, HTTP_UNPROCESSABLE_ENTITY);
    }
    if ((rv = entry_mails(q, &done, &e)) != APR_SUCCESS) {
        /* the assurance stands; the mails are a courtesy */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, q->r,
                      "CA40011: assurance %s recorded, but its mails failed",
                      done.assurance_id);
    }
    return assure_redirect(q, ttp ? "ttp-admin?done=1" : "points?done=1");
}

static int entry_page(assure_req_t *q, const char *action, int ttp)
{
    const char *step = assure_form(q, "step");

    if (q->r->method_number != M_POST) {
        return entry_render(q, ttp ? CA_WOT_TTP : CA_WOT_FACE_TO_FACE, action, 0, HTTP_OK);
    }
    if (!strcmp(step, "enter")) {
        return entry_enter(q, action, ttp);
    }
    return entry_find(q, action, ttp);
}

/* /wot/assure: an Assurer enters a face-to-face assurance */
static int page_assure(assure_req_t *q)
{
    return entry_page(q, "assure", 0);
}

/* ---- TTP ---- */

/* /wot/ttp: a member asks for TTP-assisted assurance */
static int page_ttp(assure_req_t *q)
{
    ca_points_rules_t rules;
    apr_array_header_t *open;
    const char *refusal = NULL, *country, *note, *err;
    apr_status_t rv;
    int status = HTTP_OK;

    assure_points_rules(&rules, q->cfg);
    if (q->junior && !rules.junior_ttp) {
        ca_tmpl_set(q->pg->ctx, "junior", "1");
    }
    if (q->r->method_number == M_POST) {
        country = trimmed(q, "country");
        note = trimmed(q, "note");
        if ((err = ca_wot_check_country(country))) {
            field_error(q, "country", err);
        }
        else if (strlen(note) > 2000) {
            field_error(q, "note", "wot.text.toolong");
        }
        else {
            rv = ca_wot_ttp_request(&refusal, q->pg->db, q->member_id, country, note,
                                    q->junior, &rules, q->r->pool);
            if (rv != APR_SUCCESS) {
                return assure_internal_error(q, rv, "TTP request");
            }
            if (!refusal) {
                return assure_redirect(q, "ttp?sent=1");
            }
            assure_set_msg(q, "error", refusal);
        }
        keep_values(q);
        status = HTTP_UNPROCESSABLE_ENTITY;
    }
    if (assure_arg(q, "sent")) {
        assure_set_msg(q, "notice", "ok.wot.ttp.sent");
    }
    if ((rv = ca_wot_ttp_requests(&open, q->pg->db, q->member_id, q->r->pool))
        != APR_SUCCESS) {
        return assure_internal_error(q, rv, "TTP requests");
    }
    if (open->nelts) {
        const ca_wot_ttp_req_t *r = &APR_ARRAY_IDX(open, 0, ca_wot_ttp_req_t);
        ca_tmpl_set(q->pg->ctx, "open_date", r->date);
        ca_tmpl_set(q->pg->ctx, "open_country", r->country);
    }
    standing_vars(q);
    return assure_render(q, "ttp.html", status);
}

/* /wot/ttp-admin: open requests, and the TTP assurance form */
static int page_ttp_admin(assure_req_t *q)
{
    apr_array_header_t *open;
    apr_status_t rv;
    int i;

    if ((rv = ca_wot_ttp_requests(&open, q->pg->db, NULL, q->r->pool)) != APR_SUCCESS) {
        return assure_internal_error(q, rv, "TTP requests");
    }
    for (i = 0; i < open->nelts; i++) {
        const ca_wot_ttp_req_t *r = &APR_ARRAY_IDX(open, i, ca_wot_ttp_req_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, "requests");
        ca_tmpl_set(item, "name", r->name);
        ca_tmpl_set(item, "email", r->email);
        ca_tmpl_set(item, "country", r->country);
        ca_tmpl_set(item, "note", r->note);
        ca_tmpl_set(item, "date", r->date);
    }
    if (q->r->method_number == M_GET && assure_arg(q, "done")) {
        assure_set_msg(q, "notice", "ok.wot.assured");
    }
    return entry_page(q, "ttp-admin", 1);
}

/* ---- the Assurer Challenge ---- */

/* /wot/challenge: an administrator records a pass */
static int page_challenge(assure_req_t *q)
{
    const char *email, *date, *variant, *ticket, *err, *refusal;
    apr_status_t rv;
    int ok = 1;

    if (q->r->method_number != M_POST) {
        ca_tmpl_set(q->pg->ctx, "v_date", today(q->r->pool));
        if (assure_arg(q, "done")) {
            assure_set_msg(q, "notice", "ok.wot.challenge");
        }
        return assure_render(q, "challenge.html", HTTP_OK);
    }
    email = trimmed(q, "email");
    date = trimmed(q, "date");
    variant = trimmed(q, "variant");
    ticket = trimmed(q, "ticket");
    if (!ca_ticket_ok(ticket)) {
        field_error(q, "ticket", *ticket ? "wot.challenge.ticket" : "console.ticket.missing");
        ok = 0;
    }
    if (ca_valid_email(email)) {
        field_error(q, "email", "wot.email.invalid");
        ok = 0;
    }
    if ((err = ca_wot_check_date(date, latest_date(q->r->pool)))) {
        field_error(q, "date", err);
        ok = 0;
    }
    if ((err = ca_wot_check_variant(variant))) {
        field_error(q, "variant", err);
        ok = 0;
    }
    if (ok) {
        rv = ca_wot_challenge(&refusal, q->pg->db, email, date, variant, "admin",
                              q->member_id, ticket, q->r->pool);
        if (rv != APR_SUCCESS) {
            return assure_internal_error(q, rv, "challenge pass");
        }
        if (!refusal) {
            return assure_redirect(q, "challenge?done=1");
        }
        assure_set_msg(q, "error", refusal);
    }
    keep_values(q);
    return assure_render(q, "challenge.html", HTTP_UNPROCESSABLE_ENTITY);
}

static int plain(request_rec *r, int status, const char *text)
{
    r->status = status;
    ap_set_content_type(r, "text/plain; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_rputs(text, r);
    return OK;
}

/* /wot/challenge-import: the external challenge system reports a pass.
 * POST email=...&date=YYYY-MM-DD&variant=...; answers a status line. */
static int page_challenge_import(assure_req_t *q)
{
    request_rec *r = q->r;
    APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    ca_form_limits_t lim = { 4096, 8, 256, NULL, 0 };
    const char *ct = apr_table_get(r->headers_in, "Content-Type"), *err, *refusal;
    const char *email, *date, *variant;
    apr_table_t *form, *errs;
    char buf[4097];
    apr_size_t len = 0;
    ap_dbd_t *dbd;
    ca_db_t db;
    apr_status_t rv;
    long n;
    int rc;

    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
        return plain(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "ERROR form expected\n");
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + len, sizeof(buf) - 1 - len)) > 0) {
            len += (apr_size_t)n;
            if (len >= sizeof(buf) - 1) {
                return plain(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "ERROR too large\n");
            }
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    if (ca_form_parse(&form, &errs, &err, buf, len, &lim, r->pool) != APR_SUCCESS
        || !apr_is_empty_table(errs)) {
        return plain(r, HTTP_BAD_REQUEST, "ERROR malformed form\n");
    }
    email = apr_table_get(form, "email");
    date = apr_table_get(form, "date");
    variant = apr_table_get(form, "variant");
    if (!email || ca_valid_email(email)) {
        return plain(r, HTTP_BAD_REQUEST, "ERROR email\n");
    }
    if (!date || ca_wot_check_date(date, latest_date(r->pool))) {
        return plain(r, HTTP_BAD_REQUEST, "ERROR date\n");
    }
    if (!variant || ca_wot_check_variant(variant)) {
        return plain(r, HTTP_BAD_REQUEST, "ERROR variant\n");
    }
    if (!acquire || !(dbd = acquire(r))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CA40020: no database connection for the challenge import");
        return plain(r, HTTP_SERVICE_UNAVAILABLE, "ERROR try later\n");
    }
    memset(&db, 0, sizeof(db));
    db.driver = dbd->driver;
    db.handle = dbd->handle;
    db.prepared = dbd->prepared;
    rv = ca_wot_challenge(&refusal, &db, email, date, variant, "import", NULL, NULL, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "CA40021: challenge import failed");
        return plain(r, HTTP_INTERNAL_SERVER_ERROR, "ERROR internal\n");
    }
    if (refusal && !strcmp(refusal, "wot.assuree.unknown")) {
        return plain(r, HTTP_NOT_FOUND, "ERROR unknown member\n");
    }
    if (refusal) {
        return plain(r, HTTP_OK, "OK already recorded\n");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "CA40022: challenge pass imported for %s (%s, %s)", email, variant, date);
    return plain(r, HTTP_OK, "OK recorded\n");
}

/* ---- find an Assurer ---- */

/* /wot/listing: an Assurer opts in or out of the listing */
static int page_listing(assure_req_t *q)
{
    ca_wot_listing_t l;
    const char *err;
    apr_status_t rv;
    int ok = 1;

    if (q->r->method_number != M_POST) {
        rv = ca_wot_listing_get(&l, q->pg->db, q->member_id, q->r->pool);
        if (rv == APR_SUCCESS) {
            ca_tmpl_set(q->pg->ctx, "v_country", l.country);
            ca_tmpl_set(q->pg->ctx, "v_town", l.town);
            ca_tmpl_set(q->pg->ctx, "v_languages", l.languages);
            if (l.listed) {
                ca_tmpl_set(q->pg->ctx, "listed", "1");
            }
        }
        else if (rv != APR_NOTFOUND) {
            return assure_internal_error(q, rv, "listing");
        }
        if (assure_arg(q, "saved")) {
            assure_set_msg(q, "notice", "ok.wot.listing");
        }
        return assure_render(q, "listing.html", HTTP_OK);
    }
    memset(&l, 0, sizeof(l));
    l.listed = !strcmp(assure_form(q, "listed"), "yes");
    l.country = trimmed(q, "country");
    l.town = trimmed(q, "town");
    l.languages = trimmed(q, "languages");
    if ((err = ca_wot_check_country(l.country))) {
        field_error(q, "country", err);
        ok = 0;
    }
    if ((err = ca_wot_check_text(l.town, 100))) {
        field_error(q, "town", err);
        ok = 0;
    }
    if (strlen(l.languages) > 100) {
        field_error(q, "languages", "wot.text.toolong");
        ok = 0;
    }
    if (!ok) {
        keep_values(q);
        if (l.listed) {
            ca_tmpl_set(q->pg->ctx, "listed", "1");
        }
        return assure_render(q, "listing.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if ((rv = ca_wot_listing_set(q->pg->db, q->member_id, &l, q->r->pool)) != APR_SUCCESS) {
        return assure_internal_error(q, rv, "listing");
    }
    return assure_redirect(q, "listing?saved=1");
}

/* /wot/find: members look for Assurers by country and town */
static int page_find(assure_req_t *q)
{
    const char *country = assure_arg(q, "country"), *town = assure_arg(q, "town");
    apr_array_header_t *found;
    apr_status_t rv;
    int i;

    if (!country) {
        return assure_render(q, "find.html", HTTP_OK);
    }
    town = town ? ca_trim(town, q->r->pool) : "";
    ca_tmpl_set(q->pg->ctx, "v_country", country);
    ca_tmpl_set(q->pg->ctx, "v_town", town);
    if (ca_wot_check_country(country) || strlen(town) > 100) {
        field_error(q, "country", "wot.country.invalid");
        return assure_render(q, "find.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if ((rv = ca_wot_find(&found, q->pg->db, country, town, q->r->pool)) != APR_SUCCESS) {
        return assure_internal_error(q, rv, "find");
    }
    ca_tmpl_set(q->pg->ctx, "searched", "1");
    for (i = 0; i < found->nelts; i++) {
        const ca_wot_found_t *f = &APR_ARRAY_IDX(found, i, ca_wot_found_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, "found");
        ca_tmpl_set(item, "id", f->member_id);
        ca_tmpl_set(item, "name", f->name);
        ca_tmpl_set(item, "town", f->town);
        ca_tmpl_set(item, "country", f->country);
        ca_tmpl_set(item, "languages", f->languages);
    }
    return assure_render(q, "find.html", HTTP_OK);
}

typedef struct {
    assure_req_t *q;
    const char *message;
} contact_baton_t;

static apr_status_t contact_send(void *baton, const ca_wot_contact_t *to, apr_pool_t *p)
{
    contact_baton_t *b = baton;
    assure_req_t *q = b->q;
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, p);
    apr_array_header_t *emails;
    apr_status_t rv;
    int i;

    if ((rv = ca_account_emails(&emails, q->pg->db, q->member_id, p)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < emails->nelts; i++) {
        const ca_email_t *e = &APR_ARRAY_IDX(emails, i, ca_email_t);
        if (e->primary) {
            ca_tmpl_set(ctx, "sender_email", e->address);
        }
    }
    ca_tmpl_set(ctx, "assurer", to->given);
    ca_tmpl_set(ctx, "sender", apr_pstrcat(p, q->pg->sess->given, " ", q->pg->sess->family,
                                           NULL));
    ca_tmpl_set(ctx, "message", b->message);
    return assure_mail(q, to->lang, "mail/contact.txt", ctx, to->email);
}

/* /wot/contact?id=N: a message to a listed Assurer, relayed by mail */
static int page_contact(assure_req_t *q)
{
    const char *id = q->r->method_number == M_POST ? assure_form(q, "id")
                                                    : assure_arg(q, "id");
    const char *message, *refusal;
    contact_baton_t b;
    apr_status_t rv;

    if (!id || !ca_is_id(id)) {
        return assure_message(q, "title.notfound", "wot.contact.unknown", HTTP_NOT_FOUND);
    }
    ca_tmpl_set(q->pg->ctx, "v_id", id);
    if (q->r->method_number != M_POST) {
        return assure_render(q, "contact.html", HTTP_OK);
    }
    message = ca_trim(assure_form(q, "message"), q->r->pool);
    if (ca_wot_check_text(message, 4000)) {
        keep_values(q);
        field_error(q, "message", ca_wot_check_text(message, 4000));
        return assure_render(q, "contact.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    b.q = q;
    b.message = message;
    rv = ca_wot_contact(&refusal, q->pg->db, q->member_id, id, assure_contact_limit(q->cfg),
                        assure_contact_window(q->cfg), contact_send, &b, q->r->pool);
    if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, "contact relay");
    }
    if (refusal) {
        keep_values(q);
        assure_set_msg(q, "error", refusal);
        return assure_render(q, "contact.html", !strcmp(refusal, "wot.contact.limit")
                                                ? HTTP_TOO_MANY_REQUESTS
                                                : HTTP_UNPROCESSABLE_ENTITY);
    }
    return assure_message(q, "title.contact", "ok.wot.contact", HTTP_OK);
}

/* ---- statistics ---- */

#define CHART_HEIGHT 120
#define BAR_STEP 40

/* The statistics a process counted last: aggregates over every member and
 * assurance are the one expensive query of the module, and public figures
 * a few minutes old are as good (CAcertStatsCacheTime). */
#define STATS_MONTHS 12
typedef struct {
    apr_time_t at;                      /* 0: nothing counted yet */
    apr_int64_t for_secs;
    int members, assured, assurers, assurances, n;
    char months[STATS_MONTHS][8];
    int per_month[STATS_MONTHS], certs[STATS_MONTHS];
} stats_cache_t;

static stats_cache_t stats_cache;
static apr_thread_mutex_t *stats_mutex;

static apr_status_t stats_get(stats_cache_t *out, assure_req_t *q)
{
    apr_int64_t secs = stats_cache_secs(q->cfg);
    apr_time_t now = apr_time_now();
    ca_wot_stats_t st;
    apr_status_t rv;
    int i;

    if (secs > 0 && stats_mutex) {
        apr_thread_mutex_lock(stats_mutex);
        *out = stats_cache;
        apr_thread_mutex_unlock(stats_mutex);
        if (out->at && out->for_secs == secs && now >= out->at
            && now - out->at < apr_time_from_sec(secs)) {
            return APR_SUCCESS;
        }
    }
    if ((rv = ca_wot_stats(&st, q->pg->db, q->r->pool)) != APR_SUCCESS) {
        return rv;
    }
    memset(out, 0, sizeof(*out));
    out->at = now;
    out->for_secs = secs;
    out->members = st.members;
    out->assured = st.assured;
    out->assurers = st.assurers;
    out->assurances = st.assurances;
    for (i = 0; i < st.months->nelts && i < STATS_MONTHS; i++) {
        apr_cpystrn(out->months[i], APR_ARRAY_IDX(st.months, i, const char *),
                    sizeof(out->months[i]));
        out->per_month[i] = APR_ARRAY_IDX(st.per_month, i, int);
        out->certs[i] = APR_ARRAY_IDX(st.certs, i, int);
    }
    out->n = i;
    if (secs > 0 && stats_mutex) {
        apr_thread_mutex_lock(stats_mutex);
        stats_cache = *out;
        apr_thread_mutex_unlock(stats_mutex);
    }
    return APR_SUCCESS;
}

static void chart(assure_req_t *q, const char *list, const stats_cache_t *st,
                  const int *values)
{
    int heights[STATS_MONTHS], i, max;

    ca_wot_bars(heights, &max, values, st->n, CHART_HEIGHT);
    ca_tmpl_setf(q->pg->ctx, apr_pstrcat(q->r->pool, list, "_max", NULL), "%d", max);
    for (i = 0; i < st->n; i++) {
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, list);
        ca_tmpl_set(item, "month", apr_pstrdup(q->r->pool, st->months[i]));
        ca_tmpl_set(item, "label", apr_pstrdup(q->r->pool, st->months[i] + 5));  /* "MM" */
        ca_tmpl_setf(item, "n", "%d", values[i]);
        ca_tmpl_setf(item, "x", "%d", 10 + i * BAR_STEP);
        ca_tmpl_setf(item, "tx", "%d", 10 + i * BAR_STEP + 15);
        ca_tmpl_setf(item, "y", "%d", 10 + CHART_HEIGHT - heights[i]);
        ca_tmpl_setf(item, "h", "%d", heights[i]);
    }
}

/* /wot/stats: public figures, no personal data */
static int page_stats(assure_req_t *q)
{
    stats_cache_t st;
    apr_status_t rv;
    int i;

    if ((rv = stats_get(&st, q)) != APR_SUCCESS) {
        return assure_internal_error(q, rv, "statistics");
    }
    ca_tmpl_setf(q->pg->ctx, "members", "%d", st.members);
    ca_tmpl_setf(q->pg->ctx, "assured", "%d", st.assured);
    ca_tmpl_setf(q->pg->ctx, "assurers", "%d", st.assurers);
    ca_tmpl_setf(q->pg->ctx, "assurances", "%d", st.assurances);
    chart(q, "assurance_bars", &st, st.per_month);
    chart(q, "cert_bars", &st, st.certs);
    for (i = 0; i < st.n; i++) {
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, "month_rows");
        ca_tmpl_set(item, "month", apr_pstrdup(q->r->pool, st.months[i]));
        ca_tmpl_setf(item, "assurances", "%d", st.per_month[i]);
        ca_tmpl_setf(item, "certs", "%d", st.certs[i]);
    }
    apr_table_setn(q->r->headers_out, "Cache-Control", "public, max-age=300");
    return assure_render(q, "stats.html", HTTP_OK);
}

/* ---- the route table and the one authorisation check ---- */

static const char *const contact_text[] = { "message", NULL };
static const char *const ttp_text[] = { "note", NULL };

const cacert_route_t assure_wot_routes[] = {
    { "",                 ASSURE_GET,               ASSURE_MEMBER,  0, NULL, page_overview },
    { "points",           ASSURE_GET,               ASSURE_MEMBER,  0, NULL, page_points },
    { "cap",              ASSURE_GET,               ASSURE_MEMBER,  0, NULL, page_cap },
    { "assure",           ASSURE_GET | ASSURE_POST, ASSURE_ASSURER, 0, NULL, page_assure },
    { "ttp",              ASSURE_GET | ASSURE_POST, ASSURE_MEMBER,  0, ttp_text, page_ttp },
    { "ttp-admin",        ASSURE_GET | ASSURE_POST, ASSURE_ROLE, CA_ROLE_TTP_ADMIN, NULL,
      page_ttp_admin },
    { "challenge",        ASSURE_GET | ASSURE_POST, ASSURE_ROLE, CA_ROLE_ADMIN, NULL,
      page_challenge },
    { "challenge-import", ASSURE_POST,              ASSURE_CLIENT,  0, NULL,
      page_challenge_import },
    { "listing",          ASSURE_GET | ASSURE_POST, ASSURE_ASSURER, 0, NULL, page_listing },
    { "find",             ASSURE_GET,               ASSURE_MEMBER,  0, NULL, page_find },
    { "contact",          ASSURE_GET | ASSURE_POST, ASSURE_MEMBER,  0, contact_text,
      page_contact },
    { "stats",            ASSURE_GET,               ASSURE_ANON,    0, NULL, page_stats },
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

static void assure_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_thread_mutex_create(&stats_mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
}

/* the statements of the tables this module uses, for mod_dbd */
static const ca_stmt_t *const assure_stmts[] = {
    ca_account_stmts, ca_console_stmts, ca_domain_stmts, ca_issue_stmts, ca_org_stmts,
    ca_roles_stmts, ca_wot_stmts, NULL
};

static int assure_prepare(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    return prepare_stmts(pconf, s, assure_stmts);
}

static void register_hooks(apr_pool_t *p)
{
    static const char *const dbd[] = { "mod_dbd.c", NULL };

    ap_hook_post_config(assure_prepare, NULL, dbd, APR_HOOK_MIDDLE);
    ap_hook_post_config(assure_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(assure_child_init, NULL, NULL, APR_HOOK_MIDDLE);
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
