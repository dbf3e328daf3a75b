/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the OpenPGP key checks (ca_openpgp): armour, packets,
 * the upload checks, the filter and the user ID rules of Table 4.3.1.
 * The keys in t/unit/data/openpgp/ are public keys made with gpg. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "tests.h"
#include "ca_openpgp.h"

static apr_pool_t *pool;

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static unsigned char *slurp(apr_size_t *plen, const char *name)
{
    char path[1024];
    FILE *f;
    unsigned char *buf = apr_palloc(pool, 65536);

    snprintf(path, sizeof(path), "%s/t/unit/data/openpgp/%s", TEST_SRCDIR, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    *plen = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

static apr_array_header_t *strs(const char *a, const char *b, const char *c)
{
    apr_array_header_t *r = apr_array_make(pool, 3, sizeof(const char *));
    if (a) APR_ARRAY_PUSH(r, const char *) = a;
    if (b) APR_ARRAY_PUSH(r, const char *) = b;
    if (c) APR_ARRAY_PUSH(r, const char *) = c;
    return r;
}

START_TEST(parse_binary_and_armoured)
{
    apr_size_t n, m, fn;
    unsigned char *bin = slurp(&n, "alice.gpg"), *asc = slurp(&m, "alice.asc");
    unsigned char *fpr = slurp(&fn, "alice.fpr");
    ca_pgp_key_t *k1, *k2;

    ck_assert_ptr_null(ca_pgp_parse(&k1, bin, n, pool));
    ck_assert_ptr_null(ca_pgp_parse(&k2, asc, m, pool));
    ck_assert_uint_eq(k1->len, k2->len);
    ck_assert_int_eq(memcmp(k1->bin, k2->bin, k1->len), 0);
    ck_assert_int_eq(memcmp(k1->fpr_hex, fpr, 40), 0);
    ck_assert_str_eq(k1->algo_name, "ed25519");
    ck_assert_int_eq(k1->uids->nelts, 5);
    ck_assert_str_eq(APR_ARRAY_IDX(k1->uids, 0, ca_pgp_uid_t).text,
                     "Alice Example <alice@example.org>");
    ck_assert_int_eq(APR_ARRAY_IDX(k1->uids, 2, ca_pgp_uid_t).self_signed, 1);
    ck_assert_int_eq(k1->subkeys, 1);
    /* armour round trip */
    ck_assert_ptr_null(ca_pgp_parse(&k2, (const unsigned char *)ca_pgp_armor(k1->bin, k1->len,
                                                                             pool),
                                    strlen(ca_pgp_armor(k1->bin, k1->len, pool)), pool));
    ck_assert_int_eq(memcmp(k1->fpr, k2->fpr, 20), 0);
}
END_TEST

START_TEST(parse_algorithms)
{
    apr_size_t n;
    unsigned char *b;
    ca_pgp_key_t *k;

    b = slurp(&n, "bob-rsa2048.gpg");
    ck_assert_ptr_null(ca_pgp_parse(&k, b, n, pool));
    ck_assert_str_eq(k->algo_name, "rsa2048");
    b = slurp(&n, "dora-dsa.gpg");
    ck_assert_ptr_null(ca_pgp_parse(&k, b, n, pool));
    ck_assert_str_eq(k->algo_name, "dsa2048");
    b = slurp(&n, "small-rsa1024.gpg");
    ck_assert_str_eq(ca_pgp_parse(&k, b, n, pool), "pgp.rsa.small");
}
END_TEST

START_TEST(parse_refusals)
{
    apr_size_t n;
    unsigned char *b, *c;
    ca_pgp_key_t *k;
    static const unsigned char secret[] = { 0x94, 0x01, 0x04 };
    static const char *garbage = "hello, this is not a key";
    apr_size_t i;

    b = slurp(&n, "two-keys.asc");
    ck_assert_str_eq(ca_pgp_parse(&k, b, n, pool), "pgp.several");
    b = slurp(&n, "two-blocks.asc");
    ck_assert_str_eq(ca_pgp_parse(&k, b, n, pool), "pgp.several");
    ck_assert_str_eq(ca_pgp_parse(&k, secret, sizeof(secret), pool), "pgp.secret");
    ck_assert_str_eq(ca_pgp_parse(&k, (const unsigned char *)"-----BEGIN PGP PRIVATE KEY "
                                  "BLOCK-----\n\nxx\n", 42, pool), "pgp.secret");
    ck_assert_str_eq(ca_pgp_parse(&k, (const unsigned char *)garbage, strlen(garbage), pool),
                     "pgp.garbage");
    ck_assert_str_eq(ca_pgp_parse(&k, (const unsigned char *)"", 0, pool), "pgp.garbage");
    /* a damaged armour checksum */
    b = slurp(&n, "alice.asc");
    c = apr_pmemdup(pool, b, n);
    for (i = n - 80; i < n; i++) {
        if (c[i] == '\n' && c[i + 1] == '=') {
            c[i + 2] = c[i + 2] == 'A' ? 'B' : 'A';
            break;
        }
    }
    ck_assert_str_eq(ca_pgp_parse(&k, c, n, pool), "pgp.garbage");
    /* a truncated key */
    b = slurp(&n, "alice.gpg");
    ck_assert_str_eq(ca_pgp_parse(&k, b, n - 3, pool), "pgp.garbage");
    /* too large */
    ck_assert_str_eq(ca_pgp_parse(&k, b, 5 * CA_PGP_MAX_KEY, pool), "pgp.toolarge");
}
END_TEST

START_TEST(uid_control_characters)
{
    apr_size_t n, i;
    unsigned char *b = slurp(&n, "bob-rsa2048.gpg"), *c = apr_pmemdup(pool, b, n);
    ca_pgp_key_t *k;
    int done = 0;

    /* put a newline into the user ID packet (tag 13) */
    for (i = 0; i + 5 < n && !done; i++) {
        if (!memcmp(c + i, "Bob B.", 6)) {
            c[i + 3] = '\n';
            done = 1;
        }
    }
    ck_assert(done);
    ck_assert_str_eq(ca_pgp_parse(&k, c, n, pool), "pgp.uid.control");
    ck_assert_str_eq(ca_pgp_uid_verdict("Bob\x1b[31m <bob@example.org>", NULL, NULL, pool),
                     "pgp.uid.control");
    ck_assert_str_eq(ca_pgp_uid_verdict("Bob \xe2\x80\xae <bob@example.org>", NULL, NULL,
                                        pool), "pgp.uid.control");
}
END_TEST

START_TEST(filter_keeps_only_the_chosen)
{
    apr_size_t n, olen;
    unsigned char *b = slurp(&n, "alice.gpg");
    const unsigned char *out;
    ca_pgp_key_t *k, *f;
    int count;

    ck_assert_ptr_null(ca_pgp_parse(&k, b, n, pool));
    ca_pgp_filter(&out, &olen, &count, k, strs("Alice Example <alice@example.org>",
                                                "not on the key", NULL), k->keyid, pool);
    ck_assert_ptr_null(ca_pgp_parse(&f, out, olen, pool));
    ck_assert_int_eq(f->uids->nelts, 1);
    ck_assert_int_eq(f->subkeys, 1);
    ck_assert_int_eq(memcmp(f->fpr, k->fpr, 20), 0);
    ck_assert_int_eq(APR_ARRAY_IDX(f->uids, 0, ca_pgp_uid_t).self_signed, 1);
    /* self-certifications are kept, but are not the CA's certifications */
    ck_assert_int_eq(count, 0);
    ck_assert_int_eq(ca_pgp_count_certs(NULL, f, "Alice Example <alice@example.org>",
                                        k->keyid), 1);
    ck_assert_int_eq(ca_pgp_count_certs(NULL, f, "Alice Example", k->keyid), 0);
}
END_TEST

START_TEST(uid_split)
{
    ca_pgp_uid_parts_t u;

    ck_assert(ca_pgp_uid_split(&u, "Alice Example <alice@example.org>", pool));
    ck_assert_str_eq(u.name, "Alice Example");
    ck_assert_str_eq(u.email, "alice@example.org");
    ck_assert_str_eq(u.comment, "");
    ck_assert(ca_pgp_uid_split(&u, "Alice (work) <a@b.example>", pool));
    ck_assert_str_eq(u.comment, "work");
    ck_assert(ca_pgp_uid_split(&u, "<a@b.example>", pool));
    ck_assert_str_eq(u.name, "");
    ck_assert(ca_pgp_uid_split(&u, "a@b.example", pool));
    ck_assert_str_eq(u.email, "a@b.example");
    ck_assert(ca_pgp_uid_split(&u, "Alice Example", pool));
    ck_assert_str_eq(u.email, "");
    ck_assert(!ca_pgp_uid_split(&u, "Alice<a@b.example>", pool));
    ck_assert(!ca_pgp_uid_split(&u, "Alice <a b@c>", pool));
    ck_assert(!ca_pgp_uid_split(&u, "", pool));
}
END_TEST

START_TEST(name_variants)
{
    apr_array_header_t *v = ca_pgp_name_variants("Anna", "Maria Luise", "Muster", "Jr.", pool);
    const char *want[] = { "Anna Muster", "Anna Muster Jr.", "Anna Maria Luise Muster",
                           "Anna Maria Luise Muster Jr.", "Anna M. L. Muster",
                           "Anna M. L. Muster Jr." };
    int i;

    ck_assert_int_eq(v->nelts, 6);
    for (i = 0; i < 6; i++) {
        ck_assert_str_eq(APR_ARRAY_IDX(v, i, const char *), want[i]);
    }
    v = ca_pgp_name_variants("Jo", "", "Doe", "", pool);
    ck_assert_int_eq(v->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(v, 0, const char *), "Jo Doe");
    v = ca_pgp_name_variants("\xc3\x89mile", "\xc3\x89tienne", "Zola", NULL, pool);
    ck_assert_str_eq(APR_ARRAY_IDX(v, 2, const char *), "\xc3\x89mile \xc3\x89. Zola");
}
END_TEST

START_TEST(table_4_3_1)
{
    apr_array_header_t *names = ca_pgp_name_variants("Alice", "", "Example", "", pool);
    apr_array_header_t *emails = strs("alice@example.org", "a2@example.net", NULL);

    /* verified name + verified email */
    ck_assert_ptr_null(ca_pgp_uid_verdict("Alice Example <alice@example.org>", names, emails,
                                          pool));
    ck_assert_ptr_null(ca_pgp_uid_verdict("Alice Example <ALICE@Example.org>", names, emails,
                                          pool));
    /* empty name + verified email, verified name + empty email */
    ck_assert_ptr_null(ca_pgp_uid_verdict("<a2@example.net>", names, emails, pool));
    ck_assert_ptr_null(ca_pgp_uid_verdict("a2@example.net", names, emails, pool));
    ck_assert_ptr_null(ca_pgp_uid_verdict("Alice Example", names, emails, pool));
    /* everything else */
    ck_assert_str_eq(ca_pgp_uid_verdict("Mallory <alice@example.org>", names, emails, pool),
                     "pgp.uid.name");
    ck_assert_str_eq(ca_pgp_uid_verdict("Alice Example <alice@evil.example>", names, emails,
                                        pool), "pgp.uid.email");
    ck_assert_str_eq(ca_pgp_uid_verdict("Mallory", names, emails, pool), "pgp.uid.name");
    ck_assert_str_eq(ca_pgp_uid_verdict("<x@evil.example>", names, emails, pool),
                     "pgp.uid.email");
    ck_assert_str_eq(ca_pgp_uid_verdict("Alice Example (CEO) <alice@example.org>", names,
                                        emails, pool), "pgp.uid.comment");
    ck_assert_str_eq(ca_pgp_uid_verdict("alice example <alice@example.org>", names, emails,
                                        pool), "pgp.uid.name");
    ck_assert_str_eq(ca_pgp_uid_verdict("Alice  Example <alice@example.org>", names, emails,
                                        pool), "pgp.uid.name");
    ck_assert_str_eq(ca_pgp_uid_verdict("<>", names, emails, pool), "pgp.uid.malformed");
}
END_TEST

START_TEST(sig_parse)
{
    apr_size_t n;
    unsigned char *b = slurp(&n, "bob-rsa2048.gpg");
    ca_pgp_key_t *k;
    int i, sigs = 0;

    ck_assert_ptr_null(ca_pgp_parse(&k, b, n, pool));
    for (i = 0; i < k->packets->nelts; i++) {
        ca_pgp_packet_t *pk = &APR_ARRAY_IDX(k->packets, i, ca_pgp_packet_t);
        ca_pgp_sig_t s;
        if (pk->tag != CA_PGP_TAG_SIG) {
            continue;
        }
        ck_assert(ca_pgp_sig_parse(&s, pk->body, pk->len));
        ck_assert_int_eq(s.version, 4);
        ck_assert(s.has_issuer);
        ck_assert_int_eq(memcmp(s.issuer, k->keyid, 8), 0);
        ck_assert(s.created > 0);
        sigs++;
        /* every truncation is refused, never read past */
        {
            apr_size_t cut;
            for (cut = 0; cut < pk->len; cut++) {
                unsigned char *t = apr_pmemdup(pool, pk->body, cut);
                ca_pgp_sig_t s2;
                (void)ca_pgp_sig_parse(&s2, t, cut);
            }
        }
    }
    ck_assert_int_eq(sigs, 1);
}
END_TEST

Suite *openpgp_suite(void)
{
    Suite *s = suite_create("openpgp");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parse_binary_and_armoured);
    tcase_add_test(tc, parse_algorithms);
    tcase_add_test(tc, parse_refusals);
    tcase_add_test(tc, uid_control_characters);
    tcase_add_test(tc, filter_keeps_only_the_chosen);
    tcase_add_test(tc, uid_split);
    tcase_add_test(tc, name_variants);
    tcase_add_test(tc, table_4_3_1);
    tcase_add_test(tc, sig_parse);
    suite_add_tcase(s, tc);
    return s;
}
