/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_account's pages for visitors: registration and its email
 * ping, login (password or client certificate), logout, lost password
 * and reset, the language chooser. */
#include <string.h>
#include <stdio.h>

#include <apr_strings.h>
#include <apr_optional.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <mod_ssl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca_tmpl.h"
#include "ca_form.h"
#include "ca_valid.h"
#include "ca_account.h"
#include "account_private.h"

APLOG_USE_MODULE(cacert_account);

/* ---- pages ---- */

void acc_name_fields(req_t *q)
{
    ca_tmpl_ctx_t *item;
    const char *cur = ca_tmpl_get(q->ctx, "v_suffix");
    int i;

    for (i = 0; ca_name_suffixes[i]; i++) {
        item = ca_tmpl_add_item(q->ctx, "suffixes");
        ca_tmpl_set(item, "value", ca_name_suffixes[i]);
        if (cur && !strcmp(cur, ca_name_suffixes[i])) {
            ca_tmpl_set(item, "selected", "1");
        }
    }
}

/* the name and date-of-birth fields shared by registration and profile;
 * returns 1 if they are all valid */
int acc_check_identity(req_t *q, const char **pgiven, const char **pmiddle,
                       const char **pfamily, const char **psuffix, const char **pdob)
{
    apr_pool_t *p = q->r->pool;
    const char *e;
    int ok = 1;

    *pgiven = ca_trim(acc_fval(q, "given"), p);
    *pmiddle = ca_trim(acc_fval(q, "middle"), p);
    *pfamily = ca_trim(acc_fval(q, "family"), p);
    *psuffix = acc_fval(q, "suffix");
    if ((e = ca_valid_name(*pgiven, 1, 64))) { acc_field_error(q, "given", e); ok = 0; }
    if ((e = ca_valid_name(*pmiddle, 0, 64))) { acc_field_error(q, "middle", e); ok = 0; }
    if ((e = ca_valid_name(*pfamily, 1, 64))) { acc_field_error(q, "family", e); ok = 0; }
    if ((e = ca_valid_suffix(*psuffix))) { acc_field_error(q, "suffix", e); ok = 0; }
    e = ca_valid_dob(pdob, ca_trim(acc_fval(q, "dob_year"), p),
                     ca_trim(acc_fval(q, "dob_month"), p), ca_trim(acc_fval(q, "dob_day"), p),
                     apr_time_now(), p);
    if (e) {
        acc_field_error(q, "dob", e);
        ok = 0;
    }
    return ok;
}

void acc_keep_identity(req_t *q)
{
    acc_keep(q, "given");
    acc_keep(q, "middle");
    acc_keep(q, "family");
    acc_keep(q, "suffix");
    acc_keep(q, "dob_day");
    acc_keep(q, "dob_month");
    acc_keep(q, "dob_year");
}

static void question_fields(req_t *q, int with_answers)
{
    int i;

    for (i = 1; i <= 5; i++) {
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->ctx, "questions");
        const char *qn = apr_psprintf(q->r->pool, "q%d", i);
        const char *an = apr_psprintf(q->r->pool, "a%d", i);
        const char *e;
        ca_tmpl_setf(item, "n", "%d", i);
        ca_tmpl_set(item, "qname", qn);
        ca_tmpl_set(item, "aname", an);
        ca_tmpl_set(item, "question", acc_fval(q, qn));
        if (with_answers) {
            ca_tmpl_set(item, "answer", acc_fval(q, an));
        }
        if ((e = ca_tmpl_get(q->ctx, apr_pstrcat(q->r->pool, "err_", qn, NULL)))) {
            ca_tmpl_set(item, "err_q", e);
        }
        if ((e = ca_tmpl_get(q->ctx, apr_pstrcat(q->r->pool, "err_", an, NULL)))) {
            ca_tmpl_set(item, "err_a", e);
        }
    }
}

/* the query string's parameters within the limits of a page's links;
 * NULL when there is none or it is malformed */
static apr_table_t *query_args(req_t *q, const ca_form_limits_t *lim)
{
    apr_table_t *args, *errs;
    const char *err;

    if (!q->r->args || ca_form_parse(&args, &errs, &err, q->r->args, strlen(q->r->args), lim,
                                     q->r->pool) != APR_SUCCESS) {
        return NULL;
    }
    return args;
}

static int page_register(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_registration_t reg;
    const char *e, *member_id, **words;
    int i, idx, is_answer, ok, nwords;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        acc_name_fields(q);
        question_fields(q, 0);
        return acc_render(q, "register.html", HTTP_OK);
    }
    memset(&reg, 0, sizeof(reg));
    acc_decoder_errors(q);
    ok = acc_check_identity(q, &reg.given, &reg.middle, &reg.family, &reg.suffix, &reg.dob);
    reg.email = ca_trim(acc_fval(q, "email"), p);
    if ((e = ca_valid_email(reg.email))) {
        acc_field_error(q, "email", e);
        ok = 0;
    }
    reg.email = ca_email_canonical(reg.email, p);
    ca_registration_words(&words, &nwords, reg.given, reg.family, reg.email, p);
    reg.password = acc_fval(q, "password");
    e = ca_account_password_refusal(reg.password, acc_fval(q, "password2"), words, nwords,
                                    &q->cfg->acc, p);
    if (e) {
        acc_field_error(q, "password", e);
        ok = 0;
    }
    for (i = 0; i < 5; i++) {
        reg.questions[i] = ca_trim(acc_fval(q, apr_psprintf(p, "q%d", i + 1)), p);
        reg.answers[i] = ca_trim(acc_fval(q, apr_psprintf(p, "a%d", i + 1)), p);
    }
    if ((e = ca_valid_questions(&idx, &is_answer, reg.questions, reg.answers, p))) {
        acc_field_error(q, apr_psprintf(p, "%c%d", is_answer ? 'a' : 'q', idx + 1), e);
        ok = 0;
    }
    if (strcmp(acc_fval(q, "cca"), "yes")) {
        acc_field_error(q, "cca", "err.cca.required");
        ok = 0;
    }
    if (ok && !ca_tmpl_get(q->ctx, "has_errors")) {
        reg.language = q->lang;
        reg.cca_version = ACC_CFG(q->cfg, cca_version);
        reg.client_addr = acc_client_addr(q->r);
        if (!acc_need_db(q)) {
            return acc_internal_error(q, APR_EGENERAL, "database");
        }
        rv = ca_account_register(&member_id, &q->db, &q->cfg->acc, &reg, acc_send_mail, q, p);
        if (rv == APR_SUCCESS || rv == APR_EEXIST) {
            /* a taken address gets the same page: its owner got a mail */
            if (rv == APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                              "CA20301: member %s registered", member_id);
            }
            ca_tmpl_set(q->ctx, "address", reg.email);
            ca_tmpl_setf(q->ctx, "hours", "%" APR_TIME_T_FMT,
                         apr_time_sec(q->cfg->acc.ping_lifetime) / 3600);
            return acc_render(q, "register_done.html", HTTP_OK);
        }
        if (rv == APR_EINVAL) {
            acc_field_error(q, "password", "err.password.weak");
        }
        else if (rv == APR_EAGAIN) {
            acc_set_msg(q, "error", "err.register.throttled");
            q->status = HTTP_TOO_MANY_REQUESTS;
        }
        else {
            acc_set_msg(q, "error", "err.mail_or_db");
            q->status = HTTP_SERVICE_UNAVAILABLE;
        }
    }
    acc_keep_identity(q);
    acc_keep(q, "email");
    acc_name_fields(q);
    question_fields(q, 1);
    if (!strcmp(acc_fval(q, "cca"), "yes")) {
        ca_tmpl_set(q->ctx, "v_cca", "1");
    }
    acc_set_msg(q, "error_summary", "err.form");
    return acc_render(q, "register.html", q->status ? q->status : HTTP_UNPROCESSABLE_ENTITY);
}

static int page_confirm(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_ping_outcome_t out;
    const char *id, *code, *address, *key;
    apr_status_t rv;
    int status = HTTP_UNPROCESSABLE_ENTITY;

    if (q->r->method_number == M_GET) {
        ca_form_limits_t lim = { 2048, 8, 256, NULL, 0 };
        apr_table_t *args = query_args(q, &lim);
        if (args) {
            id = apr_table_get(args, "id");
            code = apr_table_get(args, "code");
            /* the link only fills in the form: a click confirms, so mail
             * scanners that fetch links do not confirm for the member */
            if (id && ca_is_id(id) && code) {
                ca_tmpl_set(q->ctx, "v_id", id);
                ca_tmpl_set(q->ctx, "v_code", code);
            }
        }
        return acc_render(q, "confirm.html", HTTP_OK);
    }
    acc_decoder_errors(q);
    id = acc_fval(q, "id");
    code = ca_trim(acc_fval(q, "code"), p);
    address = ca_trim(acc_fval(q, "email"), p);
    if (*id && !ca_is_id(id)) {
        id = "";
    }
    if (!*code) {
        acc_field_error(q, "code", "err.code.required");
    }
    if (!*id && ca_valid_email(address)) {
        acc_field_error(q, "email", "err.email.invalid");
    }
    if (!ca_tmpl_get(q->ctx, "has_errors")) {
        if (!acc_need_db(q)) {
            return acc_internal_error(q, APR_EGENERAL, "database");
        }
        rv = ca_account_confirm(&out, &address, &q->db, &q->cfg->acc, *id ? id : NULL,
                                *id ? NULL : address, code, acc_client_addr(q->r), p);
        if (rv != APR_SUCCESS) {
            return acc_internal_error(q, rv, "email confirmation");
        }
        if (out == CA_PING_OK) {
            ca_tmpl_set(q->ctx, "address", address);
            return acc_render(q, "confirm_done.html", HTTP_OK);
        }
        /* by address, one answer whatever the address: whether a
         * confirmation is pending for it is nobody else's business */
        key = out == CA_PING_THROTTLED ? "err.ping.throttled"
              : !*id ? "err.ping.address"
              : out == CA_PING_WRONG ? "err.ping.wrong"
              : out == CA_PING_EXPIRED ? "err.ping.expired" : "err.ping.unknown";
        acc_set_msg(q, "error", key);
        if (out == CA_PING_THROTTLED) {
            status = HTTP_TOO_MANY_REQUESTS;
        }
    }
    if (*id) {
        ca_tmpl_set(q->ctx, "v_id", id);
    }
    acc_keep(q, "email");
    return acc_render(q, "confirm.html", status);
}

static int page_login(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_login_outcome_t out;
    ca_session_t *sess;
    const char *address, *key;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        return acc_render(q, "login.html", HTTP_OK);
    }
    acc_decoder_errors(q);
    address = ca_email_canonical(ca_trim(acc_fval(q, "email"), p), p);
    if (ca_valid_email(address) || !*acc_fval(q, "password")) {
        acc_set_msg(q, "error", "err.login.bad");
        acc_keep(q, "email");
        return acc_render(q, "login.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if (!acc_need_db(q)) {
        return acc_internal_error(q, APR_EGENERAL, "database");
    }
    rv = ca_account_login(&out, &sess, &q->db, &q->cfg->acc, address, acc_fval(q, "password"),
                          acc_client_addr(q->r), p);
    if (rv != APR_SUCCESS) {
        return acc_internal_error(q, rv, "login");
    }
    if (out == CA_LOGIN_OK) {
        /* a new session id at every login; the old one, if any, ends */
        if (q->sess) {
            ca_session_end(&q->db, q->sess->token, p);
        }
        acc_set_cookie(q->r, COOKIE_SESSION, sess->token, -1);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r, "CA20302: member %s logged in",
                      sess->member_id);
        return cacert_redirect(q->r, q->base, "");
    }
    key = out == CA_LOGIN_THROTTLED ? "err.login.throttled"
          : out == CA_LOGIN_UNCONFIRMED ? "err.login.unconfirmed"
          : out == CA_LOGIN_LOCKED ? "err.login.locked" : "err.login.bad";
    acc_set_msg(q, "error", key);
    acc_keep(q, "email");
    return acc_render(q, "login.html", out == CA_LOGIN_THROTTLED ? HTTP_TOO_MANY_REQUESTS
                                                             : HTTP_UNPROCESSABLE_ENTITY);
}

/* the client certificate mod_ssl verified, as DER and serial (hex) */
static int client_cert(const unsigned char **pder, apr_size_t *plen, const char **pserial,
                       request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    const char *verify, *pem;
    const ASN1_INTEGER *sn;
    unsigned char *der = NULL;
    X509 *x = NULL;
    BIO *b;
    int n, i;
    char *hex;

    if (!lookup) {
        return 0;
    }
    verify = lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_VERIFY");
    pem = lookup(r->pool, r->server, r->connection, r, "SSL_CLIENT_CERT");
    if (!verify || strcmp(verify, "SUCCESS") || !pem || !*pem) {
        return 0;
    }
    b = BIO_new_mem_buf(pem, -1);
    x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x || (n = i2d_X509(x, &der)) <= 0) {
        X509_free(x);
        return 0;
    }
    *pder = apr_pmemdup(r->pool, der, (apr_size_t)n);
    *plen = (apr_size_t)n;
    OPENSSL_free(der);
    sn = X509_get0_serialNumber(x);
    hex = apr_palloc(r->pool, 2 * (apr_size_t)ASN1_STRING_length(sn) + 1);
    for (i = 0; i < ASN1_STRING_length(sn); i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", ASN1_STRING_get0_data(sn)[i]);
    }
    hex[2 * ASN1_STRING_length(sn)] = '\0';
    *pserial = hex;
    X509_free(x);
    return 1;
}

/* login with the client certificate the browser presented */
static int page_certlogin(req_t *q)
{
    const unsigned char *der;
    const char *serial, *key;
    apr_size_t len;
    ca_login_outcome_t out;
    ca_session_t *sess;
    apr_status_t rv;

    if (!client_cert(&der, &len, &serial, q->r)) {
        acc_set_msg(q, "error", "err.certlogin.none");
        return acc_render(q, "login.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    rv = ca_account_login_cert(&out, &sess, &q->db, &q->cfg->acc, der, len, serial,
                               acc_client_addr(q->r), q->r->pool);
    if (rv != APR_SUCCESS) {
        return acc_internal_error(q, rv, "certificate login");
    }
    if (out == CA_LOGIN_OK) {
        if (q->sess) {
            ca_session_end(&q->db, q->sess->token, q->r->pool);
        }
        acc_set_cookie(q->r, COOKIE_SESSION, sess->token, -1);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA20303: member %s logged in with certificate %s", sess->member_id,
                      serial);
        return cacert_redirect(q->r, q->base, "");
    }
    key = out == CA_LOGIN_LOCKED ? "err.login.locked"
          : out == CA_LOGIN_UNCONFIRMED ? "err.login.unconfirmed" : "err.certlogin.bad";
    acc_set_msg(q, "error", key);
    return acc_render(q, "login.html", HTTP_UNPROCESSABLE_ENTITY);
}

static int page_logout(req_t *q)
{
    if (q->sess) {
        apr_status_t rv = ca_session_end(&q->db, q->sess->token, q->r->pool);
        if (rv != APR_SUCCESS) {
            return acc_internal_error(q, rv, "logout");
        }
    }
    acc_set_cookie(q->r, COOKIE_SESSION, "", 0);
    return cacert_redirect(q->r, q->base, "login?bye=1");
}

static int page_lost(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    ca_lost_outcome_t out;
    apr_array_header_t *questions;
    const char *address, *dob, *e, *answers[5];
    apr_status_t rv;
    int i;

    if (q->r->method_number == M_GET) {
        return acc_render(q, "lost.html", HTTP_OK);
    }
    acc_decoder_errors(q);
    address = ca_email_canonical(ca_trim(acc_fval(q, "email"), p), p);
    if ((e = ca_valid_email(address))) {
        acc_field_error(q, "email", e);
    }
    e = ca_valid_dob(&dob, ca_trim(acc_fval(q, "dob_year"), p),
                     ca_trim(acc_fval(q, "dob_month"), p), ca_trim(acc_fval(q, "dob_day"), p),
                     apr_time_now(), p);
    if (e) {
        acc_field_error(q, "dob", e);
    }
    acc_keep(q, "email");
    acc_keep(q, "dob_day");
    acc_keep(q, "dob_month");
    acc_keep(q, "dob_year");
    if (ca_tmpl_get(q->ctx, "has_errors")) {
        return acc_render(q, "lost.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if (!acc_need_db(q)) {
        return acc_internal_error(q, APR_EGENERAL, "database");
    }
    if (strcmp(acc_fval(q, "step"), "answers")) {
        rv = ca_lost_questions(&out, &questions, &q->db, &q->cfg->acc, address, dob,
                               acc_client_addr(q->r), p);
        if (rv != APR_SUCCESS) {
            return acc_internal_error(q, rv, "lost password");
        }
        if (out == CA_LOST_OK) {
            for (i = 0; i < questions->nelts; i++) {
                ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->ctx, "questions");
                ca_tmpl_setf(item, "aname", "a%d", i + 1);
                ca_tmpl_setf(item, "n", "%d", i + 1);
                ca_tmpl_set(item, "question", APR_ARRAY_IDX(questions, i, const char *));
            }
            return acc_render(q, "lost_answers.html", HTTP_OK);
        }
    }
    else {
        for (i = 0; i < 5; i++) {
            answers[i] = ca_trim(acc_fval(q, apr_psprintf(p, "a%d", i + 1)), p);
        }
        rv = ca_lost_answer(&out, &q->db, &q->cfg->acc, address, dob, answers,
                            acc_client_addr(q->r), acc_send_mail, q, p);
        if (rv != APR_SUCCESS) {
            acc_set_msg(q, "error", "err.mail_or_db");
            return acc_render(q, "lost.html", HTTP_SERVICE_UNAVAILABLE);
        }
        if (out == CA_LOST_OK) {
            return acc_message(q, "title.lost", "ok.lost.sent", HTTP_OK);
        }
    }
    acc_set_msg(q, "error", out == CA_LOST_THROTTLED ? "err.lost.throttled" : "err.lost.nomatch");
    return acc_render(q, "lost.html", out == CA_LOST_THROTTLED ? HTTP_TOO_MANY_REQUESTS
                                                           : HTTP_UNPROCESSABLE_ENTITY);
}

static int page_reset(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    const char *token = NULL, *refusal;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        ca_form_limits_t lim = { 1024, 4, 128, NULL, 0 };
        apr_table_t *args = query_args(q, &lim);
        token = args ? apr_table_get(args, "t") : NULL;
    }
    else {
        acc_decoder_errors(q);
        token = acc_fval(q, "t");
    }
    if (!acc_need_db(q)) {
        return acc_internal_error(q, APR_EGENERAL, "database");
    }
    rv = ca_reset_check(&q->db, token, p);
    if (rv == APR_NOTFOUND) {
        return acc_message(q, "title.reset", "err.reset.invalid", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return acc_internal_error(q, rv, "reset check");
    }
    ca_tmpl_set(q->ctx, "v_t", token);
    if (q->r->method_number == M_GET) {
        return acc_render(q, "reset.html", HTTP_OK);
    }
    rv = ca_reset_apply(&refusal, &q->db, &q->cfg->acc, token, acc_fval(q, "password"),
                        acc_fval(q, "password2"), p);
    if (rv == APR_EINVAL) {
        acc_field_error(q, "password", refusal);
        return acc_render(q, "reset.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if (rv == APR_NOTFOUND) {
        return acc_message(q, "title.reset", "err.reset.invalid", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return acc_internal_error(q, rv, "password reset");
    }
    return acc_message(q, "title.reset", "ok.reset", HTTP_OK);
}

static int page_language(req_t *q)
{
    const char *lang = acc_fval(q, "lang");
    const char *back = acc_fval(q, "back");

    if (ca_i18n_has_lang(q->cfg->i18n, lang)) {
        acc_set_cookie(q->r, COOKIE_LANG, lang, apr_time_from_sec(365 * 86400));
        /* a member's choice is kept with the account: the mails sent to
         * them (by any module) are written in it */
        if (q->sess) {
            apr_status_t rv = ca_account_set_language(&q->db, q->sess->member_id, lang,
                                                      q->r->pool);
            if (rv != APR_SUCCESS) {
                return acc_internal_error(q, rv, "storing the chosen language");
            }
        }
    }
    /* only pages of this module, never an outside address */
    if (strlen(back) > 64 || strspn(back, "abcdefghijklmnopqrstuvwxyz") != strlen(back)) {
        back = "";
    }
    return cacert_redirect(q->r, q->base, back);
}

const cacert_route_t acc_visitor_routes[] = {
    { "register", CACERT_GET | CACERT_POST, 0, 0, 0, NULL, page_register },
    { "confirm", CACERT_GET | CACERT_POST, -1, 0, 0, NULL, page_confirm },
    { "login", CACERT_GET | CACERT_POST, -1, 0, 0, NULL, page_login },
    { "logout", CACERT_POST, -1, 0, 0, NULL, page_logout },
    { "certlogin", CACERT_POST, -1, 0, 0, NULL, page_certlogin },
    { "lost", CACERT_GET | CACERT_POST, 0, 0, 0, NULL, page_lost },
    { "reset", CACERT_GET | CACERT_POST, -1, 0, 0, NULL, page_reset },
    { "language", CACERT_POST, -1, 0, 0, NULL, page_language },
    { NULL }
};
