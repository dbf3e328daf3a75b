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

/* every setting of mod_cacert_issue, a line each (cacert_glue.h): the
 * field, its default, the directive that sets it and its help; the
 * setters are issue_config.c's (set_limits fills the field on the line
 * after its own too) */
#define ISS_SETTINGS(S, t) \
    S(t, STR, device, NULL, TAKE1, "CAcertSignerDevice", set_str, "the serial device that leads to signerd") \
    S(t, INT, baud, 115200, TAKE1, "CAcertSignerBaud", set_baud, "line speed of the serial device (default 115200)") \
    S(t, TIME, timeout, apr_time_from_sec(5), TAKE1, "CAcertSignerTimeout", set_time, "resend a request not answered in this time (default 5s)") \
    S(t, TIME, heartbeat, apr_time_from_sec(10), TAKE1, "CAcertSignerHeartbeat", set_time, "heartbeat interval towards signerd (default 10s)") \
    S(t, ARR, issuers, issuer_t, TAKE2, "CAcertIssuer", set_issuer, "an issuing CA: name (member, assured, org, class1, class3) and its certificate file") \
    S(t, STR, root_file, NULL, TAKE1, "CAcertRootCertificate", set_str, "the top-level root certificate, published with the chains") \
    S(t, TIME, crl_validity, apr_time_from_sec(86400), TAKE1, "CAcertCRLValidity", set_crl_validity, "nextUpdate - thisUpdate of CRLs, at most 31d (default 1d)") \
    S(t, TIME, crl_interval, apr_time_from_sec(3600), TAKE1, "CAcertCRLInterval", set_time, "a new CRL at least this often (default 1h)") \
    S(t, STR, crl_md, "sha256", TAKE1, "CAcertCRLHash", set_md, "hash of CRL signatures (default sha256)") \
    S(t, TIME, wait, apr_time_from_sec(10), TAKE1, "CAcertIssueWait", set_time, "how long the waiting page holds the request open (default 10s)") \
    S(t, INT, class1, 0, FLAG, "CAcertClass1Root", set_flag, "0-point members get Class 1 certificates (legacy layout; default off)") \
    S(t, INT, member_days, 0, TAKE1, "CAcertMemberDays", set_days, "validity under the Member SubRoot in days, 1-825 (default 183)") \
    S(t, INT, assured_days, 0, TAKE1, "CAcertAssuredDays", set_days, "validity under the Assured SubRoot in days, 1-825 (default 730)") \
    S(t, STR, expiry_days, "45,30,15,1", RAW_ARGS, "CAcertExpiryWarnings", set_expiry_days, "days before expiry when members are warned (default 45 30 15 1)") \
    S(t, TIME, expiry_interval, apr_time_from_sec(3600), TAKE1, "CAcertExpiryCheckInterval", set_time, "how often to look for certificates to warn about (default 1h)") \
    S(t, STR, weak_file, NULL, TAKE1, "CAcertWeakKeyList", set_file, "a list of weak RSA keys in openssl-blacklist format") \
    S(t, OWN, pgp.key_file, -, TAKE1, "CAcertOpenPGPKey", set_file, "the CA's OpenPGP public key (enables OpenPGP key signing)") \
    S(t, OWN, pgp.tmpdir, -, TAKE1, "CAcertOpenPGPTempDir", set_file, "where throwaway gpg keyrings are made (default: the system's)") \
    S(t, STR, acme_base, NULL, TAKE1, "CAcertACME", set_str, "the ACME server's URL as clients reach it, e.g. https://ca.example/acme (enables ACME; the directory is that URL with /directory)") \
    S(t, STR, acme_website, NULL, TAKE1, "CAcertACMEWebsite", set_str, "the website the ACME directory names (meta.website)") \
    S(t, INT, acme_orders_account, 100, TAKE2, "CAcertACMEOrderLimit", set_limits, "new orders per ACME account and per member in the window (default 100 300)") \
    S(t, INT, acme_orders_member, 300, NONE, -, -, "new orders per member, set by CAcertACMEOrderLimit") \
    S(t, INT, acme_failed_account, 20, TAKE2, "CAcertACMEFailedLimit", set_limits, "failed authorisations per ACME account and per member in the window (default 20 60)") \
    S(t, INT, acme_failed_member, 60, NONE, -, -, "failed authorisations per member, set by CAcertACMEFailedLimit") \
    S(t, TIME, acme_window, apr_time_from_sec(3600), TAKE1, "CAcertACMEWindow", set_time, "the window of the ACME limits (default 1h)") \
    S(t, TIME, acme_nonce_lifetime, apr_time_from_sec(3600), TAKE1, "CAcertACMENonceLifetime", set_time, "how long an ACME nonce may be used (default 1h)") \
    S(t, TIME, acme_order_lifetime, apr_time_from_sec(86400), TAKE1, "CAcertACMEOrderLifetime", set_time, "how long a pending ACME order and its authorisations live (default 1d)") \
    S(t, TIME, acme_eab_lifetime, apr_time_from_sec(7 * 86400), TAKE1, "CAcertACMEBindingLifetime", set_time, "how long external account binding credentials may be used (default 7d)") \
    S(t, INT, acme_max_body, 65536, TAKE1, "CAcertACMEMaxBody", set_int, "the largest ACME request in bytes (default 65536)") \
    S(t, CMD, -, -, TAKE2, "CAcertBrowserKeys", set_browser_keys, "the in-browser key page's script: its file (with FILE.sri beside it) and its URL; unset: no in-browser keys") \
    S(t, STR, help_url, NULL, TAKE1, "CAcertHelpURL", set_str, "where the member help pages (docs/members/) are published") \
    S(t, INT, acme_http01_port, 80, TAKE1, "CAcertACMEHTTP01Port", set_port, "the port http-01 challenges are fetched from (default 80)")

typedef struct {
    CACERT_SETTINGS_FIELDS(ISS_SETTINGS)
    /* filled at start */
    issuer_t *root;                     /* CAcertRootCertificate's */
    ca_weakkeys_t *weak;                /* CAcertWeakKeyList's */
    const char *acme_path;              /* CAcertACME's path part */
    const char *bk_sri;                 /* "sha384-...", read at start; NULL: off */
    /* merged by hand (issue_config.c) */
    iss_pgp_cfg_t pgp;                  /* OpenPGP key signing (issue_openpgp.c) */
    const char *bk_file;                /* CAcertBrowserKeys: the bundle's file */
    const char *bk_url;                 /* ... and its URL */
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
