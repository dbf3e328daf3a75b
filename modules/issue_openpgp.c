/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_issue: OpenPGP key signing pages and answers.  See
 * issue_openpgp.h.  Log tags CA903xx. */
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_file_io.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "ca_account.h"
#include "ca_form.h"
#include "ca_gpg.h"
#include "ca_issue.h"
#include "ca_log.h"
#include "ca_valid.h"
#include "ca_multipart.h"
#include "ca_openpgp.h"
#include "ca_pgpkeys.h"
#include "ca_policy.h"
#include "ca_tmpl.h"
#include "issue_openpgp.h"
#include "cacert_glue.h"

APLOG_USE_MODULE(cacert_issue);

static int gpg_ready;

/* ---- start-up ---- */

const char *iss_pgp_load(iss_pgp_cfg_t *c, apr_pool_t *p)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;
    ca_pgp_key_t *k;
    const char *e;

    if (!c->key_file || c->loaded) {
        return NULL;
    }
    if (apr_file_open(&f, c->key_file, APR_FOPEN_READ, 0, p) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        return apr_psprintf(p, "CAcertOpenPGPKey: cannot read %s", c->key_file);
    }
    if (fi.size <= 0 || fi.size > 4 * CA_PGP_MAX_KEY) {
        apr_file_close(f);
        return apr_psprintf(p, "CAcertOpenPGPKey: %s is empty or too large", c->key_file);
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    if (apr_file_read_full(f, buf, n, NULL) != APR_SUCCESS) {
        apr_file_close(f);
        return apr_psprintf(p, "CAcertOpenPGPKey: cannot read %s", c->key_file);
    }
    apr_file_close(f);
    buf[n] = '\0';
    if ((e = ca_pgp_parse(&k, (const unsigned char *)buf, n, p))) {
        return apr_psprintf(p, "CAcertOpenPGPKey: %s is not one OpenPGP public key (%s)",
                            c->key_file, e);
    }
    c->armored = ca_pgp_armor(k->bin, k->len, p);
    c->fpr = k->fpr_hex;
    memcpy(c->keyid, k->keyid, 8);
    c->algo = k->algo_name;
    c->uid = APR_ARRAY_IDX(k->uids, 0, ca_pgp_uid_t).text;
    c->loaded = 1;
    return NULL;
}

void iss_pgp_child_init(server_rec *s)
{
    if (ca_gpg_init() == APR_SUCCESS) {
        gpg_ready = 1;
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "CA90301: gpgme/gpg is not usable: OpenPGP uploads are refused");
    }
}

/* ---- page helpers ---- */

static APR_OPTIONAL_FN_TYPE(cacert_page_render) *render;
static APR_OPTIONAL_FN_TYPE(cacert_page_message) *message;
static APR_OPTIONAL_FN_TYPE(cacert_page_set_msg) *set_msg;
static APR_OPTIONAL_FN_TYPE(cacert_page_headers) *headers;

static void fns(void)
{
    if (!render) {
        render = APR_RETRIEVE_OPTIONAL_FN(cacert_page_render);
        message = APR_RETRIEVE_OPTIONAL_FN(cacert_page_message);
        set_msg = APR_RETRIEVE_OPTIONAL_FN(cacert_page_set_msg);
        headers = APR_RETRIEVE_OPTIONAL_FN(cacert_page_headers);
    }
}

static int redirect(cacert_page_t *pg, const char *where)
{
    return cacert_redirect(pg->r, pg->base, where);
}

static int internal_error(cacert_page_t *pg, apr_status_t rv, const char *what)
{
    return cacert_internal_error(pg, "CA90302", rv, what);
}

static const char *msg_text(cacert_page_t *pg, const char *key)
{
    set_msg(pg, "_msg", key);
    return ca_tmpl_get(pg->ctx, "_msg");
}

/* "0123ABCD..." -> "0123 ABCD ..." */
static const char *fpr_groups(const char *fpr, apr_pool_t *p)
{
    apr_size_t n = strlen(fpr), i, o = 0;
    char *s = apr_palloc(p, n + n / 4 + 2);

    for (i = 0; i < n; i++) {
        if (i && i % 4 == 0) {
            s[o++] = ' ';
        }
        s[o++] = fpr[i];
    }
    s[o] = '\0';
    return s;
}

/* the member's points; < 0 on a database failure */
static int points_of(cacert_page_t *pg)
{
    ca_standing_t st;

    if (ca_account_standing(&st, pg->db, pg->sess->member_id, pg->r->pool) != APR_SUCCESS) {
        return -1;
    }
    return ca_points_total(&st);
}

/* the facts user IDs are checked against: the permitted forms of the
 * assured name, the verified addresses */
static apr_status_t facts_of(apr_array_header_t **pnames, apr_array_header_t **pemails,
                             cacert_page_t *pg)
{
    ca_member_facts_t f;
    apr_status_t rv;

    memset(&f, 0, sizeof(f));
    if ((rv = ca_issue_facts(&f, pg->db, pg->sess->member_id, pg->r->pool)) != APR_SUCCESS) {
        return rv;
    }
    *pnames = ca_pgp_name_variants(pg->sess->given, pg->sess->middle, pg->sess->family,
                                   pg->sess->suffix, pg->r->pool);
    *pemails = (apr_array_header_t *)f.emails;
    return APR_SUCCESS;
}

static const char *tmpdir_of(const iss_pgp_cfg_t *c, apr_pool_t *p)
{
    const char *d = c->tmpdir;

    if (!d && apr_temp_dir_get(&d, p) != APR_SUCCESS) {
        d = "/tmp";
    }
    return d;
}

/* ---- the key list and the upload ---- */

static apr_status_t list_vars(cacert_page_t *pg)
{
    apr_array_header_t *keys;
    apr_status_t rv;
    int i;

    if ((rv = ca_pgpkeys_list(&keys, pg->db, pg->sess->member_id, pg->r->pool))
        != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < keys->nelts; i++) {
        const ca_pgpkey_t *k = &APR_ARRAY_IDX(keys, i, ca_pgpkey_t);
        ca_tmpl_ctx_t *it = ca_tmpl_add_item(pg->ctx, "pgpkeys");
        ca_tmpl_set(it, "id", k->id);
        ca_tmpl_set(it, "fingerprint", fpr_groups(k->fingerprint, pg->r->pool));
        ca_tmpl_set(it, "algo", k->algo);
        ca_tmpl_set(it, "created", k->created);
        if (k->sig_id) {
            ca_tmpl_set(it, "sig_id", k->sig_id);
            ca_tmpl_set(it, "sig_expires", k->sig_expires);
            ca_tmpl_set(it, "sig_uids", k->sig_uids);
            ca_tmpl_set(it, k->sig_expired ? "sig_expired" : "sig_valid", "1");
        }
        if (k->pending) {
            ca_tmpl_set(it, "pending", "1");
        }
    }
    return APR_SUCCESS;
}

int iss_pgp_page_list(cacert_page_t *pg, const iss_pgp_cfg_t *c)
{
    request_rec *r = pg->r;
    ca_tmpl_ctx_t *ctx = pg->ctx;
    const unsigned char *data = NULL;
    apr_size_t len = 0;
    const char *text, *e, *key_id;
    ca_pgp_key_t *key;
    ca_gpg_keyinfo_t *info;
    apr_status_t rv;
    int points, i;

    fns();
    if ((points = points_of(pg)) < 0) {
        return internal_error(pg, APR_EGENERAL, "standing");
    }
    ca_tmpl_setf(ctx, "points", "%d", points);
    ca_tmpl_setf(ctx, "min_points", "%d", CA_PGP_MIN_POINTS);
    if (points >= CA_PGP_MIN_POINTS) {
        ca_tmpl_set(ctx, "may_upload", "1");
    }
    if ((rv = list_vars(pg)) != APR_SUCCESS) {
        return internal_error(pg, rv, "OpenPGP key list");
    }
    if (r->method_number == M_GET) {
        return render(pg, "certs_openpgp.html", HTTP_OK);
    }
    if (points < CA_PGP_MIN_POINTS) {
        return message(pg, "title.certs_openpgp", "pgp.points", HTTP_FORBIDDEN);
    }
    /* what the form decoder refused (a file over the size limit, ...) */
    {
        const apr_array_header_t *arr = apr_table_elts(pg->form_errors);
        const apr_table_entry_t *te = (const apr_table_entry_t *)arr->elts;
        for (i = 0; i < arr->nelts; i++) {
            set_msg(pg, "err_key", !strcmp(te[i].val, "field.toolong") ? "pgp.toolarge"
                                                                       : te[i].val);
            goto refuse;
        }
    }
    text = cacert_field(pg, "key");
    if (*text) {
        data = (const unsigned char *)text;
        len = strlen(text);
    }
    for (i = 0; pg->files && i < pg->files->nelts; i++) {
        ca_file_part_t *f = &APR_ARRAY_IDX(pg->files, i, ca_file_part_t);
        if (!strcmp(f->name, "key_file")) {
            if (data) {
                set_msg(pg, "err_key", "pgp.both");
                goto refuse;
            }
            data = f->data;
            len = f->len;
        }
    }
    if (!data || !len) {
        set_msg(pg, "err_key", "pgp.empty");
        goto refuse;
    }
    if ((e = ca_pgp_parse(&key, data, len, r->pool))) {
        set_msg(pg, "err_key", e);
        goto refuse;
    }
    if (c->fpr && !strcmp(key->fpr_hex, c->fpr)) {
        set_msg(pg, "err_key", "pgp.cakey");
        goto refuse;
    }
    if (!gpg_ready) {
        return message(pg, "title.certs_openpgp", "pgp.unavailable", HTTP_SERVICE_UNAVAILABLE);
    }
    if ((rv = ca_gpg_inspect(&e, &info, key, tmpdir_of(c, r->pool), r->pool)) != APR_SUCCESS) {
        return internal_error(pg, rv, "gpg key inspection");
    }
    if (e) {
        set_msg(pg, "err_key", e);
        goto refuse;
    }
    if ((rv = ca_pgpkeys_store(&key_id, pg->db, pg->sess->member_id, key, r->pool))
        != APR_SUCCESS) {
        return internal_error(pg, rv, "OpenPGP key upload");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "CA90303: member %s uploaded OpenPGP key "
                  "%s (%s, %d user IDs) as key %s", pg->sess->member_id, key->fpr_hex,
                  key->algo_name, key->uids->nelts, key_id);
    return redirect(pg, apr_pstrcat(r->pool, "openpgp_key?id=", key_id, NULL));

refuse:
    set_msg(pg, "error_summary", "err.form");
    return render(pg, "certs_openpgp.html", HTTP_UNPROCESSABLE_ENTITY);
}

/* ---- one key: its user IDs, the choice, the signatures ---- */

typedef struct {
    ca_pgpkey_t *row;
    ca_pgp_key_t *key;
    ca_gpg_keyinfo_t *info;
    const char *key_err;            /* the whole key is refused now */
    apr_array_header_t *names, *emails;
    apr_array_header_t *why;        /* per user ID: NULL (may be signed) or a message key */
} keyview_t;

static apr_status_t key_load(keyview_t *kv, cacert_page_t *pg, const iss_pgp_cfg_t *c,
                             const char *key_id, int *pnotfound)
{
    apr_pool_t *p = pg->r->pool;
    apr_status_t rv;
    const char *e;
    int i;

    memset(kv, 0, sizeof(*kv));
    *pnotfound = 0;
    rv = ca_pgpkeys_get(&kv->row, pg->db, key_id, pg->sess->member_id, p);
    if (rv == APR_NOTFOUND) {
        *pnotfound = 1;
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((e = ca_pgp_parse(&kv->key, kv->row->bin, kv->row->len, p))) {
        ca_log(CA_LOG_ERR, "CA90304", APR_SUCCESS, "stored OpenPGP key %s does not parse (%s)",
               key_id, e);
        return APR_EGENERAL;
    }
    if ((rv = facts_of(&kv->names, &kv->emails, pg)) != APR_SUCCESS) {
        return rv;
    }
    if (!gpg_ready) {
        kv->key_err = "pgp.unavailable";
    }
    else if ((rv = ca_gpg_inspect(&kv->key_err, &kv->info, kv->key, tmpdir_of(c, p), p))
             != APR_SUCCESS) {
        return rv;
    }
    kv->why = apr_array_make(p, kv->key->uids->nelts, sizeof(const char *));
    for (i = 0; i < kv->key->uids->nelts; i++) {
        const char *u = APR_ARRAY_IDX(kv->key->uids, i, ca_pgp_uid_t).text;
        const char *w = kv->key_err ? kv->key_err
                        : (kv->info ? ca_gpg_uid_state(kv->info, u) : "pgp.gpg");
        if (!w) {
            w = ca_pgp_uid_verdict(u, kv->names, kv->emails, p);
        }
        APR_ARRAY_PUSH(kv->why, const char *) = w;
    }
    return APR_SUCCESS;
}

static apr_status_t key_vars(cacert_page_t *pg, keyview_t *kv, const char *sel)
{
    apr_pool_t *p = pg->r->pool;
    apr_array_header_t *sigs;
    apr_status_t rv;
    int i;

    ca_tmpl_set(pg->ctx, "key_id", kv->row->id);
    ca_tmpl_set(pg->ctx, "fingerprint", fpr_groups(kv->row->fingerprint, p));
    ca_tmpl_set(pg->ctx, "algo", kv->row->algo);
    ca_tmpl_set(pg->ctx, "created", kv->row->created);
    if (kv->key_err) {
        ca_tmpl_set(pg->ctx, "key_error", msg_text(pg, kv->key_err));
    }
    for (i = 0; i < kv->key->uids->nelts; i++) {
        ca_tmpl_ctx_t *it = ca_tmpl_add_item(pg->ctx, "uids");
        const char *w = APR_ARRAY_IDX(kv->why, i, const char *);
        ca_tmpl_setf(it, "n", "%d", i);
        ca_tmpl_set(it, "uid", APR_ARRAY_IDX(kv->key->uids, i, ca_pgp_uid_t).text);
        if (w) {
            ca_tmpl_set(it, "why", msg_text(pg, w));
        }
        else {
            ca_tmpl_set(it, "ok", "1");
            ca_tmpl_set(pg->ctx, "any_ok", "1");
            if (!sel || *cacert_field(pg, apr_psprintf(p, "uid%d", i))) {
                ca_tmpl_set(it, "checked", "1");
            }
        }
    }
    ca_tmpl_set(pg->ctx, "_msg", NULL);
    if ((rv = ca_pgpkeys_signatures(&sigs, pg->db, kv->row->id, p)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < sigs->nelts; i++) {
        const ca_pgpsig_t *s = &APR_ARRAY_IDX(sigs, i, ca_pgpsig_t);
        ca_tmpl_ctx_t *it = ca_tmpl_add_item(pg->ctx, "sigs");
        apr_array_header_t *us = ca_split_lines(s->uids, p);
        int j;
        ca_tmpl_set(it, "id", s->id);
        ca_tmpl_set(it, "created", s->created);
        ca_tmpl_set(it, "expires", s->expires);
        ca_tmpl_set(it, s->expired ? "expired" : "valid", "1");
        for (j = 0; j < us->nelts; j++) {
            ca_tmpl_set(ca_tmpl_add_item(it, "sig_uids"), "uid",
                        APR_ARRAY_IDX(us, j, const char *));
        }
        if (i == 0) {
            ca_tmpl_set(it, "newest", "1");
        }
    }
    return APR_SUCCESS;
}

static int key_enqueue(cacert_page_t *pg, keyview_t *kv, apr_array_header_t *uids)
{
    const char *req_id;
    apr_status_t rv;

    rv = ca_pgpkeys_enqueue(&req_id, pg->db, pg->sess->member_id, kv->row->id, kv->key, uids,
                            kv->names, kv->emails, pg->r->pool);
    if (rv != APR_SUCCESS) {
        return internal_error(pg, rv, "OpenPGP signing request");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, pg->r, "CA90305: member %s asked for "
                  "certifications of %d user IDs on OpenPGP key %s (request %s)",
                  pg->sess->member_id, uids->nelts, kv->row->id, req_id);
    return redirect(pg, apr_pstrcat(pg->r->pool, "openpgp_wait?id=", req_id, NULL));
}

int iss_pgp_page_key(cacert_page_t *pg, const iss_pgp_cfg_t *c)
{
    request_rec *r = pg->r;
    const char *id = r->method_number == M_GET ? cacert_query_arg(r, "id") : cacert_field(pg, "id");
    apr_array_header_t *chosen;
    keyview_t kv;
    apr_status_t rv;
    int notfound, i;

    fns();
    if ((rv = key_load(&kv, pg, c, id, &notfound)) != APR_SUCCESS) {
        return internal_error(pg, rv, "OpenPGP key");
    }
    if (notfound) {
        return message(pg, "title.certs_openpgp", "err.pgp.nokey", HTTP_NOT_FOUND);
    }
    if (r->method_number == M_GET) {
        const char *signed_id = cacert_query_arg(r, "signed");
        if (signed_id && ca_is_id(signed_id)) {
            ca_tmpl_set(pg->ctx, "just_signed", signed_id);
        }
        if ((rv = key_vars(pg, &kv, NULL)) != APR_SUCCESS) {
            return internal_error(pg, rv, "OpenPGP signatures");
        }
        return render(pg, "certs_openpgp_key.html", HTTP_OK);
    }
    if (points_of(pg) < CA_PGP_MIN_POINTS) {
        return message(pg, "title.certs_openpgp", "pgp.points", HTTP_FORBIDDEN);
    }
    chosen = apr_array_make(r->pool, 4, sizeof(const char *));
    for (i = 0; i < kv.key->uids->nelts; i++) {
        if (!*cacert_field(pg, apr_psprintf(r->pool, "uid%d", i))) {
            continue;
        }
        if (APR_ARRAY_IDX(kv.why, i, const char *)) {
            /* a user ID that may not be signed: nothing is sent */
            set_msg(pg, "error_summary", "pgp.uid.notallowed");
            goto refuse;
        }
        APR_ARRAY_PUSH(chosen, const char *) = APR_ARRAY_IDX(kv.key->uids, i,
                                                             ca_pgp_uid_t).text;
    }
    if (kv.key_err) {
        set_msg(pg, "error_summary", kv.key_err);
        goto refuse;
    }
    if (!chosen->nelts) {
        set_msg(pg, "error_summary", "pgp.choose");
        goto refuse;
    }
    return key_enqueue(pg, &kv, chosen);

refuse:
    if ((rv = key_vars(pg, &kv, "")) != APR_SUCCESS) {
        return internal_error(pg, rv, "OpenPGP signatures");
    }
    return render(pg, "certs_openpgp_key.html", HTTP_UNPROCESSABLE_ENTITY);
}

/* re-signing: the newest signature's user IDs again, checked against the
 * member's facts as they are now */
int iss_pgp_page_resign(cacert_page_t *pg, const iss_pgp_cfg_t *c)
{
    request_rec *r = pg->r;
    apr_array_header_t *sigs, *uids;
    keyview_t kv;
    apr_status_t rv;
    int notfound, i, j;

    fns();
    if ((rv = key_load(&kv, pg, c, cacert_field(pg, "id"), &notfound)) != APR_SUCCESS) {
        return internal_error(pg, rv, "OpenPGP key");
    }
    if (notfound) {
        return message(pg, "title.certs_openpgp", "err.pgp.nokey", HTTP_NOT_FOUND);
    }
    if (points_of(pg) < CA_PGP_MIN_POINTS) {
        return message(pg, "title.certs_openpgp", "pgp.points", HTTP_FORBIDDEN);
    }
    if ((rv = ca_pgpkeys_signatures(&sigs, pg->db, kv.row->id, r->pool)) != APR_SUCCESS) {
        return internal_error(pg, rv, "OpenPGP signatures");
    }
    if (!sigs->nelts) {
        set_msg(pg, "error_summary", "pgp.resign.none");
        goto refuse;
    }
    if (kv.key_err) {
        set_msg(pg, "error_summary", kv.key_err);
        goto refuse;
    }
    uids = ca_split_lines(APR_ARRAY_IDX(sigs, 0, ca_pgpsig_t).uids, r->pool);
    for (j = 0; j < uids->nelts; j++) {
        const char *u = APR_ARRAY_IDX(uids, j, const char *);
        int ok = 0;
        for (i = 0; i < kv.key->uids->nelts; i++) {
            if (!strcmp(APR_ARRAY_IDX(kv.key->uids, i, ca_pgp_uid_t).text, u)) {
                ok = !APR_ARRAY_IDX(kv.why, i, const char *);
            }
        }
        if (!ok) {
            set_msg(pg, "error_summary", "pgp.resign.changed");
            goto refuse;
        }
    }
    return key_enqueue(pg, &kv, uids);

refuse:
    if ((rv = key_vars(pg, &kv, NULL)) != APR_SUCCESS) {
        return internal_error(pg, rv, "OpenPGP signatures");
    }
    return render(pg, "certs_openpgp_key.html", HTTP_UNPROCESSABLE_ENTITY);
}

int iss_pgp_page_wait(cacert_page_t *pg, const iss_pgp_cfg_t *c, apr_interval_time_t wait)
{
    request_rec *r = pg->r;
    const char *id = cacert_query_arg(r, "id");
    apr_time_t end = ca_mono_now() + wait;
    apr_uint64_t gen = iss_wait_mark();
    ca_pgpreq_t *req;
    apr_status_t rv;

    fns();
    for (;;) {
        rv = ca_pgpkeys_request(&req, pg->db, id, pg->sess->member_id, r->pool);
        if (rv == APR_NOTFOUND) {
            return message(pg, "title.certs_openpgp", "err.certs.norequest", HTTP_NOT_FOUND);
        }
        if (rv != APR_SUCCESS) {
            return internal_error(pg, rv, "OpenPGP request state");
        }
        if (!strcmp(req->state, "done") && req->sig_id) {
            return redirect(pg, apr_pstrcat(r->pool, "openpgp_key?id=", req->key_id,
                                            "&signed=", req->sig_id, NULL));
        }
        if (!strcmp(req->state, "quarantined") || !strcmp(req->state, "refused")) {
            return message(pg, "title.certs_openpgp", "err.pgp.refused", HTTP_OK);
        }
        if (ca_mono_now() >= end || r->connection->aborted) {
            break;
        }
        iss_wait_for(&gen, req->id, end);
    }
    ca_tmpl_set(pg->ctx, "v_id", req->id);
    set_msg(pg, "progress", !strcmp(req->state, "sent") ? "certs.progress.sent"
                                                        : "certs.progress.queued");
    apr_table_setn(r->headers_out, "Refresh", "2");
    return render(pg, "certs_openpgp_wait.html", HTTP_OK);
}

int iss_pgp_page_download(cacert_page_t *pg, const iss_pgp_cfg_t *c)
{
    request_rec *r = pg->r;
    const char *armored;
    ca_pgpsig_t *s;
    apr_status_t rv;

    fns();
    rv = ca_pgpkeys_signature(&s, pg->db, cacert_query_arg(r, "id"), pg->sess->member_id, r->pool);
    if (rv == APR_NOTFOUND) {
        return message(pg, "title.certs_openpgp", "err.pgp.nokey", HTTP_NOT_FOUND);
    }
    if (rv != APR_SUCCESS) {
        return internal_error(pg, rv, "OpenPGP signed key");
    }
    armored = ca_pgp_armor(s->bin, s->len, r->pool);
    return cacert_send(r, "application/pgp-keys",
                       apr_psprintf(r->pool, "%s-cacert.asc", s->fingerprint), armored,
                       strlen(armored));
}

/* ---- /pki ---- */

void iss_pgp_pki_vars(ca_tmpl_ctx_t *ctx, const iss_pgp_cfg_t *c)
{
    if (!c->loaded) {
        return;
    }
    ca_tmpl_set(ctx, "pgp_fpr", c->fpr);
    ca_tmpl_set(ctx, "pgp_uid", c->uid);
    ca_tmpl_set(ctx, "pgp_algo", c->algo);
    ca_tmpl_set(ctx, "pgp_key", c->armored);
}

int iss_pgp_pki_file(request_rec *r, const iss_pgp_cfg_t *c)
{
    fns();
    if (!c->loaded) {
        return HTTP_NOT_FOUND;
    }
    return cacert_send(r, "application/pgp-keys", NULL, c->armored, strlen(c->armored));
}

/* ---- the signer link ---- */

int iss_pgp_answer(server_rec *s, ca_db_t *db, const iss_pgp_cfg_t *c, const char *req_id,
                   const unsigned char *answer, apr_size_t len, apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(cacert_mail) *mail = APR_RETRIEVE_OPTIONAL_FN(cacert_mail);
    const char *why = NULL;
    ca_pgpmail_t *info;
    ca_tmpl_ctx_t *m;
    apr_status_t rv;

    if (!c->loaded) {
        why = "no CAcertOpenPGPKey: the CA's certifications cannot be checked";
        rv = APR_EINVAL;
    }
    else {
        rv = ca_pgpkeys_answer(&why, db, req_id, c->keyid, answer, len, p);
    }
    if (rv == APR_EINVAL) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "CA90306: the signed key for request %s "
                     "is not what was asked for (%s): quarantined", req_id, why);
        ca_issue_quarantine(db, req_id, apr_pstrcat(p, "answer refused: ", why, NULL), p);
        return -1;
    }
    if (rv != APR_SUCCESS) {
        return 0;
    }
    if (!mail || ca_pgpkeys_mailinfo(&info, db, req_id, p) != APR_SUCCESS) {
        return 1;
    }
    m = ca_tmpl_ctx_make(NULL, p);
    ca_tmpl_set(m, "fingerprint", fpr_groups(info->fingerprint, p));
    ca_tmpl_set(m, "uids", info->uids);
    ca_tmpl_set(m, "expires", info->expires);
    ca_tmpl_set(m, "key_id", info->key_id);
    ca_tmpl_set(m, "sig_id", info->sig_id);
    {
        ca_pgpsig_t *sig;
        if (ca_pgpkeys_signature(&sig, db, info->sig_id, NULL, p) == APR_SUCCESS) {
            ca_tmpl_set(m, "signed_key", ca_pgp_armor(sig->bin, sig->len, p));
        }
    }
    if (mail(s, info->language, "mail/openpgp_signed.txt", m, info->address, p)
        != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "CA90307: OpenPGP key %s is signed, "
                     "but its mail could not be sent", info->fingerprint);
    }
    return 1;
}
