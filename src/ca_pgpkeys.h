/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* OpenPGP keys on the web side: uploaded keys, the pgpsign requests on the
 * durable signer queue, and the signed keys signerd returns. */
#ifndef CA_PGPKEYS_H
#define CA_PGPKEYS_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "ca_db.h"
#include "ca_openpgp.h"

extern const ca_stmt_t ca_pgpkeys_stmts[];

/* the fewest assurance points for OpenPGP signatures (CPS 1.4.5) */
#define CA_PGP_MIN_POINTS 50

typedef struct {
    const char *id, *fingerprint, *algo, *created;
    const unsigned char *bin;       /* only from ca_pgpkeys_get */
    apr_size_t len;
    /* the newest signature, if any */
    const char *sig_id, *sig_uids, *sig_expires;
    int sig_expired;
    int pending;                    /* a request is queued or on the line */
} ca_pgpkey_t;

typedef struct {
    const char *id, *key_id, *uids, *expires, *created, *fingerprint;
    int expired;
    const unsigned char *bin;       /* the signed key, binary */
    apr_size_t len;
} ca_pgpsig_t;

/* keep an uploaded key (checked by ca_pgp_parse and gpg); *pkey_id */
apr_status_t ca_pgpkeys_store(const char **pkey_id, ca_db_t *db, const char *member_id,
                              const ca_pgp_key_t *key, apr_pool_t *p);
/* the member's keys, newest first, each with its newest signature */
apr_status_t ca_pgpkeys_list(apr_array_header_t **pkeys, ca_db_t *db,
                             const char *member_id, apr_pool_t *p);
/* one of the member's keys, with its bytes; APR_NOTFOUND */
apr_status_t ca_pgpkeys_get(ca_pgpkey_t **pkey, ca_db_t *db, const char *key_id,
                            const char *member_id, apr_pool_t *p);
/* the signatures of one key, newest first (without bytes) */
apr_status_t ca_pgpkeys_signatures(apr_array_header_t **psigs, ca_db_t *db,
                                   const char *key_id, apr_pool_t *p);
/* one signature with the signed key; APR_NOTFOUND if not the member's */
apr_status_t ca_pgpkeys_signature(ca_pgpsig_t **psig, ca_db_t *db, const char *sig_id,
                                  const char *member_id, apr_pool_t *p);

/* the payload of a PGPSIGN request: the key cut down to the chosen user
 * IDs (ca_pgp_filter), its fingerprint, the user IDs and the facts they
 * were approved against */
apr_status_t ca_pgpkeys_payload(const unsigned char **ppayload, apr_size_t *plen,
                                const ca_pgp_key_t *key, const apr_array_header_t *uids,
                                const apr_array_header_t *names,
                                const apr_array_header_t *emails, apr_pool_t *p);
/* queue a pgpsign request (committed before it goes on the line) */
apr_status_t ca_pgpkeys_enqueue(const char **preq_id, ca_db_t *db, const char *member_id,
                                const char *key_id, const ca_pgp_key_t *key,
                                const apr_array_header_t *uids,
                                const apr_array_header_t *names,
                                const apr_array_header_t *emails, apr_pool_t *p);

typedef struct {
    const char *id;
    const char *state;              /* queued, sent, done, quarantined or refused */
    const char *reason;             /* why signerd stopped on it, or NULL */
    const char *key_id;             /* the key to be signed */
    const char *sig_id;             /* the signature it brought back, or NULL */
} ca_pgpreq_t;

/* a member's pgpsign request; APR_NOTFOUND */
apr_status_t ca_pgpkeys_request(ca_pgpreq_t **preq, ca_db_t *db, const char *req_id,
                                const char *member_id, apr_pool_t *p);

/* signerd's PGPKEY answer to request req_id: the key must be the one
 * asked for and carry exactly one certification by ca_keyid on each chosen
 * user ID; stored with the request closed in one transaction.  APR_EINVAL
 * (with *pwhy) when the answer does not fit: the caller quarantines. */
apr_status_t ca_pgpkeys_answer(const char **pwhy, ca_db_t *db, const char *req_id,
                               const unsigned char *ca_keyid,
                               const unsigned char *answer, apr_size_t len, apr_pool_t *p);

typedef struct {
    const char *address, *language, *fingerprint, *uids, *expires, *sig_id, *key_id;
} ca_pgpmail_t;

/* where the mail about request req_id's signed key goes */
apr_status_t ca_pgpkeys_mailinfo(ca_pgpmail_t **pinfo, ca_db_t *db, const char *req_id,
                                 apr_pool_t *p);

#endif
