/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Certificate issuance on the web side: the durable signer queue, the
 * certificates the members hold, revocations and CRLs.  The signer link
 * (mod_cacert_issue) is the only one that takes requests off the queue. */
#ifndef CA_ISSUE_H
#define CA_ISSUE_H

#include <apr_pools.h>
#include <stdint.h>

#include <apr_tables.h>
#include <apr_time.h>
#include <openssl/x509.h>

#include "ca_db.h"
#include "ca_csr.h"
#include "ca_domain.h"
#include "ca_policy.h"
#include "ca_x509.h"
#include "ca_listcache.h"

extern const ca_stmt_t ca_issue_stmts[];

/* verified addresses of a member and the domains that domain control
 * counts as verified for server certificates under root (NULL: "member")
 * with the rules of dcfg (NULL: the defaults); the name is set by the caller */
apr_status_t ca_issue_facts_for(ca_member_facts_t *f, ca_db_t *db, const char *member_id,
                                const char *root, const ca_domain_cfg_t *dcfg, apr_pool_t *p);
/* the same for the Member SubRoot with the default rules */
apr_status_t ca_issue_facts(ca_member_facts_t *f, ca_db_t *db, const char *member_id,
                            apr_pool_t *p);


typedef struct {
    const char *id, *kind, *ca, *state, *reason, *cert_id;
} ca_request_t;

/* a member's request; APR_NOTFOUND if it is not theirs */
apr_status_t ca_issue_request(ca_request_t **preq, ca_db_t *db, const char *req_id,
                              const char *member_id, apr_pool_t *p);

typedef struct {
    const char *id, *ca, *profile, *serial, *subject, *sans, *md;
    const char *not_before, *not_after, *created, *revoked_at, *description;
    int login_disabled;
    const char *status;             /* "active", "expired", "revoked", "revoking" */
    apr_int64_t not_after_sec;      /* only from ca_issue_certs */
    const unsigned char *der;       /* only from ca_issue_cert */
    apr_size_t der_len;
    const unsigned char *csr_der;
    apr_size_t csr_len;
} ca_cert_t;

/* a member's certificates, newest first (ca_cert_t); kept in cache (may be
 * NULL) while the member's lists do not change; version as for
 * ca_account_list */
apr_status_t ca_issue_certs(apr_array_header_t **pcerts, ca_listcache_t *cache, ca_db_t *db,
                            const char *member_id, const char *version, apr_pool_t *p);
/* the certificates revoked in the last ago (rows with "ca", "serial",
 * "revoked_at" in seconds since the epoch and "reason"): what an OCSP cache
 * catches up on after it may have missed notifications */
apr_status_t ca_issue_revoked_since(apr_array_header_t **prows, ca_db_t *db,
                                    apr_interval_time_t ago, apr_pool_t *p);
/* one certificate with its DER; member_id NULL for support; APR_NOTFOUND */
apr_status_t ca_issue_cert(ca_cert_t **pcert, ca_db_t *db, const char *cert_id,
                           const char *member_id, apr_pool_t *p);

/* the member's own notes on a certificate, and whether it may log them in;
 * APR_NOTFOUND if the certificate is not theirs, APR_EINVAL if the
 * description breaks ca_issue_description's rule */
apr_status_t ca_issue_settings(ca_db_t *db, const char *cert_id, const char *member_id,
                               const char *description, int login_disabled, apr_pool_t *p);

/* queue a revocation: APR_NOTFOUND if the certificate is not the member's
 * (member_id NULL: support/arbitration may revoke any), APR_EEXIST if it
 * is revoked or its revocation is under way already */
apr_status_t ca_issue_enqueue_revoke(const char **preq_id, ca_db_t *db,
                                     const char *cert_id, const char *member_id,
                                     int reason, const char *revoked_by, apr_pool_t *p);
/* the same inside the caller's transaction (support revoking all of a
 * member's certificates in one transaction); nothing is rolled back here */
apr_status_t ca_issue_revoke_in_tx(const char **preq_id, ca_db_t *db,
                                   const char *cert_id, const char *member_id,
                                   int reason, const char *revoked_by, apr_pool_t *p);
/* queue a CRL for ca (after a revocation, and at least hourly) */
apr_status_t ca_issue_enqueue_crl(ca_db_t *db, const char *ca, apr_pool_t *p);

/* ---- the signer link ---- */
typedef struct {
    const char *id, *kind, *ca, *state, *cert_id;
    const unsigned char *payload;
    apr_size_t len;
} ca_queued_t;

/* the oldest open request (queued or sent); APR_NOTFOUND when idle.
 * crl_later: CAs (comma-separated, or "" / NULL) whose queued CRLs wait --
 * the link has not loaded their revocations yet -- while the rest goes on;
 * crl_held: no CRL request at all (one is being stored).  A certificate or
 * a revocation goes before a CRL queued less than 2 s ago. */
apr_status_t ca_issue_next(ca_queued_t **pq, ca_db_t *db, const char *crl_later,
                           int crl_held, apr_pool_t *p);
apr_status_t ca_issue_mark_sent(ca_db_t *db, const char *id, apr_pool_t *p);
/* store the payload of a CRL request, built when it is first sent */
apr_status_t ca_issue_set_payload(ca_db_t *db, const char *id, const unsigned char *payload,
                                  apr_size_t len, apr_pool_t *p);
/* the answers: each stores what it says and closes the request in one
 * transaction */
apr_status_t ca_issue_answer_cert(ca_db_t *db, const ca_queued_t *q,
                                  const unsigned char *answer, apr_size_t len,
                                  apr_pool_t *p);
apr_status_t ca_issue_answer_revoked(ca_db_t *db, const ca_queued_t *q,
                                     const unsigned char *answer, apr_size_t len,
                                     apr_pool_t *p);
/* bring set up to date with ca's revocations numbered above *pseq
 * (certificates.revoked_seq) and up to upto (< 0: all), at most limit of
 * them: *pgot read, *pseq the last number seen.  From *pseq = 0 in steps
 * of limit it is the first load, spread over the link's rounds. */
apr_status_t ca_issue_crl_sync(apr_size_t *pgot, apr_int64_t *pseq, ca_crl_set_t *set,
                               ca_db_t *db, const char *ca, apr_int64_t upto, int limit,
                               apr_pool_t *p);
/* build the CRL request payload for ca: this CRL number (the request id,
 * so numbers only grow), now, now + validity, and the SHA-256 of the TBS
 * over set (the revocations the web side holds, kept up to date) */
apr_status_t ca_issue_crl_request(const unsigned char **ppayload, apr_size_t *plen,
                                  ca_crl_set_t *set, const char *ca, uint64_t crl_number,
                                  X509 *issuer, const char *md,
                                  apr_interval_time_t validity, apr_pool_t *p);
/* that payload: ca, the parameters of spec and the SHA-256 of its TBS */
void ca_issue_crl_payload(const unsigned char **ppayload, apr_size_t *plen, const char *ca,
                          const ca_crl_spec_t *spec, const unsigned char sha[32],
                          apr_pool_t *p);
/* a CRL_SIG answer: the TBS from set and the request's parameters, check
 * it is the one signed, and store the CRL: its fields, the signature and
 * upto, the last revoked_seq read into set (migration 025: the body is
 * built again by whoever serves it, ca_issue_latest_crl).  APR_EMISMATCH if the
 * signer's journal and the database disagree, the revocations changed
 * since the request, or the signature does not verify (nothing is
 * published; the request is refused). */
apr_status_t ca_issue_answer_crl(ca_db_t *db, const ca_queued_t *q, X509 *issuer,
                                 ca_crl_set_t *set, apr_int64_t upto,
                                 const unsigned char *answer, apr_size_t len, apr_pool_t *p);
/* ca_issue_answer_crl in two steps, for a link that stores CRLs in a
 * thread of its own: the TBS the answer must have signed, copied from set
 * as it is now (with q's id, CA and parameters, in p; issuer must live as
 * long as p), then the checks and the storage, in any thread, on any
 * connection.  The request stays open until ca_issue_store_crl commits.
 * The copy goes into p, or with pbuf into a buffer the caller keeps for
 * the next one (ca_crl_set_tbs_into): the snapshot needs it unchanged
 * until ca_issue_store_crl returns. */
typedef struct ca_crl_snap_t ca_crl_snap_t;
apr_status_t ca_issue_crl_snapshot(ca_crl_snap_t **psnap, const ca_queued_t *q, X509 *issuer,
                                   ca_crl_set_t *set, apr_int64_t upto, unsigned char **pbuf,
                                   apr_size_t *pcap, apr_pool_t *p);
/* a new CRL request in two steps, for a link that hashes off its line:
 * the TBS copied from set as it is now (ca_crl_set_tbs_into; CRL number
 * id, now, now + validity), then, in any thread, its SHA-256 and the
 * request's payload (ca_issue_crl_request's, from the copy).  The snapshot
 * then serves ca_issue_store_crl for the answer to that payload. */
apr_status_t ca_issue_crl_prepare(ca_crl_snap_t **psnap, const char *id, const char *ca,
                                  X509 *issuer, const char *md,
                                  apr_interval_time_t validity, ca_crl_set_t *set,
                                  apr_int64_t upto, unsigned char **pbuf, apr_size_t *pcap,
                                  apr_pool_t *p);
void ca_issue_crl_finish(const unsigned char **ppayload, apr_size_t *plen,
                         ca_crl_snap_t *snap, apr_pool_t *p);
apr_status_t ca_issue_store_crl(ca_db_t *db, ca_crl_snap_t *snap,
                                const unsigned char *answer, apr_size_t len, apr_pool_t *p);
/* signerd stopped on this request: it is set aside, the rest flows */
apr_status_t ca_issue_quarantine(ca_db_t *db, const char *id, const char *reason,
                                 apr_pool_t *p);
/* What a server keeps of a CA's revocations to build its CRLs again: the
 * database holds a CRL's fields and signature, not its 42 MB body
 * (migration 025).  One per CA, made in a pool that lives as long as it is
 * used (its big arrays go with it); not for two threads at once. */
typedef struct ca_crl_rebuild_t ca_crl_rebuild_t;
apr_status_t ca_crl_rebuild_make(ca_crl_rebuild_t **prb, apr_pool_t *p);
/* the newest CRL of ca (DER, in a buffer of malloc the caller frees with
 * free(): it is 42 MB at a million entries, written once) and its number;
 * APR_NOTFOUND.  Its body is built from rb, brought up to the revocations
 * it lists (the first time all of them: seconds at a million), and given
 * only if the signature verifies with issuer's key: APR_EMISMATCH (logged)
 * if it does not.  A CRL stored before migration 025 is read whole from
 * the database. */
apr_status_t ca_issue_latest_crl(unsigned char **pder, apr_size_t *plen,
                                 apr_int64_t *pnumber, ca_crl_rebuild_t *rb, X509 *issuer,
                                 ca_db_t *db, const char *ca, apr_pool_t *p);
/* only the number of the newest CRL of ca (no body is read); APR_NOTFOUND */
apr_status_t ca_issue_latest_crl_number(apr_int64_t *pnumber, ca_db_t *db, const char *ca,
                                        apr_pool_t *p);

/* the status of a certificate for OCSP: unknown for serials the CA never
 * issued (0 for CA_CERT_UNKNOWN...) */
enum { CA_CERT_GOOD = 0, CA_CERT_REVOKED = 1, CA_CERT_UNKNOWN = 2 };
apr_status_t ca_issue_status(int *pstatus, apr_int64_t *prevoked_at, int *preason,
                             ca_db_t *db, const char *ca, const char *serial_hex,
                             apr_pool_t *p);

/* Reading from a hot standby.  The primary's WAL position now (call on the
 * primary): every transaction committed so far lies before it, as text
 * ("0/3000148").  Then on any server: *preplayed is 1 when it has replayed
 * the WAL up to lsn, or is not a standby; 0 while it lags behind. */
apr_status_t ca_issue_wal_lsn(const char **plsn, ca_db_t *db, apr_pool_t *p);
apr_status_t ca_issue_replayed(int *preplayed, ca_db_t *db, const char *lsn, apr_pool_t *p);

/* what a mail about a certificate needs */
typedef struct {
    const char *address, *language, *cert_id, *serial, *subject, *not_after;
    const char *days;               /* expiry warnings: the threshold crossed */
} ca_mailinfo_t;

/* the certificate a sign request produced, and where to mail it */
apr_status_t ca_issue_mailinfo(ca_mailinfo_t **pinfo, ca_db_t *db, const char *req_id,
                               apr_pool_t *p);
/* certificates that crossed one of the warning thresholds (days, e.g.
 * "45,30,15,1") and were not warned for it or a smaller one; at most 100 */
apr_status_t ca_issue_expiring(apr_array_header_t **pdue, ca_db_t *db, const char *days,
                               apr_pool_t *p);
/* record a warning as sent */
apr_status_t ca_issue_warned(ca_db_t *db, const ca_mailinfo_t *m, apr_pool_t *p);

#endif
