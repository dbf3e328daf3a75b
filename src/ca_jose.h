/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* JOSE as ACME uses it (RFC 8555 section 6; RFC 7515, 7517, 7518, 7638,
 * 8037): base64url, public JWKs, flattened JWS, external account binding,
 * key authorisations.  Pure: no I/O.
 *
 * The functions that judge outside input return NULL when it is
 * acceptable, else the ACME error type (the part after
 * "urn:ietf:params:acme:error:"), with *pdetail (when pdetail is not NULL)
 * set to a short English reason.  JSON text they read must be an object
 * without a member twice, nested no deeper than 16 arrays and objects. */
#ifndef CA_JOSE_H
#define CA_JOSE_H

#include <apr_pools.h>

/* base64url without padding (RFC 7515 section 2) */
const char *ca_b64url_encode(const unsigned char *data, apr_size_t len, apr_pool_t *p);
/* strict: the url-safe alphabet only, no padding, no white space, no
 * non-zero bits left over; NULL on any error.  NUL-terminated (one byte
 * more than *plen). */
unsigned char *ca_b64url_decode(apr_size_t *plen, const char *s, apr_size_t slen,
                                apr_pool_t *p);

/* a public key from a JWK; its OpenSSL key is freed with the pool */
typedef struct ca_jwk_t ca_jwk_t;

/* kty RSA (n, e: 2048 to 8192 bits, e odd and > 1, both in the fewest
 * octets), EC (crv P-256 or P-384, x and y of the curve's length, on the
 * curve), OKP (crv Ed25519, x of 32 bytes).  Private members, other types
 * or curves: badPublicKey.  *pkey is NULL on failure. */
const char *ca_jwk_parse(ca_jwk_t **pkey, const char **pdetail, const char *json,
                         apr_size_t len, apr_pool_t *p);
/* the same from a parsed JSON object (a jansson json_t *) */
const char *ca_jwk_from_json(ca_jwk_t **pkey, const char **pdetail, const void *jobj,
                             apr_pool_t *p);
/* the JWK of an OpenSSL public key (EVP_PKEY *); "badPublicKey" when its
 * type is not one of the above */
const char *ca_jwk_from_pkey(ca_jwk_t **pkey, void *evp_pkey, apr_pool_t *p);
/* the RFC 7638 form: the required members only, sorted, no white space;
 * what is stored */
const char *ca_jwk_canonical(const ca_jwk_t *key);
/* base64url(SHA-256(canonical)) */
const char *ca_jwk_thumbprint(const ca_jwk_t *key, apr_pool_t *p);
int ca_jwk_equal(const ca_jwk_t *a, const ca_jwk_t *b);
/* the OpenSSL key (EVP_PKEY *), owned by the JWK */
void *ca_jwk_pkey(const ca_jwk_t *key);

typedef struct {
    const char *alg;            /* "ES256", "ES384", "RS256", "EdDSA"; HS* in EAB */
    const char *nonce, *url;    /* NULL when absent */
    const char *kid;            /* NULL when absent */
    ca_jwk_t *jwk;              /* the "jwk", NULL when absent */
    const char *protected_b64, *payload_b64, *signature_b64;   /* as sent */
    const char *payload;        /* decoded, NUL-terminated; "" for POST-as-GET */
    apr_size_t payload_len;
    int post_as_get;            /* the payload was "" */
} ca_jws_t;

/* A flattened JWS JSON body as RFC 8555 6.2 wants it: exactly "protected",
 * "payload" and "signature" (no unprotected header, no general
 * serialization); the protected header a JSON object without duplicate
 * members and without "crit", with "alg", "url", "nonce" (unless want_nonce
 * is 0) and exactly one of "jwk" and "kid", each a string ("jwk" an
 * object).  Any of that wrong, a body larger than max_len, a nonce that is
 * not base64url, a payload with a NUL or nested too deep: malformed.  No
 * nonce when want_nonce: badNonce (RFC 8555 6.5).  alg "none", HS* or
 * anything but ES256, ES384, RS256 and EdDSA, or an alg that does not fit
 * the jwk: badSignatureAlgorithm.  A jwk that is not a usable public key:
 * badPublicKey.  *pjws is NULL on failure.  The signature is not checked
 * here; what *pjws points to lives as long as p. */
const char *ca_jws_parse(ca_jws_t **pjws, const char **pdetail, const char *body,
                         apr_size_t len, apr_size_t max_len, int want_nonce, apr_pool_t *p);
/* 1 if the signature over "protected.payload" is key's and the alg fits
 * the key (ES256/ES384 as R||S of 64/96 bytes, RS256 PKCS#1 v1.5, EdDSA
 * Ed25519) */
int ca_jws_verify(const ca_jws_t *jws, const ca_jwk_t *key);

/* External account binding (RFC 8555 7.3.4): eab_json (json_t *) is the
 * "externalAccountBinding" member of a newAccount payload: a flattened JWS
 * with alg HS256/HS384/HS512 (else badSignatureAlgorithm), a "kid", "url"
 * equal to outer_url, no "nonce", "jwk" or "crit", whose payload is a JWK
 * equal to outer_jwk (else malformed).  *pkid is its kid, NULL on failure.
 * The MAC is not checked here. */
const char *ca_eab_parse(const char **pkid, const char **pdetail, const void *eab_json,
                         const char *outer_url, const ca_jwk_t *outer_jwk, apr_pool_t *p);
/* 1 if the binding's MAC is made with hmac_key (compared in constant time) */
int ca_eab_verify(const void *eab_json, const unsigned char *hmac_key, apr_size_t key_len);

/* token "." thumbprint (RFC 8555 8.1), and dns-01's TXT value:
 * base64url(SHA-256(keyauth)) */
const char *ca_acme_keyauth(const char *token, const ca_jwk_t *key, apr_pool_t *p);
const char *ca_acme_dns01_value(const char *keyauth, apr_pool_t *p);

#endif
