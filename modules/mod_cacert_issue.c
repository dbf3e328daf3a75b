/* mod_cacert_issue: certificate requests, the signer link, revocation,
 * CRL and CA certificate publishing.
 *
 * Thin glue: directives, the signer link as a mod_watchdog singleton, and
 * the pages.  Policy, CSR checks, the queue and the wire protocol live in
 * the core (src/); the words in templates/. */
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_lib.h>
#include <apr_dbd.h>
#include <apr_thread_mutex.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_log.h"
#include "ca_tmpl.h"
#include "ca_valid.h"
#include "ca_form.h"
#include "ca_multipart.h"
#include "ca_csr.h"
#include "ca_policy.h"
#include "ca_issue.h"
#include "ca_submit.h"
#include "ca_link.h"
#include "ca_serial.h"
#include "cacert_glue.h"
#include "ca_wire.h"
#include "ca_x509.h"
#include "ca_org.h"
#include "ca_account.h"
#include "ca_domain.h"
#include "ca_pgpkeys.h"
#include "ca_roles.h"
#include "mod_cacert.h"
#include "issue_openpgp.h"

APLOG_USE_MODULE(cacert_issue);

#define CACERT_DB_GUARD
#define CACERT_PREPARE_STMTS
#include "mod_cacert_glue.h"
module AP_MODULE_DECLARE_DATA cacert_issue_module;

#define HANDLER_CERTS   "cacert-issue"
#define HANDLER_PKI     "cacert-pki"
#define UNSET           (-1)
#define LINK_WATCHDOG   "cacert-signer-link"

/* ---- configuration ---- */

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
} iss_srv_cfg;

static void *create_srv_cfg(apr_pool_t *p, server_rec *s)
{
    iss_srv_cfg *c = apr_pcalloc(p, sizeof(*c));

    c->baud = c->class1 = c->member_days = c->assured_days = UNSET;
    c->timeout = c->heartbeat = c->crl_validity = c->crl_interval = c->wait = UNSET;
    c->expiry_interval = UNSET;
    c->issuers = apr_array_make(p, 4, sizeof(issuer_t));
    return c;
}

#define MERGE_PTR(f) c->f = add->f ? add->f : base->f
#define MERGE_NUM(f) c->f = add->f != UNSET ? add->f : base->f

static void *merge_srv_cfg(apr_pool_t *p, void *basev, void *addv)
{
    iss_srv_cfg *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));

    MERGE_PTR(device);
    MERGE_NUM(baud);
    MERGE_NUM(timeout);
    MERGE_NUM(heartbeat);
    MERGE_NUM(crl_validity);
    MERGE_NUM(crl_interval);
    MERGE_NUM(wait);
    MERGE_PTR(crl_md);
    MERGE_NUM(class1);
    MERGE_NUM(member_days);
    MERGE_NUM(assured_days);
    MERGE_PTR(weak_file);
    MERGE_PTR(root_file);
    MERGE_PTR(expiry_days);
    MERGE_NUM(expiry_interval);
    c->issuers = add->issuers->nelts ? add->issuers : base->issuers;
    c->pgp = add->pgp.key_file ? add->pgp : base->pgp;
    MERGE_PTR(pgp.tmpdir);
    return c;
}

static apr_interval_time_t cfg_time(apr_interval_time_t v, int def_secs)
{
    return v != UNSET ? v : apr_time_from_sec(def_secs);
}

static int cfg_int(int v, int def)
{
    return v != UNSET ? v : def;
}

static iss_srv_cfg *srv_cfg_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &cacert_issue_module);
}

static const char *cmd_err(cmd_parms *cmd, const char *msg)
{
    return msg ? apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL) : NULL;
}

static const char *set_str(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    if (!*arg) {
        return cmd_err(cmd, "must not be empty");
    }
    *(const char **)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) = arg;
    return NULL;
}

static const char *set_time(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    apr_int64_t n = 0;

    if (err) {
        return err;
    }
    if (parse_seconds(&n, arg) || n <= 0) {
        return cmd_err(cmd, "must be a positive duration such as 5s, 30m, 1h or 1d");
    }
    *(apr_interval_time_t *)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) =
        apr_time_from_sec(n);
    return NULL;
}

static const char *set_time(cmd_parms *cmd, void *dc, const char *arg);

/* signerd refuses CRLs valid for more than 31 days */
static const char *set_crl_validity(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_time(cmd, dc, arg);

    if (!err && srv_cfg_of(cmd)->crl_validity > apr_time_from_sec(31 * 86400)) {
        return cmd_err(cmd, "must be at most 31d");
    }
    return err;
}

static const char *set_int(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    char *end;
    apr_int64_t n;

    if (err) {
        return err;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (end == arg || *end || n < 1 || n > 4000000) {
        return cmd_err(cmd, "is out of range");
    }
    *(int *)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) = (int)n;
    return NULL;
}

static const char *set_baud(cmd_parms *cmd, void *dc, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (end == arg || *end || !ca_serial_speed_ok(v)) {
        return cmd_err(cmd, apr_pstrcat(cmd->pool, "must be one of ", ca_serial_speeds(),
                                        NULL));
    }
    return set_int(cmd, dc, arg);
}

/* the wire carries days in 16 bits and the CA/B limit is 825 */
static const char *set_days(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = set_int(cmd, dc, arg);

    if (!err && *(int *)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) > 825) {
        return cmd_err(cmd, "must be 1 to 825 days");
    }
    return err;
}

static const char *set_file(cmd_parms *cmd, void *dc, const char *arg)
{
    return set_str(cmd, dc, ap_server_root_relative(cmd->pool, arg));
}

/* days before expiry when members are warned: "45 30 15 1" */
static const char *set_expiry_days(cmd_parms *cmd, void *dc, const char *args)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    char *list = apr_pstrdup(cmd->pool, args), *tok, *last;
    const char *out = NULL;

    if (err) {
        return err;
    }
    for (tok = apr_strtok(list, " \t", &last); tok; tok = apr_strtok(NULL, " \t", &last)) {
        char *end;
        apr_int64_t n = apr_strtoi64(tok, &end, 10);
        if (end == tok || *end || n < 1 || n > 365) {
            return cmd_err(cmd, "takes numbers of days from 1 to 365, e.g. 45 30 15 1");
        }
        out = out ? apr_psprintf(cmd->pool, "%s,%d", out, (int)n)
                  : apr_psprintf(cmd->pool, "%d", (int)n);
    }
    if (!out) {
        return cmd_err(cmd, "needs at least one number of days");
    }
    srv_cfg_of(cmd)->expiry_days = out;
    return NULL;
}

static const char *set_flag(cmd_parms *cmd, void *dc, int on)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) {
        return err;
    }
    *(int *)((char *)srv_cfg_of(cmd) + (apr_size_t)cmd->info) = on;
    return NULL;
}

static const char *set_md(cmd_parms *cmd, void *dc, const char *arg)
{
    if (!ca_policy_md_ok(arg)) {
        return cmd_err(cmd, "must be sha256, sha384 or sha512");
    }
    return set_str(cmd, dc, arg);
}

static const char *set_issuer(cmd_parms *cmd, void *dc, const char *name, const char *file)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    issuer_t *is;

    if (err) {
        return err;
    }
    if (strcmp(name, "member") && strcmp(name, "assured") && strcmp(name, "org")
        && strcmp(name, "class1") && strcmp(name, "class3")) {
        return cmd_err(cmd, "the CA name must be member, assured, org, class1 or class3");
    }
    is = apr_array_push(srv_cfg_of(cmd)->issuers);
    memset(is, 0, sizeof(*is));
    is->name = name;
    is->file = ap_server_root_relative(cmd->pool, file);
    return NULL;
}

#define OFF(f) (void *)APR_OFFSETOF(iss_srv_cfg, f)

static const command_rec iss_cmds[] = {
    AP_INIT_TAKE1("CAcertSignerDevice", set_str, OFF(device), RSRC_CONF,
                  "the serial device that leads to signerd"),
    AP_INIT_TAKE1("CAcertSignerBaud", set_baud, OFF(baud), RSRC_CONF,
                  "line speed of the serial device (default 115200)"),
    AP_INIT_TAKE1("CAcertSignerTimeout", set_time, OFF(timeout), RSRC_CONF,
                  "resend a request not answered in this time (default 5s)"),
    AP_INIT_TAKE1("CAcertSignerHeartbeat", set_time, OFF(heartbeat), RSRC_CONF,
                  "heartbeat interval towards signerd (default 10s)"),
    AP_INIT_TAKE2("CAcertIssuer", set_issuer, NULL, RSRC_CONF,
                  "an issuing CA: name (member, assured, org, class1, class3) and "
                  "its certificate file"),
    AP_INIT_TAKE1("CAcertRootCertificate", set_str, OFF(root_file), RSRC_CONF,
                  "the top-level root certificate, published with the chains"),
    AP_INIT_TAKE1("CAcertCRLValidity", set_crl_validity, OFF(crl_validity), RSRC_CONF,
                  "nextUpdate - thisUpdate of CRLs, at most 31d (default 1d)"),
    AP_INIT_TAKE1("CAcertCRLInterval", set_time, OFF(crl_interval), RSRC_CONF,
                  "a new CRL at least this often (default 1h)"),
    AP_INIT_TAKE1("CAcertCRLHash", set_md, OFF(crl_md), RSRC_CONF,
                  "hash of CRL signatures (default sha256)"),
    AP_INIT_TAKE1("CAcertIssueWait", set_time, OFF(wait), RSRC_CONF,
                  "how long the waiting page holds the request open (default 10s)"),
    AP_INIT_FLAG("CAcertClass1Root", set_flag, OFF(class1), RSRC_CONF,
                 "0-point members get Class 1 certificates (legacy layout; default off)"),
    AP_INIT_TAKE1("CAcertMemberDays", set_days, OFF(member_days), RSRC_CONF,
                  "validity under the Member SubRoot in days, 1-825 (default 183)"),
    AP_INIT_TAKE1("CAcertAssuredDays", set_days, OFF(assured_days), RSRC_CONF,
                  "validity under the Assured SubRoot in days, 1-825 (default 730)"),
    AP_INIT_RAW_ARGS("CAcertExpiryWarnings", set_expiry_days, NULL, RSRC_CONF,
                     "days before expiry when members are warned (default 45 30 15 1)"),
    AP_INIT_TAKE1("CAcertExpiryCheckInterval", set_time, OFF(expiry_interval), RSRC_CONF,
                  "how often to look for certificates to warn about (default 1h)"),
    AP_INIT_TAKE1("CAcertWeakKeyList", set_file, OFF(weak_file), RSRC_CONF,
                  "a list of weak RSA keys in openssl-blacklist format"),
    AP_INIT_TAKE1("CAcertOpenPGPKey", set_file, OFF(pgp.key_file), RSRC_CONF,
                  "the CA's OpenPGP public key (enables OpenPGP key signing)"),
    AP_INIT_TAKE1("CAcertOpenPGPTempDir", set_file, OFF(pgp.tmpdir), RSRC_CONF,
                  "where throwaway gpg keyrings are made (default: the system's)"),
    { NULL }
};

/* ---- logging of the core ---- */


static apr_status_t free_x509(void *data)
{
    X509_free(data);
    return APR_SUCCESS;
}

/* the issuer's certificate as an X509, freed with p (httpd never destroys
 * its configuration pool, so none is kept there) */
static X509 *issuer_x509(const issuer_t *is, apr_pool_t *p)
{
    const unsigned char *d = is->der;
    X509 *x = d2i_X509(NULL, &d, (long)is->der_len);

    if (x) {
        apr_pool_cleanup_register(p, x, free_x509, apr_pool_cleanup_null);
    }
    return x;
}

static apr_status_t load_cert(issuer_t *is, apr_pool_t *p, server_rec *s)
{
    BIO *b = BIO_new_file(is->file, "r");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int n;
    BIO *m;
    char *mem;
    long mlen;

    BIO_free(b);
    if (!x) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CA21001: cannot read the certificate of CA %s from %s", is->name,
                     is->file);
        return APR_EGENERAL;
    }
    n = i2d_X509(x, &der);
    is->der = apr_pmemdup(p, der, (apr_size_t)n);
    is->der_len = (apr_size_t)n;
    OPENSSL_free(der);
    m = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(m, x);
    mlen = BIO_get_mem_data(m, &mem);
    is->pem = apr_pstrmemdup(p, mem, (apr_size_t)mlen);
    BIO_free(m);
    X509_free(x);
    is->loaded = 1;
    return APR_SUCCESS;
}

static issuer_t *find_issuer(iss_srv_cfg *c, const char *name)
{
    int i;

    for (i = 0; name && i < c->issuers->nelts; i++) {
        issuer_t *is = &APR_ARRAY_IDX(c->issuers, i, issuer_t);
        if (!strcmp(is->name, name)) {
            return is;
        }
    }
    return NULL;
}

static void iss_child_init(apr_pool_t *pchild, server_rec *s)
{
    db_guard_init(pchild);
    iss_pgp_child_init(s);
}

/* ---- mails ---- */

static void cert_mail_vars(ca_tmpl_ctx_t *m, const ca_mailinfo_t *info)
{
    ca_tmpl_set(m, "cert_id", info->cert_id);
    ca_tmpl_set(m, "serial", info->serial);
    ca_tmpl_set(m, "subject", info->subject);
    ca_tmpl_set(m, "not_after", info->not_after);
    ca_tmpl_set(m, "days", info->days);
}

/* the member gets the certificate by mail (it is public; the key never
 * left their computer) */
static void mail_issued(server_rec *s, ca_db_t *db, const char *req_id, apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(cacert_mail) *mail = APR_RETRIEVE_OPTIONAL_FN(cacert_mail);
    ca_mailinfo_t *info;
    ca_tmpl_ctx_t *m;

    if (!mail || ca_issue_mailinfo(&info, db, req_id, p) != APR_SUCCESS) {
        return;
    }
    m = ca_tmpl_ctx_make(NULL, p);
    cert_mail_vars(m, info);
    if (mail(s, info->language, "mail/cert_issued.txt", m, info->address, p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "CA21112: certificate %s is issued, but its mail could not be sent",
                     info->cert_id);
    }
}

typedef struct {
    server_rec *s;
    iss_srv_cfg *cfg;
} expiry_t;

/* warn members whose certificates expire soon, each threshold once */
static apr_status_t expiry_callback(int state, void *data, apr_pool_t *pool)
{
    APR_OPTIONAL_FN_TYPE(cacert_mail) *mail = APR_RETRIEVE_OPTIONAL_FN(cacert_mail);
    APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    expiry_t *e = data;
    apr_array_header_t *due;
    ap_dbd_t *dbd;
    ca_db_t db;
    apr_pool_t *p;
    int i;

    if (state != AP_WATCHDOG_STATE_RUNNING || !mail || !dbd_open || !db_work_begin()) {
        return APR_SUCCESS;
    }
    apr_pool_create(&p, pool);
    if (!(dbd = dbd_open(p, e->s))) {
        apr_pool_destroy(p);
        db_work_end();
        return APR_SUCCESS;
    }
    memset(&db, 0, sizeof(db));
    db.driver = dbd->driver;
    db.handle = dbd->handle;
    db.prepared = dbd->prepared;
    if (ca_issue_expiring(&due, &db, e->cfg->expiry_days ? e->cfg->expiry_days
                                                        : "45,30,15,1", p) == APR_SUCCESS) {
        for (i = 0; i < due->nelts; i++) {
            ca_mailinfo_t *info = &APR_ARRAY_IDX(due, i, ca_mailinfo_t);
            ca_tmpl_ctx_t *m = ca_tmpl_ctx_make(NULL, p);
            cert_mail_vars(m, info);
            if (mail(e->s, info->language, "mail/cert_expiry.txt", m, info->address, p)
                != APR_SUCCESS) {
                break;          /* the relay is down: try again next time */
            }
            ca_issue_warned(&db, info, p);
        }
    }
    if (dbd_close) {
        dbd_close(e->s, dbd);
    }
    apr_pool_destroy(p);
    db_work_end();
    return APR_SUCCESS;
}

/* ---- the signer link (src/ca_link.c): the watchdog's side ---- */

typedef struct {
    server_rec *s;
    iss_srv_cfg *cfg;
    ca_link_cfg_t lc;
    ca_link_t *link;
    apr_time_t db_down_since;       /* 0 while the link has its connection */
} link_host_t;

static X509 *link_issuer(void *baton, const char *ca, apr_pool_t *p)
{
    link_host_t *h = baton;
    issuer_t *is = find_issuer(h->cfg, ca);

    return is ? issuer_x509(is, p) : NULL;
}

static apr_status_t link_pgp_answer(void *baton, ca_db_t *db, const char *req_id,
                                    const unsigned char *ans, apr_size_t len, apr_pool_t *p)
{
    link_host_t *h = baton;

    return iss_pgp_answer(h->s, db, &h->cfg->pgp, req_id, ans, len, p) ? APR_SUCCESS
                                                                       : APR_EGENERAL;
}

static void link_issued(void *baton, ca_db_t *db, const char *req_id, apr_pool_t *p)
{
    link_host_t *h = baton;

    mail_issued(h->s, db, req_id, p);
}

/* cached OCSP answers for the certificate go at once */
static void link_revoked(void *baton, ca_db_t *db, const char *cert_id, apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(cacert_ocsp_forget) *forget = APR_RETRIEVE_OPTIONAL_FN(cacert_ocsp_forget);
    link_host_t *h = baton;
    ca_cert_t *c;

    if (forget && ca_issue_cert(&c, db, cert_id, NULL, p) == APR_SUCCESS) {
        forget(h->s, c->ca, c->serial, p);
    }
}

static int link_stopping(void *baton)
{
    return child_stopping;
}

static link_host_t *link_host_make(server_rec *s, iss_srv_cfg *c, apr_pool_t *pool)
{
    link_host_t *h = apr_pcalloc(pool, sizeof(*h));
    const char **cas = apr_pcalloc(pool, sizeof(*cas) * (apr_size_t)(c->issuers->nelts + 1));
    int i;

    for (i = 0; i < c->issuers->nelts; i++) {
        cas[i] = APR_ARRAY_IDX(c->issuers, i, issuer_t).name;
    }
    h->s = s;
    h->cfg = c;
    h->lc.device = c->device;
    h->lc.baud = cfg_int(c->baud, 0);
    h->lc.timeout = cfg_time(c->timeout, 5);
    h->lc.heartbeat = cfg_time(c->heartbeat, 10);
    h->lc.crl_interval = cfg_time(c->crl_interval, 3600);
    h->lc.crl_validity = cfg_time(c->crl_validity, 86400);
    h->lc.crl_md = c->crl_md;
    h->lc.cas = cas;
    h->lc.baton = h;
    h->lc.issuer = link_issuer;
    h->lc.pgp_answer = link_pgp_answer;
    h->lc.issued = link_issued;
    h->lc.revoked = link_revoked;
    h->lc.stopping = link_stopping;
    h->link = ca_link_make(&h->lc, pool);
    return h;
}

/* works off the queue for up to about a second, on a connection of its own */
static void link_run(link_host_t *h, apr_pool_t *p)
{
    ap_dbd_t *dbd;
    ca_db_t db;

    if (!ca_link_ready(h->link, p) || !db_work_begin()) {
        return;
    }
    if (cacert_db_open(&db, &dbd, h->s, p) != APR_SUCCESS) {
        /* mod_dbd refuses while another thread of the child sets its pool
         * up (every statement is prepared on each new connection): an error
         * only when it lasts */
        apr_time_t now = apr_time_now();
        if (!h->db_down_since) {
            h->db_down_since = now;
        }
        if (now - h->db_down_since > apr_time_from_sec(10)) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, h->s,
                         "CA21110: the signer link has no database connection");
            h->db_down_since = now;
        }
        db_work_end();
        return;
    }
    h->db_down_since = 0;
    ca_link_work(h->link, &db, apr_time_from_msec(900), p);
    cacert_db_close(dbd, h->s);
    db_work_end();
}

static apr_status_t link_callback(int state, void *data, apr_pool_t *pool)
{
    link_host_t *h = data;

    switch (state) {
    case AP_WATCHDOG_STATE_STARTING:
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, h->s, "CA21111: signer link starting on %s",
                     h->cfg->device);
        break;
    case AP_WATCHDOG_STATE_RUNNING: {
        apr_pool_t *p;
        apr_pool_create(&p, pool);
        link_run(h, p);
        apr_pool_destroy(p);
        break;
    }
    case AP_WATCHDOG_STATE_STOPPING:
        ca_link_close(h->link);
        /* the watchdog thread ends: its OpenSSL thread state goes too */
        OPENSSL_thread_stop();
        break;
    }
    return APR_SUCCESS;
}

/* ---- start-up ---- */

static int iss_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register;
    APR_OPTIONAL_FN_TYPE(cacert_page_start) *page_start;
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;
    iss_srv_cfg *c = ap_get_module_config(s->module_config, &cacert_issue_module);
    server_rec *sp;
    int i;

    log_server = s;
    ca_log_set_sink(log_sink, NULL);
    page_start = APR_RETRIEVE_OPTIONAL_FN(cacert_page_start);
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    if (!page_start || !dbd_prepare) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CA21002: mod_cacert_issue needs mod_cacert_account and mod_dbd");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (sp = s; sp; sp = sp->next) {
        iss_srv_cfg *sc = ap_get_module_config(sp->module_config, &cacert_issue_module);
        for (i = 0; i < sc->issuers->nelts; i++) {
            issuer_t *is = &APR_ARRAY_IDX(sc->issuers, i, issuer_t);
            if (!is->loaded && load_cert(is, pconf, sp) != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        if (sc->root_file && !sc->root) {
            sc->root = apr_pcalloc(pconf, sizeof(issuer_t));
            sc->root->name = "root";
            sc->root->file = ap_server_root_relative(pconf, sc->root_file);
            if (load_cert(sc->root, pconf, sp) != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        if (sc->weak_file && !sc->weak
            && ca_weakkeys_load(&sc->weak, sc->weak_file, pconf) != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        {
            const char *err = iss_pgp_load(&sc->pgp, pconf);
            if (err) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, "CA90300: %s", err);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }
    /* the statements of the core are registered by mod_cacert_account */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    wd_get = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!wd_get || !wd_register) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "CA21003: mod_cacert_issue needs mod_watchdog");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    {
        ap_watchdog_t *wd;
        expiry_t *e = apr_pcalloc(pconf, sizeof(*e));
        apr_status_t rv;
        e->s = s;
        e->cfg = c;
        /* one process runs the link and the expiry warnings (singleton) */
        rv = wd_get(&wd, LINK_WATCHDOG, 0, 1, pconf);
        if (rv == APR_SUCCESS) {
            rv = wd_register(wd, cfg_time(c->expiry_interval, 3600), e, expiry_callback);
        }
        if (rv == APR_SUCCESS && c->device) {
            rv = wd_register(wd, AP_WD_TM_SLICE, link_host_make(s, c, pconf), link_callback);
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                         "CA21004: cannot start the mod_cacert_issue watchdog");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* ---- pages ---- */

typedef struct {
    cacert_page_t *pg;
    request_rec *r;
    iss_srv_cfg *cfg;
} iss_req_t;

static APR_OPTIONAL_FN_TYPE(cacert_page_start) *page_start;
static APR_OPTIONAL_FN_TYPE(cacert_page_render) *page_render;
static APR_OPTIONAL_FN_TYPE(cacert_page_message) *page_message;
static APR_OPTIONAL_FN_TYPE(cacert_page_set_msg) *page_set_msg;
static APR_OPTIONAL_FN_TYPE(cacert_page_headers) *page_headers;

static void retrieve_fns(void)
{
    page_start = APR_RETRIEVE_OPTIONAL_FN(cacert_page_start);
    page_render = APR_RETRIEVE_OPTIONAL_FN(cacert_page_render);
    page_message = APR_RETRIEVE_OPTIONAL_FN(cacert_page_message);
    page_set_msg = APR_RETRIEVE_OPTIONAL_FN(cacert_page_set_msg);
    page_headers = APR_RETRIEVE_OPTIONAL_FN(cacert_page_headers);
}

static int redirect(iss_req_t *q, const char *where)
{
    const char *url = apr_pstrcat(q->r->pool, q->pg->base, "/", where, NULL);

    page_headers(q->r);
    apr_table_setn(q->r->headers_out, "Location", ap_construct_url(q->r->pool, url, q->r));
    return HTTP_SEE_OTHER;
}

static int internal_error(iss_req_t *q, apr_status_t rv, const char *what)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r, "CA21201: %s failed", what);
    return page_message(q->pg, "title.error", "err.internal", HTTP_INTERNAL_SERVER_ERROR);
}

/* the operator's settings for the core's issuance decision */
static ca_submit_cfg_t submit_cfg(iss_req_t *q)
{
    APR_OPTIONAL_FN_TYPE(cacert_domain_cfg) *dcfg = APR_RETRIEVE_OPTIONAL_FN(cacert_domain_cfg);
    ca_submit_cfg_t sc;

    memset(&sc, 0, sizeof(sc));
    sc.policy.class1_root = cfg_int(q->cfg->class1, 0) == 1;
    sc.policy.member_days = cfg_int(q->cfg->member_days, 0);
    sc.policy.assured_days = cfg_int(q->cfg->assured_days, 0);
    sc.domains = dcfg ? dcfg(q->r->server) : NULL;
    sc.weak = q->cfg->weak;
    return sc;
}

/* the options the member is entitled to, and why others are not */
static apr_status_t offer(iss_req_t *q)
{
    static const ca_profile_t profiles[] = { CA_PROFILE_CLIENT, CA_PROFILE_SERVER,
                                             CA_PROFILE_CODESIGN };
    ca_submit_cfg_t sc = submit_cfg(q);
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    apr_pool_t *p = q->r->pool;
    ca_member_facts_t facts;
    ca_standing_t st;
    ca_grant_t sg;
    apr_status_t rv;
    const char *chosen = cacert_field(q->pg, "profile");
    int i;

    /* the domains listed are those verified enough for server
     * certificates under the root the member would get them from */
    if ((rv = ca_account_standing(&st, q->pg->db, q->pg->sess->member_id, p)) != APR_SUCCESS) {
        return rv;
    }
    ca_policy_grant(&sg, &st, CA_PROFILE_SERVER, &sc.policy);
    if ((rv = ca_issue_facts_for(&facts, q->pg->db, q->pg->sess->member_id, sg.ca, sc.domains,
                                 p)) != APR_SUCCESS) {
        return rv;
    }
    ca_tmpl_setf(ctx, "points", "%d", ca_points_total(&st));
    for (i = 0; i < 3; i++) {
        ca_grant_t g;
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "profiles");
        const char *name = ca_profile_name(profiles[i]);
        ca_policy_grant(&g, &st, profiles[i], &sc.policy);
        ca_tmpl_set(item, "value", name);
        page_set_msg(q->pg, "label", apr_pstrcat(p, "profile.", name, NULL));
        ca_tmpl_set(item, "label", ca_tmpl_get(ctx, "label"));
        if (g.ca) {
            ca_tmpl_set(item, "allowed", "1");
            ca_tmpl_setf(item, "days", "%d", g.days);
            ca_tmpl_set(item, "ca", g.ca);
            if (g.may_name) ca_tmpl_set(item, "may_name", "1");
            if (g.may_wildcard) ca_tmpl_set(item, "may_wildcard", "1");
            if (g.may_multi) ca_tmpl_set(item, "may_multi", "1");
            if (!strcmp(chosen, name) || (!*chosen && i == 0)) {
                ca_tmpl_set(item, "checked", "1");
            }
        }
        else {
            page_set_msg(q->pg, "why", g.refusal);
            ca_tmpl_set(item, "why", ca_tmpl_get(ctx, "why"));
        }
    }
    ca_tmpl_set(ctx, "label", NULL);
    ca_tmpl_set(ctx, "why", NULL);
    for (i = 0; i < facts.emails->nelts; i++) {
        const char *e = APR_ARRAY_IDX(facts.emails, i, const char *);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "emails");
        ca_tmpl_set(item, "address", e);
        ca_tmpl_setf(item, "n", "%d", i);
        if (q->pg->form ? *cacert_field(q->pg, apr_psprintf(p, "email%d", i)) != '\0' : i == 0) {
            ca_tmpl_set(item, "checked", "1");
        }
    }
    for (i = 0; i < facts.domains->nelts; i++) {
        ca_tmpl_set(ca_tmpl_add_item(ctx, "domains"), "name",
                    APR_ARRAY_IDX(facts.domains, i, const char *));
    }
    return APR_SUCCESS;
}

/* the addresses ticked in the form: "email<N>" fields, N the place of the
 * address in the member's list (primary first) */
static apr_array_header_t *picked(iss_req_t *q)
{
    const apr_array_header_t *arr = apr_table_elts(q->pg->form);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *picks = apr_array_make(q->r->pool, 4, sizeof(int));
    int i;

    for (i = 0; i < arr->nelts; i++) {
        const char *k = e[i].key;
        if (!strncmp(k, "email", 5) && k[5] && strlen(k) <= 8
            && strspn(k + 5, "0123456789") == strlen(k + 5) && e[i].val && *e[i].val) {
            APR_ARRAY_PUSH(picks, int) = atoi(k + 5);
        }
    }
    return picks;
}

/* host names as typed: separated by spaces or commas, lowercase */
static apr_array_header_t *host_list(const char *text, apr_pool_t *p)
{
    apr_array_header_t *hosts = apr_array_make(p, 4, sizeof(const char *));
    char *list = apr_pstrdup(p, text), *tok, *last, *c;

    for (tok = apr_strtok(list, " ,", &last); tok; tok = apr_strtok(NULL, " ,", &last)) {
        for (c = tok; *c; c++) {
            *c = (char)apr_tolower(*c);
        }
        APR_ARRAY_PUSH(hosts, const char *) = tok;
    }
    return hosts;
}

/* the request form: what was typed goes back into it, the core decides
 * and queues in one call, a refusal is shown beside its field */
static int page_new(iss_req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    ca_submit_cfg_t sc = submit_cfg(q);
    ca_submit_t ask;
    ca_refusal_t refusal;
    const char *req_id, *md;
    apr_status_t rv;
    int i;

    if (q->r->method_number == M_GET) {
        if ((rv = offer(q)) != APR_SUCCESS) {
            return internal_error(q, rv, "certificate offer");
        }
        ca_tmpl_set(ctx, "md_sha256", "1");
        return page_render(q->pg, "certs_new.html", HTTP_OK);
    }
    memset(&ask, 0, sizeof(ask));
    /* what the decoder refused, beside its field */
    {
        const apr_array_header_t *arr = apr_table_elts(q->pg->form_errors);
        const apr_table_entry_t *te = (const apr_table_entry_t *)arr->elts;
        for (i = 0; i < arr->nelts; i++) {
            page_set_msg(q->pg, apr_pstrcat(p, "err_", te[i].key, NULL), te[i].val);
            ca_tmpl_set(ctx, "has_errors", "1");
        }
    }
    ask.csr = cacert_field(q->pg, "csr");
    ask.csr_len = strlen(ask.csr);
    ca_tmpl_set(ctx, "v_csr", ask.csr);
    /* an uploaded file (PEM or DER) instead of pasted text */
    for (i = 0; q->pg->files && i < q->pg->files->nelts; i++) {
        ca_file_part_t *f = &APR_ARRAY_IDX(q->pg->files, i, ca_file_part_t);
        if (!strcmp(f->name, "csr_file")) {
            if (ask.csr_len) {
                page_set_msg(q->pg, "err_csr", "csr.both");
                ca_tmpl_set(ctx, "has_errors", "1");
            }
            ask.csr = (const char *)f->data;
            ask.csr_len = f->len;
        }
    }
    ca_tmpl_set(ctx, "v_hosts", cacert_field(q->pg, "hosts"));
    ca_tmpl_set(ctx, "v_description", cacert_field(q->pg, "description"));
    md = *cacert_field(q->pg, "md") ? cacert_field(q->pg, "md") : "sha256";
    if (ca_policy_md_ok(md)) {
        ca_tmpl_set(ctx, apr_pstrcat(p, "md_", md, NULL), "1");
    }
    ask.use_name = !strcmp(cacert_field(q->pg, "use_name"), "yes");
    if (ask.use_name) {
        ca_tmpl_set(ctx, "v_use_name", "1");
    }
    if (ca_tmpl_get(ctx, "has_errors")) {
        goto refuse;
    }
    ask.kind = CA_SUBMIT_NEW;
    ask.profile = ca_profile_from_name(cacert_field(q->pg, "profile"));
    ask.md = md;
    ask.picks = picked(q);
    ask.hosts = host_list(cacert_field(q->pg, "hosts"), p);
    ask.description = cacert_field(q->pg, "description");
    rv = ca_issue_submit(&req_id, &refusal, q->pg->db, q->pg->sess->member_id, &ask, &sc, p);
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "certificate request");
    }
    if (req_id) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA21202: member %s asked for a %s certificate (request %s)",
                      q->pg->sess->member_id, ca_profile_name(ask.profile), req_id);
        return redirect(q, apr_pstrcat(p, "wait?id=", req_id, NULL));
    }
    page_set_msg(q->pg, apr_pstrcat(p, "err_", refusal.field ? refusal.field : "profile",
                                    NULL), refusal.key);
    if (refusal.domain_id) {
        ca_tmpl_set(ctx, "more_checks_id", refusal.domain_id);
        ca_tmpl_set(ctx, "more_checks_name", refusal.domain_name);
    }

refuse:
    if ((rv = offer(q)) != APR_SUCCESS) {
        return internal_error(q, rv, "certificate offer");
    }
    page_set_msg(q->pg, "error_summary", "err.form");
    return page_render(q->pg, "certs_new.html", HTTP_UNPROCESSABLE_ENTITY);
}

/* the waiting page: holds until the certificate is there (or a while) */
static int page_wait(iss_req_t *q)
{
    const char *id = cacert_query_arg(q->r, "id");
    apr_time_t end = apr_time_now() + cfg_time(q->cfg->wait, 10);
    ca_request_t *req;
    apr_status_t rv;

    for (;;) {
        rv = ca_issue_request(&req, q->pg->db, id, q->pg->sess->member_id, q->r->pool);
        if (rv == APR_NOTFOUND) {
            return page_message(q->pg, "title.certs", "err.certs.norequest", HTTP_NOT_FOUND);
        }
        if (rv != APR_SUCCESS) {
            return internal_error(q, rv, "request state");
        }
        if (!strcmp(req->state, "done") && req->cert_id) {
            return redirect(q, apr_pstrcat(q->r->pool, "view?id=", req->cert_id, NULL));
        }
        if (!strcmp(req->state, "quarantined") || !strcmp(req->state, "refused")) {
            return page_message(q->pg, "title.certs", "err.certs.refused", HTTP_OK);
        }
        if (apr_time_now() >= end || q->r->connection->aborted) {
            break;
        }
        apr_sleep(apr_time_from_msec(25));
    }
    ca_tmpl_set(q->pg->ctx, "v_id", req->id);
    page_set_msg(q->pg, "progress", !strcmp(req->state, "sent") ? "certs.progress.sent"
                                                                : "certs.progress.queued");
    apr_table_setn(q->r->headers_out, "Refresh", "2");
    return page_render(q->pg, "certs_wait.html", HTTP_OK);
}

static void cert_vars(ca_tmpl_ctx_t *ctx, const ca_cert_t *c)
{
    ca_tmpl_set(ctx, "id", c->id);
    ca_tmpl_set(ctx, "ca", c->ca);
    ca_tmpl_set(ctx, "profile", c->profile);
    ca_tmpl_set(ctx, "serial", c->serial);
    ca_tmpl_set(ctx, "subject", c->subject);
    ca_tmpl_set(ctx, "sans", c->sans);
    ca_tmpl_set(ctx, "md", c->md);
    ca_tmpl_set(ctx, "not_before", c->not_before);
    ca_tmpl_set(ctx, "not_after", c->not_after);
    ca_tmpl_set(ctx, "revoked_at", c->revoked_at);
    ca_tmpl_set(ctx, "description", c->description);
    ca_tmpl_set(ctx, "status", c->status);
    ca_tmpl_set(ctx, "is_active", !strcmp(c->status, "active") ? "1" : NULL);
    ca_tmpl_set(ctx, "is_revoked", !strcmp(c->status, "revoked") ? "1" : NULL);
    ca_tmpl_set(ctx, "is_revoking", !strcmp(c->status, "revoking") ? "1" : NULL);
    ca_tmpl_set(ctx, "is_expired", !strcmp(c->status, "expired") ? "1" : NULL);
}

static int page_list(iss_req_t *q)
{
    apr_array_header_t *certs;
    apr_status_t rv;
    int i;

    rv = ca_issue_certs(&certs, q->pg->db, q->pg->sess->member_id, q->r->pool);
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "certificate list");
    }
    for (i = 0; i < certs->nelts; i++) {
        cert_vars(ca_tmpl_add_item(q->pg->ctx, "certlist"),
                  &APR_ARRAY_IDX(certs, i, ca_cert_t));
    }
    return page_render(q->pg, "certs.html", HTTP_OK);
}

static int page_view(iss_req_t *q)
{
    ca_cert_t *c;
    apr_status_t rv = ca_issue_cert(&c, q->pg->db, cacert_query_arg(q->r, "id"),
                                    q->pg->sess->member_id, q->r->pool);

    if (rv == APR_NOTFOUND) {
        return page_message(q->pg, "title.certs", "err.certs.nocert", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "certificate");
    }
    cert_vars(q->pg->ctx, c);
    if (cacert_query_arg(q->r, "revoking")) {
        page_set_msg(q->pg, "notice", "ok.certs.revoking");
    }
    if (cacert_query_arg(q->r, "saved")) {
        page_set_msg(q->pg, "notice", "ok.certs.saved");
    }
    if (c->login_disabled) {
        ca_tmpl_set(q->pg->ctx, "login_disabled", "1");
    }
    return page_render(q->pg, "certs_view.html", HTTP_OK);
}

static const char *pem_of(const unsigned char *der, apr_size_t len, const char *label,
                          apr_pool_t *p)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *mem;
    long n;
    const char *s;

    PEM_write_bio(b, label, "", der, (long)len);
    n = BIO_get_mem_data(b, &mem);
    s = apr_pstrmemdup(p, mem, (apr_size_t)n);
    BIO_free(b);
    return s;
}

static int send_body(request_rec *r, const char *type, const char *filename,
                     const void *data, apr_size_t len)
{
    page_headers(r);
    ap_set_content_type(r, type);
    if (filename) {
        apr_table_setn(r->headers_out, "Content-Disposition",
                       apr_psprintf(r->pool, "attachment; filename=\"%s\"", filename));
    }
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(data, (int)len, r);
    }
    return OK;
}

static int add_der(PKCS7 *p7, const unsigned char *der, apr_size_t len)
{
    X509 *x = d2i_X509(NULL, &der, (long)len);
    int ok = x && PKCS7_add_certificate(p7, x);

    X509_free(x);
    return ok;
}

/* a certs-only PKCS#7 (.p7b): the certificate and its chain */
static apr_status_t pkcs7_of(const unsigned char **pout, apr_size_t *plen,
                             const ca_cert_t *c, const issuer_t *is, const issuer_t *root,
                             apr_pool_t *p)
{
    PKCS7 *p7 = PKCS7_new();
    unsigned char *der = NULL;
    int ok, n;

    ok = p7 && PKCS7_set_type(p7, NID_pkcs7_signed)
         && PKCS7_content_new(p7, NID_pkcs7_data)
         && add_der(p7, c->der, c->der_len)
         && (!is || add_der(p7, is->der, is->der_len))
         && (!root || root == is || add_der(p7, root->der, root->der_len));
    if (ok && (n = i2d_PKCS7(p7, &der)) > 0) {
        *pout = apr_pmemdup(p, der, (apr_size_t)n);
        *plen = (apr_size_t)n;
        OPENSSL_free(der);
    }
    else {
        ok = 0;
    }
    PKCS7_free(p7);
    return ok ? APR_SUCCESS : APR_EGENERAL;
}

static int page_download(iss_req_t *q)
{
    apr_pool_t *p = q->r->pool;
    const char *fmt = cacert_query_arg(q->r, "fmt");
    ca_cert_t *c;
    issuer_t *is;
    const char *body, *base;
    apr_status_t rv = ca_issue_cert(&c, q->pg->db, cacert_query_arg(q->r, "id"),
                                    q->pg->sess->member_id, p);

    if (rv == APR_NOTFOUND) {
        return page_message(q->pg, "title.certs", "err.certs.nocert", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "certificate");
    }
    base = apr_pstrcat(p, "cacert-", c->serial, NULL);
    if (fmt && !strcmp(fmt, "der")) {
        return send_body(q->r, "application/pkix-cert", apr_pstrcat(p, base, ".cer", NULL),
                         c->der, c->der_len);
    }
    body = pem_of(c->der, c->der_len, "CERTIFICATE", p);
    if (fmt && !strcmp(fmt, "chain")) {
        is = find_issuer(q->cfg, c->ca);
        body = apr_pstrcat(p, body, is ? is->pem : "",
                           q->cfg->root && (!is || is->der_len != q->cfg->root->der_len
                                            || memcmp(is->der, q->cfg->root->der, is->der_len))
                           ? q->cfg->root->pem : "", NULL);
        return send_body(q->r, "application/x-pem-file",
                         apr_pstrcat(p, base, "-chain.pem", NULL), body, strlen(body));
    }
    if (fmt && !strcmp(fmt, "p7")) {
        const unsigned char *p7;
        apr_size_t p7len;
        is = find_issuer(q->cfg, c->ca);
        if (pkcs7_of(&p7, &p7len, c, is, q->cfg->root, p) != APR_SUCCESS) {
            return internal_error(q, APR_EGENERAL, "PKCS#7");
        }
        return send_body(q->r, "application/x-pkcs7-certificates",
                         apr_pstrcat(p, base, ".p7b", NULL), p7, p7len);
    }
    if (fmt && strcmp(fmt, "pem")) {
        return page_message(q->pg, "title.certs", "err.notfound", HTTP_NOT_FOUND);
    }
    return send_body(q->r, "application/x-pem-file", apr_pstrcat(p, base, ".pem", NULL),
                     body, strlen(body));
}

static int page_revoke(iss_req_t *q)
{
    const char *id = cacert_field(q->pg, "id"), *req_id;
    apr_status_t rv;

    rv = ca_issue_enqueue_revoke(&req_id, q->pg->db, id, q->pg->sess->member_id, 0,
                                 q->pg->sess->member_id, q->r->pool);
    if (rv == APR_NOTFOUND) {
        return page_message(q->pg, "title.certs", "err.certs.nocert", HTTP_NOT_FOUND);
    }
    if (rv == APR_EEXIST) {
        return page_message(q->pg, "title.certs", "err.certs.revoked", HTTP_CONFLICT);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "revocation");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA21203: member %s revokes certificate %s (request %s)",
                  q->pg->sess->member_id, id, req_id);
    return redirect(q, apr_pstrcat(q->r->pool, "view?id=", id, "&revoking=1", NULL));
}

/* renewal: a new certificate from the same CSR, with the same names,
 * decided again by today's policy and proofs */
static int page_renew(iss_req_t *q)
{
    ca_submit_cfg_t sc = submit_cfg(q);
    ca_submit_t ask;
    ca_refusal_t refusal;
    const char *req_id;
    apr_status_t rv;

    memset(&ask, 0, sizeof(ask));
    ask.kind = CA_SUBMIT_RENEW;
    ask.cert_id = cacert_field(q->pg, "id");
    rv = ca_issue_submit(&req_id, &refusal, q->pg->db, q->pg->sess->member_id, &ask, &sc,
                         q->r->pool);
    if (rv == APR_NOTFOUND) {
        return page_message(q->pg, "title.certs", "err.certs.nocert", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "renewal");
    }
    if (!req_id) {
        return page_message(q->pg, "title.certs", refusal.key, HTTP_UNPROCESSABLE_ENTITY);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA21205: member %s renews certificate %s (request %s)",
                  q->pg->sess->member_id, ask.cert_id, req_id);
    return redirect(q, apr_pstrcat(q->r->pool, "wait?id=", req_id, NULL));
}

static int page_edit(iss_req_t *q)
{
    const char *id = cacert_field(q->pg, "id");
    apr_status_t rv;

    rv = apr_table_get(q->pg->form_errors, "description") ? APR_EINVAL
         : ca_issue_settings(q->pg->db, id, q->pg->sess->member_id,
                             cacert_field(q->pg, "description"),
                             !strcmp(cacert_field(q->pg, "login_disabled"), "yes"), q->r->pool);
    if (rv == APR_EINVAL) {
        return page_message(q->pg, "title.certs", "field.toolong", HTTP_UNPROCESSABLE_ENTITY);
    }
    if (rv == APR_NOTFOUND) {
        return page_message(q->pg, "title.certs", "err.certs.nocert", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "certificate settings");
    }
    return redirect(q, apr_pstrcat(q->r->pool, "view?id=", id, "&saved=1", NULL));
}

/* ---- organisation certificates (docs/organisations.md) ---- */

static apr_array_header_t *word_list(const char *text, apr_pool_t *p)
{
    apr_array_header_t *list = apr_array_make(p, 4, sizeof(const char *));
    char *copy = apr_pstrdup(p, text), *tok, *last, *c;

    for (tok = apr_strtok(copy, " ,", &last); tok; tok = apr_strtok(NULL, " ,", &last)) {
        for (c = tok; *c && *c != '@'; c++) {
        }
        for (; *c; c++) {
            *c = (char)apr_tolower(*c);     /* host names, address domains */
        }
        if (!strchr(tok, '@')) {
            for (c = tok; *c; c++) {
                *c = (char)apr_tolower(*c);
            }
        }
        APR_ARRAY_PUSH(list, const char *) = tok;
    }
    return list;
}

/* the organisation page, with an O-Admin's rights checked */
static int org_render(iss_req_t *q, const char *org_id, const char *error, int status)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    ca_org_facts_t facts;
    apr_status_t rv;
    int admin = 0, master = 0, i;

    if ((rv = ca_org_admin_of(&admin, &master, q->pg->db, org_id, q->pg->sess->member_id,
                              q->r->pool)) != APR_SUCCESS) {
        return internal_error(q, rv, "O-Admin check");
    }
    if (!admin) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA45701: member %s is no O-Admin of organisation %s",
                      q->pg->sess->member_id, org_id ? org_id : "(none)");
        return page_message(q->pg, "title.certs_org", "err.org.notadmin", HTTP_FORBIDDEN);
    }
    if ((rv = ca_org_facts(&facts, q->pg->db, org_id, q->r->pool)) != APR_SUCCESS) {
        return internal_error(q, rv, "organisation");
    }
    ca_tmpl_set(ctx, "org_id", org_id);
    ca_tmpl_set(ctx, "org_name", facts.name);
    ca_tmpl_set(ctx, "org_town", facts.town);
    ca_tmpl_set(ctx, "org_state", facts.state);
    ca_tmpl_set(ctx, "org_country", facts.country);
    for (i = 0; i < facts.domains->nelts; i++) {
        ca_tmpl_set(ca_tmpl_add_item(ctx, "domains"), "name",
                    APR_ARRAY_IDX(facts.domains, i, const char *));
    }
    if (error) {
        page_set_msg(q->pg, "error", error);
    }
    return page_render(q->pg, "certs_org.html", status);
}

/* /certs/org?org=N: an O-Admin requests an organisation client or server
 * certificate under the Organisation SubRoot */
static int page_org(iss_req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    ca_submit_cfg_t sc = submit_cfg(q);
    const char *org_id = q->pg->form ? cacert_field(q->pg, "org") : cacert_query_arg(q->r, "org");
    const char *req_id;
    ca_submit_t ask;
    ca_refusal_t refusal;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        return org_render(q, org_id, NULL, HTTP_OK);
    }
    ca_tmpl_set(ctx, "v_csr", cacert_field(q->pg, "csr"));
    ca_tmpl_set(ctx, "v_unit", cacert_field(q->pg, "unit"));
    ca_tmpl_set(ctx, "v_cn", cacert_field(q->pg, "cn"));
    ca_tmpl_set(ctx, "v_emails", cacert_field(q->pg, "emails"));
    ca_tmpl_set(ctx, "v_hosts", cacert_field(q->pg, "hosts"));
    if (apr_table_elts(q->pg->form_errors)->nelts) {
        return org_render(q, org_id, "form.malformed", HTTP_UNPROCESSABLE_ENTITY);
    }
    memset(&ask, 0, sizeof(ask));
    ask.kind = CA_SUBMIT_ORG;
    ask.org_id = org_id;
    ask.profile = ca_profile_from_name(cacert_field(q->pg, "profile"));
    ask.unit = cacert_field(q->pg, "unit");
    ask.cn = cacert_field(q->pg, "cn");
    ask.emails = word_list(cacert_field(q->pg, "emails"), p);
    ask.hosts = word_list(cacert_field(q->pg, "hosts"), p);
    ask.md = cacert_field(q->pg, "md");
    ask.csr = cacert_field(q->pg, "csr");
    ask.csr_len = strlen(ask.csr);
    rv = ca_issue_submit(&req_id, &refusal, q->pg->db, q->pg->sess->member_id, &ask, &sc, p);
    if (rv == APR_EACCES) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA45701: member %s is no O-Admin of organisation %s",
                      q->pg->sess->member_id, org_id ? org_id : "(none)");
        return page_message(q->pg, "title.certs_org", "err.org.notadmin", HTTP_FORBIDDEN);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(q, rv, "organisation certificate request");
    }
    if (!req_id) {
        return org_render(q, org_id, refusal.key, HTTP_UNPROCESSABLE_ENTITY);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "CA45702: member %s asked for an %s certificate of organisation %s"
                  " (request %s)", q->pg->sess->member_id, ca_profile_name(ask.profile),
                  org_id, req_id);
    return redirect(q, apr_pstrcat(p, "wait?id=", req_id, NULL));
}

typedef struct {
    const char *path;
    int (*fn)(iss_req_t *q);
    int get, post;
} route_t;

/* OpenPGP key signing: the pages are in issue_openpgp.c */
static int pgp_off(iss_req_t *q)
{
    return page_message(q->pg, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
}
static int page_pgp_list(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_list(q->pg, &q->cfg->pgp) : pgp_off(q);
}
static int page_pgp_key(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_key(q->pg, &q->cfg->pgp) : pgp_off(q);
}
static int page_pgp_wait(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_wait(q->pg, &q->cfg->pgp, cfg_time(q->cfg->wait, 10))
                              : pgp_off(q);
}
static int page_pgp_download(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_download(q->pg, &q->cfg->pgp) : pgp_off(q);
}
static int page_pgp_resign(iss_req_t *q)
{
    return q->cfg->pgp.loaded ? iss_pgp_page_resign(q->pg, &q->cfg->pgp) : pgp_off(q);
}

static const route_t routes[] = {
    { "",         page_list,     1, 0 },
    { "new",      page_new,      1, 1 },
    { "wait",     page_wait,     1, 0 },
    { "view",     page_view,     1, 0 },
    { "download", page_download, 1, 0 },
    { "revoke",   page_revoke,   0, 1 },
    { "edit",     page_edit,     0, 1 },
    { "renew",    page_renew,    0, 1 },
    { "openpgp",          page_pgp_list,     1, 1 },
    { "openpgp_key",      page_pgp_key,      1, 1 },
    { "openpgp_wait",     page_pgp_wait,     1, 0 },
    { "openpgp_download", page_pgp_download, 1, 0 },
    { "openpgp_resign",   page_pgp_resign,   0, 1 },
    { "org",      page_org,      1, 1 },
    { NULL, NULL, 0, 0 }
};

static int certs_handler(request_rec *r)
{
    static const char *const text_fields[] = { "csr", "key", NULL };
    const char *slash;
    const route_t *rt;
    iss_req_t q;
    int rc;

    slash = strrchr(r->uri, '/');
    if (!slash) {
        return DECLINED;
    }
    for (rt = routes; rt->path; rt++) {
        if (!strcmp(rt->path, slash + 1)) {
            break;
        }
    }
    if (rt->path && !((r->method_number == M_GET && rt->get)
                      || (r->method_number == M_POST && rt->post))) {
        r->allowed = (rt->get ? (AP_METHOD_BIT << M_GET) : 0)
                     | (rt->post ? (AP_METHOD_BIT << M_POST) : 0);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    q.r = r;
    q.cfg = ap_get_module_config(r->server->module_config, &cacert_issue_module);
    if ((rc = page_start(&q.pg, r, 1, text_fields)) != OK) {
        return rc;
    }
    if (!rt->path) {
        return page_message(q.pg, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
    }
    return rt->fn(&q);
}

static void ca_item(ca_tmpl_ctx_t *ctx, const issuer_t *is, int crl, apr_pool_t *p)
{
    const unsigned char *d = is->der;
    X509 *x = d2i_X509(NULL, &d, (long)is->der_len);
    ca_tmpl_ctx_t *item = ca_tmpl_add_item(ctx, "cas");
    unsigned char md[32];
    unsigned int n = 0, i;
    char *fp;

    ca_tmpl_set(item, "name", is->name);
    if (crl) {
        ca_tmpl_set(item, "crl", "1");
    }
    if (!x) {
        return;
    }
    {
        BIO *b = BIO_new(BIO_s_mem());
        char *mem;
        long len;
        X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
        len = BIO_get_mem_data(b, &mem);
        ca_tmpl_set(item, "subject", apr_pstrmemdup(p, mem, (apr_size_t)len));
        BIO_free(b);
    }
    X509_digest(x, EVP_sha256(), md, &n);
    fp = apr_palloc(p, 3 * n + 1);
    for (i = 0; i < n; i++) {
        apr_snprintf(fp + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
    }
    ca_tmpl_set(item, "sha256", fp);
    X509_free(x);
}

/* /pki/: the page that lists the CA certificates and CRLs */
static int pki_page(request_rec *r, iss_srv_cfg *c)
{
    cacert_page_t *pg;
    int rc, i;

    if ((rc = page_start(&pg, r, -1, NULL)) != OK) {
        return rc;
    }
    if (c->root) {
        ca_item(pg->ctx, c->root, 0, r->pool);
    }
    for (i = 0; i < c->issuers->nelts; i++) {
        ca_item(pg->ctx, &APR_ARRAY_IDX(c->issuers, i, issuer_t), 1, r->pool);
    }
    iss_pgp_pki_vars(pg->ctx, &c->pgp);
    return page_render(pg, "pki.html", HTTP_OK);
}

/* /pki/: CA certificates and CRLs, for anyone */
static int pki_handler(request_rec *r)
{
    iss_srv_cfg *c = ap_get_module_config(r->server->module_config, &cacert_issue_module);
    APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *acquire;
    const char *name = strrchr(r->uri, '/'), *dot;
    issuer_t *is;

    if (r->method_number != M_GET) {
        r->allowed = AP_METHOD_BIT << M_GET;
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (name && !name[1]) {
        return pki_page(r, c);
    }
    if (!name || !(dot = strrchr(++name, '.'))) {
        return HTTP_NOT_FOUND;
    }
    if (!strcmp(name, "openpgp.asc")) {
        return iss_pgp_pki_file(r, &c->pgp);
    }
    {
        const char *ca = apr_pstrmemdup(r->pool, name, (apr_size_t)(dot - name));
        is = !strcmp(ca, "root") ? c->root : find_issuer(c, ca);
        if (!is) {
            return HTTP_NOT_FOUND;
        }
        if (!strcmp(dot, ".crt") || !strcmp(dot, ".pem")) {
            return send_body(r, "application/x-pem-file", NULL, is->pem, strlen(is->pem));
        }
        if (!strcmp(dot, ".der") || !strcmp(dot, ".cer")) {
            return send_body(r, "application/pkix-cert", NULL, is->der, is->der_len);
        }
        if (!strcmp(dot, ".crl") && is != c->root) {
            ap_dbd_t *dbd;
            ca_db_t db;
            const unsigned char *der;
            apr_size_t len;
            apr_status_t rv;
            acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
            if (!acquire || !(dbd = acquire(r))) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                              "CA21204: no database connection for the CRL");
                return HTTP_SERVICE_UNAVAILABLE;
            }
            memset(&db, 0, sizeof(db));
            db.driver = dbd->driver;
            db.handle = dbd->handle;
            db.prepared = dbd->prepared;
            rv = ca_issue_latest_crl(&der, &len, &db, ca, r->pool);
            if (rv == APR_NOTFOUND) {
                return HTTP_NOT_FOUND;
            }
            if (rv != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            return send_body(r, "application/pkix-crl", NULL, der, len);
        }
    }
    return HTTP_NOT_FOUND;
}

static int iss_handler(request_rec *r)
{
    if (!r->handler) {
        return DECLINED;
    }
    if (!strcmp(r->handler, HANDLER_CERTS)) {
        if (!page_start) {
            retrieve_fns();
        }
        return certs_handler(r);
    }
    if (!strcmp(r->handler, HANDLER_PKI)) {
        if (!page_headers) {
            retrieve_fns();
        }
        return pki_handler(r);
    }
    return DECLINED;
}

static void iss_optional_fns(void)
{
    retrieve_fns();
}

/* the statements of the tables this module uses, for mod_dbd */
static const ca_stmt_t *const iss_stmts[] = {
    ca_account_stmts, ca_domain_stmts, ca_issue_stmts, ca_org_stmts, ca_pgpkeys_stmts,
    ca_roles_stmts, ca_submit_stmts, NULL
};

static int iss_prepare(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    return prepare_stmts(pconf, s, iss_stmts);
}

static void register_hooks(apr_pool_t *p)
{
    static const char *const dbd[] = { "mod_dbd.c", NULL };

    ap_hook_post_config(iss_prepare, NULL, dbd, APR_HOOK_MIDDLE);
    ap_hook_post_config(iss_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(iss_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(iss_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(iss_optional_fns, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA cacert_issue_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    create_srv_cfg,
    merge_srv_cfg,
    iss_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
