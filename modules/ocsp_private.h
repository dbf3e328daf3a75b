/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* What the files of mod_cacert_ocsp share: the cache of signed answers,
 * the notices and the status page (ocsp_cache.c), and the handler, the
 * start-up and the watchdogs (mod_cacert_ocsp.c). */
#ifndef OCSP_PRIVATE_H
#define OCSP_PRIVATE_H

#include <apr_global_mutex.h>
#include <apr_time.h>
#include <httpd.h>
#include <ap_socache.h>

#include "ca_db.h"
#include "mod_cacert.h"

#define OCSP_HANDLER_STATUS "cacert-ocsp-status"
#define MAX_RECORD 4096                 /* bytes of a cached record */

/* shared by all children: counters for the status page */
typedef struct {
    apr_uint32_t requests, hits, misses, signatures, errors, malformed, unauthorized;
    apr_uint32_t try_later, forgotten, refreshed, noticed;
    apr_uint32_t last_refresh;                 /* seconds since the epoch */
} ocsp_stats_t;

/* set up by mod_cacert_ocsp.c at start-up; NULL: none */
extern ocsp_stats_t *ocsp_stats;
extern ap_socache_provider_t *ocsp_cache_provider;
extern ap_socache_instance_t *ocsp_cache;
extern apr_global_mutex_t *ocsp_cache_mutex;   /* NULL: the provider needs none */
/* CAcertOCSPPrimary is set: mod_dbd may read a hot standby, the listener
 * keeps a notice of each revocation for the answers */
extern int ocsp_standby_mode;
extern apr_interval_time_t ocsp_notice_life;

/* the baton of ca_ocsp_answer()'s callbacks: the store is certificates.serial
 * through mod_dbd, the connection acquired at the first question (a cached
 * answer needs none) or, for the watchdog, opened beforehand */
typedef struct {
    server_rec *s;
    request_rec *r;
    ca_db_t db;
    int have_db;
} store_t;

/* the record under key, into buf (*plen: its size, then the record's);
 * APR_NOTFOUND without a cache */
apr_status_t ocsp_cache_get(server_rec *s, const char *key, unsigned char *buf,
                            unsigned int *plen, apr_pool_t *p);
/* ca_ocsp_cached_fn (baton: a store_t): the record under key, copied into p */
apr_status_t ocsp_cache_lookup(const unsigned char **prec, apr_size_t *plen, void *baton,
                               const char *key, apr_pool_t *p);
/* keep a record until expiry, unless a revocation laid its tombstone */
void ocsp_cache_put(server_rec *s, const char *key, const unsigned char *rec,
                    apr_size_t len, apr_time_t expiry, apr_pool_t *p);
/* a revocation: the cached answers of ca/serial go (the optional function
 * of mod_cacert.h) */
APR_OPTIONAL_FN_TYPE(cacert_ocsp_forget) cacert_ocsp_forget;

/* the notice of ca/serial: APR_SUCCESS, or APR_NOTFOUND when there is none */
apr_status_t ocsp_notice_lookup(const char **plsn, apr_int64_t *prevoked_at, int *preason,
                                server_rec *s, const char *ca, const char *serial,
                                apr_pool_t *p);
/* the revocations recorded since heard_until (0: as far back as a cached
 * answer can be): their notices kept, their answers forgotten */
apr_status_t ocsp_catch_up(server_rec *s, ca_db_t *db, apr_time_t heard_until, apr_time_t now,
                           apr_pool_t *p);
/* the revocations notified ("<ca> <serial>"): the same for each */
apr_status_t ocsp_take_notices(server_rec *s, ca_db_t *db,
                               const apr_array_header_t *payloads, apr_pool_t *p);
/* the handler of the status page (SetHandler cacert-ocsp-status) */
int ocsp_status_handler(request_rec *r);

#endif
