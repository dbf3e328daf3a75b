/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_account's mails: the core's pings and reset links, and the
 * mails of the other modules (cacert_mail, mod_cacert.h), rendered from
 * templates/mail/ in the member's language and handed to the SMTP relay. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "ca_tmpl.h"
#include "ca_smtp.h"
#include "ca_mail.h"
#include "account_private.h"

APLOG_USE_MODULE(cacert_account);

static apr_status_t deliver(acc_srv_cfg *c, const char *lang, const char *tmpl,
                            ca_tmpl_ctx_t *m, const char *address, apr_pool_t *p);

apr_status_t acc_send_mail(void *baton, const char *kind, const char *address,
                              const char *id, const char *secret, apr_pool_t *p)
{
    req_t *q = baton;
    acc_srv_cfg *c = q->cfg;
    ca_tmpl_ctx_t *m = ca_tmpl_ctx_make(NULL, p);
    const char *tmpl, *lang = q->lang, *owner_lang;

    ca_tmpl_set(m, "address", address);
    ca_tmpl_set(m, "site", c->site_url);
    if (!strcmp(kind, "taken") || !strcmp(kind, "address_taken")) {
        /* somebody registered with an address that has an account, or
         * asked to add it to theirs */
        tmpl = !strcmp(kind, "taken") ? "mail/register_taken.txt" : "mail/address_taken.txt";
        /* to the address's owner: in their language, not the visitor's */
        if (ca_account_owner_language(&owner_lang, &q->db, address, p) == APR_SUCCESS
            && ca_i18n_has_lang(c->i18n, owner_lang)) {
            lang = owner_lang;
        }
        ca_tmpl_set(m, "login", apr_pstrcat(p, c->site_url, q->base, "/login", NULL));
        ca_tmpl_set(m, "lost", apr_pstrcat(p, c->site_url, q->base, "/lost", NULL));
    }
    else if (!strcmp(kind, "reset")) {
        tmpl = "mail/reset.txt";
        ca_tmpl_set(m, "link", apr_pstrcat(p, c->site_url, q->base, "/reset?t=",
                                           secret, NULL));
        ca_tmpl_setf(m, "minutes", "%" APR_TIME_T_FMT,
                     apr_time_sec(c->acc.reset_lifetime) / 60);
    }
    else {
        tmpl = !strcmp(kind, "register") ? "mail/ping_register.txt" : "mail/ping_email.txt";
        ca_tmpl_set(m, "code", secret);
        ca_tmpl_set(m, "link", apr_pstrcat(p, c->site_url, q->base, "/confirm?id=", id,
                                           "&code=", secret, NULL));
        ca_tmpl_set(m, "confirm_url", apr_pstrcat(p, c->site_url, q->base, "/confirm",
                                                  NULL));
        ca_tmpl_setf(m, "hours", "%" APR_TIME_T_FMT,
                     apr_time_sec(c->acc.ping_lifetime) / 3600);
    }
    return deliver(c, lang, tmpl, m, address, p);
}

/* render a mail template in lang and hand it to the SMTP relay */
static apr_status_t deliver(acc_srv_cfg *c, const char *lang, const char *tmpl,
                            ca_tmpl_ctx_t *m, const char *address, apr_pool_t *p)
{
    const char *text, *subject, *body, *msgtext;
    apr_size_t len;
    apr_status_t rv;

    rv = ca_i18n_render(&text, &len, c->i18n, lang, tmpl, m, p);
    if (rv == APR_SUCCESS) {
        rv = ca_mail_split(&subject, &body, text, p);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, acc_log_server(), "CA20201: mail template %s",
                     tmpl);
        return rv;
    }
    rv = ca_mail_compose(&msgtext, &len, c->mail_from, address, subject, body,
                         apr_time_now(), p);
    if (rv == APR_SUCCESS) {
        rv = ca_smtp_send(&c->smtp, ca_mail_addr(c->mail_from, p), address, msgtext,
                          len, p);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, acc_log_server(),
                     "CA20202: mail (%s) could not be handed to %s:%d", tmpl,
                     c->smtp.host, (int)c->smtp.port);
    }
    return rv;
}

/* mails of other modules (mod_cacert.h): the layout's site variables are
 * set, the member's language chosen with fallback */
apr_status_t cacert_mail(server_rec *s, const char *lang, const char *tmpl,
                                ca_tmpl_ctx_t *m, const char *address, apr_pool_t *p)
{
    acc_srv_cfg *c = acc_cfg_of(s);

    if (!c->i18n) {
        return APR_EINIT;
    }
    ca_tmpl_set(m, "address", address);
    ca_tmpl_set(m, "site", c->site_url);
    ca_tmpl_set(m, "account", apr_pstrcat(p, c->site_url, ACC_CFG(c, account_path), NULL));
    ca_tmpl_set(m, "certs", apr_pstrcat(p, c->site_url, ACC_CFG(c, certs_path), NULL));
    if (!lang || !ca_i18n_has_lang(c->i18n, lang)) {
        lang = ACC_CFG(c, default_lang);
    }
    return deliver(c, lang, tmpl, m, address, p);
}

