/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* CA keys on PKCS#11 tokens (libp11 and the module's own function list),
 * for signerd and cacert-ca.  Keys are named by RFC 7512 URIs
 * (ca_p11uri.h); the PIN is given by the caller.  Log tags CA106xx.
 * Built as libcacert_p11, linked only by the programs that hold CA keys. */
#ifndef CA_P11_H
#define CA_P11_H

#include <apr_pools.h>
#include <openssl/evp.h>

typedef struct ca_p11_t ca_p11_t;

/* loads the module (the token's PKCS#11 library) and lists its slots
 * (logged, APR_EINVAL on failure) */
apr_status_t ca_p11_open(ca_p11_t **pt, const char *module, apr_pool_t *p);

/* logs in to the token the URI names (once per token) and returns its
 * private key, whose operations run on the token, after checking that it
 * is not extractable and sensitive; NULL (logged) otherwise */
EVP_PKEY *ca_p11_key(ca_p11_t *t, const char *uri, const char *pin, apr_pool_t *p);

/* makes a key pair on the token labelled token (logged in with pin):
 * key_type ec:P-256, ec:P-384, rsa:2048, rsa:3072 or rsa:4096; the private
 * key is sensitive, never extractable, and may only sign.  It is labelled
 * label, with a random 8-byte id; *puri names it.  APR_EEXIST when the
 * token has a private key with that label already.  Make every key of a
 * token before taking any with ca_p11_key (libp11 lists a token's keys
 * once). */
apr_status_t ca_p11_generate(const char **puri, ca_p11_t *t, const char *token,
                             const char *label, const char *key_type, const char *pin,
                             apr_pool_t *p);

/* logs out of every token and unloads the module; the keys from
 * ca_p11_key must be freed before.  NULL-safe. */
void ca_p11_close(ca_p11_t *t);

#endif
