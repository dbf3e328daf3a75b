/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Randomness, token hashing, constant-time comparison and Argon2id. */
#ifndef CA_CRYPTO_H
#define CA_CRYPTO_H

#include <stdint.h>
#include <apr_pools.h>

typedef struct {
    uint32_t t_cost;     /* iterations */
    uint32_t m_cost;     /* memory, KiB */
    uint32_t lanes;      /* parallelism */
} ca_argon2_params_t;

/* nbytes of CSPRNG output as unpadded base64url (>= 16 bytes asked for
 * anything that guards access) */
apr_status_t ca_random_token(const char **ptoken, apr_size_t nbytes, apr_pool_t *p);
/* a new secret for a cookie, a session or a link: ca_random_token of
 * nbytes, and its ca_sha256_hex, which is all the database keeps of it */
apr_status_t ca_random_token_hash(const char **ptoken, const char **phash, apr_size_t nbytes,
                                  apr_pool_t *p);
/* lowercase hex SHA-256 of s[0..len) */
const char *ca_sha256_hex(const char *s, apr_size_t len, apr_pool_t *p);
/* 1 if equal; time depends only on the lengths */
int ca_str_equal_ct(const char *a, const char *b);

/* Argon2id in PHC string form ($argon2id$v=19$m=..,t=..,p=..$salt$hash) */
apr_status_t ca_pw_hash(const char **phash, const char *password,
                        const ca_argon2_params_t *params, apr_pool_t *p);
/* APR_SUCCESS if password matches, APR_EMISMATCH if not, APR_EINVAL if the
 * stored hash is malformed */
apr_status_t ca_pw_verify(const char *hash, const char *password);
/* a valid hash of a random password, for equal timing when an account does
 * not exist */
const char *ca_pw_dummy_hash(const ca_argon2_params_t *params, apr_pool_t *p);

/* lost-password answers: Unicode-agnostic normalisation: ASCII letters
 * lowercased, runs of white space collapsed to one space, trimmed */
const char *ca_answer_normalise(const char *answer, apr_pool_t *p);

/* log the first entry of this thread's OpenSSL error queue, and clear it */
void ca_log_openssl(const char *tag, const char *what);

#endif
