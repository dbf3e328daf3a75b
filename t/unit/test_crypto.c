/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_pools.h>

#include "tests.h"
#include "ca_crypto.h"

static apr_pool_t *pool;

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

START_TEST(tokens)
{
    const char *a, *b;

    ck_assert_int_eq(ca_random_token(&a, 32, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_random_token(&b, 32, pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(a), 43);
    ck_assert_str_ne(a, b);
    ck_assert_uint_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-_"), 43);
    ck_assert_int_eq(ca_random_token(&a, 18, pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(a), 24);
    ck_assert_int_eq(ca_random_token(&a, 0, pool), APR_EINVAL);
    ck_assert_int_eq(ca_random_token_hash(&a, &b, 24, pool), APR_SUCCESS);
    ck_assert_uint_eq(strlen(a), 32);
    ck_assert_str_eq(b, ca_sha256_hex(a, strlen(a), pool));
    ck_assert_int_eq(ca_random_token_hash(&a, &b, 0, pool), APR_EINVAL);
    ck_assert_ptr_null(a);
    ck_assert_ptr_null(b);
}
END_TEST

START_TEST(digest)
{
    ck_assert_str_eq(ca_sha256_hex("abc", 3, pool),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(ca_str_equal_ct("abc", "abc"), 1);
    ck_assert_int_eq(ca_str_equal_ct("abc", "abd"), 0);
    ck_assert_int_eq(ca_str_equal_ct("abc", "abcd"), 0);
    ck_assert_int_eq(ca_str_equal_ct(NULL, "abc"), 0);
}
END_TEST

START_TEST(argon2)
{
    ca_argon2_params_t prm = { 1, 8192, 1 };
    const char *h, *h2;

    ck_assert_int_eq(ca_pw_hash(&h, "correct horse", &prm, pool), APR_SUCCESS);
    ck_assert(strncmp(h, "$argon2id$v=19$m=8192,t=1,p=1$", 30) == 0);
    ck_assert_int_eq(ca_pw_verify(h, "correct horse"), APR_SUCCESS);
    ck_assert_int_eq(ca_pw_verify(h, "correct horsE"), APR_EMISMATCH);
    ck_assert_int_eq(ca_pw_verify("$2y$10$notargon", "x"), APR_EINVAL);
    ck_assert_int_eq(ca_pw_verify("$argon2id$garbage", "x"), APR_EINVAL);
    ck_assert_int_eq(ca_pw_hash(&h2, "correct horse", &prm, pool), APR_SUCCESS);
    ck_assert_str_ne(h, h2);        /* salted */
    ck_assert_ptr_nonnull(ca_pw_dummy_hash(&prm, pool));
}
END_TEST

START_TEST(answers)
{
    ck_assert_str_eq(ca_answer_normalise("  Mrs   GREEN \t", pool), "mrs green");
    ck_assert_str_eq(ca_answer_normalise("Jürgen", pool), "jürgen");
    ck_assert_str_eq(ca_answer_normalise("", pool), "");
}
END_TEST

Suite *crypto_suite(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc = tcase_create("crypto");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, tokens);
    tcase_add_test(tc, digest);
    tcase_add_test(tc, argon2);
    tcase_add_test(tc, answers);
    suite_add_tcase(s, tc);
    return s;
}
