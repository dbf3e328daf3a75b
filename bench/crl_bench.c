/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Builds, signs and assembles a CRL with N revoked entries, once with an
 * RSA-4096 issuer and once with a P-384 issuer, and prints how long each
 * step takes, the DER size, the peak RSS, and what a CRL update costs on
 * the serial line (the request and the answer frames of src/ca_wire.h at
 * 115200 baud, 10 bits a byte).
 *
 *   crl_bench [N]            (default 1000000)
 *
 * Bar (DESIGN.md section 4): 1,000,000 entries in under 3 s; a CRL update
 * across a 115200-baud line in under 5 s whatever the CRL's size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <apr_general.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "ca_issue.h"
#include "ca_log.h"
#include "ca_wire.h"
#include "ca_x509.h"

#define BAUD 115200.0

static double secs(apr_time_t a, apr_time_t b)
{
    return (double)(b - a) / 1e6;
}

/* a self-signed issuer with an SKI; NULL on failure */
static X509 *make_issuer(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    ok = x && n && X509_set_version(x, X509_VERSION_3)
        && ASN1_INTEGER_set(X509_get_serialNumber(x), 1)
        && X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
                                      (const unsigned char *)"CAcert Bench", -1, -1, 0)
        && X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
                                      -1, -1, 0)
        && X509_set_subject_name(x, n) && X509_set_issuer_name(x, n)
        && X509_gmtime_adj(X509_getm_notBefore(x), 0)
        && X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400)
        && X509_set_pubkey(x, key);
    if (ok) {
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
        ok = ext && X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
    X509_NAME_free(n);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static long peak_rss_kib(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* framed size of the CRL request (CA_MSG_CRL) and of its answer
 * (CA_MSG_CRL_SIG), built as the signer link builds them */
static apr_status_t wire_sizes(apr_size_t *preq, apr_size_t *pans, apr_size_t *preq_payload,
                               const ca_crl_spec_t *spec, const unsigned char *tbs,
                               apr_size_t tbslen, apr_size_t siglen, apr_pool_t *p)
{
    apr_array_header_t *ans = apr_array_make(p, 600, 1);
    unsigned char sha[SHA256_DIGEST_LENGTH], b4[4] = { 0, 0, 0, 0 };
    unsigned char *sig = apr_pcalloc(p, siglen);
    const unsigned char *frame, *req;
    apr_size_t len, reqlen;
    apr_status_t rv;

    SHA256(tbs, tbslen, sha);
    ca_issue_crl_payload(&req, &reqlen, "assured", spec, sha, p);
    *preq_payload = reqlen;
    rv = ca_wire_encode(&frame, &len, CA_MSG_CRL, 1, req, reqlen, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *preq = len;
    ca_tlv_add(ans, CA_TAG_SIGNATURE, sig, siglen);
    b4[0] = (unsigned char)(spec->nentries >> 24);
    b4[1] = (unsigned char)(spec->nentries >> 16);
    b4[2] = (unsigned char)(spec->nentries >> 8);
    b4[3] = (unsigned char)spec->nentries;
    ca_tlv_add(ans, CA_TAG_COUNT, b4, 4);
    rv = ca_wire_encode(&frame, &len, CA_MSG_CRL_SIG, 1, (const unsigned char *)ans->elts,
                        (apr_size_t)ans->nelts, p);
    *pans = len;
    return rv;
}

static int run(const char *label, EVP_PKEY *key, const char *md,
               const ca_crl_entry_t *entries, apr_size_t n, apr_pool_t *parent)
{
    apr_pool_t *p;
    X509 *issuer = make_issuer(key, label);
    ca_crl_spec_t spec;
    const unsigned char *tbs, *sig, *crl;
    apr_size_t tbslen, siglen, crllen, req, ans, req_payload;
    apr_time_t t0, t1, t2, t3;
    int rc = 1;

    apr_pool_create(&p, parent);
    if (!issuer) {
        ca_log(CA_LOG_ERR, "CA50300", APR_EGENERAL, "cannot make the %s issuer", label);
        goto leave;
    }
    memset(&spec, 0, sizeof(spec));
    spec.issuer = issuer;
    spec.md = md;
    spec.this_update = (int64_t)time(NULL);
    spec.next_update = spec.this_update + 86400;
    spec.crl_number = 123456;
    spec.entries = entries;
    spec.nentries = n;

    t0 = apr_time_now();
    if (ca_crl_tbs(&tbs, &tbslen, &spec, p) != APR_SUCCESS) {
        goto leave;
    }
    t1 = apr_time_now();
    if (ca_crl_sign_tbs(&sig, &siglen, tbs, tbslen, key, md, p) != APR_SUCCESS) {
        goto leave;
    }
    t2 = apr_time_now();
    if (ca_crl_assemble(&crl, &crllen, tbs, tbslen, sig, siglen, X509_get0_pubkey(issuer),
                        md, p) != APR_SUCCESS) {
        goto leave;
    }
    t3 = apr_time_now();
    if (wire_sizes(&req, &ans, &req_payload, &spec, tbs, tbslen, siglen, p)
        != APR_SUCCESS) {
        goto leave;
    }
    {
        /* the incremental set: loaded once, then one revocation merged and
         * the TBS and its digest made as the link and signerd do per CRL */
        ca_crl_set_t *set;
        ca_crl_entry_t one = entries[0];
        const unsigned char *itbs, *isig;
        apr_size_t itbslen, isiglen;
        unsigned char isha[32], idgst[EVP_MAX_MD_SIZE];
        unsigned int idlen;
        apr_time_t s0, s1, s2, s3, s4, s5;

        one.serial[0] ^= 0x5a;
        s0 = apr_time_now();
        if (ca_crl_set_make(&set, p) != APR_SUCCESS
            || ca_crl_set_add(set, entries, n) != APR_SUCCESS
            || ca_crl_set_merge(set) != APR_SUCCESS) {
            goto leave;
        }
        s1 = apr_time_now();
        if (ca_crl_set_add(set, &one, 1) != APR_SUCCESS || ca_crl_set_merge(set) != APR_SUCCESS) {
            goto leave;
        }
        s2 = apr_time_now();
        if (ca_crl_set_sha256(isha, NULL, set, &spec, p) != APR_SUCCESS) {
            goto leave;
        }
        s3 = apr_time_now();
        if (ca_crl_set_tbs(&itbs, &itbslen, set, &spec, p) != APR_SUCCESS) {
            goto leave;
        }
        s4 = apr_time_now();
        if (ca_crl_set_digests(isha, idgst, &idlen, set, &spec, p) != APR_SUCCESS
            || ca_crl_sign_digest(&isig, &isiglen, idgst, idlen, key, md, p) != APR_SUCCESS) {
            goto leave;
        }
        s5 = apr_time_now();
        printf("%s, %s, %" APR_SIZE_T_FMT " entries, incremental (ca_crl_set):\n", label, md, n);
        printf("  first load    %8.3f s  (sort and encode, once)\n", secs(s0, s1));
        printf("  +1 revocation %8.3f s  (merged)\n", secs(s1, s2));
        printf("  TBS digest    %8.3f s  (what the link does per CRL request)\n", secs(s2, s3));
        printf("  TBS           %8.3f s  (a copy: what the link's hand-over does)\n",
               secs(s3, s4));
        printf("  digests, sign %8.3f s  (one pass, no copy: what signerd does)\n",
               secs(s4, s5));
    }
    printf("%s, %s, %" APR_SIZE_T_FMT " entries:\n", label, md, n);
    printf("  build TBS     %8.3f s  (ca_crl_tbs, the full build)\n", secs(t0, t1));
    printf("  sign          %8.3f s\n", secs(t1, t2));
    printf("  assemble      %8.3f s  (includes verifying the signature)\n", secs(t2, t3));
    printf("  total         %8.3f s  (bar: < 3 s for 1,000,000)\n", secs(t0, t3));
    printf("  DER size      %8.1f MB  (%" APR_SIZE_T_FMT " bytes)\n", crllen / 1e6, crllen);
    printf("  peak RSS      %8.1f MB  (process so far)\n", peak_rss_kib() / 1024.0);
    printf("  on the line   request %" APR_SIZE_T_FMT " bytes (payload %" APR_SIZE_T_FMT
           "), answer %" APR_SIZE_T_FMT " bytes (signature %" APR_SIZE_T_FMT "):"
           " %.3f s at 115200 baud (bar: < 5 s)\n", req, req_payload, ans, siglen,
           (double)(req + ans) * 10.0 / BAUD);
    rc = 0;
leave:
    if (rc) {
        ca_log(CA_LOG_ERR, "CA50301", APR_EGENERAL, "the %s run failed", label);
    }
    X509_free(issuer);
    apr_pool_destroy(p);
    return rc;
}

int main(int argc, char **argv)
{
    apr_size_t n = 1000000, i;
    ca_crl_entry_t *entries;
    EVP_PKEY *rsa = NULL, *ec = NULL;
    unsigned char *rnd;
    apr_pool_t *p;
    apr_time_t t0;
    int64_t now = (int64_t)time(NULL);
    int rc = 1;

    if (argc > 2 || (argc == 2 && (n = (apr_size_t)strtoull(argv[1], NULL, 10)) == 0)) {
        fprintf(stderr, "usage: %s [N]   (N > 0, default 1000000)\n", argv[0]);
        return 2;
    }
    if (n > 20000000) {
        fprintf(stderr, "N is at most 20000000\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);

    /* the entries: random 16-byte serials (top bit clear, as
     * ca_x509_random_serial makes them), revocations over the last two
     * years, one in eight with a reason */
    entries = malloc(n * sizeof(*entries));
    rnd = malloc(n * 20);
    if (!entries || !rnd || RAND_bytes(rnd, (int)(n * 20)) != 1) {
        ca_log(CA_LOG_ERR, "CA50302", APR_EGENERAL, "cannot make %" APR_SIZE_T_FMT " entries", n);
        goto leave;
    }
    for (i = 0; i < n; i++) {
        const unsigned char *r = rnd + i * 20;
        uint32_t age = ((uint32_t)r[16] << 16 | (uint32_t)r[17] << 8 | r[18]) % (2 * 365 * 86400);

        memset(&entries[i], 0, sizeof(entries[i]));
        memcpy(entries[i].serial, r, 16);
        entries[i].serial[0] = (unsigned char)((entries[i].serial[0] & 0x7F) | 0x01);
        entries[i].serial_len = 16;
        entries[i].revoked_at = now - (int64_t)age;
        entries[i].reason = (r[19] & 7) == 0 ? (uint8_t)(1 + r[19] % 5) : 0;
    }

    t0 = apr_time_now();
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
    ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (!rsa || !ec) {
        ca_log(CA_LOG_ERR, "CA50303", APR_EGENERAL, "key generation failed");
        goto leave;
    }
    printf("keys generated in %.1f s; %" APR_SIZE_T_FMT " entries ready\n",
           secs(t0, apr_time_now()), n);
    rc = run("RSA-4096", rsa, "sha256", entries, n, p);
    rc |= run("P-384", ec, "sha384", entries, n, p);
leave:
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    free(entries);
    free(rnd);
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
