/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The OCSP responder core (ca_ocsp): requests made and responses checked
 * with OpenSSL's own OCSP client API. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tests.h"
#include "ca_issue.h"
#include "ca_log.h"
#include "ca_ocsp.h"

/* also in tests.h once the suite is registered there */
Suite *ocsp_suite(void);

#define NOW ((time_t)1700000000)        /* 2023-11-14 */

static apr_pool_t *pool;

/* made once, before the tests fork */
static EVP_PKEY *ca_key, *ec_resp_key, *rsa_resp_key, *other_key;
static X509 *ca_cert, *ec_resp, *rsa_resp, *noeku_resp, *other_ca, *leaf, *leaf_hi;
static char dir[64];
static char f_ca[128], f_ec[128], f_eckey[128], f_rsa[128], f_rsakey[128], f_noeku[128],
    f_other[128], f_otherkey[128], f_enckey[128], f_both[128];

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
                       const unsigned char *serial, int serial_len, const char *eku,
                       int is_ca)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    BIGNUM *bn = BN_bin2bn(serial, serial_len, NULL);

    X509_set_version(x, X509_VERSION_3);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"CAcert Test",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_NAME_free(n);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                              is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (issuer) {
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (eku) {
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, eku);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_id_pkix_OCSP_noCheck, "ignored");
        if (ext) {
            X509_add_ext(x, ext, -1);
            X509_EXTENSION_free(ext);
        }
    }
    X509_sign(x, ikey ? ikey : key, EVP_sha256());
    return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *k, int encrypt)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    if (x) {
        PEM_write_X509(f, x);
    }
    if (k) {
        if (encrypt) {
            PEM_write_PKCS8PrivateKey(f, k, EVP_aes_128_cbc(), "secret", 6, NULL, NULL);
        }
        else {
            PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
        }
    }
    fclose(f);
}

static void make_all(void)
{
    static const unsigned char s1[] = { 0x10 }, s2[] = { 0x11 }, s3[] = { 0x12 },
        s4[] = { 0x4a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 },
        s5[] = { 0x80, 0x01 }, s6[] = { 0x13 };
    EVP_PKEY *leaf_key;

    ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ec_resp_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    rsa_resp_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ca_cert = make_cert(ca_key, "Test Root", NULL, NULL, s1, 1, NULL, 1);
    ec_resp = make_cert(ec_resp_key, "OCSP EC", ca_cert, ca_key, s2, 1, "OCSPSigning", 0);
    rsa_resp = make_cert(rsa_resp_key, "OCSP RSA", ca_cert, ca_key, s3, 1, "OCSPSigning", 0);
    noeku_resp = make_cert(ec_resp_key, "OCSP no EKU", ca_cert, ca_key, s6, 1,
                           "serverAuth", 0);
    other_ca = make_cert(other_key, "Other Root", NULL, NULL, s1, 1, NULL, 1);
    leaf = make_cert(leaf_key, "leaf", ca_cert, ca_key, s4, (int)sizeof(s4), NULL, 0);
    leaf_hi = make_cert(leaf_key, "leaf hi", ca_cert, ca_key, s5, (int)sizeof(s5), NULL, 0);
    EVP_PKEY_free(leaf_key);

    strcpy(dir, "/tmp/ca_ocsp_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
#define F(v, n) snprintf(v, sizeof(v), "%s/%s", dir, n)
    F(f_ca, "ca.pem");
    F(f_ec, "ec.pem");
    F(f_eckey, "ec.key");
    F(f_rsa, "rsa.pem");
    F(f_rsakey, "rsa.key");
    F(f_noeku, "noeku.pem");
    F(f_other, "other.pem");
    F(f_otherkey, "other.key");
    F(f_enckey, "enc.key");
    F(f_both, "both.pem");
#undef F
    write_pem(f_ca, ca_cert, NULL, 0);
    write_pem(f_ec, ec_resp, NULL, 0);
    write_pem(f_eckey, NULL, ec_resp_key, 0);
    write_pem(f_rsa, rsa_resp, NULL, 0);
    write_pem(f_rsakey, NULL, rsa_resp_key, 0);
    write_pem(f_noeku, noeku_resp, NULL, 0);
    write_pem(f_other, other_ca, NULL, 0);
    write_pem(f_otherkey, NULL, other_key, 0);
    write_pem(f_enckey, NULL, ec_resp_key, 1);
    write_pem(f_both, rsa_resp, rsa_resp_key, 0);
}

static void free_all(void)
{
    const char *files[] = { f_ca, f_ec, f_eckey, f_rsa, f_rsakey, f_noeku, f_other,
                            f_otherkey, f_enckey, f_both };
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        unlink(files[i]);
    }
    rmdir(dir);
    X509_free(ca_cert);
    X509_free(ec_resp);
    X509_free(rsa_resp);
    X509_free(noeku_resp);
    X509_free(other_ca);
    X509_free(leaf);
    X509_free(leaf_hi);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(ec_resp_key);
    EVP_PKEY_free(rsa_resp_key);
    EVP_PKEY_free(other_key);
}

static void quiet(void *baton, ca_log_level_t level, const char *tag, apr_status_t rv,
                  const char *msg)
{
    (void)baton, (void)level, (void)tag, (void)rv, (void)msg;
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    ca_log_set_sink(quiet, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    ca_log_set_sink(NULL, NULL);
}

static ca_ocsp_responder_t *load(int rsa)
{
    ca_ocsp_responder_t *r = NULL;

    ck_assert_int_eq(ca_ocsp_responder_load(&r, rsa ? "rsa" : "ec", f_ca,
                                            rsa ? f_rsa : f_ec, rsa ? f_rsakey : f_eckey,
                                            pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* DER of an OCSP request: ids for the given certs (issued by issuer) with
 * md, optionally a nonce, optionally signed */
static const unsigned char *mkreq(apr_size_t *plen, X509 *const *certs, int n,
                                  X509 *issuer, const EVP_MD *md, int nonce, int sign)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    unsigned char *der = NULL;
    const unsigned char *res;
    int i, len;

    for (i = 0; i < n; i++) {
        OCSP_CERTID *id = OCSP_cert_id_new(md, X509_get_subject_name(issuer),
                                           X509_get0_pubkey_bitstr(issuer),
                                           X509_get0_serialNumber(certs[i]));
        ck_assert_ptr_nonnull(OCSP_request_add0_id(req, id));
    }
    if (nonce) {
        ck_assert_int_eq(OCSP_request_add1_nonce(req, NULL, 16), 1);
    }
    if (sign) {
        ck_assert_int_eq(OCSP_request_sign(req, ec_resp, ec_resp_key, EVP_sha256(), NULL,
                                           0), 1);
    }
    len = i2d_OCSP_REQUEST(req, &der);
    ck_assert_int_gt(len, 0);
    res = apr_pmemdup(pool, der, (apr_size_t)len);
    *plen = (apr_size_t)len;
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);
    return res;
}

static const char *serial_hex(X509 *x)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    const unsigned char *d = ASN1_STRING_get0_data(sn);
    int i, n = ASN1_STRING_length(sn);
    char *s = apr_palloc(pool, 2 * (apr_size_t)n + 1);

    for (i = 0; i < n; i++) {
        sprintf(s + 2 * i, "%02x", d[i]);
    }
    s[2 * n] = '\0';
    return s;
}

static apr_array_header_t *responders(int with_other)
{
    apr_array_header_t *a = apr_array_make(pool, 2, sizeof(ca_ocsp_responder_t *));

    if (with_other) {
        ca_ocsp_responder_t *o = NULL;

        ck_assert_int_eq(ca_ocsp_responder_load(&o, "other", f_other, f_other, f_otherkey,
                                                pool), APR_SUCCESS);
        APR_ARRAY_PUSH(a, ca_ocsp_responder_t *) = o;
    }
    APR_ARRAY_PUSH(a, ca_ocsp_responder_t *) = load(0);
    return a;
}

/* ------------------------------------------------------------------------ */

START_TEST(load_ok)
{
    ca_ocsp_responder_t *r = load(0), *r2 = NULL, *self = NULL;
    unsigned char md[32];
    unsigned int n;

    ck_assert_str_eq(r->name, "ec");
    X509_NAME_digest(X509_get_subject_name(ca_cert), EVP_sha256(), md, &n);
    ck_assert_mem_eq(r->sha256_name, md, 32);
    ck_assert(r->not_after > NOW);
    load(1);
    /* cert and key in one file */
    ck_assert_int_eq(ca_ocsp_responder_load(&r2, "both", f_ca, f_both, f_both, pool),
                     APR_SUCCESS);
    /* the CA answering itself */
    ck_assert_int_eq(ca_ocsp_responder_load(&self, "self", f_other, f_other, f_otherkey,
                                            pool), APR_SUCCESS);
}
END_TEST

START_TEST(load_refusals)
{
    ca_ocsp_responder_t *r = NULL;

    /* no OCSPSigning EKU */
    ck_assert_int_eq(ca_ocsp_responder_load(&r, "x", f_ca, f_noeku, f_eckey, pool),
                     APR_EINVAL);
    ck_assert_ptr_null(r);
    /* key does not match */
    ck_assert_int_eq(ca_ocsp_responder_load(&r, "x", f_ca, f_ec, f_rsakey, pool),
                     APR_EINVAL);
    /* not issued by that issuer */
    ck_assert_int_eq(ca_ocsp_responder_load(&r, "x", f_other, f_ec, f_eckey, pool),
                     APR_EINVAL);
    /* issuer not a CA */
    ck_assert_int_eq(ca_ocsp_responder_load(&r, "x", f_ec, f_ec, f_eckey, pool),
                     APR_EINVAL);
    /* encrypted key, key file without a key, cert file without a cert */
    ck_assert_int_eq(ca_ocsp_responder_load(&r, "x", f_ca, f_ec, f_enckey, pool),
                     APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_responder_load(&r, "x", f_ca, f_ec, f_ec, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_responder_load(&r, "x", f_ca, f_eckey, f_eckey, pool),
                     APR_EINVAL);
    /* missing file */
    ck_assert_int_ne(ca_ocsp_responder_load(&r, "x", "/nonexistent/ca.pem", f_ec, f_eckey,
                                            pool), APR_SUCCESS);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(parse_sha1_one)
{
    X509 *certs[] = { leaf };
    apr_size_t len;
    const unsigned char *der = mkreq(&len, certs, 1, ca_cert, EVP_sha1(), 0, 0);
    ca_ocsp_request_t *req;
    ca_ocsp_certid_t *id;
    ca_ocsp_responder_t *r = load(0);

    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    ck_assert_int_eq(req->ids->nelts, 1);
    ck_assert_ptr_null(req->nonce);
    ck_assert_int_eq(req->is_signed, 0);
    id = &APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t);
    ck_assert_int_eq(id->alg, CA_OCSP_HASH_SHA1);
    ck_assert_uint_eq(id->name_hash_len, 20);
    ck_assert_uint_eq(id->key_hash_len, 20);
    ck_assert_mem_eq(id->name_hash, r->sha1_name, 20);
    ck_assert_mem_eq(id->key_hash, r->sha1_key, 20);
    ck_assert_str_eq(id->serial, "4a0102030405060708");
    ck_assert_str_eq(id->serial, serial_hex(leaf));
    ck_assert_ptr_nonnull(id->der);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 1, pool), APR_SUCCESS);
}
END_TEST

/* serial with the high bit set: DER 02 03 00 80 01; the stored form (as
 * ca_issue.c writes it) has no 00 */
START_TEST(parse_serial_forms)
{
    X509 *certs[] = { leaf_hi };
    apr_size_t len;
    const unsigned char *der = mkreq(&len, certs, 1, ca_cert, EVP_sha256(), 0, 0);
    ca_ocsp_request_t *req;

    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    ck_assert_str_eq(APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t).serial, "8001");
    ck_assert_str_eq(APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t).serial,
                     serial_hex(leaf_hi));
}
END_TEST

START_TEST(parse_sha256_many_nonce)
{
    X509 *certs[] = { leaf, leaf_hi, ca_cert, leaf };
    apr_size_t len;
    const unsigned char *der = mkreq(&len, certs, 4, ca_cert, EVP_sha256(), 1, 0);
    ca_ocsp_request_t *req;
    ca_ocsp_responder_t *r = load(0);
    int i;

    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 4, pool), APR_SUCCESS);
    ck_assert_int_eq(req->ids->nelts, 4);
    for (i = 0; i < 4; i++) {
        ca_ocsp_certid_t *id = &APR_ARRAY_IDX(req->ids, i, ca_ocsp_certid_t);

        ck_assert_int_eq(id->alg, CA_OCSP_HASH_SHA256);
        ck_assert_mem_eq(id->name_hash, r->sha256_name, 32);
        ck_assert_mem_eq(id->key_hash, r->sha256_key, 32);
        ck_assert_str_eq(id->serial, serial_hex(certs[i]));
    }
    /* OpenSSL wraps the 16 random bytes in an OCTET STRING */
    ck_assert_ptr_nonnull(req->nonce);
    ck_assert_uint_eq(req->nonce_len, 18);
    ck_assert_int_eq(req->nonce[0], 0x04);
    ck_assert_int_eq(req->nonce[1], 16);
    /* one more than allowed */
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 3, pool), APR_EINVAL);
    ck_assert_ptr_null(req);
}
END_TEST

START_TEST(parse_signed)
{
    X509 *certs[] = { leaf };
    apr_size_t len;
    const unsigned char *der = mkreq(&len, certs, 1, ca_cert, EVP_sha1(), 1, 1);
    ca_ocsp_request_t *req;

    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    ck_assert_int_eq(req->is_signed, 1);
    ck_assert_ptr_nonnull(req->nonce);
    ck_assert_int_eq(req->ids->nelts, 1);
}
END_TEST

/* a negative serial never looks like a stored one; two nonces are refused */
START_TEST(parse_oddities)
{
    OCSP_REQUEST *oreq = OCSP_REQUEST_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    unsigned char *der = NULL;
    int len;
    ca_ocsp_request_t *req;

    ASN1_INTEGER_set(sn, -5);
    OCSP_request_add0_id(oreq, OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca_cert),
                                                X509_get0_pubkey_bitstr(ca_cert), sn));
    len = i2d_OCSP_REQUEST(oreq, &der);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, (apr_size_t)len, 1, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t).serial, "-05");
    ck_assert_ptr_nonnull(ca_ocsp_find(responders(0),
                                       &APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t)));
    OPENSSL_free(der);
    der = NULL;
    OCSP_request_add1_nonce(oreq, NULL, 16);
    len = i2d_OCSP_REQUEST(oreq, &der);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, (apr_size_t)len, 1, pool),
                     APR_SUCCESS);
    OPENSSL_free(der);
    der = NULL;
    /* the same extension once more */
    OCSP_REQUEST_add_ext(oreq, OCSP_REQUEST_get_ext(oreq, 0), -1);
    len = i2d_OCSP_REQUEST(oreq, &der);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, (apr_size_t)len, 1, pool),
                     APR_EINVAL);
    OPENSSL_free(der);
    ASN1_INTEGER_free(sn);
    OCSP_REQUEST_free(oreq);
}
END_TEST

START_TEST(find_responder)
{
    X509 *certs[] = { leaf };
    apr_size_t len;
    const unsigned char *d1 = mkreq(&len, certs, 1, ca_cert, EVP_sha1(), 0, 0), *d2, *d3,
        *d4;
    apr_size_t l2, l3, l4;
    ca_ocsp_request_t *req;
    apr_array_header_t *rs = responders(1);
    ca_ocsp_responder_t *r;
    ca_ocsp_certid_t id;

    d2 = mkreq(&l2, certs, 1, ca_cert, EVP_sha256(), 0, 0);
    d3 = mkreq(&l3, certs, 1, other_ca, EVP_sha1(), 0, 0);
    d4 = mkreq(&l4, certs, 1, ca_cert, EVP_sha384(), 0, 0);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, d1, len, 1, pool), APR_SUCCESS);
    r = ca_ocsp_find(rs, &APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t));
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->name, "ec");
    ck_assert_int_eq(ca_ocsp_parse_request(&req, d2, l2, 1, pool), APR_SUCCESS);
    ck_assert_ptr_eq(ca_ocsp_find(rs, &APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t)), r);
    /* the other CA's responder */
    ck_assert_int_eq(ca_ocsp_parse_request(&req, d3, l3, 1, pool), APR_SUCCESS);
    r = ca_ocsp_find(rs, &APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t));
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->name, "other");
    ck_assert_ptr_null(ca_ocsp_find(responders(0),
                                    &APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t)));
    /* SHA-384: parsed, but no responder */
    ck_assert_int_eq(ca_ocsp_parse_request(&req, d4, l4, 1, pool), APR_SUCCESS);
    ck_assert_int_eq(APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t).alg, CA_OCSP_HASH_OTHER);
    ck_assert_ptr_null(ca_ocsp_find(rs, &APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t)));
    /* right name hash, wrong key hash; wrong lengths */
    ck_assert_int_eq(ca_ocsp_parse_request(&req, d1, len, 1, pool), APR_SUCCESS);
    id = APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t);
    id.key_hash = (const unsigned char *)"01234567890123456789";
    ck_assert_ptr_null(ca_ocsp_find(rs, &id));
    id = APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t);
    id.name_hash_len = 19;
    ck_assert_ptr_null(ca_ocsp_find(rs, &id));
    id.alg = CA_OCSP_HASH_SHA256;
    id.name_hash_len = 20;
    ck_assert_ptr_null(ca_ocsp_find(rs, &id));
    ck_assert_ptr_null(ca_ocsp_find(NULL, &id));
    ck_assert_ptr_null(ca_ocsp_find(apr_array_make(pool, 1, sizeof(void *)), &id));
}
END_TEST

/* parse a request, answer it with statuses good/revoked/unknown in turn,
 * verify the answer as a client would */
static void answer_and_verify(int rsa, const EVP_MD *md, int nonce)
{
    X509 *certs[] = { leaf, leaf_hi, ca_cert };
    apr_size_t len, rlen;
    const unsigned char *der = mkreq(&len, certs, 3, ca_cert, md, nonce, 0), *rder, *q;
    ca_ocsp_request_t *req;
    ca_ocsp_responder_t *r = load(rsa);
    ca_ocsp_single_t items[3];
    OCSP_REQUEST *oreq;
    OCSP_RESPONSE *resp;
    OCSP_BASICRESP *bs;
    X509_STORE *store;
    const ASN1_OCTET_STRING *kid = NULL;
    const X509_NAME *byname = NULL;
    const STACK_OF(X509) *bcerts;
    time_t now = time(NULL);
    int i;

    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    memset(items, 0, sizeof(items));
    for (i = 0; i < 3; i++) {
        items[i].id = APR_ARRAY_IDX(req->ids, i, ca_ocsp_certid_t);
        items[i].this_update = now - 3600;
        items[i].next_update = i == 2 ? 0 : now + 3600;
    }
    items[0].status = CA_OCSP_GOOD;
    items[1].status = CA_OCSP_REVOKED;
    items[1].revoked_at = now - 7200;
    items[1].reason = 1;    /* keyCompromise */
    items[2].status = CA_OCSP_UNKNOWN;
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, items, 3, req->nonce,
                                           req->nonce_len, now, pool), APR_SUCCESS);
    q = rder;
    resp = d2i_OCSP_RESPONSE(NULL, &q, (long)rlen);
    ck_assert_ptr_nonnull(resp);
    ck_assert_ptr_eq(q, rder + rlen);
    ck_assert_int_eq(OCSP_response_status(resp), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    bs = OCSP_response_get1_basic(resp);
    ck_assert_ptr_nonnull(bs);

    /* signed by the responder, chaining to the CA */
    store = X509_STORE_new();
    X509_STORE_add_cert(store, ca_cert);
    ck_assert_int_eq(OCSP_basic_verify(bs, NULL, store, 0), 1);
    X509_STORE_free(store);
    bcerts = OCSP_resp_get0_certs(bs);
    ck_assert_int_eq(sk_X509_num(bcerts), 1);
    ck_assert_int_eq(X509_cmp(sk_X509_value(bcerts, 0), rsa ? rsa_resp : ec_resp), 0);
    ck_assert_int_eq(OCSP_resp_get0_id(bs, &kid, &byname), 1);
    ck_assert_ptr_null(byname);
    ck_assert_int_eq(ASN1_STRING_length(kid), 20);
    ck_assert_mem_eq(ASN1_STRING_get0_data(kid), r->key_id, 20);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(OCSP_resp_get0_produced_at(bs), now), 0);
    ck_assert_int_eq(OBJ_obj2nid(OCSP_resp_get0_tbs_sigalg(bs)->algorithm),
                     rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256);

    /* the nonce, and the ids: found by the client's own CertIDs */
    q = der;
    oreq = d2i_OCSP_REQUEST(NULL, &q, (long)len);
    ck_assert_int_eq(OCSP_check_nonce(oreq, bs), nonce ? 1 : 2);
    ck_assert_int_eq(OCSP_resp_count(bs), 3);
    for (i = 0; i < 3; i++) {
        OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(oreq, i));
        OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
        const OCSP_CERTID *rcid = OCSP_SINGLERESP_get0_id(sr);
        unsigned char *a = NULL, *b = NULL;
        int la, lb, status, reason = -5;
        ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;

        la = i2d_OCSP_CERTID(cid, &a);
        lb = i2d_OCSP_CERTID((OCSP_CERTID *)rcid, &b);
        ck_assert_int_eq(la, lb);
        ck_assert_mem_eq(a, b, (size_t)la);
        OPENSSL_free(a);
        OPENSSL_free(b);
        ck_assert_int_eq(OCSP_resp_find_status(bs, cid, &status, &reason, &rev, &tu, &nu),
                         1);
        ck_assert_int_eq(ASN1_TIME_cmp_time_t(tu, now - 3600), 0);
        if (i == 2) {
            ck_assert_ptr_null(nu);
        }
        else {
            ck_assert_int_eq(ASN1_TIME_cmp_time_t(nu, now + 3600), 0);
        }
        ck_assert_int_eq(OCSP_check_validity(tu, nu, 300, -1), 1);
        switch (i) {
        case 0:
            ck_assert_int_eq(status, V_OCSP_CERTSTATUS_GOOD);
            break;
        case 1:
            ck_assert_int_eq(status, V_OCSP_CERTSTATUS_REVOKED);
            ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
            ck_assert_int_eq(ASN1_TIME_cmp_time_t(rev, now - 7200), 0);
            break;
        default:
            ck_assert_int_eq(status, V_OCSP_CERTSTATUS_UNKNOWN);
            break;
        }
    }
    OCSP_REQUEST_free(oreq);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
}

START_TEST(sign_ec_sha1_nonce) { answer_and_verify(0, EVP_sha1(), 1); }
END_TEST
START_TEST(sign_ec_sha256) { answer_and_verify(0, EVP_sha256(), 0); }
END_TEST
START_TEST(sign_rsa_sha1) { answer_and_verify(1, EVP_sha1(), 0); }
END_TEST
START_TEST(sign_rsa_sha256_nonce) { answer_and_verify(1, EVP_sha256(), 1); }
END_TEST

/* revoked without reason; a CertID built from the fields (no DER) equals
 * the echoed one; a raw (unwrapped) nonce is echoed byte for byte */
START_TEST(sign_variants)
{
    X509 *certs[] = { leaf_hi };
    apr_size_t len, rlen, rlen2;
    const unsigned char *der = mkreq(&len, certs, 1, ca_cert, EVP_sha256(), 0, 0), *rder,
        *rder2, *q;
    ca_ocsp_request_t *req;
    ca_ocsp_responder_t *r = load(0);
    ca_ocsp_single_t it;
    OCSP_RESPONSE *resp;
    OCSP_BASICRESP *bs;
    OCSP_SINGLERESP *sr;
    X509_EXTENSION *ext;
    int status, reason = 99, idx;
    ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;
    unsigned char *a = NULL;
    const unsigned char raw[] = "raw-nonce-bytes";

    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    memset(&it, 0, sizeof(it));
    it.id = APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t);
    it.status = CA_OCSP_REVOKED;
    it.revoked_at = NOW - 10;
    it.this_update = NOW;
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, &it, 1, raw, sizeof(raw) - 1,
                                           NOW, pool), APR_SUCCESS);
    q = rder;
    resp = d2i_OCSP_RESPONSE(NULL, &q, (long)rlen);
    bs = OCSP_response_get1_basic(resp);
    sr = OCSP_resp_get0(bs, 0);
    status = OCSP_single_get0_status(sr, &reason, &rev, &tu, &nu);
    ck_assert_int_eq(status, V_OCSP_CERTSTATUS_REVOKED);
    ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_NOSTATUS);
    idx = OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce, -1);
    ck_assert_int_ge(idx, 0);
    ext = OCSP_BASICRESP_get_ext(bs, idx);
    ck_assert_int_eq(ASN1_STRING_length(X509_EXTENSION_get_data(ext)), sizeof(raw) - 1);
    ck_assert_mem_eq(ASN1_STRING_get0_data(X509_EXTENSION_get_data(ext)), raw,
                     sizeof(raw) - 1);
    ck_assert_int_eq(i2d_OCSP_CERTID((OCSP_CERTID *)OCSP_SINGLERESP_get0_id(sr), &a),
                     (int)it.id.der_len);
    ck_assert_mem_eq(a, it.id.der, it.id.der_len);
    OPENSSL_free(a);
    a = NULL;
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);

    /* from the fields */
    it.id.der = NULL;
    it.id.der_len = 0;
    it.status = CA_OCSP_GOOD;
    ck_assert_int_eq(ca_ocsp_sign_response(&rder2, &rlen2, r, &it, 1, NULL, 0, NOW, pool),
                     APR_SUCCESS);
    q = rder2;
    resp = d2i_OCSP_RESPONSE(NULL, &q, (long)rlen2);
    bs = OCSP_response_get1_basic(resp);
    ck_assert_int_lt(OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce, -1), 0);
    sr = OCSP_resp_get0(bs, 0);
    i2d_OCSP_CERTID((OCSP_CERTID *)OCSP_SINGLERESP_get0_id(sr), &a);
    it.id = APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t);
    ck_assert_mem_eq(a, it.id.der, it.id.der_len);
    OPENSSL_free(a);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
}
END_TEST

START_TEST(sign_refusals)
{
    X509 *certs[] = { leaf };
    apr_size_t len, rlen;
    const unsigned char *der = mkreq(&len, certs, 1, ca_cert, EVP_sha1(), 0, 0), *rder;
    ca_ocsp_request_t *req;
    ca_ocsp_responder_t *r = load(0);
    ca_ocsp_single_t it;

    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    memset(&it, 0, sizeof(it));
    it.id = APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t);
    it.this_update = NOW;
    it.status = CA_OCSP_REVOKED;
    it.reason = 7;
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, &it, 1, NULL, 0, NOW, pool),
                     APR_EINVAL);
    ck_assert_ptr_null(rder);
    it.reason = 11;
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, &it, 1, NULL, 0, NOW, pool),
                     APR_EINVAL);
    it.reason = 0;
    it.status = (ca_ocsp_cert_status_t)7;
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, &it, 1, NULL, 0, NOW, pool),
                     APR_EINVAL);
    it.status = CA_OCSP_GOOD;
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, &it, 0, NULL, 0, NOW, pool),
                     APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, NULL, &it, 1, NULL, 0, NOW, pool),
                     APR_EINVAL);
    it.id.der_len--;        /* damaged DER */
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, &it, 1, NULL, 0, NOW, pool),
                     APR_EINVAL);
    it.id.der = NULL;       /* fields, unsupported hash */
    it.id.alg = CA_OCSP_HASH_OTHER;
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, &it, 1, NULL, 0, NOW, pool),
                     APR_EINVAL);
    it.id.alg = CA_OCSP_HASH_SHA1;
    it.id.serial = "xyz";
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, &it, 1, NULL, 0, NOW, pool),
                     APR_EINVAL);
    it.id.serial = "0a";
    ck_assert_int_eq(ca_ocsp_sign_response(&rder, &rlen, r, &it, 1, NULL, 0, NOW, pool),
                     APR_SUCCESS);
}
END_TEST

START_TEST(error_responses)
{
    static const int ok[] = { 1, 2, 3, 5, 6 };
    const unsigned char *der, *q;
    apr_size_t len;
    OCSP_RESPONSE *resp;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_int_eq(ca_ocsp_error_response(&der, &len, ok[i], pool), APR_SUCCESS);
        q = der;
        resp = d2i_OCSP_RESPONSE(NULL, &q, (long)len);
        ck_assert_ptr_nonnull(resp);
        ck_assert_ptr_eq(q, der + len);
        ck_assert_int_eq(OCSP_response_status(resp), ok[i]);
        ck_assert_ptr_null(OCSP_response_get1_basic(resp));
        OCSP_RESPONSE_free(resp);
    }
    ck_assert_int_eq(ca_ocsp_error_response(&der, &len, 0, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_error_response(&der, &len, 4, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_error_response(&der, &len, 7, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_error_response(&der, &len, -1, pool), APR_EINVAL);
    ck_assert_ptr_null(der);
}
END_TEST

START_TEST(hostile_requests)
{
    X509 *certs[] = { leaf, leaf_hi };
    apr_size_t len, i;
    const unsigned char *der = mkreq(&len, certs, 2, ca_cert, EVP_sha1(), 1, 0);
    unsigned char *buf = apr_palloc(pool, len + 16);
    ca_ocsp_request_t *req;
    OCSP_REQUEST *empty = OCSP_REQUEST_new();
    unsigned char *e = NULL;
    int elen;
    unsigned int seed = 42;

    ck_assert_int_eq(ca_ocsp_parse_request(&req, NULL, 0, 10, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, 0, 10, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, (const unsigned char *)"garbage!", 8, 10,
                                           pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 0, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, -1, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 1, pool), APR_EINVAL);
    /* every truncation */
    for (i = 0; i < len; i++) {
        ck_assert_int_eq(ca_ocsp_parse_request(&req, der, i, 10, pool), APR_EINVAL);
        ck_assert_ptr_null(req);
    }
    /* trailing bytes */
    memcpy(buf, der, len);
    buf[len] = 0;
    ck_assert_int_eq(ca_ocsp_parse_request(&req, buf, len + 1, 10, pool), APR_EINVAL);
    buf[len] = 0x30;
    buf[len + 1] = 0x00;
    ck_assert_int_eq(ca_ocsp_parse_request(&req, buf, len + 2, 10, pool), APR_EINVAL);
    /* no ids */
    elen = i2d_OCSP_REQUEST(empty, &e);
    ck_assert_int_gt(elen, 0);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, e, (apr_size_t)elen, 10, pool),
                     APR_EINVAL);
    OPENSSL_free(e);
    OCSP_REQUEST_free(empty);
    /* found by fuzz_ocsp: an EOC as hash parameters, which OpenSSL reads but
     * re-encodes unparseably, so it could not be echoed */
    {
        static const unsigned char eoc[] = {
            0x30, 0x42, 0x30, 0x40, 0x30, 0x3e, 0x30, 0x3c, 0x30, 0x3a, 0x30, 0x09, 0x06,
            0x05, 0x2b, 0x0e, 0x03, 0x55, 0x1d, 0x20, 0x00, 0x04, 0x14, 0xf5, 0x13, 0x74,
            0x2d, 0xd9, 0x1f, 0x3c, 0xde, 0xac, 0x56, 0x4d, 0xd2, 0x79, 0x37, 0x6a, 0xe1,
            0x73, 0x5b, 0xab, 0x85, 0x04, 0x14, 0x6d, 0x0e, 0x52, 0xe8, 0x35, 0xeb, 0x7c,
            0xca, 0x4a, 0x8c, 0x87, 0x6e, 0x8a, 0x56, 0xc9, 0xc2, 0x1b, 0x7c, 0x11, 0x77,
            0x02, 0x01, 0x00
        };

        ck_assert_int_eq(ca_ocsp_parse_request(&req, eoc, sizeof(eoc), 10, pool),
                         APR_EINVAL);
        /* the same with 0x05 0x00 (NULL) as parameters is fine */
        memcpy(buf, eoc, sizeof(eoc));
        buf[19] = 0x05;
        ck_assert_int_eq(ca_ocsp_parse_request(&req, buf, sizeof(eoc), 10, pool),
                         APR_SUCCESS);
        ck_assert_str_eq(APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t).serial, "00");
    }
    /* random damage: never crashes, and whatever parses has sane ids */
    for (i = 0; i < 3000; i++) {
        int k, flips = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;

        memcpy(buf, der, len);
        for (k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 8) % len] ^= (unsigned char)(1u << ((seed >> 4) % 8));
        }
        if (ca_ocsp_parse_request(&req, buf, len, 10, pool) == APR_SUCCESS) {
            ck_assert_int_ge(req->ids->nelts, 1);
            ck_assert_int_le(req->ids->nelts, 10);
        }
        else {
            ck_assert_ptr_null(req);
        }
    }
}
END_TEST

START_TEST(huge_id_count)
{
    X509 **certs = apr_palloc(pool, 2000 * sizeof(X509 *));
    apr_size_t len;
    const unsigned char *der;
    ca_ocsp_request_t *req;
    int i;

    for (i = 0; i < 2000; i++) {
        certs[i] = leaf;
    }
    der = mkreq(&len, certs, 2000, ca_cert, EVP_sha1(), 0, 0);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 100, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 1999, pool), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 2000, pool), APR_SUCCESS);
    ck_assert_int_eq(req->ids->nelts, 2000);
}
END_TEST

static const char *b64(const unsigned char *d, apr_size_t n)
{
    char *s = apr_palloc(pool, 4 * ((n + 2) / 3) + 1);

    EVP_EncodeBlock((unsigned char *)s, d, (int)n);
    return s;
}

/* replace every c in s by rep */
static const char *subst(const char *s, char c, const char *rep)
{
    char *out = apr_palloc(pool, strlen(s) * (strlen(rep) + 1) + 1), *o = out;

    for (; *s; s++) {
        if (*s == c) {
            strcpy(o, rep);
            o += strlen(rep);
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

START_TEST(get_decode)
{
    X509 *certs[] = { leaf, leaf_hi, leaf };
    apr_size_t len, dlen;
    const unsigned char *der = mkreq(&len, certs, 3, ca_cert, EVP_sha256(), 1, 0);
    const char *enc = b64(der, len), *v;
    unsigned char *out;
    ca_ocsp_request_t *req;
    static const char *const bad[] = {
        "", "/", "///", "MEUw AAA", "MEUw-AAA", "MEUw_AAA", "MEUw%", "MEUw%2", "MEUw%zz",
        "MEUw%20AA", "MEUw*AAA", "MEUw\nAAA", "A", "AAAAA", "AA=A", "AAA===", "A===",
        "=", "==", "AB==", "AAB=", "MEUw?x=y", "MEUw%00AA", NULL
    };
    int i;

    ck_assert(strchr(enc, '+') || strchr(enc, '/') || strchr(enc, '='));
    /* as is, with and without a leading slash */
    ck_assert_int_eq(ca_ocsp_get_decode(&out, &dlen, enc, pool), APR_SUCCESS);
    ck_assert_uint_eq(dlen, len);
    ck_assert_mem_eq(out, der, len);
    ck_assert_int_eq(ca_ocsp_get_decode(&out, &dlen, apr_pstrcat(pool, "/", enc, NULL),
                                        pool), APR_SUCCESS);
    ck_assert_mem_eq(out, der, len);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, out, dlen, 10, pool), APR_SUCCESS);
    ck_assert_int_eq(req->ids->nelts, 3);
    /* percent-encoded, upper and lower case */
    v = subst(subst(subst(enc, '+', "%2B"), '/', "%2F"), '=', "%3D");
    ck_assert_int_eq(ca_ocsp_get_decode(&out, &dlen, v, pool), APR_SUCCESS);
    ck_assert_mem_eq(out, der, len);
    v = subst(subst(subst(enc, '+', "%2b"), '/', "%2f"), '=', "%3d");
    ck_assert_int_eq(ca_ocsp_get_decode(&out, &dlen, v, pool), APR_SUCCESS);
    ck_assert_mem_eq(out, der, len);
    /* mixed, and padding dropped */
    v = subst(subst(enc, '+', "%2B"), '=', "");
    ck_assert_int_eq(ca_ocsp_get_decode(&out, &dlen, v, pool), APR_SUCCESS);
    ck_assert_uint_eq(dlen, len);
    ck_assert_mem_eq(out, der, len);
    /* every short form */
    ck_assert_int_eq(ca_ocsp_get_decode(&out, &dlen, "AA==", pool), APR_SUCCESS);
    ck_assert_uint_eq(dlen, 1);
    ck_assert_int_eq(ca_ocsp_get_decode(&out, &dlen, "AAA", pool), APR_SUCCESS);
    ck_assert_uint_eq(dlen, 2);
    ck_assert_int_eq(ca_ocsp_get_decode(&out, &dlen, "%41%41%41A", pool), APR_SUCCESS);
    ck_assert_uint_eq(dlen, 3);
    for (i = 0; bad[i]; i++) {
        out = (unsigned char *)"x";
        ck_assert_msg(ca_ocsp_get_decode(&out, &dlen, bad[i], pool) == APR_EINVAL,
                      "accepted \"%s\"", bad[i]);
        ck_assert_ptr_null(out);
    }
    ck_assert_int_eq(ca_ocsp_get_decode(&out, &dlen, NULL, pool), APR_EINVAL);
}
END_TEST


/* ------------------------------------------------------------------------
 * ca_ocsp_answer: the rules between a parsed request and the answer, with
 * the store and the cache as tables in memory
 */

typedef struct {
    const char *serial;
    int status;                 /* CA_CERT_* as stored */
    apr_int64_t revoked_at;
    int reason;
} stored_t;

typedef struct {
    const stored_t *rows;
    int nrows;
    int calls;                  /* questions asked of the store */
    int fail_at;                /* the question (1, 2, ...) that fails; 0: none */
    const unsigned char *rec;   /* the one cached record, under key */
    apr_size_t rec_len;
    const char *key;
    int lookups;                /* questions asked of the cache */
} store_t;

static apr_status_t store_status(int *pstatus, apr_int64_t *prevoked_at, int *preason,
                                 void *baton, const char *ca, const char *serial,
                                 apr_pool_t *p)
{
    store_t *st = baton;
    int i;

    (void)ca, (void)p;
    if (++st->calls == st->fail_at) {
        return APR_EGENERAL;
    }
    *pstatus = CA_CERT_UNKNOWN;
    *prevoked_at = 0;
    *preason = 0;
    for (i = 0; i < st->nrows; i++) {
        if (!strcmp(st->rows[i].serial, serial)) {
            *pstatus = st->rows[i].status;
            *prevoked_at = st->rows[i].revoked_at;
            *preason = st->rows[i].reason;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t store_cached(const unsigned char **prec, apr_size_t *plen, void *baton,
                                 const char *key, apr_pool_t *p)
{
    store_t *st = baton;

    (void)p;
    st->lookups++;
    if (!st->rec || !st->key || strcmp(st->key, key)) {
        return APR_NOTFOUND;
    }
    *prec = st->rec;
    *plen = st->rec_len;
    return APR_SUCCESS;
}

static void answerer(ca_ocsp_answerer_t *a, store_t *st, apr_array_header_t *rs, int nonce)
{
    memset(a, 0, sizeof(*a));
    a->responders = rs;
    a->validity = apr_time_from_sec(3600);
    a->nonce = nonce;
    a->status = store_status;
    a->cached = store_cached;
    a->baton = st;
}

/* the answer's basic response, checked as a client would */
static OCSP_BASICRESP *basic_of(const ca_ocsp_answer_t *ans)
{
    const unsigned char *q = ans->der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &q, (long)ans->len);
    OCSP_BASICRESP *bs;
    X509_STORE *store = X509_STORE_new();

    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(OCSP_response_status(resp), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    bs = OCSP_response_get1_basic(resp);
    ck_assert_ptr_nonnull(bs);
    X509_STORE_add_cert(store, ca_cert);
    ck_assert_int_eq(OCSP_basic_verify(bs, NULL, store, 0), 1);
    X509_STORE_free(store);
    OCSP_RESPONSE_free(resp);
    return bs;
}

/* stored statuses as OCSP certStatus; thisUpdate, nextUpdate, producedAt */
START_TEST(answer_statuses)
{
    X509 *certs[] = { leaf, leaf_hi, ca_cert };
    apr_size_t len;
    const unsigned char *der = mkreq(&len, certs, 3, ca_cert, EVP_sha256(), 0, 0);
    stored_t rows[] = { { NULL, CA_CERT_GOOD, 0, 0 },
                        { NULL, CA_CERT_REVOKED, NOW - 7200, 1 },
                        { NULL, 5, 0, 0 } };      /* no such stored status */
    store_t st = { rows, 3, 0, 0, NULL, 0, NULL, 0 };
    ca_ocsp_answerer_t a;
    ca_ocsp_answer_t ans;
    ca_ocsp_request_t *req;
    OCSP_BASICRESP *bs;
    int i;
    apr_time_t now = apr_time_from_sec(NOW);

    rows[0].serial = serial_hex(leaf);
    rows[1].serial = serial_hex(leaf_hi);
    rows[2].serial = serial_hex(ca_cert);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    answerer(&a, &st, responders(1), 1);
    ck_assert_int_eq(ca_ocsp_answer(&ans, &a, req, der, len, now, pool), APR_SUCCESS);
    ck_assert_int_eq(ans.error, 0);
    ck_assert_str_eq(ans.responder->name, "ec");
    ck_assert_int_eq(st.calls, 3);
    /* several ids: not for the cache */
    ck_assert_int_eq(st.lookups, 0);
    ck_assert_ptr_null(ans.key);
    ck_assert_ptr_null(ans.record);
    ck_assert_int_eq(ans.cached, 0);
    ck_assert_int_eq(ans.nonce, 0);
    ck_assert(ans.next_update == now + apr_time_from_sec(3600));
    bs = basic_of(&ans);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(OCSP_resp_get0_produced_at(bs), NOW), 0);
    ck_assert_int_eq(OCSP_resp_count(bs), 3);
    for (i = 0; i < 3; i++) {
        int status, reason = -5;
        ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;

        status = OCSP_single_get0_status(OCSP_resp_get0(bs, i), &reason, &rev, &tu, &nu);
        ck_assert_int_eq(ASN1_TIME_cmp_time_t(tu, NOW), 0);
        ck_assert_int_eq(ASN1_TIME_cmp_time_t(nu, NOW + 3600), 0);
        ck_assert_int_eq(status, i == 0 ? V_OCSP_CERTSTATUS_GOOD
                                 : i == 1 ? V_OCSP_CERTSTATUS_REVOKED
                                 : V_OCSP_CERTSTATUS_UNKNOWN);
        if (i == 1) {
            ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
            ck_assert_int_eq(ASN1_TIME_cmp_time_t(rev, NOW - 7200), 0);
        }
    }
    OCSP_BASICRESP_free(bs);
}
END_TEST

/* a stored reason the protocol cannot carry is left out, not an error */
START_TEST(answer_reasons)
{
    static const int stored[] = { -1, 0, 1, 6, 7, 8, 10, 11, 99 };
    static const int sent[] = { OCSP_REVOKED_STATUS_NOSTATUS, OCSP_REVOKED_STATUS_NOSTATUS,
                                1, 6, OCSP_REVOKED_STATUS_NOSTATUS, 8, 10,
                                OCSP_REVOKED_STATUS_NOSTATUS, OCSP_REVOKED_STATUS_NOSTATUS };
    X509 *certs[] = { leaf_hi };
    apr_size_t len;
    const unsigned char *der = mkreq(&len, certs, 1, ca_cert, EVP_sha1(), 0, 0);
    stored_t row = { NULL, CA_CERT_REVOKED, NOW - 10, 0 };
    store_t st = { &row, 1, 0, 0, NULL, 0, NULL, 0 };
    ca_ocsp_answerer_t a;
    ca_ocsp_answer_t ans;
    ca_ocsp_request_t *req;
    size_t i;

    row.serial = serial_hex(leaf_hi);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    answerer(&a, &st, responders(0), 1);
    for (i = 0; i < sizeof(stored) / sizeof(stored[0]); i++) {
        OCSP_BASICRESP *bs;
        int reason = -5;

        row.reason = stored[i];
        ck_assert_int_eq(ca_ocsp_answer(&ans, &a, req, der, len, apr_time_from_sec(NOW),
                                        pool), APR_SUCCESS);
        bs = basic_of(&ans);
        ck_assert_int_eq(OCSP_single_get0_status(OCSP_resp_get0(bs, 0), &reason, NULL, NULL,
                                                 NULL), V_OCSP_CERTSTATUS_REVOKED);
        ck_assert_msg(reason == sent[i], "stored %d sent %d", stored[i], reason);
        OCSP_BASICRESP_free(bs);
    }
}
END_TEST

/* one responder answers for all ids or the request is unauthorized, and
 * the store is not asked; a failing store: tryLater */
START_TEST(answer_refusals)
{
    X509 *certs[] = { leaf, leaf_hi };
    apr_size_t len, l2, l3;
    const unsigned char *der = mkreq(&len, certs, 2, ca_cert, EVP_sha1(), 0, 0), *d2, *d3;
    store_t st = { NULL, 0, 0, 0, NULL, 0, NULL, 0 };
    ca_ocsp_answerer_t a;
    ca_ocsp_answer_t ans;
    ca_ocsp_request_t *req, *mixed, *sha384;
    OCSP_REQUEST *oreq = OCSP_REQUEST_new();
    unsigned char *m = NULL;
    int ml;

    /* one id of each CA in one request */
    OCSP_request_add0_id(oreq, OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca_cert),
                                                X509_get0_pubkey_bitstr(ca_cert),
                                                X509_get0_serialNumber(leaf)));
    OCSP_request_add0_id(oreq, OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(other_ca),
                                                X509_get0_pubkey_bitstr(other_ca),
                                                X509_get0_serialNumber(leaf)));
    ml = i2d_OCSP_REQUEST(oreq, &m);
    d2 = apr_pmemdup(pool, m, (apr_size_t)ml);
    l2 = (apr_size_t)ml;
    OPENSSL_free(m);
    OCSP_REQUEST_free(oreq);
    d3 = mkreq(&l3, certs, 1, ca_cert, EVP_sha384(), 0, 0);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_ocsp_parse_request(&mixed, d2, l2, 10, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_ocsp_parse_request(&sha384, d3, l3, 10, pool), APR_SUCCESS);

    answerer(&a, &st, responders(1), 1);
    ck_assert_int_ne(ca_ocsp_answer(&ans, &a, mixed, d2, l2, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(ans.error, CA_OCSP_UNAUTHORIZED);
    ck_assert_ptr_null(ans.der);
    ck_assert_ptr_null(ans.responder);
    ck_assert_int_ne(ca_ocsp_answer(&ans, &a, sha384, d3, l3, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(ans.error, CA_OCSP_UNAUTHORIZED);
    /* no responder configured */
    answerer(&a, &st, NULL, 1);
    ck_assert_int_ne(ca_ocsp_answer(&ans, &a, req, der, len, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(ans.error, CA_OCSP_UNAUTHORIZED);
    answerer(&a, &st, apr_array_make(pool, 1, sizeof(void *)), 1);
    ck_assert_int_ne(ca_ocsp_answer(&ans, &a, req, der, len, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(ans.error, CA_OCSP_UNAUTHORIZED);
    ck_assert_int_eq(st.calls, 0);
    ck_assert_int_eq(st.lookups, 0);

    /* the store fails at the second id */
    answerer(&a, &st, responders(1), 1);
    st.fail_at = 2;
    ck_assert_int_ne(ca_ocsp_answer(&ans, &a, req, der, len, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(ans.error, CA_OCSP_TRY_LATER);
    ck_assert_ptr_null(ans.der);
    ck_assert_ptr_null(ans.record);
    ck_assert_int_eq(st.calls, 2);
}
END_TEST

/* one id without a nonce: answered from the cache, or signed with its
 * record (request and answer, nextUpdate), kept for 3/4 of the validity */
START_TEST(answer_cache)
{
    X509 *certs[] = { leaf };
    apr_size_t len, nlen, rlen, dlen;
    const unsigned char *der = mkreq(&len, certs, 1, ca_cert, EVP_sha1(), 0, 0),
        *nder = mkreq(&nlen, certs, 1, ca_cert, EVP_sha1(), 1, 0), *rreq, *rder;
    stored_t row = { NULL, CA_CERT_GOOD, 0, 0 };
    store_t st = { &row, 1, 0, 0, NULL, 0, NULL, 0 };
    ca_ocsp_answerer_t a;
    ca_ocsp_answer_t ans, ans2;
    ca_ocsp_request_t *req, *nreq;
    apr_time_t now = apr_time_from_sec(NOW), next = 0;
    unsigned char *junk;
    OCSP_BASICRESP *bs;

    row.serial = serial_hex(leaf);
    ck_assert_int_eq(ca_ocsp_parse_request(&req, der, len, 10, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_ocsp_parse_request(&nreq, nder, nlen, 10, pool), APR_SUCCESS);
    answerer(&a, &st, responders(0), 1);
    ck_assert_int_eq(ca_ocsp_answer(&ans, &a, req, der, len, now, pool), APR_SUCCESS);
    ck_assert_int_eq(st.lookups, 1);
    ck_assert_int_eq(st.calls, 1);
    ck_assert_int_eq(ans.cached, 0);
    ck_assert_str_eq(ans.key, ca_ocsp_cache_key("ec", CA_OCSP_HASH_SHA1, serial_hex(leaf),
                                                pool));
    ck_assert(ans.next_update == now + apr_time_from_sec(3600));
    ck_assert(ans.expiry == now + apr_time_from_sec(2700));
    ck_assert_ptr_nonnull(ans.record);
    ck_assert_uint_eq(ans.record_len, 10 + len + ans.len);
    ck_assert_int_eq(ca_ocsp_record_parse(&rder, &dlen, &next, &rreq, &rlen, ans.record,
                                          ans.record_len), APR_SUCCESS);
    ck_assert(next == ans.next_update);
    ck_assert_uint_eq(rlen, len);
    ck_assert_mem_eq(rreq, der, len);
    ck_assert_uint_eq(dlen, ans.len);
    ck_assert_mem_eq(rder, ans.der, dlen);

    /* the same request again: the cached answer, the store not asked */
    st.key = ans.key;
    st.rec = ans.record;
    st.rec_len = ans.record_len;
    ck_assert_int_eq(ca_ocsp_answer(&ans2, &a, req, der, len, now + 5, pool), APR_SUCCESS);
    ck_assert_int_eq(ans2.cached, 1);
    ck_assert_int_eq(st.calls, 1);
    ck_assert_uint_eq(ans2.len, ans.len);
    ck_assert_mem_eq(ans2.der, ans.der, ans.len);
    ck_assert(ans2.next_update == ans.next_update);
    ck_assert_ptr_null(ans2.record);

    /* a record that is not one: signed anew */
    junk = apr_pmemdup(pool, ans.record, 10);
    st.rec = junk;
    st.rec_len = 10;
    ck_assert_int_eq(ca_ocsp_answer(&ans2, &a, req, der, len, now, pool), APR_SUCCESS);
    ck_assert_int_eq(ans2.cached, 0);
    ck_assert_int_eq(st.calls, 2);
    ck_assert_ptr_nonnull(ans2.record);

    /* a nonce echoed: never cached nor looked up */
    st.lookups = 0;
    ck_assert_int_eq(ca_ocsp_answer(&ans2, &a, nreq, nder, nlen, now, pool), APR_SUCCESS);
    ck_assert_int_eq(ans2.nonce, 1);
    ck_assert_ptr_null(ans2.key);
    ck_assert_ptr_null(ans2.record);
    ck_assert_int_eq(st.lookups, 0);
    bs = basic_of(&ans2);
    ck_assert_int_ge(OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce, -1), 0);
    OCSP_BASICRESP_free(bs);
    /* nonces ignored: the same request is cached, without the nonce */
    answerer(&a, &st, responders(0), 0);
    ck_assert_int_eq(ca_ocsp_answer(&ans2, &a, nreq, nder, nlen, now, pool), APR_SUCCESS);
    ck_assert_int_eq(ans2.nonce, 0);
    ck_assert_ptr_nonnull(ans2.key);
    ck_assert_ptr_nonnull(ans2.record);
    bs = basic_of(&ans2);
    ck_assert_int_lt(OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce, -1), 0);
    OCSP_BASICRESP_free(bs);
    /* no cache given */
    a.cached = NULL;
    st.lookups = 0;
    ck_assert_int_eq(ca_ocsp_answer(&ans2, &a, req, der, len, now, pool), APR_SUCCESS);
    ck_assert_int_eq(st.lookups, 0);
    ck_assert_ptr_nonnull(ans2.record);
}
END_TEST

/* the key (pinned: a shared cache outlives a software update) and the
 * record's refusals */
START_TEST(cache_key_and_record)
{
    unsigned char rec[16] = { 0 };
    const unsigned char *der, *req;
    apr_size_t len, rlen;
    apr_time_t next = 12345, t;

    ck_assert_str_eq(ca_ocsp_cache_key("member", CA_OCSP_HASH_SHA1, "4a0102030405060708",
                                       pool), ".member|1|4a0102030405060708");
    ck_assert_str_eq(ca_ocsp_cache_key("member", CA_OCSP_HASH_SHA256, "4a0102030405060708",
                                       pool), "<member|2|4a0102030405060708");
    {
        /* a serial no certificate has: the key stays short enough for
         * memcache (119 bytes with "|revoked") */
        char serial[2 * 200 + 1];
        const char *k, *k2;
        int n;
        memset(serial, 'a', sizeof(serial) - 1);
        serial[sizeof(serial) - 1] = '\0';
        for (n = 1; n < (int)sizeof(serial); n++) {
            k = ca_ocsp_cache_key("member", CA_OCSP_HASH_SHA1, serial + sizeof(serial) - 1 - n,
                                  pool);
            ck_assert_uint_le(strlen(k) + strlen("|revoked"), 119);
            /* as it was up to 110 bytes after the first: pinned */
            ck_assert_int_eq(k[1] == '#', 9 + n > CA_OCSP_KEY_REST_MAX);
        }
        memcpy(serial, "7f", 2);
        memset(serial + 2, 'b', 100);
        serial[102] = '\0';
        k = ca_ocsp_cache_key("member", CA_OCSP_HASH_SHA1, serial, pool);
        ck_assert_str_eq(k, "\x0d#b5ea7ff1e8d582d0ce11737ad527585637c285be485ae3e417815d30a613cb4c");
        serial[101] = 'c';
        k2 = ca_ocsp_cache_key("member", CA_OCSP_HASH_SHA1, serial, pool);
        ck_assert_str_ne(k, k2);
        ck_assert_str_ne(k, ca_ocsp_cache_key("member", CA_OCSP_HASH_SHA256, serial, pool));
        /* a long CA name too */
        memset(serial, 'c', 120);
        serial[120] = '\0';
        k = ca_ocsp_cache_key(serial, CA_OCSP_HASH_SHA1, "4a01", pool);
        ck_assert_uint_eq(strlen(k), 66);
    }
    memcpy(rec, &next, 8);
    rec[9] = 3;             /* a request of 3 bytes */
    ck_assert_int_eq(ca_ocsp_record_parse(&der, &len, &t, &req, &rlen, NULL, 0), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_record_parse(&der, &len, &t, &req, &rlen, rec, 10), APR_EINVAL);
    ck_assert_int_eq(ca_ocsp_record_parse(&der, &len, &t, &req, &rlen, rec, 13), APR_EINVAL);
    ck_assert_ptr_null(der);
    ck_assert_int_eq(ca_ocsp_record_parse(&der, &len, &t, &req, &rlen, rec, 14), APR_SUCCESS);
    ck_assert(t == next);
    ck_assert_uint_eq(rlen, 3);
    ck_assert_ptr_eq(req, rec + 10);
    ck_assert_uint_eq(len, 1);
    ck_assert_ptr_eq(der, rec + 13);
    rec[8] = 1;             /* 259 bytes of request: more than the record has */
    ck_assert_int_eq(ca_ocsp_record_parse(&der, &len, &t, NULL, NULL, rec, 16), APR_EINVAL);
}
END_TEST

Suite *ocsp_suite(void)
{
    Suite *s = suite_create("ocsp");
    TCase *tc = tcase_create("ocsp");

    tcase_add_unchecked_fixture(tc, make_all, free_all);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, load_ok);
    tcase_add_test(tc, load_refusals);
    tcase_add_test(tc, parse_sha1_one);
    tcase_add_test(tc, parse_serial_forms);
    tcase_add_test(tc, parse_sha256_many_nonce);
    tcase_add_test(tc, parse_signed);
    tcase_add_test(tc, parse_oddities);
    tcase_add_test(tc, find_responder);
    tcase_add_test(tc, sign_ec_sha1_nonce);
    tcase_add_test(tc, sign_ec_sha256);
    tcase_add_test(tc, sign_rsa_sha1);
    tcase_add_test(tc, sign_rsa_sha256_nonce);
    tcase_add_test(tc, sign_variants);
    tcase_add_test(tc, sign_refusals);
    tcase_add_test(tc, error_responses);
    tcase_add_test(tc, hostile_requests);
    tcase_add_test(tc, huge_id_count);
    tcase_add_test(tc, get_decode);
    tcase_add_test(tc, answer_statuses);
    tcase_add_test(tc, answer_reasons);
    tcase_add_test(tc, answer_refusals);
    tcase_add_test(tc, answer_cache);
    tcase_add_test(tc, cache_key_and_record);
    suite_add_tcase(s, tc);
    return s;
}
