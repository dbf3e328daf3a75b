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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *detail = NULL, *kid, *enc;
    apr_size_t n;
    unsigned char *dec;
    json_error_t err;
    ca_jws_t *jws;
    ca_jwk_t *key;
    apr_pool_t *p;
    json_t *o;
    int want;

    fuzz_init();
    apr_pool_create(&p, NULL);
    for (want = 0; want < 2; want++) {
        if (!ca_jws_parse(&jws, &detail, in, size, 65536, want, p)) {
            fuzz_check(jws && jws->alg && jws->url && (jws->jwk || jws->kid));
            fuzz_check(!want || jws->nonce);
            if (jws->jwk) {
                ca_jws_verify(jws, jws->jwk);
                fuzz_check(strlen(ca_jwk_thumbprint(jws->jwk, p)) == 43);
            }
        }
        else {
            fuzz_check(jws == NULL);
        }
    }
    if (!ca_jwk_parse(&key, &detail, in, size, p)) {
        /* the canonical form is a JWK of the same key */
        ca_jwk_t *again;
        const char *c = ca_jwk_canonical(key);
        fuzz_check(!ca_jwk_parse(&again, &detail, c, strlen(c), p));
        fuzz_check(ca_jwk_equal(key, again));
    }
    o = json_loadb(in, size, JSON_REJECT_DUPLICATES, &err);
    if (o) {
        ca_eab_parse(&kid, &detail, o, "https://ca.example/acme/new-account", NULL, p);
        ca_eab_verify(o, (const unsigned char *)"key", 3);
        json_decref(o);
    }
    /* base64url: what decodes encodes back to the same text */
    dec = ca_b64url_decode(&n, in, size, p);
    if (dec) {
        enc = ca_b64url_encode(dec, n, p);
        fuzz_check(strlen(enc) == size && !memcmp(enc, in, size));
    }
    apr_pool_destroy(p);
    return 0;
}
