/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* ACME's storage (ca_acme_private.h): the statements, the nonces, the
 * credentials and accounts, and what the member's ACME page shows. */
#include <string.h>

#include <apr_strings.h>

#include "ca_acme.h"
#include "ca_acme_private.h"
#include "ca_crypto.h"

/* RFC 3339, as ACME objects carry times */
#define RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define SECONDS "now() + %s::bigint * interval '1 second'"
#define SINCE "now() - %s::bigint * interval '1 second'"

const ca_stmt_t ca_acme_stmts[] = {
    { "cacert_acme_nonce_new", "INSERT INTO acme_nonces (nonce, expires_at) VALUES (%s, " SECONDS ")" },
    { "cacert_acme_nonce_use", "DELETE FROM acme_nonces WHERE nonce = %s AND expires_at > now()" },
    { "cacert_acme_eab_new",
      "INSERT INTO acme_eab (kid, member_id, hmac_key, expires_at)"
      " VALUES (%s, %s::bigint, %s, " SECONDS ")" },
    { "cacert_acme_eab_get",
      "SELECT e.member_id, e.hmac_key, e.used_at IS NOT NULL AS used,"
      " e.expires_at <= now() AS expired,"
      " m.locked_at IS NOT NULL OR m.deleted_at IS NOT NULL AS barred"
      " FROM acme_eab e JOIN members m ON m.id = e.member_id WHERE e.kid = %s" },
    { "cacert_acme_eab_use",
      "UPDATE acme_eab SET used_at = now() WHERE kid = %s AND used_at IS NULL"
      " AND expires_at > now()" },
    { "cacert_acme_acct_new",
      "INSERT INTO acme_accounts (member_id, eab_kid, jwk, thumbprint, contact)"
      " VALUES (%s::bigint, %s, %s, %s, %s) RETURNING id" },
    { "cacert_acme_acct_by_thumb",
      "SELECT a.id, a.member_id, a.jwk, a.status, a.contact,"
      " m.locked_at IS NOT NULL OR m.deleted_at IS NOT NULL AS barred"
      " FROM acme_accounts a JOIN members m ON m.id = a.member_id WHERE a.thumbprint = %s" },
    { "cacert_acme_acct_get",
      "SELECT a.id, a.member_id, a.jwk, a.status, a.contact,"
      " m.locked_at IS NOT NULL OR m.deleted_at IS NOT NULL AS barred"
      " FROM acme_accounts a JOIN members m ON m.id = a.member_id WHERE a.id = %s::bigint" },
    { "cacert_acme_acct_contact", "UPDATE acme_accounts SET contact = %s WHERE id = %s::bigint" },
    { "cacert_acme_acct_deactivate",
      "UPDATE acme_accounts SET status = 'deactivated', deactivated_at = now()"
      " WHERE id = %s::bigint AND member_id = %s::bigint AND status = 'valid'" },
    { "cacert_acme_acct_key",
      "UPDATE acme_accounts SET jwk = %s, thumbprint = %s WHERE id = %s::bigint"
      " AND status = 'valid'" },
    { "cacert_acme_lock_member", "SELECT pg_advisory_xact_lock(hashtextextended(%s, 2263))" },
    { "cacert_acme_orders_recent",
      "SELECT count(*) FILTER (WHERE account_id = %s::bigint) AS by_account,"
      " count(*) AS by_member FROM acme_orders"
      " WHERE member_id = %s::bigint AND created_at > " SINCE },
    { "cacert_acme_failed_recent",
      "SELECT count(*) FILTER (WHERE o.account_id = %s::bigint) AS by_account,"
      " count(*) AS by_member FROM acme_authz z JOIN acme_orders o ON o.id = z.order_id"
      " WHERE o.member_id = %s::bigint AND z.status = 'invalid'"
      " AND z.validated_at > " SINCE },
    { "cacert_acme_order_new",
      "INSERT INTO acme_orders (account_id, member_id, identifiers, root, status, expires_at)"
      " VALUES (%s::bigint, %s::bigint, %s, %s, %s, " SECONDS ") RETURNING id" },
    { "cacert_acme_authz_new",
      "INSERT INTO acme_authz (order_id, identifier, wildcard, domain_id, status, token,"
      " method, validated_at, expires_at) VALUES (%s::bigint, %s, %s::boolean, %s::bigint,"
      " %s, %s, %s, CASE WHEN %s = 'valid' THEN now() END, " SECONDS ")" },
    { "cacert_acme_order_get",
      "SELECT o.id, o.status, o.identifiers, o.root, o.request_id, o.problem, o.member_id,"
      " " RFC3339("o.expires_at") " AS expires, o.expires_at <= now() AS expired,"
      " r.state AS req_state, c.id AS cert_id"
      " FROM acme_orders o LEFT JOIN signer_requests r ON r.id = o.request_id"
      " LEFT JOIN certificates c ON c.request_id = o.request_id"
      " WHERE o.id = %s::bigint AND o.account_id = %s::bigint" },
    { "cacert_acme_order_authz",
      "SELECT id, identifier, wildcard, status, method FROM acme_authz"
      " WHERE order_id = %s::bigint ORDER BY id" },
    { "cacert_acme_order_set",
      "UPDATE acme_orders SET status = %s, problem = %s WHERE id = %s::bigint AND status = %s" },
    { "cacert_acme_order_link",
      "UPDATE acme_orders SET request_id = %s::bigint WHERE id = %s::bigint"
      " AND status = 'processing'" },
    { "cacert_acme_authz_get",
      "SELECT z.id, z.order_id, z.identifier, z.wildcard, z.domain_id, z.status, z.token,"
      " z.method, z.problem, " RFC3339("z.validated_at") " AS validated,"
      " " RFC3339("z.expires_at") " AS expires, z.expires_at <= now() AS expired,"
      " d.name AS domain, d.deleted_at IS NOT NULL AS domain_gone, o.root, o.member_id"
      " FROM acme_authz z JOIN acme_orders o ON o.id = z.order_id"
      " JOIN domains d ON d.id = z.domain_id"
      " WHERE z.id = %s::bigint AND o.account_id = %s::bigint" },
    { "cacert_acme_authz_set",
      "UPDATE acme_authz SET status = %s, method = %s, problem = %s, validated_at = now()"
      " WHERE id = %s::bigint AND status = 'pending'" },
    { "cacert_acme_authz_deactivate",
      "UPDATE acme_authz z SET status = 'deactivated' FROM acme_orders o"
      " WHERE z.id = %s::bigint AND o.id = z.order_id AND o.account_id = %s::bigint"
      " AND z.status IN ('pending', 'valid')" },
    /* an order whose every authorisation is valid is ready */
    { "cacert_acme_order_ready",
      "UPDATE acme_orders o SET status = 'ready' WHERE o.id = %s::bigint"
      " AND o.status = 'pending' AND NOT EXISTS (SELECT 1 FROM acme_authz z"
      " WHERE z.order_id = o.id AND z.status <> 'valid')" },
    { "cacert_acme_cert",
      "SELECT c.der, c.ca FROM certificates c JOIN acme_orders o ON o.request_id = c.request_id"
      " WHERE o.id = %s::bigint AND o.account_id = %s::bigint" },
    { "cacert_acme_cert_by_serial",
      "SELECT id, member_id, ca, der, revoked_at IS NOT NULL AS revoked FROM certificates"
      " WHERE serial = %s" },
    { "cacert_acme_audit",
      "INSERT INTO audit_log (actor_id, member_id, action, detail)"
      " VALUES (%s::bigint, %s::bigint, %s, %s)" },
    { "cacert_acme_accounts",
      "SELECT a.id, a.thumbprint, a.contact, a.status, a.status = 'valid' AS is_valid,"
      " a.eab_kid AS kid,"
      " " CA_SQL_TS("a.created_at") " AS created,"
      " (SELECT count(*) FROM acme_orders o WHERE o.account_id = a.id) AS orders"
      " FROM acme_accounts a WHERE a.member_id = %s::bigint ORDER BY a.id DESC" },
    { "cacert_acme_creds",
      "SELECT kid, " CA_SQL_TS("created_at") " AS created,"
      " " CA_SQL_TS("expires_at") " AS expires, expires_at <= now() AS expired"
      " FROM acme_eab WHERE member_id = %s::bigint AND used_at IS NULL"
      " ORDER BY created_at DESC LIMIT 20" },
    { "cacert_acme_clean_nonces", "DELETE FROM acme_nonces WHERE expires_at <= now()" },
    { "cacert_acme_clean_eab",
      "DELETE FROM acme_eab WHERE used_at IS NULL AND expires_at <= now() - interval '30 days'" },
    { "cacert_acme_clean_authz",
      "UPDATE acme_authz SET status = 'expired' WHERE status = 'pending' AND expires_at <= now()" },
    { "cacert_acme_clean_orders",
      "UPDATE acme_orders SET status = 'invalid', problem = 'acme.order.expired'"
      " WHERE status IN ('pending', 'ready') AND expires_at <= now()" },
    { NULL, NULL }
};

const char *acme_secs(apr_interval_time_t t, apr_pool_t *p)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)apr_time_sec(t));
}

apr_status_t acme_audit(ca_db_t *db, const char *member_id, const char *action,
                        const char *detail, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_acme_audit",
                       CA_ARGS(member_id, member_id, action, detail ? detail : ""), p);
}

/* ---- nonces ---- */

apr_status_t acme_nonce_new(const char **pnonce, ca_db_t *db, apr_interval_time_t lifetime,
                            apr_pool_t *p)
{
    apr_status_t rv;

    *pnonce = NULL;
    if ((rv = ca_random_token(pnonce, 16, p)) != APR_SUCCESS) {
        return rv;
    }
    return ca_db_query(NULL, db, "cacert_acme_nonce_new",
                       CA_ARGS(*pnonce, acme_secs(lifetime, p)), p);
}

apr_status_t acme_nonce_use(int *pok, ca_db_t *db, const char *nonce, apr_pool_t *p)
{
    int n = 0;
    apr_status_t rv = ca_db_query(&n, db, "cacert_acme_nonce_use", CA_ARGS(nonce), p);

    *pok = rv == APR_SUCCESS && n == 1;
    return rv;
}

/* ---- accounts ---- */

static const ca_col_map_t account_map[] = {
    CA_COLS(acme_account_t, id, member_id, jwk, status, contact),
    CA_FIELD(TRUE, acme_account_t, barred, "barred"),
    { NULL }
};

apr_status_t acme_account_find(acme_account_t **pa, ca_db_t *db, const char *label,
                               const char *key, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    *pa = NULL;
    if ((rv = ca_db_row(&row, db, label, CA_ARGS(key), p)) == APR_SUCCESS) {
        *pa = apr_pcalloc(p, sizeof(**pa));
        ca_row_fill(*pa, row, account_map);
    }
    return rv;
}

/* a random token that does not start with '-': the clients take it on
 * their command line (--eab-kid, --eab-hmac-key), where it would read as
 * an option */
static apr_status_t cli_token(const char **ptoken, apr_size_t nbytes, apr_pool_t *p)
{
    apr_status_t rv;

    do {
        rv = ca_random_token(ptoken, nbytes, p);
    } while (rv == APR_SUCCESS && **ptoken == '-');
    return rv;
}

apr_status_t ca_acme_eab_create(const char **pkid, const char **phmac, ca_db_t *db,
                                const char *member_id, apr_interval_time_t lifetime,
                                apr_pool_t *p)
{
    apr_status_t rv;

    *pkid = *phmac = NULL;
    if (!ca_is_id(member_id)) {
        return APR_EINVAL;
    }
    if ((rv = cli_token(pkid, 12, p)) != APR_SUCCESS || (rv = cli_token(phmac, 32, p)) != APR_SUCCESS
        || (rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query(NULL, db, "cacert_acme_eab_new",
                     CA_ARGS(*pkid, member_id, *phmac,
                             acme_secs(lifetime, p)), p);
    if (rv == APR_SUCCESS) {
        rv = acme_audit(db, member_id, "acme.eab.create", apr_pstrcat(p, "kid=", *pkid, NULL), p);
    }
    if (rv != APR_SUCCESS) {
        *pkid = *phmac = NULL;
    }
    return ca_db_end(db, rv, p);
}

static const ca_col_map_t page_account_map[] = {
    CA_COLS(ca_acme_account_t, id, thumbprint, contact, status, created, kid),
    CA_FIELD(INT, ca_acme_account_t, orders, "orders"),
    CA_FIELD(TRUE, ca_acme_account_t, is_valid, "is_valid"),
    { NULL }
};

static const ca_col_map_t cred_map[] = {
    CA_COLS(ca_acme_eab_t, kid, created, expires),
    CA_FIELD(TRUE, ca_acme_eab_t, expired, "expired"),
    { NULL }
};

apr_status_t ca_acme_accounts(apr_array_header_t **paccounts, apr_array_header_t **pcreds,
                              ca_db_t *db, const char *member_id, apr_pool_t *p)
{
    apr_status_t rv;

    rv = ca_db_fill(paccounts, sizeof(ca_acme_account_t), page_account_map, db,
                    "cacert_acme_accounts", CA_ARGS(member_id), p);
    if (rv == APR_SUCCESS) {
        rv = ca_db_fill(pcreds, sizeof(ca_acme_eab_t), cred_map, db, "cacert_acme_creds",
                        CA_ARGS(member_id), p);
    }
    return rv;
}

apr_status_t ca_acme_deactivate(ca_db_t *db, const char *member_id, const char *account_id,
                                apr_pool_t *p)
{
    apr_status_t rv;

    if (!ca_is_id(account_id) || !ca_is_id(member_id)) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query_one(db, "cacert_acme_acct_deactivate", CA_ARGS(account_id, member_id), p);
    if (rv == APR_SUCCESS) {
        rv = acme_audit(db, member_id, "acme.account.deactivate",
                        apr_pstrcat(p, "account=", account_id, NULL), p);
    }
    return ca_db_end(db, rv, p);
}

apr_status_t ca_acme_cleanup(int *pn, ca_db_t *db, apr_pool_t *p)
{
    static const char *const labels[] = {
        "cacert_acme_clean_nonces", "cacert_acme_clean_eab", "cacert_acme_clean_authz",
        "cacert_acme_clean_orders", NULL
    };
    apr_status_t rv = APR_SUCCESS;
    int i, n;

    *pn = 0;
    for (i = 0; labels[i] && rv == APR_SUCCESS; i++) {
        n = 0;
        rv = ca_db_query(&n, db, labels[i], CA_NOARGS, p);
        *pn += n;
    }
    return rv;
}
