/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Certificates (CPS 7.1.2) and CRLs built by ca_x509. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "tests.h"
#include "ca_issue.h"
#include "ca_x509.h"

#define NOW ((time_t)1700000000)        /* 2023-11-14 */

static apr_pool_t *pool;

/* made once, before the tests fork */
static EVP_PKEY *rsa_issuer_key, *ec_issuer_key, *rsa_subject, *ec_subject;
static X509 *rsa_issuer, *ec_issuer;

static EVP_PKEY *gen_key(int ec)
{
    return ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
              : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

/* a bare CA certificate with an SKI, as the tests' issuer */
static X509 *make_ca(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4711);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"CAcert Test",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, n);
    X509_NAME_free(n);
    ASN1_TIME_set(X509_getm_notBefore(x), NOW - 86400);
    ASN1_TIME_set(X509_getm_notAfter(x), NOW + 3650L * 86400);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, key, EVP_sha256());
    return x;
}

static void keys_setup(void)
{
    rsa_issuer_key = gen_key(0);
    ec_issuer_key = gen_key(1);
    rsa_subject = gen_key(0);
    ec_subject = gen_key(1);
    rsa_issuer = make_ca(rsa_issuer_key, "Test RSA SubRoot");
    ec_issuer = make_ca(ec_issuer_key, "Test EC SubRoot");
}

static void keys_teardown(void)
{
    X509_free(rsa_issuer);
    X509_free(ec_issuer);
    EVP_PKEY_free(rsa_issuer_key);
    EVP_PKEY_free(ec_issuer_key);
    EVP_PKEY_free(rsa_subject);
    EVP_PKEY_free(ec_subject);
}

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static apr_array_header_t *sans_of(const char *const *list)
{
    apr_array_header_t *a = apr_array_make(pool, 4, sizeof(ca_san_t));

    for (; list && *list; list++) {
        ca_san_t *s = apr_array_push(a);
        s->type = strchr(*list, '@') ? CA_SAN_EMAIL : CA_SAN_DNS;
        s->value = *list;
    }
    return a;
}

static ca_cert_spec_t base_spec(ca_profile_t profile, EVP_PKEY *key)
{
    static const char *const client_sans[] = { "alice@example.org", "a@example.net", NULL };
    static const char *const server_sans[] = { "www.example.org", "*.example.org", NULL };
    ca_cert_spec_t s;

    memset(&s, 0, sizeof(s));
    s.profile = profile;
    s.pubkey = key;
    s.days = 180;
    s.md = "sha256";
    s.ocsp_url = "http://ocsp.example.test/";
    s.ca_issuers_url = "http://www.example.test/ca/member.crt";
    s.crl_url = "http://crl.example.test/member.crl";
    s.cps_url = "http://www.example.test/cps.html";
    switch (profile) {
    case CA_PROFILE_SERVER:
    case CA_PROFILE_ORG_SERVER:
        s.cn = "www.example.org";
        s.sans = sans_of(server_sans);
        break;
    default:
        s.cn = "Alice Ämmerli";
        s.email = "alice@example.org";
        s.sans = sans_of(client_sans);
        break;
    }
    if (profile == CA_PROFILE_ORG_CLIENT || profile == CA_PROFILE_ORG_SERVER) {
        s.org[0] = "Example Org e.V.";
        s.org[1] = "IT";
        s.org[2] = "Köln";
        s.org[3] = "NRW";
        s.org[4] = "DE";
    }
    return s;
}

static const unsigned char serial16[16] = {
    0x5A, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
};

static X509 *issue_ok(const ca_cert_spec_t *spec, X509 *issuer, EVP_PKEY *ikey)
{
    X509 *cert = NULL;
    const char *err = "unset";

    ck_assert_int_eq(ca_x509_issue(&cert, &err, spec, issuer, ikey, serial16, NOW, pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(cert);
    return cert;
}

static const char *refuse(const ca_cert_spec_t *spec)
{
    X509 *cert = (X509 *)1;
    const char *err = NULL;

    ck_assert_int_eq(ca_x509_issue(&cert, &err, spec, rsa_issuer, rsa_issuer_key,
                                   serial16, NOW, pool), APR_EINVAL);
    ck_assert_ptr_null(cert);
    ck_assert_ptr_nonnull(err);
    return err;
}

static int ext_critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);

    ck_assert_msg(i >= 0, "extension %s missing", OBJ_nid2sn(nid));
    return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void check_eku(X509 *x, const char *const *want)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    int i, n = 0;

    ck_assert_ptr_nonnull(eku);
    while (want[n]) {
        n++;
    }
    ck_assert_int_eq(sk_ASN1_OBJECT_num(eku), n);
    for (i = 0; i < n; i++) {
        char buf[64];
        OBJ_obj2txt(buf, sizeof(buf), sk_ASN1_OBJECT_value(eku, i), 1);
        ck_assert_str_eq(buf, want[i]);
    }
    EXTENDED_KEY_USAGE_free(eku);
}

static void check_name_entry(X509 *x, int nid, const char *value, int type)
{
    X509_NAME *n = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(n, nid, -1);
    ASN1_STRING *s;

    ck_assert_msg(i >= 0, "subject has no %s", OBJ_nid2sn(nid));
    s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
    ck_assert_int_eq(ASN1_STRING_type(s), type);
    ck_assert_int_eq(ASN1_STRING_length(s), (int)strlen(value));
    ck_assert(!memcmp(ASN1_STRING_get0_data(s), value, strlen(value)));
}

static void check_cert(X509 *x, const ca_cert_spec_t *spec, X509 *issuer, EVP_PKEY *ikey)
{
    static const char *const client[] = {
        "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.2", "1.3.6.1.4.1.311.10.3.4",
        "1.3.6.1.4.1.311.10.3.3", "2.16.840.1.113730.4.1", NULL
    };
    static const char *const server[] = {
        "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1", "2.16.840.1.113730.4.1",
        "1.3.6.1.4.1.311.10.3.3", NULL
    };
    static const char *const codesign[] = {
        "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.3",
        "1.3.6.1.4.1.311.2.1.21", "1.3.6.1.4.1.311.2.1.22", "1.3.6.1.4.1.311.10.3.4",
        "1.3.6.1.4.1.311.10.3.3", "2.16.840.1.113730.4.1", NULL
    };
    int is_ec = EVP_PKEY_get_base_id(spec->pubkey) == EVP_PKEY_EC;
    int org = spec->profile == CA_PROFILE_ORG_CLIENT || spec->profile == CA_PROFILE_ORG_SERVER;
    BIGNUM *bn = NULL;
    GENERAL_NAMES *gens;
    AUTHORITY_INFO_ACCESS *aia;
    CRL_DIST_POINTS *cdp;
    CERTIFICATEPOLICIES *pol;
    POLICYINFO *pi;
    POLICYQUALINFO *qi;
    DIST_POINT *dp;
    const ASN1_OCTET_STRING *aki, *ski;
    char buf[80];
    int i, days = 0, secs = 0;

    ck_assert_int_eq(X509_verify(x, ikey), 1);
    ck_assert_int_eq(X509_get_version(x), X509_VERSION_3);
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    ck_assert_int_eq(BN_num_bytes(bn), 16);
    {
        unsigned char b[16];
        BN_bn2bin(bn, b);
        ck_assert(!memcmp(b, serial16, 16));
    }
    BN_free(bn);
    ck_assert_int_eq(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer)), 0);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), NOW), 0);
    ck_assert_int_eq(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
                                    X509_get0_notAfter(x)), 1);
    ck_assert_int_eq(days, spec->days);
    ck_assert_int_eq(secs, 0);
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(x), spec->pubkey), 1);
    ck_assert_int_eq(X509_get_signature_nid(x),
                     EVP_PKEY_get_base_id(ikey) == EVP_PKEY_EC
                         ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption);

    /* basicConstraints CA:FALSE critical */
    ck_assert_int_eq(ext_critical(x, NID_basic_constraints), 1);
    ck_assert_int_eq(X509_check_ca(x), 0);
    ck_assert(X509_get_extension_flags(x) & EXFLAG_BCONS);
    /* keyUsage critical; no keyEncipherment for EC keys */
    ck_assert_int_eq(ext_critical(x, NID_key_usage), 1);
    ck_assert_uint_eq(X509_get_key_usage(x),
                      is_ec ? (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT)
                            : (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT));
    /* EKU per profile, not critical */
    ck_assert_int_eq(ext_critical(x, NID_ext_key_usage), 0);
    switch (spec->profile) {
    case CA_PROFILE_CLIENT:
    case CA_PROFILE_ORG_CLIENT:
        check_eku(x, client);
        break;
    case CA_PROFILE_SERVER:
    case CA_PROFILE_ORG_SERVER:
        check_eku(x, server);
        break;
    case CA_PROFILE_CODESIGN:
        check_eku(x, codesign);
        break;
    }
    /* SKI, and AKI = the issuer's SKI */
    ck_assert_int_eq(ext_critical(x, NID_subject_key_identifier), 0);
    ski = X509_get0_subject_key_id(x);
    ck_assert_ptr_nonnull(ski);
    ck_assert_int_eq(ASN1_STRING_length(ski), 20);
    aki = X509_get0_authority_key_id(x);
    ck_assert_ptr_nonnull(aki);
    ck_assert_int_eq(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(issuer)), 0);
    /* SAN exactly as given */
    ck_assert_int_eq(ext_critical(x, NID_subject_alt_name), 0);
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    ck_assert_ptr_nonnull(gens);
    ck_assert_int_eq(sk_GENERAL_NAME_num(gens), spec->sans->nelts);
    for (i = 0; i < spec->sans->nelts; i++) {
        const ca_san_t *s = &APR_ARRAY_IDX(spec->sans, i, ca_san_t);
        int type;
        ASN1_IA5STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);
        ck_assert_int_eq(type, s->type == CA_SAN_DNS ? GEN_DNS : GEN_EMAIL);
        ck_assert_str_eq((const char *)ASN1_STRING_get0_data(v), s->value);
    }
    GENERAL_NAMES_free(gens);
    /* AIA: OCSP and caIssuers */
    aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    ck_assert_ptr_nonnull(aia);
    ck_assert_int_eq(sk_ACCESS_DESCRIPTION_num(aia), 2);
    ck_assert_int_eq(OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, 0)->method), NID_ad_OCSP);
    ck_assert_int_eq(sk_ACCESS_DESCRIPTION_value(aia, 0)->location->type, GEN_URI);
    ck_assert_str_eq((const char *)ASN1_STRING_get0_data(
                         sk_ACCESS_DESCRIPTION_value(aia, 0)->location->d.uniformResourceIdentifier),
                     spec->ocsp_url);
    ck_assert_int_eq(OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, 1)->method),
                     NID_ad_ca_issuers);
    ck_assert_str_eq((const char *)ASN1_STRING_get0_data(
                         sk_ACCESS_DESCRIPTION_value(aia, 1)->location->d.uniformResourceIdentifier),
                     spec->ca_issuers_url);
    AUTHORITY_INFO_ACCESS_free(aia);
    /* CRL distribution point */
    cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    ck_assert_ptr_nonnull(cdp);
    ck_assert_int_eq(sk_DIST_POINT_num(cdp), 1);
    dp = sk_DIST_POINT_value(cdp, 0);
    ck_assert_int_eq(dp->distpoint->type, 0);
    ck_assert_int_eq(sk_GENERAL_NAME_num(dp->distpoint->name.fullname), 1);
    ck_assert_str_eq((const char *)ASN1_STRING_get0_data(
                         sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0)
                             ->d.uniformResourceIdentifier), spec->crl_url);
    CRL_DIST_POINTS_free(cdp);
    /* certificatePolicies: the CPS OID with the CPS URI */
    pol = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
    ck_assert_ptr_nonnull(pol);
    ck_assert_int_eq(sk_POLICYINFO_num(pol), 1);
    pi = sk_POLICYINFO_value(pol, 0);
    OBJ_obj2txt(buf, sizeof(buf), pi->policyid, 1);
    ck_assert_str_eq(buf, CA_CPS_OID);
    ck_assert_int_eq(sk_POLICYQUALINFO_num(pi->qualifiers), 1);
    qi = sk_POLICYQUALINFO_value(pi->qualifiers, 0);
    ck_assert_int_eq(OBJ_obj2nid(qi->pqualid), NID_id_qt_cps);
    ck_assert_str_eq((const char *)ASN1_STRING_get0_data(qi->d.cpsuri), spec->cps_url);
    CERTIFICATEPOLICIES_free(pol);
    /* subject */
    check_name_entry(x, NID_commonName, spec->cn, V_ASN1_UTF8STRING);
    if (spec->email) {
        check_name_entry(x, NID_pkcs9_emailAddress, spec->email, V_ASN1_IA5STRING);
    }
    if (org) {
        check_name_entry(x, NID_organizationName, spec->org[0], V_ASN1_UTF8STRING);
        check_name_entry(x, NID_organizationalUnitName, spec->org[1], V_ASN1_UTF8STRING);
        check_name_entry(x, NID_localityName, spec->org[2], V_ASN1_UTF8STRING);
        check_name_entry(x, NID_stateOrProvinceName, spec->org[3], V_ASN1_UTF8STRING);
        check_name_entry(x, NID_countryName, spec->org[4], V_ASN1_PRINTABLESTRING);
    }
    else {
        ck_assert_int_lt(X509_NAME_get_index_by_NID(X509_get_subject_name(x),
                                                    NID_organizationName, -1), 0);
    }
    /* nothing else */
    ck_assert_int_eq(X509_get_ext_count(x), 9);
    ck_assert_int_eq(X509_check_purpose(x, -1, 0), 1);
}

START_TEST(profile_names)
{
    static const char *const names[] = { "client", "server", "codesign", "org-client",
                                         "org-server" };
    int i;

    for (i = 0; i < 5; i++) {
        ca_profile_t pr = ca_profile_from_name(names[i]);
        ck_assert_int_eq(pr, i + 1);
        ck_assert_str_eq(ca_profile_name(pr), names[i]);
    }
    ck_assert_int_eq(ca_profile_from_name("Client"), 0);
    ck_assert_int_eq(ca_profile_from_name(NULL), 0);
    ck_assert_ptr_null(ca_profile_name(0));
    ck_assert_ptr_null(ca_profile_name(6));
}
END_TEST

START_TEST(random_serial)
{
    unsigned char a[16], b[16];
    int i;

    for (i = 0; i < 200; i++) {
        ck_assert_int_eq(ca_x509_random_serial(a), APR_SUCCESS);
        ck_assert_uint_eq(a[0] & 0x80, 0);
        ck_assert_uint_ne(a[0], 0);
    }
    ck_assert_int_eq(ca_x509_random_serial(b), APR_SUCCESS);
    ck_assert(memcmp(a, b, 16) != 0);
}
END_TEST

/* every profile x subject key type x issuer key type (_i = 0..19) */
START_TEST(issue_profiles)
{
    ca_profile_t profile = (ca_profile_t)(_i % 5 + 1);
    int subject_ec = (_i / 5) % 2, issuer_ec = _i / 10;
    X509 *issuer = issuer_ec ? ec_issuer : rsa_issuer;
    EVP_PKEY *ikey = issuer_ec ? ec_issuer_key : rsa_issuer_key;
    ca_cert_spec_t spec = base_spec(profile, subject_ec ? ec_subject : rsa_subject);
    X509 *cert = issue_ok(&spec, issuer, ikey);

    check_cert(cert, &spec, issuer, ikey);
    X509_free(cert);
}
END_TEST

START_TEST(issue_variants)
{
    static const char *const one_dns[] = { "host.example.org", NULL };
    ca_cert_spec_t spec = base_spec(CA_PROFILE_CLIENT, ec_subject);
    X509 *cert;
    const unsigned char *der;
    const unsigned char *q;
    apr_size_t len;
    X509 *back;
    char cn64[200];
    int i;

    /* sha512 over an EC issuer, no caIssuers, no CPS URI, anonymous CN, no SAN */
    spec.md = "sha512";
    spec.ca_issuers_url = NULL;
    spec.cps_url = NULL;
    spec.cn = "CAcert WoT Member";
    spec.email = NULL;
    spec.sans = NULL;
    cert = issue_ok(&spec, ec_issuer, ec_issuer_key);
    ck_assert_int_eq(X509_verify(cert, ec_issuer_key), 1);
    ck_assert_int_eq(X509_get_signature_nid(cert), NID_ecdsa_with_SHA512);
    ck_assert_int_lt(X509_get_ext_by_NID(cert, NID_subject_alt_name, -1), 0);
    {
        AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
        CERTIFICATEPOLICIES *pol = X509_get_ext_d2i(cert, NID_certificate_policies,
                                                    NULL, NULL);
        ck_assert_int_eq(sk_ACCESS_DESCRIPTION_num(aia), 1);
        ck_assert_ptr_null(sk_POLICYINFO_value(pol, 0)->qualifiers);
        AUTHORITY_INFO_ACCESS_free(aia);
        CERTIFICATEPOLICIES_free(pol);
    }
    /* DER round trip */
    ck_assert_int_eq(ca_x509_der(&der, &len, cert, pool), APR_SUCCESS);
    q = der;
    back = d2i_X509(NULL, &q, (long)len);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(X509_cmp(cert, back), 0);
    X509_free(back);
    X509_free(cert);

    /* sha384 over RSA; SAN only, no subject at all */
    spec = base_spec(CA_PROFILE_SERVER, rsa_subject);
    spec.md = "sha384";
    spec.cn = NULL;
    spec.sans = sans_of(one_dns);
    cert = issue_ok(&spec, rsa_issuer, rsa_issuer_key);
    ck_assert_int_eq(X509_get_signature_nid(cert), NID_sha384WithRSAEncryption);
    ck_assert_int_eq(X509_NAME_entry_count(X509_get_subject_name(cert)), 0);
    X509_free(cert);

    /* a CN of 64 two-byte characters is fine */
    for (i = 0; i < 64; i++) {
        memcpy(cn64 + 2 * i, "\xc3\xa9", 2);
    }
    cn64[128] = '\0';
    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.cn = cn64;
    spec.days = 825;
    cert = issue_ok(&spec, rsa_issuer, rsa_issuer_key);
    X509_free(cert);
    spec.days = 1;
    cert = issue_ok(&spec, rsa_issuer, rsa_issuer_key);
    X509_free(cert);
}
END_TEST

START_TEST(issue_refusals)
{
    static const char *const bad_sans[][2] = {
        { "a b@example.org", NULL }, { "host .example.org", NULL },
        { "h\xc3\xa9.example.org", NULL }, { "x\x01y.example.org", NULL },
        { "", NULL }, { "no-at-sign", NULL }, { "host.example.org/path", NULL },
    };
    static const char *const email_only[] = { "alice@example.org", NULL };
    ca_cert_spec_t spec;
    X509 *cert = NULL;
    const char *err = NULL;
    char cn65[200];
    apr_array_header_t *many;
    ca_san_t *s;
    apr_size_t k;
    int i;

    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.profile = 0;
    refuse(&spec);
    spec.profile = 6;
    refuse(&spec);

    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.md = "sha1";
    refuse(&spec);
    spec.md = NULL;
    refuse(&spec);
    spec.md = "SHA256";
    refuse(&spec);

    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.days = 0;
    refuse(&spec);
    spec.days = 826;
    refuse(&spec);
    spec.days = -5;
    refuse(&spec);

    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.cn = "Alice\nBob";
    refuse(&spec);
    spec.cn = "Alice\x7f";
    refuse(&spec);
    spec.cn = "Alice \xc2\x85";         /* C1 NEL */
    refuse(&spec);
    spec.cn = "Alice \xc3";             /* truncated */
    refuse(&spec);
    spec.cn = "Alice \xc0\xa0";         /* overlong */
    refuse(&spec);
    spec.cn = "Alice \xed\xa0\x80";     /* surrogate */
    refuse(&spec);
    spec.cn = "Alice \xff";
    refuse(&spec);
    memset(cn65, 'a', 65);
    cn65[65] = '\0';
    spec.cn = cn65;
    refuse(&spec);

    for (k = 0; k < sizeof(bad_sans) / sizeof(bad_sans[0]); k++) {
        spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
        spec.sans = sans_of(bad_sans[k]);
        if (!strchr(bad_sans[k][0], '@') && k != 5) {
            APR_ARRAY_IDX(spec.sans, 0, ca_san_t).type = CA_SAN_DNS;
        }
        else {
            APR_ARRAY_IDX(spec.sans, 0, ca_san_t).type = CA_SAN_EMAIL;
        }
        refuse(&spec);
    }
    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    APR_ARRAY_IDX(spec.sans, 0, ca_san_t).type = 3;
    refuse(&spec);

    /* empty subject and no SAN */
    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.cn = NULL;
    spec.email = NULL;
    spec.sans = NULL;
    refuse(&spec);
    spec.cn = "";
    spec.sans = apr_array_make(pool, 1, sizeof(ca_san_t));
    refuse(&spec);

    /* server profiles need a dNSName */
    spec = base_spec(CA_PROFILE_SERVER, rsa_subject);
    spec.sans = sans_of(email_only);
    refuse(&spec);
    spec.sans = NULL;
    refuse(&spec);
    spec = base_spec(CA_PROFILE_ORG_SERVER, rsa_subject);
    spec.sans = NULL;
    refuse(&spec);

    /* 100 SANs fine, 101 not */
    many = apr_array_make(pool, 101, sizeof(ca_san_t));
    for (i = 0; i < 100; i++) {
        s = apr_array_push(many);
        s->type = CA_SAN_DNS;
        s->value = apr_psprintf(pool, "h%d.example.org", i);
    }
    spec = base_spec(CA_PROFILE_SERVER, rsa_subject);
    spec.sans = many;
    cert = issue_ok(&spec, rsa_issuer, rsa_issuer_key);
    X509_free(cert);
    s = apr_array_push(many);
    s->type = CA_SAN_DNS;
    s->value = "h100.example.org";
    refuse(&spec);

    /* no key; organisation fields where they do not belong or malformed */
    spec = base_spec(CA_PROFILE_CLIENT, NULL);
    refuse(&spec);
    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.org[0] = "Example Org";
    refuse(&spec);
    spec = base_spec(CA_PROFILE_ORG_CLIENT, rsa_subject);
    spec.org[4] = "Germany";
    refuse(&spec);
    spec.org[4] = "de";
    refuse(&spec);
    spec = base_spec(CA_PROFILE_ORG_CLIENT, rsa_subject);
    spec.org[0] = NULL;
    refuse(&spec);
    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.email = "not an address";
    refuse(&spec);

    /* URLs */
    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.ocsp_url = NULL;
    refuse(&spec);
    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.crl_url = "http://crl.example.test/a b";
    refuse(&spec);
    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    spec.cps_url = "javascript:alert(1)";
    refuse(&spec);

    /* an issuer key that is not the issuer's */
    spec = base_spec(CA_PROFILE_CLIENT, rsa_subject);
    ck_assert_int_eq(ca_x509_issue(&cert, &err, &spec, rsa_issuer, ec_issuer_key,
                                   serial16, NOW, pool), APR_EINVAL);
    ck_assert_ptr_null(cert);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(ca_x509_issue(&cert, &err, NULL, rsa_issuer, rsa_issuer_key,
                                   serial16, NOW, pool), APR_EINVAL);
}
END_TEST

/* ---- CRLs ---- */

static void put_serial(ca_crl_entry_t *e, const char *hex)
{
    long n = 0;
    unsigned char *b;

    if (!*hex) {
        e->serial_len = 0;
        return;
    }
    b = OPENSSL_hexstr2buf(hex, &n);

    ck_assert_ptr_nonnull(b);
    ck_assert_int_le(n, 20);
    memcpy(e->serial, b, (size_t)n);
    e->serial_len = (uint8_t)n;
    OPENSSL_free(b);
}

static X509_CRL *parse_crl(const unsigned char *der, apr_size_t len)
{
    const unsigned char *q = der;
    X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)len);

    ck_assert_ptr_nonnull(crl);
    ck_assert_ptr_eq(q, der + len);
    return crl;
}

/* TBS -> sign -> assemble -> parse -> verify */
static X509_CRL *build_crl(const unsigned char **pder, apr_size_t *plen,
                           const ca_crl_spec_t *spec, EVP_PKEY *key)
{
    const unsigned char *tbs, *sig, *der;
    apr_size_t tbslen, siglen, len;
    X509_CRL *crl;

    ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, spec, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_sign_tbs(&sig, &siglen, tbs, tbslen, key, spec->md, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(ca_crl_assemble(&der, &len, tbs, tbslen, sig, siglen,
                                     X509_get0_pubkey(spec->issuer), spec->md, pool),
                     APR_SUCCESS);
    crl = parse_crl(der, len);
    ck_assert_int_eq(X509_CRL_verify(crl, key), 1);
    if (pder) {
        *pder = der;
        *plen = len;
    }
    return crl;
}

static ca_crl_entry_t sample[5];

static void sample_entries(void)
{
    memset(sample, 0, sizeof(sample));
    put_serial(&sample[0], "7F0102030405060708090A0B0C0D0E0F");
    sample[0].revoked_at = NOW - 3600;
    sample[0].reason = 1;                       /* keyCompromise */
    put_serial(&sample[1], "01");
    sample[1].revoked_at = NOW - 7200;
    put_serial(&sample[2], "00FF");                 /* leading zero, top bit */
    sample[2].revoked_at = NOW - 60;
    sample[2].reason = 4;                       /* superseded */
    put_serial(&sample[3], "1000");
    sample[3].revoked_at = 2600000000LL;        /* 2052: GeneralizedTime */
    sample[3].reason = 5;                       /* cessationOfOperation */
    put_serial(&sample[4], "8000000000000000000000000000000000000001");
    sample[4].revoked_at = NOW;
}

static ca_crl_spec_t crl_spec(X509 *issuer, const ca_crl_entry_t *e, apr_size_t n)
{
    ca_crl_spec_t s;

    memset(&s, 0, sizeof(s));
    s.issuer = issuer;
    s.md = "sha256";
    s.this_update = NOW;
    s.next_update = NOW + 86400;
    s.crl_number = 4242;
    s.entries = e;
    s.nentries = n;
    return s;
}

START_TEST(crl_parse_and_verify)
{
    /* _i: 0 RSA issuer, 1 EC issuer */
    X509 *issuer = _i ? ec_issuer : rsa_issuer;
    EVP_PKEY *key = _i ? ec_issuer_key : rsa_issuer_key;
    ca_crl_spec_t spec;
    X509_CRL *crl;
    STACK_OF(X509_REVOKED) *rev;
    static const char *const order[] = {
        "01", "FF", "1000", "7F0102030405060708090A0B0C0D0E0F",
        "8000000000000000000000000000000000000001"
    };
    static const int reasons[] = { -1, 4, 5, 1, -1 };
    ASN1_INTEGER *num;
    AUTHORITY_KEYID *aki;
    int i, crit;

    sample_entries();
    spec = crl_spec(issuer, sample, 5);
    if (_i) {
        spec.md = "sha384";
    }
    crl = build_crl(NULL, NULL, &spec, key);
    ck_assert_int_eq(X509_CRL_get_version(crl), 1);        /* v2 */
    ck_assert_int_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)),
                     0);
    ck_assert_int_eq(X509_CRL_get_signature_nid(crl),
                     _i ? NID_ecdsa_with_SHA384 : NID_sha256WithRSAEncryption);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), NOW), 0);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl), NOW + 86400), 0);
    ck_assert_int_eq(ASN1_STRING_type(X509_CRL_get0_lastUpdate(crl)), V_ASN1_UTCTIME);
    rev = X509_CRL_get_REVOKED(crl);
    ck_assert_int_eq(sk_X509_REVOKED_num(rev), 5);
    for (i = 0; i < 5; i++) {
        X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
        char *hex = BN_bn2hex(bn);
        ASN1_ENUMERATED *reason;

        ck_assert_str_eq(hex, order[i]);
        reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
        if (reasons[i] < 0) {
            ck_assert_ptr_null(reason);
            ck_assert_int_eq(X509_REVOKED_get_ext_count(r), 0);
        }
        else {
            ck_assert_ptr_nonnull(reason);
            ck_assert_int_eq(crit, 0);
            ck_assert_int_eq(ASN1_ENUMERATED_get(reason), reasons[i]);
        }
        ASN1_ENUMERATED_free(reason);
        OPENSSL_free(hex);
        BN_free(bn);
    }
    ck_assert_int_eq(ASN1_STRING_type(X509_REVOKED_get0_revocationDate(
                         sk_X509_REVOKED_value(rev, 2))), V_ASN1_GENERALIZEDTIME);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(
                         sk_X509_REVOKED_value(rev, 2)), (time_t)2600000000LL), 0);
    /* crlExtensions: AKI keyid = issuer SKI, cRLNumber */
    num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
    ck_assert_ptr_nonnull(num);
    ck_assert_int_eq(crit, 0);
    ck_assert_int_eq(ASN1_INTEGER_get(num), 4242);
    ASN1_INTEGER_free(num);
    aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
    ck_assert_ptr_nonnull(aki);
    ck_assert_int_eq(ASN1_OCTET_STRING_cmp(aki->keyid, X509_get0_subject_key_id(issuer)), 0);
    ck_assert_ptr_null(aki->issuer);
    AUTHORITY_KEYID_free(aki);
    ck_assert_int_eq(X509_CRL_get_ext_count(crl), 2);
    /* OpenSSL re-encoding the parsed TBS gives our bytes: our DER is canonical */
    {
        const unsigned char *tbs;
        apr_size_t tbslen;
        unsigned char *re = NULL;
        int relen;

        ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_SUCCESS);
        relen = i2d_re_X509_CRL_tbs(crl, &re);
        ck_assert_int_eq(relen, (int)tbslen);
        ck_assert(!memcmp(re, tbs, tbslen));
        OPENSSL_free(re);
    }
    X509_CRL_free(crl);
}
END_TEST

START_TEST(crl_deterministic)
{
    ca_crl_entry_t shuffled[5];
    ca_crl_spec_t spec;
    const unsigned char *a, *b, *c;
    apr_size_t alen, blen, clen;
    apr_pool_t *other;

    sample_entries();
    shuffled[0] = sample[3];
    shuffled[1] = sample[0];
    shuffled[2] = sample[4];
    shuffled[3] = sample[2];
    shuffled[4] = sample[1];
    spec = crl_spec(ec_issuer, sample, 5);
    ck_assert_int_eq(ca_crl_tbs(&a, &alen, &spec, pool), APR_SUCCESS);
    apr_pool_create(&other, NULL);
    spec.entries = shuffled;
    ck_assert_int_eq(ca_crl_tbs(&b, &blen, &spec, other), APR_SUCCESS);
    ck_assert_uint_eq(alen, blen);
    ck_assert(!memcmp(a, b, alen));
    /* the caller's array is left alone */
    ck_assert_uint_eq(shuffled[0].serial[0], 0x10);
    /* a different CRL number gives a different body */
    spec.crl_number = 4243;
    ck_assert_int_eq(ca_crl_tbs(&c, &clen, &spec, other), APR_SUCCESS);
    ck_assert(alen != clen || memcmp(a, c, alen) != 0);
    apr_pool_destroy(other);
}
END_TEST

START_TEST(crl_empty)
{
    ca_crl_spec_t spec = crl_spec(_i ? ec_issuer : rsa_issuer, NULL, 0);
    X509_CRL *crl;
    const unsigned char *tbs, *tbs2;
    apr_size_t tbslen, tbslen2;

    spec.crl_number = 0;
    crl = build_crl(NULL, NULL, &spec, _i ? ec_issuer_key : rsa_issuer_key);
    /* revokedCertificates left out altogether, not an empty SEQUENCE */
    ck_assert_ptr_null(X509_CRL_get_REVOKED(crl));
    ck_assert_int_eq(X509_CRL_get_ext_count(crl), 2);
    X509_CRL_free(crl);
    ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_tbs(&tbs2, &tbslen2, &spec, pool), APR_SUCCESS);
    ck_assert_uint_eq(tbslen, tbslen2);
    ck_assert(!memcmp(tbs, tbs2, tbslen));
}
END_TEST

START_TEST(crl_duplicates)
{
    ca_crl_entry_t e[4];
    ca_crl_spec_t spec;
    X509_CRL *crl;
    X509_REVOKED *r;

    memset(e, 0, sizeof(e));
    put_serial(&e[0], "0A0B");
    e[0].revoked_at = NOW - 10;
    e[0].reason = 3;
    put_serial(&e[1], "000A0B");                /* the same serial */
    e[1].revoked_at = NOW - 100;
    put_serial(&e[2], "0A0B");
    e[2].revoked_at = NOW - 50;
    put_serial(&e[3], "");                      /* serial 0 */
    e[3].revoked_at = NOW;
    spec = crl_spec(rsa_issuer, e, 4);
    crl = build_crl(NULL, NULL, &spec, rsa_issuer_key);
    ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
    r = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 1);
    ck_assert_int_eq(ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(r)), 0x0A0B);
    ck_assert_int_eq(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(r), NOW - 100), 0);
    X509_CRL_free(crl);
}
END_TEST

START_TEST(crl_refusals)
{
    ca_crl_entry_t e;
    ca_crl_spec_t spec;
    const unsigned char *tbs, *sig, *der;
    apr_size_t tbslen, siglen, len;
    unsigned char *bad;

    memset(&e, 0, sizeof(e));
    put_serial(&e, "0102");
    e.revoked_at = NOW;
    spec = crl_spec(rsa_issuer, &e, 1);
    spec.md = "md5";
    ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_EINVAL);
    spec = crl_spec(rsa_issuer, &e, 1);
    spec.next_update = spec.this_update;
    ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_EINVAL);
    spec = crl_spec(NULL, &e, 1);
    ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_EINVAL);
    spec = crl_spec(rsa_issuer, NULL, 3);
    ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_EINVAL);
    e.serial_len = 21;
    spec = crl_spec(rsa_issuer, &e, 1);
    ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_EINVAL);
    e.serial_len = 2;
    e.reason = 7;
    ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_EINVAL);
    e.reason = 0;

    /* assembly refuses a signature that does not verify, or the wrong key/md */
    ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_sign_tbs(&sig, &siglen, tbs, tbslen, rsa_issuer_key, "sha256",
                                     pool), APR_SUCCESS);
    ck_assert_uint_eq(siglen, 256);
    ck_assert_int_eq(ca_crl_assemble(&der, &len, tbs, tbslen, sig, siglen,
                                     X509_get0_pubkey(rsa_issuer), "sha384", pool),
                     APR_EINVAL);
    ck_assert_int_eq(ca_crl_assemble(&der, &len, tbs, tbslen, sig, siglen,
                                     X509_get0_pubkey(ec_issuer), "sha256", pool),
                     APR_EINVAL);
    bad = apr_pmemdup(pool, sig, siglen);
    bad[10] ^= 1;
    ck_assert_int_eq(ca_crl_assemble(&der, &len, tbs, tbslen, bad, siglen,
                                     X509_get0_pubkey(rsa_issuer), "sha256", pool),
                     APR_EINVAL);
    ck_assert_ptr_null(der);
    ck_assert_int_eq(ca_crl_assemble(&der, &len, tbs, tbslen, sig, siglen,
                                     X509_get0_pubkey(rsa_issuer), "sha256", pool),
                     APR_SUCCESS);
    {
        /* with the TBS's digest made by the caller: the same CRL; a digest
         * of another TBS, or of the wrong size, does not verify */
        unsigned char dg[SHA256_DIGEST_LENGTH];
        const unsigned char *der2;
        apr_size_t len2;

        SHA256(tbs, tbslen, dg);
        ck_assert_int_eq(ca_crl_assemble_digest(&der2, &len2, tbs, tbslen, dg, sizeof(dg), sig,
                                                siglen, X509_get0_pubkey(rsa_issuer), "sha256",
                                                pool), APR_SUCCESS);
        ck_assert_uint_eq(len2, len);
        ck_assert_mem_eq(der2, der, len);
        ck_assert_int_eq(ca_crl_assemble_digest(&der2, &len2, tbs, tbslen, dg, 20, sig, siglen,
                                                X509_get0_pubkey(rsa_issuer), "sha256", pool),
                         APR_EINVAL);
        dg[0] ^= 1;
        ck_assert_int_eq(ca_crl_assemble_digest(&der2, &len2, tbs, tbslen, dg, sizeof(dg), sig,
                                                siglen, X509_get0_pubkey(rsa_issuer), "sha256",
                                                pool), APR_EINVAL);
        ck_assert_ptr_null(der2);
        /* ECDSA over a digest too */
        spec = crl_spec(ec_issuer, &e, 1);
        ck_assert_int_eq(ca_crl_tbs(&tbs, &tbslen, &spec, pool), APR_SUCCESS);
        ck_assert_int_eq(ca_crl_sign_tbs(&sig, &siglen, tbs, tbslen, ec_issuer_key, "sha256",
                                         pool), APR_SUCCESS);
        SHA256(tbs, tbslen, dg);
        ck_assert_int_eq(ca_crl_assemble_digest(&der2, &len2, tbs, tbslen, dg, sizeof(dg), sig,
                                                siglen, X509_get0_pubkey(ec_issuer), "sha256",
                                                pool), APR_SUCCESS);
        dg[5] ^= 1;
        ck_assert_int_eq(ca_crl_assemble_digest(&der2, &len2, tbs, tbslen, dg, sizeof(dg), sig,
                                                siglen, X509_get0_pubkey(ec_issuer), "sha256",
                                                pool), APR_EINVAL);
    }
    ck_assert_int_eq(ca_crl_sign_tbs(&sig, &siglen, tbs, tbslen, rsa_issuer_key, "sha1",
                                     pool), APR_EINVAL);
}
END_TEST

/* the openssl command line shows the entries */
START_TEST(crl_openssl_text)
{
    ca_crl_spec_t spec;
    const unsigned char *der;
    apr_size_t len;
    X509_CRL *crl;
    char path[] = "/tmp/ca_x509_crlXXXXXX";
    char line[512], *cmd;
    int fd, found_serial = 0, found_reason = 0, found_number = 0, status;
    FILE *f;

    sample_entries();
    spec = crl_spec(rsa_issuer, sample, 5);
    crl = build_crl(&der, &len, &spec, rsa_issuer_key);
    X509_CRL_free(crl);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, der, len), (ssize_t)len);
    close(fd);
    cmd = apr_psprintf(pool, "openssl crl -inform DER -noout -text -in %s 2>&1", path);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, "Serial Number: 7F0102030405060708090A0B0C0D0E0F")) {
            found_serial = 1;
        }
        if (strstr(line, "Key Compromise")) {
            found_reason = 1;
        }
        if (strstr(line, "4242")) {
            found_number = 1;
        }
    }
    status = pclose(f);
    unlink(path);
    ck_assert_int_eq(status, 0);
    ck_assert(found_serial);
    ck_assert(found_reason);
    ck_assert(found_number);
}
END_TEST

/* 10,000 random entries (the million is the bench's job) */
START_TEST(crl_many)
{
    const apr_size_t n = 10000;
    ca_crl_entry_t *e = apr_pcalloc(pool, n * sizeof(*e));
    ca_crl_spec_t spec;
    X509_CRL *crl;
    STACK_OF(X509_REVOKED) *rev;
    apr_size_t i;
    int j;

    for (i = 0; i < n; i++) {
        RAND_bytes(e[i].serial, 16);
        e[i].serial[0] &= 0x7F;
        e[i].serial[0] |= 0x01;
        e[i].serial_len = 16;
        e[i].revoked_at = NOW - (int64_t)(i * 37);
        e[i].reason = (uint8_t)(i % 3 == 0 ? 1 : 0);
    }
    spec = crl_spec(ec_issuer, e, n);
    crl = build_crl(NULL, NULL, &spec, ec_issuer_key);
    rev = X509_CRL_get_REVOKED(crl);
    ck_assert_int_eq(sk_X509_REVOKED_num(rev), (int)n);
    for (j = 1; j < (int)n; j++) {
        ck_assert_int_lt(ASN1_INTEGER_cmp(
                             X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rev, j - 1)),
                             X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rev, j))), 0);
    }
    X509_CRL_free(crl);
}
END_TEST

/* the incremental set gives the very bytes ca_crl_tbs builds, whatever
 * order and batches the revocations came in, duplicates included */
static void set_equals_full(ca_crl_set_t *set, const ca_crl_entry_t *e, apr_size_t n,
                            X509 *issuer)
{
    ca_crl_spec_t spec = crl_spec(issuer, e, n);
    const unsigned char *full, *inc;
    apr_size_t flen, ilen, hlen = 0;
    unsigned char sha[32], want[32];

    ck_assert_int_eq(ca_crl_tbs(&full, &flen, &spec, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_tbs(&inc, &ilen, set, &spec, pool), APR_SUCCESS);
    ck_assert_uint_eq(flen, ilen);
    ck_assert(!memcmp(full, inc, flen));
    ck_assert_int_eq(ca_crl_set_sha256(sha, &hlen, set, &spec, pool), APR_SUCCESS);
    SHA256(full, flen, want);
    ck_assert_uint_eq(hlen, flen);
    ck_assert(!memcmp(sha, want, 32));
}

START_TEST(crl_set_incremental)
{
    const apr_size_t n = 3000;
    ca_crl_entry_t *e = apr_pcalloc(pool, n * sizeof(*e));
    X509 *issuer = _i ? ec_issuer : rsa_issuer;
    ca_crl_set_t *set;
    apr_size_t i, done = 0, step = 1;

    for (i = 0; i < n; i++) {
        /* lengths 1..20, top bits set or not, some leading zero bytes */
        int len = 1 + (int)(i % 20);
        RAND_bytes(e[i].serial, (int)len);
        if (i % 7 == 0) {
            e[i].serial[0] = 0;
        }
        e[i].serial_len = (uint8_t)len;
        e[i].revoked_at = i % 11 == 0 ? 2600000000LL + (int64_t)i : NOW - (int64_t)(i * 13);
        e[i].reason = (uint8_t)((i % 5 == 0) ? 1 : (i % 5 == 1) ? 4 : 0);
        if (i % 97 == 5) {
            /* the same serial as an earlier one, earlier or later */
            e[i] = e[i - 3];
            e[i].revoked_at += i % 2 ? -100 : 100;
        }
    }
    ck_assert_int_eq(ca_crl_set_make(&set, pool), APR_SUCCESS);
    set_equals_full(set, e, 0, issuer);
    /* one at a time first, then in growing batches, the TBS after each */
    while (done < n) {
        apr_size_t k = step < n - done ? step : n - done;
        ck_assert_int_eq(ca_crl_set_add(set, e + done, k), APR_SUCCESS);
        done += k;
        set_equals_full(set, e, done, issuer);
        step = done < 20 ? 1 : step * 2;
    }
    /* revocations given again change nothing */
    ck_assert_int_eq(ca_crl_set_add(set, e + 100, 50), APR_SUCCESS);
    set_equals_full(set, e, n, issuer);
    /* all at once into a fresh set: the same */
    ca_crl_set_clear(set);
    ck_assert_int_eq(ca_crl_set_count(set), 0);
    ck_assert_int_eq(ca_crl_set_add(set, e, n), APR_SUCCESS);
    set_equals_full(set, e, n, issuer);
    ck_assert_uint_le(ca_crl_set_count(set), n);
}
END_TEST

START_TEST(crl_set_refusals)
{
    ca_crl_set_t *set;
    ca_crl_entry_t e;

    ck_assert_int_eq(ca_crl_set_make(&set, pool), APR_SUCCESS);
    memset(&e, 0, sizeof(e));
    put_serial(&e, "01");
    e.revoked_at = NOW;
    e.reason = 7;
    ck_assert_int_eq(ca_crl_set_add(set, &e, 1), APR_EINVAL);
    e.reason = 0;
    e.serial_len = 21;
    ck_assert_int_eq(ca_crl_set_add(set, &e, 1), APR_EINVAL);
    ck_assert_int_eq(ca_crl_set_merge(set), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_count(set), 0);
}
END_TEST

/* the reference: OpenSSL's own EVP_DigestSign over the whole TBS */
static const unsigned char *ref_sign(apr_size_t *plen, const unsigned char *tbs,
                                     apr_size_t tbslen, EVP_PKEY *key, const char *md)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *sig;
    size_t len = 0;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, EVP_get_digestbyname(md), NULL, key), 1);
    ck_assert_int_eq(EVP_DigestSign(ctx, NULL, &len, tbs, tbslen), 1);
    sig = apr_palloc(pool, len);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &len, tbs, tbslen), 1);
    EVP_MD_CTX_free(ctx);
    *plen = len;
    return sig;
}

/* signerd's way: the digests in one pass over the set, then the digest
 * signed.  RSA (PKCS#1 v1.5 is deterministic): the very bytes OpenSSL's
 * EVP_DigestSign gives over the TBS; EC: a signature that verifies over
 * the TBS.  For each hash; _i: 0-2 RSA, 3-5 EC with sha256, sha384,
 * sha512 */
START_TEST(crl_sign_digest)
{
    static const char *const mds[] = { "sha256", "sha384", "sha512" };
    const apr_size_t n = 10000;             /* 385 kB: slices of 128 kB and a rest */
    ca_crl_entry_t *e = apr_pcalloc(pool, n * sizeof(*e));
    int ec = _i >= 3;
    X509 *issuer = ec ? ec_issuer : rsa_issuer;
    EVP_PKEY *key = ec ? ec_issuer_key : rsa_issuer_key;
    const char *md = mds[_i % 3];
    ca_crl_spec_t spec;
    ca_crl_set_t *set;
    const unsigned char *tbs, *sig, *ref, *der;
    apr_size_t tbslen, siglen, reflen, len, i;
    unsigned char sha[32], want[32], dgst[EVP_MAX_MD_SIZE], mdwant[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0, mdlen = 0;
    X509_CRL *crl;

    for (i = 0; i < n; i++) {
        RAND_bytes(e[i].serial, 16);
        e[i].serial[0] &= 0x7F;
        e[i].serial_len = 16;
        e[i].revoked_at = NOW - (int64_t)(i * 7);
        e[i].reason = (uint8_t)(i % 4 == 0 ? 1 : 0);
    }
    ck_assert_int_eq(ca_crl_set_make(&set, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_add(set, e, n), APR_SUCCESS);
    spec = crl_spec(issuer, NULL, 0);
    spec.md = md;
    ck_assert_int_eq(ca_crl_set_tbs(&tbs, &tbslen, set, &spec, pool), APR_SUCCESS);
    ck_assert_uint_gt(tbslen, 2 * 128 * 1024);

    ck_assert_int_eq(ca_crl_set_digests(sha, dgst, &dlen, set, &spec, pool), APR_SUCCESS);
    SHA256(tbs, tbslen, want);
    ck_assert(!memcmp(sha, want, 32));
    ck_assert_int_eq(EVP_Digest(tbs, tbslen, mdwant, &mdlen, EVP_get_digestbyname(md), NULL),
                     1);
    ck_assert_uint_eq(dlen, mdlen);
    ck_assert(!memcmp(dgst, mdwant, mdlen));
    {
        /* the same in steps of odd sizes, with revocations queued meanwhile
         * (as signerd hashes a CRL between other requests) */
        ca_crl_digest_t *d;
        unsigned char sha2[32], dgst2[EVP_MAX_MD_SIZE];
        unsigned int dlen2 = 0;
        apr_size_t before;
        int steps = 0, r;
        ca_crl_entry_t late = e[0];
        late.serial[1] ^= 0x55;
        ck_assert_int_eq(ca_crl_digest_begin(&d, set, &spec, pool), APR_SUCCESS);
        ck_assert_uint_eq(ca_crl_digest_left(d), tbslen);
        ck_assert_int_eq(ca_crl_digest_end(sha2, dgst2, &dlen2, d), APR_EGENERAL);
        do {
            before = ca_crl_digest_left(d);
            r = ca_crl_digest_step(d, 77777);
            ck_assert_uint_eq(before - ca_crl_digest_left(d), before < 77777 ? before : 77777);
            if (steps++ == 1) {
                ck_assert_int_eq(ca_crl_set_add(set, &late, 1), APR_SUCCESS);
            }
        } while (r == 0);
        ck_assert_int_eq(r, 1);
        ck_assert_int_eq(steps, (int)((tbslen + 77776) / 77777));
        ck_assert_int_eq(ca_crl_digest_end(sha2, dgst2, &dlen2, d), APR_SUCCESS);
        ck_assert(!memcmp(sha2, want, 32));
        ck_assert_uint_eq(dlen2, mdlen);
        ck_assert(!memcmp(dgst2, mdwant, mdlen));
        /* the late one is in the next */
        ck_assert_int_eq(ca_crl_set_merge(set), APR_SUCCESS);
        ck_assert_uint_eq(ca_crl_set_count(set), n + 1);
    }

    ck_assert_int_eq(ca_crl_sign_digest(&sig, &siglen, dgst, dlen, key, md, pool),
                     APR_SUCCESS);
    ref = ref_sign(&reflen, tbs, tbslen, key, md);
    if (!ec) {
        ck_assert_uint_eq(siglen, reflen);
        ck_assert(!memcmp(sig, ref, siglen));
    }
    /* verified over the TBS (ca_crl_assemble does), and by OpenSSL's parser */
    ck_assert_int_eq(ca_crl_assemble(&der, &len, tbs, tbslen, sig, siglen,
                                     X509_get0_pubkey(issuer), md, pool), APR_SUCCESS);
    crl = parse_crl(der, len);
    ck_assert_int_eq(X509_CRL_verify(crl, key), 1);
    ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), (int)n);
    X509_CRL_free(crl);
    /* the signature announced for another hash does not verify */
    ck_assert_int_eq(ca_crl_assemble(&der, &len, tbs, tbslen, sig, siglen,
                                     X509_get0_pubkey(issuer), _i % 3 ? "sha256" : "sha384",
                                     pool), APR_EINVAL);

    /* refusals: a digest of the wrong size, another hash, no key */
    ck_assert_int_eq(ca_crl_sign_digest(&sig, &siglen, dgst, dlen - 1, key, md, pool),
                     APR_EINVAL);
    ck_assert_ptr_null(sig);
    ck_assert_int_eq(ca_crl_sign_digest(&sig, &siglen, dgst, 20, key, "sha1", pool),
                     APR_EINVAL);
    ck_assert_int_eq(ca_crl_sign_digest(&sig, &siglen, dgst, dlen, NULL, md, pool),
                     APR_EINVAL);
    spec.md = "md5";
    ck_assert_int_eq(ca_crl_set_digests(sha, dgst, &dlen, set, &spec, pool), APR_EINVAL);
    ck_assert_uint_eq(dlen, 0);
}
END_TEST

/* the signed CRL written once from the set (what /pki keeps): the same
 * bytes as the TBS copied and assembled, and nothing when the signature
 * is not the one of these entries, this hash or this key */
START_TEST(crl_set_signed)
{
    static const char *const mds[] = { "sha256", "sha384" };
    const apr_size_t n = 3000;
    ca_crl_entry_t *e = apr_pcalloc(pool, (n + 1) * sizeof(*e));
    int ec = _i >= 2;
    X509 *issuer = ec ? ec_issuer : rsa_issuer;
    EVP_PKEY *key = ec ? ec_issuer_key : rsa_issuer_key;
    ca_crl_spec_t spec;
    ca_crl_set_t *set;
    const unsigned char *tbs, *sig, *ref;
    unsigned char *der, *bad;
    apr_size_t tbslen, siglen, reflen, len, i;
    X509_CRL *crl;

    for (i = 0; i <= n; i++) {
        RAND_bytes(e[i].serial, 12);
        e[i].serial[0] &= 0x7F;
        e[i].serial_len = 12;
        e[i].revoked_at = NOW - (int64_t)(i * 11);
        e[i].reason = (uint8_t)(i % 3 == 0 ? 4 : 0);
    }
    ck_assert_int_eq(ca_crl_set_make(&set, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_add(set, e, n), APR_SUCCESS);
    spec = crl_spec(issuer, NULL, 0);
    spec.md = mds[_i % 2];
    ck_assert_int_eq(ca_crl_set_tbs(&tbs, &tbslen, set, &spec, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_sign_tbs(&sig, &siglen, tbs, tbslen, key, spec.md, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(ca_crl_assemble(&ref, &reflen, tbs, tbslen, sig, siglen,
                                     X509_get0_pubkey(issuer), spec.md, pool), APR_SUCCESS);

    ck_assert_int_eq(ca_crl_set_signed(&der, &len, set, &spec, sig, siglen, pool),
                     APR_SUCCESS);
    ck_assert_uint_eq(len, reflen);
    ck_assert(!memcmp(der, ref, len));
    crl = parse_crl(der, len);
    ck_assert_int_eq(X509_CRL_verify(crl, key), 1);
    ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), (int)n);
    X509_CRL_free(crl);
    free(der);

    /* a damaged signature, another hash, another number */
    bad = apr_pmemdup(pool, sig, siglen);
    bad[siglen / 2] ^= 0x01;
    ck_assert_int_eq(ca_crl_set_signed(&der, &len, set, &spec, bad, siglen, pool),
                     APR_EINVAL);
    ck_assert_ptr_null(der);
    ck_assert_uint_eq(len, 0);
    spec.md = mds[(_i + 1) % 2];
    ck_assert_int_eq(ca_crl_set_signed(&der, &len, set, &spec, sig, siglen, pool),
                     APR_EINVAL);
    spec.md = mds[_i % 2];
    spec.crl_number++;
    ck_assert_int_eq(ca_crl_set_signed(&der, &len, set, &spec, sig, siglen, pool),
                     APR_EINVAL);
    spec.crl_number--;
    /* the other CA's certificate */
    spec.issuer = ec ? rsa_issuer : ec_issuer;
    ck_assert_int_eq(ca_crl_set_signed(&der, &len, set, &spec, sig, siglen, pool),
                     APR_EINVAL);
    spec.issuer = issuer;
    /* one revocation more than were signed */
    ck_assert_int_eq(ca_crl_set_add(set, &e[n], 1), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_signed(&der, &len, set, &spec, sig, siglen, pool),
                     APR_EINVAL);
    ck_assert_ptr_null(der);
}
END_TEST

/* the TBS into a buffer kept from one CRL to the next: the same bytes as
 * ca_crl_set_tbs, the same buffer while it is big enough */
/* a CRL request made in two steps (the copy on the link's line, the
 * SHA-256 in the store thread) is the request made in one, and its
 * snapshot is the TBS the answer must sign */
START_TEST(crl_request_prepared)
{
    const apr_size_t n = 500;
    ca_crl_entry_t *e = apr_pcalloc(pool, n * sizeof(*e));
    ca_crl_set_t *set;
    ca_crl_snap_t *snap;
    const unsigned char *one, *two;
    unsigned char *buf = NULL;
    apr_size_t onelen, twolen, cap = 0, i;
    int tries;

    for (i = 0; i < n; i++) {
        RAND_bytes(e[i].serial, 16);
        e[i].serial[0] |= 0x01;
        e[i].serial_len = 16;
        e[i].revoked_at = NOW - (int64_t)i;
        e[i].reason = (uint8_t)(i % 2);
    }
    ck_assert_int_eq(ca_crl_set_make(&set, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_add(set, e, n), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_merge(set), APR_SUCCESS);
    /* thisUpdate is now in seconds: the two are made in the same second,
     * or made again */
    for (tries = 0; tries < 3; tries++) {
        ck_assert_int_eq(ca_issue_crl_request(&one, &onelen, set, "member", 4711, rsa_issuer,
                                              "sha384", apr_time_from_sec(86400), pool),
                         APR_SUCCESS);
        ck_assert_int_eq(ca_issue_crl_prepare(&snap, "4711", "member", rsa_issuer, "sha384",
                                              apr_time_from_sec(86400), set, 0, &buf, &cap,
                                              pool), APR_SUCCESS);
        ca_issue_crl_finish(&two, &twolen, snap, pool);
        if (onelen == twolen && !memcmp(one, two, onelen)) {
            break;
        }
    }
    ck_assert_int_lt(tries, 3);
    ck_assert_ptr_nonnull(buf);
    /* the set moves on: the snapshot in buf does not, and a new request
     * over the moved set hashes something else */
    ck_assert_int_eq(ca_crl_set_add(set, e, 1), APR_SUCCESS);
    e[0].serial[1] ^= 0xFF;
    ck_assert_int_eq(ca_crl_set_add(set, e, 1), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_merge(set), APR_SUCCESS);
    ck_assert_int_eq(ca_issue_crl_request(&one, &onelen, set, "member", 4711, rsa_issuer,
                                          "sha384", apr_time_from_sec(86400), pool),
                     APR_SUCCESS);
    ck_assert_uint_eq(onelen, twolen);
    ck_assert(memcmp(one + onelen - 32, two + twolen - 32, 32) != 0);
    free(buf);
}
END_TEST

START_TEST(crl_set_tbs_into)
{
    const apr_size_t n = 2000;
    ca_crl_entry_t *e = apr_pcalloc(pool, n * sizeof(*e));
    ca_crl_spec_t spec = crl_spec(rsa_issuer, NULL, 0);
    ca_crl_set_t *set;
    const unsigned char *tbs, *into;
    unsigned char *buf = NULL, *first;
    apr_size_t tbslen, intolen, cap = 0, i;

    for (i = 0; i < n; i++) {
        RAND_bytes(e[i].serial, 12);
        e[i].serial_len = 12;
        e[i].revoked_at = NOW - (int64_t)i;
    }
    ck_assert_int_eq(ca_crl_set_make(&set, pool), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_add(set, e, n / 2), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_tbs_into(&into, &intolen, &buf, &cap, set, &spec, pool),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_eq(into, buf);
    ck_assert_uint_ge(cap, intolen);
    first = buf;
    ck_assert_int_eq(ca_crl_set_tbs(&tbs, &tbslen, set, &spec, pool), APR_SUCCESS);
    ck_assert_uint_eq(tbslen, intolen);
    ck_assert(!memcmp(tbs, into, tbslen));
    /* a few more revocations fit in the room left; the next CRL number too */
    ck_assert_int_eq(ca_crl_set_add(set, e + n / 2, 3), APR_SUCCESS);
    spec.crl_number++;
    ck_assert_int_eq(ca_crl_set_tbs_into(&into, &intolen, &buf, &cap, set, &spec, pool),
                     APR_SUCCESS);
    ck_assert_ptr_eq(buf, first);
    ck_assert_int_eq(ca_crl_set_tbs(&tbs, &tbslen, set, &spec, pool), APR_SUCCESS);
    ck_assert_uint_eq(tbslen, intolen);
    ck_assert(!memcmp(tbs, into, tbslen));
    /* twice as many do not: a bigger buffer, the same bytes */
    ck_assert_int_eq(ca_crl_set_add(set, e, n), APR_SUCCESS);
    ck_assert_int_eq(ca_crl_set_tbs_into(&into, &intolen, &buf, &cap, set, &spec, pool),
                     APR_SUCCESS);
    ck_assert_ptr_eq(into, buf);
    ck_assert_uint_ge(cap, intolen);
    ck_assert_int_eq(ca_crl_set_tbs(&tbs, &tbslen, set, &spec, pool), APR_SUCCESS);
    ck_assert_uint_eq(tbslen, intolen);
    ck_assert(!memcmp(tbs, into, tbslen));
    free(buf);
}
END_TEST

Suite *x509_suite(void)
{
    Suite *s = suite_create("x509");
    TCase *tc = tcase_create("x509");

    tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, profile_names);
    tcase_add_test(tc, random_serial);
    tcase_add_loop_test(tc, issue_profiles, 0, 20);
    tcase_add_test(tc, issue_variants);
    tcase_add_test(tc, issue_refusals);
    tcase_add_loop_test(tc, crl_parse_and_verify, 0, 2);
    tcase_add_test(tc, crl_deterministic);
    tcase_add_loop_test(tc, crl_empty, 0, 2);
    tcase_add_test(tc, crl_duplicates);
    tcase_add_test(tc, crl_refusals);
    tcase_add_test(tc, crl_openssl_text);
    tcase_add_test(tc, crl_many);
    tcase_add_loop_test(tc, crl_set_incremental, 0, 2);
    tcase_add_test(tc, crl_set_refusals);
    tcase_add_loop_test(tc, crl_sign_digest, 0, 6);
    tcase_add_loop_test(tc, crl_set_signed, 0, 4);
    tcase_add_test(tc, crl_set_tbs_into);
    tcase_add_test(tc, crl_request_prepared);
    suite_add_tcase(s, tc);
    return s;
}
