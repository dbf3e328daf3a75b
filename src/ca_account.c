/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "ca_account.h"
#include "ca_log.h"
#include "ca_roles.h"
#include "ca_valid.h"

#define TOKEN_BYTES 32          /* session ids, reset links: 256 bits */
#define COOKIE_BYTES 18         /* email ping cookies: 144 bits */

/* the failures of a client in a window, for must_wait: args address,
 * address, client address, window seconds */
#define FAILURES_OF(table) \
    "SELECT count(*) FILTER (WHERE address = lower(%s)) AS by_pair," \
    " coalesce(extract(epoch FROM now() - max(at) FILTER (WHERE address = lower(%s)))," \
    "  0)::float8 AS pair_since," \
    " count(*) AS by_client, coalesce(extract(epoch FROM now() - max(at)), 0)::float8" \
    " AS client_since FROM " table " WHERE client_addr = %s" \
    " AND at > now() - make_interval(secs => %s::float8)"

/* rows of the failure and limit tables older than $1 seconds: no window
 * reads them any more */
#define PRUNE(table) \
    " d_" table " AS (DELETE FROM " table \
    " WHERE at < now() - make_interval(secs => %s::float8) RETURNING 1)"

const ca_stmt_t ca_account_stmts[] = {
    { "cacert_acc_prune",
      "WITH" PRUNE("login_failures") "," PRUNE("lost_password_failures") ","
      PRUNE("confirm_failures") "," PRUNE("registrations_taken") ","
      PRUNE("wot_mismatches")
      " SELECT (SELECT count(*) FROM d_login_failures) + (SELECT count(*) FROM"
      " d_lost_password_failures) + (SELECT count(*) FROM d_confirm_failures)"
      " + (SELECT count(*) FROM d_registrations_taken) + (SELECT count(*) FROM"
      " d_wot_mismatches) AS n" },
    { "cacert_acc_email_free_stale",
      "UPDATE emails SET deleted_at = now() WHERE lower(address) = lower(%s)"
      " AND deleted_at IS NULL AND verified_at IS NULL AND NOT EXISTS"
      " (SELECT 1 FROM email_pings p WHERE p.email_id = emails.id"
      "  AND p.used_at IS NULL AND p.expires_at > now())" },
    { "cacert_acc_owner_language",
      "SELECT m.language FROM emails e JOIN members m ON m.id = e.member_id"
      " WHERE lower(e.address) = lower(%s) AND e.deleted_at IS NULL"
      " AND m.deleted_at IS NULL ORDER BY e.id LIMIT 1" },
    { "cacert_acc_language_set",
      "UPDATE members SET language = %s WHERE id = %s::bigint AND deleted_at IS NULL" },
    { "cacert_acc_email_taken",
      "SELECT id, member_id FROM emails WHERE lower(address) = lower(%s)"
      " AND deleted_at IS NULL" },
    { "cacert_acc_claim_open",
      "SELECT id FROM email_claims WHERE member_id = %s::bigint"
      " AND lower(address) = lower(%s) AND removed_at IS NULL" },
    { "cacert_acc_claim_insert",
      "INSERT INTO email_claims (member_id, address, expires_at)"
      " VALUES (%s::bigint, %s, now() + make_interval(secs => %s::float8))" },
    { "cacert_acc_claim_remove",
      "UPDATE email_claims SET removed_at = now() WHERE id = %s::bigint"
      " AND member_id = %s::bigint AND removed_at IS NULL" },
    { "cacert_acc_member_insert",
      "INSERT INTO members (given_name, middle_name, family_name, suffix, dob,"
      " password_hash, language) VALUES (%s, %s, %s, %s, %s::date, %s, %s)"
      " RETURNING id" },
    { "cacert_acc_question_insert",
      "INSERT INTO lost_password_questions (member_id, position, question, answer_hash)"
      " VALUES (%s::bigint, %s::smallint, %s, %s)" },
    { "cacert_acc_cca_insert",
      "INSERT INTO cca_agreements (member_id, version, client_addr)"
      " VALUES (%s::bigint, %s, %s)" },
    { "cacert_acc_email_insert",
      "INSERT INTO emails (member_id, address, is_primary)"
      " VALUES (%s::bigint, %s, %s::boolean) RETURNING id" },
    { "cacert_acc_ping_insert",
      "INSERT INTO email_pings (email_id, cookie_hash, expires_at)"
      " VALUES (%s::bigint, %s, now() + make_interval(secs => %s::float8)) RETURNING id" },
    { "cacert_acc_audit",
      "INSERT INTO audit_log (actor_id, member_id, action, detail)"
      " VALUES (%s::bigint, %s::bigint, %s, %s)" },
    { "cacert_acc_ping_by_id",
      "SELECT p.id, p.email_id, p.cookie_hash, p.attempts, p.expires_at <= now() AS expired,"
      " p.used_at IS NOT NULL OR e.deleted_at IS NOT NULL AS closed, e.address, e.member_id"
      " FROM email_pings p JOIN emails e ON e.id = p.email_id"
      " WHERE p.id = %s::bigint FOR UPDATE OF p" },
    { "cacert_acc_ping_by_address",
      "SELECT p.id, p.email_id, p.cookie_hash, p.attempts, p.expires_at <= now() AS expired,"
      " p.used_at IS NOT NULL OR e.deleted_at IS NOT NULL AS closed, e.address, e.member_id"
      " FROM email_pings p JOIN emails e ON e.id = p.email_id"
      " WHERE lower(e.address) = lower(%s) AND e.deleted_at IS NULL"
      " AND e.verified_at IS NULL AND p.used_at IS NULL"
      " ORDER BY p.id DESC LIMIT 1 FOR UPDATE OF p" },
    { "cacert_acc_ping_attempt",
      "UPDATE email_pings SET attempts = attempts + 1 WHERE id = %s::bigint" },
    { "cacert_acc_confirm_failures",
      "SELECT count(*) AS n FROM confirm_failures WHERE client_addr = %s"
      " AND at > now() - make_interval(secs => %s::float8)" },
    { "cacert_acc_confirm_failure_insert",
      "INSERT INTO confirm_failures (client_addr) VALUES (%s)" },
    { "cacert_acc_ping_use",
      "UPDATE email_pings SET used_at = now() WHERE id = %s::bigint AND used_at IS NULL" },
    { "cacert_acc_email_verify",
      "UPDATE emails SET verified_at = now() WHERE id = %s::bigint"
      " AND verified_at IS NULL AND deleted_at IS NULL" },
    { "cacert_acc_login_lookup",
      "SELECT m.id, m.password_hash, m.locked_at IS NOT NULL AS locked,"
      " EXISTS (SELECT 1 FROM emails p WHERE p.member_id = m.id AND p.is_primary"
      "  AND p.deleted_at IS NULL AND p.verified_at IS NOT NULL) AS confirmed"
      " FROM emails e JOIN members m ON m.id = e.member_id"
      " WHERE lower(e.address) = lower(%s) AND e.deleted_at IS NULL"
      " AND (e.is_primary OR e.verified_at IS NOT NULL)" },
    { "cacert_acc_login_failures",
      FAILURES_OF("login_failures") },
    { "cacert_acc_login_failure_insert",
      "INSERT INTO login_failures (address, client_addr) VALUES (lower(%s), %s)" },
    { "cacert_acc_session_insert",
      "INSERT INTO sessions (id_hash, member_id, csrf, expires_at, client_addr)"
      " VALUES (%s, %s::bigint, %s, now() + make_interval(secs => %s::float8), %s)" },
    { "cacert_acc_session_get",
      "SELECT s.member_id, s.csrf, s.last_seen < now() - interval '60 seconds' AS stale,"
      " m.given_name, m.middle_name, m.family_name, m.suffix,"
      " to_char(m.dob, 'YYYY-MM-DD') AS dob, m.language,"
      " (SELECT string_agg(r.role, ' ') FROM member_roles r"
      "  WHERE r.member_id = m.id AND r.removed_at IS NULL) AS roles,"
      " coalesce((SELECT l.v FROM list_versions l WHERE l.member_id = m.id), 0) AS lists_v"
      " FROM sessions s JOIN members m ON m.id = s.member_id"
      " WHERE s.id_hash = %s AND s.ended_at IS NULL AND s.expires_at > now()"
      " AND s.last_seen > now() - make_interval(secs => %s::float8)"
      " AND m.locked_at IS NULL" },
    { "cacert_acc_session_touch",
      "UPDATE sessions SET last_seen = now() WHERE id_hash = %s" },
    { "cacert_acc_session_end",
      "UPDATE sessions SET ended_at = now() WHERE id_hash = %s AND ended_at IS NULL" },
    { "cacert_acc_session_end_others",
      "UPDATE sessions SET ended_at = now() WHERE member_id = %s::bigint"
      " AND ended_at IS NULL AND id_hash <> %s" },
    { "cacert_acc_emails",
      "SELECT e.id, e.address, e.is_primary, e.verified_at IS NOT NULL AS verified,"
      " EXISTS (SELECT 1 FROM email_pings p WHERE p.email_id = e.id"
      "  AND p.used_at IS NULL AND p.expires_at > now()) AS pending"
      " FROM emails e WHERE e.member_id = %s::bigint AND e.deleted_at IS NULL"
      " UNION ALL SELECT c.id, c.address, false, false, c.expires_at > now()"
      " FROM email_claims c WHERE c.member_id = %s::bigint AND c.removed_at IS NULL"
      " ORDER BY is_primary DESC, id" },
    { "cacert_acc_email_remove",
      "UPDATE emails SET deleted_at = now() WHERE id = %s::bigint"
      " AND member_id = %s::bigint AND NOT is_primary AND deleted_at IS NULL" },
    { "cacert_acc_member_pwhash",
      "SELECT password_hash FROM members WHERE id = %s::bigint FOR UPDATE" },
    { "cacert_acc_member_words",
      "SELECT given_name AS word FROM members WHERE id = %s::bigint"
      " UNION ALL SELECT family_name FROM members WHERE id = %s::bigint"
      " UNION ALL SELECT split_part(address, '@', 1) FROM emails"
      " WHERE member_id = %s::bigint AND deleted_at IS NULL" },
    { "cacert_acc_member_set_password",
      "UPDATE members SET password_hash = %s WHERE id = %s::bigint" },
    { "cacert_acc_member_set_identity",
      "UPDATE members SET given_name = %s, middle_name = %s, family_name = %s,"
      " suffix = %s, dob = %s::date WHERE id = %s::bigint" },
    { "cacert_acc_lost_lookup",
      "SELECT m.id, to_char(m.dob, 'YYYY-MM-DD') AS dob, m.locked_at IS NOT NULL AS locked"
      " FROM emails e JOIN members m ON m.id = e.member_id"
      " WHERE lower(e.address) = lower(%s) AND e.deleted_at IS NULL"
      " AND e.verified_at IS NOT NULL" },
    { "cacert_acc_questions",
      "SELECT position, question, answer_hash FROM lost_password_questions"
      " WHERE member_id = %s::bigint ORDER BY position" },
    { "cacert_acc_lost_failures",
      FAILURES_OF("lost_password_failures") },
    { "cacert_acc_lost_failure_insert",
      "INSERT INTO lost_password_failures (address, client_addr) VALUES (lower(%s), %s)" },
    { "cacert_acc_reset_invalidate",
      "UPDATE password_resets SET used_at = now() WHERE member_id = %s::bigint"
      " AND used_at IS NULL" },
    { "cacert_acc_reset_insert",
      "INSERT INTO password_resets (member_id, token_hash, expires_at)"
      " VALUES (%s::bigint, %s, now() + make_interval(secs => %s::float8))" },
    { "cacert_acc_reset_get",
      "SELECT id, member_id FROM password_resets WHERE token_hash = %s"
      " AND used_at IS NULL AND expires_at > now() FOR UPDATE" },
    { "cacert_acc_reset_use",
      "UPDATE password_resets SET used_at = now() WHERE id = %s::bigint AND used_at IS NULL" },
    { "cacert_acc_registrations",
      "SELECT (SELECT count(*) FROM cca_agreements WHERE client_addr = %s"
      "  AND agreed_at > now() - interval '1 hour')"
      " + (SELECT count(*) FROM registrations_taken WHERE client_addr = %s"
      "  AND at > now() - interval '1 hour') AS n" },
    { "cacert_acc_registration_taken",
      "INSERT INTO registrations_taken (client_addr) VALUES (%s)" },
    { "cacert_acc_standing",
      "SELECT (SELECT coalesce(sum(points), 0) FROM assurances"
      "  WHERE assuree_id = m.id AND revoked_at IS NULL) AS received,"
      " (SELECT count(*) FROM assurances WHERE assurer_id = m.id"
      "  AND revoked_at IS NULL AND method = 'face-to-face') AS given,"
      " m.assurer_challenge_at IS NOT NULL AS challenge, m.blocked_at IS NOT NULL AS blocked,"
      " m.codesign_allowed,"
      " (SELECT count(DISTINCT assurer_id) FROM assurances"
      "  WHERE assuree_id = m.id AND revoked_at IS NULL AND points > 0) AS assurers"
      " FROM members m WHERE m.id = %s::bigint" },
    /* migration 021: the version of a member's long lists */
    { "cacert_acc_lists_version",
      "SELECT coalesce((SELECT v FROM list_versions WHERE member_id = %s::bigint), 0) AS v" },
    { "cacert_acc_cert_login",
      "SELECT c.member_id, m.locked_at IS NOT NULL AS locked,"
      " EXISTS (SELECT 1 FROM emails p WHERE p.member_id = m.id AND p.is_primary"
      "  AND p.deleted_at IS NULL AND p.verified_at IS NOT NULL) AS confirmed,"
      " c.revoked_at IS NULL AND c.not_after > now() AND c.not_before <= now() AS valid,"
      " c.login_disabled"
      " FROM certificates c JOIN members m ON m.id = c.member_id"
      " WHERE c.serial = %s AND c.der = %s::bytea AND c.profile IN ('client', 'codesign')" },
    { "cacert_acc_session_end_all",
      "UPDATE sessions SET ended_at = now() WHERE member_id = %s::bigint AND ended_at IS NULL" },
    { NULL, NULL }
};

static const char *secs(apr_interval_time_t t, apr_pool_t *p)
{
    return apr_psprintf(p, "%" APR_TIME_T_FMT, apr_time_sec(t));
}

/* The wait a client owes after n failures of which free are allowed: none,
 * then base, doubling with each further failure, up to max. */
static apr_interval_time_t backoff(int n, int free, apr_interval_time_t base,
                                   apr_interval_time_t max)
{
    apr_interval_time_t w = base;
    int i;

    if (n < free) {
        return 0;
    }
    for (i = free; i < n && w < max; i++) {
        w *= 2;
    }
    return w < max ? w : max;
}

/* Failures are keyed on (address, client): a client that failed for an
 * address waits before its next try for that address, progressively
 * longer; a client that failed for many addresses waits before any try.
 * Nobody else waits: the owner from another client is never held up, and
 * the owner from the failing client waits at most max, never a lock.
 * row: by_pair, pair_since, by_client, client_since (seconds). */
static int must_wait(const ca_row_t *row, int free_pair, int free_client,
                     apr_interval_time_t base, apr_interval_time_t max)
{
    const char *ps = ca_col(row, "pair_since"), *cs = ca_col(row, "client_since");
    apr_interval_time_t pair_since = (apr_interval_time_t)(atof(ps ? ps : "0") * APR_USEC_PER_SEC);
    apr_interval_time_t client_since = (apr_interval_time_t)(atof(cs ? cs : "0")
                                                              * APR_USEC_PER_SEC);

    return pair_since < backoff(ca_col_int(row, "by_pair", 0), free_pair, base, max)
           || client_since < backoff(ca_col_int(row, "by_client", 0), free_client, base, max);
}

static apr_status_t audit(ca_db_t *db, const char *actor, const char *member,
                          const char *action, const char *detail, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_acc_audit",
                       CA_ARGS(actor, member, action, detail ? detail : ""), p);
}

/* a new ping for email_id; the cookie goes to the mail, its hash to the db */
static apr_status_t new_ping(ca_db_t *db, const ca_account_cfg_t *cfg,
                             const char *email_id, const char *address,
                             ca_mail_fn *mail, void *baton, const char *kind,
                             apr_pool_t *p)
{
    const ca_row_t *row;
    const char *cookie, *hash;
    apr_status_t rv;

    rv = ca_random_token_hash(&cookie, &hash, COOKIE_BYTES, p);
    if (rv == APR_SUCCESS) {
        rv = ca_db_row(&row, db, "cacert_acc_ping_insert",
                       CA_ARGS(email_id, hash, secs(cfg->ping_lifetime, p)), p);
    }
    if (rv == APR_SUCCESS) {
        rv = mail(baton, kind, address, ca_col(row, "id"), cookie, p);
    }
    return rv;
}

/* frees the address if only an unconfirmed, expired claim holds it;
 * APR_EEXIST if it is still taken (*powner: the account that holds it) */
static apr_status_t claim_address(const char **powner, ca_db_t *db, const char *address,
                                  apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    *powner = NULL;
    rv = ca_db_query(NULL, db, "cacert_acc_email_free_stale", CA_ARGS(address), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_acc_email_taken", CA_ARGS(address), p);
    if (rv == APR_SUCCESS) {
        *powner = ca_col(row, "member_id");
        return APR_EEXIST;
    }
    return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
}

const char *ca_account_password_refusal(const char *password, const char *confirm,
                                        const char *const *words, int nwords,
                                        const ca_account_cfg_t *cfg, apr_pool_t *p)
{
    int minlen = cfg->pw_minlen > 0 ? cfg->pw_minlen : CA_PASSWORD_MINLEN;

    return ca_valid_password(password, confirm, (apr_size_t)minlen, words, nwords, p);
}

void ca_registration_words(const char ***pwords, int *pnwords, const char *given,
                           const char *family, const char *email, apr_pool_t *p)
{
    const char **w = apr_pcalloc(p, 3 * sizeof(*w));
    const char *at = email ? strchr(email, '@') : NULL;

    w[0] = given;
    w[1] = family;
    w[2] = email ? apr_pstrndup(p, email, at ? (apr_size_t)(at - email) : 0) : NULL;
    *pwords = w;
    *pnwords = 3;
}

/* the policy for a member already registered: their words are read in the
 * caller's transaction.  APR_EINVAL with *prefusal on a refusal. */
static apr_status_t password_allowed(const char **prefusal, ca_db_t *db,
                                     const ca_account_cfg_t *cfg, const char *member_id,
                                     const char *password, const char *confirm,
                                     apr_pool_t *p)
{
    apr_array_header_t *rows;
    const char **words;
    apr_status_t rv;
    int i;

    rv = ca_db_rows(&rows, db, "cacert_acc_member_words",
                    CA_ARGS(member_id, member_id, member_id), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    words = apr_pcalloc(p, (apr_size_t)(rows->nelts + 1) * sizeof(*words));
    for (i = 0; i < rows->nelts; i++) {
        words[i] = ca_col(APR_ARRAY_IDX(rows, i, const ca_row_t *), "word");
    }
    *prefusal = ca_account_password_refusal(password, confirm, words, rows->nelts, cfg, p);
    return *prefusal ? APR_EINVAL : APR_SUCCESS;
}

apr_status_t ca_account_register(const char **pmember_id, ca_db_t *db,
                                 const ca_account_cfg_t *cfg,
                                 const ca_registration_t *reg,
                                 ca_mail_fn *mail, void *baton, apr_pool_t *p)
{
    const char *pwhash, *ahash[5], *member_id = NULL, *email_id, *owner;
    const ca_row_t *row;
    apr_status_t rv;
    int i;

    *pmember_id = NULL;
    {
        const char **words;
        int nwords;
        ca_registration_words(&words, &nwords, reg->given, reg->family, reg->email, p);
        if (ca_account_password_refusal(reg->password, reg->password, words, nwords, cfg, p)) {
            return APR_EINVAL;
        }
    }
    /* each registration costs six Argon2id hashes and sends a mail to an
     * address of the visitor's choosing: limited per client address */
    rv = ca_db_row(&row, db, "cacert_acc_registrations",
                   CA_ARGS(reg->client_addr, reg->client_addr), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (ca_col_int(row, "n", 0) >= cfg->register_per_client) {
        return APR_EAGAIN;
    }
    /* the expensive hashing happens before the transaction starts */
    if ((rv = ca_pw_hash(&pwhash, reg->password, &cfg->argon2, p)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < 5; i++) {
        rv = ca_pw_hash(&ahash[i], ca_answer_normalise(reg->answers[i], p),
                        &cfg->argon2, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = claim_address(&owner, db, reg->email, p)) == APR_EEXIST) {
        /* the address has an account (or a registration waiting): the
         * visitor is told what a new registrant is told, and the mail goes
         * to the address's owner instead, saying so; the try counts
         * against the client like a registration */
        ca_db_rollback(db, p);
        if ((rv = ca_db_query(NULL, db, "cacert_acc_registration_taken",
                              CA_ARGS(reg->client_addr), p)) != APR_SUCCESS) {
            return rv;
        }
        rv = mail(baton, "taken", reg->email, NULL, NULL, p);
        return rv == APR_SUCCESS ? APR_EEXIST : rv;
    }
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_db_row(&row, db, "cacert_acc_member_insert",
                       CA_ARGS(reg->given, reg->middle, reg->family, reg->suffix,
                               reg->dob, pwhash, reg->language), p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    member_id = ca_col(row, "id");
    for (i = 0; i < 5; i++) {
        rv = ca_db_query(NULL, db, "cacert_acc_question_insert",
                         CA_ARGS(member_id, apr_itoa(p, i + 1), reg->questions[i],
                                 ahash[i]), p);
        if (rv != APR_SUCCESS) {
            goto leave;
        }
    }
    rv = ca_db_query(NULL, db, "cacert_acc_cca_insert",
                     CA_ARGS(member_id, reg->cca_version, reg->client_addr), p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_db_row(&row, db, "cacert_acc_email_insert",
                   CA_ARGS(member_id, reg->email, "true"), p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    email_id = ca_col(row, "id");
    rv = audit(db, member_id, member_id, "account.register",
               apr_pstrcat(p, "cca=", reg->cca_version, NULL), p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = new_ping(db, cfg, email_id, reg->email, mail, baton, "register", p);

leave:
    rv = ca_db_end(db, rv, p);
    if (rv == APR_SUCCESS) {
        *pmember_id = member_id;
    }
    return rv;
}

apr_status_t ca_account_confirm(ca_ping_outcome_t *pout, const char **paddress,
                                ca_db_t *db, const ca_account_cfg_t *cfg,
                                const char *ping_id, const char *address,
                                const char *cookie, const char *client_addr, apr_pool_t *p)
{
    const ca_row_t *row;
    const char *member_id;
    apr_status_t rv;

    *pout = CA_PING_UNKNOWN;
    *paddress = NULL;
    if (ping_id && !ca_is_id(ping_id)) {
        return APR_SUCCESS;
    }
    rv = ca_db_row(&row, db, "cacert_acc_confirm_failures",
                   CA_ARGS(client_addr, secs(cfg->login_fail_window, p)), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (ca_col_int(row, "n", 0) >= cfg->ping_attempts) {
        *pout = CA_PING_THROTTLED;
        return APR_SUCCESS;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if (ping_id) {
        rv = ca_db_row(&row, db, "cacert_acc_ping_by_id", CA_ARGS(ping_id), p);
    }
    else {
        rv = ca_db_row(&row, db, "cacert_acc_ping_by_address", CA_ARGS(address), p);
    }
    if (rv == APR_NOTFOUND) {
        rv = APR_SUCCESS;
        goto wrong;
    }
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (ca_col_true(row, "closed")) {
        goto wrong;
    }
    if (ca_col_true(row, "expired")) {
        *pout = CA_PING_EXPIRED;
        goto leave;
    }
    if (!cookie || !ca_str_equal_ct(ca_sha256_hex(cookie, strlen(cookie), p),
                                       ca_col(row, "cookie_hash"))) {
        rv = ca_db_query(NULL, db, "cacert_acc_ping_attempt", CA_ARGS(ca_col(row, "id")), p);
        if (rv != APR_SUCCESS) {
            goto leave;
        }
        *pout = CA_PING_WRONG;
        goto wrong;
    }
    member_id = ca_col(row, "member_id");
    if ((rv = ca_db_query(NULL, db, "cacert_acc_ping_use", CA_ARGS(ca_col(row, "id")), p))
        != APR_SUCCESS
        || (rv = ca_db_query(NULL, db, "cacert_acc_email_verify",
                             CA_ARGS(ca_col(row, "email_id")), p)) != APR_SUCCESS
        || (rv = audit(db, member_id, member_id, "email.confirm", ca_col(row, "address"), p))
        != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_db_commit(db, p);
    if (rv == APR_SUCCESS) {
        *pout = CA_PING_OK;
        *paddress = ca_col(row, "address");
    }
    goto leave;

wrong:
    /* nothing to confirm with that cookie: counted against the client */
    rv = ca_db_query(NULL, db, "cacert_acc_confirm_failure_insert", CA_ARGS(client_addr), p);
    if (rv == APR_SUCCESS) {
        rv = ca_db_commit(db, p);
    }

leave:
    ca_db_rollback(db, p);      /* no-op after a commit */
    return rv;
}

static apr_status_t new_session(ca_session_t **psess, ca_db_t *db,
                                const ca_account_cfg_t *cfg, const char *member_id,
                                const char *client_addr, apr_pool_t *p)
{
    ca_session_t *s = apr_pcalloc(p, sizeof(*s));
    const char *hash;
    apr_status_t rv;

    if ((rv = ca_random_token_hash(&s->token, &hash, TOKEN_BYTES, p)) != APR_SUCCESS
        || (rv = ca_random_token(&s->csrf, TOKEN_BYTES, p)) != APR_SUCCESS) {
        return rv;
    }
    s->member_id = member_id;
    rv = ca_db_query(NULL, db, "cacert_acc_session_insert",
                     CA_ARGS(hash, member_id, s->csrf, secs(cfg->session_max, p), client_addr),
                     p);
    if (rv == APR_SUCCESS) {
        *psess = s;
    }
    return rv;
}

/* the end of both logins, once the credential was right: a locked account
 * or an unconfirmed primary address gets no session (row: "locked",
 * "confirmed") */
static apr_status_t login_of(ca_login_outcome_t *pout, ca_session_t **psess, ca_db_t *db,
                             const ca_account_cfg_t *cfg, const ca_row_t *row,
                             const char *member_id, const char *client_addr, apr_pool_t *p)
{
    apr_status_t rv;

    if (ca_col_true(row, "locked")) {
        *pout = CA_LOGIN_LOCKED;
        return APR_SUCCESS;
    }
    if (!ca_col_true(row, "confirmed")) {
        *pout = CA_LOGIN_UNCONFIRMED;
        return APR_SUCCESS;
    }
    rv = new_session(psess, db, cfg, member_id, client_addr, p);
    if (rv == APR_SUCCESS) {
        *pout = CA_LOGIN_OK;
    }
    return rv;
}

apr_status_t ca_account_login(ca_login_outcome_t *pout, ca_session_t **psess,
                              ca_db_t *db, const ca_account_cfg_t *cfg,
                              const char *address, const char *password,
                              const char *client_addr, apr_pool_t *p)
{
    const ca_row_t *row;
    const char *window = secs(cfg->login_fail_window, p);
    apr_status_t rv, vrv;

    *pout = CA_LOGIN_BAD;
    *psess = NULL;
    rv = ca_db_row(&row, db, "cacert_acc_login_failures",
                   CA_ARGS(address, address, client_addr, window), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (must_wait(row, cfg->login_fail_account, cfg->login_fail_client, APR_USEC_PER_SEC,
                  cfg->login_delay_max)) {
        *pout = CA_LOGIN_THROTTLED;
        return APR_SUCCESS;
    }
    rv = ca_db_row(&row, db, "cacert_acc_login_lookup", CA_ARGS(address), p);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        return rv;
    }
    /* an unknown address costs the same time as a wrong password */
    vrv = ca_pw_verify(rv == APR_SUCCESS ? ca_col(row, "password_hash") : cfg->dummy_hash,
                       password);
    if (rv == APR_NOTFOUND || vrv != APR_SUCCESS) {
        if (vrv == APR_EINVAL) {
            ca_log(CA_LOG_ERR, "CA10401", vrv, "stored password hash is malformed");
        }
        *pout = CA_LOGIN_BAD;
        return ca_db_query(NULL, db, "cacert_acc_login_failure_insert",
                           CA_ARGS(address, client_addr), p);
    }
    return login_of(pout, psess, db, cfg, row, ca_col(row, "id"), client_addr, p);
}

apr_status_t ca_account_login_cert(ca_login_outcome_t *pout, ca_session_t **psess,
                                   ca_db_t *db, const ca_account_cfg_t *cfg,
                                   const unsigned char *der, apr_size_t der_len,
                                   const char *serial_hex, const char *client_addr,
                                   apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    *pout = CA_LOGIN_BAD;
    *psess = NULL;
    rv = ca_db_row(&row, db, "cacert_acc_cert_login",
                   CA_ARGS(serial_hex, ca_bytea_in(der, der_len, p)), p);
    if (rv == APR_NOTFOUND) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* valid: unrevoked, in its lifetime */
    if (!ca_col_true(row, "valid") || ca_col_true(row, "login_disabled")) {
        return APR_SUCCESS;
    }
    return login_of(pout, psess, db, cfg, row, ca_col(row, "member_id"), client_addr, p);
}

/* the role names of string_agg(role, ' ') as CA_ROLE_* bits */
static unsigned roles_mask(const char *names, apr_pool_t *p)
{
    char *list = apr_pstrdup(p, names ? names : ""), *last = NULL, *t;
    unsigned mask = 0;

    for (t = apr_strtok(list, " ", &last); t; t = apr_strtok(NULL, " ", &last)) {
        mask |= ca_role_bit(t);
    }
    return mask;
}

static const ca_col_map_t session_map[] = {
    CA_COLS(ca_session_t, member_id, csrf, language, lists_v),
    CA_MEMBER_NAME_COLS(ca_session_t),
    { NULL }
};

apr_status_t ca_session_lookup(ca_session_t **psess, ca_db_t *db,
                               const ca_account_cfg_t *cfg, const char *token,
                               apr_pool_t *p)
{
    const ca_row_t *row;
    const char *hash;
    ca_session_t *s;
    apr_status_t rv;

    *psess = NULL;
    if (!token || strlen(token) != 43) {
        return APR_NOTFOUND;
    }
    hash = ca_sha256_hex(token, strlen(token), p);
    rv = ca_db_row(&row, db, "cacert_acc_session_get",
                   CA_ARGS(hash, secs(cfg->session_idle, p)), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* last_seen is written at most once a minute: enough for the idle
     * timeout, and most requests stay read-only */
    if (ca_col_true(row, "stale")) {
        rv = ca_db_query(NULL, db, "cacert_acc_session_touch", CA_ARGS(hash), p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    s = apr_pcalloc(p, sizeof(*s));
    ca_row_fill(s, row, session_map);
    s->token = token;
    s->roles = roles_mask(ca_col(row, "roles"), p);
    s->read = 1;
    *psess = s;
    return APR_SUCCESS;
}

apr_status_t ca_session_end(ca_db_t *db, const char *token, apr_pool_t *p)
{
    return ca_db_query(NULL, db, "cacert_acc_session_end",
                       CA_ARGS(ca_sha256_hex(token, strlen(token), p)), p);
}

apr_status_t ca_account_change_password(const char **prefusal, ca_db_t *db,
                                        const ca_account_cfg_t *cfg,
                                        const ca_session_t *sess,
                                        const char *current, const char *newpw,
                                        const char *confirm, apr_pool_t *p)
{
    const ca_row_t *row;
    const char *hash;
    apr_status_t rv;

    *prefusal = NULL;
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_acc_member_pwhash", CA_ARGS(sess->member_id), p);
    if (rv != APR_SUCCESS
        || (rv = password_allowed(prefusal, db, cfg, sess->member_id, newpw, confirm, p))
           != APR_SUCCESS) {
        goto leave;
    }
    if (ca_pw_verify(ca_col(row, "password_hash"), current) != APR_SUCCESS) {
        rv = APR_EMISMATCH;
        goto leave;
    }
    if ((rv = ca_pw_hash(&hash, newpw, &cfg->argon2, p)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = ca_db_query(NULL, db, "cacert_acc_member_set_password",
                          CA_ARGS(hash, sess->member_id), p)) != APR_SUCCESS
        || (rv = ca_db_query(NULL, db, "cacert_acc_session_end_others",
                             CA_ARGS(sess->member_id,
                                     ca_sha256_hex(sess->token, strlen(sess->token), p)),
                             p)) != APR_SUCCESS) {
        goto leave;
    }
    rv = audit(db, sess->member_id, sess->member_id, "password.change", NULL, p);
leave:
    return ca_db_end(db, rv, p);
}

apr_status_t ca_account_emails(apr_array_header_t **pemails, ca_db_t *db,
                               const char *member_id, apr_pool_t *p)
{
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *pemails = apr_array_make(p, 4, sizeof(ca_email_t));
    rv = ca_db_rows(&rows, db, "cacert_acc_emails", CA_ARGS(member_id, member_id), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nelts; i++) {
        const ca_row_t *row = APR_ARRAY_IDX(rows, i, const ca_row_t *);
        ca_email_t *e = apr_array_push(*pemails);
        e->id = ca_col(row, "id");
        e->address = ca_col(row, "address");
        e->primary = ca_col_true(row, "is_primary");
        e->verified = ca_col_true(row, "verified");
        e->pending = !e->verified && ca_col_true(row, "pending");
    }
    return APR_SUCCESS;
}

/* another account holds the address: the member is answered as for a free
 * one and sees it waiting in the list (a claim that no code can confirm);
 * the address's owner is told by mail.  APR_EEXIST if the member has such
 * a claim open already, as for an address in their own list. */
static apr_status_t claim_taken(ca_db_t *db, const ca_account_cfg_t *cfg,
                                const char *member_id, const char *address,
                                ca_mail_fn *mail, void *baton, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    rv = ca_db_row(&row, db, "cacert_acc_claim_open", CA_ARGS(member_id, address), p);
    if (rv != APR_NOTFOUND) {
        return rv == APR_SUCCESS ? APR_EEXIST : rv;
    }
    if ((rv = ca_db_query(NULL, db, "cacert_acc_claim_insert",
                          CA_ARGS(member_id, address, secs(cfg->ping_lifetime, p)), p))
        != APR_SUCCESS
        || (rv = audit(db, member_id, member_id, "email.claim", address, p)) != APR_SUCCESS) {
        return rv;
    }
    return mail(baton, "address_taken", address, NULL, NULL, p);
}

apr_status_t ca_account_prune(int *pn, ca_db_t *db, apr_interval_time_t keep,
                              apr_pool_t *p)
{
    const char *k = secs(keep, p);
    const ca_row_t *row;
    apr_status_t rv;

    *pn = 0;
    rv = ca_db_row(&row, db, "cacert_acc_prune", CA_ARGS(k, k, k, k, k), p);
    if (rv == APR_SUCCESS) {
        *pn = ca_col_int(row, "n", 0);
    }
    return rv;
}

apr_status_t ca_account_add_email(ca_db_t *db, const ca_account_cfg_t *cfg,
                                  const char *member_id, const char *address,
                                  ca_mail_fn *mail, void *baton, apr_pool_t *p)
{
    const ca_row_t *row;
    const char *owner;
    apr_status_t rv;

    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = claim_address(&owner, db, address, p);
    if (rv == APR_EEXIST && strcmp(owner, member_id)) {
        rv = claim_taken(db, cfg, member_id, address, mail, baton, p);
        return ca_db_end(db, rv, p);
    }
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_db_row(&row, db, "cacert_acc_email_insert",
                   CA_ARGS(member_id, address, "false"), p);
    if (rv != APR_SUCCESS
        || (rv = audit(db, member_id, member_id, "email.add", address, p)) != APR_SUCCESS) {
        goto leave;
    }
    rv = new_ping(db, cfg, ca_col(row, "id"), address, mail, baton, "email", p);
leave:
    return ca_db_end(db, rv, p);
}

apr_status_t ca_account_set_language(ca_db_t *db, const char *member_id,
                                     const char *lang, apr_pool_t *p)
{
    int n = 0;
    apr_status_t rv;

    if (!ca_is_id(member_id) || !lang || !*lang || strlen(lang) > 12
        || strspn(lang, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(lang)) {
        return APR_EINVAL;
    }
    rv = ca_db_query(&n, db, "cacert_acc_language_set", CA_ARGS(lang, member_id), p);
    return rv == APR_SUCCESS && n != 1 ? APR_NOTFOUND : rv;
}

apr_status_t ca_account_owner_language(const char **plang, ca_db_t *db,
                                       const char *address, apr_pool_t *p)
{
    return ca_db_value(plang, db, "cacert_acc_owner_language", "language",
                       CA_ARGS(address), p);
}

apr_status_t ca_account_remove_email(ca_db_t *db, const char *member_id,
                                     const char *email_id, apr_pool_t *p)
{
    apr_status_t rv;
    int n = 0;

    if (!ca_is_id(email_id)) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query(&n, db, "cacert_acc_email_remove", CA_ARGS(email_id, member_id), p);
    if (rv == APR_SUCCESS && n == 0) {
        /* or a claim of an address another account holds */
        rv = ca_db_query(&n, db, "cacert_acc_claim_remove", CA_ARGS(email_id, member_id), p);
    }
    if (rv == APR_SUCCESS && n != 1) {
        rv = APR_NOTFOUND;
    }
    if (rv == APR_SUCCESS) {
        rv = audit(db, member_id, member_id, "email.remove", email_id, p);
    }
    return ca_db_end(db, rv, p);
}

static const ca_col_map_t standing_map[] = {
    CA_FIELD(INT, ca_standing_t, received, "received"),
    CA_FIELD(INT, ca_standing_t, given, "given"),
    CA_FIELD(TRUE, ca_standing_t, challenge, "challenge"),
    CA_FIELD(TRUE, ca_standing_t, blocked, "blocked"),
    CA_FIELD(TRUE, ca_standing_t, codesign, "codesign_allowed"),
    CA_FIELD(INT, ca_standing_t, assurers, "assurers"),
    { NULL }
};

apr_status_t ca_account_standing(ca_standing_t *s, ca_db_t *db, const char *member_id,
                                 apr_pool_t *p)
{
    return ca_db_fill_row(s, sizeof(*s), standing_map, db, "cacert_acc_standing",
                          CA_ARGS(member_id), p);
}

apr_status_t ca_account_list(const void **pdata, ca_listcache_t *c, const char *kind,
                             ca_db_t *db, const char *member_id, const char *version,
                             ca_listcache_fill_fn *fill, void *baton, apr_pool_t *p)
{
    const char *v = version;
    apr_status_t rv;

    if (c && !v && (rv = ca_db_value(&v, db, "cacert_acc_lists_version", "v", CA_ARGS(member_id),
                               p)) != APR_SUCCESS) {
        return rv;
    }
    return ca_listcache_get(pdata, c, kind, member_id, v ? apr_atoi64(v) : 0, fill, baton, p);
}

apr_status_t ca_account_points(int *ppoints, ca_db_t *db, const char *member_id,
                               apr_pool_t *p)
{
    ca_standing_t s;
    apr_status_t rv = ca_account_standing(&s, db, member_id, p);

    *ppoints = rv == APR_SUCCESS ? ca_points_total(&s) : 0;
    return rv;
}

apr_status_t ca_account_set_identity(ca_db_t *db, const char *member_id,
                                     const char *given, const char *middle,
                                     const char *family, const char *suffix,
                                     const char *dob, apr_pool_t *p)
{
    apr_status_t rv;
    int points;

    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = ca_account_points(&points, db, member_id, p)) != APR_SUCCESS) {
        goto leave;
    }
    if (points > 0) {
        rv = APR_EACCES;
        goto leave;
    }
    if ((rv = ca_db_query(NULL, db, "cacert_acc_member_set_identity",
                          CA_ARGS(given, middle, family, suffix, dob, member_id), p))
        != APR_SUCCESS) {
        goto leave;
    }
    rv = audit(db, member_id, member_id, "identity.change",
               apr_pstrcat(p, given, "|", middle, "|", family, "|", suffix, NULL), p);
leave:
    return ca_db_end(db, rv, p);
}

/* counts lost-password failures; *pthrottled when over the limit */
static apr_status_t lost_throttled(int *pthrottled, ca_db_t *db,
                                   const ca_account_cfg_t *cfg, const char *address,
                                   const char *client_addr, apr_pool_t *p)
{
    const ca_row_t *row;
    const char *window = secs(cfg->lost_fail_window, p);
    apr_status_t rv;

    *pthrottled = 1;
    rv = ca_db_row(&row, db, "cacert_acc_lost_failures",
                   CA_ARGS(address, address, client_addr, window), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* per client: more room, as several members may share an address; the
     * answers to personal questions are easier to guess than a password,
     * so the waits start at a minute and go up to an hour */
    *pthrottled = must_wait(row, cfg->lost_fail_max, cfg->lost_fail_max * 4,
                            apr_time_from_sec(60), apr_time_from_sec(3600));
    return APR_SUCCESS;
}

static apr_status_t lost_failed(ca_lost_outcome_t *pout, ca_db_t *db,
                                const char *address, const char *client_addr,
                                apr_pool_t *p)
{
    *pout = CA_LOST_NOMATCH;
    return ca_db_query(NULL, db, "cacert_acc_lost_failure_insert",
                       CA_ARGS(address, client_addr), p);
}

/* the member behind address if the date of birth matches, else NULL */
static apr_status_t lost_member(const char **pmember_id, ca_db_t *db,
                                const char *address, const char *dob, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    *pmember_id = NULL;
    rv = ca_db_row(&row, db, "cacert_acc_lost_lookup", CA_ARGS(address), p);
    if (rv == APR_NOTFOUND) {
        return APR_SUCCESS;
    }
    if (rv == APR_SUCCESS && dob && !strcmp(ca_col(row, "dob"), dob)
        && !ca_col_true(row, "locked")) {
        *pmember_id = ca_col(row, "id");
    }
    return rv;
}

/* the common start of both lost-password steps: limits, the member behind
 * address and date of birth, and the five stored questions (rows of
 * position, question, answer_hash).  *pmember_id stays NULL and *pout says
 * why when the step cannot go on. */
static apr_status_t lost_start(ca_lost_outcome_t *pout, const char **pmember_id,
                               apr_array_header_t **prows, ca_db_t *db,
                               const ca_account_cfg_t *cfg, const char *address,
                               const char *dob, const char *client_addr, apr_pool_t *p)
{
    const char *member_id;
    apr_status_t rv;
    int throttled;

    *pout = CA_LOST_THROTTLED;
    *pmember_id = NULL;
    rv = lost_throttled(&throttled, db, cfg, address, client_addr, p);
    if (rv != APR_SUCCESS || throttled) {
        return rv;
    }
    if ((rv = lost_member(&member_id, db, address, dob, p)) != APR_SUCCESS) {
        return rv;
    }
    if (!member_id) {
        return lost_failed(pout, db, address, client_addr, p);
    }
    rv = ca_db_rows(prows, db, "cacert_acc_questions", CA_ARGS(member_id), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((*prows)->nelts != 5) {
        ca_log(CA_LOG_ERR, "CA10402", APR_EGENERAL,
               "member %s has %d lost-password questions", member_id, (*prows)->nelts);
        return APR_EGENERAL;
    }
    *pout = CA_LOST_OK;
    *pmember_id = member_id;
    return APR_SUCCESS;
}

apr_status_t ca_lost_questions(ca_lost_outcome_t *pout,
                               apr_array_header_t **pquestions, ca_db_t *db,
                               const ca_account_cfg_t *cfg, const char *address,
                               const char *dob, const char *client_addr,
                               apr_pool_t *p)
{
    const char *member_id;
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *pquestions = apr_array_make(p, 5, sizeof(const char *));
    rv = lost_start(pout, &member_id, &rows, db, cfg, address, dob, client_addr, p);
    if (rv != APR_SUCCESS || !member_id) {
        return rv;
    }
    for (i = 0; i < rows->nelts; i++) {
        APR_ARRAY_PUSH(*pquestions, const char *) =
            ca_col(APR_ARRAY_IDX(rows, i, const ca_row_t *), "question");
    }
    return APR_SUCCESS;
}

apr_status_t ca_lost_answer(ca_lost_outcome_t *pout, ca_db_t *db,
                            const ca_account_cfg_t *cfg, const char *address,
                            const char *dob, const char *const answers[5],
                            const char *client_addr, ca_mail_fn *mail,
                            void *baton, apr_pool_t *p)
{
    const char *member_id, *token, *token_hash;
    apr_array_header_t *rows;
    apr_status_t rv;
    int i, right = 0;

    rv = lost_start(pout, &member_id, &rows, db, cfg, address, dob, client_addr, p);
    if (rv != APR_SUCCESS || !member_id) {
        return rv;
    }
    /* verify all five, whatever the first ones gave, so that the time
     * taken does not tell how many were right */
    for (i = 0; i < rows->nelts && i < 5; i++) {
        const char *hash = ca_col(APR_ARRAY_IDX(rows, i, const ca_row_t *), "answer_hash");
        const char *a = answers[i] ? ca_answer_normalise(answers[i], p) : "";
        if (ca_pw_verify(hash, a) == APR_SUCCESS) {
            right++;
        }
    }
    if (right < 3) {
        return lost_failed(pout, db, address, client_addr, p);
    }
    if ((rv = ca_random_token_hash(&token, &token_hash, TOKEN_BYTES, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    /* a new link replaces any earlier one */
    if ((rv = ca_db_query(NULL, db, "cacert_acc_reset_invalidate", CA_ARGS(member_id), p))
        != APR_SUCCESS
        || (rv = ca_db_query(NULL, db, "cacert_acc_reset_insert",
                             CA_ARGS(member_id, token_hash, secs(cfg->reset_lifetime, p)), p))
        != APR_SUCCESS
        || (rv = audit(db, NULL, member_id, "password.reset.request", client_addr, p))
        != APR_SUCCESS
        || (rv = mail(baton, "reset", address, member_id, token, p)) != APR_SUCCESS) {
        return ca_db_end(db, rv, p);
    }
    if ((rv = ca_db_end(db, rv, p)) == APR_SUCCESS) {
        *pout = CA_LOST_OK;
    }
    return rv;
}

apr_status_t ca_reset_check(ca_db_t *db, const char *token, apr_pool_t *p)
{
    const ca_row_t *row;

    if (!token || strlen(token) != 43) {
        return APR_NOTFOUND;
    }
    return ca_db_row(&row, db, "cacert_acc_reset_get",
                         CA_ARGS(ca_sha256_hex(token, strlen(token), p)), p);
}

apr_status_t ca_reset_apply(const char **prefusal, ca_db_t *db, const ca_account_cfg_t *cfg,
                            const char *token, const char *newpw, const char *confirm,
                            apr_pool_t *p)
{
    const ca_row_t *row;
    const char *hash, *member_id;
    apr_status_t rv;

    *prefusal = NULL;
    if (!token || strlen(token) != 43) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_acc_reset_get",
                   CA_ARGS(ca_sha256_hex(token, strlen(token), p)), p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    member_id = ca_col(row, "member_id");
    if ((rv = password_allowed(prefusal, db, cfg, member_id, newpw, confirm, p))
        != APR_SUCCESS
        || (rv = ca_pw_hash(&hash, newpw, &cfg->argon2, p)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = ca_db_query(NULL, db, "cacert_acc_reset_use", CA_ARGS(ca_col(row, "id")), p))
        != APR_SUCCESS
        || (rv = ca_db_query(NULL, db, "cacert_acc_member_set_password",
                             CA_ARGS(hash, member_id), p)) != APR_SUCCESS
        || (rv = ca_db_query(NULL, db, "cacert_acc_session_end_all",
                             CA_ARGS(member_id), p)) != APR_SUCCESS) {
        goto leave;
    }
    rv = audit(db, member_id, member_id, "password.reset", NULL, p);
leave:
    return ca_db_end(db, rv, p);
}
