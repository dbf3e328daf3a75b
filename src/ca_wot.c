/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "ca_wot.h"
#include "ca_account.h"
#include "ca_roles.h"
#include "ca_valid.h"
#include "ca_log.h"

/* the member found by a live address, with what an assurance checks;
 * version: a hash of the name, date of birth and password hash (so that
 * the Assurer cannot learn the date of birth from it) */
#define ASSUREE_COLS \
    "SELECT m.id, m.given_name, m.middle_name, m.family_name, m.suffix," \
    " to_char(m.dob, 'YYYY-MM-DD') AS dob, m.locked_at IS NOT NULL AS locked," \
    " EXISTS (SELECT 1 FROM emails p WHERE p.member_id = m.id AND p.is_primary" \
    "  AND p.deleted_at IS NULL AND p.verified_at IS NOT NULL) AS verified," \
    " m.language," \
    " encode(sha256(convert_to(concat_ws('|', m.id::text, m.given_name, m.middle_name," \
    "  m.family_name, m.suffix, to_char(m.dob, 'YYYY-MM-DD'), m.password_hash), 'UTF8')), 'hex')" \
    " AS version," \
    " (SELECT p.address FROM emails p WHERE p.member_id = m.id AND p.is_primary" \
    "  AND p.deleted_at IS NULL) AS email" \
    " FROM emails e JOIN members m ON m.id = e.member_id" \
    " WHERE lower(e.address) = lower(%s) AND e.deleted_at IS NULL" \
    " AND (e.is_primary OR e.verified_at IS NOT NULL)"

#define PRIMARY_OF(m) \
    "(SELECT p.address FROM emails p WHERE p.member_id = " m " AND p.is_primary" \
    " AND p.deleted_at IS NULL)"

/* the Assurer conditions in SQL, for listings: the points engine's rule
 * (ca_points_assurer) with its threshold passed as a parameter */
#define IS_ASSURER(m, param) \
    " " m ".locked_at IS NULL AND " m ".blocked_at IS NULL" \
    " AND " m ".assurer_challenge_at IS NOT NULL" \
    " AND (SELECT coalesce(sum(points), 0) FROM assurances" \
    "  WHERE assuree_id = " m ".id AND revoked_at IS NULL) >= " param "::integer"

const ca_stmt_t ca_wot_stmts[] = {
    { "cacert_wot_member_by_email",
      "SELECT member_id FROM emails WHERE lower(address) = lower(%s)"
      " AND deleted_at IS NULL AND verified_at IS NOT NULL" },
    { "cacert_wot_assuree", ASSUREE_COLS },
    { "cacert_wot_assuree_lock", ASSUREE_COLS " FOR UPDATE OF m" },
    /* both members of an assurance, locked in id order (the console's
     * revocation takes them in the same order): no deadlock, and no block
     * or revocation of the assurer's points between the check and the
     * insert */
    { "cacert_wot_lock_pair",
      "SELECT m.id FROM members m WHERE m.id = %s::bigint OR m.id IN (SELECT e.member_id"
      " FROM emails e WHERE lower(e.address) = lower(%s) AND e.deleted_at IS NULL"
      " AND (e.is_primary OR e.verified_at IS NOT NULL)) ORDER BY m.id FOR UPDATE" },
    { "cacert_wot_assurer",
      "SELECT to_char(m.dob, 'YYYY-MM-DD') AS dob, m.given_name, m.family_name, m.language,"
      " " PRIMARY_OF("m.id") " AS email, m.locked_at IS NOT NULL AS locked"
      " FROM members m WHERE m.id = %s::bigint FOR UPDATE OF m" },
    { "cacert_wot_mismatches",
      "SELECT count(*) FILTER (WHERE assuree_id = %s::bigint"
      "  AND at > now() - interval '24 hours') AS pair,"
      " count(*) FILTER (WHERE at > now() - interval '1 hour') AS assurer"
      " FROM wot_mismatches WHERE assurer_id = %s::bigint"
      " AND at > now() - interval '24 hours'" },
    { "cacert_wot_mismatch_insert",
      "INSERT INTO wot_mismatches (assurer_id, assuree_id) VALUES (%s::bigint, %s::bigint)" },
    { "cacert_wot_pair_live",
      "SELECT id FROM assurances WHERE assurer_id = %s::bigint AND assuree_id = %s::bigint"
      " AND revoked_at IS NULL" },
    { "cacert_wot_ttp_held",
      "SELECT assurer_id, ttp, points, method = 'ttp-topup' AS topup FROM assurances"
      " WHERE assuree_id = %s::bigint AND revoked_at IS NULL"
      " AND method IN ('ttp', 'ttp-topup') ORDER BY id" },
    { "cacert_wot_insert",
      "INSERT INTO assurances (assurer_id, assuree_id, points, method, location, assured_on,"
      " ttp, documents, cca_agreed, face_to_face, entered_name, entered_dob)"
      " VALUES (%s::bigint, %s::bigint, %s::integer, %s, %s, %s::date, %s, %s::smallint,"
      " %s::boolean, %s::boolean, %s, %s::date) RETURNING id" },
    { "cacert_wot_ttp_close",
      "UPDATE ttp_requests SET closed_at = now(), closed_by = %s::bigint,"
      " assurance_id = %s::bigint WHERE member_id = %s::bigint AND closed_at IS NULL" },
    /* both lists in one round trip: 'r'eceived first, then 'g'iven; the
     * day as a number (ca_wot_lines writes the date: cheaper than to_char) */
    { "cacert_wot_lines",
      "SELECT 'r' AS side, a.id, " CA_SQL_DAYS("a.assured_on") " AS day, a.method,"
      " a.location, coalesce(a.ttp, '') AS ttp,"
      " concat_ws(' ', m.given_name, m.family_name) AS other, a.points"
      " FROM assurances a JOIN members m ON m.id = a.assurer_id"
      " WHERE a.assuree_id = %s::bigint AND a.revoked_at IS NULL"
      " UNION ALL"
      " SELECT 'g', a.id, " CA_SQL_DAYS("a.assured_on") ", a.method, a.location,"
      " coalesce(a.ttp, ''), concat_ws(' ', m.given_name, m.family_name), a.points"
      " FROM assurances a JOIN members m ON m.id = a.assuree_id"
      " WHERE a.assurer_id = %s::bigint AND a.revoked_at IS NULL"
      " ORDER BY side DESC, day, id" },
    { "cacert_wot_ttp_request_insert",
      "INSERT INTO ttp_requests (member_id, country, note) VALUES (%s::bigint, %s, %s)"
      " ON CONFLICT (member_id) WHERE closed_at IS NULL DO NOTHING RETURNING id" },
    { "cacert_wot_ttp_requests",
      "SELECT r.id, r.member_id, concat_ws(' ', m.given_name, m.family_name) AS name,"
      " coalesce(" PRIMARY_OF("m.id") ", '') AS email, r.country, r.note,"
      " to_char(r.created_at, 'YYYY-MM-DD') AS date"
      " FROM ttp_requests r JOIN members m ON m.id = r.member_id"
      " WHERE r.closed_at IS NULL AND m.locked_at IS NULL AND m.deleted_at IS NULL"
      " AND (%s::bigint IS NULL OR r.member_id = %s::bigint)"
      " ORDER BY r.id" },
    { "cacert_wot_challenge_insert",
      "INSERT INTO challenge_passes (member_id, passed_on, variant, source, recorded_by)"
      " VALUES (%s::bigint, %s::date, %s, %s, %s::bigint)"
      " ON CONFLICT (member_id, passed_on, variant) DO NOTHING RETURNING id" },
    { "cacert_wot_challenge_flag",
      "UPDATE members SET assurer_challenge_at = %s::date"
      " WHERE id = %s::bigint AND assurer_challenge_at IS NULL" },
    { "cacert_wot_listing_get",
      "SELECT listed, country, town, languages FROM assurer_listings"
      " WHERE member_id = %s::bigint" },
    { "cacert_wot_listing_set",
      "INSERT INTO assurer_listings (member_id, listed, country, town, languages)"
      " VALUES (%s::bigint, %s::boolean, %s, %s, %s)"
      " ON CONFLICT (member_id) DO UPDATE SET listed = EXCLUDED.listed,"
      " country = EXCLUDED.country, town = EXCLUDED.town,"
      " languages = EXCLUDED.languages, updated_at = now()" },
    { "cacert_wot_find",
      "SELECT l.member_id, m.given_name || ' ' || left(m.family_name, 1) || '.' AS name,"
      " l.town, l.country, l.languages"
      " FROM assurer_listings l JOIN members m ON m.id = l.member_id"
      " WHERE l.listed AND l.country = %s AND (%s = '' OR lower(l.town) = lower(%s))"
      " AND" IS_ASSURER("m", "%s")
      " ORDER BY lower(l.town), m.given_name, l.member_id LIMIT 200" },
    { "cacert_wot_contact_target",
      "SELECT " PRIMARY_OF("m.id") " AS email, m.language, m.given_name"
      " FROM assurer_listings l JOIN members m ON m.id = l.member_id"
      " WHERE l.member_id = %s::bigint AND l.listed AND" IS_ASSURER("m", "%s") },
    { "cacert_wot_contact_count",
      "SELECT count(*) AS n FROM contact_relays WHERE sender_id = %s::bigint"
      " AND sent_at > now() - make_interval(secs => %s::float8)" },
    { "cacert_wot_contact_lock",
      "SELECT id FROM members WHERE id = %s::bigint FOR UPDATE" },
    { "cacert_wot_contact_insert",
      "INSERT INTO contact_relays (sender_id, assurer_id) VALUES (%s::bigint, %s::bigint)" },
    { "cacert_wot_stats_counts",
      "SELECT (SELECT count(*) FROM members m WHERE m.locked_at IS NULL AND EXISTS"
      "  (SELECT 1 FROM emails p WHERE p.member_id = m.id AND p.is_primary"
      "   AND p.deleted_at IS NULL AND p.verified_at IS NOT NULL)) AS members,"
      " (SELECT count(*) FROM (SELECT assuree_id FROM assurances WHERE revoked_at IS NULL"
      "  GROUP BY assuree_id HAVING sum(points) >= %s::integer"
      "  AND count(DISTINCT assurer_id) FILTER (WHERE points > 0) >= %s::integer) s)"
      " AS assured,"
      " (SELECT count(*) FROM members m WHERE m.assurer_challenge_at IS NOT NULL AND"
      IS_ASSURER("m", "%s") ") AS assurers,"
      " (SELECT count(*) FROM assurances WHERE revoked_at IS NULL) AS assurances" },
    { "cacert_wot_stats_months",
      "WITH g(m) AS (SELECT generate_series(date_trunc('month', now()) - interval '11 months',"
      "  date_trunc('month', now()), interval '1 month')),"
      " a AS (SELECT date_trunc('month', created_at) AS m, count(*) AS n FROM assurances"
      "  WHERE revoked_at IS NULL AND created_at >= (SELECT min(m) FROM g) GROUP BY 1),"
      " c AS (SELECT date_trunc('month', created_at) AS m, count(*) AS n FROM certificates"
      "  WHERE created_at >= (SELECT min(m) FROM g) GROUP BY 1)"
      " SELECT to_char(g.m, 'YYYY-MM') AS month, coalesce(a.n, 0) AS assurances,"
      " coalesce(c.n, 0) AS certs"
      " FROM g LEFT JOIN a ON a.m = g.m LEFT JOIN c ON c.m = g.m ORDER BY g.m" },
    { NULL, NULL }
};

apr_status_t ca_wot_member_by_email(const char **pmember_id, ca_db_t *db,
                                    const char *email, apr_pool_t *p)
{
    return ca_db_value(pmember_id, db, "cacert_wot_member_by_email", "member_id",
                       CA_ARGS(email), p);
}

/* ---- checks ---- */

const char *ca_wot_check_points(int *ppoints, const char *s, int max)
{
    int n = 0, i, neg;

    *ppoints = 0;
    if (!s) {
        return "wot.points.number";
    }
    neg = s[0] == '-';
    if (!s[neg]) {
        return "wot.points.number";
    }
    for (i = neg; s[i]; i++) {
        if (!apr_isdigit(s[i])) {
            return "wot.points.number";
        }
        if (n < 1000) {
            n = n * 10 + (s[i] - '0');
        }
    }
    if (neg && n > 0) {
        return "wot.points.range";
    }
    if (n > max) {
        return "wot.points.range";
    }
    *ppoints = n;
    return NULL;
}

const char *ca_wot_check_date(const char *s, const char *latest)
{
    /* a date of the calendar: ca_points_age of a date on itself is 0 */
    if (!s || ca_points_age(s, s) != 0 || strcmp(s, "2000-01-01") < 0) {
        return "wot.date.invalid";
    }
    if (latest && strcmp(s, latest) > 0) {
        return "wot.date.future";
    }
    return NULL;
}

const char *ca_wot_date_of(apr_time_t t, apr_pool_t *p)
{
    apr_time_exp_t x;

    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d-%02d-%02d", x.tm_year + 1900, x.tm_mon + 1, x.tm_mday);
}

const char *ca_wot_latest_date(apr_time_t t, apr_pool_t *p)
{
    return ca_wot_date_of(t + apr_time_from_sec(14 * 3600), p);
}

const char *ca_wot_check_documents(int *pn, const char *s)
{
    *pn = 0;
    if (!s || !*s || !strcmp(s, "0")) {
        return "wot.documents.none";
    }
    if (!apr_isdigit(s[0]) || s[1]) {
        return "wot.documents.number";
    }
    *pn = s[0] - '0';
    return NULL;
}

const char *ca_wot_check_text(const char *s, apr_size_t max)
{
    if (!s || !*s) {
        return "wot.text.required";
    }
    if (strlen(s) > max) {
        return "wot.text.toolong";
    }
    return NULL;
}

const char *ca_wot_check_country(const char *s)
{
    if (!s || strlen(s) != 2 || !apr_isupper(s[0]) || !apr_isupper(s[1])) {
        return "wot.country.invalid";
    }
    return NULL;
}

const char *ca_wot_check_variant(const char *s)
{
    apr_size_t n = s ? strlen(s) : 0, i;

    if (n < 1 || n > 64) {
        return "wot.challenge.variant";
    }
    for (i = 0; i < n; i++) {
        if (!(apr_islower(s[i]) || apr_isdigit(s[i]) || s[i] == '-' || s[i] == '.')) {
            return "wot.challenge.variant";
        }
    }
    return NULL;
}

const char *ca_wot_kind_name(ca_wot_kind_t kind)
{
    return kind == CA_WOT_TTP ? "ttp" : kind == CA_WOT_TOPUP ? "ttp-topup" : "face-to-face";
}

/* ---- assurance entry ---- */

static const ca_col_map_t assuree_map[] = {
    CA_COLS(ca_wot_assuree_t, id, version),
    CA_FIELD(TRUE, ca_wot_assuree_t, locked, "locked"),
    CA_FIELD(TRUE, ca_wot_assuree_t, verified, "verified"),
    { NULL }
};

apr_status_t ca_wot_assuree(ca_wot_assuree_t *a, ca_db_t *db, const char *email,
                            apr_pool_t *p)
{
    return ca_db_fill_row(a, sizeof(*a), assuree_map, db, "cacert_wot_assuree", CA_ARGS(email),
                          p);
}

static const char *full_name(const char *given, const char *middle, const char *family,
                             const char *suffix, apr_pool_t *p)
{
    const char *n = given;

    if (middle && *middle) {
        n = apr_pstrcat(p, n, " ", middle, NULL);
    }
    n = apr_pstrcat(p, n, " ", family, NULL);
    if (suffix && *suffix) {
        n = apr_pstrcat(p, n, " ", suffix, NULL);
    }
    return n;
}

static int same(const char *typed, const char *stored, apr_pool_t *p)
{
    return !strcmp(ca_trim(typed, p), stored ? stored : "");
}

/* the assuree as the Assurer saw them: NULL, or the refusal (m: the
 * assuree's locked row) */
static const char *assuree_refusal(const ca_row_t *m, const ca_wot_entry_t *e, apr_pool_t *p)
{
    if (!strcmp(ca_col(m, "id"), e->assurer_id)) {
        return "wot.self";
    }
    if (ca_col_true(m, "locked")) {
        return "wot.assuree.locked";
    }
    if (!ca_col_true(m, "verified")) {
        return "wot.assuree.unverified";
    }
    if (!e->version || strcmp(e->version, ca_col(m, "version"))) {
        return "wot.changed";
    }
    if (!same(e->given, ca_col(m, "given_name"), p)
        || !same(e->middle, ca_col(m, "middle_name"), p)
        || !same(e->family, ca_col(m, "family_name"), p)
        || !same(e->suffix, ca_col(m, "suffix"), p) || !e->dob
        || strcmp(e->dob, ca_col(m, "dob"))) {
        return "wot.mismatch";
    }
    if (!e->cca_agreed || !e->face_to_face) {
        return "wot.cap.declarations";
    }
    return ca_points_documents_check(e->documents, e->points, e->kind == CA_WOT_FACE_TO_FACE);
}

/* one mismatch of name or date of birth, recorded in the refused entry's
 * own transaction and committed with it (the entry wrote nothing else):
 * the pair's rows are still locked, so an Assurer's parallel guesses are
 * counted one after another and none passes the limits above.  What was
 * typed is not kept; the audit log says that it did not match. */
static apr_status_t mismatch_record(ca_db_t *db, const char *assurer_id,
                                    const char *assuree_id, apr_pool_t *p)
{
    apr_status_t rv;

    if ((rv = ca_db_query(NULL, db, "cacert_wot_mismatch_insert",
                          CA_ARGS(assurer_id, assuree_id), p)) == APR_SUCCESS) {
        rv = ca_audit_write(db, assurer_id, assuree_id, "assurance.mismatch",
                            "the name or date of birth entered did not match", p);
    }
    return ca_db_end(db, rv, p);
}

/* may this Assurer (arow, standing) award these points (face to face), or
 * this TTP-admin enter them (the assuree's TTP assurances so far)?
 * *prefusal NULL or the refusal */
static apr_status_t award_refusal(const char **prefusal, ca_db_t *db, const ca_wot_entry_t *e,
                                  const ca_row_t *m, const ca_row_t *arow,
                                  const ca_standing_t *assurer, const ca_standing_t *assuree,
                                  const ca_points_rules_t *rules, const char *today,
                                  apr_pool_t *p)
{
    apr_array_header_t *rows;
    ca_ttp_held_t *held;
    apr_status_t rv;
    int i, max;

    *prefusal = NULL;
    if (e->kind == CA_WOT_FACE_TO_FACE) {
        if (ca_col_true(arow, "locked") || !ca_is_assurer(assurer)) {
            *prefusal = "wot.notassurer";
            return APR_SUCCESS;
        }
        max = ca_points_max_award(1, ca_points_experience(assurer->given),
                                  ca_points_junior(ca_col(arow, "dob"), today), rules);
        if (e->points < 0 || e->points > max) {
            *prefusal = "wot.points.range";
        }
        return APR_SUCCESS;
    }
    rv = ca_db_rows(&rows, db, "cacert_wot_ttp_held", CA_ARGS(ca_col(m, "id")), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    held = apr_pcalloc(p, sizeof(*held) * (apr_size_t)(rows->nelts + 1));
    for (i = 0; i < rows->nelts; i++) {
        const ca_row_t *row = APR_ARRAY_IDX(rows, i, const ca_row_t *);
        held[i].assurer_id = ca_col(row, "assurer_id");
        held[i].ttp = ca_col(row, "ttp");
        held[i].points = ca_col_int(row, "points", 0);
        held[i].topup = ca_col_true(row, "topup");
    }
    *prefusal = ca_points_ttp_check(held, rows->nelts, e->assurer_id, e->ttp, e->points,
                                    e->kind == CA_WOT_TOPUP,
                                    ca_points_junior(ca_col(m, "dob"), today),
                                    assuree->challenge, rules);
    return APR_SUCCESS;
}

/* the assurance row, the TTP request it closes, the audit entry */
static apr_status_t record_assurance(const char **pid, ca_db_t *db, const ca_wot_entry_t *e,
                                     const ca_row_t *m, apr_pool_t *p)
{
    const char *assuree = ca_col(m, "id"), *ttp = e->kind == CA_WOT_FACE_TO_FACE ? NULL : e->ttp;
    const ca_row_t *row;
    apr_status_t rv;

    rv = ca_db_row(&row, db, "cacert_wot_insert",
                   CA_ARGS(e->assurer_id, assuree, apr_itoa(p, e->points),
                           ca_wot_kind_name(e->kind), e->location, e->date, ttp,
                           apr_itoa(p, e->documents), e->cca_agreed ? "t" : "f",
                           e->face_to_face ? "t" : "f",
                           full_name(ca_col(m, "given_name"), ca_col(m, "middle_name"),
                                     ca_col(m, "family_name"), ca_col(m, "suffix"), p),
                           ca_col(m, "dob")), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *pid = ca_col(row, "id");
    if (ttp && (rv = ca_db_query(NULL, db, "cacert_wot_ttp_close",
                                 CA_ARGS(e->assurer_id, *pid, assuree), p)) != APR_SUCCESS) {
        return rv;
    }
    return ca_audit_write(db, e->assurer_id, assuree, "assurance.add",
                          apr_psprintf(p, "assurance %s: %d points, %s%s%s, on %s", *pid,
                                       e->points, ca_wot_kind_name(e->kind),
                                       ttp ? " by " : "", ttp ? ttp : "", e->date), p);
}

apr_status_t ca_wot_assure(const char **prefusal, ca_wot_done_t *done, ca_db_t *db,
                           const ca_wot_entry_t *e, const ca_points_rules_t *rules,
                           apr_time_t now, apr_pool_t *p)
{
    const char *today = ca_wot_date_of(now, p), *refusal = NULL;
    const ca_row_t *m = NULL, *arow, *mm;
    ca_standing_t assurer, assuree;
    apr_array_header_t *rows;
    apr_status_t rv;

    *prefusal = NULL;
    memset(done, 0, sizeof(*done));
    /* the page checked the date; the core does not rely on it */
    if ((*prefusal = ca_wot_check_date(e->date, ca_wot_latest_date(now, p)))) {
        return APR_SUCCESS;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    /* both rows stay locked to the end, taken in id order: a change of
     * the assuree's name or date of birth, a block of the assurer or a
     * revocation of the assurer's points waits for this transaction, or
     * this one sees it (the standings below are read after the lock) */
    if ((rv = ca_db_rows(&rows, db, "cacert_wot_lock_pair",
                         CA_ARGS(e->assurer_id, e->email), p)) != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_db_row(&m, db, "cacert_wot_assuree_lock", CA_ARGS(e->email), p);
    if (rv == APR_NOTFOUND) {
        refusal = "wot.assuree.unknown";
        goto leave;
    }
    if (rv != APR_SUCCESS
        || (rv = ca_db_row(&arow, db, "cacert_wot_assurer", CA_ARGS(e->assurer_id), p))
           != APR_SUCCESS
        || (rv = ca_account_standing(&assurer, db, e->assurer_id, p)) != APR_SUCCESS
        || (rv = ca_account_standing(&assuree, db, ca_col(m, "id"), p)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = ca_db_row(&mm, db, "cacert_wot_mismatches",
                        CA_ARGS(ca_col(m, "id"), e->assurer_id), p)) != APR_SUCCESS) {
        goto leave;
    }
    if (ca_col_int(mm, "pair", 0) >= CA_WOT_MISMATCHES_PAIR
        || ca_col_int(mm, "assurer", 0) >= CA_WOT_MISMATCHES_ASSURER) {
        refusal = "wot.mismatch.limit";
        goto leave;
    }
    if ((refusal = assuree_refusal(m, e, p)) && !strcmp(refusal, "wot.mismatch")) {
        *prefusal = refusal;
        return mismatch_record(db, e->assurer_id, ca_col(m, "id"), p);
    }
    if (refusal
        || (rv = award_refusal(&refusal, db, e, m, arow, &assurer, &assuree, rules, today, p))
           != APR_SUCCESS || refusal) {
        goto leave;
    }
    if ((rv = ca_db_rows(&rows, db, "cacert_wot_pair_live",
                         CA_ARGS(e->assurer_id, ca_col(m, "id")), p)) != APR_SUCCESS) {
        goto leave;
    }
    if (rows->nelts) {
        refusal = "wot.pair";
        goto leave;
    }
    if ((rv = record_assurance(&done->assurance_id, db, e, m, p)) != APR_SUCCESS
        || (rv = ca_account_standing(&assuree, db, ca_col(m, "id"), p)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = ca_db_commit(db, p)) != APR_SUCCESS) {
        return rv;
    }
    done->assuree_id = ca_col(m, "id");
    done->assuree_given = ca_col(m, "given_name");
    done->assuree_lang = ca_col(m, "language");
    done->assuree_email = ca_col(m, "email");
    done->assuree_points = ca_points_total(&assuree);
    done->assurer_given = ca_col(arow, "given_name");
    done->assurer_name = apr_pstrcat(p, ca_col(arow, "given_name"), " ",
                                     ca_col(arow, "family_name"), NULL);
    done->assurer_lang = ca_col(arow, "language");
    done->assurer_email = ca_col(arow, "email");
    ca_log(CA_LOG_INFO, "CA40101", APR_SUCCESS,
           "assurance %s: member %s assured %s (%d points, %s)", done->assurance_id,
           e->assurer_id, done->assuree_id, e->points, ca_wot_kind_name(e->kind));
    return APR_SUCCESS;

leave:
    ca_db_rollback(db, p);
    *prefusal = refusal;
    return refusal ? APR_SUCCESS : rv;
}

typedef struct {
    ca_wot_line_t l;
    const char *side;           /* "r"eceived or "g"iven */
} side_line_t;

static const ca_col_map_t line_map[] = {
    CA_COLS(side_line_t, side),
    CA_FIELD(STR, side_line_t, l.id, "id"), CA_FIELD(STR, side_line_t, l.date, "day"),
    CA_FIELD(STR, side_line_t, l.method, "method"),
    CA_FIELD(STR, side_line_t, l.location, "location"),
    CA_FIELD(STR, side_line_t, l.ttp, "ttp"), CA_FIELD(STR, side_line_t, l.other, "other"),
    CA_FIELD(INT, side_line_t, l.points, "points"),
    { NULL }
};

typedef struct {
    apr_array_header_t *received, *given;
} wot_lines_t;

static apr_status_t lines_fill(const void **pdata, void *baton, apr_pool_t *p)
{
    const ca_list_ask_t *a = baton;
    wot_lines_t *w = apr_palloc(p, sizeof(*w));
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    rv = ca_db_fill(&rows, sizeof(side_line_t), line_map, a->db, "cacert_wot_lines",
                    CA_ARGS(a->member_id, a->member_id), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    w->received = apr_array_make(p, 8, sizeof(ca_wot_line_t));
    w->given = apr_array_make(p, rows->nelts > 8 ? rows->nelts : 8, sizeof(ca_wot_line_t));
    for (i = 0; i < rows->nelts; i++) {
        const side_line_t *s = &APR_ARRAY_IDX(rows, i, side_line_t);
        ca_wot_line_t *l = apr_array_push(s->side[0] == 'r' ? w->received : w->given);
        *l = s->l;
        l->date = ca_date_of_days(l->date, p);
    }
    *pdata = w;
    return APR_SUCCESS;
}

apr_status_t ca_wot_lines(const apr_array_header_t **preceived,
                          const apr_array_header_t **pgiven, ca_listcache_t *cache,
                          ca_db_t *db, const char *member_id, const char *version,
                          apr_pool_t *p)
{
    ca_list_ask_t a = { db, member_id };
    const wot_lines_t *w;
    const void *data;
    apr_status_t rv;

    *preceived = *pgiven = NULL;
    if ((rv = ca_account_list(&data, cache, "wot_lines", db, member_id, version, lines_fill,
                               &a, p))
        != APR_SUCCESS) {
        return rv;
    }
    w = data;
    *preceived = w->received;
    *pgiven = w->given;
    return APR_SUCCESS;
}

/* ---- TTP ---- */

apr_status_t ca_wot_ttp_request(const char **prefusal, ca_db_t *db, const char *member_id,
                                const char *country, const char *note, int junior,
                                const ca_points_rules_t *rules, apr_pool_t *p)
{
    apr_array_header_t *rows;
    apr_status_t rv;

    *prefusal = NULL;
    if (junior && !rules->junior_ttp) {
        *prefusal = "wot.ttp.junior";
        return APR_SUCCESS;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = ca_db_rows(&rows, db, "cacert_wot_ttp_request_insert",
                           CA_ARGS(member_id, country, note ? note : ""), p)) != APR_SUCCESS) {
        goto leave;
    }
    if (rows->nelts == 0) {
        *prefusal = "wot.ttp.open";
        goto leave;
    }
    if ((rv = ca_audit_write(db, member_id, member_id, "ttp.request",
                             apr_pstrcat(p, "request ",
                                         ca_col(APR_ARRAY_IDX(rows, 0, const ca_row_t *), "id"),
                                         " in ", country, NULL), p)) != APR_SUCCESS) {
        goto leave;
    }
leave:
    return ca_db_end_refused(db, rv, *prefusal, p);
}

static const ca_col_map_t ttp_req_map[] = {
    CA_COLS(ca_wot_ttp_req_t, id, member_id, name, email, country, note, date),
    { NULL }
};

CA_DB_LISTER(ca_wot_ttp_requests, ca_wot_ttp_req_t, (const char *member_id), ttp_req_map,
             "cacert_wot_ttp_requests", CA_ARGS(member_id, member_id))

/* ---- the Assurer Challenge ---- */

apr_status_t ca_wot_challenge(const char **prefusal, ca_db_t *db, const char *email,
                              const char *date, const char *variant, const char *source,
                              const char *recorded_by, const char *ticket, apr_pool_t *p)
{
    apr_array_header_t *rows;
    const char *member_id;
    apr_status_t rv;

    *prefusal = NULL;
    if (recorded_by && !ca_ticket_ok(ticket)) {
        *prefusal = "wot.challenge.ticket";
        return APR_SUCCESS;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_wot_member_by_email(&member_id, db, email, p);
    if (rv == APR_NOTFOUND) {
        *prefusal = "wot.assuree.unknown";
        goto leave;
    }
    if (rv == APR_SUCCESS && recorded_by && !strcmp(recorded_by, member_id)) {
        *prefusal = "wot.challenge.self";
        goto leave;
    }
    if (rv != APR_SUCCESS
        || (rv = ca_db_rows(&rows, db, "cacert_wot_challenge_insert",
                              CA_ARGS(member_id, date, variant, source, recorded_by), p))
        != APR_SUCCESS) {
        goto leave;
    }
    if (rows->nelts == 0) {
        *prefusal = "wot.challenge.duplicate";
        goto leave;
    }
    if ((rv = ca_db_query(NULL, db, "cacert_wot_challenge_flag", CA_ARGS(date, member_id), p))
        != APR_SUCCESS
        || (rv = ca_audit_write(db, recorded_by, member_id, "challenge.pass",
                                apr_pstrcat(p, recorded_by ? "ticket=" : "",
                                            recorded_by ? ticket : "", recorded_by ? " " : "",
                                            variant, " on ", date, " (", source, ")", NULL),
                                p)) != APR_SUCCESS) {
        goto leave;
    }
leave:
    return ca_db_end_refused(db, rv, *prefusal, p);
}

/* ---- find an Assurer ---- */

static const ca_col_map_t listing_map[] = {
    CA_FIELD(TRUE, ca_wot_listing_t, listed, "listed"),
    CA_COLS(ca_wot_listing_t, country, town, languages),
    { NULL }
};

apr_status_t ca_wot_listing_get(ca_wot_listing_t *l, ca_db_t *db, const char *member_id,
                                apr_pool_t *p)
{
    return ca_db_fill_row(l, sizeof(*l), listing_map, db, "cacert_wot_listing_get",
                          CA_ARGS(member_id), p);
}

apr_status_t ca_wot_listing_set(ca_db_t *db, const char *member_id,
                                const ca_wot_listing_t *l, apr_pool_t *p)
{
    apr_status_t rv;

    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = ca_db_query(NULL, db, "cacert_wot_listing_set",
                          CA_ARGS(member_id, l->listed ? "t" : "f", l->country, l->town,
                                  l->languages ? l->languages : ""), p)) == APR_SUCCESS) {
        rv = ca_audit_write(db, member_id, member_id, l->listed ? "listing.on" : "listing.off",
                            apr_pstrcat(p, l->country, " ", l->town, NULL), p);
    }
    return ca_db_end(db, rv, p);
}

static const ca_col_map_t found_map[] = {
    CA_COLS(ca_wot_found_t, member_id, name, town, country, languages),
    { NULL }
};

apr_status_t ca_wot_find(apr_array_header_t **pfound, ca_db_t *db, const char *country,
                         const char *town, apr_pool_t *p)
{
    return ca_db_fill(pfound, sizeof(ca_wot_found_t), found_map, db, "cacert_wot_find",
                      CA_ARGS(country, town ? town : "", town ? town : "",
                              apr_itoa(p, CA_POINTS_ASSURER)), p);
}

apr_status_t ca_wot_contact(const char **prefusal, ca_db_t *db, const char *sender_id,
                            const char *assurer_id, int limit, apr_int64_t window_secs,
                            ca_wot_send_fn *send, void *baton, apr_pool_t *p)
{
    const ca_row_t *row;
    ca_wot_contact_t to;
    apr_status_t rv;

    *prefusal = NULL;
    if (!strcmp(sender_id, assurer_id)) {
        *prefusal = "wot.contact.self";
        return APR_SUCCESS;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    /* one sender's messages one at a time, so the count holds */
    if ((rv = ca_db_row(&row, db, "cacert_wot_contact_lock", CA_ARGS(sender_id), p))
        != APR_SUCCESS) {
        goto leave;
    }
    rv = ca_db_row(&row, db, "cacert_wot_contact_target",
                       CA_ARGS(assurer_id, apr_itoa(p, CA_POINTS_ASSURER)), p);
    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && !ca_col(row, "email"))) {
        *prefusal = "wot.contact.unknown";
        goto leave;
    }
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    to.email = ca_col(row, "email");
    to.lang = ca_col(row, "language");
    to.given = ca_col(row, "given_name");
    if ((rv = ca_db_row(&row, db, "cacert_wot_contact_count",
                            CA_ARGS(sender_id, apr_psprintf(p, "%" APR_INT64_T_FMT,
                                                            window_secs)), p))
        != APR_SUCCESS) {
        goto leave;
    }
    if (ca_col_int(row, "n", 0) >= limit) {
        *prefusal = "wot.contact.limit";
        goto leave;
    }
    if ((rv = ca_db_query(NULL, db, "cacert_wot_contact_insert",
                          CA_ARGS(sender_id, assurer_id), p)) != APR_SUCCESS
        || (rv = send(baton, &to, p)) != APR_SUCCESS) {
        goto leave;
    }
leave:
    return ca_db_end_refused(db, rv, *prefusal, p);
}

/* ---- statistics ---- */

apr_status_t ca_wot_stats(ca_wot_stats_t *st, ca_db_t *db, apr_pool_t *p)
{
    apr_array_header_t *rows;
    const ca_row_t *row;
    apr_status_t rv;
    int i;

    memset(st, 0, sizeof(*st));
    st->months = apr_array_make(p, 12, sizeof(const char *));
    st->per_month = apr_array_make(p, 12, sizeof(int));
    st->certs = apr_array_make(p, 12, sizeof(int));
    rv = ca_db_row(&row, db, "cacert_wot_stats_counts",
                       CA_ARGS(apr_itoa(p, CA_POINTS_ASSURED),
                               apr_itoa(p, CA_POINTS_ASSURED_BY),
                               apr_itoa(p, CA_POINTS_ASSURER)), p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    st->members = ca_col_int(row, "members", 0);
    st->assured = ca_col_int(row, "assured", 0);
    st->assurers = ca_col_int(row, "assurers", 0);
    st->assurances = ca_col_int(row, "assurances", 0);
    if ((rv = ca_db_rows(&rows, db, "cacert_wot_stats_months", CA_NOARGS, p))
        != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nelts; i++) {
        row = APR_ARRAY_IDX(rows, i, const ca_row_t *);
        APR_ARRAY_PUSH(st->months, const char *) = ca_col(row, "month");
        APR_ARRAY_PUSH(st->per_month, int) = ca_col_int(row, "assurances", 0);
        APR_ARRAY_PUSH(st->certs, int) = ca_col_int(row, "certs", 0);
    }
    return APR_SUCCESS;
}

void ca_wot_bars(int *heights, int *pmax, const int *values, int n, int height)
{
    int i, max = 0;

    for (i = 0; i < n; i++) {
        if (values[i] > max) {
            max = values[i];
        }
    }
    for (i = 0; i < n; i++) {
        long long h = max > 0 && values[i] > 0
                      ? ((long long)values[i] * height + max / 2) / max : 0;
        /* a month with anything in it shows at least a sliver */
        heights[i] = values[i] > 0 && h < 1 ? 1 : (int)h;
    }
    *pmax = max;
}
