/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_issue's /pki: the CA certificates and CRLs, for anyone, and
 * the page that lists them. */
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca_issue.h"
#include "ca_tmpl.h"
#include "issue_private.h"

APLOG_USE_MODULE(cacert_issue);

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
