/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_issue's /pki: the CA certificates and CRLs, for anyone, and
 * the page that lists them; and a member's certificate with that chain
 * (PEM, PKCS#7) for the /certs pages. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_thread_mutex.h>

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

/* ---- the newest CRL of each CA, kept by each child ----
 * A CRL of a million revocations is 42 MB.  The database holds its fields
 * and signature, not its body (migration 025): the child builds the body
 * from its own copy of the CA's revocations (ca_crl_rebuild_t: read whole
 * the first time, then only those revoked since), and serves it only if
 * the signature verifies.  That costs a copy and a SHA-256 of 42 MB per
 * new CRL (and seconds for the first), and anyone may download it as
 * often as they like.  So each child keeps the newest
 * CRL it has built of each CA, and a download asks the database only for
 * the newest number (the primary key's last entry): the body is built
 * again only when the newest number changed; one download builds it while
 * others of the same CA wait for it (crl_build_t.mu).  A download holds a
 * reference to the kept copy while it is sent; the CRL just read replaces
 * it in the list, and the old copy goes with its last reference.  The
 * database decides which is newest: a kept CRL with a higher number than
 * the database's newest (a standby promoted without the last CRL, a row
 * removed by hand) is replaced, not served for ever without the
 * revocations since. */

typedef struct crl_kept_t {
    struct crl_kept_t *next;
    char *ca;
    apr_int64_t number;
    unsigned char *der;
    apr_size_t len;
    unsigned refs;                      /* the list's, and one per download */
} crl_kept_t;

static apr_thread_mutex_t *kept_mutex;
static crl_kept_t *kept;

/* what a child keeps of a CA's revocations to build its CRLs: made at the
 * first download of that CA's CRL on a virtual host, in the child's pool.
 * One per virtual host, because each may read another database (a hot
 * standby, docs/scaling.md): a copy brought up to the primary's newest CRL
 * cannot go back to a lagging standby's older one, and would be read
 * afresh at every turn between the two. */
typedef struct crl_build_t {
    struct crl_build_t *next;
    const char *ca;
    const server_rec *s;
    apr_thread_mutex_t *mu;             /* one build at a time */
    ca_crl_rebuild_t *rb;
    X509 *issuer;
} crl_build_t;

static apr_pool_t *build_pool;          /* the child's; under kept_mutex */
static crl_build_t *builds;

static void kept_free(crl_kept_t *k)
{
    free(k->ca);
    free(k->der);
    free(k);
}

/* under kept_mutex: one reference less */
static void kept_unref(crl_kept_t *k)
{
    if (--k->refs == 0) {
        kept_free(k);
    }
}

static apr_status_t kept_cleanup(void *data)
{
    crl_kept_t *k, *next;

    (void)data;
    for (k = kept; k; k = next) {
        next = k->next;
        kept_unref(k);
    }
    kept = NULL;
    kept_mutex = NULL;
    builds = NULL;
    build_pool = NULL;
    return APR_SUCCESS;
}

static apr_status_t issuer_free(void *data)
{
    X509_free(data);
    return APR_SUCCESS;
}

void iss_pki_child_init(apr_pool_t *pchild)
{
    if (apr_thread_mutex_create(&kept_mutex, APR_THREAD_MUTEX_DEFAULT, pchild)
        == APR_SUCCESS) {
        build_pool = pchild;
        apr_pool_cleanup_register(pchild, NULL, kept_cleanup, apr_pool_cleanup_null);
    }
}

/* the build state of the CA is on virtual host s (its certificate parsed
 * once); NULL without memory or a child pool */
static crl_build_t *build_of(const issuer_t *is, const server_rec *s)
{
    crl_build_t *b;
    const unsigned char *der = is->der;

    if (!kept_mutex) {
        return NULL;
    }
    apr_thread_mutex_lock(kept_mutex);
    for (b = builds; b && (b->s != s || strcmp(b->ca, is->name)); b = b->next) {
    }
    if (!b && build_pool) {
        b = apr_pcalloc(build_pool, sizeof(*b));
        b->ca = apr_pstrdup(build_pool, is->name);
        b->s = s;
        if (apr_thread_mutex_create(&b->mu, APR_THREAD_MUTEX_DEFAULT, build_pool)
                != APR_SUCCESS
            || ca_crl_rebuild_make(&b->rb, build_pool) != APR_SUCCESS
            || !(b->issuer = d2i_X509(NULL, &der, (long)is->der_len))) {
            b = NULL;
        }
        else {
            apr_pool_cleanup_register(build_pool, b->issuer, issuer_free,
                                      apr_pool_cleanup_null);
            b->next = builds;
            builds = b;
        }
    }
    apr_thread_mutex_unlock(kept_mutex);
    return b;
}

/* the kept CRL of ca if it is number, with a reference for the caller;
 * NULL when none is kept or it has another number */
static crl_kept_t *kept_take(const char *ca, apr_int64_t number)
{
    crl_kept_t *k;

    if (!kept_mutex) {
        return NULL;
    }
    apr_thread_mutex_lock(kept_mutex);
    for (k = kept; k && strcmp(k->ca, ca); k = k->next) {
    }
    if (k && k->number == number) {
        k->refs++;
    }
    else {
        k = NULL;
    }
    apr_thread_mutex_unlock(kept_mutex);
    return k;
}

/* keep the CRL just built (der, of malloc: the kept copy takes it over),
 * unless another download kept the same number meanwhile (then der is
 * freed); the kept one with a reference for the caller.  NULL when there
 * is no memory for the list's entry: der is then still the caller's, to
 * send and free. */
static crl_kept_t *kept_put(const char *ca, apr_int64_t number, unsigned char *der,
                            apr_size_t len)
{
    crl_kept_t *k, **pk;

    if (!kept_mutex || !(k = calloc(1, sizeof(*k)))) {
        return NULL;
    }
    if (!(k->ca = strdup(ca))) {
        free(k);
        return NULL;
    }
    k->der = der;
    k->len = len;
    k->number = number;
    k->refs = 2;
    apr_thread_mutex_lock(kept_mutex);
    for (pk = &kept; *pk && strcmp((*pk)->ca, ca); pk = &(*pk)->next) {
    }
    if (*pk && (*pk)->number == number) {
        kept_free(k);                   /* another download kept the same */
        k = *pk;
        k->refs++;
    }
    else {
        if (*pk) {
            crl_kept_t *old = *pk;
            k->next = old->next;
            kept_unref(old);
        }
        *pk = k;
    }
    apr_thread_mutex_unlock(kept_mutex);
    return k;
}

static int send_crl(request_rec *r, const issuer_t *is)
{
    ca_db_t db;
    unsigned char *der = NULL;
    apr_size_t len;
    apr_int64_t number;
    crl_kept_t *k = NULL;
    crl_build_t *b;
    apr_status_t rv;
    int rc;

    if (cacert_db_acquire(&db, r) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "CA21204: no database connection for the CRL");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    rv = ca_issue_latest_crl_number(&number, &db, is->name, r->pool);
    if (rv == APR_SUCCESS && !(k = kept_take(is->name, number))) {
        if (!(b = build_of(is, r->server))) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_thread_mutex_lock(b->mu);
        /* built by the download this one waited for? */
        if (!(k = kept_take(is->name, number))) {
            rv = ca_issue_latest_crl(&der, &len, &number, b->rb, b->issuer, &db, is->name,
                                     r->pool);
            if (rv == APR_SUCCESS && (k = kept_put(is->name, number, der, len)) == NULL) {
                apr_thread_mutex_unlock(b->mu);
                rc = cacert_send(r, "application/pkix-crl", NULL, der, len);
                free(der);
                return rc;
            }
        }
        apr_thread_mutex_unlock(b->mu);
    }
    if (rv == APR_NOTFOUND) {
        return HTTP_NOT_FOUND;
    }
    if (rv == APR_EMISMATCH) {
        /* logged (CA10628): no CRL rather than one that is not the signed one */
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (rv != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rc = cacert_send(r, "application/pkix-crl", NULL, k->der, k->len);
    apr_thread_mutex_lock(kept_mutex);
    kept_unref(k);
    apr_thread_mutex_unlock(kept_mutex);
    return rc;
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
            return send_crl(r, is);
        }
    }
    return HTTP_NOT_FOUND;
}
