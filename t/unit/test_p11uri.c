/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* RFC 7512 URIs of CA keys on a token (ca_p11uri.c). */
#include <string.h>

#include <apr_pools.h>

#include "tests.h"
#include "ca_p11uri.h"

static apr_pool_t *pool;

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

START_TEST(good_uris)
{
    ca_p11uri_t u;

    ck_assert_ptr_null(ca_p11uri_parse(&u, "pkcs11:token=cacert-sub;object=member;"
                                       "type=private", pool));
    ck_assert_str_eq(u.token, "cacert-sub");
    ck_assert_str_eq(u.object, "member");
    ck_assert_ptr_null(u.id);
    ck_assert_ptr_null(u.serial);

    /* RFC 7512's examples: %-escapes in labels and ids */
    ck_assert_ptr_null(ca_p11uri_parse(&u, "pkcs11:token=The%20Software%20PKCS%2311%20"
                                       "Softtoken;manufacturer=Snake%20Oil,%20Inc.;"
                                       "model=1.0;object=my-key;type=private", pool));
    ck_assert_str_eq(u.token, "The Software PKCS#11 Softtoken");
    ck_assert_str_eq(u.manufacturer, "Snake Oil, Inc.");
    ck_assert_str_eq(u.model, "1.0");

    ck_assert_ptr_null(ca_p11uri_parse(&u, "pkcs11:serial=DECC0401648;id=%01%A0%ff%00",
                                       pool));
    ck_assert_uint_eq(u.id_len, 4);         /* an id is bytes: NUL too */
    ck_assert_int_eq(memcmp(u.id, "\x01\xa0\xff\x00", 4), 0);
    ck_assert_str_eq(u.serial, "DECC0401648");
    ck_assert_ptr_null(u.object);

    /* library and slot attributes are passed over */
    ck_assert_ptr_null(ca_p11uri_parse(&u, "pkcs11:slot-id=3;library-manufacturer=x;"
                                       "object=k", pool));
}
END_TEST

START_TEST(refused_uris)
{
    static const char *const bad[] = {
        "",
        "pkcs11",
        "PKCS11:object=k",
        "file:/etc/key.pem",
        "pkcs11:",                                  /* names no key */
        "pkcs11:token=t",                           /* names no key */
        "pkcs11:object=k;type=cert",
        "pkcs11:object=k;type=public",
        "pkcs11:object=k;type=private;type=private",
        "pkcs11:object=k;object=l",
        "pkcs11:id=%01;id=%02",
        "pkcs11:object=",
        "pkcs11:object=k;;",
        "pkcs11:object=k;",
        "pkcs11:object",
        "pkcs11:=k",
        "pkcs11:object=%zz",
        "pkcs11:object=%4",
        "pkcs11:object=k%",
        "pkcs11:object=a%00b",
        "pkcs11:colour=blue;object=k",
        "pkcs11:object=k?pin-value=1234",
        "pkcs11:object=k?pin-source=file:/etc/pin",
        "pkcs11:object=k?module-path=/usr/lib/softhsm/libsofthsm2.so",
        "pkcs11:object=k?x-other=1",
        NULL
    };
    ca_p11uri_t u;
    int i;

    for (i = 0; bad[i]; i++) {
        const char *why = ca_p11uri_parse(&u, bad[i], pool);
        ck_assert_msg(why != NULL, "accepted: %s", bad[i]);
    }
    ck_assert_ptr_nonnull(strstr(ca_p11uri_parse(&u, "pkcs11:object=k?pin-value=1", pool),
                                 "PIN"));
}
END_TEST

START_TEST(long_uri)
{
    char *s = apr_palloc(pool, 5000);
    ca_p11uri_t u;

    memset(s, 'a', 4999);
    s[4999] = '\0';
    memcpy(s, "pkcs11:object=", 14);
    ck_assert_ptr_nonnull(ca_p11uri_parse(&u, s, pool));
    s[4000] = '\0';
    ck_assert_ptr_null(ca_p11uri_parse(&u, s, pool));
    ck_assert_uint_eq(strlen(u.object), 4000 - 14);
}
END_TEST

Suite *p11uri_suite(void)
{
    Suite *s = suite_create("p11uri");
    TCase *tc = tcase_create("parse");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, good_uris);
    tcase_add_test(tc, refused_uris);
    tcase_add_test(tc, long_uri);
    suite_add_tcase(s, tc);
    return s;
}
