/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* cacert-ca: creates the CA hierarchy at the key ceremony, and shows it.
 *
 *   cacert-ca init --dir DIR --name "CAcert Demo" [--layout audit|legacy]
 *                  [--key-type rsa:4096|rsa:3072|ec:P-384|ec:P-256]
 *                  [--passphrase-file F] [--ocsp-base URL] [--crl-base URL]
 *                  [--days-root N] [--days-sub N] [--force]
 *   cacert-ca show --dir DIR
 *   cacert-ca verify --dir DIR [--signerd-conf FILE] [--passphrase-file F]
 *   cacert-ca renew-ocsp --dir DIR --ca NAME [--days N] [--passphrase-file F]
 *
 * With --pkcs11-module LIB --token LABEL the issuing CAs' keys are made on
 * a PKCS#11 token (sensitive, never extractable), and with --root-token
 * LABEL the Root's on a token of its own; the PIN is the passphrase.  Then
 * signer/<ca>.uri (offline/root.uri) names the key instead of a key file.
 * verify and renew-ocsp are in cacert-ca-check.c.
 *
 * The audit layout: an offline top-level Root and three SubRoots under it
 * (member, assured, org), each with an OCSP responder certificate.  The
 * legacy layout: a self-signed Class 1 root that issues itself, and Class 3
 * under it (as CAcert ran them; the Class 1 key then lives on the signing
 * host, which is why the audit layout is the default).
 *
 * DIR gets:
 *   offline/root.key          the Root key (audit layout): goes offline
 *   signer/<ca>.crt, .key     for the signing host (signerd)
 *   web/root.crt, web/<ca>.crt, web/chain-<ca>.pem, web/root.crl
 *   web/ocsp-<ca>.crt, .key   for the web host (mod_cacert_ocsp)
 * CA keys are PKCS#8 PEM encrypted with AES-256 under the passphrase; the
 * OCSP responder keys are plain PEM, mode 0600. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "ca_log.h"
#include "ca_crypto.h"
#include "ca_p11.h"
#include "ca_x509.h"
#include "cacert-ca.h"

static ca_p11_t *p11;                /* when keys are on tokens */

static void usage_to(FILE *out)
{
    fputs("usage:\n"
          "  cacert-ca init --dir DIR --name NAME [--layout audit|legacy]\n"
          "                 [--key-type rsa:4096|rsa:3072|ec:P-384|ec:P-256]\n"
          "                 [--passphrase-file FILE] [--ocsp-base URL] [--crl-base URL]\n"
          "                 [--days-root N] [--days-sub N] [--force]\n"
          "                 [--pkcs11-module LIB [--token LABEL] [--root-token LABEL]]\n"
          "  cacert-ca show --dir DIR\n"
          "  cacert-ca verify --dir DIR [--signerd-conf FILE [--passphrase-file FILE]]\n"
          "                 [--pkcs11-module LIB] [--warn-days N]\n"
          "  cacert-ca renew-ocsp --dir DIR --ca NAME [--days N] [--passphrase-file FILE]\n"
          "                 [--pkcs11-module LIB]\n"
          "  cacert-ca --help\n", out);
}

static void usage(void)
{
    usage_to(stderr);
}

#define log_ossl ca_log_openssl

/* ---------------------------------------------------------------- keys */

EVP_PKEY *cca_gen_key(const char *type)
{
    if (!strcmp(type, "rsa:4096")) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
    }
    if (!strcmp(type, "rsa:3072")) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    }
    if (!strcmp(type, "rsa:2048")) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    }
    if (!strcmp(type, "ec:P-384")) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    }
    if (!strcmp(type, "ec:P-256")) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }
    return NULL;
}

static int key_type_ok(const char *type)
{
    return !strcmp(type, "rsa:4096") || !strcmp(type, "rsa:3072")
        || !strcmp(type, "ec:P-384") || !strcmp(type, "ec:P-256");
}

/* the hash that fits a key: SHA-384 for P-384, SHA-256 otherwise */
const EVP_MD *cca_md_for(EVP_PKEY *key)
{
    return EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && EVP_PKEY_get_bits(key) >= 384
        ? EVP_sha384() : EVP_sha256();
}

apr_status_t cca_read_passphrase(const char **ppass, const char *file, apr_size_t minlen,
                                 apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    char buf[1024];
    FILE *f = NULL;
    apr_size_t len;

    *ppass = NULL;
    if (file) {
        if (!(f = fopen(file, "r"))) {
            rv = APR_FROM_OS_ERROR(errno);
            ca_log(CA_LOG_ERR, "CA50400", rv, "cannot open the passphrase file %s", file);
            goto leave;
        }
        if (!fgets(buf, sizeof(buf), f)) {
            buf[0] = '\0';
        }
    }
    else if (EVP_read_pw_string_min(buf, (int)minlen, sizeof(buf), "CA key passphrase: ", 1)
             != 0) {
        rv = APR_EINVAL;
        ca_log(CA_LOG_ERR, "CA50401", rv, "no passphrase read (no terminal? use "
               "--passphrase-file)");
        goto leave;
    }
    len = strcspn(buf, "\r\n");
    buf[len] = '\0';
    if (len < minlen) {
        rv = APR_EINVAL;
        ca_log(CA_LOG_ERR, "CA50402", rv, "the passphrase must have at least %d characters",
               (int)minlen);
        goto leave;
    }
    *ppass = apr_pstrdup(p, buf);
leave:
    OPENSSL_cleanse(buf, sizeof(buf));
    if (f) {
        fclose(f);
    }
    return rv;
}

void cca_forget_passphrase(const char *pass)
{
    if (pass) {
        OPENSSL_cleanse((void *)pass, strlen(pass));
    }
}

/* --------------------------------------------------------------- files */

apr_status_t cca_make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST) {
        apr_status_t rv = APR_FROM_OS_ERROR(errno);
        ca_log(CA_LOG_ERR, "CA50410", rv, "cannot create %s", path);
        return rv;
    }
    return APR_SUCCESS;
}

/* open for writing with the given mode, replacing an old file */
FILE *cca_open_out(const char *path, mode_t mode)
{
    int fd;
    FILE *f;

    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        ca_log(CA_LOG_ERR, "CA50411", APR_FROM_OS_ERROR(errno), "cannot create %s", path);
        return NULL;
    }
    if (!(f = fdopen(fd, "w"))) {
        close(fd);
        ca_log(CA_LOG_ERR, "CA50412", APR_FROM_OS_ERROR(errno), "cannot open %s", path);
    }
    return f;
}

apr_status_t cca_close_out(FILE *f, int ok, const char *path)
{
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        ok = 0;
    }
    if (fclose(f) != 0) {
        ok = 0;
    }
    if (!ok) {
        ca_log(CA_LOG_ERR, "CA50413", APR_EGENERAL, "writing %s failed", path);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t cca_write_certs(const char *path, X509 *a, X509 *b)
{
    FILE *f = cca_open_out(path, 0644);
    int ok;

    if (!f) {
        return APR_EGENERAL;
    }
    ok = PEM_write_X509(f, a) && (!b || PEM_write_X509(f, b));
    return cca_close_out(f, ok, path);
}

/* PBKDF2 rounds for the CA keys: OpenSSL's default (2048) is far too
 * few for a key that may sit on a stolen USB stick for twenty years */
#define KDF_ITER 600000

/* pass == NULL: plain PEM; otherwise PKCS#8 PBES2: PBKDF2-HMAC-SHA256 and
 * AES-256-CBC */
apr_status_t cca_write_key(const char *path, EVP_PKEY *key, const char *pass)
{
    FILE *f = cca_open_out(path, 0600);
    PKCS8_PRIV_KEY_INFO *p8inf = NULL;
    X509_ALGOR *pbe = NULL;
    X509_SIG *p8 = NULL;
    int ok;

    if (!f) {
        return APR_EGENERAL;
    }
    if (pass) {
        ok = (p8inf = EVP_PKEY2PKCS8(key)) != NULL
            && (pbe = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), KDF_ITER, NULL, 0, NULL,
                                        NID_hmacWithSHA256)) != NULL
            && (p8 = PKCS8_set0_pbe(pass, (int)strlen(pass), p8inf, pbe)) != NULL;
        if (p8) {
            pbe = NULL;             /* owned by p8 now */
        }
        ok = ok && PEM_write_PKCS8(f, p8);
        X509_SIG_free(p8);
        X509_ALGOR_free(pbe);
        PKCS8_PRIV_KEY_INFO_free(p8inf);
    }
    else {
        ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    }
    return cca_close_out(f, ok, path);
}

static apr_status_t write_bytes(const char *path, const unsigned char *b, apr_size_t len)
{
    FILE *f = cca_open_out(path, 0644);

    if (!f) {
        return APR_EGENERAL;
    }
    return cca_close_out(f, fwrite(b, 1, len, f) == len, path);
}

/* -------------------------------------------------------- certificates */

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);

    X509_EXTENSION_free(ext);
    return ok;
}

/* the extensions of each kind, in their order in the certificate: the
 * kinds (bits 1 << cca_kind_t) that carry one, its NID and its value */
#define ROOT (1u << KIND_ROOT)
#define SUB (1u << KIND_SUB)
#define OCSP (1u << KIND_OCSP)
static const struct {
    unsigned kinds;
    int nid;
    const char *value;
} exts[] = {
    { ROOT, NID_basic_constraints, "critical,CA:TRUE" },
    { SUB, NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
    { OCSP, NID_basic_constraints, "critical,CA:FALSE" },
    { ROOT | SUB, NID_key_usage, "critical,keyCertSign,cRLSign" },
    { OCSP, NID_key_usage, "critical,digitalSignature" },
    { OCSP, NID_ext_key_usage, "OCSPSigning" },
    { OCSP, NID_id_pkix_OCSP_noCheck, "ignored" },
    { ROOT | SUB | OCSP, NID_subject_key_identifier, "hash" },
    { SUB | OCSP, NID_authority_key_identifier, "keyid:always" },
};

/* Build and sign one certificate.  issuer NULL: self-signed. */
X509 *cca_make_cert(cca_kind_t kind, const char *org, const char *cn, EVP_PKEY *key,
                   X509 *issuer, EVP_PKEY *issuer_key, long days, const cca_opts_t *o,
                   apr_pool_t *p)
{
    unsigned char serial[16];
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *bn = NULL;
    ASN1_INTEGER *sn = NULL;
    X509V3_CTX ctx;
    time_t now = time(NULL);
    apr_size_t i;
    int ok;

    ok = x && name && ca_x509_random_serial(serial) == APR_SUCCESS
        && (bn = BN_bin2bn(serial, sizeof(serial), NULL))
        && (sn = BN_to_ASN1_INTEGER(bn, NULL))
        && X509_set_version(x, X509_VERSION_3) && X509_set_serialNumber(x, sn)
        && X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
                                      (const unsigned char *)org, -1, -1, 0)
        && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                      (const unsigned char *)cn, -1, -1, 0)
        && X509_set_subject_name(x, name)
        && X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name)
        && ASN1_TIME_set(X509_getm_notBefore(x), now)
        && ASN1_TIME_adj(X509_getm_notAfter(x), now, (int)days, 0)
        && X509_set_pubkey(x, key);
    /* never outlive the issuer */
    if (ok && issuer && ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(issuer)) > 0) {
        ok = X509_set1_notAfter(x, X509_get0_notAfter(issuer));
    }
    if (!ok) {
        goto leave;
    }
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    for (i = 0; ok && i < sizeof(exts) / sizeof(exts[0]); i++) {
        if (exts[i].kinds & (1u << kind)) {
            ok = add_ext(x, &ctx, exts[i].nid, exts[i].value);
        }
    }
    if (ok && kind == KIND_SUB) {
        ok = ca_x509_add_policy(x, CA_CPS_OID, NULL);
        if (ok && o->crl_base) {
            ok = add_ext(x, &ctx, NID_crl_distribution_points,
                         apr_psprintf(p, "URI:%s/root.crl", o->crl_base));
        }
        if (ok && (o->ocsp_base || o->crl_base)) {
            const char *aia = o->ocsp_base ? apr_psprintf(p, "OCSP;URI:%s", o->ocsp_base)
                                           : NULL;
            if (o->crl_base) {
                /* the DER form: an HTTP caIssuers URI must serve a DER
                 * certificate (RFC 5280 4.2.2.1); <crl-base>/root.crt is
                 * PEM under cacert-pki */
                const char *ci = apr_psprintf(p, "caIssuers;URI:%s/root.cer", o->crl_base);
                aia = aia ? apr_pstrcat(p, aia, ",", ci, NULL) : ci;
            }
            ok = add_ext(x, &ctx, NID_info_access, aia);
        }
    }
    ok = ok && X509_sign(x, issuer_key, cca_md_for(issuer_key)) > 0;
leave:
    if (!ok) {
        log_ossl("CA50420", apr_psprintf(p, "cannot make the certificate \"%s\"", cn));
        X509_free(x);
        x = NULL;
    }
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    X509_NAME_free(name);
    return x;
}

/* an empty CRL of the Root, signed now, valid for a year (the Root is
 * offline: the next one is made at the next ceremony) */
static apr_status_t root_crl(const char *path, cca_ca_t *root, apr_pool_t *p)
{
    ca_crl_spec_t spec;
    const unsigned char *tbs, *sig, *der;
    apr_size_t tbslen, siglen, len;
    const char *md = cca_md_for(root->key) == EVP_sha384() ? "sha384" : "sha256";
    apr_status_t rv;

    memset(&spec, 0, sizeof(spec));
    spec.issuer = root->cert;
    spec.md = md;
    spec.this_update = (int64_t)time(NULL);
    spec.next_update = spec.this_update + 365 * DAY;
    spec.crl_number = 1;
    if ((rv = ca_crl_tbs(&tbs, &tbslen, &spec, p)) != APR_SUCCESS
        || (rv = ca_crl_sign_tbs(&sig, &siglen, tbs, tbslen, root->key, md, p)) != APR_SUCCESS
        || (rv = ca_crl_assemble(&der, &len, tbs, tbslen, sig, siglen, root->key, md, p))
           != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA50430", rv, "cannot make the Root's CRL");
        return rv;
    }
    return write_bytes(path, der, len);
}

static int url_ok(const char *u)
{
    const char *c;

    if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))) {
        return 0;
    }
    for (c = u; *c; c++) {
        if (*c <= 0x20 || *c >= 0x7F || *c == ',' || *c == '"' || *c == '\\') {
            return 0;
        }
    }
    return 1;
}

static int parse_days(int *pdays, const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*end || v < 1 || v > 36500) {
        return 0;
    }
    *pdays = (int)v;
    return 1;
}

/* ---------------------------------------------------------------- init */

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int empty = 1;

    if (!d) {
        return 0;
    }
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    return empty;
}

/* a new key for c: in memory, or on a token (then only made there: taken
 * with take_key once every key of that token is made) */
static apr_status_t new_key(cca_ca_t *c, const char *token, const cca_opts_t *o,
                            const char *pin, apr_pool_t *p)
{
    printf("generating the %s key (%s%s%s)...\n", c->id, o->key_type,
           token ? ") on the token (" : "", token ? token : "");
    fflush(stdout);
    if (token) {
        return ca_p11_generate(&c->uri, p11, token, c->id, o->key_type, pin, p);
    }
    return (c->key = cca_gen_key(o->key_type)) ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t take_key(cca_ca_t *c, const char *pin, apr_pool_t *p)
{
    if (!c->uri || c->key) {
        return APR_SUCCESS;
    }
    return (c->key = ca_p11_key(p11, c->uri, pin, p)) ? APR_SUCCESS : APR_EGENERAL;
}

/* the top (the offline Root, or Class 1 in the legacy layout), the issuing
 * CAs below it, and an OCSP responder for each CA that issues */
static apr_status_t init_generate(cca_ca_t *ptop, cca_ca_t subs[3], int *pnsub,
                                  cca_ca_t ocsp[3], const cca_opts_t *o, int legacy,
                                  const char *pin, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    const char *ocsp_type;
    int i, nsub;

    /* the top: the offline Root, or Class 1 in the legacy layout (which
     * issues, so it lives where the issuing CAs live) */
    ptop->id = legacy ? "class1" : "root";
    ptop->cn = apr_pstrcat(p, o->name, legacy ? " Class 1 Root" : " Root", NULL);
    if ((rv = new_key(ptop, legacy ? o->token : o->root_token, o, pin, p)) != APR_SUCCESS
        || (!legacy && (rv = take_key(ptop, pin, p)) != APR_SUCCESS)) {
        return rv;
    }

    /* the issuing CAs below it: every key first (libp11 lists a token's
     * keys once), then the certificates */
    if (legacy) {
        nsub = 1;
        subs[0].id = "class3";
        subs[0].cn = apr_pstrcat(p, o->name, " Class 3 Root", NULL);
    }
    else {
        static const char *const ids[3] = { "member", "assured", "org" };
        static const char *const cns[3] = {
            " Member SubRoot", " Assured SubRoot", " Organisation SubRoot"
        };
        nsub = 3;
        for (i = 0; i < 3; i++) {
            subs[i].id = ids[i];
            subs[i].cn = apr_pstrcat(p, o->name, cns[i], NULL);
        }
    }
    for (i = 0; i < nsub; i++) {
        if ((rv = new_key(&subs[i], o->token, o, pin, p)) != APR_SUCCESS) {
            return rv;
        }
    }
    if ((rv = take_key(ptop, pin, p)) != APR_SUCCESS
        || !(ptop->cert = cca_make_cert(KIND_ROOT, o->name, ptop->cn, ptop->key, NULL,
                                        ptop->key, o->days_root, o, p))) {
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    for (i = 0; i < nsub; i++) {
        if ((rv = take_key(&subs[i], pin, p)) != APR_SUCCESS
            || !(subs[i].cert = cca_make_cert(KIND_SUB, o->name, subs[i].cn, subs[i].key,
                                              ptop->cert, ptop->key, o->days_sub, o, p))) {
            return rv != APR_SUCCESS ? rv : APR_EGENERAL;
        }
    }

    /* OCSP responders: one per issuing CA (legacy: Class 1 issues too).
     * Smaller keys of the same family, as files: they live on the web
     * host and sign every OCSP answer. */
    ocsp_type = !strncmp(o->key_type, "ec:", 3) ? "ec:P-256" : "rsa:2048";
    for (i = 0; i < (legacy ? 2 : nsub); i++) {
        cca_ca_t *ca = legacy ? (i == 0 ? ptop : &subs[0]) : &subs[i];

        ocsp[i].id = ca->id;
        ocsp[i].cn = apr_pstrcat(p, ca->cn, " OCSP Responder", NULL);
        if (strlen(ocsp[i].cn) > 64) {
            ocsp[i].cn = apr_pstrcat(p, ca->id, " OCSP Responder", NULL);
        }
        if (!(ocsp[i].key = cca_gen_key(ocsp_type))
            || !(ocsp[i].cert = cca_make_cert(KIND_OCSP, o->name, ocsp[i].cn, ocsp[i].key,
                                              ca->cert, ca->key, 365, o, p))) {
            rv = APR_EGENERAL;
            return rv;
        }
    }

    *pnsub = nsub;
    return APR_SUCCESS;
}

/* a CA key where it belongs: PATH.key (encrypted), or PATH.uri naming it
 * on its token */
static apr_status_t write_ca_key(const char *path, const cca_ca_t *c, const char *pass,
                                 apr_pool_t *p)
{
    FILE *f;

    if (!c->uri) {
        return cca_write_key(apr_pstrcat(p, path, ".key", NULL), c->key, pass);
    }
    path = apr_pstrcat(p, path, ".uri", NULL);
    if (!(f = cca_open_out(path, 0644))) {
        return APR_EGENERAL;
    }
    return cca_close_out(f, fprintf(f, "%s\n", c->uri) > 0, path);
}

/* every file where it belongs: offline/, signer/, web/ */
static apr_status_t init_write(const cca_ca_t *ptop, cca_ca_t subs[3], int nsub,
                               cca_ca_t ocsp[3], const char *pass, const cca_opts_t *o,
                               int legacy, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    /* write everything */
    if ((rv = cca_write_certs(apr_pstrcat(p, o->dir, "/web/root.crt", NULL), ptop->cert, NULL))
        != APR_SUCCESS) {
        return rv;
    }
    if (legacy) {
        if ((rv = cca_write_certs(apr_pstrcat(p, o->dir, "/web/class1.crt", NULL), ptop->cert,
                                  NULL)) != APR_SUCCESS
            || (rv = cca_write_certs(apr_pstrcat(p, o->dir, "/web/chain-class1.pem", NULL),
                                     ptop->cert, NULL)) != APR_SUCCESS
            || (rv = cca_write_certs(apr_pstrcat(p, o->dir, "/signer/class1.crt", NULL),
                                     ptop->cert, NULL)) != APR_SUCCESS
            || (rv = write_ca_key(apr_pstrcat(p, o->dir, "/signer/class1", NULL), ptop, pass,
                                  p)) != APR_SUCCESS) {
            return rv;
        }
    }
    else {
        if ((rv = write_ca_key(apr_pstrcat(p, o->dir, "/offline/root", NULL), ptop, pass, p))
            != APR_SUCCESS
            || (rv = cca_write_certs(apr_pstrcat(p, o->dir, "/offline/root.crt", NULL),
                                     ptop->cert, NULL)) != APR_SUCCESS
            || (rv = root_crl(apr_pstrcat(p, o->dir, "/web/root.crl", NULL), (cca_ca_t *)ptop,
                              p)) != APR_SUCCESS) {
            return rv;
        }
    }
    for (i = 0; i < nsub; i++) {
        const char *id = subs[i].id;

        if ((rv = cca_write_certs(apr_psprintf(p, "%s/signer/%s.crt", o->dir, id),
                                  subs[i].cert, NULL)) != APR_SUCCESS
            || (rv = write_ca_key(apr_psprintf(p, "%s/signer/%s", o->dir, id), &subs[i], pass,
                                  p)) != APR_SUCCESS
            || (rv = cca_write_certs(apr_psprintf(p, "%s/web/%s.crt", o->dir, id),
                                     subs[i].cert, NULL)) != APR_SUCCESS
            || (rv = cca_write_certs(apr_psprintf(p, "%s/web/chain-%s.pem", o->dir, id),
                                     subs[i].cert, ptop->cert)) != APR_SUCCESS) {
            return rv;
        }
    }
    for (i = 0; i < 3 && ocsp[i].cert; i++) {
        if ((rv = cca_write_certs(apr_psprintf(p, "%s/web/ocsp-%s.crt", o->dir, ocsp[i].id),
                                  ocsp[i].cert, NULL)) != APR_SUCCESS
            || (rv = cca_write_key(apr_psprintf(p, "%s/web/ocsp-%s.key", o->dir, ocsp[i].id),
                                   ocsp[i].key, NULL)) != APR_SUCCESS) {
            return rv;
        }
    }

    return APR_SUCCESS;
}

/* where the parts went, for the ceremony record */
static void init_summary(const cca_opts_t *o, int legacy, const cca_ca_t subs[3], int nsub)
{
    const char *path;
    int i;

    path = o->dir;
    printf("\nCA hierarchy \"%s\" (%s layout, %s) written to %s\n\n", o->name,
           legacy ? "legacy" : "audit", o->key_type, path);
    if (!legacy && o->root_token) {
        printf("  %s/offline/   the Root certificate, and root.uri naming its key on the\n"
               "                token \"%s\": keep that token offline, in the safe\n",
               path, o->root_token);
    }
    else if (!legacy) {
        printf("  %s/offline/   the Root key (encrypted) and certificate:\n"
               "                copy to two encrypted offline media, then delete it here\n",
               path);
    }
    printf("  %s/signer/    the issuing CA certificates and %s:\n"
           "                to the signing host (signerd) only\n", path,
           o->token ? "<ca>.uri naming their keys on the token" : "their keys (encrypted)");
    printf("  %s/web/       certificates, chains%s, and the OCSP responder keys:\n"
           "                to the web host (the keys for mod_cacert_ocsp, mode 0600)\n",
           path, legacy ? "" : ", the Root's CRL");
    if (o->token) {
        printf("\n  signerd.conf: pkcs11-module %s, and in the ca lines\n", o->pkcs11_module);
        for (i = 0; i < nsub; i++) {
            printf("    ca %s ... key=%s\n", subs[i].id, subs[i].uri);
        }
    }
    if (legacy) {
        printf("\n  note: in the legacy layout the Class 1 root key issues certificates,\n"
               "  so it lives on the signing host; the audit layout keeps the Root offline.\n");
    }
    printf("\nCompare these fingerprints with the ceremony record:\n\n");
}

static int legacy_layout(const cca_opts_t *o)
{
    return !strcmp(o->layout, "legacy");
}

static apr_status_t cmd_init(const cca_opts_t *o, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    const char *pass = NULL;
    int legacy = legacy_layout(o), i, nsub = 0;
    cca_ca_t top = { 0 }, subs[3], ocsp[3];
    struct stat st;

    memset(subs, 0, sizeof(subs));
    memset(ocsp, 0, sizeof(ocsp));
    if (stat(o->dir, &st) == 0 && !o->force && !dir_is_empty(o->dir)) {
        rv = APR_EEXIST;
        ca_log(CA_LOG_ERR, "CA50440", rv, "%s exists and is not empty: refusing to "
               "overwrite a CA (use --force to replace it)", o->dir);
        goto leave;
    }
    /* a token's PIN may be short; a key file's passphrase may not */
    if ((rv = cca_read_passphrase(&pass, o->passfile,
                                  o->token && (o->root_token || legacy) ? 4 : 8, p))
        != APR_SUCCESS) {
        goto leave;
    }
    if ((o->token || o->root_token)
        && (rv = ca_p11_open(&p11, o->pkcs11_module, p)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = cca_make_dir(o->dir, 0700)) != APR_SUCCESS
        || (!legacy && (rv = cca_make_dir(apr_pstrcat(p, o->dir, "/offline", NULL), 0700))
            != APR_SUCCESS)
        || (rv = cca_make_dir(apr_pstrcat(p, o->dir, "/signer", NULL), 0700)) != APR_SUCCESS
        || (rv = cca_make_dir(apr_pstrcat(p, o->dir, "/web", NULL), 0755)) != APR_SUCCESS
        || (rv = init_generate(&top, subs, &nsub, ocsp, o, legacy, pass, p)) != APR_SUCCESS
        || (rv = init_write(&top, subs, nsub, ocsp, pass, o, legacy, p)) != APR_SUCCESS) {
        goto leave;
    }
    init_summary(o, legacy, subs, nsub);
leave:
    for (i = 0; i < 3; i++) {
        X509_free(subs[i].cert);
        EVP_PKEY_free(subs[i].key);
        X509_free(ocsp[i].cert);
        EVP_PKEY_free(ocsp[i].key);
    }
    X509_free(top.cert);
    EVP_PKEY_free(top.key);
    ca_p11_close(p11);
    p11 = NULL;
    cca_forget_passphrase(pass);
    return rv;
}

/* ---------------------------------------------------------------- show */

static void print_time(const char *label, const ASN1_TIME *t)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm)) {
        printf("  %-12s %04d-%02d-%02d %02d:%02d:%02d UTC\n", label, tm.tm_year + 1900,
               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
}

void cca_print_cert(const char *path, X509 *x)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    char *subject = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
    char *issuer = X509_NAME_oneline(X509_get_issuer_name(x), NULL, 0);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *serial = bn ? BN_bn2hex(bn) : NULL;
    EVP_PKEY *key = X509_get0_pubkey(x);

    printf("%s\n", path);
    printf("  %-12s %s\n", "subject", subject ? subject : "?");
    printf("  %-12s %s\n", "issuer", issuer ? issuer : "?");
    printf("  %-12s %s\n", "serial", serial ? serial : "?");
    print_time("not before", X509_get0_notBefore(x));
    print_time("not after", X509_get0_notAfter(x));
    if (key) {
        printf("  %-12s %s %d bits\n", "key", EVP_PKEY_get0_type_name(key),
               EVP_PKEY_get_bits(key));
    }
    if (X509_digest(x, EVP_sha256(), md, &mdlen)) {
        printf("  %-12s ", "SHA-256");
        for (i = 0; i < mdlen; i++) {
            printf("%02X%s", md[i], i + 1 < mdlen ? ":" : "\n");
        }
    }
    OPENSSL_free(subject);
    OPENSSL_free(issuer);
    OPENSSL_free(serial);
    BN_free(bn);
}

X509 *cca_read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

    if (f) {
        fclose(f);
    }
    if (!x) {
        ERR_clear_error();
    }
    return x;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static apr_status_t cmd_show(const char *dir, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    const char *web = apr_pstrcat(p, dir, "/web", NULL);
    apr_array_header_t *names = apr_array_make(p, 16, sizeof(const char *));
    struct dirent *e;
    DIR *d = opendir(web);
    int i;

    if (!d) {
        rv = APR_FROM_OS_ERROR(errno);
        ca_log(CA_LOG_ERR, "CA50450", rv, "cannot read %s", web);
        goto leave;
    }
    while ((e = readdir(d))) {
        apr_size_t len = strlen(e->d_name);
        if (len > 4 && !strcmp(e->d_name + len - 4, ".crt")) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p, e->d_name);
        }
    }
    closedir(d);
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), cmp_str);
    for (i = 0; i < names->nelts; i++) {
        const char *path = apr_pstrcat(p, web, "/", APR_ARRAY_IDX(names, i, const char *),
                                       NULL);
        X509 *x = cca_read_cert(path);

        if (!x) {
            ca_log(CA_LOG_WARN, "CA50451", APR_EINVAL, "%s is not a PEM certificate", path);
            continue;
        }
        cca_print_cert(path, x);
        X509_free(x);
    }
    if (names->nelts == 0) {
        rv = APR_ENOENT;
        ca_log(CA_LOG_ERR, "CA50452", rv, "no certificates in %s", web);
    }
leave:
    return rv;
}

/* ---------------------------------------------------------------- main */

/* the options that take a value: a string, or a number of days */
static const struct {
    const char *name;
    size_t off;
    int days;
} options[] = {
    { "--dir", offsetof(cca_opts_t, dir), 0 },
    { "--name", offsetof(cca_opts_t, name), 0 },
    { "--layout", offsetof(cca_opts_t, layout), 0 },
    { "--key-type", offsetof(cca_opts_t, key_type), 0 },
    { "--passphrase-file", offsetof(cca_opts_t, passfile), 0 },
    { "--ocsp-base", offsetof(cca_opts_t, ocsp_base), 0 },
    { "--crl-base", offsetof(cca_opts_t, crl_base), 0 },
    { "--pkcs11-module", offsetof(cca_opts_t, pkcs11_module), 0 },
    { "--token", offsetof(cca_opts_t, token), 0 },
    { "--root-token", offsetof(cca_opts_t, root_token), 0 },
    { "--signerd-conf", offsetof(cca_opts_t, signerd_conf), 0 },
    { "--ca", offsetof(cca_opts_t, ca), 0 },
    { "--days-root", offsetof(cca_opts_t, days_root), 1 },
    { "--days-sub", offsetof(cca_opts_t, days_sub), 1 },
    { "--days", offsetof(cca_opts_t, days), 1 },
    { "--warn-days", offsetof(cca_opts_t, warn_days), 1 },
};

/* APR_ENOENT: no such option; APR_EINVAL: a bad number of days (said) */
static apr_status_t set_option(cca_opts_t *o, const char *name, const char *v)
{
    size_t i;

    for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        char *field = (char *)o + options[i].off;
        if (strcmp(name, options[i].name)) {
            continue;
        }
        if (!options[i].days) {
            *(const char **)field = v;
        }
        else if (!parse_days((int *)field, v)) {
            fprintf(stderr, "%s must be 1..36500\n", name);
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    }
    return APR_ENOENT;
}

int main(int argc, char **argv)
{
    cca_opts_t o;
    apr_pool_t *p;
    apr_status_t rv;
    int i;

    memset(&o, 0, sizeof(o));
    o.layout = "audit";
    o.key_type = "rsa:4096";
    o.days_root = 7300;
    o.days_sub = 3650;
    o.days = 365;
    o.warn_days = 30;
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage_to(stdout);
        return 0;
    }
    if (argc < 2) {
        usage();
        return 2;
    }
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--force")) {
            o.force = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "%s needs a value\n", a);
            usage();
            return 2;
        }
        i++;
        if ((rv = set_option(&o, a, v)) != APR_SUCCESS) {
            if (rv == APR_ENOENT) {
                fprintf(stderr, "unknown option %s\n", a);
                usage();
            }
            return 2;
        }
    }
    if (!o.dir) {
        usage();
        return 2;
    }
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    if (!strcmp(argv[1], "init")) {
        apr_size_t chars = o.name ? strlen(o.name) : 0;
        if (!o.name || chars == 0 || chars > 40) {
            fprintf(stderr, "--name is needed (1..40 bytes)\n");
            return 2;
        }
        if (strcmp(o.layout, "audit") && strcmp(o.layout, "legacy")) {
            fprintf(stderr, "--layout is audit or legacy\n");
            return 2;
        }
        if (!key_type_ok(o.key_type)) {
            fprintf(stderr, "--key-type is rsa:4096, rsa:3072, ec:P-384 or ec:P-256\n");
            return 2;
        }
        if ((o.ocsp_base && !url_ok(o.ocsp_base)) || (o.crl_base && !url_ok(o.crl_base))) {
            fprintf(stderr, "--ocsp-base and --crl-base are http(s) URLs without spaces "
                    "or commas\n");
            return 2;
        }
        if ((o.token || o.root_token) && (!o.pkcs11_module || o.pkcs11_module[0] != '/')) {
            fprintf(stderr, "--token and --root-token need --pkcs11-module (an absolute "
                    "path)\n");
            return 2;
        }
        if (o.root_token && (legacy_layout(&o) || (o.token && !strcmp(o.token,
                                                                       o.root_token)))) {
            fprintf(stderr, "--root-token names a token of the Root's own, in the audit "
                    "layout\n");
            return 2;
        }
        if (o.crl_base && o.crl_base[strlen(o.crl_base) - 1] == '/') {
            o.crl_base = apr_pstrndup(p, o.crl_base, strlen(o.crl_base) - 1);
        }
        rv = cmd_init(&o, p);
        if (rv == APR_SUCCESS) {
            rv = cmd_show(o.dir, p);
        }
    }
    else if (!strcmp(argv[1], "show")) {
        rv = cmd_show(o.dir, p);
    }
    else if (!strcmp(argv[1], "verify")) {
        rv = cca_verify(&o, p);
    }
    else if (!strcmp(argv[1], "renew-ocsp")) {
        if (!o.ca) {
            fprintf(stderr, "renew-ocsp needs --ca NAME\n");
            return 2;
        }
        rv = cca_renew_ocsp(&o, p);
    }
    else {
        usage();
        return 2;
    }
    apr_pool_destroy(p);
    return rv == APR_SUCCESS ? 0 : 1;
}
