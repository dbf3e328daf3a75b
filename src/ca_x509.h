/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* X.509 certificates and CRLs as the CA issues them (CPS 7.1.2, 7.2).
 * Used by signerd (which signs) and by the web side (which checks what it
 * got and builds the same CRL body).  OpenSSL 3; no httpd header. */
#ifndef CA_X509_H
#define CA_X509_H

#include <stdint.h>
#include <time.h>

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define CA_CPS_OID "1.3.6.1.4.1.18506.4.4"

typedef enum {
    CA_PROFILE_CLIENT = 1,
    CA_PROFILE_SERVER = 2,
    CA_PROFILE_CODESIGN = 3,
    CA_PROFILE_ORG_CLIENT = 4,
    CA_PROFILE_ORG_SERVER = 5
} ca_profile_t;

/* "client", "server", "codesign", "org-client", "org-server" <-> enum;
 * 0 / NULL when unknown */
ca_profile_t ca_profile_from_name(const char *name);
const char *ca_profile_name(ca_profile_t profile);

typedef enum {
    CA_SAN_EMAIL = 1,       /* rfc822Name */
    CA_SAN_DNS = 2          /* dNSName (may start with "*." for wildcards) */
} ca_san_type_t;

typedef struct {
    ca_san_type_t type;
    const char *value;      /* ASCII */
} ca_san_t;

/* What a certificate says.  Everything here has been decided by policy
 * before: ca_x509_issue only checks that it is well-formed (no control
 * characters, valid UTF-8 CN, ASCII SANs, at least one SAN or a CN). */
typedef struct {
    ca_profile_t profile;
    const char *cn;                 /* subject CN, UTF-8 ("CAcert WoT Member",
                                     * the assured Name, or a host name) */
    const char *email;              /* subject emailAddress (client, code
                                     * signing; deprecated but in the CPS); may
                                     * be NULL */
    const char *org[5];             /* O, OU, L, ST, C for organisation
                                     * profiles; NULL entries left out */
    const apr_array_header_t *sans; /* of ca_san_t */
    EVP_PKEY *pubkey;               /* the subject's key */
    int days;                       /* validity */
    const char *md;                 /* "sha256", "sha384", "sha512" */
    const char *ocsp_url;           /* AIA OCSP */
    const char *ca_issuers_url;     /* AIA caIssuers, may be NULL */
    const char *crl_url;            /* CRL distribution point */
    const char *cps_url;            /* CPS qualifier of the policy, may be NULL */
} ca_cert_spec_t;

/* serial: 16 random bytes with the top bit cleared (>= 64 random bits as
 * the CAB/F asks; 127 here); not_before: now minus nothing (the caller
 * passes the time) */
apr_status_t ca_x509_random_serial(unsigned char serial[16]);

/* Build and sign a certificate; *pcert is owned by the caller (X509_free).
 * APR_EINVAL with *perr set when the spec is not well-formed (this also
 * covers: ocsp_url/crl_url missing or not http(s), organisation fields on a
 * non-organisation profile, an organisation profile without O, C not two
 * capital letters, a subject key that is neither RSA nor EC, an issuer key
 * that does not match the issuer certificate).  EC subject keys get
 * keyUsage digitalSignature,keyAgreement (no keyEncipherment). */
apr_status_t ca_x509_issue(X509 **pcert, const char **perr,
                           const ca_cert_spec_t *spec,
                           X509 *issuer, EVP_PKEY *issuer_key,
                           const unsigned char serial[16], time_t not_before,
                           apr_pool_t *p);

/* certificatePolicies on x (replacing one there): the policy oid, with a
 * CPS qualifier cps_url unless that is NULL.  1, or 0 when OpenSSL fails
 * (its error queue says why).  Used by ca_x509_issue and by cacert-ca for
 * the Sub-CAs. */
int ca_x509_add_policy(X509 *x, const char *oid, const char *cps_url);

/* DER of a certificate, in p */
apr_status_t ca_x509_der(const unsigned char **pder, apr_size_t *plen, X509 *cert,
                         apr_pool_t *p);

/* ---- CRLs ----
 * A CRL update must cross a 115200-baud line in under 5 s whatever its size,
 * so both sides build the same TBSCertList from the same list of
 * revocations, and only the signature travels.  The TBS is built directly
 * as DER (no per-entry OpenSSL objects), so a million entries take well
 * under a second. */
typedef struct {
    unsigned char serial[20];   /* big-endian magnitude, as in the certificate
                                 * (leading zero bytes are ignored) */
    uint8_t serial_len;
    int64_t revoked_at;         /* seconds since the epoch, UTC */
    uint8_t reason;             /* CRLReason; 0 = unspecified (then omitted) */
} ca_crl_entry_t;

typedef struct {
    X509 *issuer;               /* for the issuer name and AKI */
    const char *md;             /* signature hash: "sha256" ... */
    int64_t this_update;
    int64_t next_update;
    uint64_t crl_number;
    const ca_crl_entry_t *entries;   /* sorted or not: the builder sorts a copy;
                                      * a serial given twice is listed once,
                                      * with its earliest revocation */
    apr_size_t nentries;
} ca_crl_spec_t;

/* the DER TBSCertList, in p */
apr_status_t ca_crl_tbs(const unsigned char **ptbs, apr_size_t *plen,
                        const ca_crl_spec_t *spec, apr_pool_t *p);
/* The same TBS kept up to date incrementally: a set of revocations held
 * sorted by serial with each revokedCertificates entry already encoded, so
 * a TBS is the header, one copy of the entries and crlExtensions (or a
 * SHA-256 over those three, without a copy).  Byte-identical to ca_crl_tbs
 * over the same entries.  The big arrays are malloc'ed and freed with the
 * pool given to ca_crl_set_make (or by ca_crl_set_clear). */
typedef struct ca_crl_set_t ca_crl_set_t;
apr_status_t ca_crl_set_make(ca_crl_set_t **pset, apr_pool_t *p);
/* entries checked and queued (cheap); a serial given twice is kept once,
 * with its earliest revocation, as ca_crl_tbs does */
apr_status_t ca_crl_set_add(ca_crl_set_t *set, const ca_crl_entry_t *entries, apr_size_t n);
/* merge what was added: O(k log k + n); done by _tbs/_sha256 as well */
apr_status_t ca_crl_set_merge(ca_crl_set_t *set);
/* the merged entries */
apr_size_t ca_crl_set_count(const ca_crl_set_t *set);
/* empty the set (memory freed) */
void ca_crl_set_clear(ca_crl_set_t *set);
/* the TBS for spec (spec->entries unused) in p */
apr_status_t ca_crl_set_tbs(const unsigned char **ptbs, apr_size_t *plen,
                            ca_crl_set_t *set, const ca_crl_spec_t *spec, apr_pool_t *p);
/* the same into a buffer the caller keeps from one TBS to the next, so a
 * big CRL is not a fresh allocation each time: *pbuf (malloc'ed, *pcap
 * bytes; NULL and 0 at first) is replaced by a bigger one when the TBS
 * does not fit, the old one freed; the caller frees the last one */
apr_status_t ca_crl_set_tbs_into(const unsigned char **ptbs, apr_size_t *plen,
                                 unsigned char **pbuf, apr_size_t *pcap, ca_crl_set_t *set,
                                 const ca_crl_spec_t *spec, apr_pool_t *p);
/* its SHA-256 and length (plen may be NULL) */
apr_status_t ca_crl_set_sha256(unsigned char sha[32], apr_size_t *plen, ca_crl_set_t *set,
                               const ca_crl_spec_t *spec, apr_pool_t *p);

/* in one pass over the set's parts, without a copy of the TBS: its
 * SHA-256 (to compare with the link's) and its digest with spec->md
 * (dgst: EVP_MAX_MD_SIZE bytes, *pdlen set; the SHA-256 again for
 * sha256), for ca_crl_sign_digest */
apr_status_t ca_crl_set_digests(unsigned char sha[32], unsigned char *dgst,
                                unsigned int *pdlen, ca_crl_set_t *set,
                                const ca_crl_spec_t *spec, apr_pool_t *p);
/* the same in steps, so that a caller can do other work between them
 * (signerd answers other requests while it hashes a CRL of a million
 * entries): begin merges and frames the set for spec; each step takes up
 * to max bytes more (1 when all are in, 0 when some are left, -1 on
 * failure); end gives the two digests.  Between begin and end the set must
 * not be merged (ca_crl_set_add is fine: it only queues) nor cleared.  The
 * digest contexts go with p. */
typedef struct ca_crl_digest_t ca_crl_digest_t;
apr_status_t ca_crl_digest_begin(ca_crl_digest_t **pd, ca_crl_set_t *set,
                                 const ca_crl_spec_t *spec, apr_pool_t *p);
int ca_crl_digest_step(ca_crl_digest_t *d, apr_size_t max);
apr_size_t ca_crl_digest_left(const ca_crl_digest_t *d);
apr_status_t ca_crl_digest_end(unsigned char sha[32], unsigned char *dgst,
                               unsigned int *pdlen, ca_crl_digest_t *d);

/* sign a TBS with the issuer's key: the signature bytes, in p (its digest
 * with md, signed by ca_crl_sign_digest) */
apr_status_t ca_crl_sign_tbs(const unsigned char **psig, apr_size_t *psiglen,
                             const unsigned char *tbs, apr_size_t tbslen,
                             EVP_PKEY *issuer_key, const char *md, apr_pool_t *p);
/* the same signature from the TBS's digest with md (dlen its size):
 * PKCS#1 v1.5 for RSA keys (byte for byte what OpenSSL's EVP_DigestSign
 * makes over the TBS), ECDSA for EC keys; the TBS is not hashed again */
apr_status_t ca_crl_sign_digest(const unsigned char **psig, apr_size_t *psiglen,
                                const unsigned char *dgst, apr_size_t dlen,
                                EVP_PKEY *issuer_key, const char *md, apr_pool_t *p);
/* the complete DER CRL from a TBS and its signature, in p.  issuer_key may
 * be the public key only: the signature is verified over the TBS first, and
 * APR_EINVAL is returned when it does not verify or when the TBS was built
 * for another key type or hash. */
apr_status_t ca_crl_assemble(const unsigned char **pcrl, apr_size_t *plen,
                             const unsigned char *tbs, apr_size_t tbslen,
                             const unsigned char *sig, apr_size_t siglen,
                             EVP_PKEY *issuer_key, const char *md, apr_pool_t *p);
/* the same, with the TBS's md hash (dgst, dlen bytes) already made by the
 * caller: the signature is verified over that digest, the TBS is not
 * hashed again.  A digest of the wrong size does not verify.  With pcrl
 * NULL only the signature is checked (nothing is assembled). */
apr_status_t ca_crl_assemble_digest(const unsigned char **pcrl, apr_size_t *plen,
                                    const unsigned char *tbs, apr_size_t tbslen,
                                    const unsigned char *dgst, apr_size_t dlen,
                                    const unsigned char *sig, apr_size_t siglen,
                                    EVP_PKEY *issuer_key, const char *md, apr_pool_t *p);
/* the signed CRL of set for spec, checked against the signature sig with
 * spec->issuer's key: the TBS's digests in one pass over the set (no copy
 * of it), then the CRL written once, into a buffer of malloc the caller
 * frees (free()): what a server that keeps the newest CRL of a million
 * entries needs, one copy of 42 MB.  APR_EINVAL (logged) when the
 * signature does not verify or does not fit the key and hash. */
apr_status_t ca_crl_set_signed(unsigned char **pcrl, apr_size_t *plen, ca_crl_set_t *set,
                               const ca_crl_spec_t *spec, const unsigned char *sig,
                               apr_size_t siglen, apr_pool_t *p);

#endif
