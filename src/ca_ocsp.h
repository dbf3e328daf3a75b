/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The RFC 6960 / RFC 5019 core of the OCSP responder: pure functions, no
 * database and no I/O (except reading the responder's PEM files at load).
 *
 * Flow of one request (the module does the HTTP, the database and the cache,
 * given to ca_ocsp_answer() as callbacks):
 *   ca_ocsp_get_decode()        GET form only: URL path part -> DER
 *   ca_ocsp_parse_request()     DER -> ids, nonce        (APR_EINVAL: malformed)
 *   ca_ocsp_answer()            the rules of answering: one responder for all
 *                               ids, the cached answer or every id's status
 *                               from the store, the signed answer and the
 *                               record to cache
 *   ca_ocsp_error_response()    or an unsigned error response
 * ca_ocsp_answer() is made of ca_ocsp_find() and ca_ocsp_sign_response().
 *
 * A loaded responder is read-only and may be shared by threads. */
#ifndef CA_OCSP_H
#define CA_OCSP_H

#include <time.h>

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* the hash algorithm of a CertID */
typedef enum {
    CA_OCSP_HASH_OTHER = 0,     /* unsupported: no responder ever matches */
    CA_OCSP_HASH_SHA1 = 1,
    CA_OCSP_HASH_SHA256 = 2
} ca_ocsp_hash_t;

/* certStatus of a SingleResponse */
typedef enum {
    CA_OCSP_GOOD = 0,
    CA_OCSP_REVOKED = 1,
    CA_OCSP_UNKNOWN = 2
} ca_ocsp_cert_status_t;

/* OCSPResponseStatus of an error response (RFC 6960 4.2.1) */
#define CA_OCSP_MALFORMED_REQUEST 1
#define CA_OCSP_INTERNAL_ERROR    2
#define CA_OCSP_TRY_LATER         3
#define CA_OCSP_SIG_REQUIRED      5
#define CA_OCSP_UNAUTHORIZED      6

typedef struct ca_ocsp_certid_t {
    ca_ocsp_hash_t alg;
    const unsigned char *name_hash;     /* issuerNameHash as received */
    apr_size_t name_hash_len;
    const unsigned char *key_hash;      /* issuerKeyHash as received */
    apr_size_t key_hash_len;
    /* serialNumber as lowercase hex of the INTEGER's magnitude as OpenSSL
     * holds it (ASN1_STRING_get0_data of the ASN1_INTEGER), i.e. exactly
     * what ca_issue.c stores in certificates.serial: DER content octets
     * without the sign-padding 00 (OpenSSL refuses non-minimal encodings);
     * zero is "00".  A negative serial gets a leading '-' so that it never
     * matches a stored one. */
    const char *serial;
    /* the CertID re-encoded in DER, echoed verbatim in the response
     * (NULL: the response builds it from the fields above) */
    const unsigned char *der;
    apr_size_t der_len;
} ca_ocsp_certid_t;

typedef struct ca_ocsp_request_t {
    apr_array_header_t *ids;            /* of ca_ocsp_certid_t, >= 1 */
    /* the id-pkix-ocsp-nonce extension's extnValue octets as received (for
     * an RFC 6960 client: DER OCTET STRING wrapping the nonce), NULL if none */
    const unsigned char *nonce;
    apr_size_t nonce_len;
    int is_signed;                      /* optionalSignature present (not checked) */
} ca_ocsp_request_t;

typedef struct ca_ocsp_single_t {
    ca_ocsp_certid_t id;                /* as received: echoed back */
    ca_ocsp_cert_status_t status;
    time_t revoked_at;                  /* REVOKED only */
    int reason;                         /* CRLReason 1..10 (not 7); 0: omitted */
    time_t this_update;
    time_t next_update;                 /* 0: omitted */
} ca_ocsp_single_t;

typedef struct ca_ocsp_responder_t {
    const char *name;
    X509 *issuer;                       /* the CA whose certificates are answered for */
    X509 *cert;                         /* the (delegated) responder certificate */
    EVP_PKEY *key;                      /* its private key, RSA or EC */
    unsigned char sha1_name[20], sha1_key[20];        /* issuerNameHash/KeyHash */
    unsigned char sha256_name[32], sha256_key[32];
    unsigned char key_id[20];           /* SHA-1 of the responder's public key */
    time_t not_after;                   /* of the responder certificate */
} ca_ocsp_responder_t;

/* Load one responder: the issuer CA certificate, the responder certificate
 * (issued by it with the OCSPSigning EKU, or the issuer itself) and the
 * responder's private key (unencrypted PEM; may be the certificate's file).
 * APR_EINVAL with a logged reason when they do not fit; file errors as
 * returned by APR.  OpenSSL objects are freed by a cleanup of p. */
apr_status_t ca_ocsp_responder_load(ca_ocsp_responder_t **pr, const char *name,
                                    const char *issuer_pem_file,
                                    const char *responder_pem_file,
                                    const char *responder_key_file, apr_pool_t *p);

/* The same in two steps, so that a server can read the files while it is
 * still root and make the OpenSSL objects in each child: the contents of
 * the three PEM files (file names kept for messages) ... */
typedef struct {
    const char *issuer_file, *cert_file, *key_file;
    const char *issuer, *cert, *key;
    apr_size_t issuer_len, cert_len, key_len;
} ca_ocsp_files_t;
apr_status_t ca_ocsp_responder_read(ca_ocsp_files_t *files, const char *issuer_pem_file,
                                    const char *responder_pem_file,
                                    const char *responder_key_file, apr_pool_t *p);
/* ... and the responder made from them (checks as ca_ocsp_responder_load) */
apr_status_t ca_ocsp_responder_parse(ca_ocsp_responder_t **pr, const char *name,
                                     const ca_ocsp_files_t *files, apr_pool_t *p);

/* Parse a DER OCSPRequest.  APR_EINVAL when malformed: not DER of an
 * OCSPRequest, trailing bytes, no id, more than max_ids ids (max_ids < 1
 * is refused too), a repeated nonce extension.  A signature is not checked. */
apr_status_t ca_ocsp_parse_request(ca_ocsp_request_t **preq, const unsigned char *der,
                                   apr_size_t len, int max_ids, apr_pool_t *p);

/* The responder (an array of ca_ocsp_responder_t *) whose issuer hashes
 * match the id's (by its hash algorithm), or NULL. */
ca_ocsp_responder_t *ca_ocsp_find(apr_array_header_t *responders,
                                  const ca_ocsp_certid_t *id);

/* A successful OCSPResponse with a BasicOCSPResponse: v1, responderID
 * byKey, producedAt, one SingleResponse per item (its CertID echoed), the
 * nonce extnValue echoed when nonce is not NULL, the responder certificate
 * in certs, signed with SHA-256 by the responder key.  The DER is in p. */
apr_status_t ca_ocsp_sign_response(const unsigned char **pder, apr_size_t *plen,
                                   const ca_ocsp_responder_t *r,
                                   const ca_ocsp_single_t *items, int nitems,
                                   const unsigned char *nonce, apr_size_t nonce_len,
                                   time_t produced_at, apr_pool_t *p);

/* An unsuccessful OCSPResponse (status 1, 2, 3, 5 or 6; else APR_EINVAL). */
apr_status_t ca_ocsp_error_response(const unsigned char **pder, apr_size_t *plen,
                                    int status, apr_pool_t *p);

/* The GET form (RFC 6960 A.1): path_part is the raw (not yet %-decoded)
 * URI remainder after the responder's prefix, without the query string,
 * with or without leading '/'s.  After %XX decoding (so '+', '/', '=' may
 * be literal or %2B %2F %3D, any case) it must be standard base64 of the
 * DER request ('=' padding may be missing, unused bits must be zero).
 * Anything else (spaces, '-', '_', bad %, ...) is APR_EINVAL.  The DER is
 * in p. */
apr_status_t ca_ocsp_get_decode(unsigned char **pder, apr_size_t *plen,
                                const char *path_part, apr_pool_t *p);

/* ---- answering ---- */

/* The status of one certificate as the store has it: *pstatus is
 * CA_CERT_GOOD, CA_CERT_REVOKED or CA_CERT_UNKNOWN (ca_issue.h), and for a
 * revoked one the time of revocation (seconds since the epoch) and its
 * CRLReason code as stored.  Anything but APR_SUCCESS: the store cannot
 * tell now (the answer is tryLater). */
typedef apr_status_t ca_ocsp_status_fn(int *pstatus, apr_int64_t *prevoked_at, int *preason,
                                       void *baton, const char *ca, const char *serial,
                                       apr_pool_t *p);
/* The record cached under key (made by ca_ocsp_answer), APR_NOTFOUND if
 * there is none.  The record must stay valid in p. */
typedef apr_status_t ca_ocsp_cached_fn(const unsigned char **prec, apr_size_t *plen,
                                       void *baton, const char *key, apr_pool_t *p);

typedef struct ca_ocsp_answerer_t {
    apr_array_header_t *responders;     /* of ca_ocsp_responder_t *; NULL: none */
    apr_interval_time_t validity;       /* nextUpdate - thisUpdate */
    int nonce;                          /* echo a request's nonce (such answers are
                                         * never cached) or ignore it (0) */
    ca_ocsp_status_fn *status;
    ca_ocsp_cached_fn *cached;          /* NULL: no cache is asked */
    void *baton;                        /* of both */
} ca_ocsp_answerer_t;

typedef struct ca_ocsp_answer_t {
    int error;                          /* 0, or the OCSP error status to send */
    const unsigned char *der;           /* the signed OCSPResponse (error: NULL) */
    apr_size_t len;
    const ca_ocsp_responder_t *responder;   /* who answers (NULL: unauthorized) */
    int nonce;                          /* the request's nonce is in der */
    int cached;                         /* der came from the cache */
    apr_time_t next_update;             /* of der */
    /* for the cache: an answer for one id without a nonce is kept under key
     * (else NULL); a freshly signed one comes with the record to store and
     * the time until which the cache may keep it (3/4 of its validity, so
     * that it is never served near its nextUpdate).  record is NULL when
     * the answer was cached, or the request is too long for a record. */
    const char *key;
    const unsigned char *record;
    apr_size_t record_len;
    apr_time_t expiry;
} ca_ocsp_answer_t;

/* Answer a parsed request (req_der: its DER, kept in the cache record so
 * that the answer can be signed anew).  Rules: one responder answers for
 * every id of a request, or the answer is unauthorized; a cacheable answer
 * (one id, no nonce echoed) is taken from the cache when a->cached has a
 * record for it; otherwise every id's status is asked of a->status (the
 * first failure: tryLater), mapped to its OCSP certStatus (a CRLReason the
 * protocol cannot carry is left out) and the answer signed (thisUpdate and
 * producedAt now, nextUpdate now + validity; a failure: internalError).
 * APR_SUCCESS with ans->der, or ans->error set and a status saying why. */
apr_status_t ca_ocsp_answer(ca_ocsp_answer_t *ans, const ca_ocsp_answerer_t *a,
                            const ca_ocsp_request_t *req, const unsigned char *req_der,
                            apr_size_t req_len, apr_time_t now, apr_pool_t *p);

/* The cache key of the answer for one certificate of CA ca asked with hash
 * alg: "<h><ca>|<alg>|<serial>", where <h> is one byte 1..255 hashed from
 * the rest: shmcb picks its sub-cache by the first byte masked to its
 * number of sub-caches (up to 256), so the answers spread over all of
 * them.  (A byte 0x40..0x7f reached only 64 of 256 sub-caches: a quarter
 * of a large cache, measured as 39% misses with 300,000 answers.)  A revocation forgets both algs.
 * A rest longer than CA_OCSP_KEY_REST_MAX bytes (a serial of a request:
 * any length a client likes; or a long CA name) is "#" and the hex SHA-256
 * of it, so that no key, with "|revoked" or "|notice" after it, is longer
 * than 119 bytes: what mod_socache_memcache takes (its memcached key is
 * "cacert-ocsp:" and the id in hex, at most 250 bytes).  A longer one made
 * memcached refuse the command, and apr_memcache then took the server out
 * of use: one such request turned the shared cache off. */
#define CA_OCSP_KEY_REST_MAX 110
const char *ca_ocsp_cache_key(const char *ca, ca_ocsp_hash_t alg, const char *serial,
                              apr_pool_t *p);

/* A cache record: nextUpdate (8 bytes, apr_time_t in host order), the
 * length of the request (2 bytes, big-endian), the DER request and the DER
 * answer.  Parsed: pointers into rec; APR_EINVAL when it is not one (too
 * short, no answer after the request). */
apr_status_t ca_ocsp_record_parse(const unsigned char **pder, apr_size_t *plen,
                                  apr_time_t *pnext_update, const unsigned char **preq,
                                  apr_size_t *preq_len, const unsigned char *rec,
                                  apr_size_t rec_len);

#endif
