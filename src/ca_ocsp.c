/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The RFC 6960 / RFC 5019 core of the OCSP responder: request parsing,
 * responder lookup by issuer hashes, response signing, error responses and
 * the GET form's decoding.  Log tags CA70000-CA70099. */
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_issue.h"
#include "ca_log.h"
#include "ca_ocsp.h"

#define MAX_PEM_FILE (1024 * 1024)

static const char *ossl_err(apr_pool_t *p)
{
    unsigned long e = ERR_peek_last_error();
    char buf[256];

    if (e == 0) {
        return "no OpenSSL detail";
    }
    ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return apr_pstrdup(p, buf);
}

static const char *hex_lower(const unsigned char *d, apr_size_t n, const char *prefix,
                             apr_pool_t *p)
{
    apr_size_t k = strlen(prefix), i;
    char *s = apr_palloc(p, k + 2 * n + 1);

    memcpy(s, prefix, k);
    for (i = 0; i < n; i++) {
        s[k + 2 * i] = "0123456789abcdef"[d[i] >> 4];
        s[k + 2 * i + 1] = "0123456789abcdef"[d[i] & 15];
    }
    s[k + 2 * n] = '\0';
    return s;
}

/* ------------------------------------------------------------------------
 * loading a responder
 */

static apr_status_t read_file(const char **pdata, apr_size_t *plen, const char *path,
                              apr_pool_t *p)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_status_t rv;
    char *buf;

    *pdata = NULL;
    *plen = 0;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA70001", rv, "OCSP: cannot open %s", path);
        goto leave;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv == APR_SUCCESS && (fi.size <= 0 || fi.size > MAX_PEM_FILE)) {
        rv = APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA70002", rv, "OCSP: %s is empty, too large or unreadable",
               path);
        goto leave;
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, plen);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA70003", rv, "OCSP: cannot read %s", path);
        goto leave;
    }
    buf[*plen] = '\0';
    *pdata = buf;
leave:
    if (f) {
        apr_file_close(f);
    }
    return rv;
}

/* The first PEM block in data whose name is one of names (NULL-terminated);
 * *pname gets the name found.  Result in p. */
static apr_status_t pem_block(const unsigned char **pder, apr_size_t *plen,
                              const char **pname, const char *data, apr_size_t len,
                              const char *const *names, apr_pool_t *p)
{
    BIO *bio = NULL;
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long n = 0;
    apr_status_t rv = APR_NOTFOUND;
    int i;

    *pder = NULL;
    *plen = 0;
    *pname = NULL;
    bio = BIO_new_mem_buf(data, (int)len);
    if (!bio) {
        rv = APR_ENOMEM;
        goto leave;
    }
    while (PEM_read_bio(bio, &name, &header, &der, &n) == 1) {
        for (i = 0; names[i]; i++) {
            if (strcmp(name, names[i]) == 0) {
                *pder = apr_pmemdup(p, der, (apr_size_t)n);
                *plen = (apr_size_t)n;
                *pname = apr_pstrdup(p, name);
                rv = APR_SUCCESS;
            }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(der);
        name = header = NULL;
        der = NULL;
        if (rv == APR_SUCCESS) {
            break;
        }
    }
leave:
    ERR_clear_error();      /* PEM_read_bio's "no start line" at the end */
    BIO_free(bio);
    return rv;
}

/* path only names the data in messages */
static apr_status_t load_cert(X509 **px, const char *data, apr_size_t len, const char *path,
                              const char *what, apr_pool_t *p)
{
    static const char *const names[] = { "CERTIFICATE", "TRUSTED CERTIFICATE",
                                         "X509 CERTIFICATE", NULL };
    const unsigned char *der = NULL, *q;
    const char *bname;
    apr_size_t dlen;
    apr_status_t rv;

    *px = NULL;
    rv = pem_block(&der, &dlen, &bname, data, len, names, p);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA70004", APR_EINVAL, "OCSP: no PEM certificate in %s (%s)",
               path, what);
        rv = APR_EINVAL;
        goto leave;
    }
    q = der;
    *px = d2i_X509(NULL, &q, (long)dlen);
    if (!*px) {
        ca_log(CA_LOG_ERR, "CA70005", APR_EINVAL, "OCSP: bad certificate in %s (%s): %s",
               path, what, ossl_err(p));
        rv = APR_EINVAL;
    }
leave:
    return rv;
}

static apr_status_t load_key(EVP_PKEY **pk, const char *data, apr_size_t len,
                             const char *path, apr_pool_t *p)
{
    static const char *const names[] = { "PRIVATE KEY", "RSA PRIVATE KEY",
                                         "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", NULL };
    const unsigned char *der = NULL, *q;
    const char *bname;
    apr_size_t dlen;
    apr_status_t rv;
    int type;

    *pk = NULL;
    rv = pem_block(&der, &dlen, &bname, data, len, names, p);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA70006", APR_EINVAL, "OCSP: no PEM private key in %s", path);
        rv = APR_EINVAL;
        goto leave;
    }
    if (strcmp(bname, "ENCRYPTED PRIVATE KEY") == 0) {
        ca_log(CA_LOG_ERR, "CA70007", APR_EINVAL, "OCSP: the private key in %s is "
               "encrypted; the responder key must be stored unencrypted "
               "(readable by root only)", path);
        rv = APR_EINVAL;
        goto leave;
    }
    q = der;
    if (strcmp(bname, "RSA PRIVATE KEY") == 0) {
        *pk = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &q, (long)dlen);
    }
    else if (strcmp(bname, "EC PRIVATE KEY") == 0) {
        *pk = d2i_PrivateKey(EVP_PKEY_EC, NULL, &q, (long)dlen);
    }
    else {
        *pk = d2i_AutoPrivateKey(NULL, &q, (long)dlen);
    }
    if (!*pk) {
        ca_log(CA_LOG_ERR, "CA70008", APR_EINVAL, "OCSP: bad private key in %s: %s",
               path, ossl_err(p));
        rv = APR_EINVAL;
        goto leave;
    }
    type = EVP_PKEY_get_base_id(*pk);
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
        ca_log(CA_LOG_ERR, "CA70009", APR_EINVAL, "OCSP: the private key in %s is "
               "neither RSA nor EC", path);
        rv = APR_EINVAL;
    }
leave:
    return rv;
}

static apr_status_t free_responder(void *baton)
{
    ca_ocsp_responder_t *r = baton;

    X509_free(r->issuer);
    X509_free(r->cert);
    EVP_PKEY_free(r->key);
    r->issuer = r->cert = NULL;
    r->key = NULL;
    return APR_SUCCESS;
}

static time_t asn1_time_t(const ASN1_TIME *t)
{
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0, secs = 0;
    time_t res = 0;

    if (epoch && ASN1_TIME_diff(&days, &secs, epoch, t)) {
        res = (time_t)days * 86400 + secs;
    }
    ASN1_TIME_free(epoch);
    return res;
}

apr_status_t ca_ocsp_responder_read(ca_ocsp_files_t *files, const char *issuer_pem_file,
                                    const char *responder_pem_file,
                                    const char *responder_key_file, apr_pool_t *p)
{
    apr_status_t rv;

    memset(files, 0, sizeof(*files));
    files->issuer_file = issuer_pem_file;
    files->cert_file = responder_pem_file;
    files->key_file = responder_key_file;
    if ((rv = read_file(&files->issuer, &files->issuer_len, issuer_pem_file, p)) != APR_SUCCESS
        || (rv = read_file(&files->cert, &files->cert_len, responder_pem_file, p))
        != APR_SUCCESS
        || (rv = read_file(&files->key, &files->key_len, responder_key_file, p))
        != APR_SUCCESS) {
        return rv;
    }
    return APR_SUCCESS;
}

apr_status_t ca_ocsp_responder_load(ca_ocsp_responder_t **pr, const char *name,
                                    const char *issuer_pem_file,
                                    const char *responder_pem_file,
                                    const char *responder_key_file, apr_pool_t *p)
{
    ca_ocsp_files_t files;
    apr_status_t rv = ca_ocsp_responder_read(&files, issuer_pem_file, responder_pem_file,
                                             responder_key_file, p);

    *pr = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return ca_ocsp_responder_parse(pr, name, &files, p);
}

apr_status_t ca_ocsp_responder_parse(ca_ocsp_responder_t **pr, const char *name,
                                     const ca_ocsp_files_t *files, apr_pool_t *p)
{
    const char *issuer_pem_file = files->issuer_file;
    const char *responder_pem_file = files->cert_file;
    ca_ocsp_responder_t *r;
    const ASN1_BIT_STRING *kbits;
    unsigned int n;
    apr_status_t rv;
    int self;

    *pr = NULL;
    r = apr_pcalloc(p, sizeof(*r));
    r->name = apr_pstrdup(p, name ? name : "");
    apr_pool_cleanup_register(p, r, free_responder, apr_pool_cleanup_null);

    rv = load_cert(&r->issuer, files->issuer, files->issuer_len, issuer_pem_file, "issuer", p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = load_cert(&r->cert, files->cert, files->cert_len, responder_pem_file, "responder", p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = load_key(&r->key, files->key, files->key_len, files->key_file, p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = APR_EINVAL;
    if (X509_check_ca(r->issuer) < 1) {
        ca_log(CA_LOG_ERR, "CA70010", rv, "OCSP responder %s: the issuer certificate "
               "in %s is not a CA certificate", r->name, issuer_pem_file);
        goto leave;
    }
    self = X509_cmp(r->issuer, r->cert) == 0;
    if (!self) {
        if (X509_check_issued(r->issuer, r->cert) != X509_V_OK) {
            ca_log(CA_LOG_ERR, "CA70011", rv, "OCSP responder %s: the responder "
                   "certificate in %s is not issued by the issuer in %s (names or key "
                   "identifiers differ)", r->name, responder_pem_file, issuer_pem_file);
            goto leave;
        }
        if (X509_verify(r->cert, X509_get0_pubkey(r->issuer)) != 1) {
            ca_log(CA_LOG_ERR, "CA70012", rv, "OCSP responder %s: the signature of the "
                   "responder certificate in %s does not verify with the issuer's key: %s",
                   r->name, responder_pem_file, ossl_err(p));
            goto leave;
        }
        if (!(X509_get_extension_flags(r->cert) & EXFLAG_XKUSAGE)
            || !(X509_get_extended_key_usage(r->cert) & XKU_OCSP_SIGN)) {
            ca_log(CA_LOG_ERR, "CA70013", rv, "OCSP responder %s: the responder "
                   "certificate in %s lacks the OCSPSigning extendedKeyUsage", r->name,
                   responder_pem_file);
            goto leave;
        }
        if (X509_get_ext_by_NID(r->cert, NID_id_pkix_OCSP_noCheck, -1) < 0) {
            ca_log(CA_LOG_NOTICE, "CA70014", APR_SUCCESS, "OCSP responder %s: the "
                   "responder certificate has no id-pkix-ocsp-nocheck extension",
                   r->name);
        }
    }
    if (X509_check_private_key(r->cert, r->key) != 1) {
        ca_log(CA_LOG_ERR, "CA70015", rv, "OCSP responder %s: the key in %s does not "
               "match the responder certificate in %s", r->name, files->key_file,
               responder_pem_file);
        ERR_clear_error();
        goto leave;
    }
    r->not_after = asn1_time_t(X509_get0_notAfter(r->cert));
    if (X509_cmp_current_time(X509_get0_notAfter(r->cert)) < 0
        || X509_cmp_current_time(X509_get0_notBefore(r->cert)) > 0) {
        ca_log(CA_LOG_WARN, "CA70016", APR_SUCCESS, "OCSP responder %s: the responder "
               "certificate in %s is outside its validity period: clients will reject "
               "its answers", r->name, responder_pem_file);
    }

    /* the issuer hashes, once: issuerNameHash over the DER subject name,
     * issuerKeyHash over the subjectPublicKey BIT STRING's value */
    kbits = X509_get0_pubkey_bitstr(r->issuer);
    if (!kbits
        || !X509_NAME_digest(X509_get_subject_name(r->issuer), EVP_sha1(), r->sha1_name, &n)
        || !X509_NAME_digest(X509_get_subject_name(r->issuer), EVP_sha256(),
                             r->sha256_name, &n)
        || !EVP_Digest(kbits->data, (size_t)kbits->length, r->sha1_key, &n, EVP_sha1(),
                       NULL)
        || !EVP_Digest(kbits->data, (size_t)kbits->length, r->sha256_key, &n,
                       EVP_sha256(), NULL)
        || !X509_pubkey_digest(r->cert, EVP_sha1(), r->key_id, &n)) {
        ca_log(CA_LOG_ERR, "CA70017", rv, "OCSP responder %s: cannot hash the issuer: %s",
               r->name, ossl_err(p));
        goto leave;
    }
    rv = APR_SUCCESS;
    *pr = r;
leave:
    return rv;
}

/* ------------------------------------------------------------------------
 * requests
 */

apr_status_t ca_ocsp_parse_request(ca_ocsp_request_t **preq, const unsigned char *der,
                                   apr_size_t len, int max_ids, apr_pool_t *p)
{
    ca_ocsp_request_t *req = NULL;
    OCSP_REQUEST *oreq = NULL;
    const unsigned char *q = der;
    apr_status_t rv = APR_EINVAL;
    int i, n, idx;

    *preq = NULL;
    if (!der || len < 2 || len > 0x7fffffff || max_ids < 1) {
        goto leave;
    }
    oreq = d2i_OCSP_REQUEST(NULL, &q, (long)len);
    if (!oreq || q != der + len) {
        ERR_clear_error();
        goto leave;
    }
    n = OCSP_request_onereq_count(oreq);
    if (n < 1 || n > max_ids) {
        goto leave;
    }
    req = apr_pcalloc(p, sizeof(*req));
    req->ids = apr_array_make(p, n, sizeof(ca_ocsp_certid_t));
    for (i = 0; i < n; i++) {
        OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(oreq, i));
        ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
        ASN1_OBJECT *alg = NULL;
        ASN1_INTEGER *sn = NULL;
        ca_ocsp_certid_t *id = apr_array_push(req->ids);
        unsigned char *b;
        int k;

        if (!cid || !OCSP_id_get0_info(&nh, &alg, &kh, &sn, cid) || !nh || !kh || !sn
            || !alg) {
            goto leave;
        }
        switch (OBJ_obj2nid(alg)) {
        case NID_sha1:
            id->alg = CA_OCSP_HASH_SHA1;
            break;
        case NID_sha256:
            id->alg = CA_OCSP_HASH_SHA256;
            break;
        default:
            id->alg = CA_OCSP_HASH_OTHER;
            break;
        }
        id->name_hash_len = (apr_size_t)ASN1_STRING_length(nh);
        id->name_hash = apr_pmemdup(p, ASN1_STRING_get0_data(nh), id->name_hash_len + 1);
        id->key_hash_len = (apr_size_t)ASN1_STRING_length(kh);
        id->key_hash = apr_pmemdup(p, ASN1_STRING_get0_data(kh), id->key_hash_len + 1);
        id->serial = hex_lower(ASN1_STRING_get0_data(sn), (apr_size_t)ASN1_STRING_length(sn),
                               ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER ? "-" : "", p);
        k = i2d_OCSP_CERTID(cid, NULL);
        if (k <= 0) {
            ERR_clear_error();
            goto leave;
        }
        id->der = b = apr_palloc(p, (apr_size_t)k);
        id->der_len = (apr_size_t)i2d_OCSP_CERTID(cid, &b);
        if (id->der_len != (apr_size_t)k) {
            goto leave;
        }
        /* what goes back out must parse again: OpenSSL takes some oddities
         * (e.g. an EOC as hash parameters) that it re-encodes unparseably */
        {
            const unsigned char *r = id->der;
            OCSP_CERTID *again = d2i_OCSP_CERTID(NULL, &r, (long)id->der_len);

            OCSP_CERTID_free(again);
            if (!again || r != id->der + id->der_len) {
                ERR_clear_error();
                goto leave;
            }
        }
    }
    idx = OCSP_REQUEST_get_ext_by_NID(oreq, NID_id_pkix_OCSP_Nonce, -1);
    if (idx >= 0) {
        const ASN1_OCTET_STRING *os;

        if (OCSP_REQUEST_get_ext_by_NID(oreq, NID_id_pkix_OCSP_Nonce, idx) >= 0) {
            goto leave;     /* the same extension twice */
        }
        os = X509_EXTENSION_get_data(OCSP_REQUEST_get_ext(oreq, idx));
        if (!os) {
            goto leave;
        }
        req->nonce_len = (apr_size_t)ASN1_STRING_length(os);
        req->nonce = apr_pmemdup(p, ASN1_STRING_get0_data(os), req->nonce_len + 1);
    }
    req->is_signed = OCSP_request_is_signed(oreq);
    rv = APR_SUCCESS;
    *preq = req;
leave:
    OCSP_REQUEST_free(oreq);
    return rv;
}

ca_ocsp_responder_t *ca_ocsp_find(apr_array_header_t *responders,
                                  const ca_ocsp_certid_t *id)
{
    int i;

    if (!responders || !id || !id->name_hash || !id->key_hash) {
        return NULL;
    }
    for (i = 0; i < responders->nelts; i++) {
        ca_ocsp_responder_t *r = APR_ARRAY_IDX(responders, i, ca_ocsp_responder_t *);

        if (!r) {
            continue;
        }
        if (id->alg == CA_OCSP_HASH_SHA1 && id->name_hash_len == 20
            && id->key_hash_len == 20 && !memcmp(id->key_hash, r->sha1_key, 20)
            && !memcmp(id->name_hash, r->sha1_name, 20)) {
            return r;
        }
        if (id->alg == CA_OCSP_HASH_SHA256 && id->name_hash_len == 32
            && id->key_hash_len == 32 && !memcmp(id->key_hash, r->sha256_key, 32)
            && !memcmp(id->name_hash, r->sha256_name, 32)) {
            return r;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * responses
 */

/* the OCSP_CERTID to send back for id: its DER as received, or one built
 * from the fields */
static OCSP_CERTID *certid_of(const ca_ocsp_certid_t *id)
{
    OCSP_CERTID *cid = NULL;
    X509_NAME *nm = NULL;
    ASN1_BIT_STRING *kb = NULL;
    ASN1_INTEGER *sn = NULL;
    ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
    ASN1_OBJECT *alg = NULL;
    BIGNUM *bn = NULL;
    const unsigned char *q;

    if (id->der) {
        q = id->der;
        cid = d2i_OCSP_CERTID(NULL, &q, (long)id->der_len);
        if (cid && q != id->der + id->der_len) {
            OCSP_CERTID_free(cid);
            cid = NULL;
        }
        goto leave;
    }
    if (id->alg == CA_OCSP_HASH_OTHER || !id->serial || !id->name_hash || !id->key_hash
        || (size_t)BN_hex2bn(&bn, id->serial) != strlen(id->serial) || !*id->serial) {
        goto leave;
    }
    nm = X509_NAME_new();
    kb = ASN1_BIT_STRING_new();
    sn = BN_to_ASN1_INTEGER(bn, NULL);
    if (!nm || !kb || !sn) {
        goto leave;
    }
    cid = OCSP_cert_id_new(id->alg == CA_OCSP_HASH_SHA1 ? EVP_sha1() : EVP_sha256(),
                           nm, kb, sn);
    if (!cid || !OCSP_id_get0_info(&nh, &alg, &kh, NULL, cid)
        || !ASN1_OCTET_STRING_set(nh, id->name_hash, (int)id->name_hash_len)
        || !ASN1_OCTET_STRING_set(kh, id->key_hash, (int)id->key_hash_len)) {
        OCSP_CERTID_free(cid);
        cid = NULL;
    }
leave:
    X509_NAME_free(nm);
    ASN1_BIT_STRING_free(kb);
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    return cid;
}

static int valid_reason(int reason)
{
    return reason >= 0 && reason <= 10 && reason != 7;
}

apr_status_t ca_ocsp_sign_response(const unsigned char **pder, apr_size_t *plen,
                                   const ca_ocsp_responder_t *r,
                                   const ca_ocsp_single_t *items, int nitems,
                                   const unsigned char *nonce, apr_size_t nonce_len,
                                   time_t produced_at, apr_pool_t *p)
{
    OCSP_BASICRESP *bs = NULL;
    OCSP_RESPONSE *resp = NULL;
    OCSP_CERTID *cid = NULL;
    ASN1_GENERALIZEDTIME *tu = NULL, *nu = NULL, *rt = NULL;
    ASN1_OCTET_STRING *os = NULL;
    X509_EXTENSION *ext = NULL;
    EVP_MD_CTX *mctx = NULL;
    unsigned char *buf, *q;
    apr_status_t rv = APR_EINVAL;
    int i, n;

    *pder = NULL;
    *plen = 0;
    if (!r || !r->cert || !r->key || !items || nitems < 1 || (nonce_len && !nonce)
        || nonce_len > 0x7fffffff) {
        ca_log(CA_LOG_ERR, "CA70030", rv, "OCSP: sign_response called without responder "
               "or items");
        goto leave;
    }
    bs = OCSP_BASICRESP_new();
    if (!bs) {
        rv = APR_ENOMEM;
        goto leave;
    }
    for (i = 0; i < nitems; i++) {
        const ca_ocsp_single_t *it = &items[i];
        int st = it->status == CA_OCSP_GOOD ? V_OCSP_CERTSTATUS_GOOD
                 : it->status == CA_OCSP_REVOKED ? V_OCSP_CERTSTATUS_REVOKED
                 : it->status == CA_OCSP_UNKNOWN ? V_OCSP_CERTSTATUS_UNKNOWN : -1;

        if (st < 0 || (st == V_OCSP_CERTSTATUS_REVOKED && !valid_reason(it->reason))) {
            ca_log(CA_LOG_ERR, "CA70031", rv, "OCSP: item %d: bad status %d or reason %d",
                   i, (int)it->status, it->reason);
            goto leave;
        }
        cid = certid_of(&it->id);
        tu = ASN1_GENERALIZEDTIME_set(NULL, it->this_update);
        nu = it->next_update ? ASN1_GENERALIZEDTIME_set(NULL, it->next_update) : NULL;
        rt = st == V_OCSP_CERTSTATUS_REVOKED ? ASN1_GENERALIZEDTIME_set(NULL, it->revoked_at)
             : NULL;
        if (!cid || !tu || (it->next_update && !nu)
            || (st == V_OCSP_CERTSTATUS_REVOKED && !rt)) {
            ca_log(CA_LOG_ERR, "CA70032", rv, "OCSP: item %d: bad CertID or time: %s",
                   i, ossl_err(p));
            goto leave;
        }
        if (!OCSP_basic_add1_status(bs, cid, st,
                                    it->reason > 0 ? it->reason : OCSP_REVOKED_STATUS_NOSTATUS,
                                    rt, tu, nu)) {
            ca_log(CA_LOG_ERR, "CA70033", rv, "OCSP: item %d: cannot add: %s", i,
                   ossl_err(p));
            goto leave;
        }
        OCSP_CERTID_free(cid);
        ASN1_GENERALIZEDTIME_free(tu);
        ASN1_GENERALIZEDTIME_free(nu);
        ASN1_GENERALIZEDTIME_free(rt);
        cid = NULL;
        tu = nu = rt = NULL;
    }
    if (nonce) {
        os = ASN1_OCTET_STRING_new();
        if (!os || !ASN1_OCTET_STRING_set(os, nonce, (int)nonce_len)
            || !(ext = X509_EXTENSION_create_by_NID(NULL, NID_id_pkix_OCSP_Nonce, 0, os))
            || !OCSP_BASICRESP_add_ext(bs, ext, -1)) {
            ca_log(CA_LOG_ERR, "CA70034", rv, "OCSP: cannot add the nonce: %s", ossl_err(p));
            goto leave;
        }
    }
    /* producedAt is allocated with bs; set it in place (OCSP_NOTIME keeps it) */
    if (!ASN1_GENERALIZEDTIME_set((ASN1_GENERALIZEDTIME *)OCSP_resp_get0_produced_at(bs),
                                  produced_at)) {
        ca_log(CA_LOG_ERR, "CA70035", rv, "OCSP: bad producedAt: %s", ossl_err(p));
        goto leave;
    }
    mctx = EVP_MD_CTX_new();
    if (!mctx || EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, r->key) != 1
        || !OCSP_basic_sign_ctx(bs, r->cert, mctx, NULL, OCSP_RESPID_KEY | OCSP_NOTIME)) {
        rv = APR_EGENERAL;
        ca_log(CA_LOG_ERR, "CA70036", rv, "OCSP responder %s: cannot sign: %s", r->name,
               ossl_err(p));
        goto leave;
    }
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    n = resp ? i2d_OCSP_RESPONSE(resp, NULL) : -1;
    if (n <= 0) {
        rv = APR_ENOMEM;
        ca_log(CA_LOG_ERR, "CA70037", rv, "OCSP: cannot encode the response: %s",
               ossl_err(p));
        goto leave;
    }
    q = buf = apr_palloc(p, (apr_size_t)n);
    if (i2d_OCSP_RESPONSE(resp, &q) != n) {
        rv = APR_EGENERAL;
        goto leave;
    }
    *pder = buf;
    *plen = (apr_size_t)n;
    rv = APR_SUCCESS;
leave:
    OCSP_CERTID_free(cid);
    ASN1_GENERALIZEDTIME_free(tu);
    ASN1_GENERALIZEDTIME_free(nu);
    ASN1_GENERALIZEDTIME_free(rt);
    ASN1_OCTET_STRING_free(os);
    X509_EXTENSION_free(ext);
    EVP_MD_CTX_free(mctx);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    ERR_clear_error();
    return rv;
}

apr_status_t ca_ocsp_error_response(const unsigned char **pder, apr_size_t *plen,
                                    int status, apr_pool_t *p)
{
    unsigned char *b;
    apr_status_t rv = APR_EINVAL;

    *pder = NULL;
    *plen = 0;
    if (status != CA_OCSP_MALFORMED_REQUEST && status != CA_OCSP_INTERNAL_ERROR
        && status != CA_OCSP_TRY_LATER && status != CA_OCSP_SIG_REQUIRED
        && status != CA_OCSP_UNAUTHORIZED) {
        goto leave;
    }
    /* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } */
    b = apr_palloc(p, 5);
    b[0] = 0x30;
    b[1] = 0x03;
    b[2] = 0x0a;
    b[3] = 0x01;
    b[4] = (unsigned char)status;
    *pder = b;
    *plen = 5;
    rv = APR_SUCCESS;
leave:
    return rv;
}

/* ------------------------------------------------------------------------
 * GET form
 */

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int b64val(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
           : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
}

apr_status_t ca_ocsp_get_decode(unsigned char **pder, apr_size_t *plen,
                                const char *path_part, apr_pool_t *p)
{
    apr_status_t rv = APR_EINVAL;
    apr_size_t n, i, k = 0, nchars, npad = 0, o = 0;
    unsigned char *txt, *out;
    unsigned long acc = 0;
    int bits = 0;

    *pder = NULL;
    *plen = 0;
    if (!path_part) {
        goto leave;
    }
    while (*path_part == '/') {
        path_part++;
    }
    n = strlen(path_part);
    if (n == 0) {
        goto leave;
    }
    /* %XX-decode */
    txt = apr_palloc(p, n + 1);
    for (i = 0; i < n; i++) {
        int c = (unsigned char)path_part[i];

        if (c == '%') {
            int h, l;

            if (i + 2 >= n) {
                goto leave;
            }
            h = hexval((unsigned char)path_part[i + 1]);
            l = hexval((unsigned char)path_part[i + 2]);
            if (h < 0 || l < 0) {
                goto leave;
            }
            c = h * 16 + l;
            i += 2;
        }
        txt[k++] = (unsigned char)c;
    }
    /* base64 alphabet, then at most two '=' at the end */
    for (nchars = 0; nchars < k && b64val(txt[nchars]) >= 0; nchars++) {
    }
    for (i = nchars; i < k && txt[i] == '='; i++) {
        npad++;
    }
    if (i != k || nchars == 0 || npad > 2 || nchars % 4 == 1
        || (npad && (nchars + npad) % 4 != 0)) {
        goto leave;
    }
    out = apr_palloc(p, nchars * 3 / 4 + 1);
    for (i = 0; i < nchars; i++) {
        acc = (acc << 6) | (unsigned long)b64val(txt[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1UL << bits) - 1;
        }
    }
    if (acc != 0) {
        goto leave;     /* non-zero unused bits: not canonical base64 */
    }
    *pder = out;
    *plen = o;
    rv = APR_SUCCESS;
leave:
    return rv;
}

/* ------------------------------------------------------------------------
 * answering: the rules between a parsed request and the signed answer
 */

const char *ca_ocsp_cache_key(const char *ca, ca_ocsp_hash_t alg, const char *serial,
                              apr_pool_t *p)
{
    const char *rest = apr_psprintf(p, "%s|%d|%s", ca, (int)alg, serial), *c;
    apr_uint32_t h = 2166136261u;

    for (c = rest; *c; c++) {
        h = (h ^ (unsigned char)*c) * 16777619u;
    }
    h ^= h >> 16;
    if (strlen(rest) > CA_OCSP_KEY_REST_MAX) {
        /* a serial no certificate has, or a long CA name: the SHA-256 of
         * it (a rest has a '|', so it never looks like this) */
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (EVP_Digest(rest, strlen(rest), md, &mdlen, EVP_sha256(), NULL) == 1) {
            rest = hex_lower(md, mdlen, "#", p);
        }
        else {
            ERR_clear_error();      /* out of memory: the long key, as before */
        }
    }
    /* 1..255: never a NUL, and every sub-cache of 2 to 256 is reached */
    return apr_psprintf(p, "%c%s", (char)(unsigned char)(1 + h % 255), rest);
}

#define RECORD_HEAD 10      /* nextUpdate (8), length of the request (2) */

apr_status_t ca_ocsp_record_parse(const unsigned char **pder, apr_size_t *plen,
                                  apr_time_t *pnext_update, const unsigned char **preq,
                                  apr_size_t *preq_len, const unsigned char *rec,
                                  apr_size_t rec_len)
{
    apr_status_t rv = APR_EINVAL;
    apr_size_t rlen;

    *pder = NULL;
    *plen = 0;
    if (!rec || rec_len <= RECORD_HEAD) {
        goto leave;
    }
    rlen = (apr_size_t)(rec[8] << 8 | rec[9]);
    if (RECORD_HEAD + rlen >= rec_len) {
        goto leave;
    }
    memcpy(pnext_update, rec, 8);
    if (preq) {
        *preq = rec + RECORD_HEAD;
    }
    if (preq_len) {
        *preq_len = rlen;
    }
    *pder = rec + RECORD_HEAD + rlen;
    *plen = rec_len - RECORD_HEAD - rlen;
    rv = APR_SUCCESS;
leave:
    return rv;
}

/* the record of a fresh answer, NULL if the request is too long for one */
static unsigned char *record_make(apr_size_t *plen, const unsigned char *req,
                                  apr_size_t req_len, const unsigned char *der,
                                  apr_size_t len, apr_time_t next_update, apr_pool_t *p)
{
    unsigned char *rec;

    *plen = 0;
    if (req_len > 0xffff) {
        return NULL;
    }
    rec = apr_palloc(p, RECORD_HEAD + req_len + len);
    memcpy(rec, &next_update, 8);
    rec[8] = (unsigned char)(req_len >> 8);
    rec[9] = (unsigned char)(req_len & 0xff);
    memcpy(rec + RECORD_HEAD, req, req_len);
    memcpy(rec + RECORD_HEAD + req_len, der, len);
    *plen = RECORD_HEAD + req_len + len;
    return rec;
}

/* the stored status as the protocol says it */
static ca_ocsp_cert_status_t cert_status_of(int stored)
{
    return stored == CA_CERT_GOOD ? CA_OCSP_GOOD
           : stored == CA_CERT_REVOKED ? CA_OCSP_REVOKED : CA_OCSP_UNKNOWN;
}

/* a reason the protocol cannot carry (none, unused 7, unknown) is left
 * out, never an error */
static int reason_of(int stored)
{
    return stored >= 1 && stored <= 10 && stored != 7 ? stored : 0;
}

apr_status_t ca_ocsp_answer(ca_ocsp_answer_t *ans, const ca_ocsp_answerer_t *a,
                            const ca_ocsp_request_t *req, const unsigned char *req_der,
                            apr_size_t req_len, apr_time_t now, apr_pool_t *p)
{
    ca_ocsp_responder_t *resp = NULL;
    ca_ocsp_single_t *items;
    const ca_ocsp_certid_t *id;
    apr_status_t rv = APR_SUCCESS;
    int i;

    memset(ans, 0, sizeof(*ans));
    if (!req || !req->ids || req->ids->nelts < 1 || !a->status) {
        ans->error = CA_OCSP_INTERNAL_ERROR;
        rv = APR_EINVAL;
        goto leave;
    }
    /* one responder answers for all ids, or none */
    for (i = 0; i < req->ids->nelts; i++) {
        ca_ocsp_responder_t *ri = ca_ocsp_find(a->responders,
                                               &APR_ARRAY_IDX(req->ids, i, ca_ocsp_certid_t));
        if (!ri || (resp && ri != resp)) {
            ans->error = CA_OCSP_UNAUTHORIZED;
            rv = APR_NOTFOUND;
            goto leave;
        }
        resp = ri;
    }
    ans->responder = resp;
    ans->nonce = a->nonce && req->nonce;
    id = &APR_ARRAY_IDX(req->ids, 0, ca_ocsp_certid_t);
    if (req->ids->nelts == 1 && !ans->nonce) {
        ans->key = ca_ocsp_cache_key(resp->name, id->alg, id->serial, p);
        if (a->cached) {
            const unsigned char *rec;
            apr_size_t rec_len;
            if (a->cached(&rec, &rec_len, a->baton, ans->key, p) == APR_SUCCESS
                && ca_ocsp_record_parse(&ans->der, &ans->len, &ans->next_update, NULL, NULL,
                                        rec, rec_len) == APR_SUCCESS) {
                ans->cached = 1;
                goto leave;
            }
        }
    }

    /* the status of every id from the store */
    ans->next_update = now + a->validity;
    items = apr_pcalloc(p, sizeof(*items) * (apr_size_t)req->ids->nelts);
    for (i = 0; i < req->ids->nelts; i++) {
        ca_ocsp_single_t *it = &items[i];
        apr_int64_t revoked_at = 0;
        int status = CA_CERT_UNKNOWN, reason = 0;

        it->id = APR_ARRAY_IDX(req->ids, i, ca_ocsp_certid_t);
        rv = a->status(&status, &revoked_at, &reason, a->baton, resp->name, it->id.serial, p);
        if (rv != APR_SUCCESS) {
            ans->error = CA_OCSP_TRY_LATER;
            goto leave;
        }
        it->status = cert_status_of(status);
        it->revoked_at = (time_t)revoked_at;
        it->reason = reason_of(reason);
        it->this_update = (time_t)apr_time_sec(now);
        it->next_update = (time_t)apr_time_sec(ans->next_update);
    }
    rv = ca_ocsp_sign_response(&ans->der, &ans->len, resp, items, req->ids->nelts,
                               ans->nonce ? req->nonce : NULL,
                               ans->nonce ? req->nonce_len : 0,
                               (time_t)apr_time_sec(now), p);
    if (rv != APR_SUCCESS) {
        ans->error = CA_OCSP_INTERNAL_ERROR;
        ans->der = NULL;
        ans->len = 0;
        goto leave;
    }
    if (ans->key) {
        ans->record = record_make(&ans->record_len, req_der, req_len, ans->der, ans->len,
                                  ans->next_update, p);
        ans->expiry = now + (ans->next_update - now) * 3 / 4;
    }
leave:
    return rv;
}
