/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* X.509 certificates (CPS 7.1.2) and CRLs (CPS 7.2) as the CA issues them.
 *
 * Certificates are built with OpenSSL objects, every extension from typed
 * structures (never from config strings, so that a value with a comma or a
 * colon in it cannot smuggle a second entry in).  CRL bodies are written as
 * DER by hand: a million entries must build in well under a second, and the
 * web side and signerd must produce the very same bytes from the same list,
 * because only the signature crosses the serial line. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "ca_log.h"
#include "ca_crypto.h"
#include "ca_x509.h"

#define CA_X509_MAX_SANS 100
#define CA_X509_MAX_DAYS 825
#define CA_X509_CN_MAX 64

/* ------------------------------------------------------------------ */
/* profiles */

static const struct {
    ca_profile_t profile;
    const char *name;
} profile_names[] = {
    { CA_PROFILE_CLIENT, "client" },
    { CA_PROFILE_SERVER, "server" },
    { CA_PROFILE_CODESIGN, "codesign" },
    { CA_PROFILE_ORG_CLIENT, "org-client" },
    { CA_PROFILE_ORG_SERVER, "org-server" },
};

ca_profile_t ca_profile_from_name(const char *name)
{
    apr_size_t i;

    if (!name) {
        return 0;
    }
    for (i = 0; i < sizeof(profile_names) / sizeof(profile_names[0]); i++) {
        if (!strcmp(name, profile_names[i].name)) {
            return profile_names[i].profile;
        }
    }
    return 0;
}

const char *ca_profile_name(ca_profile_t profile)
{
    apr_size_t i;

    for (i = 0; i < sizeof(profile_names) / sizeof(profile_names[0]); i++) {
        if (profile_names[i].profile == profile) {
            return profile_names[i].name;
        }
    }
    return NULL;
}

/* extendedKeyUsage sets of CPS 7.1.2 */
#define OID_EMAIL_PROTECTION "1.3.6.1.5.5.7.3.4"
#define OID_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"
#define OID_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define OID_CODE_SIGNING "1.3.6.1.5.5.7.3.3"
#define OID_MS_EFS "1.3.6.1.4.1.311.10.3.4"
#define OID_MS_SGC "1.3.6.1.4.1.311.10.3.3"
#define OID_NS_SGC "2.16.840.1.113730.4.1"
#define OID_MS_CODE_IND "1.3.6.1.4.1.311.2.1.21"
#define OID_MS_CODE_COM "1.3.6.1.4.1.311.2.1.22"

static const char *const eku_client[] = {
    OID_EMAIL_PROTECTION, OID_CLIENT_AUTH, OID_MS_EFS, OID_MS_SGC, OID_NS_SGC, NULL
};
static const char *const eku_server[] = {
    OID_CLIENT_AUTH, OID_SERVER_AUTH, OID_NS_SGC, OID_MS_SGC, NULL
};
static const char *const eku_codesign[] = {
    OID_EMAIL_PROTECTION, OID_CLIENT_AUTH, OID_CODE_SIGNING, OID_MS_CODE_IND,
    OID_MS_CODE_COM, OID_MS_EFS, OID_MS_SGC, OID_NS_SGC, NULL
};

static const char *const *profile_eku(ca_profile_t profile)
{
    switch (profile) {
    case CA_PROFILE_CLIENT:
    case CA_PROFILE_ORG_CLIENT:
        return eku_client;
    case CA_PROFILE_SERVER:
    case CA_PROFILE_ORG_SERVER:
        return eku_server;
    case CA_PROFILE_CODESIGN:
        return eku_codesign;
    }
    return NULL;
}

static int profile_is_org(ca_profile_t profile)
{
    return profile == CA_PROFILE_ORG_CLIENT || profile == CA_PROFILE_ORG_SERVER;
}

static int profile_is_server(ca_profile_t profile)
{
    return profile == CA_PROFILE_SERVER || profile == CA_PROFILE_ORG_SERVER;
}

static const EVP_MD *md_by_name(const char *md)
{
    if (!md) {
        return NULL;
    }
    if (!strcmp(md, "sha256")) {
        return EVP_sha256();
    }
    if (!strcmp(md, "sha384")) {
        return EVP_sha384();
    }
    if (!strcmp(md, "sha512")) {
        return EVP_sha512();
    }
    return NULL;
}

/* 1 for RSA, 2 for EC, 0 for anything else */
static int key_kind(const EVP_PKEY *key)
{
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        return 1;
    case EVP_PKEY_EC:
        return 2;
    }
    return 0;
}

#define log_ossl ca_log_openssl

/* ------------------------------------------------------------------ */
/* well-formedness of the spec */

/* valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF) without C0, DEL
 * or C1 control characters; *pchars gets the number of code points */
static int utf8_clean(const char *s, apr_size_t *pchars)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n = 0;

    while (*u) {
        uint32_t cp;
        int more, i;

        if (*u < 0x80) {
            cp = *u;
            more = 0;
        }
        else if ((*u & 0xE0) == 0xC0) {
            cp = *u & 0x1F;
            more = 1;
        }
        else if ((*u & 0xF0) == 0xE0) {
            cp = *u & 0x0F;
            more = 2;
        }
        else if ((*u & 0xF8) == 0xF0) {
            cp = *u & 0x07;
            more = 3;
        }
        else {
            return 0;
        }
        for (i = 1; i <= more; i++) {
            if ((u[i] & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (u[i] & 0x3F);
        }
        if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800)
            || (more == 3 && cp < 0x10000) || cp > 0x10FFFF
            || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
            return 0;
        }
        u += more + 1;
        n++;
    }
    *pchars = n;
    return 1;
}

/* ASCII printable, no space, non-empty, at most max bytes */
static int ascii_token(const char *s, apr_size_t max)
{
    apr_size_t n = 0;

    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++, n++) {
        if (*s < 0x21 || *s > 0x7E || n >= max) {
            return 0;
        }
    }
    return 1;
}

static int dns_name_ok(const char *s)
{
    const char *c;

    if (!ascii_token(s, 253)) {
        return 0;
    }
    if (!strncmp(s, "*.", 2)) {
        s += 2;
    }
    if (!*s || *s == '.' || *s == '-') {
        return 0;
    }
    for (c = s; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
              || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.')) {
            return 0;
        }
        if (*c == '.' && (c[1] == '.' || c[1] == '\0')) {
            return 0;
        }
    }
    return 1;
}

/* an email address: an ASCII token of at most 254 bytes with one '@',
 * something before it and something after it */
static int email_ok(const char *s)
{
    const char *at = s ? strchr(s, '@') : NULL;

    return ascii_token(s, 254)
        && at && at != s && at[1] && !strchr(at + 1, '@');
}

static int url_ok(const char *s)
{
    return ascii_token(s, 1024)
        && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8));
}

static const char *check_spec(const ca_cert_spec_t *spec)
{
    static const apr_size_t org_max[5] = { 64, 64, 128, 128, 2 };
    apr_size_t chars;
    int i, nsans, ndns = 0, has_subject = 0;

    if (!spec) {
        return "no certificate spec";
    }
    if (!ca_profile_name(spec->profile)) {
        return "unknown certificate profile";
    }
    if (!md_by_name(spec->md)) {
        return "signature hash must be sha256, sha384 or sha512";
    }
    if (spec->days < 1 || spec->days > CA_X509_MAX_DAYS) {
        return "validity must be 1 to 825 days";
    }
    if (!spec->pubkey) {
        return "no subject public key";
    }
    if (!key_kind(spec->pubkey)) {
        return "subject key must be RSA or EC";
    }
    if (spec->cn && *spec->cn) {
        if (!utf8_clean(spec->cn, &chars)) {
            return "common name is not valid UTF-8 or has control characters";
        }
        if (chars > CA_X509_CN_MAX) {
            return "common name longer than 64 characters";
        }
        has_subject = 1;
    }
    if (spec->email && *spec->email) {
        if (!email_ok(spec->email)) {
            return "subject email address is not well-formed";
        }
        has_subject = 1;
    }
    for (i = 0; i < 5; i++) {
        if (!spec->org[i] || !*spec->org[i]) {
            continue;
        }
        if (!profile_is_org(spec->profile)) {
            return "organisation fields on a non-organisation profile";
        }
        if (!utf8_clean(spec->org[i], &chars) || chars > org_max[i]) {
            return "organisation field is not well-formed";
        }
        has_subject = 1;
    }
    if (spec->org[4] && *spec->org[4]
        && !(spec->org[4][0] >= 'A' && spec->org[4][0] <= 'Z'
             && spec->org[4][1] >= 'A' && spec->org[4][1] <= 'Z'
             && spec->org[4][2] == '\0')) {
        return "country must be two capital letters";
    }
    if (profile_is_org(spec->profile) && !(spec->org[0] && *spec->org[0])) {
        return "organisation profile without an organisation name";
    }
    nsans = spec->sans ? spec->sans->nelts : 0;
    if (spec->sans && spec->sans->elt_size != sizeof(ca_san_t)) {
        return "subjectAltName list of the wrong element type";
    }
    if (nsans > CA_X509_MAX_SANS) {
        return "more than 100 subjectAltNames";
    }
    for (i = 0; i < nsans; i++) {
        const ca_san_t *san = &APR_ARRAY_IDX(spec->sans, i, ca_san_t);

        if (!ascii_token(san->value, 255)) {
            return "subjectAltName is not printable ASCII without spaces";
        }
        if (san->type == CA_SAN_DNS) {
            if (!dns_name_ok(san->value)) {
                return "subjectAltName dNSName is not well-formed";
            }
            ndns++;
        }
        else if (san->type == CA_SAN_EMAIL) {
            if (!email_ok(san->value)) {
                return "subjectAltName rfc822Name is not well-formed";
            }
        }
        else {
            return "unknown subjectAltName type";
        }
    }
    if (!has_subject && nsans == 0) {
        return "empty subject and no subjectAltName";
    }
    if (profile_is_server(spec->profile) && ndns == 0) {
        return "server certificate without a dNSName";
    }
    if (!url_ok(spec->ocsp_url)) {
        return "OCSP URL missing or not an http(s) URL";
    }
    if (!url_ok(spec->crl_url)) {
        return "CRL URL missing or not an http(s) URL";
    }
    if (spec->ca_issuers_url && !url_ok(spec->ca_issuers_url)) {
        return "caIssuers URL is not an http(s) URL";
    }
    if (spec->cps_url && !url_ok(spec->cps_url)) {
        return "CPS URL is not an http(s) URL";
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* certificates */

apr_status_t ca_x509_random_serial(unsigned char serial[16])
{
    apr_status_t rv = APR_SUCCESS;
    int tries = 0;

    if (RAND_bytes(serial, 16) != 1) {
        log_ossl("CA50001", "RAND_bytes failed");
        rv = APR_EGENERAL;
        goto leave;
    }
    serial[0] &= 0x7F;
    /* a zero first byte would shorten the INTEGER: draw it again, so every
     * serial is 16 bytes long on the wire and in the certificate */
    while (serial[0] == 0) {
        if (++tries > 64 || RAND_bytes(serial, 1) != 1) {
            log_ossl("CA50002", "RAND_bytes failed");
            rv = APR_EGENERAL;
            goto leave;
        }
        serial[0] &= 0x7F;
    }
leave:
    return rv;
}

static int name_add(X509_NAME *name, int nid, int type, const char *value)
{
    return X509_NAME_add_entry_by_NID(name, nid, type, (const unsigned char *)value,
                                      -1, -1, 0);
}

static int build_subject(X509 *x, const ca_cert_spec_t *spec)
{
    /* order as CAcert writes it: C, ST, L, O, OU, CN, emailAddress */
    static const int org_order[4] = { 3, 2, 0, 1 };     /* ST, L, O, OU */
    static const int org_nid[5] = {
        NID_organizationName, NID_organizationalUnitName, NID_localityName,
        NID_stateOrProvinceName, NID_countryName
    };
    X509_NAME *name = X509_NAME_new();
    int i, ok = 0;

    if (!name) {
        goto leave;
    }
    if (profile_is_org(spec->profile)) {
        if (spec->org[4] && *spec->org[4]
            && !name_add(name, NID_countryName, V_ASN1_PRINTABLESTRING, spec->org[4])) {
            goto leave;
        }
        for (i = 0; i < 4; i++) {
            int k = org_order[i];
            if (spec->org[k] && *spec->org[k]
                && !name_add(name, org_nid[k], V_ASN1_UTF8STRING, spec->org[k])) {
                goto leave;
            }
        }
    }
    if (spec->cn && *spec->cn
        && !name_add(name, NID_commonName, V_ASN1_UTF8STRING, spec->cn)) {
        goto leave;
    }
    if (spec->email && *spec->email
        && !name_add(name, NID_pkcs9_emailAddress, V_ASN1_IA5STRING, spec->email)) {
        goto leave;
    }
    ok = X509_set_subject_name(x, name);
leave:
    X509_NAME_free(name);
    return ok;
}

static GENERAL_NAME *gen_ia5(int type, const char *value)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();

    if (!gn || !s || !ASN1_STRING_set(s, value, -1)) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(s);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, type, s);
    return gn;
}

static int add_key_usage(X509 *x, int digital_signature, int key_encipherment,
                         int key_agreement, int cert_sign, int crl_sign)
{
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    int ok = ku != NULL;

    ok = ok && (!digital_signature || ASN1_BIT_STRING_set_bit(ku, 0, 1));
    ok = ok && (!key_encipherment || ASN1_BIT_STRING_set_bit(ku, 2, 1));
    ok = ok && (!key_agreement || ASN1_BIT_STRING_set_bit(ku, 4, 1));
    ok = ok && (!cert_sign || ASN1_BIT_STRING_set_bit(ku, 5, 1));
    ok = ok && (!crl_sign || ASN1_BIT_STRING_set_bit(ku, 6, 1));
    ok = ok && X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_REPLACE) == 1;
    ASN1_BIT_STRING_free(ku);
    return ok;
}

static int add_eku(X509 *x, const char *const *oids)
{
    EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
    int ok = eku != NULL;

    for (; ok && *oids; oids++) {
        ASN1_OBJECT *o = OBJ_txt2obj(*oids, 1);
        ok = o && sk_ASN1_OBJECT_push(eku, o) > 0;
        if (!ok) {
            ASN1_OBJECT_free(o);
        }
    }
    ok = ok && X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_REPLACE) == 1;
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    return ok;
}

static int add_aia(X509 *x, const char *ocsp, const char *ca_issuers)
{
    AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
    const char *url[2] = { ocsp, ca_issuers };
    const int nid[2] = { NID_ad_OCSP, NID_ad_ca_issuers };
    int i, ok = aia != NULL;

    for (i = 0; ok && i < 2; i++) {
        ACCESS_DESCRIPTION *ad;

        if (!url[i]) {
            continue;
        }
        ad = ACCESS_DESCRIPTION_new();
        ok = ad != NULL;
        if (ok) {
            GENERAL_NAME_free(ad->location);
            ad->location = gen_ia5(GEN_URI, url[i]);
            ad->method = OBJ_nid2obj(nid[i]);
            ok = ad->location && ad->method && sk_ACCESS_DESCRIPTION_push(aia, ad) > 0;
            if (!ok) {
                ACCESS_DESCRIPTION_free(ad);
            }
        }
    }
    ok = ok && X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_REPLACE) == 1;
    AUTHORITY_INFO_ACCESS_free(aia);
    return ok;
}

static int add_cdp(X509 *x, const char *url)
{
    CRL_DIST_POINTS *cdp = sk_DIST_POINT_new_null();
    DIST_POINT *dp = DIST_POINT_new();
    DIST_POINT_NAME *dpn = DIST_POINT_NAME_new();
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gn = gen_ia5(GEN_URI, url);
    int ok = 0;

    if (!cdp || !dp || !dpn || !names || !gn) {
        goto leave;
    }
    if (sk_GENERAL_NAME_push(names, gn) <= 0) {
        goto leave;
    }
    gn = NULL;
    dpn->type = 0;
    dpn->name.fullname = names;
    names = NULL;
    dp->distpoint = dpn;
    dpn = NULL;
    if (sk_DIST_POINT_push(cdp, dp) <= 0) {
        goto leave;
    }
    dp = NULL;
    ok = X509_add1_ext_i2d(x, NID_crl_distribution_points, cdp, 0, X509V3_ADD_REPLACE) == 1;
leave:
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(names);
    DIST_POINT_NAME_free(dpn);
    DIST_POINT_free(dp);
    CRL_DIST_POINTS_free(cdp);
    return ok;
}

int ca_x509_add_policy(X509 *x, const char *oid, const char *cps_url)
{
    CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
    POLICYINFO *pi = POLICYINFO_new();
    int ok = 0;

    /* pols owns pi from here, freeing it with itself */
    if (!pols || !pi || sk_POLICYINFO_push(pols, pi) <= 0) {
        POLICYINFO_free(pi);
        goto leave;
    }
    ASN1_OBJECT_free(pi->policyid);
    pi->policyid = OBJ_txt2obj(oid, 1);
    if (!pi->policyid) {
        goto leave;
    }
    if (cps_url) {
        POLICYQUALINFO *qi = POLICYQUALINFO_new();

        /* and pi owns qi */
        pi->qualifiers = sk_POLICYQUALINFO_new_null();
        if (!qi || !pi->qualifiers || sk_POLICYQUALINFO_push(pi->qualifiers, qi) <= 0) {
            POLICYQUALINFO_free(qi);
            goto leave;
        }
        qi->pqualid = OBJ_nid2obj(NID_id_qt_cps);
        qi->d.cpsuri = ASN1_IA5STRING_new();
        if (!qi->d.cpsuri || !ASN1_STRING_set(qi->d.cpsuri, cps_url, -1)) {
            goto leave;
        }
    }
    ok = X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, X509V3_ADD_REPLACE) == 1;
leave:
    CERTIFICATEPOLICIES_free(pols);
    return ok;
}

/* SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2, method 1) */
static int key_id(unsigned char out[SHA_DIGEST_LENGTH], X509 *cert)
{
    unsigned int len = 0;

    return X509_pubkey_digest(cert, EVP_sha1(), out, &len) == 1
        && len == SHA_DIGEST_LENGTH;
}

static int add_ski(X509 *x)
{
    unsigned char id[SHA_DIGEST_LENGTH];
    ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
    int ok = ski && key_id(id, x) && ASN1_OCTET_STRING_set(ski, id, sizeof(id))
        && X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_REPLACE) == 1;

    ASN1_OCTET_STRING_free(ski);
    return ok;
}

/* the issuer's key identifier: its SKI, or the SHA-1 of its key when it
 * has none */
static int issuer_key_id(const unsigned char **pid, int *plen,
                         unsigned char buf[SHA_DIGEST_LENGTH], X509 *issuer)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);

    if (ski && ASN1_STRING_length(ski) > 0) {
        *pid = ASN1_STRING_get0_data(ski);
        *plen = ASN1_STRING_length(ski);
        return 1;
    }
    if (!key_id(buf, issuer)) {
        return 0;
    }
    *pid = buf;
    *plen = SHA_DIGEST_LENGTH;
    return 1;
}

static int add_aki(X509 *x, X509 *issuer)
{
    unsigned char buf[SHA_DIGEST_LENGTH];
    const unsigned char *id;
    AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
    int len, ok = 0;

    if (!aki || !issuer_key_id(&id, &len, buf, issuer)) {
        goto leave;
    }
    aki->keyid = ASN1_OCTET_STRING_new();
    if (!aki->keyid || !ASN1_OCTET_STRING_set(aki->keyid, id, len)) {
        goto leave;
    }
    ok = X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0, X509V3_ADD_REPLACE) == 1;
leave:
    AUTHORITY_KEYID_free(aki);
    return ok;
}

static int add_san(X509 *x, const apr_array_header_t *sans)
{
    GENERAL_NAMES *names;
    int i, ok;

    if (!sans || sans->nelts == 0) {
        return 1;
    }
    names = sk_GENERAL_NAME_new_null();
    ok = names != NULL;
    for (i = 0; ok && i < sans->nelts; i++) {
        const ca_san_t *san = &APR_ARRAY_IDX(sans, i, ca_san_t);
        GENERAL_NAME *gn = gen_ia5(san->type == CA_SAN_DNS ? GEN_DNS : GEN_EMAIL,
                                   san->value);
        ok = gn && sk_GENERAL_NAME_push(names, gn) > 0;
        if (!ok) {
            GENERAL_NAME_free(gn);
        }
    }
    ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_REPLACE) == 1;
    GENERAL_NAMES_free(names);
    return ok;
}

static int add_basic_constraints(X509 *x)
{
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    int ok;

    if (!bc) {
        return 0;
    }
    bc->ca = 0;
    ok = X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_REPLACE) == 1;
    BASIC_CONSTRAINTS_free(bc);
    return ok;
}

apr_status_t ca_x509_issue(X509 **pcert, const char **perr,
                           const ca_cert_spec_t *spec,
                           X509 *issuer, EVP_PKEY *issuer_key,
                           const unsigned char serial[16], time_t not_before,
                           apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    const char *err = NULL;
    X509 *x = NULL;
    BIGNUM *bn = NULL;
    ASN1_INTEGER *sn = NULL;
    int is_ec;

    *pcert = NULL;
    err = check_spec(spec);
    if (!err && (!issuer || !issuer_key)) {
        err = "no issuer certificate or key";
    }
    if (!err && !serial) {
        err = "no serial number";
    }
    if (!err && !key_kind(issuer_key)) {
        err = "issuer key must be RSA or EC";
    }
    if (!err && X509_check_private_key(issuer, issuer_key) != 1) {
        ERR_clear_error();
        err = "issuer key does not match the issuer certificate";
    }
    if (err) {
        ca_log(CA_LOG_DEBUG, "CA50010", APR_EINVAL, "certificate refused: %s", err);
        rv = APR_EINVAL;
        goto leave;
    }
    is_ec = key_kind(spec->pubkey) == 2;

    if (!(x = X509_new()) || !X509_set_version(x, X509_VERSION_3)) {
        goto ossl_fail;
    }
    if (!(bn = BN_bin2bn(serial, 16, NULL)) || BN_is_zero(bn)
        || !(sn = BN_to_ASN1_INTEGER(bn, NULL)) || !X509_set_serialNumber(x, sn)) {
        goto ossl_fail;
    }
    if (!X509_set_issuer_name(x, X509_get_subject_name(issuer))
        || !build_subject(x, spec)) {
        goto ossl_fail;
    }
    if (!ASN1_TIME_set(X509_getm_notBefore(x), not_before)
        || !ASN1_TIME_adj(X509_getm_notAfter(x), not_before, spec->days, 0)) {
        goto ossl_fail;
    }
    if (!X509_set_pubkey(x, spec->pubkey)) {
        goto ossl_fail;
    }
    /* CPS 7.1.2 lists digitalSignature,keyEncipherment,keyAgreement for every
     * profile.  keyEncipherment means "the subject key encrypts (RSA key
     * transport)": an EC key cannot do that, and RFC 8813 / RFC 5480 say it
     * must not be asserted for EC keys.  So EC subject keys get
     * digitalSignature,keyAgreement only. */
    if (!add_basic_constraints(x)
        || !add_key_usage(x, 1, !is_ec, 1, 0, 0)
        || !add_eku(x, profile_eku(spec->profile))
        || !add_ski(x)
        || !add_aki(x, issuer)
        || !add_san(x, spec->sans)
        || !add_aia(x, spec->ocsp_url, spec->ca_issuers_url)
        || !add_cdp(x, spec->crl_url)
        || !ca_x509_add_policy(x, CA_CPS_OID, spec->cps_url)) {
        goto ossl_fail;
    }
    if (X509_sign(x, issuer_key, md_by_name(spec->md)) <= 0) {
        goto ossl_fail;
    }
    *pcert = x;
    x = NULL;
    goto leave;

ossl_fail:
    log_ossl("CA50011", "building the certificate failed");
    rv = APR_EGENERAL;
    err = "internal error building the certificate";
leave:
    if (perr) {
        *perr = err;
    }
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    X509_free(x);
    return rv;
}

apr_status_t ca_x509_der(const unsigned char **pder, apr_size_t *plen, X509 *cert,
                         apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    unsigned char *buf, *w;
    int len;

    *pder = NULL;
    *plen = 0;
    if (!cert || (len = i2d_X509(cert, NULL)) <= 0) {
        log_ossl("CA50020", "encoding a certificate failed");
        rv = APR_EINVAL;
        goto leave;
    }
    buf = w = apr_palloc(p, (apr_size_t)len);
    if (i2d_X509(cert, &w) != len) {
        log_ossl("CA50021", "encoding a certificate failed");
        rv = APR_EGENERAL;
        goto leave;
    }
    *pder = buf;
    *plen = (apr_size_t)len;
leave:
    return rv;
}

/* ------------------------------------------------------------------ */
/* CRLs: a small DER writer */

/* bytes of a DER length field */
static apr_size_t der_len_size(apr_size_t len)
{
    apr_size_t n = 1;

    if (len < 0x80) {
        return 1;
    }
    while (len) {
        n++;
        len >>= 8;
    }
    return n;
}

/* tag + length + content */
static apr_size_t der_tlv_size(apr_size_t content)
{
    return 1 + der_len_size(content) + content;
}

static unsigned char *der_put_hdr(unsigned char *w, unsigned char tag, apr_size_t len)
{
    *w++ = tag;
    if (len < 0x80) {
        *w++ = (unsigned char)len;
    }
    else {
        apr_size_t n = der_len_size(len) - 1, i;

        *w++ = (unsigned char)(0x80 | n);
        for (i = n; i > 0; i--) {
            *w++ = (unsigned char)(len >> (8 * (i - 1)));
        }
    }
    return w;
}

static unsigned char *der_put(unsigned char *w, const void *data, apr_size_t len)
{
    memcpy(w, data, len);
    return w + len;
}

/* signature AlgorithmIdentifiers: RSA with NULL parameters (RFC 4055),
 * ECDSA without parameters (RFC 5758) */
static const unsigned char alg_rsa_sha256[] = {
    0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00
};
static const unsigned char alg_rsa_sha384[] = {
    0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0C, 0x05, 0x00
};
static const unsigned char alg_rsa_sha512[] = {
    0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0D, 0x05, 0x00
};
static const unsigned char alg_ec_sha256[] = {
    0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02
};
static const unsigned char alg_ec_sha384[] = {
    0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03
};
static const unsigned char alg_ec_sha512[] = {
    0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x04
};

/* the AlgorithmIdentifier DER for a key type and hash; NULL if unsupported */
static const unsigned char *sig_alg(apr_size_t *plen, const EVP_PKEY *key, const char *md)
{
    int kind = key ? key_kind(key) : 0;
    int h = !md ? 0 : !strcmp(md, "sha256") ? 1 : !strcmp(md, "sha384") ? 2
        : !strcmp(md, "sha512") ? 3 : 0;

    if (kind == 1 && h) {
        *plen = sizeof(alg_rsa_sha256);
        return h == 1 ? alg_rsa_sha256 : h == 2 ? alg_rsa_sha384 : alg_rsa_sha512;
    }
    if (kind == 2 && h) {
        *plen = sizeof(alg_ec_sha256);
        return h == 1 ? alg_ec_sha256 : h == 2 ? alg_ec_sha384 : alg_ec_sha512;
    }
    return NULL;
}

/* days since 1970-01-01 -> civil date (H. Hinnant's algorithm) */
static void civil_from_days(int64_t z, int64_t *py, unsigned *pm, unsigned *pd)
{
    int64_t era, y;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *pd = doy - (153 * mp + 2) / 5 + 1;
    *pm = mp < 10 ? mp + 3 : mp - 9;
    *py = y + (*pm <= 2);
}

/* RFC 5280 Time: UTCTime for 1950..2049, GeneralizedTime otherwise.
 * Writes the whole TLV into w (17 bytes at most); returns its size, 0 when
 * the year is outside 1..9999. */
#define DER_TIME_MAX 17
static apr_size_t der_time(unsigned char *w, int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400, y;
    unsigned m, d, hh, mm, ss, i = 0;
    char digits[14];
    int n = 0;

    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) {
        return 0;
    }
    hh = (unsigned)(secs / 3600);
    mm = (unsigned)(secs / 60 % 60);
    ss = (unsigned)(secs % 60);
    if (y >= 1950 && y < 2050) {
        w[0] = V_ASN1_UTCTIME;
        w[1] = 13;
        digits[n++] = (char)('0' + (y / 10) % 10);
        digits[n++] = (char)('0' + y % 10);
    }
    else {
        w[0] = V_ASN1_GENERALIZEDTIME;
        w[1] = 15;
        digits[n++] = (char)('0' + y / 1000);
        digits[n++] = (char)('0' + (y / 100) % 10);
        digits[n++] = (char)('0' + (y / 10) % 10);
        digits[n++] = (char)('0' + y % 10);
    }
    digits[n++] = (char)('0' + m / 10);
    digits[n++] = (char)('0' + m % 10);
    digits[n++] = (char)('0' + d / 10);
    digits[n++] = (char)('0' + d % 10);
    digits[n++] = (char)('0' + hh / 10);
    digits[n++] = (char)('0' + hh % 10);
    digits[n++] = (char)('0' + mm / 10);
    digits[n++] = (char)('0' + mm % 10);
    digits[n++] = (char)('0' + ss / 10);
    digits[n++] = (char)('0' + ss % 10);
    for (i = 0; i < (unsigned)n; i++) {
        w[2 + i] = (unsigned char)digits[i];
    }
    w[2 + n] = 'Z';
    return (apr_size_t)(2 + n + 1);
}

/* an entry as it is sorted: the serial right-aligned in 20 bytes and read
 * as three big-endian numbers, so that comparing them compares the serials
 * numerically whatever leading zero bytes the caller gave */
typedef struct {
    uint64_t k0, k1;
    uint32_t k2;
    uint8_t reason;
    int64_t revoked_at;
} crl_rec_t;

static uint64_t be_load(const unsigned char *b, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

static void rec_from_entry(crl_rec_t *r, const ca_crl_entry_t *e)
{
    unsigned char buf[20] = { 0 };

    memcpy(buf + 20 - e->serial_len, e->serial, e->serial_len);
    r->k0 = be_load(buf, 8);
    r->k1 = be_load(buf + 8, 8);
    r->k2 = (uint32_t)be_load(buf + 16, 4);
    r->reason = e->reason;
    r->revoked_at = e->revoked_at;
}

/* the serial's magnitude (leading zero bytes stripped), pointing into buf */
static const unsigned char *rec_mag(apr_size_t *plen, unsigned char buf[20],
                                    const crl_rec_t *r)
{
    apr_size_t n = 20;
    int i;

    for (i = 0; i < 8; i++) {
        buf[i] = (unsigned char)(r->k0 >> (56 - 8 * i));
        buf[8 + i] = (unsigned char)(r->k1 >> (56 - 8 * i));
    }
    for (i = 0; i < 4; i++) {
        buf[16 + i] = (unsigned char)(r->k2 >> (24 - 8 * i));
    }
    while (n > 0 && buf[20 - n] == 0) {
        n--;
    }
    *plen = n;
    return buf + 20 - n;
}

/* content bytes of the INTEGER for a non-negative magnitude */
static apr_size_t int_content(apr_size_t maglen, const unsigned char *mag)
{
    if (maglen == 0) {
        return 1;                       /* 0 */
    }
    return maglen + ((mag[0] & 0x80) ? 1 : 0);
}

static unsigned char *der_put_uint(unsigned char *w, const unsigned char *mag,
                                   apr_size_t maglen)
{
    w = der_put_hdr(w, V_ASN1_INTEGER, int_content(maglen, mag));
    if (maglen == 0) {
        *w++ = 0;
    }
    else {
        if (mag[0] & 0x80) {
            *w++ = 0;
        }
        w = der_put(w, mag, maglen);
    }
    return w;
}

static int ser_cmp(const crl_rec_t *x, const crl_rec_t *y)
{
    if (x->k0 != y->k0) {
        return x->k0 < y->k0 ? -1 : 1;
    }
    if (x->k1 != y->k1) {
        return x->k1 < y->k1 ? -1 : 1;
    }
    if (x->k2 != y->k2) {
        return x->k2 < y->k2 ? -1 : 1;
    }
    return 0;
}

static int rec_cmp(const void *a, const void *b)
{
    const crl_rec_t *x = a, *y = b;
    int c = ser_cmp(x, y);

    if (c) {
        return c;
    }
    /* the same serial twice: a total order, so the output does not depend
     * on the order the caller gave; the earliest revocation is kept */
    if (x->revoked_at != y->revoked_at) {
        return x->revoked_at < y->revoked_at ? -1 : 1;
    }
    return (int)x->reason - (int)y->reason;
}

/* reasonCode extension for one entry: SEQUENCE OF with one Extension */
#define REASON_EXTS_SIZE 14
static unsigned char *der_put_reason(unsigned char *w, uint8_t reason)
{
    static const unsigned char head[] = {
        0x30, 0x0C,                                 /* Extensions */
        0x30, 0x0A,                                 /* Extension */
        0x06, 0x03, 0x55, 0x1D, 0x15,               /* id-ce-cRLReasons */
        0x04, 0x03, 0x0A, 0x01                      /* OCTET STRING { ENUMERATED */
    };

    w = der_put(w, head, sizeof(head));
    *w++ = reason;
    return w;
}

/* content size of one revokedCertificates entry */
static apr_size_t entry_content_size(const crl_rec_t *e, apr_size_t timelen)
{
    unsigned char buf[20];
    const unsigned char *mag;
    apr_size_t maglen;

    mag = rec_mag(&maglen, buf, e);
    return der_tlv_size(int_content(maglen, mag)) + timelen
        + (e->reason ? REASON_EXTS_SIZE : 0);
}

static apr_size_t time_size(int64_t t)
{
    unsigned char tmp[DER_TIME_MAX];
    return der_time(tmp, t);
}

/* the entries checked, sorted by serial, repeated serials dropped (the
 * earliest revocation stays): *psorted (malloc'ed, the caller frees it),
 * *pn of them, *prevoked_len the content length of revokedCertificates */
static apr_status_t crl_entries(crl_rec_t **psorted, apr_size_t *pn, apr_size_t *prevoked_len,
                                const ca_crl_spec_t *spec)
{
    crl_rec_t *sorted;
    apr_size_t i, n = 0;

    *psorted = NULL;
    *pn = *prevoked_len = 0;
    if (!spec->nentries) {
        return APR_SUCCESS;
    }
    if (spec->nentries > (apr_size_t)-1 / sizeof(*sorted)) {
        return APR_ENOMEM;
    }
    for (i = 0; i < spec->nentries; i++) {
        if (spec->entries[i].serial_len > sizeof(spec->entries[i].serial)) {
            ca_log(CA_LOG_ERR, "CA50035", APR_EINVAL, "CRL: entry %" APR_SIZE_T_FMT
                   " has a serial longer than 20 bytes", i);
            return APR_EINVAL;
        }
        if (spec->entries[i].reason > 10 || spec->entries[i].reason == 7) {
            ca_log(CA_LOG_ERR, "CA50036", APR_EINVAL, "CRL: entry %" APR_SIZE_T_FMT
                   " has an invalid reason %u", i, spec->entries[i].reason);
            return APR_EINVAL;
        }
    }
    sorted = malloc(spec->nentries * sizeof(*sorted));
    if (!sorted) {
        ca_log(CA_LOG_ERR, "CA50034", APR_ENOMEM, "CRL: out of memory for %"
               APR_SIZE_T_FMT " entries", spec->nentries);
        return APR_ENOMEM;
    }
    *psorted = sorted;
    for (i = 0; i < spec->nentries; i++) {
        rec_from_entry(&sorted[i], &spec->entries[i]);
    }
    qsort(sorted, spec->nentries, sizeof(*sorted), rec_cmp);
    for (i = 0; i < spec->nentries; i++) {
        apr_size_t tl;

        if (n > 0 && !ser_cmp(&sorted[n - 1], &sorted[i])) {
            continue;
        }
        tl = time_size(sorted[i].revoked_at);
        if (!tl) {
            ca_log(CA_LOG_ERR, "CA50037", APR_EINVAL, "CRL: a revocation time "
                   "is out of range");
            return APR_EINVAL;
        }
        sorted[n++] = sorted[i];
        *prevoked_len += der_tlv_size(entry_content_size(&sorted[i], tl));
    }
    *pn = n;
    return APR_SUCCESS;
}

/* one revokedCertificates entry */
static unsigned char *put_entry(unsigned char *w, const crl_rec_t *e)
{
    unsigned char tbuf[DER_TIME_MAX], sbuf[20];
    apr_size_t tl = der_time(tbuf, e->revoked_at), maglen;
    const unsigned char *mag = rec_mag(&maglen, sbuf, e);

    w = der_put_hdr(w, 0x30, entry_content_size(e, tl));
    w = der_put_uint(w, mag, maglen);
    w = der_put(w, tbuf, tl);
    if (e->reason) {
        w = der_put_reason(w, e->reason);
    }
    return w;
}

/* revokedCertificates' entries: { serial, time, [reason] } each */
static unsigned char *put_revoked(unsigned char *w, const crl_rec_t *sorted, apr_size_t n,
                                  apr_size_t revoked_len)
{
    apr_size_t i;

    (void)revoked_len;                  /* the header is in crl_frame's part */
    for (i = 0; i < n; i++) {
        w = put_entry(w, &sorted[i]);
    }
    return w;
}

/* the crlExtensions: AKI (keyid) and cRLNumber, their sizes first */
typedef struct {
    const unsigned char *keyid, *num;
    apr_size_t kid, numlen;
    apr_size_t aki_len, crlnum_len;
    unsigned char numbuf[8];
} crl_exts_t;

static apr_size_t crl_exts_size(crl_exts_t *x, const unsigned char *keyid, int keyid_len,
                                uint64_t crl_number)
{
    int k;

    x->keyid = keyid;
    x->kid = (apr_size_t)keyid_len;
    x->aki_len = der_tlv_size(5 + der_tlv_size(der_tlv_size(der_tlv_size(x->kid))));
    for (k = 0; k < 8; k++) {
        x->numbuf[k] = (unsigned char)(crl_number >> (8 * (7 - k)));
    }
    x->num = x->numbuf;
    x->numlen = 8;
    while (x->numlen && *x->num == 0) {
        x->num++;
        x->numlen--;
    }
    x->crlnum_len = der_tlv_size(5 + der_tlv_size(der_tlv_size(int_content(x->numlen,
                                                                             x->num))));
    return der_tlv_size(der_tlv_size(x->aki_len + x->crlnum_len));
}

static unsigned char *put_crl_exts(unsigned char *w, const crl_exts_t *x)
{
    /* Extension { id-ce-authorityKeyIdentifier, OCTET STRING {
     *   SEQUENCE { [0] keyIdentifier } } } */
    static const unsigned char oid_aki[] = { 0x06, 0x03, 0x55, 0x1D, 0x23 };
    static const unsigned char oid_crlnum[] = { 0x06, 0x03, 0x55, 0x1D, 0x14 };

    /* [0] EXPLICIT Extensions */
    w = der_put_hdr(w, 0xA0, der_tlv_size(x->aki_len + x->crlnum_len));
    w = der_put_hdr(w, 0x30, x->aki_len + x->crlnum_len);
    w = der_put_hdr(w, 0x30, 5 + der_tlv_size(der_tlv_size(der_tlv_size(x->kid))));
    w = der_put(w, oid_aki, sizeof(oid_aki));
    w = der_put_hdr(w, 0x04, der_tlv_size(der_tlv_size(x->kid)));
    w = der_put_hdr(w, 0x30, der_tlv_size(x->kid));
    w = der_put_hdr(w, 0x80, x->kid);
    w = der_put(w, x->keyid, x->kid);

    w = der_put_hdr(w, 0x30, 5 + der_tlv_size(der_tlv_size(int_content(x->numlen, x->num))));
    w = der_put(w, oid_crlnum, sizeof(oid_crlnum));
    w = der_put_hdr(w, 0x04, der_tlv_size(int_content(x->numlen, x->num)));
    return der_put_uint(w, x->num, x->numlen);
}

/* what surrounds revokedCertificates' entries in a TBSCertList: *ppre (the
 * outer header, version, signature, issuer, thisUpdate, nextUpdate and,
 * when n > 0, the revokedCertificates header) and *ppost (crlExtensions),
 * both in p, for n entries whose DER takes revoked_len bytes */
static apr_status_t crl_frame(const unsigned char **ppre, apr_size_t *pprelen,
                              const unsigned char **ppost, apr_size_t *ppostlen,
                              const ca_crl_spec_t *spec, apr_size_t n,
                              apr_size_t revoked_len, apr_pool_t *p)
{
    static const unsigned char version_v2[] = { 0x02, 0x01, 0x01 };
    apr_status_t rv = APR_SUCCESS;
    apr_size_t alglen = 0, namelen, this_len, next_len, exts_len, tbs_len, prelen;
    const unsigned char *alg, *keyid, *name_der;
    unsigned char keybuf[SHA_DIGEST_LENGTH], *pre, *post, *w;
    unsigned char this_der[DER_TIME_MAX], next_der[DER_TIME_MAX];
    crl_exts_t exts;
    int keyid_len;

    alg = sig_alg(&alglen, X509_get0_pubkey(spec->issuer), spec->md);
    if (!alg) {
        ca_log(CA_LOG_ERR, "CA50031", APR_EINVAL, "CRL: issuer key must be RSA or EC and "
               "the hash sha256, sha384 or sha512 (got %s)", spec->md ? spec->md : "none");
        rv = APR_EINVAL;
        goto leave;
    }
    this_len = der_time(this_der, spec->this_update);
    next_len = der_time(next_der, spec->next_update);
    if (!this_len || !next_len || spec->next_update <= spec->this_update) {
        ca_log(CA_LOG_ERR, "CA50032", APR_EINVAL, "CRL: bad thisUpdate/nextUpdate "
               "(%" APR_INT64_T_FMT ", %" APR_INT64_T_FMT ")",
               (apr_int64_t)spec->this_update, (apr_int64_t)spec->next_update);
        rv = APR_EINVAL;
        goto leave;
    }
    if (!X509_NAME_get0_der(X509_get_subject_name(spec->issuer), &name_der, &namelen)
        || !issuer_key_id(&keyid, &keyid_len, keybuf, spec->issuer)) {
        log_ossl("CA50033", "CRL: cannot get the issuer name or key id");
        rv = APR_EGENERAL;
        goto leave;
    }
    exts_len = crl_exts_size(&exts, keyid, keyid_len, spec->crl_number);
    tbs_len = sizeof(version_v2) + alglen + namelen + this_len + next_len
        + (n ? der_tlv_size(revoked_len) : 0) + exts_len;
    prelen = der_tlv_size(tbs_len) - tbs_len + sizeof(version_v2) + alglen + namelen
        + this_len + next_len + (n ? der_tlv_size(revoked_len) - revoked_len : 0);

    pre = apr_palloc(p, prelen);
    w = der_put_hdr(pre, 0x30, tbs_len);
    w = der_put(w, version_v2, sizeof(version_v2));
    w = der_put(w, alg, alglen);
    w = der_put(w, name_der, namelen);
    w = der_put(w, this_der, this_len);
    w = der_put(w, next_der, next_len);
    if (n) {
        w = der_put_hdr(w, 0x30, revoked_len);
    }
    post = apr_palloc(p, exts_len);
    if ((apr_size_t)(w - pre) != prelen
        || (apr_size_t)(put_crl_exts(post, &exts) - post) != exts_len) {
        ca_log(CA_LOG_ERR, "CA50038", APR_EGENERAL, "CRL: DER size mismatch (%"
               APR_SIZE_T_FMT " != %" APR_SIZE_T_FMT ")", (apr_size_t)(w - pre), prelen);
        rv = APR_EGENERAL;
        goto leave;
    }
    *ppre = pre;
    *pprelen = prelen;
    *ppost = post;
    *ppostlen = exts_len;
leave:
    return rv;
}

apr_status_t ca_crl_tbs(const unsigned char **ptbs, apr_size_t *plen,
                        const ca_crl_spec_t *spec, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    crl_rec_t *sorted = NULL;
    apr_size_t n = 0, revoked_len = 0, prelen, postlen, total;
    const unsigned char *pre, *post;
    unsigned char *buf, *w;

    *ptbs = NULL;
    *plen = 0;
    if (!spec || !spec->issuer || (spec->nentries && !spec->entries)) {
        ca_log(CA_LOG_ERR, "CA50030", APR_EINVAL, "CRL: no issuer or no entries");
        rv = APR_EINVAL;
        goto leave;
    }
    if ((rv = crl_entries(&sorted, &n, &revoked_len, spec)) != APR_SUCCESS
        || (rv = crl_frame(&pre, &prelen, &post, &postlen, spec, n, revoked_len, p))
           != APR_SUCCESS) {
        goto leave;
    }
    total = prelen + revoked_len + postlen;
    buf = apr_palloc(p, total);
    w = der_put(buf, pre, prelen);
    if (n) {
        w = put_revoked(w, sorted, n, revoked_len);
    }
    w = der_put(w, post, postlen);
    if ((apr_size_t)(w - buf) != total) {
        ca_log(CA_LOG_ERR, "CA50038", APR_EGENERAL, "CRL: DER size mismatch (%"
               APR_SIZE_T_FMT " != %" APR_SIZE_T_FMT ")", (apr_size_t)(w - buf), total);
        rv = APR_EGENERAL;
        goto leave;
    }
    *ptbs = buf;
    *plen = total;
leave:
    free(sorted);
    return rv;
}

/* ---- the incremental set: revokedCertificates kept encoded ---- */

struct ca_crl_set_t {
    crl_rec_t *recs;                /* sorted by serial, one per serial */
    apr_size_t *off;                /* entry i's DER at der + off[i]; off[n] = der_len */
    apr_size_t n, cap;
    unsigned char *der;             /* the entries, concatenated in order */
    apr_size_t der_len, der_cap;
    crl_rec_t *pend;                /* added, not merged yet */
    apr_size_t npend, pend_cap;
};

/* the largest entry: SEQUENCE { INTEGER (21), GeneralizedTime, reason } */
#define ENTRY_MAX (2 + 2 + 21 + DER_TIME_MAX + REASON_EXTS_SIZE)

static apr_status_t crl_set_cleanup(void *data)
{
    ca_crl_set_t *set = data;

    free(set->recs);
    free(set->off);
    free(set->der);
    free(set->pend);
    memset(set, 0, sizeof(*set));
    return APR_SUCCESS;
}

apr_status_t ca_crl_set_make(ca_crl_set_t **pset, apr_pool_t *p)
{
    ca_crl_set_t *set = apr_pcalloc(p, sizeof(*set));

    apr_pool_cleanup_register(p, set, crl_set_cleanup, apr_pool_cleanup_null);
    *pset = set;
    return APR_SUCCESS;
}

void ca_crl_set_clear(ca_crl_set_t *set)
{
    crl_set_cleanup(set);
}

apr_status_t ca_crl_set_add(ca_crl_set_t *set, const ca_crl_entry_t *entries, apr_size_t n)
{
    apr_status_t rv = APR_SUCCESS;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        const ca_crl_entry_t *e = &entries[i];
        if (e->serial_len > sizeof(e->serial) || e->reason > 10 || e->reason == 7
            || !time_size(e->revoked_at)) {
            ca_log(CA_LOG_ERR, "CA50060", APR_EINVAL, "CRL set: an entry has a serial "
                   "longer than 20 bytes, an invalid reason or a time out of range");
            rv = APR_EINVAL;
            goto leave;
        }
    }
    if (set->npend + n > set->pend_cap) {
        apr_size_t cap = set->pend_cap ? set->pend_cap : 64;
        crl_rec_t *np;
        while (cap < set->npend + n) {
            cap *= 2;
        }
        if (!(np = realloc(set->pend, cap * sizeof(*np)))) {
            ca_log(CA_LOG_ERR, "CA50061", APR_ENOMEM, "CRL set: out of memory");
            rv = APR_ENOMEM;
            goto leave;
        }
        set->pend = np;
        set->pend_cap = cap;
    }
    for (i = 0; i < n; i++) {
        rec_from_entry(&set->pend[set->npend++], &entries[i]);
    }
leave:
    return rv;
}


/* the first of recs[lo, hi) whose serial is not below e's */
static apr_size_t lower_bound(const crl_rec_t *recs, apr_size_t lo, apr_size_t hi,
                              const crl_rec_t *e)
{
    while (lo < hi) {
        apr_size_t mid = lo + (hi - lo) / 2;
        if (ser_cmp(&recs[mid], e) < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

/* grow *pbuf to hold at least need items of size (doubling) */
static int set_grow(void **pbuf, apr_size_t *pcap, apr_size_t need, apr_size_t size)
{
    apr_size_t cap = *pcap ? *pcap : 64;
    void *b;

    if (need <= *pcap) {
        return 1;
    }
    while (cap < need) {
        cap *= 2;
    }
    if (!(b = realloc(*pbuf, cap * size))) {
        return 0;
    }
    *pbuf = b;
    *pcap = cap;
    return 1;
}

/* a few new serials (pend sorted, none held yet) merged in place: the
 * arrays grown when full, the entries after each insertion point moved
 * once, from the back -- no new copy of a million entries */
static apr_status_t set_merge_in_place(ca_crl_set_t *set, apr_size_t np)
{
    unsigned char enc[64][ENTRY_MAX];
    apr_size_t elen[64], pos[64], add = 0, j, i, w_rec, w_der, t, *o;
    apr_status_t rv = APR_SUCCESS;

    for (j = 0; j < np; j++) {
        pos[j] = lower_bound(set->recs, 0, set->n, &set->pend[j]);
        elen[j] = (apr_size_t)(put_entry(enc[j], &set->pend[j]) - enc[j]);
        add += elen[j];
    }
    /* off has one more than recs: the same capacity + 1 */
    if (!set_grow((void **)&set->recs, &set->cap, set->n + np, sizeof(*set->recs))
        || !set_grow((void **)&set->der, &set->der_cap, set->der_len + add, 1)
        || !(o = realloc(set->off, (set->cap + 1) * sizeof(*o)))) {
        ca_log(CA_LOG_ERR, "CA50061", APR_ENOMEM, "CRL set: out of memory");
        rv = APR_ENOMEM;
        goto leave;
    }
    set->off = o;
    if (!set->n) {
        set->off[0] = 0;
    }
    i = set->n;
    w_rec = set->n + np;
    w_der = set->der_len + add;
    for (j = np; j-- > 0; ) {
        apr_size_t cnt = i - pos[j], bytes = set->off[i] - set->off[pos[j]];
        apr_size_t shift = w_der - set->off[i];
        if (cnt) {
            memmove(set->der + set->off[pos[j]] + shift, set->der + set->off[pos[j]], bytes);
            memmove(set->recs + w_rec - cnt, set->recs + pos[j], cnt * sizeof(*set->recs));
            for (t = i; t-- > pos[j]; ) {
                set->off[t + (w_rec - i)] = set->off[t] + shift;
            }
        }
        w_rec -= cnt;
        w_der -= bytes;
        i = pos[j];
        w_der -= elen[j];
        memcpy(set->der + w_der, enc[j], elen[j]);
        set->recs[--w_rec] = set->pend[j];
        set->off[w_rec] = w_der;
    }
    set->n += np;
    set->der_len += add;
    set->off[set->n] = set->der_len;
    set->npend = 0;
leave:
    return rv;
}

/* the queue of added entries is kept after a merge up to this many */
#define PEND_KEEP 4096

apr_status_t ca_crl_set_merge(ca_crl_set_t *set)
{
    apr_status_t rv = APR_SUCCESS;
    crl_rec_t *recs = NULL;
    apr_size_t *off = NULL;
    unsigned char *der = NULL;
    apr_size_t i = 0, j, k, m = 0, w = 0, np = 0, cap, der_cap;

    if (!set->npend) {
        goto leave;
    }
    /* the new ones sorted, a serial given twice kept once (the earliest) */
    qsort(set->pend, set->npend, sizeof(*set->pend), rec_cmp);
    for (j = 0; j < set->npend; j++) {
        if (np && !ser_cmp(&set->pend[np - 1], &set->pend[j])) {
            continue;
        }
        set->pend[np++] = set->pend[j];
    }
    if (np <= 64) {
        /* a few new serials, none held already: in place */
        for (j = 0; j < np; j++) {
            k = lower_bound(set->recs, 0, set->n, &set->pend[j]);
            if (k < set->n && !ser_cmp(&set->recs[k], &set->pend[j])) {
                break;
            }
        }
        if (j == np) {
            rv = set_merge_in_place(set, np);
            goto leave;
        }
    }
    /* room for the revocations to come, merged in place */
    cap = set->n + np + (set->n + np) / 8 + 64;
    der_cap = set->der_len + np * ENTRY_MAX + (set->der_len + np * ENTRY_MAX) / 8
        + 64 * ENTRY_MAX;
    recs = malloc(cap * sizeof(*recs));
    off = malloc((cap + 1) * sizeof(*off));
    der = malloc(der_cap ? der_cap : 1);
    if (!recs || !off || !der) {
        ca_log(CA_LOG_ERR, "CA50061", APR_ENOMEM, "CRL set: out of memory for %"
               APR_SIZE_T_FMT " entries", cap);
        rv = APR_ENOMEM;
        goto leave;
    }
    /* runs of the old entries copied whole, the new ones encoded between */
    for (j = 0; j <= np; j++) {
        apr_size_t pos = j < np ? lower_bound(set->recs, i, set->n, &set->pend[j]) : set->n;
        apr_size_t bytes = set->off ? set->off[pos] - set->off[i] : 0;
        if (pos > i) {
            memcpy(recs + m, set->recs + i, (pos - i) * sizeof(*recs));
            memcpy(der + w, set->der + set->off[i], bytes);
            for (k = i; k < pos; k++) {
                off[m++] = set->off[k] - set->off[i] + w;
            }
            w += bytes;
            i = pos;
        }
        if (j == np) {
            break;
        }
        if (i < set->n && !ser_cmp(&set->recs[i], &set->pend[j])) {
            if (rec_cmp(&set->pend[j], &set->recs[i]) >= 0) {
                continue;               /* the one held is the earliest */
            }
            i++;                        /* replaced by the earlier one */
        }
        recs[m] = set->pend[j];
        off[m++] = w;
        w = (apr_size_t)(put_entry(der + w, &set->pend[j]) - der);
    }
    off[m] = w;
    free(set->recs);
    free(set->off);
    free(set->der);
    set->recs = recs;
    set->off = off;
    set->der = der;
    set->n = m;
    set->cap = cap;
    set->der_len = w;
    set->der_cap = der_cap;
    set->npend = 0;
    recs = NULL;
    off = NULL;
    der = NULL;
leave:
    free(recs);
    free(off);
    free(der);
    if (rv == APR_SUCCESS && set->pend_cap > PEND_KEEP) {
        /* a first load queued them all (a million: 32 MB): not kept for
         * the few that come later */
        free(set->pend);
        set->pend = NULL;
        set->pend_cap = 0;
    }
    return rv;
}

apr_size_t ca_crl_set_count(const ca_crl_set_t *set)
{
    return set->n;
}

/* the frame around the set's entries for spec */
static apr_status_t set_frame(const unsigned char **ppre, apr_size_t *pprelen,
                              const unsigned char **ppost, apr_size_t *ppostlen,
                              ca_crl_set_t *set, const ca_crl_spec_t *spec, apr_pool_t *p)
{
    apr_status_t rv;

    if (!spec || !spec->issuer) {
        ca_log(CA_LOG_ERR, "CA50030", APR_EINVAL, "CRL: no issuer or no entries");
        rv = APR_EINVAL;
        goto leave;
    }
    if ((rv = ca_crl_set_merge(set)) == APR_SUCCESS) {
        rv = crl_frame(ppre, pprelen, ppost, ppostlen, spec, set->n, set->der_len, p);
    }
leave:
    return rv;
}

/* the TBS into *pbuf (*pcap bytes, malloc'ed, replaced when too small)
 * or, with pbuf NULL, into p */
static apr_status_t set_tbs(const unsigned char **ptbs, apr_size_t *plen,
                            unsigned char **pbuf, apr_size_t *pcap, ca_crl_set_t *set,
                            const ca_crl_spec_t *spec, apr_pool_t *p)
{
    const unsigned char *pre, *post;
    apr_size_t prelen, postlen, total;
    unsigned char *buf, *w;
    apr_status_t rv;

    *ptbs = NULL;
    *plen = 0;
    if ((rv = set_frame(&pre, &prelen, &post, &postlen, set, spec, p)) != APR_SUCCESS) {
        goto leave;
    }
    total = prelen + set->der_len + postlen;
    if (!pbuf) {
        buf = apr_palloc(p, total);
    }
    else {
        if (!*pbuf || *pcap < total) {
            /* room for the revocations of a while: the buffer is kept */
            apr_size_t cap = total + total / 16;
            free(*pbuf);
            *pcap = 0;
            if (!(*pbuf = malloc(cap))) {
                ca_log(CA_LOG_ERR, "CA50064", APR_ENOMEM, "CRL set: no memory for a TBS "
                       "of %" APR_SIZE_T_FMT " bytes", total);
                rv = APR_ENOMEM;
                goto leave;
            }
            *pcap = cap;
        }
        buf = *pbuf;
    }
    w = der_put(buf, pre, prelen);
    if (set->der_len) {
        w = der_put(w, set->der, set->der_len);
    }
    der_put(w, post, postlen);
    *ptbs = buf;
    *plen = total;
leave:
    return rv;
}

apr_status_t ca_crl_set_tbs(const unsigned char **ptbs, apr_size_t *plen,
                            ca_crl_set_t *set, const ca_crl_spec_t *spec, apr_pool_t *p)
{
    return set_tbs(ptbs, plen, NULL, NULL, set, spec, p);
}

apr_status_t ca_crl_set_tbs_into(const unsigned char **ptbs, apr_size_t *plen,
                                 unsigned char **pbuf, apr_size_t *pcap, ca_crl_set_t *set,
                                 const ca_crl_spec_t *spec, apr_pool_t *p)
{
    return set_tbs(ptbs, plen, pbuf, pcap, set, spec, p);
}

apr_status_t ca_crl_set_sha256(unsigned char sha[32], apr_size_t *plen, ca_crl_set_t *set,
                               const ca_crl_spec_t *spec, apr_pool_t *p)
{
    const unsigned char *pre, *post;
    apr_size_t prelen, postlen;
    EVP_MD_CTX *ctx = NULL;
    apr_status_t rv;

    if ((rv = set_frame(&pre, &prelen, &post, &postlen, set, spec, p)) != APR_SUCCESS) {
        goto leave;
    }
    if (!(ctx = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
        || !EVP_DigestUpdate(ctx, pre, prelen)
        || (set->der_len && !EVP_DigestUpdate(ctx, set->der, set->der_len))
        || !EVP_DigestUpdate(ctx, post, postlen) || !EVP_DigestFinal_ex(ctx, sha, NULL)) {
        log_ossl("CA50062", "CRL set: SHA-256 failed");
        rv = APR_EGENERAL;
        goto leave;
    }
    if (plen) {
        *plen = prelen + set->der_len + postlen;
    }
leave:
    EVP_MD_CTX_free(ctx);
    return rv;
}

/* the set's TBS goes through the digests in slices of this size, so that
 * with two digests each slice is read from memory once */
#define CRL_DIGEST_SLICE (128 * 1024)

struct ca_crl_digest_t {
    EVP_MD_CTX *sha, *other;        /* other: NULL when spec->md is sha256 */
    const unsigned char *part[3];   /* the frame before, the entries, after */
    apr_size_t len[3];
    int i;                          /* the part under way */
    apr_size_t off;                 /* within it */
    apr_size_t left;                /* bytes still to go */
};

static apr_status_t crl_digest_cleanup(void *data)
{
    ca_crl_digest_t *d = data;

    EVP_MD_CTX_free(d->sha);
    EVP_MD_CTX_free(d->other);
    d->sha = d->other = NULL;
    return APR_SUCCESS;
}

apr_status_t ca_crl_digest_begin(ca_crl_digest_t **pd, ca_crl_set_t *set,
                                 const ca_crl_spec_t *spec, apr_pool_t *p)
{
    const EVP_MD *md = spec ? md_by_name(spec->md) : NULL;
    ca_crl_digest_t *d;
    apr_status_t rv;

    *pd = NULL;
    d = apr_pcalloc(p, sizeof(*d));
    if ((rv = set_frame(&d->part[0], &d->len[0], &d->part[2], &d->len[2], set, spec, p))
        != APR_SUCCESS) {
        return rv;
    }
    if (!md) {
        /* set_frame refuses any other hash already */
        return APR_EINVAL;
    }
    d->part[1] = set->der;
    d->len[1] = set->der_len;
    d->left = d->len[0] + d->len[1] + d->len[2];
    apr_pool_cleanup_register(p, d, crl_digest_cleanup, apr_pool_cleanup_null);
    if (!(d->sha = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL)
        || (EVP_MD_get_type(md) != NID_sha256
            && (!(d->other = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(d->other, md, NULL)))) {
        log_ossl("CA50063", "CRL set: the digests failed");
        return APR_EGENERAL;
    }
    *pd = d;
    return APR_SUCCESS;
}

apr_size_t ca_crl_digest_left(const ca_crl_digest_t *d)
{
    return d->left;
}

int ca_crl_digest_step(ca_crl_digest_t *d, apr_size_t max)
{
    while (d->left && max) {
        apr_size_t k = d->len[d->i] - d->off;
        if (k == 0) {
            d->i++;
            d->off = 0;
            continue;
        }
        /* in slices, so that with two digests each is read from memory once */
        k = k < CRL_DIGEST_SLICE ? k : CRL_DIGEST_SLICE;
        k = k < max ? k : max;
        if (!EVP_DigestUpdate(d->sha, d->part[d->i] + d->off, k)
            || (d->other && !EVP_DigestUpdate(d->other, d->part[d->i] + d->off, k))) {
            log_ossl("CA50063", "CRL set: the digests failed");
            return -1;
        }
        d->off += k;
        d->left -= k;
        max -= k;
    }
    return d->left == 0;
}

apr_status_t ca_crl_digest_end(unsigned char sha[32], unsigned char *dgst,
                               unsigned int *pdlen, ca_crl_digest_t *d)
{
    *pdlen = 0;
    if (d->left || !EVP_DigestFinal_ex(d->sha, sha, NULL)
        || (d->other && !EVP_DigestFinal_ex(d->other, dgst, pdlen))) {
        log_ossl("CA50063", "CRL set: the digests failed");
        *pdlen = 0;
        return APR_EGENERAL;
    }
    if (!d->other) {
        memcpy(dgst, sha, SHA256_DIGEST_LENGTH);
        *pdlen = SHA256_DIGEST_LENGTH;
    }
    return APR_SUCCESS;
}

apr_status_t ca_crl_set_digests(unsigned char sha[32], unsigned char *dgst,
                                unsigned int *pdlen, ca_crl_set_t *set,
                                const ca_crl_spec_t *spec, apr_pool_t *p)
{
    ca_crl_digest_t *d;
    apr_status_t rv;

    *pdlen = 0;
    if ((rv = ca_crl_digest_begin(&d, set, spec, p)) != APR_SUCCESS) {
        return rv;
    }
    if (ca_crl_digest_step(d, (apr_size_t)-1) != 1) {
        return APR_EGENERAL;
    }
    return ca_crl_digest_end(sha, dgst, pdlen, d);
}

apr_status_t ca_crl_sign_digest(const unsigned char **psig, apr_size_t *psiglen,
                                const unsigned char *dgst, apr_size_t dlen,
                                EVP_PKEY *issuer_key, const char *md, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    EVP_PKEY_CTX *ctx = NULL;
    const EVP_MD *dg = md_by_name(md);
    int kind = issuer_key ? key_kind(issuer_key) : 0;
    unsigned char *sig;
    size_t siglen = 0;

    *psig = NULL;
    *psiglen = 0;
    if (!dgst || !dg || !kind || dlen != (apr_size_t)EVP_MD_get_size(dg)) {
        ca_log(CA_LOG_ERR, "CA50043", APR_EINVAL, "CRL signing: no digest or one of the "
               "wrong size, or the key is not RSA/EC, or the hash is not sha256/384/512");
        rv = APR_EINVAL;
        goto leave;
    }
    /* what EVP_DigestSign does after its hash, and what sig_alg()
     * announces: PKCS#1 v1.5 (a DigestInfo naming md) for RSA, ECDSA with
     * a DER Ecdsa-Sig-Value for EC */
    if (!(ctx = EVP_PKEY_CTX_new(issuer_key, NULL)) || EVP_PKEY_sign_init(ctx) != 1
        || (kind == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)
        || EVP_PKEY_CTX_set_signature_md(ctx, dg) != 1
        || EVP_PKEY_sign(ctx, NULL, &siglen, dgst, dlen) != 1) {
        log_ossl("CA50044", "CRL signing of a digest: initialisation failed");
        rv = APR_EGENERAL;
        goto leave;
    }
    sig = apr_palloc(p, siglen);
    if (EVP_PKEY_sign(ctx, sig, &siglen, dgst, dlen) != 1) {
        log_ossl("CA50045", "CRL signing of a digest failed");
        rv = APR_EGENERAL;
        goto leave;
    }
    *psig = sig;
    *psiglen = siglen;
leave:
    EVP_PKEY_CTX_free(ctx);
    return rv;
}

apr_status_t ca_crl_sign_tbs(const unsigned char **psig, apr_size_t *psiglen,
                             const unsigned char *tbs, apr_size_t tbslen,
                             EVP_PKEY *issuer_key, const char *md, apr_pool_t *p)
{
    const EVP_MD *dg = md_by_name(md);
    unsigned char dgst[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;

    *psig = NULL;
    *psiglen = 0;
    if (!tbs || !tbslen || !issuer_key || !dg || !key_kind(issuer_key)) {
        ca_log(CA_LOG_ERR, "CA50040", APR_EINVAL, "CRL signing: no TBS, or the key is "
               "not RSA/EC, or the hash is not sha256/384/512");
        return APR_EINVAL;
    }
    /* the digest, then what EVP_DigestSign would do after it */
    if (EVP_Digest(tbs, tbslen, dgst, &dlen, dg, NULL) != 1) {
        log_ossl("CA50041", "CRL signing: the digest of the TBS failed");
        return APR_EGENERAL;
    }
    return ca_crl_sign_digest(psig, psiglen, dgst, dlen, issuer_key, md, p);
}

/* the AlgorithmIdentifier inside a TBSCertList we built: after the outer
 * SEQUENCE header and the version INTEGER 02 01 01 */
static int tbs_alg_matches(const unsigned char *tbs, apr_size_t tbslen,
                           const unsigned char *alg, apr_size_t alglen)
{
    apr_size_t off, hdr;

    if (tbslen < 2 || tbs[0] != 0x30) {
        return 0;
    }
    hdr = (tbs[1] & 0x80) ? 2 + (apr_size_t)(tbs[1] & 0x7F) : 2;
    off = hdr + 3;
    return tbslen >= off + alglen && !memcmp(tbs + hdr, "\x02\x01\x01", 3)
        && !memcmp(tbs + off, alg, alglen);
}

/* 1 when sig verifies over the TBS whose md hash is dgst (dlen bytes):
 * what EVP_DigestVerify does after its hash (the padding and encoding of
 * ca_crl_sign_digest) */
static int verify_digest(const unsigned char *sig, apr_size_t siglen,
                         const unsigned char *dgst, apr_size_t dlen, EVP_PKEY *key,
                         const EVP_MD *dg, int *perr)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    int ok = 0;

    *perr = !ctx || EVP_PKEY_verify_init(ctx) != 1
            || (key_kind(key) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)
            || EVP_PKEY_CTX_set_signature_md(ctx, dg) != 1;
    if (!*perr) {
        ok = dlen == (apr_size_t)EVP_MD_get_size(dg)
             && EVP_PKEY_verify(ctx, sig, siglen, dgst, dlen) == 1;
    }
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

apr_status_t ca_crl_assemble(const unsigned char **pcrl, apr_size_t *plen,
                             const unsigned char *tbs, apr_size_t tbslen,
                             const unsigned char *sig, apr_size_t siglen,
                             EVP_PKEY *issuer_key, const char *md, apr_pool_t *p)
{
    return ca_crl_assemble_digest(pcrl, plen, tbs, tbslen, NULL, 0, sig, siglen, issuer_key,
                                  md, p);
}

/* the checks before a CRL is assembled: the TBS (its start: head, headlen
 * bytes) built for this key type and hash, and the signature verified over
 * dgst, the TBS's md hash, or when dgst is NULL over tbs (tbslen bytes).
 * *palg is the signature's AlgorithmIdentifier. */
static apr_status_t crl_check(const unsigned char **palg, apr_size_t *palglen,
                              const unsigned char *head, apr_size_t headlen,
                              const unsigned char *tbs, apr_size_t tbslen,
                              const unsigned char *dgst, apr_size_t dlen,
                              const unsigned char *sig, apr_size_t siglen,
                              EVP_PKEY *issuer_key, const char *md)
{
    apr_status_t rv = APR_SUCCESS;
    EVP_MD_CTX *ctx = NULL;
    int err = 0;

    *palg = issuer_key ? sig_alg(palglen, issuer_key, md) : NULL;
    if (!*palg || !head || !sig || !siglen || !tbs_alg_matches(head, headlen, *palg, *palglen)) {
        ca_log(CA_LOG_ERR, "CA50050", APR_EINVAL, "CRL assembly: the TBS, the key type "
               "and the hash do not fit together");
        rv = APR_EINVAL;
        goto leave;
    }
    /* never publish a CRL whose signature does not verify: the signature
     * came over a serial line from another host */
    if (dgst) {
        /* the caller hashed this TBS already (ca_issue_store_crl): its
         * 40 MB at a million entries are not hashed a second time */
        if (!verify_digest(sig, siglen, dgst, dlen, issuer_key, md_by_name(md), &err) && !err) {
            rv = APR_EINVAL;
        }
    }
    else if (!(ctx = EVP_MD_CTX_new())
             || EVP_DigestVerifyInit(ctx, NULL, md_by_name(md), NULL, issuer_key) != 1) {
        err = 1;
    }
    else if (EVP_DigestVerify(ctx, sig, siglen, tbs, tbslen) != 1) {
        rv = APR_EINVAL;
    }
    if (err) {
        log_ossl("CA50051", "CRL assembly: verification setup failed");
        rv = APR_EGENERAL;
        goto leave;
    }
    if (rv == APR_EINVAL) {
        ERR_clear_error();
        ca_log(CA_LOG_ERR, "CA50052", APR_EINVAL, "CRL assembly: the signature does not "
               "verify over this TBS with the issuer's key");
    }
leave:
    EVP_MD_CTX_free(ctx);
    return rv;
}

/* the size of the CRL around a TBS of tbslen bytes */
static apr_size_t crl_size(apr_size_t tbslen, apr_size_t alglen, apr_size_t siglen)
{
    return der_tlv_size(tbslen + alglen + der_tlv_size(siglen + 1));
}

/* the CRL written into buf (crl_size bytes): its TBS in n parts, tbslen
 * bytes in all, then the algorithm and the signature */
static void crl_write(unsigned char *buf, const unsigned char *const *part,
                      const apr_size_t *len, int n, apr_size_t tbslen,
                      const unsigned char *alg, apr_size_t alglen,
                      const unsigned char *sig, apr_size_t siglen)
{
    unsigned char *w = der_put_hdr(buf, 0x30, tbslen + alglen + der_tlv_size(siglen + 1));
    int i;

    for (i = 0; i < n; i++) {
        if (len[i]) {
            w = der_put(w, part[i], len[i]);
        }
    }
    w = der_put(w, alg, alglen);
    w = der_put_hdr(w, V_ASN1_BIT_STRING, siglen + 1);
    *w++ = 0;                           /* no unused bits */
    der_put(w, sig, siglen);
}

apr_status_t ca_crl_assemble_digest(const unsigned char **pcrl, apr_size_t *plen,
                                    const unsigned char *tbs, apr_size_t tbslen,
                                    const unsigned char *dgst, apr_size_t dlen,
                                    const unsigned char *sig, apr_size_t siglen,
                                    EVP_PKEY *issuer_key, const char *md, apr_pool_t *p)
{
    const unsigned char *alg;
    apr_size_t alglen = 0, total;
    unsigned char *buf;
    apr_status_t rv;

    if (pcrl) {
        *pcrl = NULL;
        *plen = 0;
    }
    rv = crl_check(&alg, &alglen, tbs, tbslen, tbs, tbslen, dgst, dlen, sig, siglen,
                   issuer_key, md);
    if (rv != APR_SUCCESS || !pcrl) {
        return rv;                      /* without pcrl: the check alone */
    }
    total = crl_size(tbslen, alglen, siglen);
    buf = apr_palloc(p, total);
    crl_write(buf, &tbs, &tbslen, 1, tbslen, alg, alglen, sig, siglen);
    *pcrl = buf;
    *plen = total;
    return APR_SUCCESS;
}

apr_status_t ca_crl_set_signed(unsigned char **pcrl, apr_size_t *plen, ca_crl_set_t *set,
                               const ca_crl_spec_t *spec, const unsigned char *sig,
                               apr_size_t siglen, apr_pool_t *p)
{
    const unsigned char *part[3], *alg;
    apr_size_t len[3], alglen = 0, total;
    unsigned char sha[SHA256_DIGEST_LENGTH], dgst[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    apr_status_t rv;

    *pcrl = NULL;
    *plen = 0;
    /* one pass over the entries for the digests (the set merged first) */
    if ((rv = ca_crl_set_digests(sha, dgst, &dlen, set, spec, p)) != APR_SUCCESS
        || (rv = set_frame(&part[0], &len[0], &part[2], &len[2], set, spec, p))
           != APR_SUCCESS) {
        return rv;
    }
    part[1] = set->der;
    len[1] = set->der_len;
    rv = crl_check(&alg, &alglen, part[0], len[0], NULL, 0, dgst, dlen, sig, siglen,
                   spec->issuer ? X509_get0_pubkey(spec->issuer) : NULL, spec->md);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* then the one copy: straight into the buffer the caller keeps */
    total = crl_size(len[0] + len[1] + len[2], alglen, siglen);
    if (!(*pcrl = malloc(total))) {
        ca_log(CA_LOG_ERR, "CA50065", APR_ENOMEM, "CRL set: no memory for a CRL of %"
               APR_SIZE_T_FMT " bytes", total);
        return APR_ENOMEM;
    }
    crl_write(*pcrl, part, len, 3, len[0] + len[1] + len[2], alg, alglen, sig, siglen);
    *plen = total;
    return APR_SUCCESS;
}
