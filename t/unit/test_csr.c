/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "tests.h"
#include "ca_csr.h"

static apr_pool_t *pool;

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static EVP_PKEY *rsa_key(int bits, unsigned long e)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    EVP_PKEY *k = NULL;
    BIGNUM *be = BN_new();

    BN_set_word(be, e);
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits);
    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, be);
    EVP_PKEY_keygen(ctx, &k);
    EVP_PKEY_CTX_free(ctx);
    BN_free(be);
    return k;
}

/* DER CSR for key k with subject CN cn, in pool; *pder is the DER */
static apr_size_t make_csr(unsigned char **pder, EVP_PKEY *k, const char *cn, int pem)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    unsigned char *buf = NULL;
    int n;

    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_REQ_set_subject_name(req, name);
    X509_REQ_set_pubkey(req, k);
    X509_REQ_sign(req, k, EVP_sha256());
    if (pem) {
        BIO *b = BIO_new(BIO_s_mem());
        char *mem;
        PEM_write_bio_X509_REQ(b, req);
        n = (int)BIO_get_mem_data(b, &mem);
        *pder = apr_pmemdup(pool, mem, (apr_size_t)n);
        BIO_free(b);
    }
    else {
        n = i2d_X509_REQ(req, &buf);
        *pder = apr_pmemdup(pool, buf, (apr_size_t)n);
        OPENSSL_free(buf);
    }
    X509_NAME_free(name);
    X509_REQ_free(req);
    return (apr_size_t)n;
}

START_TEST(good_keys)
{
    EVP_PKEY *rsa = rsa_key(2048, 65537), *ec = EVP_EC_gen("P-256"), *ec384 = EVP_EC_gen("P-384");
    unsigned char *d;
    apr_size_t n;
    ca_csr_t *c;

    n = make_csr(&d, rsa, "www.example.org", 0);
    ck_assert_ptr_null(ca_csr_parse(&c, (const char *)d, n, NULL, pool));
    ck_assert_str_eq(c->key_desc, "RSA 2048");
    ck_assert_uint_eq(strlen(c->spki_sha256), 64);
    ck_assert_uint_eq(c->der_len, n);
    n = make_csr(&d, rsa, "www.example.org", 1);
    ck_assert_ptr_null(ca_csr_parse(&c, (const char *)d, n, NULL, pool));
    n = make_csr(&d, ec, "x", 0);
    ck_assert_ptr_null(ca_csr_parse(&c, (const char *)d, n, NULL, pool));
    ck_assert_str_eq(c->key_desc, "EC P-256");
    n = make_csr(&d, ec384, "x", 1);
    ck_assert_ptr_null(ca_csr_parse(&c, (const char *)d, n, NULL, pool));
    ck_assert_str_eq(c->key_desc, "EC P-384");
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);
}
END_TEST

START_TEST(bad_input)
{
    EVP_PKEY *rsa = rsa_key(2048, 65537);
    unsigned char *d;
    apr_size_t n;
    ca_csr_t *c;
    char big[CA_CSR_MAX + 10];

    ck_assert_str_eq(ca_csr_parse(&c, "", 0, NULL, pool), "csr.empty");
    ck_assert_str_eq(ca_csr_parse(&c, "garbage", 7, NULL, pool), "csr.parse");
    ck_assert_str_eq(ca_csr_parse(&c, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", 76, NULL, pool), "csr.parse");
    memset(big, 'A', sizeof(big));
    ck_assert_str_eq(ca_csr_parse(&c, big, sizeof(big), NULL, pool), "csr.toolarge");
    n = make_csr(&d, rsa, "x", 0);
    ck_assert_str_eq(ca_csr_parse(&c, (const char *)d, n - 10, NULL, pool), "csr.parse");
    {   /* trailing bytes after the DER */
        unsigned char *d2 = apr_palloc(pool, n + 1);
        memcpy(d2, d, n);
        d2[n] = 0;
        ck_assert_str_eq(ca_csr_parse(&c, (const char *)d2, n + 1, NULL, pool), "csr.parse");
    }
    d[n - 5] ^= 0x01;               /* inside the signature */
    ck_assert_str_eq(ca_csr_parse(&c, (const char *)d, n, NULL, pool), "csr.signature");
    n = make_csr(&d, rsa, "bad\x01name", 0);
    ck_assert_str_eq(ca_csr_parse(&c, (const char *)d, n, NULL, pool), "csr.subject");
    EVP_PKEY_free(rsa);
}
END_TEST

START_TEST(weak_keys)
{
    EVP_PKEY *small = rsa_key(1024, 65537), *e3 = rsa_key(2048, 3);
    EVP_PKEY *p521 = EVP_EC_gen("P-521"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *rsa = rsa_key(2048, 65537);
    unsigned char *d;
    apr_size_t n;
    ca_csr_t *c;
    ca_weakkeys_t *w;
    char path[] = "/tmp/ca_weakXXXXXX";
    int fd;
    BIGNUM *mod = NULL;
    char *hex, *text;
    unsigned char md[20];
    FILE *f;
    int i;

    n = make_csr(&d, small, "x", 0);
    ck_assert_str_eq(ca_csr_parse(&c, (const char *)d, n, NULL, pool), "csr.rsa.small");
    n = make_csr(&d, e3, "x", 0);
    ck_assert_str_eq(ca_csr_parse(&c, (const char *)d, n, NULL, pool), "csr.rsa.exponent");
    n = make_csr(&d, p521, "x", 0);
    ck_assert_str_eq(ca_csr_parse(&c, (const char *)d, n, NULL, pool), "csr.ec.curve");
    {   /* Ed25519 CSRs are signed without a digest */
        X509_REQ *req = X509_REQ_new();
        unsigned char *buf = NULL;
        X509_REQ_set_pubkey(req, ed);
        X509_REQ_sign(req, ed, NULL);
        n = (apr_size_t)i2d_X509_REQ(req, &buf);
        ck_assert_str_eq(ca_csr_parse(&c, (const char *)buf, n, NULL, pool), "csr.keytype");
        OPENSSL_free(buf);
        X509_REQ_free(req);
    }
    /* a key on the blacklist, in openssl-blacklist's format */
    EVP_PKEY_get_bn_param(rsa, "n", &mod);
    hex = BN_bn2hex(mod);
    text = apr_pstrcat(pool, "Modulus=", hex, "\n", NULL);
    SHA1((const unsigned char *)text, strlen(text), md);
    fd = mkstemp(path);
    f = fdopen(fd, "w");
    fputs("# comment\n", f);
    for (i = 10; i < 20; i++) {
        fprintf(f, "%02x", md[i]);
    }
    fputs("\n", f);
    fclose(f);
    ck_assert_int_eq(ca_weakkeys_load(&w, path, pool), APR_SUCCESS);
    n = make_csr(&d, rsa, "x", 0);
    ck_assert_str_eq(ca_csr_parse(&c, (const char *)d, n, w, pool), "csr.weak");
    unlink(path);
    OPENSSL_free(hex);
    BN_free(mod);
    EVP_PKEY_free(small);
    EVP_PKEY_free(e3);
    EVP_PKEY_free(p521);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(rsa);
}
END_TEST

Suite *csr_suite(void)
{
    Suite *s = suite_create("csr");
    TCase *tc = tcase_create("csr");

    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, good_keys);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, weak_keys);
    suite_add_tcase(s, tc);
    return s;
}
