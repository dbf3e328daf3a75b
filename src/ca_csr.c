/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdio.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/sha.h>

#include "ca_csr.h"
#include "ca_crypto.h"
#include "ca_form.h"
#include "ca_log.h"

struct ca_weakkeys_t {
    apr_hash_t *set;
};

static apr_status_t free_req(void *data)
{
    X509_REQ_free(data);
    return APR_SUCCESS;
}

apr_status_t ca_weakkeys_load(ca_weakkeys_t **pw, const char *path, apr_pool_t *p)
{
    apr_file_t *f;
    char line[128];
    apr_status_t rv;
    ca_weakkeys_t *w = apr_pcalloc(p, sizeof(*w));

    *pw = NULL;
    w->set = apr_hash_make(p);
    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p)) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10501", rv, "cannot read weak-key list %s", path);
        return rv;
    }
    while (apr_file_gets(line, sizeof(line), f) == APR_SUCCESS) {
        apr_size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (n == 20 && strspn(line, "0123456789abcdef") == 20) {
            apr_hash_set(w->set, apr_pstrdup(p, line), 20, "");
        }
    }
    apr_file_close(f);
    *pw = w;
    return APR_SUCCESS;
}

int ca_weakkeys_has(const ca_weakkeys_t *w, EVP_PKEY *pkey, apr_pool_t *p)
{
    BIGNUM *n = NULL;
    char *hex, *text, *c;
    unsigned char md[SHA_DIGEST_LENGTH];
    char fp[41];
    int i, found;

    if (!w || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA
        || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n)) {
        return 0;
    }
    hex = BN_bn2hex(n);
    BN_free(n);
    if (!hex) {
        return 0;
    }
    for (c = hex; *c; c++) {
        if (*c >= 'a' && *c <= 'f') {
            *c = (char)(*c - 'a' + 'A');
        }
    }
    text = apr_pstrcat(p, "Modulus=", hex, "\n", NULL);
    OPENSSL_free(hex);
    SHA1((const unsigned char *)text, strlen(text), md);
    for (i = 0; i < SHA_DIGEST_LENGTH; i++) {
        snprintf(fp + 2 * i, 3, "%02x", md[i]);
    }
    found = apr_hash_get(w->set, fp + 20, 20) != NULL;
    return found;
}

static int is_pem(const char *data, apr_size_t len)
{
    apr_size_t i = 0;

    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'
                       || data[i] == '\n')) {
        i++;
    }
    return len - i >= 11 && !memcmp(data + i, "-----BEGIN ", 11);
}

/* every text attribute of the subject: valid UTF-8, no control characters */
static int subject_clean(X509_NAME *name)
{
    int i;

    for (i = 0; i < X509_NAME_entry_count(name); i++) {
        ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, s);
        int ok = n >= 0 && ca_utf8_valid((const char *)utf8, (apr_size_t)n)
                 && !ca_has_control((const char *)utf8, (apr_size_t)n);
        OPENSSL_free(utf8);
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

static const char *check_key(const char **pdesc, EVP_PKEY *pkey, apr_pool_t *p)
{
    int type = EVP_PKEY_get_base_id(pkey);

    if (type == EVP_PKEY_RSA) {
        BIGNUM *e = NULL;
        int bits = EVP_PKEY_get_bits(pkey), ok;
        if (bits < 2048) {
            return "csr.rsa.small";
        }
        if (bits > 8192) {
            return "csr.rsa.large";
        }
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
            return "csr.parse";
        }
        /* e must be odd, at least 65537 and below 2^256 */
        ok = BN_is_odd(e) && BN_num_bits(e) <= 256 && BN_cmp(e, BN_value_one()) > 0;
        if (ok) {
            BIGNUM *min = BN_new();
            ok = min && BN_set_word(min, 65537) && BN_cmp(e, min) >= 0;
            BN_free(min);
        }
        BN_free(e);
        if (!ok) {
            return "csr.rsa.exponent";
        }
        *pdesc = apr_psprintf(p, "RSA %d", bits);
        return NULL;
    }
    if (type == EVP_PKEY_EC) {
        char curve[64] = "";
        size_t len = 0;
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                            sizeof(curve), &len)) {
            return "csr.ec.curve";
        }
        if (!strcmp(curve, "prime256v1") || !strcmp(curve, "P-256")) {
            *pdesc = "EC P-256";
        }
        else if (!strcmp(curve, "secp384r1") || !strcmp(curve, "P-384")) {
            *pdesc = "EC P-384";
        }
        else {
            return "csr.ec.curve";
        }
        return NULL;
    }
    return "csr.keytype";
}

static const char *csr_parse(ca_csr_t **pcsr, const char *data, apr_size_t len,
                             const ca_weakkeys_t *weak, apr_pool_t *p)
{
    ca_csr_t *c;
    X509_REQ *req = NULL;
    BIO *bio;
    unsigned char *buf = NULL;
    int n;
    const char *err;

    *pcsr = NULL;
    if (!data || len == 0) {
        return "csr.empty";
    }
    if (len > CA_CSR_MAX) {
        return "csr.toolarge";
    }
    bio = BIO_new_mem_buf(data, (int)len);
    if (!bio) {
        return "csr.parse";
    }
    if (is_pem(data, len)) {
        req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
    }
    else {
        const unsigned char *d = (const unsigned char *)data;
        req = d2i_X509_REQ(NULL, &d, (long)len);
        /* nothing may follow the DER */
        if (req && d != (const unsigned char *)data + len) {
            X509_REQ_free(req);
            req = NULL;
        }
    }
    BIO_free(bio);
    if (!req) {
        return "csr.parse";
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->req = req;
    apr_pool_cleanup_register(p, req, free_req, apr_pool_cleanup_null);
    c->pkey = X509_REQ_get0_pubkey(req);
    if (!c->pkey) {
        return "csr.parse";
    }
    if (X509_REQ_verify(req, c->pkey) != 1) {
        return "csr.signature";
    }
    if (!subject_clean(X509_REQ_get_subject_name(req))) {
        return "csr.subject";
    }
    if ((err = check_key(&c->key_desc, c->pkey, p))) {
        return err;
    }
    if (ca_weakkeys_has(weak, c->pkey, p)) {
        return "csr.weak";
    }
    n = i2d_X509_REQ(req, &buf);
    if (n <= 0) {
        return "csr.parse";
    }
    c->der = apr_pmemdup(p, buf, (apr_size_t)n);
    c->der_len = (apr_size_t)n;
    OPENSSL_free(buf);
    buf = NULL;
    n = i2d_PUBKEY(c->pkey, &buf);
    if (n <= 0) {
        return "csr.parse";
    }
    c->spki = apr_pmemdup(p, buf, (apr_size_t)n);
    c->spki_len = (apr_size_t)n;
    OPENSSL_free(buf);
    c->spki_sha256 = ca_sha256_hex((const char *)c->spki, c->spki_len, p);
    *pcsr = c;
    return NULL;
}

const char *ca_csr_parse(ca_csr_t **pcsr, const char *data, apr_size_t len,
                         const ca_weakkeys_t *weak, apr_pool_t *p)
{
    const char *err = csr_parse(pcsr, data, len, weak, p);

    /* leave no error behind in this thread's OpenSSL queue */
    ERR_clear_error();
    return err;
}
