/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_account: the member's door -- registration, email pings,
 * login and sessions, lost password, addresses and identity, and the
 * domain pages.
 *
 * Thin glue: the hooks, the dispatcher and the module (this file); the
 * configuration, the page framework, the mails and the pages are in the
 * files account_private.h names.  The rules live in the core (src/), the
 * words in templates/. */
#include <string.h>

#include <apr_strings.h>
#include <apr_optional.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "ca_log.h"
#include "ca_tmpl.h"
#include "ca_smtp.h"
#include "ca_account.h"
#include "ca_domain.h"
#include "account_private.h"

APLOG_USE_MODULE(cacert_account);

#include "mod_cacert_glue.h"

server_rec *acc_log_server(void)
{
    return log_server;
}

/* ---- start-up ---- */

static int acc_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare;
    apr_hash_t *loaded = apr_hash_make(ptemp);
    server_rec *sp;

    log_server = s;
    ca_log_set_sink(log_sink, NULL);
    dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);

    for (sp = s; sp; sp = sp->next) {
        acc_srv_cfg *c = acc_cfg_of(sp);
        ca_account_cfg_t *a = &c->acc;
        const char *err, *key;
        apr_status_t rv;

        if (!c->template_dir && !c->site_url && !c->mail_from) {
            continue;       /* the module is not used in this server */
        }
        if (!c->template_dir || !c->site_url || !c->mail_from) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp,
                         "CA20001: mod_cacert_account needs CAcertTemplateDir, "
                         "CAcertSiteURL and CAcertMailFrom (server %s:%d)",
                         sp->server_hostname, (int)sp->port);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!dbd_prepare) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp,
                         "CA20002: mod_cacert_account needs mod_dbd to be loaded");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        key = apr_pstrcat(ptemp, c->template_dir, "|", c->locale_dir ? c->locale_dir : "",
                          "|", ACC_CFG(c, default_lang), NULL);
        c->i18n = apr_hash_get(loaded, key, APR_HASH_KEY_STRING);
        if (!c->i18n) {
            rv = ca_i18n_load(&c->i18n, c->template_dir, c->locale_dir,
                              ACC_CFG(c, default_lang), pconf);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, rv, sp,
                             "CA20003: cannot load templates from %s or the "
                             "catalogues from %s", c->template_dir,
                             c->locale_dir ? c->locale_dir : "(CAcertLocaleDir not set)");
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            if (!c->locale_dir) {
                ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sp,
                             "CA20004: no CAcertLocaleDir: the pages and mails are "
                             "in English only");
            }
            apr_hash_set(loaded, key, APR_HASH_KEY_STRING, c->i18n);
        }
        err = ca_smtp_parse_server(&c->smtp, ACC_CFG(c, smtp_spec), pconf);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp, "CA20005: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        c->smtp.timeout = ACC_CFG(c, smtp_timeout);
        c->smtp.helo = sp->server_hostname ? sp->server_hostname : "localhost";

        a->ping_lifetime = ACC_CFG(c, ping_lifetime);
        a->ping_attempts = ACC_CFG(c, ping_attempts);
        a->pw_minlen = ACC_CFG(c, pw_minlen);
        a->session_idle = ACC_CFG(c, session_idle);
        a->session_max = ACC_CFG(c, session_max);
        a->login_fail_account = ACC_CFG(c, login_fail_account);
        a->login_fail_client = ACC_CFG(c, login_fail_client);
        a->login_fail_window = ACC_CFG(c, login_fail_window);
        a->login_delay_max = ACC_CFG(c, login_delay_max);
        a->lost_fail_max = ACC_CFG(c, lost_fail_max);
        a->lost_fail_window = ACC_CFG(c, lost_fail_window);
        a->reset_lifetime = ACC_CFG(c, reset_lifetime);
        a->register_per_client = ACC_CFG(c, register_per_client);
        a->argon2.t_cost = (uint32_t)ACC_CFG(c, argon2_t);
        a->argon2.m_cost = (uint32_t)ACC_CFG(c, argon2_m);
        a->argon2.lanes = (uint32_t)ACC_CFG(c, argon2_p);
        a->dummy_hash = ca_pw_dummy_hash(&a->argon2, pconf);
        if (!a->dummy_hash) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, sp,
                         "CA20006: cannot compute an Argon2id hash with these parameters");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* ---- requests ---- */

/* the account's pages: a path not among them is answered without a
 * session; the login page says goodbye after a logout */
static int account_dispatch(request_rec *r)
{
    static const cacert_route_t *const tables[] = { acc_visitor_routes, acc_member_routes,
                                                    NULL };
    acc_srv_cfg *cfg = acc_cfg_of(r->server);
    const cacert_route_t *rt;
    req_t *q;
    int rc;

    if (!cfg->i18n) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CA20104: handler %s used in a server without CAcertTemplateDir",
                      ACC_HANDLER);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!(q = acc_req_make(r, cfg))) {
        return DECLINED;
    }
    rt = cacert_route_find(tables, q->path);
    if (!rt) {
        acc_common_vars(q);
        return acc_message(q, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
    }
    if ((rc = cacert_route_method(r, rt)) != OK) {
        return rc;
    }
    q->text_fields = rt->text_fields;
    if ((rc = acc_page_begin(q, rt->login, (rt->methods & CACERT_POST) != 0)) != OK) {
        return rc;
    }
    if (r->method_number == M_GET && q->r->args && !strcmp(q->path, "login")
        && strstr(q->r->args, "bye=1")) {
        acc_set_msg(q, "notice", "ok.logout");
    }
    return rt->fn(q);
}

/* the domain pages (account_domain.c): started as the other modules start
 * theirs (cacert_page_start); a path not among them is for members */
static int domain_dispatch(request_rec *r)
{
    static const cacert_route_t *const tables[] = { account_domain_routes, NULL };
    const char *slash = strrchr(r->uri, '/');
    const cacert_route_t *rt;
    req_t *q;
    int rc;

    if (!slash) {
        return DECLINED;
    }
    rt = cacert_route_find(tables, slash + 1);
    if (rt && (rc = cacert_route_method(r, rt)) != OK) {
        return rc;
    }
    if ((rc = acc_page_start(&q, r, rt ? rt->login : 1, NULL)) != OK) {
        return rc;
    }
    if (!rt) {
        return acc_message(q, "title.notfound", "err.notfound", HTTP_NOT_FOUND);
    }
    return rt->fn(q);
}

static int acc_handler(request_rec *r)
{
    static const cacert_handler_t handlers[] = {
        { ACC_HANDLER, account_dispatch }, { DOMAIN_HANDLER, domain_dispatch }, { NULL }
    };

    return cacert_handle(r, handlers);
}

static const char *cacert_msg_text(server_rec *s, const char *key)
{
    acc_srv_cfg *c = acc_cfg_of(s);

    return c->i18n ? ca_i18n_msg(c->i18n, ACC_CFG(c, default_lang), key) : NULL;
}

static const ca_stmt_t *const acc_stmts[] = { ca_account_stmts, ca_domain_stmts, NULL };

static void register_hooks(apr_pool_t *p)
{
    static const char *const succ[] = { "mod_dbd.c", NULL };

    cacert_hook_module(acc_stmts, NULL, NULL, acc_handler);
    ap_hook_post_config(acc_post_config, NULL, succ, APR_HOOK_MIDDLE);
    APR_REGISTER_OPTIONAL_FN(cacert_page_start);
    APR_REGISTER_OPTIONAL_FN(cacert_page_render);
    APR_REGISTER_OPTIONAL_FN(cacert_page_message);
    APR_REGISTER_OPTIONAL_FN(cacert_page_set_msg);
    APR_REGISTER_OPTIONAL_FN(cacert_page_headers);
    APR_REGISTER_OPTIONAL_FN(cacert_mail);
    APR_REGISTER_OPTIONAL_FN(cacert_msg_text);
    account_domain_register_hooks(p);
}

CACERT_MODULE(cacert_account_module, acc_);
