/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* cacert-ca verify: the key ceremony checked, not trusted.  The web host's
 * certificates (web/) chain to the Root with the constraints a SubRoot
 * needs; every OCSP responder certificate is issued by its CA for OCSP
 * signing, current, and matches its key; with --signerd-conf, the
 * certificates signerd uses are those of the web host, and (with the
 * passphrase or PIN) its keys belong to them.  Expiries are warned of
 * before they happen.
 *
 * cacert-ca renew-ocsp: a new OCSP responder key and certificate for one
 * CA, signed with that CA's key (a file or a token), the old pair kept as
 * *.old. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_log.h"
#include "cacert-ca.h"

/* a SubRoot or Root is replaced at a ceremony: warned of a year ahead */
#define CA_WARN_DAYS 365

typedef struct {
    int errors, warnings;
} tally_t;

static void say(tally_t *t, int level, const char *fmt, ...)
{
    va_list ap;

    printf("%s", level > 1 ? "ERROR: " : level == 1 ? "WARNING: " : "ok: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    t->errors += level > 1;
    t->warnings += level == 1;
}

/* whole days until the certificate expires, rounded up (negative:
 * expired) */
static int days_left(X509 *x)
{
    int days = 0, secs = 0;

    if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x))) {
        return -1;
    }
    if (days < 0 || secs < 0) {
        return -1;
    }
    return days + (secs > 0);
}

static void check_expiry(tally_t *t, const char *what, X509 *x, int warn)
{
    int left = days_left(x);

    if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
        say(t, 2, "%s is not valid yet", what);
    }
    else if (left < 0) {
        say(t, 2, "%s has expired", what);
    }
    else if (left < warn) {
        say(t, 1, "%s expires in %d days", what, left);
    }
}

static int chains_to(X509 *cert, X509 *root)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = st && ctx && X509_STORE_add_cert(st, root)
             && X509_STORE_CTX_init(ctx, st, cert, NULL);

    if (ok) {
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT | X509_V_FLAG_CHECK_SS_SIGNATURE);
        ok = X509_verify_cert(ctx) == 1;
        if (!ok) {
            printf("       (%s)\n",
                   X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        }
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    ERR_clear_error();
    return ok;
}

static int issued_by(X509 *cert, X509 *issuer)
{
    int ok = X509_check_issued(issuer, cert) == X509_V_OK
             && X509_verify(cert, X509_get0_pubkey(issuer)) == 1;

    ERR_clear_error();
    return ok;
}

/* the certificates of a PEM file, in order */
static apr_array_header_t *read_chain(const char *path, apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(X509 *));
    FILE *f = fopen(path, "r");
    X509 *x;

    if (!f) {
        return a;
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
        APR_ARRAY_PUSH(a, X509 *) = x;
    }
    ERR_clear_error();
    fclose(f);
    return a;
}

static void free_chain(apr_array_header_t *a)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        X509_free(APR_ARRAY_IDX(a, i, X509 *));
    }
}

static EVP_PKEY *read_key(const char *path, const char *pass)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, (void *)(pass ? pass : "")) : NULL;

    if (f) {
        fclose(f);
    }
    ERR_clear_error();
    return k;
}

/* one issuing CA of web/ (or the legacy Class 1, which issues too) */
static void check_ca(tally_t *t, const char *web, const char *id, X509 *root, int warn,
                     apr_pool_t *p)
{
    const char *path = apr_psprintf(p, "%s/%s.crt", web, id);
    const char *rpath = apr_psprintf(p, "%s/ocsp-%s.crt", web, id);
    X509 *ca = cca_read_cert(path), *resp = NULL;
    apr_array_header_t *chain;
    EVP_PKEY *rkey = NULL;

    if (!ca) {
        say(t, 2, "%s is not a PEM certificate", path);
        return;
    }
    if (!chains_to(ca, root)) {
        say(t, 2, "%s does not chain to the Root", path);
    }
    else {
        say(t, 0, "%s chains to the Root", path);
    }
    if (X509_check_ca(ca) < 1 || !(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN)
        || !(X509_get_key_usage(ca) & KU_CRL_SIGN)) {
        say(t, 2, "%s is not a CA certificate for certificates and CRLs", path);
    }
    else if (X509_cmp(ca, root) && X509_get_pathlen(ca) != 0) {
        say(t, 2, "%s may issue CA certificates (its pathLenConstraint is not 0)", path);
    }
    check_expiry(t, path, ca, CA_WARN_DAYS);
    chain = read_chain(apr_psprintf(p, "%s/chain-%s.pem", web, id), p);
    if (chain->nelts < 1 || X509_cmp(APR_ARRAY_IDX(chain, 0, X509 *), ca)
        || (X509_cmp(ca, root) && (chain->nelts != 2
                                   || X509_cmp(APR_ARRAY_IDX(chain, 1, X509 *), root)))) {
        say(t, 2, "%s/chain-%s.pem is not the CA's certificate followed by the Root's", web,
            id);
    }
    free_chain(chain);
    /* its OCSP responder */
    if (!(resp = cca_read_cert(rpath))) {
        say(t, 2, "%s is missing or not a PEM certificate", rpath);
        goto leave;
    }
    if (!issued_by(resp, ca)) {
        say(t, 2, "%s is not issued by %s", rpath, path);
    }
    else if (!(X509_get_extended_key_usage(resp) & XKU_OCSP_SIGN)
             || X509_check_ca(resp) != 0) {
        say(t, 2, "%s is not an OCSP signing certificate", rpath);
    }
    else {
        say(t, 0, "%s is %s's OCSP responder", rpath, id);
    }
    check_expiry(t, rpath, resp, warn);
    rkey = read_key(apr_psprintf(p, "%s/ocsp-%s.key", web, id), NULL);
    if (!rkey || X509_check_private_key(resp, rkey) != 1) {
        say(t, 2, "%s/ocsp-%s.key is not the key of %s", web, id, rpath);
    }
leave:
    ERR_clear_error();
    EVP_PKEY_free(rkey);
    X509_free(resp);
    X509_free(ca);
}

static int der_equal(X509 *a, X509 *b)
{
    return a && b && X509_cmp(a, b) == 0;
}

/* signerd's ca lines: its certificates are the web host's, and its keys
 * (given the passphrase or PIN) belong to them */
static void check_signerd(tally_t *t, const cca_opts_t *o, const char *web, apr_pool_t *p)
{
    char line[4100];
    const char *module = o->pkcs11_module, *pass = NULL;
    apr_array_header_t *cas = apr_array_make(p, 4, sizeof(char **));
    ca_p11_t *p11 = NULL;
    FILE *f = fopen(o->signerd_conf, "r");
    int i;

    if (!f) {
        say(t, 2, "cannot read %s", o->signerd_conf);
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        char *state = NULL, *w, *hash = strchr(line, '#');
        const char **ca = apr_pcalloc(p, 3 * sizeof(*ca));
        if (hash) {
            *hash = '\0';
        }
        if (!(w = apr_strtok(line, " \t\r\n", &state))) {
            continue;
        }
        if (!strcmp(w, "pkcs11-module") && (w = apr_strtok(NULL, " \t\r\n", &state))) {
            module = module ? module : apr_pstrdup(p, w);
            continue;
        }
        if (strcmp(w, "ca") || !(w = apr_strtok(NULL, " \t\r\n", &state))) {
            continue;
        }
        ca[0] = apr_pstrdup(p, w);
        while ((w = apr_strtok(NULL, " \t\r\n", &state))) {
            if (!strncmp(w, "cert=", 5)) {
                ca[1] = apr_pstrdup(p, w + 5);
            }
            else if (!strncmp(w, "key=", 4)) {
                ca[2] = apr_pstrdup(p, w + 4);
            }
        }
        APR_ARRAY_PUSH(cas, const char **) = ca;
    }
    fclose(f);
    if (!cas->nelts) {
        say(t, 2, "%s has no ca lines", o->signerd_conf);
        return;
    }
    if (o->passfile && cca_read_passphrase(&pass, o->passfile, 1, p) != APR_SUCCESS) {
        say(t, 2, "cannot read the passphrase from %s", o->passfile);
        return;
    }
    for (i = 0; i < cas->nelts; i++) {
        const char **ca = APR_ARRAY_IDX(cas, i, const char **);
        const char *wpath = apr_psprintf(p, "%s/%s.crt", web, ca[0]);
        X509 *sc = ca[1] ? cca_read_cert(ca[1]) : NULL, *wc = cca_read_cert(wpath);
        EVP_PKEY *key = NULL;

        if (!der_equal(sc, wc)) {
            say(t, 2, "signerd's certificate for ca %s (%s) is not the web host's %s", ca[0],
                ca[1] ? ca[1] : "none", wpath);
        }
        else {
            say(t, 0, "signerd's certificate for ca %s is the web host's", ca[0]);
        }
        if (!pass || !ca[2] || !wc) {
            if (!pass) {
                say(t, 1, "the key of ca %s was not checked (no --passphrase-file)", ca[0]);
            }
        }
        else if (!strncmp(ca[2], "pkcs11:", 7)) {
            if (!module) {
                say(t, 2, "ca %s: a pkcs11: key, and no pkcs11-module", ca[0]);
            }
            else if ((p11 || ca_p11_open(&p11, module, p) == APR_SUCCESS)
                     && (key = ca_p11_key(p11, ca[2], pass, p))) {
                /* ca_p11_key checked that it cannot leave the token */
            }
        }
        else {
            key = read_key(ca[2], pass);
        }
        if (pass && ca[2] && wc) {
            if (key && X509_check_private_key(wc, key) == 1) {
                say(t, 0, "signerd's key for ca %s belongs to %s", ca[0], wpath);
            }
            else {
                say(t, 2, "signerd's key for ca %s (%s) does not belong to %s, or cannot be "
                    "read", ca[0], ca[2], wpath);
            }
        }
        ERR_clear_error();
        EVP_PKEY_free(key);
        X509_free(sc);
        X509_free(wc);
    }
    ca_p11_close(p11);
    cca_forget_passphrase(pass);
}

apr_status_t cca_verify(const cca_opts_t *o, apr_pool_t *p)
{
    const char *web = apr_pstrcat(p, o->dir, "/web", NULL);
    const char *rpath = apr_pstrcat(p, web, "/root.crt", NULL);
    tally_t t = { 0, 0 };
    X509 *root = cca_read_cert(rpath);
    struct dirent *e;
    DIR *d;

    if (!root) {
        say(&t, 2, "%s is missing or not a PEM certificate", rpath);
        return APR_EGENERAL;
    }
    if (!issued_by(root, root) || X509_check_ca(root) < 1) {
        say(&t, 2, "%s is not a self-signed CA certificate", rpath);
    }
    else {
        say(&t, 0, "%s is a self-signed CA certificate", rpath);
    }
    check_expiry(&t, rpath, root, CA_WARN_DAYS);
    if ((d = opendir(web))) {
        while ((e = readdir(d))) {
            apr_size_t n = strlen(e->d_name);
            if (n > 4 && !strcmp(e->d_name + n - 4, ".crt") && strncmp(e->d_name, "ocsp-", 5)
                && strcmp(e->d_name, "root.crt")) {
                check_ca(&t, web, apr_pstrndup(p, e->d_name, n - 4), root, o->warn_days, p);
            }
        }
        closedir(d);
    }
    if (o->signerd_conf) {
        check_signerd(&t, o, web, p);
    }
    X509_free(root);
    printf("%d error%s, %d warning%s\n", t.errors, t.errors == 1 ? "" : "s", t.warnings,
           t.warnings == 1 ? "" : "s");
    return t.errors ? APR_EGENERAL : APR_SUCCESS;
}

/* ---------------------------------------------------------- renew-ocsp */

static apr_status_t keep_old(const char *path, apr_pool_t *p)
{
    if (rename(path, apr_pstrcat(p, path, ".old", NULL)) != 0 && errno != ENOENT) {
        return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

apr_status_t cca_renew_ocsp(const cca_opts_t *o, apr_pool_t *p)
{
    const char *web = apr_pstrcat(p, o->dir, "/web", NULL);
    const char *cpath = apr_psprintf(p, "%s/%s.crt", web, o->ca);
    const char *rcert = apr_psprintf(p, "%s/ocsp-%s.crt", web, o->ca);
    const char *rkey = apr_psprintf(p, "%s/ocsp-%s.key", web, o->ca);
    const char *kfile = apr_psprintf(p, "%s/signer/%s.key", o->dir, o->ca);
    const char *ufile = apr_psprintf(p, "%s/signer/%s.uri", o->dir, o->ca);
    const char *pass = NULL, *org, *cn;
    X509 *ca = NULL, *old = NULL, *x = NULL;
    EVP_PKEY *cakey = NULL, *key = NULL;
    ca_p11_t *p11 = NULL;
    char uri[4100], buf[256];
    apr_status_t rv = APR_EGENERAL;
    FILE *f;

    if (!(ca = cca_read_cert(cpath))) {
        ca_log(CA_LOG_ERR, "CA50460", APR_ENOENT, "%s is missing or not a certificate", cpath);
        goto leave;
    }
    if ((rv = cca_read_passphrase(&pass, o->passfile, 4, p)) != APR_SUCCESS) {
        goto leave;
    }
    rv = APR_EGENERAL;
    if ((f = fopen(ufile, "r"))) {
        /* the CA's key is on a token */
        int got = fgets(uri, sizeof(uri), f) != NULL;
        fclose(f);
        uri[strcspn(uri, "\r\n")] = '\0';
        if (!got || !o->pkcs11_module) {
            ca_log(CA_LOG_ERR, "CA50461", APR_EINVAL, "%s names a key on a token: give "
                   "--pkcs11-module", ufile);
            goto leave;
        }
        if (ca_p11_open(&p11, o->pkcs11_module, p) != APR_SUCCESS
            || !(cakey = ca_p11_key(p11, uri, pass, p))) {
            goto leave;
        }
    }
    else if (!(cakey = read_key(kfile, pass))) {
        ca_log(CA_LOG_ERR, "CA50462", APR_EINVAL, "cannot read the key of ca %s (%s, or %s "
               "for a token): wrong passphrase?", o->ca, kfile, ufile);
        goto leave;
    }
    if (X509_check_private_key(ca, cakey) != 1) {
        ERR_clear_error();
        ca_log(CA_LOG_ERR, "CA50463", APR_EINVAL, "the key of ca %s does not belong to %s",
               o->ca, cpath);
        goto leave;
    }
    /* the same names as before, a fresh key of the same family */
    old = cca_read_cert(rcert);
    buf[0] = '\0';
    X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_organizationName, buf,
                              sizeof(buf));
    org = apr_pstrdup(p, *buf ? buf : "CAcert");
    buf[0] = '\0';
    if (old) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(old), NID_commonName, buf,
                                  sizeof(buf));
    }
    cn = *buf ? apr_pstrdup(p, buf) : apr_pstrcat(p, o->ca, " OCSP Responder", NULL);
    if (!(key = cca_gen_key(EVP_PKEY_get_base_id(cakey) == EVP_PKEY_EC ? "ec:P-256"
                                                                         : "rsa:2048"))
        || !(x = cca_make_cert(KIND_OCSP, org, cn, key, ca, cakey, o->days, o, p))) {
        goto leave;
    }
    if ((rv = keep_old(rcert, p)) != APR_SUCCESS || (rv = keep_old(rkey, p)) != APR_SUCCESS
        || (rv = cca_write_key(rkey, key, NULL)) != APR_SUCCESS
        || (rv = cca_write_certs(rcert, x, NULL)) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA50464", rv, "cannot write the new responder into %s", web);
        goto leave;
    }
    printf("a new OCSP responder for ca %s (the old one is kept as *.old):\n", o->ca);
    cca_print_cert(rcert, x);
    printf("copy %s and %s to the web host (the key mode 0600, readable by httpd)\n", rcert,
           rkey);
leave:
    X509_free(x);
    X509_free(old);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(cakey);
    ca_p11_close(p11);
    cca_forget_passphrase(pass);
    return rv;
}
