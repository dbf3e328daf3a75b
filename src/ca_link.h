/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The web side of the signer line (docs/issuance.md, docs/signer-protocol.md):
 * the device opened, HELLO until signerd answers, the queue of open
 * requests worked off in order -- each sent, resent on a damaged frame or
 * a silence, its answer stored in the transaction that closes it -- a
 * request signerd refuses quarantined, heartbeats while there is nothing
 * to do, and a CRL for every issuing CA at least every crl_interval.
 *
 * No httpd here: the host (mod_cacert_issue's watchdog, or a test) owns
 * the database connection and gives what only it knows through the
 * callbacks of ca_link_cfg_t. */
#ifndef CA_LINK_H
#define CA_LINK_H

#include <apr_pools.h>
#include <apr_time.h>
#include <stdint.h>
#include <openssl/x509.h>

#include "ca_db.h"

typedef struct {
    const char *device;
    long baud;                          /* 0: 115200 */
    apr_interval_time_t timeout;        /* for an answer; 0: 5 s */
    apr_interval_time_t heartbeat;      /* after this much silence; 0: 10 s */
    apr_interval_time_t crl_interval;   /* 0: 1 h */
    apr_interval_time_t crl_validity;   /* 0: 1 day */
    const char *crl_md;                 /* NULL: sha256 */
    const char *const *cas;             /* the issuing CAs, NULL-terminated */

    void *baton;
    /* the certificate of an issuing CA, NULL when it is not configured */
    X509 *(*issuer)(void *baton, const char *ca, apr_pool_t *p);
    /* store the answer to an OpenPGP request: APR_SUCCESS or it is asked
     * again; NULL: such requests are quarantined */
    apr_status_t (*pgp_answer)(void *baton, ca_db_t *db, const char *req_id,
                               const unsigned char *answer, apr_size_t len, apr_pool_t *p);
    /* a certificate was stored (for the member's mail); may be NULL */
    void (*issued)(void *baton, ca_db_t *db, const char *req_id, apr_pool_t *p);
    /* a revocation was stored (for cached OCSP answers); may be NULL */
    void (*revoked)(void *baton, ca_db_t *db, const char *cert_id, apr_pool_t *p);
    /* 1 when the host is going away: the link stops between requests */
    int (*stopping)(void *baton);
    /* a database connection for the thread that stores signed CRLs
     * (*phandle for store_db_close), called in that thread; NULL: the link
     * stores them itself */
    apr_status_t (*store_db)(void *baton, ca_db_t *db, void **phandle, apr_pool_t *p);
    void (*store_db_close)(void *baton, void *handle);
} ca_link_cfg_t;

typedef struct ca_link_t ca_link_t;

/* the link, closed; cfg and pool outlive it */
ca_link_t *ca_link_make(const ca_link_cfg_t *cfg, apr_pool_t *pool);

/* Open the device if it is closed (at most one try a second) and say
 * HELLO until signerd answers.  1 when requests may go. */
int ca_link_ready(ca_link_t *l, apr_pool_t *p);

/* Work for up to budget: CRLs queued when due, then the open requests in
 * order, a heartbeat when the queue is empty and the line was silent.  1
 * when it worked the whole budget (the caller may call again at once), 0
 * when it stopped before: the line or the database failed, or the link
 * stops. */
int ca_link_work(ca_link_t *l, ca_db_t *db, apr_interval_time_t budget, apr_pool_t *p);

/* A heartbeat when the line has been silent for cfg->heartbeat, for a host
 * that cannot work off the queue (its database is away): signerd's
 * dead-man switch means "the web side is gone", not "the database is
 * slow".  Nothing when signerd has not answered HELLO. */
void ca_link_keepalive(ca_link_t *l, apr_pool_t *p);

void ca_link_close(ca_link_t *l);

/* The CRL store thread (cfg->store_db): a signed CRL is checked and
 * stored there (its fields and signature), on a connection of its own, while the link goes on
 * with the line.  Stops it for good: waits for the CRL under way (its
 * request stays open if it is not committed), takes no more.  From any
 * thread, any number of times; before the database connections go. */
void ca_link_store_stop(ca_link_t *l);

/* Drop what the link holds of the CAs' revocations for CRLs (read again
 * from the database when next needed); when the link's thread ends. */
void ca_link_forget(ca_link_t *l);

/* One exchange on an open link (what ca_link_work does for each request,
 * the heartbeat and HELLO): the frame sent, and sent again -- same bytes,
 * same id -- on a damaged frame either way or after timeout of silence, up
 * to tries times.  Frames that are not the answer (a late answer to an
 * earlier send) are passed over. */
typedef enum {
    CA_LINK_ANSWER,         /* *panswer: the payload of want for id */
    CA_LINK_STOP,           /* signerd stopped on this request: *preason */
    CA_LINK_FAILED          /* no answer, a write or read failed, or signerd
                             * stopped on another request */
} ca_link_outcome_t;

ca_link_outcome_t ca_link_exchange(ca_link_t *l, uint8_t type, uint8_t want, uint64_t id,
                                   const unsigned char *payload, apr_size_t len,
                                   const unsigned char **panswer, apr_size_t *palen,
                                   const char **preason, int tries, apr_pool_t *p);

#endif
