/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "ca_listcache.h"

/* one list: made in a pool of its own (unmanaged, so that it can be made and
 * destroyed from any thread), shared by the requests that hold it.  An entry
 * pushed out of the table while requests still hold it is destroyed by the
 * last of them. */
typedef struct entry_t {
    apr_pool_t *pool;
    const char *kind;
    char member[24];
    apr_int64_t v;
    const void *data;
    int refs;
    int detached;               /* no longer in the table */
    apr_uint64_t used;          /* the cache's clock when last asked for */
    ca_listcache_t *cache;
} entry_t;

struct ca_listcache_t {
    apr_thread_mutex_t *lock;
    entry_t **slots;
    int max;
    apr_uint64_t clock;
    ca_listcache_stats_t st;
};

static void entry_destroy(entry_t *e)
{
    apr_pool_destroy(e->pool);
}

/* under the lock */
static void entry_detach(entry_t *e)
{
    e->detached = 1;
    if (e->refs == 0) {
        entry_destroy(e);
    }
}

static apr_status_t entry_release(void *data)
{
    entry_t *e = data;
    ca_listcache_t *c = e->cache;

    apr_thread_mutex_lock(c->lock);
    if (--e->refs == 0 && e->detached) {
        entry_destroy(e);
    }
    apr_thread_mutex_unlock(c->lock);
    return APR_SUCCESS;
}

/* under the lock: the caller holds e until p goes */
static const void *entry_hold(entry_t *e, apr_pool_t *p)
{
    e->refs++;
    e->used = ++e->cache->clock;
    apr_pool_cleanup_register(p, e, entry_release, apr_pool_cleanup_null);
    return e->data;
}

static apr_status_t cache_cleanup(void *data)
{
    ca_listcache_t *c = data;
    int i;

    /* the child is going: no request holds an entry any more */
    for (i = 0; i < c->max; i++) {
        if (c->slots[i]) {
            entry_destroy(c->slots[i]);
            c->slots[i] = NULL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t ca_listcache_make(ca_listcache_t **pc, int max, apr_pool_t *p)
{
    ca_listcache_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv;

    *pc = NULL;
    if (max < 1) {
        return APR_EINVAL;
    }
    if ((rv = apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, p))
        != APR_SUCCESS) {
        return rv;
    }
    c->max = max;
    c->slots = apr_pcalloc(p, sizeof(entry_t *) * (apr_size_t)max);
    apr_pool_cleanup_register(p, c, cache_cleanup, apr_pool_cleanup_null);
    *pc = c;
    return APR_SUCCESS;
}

/* under the lock: the slot of kind/member, else -1 */
static int slot_of(ca_listcache_t *c, const char *kind, const char *member_id)
{
    int i;

    for (i = 0; i < c->max; i++) {
        entry_t *e = c->slots[i];
        if (e && e->kind == kind && !strcmp(e->member, member_id)) {
            return i;
        }
    }
    return -1;
}

/* under the lock: where a new list goes (a free slot, else the one asked
 * for least recently) */
static int slot_for(ca_listcache_t *c)
{
    int i, oldest = 0;

    for (i = 0; i < c->max; i++) {
        if (!c->slots[i]) {
            return i;
        }
        if (c->slots[i]->used < c->slots[oldest]->used) {
            oldest = i;
        }
    }
    return oldest;
}

apr_status_t ca_listcache_get(const void **pdata, ca_listcache_t *c, const char *kind,
                              const char *member_id, apr_int64_t v,
                              ca_listcache_fill_fn *fill, void *baton, apr_pool_t *p)
{
    apr_pool_t *dp = NULL;
    entry_t *e;
    int i;
    apr_status_t rv;

    *pdata = NULL;
    /* member ids are numbers; anything else is not kept */
    if (!c || strlen(member_id) >= sizeof(e->member)) {
        return fill(pdata, baton, p);
    }
    apr_thread_mutex_lock(c->lock);
    if ((i = slot_of(c, kind, member_id)) >= 0 && c->slots[i]->v == v) {
        c->st.hits++;
        *pdata = entry_hold(c->slots[i], p);
        apr_thread_mutex_unlock(c->lock);
        return APR_SUCCESS;
    }
    c->st.misses++;
    apr_thread_mutex_unlock(c->lock);

    /* read outside the lock: the list read now is at least at version v */
    if ((rv = apr_pool_create_unmanaged_ex(&dp, NULL, NULL)) != APR_SUCCESS) {
        return rv;
    }
    e = apr_pcalloc(dp, sizeof(*e));
    e->pool = dp;
    e->kind = kind;
    e->v = v;
    e->cache = c;
    apr_cpystrn(e->member, member_id, sizeof(e->member));
    if ((rv = fill(&e->data, baton, dp)) != APR_SUCCESS) {
        apr_pool_destroy(dp);
        return rv;
    }

    apr_thread_mutex_lock(c->lock);
    if ((i = slot_of(c, kind, member_id)) >= 0 && c->slots[i]->v > v) {
        /* a newer one was kept meanwhile: this one serves this request only */
        e->detached = 1;
    }
    else {
        if (i < 0) {
            i = slot_for(c);
        }
        if (c->slots[i]) {
            entry_detach(c->slots[i]);
        }
        c->slots[i] = e;
        c->st.kept++;
    }
    *pdata = entry_hold(e, p);
    apr_thread_mutex_unlock(c->lock);
    return APR_SUCCESS;
}

void ca_listcache_stats(ca_listcache_stats_t *st, ca_listcache_t *c)
{
    memset(st, 0, sizeof(*st));
    if (c) {
        apr_thread_mutex_lock(c->lock);
        *st = c->st;
        apr_thread_mutex_unlock(c->lock);
    }
}
