/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The audit log's hash in C must be the one audit_log_hash() computes in
 * SQL (the expected values are SHA-256 over the same text, computed
 * outside), and the walk must name the first broken link. */
#include <string.h>

#include <apr_pools.h>

#include "tests.h"
#include "ca_audit.h"

static apr_pool_t *pool;

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

#define H1 "dc0662dbca8b90e260104ae67539a05c881f029d5bf3ee5ed26ef5df9ffb367b"
#define H3 "bce4ac8dd1ee29522dae8a1bc3f078a61ae67b1e19016c4530d407c6db70447b"
#define T1 1704164645123456LL           /* 2024-01-02T03:04:05.123456Z */

START_TEST(time_text)
{
    char t[28];

    ca_audit_time_text(t, T1);
    ck_assert_str_eq(t, "2024-01-02T03:04:05.123456Z");
    ca_audit_time_text(t, 0);
    ck_assert_str_eq(t, "1970-01-01T00:00:00.000000Z");
}
END_TEST

START_TEST(hash_matches_sql)
{
    char h[65];

    /* lengths count characters: "äöü" is 3, not 6 */
    ca_audit_hash(h, CA_AUDIT_ZERO_HASH, "1", "2024-01-02T03:04:05.123456Z", NULL, "42",
                  "a.b.c", "\xc3\xa4\xc3\xb6\xc3\xbc");
    ck_assert_str_eq(h, H1);
    ca_audit_hash(h, H1, "3", "2024-01-02T03:04:06.000000Z", "7", NULL, "", "");
    ck_assert_str_eq(h, H3);
}
END_TEST

static ca_audit_row_t row1(void)
{
    ca_audit_row_t r = { "1", T1, NULL, "42", "a.b.c", "\xc3\xa4\xc3\xb6\xc3\xbc",
                         CA_AUDIT_ZERO_HASH, H1 };
    return r;
}

static ca_audit_row_t row3(void)
{
    ca_audit_row_t r = { "3", T1 + 876544, "7", NULL, "", "", H1, H3 };
    return r;
}

START_TEST(walk_intact_with_gap)
{
    ca_audit_walk_t w;
    ca_audit_row_t a = row1(), b = row3();

    ca_audit_walk_init(&w);
    ck_assert_int_eq(ca_audit_walk_row(&w, &a, pool), 1);
    ck_assert_int_eq(ca_audit_walk_row(&w, &b, pool), 1);
    ck_assert_int_eq(w.entries, 2);
    ck_assert_int_eq(w.last_id, 3);
    ck_assert_int_eq(w.gaps, 1);            /* a rolled-back write: still linked */
    ck_assert_str_eq(w.last_hash, H3);
    ck_assert_int_eq(w.broken_id, 0);
}
END_TEST

START_TEST(walk_edited_row)
{
    ca_audit_walk_t w;
    ca_audit_row_t a = row1();

    a.detail = "aou";
    ca_audit_walk_init(&w);
    ck_assert_int_eq(ca_audit_walk_row(&w, &a, pool), 0);
    ck_assert_int_eq(w.broken_id, 1);
    ck_assert_ptr_nonnull(strstr(w.broken_why, "changed"));
    a = row1();
    a.actor = "9";                          /* NULL and a value differ */
    ca_audit_walk_init(&w);
    ck_assert_int_eq(ca_audit_walk_row(&w, &a, pool), 0);
    a = row1();
    a.at_usec += 1;                         /* the time to the microsecond */
    ca_audit_walk_init(&w);
    ck_assert_int_eq(ca_audit_walk_row(&w, &a, pool), 0);
}
END_TEST

START_TEST(walk_deleted_row)
{
    ca_audit_walk_t w;
    ca_audit_row_t a = row1(), b = row3();

    /* entry 2 existed and was deleted: 3 links to it, not to 1 */
    b.prev_hash = "1111111111111111111111111111111111111111111111111111111111111111";
    ca_audit_walk_init(&w);
    ck_assert_int_eq(ca_audit_walk_row(&w, &a, pool), 1);
    ck_assert_int_eq(ca_audit_walk_row(&w, &b, pool), 0);
    ck_assert_int_eq(w.broken_id, 3);
    ck_assert_ptr_nonnull(strstr(w.broken_why, "entries 2 to 2 are missing"));
    /* the first entries gone */
    b = row3();
    ca_audit_walk_init(&w);
    ck_assert_int_eq(ca_audit_walk_row(&w, &b, pool), 0);
    ck_assert_int_eq(w.broken_id, 3);
    ck_assert_ptr_nonnull(strstr(w.broken_why, "entries 1 to 2 are missing"));
}
END_TEST

START_TEST(walk_stops_at_first)
{
    ca_audit_walk_t w;
    ca_audit_row_t a = row1(), b = row3();

    a.detail = "x";
    ca_audit_walk_init(&w);
    ck_assert_int_eq(ca_audit_walk_row(&w, &a, pool), 0);
    ck_assert_int_eq(ca_audit_walk_row(&w, &b, pool), 0);
    ck_assert_int_eq(w.broken_id, 1);
    a = row1();
    a.id = "x1";
    ca_audit_walk_init(&w);
    ck_assert_int_eq(ca_audit_walk_row(&w, &a, pool), 0);
}
END_TEST

Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("chain");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, time_text);
    tcase_add_test(tc, hash_matches_sql);
    tcase_add_test(tc, walk_intact_with_gap);
    tcase_add_test(tc, walk_edited_row);
    tcase_add_test(tc, walk_deleted_row);
    tcase_add_test(tc, walk_stops_at_first);
    suite_add_tcase(s, tc);
    return s;
}
