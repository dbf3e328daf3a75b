/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: what an ACME client sends first -- the JWS body
 * (ca_jws_parse with and without a nonce wanted, then the signature check
 * and the thumbprint of its key), a JWK on its own (ca_jwk_parse), an
 * external account binding (ca_eab_parse, ca_eab_verify) and base64url. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <jansson.h>

#include "ca_jose.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* what a parsed JWS promises */
static void check_jws(const ca_jws_t *jws, int want_nonce, apr_pool_t *p)
{
    ca_jwk_t *again;

    fuzz_check(jws && jws->alg && jws->url && jws->protected_b64 && jws->payload_b64
               && jws->signature_b64 && jws->payload);
    fuzz_check(!jws->jwk != !jws->kid);
    fuzz_check(!want_nonce || jws->nonce);
    fuzz_check(jws->post_as_get == !*jws->payload_b64);
    fuzz_check(strlen(jws->payload) == jws->payload_len && (!jws->post_as_get || !jws->payload_len));
    if (jws->jwk) {
        /* a verdict either way, the same twice */
        int ok = ca_jws_verify(jws, jws->jwk);
        fuzz_check(ok == 0 || ok == 1);
        fuzz_check(ca_jws_verify(jws, jws->jwk) == ok);
        fuzz_check(strlen(ca_jwk_thumbprint(jws->jwk, p)) == 43);
        /* the OpenSSL key gives back the same JWK */
        fuzz_check(!ca_jwk_from_pkey(&again, ca_jwk_pkey(jws->jwk), p));
        fuzz_check(ca_jwk_equal(jws->jwk, again));
    }
}

/* the input as an external account binding for the key in its own payload */
static void eab(const char *in, size_t size, apr_pool_t *p)
{
    const char *url = "https://ca.example/acme/new-account", *kid = NULL, *detail = NULL, *pay;
    json_error_t err;
    ca_jwk_t *outer = NULL;
    unsigned char *d;
    apr_size_t n;
    json_t *o = json_loadb(in, size, JSON_REJECT_DUPLICATES, &err);

    if (!o) {
        return;
    }
    pay = json_string_value(json_object_get(o, "payload"));
    if (pay && (d = ca_b64url_decode(&n, pay, strlen(pay), p))) {
        ca_jwk_parse(&outer, NULL, (const char *)d, n, p);
    }
    if (!ca_eab_parse(&kid, &detail, o, url, outer, p)) {
        fuzz_check(kid && *kid && outer);
    }
    else {
        fuzz_check(kid == NULL && detail);
    }
    ca_eab_verify(o, (const unsigned char *)"key", 3);
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *detail = NULL, *enc, *type;
    apr_size_t n;
    unsigned char *dec;
    ca_jws_t *jws;
    ca_jwk_t *key;
    apr_pool_t *p;
    int want;

    fuzz_init();
    apr_pool_create(&p, NULL);
    for (want = 0; want < 2; want++) {
        detail = NULL;
        if (!(type = ca_jws_parse(&jws, &detail, in, size, 65536, want, p))) {
            check_jws(jws, want, p);
        }
        else {
            fuzz_check(jws == NULL && detail && *type);
        }
    }
    detail = NULL;
    if (!(type = ca_jwk_parse(&key, &detail, in, size, p))) {
        /* the canonical form is a JWK of the same key */
        ca_jwk_t *again;
        const char *c = ca_jwk_canonical(key);
        fuzz_check(!ca_jwk_parse(&again, &detail, c, strlen(c), p));
        fuzz_check(ca_jwk_equal(key, again));
        fuzz_check(!strcmp(ca_jwk_thumbprint(key, p), ca_jwk_thumbprint(again, p)));
    }
    else {
        fuzz_check(key == NULL && detail && !strcmp(type, "badPublicKey"));
    }
    eab(in, size, p);
    /* base64url: what decodes encodes back to the same text, and any bytes
     * survive encode + decode */
    dec = ca_b64url_decode(&n, in, size, p);
    if (dec) {
        enc = ca_b64url_encode(dec, n, p);
        fuzz_check(strlen(enc) == size && !memcmp(enc, in, size) && dec[n] == 0);
    }
    enc = ca_b64url_encode(data, size, p);
    dec = ca_b64url_decode(&n, enc, strlen(enc), p);
    fuzz_check(dec && n == size && !memcmp(dec, data, size));
    apr_pool_destroy(p);
    return 0;
}
