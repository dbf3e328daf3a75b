/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Intake of a member's PKCS#10 certificate signing request: PEM or DER,
 * signature checked, key type and size checked, weak keys refused.  The
 * CSR's subject is never copied into a certificate (names come from
 * verified data), but a subject that is not clean text is refused. */
#ifndef CA_CSR_H
#define CA_CSR_H

#include <apr_pools.h>
#include <apr_hash.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define CA_CSR_MAX 16384        /* bytes of PEM or DER */

typedef struct {
    X509_REQ *req;                      /* freed with the pool */
    EVP_PKEY *pkey;                     /* the subject key (owned by req) */
    const unsigned char *der;           /* the CSR, DER */
    apr_size_t der_len;
    const unsigned char *spki;          /* SubjectPublicKeyInfo, DER */
    apr_size_t spki_len;
    const char *spki_sha256;            /* hex, to find keys used before */
    const char *key_desc;               /* "RSA 2048", "EC P-256" */
} ca_csr_t;

/* A set of weak-key fingerprints in the format of Debian's
 * openssl-blacklist (the last 20 hex digits of SHA-1 of "Modulus=HEX\n"),
 * one per line; NULL when there is none. */
typedef struct ca_weakkeys_t ca_weakkeys_t;
apr_status_t ca_weakkeys_load(ca_weakkeys_t **pw, const char *path, apr_pool_t *p);

/* NULL on success, else a message key:
 *   csr.empty, csr.toolarge, csr.parse, csr.signature, csr.subject,
 *   csr.keytype, csr.rsa.small, csr.rsa.large, csr.rsa.exponent,
 *   csr.ec.curve, csr.weak */
const char *ca_csr_parse(ca_csr_t **pcsr, const char *data, apr_size_t len,
                         const ca_weakkeys_t *weak, apr_pool_t *p);

/* 1 if the RSA key's modulus is in the weak-key set */
int ca_weakkeys_has(const ca_weakkeys_t *w, EVP_PKEY *pkey, apr_pool_t *p);

#endif
