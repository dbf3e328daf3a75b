/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* ACME (RFC 8555) for members' domains (docs/acme.md): the whole protocol,
 * from a request's method, path and body to the response, with no httpd
 * header; mod_cacert_issue only reads the request and writes what comes
 * back.
 *
 * An ACME account is bound to a member by external account binding
 * credentials the member created on the ACME page.  An order may only name
 * hosts within the member's claimed domains; each name is authorised by its
 * domain's standing verification or by a challenge (http-01 = the HTTP
 * file check, dns-01 = the DNS TXT check, through the domain probes), and
 * finalize goes through ca_issue_submit like the web form: the member's
 * points decide the root, the validity, wildcards and how many names.
 *
 * All state (nonces, accounts, orders, authorisations) is in PostgreSQL,
 * so any frontend can take any request. */
#ifndef CA_ACME_H
#define CA_ACME_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "ca_db.h"
#include "ca_probe.h"
#include "ca_submit.h"

extern const ca_stmt_t ca_acme_stmts[];

/* the operator's settings (the CAcertACME* directives) */
typedef struct {
    const char *base;                   /* the ACME URLs' prefix as clients see it,
                                         * e.g. "https://ca.example/acme" (no "/" at
                                         * the end) */
    const char *website;                /* the directory's meta.website, or NULL */
    apr_interval_time_t nonce_lifetime;
    apr_interval_time_t order_lifetime; /* pending orders and their authorisations */
    apr_interval_time_t window;         /* of the limits below */
    int orders_per_account, orders_per_member;
    int failed_per_account, failed_per_member;  /* failed authorisations */
    apr_size_t max_body;                /* a request's JWS, in bytes */
    /* domain control's probes, with their private-address rules, limits
     * and deadlines: dns 1, the TXT records of owner; 0, the file at path
     * on owner's web server (http-01's port) */
    apr_status_t (*probe)(ca_probe_result_t *res, int dns, const char *owner,
                          const char *path, const char *expect, void *baton, apr_pool_t *p);
    void *probe_baton;
    const ca_submit_cfg_t *submit;      /* issuance (validity, domain rules, weak keys) */
    /* the PEM of the CAs above a certificate of root (the issuer first),
     * or NULL if unknown */
    const char *(*chain)(const char *root, void *baton);
    void *chain_baton;
    /* the text of a message key (templates' messages.txt) for a problem's
     * detail, or NULL (the key is sent) */
    const char *(*text)(const char *key, void *baton);
    void *text_baton;
    /* the domain probes' own limits (CAcertDomainProbeLimit) */
    int probe_per_account, probe_per_domain;
    apr_interval_time_t probe_window;
} ca_acme_cfg_t;

/* what goes back */
typedef struct {
    int status;                         /* HTTP status */
    const char *content_type;           /* NULL: no body */
    const char *body;
    apr_size_t len;
    const char *location;               /* Location, or NULL */
    const char *link;                   /* a Link besides rel="index", or NULL */
    int retry_after;                    /* seconds; 0: no Retry-After */
    const char *nonce;                  /* Replay-Nonce, or NULL */
    int no_store;                       /* Cache-Control: no-store */
} ca_acme_resp_t;

/* One ACME request: method ("GET", "HEAD", "POST"), the path below cfg->base
 * ("/directory", "/new-order", ...), the Content-Type (a POST must be
 * application/jose+json), the body (NULL with len over cfg->max_body: it
 * was larger than that and not read).  *resp is always filled:
 * errors are problem documents with the ACME error type; the return value
 * is not APR_SUCCESS only when storage failed (then *resp is a
 * serverInternal problem). */
apr_status_t ca_acme_handle(ca_acme_resp_t *resp, ca_db_t *db, const ca_acme_cfg_t *cfg,
                            const char *method, const char *path, const char *ctype,
                            const char *body, apr_size_t len, apr_pool_t *p);

/* ---- the member's ACME page ---- */

/* new external account binding credentials for member_id, valid for
 * lifetime: *pkid and *phmac (base64url, 32 random bytes) are shown once.
 * Audited. */
apr_status_t ca_acme_eab_create(const char **pkid, const char **phmac, ca_db_t *db,
                                const char *member_id, apr_interval_time_t lifetime,
                                apr_pool_t *p);

typedef struct {
    const char *id, *thumbprint, *contact, *status, *created, *kid;
    int orders;
    int is_valid;                       /* status "valid" */
} ca_acme_account_t;

typedef struct {
    const char *kid, *created, *expires, *used;
    int expired;
} ca_acme_eab_t;

/* the ACME accounts bound to member_id (ca_acme_account_t), newest first,
 * and the credentials not used yet (ca_acme_eab_t) */
apr_status_t ca_acme_accounts(apr_array_header_t **paccounts, apr_array_header_t **pcreds,
                              ca_db_t *db, const char *member_id, apr_pool_t *p);
/* the member deactivates one of their ACME accounts; APR_NOTFOUND if it is
 * not theirs or not valid.  Audited. */
apr_status_t ca_acme_deactivate(ca_db_t *db, const char *member_id, const char *account_id,
                                apr_pool_t *p);

/* expired nonces, unused credentials and pending orders gone (orders:
 * status invalid); *pn how many rows changed */
apr_status_t ca_acme_cleanup(int *pn, ca_db_t *db, apr_pool_t *p);

#endif
