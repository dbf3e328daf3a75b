/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The pure rules of domain control: names, the IDN rule of CPS 3.1.7 on a
 * table of cases, claims, mailboxes, the checks rule, the whois parser and
 * the address filter of the file check. */
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "tests.h"
#include "ca_domain.h"
#include "ca_probe.h"
#include "ca_valid.h"

static apr_pool_t *pool;
static ca_domain_cfg_t cfg;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(&cfg, 0, sizeof(cfg));
    cfg.psl = ca_domain_psl_load();
}

static void teardown(void)
{
    ca_domain_psl_free(cfg.psl);
    apr_pool_destroy(pool);
}

static const struct {
    const char *in;
    const char *err;        /* NULL: accepted */
    const char *out;        /* the stored form when accepted */
} names[] = {
    { "example.org", NULL, "example.org" },
    { "WWW.Example.ORG", NULL, "www.example.org" },
    { "a-b.example.co.uk", NULL, "a-b.example.co.uk" },
    { "", "domain.required", NULL },
    { "example.org.", "domain.trailingdot", NULL },
    { "example.org..", "domain.trailingdot", NULL },
    { "192.0.2.1", "domain.ip", NULL },
    { "10.1.2.3", "domain.ip", NULL },
    { "2001:db8::1", "domain.ip", NULL },
    { "[2001:db8::1]", "domain.ip", NULL },
    { "example.123", "domain.ip", NULL },
    { "*.example.org", "domain.wildcard", NULL },
    { "org", "domain.onelabel", NULL },
    { "localhost", "domain.onelabel", NULL },
    { "co.uk", "domain.publicsuffix", NULL },
    { "github.io", "domain.publicsuffix", NULL },
    { "a..example.org", "domain.invalid", NULL },
    { ".example.org", "domain.invalid", NULL },
    { "-a.example.org", "domain.invalid", NULL },
    { "a-.example.org", "domain.invalid", NULL },
    { "a_b.example.org", "domain.invalid", NULL },
    { "a b.example.org", "domain.invalid", NULL },
    { "a\tb.example.org", "domain.invalid", NULL },
    { "ab--cd.example.org", "domain.invalid", NULL },
    { "a/b.example.org", "domain.invalid", NULL },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", NULL, NULL },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org",
      "domain.label.toolong", NULL },
    /* IDN */
    { "bücher.example.org", NULL, "xn--bcher-kva.example.org" },
    { "BÜCHER.example.org", NULL, "xn--bcher-kva.example.org" },
    { "xn--bcher-kva.example.org", NULL, "xn--bcher-kva.example.org" },
    { "пример.example.org", NULL, "xn--e1afmkfd.example.org" },
    { "xn--pypal-4ve.example.com", "domain.idn.mixed", NULL },
    { "p\xd0\xb0ypal.example.com", "domain.idn.mixed", NULL },
    { "xn--pypal-4ve.example.de", NULL, "xn--pypal-4ve.example.de" },
    { "xn--zz-ab.example.org", "domain.idn.invalid", NULL },
    /* "xn--" ends with a hyphen: not an LDH label, refused before any IDN
     * decoding (so the general message, not the IDNA2008 one) */
    { "xn--.example.org", "domain.invalid", NULL },
    { "\xff\xfe.example.org", "domain.idn.invalid", NULL },
};

START_TEST(name_table)
{
    const char *out, *e;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        e = ca_domain_name(&out, names[i].in, strlen(names[i].in), &cfg, pool);
        if (names[i].err) {
            ck_assert_msg(e && !strcmp(e, names[i].err), "%s: %s, not %s", names[i].in,
                          e ? e : "accepted", names[i].err);
            ck_assert_ptr_null(out);
        }
        else {
            ck_assert_msg(!e, "%s: %s", names[i].in, e);
            if (names[i].out) {
                ck_assert_str_eq(out, names[i].out);
            }
        }
    }
}
END_TEST

START_TEST(name_limits)
{
    char buf[400];
    const char *out, *l63 = apr_pstrndup(pool, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 63);
    const char *long_name = apr_pstrcat(pool, l63, ".", l63, ".", l63, ".", l63, ".org", NULL);

    /* a NUL byte inside the length */
    ck_assert_str_eq(ca_domain_name(&out, "a\0b.example.org", 15, &cfg, pool), "domain.nul");
    /* 4 x 63 + 4 + 3 = 259 > 253 */
    ck_assert_str_eq(ca_domain_name(&out, long_name, strlen(long_name), &cfg, pool),
                     "domain.toolong");
    ck_assert_str_eq(ca_domain_name(&out, NULL, 0, &cfg, pool), "domain.required");
    memset(buf, 'a', sizeof(buf));
    ck_assert_str_eq(ca_domain_name(&out, buf, sizeof(buf), &cfg, pool),
                     "domain.label.toolong");
}
END_TEST

/* CPS 3.1.7 on A-labels, with the CPS list and with an operator's list */
static const struct {
    const char *name;
    int ok;
} idn[] = {
    { "example.com", 1 },                       /* no xn-- label */
    { "xn--bcher-kva.com", 1 },                 /* Latin only */
    { "xn--e1afmkfd.xn--p1ai", 1 },             /* Cyrillic labels */
    { "xn--e1afmkfd.com", 1 },                  /* one script per label */
    { "xn--pypal-4ve.com", 0 },                 /* Latin + Cyrillic in a label */
    { "xn--pypal-4ve.de", 1 },                  /* .de is on the list */
    { "xn--pypal-4ve.org", 1 },
    { "xn--pypal-4ve.xn--p1ai", 0 },            /* .рф is not */
    { "xn--123-nxcfg.com", 1 },                 /* Greek and digits */
    { "xn--zz-ab.com", 0 },                     /* not a valid label */
};

START_TEST(idn_table)
{
    apr_array_header_t *mine = apr_array_make(pool, 1, sizeof(const char *));
    size_t i;

    for (i = 0; i < sizeof(idn) / sizeof(idn[0]); i++) {
        const char *e = ca_idn_check(idn[i].name, NULL);
        ck_assert_msg((e == NULL) == idn[i].ok, "%s: %s", idn[i].name, e ? e : "accepted");
    }
    /* the operator's list replaces the CPS list */
    APR_ARRAY_PUSH(mine, const char *) = "com";
    ck_assert_ptr_null(ca_idn_check("xn--pypal-4ve.com", mine));
    ck_assert_str_eq(ca_idn_check("xn--pypal-4ve.de", mine), "domain.idn.mixed");
    /* the same rule for the domain part of addresses */
    ck_assert_ptr_null(ca_valid_email("x@xn--bcher-kva.example"));
    ck_assert_str_eq(ca_valid_email("x@xn--pypal-4ve.com"), "err.email.idn");
    ck_assert_str_eq(ca_valid_email("x@xn--zz-ab.com"), "err.email.idn");
    ck_assert_ptr_null(ca_valid_email("x@xn--pypal-4ve.de"));
}
END_TEST

START_TEST(claims)
{
    ck_assert_int_eq(ca_domain_within("www.example.org", "example.org"), 1);
    ck_assert_int_eq(ca_domain_within("EXAMPLE.org", "example.ORG"), 1);
    ck_assert_int_eq(ca_domain_within("badexample.org", "example.org"), 0);
    ck_assert_int_eq(ca_domain_within("example.org", "www.example.org"), 0);
    ck_assert_str_eq(ca_domain_claim_rule("example.org", "example.org"),
                     "domain.claimed.same");
    ck_assert_str_eq(ca_domain_claim_rule("a.example.org", "example.org"),
                     "domain.claimed.parent");
    ck_assert_str_eq(ca_domain_claim_rule("example.org", "a.b.example.org"),
                     "domain.claimed.child");
    ck_assert_ptr_null(ca_domain_claim_rule("a.example.org", "b.example.org"));
    ck_assert_ptr_null(ca_domain_claim_rule("myexample.org", "example.org"));
    /* an organisation's domain: the same rule, its own messages */
    ck_assert_str_eq(ca_domain_org_claim_rule("Example.org", "example.org"),
                     "domain.claimed.org");
    ck_assert_str_eq(ca_domain_org_claim_rule("www.example.org", "example.org"),
                     "domain.claimed.org.parent");
    ck_assert_str_eq(ca_domain_org_claim_rule("example.org", "shop.example.org"),
                     "domain.claimed.org.child");
    ck_assert_ptr_null(ca_domain_org_claim_rule("myexample.org", "example.org"));
}
END_TEST

START_TEST(mailboxes)
{
    apr_array_header_t *w = apr_array_make(pool, 1, sizeof(const char *));

    APR_ARRAY_PUSH(w, const char *) = "owner@mail.example.net";
    ck_assert_int_eq(ca_domain_mailbox_ok("hostmaster@example.org", "example.org", NULL), 1);
    ck_assert_int_eq(ca_domain_mailbox_ok("ROOT@Example.org", "example.org", NULL), 1);
    ck_assert_int_eq(ca_domain_mailbox_ok("info@example.org", "example.org", NULL), 0);
    ck_assert_int_eq(ca_domain_mailbox_ok("admin@www.example.org", "example.org", NULL), 0);
    ck_assert_int_eq(ca_domain_mailbox_ok("admin@example.org.evil", "example.org", NULL), 0);
    ck_assert_int_eq(ca_domain_mailbox_ok("owner@mail.example.net", "example.org", NULL), 0);
    ck_assert_int_eq(ca_domain_mailbox_ok("owner@mail.example.net", "example.org", w), 1);
    ck_assert_int_eq(ca_domain_mailbox_ok("nobody", "example.org", w), 0);
}
END_TEST

START_TEST(rules)
{
    char *assured[] = { "assured", "2" };
    char *member_dns[] = { "member", "2", "dns", "http" };
    char *bad1[] = { "nosuch", "1" };
    char *bad2[] = { "member", "3", "dns", "http" };
    char *bad3[] = { "member", "0" };
    char *bad4[] = { "member", "1", "carrier-pigeon" };
    apr_array_header_t *list = apr_array_make(pool, 2, sizeof(ca_domain_rule_t));
    ca_domain_cfg_t c;
    ca_domain_rule_t r;

    ck_assert_ptr_null(ca_domain_rule_parse(&r, 2, assured, pool));
    ck_assert_int_eq(r.need, 2);
    ck_assert_int_eq(r.methods, CA_CHECK_ALL);
    ck_assert_ptr_nonnull(ca_domain_rule_parse(&r, 2, bad1, pool));
    ck_assert_ptr_nonnull(ca_domain_rule_parse(&r, 4, bad2, pool));
    ck_assert_ptr_nonnull(ca_domain_rule_parse(&r, 2, bad3, pool));
    ck_assert_ptr_nonnull(ca_domain_rule_parse(&r, 3, bad4, pool));
    ck_assert_ptr_nonnull(ca_domain_rule_parse(&r, 1, assured, pool));

    /* the defaults: one check for the Member SubRoot, two different ones
     * for the Assured SubRoot */
    ck_assert_int_eq(ca_domain_rule_met(ca_domain_rule(NULL, "member"), CA_CHECK_EMAIL), 1);
    ck_assert_int_eq(ca_domain_rule_met(ca_domain_rule(NULL, "member"), 0), 0);
    ck_assert_int_eq(ca_domain_rule_met(ca_domain_rule(NULL, "assured"), CA_CHECK_DNS), 0);
    ck_assert_int_eq(ca_domain_rule_met(ca_domain_rule(NULL, "assured"),
                                        CA_CHECK_DNS | CA_CHECK_EMAIL), 1);
    ck_assert_int_eq(ca_domain_rule_met(ca_domain_rule(NULL, "org"), CA_CHECK_HTTP), 0);

    ck_assert_ptr_null(ca_domain_rule_parse(&r, 4, member_dns, pool));
    APR_ARRAY_PUSH(list, ca_domain_rule_t) = r;
    memset(&c, 0, sizeof(c));
    c.rules = list;
    ck_assert_int_eq(ca_domain_rule_met(ca_domain_rule(&c, "member"),
                                        CA_CHECK_DNS | CA_CHECK_EMAIL), 0);
    ck_assert_int_eq(ca_domain_rule_met(ca_domain_rule(&c, "member"),
                                        CA_CHECK_DNS | CA_CHECK_HTTP), 1);
    ck_assert_str_eq(ca_check_method_name(CA_CHECK_HTTP), "http");
    ck_assert_int_eq(ca_check_method_bit("dns"), CA_CHECK_DNS);
    ck_assert_int_eq(ca_check_method_bit("DNS"), 0);
}
END_TEST

static void push_domain(apr_array_header_t *list, const char *id, const char *name,
                        unsigned passed)
{
    ca_domain_t *d = apr_array_push(list);

    memset(d, 0, sizeof(*d));
    d->id = id;
    d->name = name;
    d->passed = passed;
}

/* which domain a server certificate for a host waits on for another check */
START_TEST(short_of)
{
    apr_array_header_t *list = apr_array_make(pool, 4, sizeof(ca_domain_t));
    const ca_domain_rule_t *assured = ca_domain_rule(NULL, "assured");
    const ca_domain_rule_t *mem = ca_domain_rule(NULL, "member");
    const ca_domain_t *d;

    push_domain(list, "1", "example.org", CA_CHECK_DNS);
    push_domain(list, "2", "two.example", CA_CHECK_DNS | CA_CHECK_HTTP);
    push_domain(list, "3", "none.example", 0);
    push_domain(list, "4", "shop.example.org", CA_CHECK_EMAIL);

    /* one check: enough for the Member SubRoot, not for the Assured one */
    d = ca_domain_short_of(list, "www.example.org", assured);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->id, "1");
    ck_assert_ptr_nonnull(ca_domain_short_of(list, "EXAMPLE.ORG", assured));
    ck_assert_ptr_nonnull(ca_domain_short_of(list, "*.example.org", assured));
    ck_assert_ptr_null(ca_domain_short_of(list, "www.example.org", mem));
    /* the most specific domain holding the host */
    d = ca_domain_short_of(list, "www.shop.example.org", assured);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->id, "4");
    /* two different checks: nothing missing */
    ck_assert_ptr_null(ca_domain_short_of(list, "a.two.example", assured));
    /* no check passed yet, no domain at all, not at a label boundary */
    ck_assert_ptr_null(ca_domain_short_of(list, "www.none.example", assured));
    ck_assert_ptr_null(ca_domain_short_of(list, "www.example.net", assured));
    ck_assert_ptr_null(ca_domain_short_of(list, "badexample.org", assured));
    ck_assert_ptr_null(ca_domain_short_of(NULL, "www.example.org", assured));
    ck_assert_ptr_null(ca_domain_short_of(list, NULL, assured));
    /* a parent verified enough covers a child that is not */
    push_domain(list, "5", "example.com", CA_CHECK_DNS | CA_CHECK_EMAIL);
    push_domain(list, "6", "www.example.com", CA_CHECK_DNS);
    ck_assert_ptr_null(ca_domain_short_of(list, "a.www.example.com", assured));
}
END_TEST

START_TEST(whois_parser)
{
    static const char answer[] =
        "% This is the registry's whois; abuse@registry.example for complaints\r\n"
        "# comment@example.com\r\n"
        "Domain Name: EXAMPLE.ORG\r\n"
        "Registrar WHOIS Server: whois.registrar.example\r\n"
        "Registrant Email: Owner@Mail.Example.NET\r\n"
        "Admin Email: <owner@mail.example.net>.\r\n"
        "Tech Email: tech@example.org, noc@example.org\r\n"
        "Tech Email: @example.org a@ x@-bad.org ..@example.org\r\n"
        "Admin Email: x@xn--pypal-4ve.com\r\n"
        /* not the contacts of the domain's holder */
        "Registrar Abuse Contact Email: abuse@registrar.example\r\n"
        "Registrar Email: support@registrar.example\r\n"
        "Tech Email: abuse@example.org\r\n"
        "Registrant Name: name@example.org\r\n"
        "e-mail: generic@example.org\r\n"
        "Contact: other@example.org\r\n"
        "% Registrant Email: comment@example.org\r\n"
        "remarks: Registrant Email: remark@example.org\r\n";
    apr_array_header_t *a;

    ca_whois_emails(&a, answer, sizeof(answer) - 1, pool);
    ck_assert_int_eq(a->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(a, 0, const char *), "Owner@mail.example.net");
    ck_assert_str_eq(APR_ARRAY_IDX(a, 1, const char *), "tech@example.org");
    ck_assert_str_eq(APR_ARRAY_IDX(a, 2, const char *), "noc@example.org");
    ck_assert_str_eq(ca_whois_referral(answer, sizeof(answer) - 1, pool),
                     "whois.registrar.example");
    {
        static const char *const r1 = "refer:        whois.verisign-grs.com\n";
        ck_assert_str_eq(ca_whois_referral(r1, strlen(r1), pool), "whois.verisign-grs.com");
    }
    ck_assert_ptr_null(ca_whois_referral("refer: \n", 8, pool));
    ck_assert_ptr_null(ca_whois_referral("refer: ..\n", 10, pool));
    ca_whois_emails(&a, "", 0, pool);
    ck_assert_int_eq(a->nelts, 0);
    /* a NUL byte does not end the answer early, nor does it join lines */
    ca_whois_emails(&a, "Tech Email: a@b.example\0c@d.example\n", 36, pool);
    ck_assert_int_eq(a->nelts, 2);
    ca_whois_emails(&a, "Tech Email: a@b.example\0abuse c@d.example\n", 42, pool);
    ck_assert_int_eq(a->nelts, 0);
    ca_whois_emails(&a, "Administrative Contact Email: a@b.example\n"
                    "Technical Contact E-Mail: c@d.example\n"
                    "REGISTRANT E-MAIL: e@f.example\n", 111, pool);
    ck_assert_int_eq(a->nelts, 3);
}
END_TEST

START_TEST(public_addresses)
{
    static const char *const private_[] = { "127.0.0.1", "10.0.0.1", "172.16.5.4",
        "192.168.1.1", "169.254.1.1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "192.0.2.7",
        "::1", "::", "fe80::1", "fd00::1", "ff02::1", "::ffff:127.0.0.1", "2001:db8::1",
        "not an address", "192.88.99.1", "240.0.0.1", "255.255.255.255",
        /* IPv4 inside IPv6: NAT64, 6to4 and IPv4-compatible */
        "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::192.168.0.1", "2002:7f00:1::1",
        "2002:a00:1::", "2002:c0a8:101::1", "::127.0.0.1", "::8.8.8.8", "::ffff:10.1.2.3",
        /* outside 2000::/3 and the special ranges inside it */
        "fec0::1", "feff::1", "100::1", "64:ff9b:1::1", "1000::1", "4000::1", "e000::1",
        "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:10::1", "2001:1f::1",
        "2001:20::1", "2001:2::1", "2001:db8:ffff::1", "3fff::1", "3fff:fff::1",
        NULL };
    static const char *const public_[] = { "93.184.216.34", "172.32.0.1", "8.8.8.8",
        "2606:2800:220:1::1", "::ffff:8.8.8.8", "192.88.98.1", "192.88.100.1",
        "64:ff9b::808:808", "64:ff9b::8.8.4.4", "2002:808:808::1", "2001:4860:4860::8888",
        "2001:200::1", "2001:30::1", "2001:3::1", "2a00:1450::1", "3ffe::1", "3fff:1000::1",
        "2001:db9::1", NULL };
    int i;

    for (i = 0; private_[i]; i++) {
        ck_assert_msg(!ca_addr_is_public(private_[i]), "%s", private_[i]);
    }
    for (i = 0; public_[i]; i++) {
        ck_assert_msg(ca_addr_is_public(public_[i]), "%s", public_[i]);
    }
}
END_TEST

Suite *domain_suite(void)
{
    Suite *s = suite_create("domain");
    TCase *tc = tcase_create("domain");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, name_table);
    tcase_add_test(tc, name_limits);
    tcase_add_test(tc, idn_table);
    tcase_add_test(tc, claims);
    tcase_add_test(tc, mailboxes);
    tcase_add_test(tc, rules);
    tcase_add_test(tc, short_of);
    tcase_add_test(tc, whois_parser);
    tcase_add_test(tc, public_addresses);
    suite_add_tcase(s, tc);
    return s;
}
