/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ca_crypto.h"
#include "ca_log.h"

#define CA_SALT_LEN 16
#define CA_HASH_LEN 32

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *b64url_encode(const unsigned char *d, apr_size_t n, apr_pool_t *p)
{
    char *out = apr_palloc(p, (n * 4) / 3 + 4), *o = out;
    apr_size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        *o++ = b64url[d[i] >> 2];
        *o++ = b64url[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = b64url[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
        *o++ = b64url[d[i + 2] & 63];
    }
    if (i < n) {
        *o++ = b64url[d[i] >> 2];
        if (i + 1 < n) {
            *o++ = b64url[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
            *o++ = b64url[(d[i + 1] & 15) << 2];
        }
        else {
            *o++ = b64url[(d[i] & 3) << 4];
        }
    }
    *o = '\0';
    return out;
}

apr_status_t ca_random_token(const char **ptoken, apr_size_t nbytes, apr_pool_t *p)
{
    unsigned char buf[64];

    *ptoken = NULL;
    if (nbytes == 0 || nbytes > sizeof(buf)) {
        return APR_EINVAL;
    }
    if (RAND_bytes(buf, (int)nbytes) != 1) {
        ca_log(CA_LOG_ERR, "CA10101", APR_EGENERAL, "RAND_bytes failed");
        return APR_EGENERAL;
    }
    *ptoken = b64url_encode(buf, nbytes, p);
    OPENSSL_cleanse(buf, sizeof(buf));
    return APR_SUCCESS;
}

apr_status_t ca_random_token_hash(const char **ptoken, const char **phash, apr_size_t nbytes,
                                  apr_pool_t *p)
{
    apr_status_t rv = ca_random_token(ptoken, nbytes, p);

    *phash = rv == APR_SUCCESS ? ca_sha256_hex(*ptoken, strlen(*ptoken), p) : NULL;
    return rv;
}

const char *ca_sha256_hex(const char *s, apr_size_t len, apr_pool_t *p)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char *hex = apr_palloc(p, 65);
    unsigned int i;

    if (!EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        return NULL;
    }
    for (i = 0; i < 32; i++) {
        hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
    }
    hex[64] = '\0';
    return hex;
}

int ca_str_equal_ct(const char *a, const char *b)
{
    apr_size_t la, lb;

    if (!a || !b) {
        return 0;
    }
    la = strlen(a);
    lb = strlen(b);
    if (la != lb) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}

apr_status_t ca_pw_hash(const char **phash, const char *password,
                        const ca_argon2_params_t *prm, apr_pool_t *p)
{
    unsigned char salt[CA_SALT_LEN];
    apr_size_t enclen;
    char *enc;
    int rc;

    *phash = NULL;
    if (RAND_bytes(salt, sizeof(salt)) != 1) {
        return APR_EGENERAL;
    }
    enclen = argon2_encodedlen(prm->t_cost, prm->m_cost, prm->lanes,
                               CA_SALT_LEN, CA_HASH_LEN, Argon2_id);
    enc = apr_palloc(p, enclen + 1);
    rc = argon2id_hash_encoded(prm->t_cost, prm->m_cost, prm->lanes,
                               password, strlen(password), salt, sizeof(salt),
                               CA_HASH_LEN, enc, enclen);
    if (rc != ARGON2_OK) {
        ca_log(CA_LOG_ERR, "CA10102", APR_EGENERAL, "argon2id: %s",
               argon2_error_message(rc));
        return APR_EGENERAL;
    }
    *phash = enc;
    return APR_SUCCESS;
}

apr_status_t ca_pw_verify(const char *hash, const char *password)
{
    int rc;

    if (!hash || strncmp(hash, "$argon2id$", 10) != 0) {
        return APR_EINVAL;
    }
    rc = argon2id_verify(hash, password, strlen(password));
    if (rc == ARGON2_OK) {
        return APR_SUCCESS;
    }
    if (rc == ARGON2_VERIFY_MISMATCH) {
        return APR_EMISMATCH;
    }
    return APR_EINVAL;
}

const char *ca_pw_dummy_hash(const ca_argon2_params_t *prm, apr_pool_t *p)
{
    const char *pw, *hash;

    if (ca_random_token(&pw, 16, p) != APR_SUCCESS
        || ca_pw_hash(&hash, pw, prm, p) != APR_SUCCESS) {
        return NULL;
    }
    return hash;
}

const char *ca_answer_normalise(const char *answer, apr_pool_t *p)
{
    char *out = apr_palloc(p, strlen(answer) + 1), *o = out;
    const char *s = answer;
    int space = 0;

    while (*s && apr_isspace(*s)) {
        s++;
    }
    for (; *s; s++) {
        if (apr_isspace(*s)) {
            space = 1;
            continue;
        }
        if (space) {
            *o++ = ' ';
            space = 0;
        }
        *o++ = (char)apr_tolower(*s);
    }
    *o = '\0';
    return out;
}

void ca_log_openssl(const char *tag, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "no detail";

    if (e) {
        ERR_error_string_n(e, buf, sizeof(buf));
    }
    ERR_clear_error();
    ca_log(CA_LOG_ERR, tag, APR_EGENERAL, "%s: %s", what, buf);
}
