/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Domain control for the members' account, linked into mod_cacert_account
 * (CPS 4.2.2, 3.1.7; DESIGN.md "Domain control") -- the domain pages, the
 * probes the member starts, the email ping's answer, and the watchdog job
 * that re-tests the static cookies of verified domains.  The contract with
 * the rest of the module is in account_domain.h; the directives are in
 * account_domain_config.c.
 *
 * Thin glue: the pages (on the module's page framework, account_page.c,
 * so they share its session, layout and CSRF check; dispatched by
 * mod_cacert_account.c) and the watchdog.  Names, the IDN rule and the
 * claim rules live in src/ca_domain.c, the probes in src/ca_probe.c, the
 * words in templates/. */
#include <string.h>
#include <stdlib.h>
#include <dlfcn.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_dbd.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>

#include <curl/curl.h>

#include "ca_log.h"
#include "ca_tmpl.h"
#include "ca_valid.h"
#include "ca_form.h"
#include "ca_domain.h"
#include "ca_probe.h"
#include "mod_cacert.h"
#include "account_private.h"

APLOG_USE_MODULE(cacert_account);

#define CACERT_DB_GUARD
#define CACERT_WATCHDOGS
#include "mod_cacert_glue.h"

#define RETEST_WATCHDOG "cacert-domain-retest"

/* ---- configuration ---- */

typedef account_domain_cfg_t dom_srv_cfg;

/* the defaults (ACCOUNT_DOMAIN_SETTINGS, account_domain.h): what a
 * directive not given in any server means */
static const dom_srv_cfg defaults = { CACERT_SETTINGS_DEFAULTS(ACCOUNT_DOMAIN_SETTINGS) };

/* the configured value of field f of *c, or its default */
#define CFG(c, f) CACERT_CFG(c, defaults, f)

static const ca_domain_cfg_t *cacert_domain_cfg(server_rec *s)
{
    dom_srv_cfg *c = account_domain_cfg_of(s);

    return &c->dom;
}

static apr_status_t cacert_domain_probe(server_rec *s, ca_probe_result_t *res, int dns,
                                        const char *owner, const char *path,
                                        const char *expect, int http_port, apr_pool_t *p)
{
    ca_probe_cfg_t pc = account_domain_cfg_of(s)->probe;

    if (dns) {
        return ca_probe_txt(res, owner, expect, &pc, p);
    }
    pc.http_scheme = "http";
    pc.http_port = http_port;
    return ca_probe_http_path(res, owner, path, expect, &pc, p);
}

static void cacert_domain_limits(server_rec *s, int *pper_account, int *pper_domain,
                                 apr_interval_time_t *pwindow)
{
    dom_srv_cfg *c = account_domain_cfg_of(s);

    *pper_account = CFG(c, per_account);
    *pper_domain = CFG(c, per_domain);
    *pwindow = CFG(c, window);
}

/* ---- start-up ---- */

static const void *psl;

/* the list goes with the configuration that loaded it (a restart loads it
 * again) */
static apr_status_t psl_cleanup(void *data)
{
    ca_domain_psl_free(psl);
    psl = NULL;
    return APR_SUCCESS;
}

static void finish_cfg(dom_srv_cfg *c)
{
    c->dom.rules = c->rules;
    c->dom.registrars = c->registrars;
    c->dom.psl = psl;
    ca_probe_cfg_default(&c->probe);
    c->probe.resolver = c->resolver;
    c->probe.resolver_port = c->resolver_port > 0 ? c->resolver_port : 0;
    c->probe.whois_server = c->whois;
    c->probe.whois_port = c->whois_port > 0 ? c->whois_port : 0;
    c->probe.timeout = CFG(c, timeout);
    c->probe.max_size = (apr_size_t)CFG(c, max_size);
    c->probe.http_scheme = CFG(c, http_scheme);
    c->probe.http_port = CFG(c, http_port);
    c->probe.allow_private = CFG(c, allow_private) == 1;
}

static apr_status_t retest_callback(int state, void *data, apr_pool_t *pool);

static int dom_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    dom_srv_cfg *c = account_domain_cfg_of(s);
    server_rec *sp;
    ap_watchdog_t *wd;
    apr_interval_time_t every;
    apr_status_t rv;

    log_server = s;
    ca_log_set_sink(log_sink, NULL);
    if (!APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CA81001: the domain pages of mod_cacert_account need mod_dbd");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!psl) {
        if (!(psl = ca_domain_psl_load())) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                         "CA81002: no Public Suffix List (install the publicsuffix package)");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_pool_cleanup_register(pconf, NULL, psl_cleanup, apr_pool_cleanup_null);
    }
    for (sp = s; sp; sp = sp->next) {
        finish_cfg(account_domain_cfg_of(sp));
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    /* a round every tenth of the interval (1 s to 1 h): a domain is
     * re-tested at most that much later than its interval says */
    every = CFG(c, retest_interval) / 10;
    every = every < apr_time_from_sec(1) ? apr_time_from_sec(1)
            : every > apr_time_from_sec(3600) ? apr_time_from_sec(3600) : every;
    rv = cacert_watchdog_start(&wd, RETEST_WATCHDOG, pconf);
    if (rv == APR_SUCCESS) {
        rv = cacert_watchdog_every(wd, every, s, retest_callback);
    }
    return watchdogs_started(rv, s,
                             "CA81003: the domain re-test of mod_cacert_account needs mod_watchdog",
                             "CA81004: cannot start the domain re-test watchdog");
}

static void dom_child_init(apr_pool_t *pchild, server_rec *s)
{
    db_guard_init(pchild);
    /* libcurl's global state in the children only, which use it: the
     * parent unloads the modules (and libcurl with them) at its end */
    ca_probe_global_init();
}

/* ---- the re-test watchdog ---- */

static void prune(server_rec *s, ca_db_t *db, apr_pool_t *p);

static int run_probe(ca_probe_result_t *res, unsigned method, const ca_domain_t *d,
                     const dom_srv_cfg *c, apr_pool_t *p)
{
    apr_status_t rv = method == CA_CHECK_DNS
                      ? ca_probe_dns(res, d->name, d->cookie, &c->probe, p)
                      : ca_probe_http(res, d->name, d->cookie, &c->probe, p);

    if (rv != APR_SUCCESS) {
        res->passed = 0;
        res->detail = "probe.error";
    }
    return res->passed;
}

/* the static cookies stay in place for the life of the certificates: probe
 * them again; a domain whose check fails is marked (and counts with the
 * methods that still pass) */
static apr_status_t retest_callback(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    dom_srv_cfg *c = account_domain_cfg_of(s);
    apr_array_header_t *due;
    ap_dbd_t *dbd;
    ca_db_t db;
    apr_pool_t *p;
    int i;

    if (state != AP_WATCHDOG_STATE_RUNNING || !db_work_begin()) {
        return APR_SUCCESS;
    }
    apr_pool_create(&p, pool);
    if (cacert_db_open(&db, &dbd, s, p) != APR_SUCCESS) {
        apr_pool_destroy(p);
        db_work_end();
        return APR_SUCCESS;
    }
    if (ca_domain_due(&due, &db, CFG(c, retest_interval),
                      CFG(c, retest_batch), p) == APR_SUCCESS) {
        for (i = 0; i < due->nelts && !child_stopping(); i++) {
            ca_domain_t *d = &APR_ARRAY_IDX(due, i, ca_domain_t);
            unsigned m;
            int all = 1;
            for (m = CA_CHECK_DNS; m <= CA_CHECK_HTTP; m <<= 1) {
                ca_probe_result_t res;
                if (!(d->passed & m)) {
                    continue;
                }
                if (!run_probe(&res, m, d, c, p)) {
                    all = 0;
                }
                if (ca_domain_record(&db, d, NULL, m, "retest", res.passed, res.target,
                                     res.detail, p) != APR_SUCCESS) {
                    all = -1;
                    break;
                }
            }
            if (all < 0 || ca_domain_retested(&db, d, all, p) != APR_SUCCESS) {
                break;
            }
            if (!all) {
                ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                             "CA81101: re-test of domain %s (member %s) failed", d->name,
                             d->member_id);
            }
        }
    }
    prune(s, &db, p);
    cacert_db_close(dbd, s);
    apr_pool_destroy(p);
    db_work_end();
    return APR_SUCCESS;
}

/* once an hour (and at the watchdog's first round), the failure and limit
 * tables lose the rows that no window reads any more: kept a week, or the
 * longest window if that is longer */
static void prune(server_rec *s, ca_db_t *db, apr_pool_t *p)
{
    static apr_time_t last;
    const acc_srv_cfg *c = acc_cfg_of(s);
    apr_interval_time_t keep = apr_time_from_sec(7 * 24 * 3600);
    apr_time_t now = apr_time_now();
    apr_status_t rv;
    int n;

    if (last && now - last < apr_time_from_sec(3600)) {
        return;
    }
    last = now;
    keep = ACC_CFG(c, login_fail_window) > keep ? ACC_CFG(c, login_fail_window) : keep;
    keep = ACC_CFG(c, lost_fail_window) > keep ? ACC_CFG(c, lost_fail_window) : keep;
    if ((rv = ca_account_prune(&n, db, keep, p)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "CA81102: pruning the failure tables failed (tried again in an hour)");
    }
    else if (n) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "CA81103: %d old rows of the failure tables pruned", n);
    }
}

/* ---- pages ---- */

#define internal_error(q, rv, what) cacert_internal_error(&(q)->pub, "CA81201", (rv), (what))

/* the state of a domain under the member and assured roots */
static void state_vars(req_t *q, ca_tmpl_ctx_t *item, const ca_domain_t *d)
{
    unsigned m;

    ca_tmpl_set(item, "id", d->id);
    ca_tmpl_set(item, "name", d->name);
    ca_tmpl_set(item, "created", d->created);
    if (ca_domain_rule_met(ca_domain_rule(&q->cfg->domain->dom, "member"), d->passed)) {
        ca_tmpl_set(item, "ok_member", "1");
    }
    if (ca_domain_rule_met(ca_domain_rule(&q->cfg->domain->dom, "assured"), d->passed)) {
        ca_tmpl_set(item, "ok_assured", "1");
    }
    if (!d->passed) {
        ca_tmpl_set(item, "unverified", "1");
    }
    if (d->retest_failed && *d->retest_failed) {
        ca_tmpl_set(item, "retest_failed", d->retest_failed);
    }
    for (m = CA_CHECK_EMAIL; m <= CA_CHECK_HTTP; m <<= 1) {
        if (d->passed & m) {
            ca_tmpl_set(item, apr_pstrcat(q->r->pool, "passed_", ca_check_method_name(m),
                                          NULL), "1");
        }
    }
}

/* rows of the domain list on one page (a row with its remove form is about
 * 480 bytes; the templates stop at 1 MiB) */
#define DOMAINS_PAGE 500

/* the page of the member's domains that ?p= names: APR_NOTFOUND for a page
 * that does not exist */
static apr_status_t list_vars(req_t *q)
{
    apr_array_header_t *list;
    apr_status_t rv;
    int i, first, last;

    if ((rv = ca_domain_list(&list, &q->db, q->sess->member_id, q->r->pool)) != APR_SUCCESS) {
        return rv;
    }
    if (cacert_list_page(&first, &last, q->ctx, "domains_pager", "?p=",
                         cacert_query_arg(q->r, "p"), list->nelts, DOMAINS_PAGE, q->r->pool)
        != 0) {
        return APR_NOTFOUND;
    }
    for (i = first; i < last; i++) {
        state_vars(q, ca_tmpl_add_item(q->ctx, "domains"),
                   &APR_ARRAY_IDX(list, i, ca_domain_t));
    }
    return APR_SUCCESS;
}

static int page_list(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_tmpl_ctx_t *ctx = q->ctx;
    int status = HTTP_OK;
    apr_status_t rv;

    if (q->r->method_number == M_POST) {
        const char *action = acc_fval(q, "action");
        if (!strcmp(action, "add")) {
            const char *typed = apr_table_get(q->form, "domain"), *name, *e, *id, *why;
            const char *t = ca_trim(typed ? typed : "", p);
            e = apr_table_get(q->form_errors, "domain");
            if (!e) {
                e = ca_domain_name(&name, t, strlen(t), &q->cfg->domain->dom, p);
            }
            if (e) {
                acc_set_msg(q, "err_domain", e);
                ca_tmpl_set(ctx, "v_domain", t);
                status = HTTP_UNPROCESSABLE_ENTITY;
            }
            else if ((rv = ca_domain_add(&id, &why, &q->db, q->sess->member_id, name, p))
                     != APR_SUCCESS) {
                return internal_error(q, rv, "domain claim");
            }
            else if (why) {
                acc_set_msg(q, "err_domain", why);
                ca_tmpl_set(ctx, "v_domain", t);
                status = HTTP_CONFLICT;
            }
            else {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                              "CA81202: member %s claims domain %s", q->sess->member_id,
                              name);
                return cacert_redirect(q->r, q->base, apr_pstrcat(p, "view?id=", id, NULL));
            }
        }
        else if (!strcmp(action, "remove")) {
            rv = ca_domain_remove(&q->db, q->sess->member_id, acc_fval(q, "id"), p);
            if (rv == APR_NOTFOUND) {
                acc_set_msg(q, "error", "domain.notyours");
                status = HTTP_NOT_FOUND;
            }
            else if (rv != APR_SUCCESS) {
                return internal_error(q, rv, "domain removal");
            }
            else {
                acc_set_msg(q, "notice", "ok.domain.removed");
            }
        }
        else {
            status = acc_unknown_action(q);
        }
    }
    if ((rv = list_vars(q)) == APR_NOTFOUND) {
        return acc_message(q, "title.domains", "err.nopage", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "domain list");
    }
    return acc_render(q, "domains.html", status);
}

static void mailbox_vars(req_t *q, const ca_domain_t *d, const apr_array_header_t *whois)
{
    int i;

    for (i = 0; ca_domain_mailboxes[i]; i++) {
        ca_tmpl_set(ca_tmpl_add_item(q->ctx, "mailboxes"), "address",
                    apr_pstrcat(q->r->pool, ca_domain_mailboxes[i], "@", d->name, NULL));
    }
    for (i = 0; whois && i < whois->nelts; i++) {
        ca_tmpl_set(ca_tmpl_add_item(q->ctx, "mailboxes"), "address",
                    APR_ARRAY_IDX(whois, i, const char *));
    }
}

static int view_vars(req_t *q, const ca_domain_t *d, const apr_array_header_t *whois)
{
    ca_tmpl_ctx_t *ctx = q->ctx;
    apr_array_header_t *hist;
    int i;

    state_vars(q, ctx, d);
    ca_tmpl_set(ctx, "cookie", d->cookie);
    ca_tmpl_set(ctx, "dns_name", apr_pstrcat(q->r->pool, CA_PROBE_DNS_LABEL ".", d->name,
                                             NULL));
    ca_tmpl_set(ctx, "http_url", apr_pstrcat(q->r->pool, "http://", d->name,
                                             CA_PROBE_HTTP_PATH, NULL));
    if (q->cfg->domain->probe.whois_server) {
        ca_tmpl_set(ctx, "whois", "1");
    }
    mailbox_vars(q, d, whois);
    if (ca_domain_history(&hist, &q->db, d->id, 100, q->r->pool) != APR_SUCCESS) {
        return 0;
    }
    for (i = 0; i < hist->nelts; i++) {
        ca_domain_check_t *c = &APR_ARRAY_IDX(hist, i, ca_domain_check_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "checks");
        ca_tmpl_set(item, "at", c->at);
        ca_tmpl_set(item, "method", c->method);
        ca_tmpl_set(item, "target", c->target);
        ca_tmpl_set(item, apr_pstrcat(q->r->pool, "r_", c->result, NULL), "1");
        if (!strcmp(c->kind, "retest")) {
            ca_tmpl_set(item, "retest", "1");
        }
        if (*c->detail) {
            acc_set_msg(q, "why", c->detail);
            ca_tmpl_set(item, "why", ca_tmpl_get(ctx, "why"));
        }
    }
    ca_tmpl_set(ctx, "why", NULL);
    return 1;
}

/* a probe the member asked for; NULL or the message key of the refusal */
static const char *probe(req_t *q, const ca_domain_t *d, const char *action,
                         apr_array_header_t **pwhois, int *pstatus)
{
    apr_pool_t *p = q->r->pool;
    unsigned m = ca_check_method_bit(action);
    ca_probe_result_t res;
    apr_status_t rv;
    int ok;

    *pstatus = HTTP_OK;
    if (!m && strcmp(action, "whois")) {
        *pstatus = HTTP_BAD_REQUEST;
        return "form.malformed";
    }
    rv = ca_domain_rate_ok(&ok, &q->db, q->sess->member_id, d->name,
                           CFG(q->cfg->domain, per_account),
                           CFG(q->cfg->domain, per_domain),
                           CFG(q->cfg->domain, window), p);
    if (rv != APR_SUCCESS) {
        *pstatus = HTTP_INTERNAL_SERVER_ERROR;
        return "err.internal";
    }
    if (!ok) {
        *pstatus = HTTP_TOO_MANY_REQUESTS;
        return "domain.ratelimit";
    }
    /* whois asks outside servers too: within the same limit */
    if (!strcmp(action, "whois")) {
        const char *err;
        ca_whois_lookup(pwhois, &err, d->name, &q->cfg->domain->probe, p);
        if (err) {
            *pstatus = HTTP_UNPROCESSABLE_ENTITY;
        }
        return err ? err : "ok.domain.whois";
    }
    if (m == CA_CHECK_EMAIL) {
        const char *to = ca_trim(acc_fval(q, "mailbox"), p), *cookie, *err;
        ca_tmpl_ctx_t *mctx;
        /* mail goes only to the fixed mailboxes of the domain or to an
         * address its whois record lists, looked up again here */
        if (!ca_domain_mailbox_ok(to, d->name, NULL)) {
            ca_whois_lookup(pwhois, &err, d->name, &q->cfg->domain->probe, p);
            if (err || !ca_domain_mailbox_ok(to, d->name, *pwhois)) {
                *pstatus = HTTP_UNPROCESSABLE_ENTITY;
                return "domain.mailbox";
            }
        }
        if ((rv = ca_domain_ping_create(&cookie, &q->db, d, q->sess->member_id, to,
                                        CFG(q->cfg->domain, ping_lifetime), p))
            != APR_SUCCESS) {
            *pstatus = HTTP_INTERNAL_SERVER_ERROR;
            return "err.internal";
        }
        mctx = ca_tmpl_ctx_make(NULL, p);
        ca_tmpl_set(mctx, "domain", d->name);
        ca_tmpl_set(mctx, "cookie", cookie);
        ca_tmpl_set(mctx, "domains_path", q->base);
        if (cacert_mail(q->r->server, q->lang, "mail/ping_domain.txt", mctx, to, p)
            != APR_SUCCESS) {
            *pstatus = HTTP_SERVICE_UNAVAILABLE;
            return "err.mail_or_db";
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA81203: member %s: email ping for domain %s sent to %s",
                      q->sess->member_id, d->name, to);
        return "ok.domain.pingsent";
    }
    run_probe(&res, m, d, q->cfg->domain, p);
    if ((rv = ca_domain_record(&q->db, d, q->sess->member_id, m, "probe", res.passed,
                               res.target, res.detail, p)) != APR_SUCCESS) {
        *pstatus = HTTP_INTERNAL_SERVER_ERROR;
        return "err.internal";
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA81204: member %s: %s check of domain %s %s%s%s", q->sess->member_id,
                  action, d->name, res.passed ? "passed" : "failed",
                  res.detail ? ": " : "", res.detail ? res.detail : "");
    if (!res.passed) {
        *pstatus = HTTP_UNPROCESSABLE_ENTITY;
        return res.detail;
    }
    return "ok.domain.passed";
}

static int page_view(req_t *q)
{
    const char *id = q->r->method_number == M_POST ? acc_fval(q, "id")
                                                   : cacert_query_arg(q->r, "id");
    apr_array_header_t *whois = NULL;
    ca_domain_t *d;
    apr_status_t rv;
    int status = HTTP_OK;

    rv = ca_domain_get(&d, &q->db, id, q->sess->member_id, q->r->pool);
    if (rv == APR_NOTFOUND) {
        return acc_message(q, "title.domains", "domain.notyours", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "domain");
    }
    if (q->r->method_number == M_POST) {
        const char *key = probe(q, d, acc_fval(q, "action"), &whois, &status);
        if (status == HTTP_INTERNAL_SERVER_ERROR) {
            return internal_error(q, APR_EGENERAL, "domain probe");
        }
        acc_set_msg(q, status == HTTP_OK ? "notice" : "error", key);
        /* the state after the check */
        if ((rv = ca_domain_get(&d, &q->db, id, q->sess->member_id, q->r->pool))
            != APR_SUCCESS) {
            return internal_error(q, rv, "domain");
        }
    }
    if (!view_vars(q, d, whois)) {
        return internal_error(q, APR_EGENERAL, "domain history");
    }
    return acc_render(q, "domain_view.html", status);
}

/* the link of the email ping: shown as a form, so that a mail scanner
 * following links confirms nothing; the cookie alone is the proof */
static int page_confirm(req_t *q)
{
    const char *cookie, *name;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        cookie = cacert_query_arg(q->r, "c");
        ca_tmpl_set(q->ctx, "cookie", cookie ? cookie : "");
        return acc_render(q, "domain_confirm.html", HTTP_OK);
    }
    cookie = acc_fval(q, "cookie");
    rv = ca_domain_ping_confirm(&name, &q->db, cookie, q->r->pool);
    if (rv == APR_NOTFOUND) {
        return acc_message(q, "title.domain_confirm", "domain.ping.unknown",
                            HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "domain ping");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA81205: email ping for domain %s answered", name);
    ca_tmpl_set(q->ctx, "notice_address", name);
    return acc_message(q, "title.domain_confirm", "ok.domain.confirmed", HTTP_OK);
}

/* dispatched by mod_cacert_account.c (handler cacert-domain) */
const cacert_route_t account_domain_routes[] = {
    { "", CACERT_GET | CACERT_POST, 1, 0, 0, NULL, page_list },
    { "view", CACERT_GET | CACERT_POST, 1, 0, 0, NULL, page_view },
    { "confirm", CACERT_GET | CACERT_POST, -1, 0, 0, NULL, page_confirm },
    { NULL }
};

/* httpd unloads the modules at every restart and at its end; libcurl
 * stays: it (through GSS-API) loads libraries with thread-local storage,
 * and unloading those leaves stale TLS entries that LeakSanitizer trips
 * over in the parent process.  Loading and unloading it every restart
 * buys nothing either. */
static void pin_libcurl(void)
{
    Dl_info info;

    if (dladdr((void *)curl_easy_init, &info) && info.dli_fname) {
        dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    }
}

/* called by mod_cacert_account's register_hooks */
void account_domain_register_hooks(apr_pool_t *p)
{
    static const char *const succ[] = { "mod_dbd.c", NULL };

    pin_libcurl();
    ap_hook_post_config(dom_post_config, NULL, succ, APR_HOOK_MIDDLE);
    ap_hook_child_init(dom_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    APR_REGISTER_OPTIONAL_FN(cacert_domain_cfg);
    APR_REGISTER_OPTIONAL_FN(cacert_domain_probe);
    APR_REGISTER_OPTIONAL_FN(cacert_domain_limits);
}
