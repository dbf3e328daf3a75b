/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* cacert-ca's parts shared by its commands: init and show (cacert-ca.c),
 * verify and renew-ocsp (cacert-ca-check.c). */
#ifndef CACERT_CA_H
#define CACERT_CA_H

#include <stdio.h>
#include <sys/types.h>

#include <apr_pools.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca_p11.h"

#define DAY 86400L

typedef struct {
    const char *dir;
    const char *name;
    const char *layout;
    const char *key_type;
    const char *passfile;
    const char *ocsp_base;
    const char *crl_base;
    int days_root;
    int days_sub;
    int force;
    const char *pkcs11_module;      /* keys on tokens: the library */
    const char *token;              /* the issuing CAs' keys on this token */
    const char *root_token;         /* the Root's key on this token */
    const char *signerd_conf;       /* verify: signerd's configuration */
    const char *ca;                 /* renew-ocsp: which CA */
    int days;                       /* renew-ocsp: the responder's validity */
    int warn_days;                  /* verify: warn this long before an expiry */
} cca_opts_t;

typedef struct {
    const char *id;                 /* "root", "member", ... */
    const char *cn;
    X509 *cert;
    EVP_PKEY *key;
    const char *uri;                /* the key on a token, or NULL */
} cca_ca_t;

typedef enum { KIND_ROOT, KIND_SUB, KIND_OCSP } cca_kind_t;

EVP_PKEY *cca_gen_key(const char *type);
/* SHA-384 for P-384 keys, SHA-256 otherwise */
const EVP_MD *cca_md_for(EVP_PKEY *key);
/* from file, or asked on the terminal; at least minlen characters */
apr_status_t cca_read_passphrase(const char **ppass, const char *file, apr_size_t minlen,
                                 apr_pool_t *p);
/* wipe what cca_read_passphrase gave (NULL: nothing) */
void cca_forget_passphrase(const char *pass);
apr_status_t cca_make_dir(const char *path, mode_t mode);
FILE *cca_open_out(const char *path, mode_t mode);
apr_status_t cca_close_out(FILE *f, int ok, const char *path);
apr_status_t cca_write_certs(const char *path, X509 *a, X509 *b);
/* pass NULL: plain PEM (mode 0600); else PKCS#8 with PBES2 */
apr_status_t cca_write_key(const char *path, EVP_PKEY *key, const char *pass);
/* one certificate signed by issuer_key (issuer NULL: self-signed) */
X509 *cca_make_cert(cca_kind_t kind, const char *org, const char *cn, EVP_PKEY *key,
                    X509 *issuer, EVP_PKEY *issuer_key, long days, const cca_opts_t *o,
                    apr_pool_t *p);
X509 *cca_read_cert(const char *path);
void cca_print_cert(const char *path, X509 *x);

/* cacert-ca-check.c */
apr_status_t cca_verify(const cca_opts_t *o, apr_pool_t *p);
apr_status_t cca_renew_ocsp(const cca_opts_t *o, apr_pool_t *p);

#endif
