/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The points engine (ca_points.c) and the roles/ticket helpers
 * (ca_roles.c): every boundary of the policy. */
#include <string.h>

#include "tests.h"
#include "ca_points.h"
#include "ca_policy.h"
#include "ca_roles.h"
#include "ca_wot.h"

static ca_points_rules_t rules;

static void setup(void) { ca_points_rules_default(&rules); }
static void teardown(void) { }

START_TEST(defaults)
{
    ck_assert_int_eq(rules.junior_max, 10);
    ck_assert_int_eq(rules.junior_ttp, 0);
    ck_assert_int_eq(rules.topup_max, 30);
}
END_TEST

START_TEST(received_cap)
{
    ck_assert_int_eq(ca_points_received(-5), 0);
    ck_assert_int_eq(ca_points_received(0), 0);
    ck_assert_int_eq(ca_points_received(1), 1);
    ck_assert_int_eq(ca_points_received(99), 99);
    ck_assert_int_eq(ca_points_received(100), 100);
    ck_assert_int_eq(ca_points_received(101), 100);
    ck_assert_int_eq(ca_points_received(1000000), 100);
}
END_TEST

START_TEST(experience_cap)
{
    ck_assert_int_eq(ca_points_experience(-1), 0);
    ck_assert_int_eq(ca_points_experience(0), 0);
    ck_assert_int_eq(ca_points_experience(1), 2);
    ck_assert_int_eq(ca_points_experience(5), 10);
    ck_assert_int_eq(ca_points_experience(24), 48);
    ck_assert_int_eq(ca_points_experience(25), 50);
    ck_assert_int_eq(ca_points_experience(26), 50);
    ck_assert_int_eq(ca_points_experience(2147483647), 50);
}
END_TEST

START_TEST(total_cap)
{
    ck_assert_int_eq(ca_points_sum(0, 0), 0);
    ck_assert_int_eq(ca_points_sum(35, 0), 35);
    ck_assert_int_eq(ca_points_sum(100, 0), 100);
    ck_assert_int_eq(ca_points_sum(140, 0), 100);
    ck_assert_int_eq(ca_points_sum(100, 24), 148);
    ck_assert_int_eq(ca_points_sum(100, 25), 150);
    ck_assert_int_eq(ca_points_sum(500, 500), CA_POINTS_TOTAL_MAX);
}
END_TEST

START_TEST(assured_member)
{
    ck_assert_int_eq(ca_points_assured_member(49, 2), 0);
    ck_assert_int_eq(ca_points_assured_member(50, 2), 1);
    ck_assert_int_eq(ca_points_assured_member(50, 1), 0);   /* one assurer is not enough */
    ck_assert_int_eq(ca_points_assured_member(70, 1), 0);
    ck_assert_int_eq(ca_points_assured_member(100, 3), 1);
    ck_assert_int_eq(ca_points_assured_member(0, 0), 0);
}
END_TEST

START_TEST(assurer_status)
{
    ck_assert_int_eq(ca_points_assurer(99, 1, 0), 0);
    ck_assert_int_eq(ca_points_assurer(100, 1, 0), 1);
    ck_assert_int_eq(ca_points_assurer(100, 0, 0), 0);      /* no challenge */
    ck_assert_int_eq(ca_points_assurer(100, 1, 1), 0);      /* blocked */
    ck_assert_int_eq(ca_points_assurer(150, 1, 0), 1);
}
END_TEST

START_TEST(max_award_steps)
{
    static const struct { int exp, max; } steps[] = {
        { 0, 10 }, { 2, 10 }, { 9, 10 }, { 10, 15 }, { 18, 15 }, { 19, 15 },
        { 20, 20 }, { 29, 20 }, { 30, 25 }, { 39, 25 }, { 40, 30 }, { 48, 30 },
        { 49, 30 }, { 50, 35 }, { 60, 35 }, { -3, 10 }
    };
    size_t i;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        ck_assert_msg(ca_points_max_award(1, steps[i].exp, 0, &rules) == steps[i].max,
                      "experience %d", steps[i].exp);
        /* under 18: at most 10 whatever the experience */
        ck_assert_int_eq(ca_points_max_award(1, steps[i].exp, 1, &rules),
                         steps[i].max < 10 ? steps[i].max : 10);
    }
    ck_assert_int_eq(ca_points_max_award(0, 50, 0, &rules), 0);    /* not an Assurer */
    /* the junior cap is a directive */
    rules.junior_max = 5;
    ck_assert_int_eq(ca_points_max_award(1, 50, 1, &rules), 5);
    rules.junior_max = 35;
    ck_assert_int_eq(ca_points_max_award(1, 50, 1, &rules), 35);
    ck_assert_int_eq(ca_points_max_award(1, 20, 1, &rules), 20);
    rules.junior_max = 0;
    ck_assert_int_eq(ca_points_max_award(1, 50, 1, &rules), 0);
    ck_assert_int_eq(ca_points_max_award(1, 50, 0, &rules), 35);
}
END_TEST

START_TEST(climb_25_assurances)
{
    /* a new Assurer: 10 points at first, 35 after 25 face-to-face assurances */
    int n, last = 10;

    ck_assert_int_eq(ca_points_max_award(1, ca_points_experience(0), 0, &rules), 10);
    for (n = 1; n <= 25; n++) {
        int max = ca_points_max_award(1, ca_points_experience(n), 0, &rules);
        ck_assert_int_ge(max, last);
        ck_assert_int_le(max - last, 5);
        last = max;
        if (n == 4) ck_assert_int_eq(max, 10);
        if (n == 5) ck_assert_int_eq(max, 15);
        if (n == 10) ck_assert_int_eq(max, 20);
        if (n == 15) ck_assert_int_eq(max, 25);
        if (n == 20) ck_assert_int_eq(max, 30);
        if (n == 24) ck_assert_int_eq(max, 30);
    }
    ck_assert_int_eq(last, 35);
    ck_assert_int_eq(ca_points_experience_to_next(0), 10);
    ck_assert_int_eq(ca_points_experience_to_next(48), 2);
    ck_assert_int_eq(ca_points_experience_to_next(50), 0);
    ck_assert_int_eq(ca_points_experience_to_next(20), 10);
}
END_TEST

START_TEST(ages)
{
    ck_assert_int_eq(ca_points_age("2008-11-21", "2026-11-21"), 18);
    ck_assert_int_eq(ca_points_age("2008-11-22", "2026-11-21"), 17);
    ck_assert_int_eq(ca_points_age("2008-12-01", "2026-11-21"), 17);
    ck_assert_int_eq(ca_points_age("2008-10-30", "2026-11-21"), 18);
    ck_assert_int_eq(ca_points_junior("2008-11-21", "2026-11-21"), 0);
    ck_assert_int_eq(ca_points_junior("2008-11-22", "2026-11-21"), 1);
    /* born on 29 February: 18 on 1 March of a common year */
    ck_assert_int_eq(ca_points_age("2008-02-29", "2026-02-28"), 17);
    ck_assert_int_eq(ca_points_age("2008-02-29", "2026-03-01"), 18);
    ck_assert_int_eq(ca_points_age("1985-03-14", "2026-11-21"), 41);
    /* not dates: -1, and counted as under 18 */
    ck_assert_int_eq(ca_points_age("2007-02-29", "2026-11-21"), -1);
    ck_assert_int_eq(ca_points_age("2008-13-01", "2026-11-21"), -1);
    ck_assert_int_eq(ca_points_age("2008-1-01", "2026-11-21"), -1);
    ck_assert_int_eq(ca_points_age(NULL, "2026-11-21"), -1);
    ck_assert_int_eq(ca_points_age("2030-01-01", "2026-11-21"), -1);
    ck_assert_int_eq(ca_points_junior("garbage", "2026-11-21"), 1);
}
END_TEST

START_TEST(ttp_limits)
{
    ca_ttp_held_t held[4];

    memset(held, 0, sizeof(held));
    /* first TTP assurance: 0..35 */
    ck_assert_ptr_null(ca_points_ttp_check(held, 0, "7", "Notary A", 35, 0, 0, 0, &rules));
    ck_assert_ptr_null(ca_points_ttp_check(held, 0, "7", "Notary A", 0, 0, 0, 0, &rules));
    ck_assert_str_eq(ca_points_ttp_check(held, 0, "7", "Notary A", 36, 0, 0, 0, &rules),
                     "wot.points.range");
    ck_assert_str_eq(ca_points_ttp_check(held, 0, "7", "Notary A", -1, 0, 0, 0, &rules),
                     "wot.points.range");
    /* under 18: refused unless the directive opens it */
    ck_assert_str_eq(ca_points_ttp_check(held, 0, "7", "Notary A", 10, 0, 1, 0, &rules),
                     "wot.ttp.junior");
    rules.junior_ttp = 1;
    ck_assert_ptr_null(ca_points_ttp_check(held, 0, "7", "Notary A", 10, 0, 1, 0, &rules));
    rules.junior_ttp = 0;

    held[0].assurer_id = "7";
    held[0].ttp = "Notary A";
    held[0].points = 35;
    /* second: a different TTP and TTP-admin, 70 in total */
    ck_assert_ptr_null(ca_points_ttp_check(held, 1, "8", "Bank B", 35, 0, 0, 0, &rules));
    ck_assert_str_eq(ca_points_ttp_check(held, 1, "8", "notary a", 35, 0, 0, 0, &rules),
                     "wot.ttp.samettp");
    ck_assert_str_eq(ca_points_ttp_check(held, 1, "7", "Bank B", 35, 0, 0, 0, &rules),
                     "wot.ttp.sameadmin");
    held[0].points = 36;    /* (cannot happen: rows are checked; the sum still is) */
    ck_assert_str_eq(ca_points_ttp_check(held, 1, "8", "Bank B", 35, 0, 0, 0, &rules),
                     "wot.ttp.total");
    held[0].points = 35;

    held[1].assurer_id = "8";
    held[1].ttp = "Bank B";
    held[1].points = 35;
    /* a third TTP assurance: refused */
    ck_assert_str_eq(ca_points_ttp_check(held, 2, "9", "Post C", 5, 0, 0, 1, &rules),
                     "wot.ttp.count");
    /* top-up: only after the challenge, a third TTP-admin, up to the cap */
    ck_assert_str_eq(ca_points_ttp_check(held, 2, "9", "Post C", 30, 1, 0, 0, &rules),
                     "wot.topup.challenge");
    ck_assert_ptr_null(ca_points_ttp_check(held, 2, "9", "Post C", 30, 1, 0, 1, &rules));
    ck_assert_str_eq(ca_points_ttp_check(held, 2, "9", "Post C", 31, 1, 0, 1, &rules),
                     "wot.points.range");
    ck_assert_str_eq(ca_points_ttp_check(held, 2, "8", "Post C", 30, 1, 0, 1, &rules),
                     "wot.ttp.sameadmin");
    ck_assert_str_eq(ca_points_ttp_check(held, 2, "9", "Post C", 30, 1, 1, 1, &rules),
                     "wot.ttp.junior");
    rules.topup_max = 35;   /* the programme text's value, by directive */
    ck_assert_ptr_null(ca_points_ttp_check(held, 2, "9", "Post C", 35, 1, 0, 1, &rules));
    ck_assert_str_eq(ca_points_ttp_check(held, 1, "9", "Post C", 30, 1, 0, 1, &rules),
                     "wot.topup.needttp");
    held[2].assurer_id = "9";
    held[2].ttp = "Post C";
    held[2].points = 30;
    held[2].topup = 1;
    ck_assert_str_eq(ca_points_ttp_check(held, 3, "10", "Post D", 5, 1, 0, 1, &rules),
                     "wot.topup.done");
}
END_TEST

START_TEST(policy_uses_engine)
{
    ca_standing_t s;

    memset(&s, 0, sizeof(s));
    s.received = 140;
    s.given = 30;
    ck_assert_int_eq(ca_points_total(&s), 150);
    s.assurers = 1;
    s.received = 70;
    ck_assert_int_eq(ca_is_assured(&s), 0);
    s.assurers = 2;
    ck_assert_int_eq(ca_is_assured(&s), 1);
    s.received = 100;
    s.challenge = 1;
    ck_assert_int_eq(ca_is_assurer(&s), 1);
}
END_TEST

START_TEST(roles_and_tickets)
{
    ck_assert_uint_eq(ca_role_bit("support"), CA_ROLE_SUPPORT);
    ck_assert_uint_eq(ca_role_bit("ttp-admin"), CA_ROLE_TTP_ADMIN);
    ck_assert_uint_eq(ca_role_bit("admin"), CA_ROLE_ADMIN);
    ck_assert_uint_eq(ca_role_bit("root"), 0);
    ck_assert_uint_eq(ca_role_bit(NULL), 0);
    ck_assert_str_eq(ca_role_name(CA_ROLE_ORG_ASSURER), "org-assurer");
    ck_assert_str_eq(ca_role_name(CA_ROLE_ARBITRATOR), "arbitrator");
    ck_assert_ptr_null(ca_role_name(CA_ROLE_SUPPORT | CA_ROLE_ADMIN));

    ck_assert_int_eq(ca_ticket_ok("s20261121.1"), 's');
    ck_assert_int_eq(ca_ticket_ok("a20261121.123456"), 'a');
    ck_assert_int_eq(ca_ticket_ok("a20240229.7"), 'a');     /* a leap day */
    ck_assert_int_eq(ca_ticket_ok("a20250229.7"), 0);
    ck_assert_int_eq(ca_ticket_ok("s20261121.1234567"), 0);  /* 7 digits */
    ck_assert_int_eq(ca_ticket_ok("s20261121.01"), 0);
    ck_assert_int_eq(ca_ticket_ok("s20261121."), 0);
    ck_assert_int_eq(ca_ticket_ok("s20261321.1"), 0);
    ck_assert_int_eq(ca_ticket_ok("s20261100.1"), 0);
    ck_assert_int_eq(ca_ticket_ok("x20261121.1"), 0);
    ck_assert_int_eq(ca_ticket_ok("S20261121.1"), 0);
    ck_assert_int_eq(ca_ticket_ok("s2026112.1"), 0);
    ck_assert_int_eq(ca_ticket_ok("s20261121.1 "), 0);
    ck_assert_int_eq(ca_ticket_ok(""), 0);
    ck_assert_int_eq(ca_ticket_ok(NULL), 0);
    ck_assert_int_eq(ca_ticket_ok("s19991231.1"), 0);
}
END_TEST

START_TEST(wot_checks)
{
    int n;

    ck_assert_ptr_null(ca_wot_check_points(&n, "0", 10));
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_null(ca_wot_check_points(&n, "10", 10));
    ck_assert_int_eq(n, 10);
    ck_assert_ptr_null(ca_wot_check_points(&n, "007", 10));
    ck_assert_int_eq(n, 7);
    ck_assert_str_eq(ca_wot_check_points(&n, "11", 10), "wot.points.range");
    ck_assert_str_eq(ca_wot_check_points(&n, "-1", 10), "wot.points.range");
    ck_assert_str_eq(ca_wot_check_points(&n, "99999999999999999999", 35), "wot.points.range");
    ck_assert_ptr_null(ca_wot_check_points(&n, "-0", 10));
    ck_assert_str_eq(ca_wot_check_points(&n, "", 10), "wot.points.number");
    ck_assert_str_eq(ca_wot_check_points(&n, "-", 10), "wot.points.number");
    ck_assert_str_eq(ca_wot_check_points(&n, "1e1", 35), "wot.points.number");
    ck_assert_str_eq(ca_wot_check_points(&n, " 5", 35), "wot.points.number");
    ck_assert_str_eq(ca_wot_check_points(&n, NULL, 35), "wot.points.number");

    ck_assert_ptr_null(ca_wot_check_date("2026-11-21", "2026-11-22"));
    ck_assert_ptr_null(ca_wot_check_date("2026-11-22", "2026-11-22"));
    ck_assert_str_eq(ca_wot_check_date("2026-11-23", "2026-11-22"), "wot.date.future");
    ck_assert_ptr_null(ca_wot_check_date("2000-01-01", "2026-11-22"));
    ck_assert_str_eq(ca_wot_check_date("1999-12-31", "2026-11-22"), "wot.date.invalid");
    ck_assert_str_eq(ca_wot_check_date("2026-02-29", "2026-11-22"), "wot.date.invalid");
    ck_assert_ptr_null(ca_wot_check_date("2024-02-29", "2026-11-22"));
    ck_assert_str_eq(ca_wot_check_date("21.11.2026", "2026-11-22"), "wot.date.invalid");
    ck_assert_str_eq(ca_wot_check_date(NULL, "2026-11-22"), "wot.date.invalid");
    {
        /* the latest date: today at UTC+14, never tomorrow everywhere */
        apr_pool_t *tp;
        apr_time_exp_t x;
        apr_time_t t;

        apr_pool_create(&tp, NULL);
        memset(&x, 0, sizeof(x));
        x.tm_year = 126;
        x.tm_mon = 10;
        x.tm_mday = 21;
        x.tm_hour = 9;
        x.tm_min = 59;
        x.tm_sec = 59;
        ck_assert_int_eq(apr_time_exp_gmt_get(&t, &x), APR_SUCCESS);
        ck_assert_str_eq(ca_wot_date_of(t, tp), "2026-11-21");
        ck_assert_str_eq(ca_wot_latest_date(t, tp), "2026-11-21");
        ck_assert_str_eq(ca_wot_check_date("2026-11-22", ca_wot_latest_date(t, tp)),
                         "wot.date.future");
        t += apr_time_from_sec(1);                  /* 10:00 UTC: midnight at UTC+14 */
        ck_assert_str_eq(ca_wot_date_of(t, tp), "2026-11-21");
        ck_assert_str_eq(ca_wot_latest_date(t, tp), "2026-11-22");
        ck_assert_ptr_null(ca_wot_check_date("2026-11-22", ca_wot_latest_date(t, tp)));
        ck_assert_str_eq(ca_wot_check_date("2026-11-23", ca_wot_latest_date(t, tp)),
                         "wot.date.future");
        apr_pool_destroy(tp);
    }

    ck_assert_ptr_null(ca_wot_check_documents(&n, "2"));
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(ca_wot_check_documents(&n, "0"), "wot.documents.none");
    ck_assert_str_eq(ca_wot_check_documents(&n, ""), "wot.documents.none");
    ck_assert_str_eq(ca_wot_check_documents(&n, "10"), "wot.documents.number");
    ck_assert_str_eq(ca_wot_check_documents(&n, "x"), "wot.documents.number");
    ck_assert_str_eq(ca_points_documents_check(0, 0, 1), "wot.documents.none");
    ck_assert_ptr_null(ca_points_documents_check(1, 10, 1));
    ck_assert_str_eq(ca_points_documents_check(1, 11, 1), "wot.documents.two");
    ck_assert_ptr_null(ca_points_documents_check(2, 35, 1));
    ck_assert_ptr_null(ca_points_documents_check(1, 35, 0));   /* TTP: the TTP's form */

    ck_assert_ptr_null(ca_wot_check_country("DE"));
    ck_assert_str_eq(ca_wot_check_country("de"), "wot.country.invalid");
    ck_assert_str_eq(ca_wot_check_country("DEU"), "wot.country.invalid");
    ck_assert_ptr_null(ca_wot_check_variant("cats-v3.1"));
    ck_assert_str_eq(ca_wot_check_variant("Cats"), "wot.challenge.variant");
    ck_assert_str_eq(ca_wot_check_variant(""), "wot.challenge.variant");
    ck_assert_ptr_null(ca_wot_check_text("x", 1));
    ck_assert_str_eq(ca_wot_check_text("xy", 1), "wot.text.toolong");
    ck_assert_str_eq(ca_wot_check_text("", 1), "wot.text.required");
    ck_assert_str_eq(ca_wot_kind_name(CA_WOT_TOPUP), "ttp-topup");
}
END_TEST

START_TEST(wot_bars)
{
    int v[4] = { 0, 1, 50, 100 }, h[4], max;
    int z[2] = { 0, 0 };

    ca_wot_bars(h, &max, v, 4, 120);
    ck_assert_int_eq(max, 100);
    ck_assert_int_eq(h[0], 0);
    ck_assert_int_eq(h[1], 1);      /* a sliver, not nothing */
    ck_assert_int_eq(h[2], 60);
    ck_assert_int_eq(h[3], 120);
    ca_wot_bars(h, &max, z, 2, 120);
    ck_assert_int_eq(max, 0);
    ck_assert_int_eq(h[0] + h[1], 0);
}
END_TEST

Suite *points_suite(void)
{
    Suite *s = suite_create("points");
    TCase *tc = tcase_create("engine");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, received_cap);
    tcase_add_test(tc, experience_cap);
    tcase_add_test(tc, total_cap);
    tcase_add_test(tc, assured_member);
    tcase_add_test(tc, assurer_status);
    tcase_add_test(tc, max_award_steps);
    tcase_add_test(tc, climb_25_assurances);
    tcase_add_test(tc, ages);
    tcase_add_test(tc, ttp_limits);
    tcase_add_test(tc, policy_uses_engine);
    tcase_add_test(tc, roles_and_tickets);
    tcase_add_test(tc, wot_checks);
    tcase_add_test(tc, wot_bars);
    suite_add_tcase(s, tc);
    return s;
}
