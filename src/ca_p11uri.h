/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* RFC 7512 PKCS#11 URIs that name one private key on a token (signerd's
 * key=pkcs11:...).  Pure parsing: no PKCS#11 library is touched here. */
#ifndef CA_P11URI_H
#define CA_P11URI_H

#include <apr_pools.h>

typedef struct {
    /* the token: any of these given must match (NULL: any) */
    const char *token;              /* CKA_LABEL of the token */
    const char *manufacturer;
    const char *model;
    const char *serial;
    /* the key: its label, its id, or both */
    const char *object;             /* CKA_LABEL, or NULL */
    const unsigned char *id;        /* CKA_ID, or NULL */
    apr_size_t id_len;
} ca_p11uri_t;

/* Parses uri ("pkcs11:token=...;object=...;type=private").  Returns NULL
 * and fills *u, or a sentence saying why the URI is refused:
 * - an unknown, repeated or empty attribute, a bad %-escape, a NUL byte;
 * - type other than "private";
 * - neither object nor id (the key must be named);
 * - pin-value or pin-source (the PIN is given at start-up, never written
 *   into the configuration), module-name or module-path (signerd's
 *   'pkcs11-module' directive names the library). */
const char *ca_p11uri_parse(ca_p11uri_t *u, const char *uri, apr_pool_t *p);

#endif
