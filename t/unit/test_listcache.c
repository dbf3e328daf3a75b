/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* ca_listcache: a list is read again only when the member's version moved */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "ca_listcache.h"
#include "tests.h"

static const char *const KIND = "list", *const OTHER_KIND = "other";

typedef struct {
    int reads;
    const char *text;           /* what the "database" holds now */
    apr_status_t rv;
} source_t;

static apr_status_t fill(const void **pdata, void *baton, apr_pool_t *dp)
{
    source_t *s = baton;

    s->reads++;
    if (s->rv != APR_SUCCESS) {
        return s->rv;
    }
    *pdata = apr_pstrdup(dp, s->text);
    return APR_SUCCESS;
}

static const char *get(ca_listcache_t *c, const char *kind, const char *member,
                       apr_int64_t v, source_t *s, apr_pool_t *p)
{
    const void *data;

    ck_assert_int_eq(ca_listcache_get(&data, c, kind, member, v, fill, s, p), APR_SUCCESS);
    return data;
}

START_TEST(read_again_only_when_the_version_moves)
{
    apr_pool_t *p, *rp;
    ca_listcache_t *c;
    source_t s = { 0, "one", APR_SUCCESS };
    const char *held;

    apr_pool_create(&p, NULL);
    apr_pool_create(&rp, p);
    ck_assert_int_eq(ca_listcache_make(&c, 4, p), APR_SUCCESS);
    ck_assert_str_eq(get(c, KIND, "7", 1, &s, rp), "one");
    s.text = "two";
    /* same version: kept, not read */
    ck_assert_str_eq(get(c, KIND, "7", 1, &s, rp), "one");
    ck_assert_int_eq(s.reads, 1);
    /* another member, another kind: each its own */
    ck_assert_str_eq(get(c, KIND, "8", 1, &s, rp), "two");
    ck_assert_str_eq(get(c, OTHER_KIND, "7", 1, &s, rp), "two");
    ck_assert_int_eq(s.reads, 3);
    /* the version moved: read again; the old list stays valid for the
     * request that holds it until its pool goes */
    held = get(c, KIND, "7", 1, &s, rp);
    ck_assert_str_eq(get(c, KIND, "7", 2, &s, rp), "two");
    ck_assert_str_eq(held, "one");
    ck_assert_int_eq(s.reads, 4);
    /* an older version asked late does not push the newer one out */
    s.text = "old";
    ck_assert_str_eq(get(c, KIND, "7", 1, &s, rp), "old");
    ck_assert_str_eq(get(c, KIND, "7", 2, &s, rp), "two");
    ck_assert_int_eq(s.reads, 5);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(bounded_and_least_recently_used_goes)
{
    apr_pool_t *p, *rp;
    ca_listcache_t *c;
    source_t s = { 0, "x", APR_SUCCESS };
    ca_listcache_stats_t st;
    char m[16];
    int i;

    apr_pool_create(&p, NULL);
    ck_assert_int_eq(ca_listcache_make(&c, 3, p), APR_SUCCESS);
    for (i = 0; i < 3; i++) {
        apr_pool_create(&rp, p);
        snprintf(m, sizeof(m), "%d", i);
        get(c, KIND, m, 0, &s, rp);
        apr_pool_destroy(rp);
    }
    apr_pool_create(&rp, p);
    get(c, KIND, "0", 0, &s, rp);       /* 0 used last: 1 goes first */
    get(c, KIND, "3", 0, &s, rp);
    ck_assert_int_eq(s.reads, 4);
    get(c, KIND, "0", 0, &s, rp);
    get(c, KIND, "2", 0, &s, rp);
    ck_assert_int_eq(s.reads, 4);
    get(c, KIND, "1", 0, &s, rp);
    ck_assert_int_eq(s.reads, 5);
    ca_listcache_stats(&st, c);
    ck_assert_uint_eq(st.hits, 3);
    ck_assert_uint_eq(st.misses, 5);
    /* a member id that is not a number of sane length is never kept */
    get(c, KIND, "123456789012345678901234567890", 0, &s, rp);
    get(c, KIND, "123456789012345678901234567890", 0, &s, rp);
    ck_assert_int_eq(s.reads, 7);
    apr_pool_destroy(rp);
    apr_pool_destroy(p);
}
END_TEST

START_TEST(a_failed_read_is_not_kept)
{
    apr_pool_t *p;
    ca_listcache_t *c;
    source_t s = { 0, "x", APR_EGENERAL };
    const void *data = "set";

    apr_pool_create(&p, NULL);
    ck_assert_int_eq(ca_listcache_make(&c, 2, p), APR_SUCCESS);
    ck_assert_int_eq(ca_listcache_get(&data, c, KIND, "1", 0, fill, &s, p), APR_EGENERAL);
    ck_assert_ptr_null(data);
    s.rv = APR_SUCCESS;
    ck_assert_str_eq(get(c, KIND, "1", 0, &s, p), "x");
    ck_assert_int_eq(s.reads, 2);
    /* no cache: read every time, into the caller's pool */
    ck_assert_str_eq(get(NULL, KIND, "1", 0, &s, p), "x");
    ck_assert_int_eq(s.reads, 3);
    ck_assert_int_eq(ca_listcache_make(&c, 0, p), APR_EINVAL);
    apr_pool_destroy(p);
}
END_TEST

Suite *listcache_suite(void)
{
    Suite *s = suite_create("listcache");
    TCase *tc = tcase_create("listcache");

    tcase_add_test(tc, read_again_only_when_the_version_moves);
    tcase_add_test(tc, bounded_and_least_recently_used_goes);
    tcase_add_test(tc, a_failed_read_is_not_kept);
    suite_add_tcase(s, tc);
    return s;
}
