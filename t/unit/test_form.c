/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the form decoder and the UTF-8 helpers. */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "ca_form.h"
#include "tests.h"

static apr_pool_t *pool;
static const ca_form_limits_t lim = { 1024, 8, 32, NULL, 0 };

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    pool = NULL;
}

static apr_status_t parse(apr_table_t **pv, apr_table_t **pe, const char **perr,
                          const char *data)
{
    return ca_form_parse(pv, pe, perr, data, strlen(data), &lim, pool);
}

/* the form must parse; returns the value of name (NULL if absent) */
static const char *val(const char *data, const char *name)
{
    apr_table_t *v, *e;
    const char *err = "x";

    ck_assert_int_eq(parse(&v, &e, &err, data), APR_SUCCESS);
    ck_assert_ptr_null(err);
    return apr_table_get(v, name);
}

/* the form must parse and name must carry error key want */
static void field_err(const char *data, const char *name, const char *want)
{
    apr_table_t *v, *e;
    const char *err = "x";

    ck_assert_int_eq(parse(&v, &e, &err, data), APR_SUCCESS);
    ck_assert_ptr_null(err);
    ck_assert_ptr_null(apr_table_get(v, name));
    ck_assert_msg(apr_table_get(e, name) && !strcmp(apr_table_get(e, name), want),
                  "%s: want %s, got %s", data, want,
                  apr_table_get(e, name) ? apr_table_get(e, name) : "(none)");
}

static void form_err(const char *data, apr_size_t len, const char *want)
{
    apr_table_t *v = NULL, *e = NULL;
    const char *err = NULL;

    ck_assert_int_eq(ca_form_parse(&v, &e, &err, data, len, &lim, pool), APR_EINVAL);
    ck_assert_msg(err && !strcmp(err, want), "want %s, got %s", want,
                  err ? err : "(null)");
    /* nothing of a rejected form is handed out */
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_nonnull(e);
    ck_assert(apr_is_empty_table(v));
    ck_assert(apr_is_empty_table(e));
}

START_TEST(test_decode)
{
    apr_table_t *v, *e;
    const char *err;

    ck_assert_int_eq(parse(&v, &e, &err,
                           "email=ada%40example.org&name=Ada+Lovelace&empty=&flag"
                           "&pw=a%2Bb%26c%3Dd&utf=%C3%A4%E2%82%AC%F0%9F%98%80"),
                     APR_SUCCESS);
    ck_assert_ptr_null(err);
    ck_assert(apr_is_empty_table(e));
    ck_assert_str_eq(apr_table_get(v, "email"), "ada@example.org");
    ck_assert_str_eq(apr_table_get(v, "name"), "Ada Lovelace");
    ck_assert_str_eq(apr_table_get(v, "empty"), "");
    ck_assert_str_eq(apr_table_get(v, "flag"), "");
    ck_assert_str_eq(apr_table_get(v, "pw"), "a+b&c=d");
    ck_assert_str_eq(apr_table_get(v, "utf"), "ä€😀");
    ck_assert_int_eq(apr_table_elts(v)->nelts, 6);

    ck_assert_str_eq(val("a=1=2", "a"), "1=2");
    ck_assert_str_eq(val("a=%7e%7E", "a"), "~~");
    ck_assert_str_eq(val("a=%20+%2B", "a"), "  +");
    ck_assert_str_eq(val("x.y-z_1=ok", "x.y-z_1"), "ok");
    ck_assert_str_eq(val("%61%62=encoded+name", "ab"), "encoded name");
    ck_assert_str_eq(val("a=1&&b=2&", "b"), "2");
    ck_assert_ptr_null(val("", "a"));
    ck_assert_ptr_null(val("&&&", "a"));
    /* unencoded UTF-8 as some clients send it */
    ck_assert_str_eq(val("a=Gr\xC3\xBC\xC3\x9F", "a"), "Grüß");
    /* NULL result pointers and NULL limits are fine */
    ck_assert_int_eq(ca_form_parse(NULL, NULL, NULL, "a=b", 3, NULL, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_form_parse(&v, &e, &err, NULL, 0, NULL, pool), APR_SUCCESS);
    /* the length is honoured, not the NUL */
    ck_assert_int_eq(ca_form_parse(&v, &e, &err, "a=bc&d=e", 3, &lim, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(apr_table_get(v, "a"), "b");
    ck_assert_ptr_null(apr_table_get(v, "d"));
}
END_TEST

START_TEST(test_field_errors)
{
    apr_table_t *v, *e;
    const char *err;

    field_err("a=%", "a", "field.encoding");
    field_err("a=%4", "a", "field.encoding");
    field_err("a=%zz", "a", "field.encoding");
    field_err("a=%%41", "a", "field.encoding");
    field_err("a=x%g0", "a", "field.encoding");
    /* UTF-8 */
    field_err("a=%C0%AF", "a", "field.utf8");           /* overlong '/' */
    field_err("a=%C1%81", "a", "field.utf8");
    field_err("a=%E0%80%AF", "a", "field.utf8");        /* overlong */
    field_err("a=%F0%80%80%AF", "a", "field.utf8");     /* overlong */
    field_err("a=%ED%A0%80", "a", "field.utf8");        /* surrogate D800 */
    field_err("a=%ED%BF%BF", "a", "field.utf8");        /* surrogate DFFF */
    field_err("a=%F4%90%80%80", "a", "field.utf8");     /* > U+10FFFF */
    field_err("a=%F5%80%80%80", "a", "field.utf8");
    field_err("a=%FF", "a", "field.utf8");
    field_err("a=%80", "a", "field.utf8");              /* lone continuation */
    field_err("a=%C3", "a", "field.utf8");              /* truncated */
    field_err("a=%E2%82", "a", "field.utf8");
    field_err("a=%E2%82x", "a", "field.utf8");
    field_err("a=%F0%9F%98", "a", "field.utf8");
    field_err("a=\xC3", "a", "field.utf8");
    /* control characters */
    field_err("a=%00", "a", "field.control");
    field_err("a=x%00y", "a", "field.control");
    field_err("a=%0D%0A", "a", "field.control");
    field_err("a=%09", "a", "field.control");
    field_err("a=%1F", "a", "field.control");
    field_err("a=%7F", "a", "field.control");
    field_err("a=%C2%80", "a", "field.control");        /* U+0080 */
    field_err("a=%C2%9F", "a", "field.control");        /* U+009F */
    ck_assert_str_eq(val("a=%C2%A0", "a"), "\xC2\xA0"); /* U+00A0 is fine */
    /* too long: 32 bytes allowed, decoded length counts */
    ck_assert_ptr_nonnull(val("a=01234567890123456789012345678901", "a"));
    field_err("a=012345678901234567890123456789012", "a", "field.toolong");
    ck_assert_ptr_nonnull(val("a=%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41"
                              "%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41", "a"));
    /* other fields survive a bad one */
    ck_assert_int_eq(parse(&v, &e, &err, "a=%zz&b=ok&c=%00&d=%C0%80"), APR_SUCCESS);
    ck_assert_str_eq(apr_table_get(v, "b"), "ok");
    ck_assert_int_eq(apr_table_elts(v)->nelts, 1);
    ck_assert_int_eq(apr_table_elts(e)->nelts, 3);
    ck_assert_str_eq(apr_table_get(e, "a"), "field.encoding");
    ck_assert_str_eq(apr_table_get(e, "c"), "field.control");
    ck_assert_str_eq(apr_table_get(e, "d"), "field.utf8");
}
END_TEST

START_TEST(test_form_errors)
{
    char big[2048];
    int i;

    form_err("=x", 2, "form.malformed");
    form_err("a=1&=2", 6, "form.malformed");
    form_err("a%zz=1", 6, "form.malformed");
    form_err("a%=1", 4, "form.malformed");
    form_err("%00=1", 5, "form.malformed");
    form_err("a%00b=1", 7, "form.malformed");
    form_err("a+b=1", 5, "form.malformed");
    form_err("a%20b=1", 7, "form.malformed");
    form_err("a/b=1", 5, "form.malformed");
    form_err("\xC3\xA4=1", 4, "form.malformed");
    form_err("a\nb=1", 5, "form.malformed");
    form_err("a=1&b=2&a=3", 11, "form.duplicate");
    form_err("a=1&A=2", 7, "form.duplicate");
    form_err("a=%zz&a=1", 9, "form.duplicate");
    form_err("a&a", 3, "form.duplicate");
    form_err("%61=1&a=2", 9, "form.duplicate");
    form_err("a=&b=&c=&d=&e=&f=&g=&h=&i=", 26, "form.toomany");
    /* a name is at most 128 bytes */
    memset(big, 'n', 129);
    big[129] = '=';
    form_err(big, 130, "form.malformed");
    /* the body limit (1024) */
    memset(big, 'x', sizeof(big));
    big[0] = 'a';
    big[1] = '=';
    form_err(big, 1025, "form.toolarge");
    form_err(big, sizeof(big), "form.toolarge");
    /* 8 fields pass, a 9th fails, whatever the layout */
    ck_assert_ptr_nonnull(val("a&b&c&d&e&f&g&h", "h"));
    for (i = 0; i < 1000; ++i) {
        big[i] = (i % 2) ? '&' : 'a';
    }
    form_err(big, 1000, "form.duplicate");
    form_err(NULL, 3, "form.malformed");
}
END_TEST

START_TEST(test_utf8)
{
    ck_assert(ca_utf8_valid("", 0));
    ck_assert(ca_utf8_valid("abc", 3));
    ck_assert(ca_utf8_valid("\xC2\x80", 2));
    ck_assert(ca_utf8_valid("\xDF\xBF", 2));
    ck_assert(ca_utf8_valid("\xE0\xA0\x80", 3));
    ck_assert(ca_utf8_valid("\xED\x9F\xBF", 3));          /* U+D7FF */
    ck_assert(ca_utf8_valid("\xEE\x80\x80", 3));          /* U+E000 */
    ck_assert(ca_utf8_valid("\xEF\xBF\xBF", 3));          /* U+FFFF */
    ck_assert(ca_utf8_valid("\xF0\x90\x80\x80", 4));
    ck_assert(ca_utf8_valid("\xF4\x8F\xBF\xBF", 4));      /* U+10FFFF */
    ck_assert(ca_utf8_valid("a\0b", 3));                  /* NUL is valid UTF-8 */
    ck_assert(!ca_utf8_valid("\xC0\x80", 2));
    ck_assert(!ca_utf8_valid("\xC1\xBF", 2));
    ck_assert(!ca_utf8_valid("\xE0\x9F\xBF", 3));
    ck_assert(!ca_utf8_valid("\xED\xA0\x80", 3));
    ck_assert(!ca_utf8_valid("\xF0\x8F\xBF\xBF", 4));
    ck_assert(!ca_utf8_valid("\xF4\x90\x80\x80", 4));
    ck_assert(!ca_utf8_valid("\xF8\x88\x80\x80\x80", 5));
    ck_assert(!ca_utf8_valid("\xC3\xA4", 1));             /* truncated by len */
    ck_assert(!ca_utf8_valid("\xE2\x82\xAC", 2));
    ck_assert(!ca_utf8_valid("\xC3\x28", 2));
    ck_assert(!ca_utf8_valid("\xE2\x28\xA1", 3));

    ck_assert_uint_eq(ca_utf8_len("", 0), 0);
    ck_assert_uint_eq(ca_utf8_len("abc", 3), 3);
    ck_assert_uint_eq(ca_utf8_len("Grüß", strlen("Grüß")), 4);
    ck_assert_uint_eq(ca_utf8_len("€😀", strlen("€😀")), 2);

    ck_assert(!ca_has_control("plain text äö €", strlen("plain text äö €")));
    ck_assert(!ca_has_control("\xC2\xA0\xC3\x80", 4));
    ck_assert(ca_has_control("a\tb", 3));
    ck_assert(ca_has_control("a\0b", 3));
    ck_assert(ca_has_control("\x7F", 1));
    ck_assert(ca_has_control("x\xC2\x85", 3));            /* NEL */
    ck_assert(!ca_has_control("x\xC2", 2));
}
END_TEST

START_TEST(test_url_encode)
{
    ck_assert_str_eq(ca_url_encode("", pool), "");
    ck_assert_str_eq(ca_url_encode(NULL, pool), "");
    ck_assert_str_eq(ca_url_encode("AZaz09-._~", pool), "AZaz09-._~");
    ck_assert_str_eq(ca_url_encode("a b&c=d/e?f#g+h%", pool),
                     "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25");
    ck_assert_str_eq(ca_url_encode("ä\x7F\x01", pool), "%C3%A4%7F%01");
    /* round trip through the decoder */
    {
        const char *s = "x y+z&ä=€/\"'<>";
        const char *q = apr_pstrcat(pool, "v=", ca_url_encode(s, pool), NULL);
        ck_assert_str_eq(val(q, "v"), s);
    }
}
END_TEST

Suite *form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tcase_create("form");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_decode);
    tcase_add_test(tc, test_field_errors);
    tcase_add_test(tc, test_form_errors);
    tcase_add_test(tc, test_utf8);
    tcase_add_test(tc, test_url_encode);
    suite_add_tcase(s, tc);
    return s;
}
