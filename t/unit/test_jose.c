/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* JOSE for ACME (src/ca_jose.c): base64url, JWKs and their thumbprints,
 * flattened JWS signed here with OpenSSL, external account binding. */
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tests.h"
#include "ca_jose.h"

static apr_pool_t *pool;

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static const char *b64(const char *s)
{
    return ca_b64url_encode((const unsigned char *)s, strlen(s), pool);
}

START_TEST(base64url)
{
    apr_size_t n;
    unsigned char *d;

    ck_assert_str_eq(b64(""), "");
    ck_assert_str_eq(b64("f"), "Zg");
    ck_assert_str_eq(b64("fo"), "Zm8");
    ck_assert_str_eq(b64("foo"), "Zm9v");
    ck_assert_str_eq(ca_b64url_encode((const unsigned char *)"\xfb\xff", 2, pool), "-_8");
    d = ca_b64url_decode(&n, "-_8", 3, pool);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(n, 2);
    ck_assert(d[0] == 0xfb && d[1] == 0xff && d[2] == 0);
    d = ca_b64url_decode(&n, "Zm9v", 4, pool);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq((char *)d, "foo");
    ck_assert_ptr_null(ca_b64url_decode(&n, "Zg==", 4, pool));     /* padding */
    ck_assert_ptr_null(ca_b64url_decode(&n, "+/8", 3, pool));      /* the other alphabet */
    ck_assert_ptr_null(ca_b64url_decode(&n, "Zm 9", 4, pool));
    ck_assert_ptr_null(ca_b64url_decode(&n, "Zh", 2, pool));       /* bits left over */
    ck_assert_ptr_null(ca_b64url_decode(&n, "Z", 1, pool));
}
END_TEST

/* RFC 7638 section 3.1 */
#define RFC7638_N \
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1" \
    "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4" \
    "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO" \
    "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF" \
    "Cur-kEgU8awapJzKnqDKgw"

START_TEST(rsa_thumbprint)
{
    const char *json = "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\","
                       "\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
    const char *detail = NULL;
    ca_jwk_t *k;

    /* the RFC's modulus is 2048 bits */
    ck_assert_ptr_null(ca_jwk_parse(&k, &detail, json, strlen(json), pool));
    ck_assert_str_eq(ca_jwk_thumbprint(k, pool), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    ck_assert_str_eq(ca_jwk_canonical(k),
                     "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\"}");
}
END_TEST

static EVP_PKEY *ec_keygen(const char *curve)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

/* the JWK of a key, through ca_jwk_from_pkey */
static const char *jwk_json(EVP_PKEY *pk)
{
    ca_jwk_t *k;

    ck_assert_ptr_null(ca_jwk_from_pkey(&k, pk, pool));
    return ca_jwk_canonical(k);
}

START_TEST(jwk_types)
{
    const char *detail = NULL, *j;
    EVP_PKEY *p256 = ec_keygen("P-256"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    ca_jwk_t *k, *k2;

    j = jwk_json(p256);
    ck_assert_ptr_null(ca_jwk_parse(&k, &detail, j, strlen(j), pool));
    ck_assert_ptr_null(ca_jwk_from_pkey(&k2, p256, pool));
    ck_assert(ca_jwk_equal(k, k2));
    j = jwk_json(ed);
    ck_assert(strstr(j, "\"crv\":\"Ed25519\",\"kty\":\"OKP\"") != NULL);
    ck_assert_ptr_null(ca_jwk_parse(&k, &detail, j, strlen(j), pool));
    ck_assert_ptr_nonnull(ca_jwk_from_pkey(&k, small, pool));           /* 1024 bits */
    /* a private member, an unknown type, a point off the curve */
    j = apr_pstrcat(pool, "{\"d\":\"AAAA\",", jwk_json(p256) + 1, NULL);
    ck_assert_str_eq(ca_jwk_parse(&k, &detail, j, strlen(j), pool), "badPublicKey");
    j = "{\"kty\":\"oct\",\"k\":\"AAAA\"}";
    ck_assert_str_eq(ca_jwk_parse(&k, &detail, j, strlen(j), pool), "badPublicKey");
    j = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}";
    ck_assert_str_eq(ca_jwk_parse(&k, &detail, j, strlen(j), pool), "badPublicKey");
    EVP_PKEY_free(p256);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(small);
}
END_TEST

/* a flattened JWS signed by pk with alg; the header is given whole */
static const char *jws_make(EVP_PKEY *pk, const char *header, const char *payload,
                            int flip)
{
    const char *prot = b64(header), *pay = b64(payload);
    const char *data = apr_pstrcat(pool, prot, ".", pay, NULL);
    unsigned char sig[1024], *raw = sig;
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = EVP_PKEY_is_a(pk, "ED25519") ? NULL
                       : EVP_PKEY_get_bits(pk) == 384 ? EVP_sha384() : EVP_sha256();
    unsigned char rs[96];
    size_t rslen = siglen;

    ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, md, NULL, pk), 1);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)data,
                                    strlen(data)), 1);
    EVP_MD_CTX_free(ctx);
    rslen = siglen;
    if (EVP_PKEY_is_a(pk, "EC")) {
        const unsigned char *d = sig;
        ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &d, (long)siglen);
        int size = EVP_PKEY_get_bits(pk) == 384 ? 48 : 32;
        BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, size);
        BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + size, size);
        ECDSA_SIG_free(s);
        raw = rs;
        rslen = 2 * (size_t)size;
    }
    if (flip) {
        raw[0] ^= 1;
    }
    return apr_psprintf(pool, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
                        prot, pay, ca_b64url_encode(raw, rslen, pool));
}

static const char *header(const char *alg, EVP_PKEY *pk, const char *extra)
{
    return apr_psprintf(pool, "{\"alg\":\"%s\",\"nonce\":\"n1\",\"url\":\"https://ca/acme/x\","
                        "\"jwk\":%s%s}", alg, jwk_json(pk), extra ? extra : "");
}

static const char *parse(ca_jws_t **pj, const char *body)
{
    const char *detail = NULL;

    return ca_jws_parse(pj, &detail, body, strlen(body), 65536, 1, pool);
}

START_TEST(jws_sign_and_verify)
{
    struct { const char *alg; EVP_PKEY *pk; } keys[] = {
        { "ES256", ec_keygen("P-256") }, { "ES384", ec_keygen("P-384") },
        { "RS256", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) },
        { "EdDSA", EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") },
    };
    ca_jws_t *j;
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *body = jws_make(keys[i].pk, header(keys[i].alg, keys[i].pk, NULL),
                                    "{\"a\":1}", 0);
        ck_assert_ptr_null(parse(&j, body));
        ck_assert_str_eq(j->alg, keys[i].alg);
        ck_assert_str_eq(j->nonce, "n1");
        ck_assert_str_eq(j->payload, "{\"a\":1}");
        ck_assert_int_eq(ca_jws_verify(j, j->jwk), 1);
        body = jws_make(keys[i].pk, header(keys[i].alg, keys[i].pk, NULL), "{\"a\":1}", 1);
        ck_assert_ptr_null(parse(&j, body));
        ck_assert_int_eq(ca_jws_verify(j, j->jwk), 0);
        /* POST-as-GET */
        body = jws_make(keys[i].pk, header(keys[i].alg, keys[i].pk, NULL), "", 0);
        ck_assert_ptr_null(parse(&j, body));
        ck_assert_int_eq(j->post_as_get, 1);
        ck_assert_int_eq(ca_jws_verify(j, j->jwk), 1);
    }
    /* ES256 with an RSA key: the alg does not fit */
    ck_assert_str_eq(parse(&j, jws_make(keys[2].pk, header("ES256", keys[2].pk, NULL), "{}", 0)),
                     "badSignatureAlgorithm");
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        EVP_PKEY_free(keys[i].pk);
    }
}
END_TEST

START_TEST(jws_refusals)
{
    EVP_PKEY *pk = ec_keygen("P-256");
    const char *jwk = jwk_json(pk), *h;
    ca_jws_t *j;

    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":\"n\",\"url\":\"u\",\"jwk\":%s,"
                     "\"kid\":\"https://ca/acme/acct/1\"}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", 0)), "malformed");
    h = "{\"alg\":\"ES256\",\"nonce\":\"n\",\"url\":\"u\"}";
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", 0)), "malformed");
    ck_assert_str_eq(parse(&j, jws_make(pk, header("none", pk, NULL), "{}", 0)),
                     "badSignatureAlgorithm");
    ck_assert_str_eq(parse(&j, jws_make(pk, header("HS256", pk, NULL), "{}", 0)),
                     "badSignatureAlgorithm");
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":\"n\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", 0)), "malformed");      /* no url */
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"url\":\"u\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", 0)), "badNonce");
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"alg\":\"ES256\",\"nonce\":\"n\",\"url\":\"u\","
                     "\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", 0)), "malformed");      /* duplicate */
    ck_assert_str_eq(parse(&j, jws_make(pk, header("ES256", pk, ",\"crit\":[\"b64\"]"), "{}", 0)),
                     "malformed");
    ck_assert_str_eq(parse(&j, "{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AA\","
                               "\"header\":{}}"), "malformed");
    ck_assert_str_eq(parse(&j, "[1,2]"), "malformed");
    ck_assert_str_eq(parse(&j, "{\"protected\":\"!!\",\"payload\":\"\",\"signature\":\"AA\"}"),
                     "malformed");
    {
        const char *detail, *body = jws_make(pk, header("ES256", pk, NULL), "{}", 0);
        ck_assert_str_eq(ca_jws_parse(&j, &detail, body, strlen(body), 10, 1, pool),
                         "malformed");
    }
    EVP_PKEY_free(pk);
}
END_TEST

static json_t *eab_make(const char *kid, const char *url, const char *jwk,
                        const unsigned char *key, size_t klen)
{
    const char *prot = b64(apr_psprintf(pool, "{\"alg\":\"HS256\",\"kid\":\"%s\",\"url\":\"%s\"}",
                                        kid, url));
    const char *pay = b64(jwk), *data = apr_pstrcat(pool, prot, ".", pay, NULL);
    unsigned char mac[32];
    unsigned int n = 0;
    json_error_t err;

    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, strlen(data), mac, &n);
    return json_loads(apr_psprintf(pool, "{\"protected\":\"%s\",\"payload\":\"%s\","
                                   "\"signature\":\"%s\"}", prot, pay,
                                   ca_b64url_encode(mac, n, pool)), 0, &err);
}

START_TEST(eab)
{
    EVP_PKEY *pk = ec_keygen("P-256"), *other = ec_keygen("P-256");
    const unsigned char key[32] = "0123456789abcdef0123456789abcdef";
    const char *kid, *detail, *url = "https://ca/acme/new-account";
    ca_jwk_t *outer;
    json_t *e;

    ck_assert_ptr_null(ca_jwk_from_pkey(&outer, pk, pool));
    e = eab_make("kid1", url, jwk_json(pk), key, sizeof(key));
    ck_assert_ptr_null(ca_eab_parse(&kid, &detail, e, url, outer, pool));
    ck_assert_str_eq(kid, "kid1");
    ck_assert_int_eq(ca_eab_verify(e, key, sizeof(key)), 1);
    ck_assert_int_eq(ca_eab_verify(e, (const unsigned char *)"another key of 32 bytes........",
                                   32), 0);
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, "https://ca/acme/other", outer, pool),
                     "malformed");
    json_decref(e);
    e = eab_make("kid1", url, jwk_json(other), key, sizeof(key));
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "malformed");
    json_decref(e);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(other);
}
END_TEST

START_TEST(keyauth)
{
    const char *json = "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\"}";
    const char *detail, *ka;
    unsigned char md[32];
    unsigned int n;
    ca_jwk_t *k;

    ck_assert_ptr_null(ca_jwk_parse(&k, &detail, json, strlen(json), pool));
    ka = ca_acme_keyauth("tok", k, pool);
    ck_assert_str_eq(ka, "tok.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    EVP_Digest(ka, strlen(ka), md, &n, EVP_sha256(), NULL);
    ck_assert_str_eq(ca_acme_dns01_value(ka, pool), ca_b64url_encode(md, n, pool));
}
END_TEST

Suite *jose_suite(void)
{
    Suite *s = suite_create("jose");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, base64url);
    tcase_add_test(tc, rsa_thumbprint);
    tcase_add_test(tc, jwk_types);
    tcase_add_test(tc, jws_sign_and_verify);
    tcase_add_test(tc, jws_refusals);
    tcase_add_test(tc, eab);
    tcase_add_test(tc, keyauth);
    suite_add_tcase(s, tc);
    return s;
}
