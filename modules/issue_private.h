/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* What the files of mod_cacert_issue share: its configuration
 * (issue_config.c), the request pages (issue_pages.c), the /pki pages
 * (issue_pki.c) and the hooks, the watchdog and the module
 * (mod_cacert_issue.c). */
#ifndef ISSUE_PRIVATE_H
#define ISSUE_PRIVATE_H

#include <apr_tables.h>
#include <apr_time.h>
#include <httpd.h>
#include <http_config.h>
#include <openssl/x509.h>

#include "ca_csr.h"
#include "ca_issue.h"
#include "ca_submit.h"
#include "cacert_glue.h"
#include "issue_openpgp.h"
#include "mod_cacert.h"

extern module AP_MODULE_DECLARE_DATA cacert_issue_module;

/* an issuing CA (CAcertIssuer) or the root (CAcertRootCertificate) */
typedef struct {
    const char *name;       /* "member", "assured", ... */
    const char *file;
    int loaded;
    const char *pem;        /* the certificate, PEM */
    const unsigned char *der;
    apr_size_t der_len;
} issuer_t;

typedef struct {
    const char *device;
    int baud;
    apr_interval_time_t timeout;        /* resend after */
    apr_interval_time_t heartbeat;
    apr_interval_time_t crl_validity;
    apr_interval_time_t crl_interval;
    apr_interval_time_t wait;           /* how long the waiting page holds */
    const char *crl_md;
    int class1;
    int member_days, assured_days;
    const char *weak_file;
    const char *expiry_days;            /* "45,30,15,1" */
    apr_interval_time_t expiry_interval;
    apr_array_header_t *issuers;        /* of issuer_t */
    const char *root_file;
    issuer_t *root;
    ca_weakkeys_t *weak;
    iss_pgp_cfg_t pgp;                  /* OpenPGP key signing (issue_openpgp.c) */
    /* ACME (issue_acme.c) */
    const char *acme_base;              /* CAcertACME: the directory's URL without
                                         * "/directory"; NULL: no ACME */
    const char *acme_path;              /* its path part, filled at start */
    const char *acme_website;
    int acme_orders_account, acme_orders_member;
    int acme_failed_account, acme_failed_member;
    apr_interval_time_t acme_window, acme_nonce_lifetime, acme_order_lifetime;
    apr_interval_time_t acme_eab_lifetime;
    int acme_max_body, acme_http01_port;
    /* the in-browser key page (issue_pages.c, docs/browser-keys.md) */
    const char *bk_file;                /* CAcertBrowserKeys: the bundle's file */
    const char *bk_url;                 /* ... and its URL */
    const char *bk_sri;                 /* "sha384-...", read at start; NULL: off */
    const char *help_url;               /* CAcertHelpURL: docs/members/ published */
} iss_srv_cfg;

/* what a page of /certs is given */
struct cacert_req {
    cacert_page_t *pg;
    request_rec *r;
    iss_srv_cfg *cfg;
};
typedef struct cacert_req iss_req_t;

/* ---- issue_config.c ---- */

CACERT_SRV_CFG_DECLS(iss_, iss_srv_cfg);

/* the defaults of the settings (issue_config.c); ISS_CFG(c, timeout): the
 * setting of c, or its default, typed as the field */
extern const iss_srv_cfg iss_defaults;
#define ISS_CFG(c, f) CACERT_CFG(c, iss_defaults, f)
/* the pages' per-child state */
void iss_pages_child_init(apr_pool_t *pchild);
/* the core's issuance settings (validity, Class 1, domain rules, weak keys) */
ca_submit_cfg_t iss_submit_cfg(const iss_srv_cfg *c, server_rec *s);

/* the CAs' certificates, read at start-up */
apr_status_t iss_load_cert(issuer_t *is, apr_pool_t *p, server_rec *s);
issuer_t *iss_find_issuer(const iss_srv_cfg *c, const char *name);
/* an X509, freed with p */
X509 *iss_issuer_x509(const issuer_t *is, apr_pool_t *p);

/* post_config: the in-browser key bundle and its integrity value
 * (<file>.sri, written by js/build.mjs) checked against each other */
void iss_browser_keys_load(iss_srv_cfg *c, apr_pool_t *p, server_rec *s);

/* ---- issue_pages.c: /certs ---- */

int iss_certs_handler(request_rec *r);

/* ---- issue_acme.c: the ACME server and the member's ACME page ---- */

int iss_acme_handler(request_rec *r);
/* post_config: CAcertACME's URL checked; NULL or what is wrong */
const char *iss_acme_check(iss_srv_cfg *c, apr_pool_t *p);
int iss_acme_page(iss_req_t *q);
int iss_acme_page_deactivate(iss_req_t *q);
/* the watchdog: expired nonces, credentials and orders */
void iss_acme_cleanup(server_rec *s, ca_db_t *db, apr_pool_t *p);

/* ---- issue_pki.c: /pki ---- */

int iss_pki_handler(request_rec *r);
/* child_init: the CRLs each child keeps */
void iss_pki_child_init(apr_pool_t *pchild);
/* der as PEM with the label ("CERTIFICATE") */
const char *iss_pem_of(const unsigned char *der, apr_size_t len, const char *label,
                       apr_pool_t *p);
/* the certificate, its issuer and the root (unless the issuer is the root),
 * PEM one after the other */
const char *iss_chain_pem(iss_srv_cfg *cfg, const ca_cert_t *c, apr_pool_t *p);
/* a certs-only PKCS#7 (.p7b): the certificate, is and root (when not is) */
apr_status_t iss_pkcs7_of(const unsigned char **pout, apr_size_t *plen, const ca_cert_t *c,
                          const issuer_t *is, const issuer_t *root, apr_pool_t *p);

#endif
