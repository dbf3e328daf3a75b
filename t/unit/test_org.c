/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Organisation assurance: country codes, domain names, the fields of an
 * organisation, and the names of organisation certificates. */
#include <string.h>

#include <apr_pools.h>
#include <apr_tables.h>

#include "tests.h"
#include "ca_org.h"
#include "ca_policy.h"

static apr_pool_t *pool;
static const ca_policy_cfg_t cfg = { 0, 183, 730 };

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static apr_array_header_t *list(const char *a, const char *b)
{
    apr_array_header_t *l = apr_array_make(pool, 2, sizeof(const char *));
    if (a) APR_ARRAY_PUSH(l, const char *) = a;
    if (b) APR_ARRAY_PUSH(l, const char *) = b;
    return l;
}

START_TEST(countries)
{
    static const char *const good[] = { "DE", "NL", "AU", "US", "GB", "CH", "AX", "ZW", NULL };
    static const char *const bad[] = { "UK", "de", "D", "DEU", "", "XK", "EU", "ZZ", "A1",
                                       NULL };
    char cc[3] = { 0, 0, 0 };
    int i, a, b, n = 0;

    for (i = 0; good[i]; i++) ck_assert_msg(ca_country_ok(good[i]), "%s", good[i]);
    for (i = 0; bad[i]; i++) ck_assert_msg(!ca_country_ok(bad[i]), "%s", bad[i]);
    ck_assert(!ca_country_ok(NULL));
    for (a = 'A'; a <= 'Z'; a++) {
        for (b = 'A'; b <= 'Z'; b++) {
            cc[0] = (char)a;
            cc[1] = (char)b;
            n += ca_country_ok(cc);
        }
    }
    ck_assert_int_eq(n, 249);       /* the officially assigned codes */
}
END_TEST

START_TEST(domains)
{
    ck_assert_ptr_null(ca_org_valid_domain("example.org"));
    ck_assert_ptr_null(ca_org_valid_domain("a-b.example.co.uk"));
    ck_assert_ptr_null(ca_org_valid_domain("xn--bcher-kva.xn--p1ai"));
    ck_assert_ptr_nonnull(ca_org_valid_domain("Example.org"));    /* lower case only */
    ck_assert_ptr_nonnull(ca_org_valid_domain("org"));
    ck_assert_ptr_nonnull(ca_org_valid_domain("-a.org"));
    ck_assert_ptr_nonnull(ca_org_valid_domain("a-.org"));
    ck_assert_ptr_nonnull(ca_org_valid_domain("a..org"));
    ck_assert_ptr_nonnull(ca_org_valid_domain("a.org."));
    ck_assert_ptr_nonnull(ca_org_valid_domain("*.a.org"));
    ck_assert_ptr_nonnull(ca_org_valid_domain("a.123"));
    ck_assert_ptr_nonnull(ca_org_valid_domain("a b.org"));
    ck_assert_ptr_nonnull(ca_org_valid_domain(""));
}
END_TEST

START_TEST(org_fields)
{
    ca_org_t o = { NULL, "Example GmbH", "Berlin", "", "DE", "info@example.org",
                   NULL, NULL, NULL };
    const char *field;

    ck_assert_ptr_null(ca_org_check(&field, &o));
    o.country = "UK";
    ck_assert_str_eq(ca_org_check(&field, &o), "org.country.invalid");
    ck_assert_str_eq(field, "country");
    o.country = "DE";
    o.contact = "not an address";
    ck_assert_str_eq(ca_org_check(&field, &o), "org.contact.invalid");
    o.contact = "info@example.org";
    o.name = "";
    ck_assert_str_eq(ca_org_check(&field, &o), "org.name.invalid");
    o.name = "A name of more than sixty-four characters, which X.509 does not allow";
    ck_assert_str_eq(ca_org_check(&field, &o), "org.name.invalid");
}
END_TEST

START_TEST(org_server_names)
{
    ca_org_facts_t f = { "Example GmbH", "Berlin", "", "DE", NULL };
    ca_org_choice_t c;
    ca_cert_names_t n;
    ca_grant_t g;
    const char *org[5];

    f.domains = list("example.org", NULL);
    memset(&c, 0, sizeof(c));
    c.profile = CA_PROFILE_ORG_SERVER;
    c.md = "sha256";
    c.unit = "IT";
    c.hosts = list("www.example.org", "*.example.org");
    ca_policy_org_grant(&g, c.profile, &cfg);
    ck_assert_str_eq(g.ca, "org");
    ck_assert_int_eq(g.days, 730);
    ck_assert_ptr_null(ca_policy_org_names(&n, org, &g, &c, &f, pool));
    ck_assert_str_eq(n.cn, "www.example.org");
    ck_assert_int_eq(n.sans->nelts, 2);
    ck_assert_str_eq(org[0], "Example GmbH");
    ck_assert_str_eq(org[1], "IT");
    ck_assert_str_eq(org[2], "Berlin");
    ck_assert_ptr_null(org[3]);         /* no state: left out */
    ck_assert_str_eq(org[4], "DE");
    c.hosts = list("www.example.com", NULL);
    ck_assert_str_eq(ca_policy_org_names(&n, org, &g, &c, &f, pool), "policy.org.host.domain");
    c.hosts = list("www.example.org", NULL);
    c.emails = list("a@example.org", NULL);
    ck_assert_str_eq(ca_policy_org_names(&n, org, &g, &c, &f, pool), "policy.server.names");
    ca_policy_org_grant(&g, CA_PROFILE_SERVER, &cfg);
    ck_assert_ptr_null(g.ca);
}
END_TEST

START_TEST(org_client_names)
{
    ca_org_facts_t f = { "Example GmbH", "Berlin", "Berlin", "DE", NULL };
    ca_org_choice_t c;
    ca_cert_names_t n;
    ca_grant_t g;
    const char *org[5];

    f.domains = list("example.org", NULL);
    memset(&c, 0, sizeof(c));
    c.profile = CA_PROFILE_ORG_CLIENT;
    c.md = "sha256";
    c.emails = list("anna@example.org", "sales@mail.example.org");
    ca_policy_org_grant(&g, c.profile, &cfg);
    ck_assert_ptr_null(ca_policy_org_names(&n, org, &g, &c, &f, pool));
    ck_assert_str_eq(n.cn, "anna@example.org");
    ck_assert_str_eq(n.email, "anna@example.org");
    ck_assert_str_eq(org[3], "Berlin");
    ck_assert_ptr_null(org[1]);
    c.cn = "Anna Schmidt";
    ck_assert_ptr_null(ca_policy_org_names(&n, org, &g, &c, &f, pool));
    ck_assert_str_eq(n.cn, "Anna Schmidt");
    c.emails = list("anna@example.com", NULL);
    ck_assert_str_eq(ca_policy_org_names(&n, org, &g, &c, &f, pool), "policy.org.email.domain");
    c.emails = list("anna@example.org", "ANNA@example.org");
    ck_assert_str_eq(ca_policy_org_names(&n, org, &g, &c, &f, pool), "policy.duplicate");
    c.emails = list("anna@example.org", NULL);
    c.hosts = list("www.example.org", NULL);
    ck_assert_str_eq(ca_policy_org_names(&n, org, &g, &c, &f, pool), "policy.hosts.notallowed");
    c.hosts = NULL;
    c.unit = "<b>";
    ck_assert_str_eq(ca_policy_org_names(&n, org, &g, &c, &f, pool), "policy.org.unit");
}
END_TEST

Suite *org_suite(void)
{
    Suite *s = suite_create("org");
    TCase *tc = tcase_create("org");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, countries);
    tcase_add_test(tc, domains);
    tcase_add_test(tc, org_fields);
    tcase_add_test(tc, org_server_names);
    tcase_add_test(tc, org_client_names);
    suite_add_tcase(s, tc);
    return s;
}
