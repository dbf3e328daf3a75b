/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_issue: certificate requests, the signer link, revocation,
 * CRL and CA certificate publishing.
 *
 * Thin glue: directives, the signer link as a mod_watchdog singleton, and
 * the pages.  Policy, CSR checks, the queue and the wire protocol live in
 * the core (src/); the words in templates/. */
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

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
#include <mod_dbd.h>
#include <mod_watchdog.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_log.h"
#include "ca_tmpl.h"
#include "ca_valid.h"
#include "ca_form.h"
#include "ca_multipart.h"
#include "ca_csr.h"
#include "ca_policy.h"
#include "ca_issue.h"
#include "ca_submit.h"
#include "ca_link.h"
#include "ca_serial.h"
#include "cacert_glue.h"
#include "ca_wire.h"
#include "ca_x509.h"
#include "ca_org.h"
#include "ca_account.h"
#include "ca_domain.h"
#include "ca_pgpkeys.h"
#include "ca_roles.h"
#include "mod_cacert.h"
#include "issue_openpgp.h"
#include "ca_acme.h"
#include "issue_private.h"

APLOG_USE_MODULE(cacert_issue);

#define CACERT_DB_GUARD
#include "mod_cacert_glue.h"
module AP_MODULE_DECLARE_DATA cacert_issue_module;

#define HANDLER_CERTS   "cacert-issue"
#define HANDLER_PKI     "cacert-pki"
#define HANDLER_ACME    "cacert-acme"
#define LINK_WATCHDOG   "cacert-signer-link"

static void iss_child_init(apr_pool_t *pchild, server_rec *s)
{
    db_guard_init(pchild);
    iss_pgp_child_init(s);
}

/* ---- mails ---- */

static const cacert_var_t cert_mail_vars[] = {
    CACERT_VAR(STR, ca_mailinfo_t, cert_id), CACERT_VAR(STR, ca_mailinfo_t, serial),
    CACERT_VAR(STR, ca_mailinfo_t, subject), CACERT_VAR(STR, ca_mailinfo_t, not_after),
    CACERT_VAR(STR, ca_mailinfo_t, days), { NULL }
};

/* the member gets the certificate by mail (it is public; the key never
 * left their computer) */
static void mail_issued(server_rec *s, ca_db_t *db, const char *req_id, apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(cacert_mail) *mail = APR_RETRIEVE_OPTIONAL_FN(cacert_mail);
    ca_mailinfo_t *info;
    ca_tmpl_ctx_t *m;

    if (!mail || ca_issue_mailinfo(&info, db, req_id, p) != APR_SUCCESS) {
        return;
    }
    m = ca_tmpl_ctx_make(NULL, p);
    cacert_tmpl_vars(m, info, cert_mail_vars);
    if (mail(s, info->language, "mail/cert_issued.txt", m, info->address, p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "CA21112: certificate %s is issued, but its mail could not be sent",
                     info->cert_id);
    }
}

typedef struct {
    server_rec *s;
    iss_srv_cfg *cfg;
} expiry_t;

/* warn members whose certificates expire soon, each threshold once */
static apr_status_t expiry_callback(int state, void *data, apr_pool_t *pool)
{
    APR_OPTIONAL_FN_TYPE(cacert_mail) *mail = APR_RETRIEVE_OPTIONAL_FN(cacert_mail);
    expiry_t *e = data;
    apr_array_header_t *due;
    ap_dbd_t *dbd;
    ca_db_t db;
    apr_pool_t *p;
    int i;

    if (state != AP_WATCHDOG_STATE_RUNNING || !mail || !db_work_begin()) {
        return APR_SUCCESS;
    }
    apr_pool_create(&p, pool);
    if (cacert_db_open(&db, &dbd, e->s, p) != APR_SUCCESS) {
        apr_pool_destroy(p);
        db_work_end();
        return APR_SUCCESS;
    }
    if (ca_issue_expiring(&due, &db, iss_expiry_days(e->cfg), p) == APR_SUCCESS) {
        for (i = 0; i < due->nelts; i++) {
            ca_mailinfo_t *info = &APR_ARRAY_IDX(due, i, ca_mailinfo_t);
            ca_tmpl_ctx_t *m = ca_tmpl_ctx_make(NULL, p);
            cacert_tmpl_vars(m, info, cert_mail_vars);
            if (mail(e->s, info->language, "mail/cert_expiry.txt", m, info->address, p)
                != APR_SUCCESS) {
                break;          /* the relay is down: try again next time */
            }
            ca_issue_warned(&db, info, p);
        }
    }
    iss_acme_cleanup(e->s, &db, p);
    cacert_db_close(dbd, e->s);
    apr_pool_destroy(p);
    db_work_end();
    return APR_SUCCESS;
}

/* ---- the signer link (src/ca_link.c): the watchdog's side ---- */

typedef struct {
    server_rec *s;
    iss_srv_cfg *cfg;
    ca_link_cfg_t lc;
    ca_link_t *link;
    apr_time_t db_down_since;       /* 0 while the link has its connection */
    apr_time_t db_next_try;         /* while it has none */
    int db_down_logged;
} link_host_t;

static X509 *link_issuer(void *baton, const char *ca, apr_pool_t *p)
{
    link_host_t *h = baton;
    issuer_t *is = iss_find_issuer(h->cfg, ca);

    return is ? iss_issuer_x509(is, p) : NULL;
}

static apr_status_t link_pgp_answer(void *baton, ca_db_t *db, const char *req_id,
                                    const unsigned char *ans, apr_size_t len, apr_pool_t *p)
{
    link_host_t *h = baton;

    return iss_pgp_answer(h->s, db, &h->cfg->pgp, req_id, ans, len, p) ? APR_SUCCESS
                                                                       : APR_EGENERAL;
}

static void link_issued(void *baton, ca_db_t *db, const char *req_id, apr_pool_t *p)
{
    link_host_t *h = baton;

    mail_issued(h->s, db, req_id, p);
}

/* cached OCSP answers for the certificate go at once */
static void link_revoked(void *baton, ca_db_t *db, const char *cert_id, apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(cacert_ocsp_forget) *forget = APR_RETRIEVE_OPTIONAL_FN(cacert_ocsp_forget);
    link_host_t *h = baton;
    ca_cert_t *c;

    if (forget && ca_issue_cert(&c, db, cert_id, NULL, p) == APR_SUCCESS) {
        forget(h->s, c->ca, c->serial, p);
    }
}

static int link_stopping(void *baton)
{
    return child_stopping;
}

static link_host_t *link_host_make(server_rec *s, iss_srv_cfg *c, apr_pool_t *pool)
{
    link_host_t *h = apr_pcalloc(pool, sizeof(*h));
    const char **cas = apr_pcalloc(pool, sizeof(*cas) * (apr_size_t)(c->issuers->nelts + 1));
    int i;

    for (i = 0; i < c->issuers->nelts; i++) {
        cas[i] = APR_ARRAY_IDX(c->issuers, i, issuer_t).name;
    }
    h->s = s;
    h->cfg = c;
    h->lc.device = c->device;
    h->lc.baud = iss_baud(c);
    h->lc.timeout = iss_timeout(c);
    h->lc.heartbeat = iss_heartbeat(c);
    h->lc.crl_interval = iss_crl_interval(c);
    h->lc.crl_validity = iss_crl_validity(c);
    h->lc.crl_md = iss_crl_md(c);
    h->lc.cas = cas;
    h->lc.baton = h;
    h->lc.issuer = link_issuer;
    h->lc.pgp_answer = link_pgp_answer;
    h->lc.issued = link_issued;
    h->lc.revoked = link_revoked;
    h->lc.stopping = link_stopping;
    h->link = ca_link_make(&h->lc, pool);
    return h;
}

/* works off the queue for up to about a second, on a connection of its own.
 * Without a database the line is kept alive by heartbeats, and the outage
 * is logged when it begins (after a grace: mod_dbd refuses while another
 * thread of the child sets its pool up) and when it ends, not on every
 * try. */
static void link_run(link_host_t *h, apr_pool_t *p)
{
    apr_time_t now = apr_time_now();
    ap_dbd_t *dbd;
    ca_db_t db;

    if (!ca_link_ready(h->link, p)) {
        return;
    }
    if (now < h->db_next_try || !db_work_begin()) {
        ca_link_keepalive(h->link, p);
        return;
    }
    if (cacert_db_open(&db, &dbd, h->s, p) != APR_SUCCESS) {
        if (!h->db_down_since) {
            h->db_down_since = now;
        }
        if (!h->db_down_logged && now - h->db_down_since > apr_time_from_sec(5)) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, h->s,
                         "CA21110: the signer link has no database connection; requests "
                         "wait, heartbeats keep signerd up");
            h->db_down_logged = 1;
        }
        /* every second at first, then every 5 s (mod_dbd logs each try) */
        h->db_next_try = now + apr_time_from_sec(now - h->db_down_since > apr_time_from_sec(30)
                                                  ? 5 : 1);
        db_work_end();
        ca_link_keepalive(h->link, p);
        return;
    }
    if (h->db_down_logged) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, h->s,
                     "CA21114: the signer link has its database connection again after "
                     "%" APR_TIME_T_FMT " s", apr_time_sec(now - h->db_down_since));
    }
    h->db_down_since = 0;
    h->db_down_logged = 0;
    h->db_next_try = 0;
    ca_link_work(h->link, &db, apr_time_from_msec(900), p);
    cacert_db_close(dbd, h->s);
    db_work_end();
}

static apr_status_t link_callback(int state, void *data, apr_pool_t *pool)
{
    link_host_t *h = data;

    switch (state) {
    case AP_WATCHDOG_STATE_STARTING:
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, h->s, "CA21111: signer link starting on %s",
                     h->cfg->device);
        break;
    case AP_WATCHDOG_STATE_RUNNING: {
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        link_run(h, p);
        apr_pool_destroy(p);
        break;
    }
    case AP_WATCHDOG_STATE_STOPPING:
        ca_link_close(h->link);
        /* the watchdog thread ends: its OpenSSL thread state goes too */
        OPENSSL_thread_stop();
        break;
    }
    return APR_SUCCESS;
}

/* ---- start-up ---- */

static int iss_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(cacert_page_start) *page_start;
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;
    iss_srv_cfg *c = iss_cfg_of(s);
    server_rec *sp;
    int i;

    log_server = s;
    ca_log_set_sink(log_sink, NULL);
    page_start = APR_RETRIEVE_OPTIONAL_FN(cacert_page_start);
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    if (!page_start || !dbd_prepare) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CA21002: mod_cacert_issue needs mod_cacert_account and mod_dbd");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (sp = s; sp; sp = sp->next) {
        iss_srv_cfg *sc = iss_cfg_of(sp);
        for (i = 0; i < sc->issuers->nelts; i++) {
            issuer_t *is = &APR_ARRAY_IDX(sc->issuers, i, issuer_t);
            if (!is->loaded && iss_load_cert(is, pconf, sp) != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        if (sc->root_file && !sc->root) {
            sc->root = apr_pcalloc(pconf, sizeof(issuer_t));
            sc->root->name = "root";
            sc->root->file = ap_server_root_relative(pconf, sc->root_file);
            if (iss_load_cert(sc->root, pconf, sp) != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        iss_browser_keys_load(sc, pconf, sp);
        if (sc->weak_file && !sc->weak
            && ca_weakkeys_load(&sc->weak, sc->weak_file, pconf) != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        {
            const char *err = iss_pgp_load(&sc->pgp, pconf);
            err = err ? err : iss_acme_check(sc, pconf);
            if (err) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, "CA90300: %s", err);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }
    /* the statements of the core are registered by mod_cacert_account */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    {
        ap_watchdog_t *wd;
        expiry_t *e = apr_pcalloc(pconf, sizeof(*e));
        apr_status_t rv;
        e->s = s;
        e->cfg = c;
        /* one process runs the link and the expiry warnings (singleton) */
        rv = cacert_watchdog_start(&wd, LINK_WATCHDOG, pconf);
        if (rv == APR_ENOTIMPL) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                         "CA21003: mod_cacert_issue needs mod_watchdog");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (rv == APR_SUCCESS) {
            rv = cacert_watchdog_every(wd, iss_expiry_interval(c), e, expiry_callback);
        }
        if (rv == APR_SUCCESS && c->device) {
            rv = cacert_watchdog_every(wd, AP_WD_TM_SLICE, link_host_make(s, c, pconf),
                                       link_callback);
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                         "CA21004: cannot start the mod_cacert_issue watchdog");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

static int iss_handler(request_rec *r)
{
    if (!r->handler) {
        return DECLINED;
    }
    if (!strcmp(r->handler, HANDLER_CERTS)) {
        return iss_certs_handler(r);
    }
    if (!strcmp(r->handler, HANDLER_PKI)) {
        return iss_pki_handler(r);
    }
    if (!strcmp(r->handler, HANDLER_ACME)) {
        return iss_acme_handler(r);
    }
    return DECLINED;
}

/* the statements of the tables this module uses, for mod_dbd */
static const ca_stmt_t *const iss_stmts[] = {
    ca_account_stmts, ca_domain_stmts, ca_issue_stmts, ca_org_stmts, ca_pgpkeys_stmts,
    ca_roles_stmts, ca_submit_stmts, ca_acme_stmts, NULL
};

static void register_hooks(apr_pool_t *p)
{
    cacert_hook_stmts(iss_stmts);
    ap_hook_post_config(iss_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(iss_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(iss_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA cacert_issue_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    iss_create_srv_cfg,
    iss_merge_srv_cfg,
    iss_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
