/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Pages of mod_cacert_assure (mod_cacert_assure.h): assurance entry face
 * to face (Assurers) and by TTP (TTP-admins), a member's TTP request, the
 * Assurer Challenge (an administrator's entry, and the import from the
 * external challenge system). */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>

#include "ca_form.h"
#include "ca_valid.h"
#include "ca_wot.h"
#include "mod_cacert_assure.h"

APLOG_USE_MODULE(cacert_assure);

/* ---- assurance entry: face to face (Assurers) and TTP (TTP-admins) ---- */

static void suffix_items(assure_req_t *q, const char *cur)
{
    int i;

    for (i = 0; ca_name_suffixes[i]; i++) {
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, "suffixes");
        ca_tmpl_set(item, "value", ca_name_suffixes[i]);
        if (cur && !strcmp(cur, ca_name_suffixes[i])) {
            ca_tmpl_set(item, "selected", "1");
        }
    }
}

/* render the entry form; step2: the details part */
static int entry_render(assure_req_t *q, ca_wot_kind_t kind, const char *action,
                        int step2, int status)
{
    ca_tmpl_ctx_t *ctx = q->pg->ctx;
    ca_points_rules_t rules;

    assure_points_rules(&rules, q->cfg);
    assure_keep_values(q);
    ca_tmpl_set(ctx, "action", action);
    if (kind != CA_WOT_FACE_TO_FACE) {
        ca_tmpl_set(ctx, "ttp_form", "1");
        ca_tmpl_setf(ctx, "max_points", "%d", kind == CA_WOT_TOPUP ? rules.topup_max
                                                                   : CA_POINTS_TTP_EACH);
        ca_tmpl_set(ctx, kind == CA_WOT_TOPUP ? "kind_topup" : "kind_ttp", "1");
    }
    else {
        ca_tmpl_setf(ctx, "max_points", "%d", assure_max_award(q));
    }
    ca_tmpl_set(ctx, apr_pstrcat(q->r->pool, "docsel_",
                                 *assure_form(q, "documents") ? assure_form(q, "documents")
                                                              : "2", NULL), "1");
    if (step2) {
        ca_tmpl_set(ctx, "step2", "1");
        suffix_items(q, assure_form(q, "suffix"));
    }
    return assure_render(q, "assure.html", status);
}

static ca_wot_kind_t kind_of(assure_req_t *q, int ttp)
{
    if (!ttp) {
        return CA_WOT_FACE_TO_FACE;
    }
    return !strcmp(assure_form(q, "kind"), "ttp-topup") ? CA_WOT_TOPUP : CA_WOT_TTP;
}

/* step 1: find the member by address; early, clear refusals */
static int entry_find(assure_req_t *q, const char *action, int ttp)
{
    const char *email = assure_trimmed(q, "email"), *key = NULL;
    ca_wot_kind_t kind = kind_of(q, ttp);
    ca_wot_assuree_t a;
    apr_status_t rv;

    if (ca_valid_email(email)) {
        assure_field_error(q, "email", "wot.email.invalid");
        return entry_render(q, kind, action, 0, HTTP_UNPROCESSABLE_ENTITY);
    }
    rv = ca_wot_assuree(&a, q->pg->db, email, q->r->pool);
    if (rv == APR_NOTFOUND) {
        key = "wot.assuree.unknown";
    }
    else if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, "assuree lookup");
    }
    else if (!strcmp(a.id, q->member_id)) {
        key = "wot.self";
    }
    else if (a.locked) {
        key = "wot.assuree.locked";
    }
    else if (!a.verified) {
        key = "wot.assuree.unverified";
    }
    if (key) {
        assure_field_error(q, "email", key);
        assure_set_msg(q, "error", key);
        return entry_render(q, kind, action, 0, HTTP_UNPROCESSABLE_ENTITY);
    }
    ca_tmpl_set(q->pg->ctx, "v_version", a.version);
    ca_tmpl_set(q->pg->ctx, "v_email", email);
    if (!*assure_form(q, "location") && !ttp) {
        ca_tmpl_set(q->pg->ctx, "v_date", assure_today(q->r->pool));
    }
    return entry_render(q, kind, action, 1, HTTP_OK);
}

static apr_status_t entry_mails(assure_req_t *q, const ca_wot_done_t *d,
                                const ca_wot_entry_t *e)
{
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, q->r->pool);
    apr_status_t rv, rv2;

    ca_tmpl_set(ctx, "assuree", d->assuree_given);
    ca_tmpl_set(ctx, "assurer", d->assurer_name);
    ca_tmpl_set(ctx, "assurer_given", d->assurer_given);
    ca_tmpl_setf(ctx, "points", "%d", e->points);
    ca_tmpl_setf(ctx, "total", "%d", d->assuree_points);
    ca_tmpl_set(ctx, "date", e->date);
    ca_tmpl_set(ctx, "location", e->location);
    ca_tmpl_set(ctx, "method", ca_wot_kind_name(e->kind));
    ca_tmpl_set(ctx, "ttp", e->kind == CA_WOT_FACE_TO_FACE ? NULL : e->ttp);
    /* the mails' links: CAcertSiteURL ({{site}}, set by cacert_mail) and
     * the path, never the Host header the client sent */
    ca_tmpl_set(ctx, "wot", q->pg->base);
    rv = d->assuree_email ? assure_mail(q, d->assuree_lang, "mail/assured.txt", ctx,
                                        d->assuree_email) : APR_SUCCESS;
    rv2 = d->assurer_email ? assure_mail(q, d->assurer_lang, "mail/assurance_given.txt", ctx,
                                         d->assurer_email) : APR_SUCCESS;
    return rv != APR_SUCCESS ? rv : rv2;
}

/* step 2: the details; everything checked again inside the transaction */
static int entry_enter(assure_req_t *q, const char *action, int ttp)
{
    apr_pool_t *p = q->r->pool;
    ca_wot_entry_t e;
    ca_wot_done_t done;
    ca_points_rules_t rules;
    const char *err, *refusal;
    int ok = 1, max;
    apr_status_t rv;

    memset(&e, 0, sizeof(e));
    assure_points_rules(&rules, q->cfg);
    e.kind = kind_of(q, ttp);
    e.assurer_id = q->member_id;
    e.email = assure_trimmed(q, "email");
    e.version = assure_form(q, "version");
    e.given = assure_form(q, "given");
    e.middle = assure_form(q, "middle");
    e.family = assure_form(q, "family");
    e.suffix = assure_form(q, "suffix");
    e.location = assure_trimmed(q, "location");
    e.date = assure_trimmed(q, "date");
    e.cca_agreed = !strcmp(assure_form(q, "cca"), "yes");
    e.face_to_face = !strcmp(assure_form(q, "f2f"), "yes");
    if (ca_valid_dob(&e.dob, assure_form(q, "dob_year"), assure_form(q, "dob_month"),
                     assure_form(q, "dob_day"), apr_time_now(), p)) {
        /* a date that cannot be a date of birth matches no account */
        assure_field_error(q, "dob", "wot.dob.invalid");
        ok = 0;
    }
    if (!*e.given || !*e.family) {
        assure_field_error(q, *e.given ? "family" : "given", "wot.name.required");
        ok = 0;
    }
    max = e.kind == CA_WOT_FACE_TO_FACE ? assure_max_award(q)
          : e.kind == CA_WOT_TOPUP ? rules.topup_max : CA_POINTS_TTP_EACH;
    if ((err = ca_wot_check_points(&e.points, assure_trimmed(q, "points"), max))) {
        assure_field_error(q, "points", err);
        ok = 0;
    }
    if ((err = ca_wot_check_date(e.date, assure_latest_date(p)))) {
        assure_field_error(q, "date", err);
        ok = 0;
    }
    if ((err = ca_wot_check_text(e.location, 200))) {
        assure_field_error(q, "location", err);
        ok = 0;
    }
    if ((err = ca_wot_check_documents(&e.documents, assure_form(q, "documents")))) {
        assure_field_error(q, "documents", err);
        ok = 0;
    }
    if (ttp) {
        e.ttp = assure_trimmed(q, "ttp");
        if ((err = ca_wot_check_text(e.ttp, 200))) {
            assure_field_error(q, "ttp", err);
            ok = 0;
        }
    }
    if (!e.cca_agreed || !e.face_to_face) {
        assure_field_error(q, "declarations", "wot.cap.declarations");
        ok = 0;
    }
    if (!ok) {
        return entry_render(q, e.kind, action, 1, HTTP_UNPROCESSABLE_ENTITY);
    }
    rv = ca_wot_assure(&refusal, &done, q->pg->db, &e, &rules, apr_time_now(), p);
    if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, "assurance");
    }
    if (refusal) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                      "CA40010: assurance by member %s refused: %s", q->member_id, refusal);
        assure_set_msg(q, "error", refusal);
        return entry_render(q, e.kind, action, 1, HTTP_UNPROCESSABLE_ENTITY);
    }
    if ((rv = entry_mails(q, &done, &e)) != APR_SUCCESS) {
        /* the assurance stands; the mails are a courtesy */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, q->r,
                      "CA40011: assurance %s recorded, but its mails failed",
                      done.assurance_id);
    }
    return assure_redirect(q, ttp ? "ttp-admin?done=1" : "points?done=1");
}

static int entry_page(assure_req_t *q, const char *action, int ttp)
{
    const char *step = assure_form(q, "step");

    if (q->r->method_number != M_POST) {
        return entry_render(q, ttp ? CA_WOT_TTP : CA_WOT_FACE_TO_FACE, action, 0, HTTP_OK);
    }
    if (!strcmp(step, "enter")) {
        return entry_enter(q, action, ttp);
    }
    return entry_find(q, action, ttp);
}

/* /wot/assure: an Assurer enters a face-to-face assurance */
static int page_assure(assure_req_t *q)
{
    return entry_page(q, "assure", 0);
}

/* ---- TTP ---- */

/* /wot/ttp: a member asks for TTP-assisted assurance */
static int page_ttp(assure_req_t *q)
{
    ca_points_rules_t rules;
    apr_array_header_t *open;
    const char *refusal = NULL, *country, *note, *err;
    apr_status_t rv;
    int status = HTTP_OK, rc;

    assure_points_rules(&rules, q->cfg);
    if (q->junior && !rules.junior_ttp) {
        ca_tmpl_set(q->pg->ctx, "junior", "1");
    }
    if (q->r->method_number == M_POST) {
        country = assure_trimmed(q, "country");
        note = assure_trimmed(q, "note");
        if ((err = ca_wot_check_country(country))) {
            assure_field_error(q, "country", err);
        }
        else if (strlen(note) > 2000) {
            assure_field_error(q, "note", "wot.text.toolong");
        }
        else {
            rv = ca_wot_ttp_request(&refusal, q->pg->db, q->member_id, country, note,
                                    q->junior, &rules, q->r->pool);
            if ((rc = assure_done(q, rv, refusal, "TTP request", "ttp?sent=1")) != DECLINED) {
                return rc;
            }
        }
        assure_keep_values(q);
        status = HTTP_UNPROCESSABLE_ENTITY;
    }
    if (assure_arg(q, "sent")) {
        assure_set_msg(q, "notice", "ok.wot.ttp.sent");
    }
    if ((rv = ca_wot_ttp_requests(&open, q->pg->db, q->member_id, q->r->pool))
        != APR_SUCCESS) {
        return assure_internal_error(q, rv, "TTP requests");
    }
    if (open->nelts) {
        const ca_wot_ttp_req_t *r = &APR_ARRAY_IDX(open, 0, ca_wot_ttp_req_t);
        ca_tmpl_set(q->pg->ctx, "open_date", r->date);
        ca_tmpl_set(q->pg->ctx, "open_country", r->country);
    }
    assure_standing_vars(q);
    return assure_render(q, "ttp.html", status);
}

static const cacert_var_t request_vars[] = {
    CACERT_VAR(STR, ca_wot_ttp_req_t, name), CACERT_VAR(STR, ca_wot_ttp_req_t, email),
    CACERT_VAR(STR, ca_wot_ttp_req_t, country), CACERT_VAR(STR, ca_wot_ttp_req_t, note),
    CACERT_VAR(STR, ca_wot_ttp_req_t, date), { NULL }
};

/* open TTP requests on one page: a backlog of hundreds, each with a note of
 * up to 2,000 characters, would pass the templates' 1 MiB */
#define TTP_REQUESTS_PAGE 200

/* /wot/ttp-admin: open requests, and the TTP assurance form */
static int page_ttp_admin(assure_req_t *q)
{
    apr_array_header_t *open;
    apr_status_t rv;

    if ((rv = ca_wot_ttp_requests(&open, q->pg->db, NULL, q->r->pool)) != APR_SUCCESS) {
        return assure_internal_error(q, rv, "TTP requests");
    }
    if (cacert_tmpl_items_page(q->pg->ctx, "requests", open, request_vars, "requests_pager",
                               "?p=", assure_arg(q, "p"), TTP_REQUESTS_PAGE, q->r->pool)
        != 0) {
        return assure_message(q, "title.ttp", "err.nopage", HTTP_NOT_FOUND);
    }
    if (q->r->method_number == M_GET && assure_arg(q, "done")) {
        assure_set_msg(q, "notice", "ok.wot.assured");
    }
    return entry_page(q, "ttp-admin", 1);
}

/* ---- the Assurer Challenge ---- */

/* /wot/challenge: an administrator records a pass */
static int page_challenge(assure_req_t *q)
{
    const char *email, *date, *variant, *ticket, *err, *refusal;
    apr_status_t rv;
    int ok = 1, rc;

    if (q->r->method_number != M_POST) {
        ca_tmpl_set(q->pg->ctx, "v_date", assure_today(q->r->pool));
        if (assure_arg(q, "done")) {
            assure_set_msg(q, "notice", "ok.wot.challenge");
        }
        return assure_render(q, "challenge.html", HTTP_OK);
    }
    email = assure_trimmed(q, "email");
    date = assure_trimmed(q, "date");
    variant = assure_trimmed(q, "variant");
    ticket = assure_trimmed(q, "ticket");
    if (!ca_ticket_ok(ticket)) {
        assure_field_error(q, "ticket", *ticket ? "wot.challenge.ticket"
                                                : "console.ticket.missing");
        ok = 0;
    }
    if (ca_valid_email(email)) {
        assure_field_error(q, "email", "wot.email.invalid");
        ok = 0;
    }
    if ((err = ca_wot_check_date(date, assure_latest_date(q->r->pool)))) {
        assure_field_error(q, "date", err);
        ok = 0;
    }
    if ((err = ca_wot_check_variant(variant))) {
        assure_field_error(q, "variant", err);
        ok = 0;
    }
    if (ok) {
        rv = ca_wot_challenge(&refusal, q->pg->db, email, date, variant, "admin",
                              q->member_id, ticket, q->r->pool);
        if ((rc = assure_done(q, rv, refusal, "challenge pass", "challenge?done=1"))
            != DECLINED) {
            return rc;
        }
    }
    assure_keep_values(q);
    return assure_render(q, "challenge.html", HTTP_UNPROCESSABLE_ENTITY);
}

static int plain(request_rec *r, int status, const char *text)
{
    r->status = status;
    ap_set_content_type(r, "text/plain; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_rputs(text, r);
    return OK;
}

/* /wot/challenge-import: the external challenge system reports a pass.
 * POST email=...&date=YYYY-MM-DD&variant=...; answers a status line. */
static int page_challenge_import(assure_req_t *q)
{
    request_rec *r = q->r;
    ca_form_limits_t lim = { 4096, 8, 256, NULL, 0 };
    const char *ct = apr_table_get(r->headers_in, "Content-Type"), *err, *refusal;
    const char *email, *date, *variant;
    apr_table_t *form, *errs;
    char buf[4097];
    apr_size_t len = 0;
    ca_db_t db;
    apr_status_t rv;
    long n;
    int rc;

    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
        return plain(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "ERROR form expected\n");
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + len, sizeof(buf) - 1 - len)) > 0) {
            len += (apr_size_t)n;
            if (len >= sizeof(buf) - 1) {
                return plain(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "ERROR too large\n");
            }
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    if (ca_form_parse(&form, &errs, &err, buf, len, &lim, r->pool) != APR_SUCCESS
        || !apr_is_empty_table(errs)) {
        return plain(r, HTTP_BAD_REQUEST, "ERROR malformed form\n");
    }
    email = apr_table_get(form, "email");
    date = apr_table_get(form, "date");
    variant = apr_table_get(form, "variant");
    if (!email || ca_valid_email(email)) {
        return plain(r, HTTP_BAD_REQUEST, "ERROR email\n");
    }
    if (!date || ca_wot_check_date(date, assure_latest_date(r->pool))) {
        return plain(r, HTTP_BAD_REQUEST, "ERROR date\n");
    }
    if (!variant || ca_wot_check_variant(variant)) {
        return plain(r, HTTP_BAD_REQUEST, "ERROR variant\n");
    }
    if (cacert_db_acquire(&db, r) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "CA40020: no database connection for the challenge import");
        return plain(r, HTTP_SERVICE_UNAVAILABLE, "ERROR try later\n");
    }
    rv = ca_wot_challenge(&refusal, &db, email, date, variant, "import", NULL, NULL, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "CA40021: challenge import failed");
        return plain(r, HTTP_INTERNAL_SERVER_ERROR, "ERROR internal\n");
    }
    if (refusal && !strcmp(refusal, "wot.assuree.unknown")) {
        return plain(r, HTTP_NOT_FOUND, "ERROR unknown member\n");
    }
    if (refusal) {
        return plain(r, HTTP_OK, "OK already recorded\n");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "CA40022: challenge pass imported for %s (%s, %s)", email, variant, date);
    return plain(r, HTTP_OK, "OK recorded\n");
}

static const char *const ttp_text[] = { "note", NULL };

const cacert_route_t assure_entry_routes[] = {
    ASSURE_ROUTE("assure",           CACERT_GET | CACERT_POST, ASSURE_ASSURER, 0, NULL,
                 page_assure),
    ASSURE_ROUTE("ttp",              CACERT_GET | CACERT_POST, ASSURE_MEMBER, 0, ttp_text,
                 page_ttp),
    ASSURE_ROUTE("ttp-admin",        CACERT_GET | CACERT_POST, ASSURE_ROLE, CA_ROLE_TTP_ADMIN,
                 NULL, page_ttp_admin),
    ASSURE_ROUTE("challenge",        CACERT_GET | CACERT_POST, ASSURE_ROLE, CA_ROLE_ADMIN, NULL,
                 page_challenge),
    ASSURE_ROUTE("challenge-import", CACERT_POST, ASSURE_CLIENT, 0, NULL,
                 page_challenge_import),
    { NULL }
};
