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
#include <pthread.h>
#include <time.h>
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
#define CACERT_WATCHDOGS
#include "mod_cacert_glue.h"
module AP_MODULE_DECLARE_DATA cacert_issue_module;

#define HANDLER_CERTS   "cacert-issue"
#define HANDLER_PKI     "cacert-pki"
#define HANDLER_ACME    "cacert-acme"
#define LINK_WATCHDOG   "cacert-signer-link"
#define WAIT_WATCHDOG   "cacert-issue-notify"
#define WAIT_CHANNEL    "cacert_signer_done"

/* ---- waiting pages: woken by NOTIFY (sql/019) ---- */

/* Each child keeps one listener (a watchdog thread of its own, in every
 * child) on the channel where the database announces every signer request
 * that ended (done, refused, quarantined), whichever host's link ended it.
 * The ids heard go into a ring with a generation count; a waiting page
 * notes the generation, reads its request, and sleeps on the condition
 * until its id is heard, the listener (re)connects (it may have missed
 * some), or a second passes: the database is read again then in any case,
 * so a lost notification costs at most a second. */
#define WAIT_RING 64
#define WAIT_SAFETY apr_time_from_sec(1)
/* how long one call of the listener's watchdog listens */
#define WAIT_ROUND apr_time_from_sec(30)
/* how long one call of the link's watchdog works rounds while they work */
#define LINK_CALL apr_time_from_sec(30)

static cacert_listener_t wait_listener = CACERT_LISTENER_INIT;
static pthread_mutex_t wait_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cond;
static apr_uint64_t wait_gen;           /* ids heard so far */
static apr_uint64_t wait_all_gen;       /* from here on, every waiter looks */
static char wait_ring[WAIT_RING][24];

static apr_status_t wait_listener_cleanup(void *data)
{
    cacert_listener_close(data);
    return APR_SUCCESS;
}

apr_uint64_t iss_wait_mark(void)
{
    apr_uint64_t g;

    pthread_mutex_lock(&wait_mu);
    g = wait_gen;
    pthread_mutex_unlock(&wait_mu);
    return g;
}

/* heard of id since gen (or must look anyway); under wait_mu */
static int wait_heard(const char *id, apr_uint64_t gen)
{
    apr_uint64_t g;

    if (wait_all_gen > gen || wait_gen - gen >= WAIT_RING) {
        return 1;
    }
    for (g = gen; g < wait_gen; g++) {
        if (!strcmp(wait_ring[g % WAIT_RING], id)) {
            return 1;
        }
    }
    return 0;
}

void iss_wait_for(apr_uint64_t *pgen, const char *id, apr_time_t until)
{
    apr_time_t now = ca_mono_now();
    apr_interval_time_t left = until - now;
    apr_time_t deadline;
    struct timespec ts;

    if (left <= 0) {
        return;
    }
    if (left > WAIT_SAFETY) {
        left = WAIT_SAFETY;
    }
    /* the condition waits on the monotonic clock (iss_wait_child_init) */
    deadline = now + left;
    ts.tv_sec = (time_t)apr_time_sec(deadline);
    ts.tv_nsec = (long)apr_time_usec(deadline) * 1000;
    pthread_mutex_lock(&wait_mu);
    while (!wait_heard(id, *pgen)) {
        if (pthread_cond_timedwait(&wait_cond, &wait_mu, &ts) != 0) {
            break;          /* the safety interval: the page looks anyway */
        }
    }
    *pgen = wait_gen;
    pthread_mutex_unlock(&wait_mu);
}

static void wait_wake(const apr_array_header_t *ids, int all)
{
    int i;

    pthread_mutex_lock(&wait_mu);
    for (i = 0; ids && i < ids->nelts; i++) {
        apr_cpystrn(wait_ring[wait_gen % WAIT_RING], APR_ARRAY_IDX(ids, i, const char *),
                    sizeof(wait_ring[0]));
        wait_gen++;
    }
    if (all) {
        wait_ring[wait_gen % WAIT_RING][0] = '\0';
        wait_all_gen = ++wait_gen;
    }
    pthread_cond_broadcast(&wait_cond);
    pthread_mutex_unlock(&wait_mu);
}

static apr_status_t wait_callback(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    apr_array_header_t *ids;
    apr_pool_t *p;
    apr_time_t end;
    int fresh = 0;

    if (state == AP_WATCHDOG_STATE_STOPPING) {
        cacert_listener_close(&wait_listener);
        wait_wake(NULL, 1);
        return APR_SUCCESS;
    }
    /* not under db_work_begin: that would hold up the link in this child
     * while the listener waits.  The listener's pre-cleanup closes it
     * before mod_dbd's pool goes (waiting for a call under way), and a
     * closed listener never connects again. */
    if (state != AP_WATCHDOG_STATE_RUNNING || child_stopping()) {
        return APR_SUCCESS;
    }
    /* listen again at once after each notification, for WAIT_ROUND:
     * between two calls mod_watchdog sleeps a slice (100 ms), and a
     * request that ended then would wait for the next call.  When the
     * MPM stops the child (child_stopping()) or its end closes the
     * listener (cacert_listen fails), a call ends within one wait of
     * 250 ms. */
    end = ca_mono_now() + WAIT_ROUND;
    apr_pool_create(&p, pool);
    do {
        ids = NULL;
        if (cacert_listen(&ids, &fresh, &wait_listener, s, WAIT_CHANNEL,
                          apr_time_from_msec(250), p) != APR_SUCCESS) {
            break;
        }
        if (ids->nelts || fresh) {
            /* after a (re)connection, what ended meanwhile was not heard */
            wait_wake(ids, fresh);
        }
        apr_pool_clear(p);
    } while (ca_mono_now() < end && !child_stopping());
    apr_pool_destroy(p);
    return APR_SUCCESS;
}

static void iss_wait_child_init(apr_pool_t *pchild, server_rec *s)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wait_cond, &attr);
    pthread_condattr_destroy(&attr);
    /* before mod_dbd's pool goes: the listener makes its connections from
     * one of mod_dbd's */
    apr_pool_pre_cleanup_register(pchild, &wait_listener, wait_listener_cleanup);
}

/* the advisory lock that elects the one host driving the signer line */
static cacert_pglock_t link_lock = CACERT_PGLOCK_INIT;

static apr_status_t link_lock_cleanup(void *data)
{
    cacert_pglock_close(data);
    return APR_SUCCESS;
}

static apr_status_t link_store_cleanup(void *data);

static void iss_child_init(apr_pool_t *pchild, server_rec *s)
{
    /* pre-cleanups run last registered first: the link's work stops
     * (db_guard_init's), then the CRL store thread is joined, both before
     * mod_dbd's connections go */
    apr_pool_pre_cleanup_register(pchild, NULL, link_store_cleanup);
    db_guard_init(pchild);
    iss_pgp_child_init(s);
    iss_pages_child_init(pchild);
    /* the lock goes with the child, whichever way the watchdog thread ends
     * (the pre-cleanup of db_guard_init has stopped the link's work by
     * then: the line is not driven any more when another host takes it) */
    apr_pool_cleanup_register(pchild, &link_lock, link_lock_cleanup, apr_pool_cleanup_null);
    iss_wait_child_init(pchild, s);
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
    if (ca_issue_expiring(&due, &db, ISS_CFG(e->cfg, expiry_days), p) == APR_SUCCESS) {
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
    int driving;                    /* 1: holds the lock, drives the line */
    int keepalive_only;             /* drove it, the lock's database is away */
    int standby_logged;
    int lock_down_logged;
    apr_time_t lock_down_since;     /* 0 while the lock's database answers */
    apr_time_t lock_next_try;       /* a standby tries for the lock this often */
    apr_thread_mutex_t *call_mu;    /* held by the watchdog's call while it works */
} link_host_t;

/* the key of the advisory lock: "CAcert link", one per database */
#define LINK_LOCK_KEY APR_INT64_C(0x43416365727431)

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
    return child_stopping();
}

/* the statements of the tables this module uses, for mod_dbd and
 * the CRL store thread's connection */
static const ca_stmt_t *const iss_stmts[] = {
    ca_account_stmts, ca_domain_stmts, ca_issue_stmts, ca_org_stmts, ca_pgpkeys_stmts,
    ca_roles_stmts, ca_submit_stmts, ca_acme_stmts, NULL
};

/* the CRL store thread's connection: one of its own (libpq, the parameters
 * of mod_dbd's connections), kept from CRL to CRL and made anew when it
 * broke; never one of mod_dbd's pool, whose connections live in the
 * child's pool and are shared with every other thread of the child.  Held
 * while one CRL is stored; closed for good after the thread is joined
 * (link_store_end), and a closed one never connects again. */
static cacert_listener_t store_conn = CACERT_LISTENER_INIT;

static apr_status_t link_store_db(void *baton, ca_db_t *db, void **phandle, apr_pool_t *p)
{
    link_host_t *h = baton;
    ca_db_t *own = cacert_listener_open(&store_conn, h->s, p);

    *phandle = own ? &store_conn : NULL;
    if (!own) {
        return APR_EGENERAL;
    }
    *db = *own;
    return APR_SUCCESS;
}

static void link_store_db_close(void *baton, void *handle)
{
    cacert_listener_release(handle);
}

/* the store thread is joined, then its connection closed */
static void link_store_end(ca_link_t *link)
{
    ca_link_store_stop(link);
    cacert_listener_close(&store_conn);
}

/* the link of this configuration (one: the main server's) */
static link_host_t *link_the_host;

static apr_status_t link_host_gone(void *data)
{
    link_the_host = NULL;
    return APR_SUCCESS;
}

static apr_status_t link_store_cleanup(void *data)
{
    if (link_the_host) {
        link_store_end(link_the_host->link);
    }
    return APR_SUCCESS;
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
    h->lc.baud = ISS_CFG(c, baud);
    h->lc.timeout = ISS_CFG(c, timeout);
    h->lc.heartbeat = ISS_CFG(c, heartbeat);
    h->lc.crl_interval = ISS_CFG(c, crl_interval);
    h->lc.crl_validity = ISS_CFG(c, crl_validity);
    h->lc.crl_md = ISS_CFG(c, crl_md);
    h->lc.cas = cas;
    h->lc.baton = h;
    h->lc.issuer = link_issuer;
    h->lc.pgp_answer = link_pgp_answer;
    h->lc.issued = link_issued;
    h->lc.revoked = link_revoked;
    h->lc.stopping = link_stopping;
    h->lc.store_db = link_store_db;
    h->lc.store_db_close = link_store_db_close;
    store_conn.stmts = iss_stmts;
    store_conn.appname = "cacert-crl-store";
    h->link = ca_link_make(&h->lc, pool);
    apr_thread_mutex_create(&h->call_mu, APR_THREAD_MUTEX_DEFAULT, pool);
    link_the_host = h;
    apr_pool_cleanup_register(pool, NULL, link_host_gone, apr_pool_cleanup_null);
    return h;
}

/* works off the queue for up to about a second, on a connection of its own;
 * 1 when it worked that whole round (another may follow at once).
 * Without a database the line is kept alive by heartbeats, and the outage
 * is logged when it begins (after a grace: mod_dbd refuses while another
 * thread of the child sets its pool up) and when it ends, not on every
 * try. */
static int link_run(link_host_t *h, apr_pool_t *p)
{
    int worked;
    apr_time_t now = ca_mono_now();
    ap_dbd_t *dbd;
    ca_db_t db;

    if (!ca_link_ready(h->link, p)) {
        return 0;
    }
    if (now < h->db_next_try || !db_work_begin()) {
        ca_link_keepalive(h->link, p);
        return 0;
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
        return 0;
    }
    if (h->db_down_logged) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, h->s,
                     "CA21114: the signer link has its database connection again after "
                     "%" APR_TIME_T_FMT " s", apr_time_sec(now - h->db_down_since));
    }
    h->db_down_since = 0;
    h->db_down_logged = 0;
    h->db_next_try = 0;
    worked = ca_link_work(h->link, &db, apr_time_from_msec(900), p);
    cacert_db_close(dbd, h->s);
    db_work_end();
    return worked;
}

/* Exactly one host drives the serial line at a time: the one whose link
 * holds the advisory lock (docs/scaling.md).  The others stand by with
 * their device closed, so their line is silent and signerd only hears the
 * driving host; they try for the lock twice a second, and the first to
 * get it opens its device and says HELLO.  The holder checks every round
 * that its lock session still answers; when it does not, it closes the
 * line before anything else: by then the lock may be someone else's. */
static int link_elect(link_host_t *h, apr_pool_t *p)
{
    apr_time_t now = ca_mono_now();
    apr_status_t rv;
    int held = 0;

    if (!h->driving && now < h->lock_next_try) {
        return 0;
    }
    rv = cacert_pglock_hold(&held, &link_lock, h->s, LINK_LOCK_KEY, apr_time_from_sec(2), p);
    h->lock_next_try = now + apr_time_from_msec(500);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        /* after a grace: mod_dbd refuses while another thread of the child
         * sets its pool up */
        if (!h->lock_down_since) {
            h->lock_down_since = now;
        }
        if (!h->lock_down_logged && now - h->lock_down_since > apr_time_from_sec(5)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, h->s,
                         "CA21117: the signer link cannot reach the database for its lock; "
                         "no request goes to signerd from here until it can%s",
                         h->keepalive_only ? " (heartbeats keep signerd up)" : "");
            h->lock_down_logged = 1;
        }
    }
    else if (rv == APR_SUCCESS) {
        h->lock_down_logged = 0;
        h->lock_down_since = 0;
    }
    if (held) {
        h->keepalive_only = 0;
    }
    if (held && !h->driving) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, h->s,
                     "CA21115: this host drives the signer line %s now (it holds the lock, "
                     "pid %" APR_PID_T_FMT ")", h->cfg->device, getpid());
        h->standby_logged = 0;
    }
    else if (!held && (h->driving || h->keepalive_only) && rv != APR_SUCCESS) {
        /* the database is away: nobody can take the lock meanwhile, and
         * no request can be worked off here; the line stays open for
         * heartbeats only (signerd's dead-man switch means "the web side
         * is gone", not "the database is away"), until the lock answers
         * again: then this host drives on, or closes the line */
        h->keepalive_only = 1;
    }
    else if (!held && (h->driving || h->keepalive_only)) {    /* another host has it */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, h->s,
                     "CA21116: this host lost the lock of the signer line; %s is closed",
                     h->cfg->device);
        ca_link_close(h->link);
        h->keepalive_only = 0;
    }
    else if (!held && !h->standby_logged && rv == APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, h->s,
                     "CA21118: another host drives the signer line; this one stands by "
                     "with %s closed", h->cfg->device);
        h->standby_logged = 1;
    }
    h->driving = held;
    return held;
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
        /* rounds of about a second one after another while the line
         * works, up to LINK_CALL: between two calls mod_watchdog sleeps a
         * slice (100 ms), and a request queued then waited for it.  Each
         * round checks the lock first, as before. */
        apr_time_t end = ca_mono_now() + LINK_CALL;
        apr_pool_t *p;
        int go_on;
        apr_thread_mutex_lock(h->call_mu);
        do {
            int held;
            if (child_stopping() || !db_work_begin()) {
                break;
            }
            apr_pool_create(&p, pool);
            /* the lock's connection is made from one of mod_dbd's: not
             * while the child ends */
            held = link_elect(h, p);
            db_work_end();
            go_on = held && link_run(h, p);
            if (!held && h->keepalive_only) {
                ca_link_keepalive(h->link, p);
            }
            apr_pool_destroy(p);
        } while (go_on && ca_mono_now() < end && !child_stopping());
        apr_thread_mutex_unlock(h->call_mu);
        break;
    }
    case AP_WATCHDOG_STATE_STOPPING:
        /* mod_watchdog calls this from the child's end, in the main
         * thread, while the watchdog's thread may be in a call: that call
         * ends within its round (each checks child_stopping()); the line
         * is closed only after it, never under a round's feet.  Then the
         * line, then the lock. */
        child_stop_flag = 1;
        apr_thread_mutex_lock(h->call_mu);
        ca_link_close(h->link);
        link_store_end(h->link);
        ca_link_forget(h->link);
        cacert_pglock_close(&link_lock);
        apr_thread_mutex_unlock(h->call_mu);
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
        if (rv == APR_SUCCESS) {
            rv = cacert_watchdog_every(wd, ISS_CFG(c, expiry_interval), e, expiry_callback);
        }
        if (rv == APR_SUCCESS && c->device) {
            rv = cacert_watchdog_every(wd, AP_WD_TM_SLICE, link_host_make(s, c, pconf),
                                       link_callback);
        }
        /* every child listens for ended requests (its waiting pages) */
        if (rv == APR_SUCCESS) {
            rv = cacert_watchdog_each_child(&wd, WAIT_WATCHDOG, pconf);
        }
        if (rv == APR_SUCCESS) {
            rv = cacert_watchdog_every(wd, AP_WD_TM_SLICE, s, wait_callback);
        }
        return watchdogs_started(rv, s, "CA21003: mod_cacert_issue needs mod_watchdog",
                                 "CA21004: cannot start the mod_cacert_issue watchdog");
    }
}

static int iss_handler(request_rec *r)
{
    static const cacert_handler_t handlers[] = {
        { HANDLER_CERTS, iss_certs_handler }, { HANDLER_PKI, iss_pki_handler },
        { HANDLER_ACME, iss_acme_handler }, { NULL }
    };

    return cacert_handle(r, handlers);
}

static void register_hooks(apr_pool_t *p)
{
    cacert_hook_module(iss_stmts, iss_post_config, iss_child_init, iss_handler);
}

CACERT_MODULE(cacert_issue_module, iss_);
