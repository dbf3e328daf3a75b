/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the OCSP responder's request side (ca_ocsp_get_decode,
 * ca_ocsp_parse_request, ca_ocsp_find) and the echo of what was parsed in
 * a signed response (ca_ocsp_sign_response).
 *
 * Input layout: byte 0 is flags: bit 0 set: the rest is the GET form's path
 * part (decoded with ca_ocsp_get_decode, then parsed); clear: the rest is a
 * DER OCSPRequest.  Bits 1-3: max_ids - 1 (1..8).  Bit 4: answer every
 * parsed request with a signed response (P-256 responder made at start-up).
 *
 * Besides sanitizer reports, it abort()s when a promise is broken: a
 * decoded GET path re-encodes to the same base64 (after %-decoding and
 * without padding); a parsed request has 1..max_ids ids whose DER re-parses
 * as a CertID, whose serial is lowercase hex (or '-' and hex) and whose
 * hash lengths match what was parsed; a failure leaves the result NULL; a
 * signed response re-parses and every SingleResponse's CertID is exactly
 * the DER of the request's. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_log.h"
#include "ca_ocsp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static apr_pool_t *root;
static ca_ocsp_responder_t *responder;
static apr_array_header_t *responders;

static void quiet(void *baton, ca_log_level_t level, const char *tag, apr_status_t rv,
                  const char *msg)
{
    (void)baton, (void)level, (void)tag, (void)rv, (void)msg;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
                       long serial)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_NAME_free(n);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                              issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (issuer) {
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, "OCSPSigning");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(x, ikey ? ikey : key, EVP_sha256());
    return x;
}

/* a CA and a P-256 delegated responder, through files as in production */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/fuzz_ocsp_XXXXXX", f1[64], f2[64], f3[64];
    EVP_PKEY *ck, *rk;
    X509 *ca, *rc;
    FILE *f;

    (void)argc, (void)argv;
    fuzz_init();                /* frees the responder at exit, before LeakSanitizer looks */
    apr_pool_create(&root, NULL);
    ca_log_set_sink(quiet, NULL);
    fuzz_check(mkdtemp(dir) != NULL);
    snprintf(f1, sizeof(f1), "%s/ca.pem", dir);
    snprintf(f2, sizeof(f2), "%s/r.pem", dir);
    snprintf(f3, sizeof(f3), "%s/r.key", dir);
    ck = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    rk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ca = make_cert(ck, "Fuzz Root", NULL, NULL, 1);
    rc = make_cert(rk, "Fuzz OCSP", ca, ck, 2);
    fuzz_check((f = fopen(f1, "w")) != NULL && PEM_write_X509(f, ca) && fclose(f) == 0);
    fuzz_check((f = fopen(f2, "w")) != NULL && PEM_write_X509(f, rc) && fclose(f) == 0);
    fuzz_check((f = fopen(f3, "w")) != NULL
          && PEM_write_PrivateKey(f, rk, NULL, NULL, 0, NULL, NULL) && fclose(f) == 0);
    fuzz_check(ca_ocsp_responder_load(&responder, "fuzz", f1, f2, f3, root) == APR_SUCCESS);
    unlink(f1);
    unlink(f2);
    unlink(f3);
    rmdir(dir);
    X509_free(ca);
    X509_free(rc);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(rk);
    responders = apr_array_make(root, 1, sizeof(ca_ocsp_responder_t *));
    APR_ARRAY_PUSH(responders, ca_ocsp_responder_t *) = responder;
    return 0;
}

static int hexv(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* the GET promise: base64 of the result equals the %-decoded input with
 * leading '/'s and '=' padding removed */
static void check_get(const char *in, const unsigned char *der, apr_size_t len,
                      apr_pool_t *p)
{
    apr_size_t n = strlen(in), i, k = 0, e;
    char *t = apr_palloc(p, n + 1);
    unsigned char *enc = apr_palloc(p, 4 * ((len + 2) / 3) + 1);

    while (*in == '/') {
        in++;
    }
    n = strlen(in);
    for (i = 0; i < n; i++) {
        if (in[i] == '%') {
            fuzz_check(i + 2 < n && hexv(in[i + 1]) >= 0 && hexv(in[i + 2]) >= 0);
            t[k++] = (char)(hexv(in[i + 1]) * 16 + hexv(in[i + 2]));
            i += 2;
        }
        else {
            t[k++] = in[i];
        }
    }
    while (k > 0 && t[k - 1] == '=') {
        k--;
    }
    e = (apr_size_t)EVP_EncodeBlock(enc, der, (int)len);
    while (e > 0 && enc[e - 1] == '=') {
        e--;
    }
    fuzz_check(e == k && memcmp(enc, t, k) == 0);
}

static void check_request(const ca_ocsp_request_t *req, int max_ids, int sign,
                          apr_pool_t *p)
{
    ca_ocsp_single_t *items;
    const unsigned char *rder, *q;
    apr_size_t rlen;
    OCSP_RESPONSE *resp;
    OCSP_BASICRESP *bs;
    int i;

    fuzz_check(req->ids->nelts >= 1 && req->ids->nelts <= max_ids);
    items = apr_pcalloc(p, sizeof(*items) * (apr_size_t)req->ids->nelts);
    for (i = 0; i < req->ids->nelts; i++) {
        const ca_ocsp_certid_t *id = &APR_ARRAY_IDX(req->ids, i, ca_ocsp_certid_t);
        OCSP_CERTID *cid;
        ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
        const char *s = id->serial;

        q = id->der;
        cid = d2i_OCSP_CERTID(NULL, &q, (long)id->der_len);
        fuzz_check(cid != NULL && q == id->der + id->der_len);
        fuzz_check(OCSP_id_get0_info(&nh, NULL, &kh, NULL, cid) == 1);
        fuzz_check((apr_size_t)ASN1_STRING_length(nh) == id->name_hash_len
              && (apr_size_t)ASN1_STRING_length(kh) == id->key_hash_len);
        OCSP_CERTID_free(cid);
        if (*s == '-') {
            s++;
        }
        fuzz_check(strlen(s) % 2 == 0 && strspn(s, "0123456789abcdef") == strlen(s));
        (void)ca_ocsp_find(responders, id);
        items[i].id = *id;
        items[i].status = (ca_ocsp_cert_status_t)(i % 3);
        items[i].revoked_at = 1600000000;
        items[i].reason = i % 2;
        items[i].this_update = 1700000000;
        items[i].next_update = i % 2 ? 0 : 1700086400;
    }
    if (!sign) {
        return;
    }
    fuzz_check(ca_ocsp_sign_response(&rder, &rlen, responder, items, req->ids->nelts,
                                req->nonce, req->nonce_len, 1700000000, p)
          == APR_SUCCESS);
    q = rder;
    resp = d2i_OCSP_RESPONSE(NULL, &q, (long)rlen);
    fuzz_check(resp != NULL && q == rder + rlen);
    bs = OCSP_response_get1_basic(resp);
    fuzz_check(bs != NULL && OCSP_resp_count(bs) == req->ids->nelts);
    for (i = 0; i < req->ids->nelts; i++) {
        const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(OCSP_resp_get0(bs, i));
        unsigned char *d = NULL;
        int n = i2d_OCSP_CERTID((OCSP_CERTID *)cid, &d);

        fuzz_check(n > 0 && (apr_size_t)n == items[i].id.der_len
              && memcmp(d, items[i].id.der, (size_t)n) == 0);
        OPENSSL_free(d);
    }
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    ca_ocsp_request_t *req = (ca_ocsp_request_t *)1;
    const unsigned char *der;
    apr_size_t len;
    apr_status_t rv;
    int flags, max_ids;

    if (size < 1) {
        return 0;
    }
    flags = data[0];
    max_ids = ((flags >> 1) & 7) + 1;
    apr_pool_create(&p, root);
    der = data + 1;
    len = size - 1;
    if (flags & 1) {
        char *s = apr_palloc(p, len + 1);
        unsigned char *out = (unsigned char *)1;
        apr_size_t olen = 99;

        memcpy(s, data + 1, len);
        s[len] = '\0';
        rv = ca_ocsp_get_decode(&out, &olen, s, p);
        if (rv != APR_SUCCESS) {
            fuzz_check(rv == APR_EINVAL && out == NULL && olen == 0);
            goto leave;
        }
        check_get(s, out, olen, p);
        der = out;
        len = olen;
    }
    rv = ca_ocsp_parse_request(&req, der, len, max_ids, p);
    if (rv != APR_SUCCESS) {
        fuzz_check(rv == APR_EINVAL && req == NULL);
        goto leave;
    }
    check_request(req, max_ids, (flags >> 4) & 1, p);
leave:
    apr_pool_destroy(p);
    return 0;
}
