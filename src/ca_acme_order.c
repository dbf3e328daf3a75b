/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* ACME orders (RFC 8555 7.4-7.6) under the CA's own rules: names only
 * within the member's claimed domains, authorised by the domain's standing
 * verification or by a challenge through the domain probes, the member's
 * points deciding root, validity, wildcards and how many names, and
 * finalize through ca_issue_submit like the web form. */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_acme_private.h"
#include "ca_domain.h"
#include "ca_issue.h"
#include "ca_log.h"
#include "ca_policy.h"

#define CHALLENGE_PATH "/.well-known/acme-challenge/"
#define MAX_IDENTIFIERS 100

static const char *order_url(acme_req_t *q, const char *id)
{
    return acme_url(q, apr_pstrcat(q->p, "/order/", id, NULL));
}

/* a column that may be SQL NULL (which the driver gives as ""): NULL then */
static const char *opt(const ca_row_t *row, const char *name)
{
    const char *v = ca_col(row, name);

    return v && *v ? v : NULL;
}

static char *lower(char *s)
{
    char *c;

    for (c = s; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return s;
}

/* ---- new order ---- */

typedef struct {
    const char *name;           /* as asked, lower case, "*." kept */
    const char *base;           /* without "*." */
    int wildcard;
    const ca_domain_t *domain;  /* the member's claimed domain holding it */
    int standing;               /* its verification is enough already */
} ident_t;

/* the limits of new orders and failed authorisations in the window */
static apr_status_t limited(int *plimited, acme_req_t *q)
{
    const ca_acme_cfg_t *c = q->cfg;
    const char *window = acme_secs(c->window, q->p);
    const ca_row_t *row;
    apr_status_t rv;

    *plimited = 0;
    rv = ca_db_row(&row, q->db, "cacert_acme_orders_recent",
                   CA_ARGS(q->acct->id, q->acct->member_id, window), q->p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((c->orders_per_account && ca_col_int(row, "by_account", 0) >= c->orders_per_account)
        || (c->orders_per_member && ca_col_int(row, "by_member", 0) >= c->orders_per_member)) {
        *plimited = 1;
        return APR_SUCCESS;
    }
    rv = ca_db_row(&row, q->db, "cacert_acme_failed_recent",
                   CA_ARGS(q->acct->id, q->acct->member_id, window), q->p);
    if (rv == APR_SUCCESS
        && ((c->failed_per_account && ca_col_int(row, "by_account", 0) >= c->failed_per_account)
            || (c->failed_per_member
                && ca_col_int(row, "by_member", 0) >= c->failed_per_member))) {
        *plimited = 2;
    }
    return rv;
}

static apr_status_t rate_limited(acme_req_t *q, const char *key)
{
    q->resp->retry_after = (int)apr_time_sec(q->cfg->window);
    return acme_problem(q, "rateLimited", 429, key, NULL);
}

/* each identifier: its syntax, the member's claim, the grant; NULL or a
 * problem already set */
static ident_t *read_identifiers(int *pn, acme_req_t *q, const ca_grant_t *g,
                                 const apr_array_header_t *domains, const ca_domain_rule_t *rule)
{
    json_t *list = json_object_get(q->payload, "identifiers"), *v;
    const ca_domain_cfg_t *dcfg = q->cfg->submit ? q->cfg->submit->domains : NULL;
    ident_t *ids;
    size_t i, n = json_array_size(list);
    int j, k;

    if (!json_is_array(list) || n == 0) {
        acme_problem(q, "malformed", 400, "acme.order.identifiers", NULL);
        return NULL;
    }
    if (n > MAX_IDENTIFIERS) {
        acme_problem(q, "rejectedIdentifier", 400, "policy.hosts.toomany", NULL);
        return NULL;
    }
    if (n > 1 && !g->may_multi) {
        acme_problem(q, "rejectedIdentifier", 403, "policy.hosts.one", NULL);
        return NULL;
    }
    ids = apr_pcalloc(q->p, n * sizeof(*ids));
    json_array_foreach(list, i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        const char *value = json_string_value(json_object_get(v, "value"));
        const char *name = NULL, *e;
        ident_t *id = &ids[i];

        if (!json_is_object(v) || !type || !value) {
            acme_problem(q, "malformed", 400, "acme.order.identifiers", NULL);
            return NULL;
        }
        if (strcmp(type, "dns")) {
            acme_problem(q, "unsupportedIdentifier", 400, "acme.order.type", type);
            return NULL;
        }
        id->wildcard = !strncmp(value, "*.", 2);
        e = ca_domain_name(&name, value + (id->wildcard ? 2 : 0),
                           strlen(value) - (id->wildcard ? 2 : 0), dcfg, q->p);
        if (e) {
            acme_problem(q, "rejectedIdentifier", 400, e,
                         apr_pstrndup(q->p, value, 255));
            return NULL;
        }
        if (id->wildcard && !g->may_wildcard) {
            acme_problem(q, "rejectedIdentifier", 403, "policy.wildcard", value);
            return NULL;
        }
        id->base = name;
        id->name = id->wildcard ? apr_pstrcat(q->p, "*.", name, NULL) : name;
        /* the most specific live domain of the member's that holds it */
        for (j = 0; j < domains->nelts; j++) {
            const ca_domain_t *d = &APR_ARRAY_IDX(domains, j, ca_domain_t);
            if (ca_domain_within(name, d->name)
                && (!id->domain || strlen(d->name) > strlen(id->domain->name))) {
                id->domain = d;
            }
        }
        if (!id->domain) {
            acme_problem(q, "rejectedIdentifier", 403, "acme.order.notclaimed", id->name);
            return NULL;
        }
        for (k = 0; k < (int)i; k++) {
            if (!strcmp(ids[k].name, id->name)) {
                acme_problem(q, "malformed", 400, "acme.order.twice", id->name);
                return NULL;
            }
        }
        id->standing = ca_domain_rule_met(rule, id->domain->passed)
                       && (!id->wildcard || (id->domain->passed & CA_CHECK_DNS));
    }
    *pn = (int)n;
    return ids;
}

static json_t *order_json(acme_req_t *q, const ca_row_t *o, const apr_array_header_t *authz)
{
    json_t *ids = json_array(), *urls = json_array(), *obj;
    char *list = apr_pstrdup(q->p, ca_col(o, "identifiers")), *last, *name;
    const char *id = ca_col(o, "id"), *status = ca_col(o, "status");
    int i;

    for (name = apr_strtok(list, ",", &last); name; name = apr_strtok(NULL, ",", &last)) {
        json_array_append_new(ids, json_pack("{s:s, s:s}", "type", "dns", "value", name));
    }
    for (i = 0; i < authz->nelts; i++) {
        const ca_row_t *z = APR_ARRAY_IDX(authz, i, const ca_row_t *);
        json_array_append_new(urls, json_string(acme_url(q, apr_pstrcat(q->p, "/authz/",
                                                                        ca_col(z, "id"), NULL))));
    }
    obj = json_pack("{s:s, s:s, s:o, s:o, s:s}", "status", status,
                    "expires", ca_col(o, "expires"), "identifiers", ids, "authorizations", urls,
                    "finalize", acme_url(q, apr_pstrcat(q->p, "/order/", id, "/finalize", NULL)));
    if (!strcmp(status, "valid")) {
        json_object_set_new(obj, "certificate",
                            json_string(acme_url(q, apr_pstrcat(q->p, "/cert/", id, NULL))));
    }
    if (!strcmp(status, "invalid") && opt(o, "problem")) {
        const char *key = opt(o, "problem");
        const char *text = q->cfg->text ? q->cfg->text(key, q->cfg->text_baton) : NULL;
        json_object_set_new(obj, "error", json_pack("{s:s, s:s}", "type",
                                                    "urn:ietf:params:acme:error:rejectedIdentifier",
                                                    "detail", text ? text : key));
    }
    return obj;
}

/* the order as it stands now: processing becomes valid or invalid by the
 * signer's answer; a pending or ready one past its time is invalid */
static apr_status_t order_now(const ca_row_t **po, apr_array_header_t **pauthz, acme_req_t *q,
                              const char *id)
{
    const char *status, *state, *next = NULL, *problem = NULL;
    apr_status_t rv;
    int n = 0;

    if ((rv = ca_db_row(po, q->db, "cacert_acme_order_get", CA_ARGS(id, q->acct->id), q->p))
        != APR_SUCCESS
        || (rv = ca_db_rows(pauthz, q->db, "cacert_acme_order_authz", CA_ARGS(id), q->p))
           != APR_SUCCESS) {
        return rv;
    }
    status = ca_col(*po, "status");
    state = opt(*po, "req_state");
    if (!strcmp(status, "processing") && opt(*po, "cert_id")) {
        next = "valid";
    }
    else if (!strcmp(status, "processing") && state
             && (!strcmp(state, "refused") || !strcmp(state, "quarantined"))) {
        next = "invalid";
        problem = "acme.order.signer";
    }
    else if (!strcmp(status, "pending") || !strcmp(status, "ready")) {
        int i;
        if (ca_col_true(*po, "expired")) {
            next = "invalid";
            problem = "acme.order.expired";
        }
        /* an authorisation failed, was given up or ran out: so did the order */
        for (i = 0; !next && i < (*pauthz)->nelts; i++) {
            const char *zs = ca_col(APR_ARRAY_IDX(*pauthz, i, const ca_row_t *), "status");
            if (strcmp(zs, "pending") && strcmp(zs, "valid")) {
                next = "invalid";
                problem = "acme.order.authz";
            }
        }
    }
    if (next) {
        rv = ca_db_query(&n, q->db, "cacert_acme_order_set", CA_ARGS(next, problem, id, status),
                         q->p);
        if (rv == APR_SUCCESS) {
            rv = ca_db_row(po, q->db, "cacert_acme_order_get", CA_ARGS(id, q->acct->id), q->p);
        }
    }
    return rv;
}

static apr_status_t send_order(acme_req_t *q, const char *id, int status, const char *location)
{
    apr_array_header_t *authz;
    const ca_row_t *o;
    apr_status_t rv = order_now(&o, &authz, q, id);

    if (rv == APR_NOTFOUND) {
        return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!strcmp(ca_col(o, "status"), "processing")) {
        q->resp->retry_after = 1;
    }
    return acme_json(q, status, order_json(q, o, authz), location);
}

apr_status_t acme_new_order(acme_req_t *q)
{
    const ca_domain_cfg_t *dcfg = q->cfg->submit ? q->cfg->submit->domains : NULL;
    apr_array_header_t *domains;
    const char *names = "", *order_id, *lifetime = acme_secs(q->cfg->order_lifetime, q->p);
    const ca_row_t *row;
    ca_standing_t st;
    ca_grant_t g;
    ident_t *ids;
    apr_status_t rv;
    int i, n = 0, lim = 0, all = 1;

    if (!q->payload) {
        return acme_problem(q, "malformed", 400, "acme.payload", NULL);
    }
    if (json_object_get(q->payload, "notBefore") || json_object_get(q->payload, "notAfter")) {
        return acme_problem(q, "malformed", 400, "acme.order.dates", NULL);
    }
    if ((rv = ca_account_standing(&st, q->db, q->acct->member_id, q->p)) != APR_SUCCESS
        || (rv = ca_domain_list(&domains, q->db, q->acct->member_id, q->p)) != APR_SUCCESS) {
        return rv;
    }
    ca_policy_grant(&g, &st, CA_PROFILE_SERVER, q->cfg->submit ? &q->cfg->submit->policy : NULL);
    if (!g.ca) {
        return acme_problem(q, "unauthorized", 403, g.refusal, NULL);
    }
    if (!(ids = read_identifiers(&n, q, &g, domains, ca_domain_rule(dcfg, g.ca)))) {
        return APR_SUCCESS;
    }
    for (i = 0; i < n; i++) {
        names = apr_pstrcat(q->p, names, i ? "," : "", ids[i].name, NULL);
        all = all && ids[i].standing;
    }
    /* the limits are counted and the order stored under one lock per member */
    if ((rv = ca_db_begin(q->db, q->p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, q->db, "cacert_acme_lock_member", CA_ARGS(q->acct->member_id), q->p);
    if (rv == APR_SUCCESS) {
        rv = limited(&lim, q);
    }
    if (rv == APR_SUCCESS && lim) {
        ca_db_rollback(q->db, q->p);
        return rate_limited(q, lim == 1 ? "acme.limit.orders" : "acme.limit.failed");
    }
    if (rv == APR_SUCCESS) {
        rv = ca_db_row(&row, q->db, "cacert_acme_order_new",
                       CA_ARGS(q->acct->id, q->acct->member_id, names, g.ca,
                               all ? "ready" : "pending", lifetime), q->p);
    }
    order_id = rv == APR_SUCCESS ? ca_col(row, "id") : NULL;
    for (i = 0; rv == APR_SUCCESS && i < n; i++) {
        const char *token = NULL, *st_ = ids[i].standing ? "valid" : "pending";
        if ((rv = ca_random_token(&token, 24, q->p)) == APR_SUCCESS) {
            rv = ca_db_query(NULL, q->db, "cacert_acme_authz_new",
                             CA_ARGS(order_id, ids[i].base, ids[i].wildcard ? "true" : "false",
                                     ids[i].domain->id, st_, token,
                                     ids[i].standing ? "standing" : NULL, st_,
                                     lifetime), q->p);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = acme_audit(q->db, q->acct->member_id, "acme.order",
                        apr_pstrcat(q->p, "order=", order_id, " account=", q->acct->id,
                                    " names=", names, NULL), q->p);
    }
    if ((rv = ca_db_end(q->db, rv, q->p)) != APR_SUCCESS) {
        return rv;
    }
    return send_order(q, order_id, 201, order_url(q, order_id));
}

apr_status_t acme_order(acme_req_t *q, const char *id)
{
    if (q->payload) {
        return acme_problem(q, "malformed", 400, "acme.postasget", NULL);
    }
    return send_order(q, id, 200, NULL);
}

/* ---- authorisations and challenges ---- */

static const char *challenge_status(const ca_row_t *z, const char *type)
{
    const char *status = ca_col(z, "status"), *method = opt(z, "method");

    if (method && !strcmp(method, type)) {
        return status;
    }
    return "pending";
}

static json_t *challenge_json(acme_req_t *q, const ca_row_t *z, const char *type)
{
    const char *status = challenge_status(z, type);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "type", type,
                          "url", acme_url(q, apr_pstrcat(q->p, "/chall/", ca_col(z, "id"), "/",
                                                         type, NULL)),
                          "status", status, "token", ca_col(z, "token"));

    if (!strcmp(status, "valid") && opt(z, "validated")) {
        json_object_set_new(c, "validated", json_string(opt(z, "validated")));
    }
    if (!strcmp(status, "invalid") && opt(z, "problem")) {
        const char *pr = opt(z, "problem"), *sp = strchr(pr, ' ');
        json_object_set_new(c, "error",
                            json_pack("{s:s, s:s}", "type",
                                      apr_pstrcat(q->p, "urn:ietf:params:acme:error:",
                                                  sp ? apr_pstrmemdup(q->p, pr, (apr_size_t)(sp - pr))
                                                     : pr, NULL),
                                      "detail", sp ? sp + 1 : pr));
    }
    return c;
}

static json_t *authz_json(acme_req_t *q, const ca_row_t *z)
{
    const char *status = ca_col(z, "status"), *method = opt(z, "method");
    int wildcard = ca_col_true(z, "wildcard");
    json_t *ch = json_array(), *o;

    if (!strcmp(status, "pending") && ca_col_true(z, "expired")) {
        status = "expired";
    }
    if (!method || strcmp(method, "standing")) {
        if (!wildcard) {
            json_array_append_new(ch, challenge_json(q, z, "http-01"));
        }
        json_array_append_new(ch, challenge_json(q, z, "dns-01"));
    }
    o = json_pack("{s:{s:s, s:s}, s:s, s:s, s:o}", "identifier", "type", "dns",
                  "value", ca_col(z, "identifier"), "status", status,
                  "expires", ca_col(z, "expires"), "challenges", ch);
    if (wildcard) {
        json_object_set_new(o, "wildcard", json_true());
    }
    return o;
}

apr_status_t acme_authz(acme_req_t *q, const char *id)
{
    json_t *status = json_object_get(q->payload, "status");
    const ca_row_t *z;
    apr_status_t rv;

    /* RFC 8555 7.5.2: the client gives an authorisation up */
    if (q->payload) {
        if (!json_is_string(status) || strcmp(json_string_value(status), "deactivated")) {
            return acme_problem(q, "malformed", 400, "acme.authz.status", NULL);
        }
        rv = ca_db_query(NULL, q->db, "cacert_acme_authz_deactivate", CA_ARGS(id, q->acct->id),
                         q->p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    rv = ca_db_row(&z, q->db, "cacert_acme_authz_get", CA_ARGS(id, q->acct->id), q->p);

    if (rv == APR_NOTFOUND) {
        return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return acme_json(q, 200, authz_json(q, z), NULL);
}

/* the probe of the challenge; *ptype says why it failed */
static apr_status_t probe(ca_probe_result_t *res, const char **ptype, acme_req_t *q,
                          const ca_row_t *z, const char *type)
{
    const char *keyauth = ca_acme_keyauth(ca_col(z, "token"), q->key, q->p);
    const char *name = ca_col(z, "identifier");
    int dns = !strcmp(type, "dns-01");
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    if (!q->cfg->probe) {
        res->detail = "acme.noprobe";
        res->target = name;
        *ptype = "serverInternal";
        return APR_SUCCESS;
    }
    rv = dns ? q->cfg->probe(res, 1, apr_pstrcat(q->p, "_acme-challenge.", name, NULL), NULL,
                             ca_acme_dns01_value(keyauth, q->p), q->cfg->probe_baton, q->p)
             : q->cfg->probe(res, 0, name, apr_pstrcat(q->p, CHALLENGE_PATH,
                                                       ca_col(z, "token"), NULL),
                             keyauth, q->cfg->probe_baton, q->p);
    *ptype = res->detail && strstr(res->detail, "mismatch") ? "incorrectResponse"
             : dns ? "dns" : "connection";
    return rv;
}

/* the outcome in one transaction: the authorisation, the domain check
 * (when the name is the claimed domain itself), the order's readiness */
static apr_status_t record(acme_req_t *q, const ca_row_t *z, const char *type,
                           const ca_probe_result_t *res, const char *ptype)
{
    unsigned bit = !strcmp(type, "http-01") ? CA_CHECK_HTTP : CA_CHECK_DNS;
    const ca_domain_cfg_t *dcfg = q->cfg->submit ? q->cfg->submit->domains : NULL;
    const char *status = "invalid", *problem = NULL;
    ca_domain_t *d;
    apr_status_t rv;
    int same = !strcasecmp(ca_col(z, "identifier"), ca_col(z, "domain"));

    if ((rv = ca_domain_get(&d, q->db, ca_col(z, "domain_id"), q->acct->member_id, q->p))
        == APR_NOTFOUND) {
        problem = apr_pstrcat(q->p, "unauthorized ", ca_col(z, "domain"), NULL);
    }
    else if (rv != APR_SUCCESS) {
        return rv;
    }
    else if (!res->passed) {
        const char *text = q->cfg->text ? q->cfg->text(res->detail, q->cfg->text_baton) : NULL;
        problem = apr_pstrcat(q->p, ptype, " ", text ? text : res->detail, " (", res->target,
                              ")", NULL);
    }
    else if (!ca_domain_rule_met(ca_domain_rule(dcfg, ca_col(z, "root")), d->passed | bit)) {
        const char *text = q->cfg->text ? q->cfg->text("acme.authz.morechecks",
                                                       q->cfg->text_baton) : NULL;
        problem = apr_pstrcat(q->p, "unauthorized ", text ? text : "acme.authz.morechecks",
                              ": ", d->name, NULL);
    }
    else {
        status = "valid";
    }
    if ((rv = ca_db_begin(q->db, q->p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query(NULL, q->db, "cacert_acme_authz_set",
                     CA_ARGS(status, type, problem, ca_col(z, "id")), q->p);
    if (rv == APR_SUCCESS && d && same) {
        rv = ca_domain_record_tx(q->db, d, q->acct->member_id, bit, "acme", res->passed,
                                 res->target, res->detail, q->p);
    }
    if (rv == APR_SUCCESS) {
        rv = ca_db_query(NULL, q->db, "cacert_acme_order_ready", CA_ARGS(ca_col(z, "order_id")),
                         q->p);
    }
    if (rv == APR_SUCCESS) {
        rv = acme_audit(q->db, q->acct->member_id,
                        !strcmp(status, "valid") ? "acme.authz.valid" : "acme.authz.invalid",
                        apr_pstrcat(q->p, "authz=", ca_col(z, "id"), " name=",
                                    ca_col(z, "identifier"), " ", type, NULL), q->p);
    }
    return ca_db_end(q->db, rv, q->p);
}

apr_status_t acme_challenge(acme_req_t *q, const char *id, const char *type)
{
    const ca_row_t *z;
    ca_probe_result_t res;
    const char *ptype = NULL;
    apr_status_t rv;
    int ok = 1, lim = 0;

    if (!ca_is_id(id) || (strcmp(type, "http-01") && strcmp(type, "dns-01"))) {
        return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
    }
    rv = ca_db_row(&z, q->db, "cacert_acme_authz_get", CA_ARGS(id, q->acct->id), q->p);
    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && ca_col_true(z, "wildcard")
                               && !strcmp(type, "http-01"))) {
        return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* answered already, or no longer open: the challenge as it stands */
    if (q->payload && strcmp(ca_col(z, "status"), "pending") == 0 && !ca_col_true(z, "expired")) {
        if ((rv = limited(&lim, q)) != APR_SUCCESS) {
            return rv;
        }
        if (lim == 2) {
            return rate_limited(q, "acme.limit.failed");
        }
        if (q->cfg->probe_per_account || q->cfg->probe_per_domain) {
            rv = ca_domain_rate_ok(&ok, q->db, q->acct->member_id, ca_col(z, "domain"),
                                   q->cfg->probe_per_account, q->cfg->probe_per_domain,
                                   q->cfg->probe_window, q->p);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            if (!ok) {
                return rate_limited(q, "acme.limit.probes");
            }
        }
        if ((rv = probe(&res, &ptype, q, z, type)) != APR_SUCCESS
            || (rv = record(q, z, type, &res, ptype)) != APR_SUCCESS
            || (rv = ca_db_row(&z, q->db, "cacert_acme_authz_get", CA_ARGS(id, q->acct->id),
                               q->p)) != APR_SUCCESS) {
            return rv;
        }
    }
    q->resp->link = apr_pstrcat(q->p, "<", acme_url(q, apr_pstrcat(q->p, "/authz/", id, NULL)),
                                ">;rel=\"up\"", NULL);
    return acme_json(q, 200, challenge_json(q, z, type), NULL);
}

/* ---- finalize ---- */

/* the CSR's names (subjectAltName dNSNames, and the CN) as one sorted,
 * lower-case, comma-separated list like the order's identifiers */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *sorted_names(apr_array_header_t *names, acme_req_t *q)
{
    const char *out = "";
    int i;

    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), cmp_str);
    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        if (i && !strcmp(n, APR_ARRAY_IDX(names, i - 1, const char *))) {
            continue;
        }
        out = apr_pstrcat(q->p, out, *out ? "," : "", n, NULL);
    }
    return out;
}

static const char *csr_names(acme_req_t *q, X509_REQ *req)
{
    apr_array_header_t *names = apr_array_make(q->p, 4, sizeof(const char *));
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *sans = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
    X509_NAME *subj = X509_REQ_get_subject_name(req);
    int i, bad = 0;

    for (i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_DNS) {
            bad = 1;
            continue;
        }
        APR_ARRAY_PUSH(names, const char *) =
            lower(apr_pstrmemdup(q->p, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                 (apr_size_t)ASN1_STRING_length(g->d.dNSName)));
    }
    i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    if (i >= 0) {
        ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
        unsigned char *u = NULL;
        int len = ASN1_STRING_to_UTF8(&u, cn);
        if (len > 0) {
            APR_ARRAY_PUSH(names, const char *) =
                lower(apr_pstrmemdup(q->p, (const char *)u, (apr_size_t)len));
        }
        OPENSSL_free(u);
    }
    GENERAL_NAMES_free(sans);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return bad ? NULL : sorted_names(names, q);
}

typedef struct {
    const char *order_id;
} link_t;

static apr_status_t link_order(ca_db_t *db, const char *req_id, void *baton, apr_pool_t *p)
{
    link_t *l = baton;
    int n = 0;
    apr_status_t rv = ca_db_query(&n, db, "cacert_acme_order_link", CA_ARGS(req_id, l->order_id), p);

    return rv == APR_SUCCESS && n != 1 ? APR_EGENERAL : rv;
}

apr_status_t acme_finalize(acme_req_t *q, const char *id)
{
    const char *b64 = json_string_value(json_object_get(q->payload, "csr"));
    apr_array_header_t *authz, *ids, *proven;
    const char *e, *req_id = NULL, *field;
    const unsigned char *der;
    const ca_row_t *o;
    ca_refusal_t refusal;
    ca_submit_t ask;
    ca_csr_t *csr;
    link_t lk;
    apr_size_t len = 0;
    apr_status_t rv;
    char *list, *last, *n;
    int i, claimed = 0;

    if (!ca_is_id(id)) {
        return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
    }
    if ((rv = order_now(&o, &authz, q, id)) == APR_NOTFOUND) {
        return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(ca_col(o, "status"), "ready")) {
        return acme_problem(q, "orderNotReady", 403, "acme.order.notready", ca_col(o, "status"));
    }
    if (!b64 || !(der = ca_b64url_decode(&len, b64, strlen(b64), q->p))) {
        return acme_problem(q, "malformed", 400, "acme.csr.missing", NULL);
    }
    if ((e = ca_csr_parse(&csr, (const char *)der, len,
                          q->cfg->submit ? q->cfg->submit->weak : NULL, q->p))) {
        return acme_problem(q, "badCSR", 400, e, NULL);
    }
    ids = apr_array_make(q->p, 4, sizeof(const char *));
    list = apr_pstrdup(q->p, ca_col(o, "identifiers"));
    for (n = apr_strtok(list, ",", &last); n; n = apr_strtok(NULL, ",", &last)) {
        APR_ARRAY_PUSH(ids, const char *) = n;
    }
    e = csr_names(q, csr->req);
    if (!e || strcmp(e, sorted_names(apr_array_copy(q->p, ids), q))) {
        return acme_problem(q, "badCSR", 400, "acme.csr.names", NULL);
    }
    /* names authorised by a challenge of this order count for it alone */
    proven = apr_array_make(q->p, 4, sizeof(const char *));
    for (i = 0; i < authz->nelts; i++) {
        const ca_row_t *z = APR_ARRAY_IDX(authz, i, const ca_row_t *);
        const char *m = opt(z, "method");
        if (m && strcmp(m, "standing")) {
            APR_ARRAY_PUSH(proven, const char *) = ca_col(z, "identifier");
        }
    }
    /* the order is taken first, so that a second finalize cannot queue a
     * second request */
    rv = ca_db_query(&claimed, q->db, "cacert_acme_order_set",
                     CA_ARGS("processing", NULL, id, "ready"), q->p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (claimed != 1) {
        return acme_problem(q, "orderNotReady", 403, "acme.order.notready", NULL);
    }
    memset(&ask, 0, sizeof(ask));
    ask.kind = CA_SUBMIT_NEW;
    ask.csr = (const char *)der;
    ask.csr_len = len;
    ask.profile = CA_PROFILE_SERVER;
    ask.md = "sha256";
    ask.hosts = ids;
    ask.proven = proven;
    ask.description = apr_pstrcat(q->p, "ACME order ", id, NULL);
    lk.order_id = id;
    ask.queued = link_order;
    ask.queued_baton = &lk;
    rv = ca_issue_submit(&req_id, &refusal, q->db, q->acct->member_id, &ask, q->cfg->submit, q->p);
    if (rv != APR_SUCCESS || !req_id) {
        /* refused: the order is invalid with the rule; storage: ready again */
        ca_db_query(NULL, q->db, "cacert_acme_order_set",
                    CA_ARGS(rv == APR_SUCCESS ? "invalid" : "ready",
                            rv == APR_SUCCESS ? refusal.key : NULL, id, "processing"), q->p);
        if (rv != APR_SUCCESS) {
            return rv == APR_EACCES || rv == APR_NOTFOUND
                   ? acme_problem(q, "unauthorized", 403, "acme.order.refused", NULL) : rv;
        }
        field = refusal.field;
        return acme_problem(q, field && !strcmp(field, "csr") ? "badCSR" : "rejectedIdentifier",
                            403, refusal.key, NULL);
    }
    return send_order(q, id, 200, NULL);
}

/* ---- certificates and revocation ---- */

apr_status_t acme_certificate(acme_req_t *q, const char *id)
{
    const unsigned char *der;
    const char *chain;
    const ca_row_t *row;
    apr_size_t len;
    apr_status_t rv;
    X509 *x;
    BIO *b;
    char *pem;
    long n;

    if (q->payload) {
        return acme_problem(q, "malformed", 400, "acme.postasget", NULL);
    }
    rv = ca_db_row(&row, q->db, "cacert_acme_cert", CA_ARGS(id, q->acct->id), q->p);
    if (rv == APR_NOTFOUND) {
        return acme_problem(q, "malformed", 404, "acme.notfound", NULL);
    }
    if (rv != APR_SUCCESS
        || (rv = ca_bytea_out(&der, &len, ca_col(row, "der"), q->p)) != APR_SUCCESS) {
        return rv;
    }
    if (!(x = d2i_X509(NULL, &der, (long)len))) {
        return APR_EGENERAL;
    }
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    X509_free(x);
    n = BIO_get_mem_data(b, &pem);
    chain = q->cfg->chain ? q->cfg->chain(ca_col(row, "ca"), q->cfg->chain_baton) : NULL;
    q->resp->body = apr_pstrcat(q->p, apr_pstrmemdup(q->p, pem, (apr_size_t)n),
                                chain ? chain : "", NULL);
    BIO_free(b);
    q->resp->len = strlen(q->resp->body);
    q->resp->status = 200;
    q->resp->content_type = "application/pem-certificate-chain";
    return APR_SUCCESS;
}

/* RFC 8555 7.6: by the account (the certificate is the member's) or by the
 * certificate's key (a jwk request signed with it) */
apr_status_t acme_revoke(acme_req_t *q)
{
    const char *b64 = json_string_value(json_object_get(q->payload, "certificate"));
    json_t *jr = json_object_get(q->payload, "reason");
    const unsigned char *der, *p0, *stored;
    const ca_row_t *row;
    const char *serial, *req_id, *member;
    apr_size_t len = 0, slen;
    ca_jwk_t *certkey = NULL;
    apr_status_t rv;
    int reason = jr ? (int)json_integer_value(jr) : 0, own;
    X509 *x;

    if (!b64 || !(der = ca_b64url_decode(&len, b64, strlen(b64), q->p))) {
        return acme_problem(q, "malformed", 400, "acme.revoke.certificate", NULL);
    }
    if (jr && (!json_is_integer(jr) || reason < 0 || reason > 5 || reason == 2)) {
        return acme_problem(q, "badRevocationReason", 400, "acme.revoke.reason", NULL);
    }
    p0 = der;
    if (!(x = d2i_X509(NULL, &p0, (long)len))) {
        return acme_problem(q, "malformed", 400, "acme.revoke.certificate", NULL);
    }
    {
        const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
        serial = ca_bytea_in(ASN1_STRING_get0_data(sn), (apr_size_t)ASN1_STRING_length(sn),
                             q->p) + 2;
    }
    if (!q->acct) {
        ca_jwk_from_pkey(&certkey, X509_get0_pubkey(x), q->p);
    }
    X509_free(x);
    rv = ca_db_row(&row, q->db, "cacert_acme_cert_by_serial", CA_ARGS(serial), q->p);
    if (rv == APR_SUCCESS) {
        rv = ca_bytea_out(&stored, &slen, ca_col(row, "der"), q->p);
        if (rv == APR_SUCCESS && (slen != len || memcmp(stored, der, len))) {
            rv = APR_NOTFOUND;
        }
    }
    if (rv == APR_NOTFOUND) {
        return acme_problem(q, "malformed", 404, "acme.revoke.unknown", NULL);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    member = ca_col(row, "member_id");
    own = q->acct ? !strcmp(member, q->acct->member_id)
                  : certkey && ca_jwk_equal(certkey, q->key);
    if (!own) {
        return acme_problem(q, "unauthorized", 403, "acme.revoke.notyours", NULL);
    }
    if (ca_col_true(row, "revoked")) {
        return acme_problem(q, "alreadyRevoked", 400, "acme.revoke.already", NULL);
    }
    rv = ca_issue_enqueue_revoke(&req_id, q->db, ca_col(row, "id"), member, reason, member, q->p);
    if (rv == APR_EEXIST) {
        return acme_problem(q, "alreadyRevoked", 400, "acme.revoke.already", NULL);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    q->resp->status = 200;
    return APR_SUCCESS;
}
