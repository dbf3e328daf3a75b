/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_pools.h>
#include <apr_tables.h>

#include "tests.h"
#include "ca_policy.h"

static apr_pool_t *pool;
static const ca_policy_cfg_t cfg = { 0, 183, 730 };
static const ca_policy_cfg_t cfg_class1 = { 1, 183, 730 };

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static apr_array_header_t *list(const char *a, const char *b)
{
    apr_array_header_t *l = apr_array_make(pool, 2, sizeof(const char *));
    if (a) APR_ARRAY_PUSH(l, const char *) = a;
    if (b) APR_ARRAY_PUSH(l, const char *) = b;
    return l;
}

START_TEST(points)
{
    ca_standing_t s = { 0 };

    ck_assert_int_eq(ca_points_total(&s), 0);
    s.received = 35;
    ck_assert_int_eq(ca_points_total(&s), 35);
    s.received = 140;
    ck_assert_int_eq(ca_points_total(&s), 100);
    s.given = 4;
    ck_assert_int_eq(ca_points_total(&s), 108);
    s.given = 40;
    ck_assert_int_eq(ca_points_total(&s), 150);
    ck_assert_int_eq(ca_is_assurer(&s), 0);       /* no challenge */
    s.challenge = 1;
    ck_assert_int_eq(ca_is_assurer(&s), 1);
    s.blocked = 1;
    ck_assert_int_eq(ca_is_assurer(&s), 0);
    s.blocked = 0;
    s.received = 99;
    ck_assert_int_eq(ca_is_assurer(&s), 0);       /* experience does not count */
}
END_TEST

START_TEST(grants_by_points)
{
    ca_standing_t s = { 0 };
    ca_grant_t g;

    ca_policy_grant(&g, &s, CA_PROFILE_CLIENT, &cfg);
    ck_assert_ptr_null(g.ca);
    ck_assert_str_eq(g.refusal, "policy.needpoints");
    ca_policy_grant(&g, &s, CA_PROFILE_SERVER, &cfg_class1);
    ck_assert_str_eq(g.ca, "class1");
    ck_assert_int_eq(g.days, 183);

    s.received = 10;
    ca_policy_grant(&g, &s, CA_PROFILE_CLIENT, &cfg);
    ck_assert_str_eq(g.ca, "member");
    ck_assert_int_eq(g.days, 183);
    ck_assert(!g.may_name && !g.may_multi && !g.may_wildcard);
    ca_policy_grant(&g, &s, CA_PROFILE_CODESIGN, &cfg);
    ck_assert_ptr_null(g.ca);

    s.received = 50;
    s.assurers = 2;
    ca_policy_grant(&g, &s, CA_PROFILE_CLIENT, &cfg);
    ck_assert_str_eq(g.ca, "assured");
    ck_assert_int_eq(g.days, 730);
    ck_assert(g.may_name && g.may_multi && !g.may_wildcard);
    ca_policy_grant(&g, &s, CA_PROFILE_SERVER, &cfg);
    ck_assert(g.may_wildcard && g.may_multi && !g.may_name);
    ca_policy_grant(&g, &s, CA_PROFILE_CODESIGN, &cfg);
    ck_assert_str_eq(g.refusal, "policy.codesign.assurer");

    s.received = 100;
    s.assurers = 3;
    s.challenge = 1;
    ca_policy_grant(&g, &s, CA_PROFILE_CODESIGN, &cfg);
    ck_assert_str_eq(g.refusal, "policy.codesign.flag");
    s.codesign = 1;
    ca_policy_grant(&g, &s, CA_PROFILE_CODESIGN, &cfg);
    ck_assert_str_eq(g.ca, "assured");
    ca_policy_grant(&g, &s, CA_PROFILE_ORG_CLIENT, &cfg);
    ck_assert_ptr_null(g.ca);
}
END_TEST

START_TEST(names_client)
{
    ca_standing_t s = { 10, 0, 0, 0, 0, 1 };
    ca_member_facts_t f = { "Anna Schmidt", NULL, NULL };
    ca_cert_choice_t c = { CA_PROFILE_CLIENT, 0, NULL, NULL, "sha256" };
    ca_cert_names_t n;
    ca_grant_t g;

    f.emails = list("anna@example.org", "a2@example.org");
    ca_policy_grant(&g, &s, CA_PROFILE_CLIENT, &cfg);
    c.emails = list("anna@example.org", NULL);
    ck_assert_ptr_null(ca_policy_names(&n, &g, &c, &f, pool));
    ck_assert_str_eq(n.cn, CA_ANON_CN);
    ck_assert_str_eq(n.email, "anna@example.org");
    ck_assert_int_eq(n.sans->nelts, 1);
    c.emails = list("anna@example.org", "a2@example.org");
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.emails.one");
    c.emails = list("eve@example.org", NULL);
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.email.unverified");
    c.emails = list("anna@example.org", NULL);
    c.use_name = 1;
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.name.notassured");
    c.md = "md5";
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.md");

    s.received = 60;
    s.assurers = 2;
    ca_policy_grant(&g, &s, CA_PROFILE_CLIENT, &cfg);
    c.md = "sha512";
    c.emails = list("anna@example.org", "A2@example.org");
    ck_assert_ptr_null(ca_policy_names(&n, &g, &c, &f, pool));
    ck_assert_str_eq(n.cn, "Anna Schmidt");
    ck_assert_int_eq(n.sans->nelts, 2);
    c.emails = list("anna@example.org", "anna@example.org");
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.duplicate");
    c.emails = list(NULL, NULL);
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.emails.required");
}
END_TEST

START_TEST(names_server)
{
    ca_standing_t s = { 20, 0, 0, 0, 0, 1 };
    ca_member_facts_t f = { "Anna Schmidt", NULL, NULL };
    ca_cert_choice_t c = { CA_PROFILE_SERVER, 0, NULL, NULL, "sha256" };
    ca_cert_names_t n;
    ca_grant_t g;
    const char *dom;

    f.domains = list("example.org", "shop.example.net");
    ca_policy_grant(&g, &s, CA_PROFILE_SERVER, &cfg);
    c.hosts = list("www.example.org", NULL);
    ck_assert_ptr_null(ca_policy_names(&n, &g, &c, &f, pool));
    ck_assert_str_eq(n.cn, "www.example.org");
    ck_assert_int_eq(n.sans->nelts, 1);
    ck_assert_int_eq(APR_ARRAY_IDX(n.sans, 0, ca_san_t).type, CA_SAN_DNS);
    c.hosts = list("www.example.org", "example.org");
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.hosts.one");
    c.hosts = list("*.example.org", NULL);
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.wildcard");
    c.hosts = list("evilexample.org", NULL);          /* not a label boundary */
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.host.unverified");
    c.hosts = list("example.net", NULL);              /* above the verified name */
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.host.unverified");
    c.hosts = list("bad_host.example.org", NULL);
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.host.invalid");
    c.hosts = list("a.*.example.org", NULL);
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.host.invalid");
    c.hosts = list("www.example.org", NULL);
    c.emails = list("anna@example.org", NULL);
    ck_assert_str_eq(ca_policy_names(&n, &g, &c, &f, pool), "policy.server.names");

    s.received = 50;
    s.assurers = 2;
    ca_policy_grant(&g, &s, CA_PROFILE_SERVER, &cfg);
    c.emails = NULL;
    c.hosts = list("*.example.org", "api.shop.example.net");
    ck_assert_ptr_null(ca_policy_names(&n, &g, &c, &f, pool));
    ck_assert_int_eq(n.sans->nelts, 2);
    ck_assert_int_eq(ca_host_in_domains(&dom, "WWW.Example.ORG", f.domains), 1);
    ck_assert_str_eq(dom, "example.org");
}
END_TEST

Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, points);
    tcase_add_test(tc, grants_by_points);
    tcase_add_test(tc, names_client);
    tcase_add_test(tc, names_server);
    suite_add_tcase(s, tc);
    return s;
}
