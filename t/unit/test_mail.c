/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_pools.h>
#include <apr_time.h>

#include "tests.h"
#include "ca_mail.h"
#include "ca_smtp.h"

static apr_pool_t *pool;

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

START_TEST(split)
{
    const char *s, *b;

    ck_assert_int_eq(ca_mail_split(&s, &b, "Subject: Hello\n\nBody\n", pool), APR_SUCCESS);
    ck_assert_str_eq(s, "Hello");
    ck_assert_str_eq(b, "Body\n");
    ck_assert_int_eq(ca_mail_split(&s, &b, "Hello\n\nBody", pool), APR_EINVAL);
}
END_TEST

START_TEST(compose)
{
    const char *m;
    apr_size_t len;

    ck_assert_int_eq(ca_mail_compose(&m, &len, "CAcert <noreply@example.org>",
                                     "anna@example.org", "Bestätigung",
                                     "Grüße = Gruß\nline with trailing space \n",
                                     apr_time_now(), pool), APR_SUCCESS);
    ck_assert_uint_eq(len, strlen(m));
    ck_assert_ptr_nonnull(strstr(m, "From: CAcert <noreply@example.org>\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "To: anna@example.org\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "Subject: =?UTF-8?B?"));
    ck_assert_ptr_nonnull(strstr(m, "@example.org>\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "Gr=C3=BC=C3=9Fe =3D Gru=C3=9F\r\n"));
    ck_assert_ptr_nonnull(strstr(m, "trailing space=20\r\n"));
    /* header injection is refused */
    ck_assert_int_eq(ca_mail_compose(&m, &len, "x@example.org", "a@example.org\r\nBcc: b@x.org",
                                     "s", "b", apr_time_now(), pool), APR_EINVAL);
    ck_assert_int_eq(ca_mail_compose(&m, &len, "x@example.org", "a@example.org",
                                     "s\nBcc: b@x.org", "b", apr_time_now(), pool), APR_EINVAL);
    ck_assert_str_eq(ca_mail_addr("CAcert <noreply@example.org>", pool), "noreply@example.org");
    ck_assert_str_eq(ca_mail_addr("noreply@example.org", pool), "noreply@example.org");
}
END_TEST

START_TEST(qp_lines)
{
    const char *m, *body, *line;
    apr_size_t len;
    char big[400];

    memset(big, 0xC3, sizeof(big) - 1);
    for (len = 1; len < sizeof(big) - 1; len += 2) {
        big[len] = (char)0xA4;      /* ä ä ä ... */
    }
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(ca_mail_compose(&m, &len, "x@example.org", "a@example.org", "s", big,
                                     apr_time_now(), pool), APR_SUCCESS);
    body = strstr(m, "\r\n\r\n") + 4;
    for (line = body; *line; ) {
        const char *e = strstr(line, "\r\n");
        if (!e) {
            e = line + strlen(line);
        }
        ck_assert_int_le((int)(e - line), 76);
        line = *e ? e + 2 : e;
    }
}
END_TEST

START_TEST(smtp_spec)
{
    ca_smtp_server_t srv;

    ck_assert_ptr_null(ca_smtp_parse_server(&srv, "mail.example.org", pool));
    ck_assert_str_eq(srv.host, "mail.example.org");
    ck_assert_int_eq(srv.port, 25);
    ck_assert_ptr_null(ca_smtp_parse_server(&srv, "127.0.0.1:2525", pool));
    ck_assert_int_eq(srv.port, 2525);
    ck_assert_ptr_nonnull(ca_smtp_parse_server(&srv, "", pool));
    ck_assert_ptr_nonnull(ca_smtp_parse_server(&srv, "host:notaport", pool));
}
END_TEST

Suite *mail_suite(void)
{
    Suite *s = suite_create("mail");
    TCase *tc = tcase_create("mail");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, split);
    tcase_add_test(tc, compose);
    tcase_add_test(tc, qp_lines);
    tcase_add_test(tc, smtp_spec);
    suite_add_tcase(s, tc);
    return s;
}
