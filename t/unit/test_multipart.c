/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_pools.h>
#include <apr_tables.h>

#include "tests.h"
#include "ca_multipart.h"

static apr_pool_t *pool;
static const char *const text_fields[] = { "csr", NULL };
static const ca_form_limits_t lim = { 4096, 8, 32, text_fields, 256 };

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static apr_status_t parse(apr_table_t **v, apr_table_t **e, apr_array_header_t **f,
                          const char **err, const char *body, apr_size_t len)
{
    return ca_multipart_parse(v, e, f, err, "XyZ", body, len, &lim, pool);
}

#define BODY(s) (s), (sizeof(s) - 1)

START_TEST(boundary)
{
    ck_assert_str_eq(ca_multipart_boundary("multipart/form-data; boundary=XyZ", pool), "XyZ");
    ck_assert_str_eq(ca_multipart_boundary("Multipart/Form-Data;boundary=\"a b\"", pool), "a b");
    ck_assert_ptr_null(ca_multipart_boundary("multipart/form-data", pool));
    ck_assert_ptr_null(ca_multipart_boundary("text/plain; boundary=x", pool));
    ck_assert_ptr_null(ca_multipart_boundary("multipart/form-data; boundary=", pool));
    ck_assert_ptr_null(ca_multipart_boundary(NULL, pool));
}
END_TEST

START_TEST(fields_and_files)
{
    apr_table_t *v, *e;
    apr_array_header_t *f;
    const char *err;
    ca_file_part_t *part;

    ck_assert_int_eq(parse(&v, &e, &f, &err, BODY(
        "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"csr\"\r\n\r\nline1\r\nline2\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"csr_file\"; filename=\"a.der\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n\x30\x82\x00\x01\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n\r\n\r\n"
        "--XyZ--\r\n")), APR_SUCCESS);
    ck_assert_str_eq(apr_table_get(v, "csrf"), "abc");
    ck_assert_str_eq(apr_table_get(v, "csr"), "line1\r\nline2");
    ck_assert_int_eq(f->nelts, 1);
    part = &APR_ARRAY_IDX(f, 0, ca_file_part_t);
    ck_assert_str_eq(part->name, "csr_file");
    ck_assert_uint_eq(part->len, 4);
    ck_assert(memcmp(part->data, "\x30\x82\x00\x01", 4) == 0);
}
END_TEST

START_TEST(field_errors)
{
    apr_table_t *v, *e;
    apr_array_header_t *f;
    const char *err;

    ck_assert_int_eq(parse(&v, &e, &f, &err, BODY(
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xc0\xaf\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nx\ny\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n"
        "0123456789012345678901234567890123456789\r\n"
        "--XyZ--")), APR_SUCCESS);
    ck_assert_str_eq(apr_table_get(e, "a"), "field.utf8");
    ck_assert_str_eq(apr_table_get(e, "b"), "field.control");
    ck_assert_str_eq(apr_table_get(e, "c"), "field.toolong");
    ck_assert_ptr_null(apr_table_get(v, "a"));
}
END_TEST

START_TEST(structure_errors)
{
    apr_table_t *v, *e;
    apr_array_header_t *f;
    const char *err;

    ck_assert_int_eq(parse(&v, &e, &f, &err, BODY("garbage")), APR_EINVAL);
    ck_assert_str_eq(err, "form.malformed");
    ck_assert_int_eq(parse(&v, &e, &f, &err, BODY(
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated")), APR_EINVAL);
    ck_assert_int_eq(parse(&v, &e, &f, &err, BODY(
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"A\"\r\n\r\n2\r\n--XyZ--")), APR_EINVAL);
    ck_assert_str_eq(err, "form.duplicate");
    ck_assert_int_eq(parse(&v, &e, &f, &err, BODY(
        "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--XyZ--")), APR_EINVAL);
    ck_assert_int_eq(parse(&v, &e, &f, &err, BODY(
        "--XyZ\r\nContent-Disposition: form-data; name=\"a b\"\r\n\r\n1\r\n--XyZ--")), APR_EINVAL);
    ck_assert_int_eq(parse(&v, &e, &f, &err, BODY(
        "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ--")), APR_EINVAL);
    ck_assert_int_eq(apr_table_elts(v)->nelts, 0);
}
END_TEST

Suite *multipart_suite(void)
{
    Suite *s = suite_create("multipart");
    TCase *tc = tcase_create("multipart");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, boundary);
    tcase_add_test(tc, fields_and_files);
    tcase_add_test(tc, field_errors);
    tcase_add_test(tc, structure_errors);
    suite_add_tcase(s, tc);
    return s;
}
