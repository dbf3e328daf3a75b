/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* JOSE for ACME (src/ca_jose.c): base64url, JWKs and their thumbprints,
 * flattened JWS signed here with OpenSSL, external account binding, key
 * authorisations. */
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "tests.h"
#include "ca_jose.h"

static apr_pool_t *pool;

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static const char *b64(const char *s)
{
    return ca_b64url_encode((const unsigned char *)s, strlen(s), pool);
}

static int b64_ok(const char *s)
{
    apr_size_t n;

    return ca_b64url_decode(&n, s, strlen(s), pool) != NULL;
}

START_TEST(base64url)
{
    unsigned char data[64], *d;
    apr_size_t n, len;
    const char *e;

    ck_assert_str_eq(b64(""), "");
    ck_assert_str_eq(b64("f"), "Zg");
    ck_assert_str_eq(b64("fo"), "Zm8");
    ck_assert_str_eq(b64("foo"), "Zm9v");
    ck_assert_str_eq(b64("foobar"), "Zm9vYmFy");
    ck_assert_str_eq(ca_b64url_encode((const unsigned char *)"\xfb\xff", 2, pool), "-_8");
    d = ca_b64url_decode(&n, "-_8", 3, pool);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(n, 2);
    ck_assert(d[0] == 0xfb && d[1] == 0xff && d[2] == 0);
    d = ca_b64url_decode(&n, "Zm9v", 4, pool);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq((char *)d, "foo");
    d = ca_b64url_decode(&n, "", 0, pool);
    ck_assert(d && n == 0 && d[0] == 0);
    /* only slen bytes are read */
    d = ca_b64url_decode(&n, "Zm9vYmFy", 4, pool);
    ck_assert(d && n == 3 && !strcmp((char *)d, "foo"));
    /* every length, every byte value: decode(encode(x)) == x */
    for (len = 0; len <= sizeof(data); len++) {
        ck_assert_int_eq(RAND_bytes(data, (int)sizeof(data)), 1);
        e = ca_b64url_encode(data, len, pool);
        ck_assert_uint_eq(strlen(e), (len * 4 + 2) / 3);
        ck_assert(strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                  == strlen(e));
        d = ca_b64url_decode(&n, e, strlen(e), pool);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(n, len);
        ck_assert(!memcmp(d, data, len) && d[len] == 0);
    }
    ck_assert(!b64_ok("Zg=="));        /* padding */
    ck_assert(!b64_ok("Zm8="));
    ck_assert(!b64_ok("+/8"));         /* the other alphabet */
    ck_assert(!b64_ok("-+8"));
    ck_assert(!b64_ok("Zm 9"));        /* white space */
    ck_assert(!b64_ok("Zm9v\n"));
    ck_assert(!b64_ok(" Zm9v"));
    ck_assert(!b64_ok("Zh"));          /* bits left over */
    ck_assert(!b64_ok("Zm9"));
    ck_assert(!b64_ok("-_9"));
    ck_assert(!b64_ok("Z"));           /* less than a byte */
    ck_assert(!b64_ok("Zm9vY"));
    ck_assert(!b64_ok("Zm9v\xc3\xa4"));
    ck_assert_ptr_null(ca_b64url_decode(&n, "Zm\0v", 4, pool));
    ck_assert_ptr_null(ca_b64url_decode(&n, NULL, 0, pool));
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
    ck_assert(EVP_PKEY_is_a(ca_jwk_pkey(k), "RSA"));
    ck_assert_int_eq(EVP_PKEY_get_bits(ca_jwk_pkey(k)), 2048);
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

static const char *jwk_err(const char *json)
{
    const char *detail = NULL, *type;
    ca_jwk_t *k = (ca_jwk_t *)1;

    type = ca_jwk_parse(&k, &detail, json, strlen(json), pool);
    if (type) {
        ck_assert_ptr_null(k);
        ck_assert_ptr_nonnull(detail);
    }
    return type;
}

/* x and y of an EC key, as base64url of the curve's size */
static void ec_xy(const char **px, const char **py, EVP_PKEY *pk, int size)
{
    BIGNUM *x = NULL, *y = NULL;
    unsigned char bx[48], by[48];

    ck_assert(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &x));
    ck_assert(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y));
    ck_assert_int_eq(BN_bn2binpad(x, bx, size), size);
    ck_assert_int_eq(BN_bn2binpad(y, by, size), size);
    *px = ca_b64url_encode(bx, (apr_size_t)size, pool);
    *py = ca_b64url_encode(by, (apr_size_t)size, pool);
    BN_free(x);
    BN_free(y);
}

START_TEST(jwk_types)
{
    const char *detail = NULL, *j, *x, *y;
    EVP_PKEY *p256 = ec_keygen("P-256"), *p384 = ec_keygen("P-384"), *p521 = ec_keygen("P-521");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *ed448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    unsigned char raw[33];
    size_t rawlen = sizeof(raw);
    ca_jwk_t *k, *k2;

    /* EC P-256, as a client writes it (members in any order, extra ones) */
    ec_xy(&x, &y, p256, 32);
    j = apr_psprintf(pool, "{\"y\":\"%s\",\"use\":\"sig\",\"x\":\"%s\",\"kty\":\"EC\","
                     "\"crv\":\"P-256\"}", y, x);
    ck_assert_ptr_null(ca_jwk_parse(&k, &detail, j, strlen(j), pool));
    ck_assert_str_eq(ca_jwk_canonical(k), apr_psprintf(pool, "{\"crv\":\"P-256\",\"kty\":\"EC\","
                                                       "\"x\":\"%s\",\"y\":\"%s\"}", x, y));
    ck_assert_int_eq(EVP_PKEY_eq(ca_jwk_pkey(k), p256), 1);
    ck_assert_ptr_null(ca_jwk_from_pkey(&k2, p256, pool));
    ck_assert(ca_jwk_equal(k, k2));
    ck_assert_uint_eq(strlen(ca_jwk_thumbprint(k, pool)), 43);
    /* x or y of the wrong length */
    j = apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                     apr_pstrndup(pool, x, 42), y);
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    /* a P-256 point on P-384 */
    j = apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    /* a point off the curve: y of another key */
    {
        const char *x2, *y2;
        EVP_PKEY *other = ec_keygen("P-256");
        ec_xy(&x2, &y2, other, 32);
        j = apr_psprintf(pool, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                         x, y2);
        ck_assert_str_eq(jwk_err(j), "badPublicKey");
        EVP_PKEY_free(other);
    }
    j = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}";
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    /* coordinates beyond the field's prime */
    j = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"__________________________________________8\","
        "\"y\":\"__________________________________________8\"}";
    ck_assert_str_eq(jwk_err(j), "badPublicKey");

    /* EC P-384 */
    j = jwk_json(p384);
    ck_assert(strstr(j, "{\"crv\":\"P-384\",\"kty\":\"EC\",\"x\":\"") == j);
    ck_assert_ptr_null(ca_jwk_parse(&k, &detail, j, strlen(j), pool));
    ck_assert_int_eq(EVP_PKEY_eq(ca_jwk_pkey(k), p384), 1);
    /* P-521 is not taken, neither from a JWK nor from OpenSSL */
    ck_assert_str_eq(ca_jwk_from_pkey(&k, p521, pool), "badPublicKey");
    ck_assert_ptr_null(k);
    ck_assert_str_eq(jwk_err("{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}"),
                     "badPublicKey");

    /* Ed25519 */
    j = jwk_json(ed);
    ck_assert(strstr(j, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"") == j);
    ck_assert_ptr_null(ca_jwk_parse(&k, &detail, j, strlen(j), pool));
    ck_assert_int_eq(EVP_PKEY_eq(ca_jwk_pkey(k), ed), 1);
    ck_assert(EVP_PKEY_get_raw_public_key(ed, raw, &rawlen));
    j = apr_psprintf(pool, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}",
                     ca_b64url_encode(raw, 31, pool));
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    raw[32] = 0;
    j = apr_psprintf(pool, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}",
                     ca_b64url_encode(raw, 33, pool));
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    ck_assert_str_eq(ca_jwk_from_pkey(&k, ed448, pool), "badPublicKey");
    ck_assert_str_eq(jwk_err("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":"
                             "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"), "badPublicKey");

    /* RSA */
    j = jwk_json(rsa);
    ck_assert(strstr(j, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"") == j);
    ck_assert_ptr_null(ca_jwk_parse(&k, &detail, j, strlen(j), pool));
    ck_assert_int_eq(EVP_PKEY_eq(ca_jwk_pkey(k), rsa), 1);
    ck_assert(!ca_jwk_equal(k, k2));
    ck_assert_str_eq(ca_jwk_from_pkey(&k, small, pool), "badPublicKey");   /* 1024 bits */
    j = jwk_json(rsa);
    /* a zero octet in front of n; e even, 1, empty */
    {
        BIGNUM *n = NULL;
        unsigned char buf[257];
        ck_assert(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n));
        ck_assert_int_eq(BN_bn2binpad(n, buf, 257), 257);
        BN_free(n);
        ck_assert_str_eq(jwk_err(apr_psprintf(pool, "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"%s\"}",
                                              ca_b64url_encode(buf, 257, pool))),
                         "badPublicKey");
        ck_assert_ptr_null(jwk_err(apr_psprintf(pool, "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"%s\"}",
                                                ca_b64url_encode(buf + 1, 256, pool))));
        ck_assert_str_eq(jwk_err(apr_psprintf(pool, "{\"kty\":\"RSA\",\"e\":\"AQAA\",\"n\":\"%s\"}",
                                              ca_b64url_encode(buf + 1, 256, pool))),
                         "badPublicKey");
        ck_assert_str_eq(jwk_err(apr_psprintf(pool, "{\"kty\":\"RSA\",\"e\":\"AQ\",\"n\":\"%s\"}",
                                              ca_b64url_encode(buf + 1, 256, pool))),
                         "badPublicKey");
        ck_assert_str_eq(jwk_err(apr_psprintf(pool, "{\"kty\":\"RSA\",\"e\":\"\",\"n\":\"%s\"}",
                                              ca_b64url_encode(buf + 1, 256, pool))),
                         "badPublicKey");
        ck_assert_str_eq(jwk_err(apr_psprintf(pool, "{\"kty\":\"RSA\",\"e\":\"AAEAAQ\","
                                              "\"n\":\"%s\"}", ca_b64url_encode(buf + 1, 256, pool))),
                         "badPublicKey");
        /* 1024 bits */
        ck_assert_str_eq(jwk_err(apr_psprintf(pool, "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"%s\"}",
                                              ca_b64url_encode(buf + 1, 128, pool))),
                         "badPublicKey");
    }

    /* private members, unknown types, not JWKs at all */
    j = apr_pstrcat(pool, "{\"d\":\"AAAA\",", jwk_json(p256) + 1, NULL);
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    j = apr_pstrcat(pool, "{\"d\":\"AAAA\",", jwk_json(ed) + 1, NULL);
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    j = apr_pstrcat(pool, "{\"p\":\"AAAA\",", jwk_json(rsa) + 1, NULL);
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    j = apr_pstrcat(pool, "{\"qi\":\"AAAA\",", jwk_json(rsa) + 1, NULL);
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    ck_assert_str_eq(jwk_err("{\"kty\":\"oct\",\"k\":\"AAAA\"}"), "badPublicKey");
    ck_assert_str_eq(jwk_err("{\"kty\":\"DSA\"}"), "badPublicKey");
    ck_assert_str_eq(jwk_err("{\"kty\":1}"), "badPublicKey");
    ck_assert_str_eq(jwk_err("{}"), "badPublicKey");
    ck_assert_str_eq(jwk_err("[]"), "badPublicKey");
    ck_assert_str_eq(jwk_err("\"RSA\""), "badPublicKey");
    ck_assert_str_eq(jwk_err("{\"kty\":\"RSA\""), "badPublicKey");
    ck_assert_str_eq(jwk_err(""), "badPublicKey");
    /* a member twice */
    j = apr_pstrcat(pool, "{\"kty\":\"EC\",", jwk_json(p256) + 1, NULL);
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    /* nested too deep (17), even where the member would be ignored */
    j = apr_pstrcat(pool, "{\"ext\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],", jwk_json(p256) + 1, NULL);
    ck_assert_str_eq(jwk_err(j), "badPublicKey");
    j = apr_pstrcat(pool, "{\"ext\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]],", jwk_json(p256) + 1, NULL);
    ck_assert_ptr_null(jwk_err(j));
    /* brackets inside strings do not count */
    j = apr_pstrcat(pool, "{\"ext\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[\",", jwk_json(p256) + 1, NULL);
    ck_assert_ptr_null(jwk_err(j));
    /* a NUL inside the JSON text */
    j = jwk_json(p256);
    ck_assert_str_eq(ca_jwk_parse(&k, &detail, j, strlen(j) + 1, pool), "badPublicKey");

    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(p521);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(ed448);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(small);
}
END_TEST

/* the signature of data by pk in JWS form (raw R||S for ECDSA) */
static const char *jws_sign(EVP_PKEY *pk, const char *data)
{
    unsigned char sig[1024], *raw = sig, rs[96];
    size_t siglen = sizeof(sig), rslen;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = EVP_PKEY_is_a(pk, "ED25519") ? NULL
                       : EVP_PKEY_get_bits(pk) == 384 ? EVP_sha384() : EVP_sha256();

    ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, md, NULL, pk), 1);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)data,
                                    strlen(data)), 1);
    EVP_MD_CTX_free(ctx);
    rslen = siglen;
    if (EVP_PKEY_is_a(pk, "EC")) {
        const unsigned char *d = sig;
        ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &d, (long)siglen);
        int size = EVP_PKEY_get_bits(pk) == 384 ? 48 : 32;
        ck_assert_ptr_nonnull(s);
        BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, size);
        BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + size, size);
        ECDSA_SIG_free(s);
        raw = rs;
        rslen = 2 * (size_t)size;
    }
    return ca_b64url_encode(raw, rslen, pool);
}

enum { GOOD, FLIP_SIG, FLIP_PAYLOAD, SHORT_SIG };

/* a flattened JWS signed by pk; the header is given whole */
static const char *jws_make(EVP_PKEY *pk, const char *header, const char *payload, int how)
{
    const char *prot = b64(header), *pay = b64(payload);
    const char *sig = jws_sign(pk, apr_pstrcat(pool, prot, ".", pay, NULL));
    apr_size_t n;
    unsigned char *raw;

    if (how == FLIP_SIG || how == SHORT_SIG) {
        raw = ca_b64url_decode(&n, sig, strlen(sig), pool);
        ck_assert_ptr_nonnull(raw);
        raw[0] ^= 1;
        sig = ca_b64url_encode(raw, how == SHORT_SIG ? n - 1 : n, pool);
    }
    else if (how == FLIP_PAYLOAD) {
        char *flipped = apr_pstrdup(pool, payload);
        ck_assert_uint_gt(strlen(flipped), 2);
        flipped[strlen(flipped) - 2] ^= 1;
        pay = b64(flipped);
    }
    return apr_psprintf(pool, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
                        prot, pay, sig);
}

#define NONCE "bm9uY2Utb25l"
#define URL "https://ca/acme/x"

static const char *header(const char *alg, EVP_PKEY *pk, const char *extra)
{
    return apr_psprintf(pool, "{\"alg\":\"%s\",\"nonce\":\"" NONCE "\",\"url\":\"" URL "\","
                        "\"jwk\":%s%s}", alg, jwk_json(pk), extra ? extra : "");
}

static const char *parse_want(ca_jws_t **pj, const char *body, int want_nonce)
{
    const char *detail = NULL, *type;

    *pj = (ca_jws_t *)1;
    type = ca_jws_parse(pj, &detail, body, strlen(body), 65536, want_nonce, pool);
    if (type) {
        ck_assert_ptr_null(*pj);
        ck_assert_ptr_nonnull(detail);
    }
    else {
        ck_assert_ptr_nonnull(*pj);
    }
    return type;
}

static const char *parse(ca_jws_t **pj, const char *body)
{
    return parse_want(pj, body, 1);
}

START_TEST(jws_sign_and_verify)
{
    struct { const char *alg; EVP_PKEY *pk; } keys[] = {
        { "ES256", ec_keygen("P-256") }, { "ES384", ec_keygen("P-384") },
        { "RS256", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) },
        { "EdDSA", EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") },
    };
    ca_jwk_t *stored;
    ca_jws_t *j;
    size_t i, k;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *h = header(keys[i].alg, keys[i].pk, NULL), *body;

        body = jws_make(keys[i].pk, h, "{\"a\":1}", GOOD);
        ck_assert_ptr_null(parse(&j, body));
        ck_assert_str_eq(j->alg, keys[i].alg);
        ck_assert_str_eq(j->nonce, NONCE);
        ck_assert_str_eq(j->url, URL);
        ck_assert_ptr_null(j->kid);
        ck_assert_str_eq(j->payload, "{\"a\":1}");
        ck_assert_uint_eq(j->payload_len, 7);
        ck_assert_int_eq(j->post_as_get, 0);
        ck_assert_str_eq(j->payload_b64, b64("{\"a\":1}"));
        ck_assert_str_eq(j->protected_b64, b64(h));
        ck_assert_ptr_nonnull(j->jwk);
        ck_assert_str_eq(ca_jwk_canonical(j->jwk), jwk_json(keys[i].pk));
        ck_assert_int_eq(ca_jws_verify(j, j->jwk), 1);
        /* another key of the same type, a key of another type */
        {
            EVP_PKEY *other = i == 0 ? ec_keygen("P-256") : i == 1 ? ec_keygen("P-384")
                              : i == 2 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                              : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
            ck_assert_ptr_null(ca_jwk_from_pkey(&stored, other, pool));
            ck_assert_int_eq(ca_jws_verify(j, stored), 0);
            EVP_PKEY_free(other);
        }
        for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            ck_assert_ptr_null(ca_jwk_from_pkey(&stored, keys[k].pk, pool));
            ck_assert_int_eq(ca_jws_verify(j, stored), i == k);
        }
        ck_assert_int_eq(ca_jws_verify(j, NULL), 0);
        ck_assert_int_eq(ca_jws_verify(NULL, j->jwk), 0);
        /* a byte of the signature or of the payload changed */
        ck_assert_ptr_null(parse(&j, jws_make(keys[i].pk, h, "{\"a\":1}", FLIP_SIG)));
        ck_assert_int_eq(ca_jws_verify(j, j->jwk), 0);
        ck_assert_ptr_null(parse(&j, jws_make(keys[i].pk, h, "{\"a\":1}", FLIP_PAYLOAD)));
        ck_assert_str_eq(j->payload, "{\"a\":0}");
        ck_assert_int_eq(ca_jws_verify(j, j->jwk), 0);
        ck_assert_ptr_null(parse(&j, jws_make(keys[i].pk, h, "{\"a\":1}", SHORT_SIG)));
        ck_assert_int_eq(ca_jws_verify(j, j->jwk), 0);
        /* POST-as-GET */
        ck_assert_ptr_null(parse(&j, jws_make(keys[i].pk, h, "", GOOD)));
        ck_assert_int_eq(j->post_as_get, 1);
        ck_assert_str_eq(j->payload, "");
        ck_assert_uint_eq(j->payload_len, 0);
        ck_assert_int_eq(ca_jws_verify(j, j->jwk), 1);
        /* by kid: the caller brings the stored key */
        h = apr_psprintf(pool, "{\"alg\":\"%s\",\"kid\":\"https://ca/acme/acct/7\","
                         "\"nonce\":\"" NONCE "\",\"url\":\"" URL "\"}", keys[i].alg);
        ck_assert_ptr_null(parse(&j, jws_make(keys[i].pk, h, "{\"b\":2}", GOOD)));
        ck_assert_str_eq(j->kid, "https://ca/acme/acct/7");
        ck_assert_ptr_null(j->jwk);
        ck_assert_ptr_null(ca_jwk_from_pkey(&stored, keys[i].pk, pool));
        ck_assert_int_eq(ca_jws_verify(j, stored), 1);
        ck_assert_ptr_null(parse(&j, jws_make(keys[i].pk, h, "{\"b\":2}", FLIP_PAYLOAD)));
        ck_assert_int_eq(ca_jws_verify(j, stored), 0);
    }
    /* an alg that does not fit the key */
    ck_assert_str_eq(parse(&j, jws_make(keys[2].pk, header("ES256", keys[2].pk, NULL), "{}",
                                        GOOD)), "badSignatureAlgorithm");
    ck_assert_str_eq(parse(&j, jws_make(keys[0].pk, header("ES384", keys[0].pk, NULL), "{}",
                                        GOOD)), "badSignatureAlgorithm");
    ck_assert_str_eq(parse(&j, jws_make(keys[1].pk, header("ES256", keys[1].pk, NULL), "{}",
                                        GOOD)), "badSignatureAlgorithm");
    ck_assert_str_eq(parse(&j, jws_make(keys[3].pk, header("RS256", keys[3].pk, NULL), "{}",
                                        GOOD)), "badSignatureAlgorithm");
    ck_assert_str_eq(parse(&j, jws_make(keys[0].pk, header("EdDSA", keys[0].pk, NULL), "{}",
                                        GOOD)), "badSignatureAlgorithm");
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        EVP_PKEY_free(keys[i].pk);
    }
}
END_TEST

/* a flattened JWS with the members given (not signed) */
static const char *body3(const char *prot, const char *pay, const char *sig)
{
    return apr_psprintf(pool, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
                        prot, pay, sig);
}

START_TEST(jws_refusals)
{
    EVP_PKEY *pk = ec_keygen("P-256");
    const char *jwk = jwk_json(pk), *h, *good, *detail;
    ca_jws_t *j;

    good = jws_make(pk, header("ES256", pk, NULL), "{}", GOOD);
    ck_assert_ptr_null(parse(&j, good));
    /* jwk and kid, neither */
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"url\":\"u\",\"jwk\":%s,"
                     "\"kid\":\"https://ca/acme/acct/1\"}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    h = "{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"url\":\"u\"}";
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    h = "{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"url\":\"u\",\"kid\":7}";
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    /* algorithms */
    ck_assert_str_eq(parse(&j, jws_make(pk, header("none", pk, NULL), "{}", GOOD)),
                     "badSignatureAlgorithm");
    ck_assert_str_eq(parse(&j, jws_make(pk, header("HS256", pk, NULL), "{}", GOOD)),
                     "badSignatureAlgorithm");
    ck_assert_str_eq(parse(&j, jws_make(pk, header("PS256", pk, NULL), "{}", GOOD)),
                     "badSignatureAlgorithm");
    ck_assert_str_eq(parse(&j, jws_make(pk, header("es256", pk, NULL), "{}", GOOD)),
                     "badSignatureAlgorithm");
    h = apr_psprintf(pool, "{\"nonce\":\"" NONCE "\",\"url\":\"u\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");   /* no alg */
    h = apr_psprintf(pool, "{\"alg\":null,\"nonce\":\"" NONCE "\",\"url\":\"u\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    /* url */
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"url\":[\"u\"],"
                     "\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    /* the nonce: missing (wanted or not), not base64url, not a string */
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"url\":\"u\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "badNonce");
    ck_assert_ptr_null(parse_want(&j, jws_make(pk, h, "{}", GOOD), 0));
    ck_assert_ptr_null(j->nonce);
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":\"n+1\",\"url\":\"u\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    ck_assert_str_eq(parse_want(&j, jws_make(pk, h, "{}", GOOD), 0), "malformed");
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":\"\",\"url\":\"u\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":12,\"url\":\"u\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse_want(&j, jws_make(pk, h, "{}", GOOD), 0), "malformed");
    /* a member twice: in the header, in the jwk, in the body */
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"alg\":\"ES256\",\"nonce\":\"" NONCE "\","
                     "\"url\":\"u\",\"jwk\":%s}", jwk);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    h = apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"url\":\"u\","
                     "\"jwk\":{\"kty\":\"EC\",%s}", jwk + 1);
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "malformed");
    ck_assert_str_eq(parse(&j, apr_pstrcat(pool, "{\"payload\":\"\",", good + 1, NULL)),
                     "malformed");
    /* crit */
    ck_assert_str_eq(parse(&j, jws_make(pk, header("ES256", pk, ",\"crit\":[\"b64\"]"), "{}",
                                        GOOD)), "malformed");
    /* a jwk that is no public key */
    ck_assert_str_eq(parse(&j, jws_make(pk, apr_psprintf(pool, "{\"alg\":\"ES256\",\"nonce\":\""
                                                         NONCE "\",\"url\":\"u\",\"jwk\":"
                                                         "{\"d\":\"AA\",%s}", jwk + 1), "{}",
                                        GOOD)), "badPublicKey");
    h = "{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"url\":\"u\",\"jwk\":\"key\"}";
    ck_assert_str_eq(parse(&j, jws_make(pk, h, "{}", GOOD)), "badPublicKey");
    /* the shape of the body */
    ck_assert_str_eq(parse(&j, "{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AA\","
                               "\"header\":{}}"), "malformed");
    ck_assert_str_eq(parse(&j, "{\"payload\":\"\",\"signatures\":[{\"protected\":\"e30\","
                               "\"signature\":\"AA\"}]}"), "malformed");
    ck_assert_str_eq(parse(&j, "{\"protected\":\"e30\",\"payload\":\"\"}"), "malformed");
    ck_assert_str_eq(parse(&j, "{\"protected\":\"e30\",\"payload\":null,\"signature\":\"AA\"}"),
                     "malformed");
    ck_assert_str_eq(parse(&j, "[1,2]"), "malformed");
    ck_assert_str_eq(parse(&j, "\"x\""), "malformed");
    ck_assert_str_eq(parse(&j, ""), "malformed");
    ck_assert_str_eq(parse(&j, apr_pstrcat(pool, good, "x", NULL)), "malformed");
    ck_assert_str_eq(parse(&j, body3("!!", "", "AA")), "malformed");
    ck_assert_str_eq(parse(&j, body3(b64("[]"), "", "AA")), "malformed");
    ck_assert_str_eq(parse(&j, body3(b64("{\"alg\":\"ES256\""), "", "AA")), "malformed");
    /* a compact JWS is no JSON */
    ck_assert_str_eq(parse(&j, "eyJhbGciOiJFUzI1NiJ9.e30.AA"), "malformed");
    /* payload and signature: base64url, no NUL, not too deep; a signature */
    {
        const char *prot = b64(header("ES256", pk, NULL));
        ck_assert_str_eq(parse(&j, body3(prot, "e30=", "AA")), "malformed");
        ck_assert_str_eq(parse(&j, body3(prot, b64("{}"), "")), "malformed");
        ck_assert_str_eq(parse(&j, body3(prot, b64("{}"), "A+")), "malformed");
        ck_assert_str_eq(parse(&j, body3(prot, ca_b64url_encode((const unsigned char *)"{}\0", 3,
                                                                pool), "AA")), "malformed");
        ck_assert_str_eq(parse(&j, body3(prot, b64("{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}"),
                                         "AA")), "malformed");
        ck_assert_ptr_null(parse(&j, body3(prot, b64("{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}"),
                                           "AA")));
    }
    /* a body nested too deep (the parser never sees it) */
    ck_assert_str_eq(parse(&j, apr_pstrcat(pool, "{\"protected\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],"
                                           "\"payload\":\"\",\"signature\":\"AA\"}", NULL)),
                     "malformed");
    {
        char *deep = apr_palloc(pool, 20001);
        memset(deep, '[', 10000);
        memset(deep + 10000, ']', 10000);
        deep[20000] = '\0';
        ck_assert_str_eq(parse(&j, deep), "malformed");
    }
    /* the size limit */
    ck_assert_str_eq(ca_jws_parse(&j, &detail, good, strlen(good), 10, 1, pool), "malformed");
    ck_assert_ptr_null(j);
    ck_assert_ptr_null(ca_jws_parse(&j, &detail, good, strlen(good), strlen(good), 1, pool));
    ck_assert_str_eq(ca_jws_parse(&j, &detail, good, strlen(good), strlen(good) - 1, 1, pool),
                     "malformed");
    ck_assert_str_eq(ca_jws_parse(&j, NULL, good, strlen(good), 10, 1, pool), "malformed");
    /* only len bytes are read */
    ck_assert_ptr_null(ca_jws_parse(&j, &detail, apr_pstrcat(pool, good, "garbage", NULL),
                                    strlen(good), 65536, 1, pool));
    EVP_PKEY_free(pk);
}
END_TEST

/* an external account binding with the protected header given whole */
static json_t *eab_raw(const char *prot_json, const char *jwk, const EVP_MD *md,
                       const unsigned char *key, size_t klen)
{
    const char *prot = b64(prot_json);
    const char *pay = b64(jwk), *data = apr_pstrcat(pool, prot, ".", pay, NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    json_error_t err;
    json_t *o;

    ck_assert_ptr_nonnull(HMAC(md, key, (int)klen, (const unsigned char *)data, strlen(data),
                               mac, &n));
    o = json_loads(body3(prot, pay, ca_b64url_encode(mac, n, pool)), 0, &err);
    ck_assert_ptr_nonnull(o);
    return o;
}

static json_t *eab_make(const char *kid, const char *url, const char *jwk,
                        const unsigned char *key, size_t klen)
{
    return eab_raw(apr_psprintf(pool, "{\"alg\":\"HS256\",\"kid\":\"%s\",\"url\":\"%s\"}", kid,
                                url), jwk, EVP_sha256(), key, klen);
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
    /* another key, a shorter one, none */
    ck_assert_int_eq(ca_eab_verify(e, (const unsigned char *)"another key of 32 bytes........",
                                   32), 0);
    ck_assert_int_eq(ca_eab_verify(e, key, sizeof(key) - 1), 0);
    ck_assert_int_eq(ca_eab_verify(e, key, 0), 0);
    ck_assert_int_eq(ca_eab_verify(NULL, key, sizeof(key)), 0);
    /* another url, no url to compare with */
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, "https://ca/acme/other", outer, pool),
                     "malformed");
    ck_assert_ptr_null(kid);
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, NULL, outer, pool), "malformed");
    /* a binding for another key */
    ck_assert_ptr_nonnull(ca_eab_parse(&kid, &detail, e, url, NULL, pool));
    json_decref(e);
    e = eab_make("kid1", url, jwk_json(other), key, sizeof(key));
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "malformed");
    ck_assert_ptr_null(kid);
    ck_assert_int_eq(ca_eab_verify(e, key, sizeof(key)), 1);
    json_decref(e);
    /* the payload changed after the MAC */
    e = eab_make("kid1", url, jwk_json(pk), key, sizeof(key));
    json_object_set_new(e, "payload", json_string(b64(jwk_json(other))));
    ck_assert_int_eq(ca_eab_verify(e, key, sizeof(key)), 0);
    json_decref(e);
    /* HS384 and HS512 */
    e = eab_raw(apr_psprintf(pool, "{\"alg\":\"HS384\",\"kid\":\"k2\",\"url\":\"%s\"}", url),
                jwk_json(pk), EVP_sha384(), key, sizeof(key));
    ck_assert_ptr_null(ca_eab_parse(&kid, &detail, e, url, outer, pool));
    ck_assert_str_eq(kid, "k2");
    ck_assert_int_eq(ca_eab_verify(e, key, sizeof(key)), 1);
    json_decref(e);
    e = eab_raw(apr_psprintf(pool, "{\"alg\":\"HS512\",\"kid\":\"k3\",\"url\":\"%s\"}", url),
                jwk_json(pk), EVP_sha512(), key, sizeof(key));
    ck_assert_ptr_null(ca_eab_parse(&kid, &detail, e, url, outer, pool));
    ck_assert_int_eq(ca_eab_verify(e, key, sizeof(key)), 1);
    json_decref(e);
    /* the alg does not match the MAC */
    e = eab_raw(apr_psprintf(pool, "{\"alg\":\"HS512\",\"kid\":\"k3\",\"url\":\"%s\"}", url),
                jwk_json(pk), EVP_sha256(), key, sizeof(key));
    ck_assert_int_eq(ca_eab_verify(e, key, sizeof(key)), 0);
    json_decref(e);
    /* not an HMAC */
    e = eab_raw(apr_psprintf(pool, "{\"alg\":\"ES256\",\"kid\":\"k\",\"url\":\"%s\"}", url),
                jwk_json(pk), EVP_sha256(), key, sizeof(key));
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "badSignatureAlgorithm");
    ck_assert_int_eq(ca_eab_verify(e, key, sizeof(key)), 0);
    json_decref(e);
    e = eab_raw(apr_psprintf(pool, "{\"alg\":\"none\",\"kid\":\"k\",\"url\":\"%s\"}", url),
                jwk_json(pk), EVP_sha256(), key, sizeof(key));
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "badSignatureAlgorithm");
    json_decref(e);
    /* a nonce, a jwk, no kid */
    e = eab_raw(apr_psprintf(pool, "{\"alg\":\"HS256\",\"kid\":\"k\",\"nonce\":\"" NONCE "\","
                             "\"url\":\"%s\"}", url), jwk_json(pk), EVP_sha256(), key,
                sizeof(key));
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "malformed");
    json_decref(e);
    e = eab_raw(apr_psprintf(pool, "{\"alg\":\"HS256\",\"kid\":\"k\",\"jwk\":%s,\"url\":\"%s\"}",
                             jwk_json(pk), url), jwk_json(pk), EVP_sha256(), key, sizeof(key));
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "malformed");
    json_decref(e);
    e = eab_raw(apr_psprintf(pool, "{\"alg\":\"HS256\",\"url\":\"%s\"}", url), jwk_json(pk),
                EVP_sha256(), key, sizeof(key));
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "malformed");
    json_decref(e);
    /* a payload that is no JWK */
    e = eab_raw(apr_psprintf(pool, "{\"alg\":\"HS256\",\"kid\":\"k\",\"url\":\"%s\"}", url),
                "{}", EVP_sha256(), key, sizeof(key));
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "malformed");
    json_decref(e);
    /* not a flattened JWS */
    e = json_pack("{s:s}", "protected", "e30");
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "malformed");
    ck_assert_int_eq(ca_eab_verify(e, key, sizeof(key)), 0);
    json_decref(e);
    e = json_string("x");
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, e, url, outer, pool), "malformed");
    json_decref(e);
    ck_assert_str_eq(ca_eab_parse(&kid, &detail, NULL, url, outer, pool), "malformed");
    EVP_PKEY_free(pk);
    EVP_PKEY_free(other);
}
END_TEST

/* base64url(SHA-256(s)), computed here */
static const char *sha256_b64(const char *s)
{
    unsigned char md[32];
    unsigned int n = 0;

    ck_assert(EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL));
    return ca_b64url_encode(md, n, pool);
}

START_TEST(keyauth)
{
    const char *json = "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\"}";
    const char *detail, *ka, *x, *y, *token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    EVP_PKEY *pk = ec_keygen("P-256");
    ca_jwk_t *k;

    ck_assert_ptr_null(ca_jwk_parse(&k, &detail, json, strlen(json), pool));
    ka = ca_acme_keyauth("tok", k, pool);
    ck_assert_str_eq(ka, "tok.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    ck_assert_str_eq(ca_acme_dns01_value(ka, pool), sha256_b64(ka));
    /* RFC 8555 8.4: the token of the example, an EC account key; the
     * thumbprint input written out here */
    ck_assert_ptr_null(ca_jwk_from_pkey(&k, pk, pool));
    ec_xy(&x, &y, pk, 32);
    ka = ca_acme_keyauth(token, k, pool);
    ck_assert_str_eq(ka, apr_pstrcat(pool, token, ".", sha256_b64(apr_psprintf(pool,
                     "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y)),
                     NULL));
    ck_assert_str_eq(ca_acme_dns01_value(ka, pool), sha256_b64(ka));
    ck_assert_uint_eq(strlen(ca_acme_dns01_value(ka, pool)), 43);
    EVP_PKEY_free(pk);
}
END_TEST

Suite *jose_suite(void)
{
    Suite *s = suite_create("jose");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
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
