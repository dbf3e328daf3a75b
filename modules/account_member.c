/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_account's pages for members: the overview, the password,
 * the email addresses and the identity. */
#include <string.h>
#include <stdio.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include "ca_tmpl.h"
#include "ca_valid.h"
#include "ca_account.h"
#include "account_private.h"

APLOG_USE_MODULE(cacert_account);

static void identity_vars(req_t *q)
{
    ca_session_t *s = q->sess;

    ca_tmpl_set(q->ctx, "given", s->given);
    ca_tmpl_set(q->ctx, "middle", s->middle);
    ca_tmpl_set(q->ctx, "family", s->family);
    ca_tmpl_set(q->ctx, "suffix", s->suffix);
    ca_tmpl_set(q->ctx, "dob", s->dob);
}

/* rows of the address list on one page (a row with its remove form is about
 * 440 bytes; the templates stop at 1 MiB) */
#define EMAILS_PAGE 500

/* the page of the member's addresses that the argument arg names (page 1
 * without it), with a pager whose links start with url: APR_NOTFOUND for a
 * page that does not exist */
static apr_status_t emails_vars(req_t *q, const char *url, const char *arg)
{
    apr_array_header_t *emails;
    apr_status_t rv;
    int i, first, last;

    rv = ca_account_emails(&emails, &q->db, q->sess->member_id, q->r->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cacert_list_page(&first, &last, q->ctx, "emails_pager", url, arg, emails->nelts,
                         EMAILS_PAGE, q->r->pool)
        != 0) {
        return APR_NOTFOUND;
    }
    for (i = first; i < last; i++) {
        ca_email_t *e = &APR_ARRAY_IDX(emails, i, ca_email_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->ctx, "emails");
        ca_tmpl_set(item, "id", e->id);
        ca_tmpl_set(item, "address", e->address);
        ca_tmpl_set(item, "primary", e->primary ? "1" : NULL);
        ca_tmpl_set(item, "verified", e->verified ? "1" : NULL);
        ca_tmpl_set(item, "pending", e->pending ? "1" : NULL);
        ca_tmpl_set(item, "expired", !e->verified && !e->pending ? "1" : NULL);
    }
    return APR_SUCCESS;
}

static int page_overview(req_t *q)
{
    int points = 0;
    apr_status_t rv;

    identity_vars(q);
    rv = ca_account_points(&points, &q->db, q->sess->member_id, q->r->pool);
    if (rv == APR_SUCCESS) {
        /* the first page; the pager leads on to the address page */
        rv = emails_vars(q, apr_pstrcat(q->r->pool, q->base, "/emails?p=", NULL), NULL);
    }
    if (rv != APR_SUCCESS) {
        return acc_internal_error(q, rv, "overview");
    }
    ca_tmpl_setf(q->ctx, "points", "%d", points);
    return acc_render(q, "overview.html", HTTP_OK);
}

static int page_password(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    const char *refusal;
    apr_status_t rv;

    if (q->r->method_number == M_GET) {
        return acc_render(q, "password.html", HTTP_OK);
    }
    acc_decoder_errors(q);
    if (!*acc_fval(q, "current")) {
        acc_field_error(q, "current", "err.password.required");
    }
    /* the core applies the password policy (with the member's names and
     * addresses) before it looks at the current password; an empty
     * current password fails there and keeps the message above */
    if (!q->form_errors || apr_is_empty_table(q->form_errors)) {
        rv = ca_account_change_password(&refusal, &q->db, &q->cfg->acc, q->sess,
                                        acc_fval(q, "current"), acc_fval(q, "password"),
                                        acc_fval(q, "password2"), p);
        if (rv == APR_SUCCESS) {
            return acc_message(q, "title.password", "ok.password", HTTP_OK);
        }
        if (rv == APR_EINVAL) {
            acc_field_error(q, "password", refusal);
        }
        else if (rv == APR_EMISMATCH) {
            acc_field_error(q, "current", "err.password.current");
        }
        else {
            return acc_internal_error(q, rv, "password change");
        }
    }
    return acc_render(q, "password.html", HTTP_UNPROCESSABLE_ENTITY);
}

static int page_emails(req_t *q)
{
    apr_pool_t *p = q->r->pool;
    const char *action, *address, *e;
    apr_status_t rv;
    int status = HTTP_OK;

    if (q->r->method_number == M_POST) {
        acc_decoder_errors(q);
        action = acc_fval(q, "action");
        if (!strcmp(action, "add")) {
            address = ca_email_canonical(ca_trim(acc_fval(q, "email"), p), p);
            if ((e = ca_valid_email(address))) {
                acc_field_error(q, "email", e);
                acc_keep(q, "email");
                status = HTTP_UNPROCESSABLE_ENTITY;
            }
            else {
                rv = ca_account_add_email(&q->db, &q->cfg->acc, q->sess->member_id,
                                          address, acc_send_mail, q, p);
                if (rv == APR_SUCCESS) {
                    acc_set_msg(q, "notice", "ok.email.added");
                    ca_tmpl_set(q->ctx, "notice_address", address);
                }
                else if (rv == APR_EEXIST) {
                    acc_field_error(q, "email", "err.email.yours");
                    acc_keep(q, "email");
                    status = HTTP_UNPROCESSABLE_ENTITY;
                }
                else {
                    acc_set_msg(q, "error", "err.mail_or_db");
                    acc_keep(q, "email");
                    status = HTTP_SERVICE_UNAVAILABLE;
                }
            }
        }
        else if (!strcmp(action, "remove")) {
            rv = ca_account_remove_email(&q->db, q->sess->member_id, acc_fval(q, "id"), p);
            if (rv == APR_SUCCESS) {
                acc_set_msg(q, "notice", "ok.email.removed");
            }
            else if (rv == APR_NOTFOUND) {
                acc_set_msg(q, "error", "err.email.notremovable");
                status = HTTP_UNPROCESSABLE_ENTITY;
            }
            else {
                return acc_internal_error(q, rv, "email removal");
            }
        }
        else {
            status = acc_unknown_action(q);
        }
    }
    if ((rv = emails_vars(q, "?p=", cacert_query_arg(q->r, "p"))) == APR_NOTFOUND) {
        return acc_message(q, "title.emails", "err.nopage", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return acc_internal_error(q, rv, "email list");
    }
    return acc_render(q, "emails.html", status);
}

static int page_profile(req_t *q)
{
    const char *given, *middle, *family, *suffix, *dob;
    apr_status_t rv;
    int points = 0;

    rv = ca_account_points(&points, &q->db, q->sess->member_id, q->r->pool);
    if (rv != APR_SUCCESS) {
        return acc_internal_error(q, rv, "points");
    }
    if (points > 0) {
        ca_tmpl_set(q->ctx, "locked", "1");
        identity_vars(q);
        if (q->r->method_number == M_POST) {
            acc_set_msg(q, "error", "err.identity.assured");
            return acc_render(q, "profile.html", HTTP_FORBIDDEN);
        }
        return acc_render(q, "profile.html", HTTP_OK);
    }
    if (q->r->method_number == M_GET) {
        int y = 0, m = 0, d = 0;
        ca_session_t *s = q->sess;
        ca_tmpl_set(q->ctx, "v_given", s->given);
        ca_tmpl_set(q->ctx, "v_middle", s->middle);
        ca_tmpl_set(q->ctx, "v_family", s->family);
        ca_tmpl_set(q->ctx, "v_suffix", s->suffix);
        if (sscanf(s->dob, "%d-%d-%d", &y, &m, &d) == 3) {
            ca_tmpl_setf(q->ctx, "v_dob_year", "%d", y);
            ca_tmpl_setf(q->ctx, "v_dob_month", "%d", m);
            ca_tmpl_setf(q->ctx, "v_dob_day", "%d", d);
        }
        acc_name_fields(q);
        return acc_render(q, "profile.html", HTTP_OK);
    }
    acc_decoder_errors(q);
    if (acc_check_identity(q, &given, &middle, &family, &suffix, &dob)
        && !ca_tmpl_get(q->ctx, "has_errors")) {
        rv = ca_account_set_identity(&q->db, q->sess->member_id, given, middle, family,
                                     suffix, dob, q->r->pool);
        if (rv == APR_SUCCESS) {
            return acc_message(q, "title.profile", "ok.identity", HTTP_OK);
        }
        if (rv != APR_EACCES) {
            return acc_internal_error(q, rv, "identity change");
        }
        acc_set_msg(q, "error", "err.identity.assured");
    }
    acc_keep_identity(q);
    acc_name_fields(q);
    return acc_render(q, "profile.html", HTTP_UNPROCESSABLE_ENTITY);
}


const cacert_route_t acc_member_routes[] = {
    { "", CACERT_GET, 1, 0, 0, NULL, page_overview },
    { "password", CACERT_GET | CACERT_POST, 1, 0, 0, NULL, page_password },
    { "emails", CACERT_GET | CACERT_POST, 1, 0, 0, NULL, page_emails },
    { "profile", CACERT_GET | CACERT_POST, 1, 0, 0, NULL, page_profile },
    { NULL }
};
