/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_ocsp: the RFC 6960 / RFC 5019 OCSP responder.
 *
 * Thin glue: directives, a shared cache of signed responses (mod_socache),
 * the handler and a status page.  Parsing and signing live in the core
 * (src/ca_ocsp.c), the status of a certificate in PostgreSQL. */
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_global_mutex.h>
#include <apr_dbd.h>
#include <apr_sha1.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_provider.h>
#include <ap_socache.h>
#include <util_mutex.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>
#include <apr_thread_mutex.h>

#include <openssl/crypto.h>

#include "ca_log.h"
#include "ca_db.h"
#include "ca_issue.h"
#include "ca_ocsp.h"
#include "mod_cacert.h"
#include "cacert_glue.h"
#include "ocsp_config.h"
#include "ocsp_private.h"

APLOG_USE_MODULE(cacert_ocsp);

#define CACERT_DB_GUARD
#include "mod_cacert_glue.h"
module AP_MODULE_DECLARE_DATA cacert_ocsp_module;

#define HANDLER_OCSP    "cacert-ocsp"
#define MUTEX_TYPE      "cacert-ocsp-cache"
#define MAX_REQUEST     8192        /* bytes of a request */
#define MAX_IDS         20          /* CertIDs in one request */

static apr_shm_t *stats_shm;
static apr_status_t refresh_callback(int state, void *data, apr_pool_t *pool);
static apr_status_t notify_callback(int state, void *data, apr_pool_t *pool);
static apr_status_t listener_cleanup(void *data);
/* the statements of the tables this module uses, for mod_dbd and for the
 * listener's own connection */
static const ca_stmt_t *const ocsp_stmts[] = { ca_issue_stmts, NULL };
/* LISTEN cacert_revoked: the notify watchdog thread's */
static cacert_listener_t listener = CACERT_LISTENER_INIT;
/* CAcertOCSPPrimary is set: mod_dbd may read a hot standby, the listener
 * keeps a notice of each revocation for the answers (see "reading a hot
 * standby" below) */

/* ---- logging of the core ---- */


/* ---- start-up ---- */

static int ocsp_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t cache_cleanup(void *data)
{
    if (ocsp_cache && ocsp_cache_provider) {
        ocsp_cache_provider->destroy(ocsp_cache, data);
        ocsp_cache = NULL;
    }
    return APR_SUCCESS;
}

static int ocsp_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                            server_rec *s)
{
    ocsp_srv_cfg *main_cfg = ocsp_cfg_of(s);
    struct ap_socache_hints hints = { 64, 2048, apr_time_from_sec(3600) };
    const char *spec, *arg, *err;
    server_rec *sp;
    apr_status_t rv;
    int i;

    log_server = s;
    ca_log_set_sink(log_sink, NULL);
    /* the responder files are read here (root may be the only reader of
     * the keys) and checked; each child makes its own OpenSSL objects from
     * them, so none outlives the process that uses it */
    for (sp = s; sp; sp = sp->next) {
        ocsp_srv_cfg *c = ocsp_cfg_of(sp);
        for (i = 0; i < c->responder_confs->nelts; i++) {
            responder_conf_t *rc = &APR_ARRAY_IDX(c->responder_confs, i, responder_conf_t);
            ca_ocsp_responder_t *r;
            if (rc->read) {
                continue;
            }
            rv = ca_ocsp_responder_read(&rc->files, rc->issuer, rc->cert, rc->key, pconf);
            if (rv == APR_SUCCESS) {
                rv = ca_ocsp_responder_parse(&r, rc->name, &rc->files, ptemp);
            }
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, rv, sp,
                             "CA22001: cannot load the OCSP responder of CA %s (%s, %s)",
                             rc->name, rc->cert, rc->key);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            rc->read = 1;
        }
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    /* the listener's database: the primary's when it is named, else
     * mod_dbd's; its statements are those of the answers */
    listener.conninfo = OCSP_CFG(main_cfg, primary);
    listener.stmts = ocsp_stmts;
    ocsp_standby_mode = listener.conninfo != NULL;
    ocsp_notice_life = OCSP_CFG(main_cfg, validity);
    /* the cache of signed answers, shared by every child */
    spec = OCSP_CFG(main_cfg, cache_spec);
    arg = strchr(spec, ':');
    ocsp_cache_provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP,
                                             arg ? apr_pstrmemdup(ptemp, spec,
                                                                  (apr_size_t)(arg - spec))
                                                 : spec,
                                             AP_SOCACHE_PROVIDER_VERSION);
    if (!ocsp_cache_provider) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CA22002: no socache provider for %s (load mod_socache_shmcb)", spec);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    err = ocsp_cache_provider->create(&ocsp_cache, arg ? arg + 1 : NULL, ptemp, pconf);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "CA22003: CAcertOCSPCache: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = ocsp_cache_provider->init(ocsp_cache, "cacert-ocsp", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "CA22004: cannot set up the OCSP cache");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, s, cache_cleanup, apr_pool_cleanup_null);
    if (ocsp_cache_provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&ocsp_cache_mutex, NULL, MUTEX_TYPE, NULL, s, pconf, 0);
        if (rv != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    rv = apr_shm_create(&stats_shm, sizeof(ocsp_stats_t), NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     "CA22005: cannot make the shared memory of the counters");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ocsp_stats = apr_shm_baseaddr_get(stats_shm);
    memset(ocsp_stats, 0, sizeof(*ocsp_stats));
    {
        APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get =
            APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
        APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register =
            APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
        ap_watchdog_t *wd;
        if (wd_get && wd_register && main_cfg->responder_confs->nelts
            && wd_get(&wd, "cacert-ocsp-refresh", 0, 1, pconf) == APR_SUCCESS) {
            wd_register(wd, OCSP_CFG(main_cfg, refresh), s, refresh_callback);
        }
        /* a watchdog of its own: a long re-signing round must not hold up
         * the revocations */
        if (wd_get && wd_register && main_cfg->responder_confs->nelts
            && wd_get(&wd, "cacert-ocsp-notify", 0, 1, pconf) == APR_SUCCESS) {
            wd_register(wd, apr_time_from_msec(10), s, notify_callback);
        }
    }
    return OK;
}


static void ocsp_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *sp;
    int i;

    db_guard_init(pchild);
    /* the listener's connection closes with the child, whichever way the
     * watchdog thread ends */
    apr_pool_cleanup_register(pchild, &listener, listener_cleanup, apr_pool_cleanup_null);

    for (sp = s; sp; sp = sp->next) {
        ocsp_srv_cfg *c = ocsp_cfg_of(sp);
        c->responders = apr_array_make(pchild, 4, sizeof(ca_ocsp_responder_t *));
        for (i = 0; i < c->responder_confs->nelts; i++) {
            responder_conf_t *rc = &APR_ARRAY_IDX(c->responder_confs, i, responder_conf_t);
            ca_ocsp_responder_t *r;
            if (rc->read && ca_ocsp_responder_parse(&r, rc->name, &rc->files, pchild)
                            == APR_SUCCESS) {
                APR_ARRAY_PUSH(c->responders, ca_ocsp_responder_t *) = r;
            }
        }
    }
    if (ocsp_cache_mutex) {
        apr_global_mutex_child_init(&ocsp_cache_mutex,
                                    apr_global_mutex_lockfile(ocsp_cache_mutex), pchild);
    }
}

/* ---- answering ---- */

static int send_response(request_rec *r, const unsigned char *der, apr_size_t len)
{
    ap_set_content_type(r, "application/ocsp-response");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(der, (int)len, r);
    }
    return OK;
}

static int send_error(request_rec *r, int status)
{
    const unsigned char *der;
    apr_size_t len;

    if (ocsp_stats) {
        apr_atomic_inc32(status == CA_OCSP_MALFORMED_REQUEST ? &ocsp_stats->malformed
                         : status == CA_OCSP_UNAUTHORIZED ? &ocsp_stats->unauthorized
                         : status == CA_OCSP_TRY_LATER ? &ocsp_stats->try_later
                         : &ocsp_stats->errors);
    }
    if (ca_ocsp_error_response(&der, &len, status, r->pool) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return send_response(r, der, len);
}

/* RFC 5019 caching headers for GET answers */
static void cache_headers(request_rec *r, ocsp_srv_cfg *c, const unsigned char *der,
                          apr_size_t len, apr_time_t next_update)
{
    char date[APR_RFC822_DATE_LEN];
    unsigned char sha[APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t ctx;
    apr_time_t now = apr_time_now();
    apr_interval_time_t left = next_update - now;
    apr_interval_time_t max_age = OCSP_CFG(c, max_age);
    char etag[2 * APR_SHA1_DIGESTSIZE + 3];
    int i;

    if (left < 0) {
        left = 0;
    }
    if (max_age > left) {
        max_age = left;
    }
    apr_table_setn(r->headers_out, "Cache-Control",
                   apr_psprintf(r->pool, "max-age=%" APR_TIME_T_FMT
                                ", public, no-transform, must-revalidate",
                                apr_time_sec(max_age)));
    apr_rfc822_date(date, now);
    apr_table_setn(r->headers_out, "Last-Modified", apr_pstrdup(r->pool, date));
    apr_rfc822_date(date, now + max_age);
    apr_table_setn(r->headers_out, "Expires", apr_pstrdup(r->pool, date));
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, der, (unsigned int)len);
    apr_sha1_final(sha, &ctx);
    etag[0] = '"';
    for (i = 0; i < APR_SHA1_DIGESTSIZE; i++) {
        etag[1 + 2 * i] = "0123456789abcdef"[sha[i] >> 4];
        etag[2 + 2 * i] = "0123456789abcdef"[sha[i] & 15];
    }
    etag[1 + 2 * APR_SHA1_DIGESTSIZE] = '"';
    etag[2 + 2 * APR_SHA1_DIGESTSIZE] = '\0';
    apr_table_setn(r->headers_out, "ETag", apr_pstrdup(r->pool, etag));
}

static int read_body(const unsigned char **pder, apr_size_t *plen, request_rec *r)
{
    char *buf;
    int rc = cacert_read_body(&buf, plen, r, MAX_REQUEST);

    if (rc == OK) {
        *pder = (const unsigned char *)buf;
    }
    return rc;
}

/* ---- reading a hot standby (CAcertOCSPPrimary): see ocsp_cache.c ---- */

/* ca_ocsp_status_fn */
static apr_status_t store_status(int *pstatus, apr_int64_t *prevoked_at, int *preason,
                                 void *baton, const char *ca, const char *serial,
                                 apr_pool_t *p)
{
    store_t *st = baton;
    const char *lsn = NULL;
    apr_int64_t noticed_at = 0;
    int noticed_reason = 0, replayed = 1;
    apr_status_t rv;

    if (!st->have_db) {
        if (!st->r || cacert_db_acquire(&st->db, st->r) != APR_SUCCESS) {
            if (st->r) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, st->r,
                              "CA22101: no database connection: answering tryLater");
            }
            return APR_EGENERAL;
        }
        st->have_db = 1;
    }
    if (ocsp_standby_mode
        && ocsp_notice_lookup(&lsn, &noticed_at, &noticed_reason, st->s, ca, serial, p)
           == APR_SUCCESS) {
        if ((rv = ca_issue_replayed(&replayed, &st->db, lsn, p)) != APR_SUCCESS) {
            return rv;
        }
        if (!replayed) {
            /* the standby lags behind this revocation: the primary's word */
            *pstatus = CA_CERT_REVOKED;
            *prevoked_at = noticed_at;
            *preason = noticed_reason;
            if (ocsp_stats) {
                apr_atomic_inc32(&ocsp_stats->noticed);
            }
            return APR_SUCCESS;
        }
    }
    return ca_issue_status(pstatus, prevoked_at, preason, &st->db, ca, serial, p);
}

/* the one failure of answering that is ours to log */
static void signing_failed(const ca_ocsp_answer_t *ans)
{
    if (ans->error == CA_OCSP_INTERNAL_ERROR) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, log_server,
                     "CA22102: signing an OCSP answer failed");
    }
}

static void answerer_of(ca_ocsp_answerer_t *a, ocsp_srv_cfg *c, int nonce, store_t *st)
{
    memset(a, 0, sizeof(*a));
    a->responders = c->responders;
    a->validity = OCSP_CFG(c, validity);
    a->nonce = nonce;
    a->status = store_status;
    a->baton = st;
}

static int ocsp_handler(request_rec *r)
{
    ocsp_srv_cfg *c;
    const unsigned char *der;
    apr_size_t len;
    ca_ocsp_request_t *req;
    ca_ocsp_answerer_t a;
    ca_ocsp_answer_t ans;
    store_t st;
    int rc, get = 0;

    if (!r->handler || strcmp(r->handler, HANDLER_OCSP)) {
        return DECLINED;
    }
    c = ocsp_cfg_of(r->server);
    if (ocsp_stats) {
        apr_atomic_inc32(&ocsp_stats->requests);
    }
    if (r->method_number == M_POST) {
        const char *ct = apr_table_get(r->headers_in, "Content-Type");
        if (!ct || strncasecmp(ct, "application/ocsp-request", 24)
            || (ct[24] && ct[24] != ';' && ct[24] != ' ')) {
            return HTTP_UNSUPPORTED_MEDIA_TYPE;
        }
        if ((rc = read_body(&der, &len, r)) != OK) {
            return rc;
        }
    }
    else if (r->method_number == M_GET) {
        const char *prefix = OCSP_CFG(c, path);
        const char *raw = r->unparsed_uri, *q;
        unsigned char *d;
        apr_size_t plen = strlen(prefix);
        get = 1;
        if (strncmp(raw, prefix, plen) || (raw[plen] != '/' && raw[plen])) {
            return HTTP_NOT_FOUND;
        }
        raw += plen;
        q = strchr(raw, '?');
        if (q) {
            raw = apr_pstrmemdup(r->pool, raw, (apr_size_t)(q - raw));
        }
        if (strlen(raw) > 2 * MAX_REQUEST) {
            return HTTP_REQUEST_URI_TOO_LARGE;
        }
        if (ca_ocsp_get_decode(&d, &len, raw, r->pool) != APR_SUCCESS) {
            return send_error(r, CA_OCSP_MALFORMED_REQUEST);
        }
        der = d;
    }
    else {
        r->allowed = (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
        return HTTP_METHOD_NOT_ALLOWED;
    }

    if (ca_ocsp_parse_request(&req, der, len, MAX_IDS, r->pool) != APR_SUCCESS) {
        return send_error(r, CA_OCSP_MALFORMED_REQUEST);
    }
    memset(&st, 0, sizeof(st));
    st.s = r->server;
    st.r = r;
    answerer_of(&a, c, OCSP_CFG(c, nonce), &st);
    a.cached = ocsp_cache_lookup;
    ca_ocsp_answer(&ans, &a, req, der, len, apr_time_now(), r->pool);
    if (ocsp_stats && ans.key) {
        apr_atomic_inc32(ans.cached ? &ocsp_stats->hits : &ocsp_stats->misses);
    }
    if (ans.error) {
        signing_failed(&ans);
        return send_error(r, ans.error);
    }
    if (ans.cached) {
        if (get) {
            cache_headers(r, c, ans.der, ans.len, ans.next_update);
        }
        return send_response(r, ans.der, ans.len);
    }
    if (ocsp_stats) {
        apr_atomic_inc32(&ocsp_stats->signatures);
    }
    /* kept until a little before nextUpdate; a revocation removes it */
    ocsp_cache_put(r->server, ans.key, ans.record, ans.record_len, ans.expiry, r->pool);
    if (get && !ans.nonce) {
        cache_headers(r, c, ans.der, ans.len, ans.next_update);
    }
    else {
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    }
    return send_response(r, ans.der, ans.len);
}

/* ---- re-signing before nextUpdate (mod_watchdog) ---- */

typedef struct {
    const char *key;
    const unsigned char *req;
    apr_size_t reqlen;
} due_t;

typedef struct {
    apr_array_header_t *due;
    apr_time_t limit;
    apr_pool_t *p;
} collect_t;

static apr_status_t collect_due(ap_socache_instance_t *inst, server_rec *s, void *userctx,
                                const unsigned char *id, unsigned int idlen,
                                const unsigned char *data, unsigned int datalen,
                                apr_pool_t *pool)
{
    collect_t *cc = userctx;
    const unsigned char *der, *req;
    apr_size_t len, rlen;
    apr_time_t next;
    due_t *d;

    if (cc->due->nelts >= 10000
        || ca_ocsp_record_parse(&der, &len, &next, &req, &rlen, data, datalen) != APR_SUCCESS
        || next > cc->limit) {
        return APR_SUCCESS;     /* a tombstone, or not yet due */
    }
    d = apr_array_push(cc->due);
    d->key = apr_pstrmemdup(cc->p, (const char *)id, idlen);
    d->req = apr_pmemdup(cc->p, req, rlen);
    d->reqlen = rlen;
    return APR_SUCCESS;
}

static apr_status_t refresh_callback(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    ocsp_srv_cfg *c = ocsp_cfg_of(s);
    apr_interval_time_t validity = OCSP_CFG(c, validity);
    collect_t cc;
    ap_dbd_t *dbd;
    apr_pool_t *p;
    int i;

    if (state == AP_WATCHDOG_STATE_STOPPING) {
        /* the watchdog thread ends: its OpenSSL thread state goes too */
        OPENSSL_thread_stop();
        return APR_SUCCESS;
    }
    if (state != AP_WATCHDOG_STATE_RUNNING || !ocsp_cache || !ocsp_cache_provider->iterate
        || child_stopping() || !c->responders) {
        return APR_SUCCESS;
    }
    apr_pool_create(&p, pool);
    cc.p = p;
    cc.due = apr_array_make(p, 16, sizeof(due_t));
    /* answers past half their validity are signed anew, before the cache
     * lets them go at three quarters */
    cc.limit = apr_time_now() + validity / 2;
    if (ocsp_cache_mutex) {
        apr_global_mutex_lock(ocsp_cache_mutex);
    }
    ocsp_cache_provider->iterate(ocsp_cache, s, &cc, collect_due, p);
    if (ocsp_cache_mutex) {
        apr_global_mutex_unlock(ocsp_cache_mutex);
    }
    if (cc.due->nelts && db_work_begin()) {
        store_t st;

        memset(&st, 0, sizeof(st));
        if (cacert_db_open(&st.db, &dbd, s, p) == APR_SUCCESS) {
            ca_ocsp_answerer_t a;
            st.s = s;
            st.have_db = 1;
            answerer_of(&a, c, 0, &st);
            for (i = 0; i < cc.due->nelts && !child_stopping(); i++) {
                due_t *d = &APR_ARRAY_IDX(cc.due, i, due_t);
                ca_ocsp_request_t *req;
                ca_ocsp_answer_t ans;
                if (ca_ocsp_parse_request(&req, d->req, d->reqlen, 1, p) != APR_SUCCESS) {
                    continue;
                }
                if (ca_ocsp_answer(&ans, &a, req, d->req, d->reqlen, apr_time_now(), p)
                    != APR_SUCCESS) {
                    signing_failed(&ans);
                    continue;
                }
                ocsp_cache_put(s, d->key, ans.record, ans.record_len, ans.expiry, p);
                if (ocsp_stats) {
                    apr_atomic_inc32(&ocsp_stats->refreshed);
                    apr_atomic_inc32(&ocsp_stats->signatures);
                }
            }
            cacert_db_close(dbd, s);
        }
        db_work_end();
    }
    if (ocsp_stats) {
        apr_atomic_set32(&ocsp_stats->last_refresh, (apr_uint32_t)apr_time_sec(apr_time_now()));
    }
    apr_pool_destroy(p);
    return APR_SUCCESS;
}

/* ---- revocations made anywhere (LISTEN cacert_revoked, sql/016) ---- */

#define NOTIFY_CHANNEL "cacert_revoked"

static apr_time_t heard_until;          /* every revocation known up to here */
static int behind;                      /* a catch-up from the table is due */

static apr_status_t listener_cleanup(void *data)
{
    cacert_listener_close(data);
    return APR_SUCCESS;
}

/* Every revocation any host records reaches this host's cache within the
 * wait below: the database notifies on commit (sql/016), this thread waits
 * on the socket.  After a (re)connection, notifications sent meanwhile are
 * lost: the revocations since the last time all was heard (at start: as
 * far back as a cached answer can be) are read from the table and
 * forgotten too, and heard_until stays put until that catch-up worked.
 * With CAcertOCSPPrimary the connection is the primary's, and each
 * revocation leaves a notice for answers read from a standby. */
static apr_status_t notify_callback(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    apr_array_header_t *payloads = NULL;
    apr_time_t now = apr_time_now();
    apr_pool_t *p;
    int fresh = 0;

    if (state == AP_WATCHDOG_STATE_STOPPING) {
        cacert_listener_close(&listener);
        return APR_SUCCESS;
    }
    if (state != AP_WATCHDOG_STATE_RUNNING || !ocsp_cache || child_stopping()) {
        return APR_SUCCESS;
    }
    apr_pool_create(&p, pool);
    if (cacert_listen(&payloads, &fresh, &listener, s, NOTIFY_CHANNEL,
                      apr_time_from_msec(250), p) == APR_SUCCESS) {
        ca_db_t *db = NULL;
        behind |= fresh;
        if (payloads->nelts || behind) {
            db = cacert_listener_db(&listener);
        }
        if (payloads->nelts && ocsp_take_notices(s, db, payloads, p) != APR_SUCCESS) {
            behind = 1;
        }
        if (behind && db && ocsp_catch_up(s, db, heard_until, now, p) == APR_SUCCESS) {
            behind = 0;
        }
        if (db) {
            cacert_listener_release(&listener);
        }
        if (!behind) {
            heard_until = now;
        }
    }
    apr_pool_destroy(p);
    return APR_SUCCESS;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(ocsp_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    cacert_hook_module(ocsp_stmts, ocsp_post_config, ocsp_child_init, ocsp_handler);
    ap_hook_handler(ocsp_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_REGISTER_OPTIONAL_FN(cacert_ocsp_forget);
}

CACERT_MODULE(cacert_ocsp_module, ocsp_);
