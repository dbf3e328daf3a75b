/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* ACME (RFC 8555): the resources, the JWS rules of section 6, accounts with
 * external account binding, key change and deactivation.  Orders,
 * authorisations, challenges, finalize, certificates and revocation are in
 * ca_acme_order.c. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "ca_acme_private.h"
#include "ca_log.h"

#define PROBLEM_TYPE "urn:ietf:params:acme:error:"

const char *acme_url(acme_req_t *q, const char *path)
{
    return apr_pstrcat(q->p, q->cfg->base, path, NULL);
}

apr_status_t acme_problem(acme_req_t *q, const char *type, int status, const char *detail,
                          const char *arg)
{
    const char *text = detail && q->cfg->text ? q->cfg->text(detail, q->cfg->text_baton) : NULL;
    json_t *o;
    char *s;

    text = text ? text : detail;
    if (arg) {
        text = apr_pstrcat(q->p, text ? text : "", text ? ": " : "", arg, NULL);
    }
    o = json_pack("{s:s, s:s, s:i}", "type", apr_pstrcat(q->p, PROBLEM_TYPE, type, NULL),
                  "detail", text ? text : type, "status", status);
    s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    q->resp->status = status;
    q->resp->content_type = "application/problem+json";
    q->resp->body = s ? apr_pstrdup(q->p, s) : "{}";
    q->resp->len = strlen(q->resp->body);
    free(s);
    return APR_SUCCESS;
}

apr_status_t acme_json(acme_req_t *q, int status, json_t *obj, const char *location)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

    json_decref(obj);
    if (!s) {
        return acme_problem(q, "serverInternal", 500, "acme.internal", NULL);
    }
    q->resp->status = status;
    q->resp->content_type = "application/json";
    q->resp->body = apr_pstrdup(q->p, s);
    q->resp->len = strlen(s);
    q->resp->location = location;
    free(s);
    return APR_SUCCESS;
}

static apr_status_t directory(acme_req_t *q)
{
    json_t *meta = json_pack("{s:b}", "externalAccountRequired", 1);

    if (q->cfg->website) {
        json_object_set_new(meta, "website", json_string(q->cfg->website));
    }
    return acme_json(q, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}",
                                       "newNonce", acme_url(q, "/new-nonce"),
                                       "newAccount", acme_url(q, "/new-account"),
                                       "newOrder", acme_url(q, "/new-order"),
                                       "revokeCert", acme_url(q, "/revoke-cert"),
                                       "keyChange", acme_url(q, "/key-change"),
                                       "meta", meta), NULL);
}

/* ---- the JWS of a POST (RFC 8555 6.2-6.5) ---- */

static apr_status_t payload_free(void *v)
{
    json_decref(v);
    return APR_SUCCESS;
}

/* jwk_ok: the resource takes a "jwk" (newAccount, revokeCert); all others
 * a "kid" of a valid account */
static apr_status_t authenticate(int *pok, acme_req_t *q, const char *body, apr_size_t len,
                                 int jwk_ok)
{
    const char *type, *detail = NULL, *id;
    json_error_t jerr;
    apr_status_t rv;
    int fresh = 0;

    *pok = 0;
    if (len > q->cfg->max_body) {
        return acme_problem(q, "malformed", 413, "acme.toolarge", NULL);
    }
    if ((type = ca_jws_parse(&q->jws, &detail, body, len, q->cfg->max_body, 1, q->p))) {
        return acme_problem(q, type, 400, detail, NULL);
    }
    /* the nonce first: a request that fails later has still used it */
    if ((rv = acme_nonce_use(&fresh, q->db, q->jws->nonce, q->p)) != APR_SUCCESS) {
        return rv;
    }
    if (!fresh) {
        return acme_problem(q, "badNonce", 400, "acme.nonce", NULL);
    }
    if (strcmp(q->jws->url, q->url)) {
        return acme_problem(q, "unauthorized", 401, "acme.url", NULL);
    }
    if (q->jws->jwk) {
        if (!jwk_ok) {
            return acme_problem(q, "malformed", 400, "acme.kid.required", NULL);
        }
        q->key = q->jws->jwk;
    }
    else {
        const char *prefix = acme_url(q, "/acct/");
        if (jwk_ok == 2) {
            return acme_problem(q, "malformed", 400, "acme.jwk.required", NULL);
        }
        id = strncmp(q->jws->kid, prefix, strlen(prefix)) ? NULL
                                                             : q->jws->kid + strlen(prefix);
        if (!id || !ca_is_id(id)) {
            return acme_problem(q, "accountDoesNotExist", 400, "acme.account.unknown", NULL);
        }
        rv = acme_account_find(&q->acct, q->db, "cacert_acme_acct_get", id, q->p);
        if (rv == APR_NOTFOUND) {
            return acme_problem(q, "accountDoesNotExist", 400, "acme.account.unknown", NULL);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (strcmp(q->acct->status, "valid") || q->acct->barred) {
            return acme_problem(q, "unauthorized", 401, "acme.account.deactivated", NULL);
        }
        if ((type = ca_jwk_parse(&q->key, &detail, q->acct->jwk, strlen(q->acct->jwk), q->p))) {
            return acme_problem(q, "serverInternal", 500, "acme.internal", NULL);
        }
    }
    /* as Boulder: a signature that does not verify is a malformed request */
    if (!ca_jws_verify(q->jws, q->key)) {
        return acme_problem(q, "malformed", 400, "acme.signature", NULL);
    }
    if (!q->jws->post_as_get) {
        q->payload = json_loadb(q->jws->payload, q->jws->payload_len,
                                JSON_REJECT_DUPLICATES, &jerr);
        if (q->payload) {
            apr_pool_cleanup_register(q->p, q->payload, payload_free, apr_pool_cleanup_null);
        }
        if (!json_is_object(q->payload)) {
            return acme_problem(q, "malformed", 400, "acme.payload", NULL);
        }
    }
    *pok = 1;
    return APR_SUCCESS;
}

/* ---- accounts (RFC 8555 7.3) ---- */

static json_t *account_json(acme_req_t *q, const acme_account_t *a)
{
    json_t *contact = json_array();
    char *list = apr_pstrdup(q->p, a->contact ? a->contact : ""), *last, *c;

    for (c = apr_strtok(list, " ", &last); c; c = apr_strtok(NULL, " ", &last)) {
        json_array_append_new(contact, json_string(c));
    }
    return json_pack("{s:s, s:o, s:s}", "status", a->status, "contact", contact,
                     "orders", acme_url(q, apr_pstrcat(q->p, "/acct/", a->id, "/orders", NULL)));
}

/* the contact URLs, space-separated ("mailto:" only, at most 4); NULL and
 * a problem when they are not acceptable */
static const char *contacts(acme_req_t *q, json_t *list)
{
    const char *out = "";
    size_t i;
    json_t *v;

    if (!list) {
        return out;
    }
    if (!json_is_array(list) || json_array_size(list) > 4) {
        acme_problem(q, "invalidContact", 400, "acme.contact", NULL);
        return NULL;
    }
    json_array_foreach(list, i, v) {
        const char *s = json_string_value(v);
        if (!s || strncmp(s, "mailto:", 7) || strlen(s) > 254 || strpbrk(s, " ,\r\n\t")
            || !strchr(s + 7, '@')) {
            acme_problem(q, "invalidContact", 400, "acme.contact", NULL);
            return NULL;
        }
        out = *out ? apr_pstrcat(q->p, out, " ", s, NULL) : apr_pstrdup(q->p, s);
    }
    return out;
}

/* the binding: the credentials exist, belong to a member in good standing,
 * are unexpired and unused, and the MAC is theirs */
static apr_status_t bind_account(acme_req_t *q, json_t *eab, const char *contact)
{
    const char *kid, *detail = NULL, *type, *thumb, *member;
    const unsigned char *key;
    const ca_row_t *row;
    apr_size_t klen;
    apr_status_t rv;
    int n = 0;

    if ((type = ca_eab_parse(&kid, &detail, eab, q->url, q->key, q->p))) {
        return acme_problem(q, type, 400, detail, NULL);
    }
    rv = ca_db_row(&row, q->db, "cacert_acme_eab_get", CA_ARGS(kid), q->p);
    if (rv == APR_NOTFOUND) {
        return acme_problem(q, "unauthorized", 401, "acme.eab.unknown", NULL);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    key = ca_b64url_decode(&klen, ca_col(row, "hmac_key"), strlen(ca_col(row, "hmac_key")), q->p);
    if (!key || !ca_eab_verify(eab, key, klen)) {
        return acme_problem(q, "unauthorized", 401, "acme.eab.mac", NULL);
    }
    if (ca_col_true(row, "used")) {
        return acme_problem(q, "unauthorized", 401, "acme.eab.used", NULL);
    }
    if (ca_col_true(row, "expired") || ca_col_true(row, "barred")) {
        return acme_problem(q, "unauthorized", 401, "acme.eab.expired", NULL);
    }
    member = ca_col(row, "member_id");
    thumb = ca_jwk_thumbprint(q->key, q->p);
    if ((rv = ca_db_begin(q->db, q->p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query(&n, q->db, "cacert_acme_eab_use", CA_ARGS(kid), q->p);
    if (rv == APR_SUCCESS && n != 1) {
        ca_db_rollback(q->db, q->p);
        return acme_problem(q, "unauthorized", 401, "acme.eab.used", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = ca_db_row(&row, q->db, "cacert_acme_acct_new",
                       CA_ARGS(member, kid, ca_jwk_canonical(q->key), thumb, contact), q->p);
    }
    if (rv == APR_SUCCESS) {
        acme_account_t a = { ca_col(row, "id"), member, NULL, "valid", contact, 0 };
        q->acct = apr_pmemdup(q->p, &a, sizeof(a));
        rv = acme_audit(q->db, q->acct->member_id, "acme.account.bind",
                        apr_pstrcat(q->p, "account=", q->acct->id, " kid=", kid,
                                    " key=", thumb, NULL), q->p);
    }
    if ((rv = ca_db_end(q->db, rv, q->p)) != APR_SUCCESS) {
        return rv;
    }
    return acme_json(q, 201, account_json(q, q->acct),
                     acme_url(q, apr_pstrcat(q->p, "/acct/", q->acct->id, NULL)));
}

static apr_status_t new_account(acme_req_t *q)
{
    const char *thumb = ca_jwk_thumbprint(q->key, q->p), *contact;
    json_t *only = json_object_get(q->payload, "onlyReturnExisting");
    acme_account_t *a;
    apr_status_t rv;

    rv = acme_account_find(&a, q->db, "cacert_acme_acct_by_thumb", thumb, q->p);
    if (rv == APR_SUCCESS) {
        if (strcmp(a->status, "valid") || a->barred) {
            return acme_problem(q, "unauthorized", 401, "acme.account.deactivated", NULL);
        }
        return acme_json(q, 200, account_json(q, a),
                         acme_url(q, apr_pstrcat(q->p, "/acct/", a->id, NULL)));
    }
    if (rv != APR_NOTFOUND) {
        return rv;
    }
    if (json_is_true(only)) {
        return acme_problem(q, "accountDoesNotExist", 400, "acme.account.unknown", NULL);
    }
    if (!json_object_get(q->payload, "externalAccountBinding")) {
        return acme_problem(q, "externalAccountRequired", 400, "acme.eab.required", NULL);
    }
    if (!(contact = contacts(q, json_object_get(q->payload, "contact")))) {
        return APR_SUCCESS;
    }
    return bind_account(q, json_object_get(q->payload, "externalAccountBinding"), contact);
}

static apr_status_t account(acme_req_t *q, const char *id)
{
    const char *contact;
    json_t *status;
    apr_status_t rv;

    if (strcmp(id, q->acct->id)) {
        return acme_problem(q, "unauthorized", 403, "acme.account.other", NULL);
    }
    if (!q->payload) {
        return acme_json(q, 200, account_json(q, q->acct), NULL);
    }
    status = json_object_get(q->payload, "status");
    if (status) {
        if (!json_is_string(status) || strcmp(json_string_value(status), "deactivated")) {
            return acme_problem(q, "malformed", 400, "acme.account.status", NULL);
        }
        rv = ca_acme_deactivate(q->db, q->acct->member_id, q->acct->id, q->p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        q->acct->status = "deactivated";
        return acme_json(q, 200, account_json(q, q->acct), NULL);
    }
    if (json_object_get(q->payload, "contact")) {
        if (!(contact = contacts(q, json_object_get(q->payload, "contact")))) {
            return APR_SUCCESS;
        }
        rv = ca_db_query(NULL, q->db, "cacert_acme_acct_contact", CA_ARGS(contact, q->acct->id),
                         q->p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        q->acct->contact = contact;
    }
    return acme_json(q, 200, account_json(q, q->acct), NULL);
}

/* RFC 8555 7.3.5: the inner JWS, signed by the new key, names the account
 * and the old key */
static apr_status_t key_change(acme_req_t *q)
{
    const char *type, *detail = NULL, *thumb;
    acme_account_t *other;
    ca_jws_t *inner;
    json_t *ip, *old;
    json_error_t jerr;
    ca_jwk_t *oldkey;
    apr_status_t rv;
    char *text = json_dumps(q->payload, JSON_COMPACT);

    type = text ? ca_jws_parse(&inner, &detail, text, strlen(text), q->cfg->max_body, 0, q->p)
                : "malformed";
    free(text);
    if (type) {
        return acme_problem(q, type, 400, detail, NULL);
    }
    if (!inner->jwk || inner->nonce || strcmp(inner->url, q->url)) {
        return acme_problem(q, "malformed", 400, "acme.keychange.inner", NULL);
    }
    if (!ca_jws_verify(inner, inner->jwk)) {
        return acme_problem(q, "malformed", 400, "acme.signature", NULL);
    }
    ip = json_loadb(inner->payload, inner->payload_len, JSON_REJECT_DUPLICATES, &jerr);
    old = json_object_get(ip, "oldKey");
    if (!json_is_string(json_object_get(ip, "account"))
        || strcmp(json_string_value(json_object_get(ip, "account")), q->jws->kid)
        || !old || ca_jwk_from_json(&oldkey, &detail, old, q->p)
        || !ca_jwk_equal(oldkey, q->key)) {
        json_decref(ip);
        return acme_problem(q, "malformed", 400, "acme.keychange.inner", NULL);
    }
    json_decref(ip);
    thumb = ca_jwk_thumbprint(inner->jwk, q->p);
    rv = acme_account_find(&other, q->db, "cacert_acme_acct_by_thumb", thumb, q->p);
    if (rv == APR_SUCCESS) {
        q->resp->location = acme_url(q, apr_pstrcat(q->p, "/acct/", other->id, NULL));
        return acme_problem(q, "conflict", 409, "acme.keychange.inuse", NULL);
    }
    if (rv != APR_NOTFOUND || (rv = ca_db_begin(q->db, q->p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query(NULL, q->db, "cacert_acme_acct_key",
                     CA_ARGS(ca_jwk_canonical(inner->jwk), thumb, q->acct->id), q->p);
    if (rv == APR_SUCCESS) {
        rv = acme_audit(q->db, q->acct->member_id, "acme.account.keychange",
                        apr_pstrcat(q->p, "account=", q->acct->id, " key=", thumb, NULL), q->p);
    }
    if ((rv = ca_db_end(q->db, rv, q->p)) != APR_SUCCESS) {
        return rv;
    }
    return acme_json(q, 200, account_json(q, q->acct), NULL);
}

/* ---- dispatch ---- */

/* the POST resources: the path, whether it takes a jwk (0 no, 1 either,
 * 2 only), the handler (with the id in the path when it has one) */
static apr_status_t dispatch_post(acme_req_t *q, const char *path, const char *body,
                                  apr_size_t len)
{
    static const struct {
        const char *path;               /* a trailing '/' takes an id */
        int jwk;
        apr_status_t (*plain)(acme_req_t *q);
        apr_status_t (*with_id)(acme_req_t *q, const char *id);
    } routes[] = {
        { "/new-account", 2, new_account, NULL },
        { "/new-order", 0, acme_new_order, NULL },
        { "/revoke-cert", 1, acme_revoke, NULL },
        { "/key-change", 0, key_change, NULL },
        { "/acct/", 0, NULL, account },
        { "/order/", 0, NULL, acme_order },
        { "/authz/", 0, NULL, acme_authz },
        { "/cert/", 0, NULL, acme_certificate },
        { NULL, 0, NULL, NULL }
    };
    const char *rest = NULL, *slash;
    apr_status_t rv;
    int i, ok = 0;

    for (i = 0; routes[i].path; i++) {
        size_t n = strlen(routes[i].path);
        if (routes[i].with_id ? !strncmp(path, routes[i].path, n) : !strcmp(path, routes[i].path)) {
            rest = path + n;
            break;
        }
    }
    /* /order/ID/finalize and /chall/ID/TYPE have two parts */
    if (!routes[i].path && strncmp(path, "/chall/", 7)) {
        return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
    }
    if ((rv = authenticate(&ok, q, body, len, routes[i].path ? routes[i].jwk : 0)) != APR_SUCCESS
        || !ok) {
        return rv;
    }
    if (!routes[i].path) {
        rest = path + 7;
        slash = strchr(rest, '/');
        if (!slash) {
            return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
        }
        return acme_challenge(q, apr_pstrmemdup(q->p, rest, (apr_size_t)(slash - rest)),
                              slash + 1);
    }
    if (!routes[i].with_id) {
        return routes[i].plain(q);
    }
    if (routes[i].with_id == acme_order && (slash = strchr(rest, '/'))) {
        if (strcmp(slash, "/finalize")) {
            return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
        }
        return acme_finalize(q, apr_pstrmemdup(q->p, rest, (apr_size_t)(slash - rest)));
    }
    if (!ca_is_id(rest)) {
        return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
    }
    return routes[i].with_id(q, rest);
}


apr_status_t ca_acme_handle(ca_acme_resp_t *resp, ca_db_t *db, const ca_acme_cfg_t *cfg,
                            const char *method, const char *path, const char *ctype,
                            const char *body, apr_size_t len, apr_pool_t *p)
{
    acme_req_t q = { .cfg = cfg, .db = db, .resp = resp, .p = p,
                     .url = apr_pstrcat(p, cfg->base, path, NULL) };
    apr_status_t rv = APR_SUCCESS;

    memset(resp, 0, sizeof(*resp));
    resp->no_store = 1;

    if (!strcmp(path, "/directory")) {
        resp->no_store = 0;
        return strcmp(method, "POST") ? directory(&q)
                                      : acme_problem(&q, "malformed", 405, "acme.method", NULL);
    }
    /* every other answer carries a fresh nonce */
    if ((rv = acme_nonce_new(&resp->nonce, db, cfg->nonce_lifetime, p)) != APR_SUCCESS) {
        resp->nonce = NULL;
        acme_problem(&q, "serverInternal", 500, "acme.internal", NULL);
        return rv;
    }
    if (!strcmp(path, "/new-nonce")) {
        if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
            return acme_problem(&q, "malformed", 405, "acme.method", NULL);
        }
        resp->status = strcmp(method, "HEAD") ? 204 : 200;
        return APR_SUCCESS;
    }
    if (strcmp(method, "POST")) {
        return acme_problem(&q, "malformed", 405, "acme.method", NULL);
    }
    /* RFC 8555 6.2: the JWS comes as application/jose+json */
    if (!ctype || strncasecmp(ctype, "application/jose+json", 21)
        || (ctype[21] && ctype[21] != ';' && ctype[21] != ' ')) {
        return acme_problem(&q, "malformed", 415, "acme.ctype", NULL);
    }
    rv = dispatch_post(&q, path, body, len);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10801", rv, "ACME %s: storage failed", path);
        acme_problem(&q, "serverInternal", 500, "acme.internal", NULL);
    }
    return rv;
}
