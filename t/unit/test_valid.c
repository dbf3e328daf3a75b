/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_time.h>

#include "tests.h"
#include "ca_account.h"
#include "ca_db.h"
#include "ca_valid.h"

static apr_pool_t *pool;

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

START_TEST(names)
{
    ck_assert_ptr_null(ca_valid_name("Anna", 1, 64));
    ck_assert_ptr_null(ca_valid_name("O'Brien-Smith", 1, 64));
    ck_assert_ptr_null(ca_valid_name("J. R. R.", 1, 64));
    ck_assert_ptr_null(ca_valid_name("Jürgen", 1, 64));
    ck_assert_ptr_null(ca_valid_name("Ólafur Þór", 1, 64));
    ck_assert_ptr_null(ca_valid_name("Владимир", 1, 64));
    ck_assert_ptr_null(ca_valid_name("李", 1, 64));
    ck_assert_ptr_null(ca_valid_name("O\xe2\x80\x99" "Neil", 1, 64));  /* U+2019 */
    ck_assert_ptr_null(ca_valid_name("", 0, 64));
    ck_assert_str_eq(ca_valid_name("", 1, 64), "err.name.required");
    ck_assert_str_eq(ca_valid_name("<script>", 1, 64), "err.name.chars");
    ck_assert_str_eq(ca_valid_name("Anna\"", 1, 64), "err.name.chars");
    ck_assert_str_eq(ca_valid_name("R2D2", 1, 64), "err.name.chars");
    ck_assert_str_eq(ca_valid_name("a\x01" "b", 1, 64), "err.name.chars");
    ck_assert_str_eq(ca_valid_name("\xc0\xaf", 1, 64), "err.name.chars");
    ck_assert_str_eq(ca_valid_name("An\xe2\x80\xaena", 1, 64), "err.name.chars");  /* RLO */
    ck_assert_str_eq(ca_valid_name("Anna\xf0\x9f\x98\x80", 1, 64), "err.name.chars");
    ck_assert_str_eq(ca_valid_name("--", 1, 64), "err.name.chars");
    ck_assert_str_eq(ca_valid_name("Abcdefghijk", 1, 10), "err.name.toolong");
    ck_assert_ptr_null(ca_valid_suffix("Jr."));
    ck_assert_ptr_null(ca_valid_suffix(""));
    ck_assert_str_eq(ca_valid_suffix("Esq"), "err.suffix.invalid");
}
END_TEST

START_TEST(emails)
{
    ck_assert_ptr_null(ca_valid_email("anna@example.org"));
    ck_assert_ptr_null(ca_valid_email("a.b+c@mail.example.co.uk"));
    ck_assert_ptr_null(ca_valid_email("x@xn--bcher-kva.example"));
    ck_assert_ptr_null(ca_valid_email("x@example.xn--p1ai"));
    ck_assert_str_eq(ca_valid_email(""), "err.email.required");
    ck_assert_str_eq(ca_valid_email("anna"), "err.email.invalid");
    ck_assert_str_eq(ca_valid_email("@example.org"), "err.email.invalid");
    ck_assert_str_eq(ca_valid_email("anna@localhost"), "err.email.invalid");
    ck_assert_str_eq(ca_valid_email("anna@exa_mple.org"), "err.email.invalid");
    ck_assert_str_eq(ca_valid_email("an..na@example.org"), "err.email.invalid");
    ck_assert_str_eq(ca_valid_email(".anna@example.org"), "err.email.invalid");
    ck_assert_str_eq(ca_valid_email("anna@-example.org"), "err.email.invalid");
    ck_assert_str_eq(ca_valid_email("anna@example.123"), "err.email.invalid");
    ck_assert_str_eq(ca_valid_email("a<b>@example.org"), "err.email.invalid");
    ck_assert_str_eq(ca_valid_email("jürgen@example.org"), "err.email.ascii");
    ck_assert_str_eq(ca_email_canonical("Anna@EXAMPLE.Org", pool), "Anna@example.org");
}
END_TEST

/* the label walk under ca_valid_email (any case), ca_org_valid_domain
 * (lower case) and the host names of requests (any last label) */
START_TEST(ldh_domains)
{
    char l63[64], l64[65], name[80];

    memset(l63, 'a', 63);
    l63[63] = '\0';
    memset(l64, 'a', 64);
    l64[64] = '\0';
    ck_assert_int_eq(ca_valid_ldh_domain("example.org", CA_LDH_LOWER), 1);
    ck_assert_int_eq(ca_valid_ldh_domain("Example.ORG", 0), 1);
    ck_assert_int_eq(ca_valid_ldh_domain("Example.org", CA_LDH_LOWER), 0);
    ck_assert_int_eq(ca_valid_ldh_domain("a.XN--P1AI", 0), 1);
    ck_assert_int_eq(ca_valid_ldh_domain("a.xn--p1ai", CA_LDH_LOWER), 1);
    ck_assert_int_eq(ca_valid_ldh_domain("a.b2", 0), 0);
    ck_assert_int_eq(ca_valid_ldh_domain("a.b2", CA_LDH_ANY_TLD), 1);
    ck_assert_int_eq(ca_valid_ldh_domain("b2", CA_LDH_ANY_TLD), 0);
    ck_assert_int_eq(ca_valid_ldh_domain("a_b.example", CA_LDH_ANY_TLD), 0);
    ck_assert_int_eq(ca_valid_ldh_domain("org", 0), 0);
    ck_assert_int_eq(ca_valid_ldh_domain("a.-b.org", 0), 0);
    ck_assert_int_eq(ca_valid_ldh_domain("a.b-.org", 0), 0);
    ck_assert_int_eq(ca_valid_ldh_domain(".a.org", 0), 0);
    ck_assert_int_eq(ca_valid_ldh_domain("", 0), 0);
    snprintf(name, sizeof(name), "%s.org", l63);
    ck_assert_int_eq(ca_valid_ldh_domain(name, CA_LDH_LOWER), 1);
    snprintf(name, sizeof(name), "%s.org", l64);
    ck_assert_int_eq(ca_valid_ldh_domain(name, CA_LDH_LOWER), 0);
}
END_TEST

/* the long lists' times and dates, made in C from seconds and days as
 * to_char made them (expected values from Python's datetime, UTC) */
START_TEST(epoch_and_days)
{
    static const char *const ts[][2] = {
        { "0", "1970-01-01 00:00" }, { "951782400", "2000-02-29 00:00" },
        { "1735689599", "2024-12-31 23:59" }, { "-86400", "1969-12-31 00:00" },
        { "4102444799", "2099-12-31 23:59" }, { "253402300799", "9999-12-31 23:59" },
        { "", "" },
    };
    static const char *const days[][2] = {
        { "0", "1970-01-01" }, { "11016", "2000-02-29" }, { "-1", "1969-12-31" },
        { "20454", "2026-01-01" }, { "2932896", "9999-12-31" }, { "", "" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        ck_assert_str_eq(ca_ts_of_epoch(ts[i][0], pool), ts[i][1]);
    }
    for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
        ck_assert_str_eq(ca_date_of_days(days[i][0], pool), days[i][1]);
    }
}
END_TEST

START_TEST(dates)
{
    const char *d;
    apr_time_t now;
    apr_time_exp_t t = { 0 };

    t.tm_year = 2026 - 1900;
    t.tm_mon = 10;
    t.tm_mday = 21;
    t.tm_hour = 12;
    apr_time_exp_gmt_get(&now, &t);
    ck_assert_ptr_null(ca_valid_dob(&d, "1980", "2", "29", now, pool));
    ck_assert_str_eq(d, "1980-02-29");
    ck_assert_ptr_null(ca_valid_dob(&d, "2000", "02", "29", now, pool));
    ck_assert_ptr_null(ca_valid_dob(&d, "2026", "11", "21", now, pool));
    ck_assert_str_eq(ca_valid_dob(&d, "1981", "2", "29", now, pool), "err.dob.invalid");
    ck_assert_str_eq(ca_valid_dob(&d, "1900", "2", "29", now, pool), "err.dob.invalid");
    ck_assert_str_eq(ca_valid_dob(&d, "1980", "4", "31", now, pool), "err.dob.invalid");
    ck_assert_str_eq(ca_valid_dob(&d, "1980", "13", "1", now, pool), "err.dob.invalid");
    ck_assert_str_eq(ca_valid_dob(&d, "1980", "0", "1", now, pool), "err.dob.invalid");
    ck_assert_str_eq(ca_valid_dob(&d, "19x0", "1", "1", now, pool), "err.dob.invalid");
    ck_assert_str_eq(ca_valid_dob(&d, "-1", "1", "1", now, pool), "err.dob.invalid");
    ck_assert_str_eq(ca_valid_dob(&d, "1899", "12", "31", now, pool), "err.dob.tooold");
    ck_assert_str_eq(ca_valid_dob(&d, "2026", "11", "22", now, pool), "err.dob.future");
    ck_assert_str_eq(ca_valid_dob(&d, "2027", "1", "1", now, pool), "err.dob.future");
    ck_assert_str_eq(ca_valid_dob(&d, "", "", "", now, pool), "err.dob.required");
    ck_assert_int_eq(ca_age_years("2000-11-21", now), 26);
    ck_assert_int_eq(ca_age_years("2000-11-22", now), 25);
}
END_TEST

START_TEST(passwords)
{
    const char *hints[] = { "anna", "schmidt" };

    ck_assert_ptr_null(ca_valid_password("Tr0ub4dour&3-horse-staple", "Tr0ub4dour&3-horse-staple",
                                         10, hints, 2, pool));
    ck_assert_str_eq(ca_valid_password("", "", 10, NULL, 0, pool), "err.password.required");
    ck_assert_str_eq(ca_valid_password("abc", "abd", 10, NULL, 0, pool), "err.password.mismatch");
    ck_assert_str_eq(ca_valid_password("Xy7#abc", "Xy7#abc", 10, NULL, 0, pool),
                     "err.password.short");
    ck_assert_str_eq(ca_valid_password("password123", "password123", 10, NULL, 0, pool),
                     "err.password.dictionary");
    ck_assert_str_eq(ca_valid_password("AnnaRocks!2024x", "AnnaRocks!2024x", 10, hints, 2, pool),
                     "err.password.personal");
}
END_TEST

/* the account policy: the same rule and the same words wherever a
 * password is set; the minimum length defaults in one place */
START_TEST(password_policy)
{
    ca_account_cfg_t cfg = { 0 };
    const char **words;
    int n;

    ca_registration_words(&words, &n, "Wilhelmina", "Oberkirch", "zorro.k@example.org", pool);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(words[2], "zorro.k");
    ck_assert_str_eq(ca_account_password_refusal("Quiet-zorro.k-Harbour", "Quiet-zorro.k-Harbour",
                                                 words, n, &cfg, pool),
                     "err.password.personal");
    ck_assert_ptr_null(ca_account_password_refusal("Quiet-Harbour-47-lantern",
                                                   "Quiet-Harbour-47-lantern", words, n, &cfg,
                                                   pool));
    /* nine characters: short under the default of ten, allowed at eight */
    ck_assert_str_eq(ca_account_password_refusal("Qh7#vLp2x", "Qh7#vLp2x", words, n, &cfg, pool),
                     "err.password.short");
    cfg.pw_minlen = 8;
    ck_assert_ptr_null(ca_account_password_refusal("Qh7#vLp2x", "Qh7#vLp2x", words, n, &cfg,
                                                   pool));
    ca_registration_words(&words, &n, "Anna", "Schmidt", "no-at-sign", pool);
    ck_assert_str_eq(words[2], "");
}
END_TEST

START_TEST(questions)
{
    const char *q[5] = { "First pet?", "Mother's maiden name?", "Favourite teacher?",
                         "First car?", "Street you grew up in?" };
    const char *a[5] = { "Rex", "Miller", "Mrs Green", "Beetle", "Elm Street" };
    const char *a2[5] = { "Rex", "rex ", "Mrs Green", "Beetle", "Elm Street" };
    const char *a3[5] = { "Rex", "Miller", "first  CAR?", "Beetle", "Elm Street" };
    const char *q2[5] = { "First pet?", "first pet?", "Favourite teacher?",
                          "First car?", "Street you grew up in?" };
    const char *a4[5] = { "Rex", "Miller", "", "Beetle", "Elm Street" };
    int idx, ans;

    ck_assert_ptr_null(ca_valid_questions(&idx, &ans, q, a, pool));
    ck_assert_str_eq(ca_valid_questions(&idx, &ans, q, a2, pool), "err.answer.duplicate");
    ck_assert_int_eq(idx, 1);
    ck_assert_int_eq(ans, 1);
    ck_assert_str_eq(ca_valid_questions(&idx, &ans, q, a3, pool), "err.answer.isquestion");
    ck_assert_int_eq(idx, 2);
    ck_assert_str_eq(ca_valid_questions(&idx, &ans, q2, a, pool), "err.question.duplicate");
    ck_assert_int_eq(ans, 0);
    ck_assert_str_eq(ca_valid_questions(&idx, &ans, q, a4, pool), "err.answer.required");
    ck_assert_int_eq(idx, 2);
}
END_TEST

Suite *valid_suite(void)
{
    Suite *s = suite_create("valid");
    TCase *tc = tcase_create("valid");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, names);
    tcase_add_test(tc, emails);
    tcase_add_test(tc, ldh_domains);
    tcase_add_test(tc, dates);
    tcase_add_test(tc, epoch_and_days);
    tcase_add_test(tc, passwords);
    tcase_add_test(tc, password_policy);
    tcase_add_test(tc, questions);
    suite_add_tcase(s, tc);
    return s;
}
