/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef CA_LISTCACHE_H
#define CA_LISTCACHE_H

#include <apr_pools.h>

/* A process's copies of members' long lists (the points page, the
 * certificate list), each kept with the member's version of their lists
 * (list_versions, migration 021) when it was read.  A list is read again
 * only when the member's version has moved on, so what a page shows is never
 * older than the version it asked for.  Thread-safe; at most `max` lists are
 * kept, the least recently used one goes first. */
typedef struct ca_listcache_t ca_listcache_t;

/* the cache lives until p is destroyed (a child's pool) */
apr_status_t ca_listcache_make(ca_listcache_t **pc, int max, apr_pool_t *p);

/* makes a list in dp (the cache's pool for it) */
typedef apr_status_t ca_listcache_fill_fn(const void **pdata, void *baton, apr_pool_t *dp);

/* the list `kind` (a static string: compared by address) of a member at
 * version v: kept, or made by fill (outside
 * the cache's lock) and then kept.  What *pdata points to is shared with
 * other requests and must not be changed; it stays valid until p is cleared
 * or destroyed.  c may be NULL: fill then makes it in p. */
apr_status_t ca_listcache_get(const void **pdata, ca_listcache_t *c, const char *kind,
                              const char *member_id, apr_int64_t v,
                              ca_listcache_fill_fn *fill, void *baton, apr_pool_t *p);

typedef struct {
    apr_uint64_t hits, misses, kept;
} ca_listcache_stats_t;

void ca_listcache_stats(ca_listcache_stats_t *st, ca_listcache_t *c);

#endif
