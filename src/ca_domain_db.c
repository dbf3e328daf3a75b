/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Domain control, the storage: claims, the record of checks, email pings,
 * and what counts as verified under a root (ca_domain.h). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "ca_domain.h"
#include "ca_account.h"
#include "ca_crypto.h"
#include "ca_log.h"

/* the passed methods of each live domain of a member: one row per domain
 * and method, the latest decisive result of that method */
#define LATEST_RESULTS \
    " LEFT JOIN LATERAL (SELECT DISTINCT ON (c.method) c.method, c.result" \
    "  FROM domain_checks c WHERE c.domain_id = d.id AND c.result IN ('passed', 'failed')" \
    "  ORDER BY c.method, c.id DESC) l ON true"

const ca_stmt_t ca_domain_stmts[] = {
    { "cacert_dom_lock",
      "SELECT pg_advisory_xact_lock(7366324)" },
    { "cacert_dom_conflicts",
      "SELECT lower(name) AS holder FROM domains WHERE deleted_at IS NULL"
      " AND member_id <> %s::bigint"
      " AND (lower(name) = %s OR right(%s, length(name) + 1) = '.' || lower(name)"
      "  OR right(lower(name), length(%s) + 1) = '.' || %s)"
      " ORDER BY length(name) LIMIT 1" },
    /* the organisations' domains (006): same rule, their own message; the
     * trigger domain_one_holder only catches the same name */
    { "cacert_dom_org_conflicts",
      "SELECT lower(name) AS holder FROM org_domains WHERE removed_at IS NULL"
      " AND (lower(name) = %s OR right(%s, length(name) + 1) = '.' || lower(name)"
      "  OR right(lower(name), length(%s) + 1) = '.' || %s)"
      " ORDER BY length(name) LIMIT 1" },
    { "cacert_dom_own",
      "SELECT id FROM domains WHERE deleted_at IS NULL AND member_id = %s::bigint"
      " AND lower(name) = %s" },
    { "cacert_dom_insert",
      "INSERT INTO domains (member_id, name, cookie) VALUES (%s::bigint, %s, %s) RETURNING id" },
    { "cacert_dom_remove",
      "UPDATE domains SET deleted_at = now() WHERE id = %s::bigint AND member_id = %s::bigint"
      " AND deleted_at IS NULL" },
    { "cacert_dom_list",
      "SELECT d.id, d.name, d.cookie,"
      " to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS created, d.member_id,"
      " to_char(d.retest_failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS retest_failed,"
      " coalesce(string_agg(l.method, ',') FILTER (WHERE l.result = 'passed'), '') AS passed"
      " FROM domains d" LATEST_RESULTS
      " WHERE d.member_id = %s::bigint AND d.deleted_at IS NULL"
      " GROUP BY d.id ORDER BY d.id" },
    { "cacert_dom_get",
      "SELECT d.id, d.name, d.cookie,"
      " to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS created, d.member_id,"
      " to_char(d.retest_failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS retest_failed,"
      " coalesce(string_agg(l.method, ',') FILTER (WHERE l.result = 'passed'), '') AS passed"
      " FROM domains d" LATEST_RESULTS
      " WHERE d.id = %s::bigint AND d.deleted_at IS NULL"
      " AND (%s::bigint IS NULL OR d.member_id = %s::bigint)"
      " GROUP BY d.id" },
    { "cacert_dom_history",
      "SELECT id, method, kind, result, target, detail,"
      " to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at"
      " FROM domain_checks WHERE domain_id = %s::bigint ORDER BY id DESC LIMIT %s::integer" },
    { "cacert_dom_check_insert",
      "INSERT INTO domain_checks (domain_id, member_id, method, kind, result, target, detail)"
      " VALUES (%s::bigint, %s::bigint, %s, %s, %s, %s, %s) RETURNING id" },
    { "cacert_dom_first_pass",
      "UPDATE domains SET verified_at = coalesce(verified_at, now()) WHERE id = %s::bigint" },
    { "cacert_dom_retested",
      "UPDATE domains SET retested_at = now(), retest_failed_at = CASE"
      " WHEN %s::boolean THEN NULL ELSE coalesce(retest_failed_at, now()) END"
      " WHERE id = %s::bigint" },
    { "cacert_dom_retest_clear",
      "UPDATE domains SET retest_failed_at = NULL WHERE id = %s::bigint" },
    { "cacert_dom_rate",
      "SELECT (SELECT count(*) FROM domain_checks WHERE member_id = %s::bigint"
      "   AND kind = 'probe' AND at > now() - make_interval(secs => %s::float8)) AS by_member,"
      " (SELECT count(*) FROM domain_checks c JOIN domains d ON d.id = c.domain_id"
      "   WHERE lower(d.name) = %s AND c.kind = 'probe'"
      "   AND c.at > now() - make_interval(secs => %s::float8)) AS by_domain" },
    { "cacert_dom_ping_insert",
      "INSERT INTO domain_pings (check_id, cookie_hash, expires_at)"
      " VALUES (%s::bigint, %s, now() + make_interval(secs => %s::float8))" },
    { "cacert_dom_ping_use",
      "UPDATE domain_pings p SET used_at = now() FROM domain_checks c, domains d"
      " WHERE p.cookie_hash = %s AND p.used_at IS NULL AND p.expires_at > now()"
      " AND c.id = p.check_id AND d.id = c.domain_id AND d.deleted_at IS NULL"
      " RETURNING d.id, d.name, c.member_id, c.target" },
    { "cacert_dom_verified",
      "SELECT lower(d.name) AS name, coalesce(string_agg(l.method, ',')"
      "  FILTER (WHERE l.result = 'passed'), '') AS passed"
      " FROM domains d" LATEST_RESULTS
      " WHERE d.member_id = %s::bigint AND d.deleted_at IS NULL"
      " GROUP BY d.id ORDER BY d.id" },
    { "cacert_dom_due",
      "SELECT d.id, d.name, d.cookie,"
      " to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS created, d.member_id,"
      " to_char(d.retest_failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS retest_failed,"
      " (SELECT string_agg(DISTINCT c.method, ',') FROM domain_checks c"
      "  WHERE c.domain_id = d.id AND c.result = 'passed' AND c.method IN ('dns', 'http'))"
      " AS passed"
      " FROM domains d WHERE d.deleted_at IS NULL"
      " AND coalesce(d.retested_at, d.created_at) < now() - make_interval(secs => %s::float8)"
      " AND EXISTS (SELECT 1 FROM domain_checks c WHERE c.domain_id = d.id"
      "  AND c.result = 'passed' AND c.method IN ('dns', 'http'))"
      " ORDER BY coalesce(d.retested_at, d.created_at) LIMIT %s::integer" },
    { "cacert_dom_audit",
      "INSERT INTO audit_log (actor_id, member_id, action, detail)"
      " VALUES (%s::bigint, %s::bigint, %s, %s)" },
    { NULL, NULL }
};

/* ---- storage ---- */

static unsigned methods_of(const char *list)
{
    unsigned m = 0;
    const char *s = list;

    while (s && *s) {
        const char *e = strchr(s, ',');
        apr_size_t n = e ? (apr_size_t)(e - s) : strlen(s);
        char name[8];
        if (n < sizeof(name)) {
            memcpy(name, s, n);
            name[n] = '\0';
            m |= ca_check_method_bit(name);
        }
        s = e ? e + 1 : NULL;
    }
    return m;
}

static void domain_from_row(ca_domain_t *d, const ca_row_t *row)
{
    d->id = ca_col(row, "id");
    d->name = ca_col(row, "name");
    d->cookie = ca_col(row, "cookie") ? ca_col(row, "cookie") : "";
    d->created = ca_col(row, "created");
    d->member_id = ca_col(row, "member_id");
    d->retest_failed = ca_col(row, "retest_failed");
    d->passed = methods_of(ca_col(row, "passed"));
}

static apr_status_t audit(ca_db_t *db, const char *actor, const char *member,
                          const char *action, const char *detail, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_dom_audit",
                       CA_ARGS(actor, member, action, detail ? detail : ""), p);
}

/* a new secret for a claim or a ping, with its hash in *phash unless
 * phash is NULL (a ping keeps only the hash; a claim's token is public),
 * then the transaction that stores it */
static apr_status_t begin_with_cookie(const char **pcookie, const char **phash, ca_db_t *db,
                                      apr_pool_t *p)
{
    apr_status_t rv = phash ? ca_random_token_hash(pcookie, phash, 24, p)
                            : ca_random_token(pcookie, 24, p);

    return rv == APR_SUCCESS ? ca_db_begin(db, p) : rv;
}

apr_status_t ca_domain_add(const char **pid, const char **prefusal, ca_db_t *db,
                           const char *member_id, const char *name, apr_pool_t *p)
{
    const ca_row_t *row;
    const char *cookie;
    apr_status_t rv;

    *pid = NULL;
    *prefusal = NULL;
    if ((rv = begin_with_cookie(&cookie, NULL, db, p)) != APR_SUCCESS) {
        return rv;
    }
    /* one claim at a time: the check for parents and children and the
     * insert must not interleave with another claim's */
    if ((rv = ca_db_row(&row, db, "cacert_dom_lock", CA_NOARGS, p)) != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_db_row(&row, db, "cacert_dom_conflicts",
                       CA_ARGS(member_id, name, name, name, name), p);
    if (rv == APR_SUCCESS) {
        *prefusal = ca_domain_claim_rule(name, ca_col(row, "holder"));
        if (!*prefusal) {
            *prefusal = "domain.claimed.same";
        }
        goto leave;
    }
    if (rv != APR_NOTFOUND) {
        goto leave;
    }
    rv = ca_db_row(&row, db, "cacert_dom_org_conflicts", CA_ARGS(name, name, name, name), p);
    if (rv == APR_SUCCESS) {
        *prefusal = ca_domain_org_claim_rule(name, ca_col(row, "holder"));
        if (!*prefusal) {
            *prefusal = "domain.claimed.org";
        }
        goto leave;
    }
    if (rv != APR_NOTFOUND) {
        goto leave;
    }
    rv = ca_db_row(&row, db, "cacert_dom_own", CA_ARGS(member_id, name), p);
    if (rv == APR_SUCCESS) {
        *prefusal = "domain.claimed.yours";
        goto leave;
    }
    if (rv != APR_NOTFOUND) {
        goto leave;
    }
    if ((rv = ca_db_row(&row, db, "cacert_dom_insert", CA_ARGS(member_id, name, cookie), p))
        != APR_SUCCESS) {
        goto leave;
    }
    *pid = ca_col(row, "id");
    if ((rv = audit(db, member_id, member_id, "domain.add", name, p)) != APR_SUCCESS) {
        *pid = NULL;
        goto leave;
    }
leave:
    return ca_db_end_refused(db, rv, *prefusal, p);
}

apr_status_t ca_domain_remove(ca_db_t *db, const char *member_id, const char *domain_id,
                              apr_pool_t *p)
{
    apr_status_t rv;

    if (!ca_is_id(domain_id)) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query_one(db, "cacert_dom_remove", CA_ARGS(domain_id, member_id), p);
    if (rv == APR_SUCCESS) {
        rv = audit(db, member_id, member_id, "domain.remove", domain_id, p);
    }
    return ca_db_end(db, rv, p);
}

static void domain_fill(void *d, const ca_row_t *row, const void *baton)
{
    (void)baton;
    domain_from_row(d, row);
}

apr_status_t ca_domain_list(apr_array_header_t **plist, ca_db_t *db, const char *member_id,
                            apr_pool_t *p)
{
    return ca_db_collect(plist, sizeof(ca_domain_t), domain_fill, NULL, db, "cacert_dom_list",
                         CA_ARGS(member_id), p);
}

apr_status_t ca_domain_get(ca_domain_t **pd, ca_db_t *db, const char *domain_id,
                           const char *member_id, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    *pd = NULL;
    if (!ca_is_id(domain_id)) {
        return APR_NOTFOUND;
    }
    rv = ca_db_row(&row, db, "cacert_dom_get", CA_ARGS(domain_id, member_id, member_id), p);
    if (rv == APR_SUCCESS) {
        *pd = apr_pcalloc(p, sizeof(**pd));
        domain_from_row(*pd, row);
    }
    return rv;
}

static const ca_col_map_t check_map[] = {
    CA_COLS(ca_domain_check_t, id, method, kind, result, target, detail, at),
    { NULL }
};

apr_status_t ca_domain_history(apr_array_header_t **pchecks, ca_db_t *db,
                               const char *domain_id, int limit, apr_pool_t *p)
{
    *pchecks = apr_array_make(p, 8, sizeof(ca_domain_check_t));
    if (!ca_is_id(domain_id)) {
        return APR_NOTFOUND;
    }
    return ca_db_fill(pchecks, sizeof(ca_domain_check_t), check_map, db, "cacert_dom_history",
                      CA_ARGS(domain_id, apr_itoa(p, limit)), p);
}

apr_status_t ca_domain_record_tx(ca_db_t *db, const ca_domain_t *d, const char *member_id,
                                 unsigned method, const char *kind, int passed,
                                 const char *target, const char *detail, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;
    int retest = !strcmp(kind, "retest");

    rv = ca_db_row(&row, db, "cacert_dom_check_insert",
                   CA_ARGS(d->id, member_id, ca_check_method_name(method),
                           retest ? "retest" : !strcmp(kind, "acme") ? "acme" : "probe",
                           passed ? "passed" : "failed", target ? target : "",
                           detail ? detail : ""), p);
    if (rv == APR_SUCCESS && passed) {
        rv = ca_db_query(NULL, db, "cacert_dom_first_pass", CA_ARGS(d->id), p);
    }
    /* the member fixed what a re-test found: a passing probe of the same
     * kind of check clears the mark */
    if (rv == APR_SUCCESS && !retest && passed && d->retest_failed && *d->retest_failed) {
        rv = ca_db_query(NULL, db, "cacert_dom_retest_clear", CA_ARGS(d->id), p);
    }
    if (rv == APR_SUCCESS && !retest) {
        rv = audit(db, member_id, d->member_id, passed ? "domain.check.passed"
                                                       : "domain.check.failed",
                   apr_pstrcat(p, d->name, " ", ca_check_method_name(method), NULL), p);
    }
    return rv;
}

apr_status_t ca_domain_record(ca_db_t *db, const ca_domain_t *d, const char *member_id,
                              unsigned method, const char *kind, int passed,
                              const char *target, const char *detail, apr_pool_t *p)
{
    apr_status_t rv;

    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_domain_record_tx(db, d, member_id, method, kind, passed, target, detail, p);
    return ca_db_end(db, rv, p);
}

apr_status_t ca_domain_retested(ca_db_t *db, const ca_domain_t *d, int all_passed,
                                apr_pool_t *p)
{
    apr_status_t rv;

    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query(NULL, db, "cacert_dom_retested",
                     CA_ARGS(all_passed ? "true" : "false", d->id), p);
    if (rv == APR_SUCCESS && !all_passed) {
        rv = audit(db, NULL, d->member_id, "domain.retest.failed", d->name, p);
    }
    return ca_db_end(db, rv, p);
}

apr_status_t ca_domain_rate_ok(int *pok, ca_db_t *db, const char *member_id,
                               const char *name, int per_account, int per_domain,
                               apr_interval_time_t window, apr_pool_t *p)
{
    const ca_row_t *row;
    const char *secs = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)apr_time_sec(window));
    apr_status_t rv;

    *pok = 0;
    rv = ca_db_row(&row, db, "cacert_dom_rate", CA_ARGS(member_id, secs, name, secs), p);
    if (rv == APR_SUCCESS) {
        *pok = ca_col_int(row, "by_member", 0) < per_account
               && ca_col_int(row, "by_domain", 0) < per_domain;
    }
    return rv;
}

apr_status_t ca_domain_ping_create(const char **pcookie, ca_db_t *db, const ca_domain_t *d,
                                   const char *member_id, const char *address,
                                   apr_interval_time_t lifetime, apr_pool_t *p)
{
    const ca_row_t *row;
    const char *cookie, *hash;
    apr_status_t rv;

    *pcookie = NULL;
    if ((rv = begin_with_cookie(&cookie, &hash, db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_dom_check_insert",
                   CA_ARGS(d->id, member_id, "email", "probe", "sent", address, ""), p);
    if (rv == APR_SUCCESS) {
        rv = ca_db_query(NULL, db, "cacert_dom_ping_insert",
                         CA_ARGS(ca_col(row, "id"), hash,
                                 apr_psprintf(p, "%" APR_INT64_T_FMT,
                                              (apr_int64_t)apr_time_sec(lifetime))), p);
    }
    if (rv == APR_SUCCESS) {
        rv = audit(db, member_id, d->member_id, "domain.ping",
                   apr_pstrcat(p, d->name, " ", address, NULL), p);
    }
    if ((rv = ca_db_end(db, rv, p)) == APR_SUCCESS) {
        *pcookie = cookie;
    }
    return rv;
}

apr_status_t ca_domain_ping_confirm(const char **pname, ca_db_t *db, const char *cookie,
                                    apr_pool_t *p)
{
    const ca_row_t *row, *ins;
    const char *domain_id = NULL, *name = NULL, *member_id = NULL;
    apr_status_t rv;

    *pname = NULL;
    if (!cookie || !*cookie || strlen(cookie) > 200) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_dom_ping_use",
                   CA_ARGS(ca_sha256_hex(cookie, strlen(cookie), p)), p);
    if (rv == APR_SUCCESS) {
        domain_id = ca_col(row, "id");
        name = ca_col(row, "name");
        member_id = ca_col(row, "member_id");
        rv = ca_db_row(&ins, db, "cacert_dom_check_insert",
                       CA_ARGS(domain_id, member_id, "email", "probe", "passed",
                               ca_col(row, "target"), ""), p);
    }
    if (rv == APR_SUCCESS) {
        rv = ca_db_query(NULL, db, "cacert_dom_first_pass", CA_ARGS(domain_id), p);
    }
    if (rv == APR_SUCCESS) {
        rv = audit(db, member_id, member_id, "domain.check.passed",
                   apr_pstrcat(p, name, " email", NULL), p);
    }
    if ((rv = ca_db_end(db, rv, p)) == APR_SUCCESS) {
        *pname = name;
    }
    return rv;
}

apr_status_t ca_domain_verified(apr_array_header_t **plist, ca_db_t *db,
                                const char *member_id, const char *root,
                                const ca_domain_cfg_t *cfg, apr_pool_t *p)
{
    const ca_domain_rule_t *rule = ca_domain_rule(cfg, root);
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *plist = apr_array_make(p, 4, sizeof(const char *));
    rv = ca_db_rows(&rows, db, "cacert_dom_verified", CA_ARGS(member_id), p);
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        const ca_row_t *row = APR_ARRAY_IDX(rows, i, const ca_row_t *);
        if (ca_domain_rule_met(rule, methods_of(ca_col(row, "passed")))) {
            APR_ARRAY_PUSH(*plist, const char *) = ca_col(row, "name");
        }
    }
    return rv;
}

apr_status_t ca_domain_due(apr_array_header_t **plist, ca_db_t *db,
                           apr_interval_time_t interval, int limit, apr_pool_t *p)
{
    return ca_db_collect(plist, sizeof(ca_domain_t), domain_fill, NULL, db, "cacert_dom_due",
                         CA_ARGS(apr_psprintf(p, "%" APR_INT64_T_FMT,
                                              (apr_int64_t)apr_time_sec(interval)),
                                 apr_itoa(p, limit)), p);
}
