/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The one way into issuance: a member's request for a certificate -- new,
 * a renewal, or an organisation's -- decided and queued for the signer in
 * one transaction.  The web form calls it; every later way in (ACME,
 * browser-made keys, a command-line tool) calls it too, so that the CA's
 * rules live here once: the CSR, the member's standing and what it grants
 * (root, validity, names), the verified addresses and domains, the
 * key-reuse rule, the description, the O-Admin's rights. */
#ifndef CA_SUBMIT_H
#define CA_SUBMIT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "ca_csr.h"
#include "ca_db.h"
#include "ca_domain.h"
#include "ca_policy.h"

extern const ca_stmt_t ca_submit_stmts[];

/* the longest description a certificate carries, in characters */
#define CA_ISSUE_DESCRIPTION_MAX 100

typedef enum {
    CA_SUBMIT_NEW = 0,      /* a member's client, server or code-signing certificate */
    CA_SUBMIT_RENEW,        /* the same names and key as a certificate of theirs */
    CA_SUBMIT_ORG           /* an O-Admin's organisation certificate */
} ca_submit_kind_t;

/* the operator's settings; zeroes are the defaults */
typedef struct {
    ca_policy_cfg_t policy;             /* days 0: CA_DAYS_MEMBER / CA_DAYS_ASSURED */
    const ca_domain_cfg_t *domains;     /* domain control's rules per root; NULL: defaults */
    const ca_weakkeys_t *weak;          /* known weak RSA keys, or NULL */
} ca_submit_cfg_t;

/* what was asked */
typedef struct {
    ca_submit_kind_t kind;
    const char *csr;                    /* NEW, ORG: PEM or DER as sent */
    apr_size_t csr_len;
    ca_profile_t profile;               /* NEW, ORG */
    const char *md;                     /* NEW, ORG: "" or NULL for sha256 */
    int use_name;                       /* NEW: the member's Name in the CN */
    const apr_array_header_t *picks;    /* NEW: indices (int) into the member's verified
                                         * addresses, primary first */
    const apr_array_header_t *emails;   /* ORG: addresses (const char *) */
    const apr_array_header_t *hosts;    /* NEW, ORG: host names (const char *) */
    const char *description;            /* NEW */
    const char *cert_id;                /* RENEW: the certificate renewed */
    const char *org_id;                 /* ORG */
    const char *unit, *cn;              /* ORG: OU, and a client certificate's CN */
    /* NEW, ACME: host names ("*." left off) whose control an ACME challenge
     * of this order has just proven, each enough for the root by the
     * caller's rule (ca_acme.c): counted as verified for this request only */
    const apr_array_header_t *proven;
    /* called inside the transaction once the request is queued (ACME links
     * its order to req_id); an error rolls everything back */
    apr_status_t (*queued)(ca_db_t *db, const char *req_id, void *baton, apr_pool_t *p);
    void *queued_baton;
} ca_submit_t;

/* why a request was refused: the form field it concerns ("csr", "profile",
 * "emails", "hosts", "md", "description"; NULL: the request as a whole)
 * and the message key */
typedef struct {
    const char *field;
    const char *key;
    /* "policy.host.morechecks": the member's domain that has passed a
     * check, just not as many as this root needs */
    const char *domain_id, *domain_name;
} ca_refusal_t;

/* The request decided and queued in one transaction.  APR_SUCCESS with
 * *preq_id set, or with *preq_id NULL and *refusal filled when a rule
 * refuses (nothing is stored then); APR_NOTFOUND: the certificate to renew
 * is not the member's; APR_EACCES: the member is not (or no longer) an
 * O-Admin of the organisation, or no longer an Assurer; other errors:
 * storage. */
apr_status_t ca_issue_submit(const char **preq_id, ca_refusal_t *refusal, ca_db_t *db,
                             const char *member_id, const ca_submit_t *ask,
                             const ca_submit_cfg_t *cfg, apr_pool_t *p);

/* the one rule for a certificate's description: trimmed, at most
 * CA_ISSUE_DESCRIPTION_MAX characters; NULL (and *pdesc set) or the
 * message key */
const char *ca_issue_description(const char **pdesc, const char *text, apr_pool_t *p);

#endif
