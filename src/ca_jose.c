/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* JOSE for ACME (ca_jose.h): base64url, JWKs, flattened JWS, external
 * account binding, key authorisations; OpenSSL 3 and jansson. */
#include <limits.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include "ca_jose.h"

enum { KEY_RSA = 1, KEY_P256, KEY_P384, KEY_ED25519 };

/* how deep the JSON ACME sends may nest (arrays and objects); jansson
 * itself stops at 2048 */
#define JOSE_MAX_DEPTH 16

struct ca_jwk_t {
    EVP_PKEY *pkey;
    int type;
    const char *canonical;
};

/* ---- base64url ---- */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *ca_b64url_encode(const unsigned char *data, apr_size_t len, apr_pool_t *p)
{
    char *out = apr_palloc(p, len / 3 * 4 + 4), *o = out;
    apr_size_t i;

    for (i = 0; i + 3 <= len; i += 3) {
        unsigned long v = (unsigned long)data[i] << 16 | (unsigned long)data[i + 1] << 8
                          | data[i + 2];
        *o++ = b64url_alphabet[v >> 18 & 63];
        *o++ = b64url_alphabet[v >> 12 & 63];
        *o++ = b64url_alphabet[v >> 6 & 63];
        *o++ = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        *o++ = b64url_alphabet[data[i] >> 2];
        *o++ = b64url_alphabet[(data[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = b64url_alphabet[data[i] >> 2];
        *o++ = b64url_alphabet[(data[i] & 3) << 4 | data[i + 1] >> 4];
        *o++ = b64url_alphabet[(data[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

static int b64url_value(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52 : c == '-' ? 62 : c == '_' ? 63 : -1;
}

unsigned char *ca_b64url_decode(apr_size_t *plen, const char *s, apr_size_t slen,
                                apr_pool_t *p)
{
    unsigned char *out;
    unsigned long acc = 0;
    apr_size_t i, n = 0;
    int bits = 0, v;

    *plen = 0;
    /* one character left over carries less than a byte */
    if (!s || slen % 4 == 1) {
        return NULL;
    }
    out = apr_palloc(p, slen / 4 * 3 + 3);
    for (i = 0; i < slen; i++) {
        if ((v = b64url_value(s[i])) < 0) {
            return NULL;
        }
        acc = (acc << 6 | (unsigned long)v) & 0xfff;
        if ((bits += 6) >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1UL << bits) - 1;
        }
    }
    /* the bits left over must be zero: only one spelling is accepted */
    if (acc) {
        return NULL;
    }
    out[n] = '\0';
    *plen = n;
    return out;
}

/* ---- JWKs ---- */

static apr_status_t pkey_free(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

static const char *fail(const char **pdetail, const char *type, const char *detail)
{
    if (pdetail) {
        *pdetail = detail;
    }
    return type;
}

/* 1 if JSON text nests arrays and objects no deeper than JOSE_MAX_DEPTH
 * (exact for valid JSON; what is not valid jansson refuses anyway) */
static int depth_ok(const char *s, apr_size_t len)
{
    apr_size_t i;
    int depth = 0, in_string = 0;

    for (i = 0; i < len; i++) {
        if (in_string) {
            if (s[i] == '\\') {
                i++;
            }
            else if (s[i] == '"') {
                in_string = 0;
            }
        }
        else if (s[i] == '"') {
            in_string = 1;
        }
        else if (s[i] == '{' || s[i] == '[') {
            if (++depth > JOSE_MAX_DEPTH) {
                return 0;
            }
        }
        else if (s[i] == '}' || s[i] == ']') {
            depth--;
        }
    }
    return 1;
}

/* JSON text of an object, without a NUL, no deeper than JOSE_MAX_DEPTH,
 * no member twice; NULL otherwise.  The caller owns the reference. */
static json_t *load_object(const char *s, apr_size_t len)
{
    json_error_t err;
    json_t *o;

    if (memchr(s, '\0', len) || !depth_ok(s, len)
        || !(o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &err))) {
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* a string member without a NUL inside, or NULL */
static const char *member_str(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    const char *s = json_string_value(v);

    return s && strlen(s) == json_string_length(v) ? s : NULL;
}

static const char *b64_bn(const BIGNUM *bn, apr_pool_t *p)
{
    int n = BN_num_bytes(bn);
    unsigned char *buf = apr_palloc(p, (apr_size_t)(n ? n : 1));

    BN_bn2bin(bn, buf);
    return ca_b64url_encode(buf, (apr_size_t)n, p);
}

/* the key made, its canonical JWK computed */
static ca_jwk_t *jwk_make(EVP_PKEY *pk, int type, apr_pool_t *p)
{
    ca_jwk_t *k = apr_pcalloc(p, sizeof(*k));
    BIGNUM *a = NULL, *b = NULL;
    unsigned char raw[32];
    size_t rawlen = sizeof(raw);

    apr_pool_cleanup_register(p, pk, pkey_free, apr_pool_cleanup_null);
    k->pkey = pk;
    k->type = type;
    if (type == KEY_RSA) {
        if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &a)
            && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &b)) {
            k->canonical = apr_psprintf(p, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                                        b64_bn(b, p), b64_bn(a, p));
        }
    }
    else if (type == KEY_ED25519) {
        if (EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) && rawlen == 32) {
            k->canonical = apr_psprintf(p, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}",
                                        ca_b64url_encode(raw, 32, p));
        }
    }
    else if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &a)
             && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &b)) {
        int size = type == KEY_P256 ? 32 : 48;
        unsigned char *x = apr_palloc(p, (apr_size_t)size), *y = apr_palloc(p, (apr_size_t)size);
        if (BN_bn2binpad(a, x, size) == size && BN_bn2binpad(b, y, size) == size) {
            k->canonical = apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
                                        "\"y\":\"%s\"}", type == KEY_P256 ? "P-256" : "P-384",
                                        ca_b64url_encode(x, (apr_size_t)size, p),
                                        ca_b64url_encode(y, (apr_size_t)size, p));
        }
    }
    BN_free(a);
    BN_free(b);
    return k->canonical ? k : NULL;
}

/* a member of the JWK as bytes */
static const unsigned char *member_bytes(apr_size_t *plen, json_t *o, const char *name,
                                         apr_pool_t *p)
{
    const char *s = member_str(o, name);

    *plen = 0;
    return s ? ca_b64url_decode(plen, s, strlen(s), p) : NULL;
}

/* the public key of the given type ("RSA" or "EC") that the parameters
 * in bld make; NULL when they make none, or an EC point off the curve */
static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL), *chk = NULL;
    EVP_PKEY *pk = NULL;
    int ok;

    ok = params && ctx && EVP_PKEY_fromdata_init(ctx) > 0
        && EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) > 0;
    /* an EC point must lie on the curve */
    if (ok && !strcmp(type, "EC")) {
        ok = (chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) != NULL
            && EVP_PKEY_public_check(chk) == 1;
    }
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (!ok) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    return pk;
}

static EVP_PKEY *rsa_key(json_t *o, apr_pool_t *p)
{
    const unsigned char *n, *e;
    apr_size_t nlen, elen;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pk = NULL;
    int bits;

    /* unsigned big-endian in the fewest octets (RFC 7518 6.3.1): with a
     * zero octet in front the client's thumbprint would not be ours */
    if (!(n = member_bytes(&nlen, o, "n", p)) || !(e = member_bytes(&elen, o, "e", p))
        || !nlen || !n[0] || !elen || !e[0] || elen > 8) {
        return NULL;
    }
    bn = BN_bin2bn(n, (int)nlen, NULL);
    be = BN_bin2bn(e, (int)elen, NULL);
    bits = bn ? BN_num_bits(bn) : 0;
    if (bits >= 2048 && bits <= 8192 && be && BN_is_odd(be) && !BN_is_one(be)
        && (bld = OSSL_PARAM_BLD_new())
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)) {
        pk = from_params("RSA", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pk;
}

static EVP_PKEY *ec_key(json_t *o, int size, apr_pool_t *p)
{
    const unsigned char *x, *y;
    apr_size_t xlen, ylen;
    unsigned char *point;
    OSSL_PARAM_BLD *bld;
    EVP_PKEY *pk = NULL;

    if (!(x = member_bytes(&xlen, o, "x", p)) || !(y = member_bytes(&ylen, o, "y", p))
        || xlen != (apr_size_t)size || ylen != (apr_size_t)size) {
        return NULL;
    }
    point = apr_palloc(p, 1 + 2 * (apr_size_t)size);
    point[0] = 4;
    memcpy(point + 1, x, xlen);
    memcpy(point + 1 + size, y, ylen);
    if ((bld = OSSL_PARAM_BLD_new())
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           size == 32 ? "prime256v1" : "secp384r1", 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                            1 + 2 * (size_t)size)) {
        pk = from_params("EC", bld);
    }
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

const char *ca_jwk_from_json(ca_jwk_t **pkey, const char **pdetail, const void *jobj,
                             apr_pool_t *p)
{
    static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth",
                                                   "k", NULL };
    json_t *o = (json_t *)jobj;
    const char *kty = member_str(o, "kty");
    const char *crv = member_str(o, "crv");
    EVP_PKEY *pk = NULL;
    int i, type = 0;

    *pkey = NULL;
    if (!json_is_object(o) || !kty) {
        return fail(pdetail, "badPublicKey", "the JWK is not an object with a kty");
    }
    for (i = 0; private_members[i]; i++) {
        if (json_object_get(o, private_members[i])) {
            return fail(pdetail, "badPublicKey", "the JWK holds a private key");
        }
    }
    if (!strcmp(kty, "RSA")) {
        type = KEY_RSA;
        pk = rsa_key(o, p);
    }
    else if (!strcmp(kty, "EC") && crv && (!strcmp(crv, "P-256") || !strcmp(crv, "P-384"))) {
        type = !strcmp(crv, "P-256") ? KEY_P256 : KEY_P384;
        pk = ec_key(o, type == KEY_P256 ? 32 : 48, p);
    }
    else if (!strcmp(kty, "OKP") && crv && !strcmp(crv, "Ed25519")) {
        const unsigned char *x;
        apr_size_t xlen;
        type = KEY_ED25519;
        if ((x = member_bytes(&xlen, o, "x", p)) && xlen == 32) {
            pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
        }
    }
    else {
        return fail(pdetail, "badPublicKey",
                    "only RSA, EC P-256 and P-384, and Ed25519 keys are accepted");
    }
    if (!pk) {
        return fail(pdetail, "badPublicKey", type == KEY_RSA
                    ? "the RSA key is not 2048 to 8192 bits with an odd exponent, "
                      "in the fewest octets"
                    : "the key's members are not valid for its type");
    }
    if (!(*pkey = jwk_make(pk, type, p))) {
        return fail(pdetail, "badPublicKey", "the key cannot be used");
    }
    return NULL;
}

const char *ca_jwk_parse(ca_jwk_t **pkey, const char **pdetail, const char *json,
                         apr_size_t len, apr_pool_t *p)
{
    json_t *o = json ? load_object(json, len) : NULL;
    const char *e;

    *pkey = NULL;
    if (!o) {
        return fail(pdetail, "badPublicKey", "the JWK is not a JSON object");
    }
    e = ca_jwk_from_json(pkey, pdetail, o, p);
    json_decref(o);
    return e;
}

const char *ca_jwk_from_pkey(ca_jwk_t **pkey, void *evp_pkey, apr_pool_t *p)
{
    EVP_PKEY *pk = evp_pkey;
    char group[64];
    size_t glen = 0;
    int type = 0, bits;

    *pkey = NULL;
    if (!pk) {
        return "badPublicKey";
    }
    bits = EVP_PKEY_get_bits(pk);
    if (EVP_PKEY_is_a(pk, "RSA") && bits >= 2048 && bits <= 8192) {
        type = KEY_RSA;
    }
    else if (EVP_PKEY_is_a(pk, "ED25519")) {
        type = KEY_ED25519;
    }
    else if (EVP_PKEY_is_a(pk, "EC")
             && EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                               sizeof(group), &glen)) {
        type = !strcmp(group, "prime256v1") ? KEY_P256 : !strcmp(group, "secp384r1") ? KEY_P384 : 0;
    }
    if (!type || !EVP_PKEY_up_ref(pk) || !(*pkey = jwk_make(pk, type, p))) {
        return "badPublicKey";
    }
    return NULL;
}

const char *ca_jwk_canonical(const ca_jwk_t *key)
{
    return key->canonical;
}

/* base64url(SHA-256(s)); NULL if the digest fails */
static const char *sha256_b64url(const char *s, apr_pool_t *p)
{
    unsigned char md[32];
    unsigned int n = 0;

    if (!EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) || n != sizeof(md)) {
        return NULL;
    }
    return ca_b64url_encode(md, n, p);
}

const char *ca_jwk_thumbprint(const ca_jwk_t *key, apr_pool_t *p)
{
    return sha256_b64url(key->canonical, p);
}

int ca_jwk_equal(const ca_jwk_t *a, const ca_jwk_t *b)
{
    return a && b && !strcmp(a->canonical, b->canonical);
}

void *ca_jwk_pkey(const ca_jwk_t *key)
{
    return key->pkey;
}

/* ---- JWS ---- */

static int alg_type(const char *alg)
{
    return !strcmp(alg, "ES256") ? KEY_P256 : !strcmp(alg, "ES384") ? KEY_P384
           : !strcmp(alg, "RS256") ? KEY_RSA : !strcmp(alg, "EdDSA") ? KEY_ED25519 : 0;
}

static apr_status_t json_free(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

/* the three members of a flattened JWS, and nothing else */
static const char *flattened(const char **pprot, const char **ppay, const char **psig,
                             json_t *o)
{
    *pprot = member_str(o, "protected");
    *ppay = member_str(o, "payload");
    *psig = member_str(o, "signature");
    if (!json_is_object(o) || !*pprot || !*ppay || !*psig || json_object_size(o) != 3) {
        return "a flattened JWS has exactly protected, payload and signature";
    }
    return NULL;
}

/* a protected header: base64url of a JSON object; freed with the pool */
static json_t *load_b64_json(const char *b64, apr_pool_t *p)
{
    apr_size_t n;
    unsigned char *d = ca_b64url_decode(&n, b64, strlen(b64), p);
    json_t *o = d ? load_object((const char *)d, n) : NULL;

    if (o) {
        apr_pool_cleanup_register(p, o, json_free, apr_pool_cleanup_null);
    }
    return o;
}

static const char *header_str(json_t *h, const char *name, apr_pool_t *p)
{
    const char *s = member_str(h, name);

    return s ? apr_pstrdup(p, s) : NULL;
}

const char *ca_jws_parse(ca_jws_t **pjws, const char **pdetail, const char *body,
                         apr_size_t len, apr_size_t max_len, int want_nonce, apr_pool_t *p)
{
    static const char *const strings[] = { "alg", "url", "nonce", "kid", NULL };
    const char *prot, *pay, *sig, *e;
    json_t *o, *h, *jwk;
    ca_jws_t *j;
    apr_size_t n;
    unsigned char *d;
    int i;

    *pjws = NULL;
    if (!body || len > max_len) {
        return fail(pdetail, "malformed", "the request is too large");
    }
    if (!(o = load_object(body, len))) {
        return fail(pdetail, "malformed", "the body is not a JSON object");
    }
    apr_pool_cleanup_register(p, o, json_free, apr_pool_cleanup_null);
    if ((e = flattened(&prot, &pay, &sig, o))) {
        return fail(pdetail, "malformed", e);
    }
    if (!(h = load_b64_json(prot, p))) {
        return fail(pdetail, "malformed", "the protected header is not base64url JSON");
    }
    if (json_object_get(h, "crit")) {
        return fail(pdetail, "malformed", "crit is not supported");
    }
    for (i = 0; strings[i]; i++) {
        if (json_object_get(h, strings[i]) && !member_str(h, strings[i])) {
            return fail(pdetail, "malformed",
                        apr_psprintf(p, "the header's %s is not a string", strings[i]));
        }
    }
    j = apr_pcalloc(p, sizeof(*j));
    j->protected_b64 = prot;
    j->payload_b64 = pay;
    j->signature_b64 = sig;
    j->alg = header_str(h, "alg", p);
    j->url = header_str(h, "url", p);
    j->nonce = header_str(h, "nonce", p);
    j->kid = header_str(h, "kid", p);
    jwk = json_object_get(h, "jwk");
    if (!j->alg) {
        return fail(pdetail, "malformed", "the protected header has no alg");
    }
    if (!alg_type(j->alg)) {
        return fail(pdetail, "badSignatureAlgorithm",
                    "the algorithm must be ES256, ES384, RS256 or EdDSA");
    }
    if (!j->url) {
        return fail(pdetail, "malformed", "the protected header has no url");
    }
    /* RFC 8555 6.5: a nonce that is not base64url is malformed, a missing
     * one is a bad nonce (the client retries with a fresh one) */
    if (j->nonce && (!*j->nonce || !ca_b64url_decode(&n, j->nonce, strlen(j->nonce), p))) {
        return fail(pdetail, "malformed", "the nonce is not base64url");
    }
    if (want_nonce && !j->nonce) {
        return fail(pdetail, "badNonce", "the protected header has no nonce");
    }
    if (!jwk == !j->kid) {
        return fail(pdetail, "malformed", "the protected header needs exactly one of jwk and kid");
    }
    if (jwk) {
        if ((e = ca_jwk_from_json(&j->jwk, pdetail, jwk, p))) {
            return e;
        }
        if (alg_type(j->alg) != j->jwk->type) {
            return fail(pdetail, "badSignatureAlgorithm", "the algorithm does not fit the key");
        }
    }
    if (!*pay) {
        j->post_as_get = 1;
        j->payload = "";
    }
    else if (!(d = ca_b64url_decode(&n, pay, strlen(pay), p))) {
        return fail(pdetail, "malformed", "the payload is not base64url");
    }
    else if (memchr(d, '\0', n) || !depth_ok((const char *)d, n)) {
        return fail(pdetail, "malformed", "the payload is not JSON ACME accepts");
    }
    else {
        j->payload = (const char *)d;
        j->payload_len = n;
    }
    if (!ca_b64url_decode(&n, sig, strlen(sig), p) || !n) {
        return fail(pdetail, "malformed", "the signature is not base64url");
    }
    *pjws = j;
    return NULL;
}

/* R||S as a DER ECDSA-Sig-Value */
static unsigned char *ecdsa_der(int *pderlen, const unsigned char *rs, int size)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, size, NULL), *ss = BN_bin2bn(rs + size, size, NULL);
    unsigned char *der = NULL;

    *pderlen = 0;
    if (s && r && ss && ECDSA_SIG_set0(s, r, ss)) {
        r = ss = NULL;
        *pderlen = i2d_ECDSA_SIG(s, &der);
    }
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return *pderlen > 0 ? der : NULL;
}

static int verify_raw(EVP_PKEY *pk, const EVP_MD *md, const unsigned char *sig, size_t siglen,
                      const char *data, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) == 1
             && EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)data, len) == 1;

    EVP_MD_CTX_free(ctx);
    return ok;
}

int ca_jws_verify(const ca_jws_t *jws, const ca_jwk_t *key)
{
    apr_pool_t *p;
    const unsigned char *sig;
    const char *data;
    apr_size_t siglen;
    int ok = 0, type, size, derlen;

    if (!jws || !key || !(type = alg_type(jws->alg)) || type != key->type
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    data = apr_pstrcat(p, jws->protected_b64, ".", jws->payload_b64, NULL);
    sig = ca_b64url_decode(&siglen, jws->signature_b64, strlen(jws->signature_b64), p);
    if (sig && (type == KEY_P256 || type == KEY_P384)) {
        unsigned char *der;
        size = type == KEY_P256 ? 32 : 48;
        if (siglen == 2 * (apr_size_t)size && (der = ecdsa_der(&derlen, sig, size))) {
            ok = verify_raw(key->pkey, size == 32 ? EVP_sha256() : EVP_sha384(), der,
                            (size_t)derlen, data, strlen(data));
            OPENSSL_free(der);
        }
    }
    else if (sig) {
        ok = verify_raw(key->pkey, type == KEY_RSA ? EVP_sha256() : NULL, sig, siglen, data,
                        strlen(data));
    }
    apr_pool_destroy(p);
    return ok;
}

/* ---- external account binding ---- */

static const EVP_MD *hmac_md(const char *alg)
{
    return !alg ? NULL : !strcmp(alg, "HS256") ? EVP_sha256() : !strcmp(alg, "HS384")
           ? EVP_sha384() : !strcmp(alg, "HS512") ? EVP_sha512() : NULL;
}

const char *ca_eab_parse(const char **pkid, const char **pdetail, const void *eab_json,
                         const char *outer_url, const ca_jwk_t *outer_jwk, apr_pool_t *p)
{
    const char *prot, *pay, *sig, *url, *kid;
    ca_jwk_t *inner;
    apr_size_t n;
    unsigned char *d;
    json_t *h;

    *pkid = NULL;
    if (!eab_json || flattened(&prot, &pay, &sig, (json_t *)eab_json)) {
        return fail(pdetail, "malformed", "the binding is not a flattened JWS");
    }
    if (!(h = load_b64_json(prot, p))) {
        return fail(pdetail, "malformed", "the binding's protected header is not base64url JSON");
    }
    if (!hmac_md(member_str(h, "alg"))) {
        return fail(pdetail, "badSignatureAlgorithm",
                    "the binding's MAC must be HS256, HS384 or HS512");
    }
    url = member_str(h, "url");
    kid = header_str(h, "kid", p);
    if (!kid || !*kid || !url || !outer_url || strcmp(url, outer_url)
        || json_object_get(h, "nonce") || json_object_get(h, "jwk")
        || json_object_get(h, "crit")) {
        return fail(pdetail, "malformed",
                    "the binding needs a kid and the request's url, and no nonce or jwk");
    }
    if (!ca_b64url_decode(&n, sig, strlen(sig), p) || !n) {
        return fail(pdetail, "malformed", "the binding's MAC is not base64url");
    }
    if (!(d = ca_b64url_decode(&n, pay, strlen(pay), p))
        || ca_jwk_parse(&inner, NULL, (const char *)d, n, p)
        || !ca_jwk_equal(inner, outer_jwk)) {
        return fail(pdetail, "malformed", "the binding is not for the account's key");
    }
    *pkid = kid;
    return NULL;
}

int ca_eab_verify(const void *eab_json, const unsigned char *hmac_key, apr_size_t key_len)
{
    const char *prot, *pay, *sig;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    const unsigned char *given;
    apr_size_t glen;
    const EVP_MD *md;
    apr_pool_t *p;
    json_t *h;
    int ok = 0;

    if (!eab_json || flattened(&prot, &pay, &sig, (json_t *)eab_json)
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 0;
    }
    h = load_b64_json(prot, p);
    md = h ? hmac_md(member_str(h, "alg")) : NULL;
    given = ca_b64url_decode(&glen, sig, strlen(sig), p);
    if (md && given && hmac_key && key_len && key_len <= INT_MAX
        && HMAC(md, hmac_key, (int)key_len,
                (const unsigned char *)apr_pstrcat(p, prot, ".", pay, NULL),
                strlen(prot) + 1 + strlen(pay), mac, &maclen)
        && glen == maclen) {
        ok = CRYPTO_memcmp(mac, given, maclen) == 0;
    }
    apr_pool_destroy(p);
    return ok;
}

/* ---- key authorisations ---- */

const char *ca_acme_keyauth(const char *token, const ca_jwk_t *key, apr_pool_t *p)
{
    return apr_pstrcat(p, token, ".", ca_jwk_thumbprint(key, p), NULL);
}

const char *ca_acme_dns01_value(const char *keyauth, apr_pool_t *p)
{
    return sha256_b64url(keyauth, p);
}
