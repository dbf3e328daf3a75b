/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_ocsp: the cache of signed answers (mod_socache), the notices
 * of revocations kept for answers read from a hot standby, the catch-up of
 * revocations the listener missed, and the status page.  The handler, the
 * start-up and the watchdogs are in mod_cacert_ocsp.c. */
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_atomic.h>

#include <httpd.h>
#include <http_protocol.h>

#include "ca_db.h"
#include "ca_issue.h"
#include "ca_ocsp.h"
#include "ocsp_config.h"
#include "ocsp_private.h"

ocsp_stats_t *ocsp_stats;
ap_socache_provider_t *ocsp_cache_provider;
ap_socache_instance_t *ocsp_cache;
apr_global_mutex_t *ocsp_cache_mutex;
int ocsp_standby_mode;
apr_interval_time_t ocsp_notice_life;

/* ---- the cache of signed answers ----
 * under ca_ocsp_cache_key(), the records of ca_ocsp_answer() (the core has
 * their format and lifetime); a revocation lays a tombstone "<key>|revoked" */

/* the record under key, into buf (*plen: its size, then the record's);
 * APR_NOTFOUND without a cache */
apr_status_t ocsp_cache_get(server_rec *s, const char *key, unsigned char *buf,
                            unsigned int *plen, apr_pool_t *p)
{
    apr_status_t rv;

    if (!ocsp_cache) {
        return APR_NOTFOUND;
    }
    if (ocsp_cache_mutex) {
        apr_global_mutex_lock(ocsp_cache_mutex);
    }
    rv = ocsp_cache_provider->retrieve(ocsp_cache, s, (const unsigned char *)key,
                                       (unsigned int)strlen(key), buf, plen, p);
    if (ocsp_cache_mutex) {
        apr_global_mutex_unlock(ocsp_cache_mutex);
    }
    return rv;
}

/* ca_ocsp_cached_fn: the record under key, copied into p */
apr_status_t ocsp_cache_lookup(const unsigned char **prec, apr_size_t *plen, void *baton,
                               const char *key, apr_pool_t *p)
{
    store_t *st = baton;
    server_rec *s = st->s;
    unsigned char buf[MAX_RECORD];
    unsigned int len = sizeof(buf);
    apr_status_t rv;

    rv = ocsp_cache_get(s, key, buf, &len, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *prec = apr_pmemdup(p, buf, len);
    *plen = len;
    return APR_SUCCESS;
}

void ocsp_cache_put(server_rec *s, const char *key, const unsigned char *rec,
                    apr_size_t len, apr_time_t expiry, apr_pool_t *p)
{
    if (!ocsp_cache || !key || !rec || len > MAX_RECORD) {
        return;
    }
    if (ocsp_cache_mutex) {
        apr_global_mutex_lock(ocsp_cache_mutex);
    }
    /* a revocation left a tombstone: an answer signed before it is not
     * kept (checked and stored under one lock, as the tombstone is laid) */
    {
        const char *tomb = apr_pstrcat(p, key, "|revoked", NULL);
        unsigned char t[16];
        unsigned int tl = sizeof(t);
        if (ocsp_cache_provider->retrieve(ocsp_cache, s, (const unsigned char *)tomb,
                                          (unsigned int)strlen(tomb), t, &tl, p) != APR_SUCCESS) {
            ocsp_cache_provider->store(ocsp_cache, s, (const unsigned char *)key,
                                       (unsigned int)strlen(key), expiry, (unsigned char *)rec,
                                       (unsigned int)len, p);
            /* a cache shared by several hosts (redis, memcache) has no lock
             * across them: a revocation on another host may have laid its
             * tombstone and removed the key between the look above and the
             * store.  It lays the tombstone before it removes, so looking
             * again after the store sees either the tombstone (and the
             * answer goes) or nothing (and its removal comes after) */
            tl = sizeof(t);
            if (ocsp_cache_provider->retrieve(ocsp_cache, s, (const unsigned char *)tomb,
                                              (unsigned int)strlen(tomb), t, &tl, p)
                == APR_SUCCESS) {
                ocsp_cache_provider->remove(ocsp_cache, s, (const unsigned char *)key,
                                            (unsigned int)strlen(key), p);
            }
        }
    }
    if (ocsp_cache_mutex) {
        apr_global_mutex_unlock(ocsp_cache_mutex);
    }
}

/* a revocation: the cached answers for that certificate go at once
 * (called by mod_cacert_issue when signerd has recorded it) */
void cacert_ocsp_forget(server_rec *s, const char *ca, const char *serial,
                        apr_pool_t *p)
{
    ca_ocsp_hash_t algs[] = { CA_OCSP_HASH_SHA1, CA_OCSP_HASH_SHA256 };
    int i;

    if (!ocsp_cache) {
        return;
    }
    for (i = 0; i < 2; i++) {
        const char *key = ca_ocsp_cache_key(ca, algs[i], serial, p);
        const char *tomb = apr_pstrcat(p, key, "|revoked", NULL);
        if (ocsp_cache_mutex) {
            apr_global_mutex_lock(ocsp_cache_mutex);
        }
        /* a tombstone, so that an answer signed just before the revocation
         * is not stored after this */
        ocsp_cache_provider->store(ocsp_cache, s, (const unsigned char *)tomb,
                                   (unsigned int)strlen(tomb),
                                   apr_time_now() + apr_time_from_sec(60),
                                   (unsigned char *)"revoked!", 8, p);
        ocsp_cache_provider->remove(ocsp_cache, s, (const unsigned char *)key,
                                    (unsigned int)strlen(key), p);
        if (ocsp_cache_mutex) {
            apr_global_mutex_unlock(ocsp_cache_mutex);
        }
    }
    if (ocsp_stats) {
        apr_atomic_inc32(&ocsp_stats->forgotten);
    }
}

/* ---- reading a hot standby (CAcertOCSPPrimary) ----
 * NOTIFY reaches only the primary's sessions, and a standby may not have
 * replayed a revocation when the listener drops the cached answers.  So
 * the listener, connected to the primary, keeps a notice of each revocation
 * it hears of in the cache, under "<key>|notice": the primary's WAL
 * position after it (every commit it heard of lies before), the time and
 * the reason, "<lsn> <revoked_at> <reason>", for CAcertOCSPValidity.  An
 * answer about a certificate with a notice reads the database only when it
 * has replayed the WAL up to there; while it lags behind, the notice is the
 * status. */

static const char *notice_key(const char *ca, const char *serial, apr_pool_t *p)
{
    return apr_pstrcat(p, ca_ocsp_cache_key(ca, CA_OCSP_HASH_SHA1, serial, p), "|notice",
                       NULL);
}

static void notice_keep(server_rec *s, const char *ca, const char *serial, const char *lsn,
                        apr_int64_t revoked_at, int reason, apr_pool_t *p)
{
    const char *key = notice_key(ca, serial, p);
    const char *val = apr_psprintf(p, "%s %" APR_INT64_T_FMT " %d", lsn, revoked_at, reason);

    if (ocsp_cache_mutex) {
        apr_global_mutex_lock(ocsp_cache_mutex);
    }
    ocsp_cache_provider->store(ocsp_cache, s, (const unsigned char *)key, (unsigned int)strlen(key),
                               apr_time_now() + ocsp_notice_life, (unsigned char *)val,
                               (unsigned int)strlen(val), p);
    if (ocsp_cache_mutex) {
        apr_global_mutex_unlock(ocsp_cache_mutex);
    }
}

/* the notice of ca/serial: APR_SUCCESS, or APR_NOTFOUND when there is none
 * (or it cannot be read) */
apr_status_t ocsp_notice_lookup(const char **plsn, apr_int64_t *prevoked_at, int *preason,
                                server_rec *s, const char *ca, const char *serial,
                                apr_pool_t *p)
{
    const char *key = notice_key(ca, serial, p);
    unsigned char buf[128];
    unsigned int len = sizeof(buf) - 1;
    char *last, *lsn, *at, *reason;
    apr_status_t rv;

    rv = ocsp_cache_get(s, key, buf, &len, p);
    if (rv != APR_SUCCESS) {
        return APR_NOTFOUND;
    }
    buf[len] = '\0';
    lsn = apr_strtok(apr_pstrdup(p, (const char *)buf), " ", &last);
    at = apr_strtok(NULL, " ", &last);
    reason = apr_strtok(NULL, " ", &last);
    if (!lsn || !at || !reason) {
        return APR_NOTFOUND;
    }
    *plsn = lsn;
    *prevoked_at = apr_atoi64(at);
    *preason = atoi(reason);
    return APR_SUCCESS;
}

/* forget the cached answers of the revocations recorded since heard_until
 * (with a margin for clocks; 0: not yet), or as far back as a cached answer
 * can be; read on the listener's connection (the primary: a standby may
 * lag) */
apr_status_t ocsp_catch_up(server_rec *s, ca_db_t *db, apr_time_t heard_until, apr_time_t now,
                           apr_pool_t *p)
{
    apr_interval_time_t ago = heard_until ? now - heard_until + apr_time_from_sec(5)
                                          : OCSP_CFG(ocsp_cfg_of(s), validity);
    apr_array_header_t *rows;
    const char *lsn = NULL;
    apr_status_t rv;
    int i;

    if ((rv = ca_issue_revoked_since(&rows, db, ago, p)) != APR_SUCCESS) {
        return rv;
    }
    /* after the select: past every commit it saw */
    if (ocsp_standby_mode && rows->nelts && (rv = ca_issue_wal_lsn(&lsn, db, p)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nelts; i++) {
        const ca_row_t *row = APR_ARRAY_IDX(rows, i, const ca_row_t *);
        if (lsn) {
            notice_keep(s, ca_col(row, "ca"), ca_col(row, "serial"), lsn,
                        ca_col_i64(row, "revoked_at", 0), ca_col_int(row, "reason", 0), p);
        }
        cacert_ocsp_forget(s, ca_col(row, "ca"), ca_col(row, "serial"), p);
    }
    return APR_SUCCESS;
}

/* the revocations notified ("<ca> <serial>"): with a standby, each one's
 * notice first (from the primary, db), then its cached answers go.
 * APR_SUCCESS, or an error when a notice could not be kept (the caller
 * then catches up from the table) */
apr_status_t ocsp_take_notices(server_rec *s, ca_db_t *db,
                               const apr_array_header_t *payloads, apr_pool_t *p)
{
    const char *lsn = NULL;
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (ocsp_standby_mode && (!db || (rv = ca_issue_wal_lsn(&lsn, db, p)) != APR_SUCCESS)) {
        lsn = NULL;
        rv = APR_EGENERAL;
    }
    for (i = 0; i < payloads->nelts; i++) {
        char *ca = apr_pstrdup(p, APR_ARRAY_IDX(payloads, i, const char *));
        char *serial = strchr(ca, ' ');
        if (!serial) {
            continue;
        }
        *serial++ = '\0';
        if (lsn) {
            int status;
            apr_int64_t at;
            int reason;
            if (ca_issue_status(&status, &at, &reason, db, ca, serial, p) != APR_SUCCESS) {
                rv = APR_EGENERAL;
            }
            else if (status == CA_CERT_REVOKED) {
                notice_keep(s, ca, serial, lsn, at, reason, p);
            }
        }
        cacert_ocsp_forget(s, ca, serial, p);
    }
    return rv;
}

/* a small status page for operators */
int ocsp_status_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, OCSP_HANDLER_STATUS)) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        r->allowed = AP_METHOD_BIT << M_GET;
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ap_set_content_type(r, "text/plain; charset=utf-8");
    if (!ocsp_stats) {
        ap_rputs("OCSP responder not set up\n", r);
        return OK;
    }
    ap_rprintf(r, "requests: %u\ncache hits: %u\ncache misses: %u\nsignatures: %u\n"
               "malformed requests: %u\nunauthorized: %u\ntry later: %u\n"
               "other errors: %u\nforgotten on revocation: %u\nrefreshed: %u\n"
               "last refresh: %u\nanswered from notices: %u\ncache: %s\n",
               apr_atomic_read32(&ocsp_stats->requests), apr_atomic_read32(&ocsp_stats->hits),
               apr_atomic_read32(&ocsp_stats->misses), apr_atomic_read32(&ocsp_stats->signatures),
               apr_atomic_read32(&ocsp_stats->malformed),
               apr_atomic_read32(&ocsp_stats->unauthorized),
               apr_atomic_read32(&ocsp_stats->try_later), apr_atomic_read32(&ocsp_stats->errors),
               apr_atomic_read32(&ocsp_stats->forgotten), apr_atomic_read32(&ocsp_stats->refreshed),
               apr_atomic_read32(&ocsp_stats->last_refresh),
               apr_atomic_read32(&ocsp_stats->noticed),
               ocsp_cache_provider ? ocsp_cache_provider->name : "none");
    return OK;
}
