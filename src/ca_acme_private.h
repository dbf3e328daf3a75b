/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* What the files of ACME share: the protocol (ca_acme.c), the orders and
 * their authorisations (ca_acme_order.c) and the storage (ca_acme_db.c). */
#ifndef CA_ACME_PRIVATE_H
#define CA_ACME_PRIVATE_H

#include <jansson.h>

#include "ca_acme.h"
#include "ca_account.h"
#include "ca_jose.h"

/* an ACME account as stored */
typedef struct {
    const char *id, *member_id, *jwk, *status, *contact;
    int barred;                         /* the member is locked or deleted */
} acme_account_t;

/* one request in progress */
typedef struct {
    const ca_acme_cfg_t *cfg;
    ca_db_t *db;
    ca_acme_resp_t *resp;
    const char *url;                    /* the URL the request was sent to */
    ca_jws_t *jws;
    acme_account_t *acct;               /* kid requests */
    ca_jwk_t *key;                      /* the key that signed it */
    json_t *payload;                    /* NULL for POST-as-GET */
    apr_pool_t *p;
} acme_req_t;

/* ---- ca_acme.c ---- */

/* a problem document: type without "urn:ietf:params:acme:error:", HTTP
 * status, detail (a message key of templates' messages.txt, or text
 * already), arg appended after ": " when not NULL; always APR_SUCCESS */
apr_status_t acme_problem(acme_req_t *q, const char *type, int status, const char *detail,
                          const char *arg);
/* a JSON object as the answer (the reference is taken) */
apr_status_t acme_json(acme_req_t *q, int status, json_t *obj, const char *location);
/* base "/" path */
const char *acme_url(acme_req_t *q, const char *path);

/* ---- ca_acme_order.c ---- */

apr_status_t acme_new_order(acme_req_t *q);
apr_status_t acme_order(acme_req_t *q, const char *id);
apr_status_t acme_finalize(acme_req_t *q, const char *id);
apr_status_t acme_authz(acme_req_t *q, const char *id);
apr_status_t acme_challenge(acme_req_t *q, const char *id, const char *type);
apr_status_t acme_certificate(acme_req_t *q, const char *id);
apr_status_t acme_revoke(acme_req_t *q);

/* ---- ca_acme_db.c ---- */

/* an interval as whole seconds, for the statements' "%s::bigint" */
const char *acme_secs(apr_interval_time_t t, apr_pool_t *p);
apr_status_t acme_audit(ca_db_t *db, const char *member_id, const char *action,
                        const char *detail, apr_pool_t *p);
apr_status_t acme_nonce_new(const char **pnonce, ca_db_t *db, apr_interval_time_t lifetime,
                            apr_pool_t *p);
/* *pok 1 if the nonce was issued, not expired and is now used */
apr_status_t acme_nonce_use(int *pok, ca_db_t *db, const char *nonce, apr_pool_t *p);
/* by "cacert_acme_acct_by_thumb" (a thumbprint) or "cacert_acme_acct_get"
 * (an id); APR_NOTFOUND */
apr_status_t acme_account_find(acme_account_t **pa, ca_db_t *db, const char *label,
                               const char *key, apr_pool_t *p);

#endif
