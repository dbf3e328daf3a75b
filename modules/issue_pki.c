/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_issue's /pki: the CA certificates and CRLs, for anyone, and
 * the page that lists them; and a member's certificate with that chain
 * (PEM, PKCS#7) for the /certs pages. */
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "ca_issue.h"
#include "ca_tmpl.h"
#include "issue_private.h"

APLOG_USE_MODULE(cacert_issue);

/* ---- a member's certificate with its chain, as /certs downloads it ---- */

const char *iss_pem_of(const unsigned char *der, apr_size_t len, const char *label,
                       apr_pool_t *p)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *mem;
    long n;
    const char *s;

    PEM_write_bio(b, label, "", der, (long)len);
    n = BIO_get_mem_data(b, &mem);
    s = apr_pstrmemdup(p, mem, (apr_size_t)n);
    BIO_free(b);
    return s;
}

static int add_der(PKCS7 *p7, const unsigned char *der, apr_size_t len)
{
    X509 *x = d2i_X509(NULL, &der, (long)len);
    int ok = x && PKCS7_add_certificate(p7, x);

    X509_free(x);
    return ok;
}

apr_status_t iss_pkcs7_of(const unsigned char **pout, apr_size_t *plen, const ca_cert_t *c,
                          const issuer_t *is, const issuer_t *root, apr_pool_t *p)
{
    PKCS7 *p7 = PKCS7_new();
    unsigned char *der = NULL;
    int ok, n;

    ok = p7 && PKCS7_set_type(p7, NID_pkcs7_signed)
         && PKCS7_content_new(p7, NID_pkcs7_data)
         && add_der(p7, c->der, c->der_len)
         && (!is || add_der(p7, is->der, is->der_len))
         && (!root || root == is || add_der(p7, root->der, root->der_len));
    if (ok && (n = i2d_PKCS7(p7, &der)) > 0) {
        *pout = apr_pmemdup(p, der, (apr_size_t)n);
        *plen = (apr_size_t)n;
        OPENSSL_free(der);
    }
    else {
        ok = 0;
    }
    PKCS7_free(p7);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

const char *iss_chain_pem(iss_srv_cfg *cfg, const ca_cert_t *c, apr_pool_t *p)
{
    issuer_t *is = iss_find_issuer(cfg, c->ca);

    return apr_pstrcat(p, iss_pem_of(c->der, c->der_len, "CERTIFICATE", p), is ? is->pem : "",
                       cfg->root && (!is || is->der_len != cfg->root->der_len
                                        || memcmp(is->der, cfg->root->der, is->der_len))
                       ? cfg->root->pem : "", NULL);
}

static void ca_item(ca_tmpl_ctx_t *ctx, const issuer_t *is, int crl, apr_pool_t *p)
{
    const unsigned char *d = is->der;
    X509 *x = d2i_X509(NULL, &d, (long)is->der_len);
    ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "cas");
    unsigned char md[32];
    unsigned int n = 0, i;
    char *fp;

    ca_tmpl_set(item, "name", is->name);
    if (crl) {
        ca_tmpl_set(item, "crl", "1");
    }
    if (!x) {
        return;
    }
    {
        BIO *b = BIO_new(BIO_s_mem());
        char *mem;
        long len;
        X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
        len = BIO_get_mem_data(b, &mem);
        ca_tmpl_set(item, "subject", apr_pstrmemdup(p, mem, (apr_size_t)len));
        BIO_free(b);
    }
    X509_digest(x, EVP_sha256(), md, &n);
    fp = apr_palloc(p, 3 * n + 1);
    for (i = 0; i < n; i++) {
        apr_snprintf(fp + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
    }
    ca_tmpl_set(item, "sha256", fp);
    X509_free(x);
}

/* /pki/: the page that lists the CA certificates and CRLs */
static int pki_page(request_rec *r, iss_srv_cfg *c)
{
    APR_OPTIONAL_FN_TYPE(cacert_page_start) *page_start =
        APR_RETRIEVE_OPTIONAL_FN(cacert_page_start);
    APR_OPTIONAL_FN_TYPE(cacert_page_render) *page_render =
        APR_RETRIEVE_OPTIONAL_FN(cacert_page_render);
    cacert_page_t *pg;
    int rc, i;

    if (!page_start || !page_render) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rc = page_start(&pg, r, -1, NULL)) != OK) {
        return rc;
    }
    if (c->root) {
        ca_item(pg->ctx, c->root, 0, r->pool);
    }
    for (i = 0; i < c->issuers->nelts; i++) {
        ca_item(pg->ctx, &APR_ARRAY_IDX(c->issuers, i, issuer_t), 1, r->pool);
    }
    iss_pgp_pki_vars(pg->ctx, &c->pgp);
    return page_render(pg, "pki.html", HTTP_OK);
}

/* /pki/: CA certificates and CRLs, for anyone */
int iss_pki_handler(request_rec *r)
{
    iss_srv_cfg *c = iss_cfg_of(r->server);
    const char *name = strrchr(r->uri, '/'), *dot;
    issuer_t *is;

    if (r->method_number != M_GET) {
        r->allowed = AP_METHOD_BIT << M_GET;
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (name && !name[1]) {
        return pki_page(r, c);
    }
    if (!name || !(dot = strrchr(++name, '.'))) {
        return HTTP_NOT_FOUND;
    }
    if (!strcmp(name, "openpgp.asc")) {
        return iss_pgp_pki_file(r, &c->pgp);
    }
    {
        const char *ca = apr_pstrmemdup(r->pool, name, (apr_size_t)(dot - name));
        is = !strcmp(ca, "root") ? c->root : iss_find_issuer(c, ca);
        if (!is) {
            return HTTP_NOT_FOUND;
        }
        if (!strcmp(dot, ".crt") || !strcmp(dot, ".pem")) {
            return cacert_send(r, "application/x-pem-file", NULL, is->pem, strlen(is->pem));
        }
        if (!strcmp(dot, ".der") || !strcmp(dot, ".cer")) {
            return cacert_send(r, "application/pkix-cert", NULL, is->der, is->der_len);
        }
        if (!strcmp(dot, ".crl") && is != c->root) {
            ca_db_t db;
            const unsigned char *der;
            apr_size_t len;
            apr_status_t rv;
            if (cacert_db_acquire(&db, r) != APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                              "CA21204: no database connection for the CRL");
                return HTTP_SERVICE_UNAVAILABLE;
            }
            rv = ca_issue_latest_crl(&der, &len, &db, ca, r->pool);
            if (rv == APR_NOTFOUND) {
                return HTTP_NOT_FOUND;
            }
            if (rv != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            return cacert_send(r, "application/pkix-crl", NULL, der, len);
        }
    }
    return HTTP_NOT_FOUND;
}
