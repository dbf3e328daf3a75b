/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "ca_console.h"
#include "ca_account.h"
#include "ca_roles.h"
#include "ca_issue.h"
#include "ca_log.h"
#include "ca_valid.h"

#define TS(col) CA_SQL_TS(col)

#define HIT_COLUMNS \
    "SELECT m.id, concat_ws(' ', nullif(m.given_name, ''), nullif(m.middle_name, '')," \
    " nullif(m.family_name, ''), nullif(m.suffix, '')) AS name, coalesce((SELECT e.address" \
    "  FROM emails e WHERE e.member_id = m.id AND e.is_primary ORDER BY e.id DESC LIMIT 1), '')" \
    " AS email, " TS("m.created_at") " AS created, m.locked_at IS NOT NULL AS locked," \
    " m.deleted_at IS NOT NULL AS deleted FROM members m"

const ca_stmt_t ca_console_stmts[] = {
    { "cacert_con_search_id", HIT_COLUMNS " WHERE m.id = %s::bigint" },
    { "cacert_con_search_email",
      HIT_COLUMNS " WHERE m.id IN (SELECT member_id FROM emails"
      "  WHERE lower(address) LIKE lower(%s) ESCAPE '\\') ORDER BY m.id DESC LIMIT 50" },
    { "cacert_con_search_name",
      HIT_COLUMNS " WHERE concat_ws(' ', m.given_name, m.middle_name, m.family_name)"
      " ILIKE %s ESCAPE '\\' ORDER BY m.id DESC LIMIT 50" },
    /* every column but password_hash (and nothing of lost_password_questions) */
    { "cacert_con_member",
      "SELECT id, given_name, middle_name, family_name, suffix,"
      " to_char(dob, 'YYYY-MM-DD') AS dob, language, " TS("created_at") " AS created,"
      " " TS("locked_at") " AS locked, " TS("deleted_at") " AS deleted, deletion_ticket,"
      " " TS("retain_until") " AS retain_until, " TS("blocked_at") " AS blocked,"
      " " TS("assurer_challenge_at") " AS challenge, codesign_allowed"
      " FROM members WHERE id = %s::bigint" },
    { "cacert_con_emails",
      "SELECT address, " TS("created_at") " AS added, " TS("verified_at") " AS verified,"
      " " TS("deleted_at") " AS removed, is_primary FROM emails WHERE member_id = %s::bigint"
      " ORDER BY deleted_at IS NOT NULL, is_primary DESC, id" },
    { "cacert_con_domains",
      "SELECT name, " TS("created_at") " AS added, " TS("verified_at") " AS verified,"
      " " TS("deleted_at") " AS removed FROM domains WHERE member_id = %s::bigint"
      " ORDER BY deleted_at IS NOT NULL, id" },
    { "cacert_con_received",
      "SELECT a.id, a.assurer_id AS other_id, concat_ws(' ', m.given_name, m.family_name)"
      " AS other_name, a.method, a.location, to_char(a.assured_on, 'YYYY-MM-DD') AS date,"
      " " TS("a.revoked_at") " AS revoked, a.points"
      " FROM assurances a JOIN members m ON m.id = a.assurer_id"
      " WHERE a.assuree_id = %s::bigint ORDER BY a.id" },
    { "cacert_con_given",
      "SELECT a.id, a.assuree_id AS other_id, concat_ws(' ', m.given_name, m.family_name)"
      " AS other_name, a.method, a.location, to_char(a.assured_on, 'YYYY-MM-DD') AS date,"
      " " TS("a.revoked_at") " AS revoked, a.points"
      " FROM assurances a JOIN members m ON m.id = a.assuree_id"
      " WHERE a.assurer_id = %s::bigint ORDER BY a.id" },
    { "cacert_con_roles",
      "SELECT role, " TS("granted_at") " AS granted, ticket FROM member_roles"
      " WHERE member_id = %s::bigint AND removed_at IS NULL ORDER BY role" },
    { "cacert_con_history",
      "SELECT id, " TS("at") " AS at, coalesce(actor_id::text, '') AS actor, action, detail"
      " FROM audit_log"
      " WHERE member_id = %s::bigint ORDER BY id DESC LIMIT 50" },
    { "cacert_con_by_email",
      "SELECT member_id FROM emails WHERE lower(address) = lower(%s) AND deleted_at IS NULL" },
    /* the member row, locked for the action */
    { "cacert_con_lock_member",
      "SELECT locked_at IS NOT NULL AS locked, deleted_at IS NOT NULL AS deleted,"
      " blocked_at IS NOT NULL AS blocked, codesign_allowed, given_name, middle_name,"
      " family_name, suffix, to_char(dob, 'YYYY-MM-DD') AS dob FROM members"
      " WHERE id = %s::bigint FOR UPDATE" },
    { "cacert_con_set_locked",
      "UPDATE members SET locked_at = CASE WHEN %s::boolean THEN now() END"
      " WHERE id = %s::bigint" },
    { "cacert_con_end_sessions",
      "UPDATE sessions SET ended_at = now() WHERE member_id = %s::bigint AND ended_at IS NULL" },
    { "cacert_con_set_identity",
      "UPDATE members SET given_name = %s, middle_name = %s, family_name = %s, suffix = %s,"
      " dob = %s::date WHERE id = %s::bigint" },
    { "cacert_con_assurance_lock",
      "SELECT assurer_id, assuree_id, revoked_at IS NOT NULL AS revoked, points"
      " FROM assurances"
      " WHERE id = %s::bigint AND (assurer_id = %s::bigint OR assuree_id = %s::bigint)"
      " FOR UPDATE" },
    /* the two members of an assurance, then both rows locked in id order
     * (as ca_wot_assure takes them) */
    { "cacert_con_assurance_pair",
      "SELECT assurer_id, assuree_id FROM assurances WHERE id = %s::bigint"
      " AND (assurer_id = %s::bigint OR assuree_id = %s::bigint)" },
    { "cacert_con_lock_pair",
      "SELECT id FROM members WHERE id IN (%s::bigint, %s::bigint) ORDER BY id FOR UPDATE" },
    { "cacert_con_assurance_revoke",
      "UPDATE assurances SET revoked_at = now(), revoked_by = %s::bigint, revoke_ticket = %s"
      " WHERE id = %s::bigint AND revoked_at IS NULL" },
    { "cacert_con_set_blocked",
      "UPDATE members SET blocked_at = CASE WHEN %s::boolean THEN now() END"
      " WHERE id = %s::bigint" },
    { "cacert_con_set_codesign",
      "UPDATE members SET codesign_allowed = %s::boolean WHERE id = %s::bigint" },
    { "cacert_con_live_certs",
      "SELECT id FROM certificates c WHERE member_id = %s::bigint AND revoked_at IS NULL"
      " AND not_after > now() AND NOT EXISTS (SELECT 1 FROM signer_requests r"
      "  WHERE r.kind = 'revoke' AND r.cert_id = c.id AND r.state IN ('queued', 'sent', 'done'))"
      " ORDER BY id" },
    /* a subscriber held a certificate or took part in an assurance */
    { "cacert_con_subscriber",
      "SELECT EXISTS (SELECT 1 FROM signer_requests WHERE member_id = %s::bigint"
      "  AND kind = 'sign') OR EXISTS (SELECT 1 FROM certificates WHERE member_id = %s::bigint)"
      " OR EXISTS (SELECT 1 FROM assurances WHERE assurer_id = %s::bigint"
      "  OR assuree_id = %s::bigint) AS subscriber" },
    { "cacert_con_mark_deleted",
      "UPDATE members SET deleted_at = now(), deleted_by = %s::bigint, deletion_ticket = %s,"
      " retain_until = CASE WHEN %s::boolean THEN now() + interval '7 years' ELSE now() END,"
      " locked_at = coalesce(locked_at, now()), password_hash = '!deleted', language = 'en',"
      " codesign_allowed = false WHERE id = %s::bigint AND deleted_at IS NULL" },
    { "cacert_con_wipe_questions",
      "DELETE FROM lost_password_questions WHERE member_id = %s::bigint" },
    { "cacert_con_wipe_sessions",
      "DELETE FROM sessions WHERE member_id = %s::bigint" },
    { "cacert_con_wipe_resets",
      "DELETE FROM password_resets WHERE member_id = %s::bigint" },
    { "cacert_con_end_pings",
      "UPDATE email_pings SET used_at = now() WHERE used_at IS NULL AND email_id IN"
      " (SELECT id FROM emails WHERE member_id = %s::bigint)" },
    { "cacert_con_release_emails",
      "UPDATE emails SET deleted_at = now() WHERE member_id = %s::bigint AND deleted_at IS NULL" },
    { "cacert_con_release_domains",
      "UPDATE domains SET deleted_at = now() WHERE member_id = %s::bigint AND deleted_at IS NULL" },
    { "cacert_con_wipe_identity",
      "UPDATE members SET given_name = '-', middle_name = '', family_name = '-', suffix = '',"
      " dob = DATE '1900-01-01' WHERE id = %s::bigint" },
    { "cacert_con_wipe_addresses",
      "UPDATE emails SET address = '' WHERE member_id = %s::bigint" },
    { "cacert_con_wipe_domains",
      "UPDATE domains SET name = '' WHERE member_id = %s::bigint" },
    { "cacert_con_end_roles",
      "UPDATE member_roles SET removed_at = now(), removed_by = %s::bigint, removal_ticket = %s"
      " WHERE member_id = %s::bigint AND removed_at IS NULL" },
    { "cacert_con_end_orgadmin",
      "UPDATE org_admins SET removed_at = now(), removed_by = %s::bigint"
      " WHERE member_id = %s::bigint AND removed_at IS NULL" },
    { "cacert_con_delist",
      "UPDATE assurer_listings SET listed = false, updated_at = now()"
      " WHERE member_id = %s::bigint AND listed" },
    /* the personal text of the web of trust: the listing (town,
     * languages) goes, open TTP requests close, all notes are blanked
     * (contact_relays keep no text) */
    { "cacert_con_delete_listing",
      "DELETE FROM assurer_listings WHERE member_id = %s::bigint" },
    { "cacert_con_close_ttp",
      "UPDATE ttp_requests SET note = '', closed_at = coalesce(closed_at, now()),"
      " closed_by = CASE WHEN closed_at IS NULL THEN %s::bigint ELSE closed_by END"
      " WHERE member_id = %s::bigint" },
    { "cacert_con_role_grant",
      "INSERT INTO member_roles (member_id, role, granted_by, ticket)"
      " VALUES (%s::bigint, %s, %s::bigint, %s)"
      " ON CONFLICT (member_id, role) WHERE removed_at IS NULL DO NOTHING RETURNING id" },
    { "cacert_con_role_remove",
      "UPDATE member_roles SET removed_at = now(), removed_by = %s::bigint, removal_ticket = %s"
      " WHERE member_id = %s::bigint AND role = %s AND removed_at IS NULL" },
    { NULL, NULL }
};

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* LIKE pattern of a literal text: % _ and \ escaped */
static const char *like_literal(const char *s, apr_pool_t *p)
{
    char *out = apr_palloc(p, 2 * strlen(s) + 1), *o = out;

    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

static const ca_col_map_t hit_map[] = {
    CA_COLS(ca_con_hit_t, id, name, email, created),
    CA_FIELD(TRUE, ca_con_hit_t, locked, "locked"),
    CA_FIELD(TRUE, ca_con_hit_t, deleted, "deleted"),
    { NULL }
};

apr_status_t ca_console_search(apr_array_header_t **phits, ca_db_t *db, const char *query,
                               apr_pool_t *p)
{
    const char *q = ca_trim(nz(query), p);

    *phits = apr_array_make(p, 8, sizeof(ca_con_hit_t));
    if (!*q || strlen(q) > 254) {
        return APR_SUCCESS;
    }
    if (ca_is_id(q)) {
        return ca_db_fill(phits, sizeof(ca_con_hit_t), hit_map, db, "cacert_con_search_id",
                          CA_ARGS(q), p);
    }
    if (strchr(q, '@')) {
        return ca_db_fill(phits, sizeof(ca_con_hit_t), hit_map, db, "cacert_con_search_email",
                          CA_ARGS(apr_pstrcat(p, like_literal(q, p), "%", NULL)), p);
    }
    return ca_db_fill(phits, sizeof(ca_con_hit_t), hit_map, db, "cacert_con_search_name",
                      CA_ARGS(apr_pstrcat(p, "%", like_literal(q, p), "%", NULL)), p);
}

static const ca_col_map_t assurance_map[] = {
    CA_COLS(ca_con_assurance_t, id, other_id, other_name, method, location, date, revoked),
    CA_FIELD(INT, ca_con_assurance_t, points, "points"),
    { NULL }
};

static const ca_col_map_t email_map[] = {
    CA_COLS(ca_con_email_t, address, added, verified, removed),
    CA_FIELD(TRUE, ca_con_email_t, primary, "is_primary"),
    { NULL }
};

static const ca_col_map_t domain_map[] = {
    CA_COLS(ca_con_domain_t, name, added, verified, removed),
    { NULL }
};

static const ca_col_map_t role_map[] = {
    CA_COLS(ca_con_role_t, role, granted, ticket),
    { NULL }
};

static const ca_col_map_t event_map[] = {
    CA_COLS(ca_con_event_t, id, at, actor, action, detail),
    { NULL }
};

static const ca_col_map_t member_map[] = {
    CA_COLS(ca_con_member_t, id, language, created, locked, deleted, deletion_ticket,
            retain_until, blocked, challenge),
    CA_MEMBER_NAME_COLS(ca_con_member_t),
    CA_FIELD(TRUE, ca_con_member_t, codesign, "codesign_allowed"),
    { NULL }
};

/* the lists of a member's page, each by the member's id (the certificates
 * come from ca_issue_certs) */
static const ca_db_list_t member_lists[] = {
    CA_DB_LIST(ca_con_member_t, emails, ca_con_email_t, email_map, "cacert_con_emails"),
    CA_DB_LIST(ca_con_member_t, domains, ca_con_domain_t, domain_map, "cacert_con_domains"),
    CA_DB_LIST(ca_con_member_t, received, ca_con_assurance_t, assurance_map,
               "cacert_con_received"),
    CA_DB_LIST(ca_con_member_t, given_list, ca_con_assurance_t, assurance_map,
               "cacert_con_given"),
    CA_DB_LIST(ca_con_member_t, roles, ca_con_role_t, role_map, "cacert_con_roles"),
    CA_DB_LIST(ca_con_member_t, history, ca_con_event_t, event_map, "cacert_con_history"),
    { 0 }
};

apr_status_t ca_console_member(ca_con_member_t **pm, ca_db_t *db, const char *member_id,
                               apr_pool_t *p)
{
    const ca_row_t *r;
    ca_con_member_t *m;
    apr_status_t rv;

    *pm = NULL;
    if (!ca_is_id(member_id)) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_row(&r, db, "cacert_con_member", CA_ARGS(member_id), p))
        != APR_SUCCESS) {
        return rv;
    }
    m = apr_pcalloc(p, sizeof(*m));
    ca_row_fill(m, r, member_map);
    if ((rv = ca_account_standing(&m->standing, db, member_id, p)) != APR_SUCCESS) {
        return rv;
    }
    m->points = ca_points_total(&m->standing);
    m->assurer = ca_is_assurer(&m->standing);
    if ((rv = ca_db_fill_lists(m, member_lists, db, CA_ARGS(member_id), p)) != APR_SUCCESS
        || (rv = ca_issue_certs(&m->certs, NULL, db, member_id, NULL, p)) != APR_SUCCESS) {
        return rv;
    }
    *pm = m;
    return APR_SUCCESS;
}

apr_status_t ca_console_member_by_email(const char **pmember_id, ca_db_t *db,
                                        const char *address, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    *pmember_id = NULL;
    if (!address || !*address || strlen(address) > 254) {
        return APR_NOTFOUND;
    }
    rv = ca_db_row(&row, db, "cacert_con_by_email", CA_ARGS(address), p);
    if (rv == APR_SUCCESS) {
        *pmember_id = ca_col(row, "member_id");
    }
    return rv;
}

/* the state of the member row, locked for the rest of the transaction */
typedef struct {
    int locked, deleted, blocked, codesign;
    const char *given, *middle, *family, *suffix, *dob;
} member_state_t;

static const ca_col_map_t state_map[] = {
    CA_FIELD(TRUE, member_state_t, locked, "locked"),
    CA_FIELD(TRUE, member_state_t, deleted, "deleted"),
    CA_FIELD(TRUE, member_state_t, blocked, "blocked"),
    CA_FIELD(TRUE, member_state_t, codesign, "codesign_allowed"),
    CA_MEMBER_NAME_COLS(member_state_t),
    { NULL }
};

/* begin, check the ticket and the actor, lock the rows of a and b (may be
 * NULL) in id order, then the member's row */
static apr_status_t action_begin_locked(member_state_t *st, ca_db_t *db, const char *actor,
                                        const char *member_id, const char *ticket,
                                        const char *a, const char *b, apr_pool_t *p)
{
    apr_array_header_t *rows;
    const ca_row_t *row;
    apr_status_t rv;

    if (!ca_ticket_ok(ticket)) {
        return APR_EINVAL;
    }
    if (!ca_is_id(member_id)) {
        return APR_NOTFOUND;
    }
    if (actor && !strcmp(actor, member_id)) {
        return APR_EACCES;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if (a && b && (rv = ca_db_rows(&rows, db, "cacert_con_lock_pair", CA_ARGS(a, b), p))
        != APR_SUCCESS) {
        ca_db_rollback(db, p);
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_con_lock_member", CA_ARGS(member_id), p);
    if (rv != APR_SUCCESS) {
        ca_db_rollback(db, p);
        return rv;
    }
    ca_row_fill(st, row, state_map);
    return APR_SUCCESS;
}

/* begin, check the ticket and the actor, lock the member's row */
static apr_status_t action_begin(member_state_t *st, ca_db_t *db, const char *actor,
                                 const char *member_id, const char *ticket, apr_pool_t *p)
{
    return action_begin_locked(st, db, actor, member_id, ticket, NULL, NULL, p);
}

/* the audit entry, then commit; a refusal or failure (rv) rolls everything
 * back and is returned */
static apr_status_t action_end(apr_status_t rv, ca_db_t *db, const char *actor,
                               const char *member_id, const char *action,
                               const char *ticket, const char *detail, apr_pool_t *p)
{
    if (rv == APR_SUCCESS) {
        rv = ca_audit_write(db, actor, member_id, action,
                            apr_pstrcat(p, "ticket=", ticket, detail && *detail ? " " : "",
                                        nz(detail), NULL), p);
    }
    if (rv != APR_SUCCESS) {
        ca_db_rollback(db, p);
        return rv;
    }
    rv = ca_db_commit(db, p);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA45201", rv, "console action %s on member %s did not commit",
               action, member_id);
    }
    return rv;
}

static const char *tf(int v)
{
    return v ? "true" : "false";
}

/* the member flags the console sets and clears: the statement that writes
 * the flag and the audit actions for setting and clearing it */
typedef enum { FLAG_LOCKED, FLAG_BLOCKED, FLAG_CODESIGN } member_flag_t;

static const struct {
    const char *stmt, *on, *off;
} member_flags[] = {
    [FLAG_LOCKED] = { "cacert_con_set_locked", "console.lock", "console.unlock" },
    [FLAG_BLOCKED] = { "cacert_con_set_blocked", "console.assurer.block",
                       "console.assurer.unblock" },
    [FLAG_CODESIGN] = { "cacert_con_set_codesign", "console.codesign.grant",
                        "console.codesign.remove" },
};

/* set (on) or clear one flag of a live member: APR_EEXIST when it is so
 * already, APR_EACCES for a deleted account; locking ends the sessions */
static apr_status_t set_flag(ca_db_t *db, const char *actor, const char *member_id,
                             const char *ticket, member_flag_t flag, int on, apr_pool_t *p)
{
    member_state_t st;
    apr_status_t rv = action_begin(&st, db, actor, member_id, ticket, p);
    int now;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    now = flag == FLAG_LOCKED ? st.locked : flag == FLAG_BLOCKED ? st.blocked : st.codesign;
    on = !!on;
    if (st.deleted) {
        rv = APR_EACCES;
    }
    else if (now == on) {
        rv = APR_EEXIST;
    }
    else {
        rv = ca_db_query(NULL, db, member_flags[flag].stmt, CA_ARGS(tf(on), member_id), p);
        if (rv == APR_SUCCESS && flag == FLAG_LOCKED && on) {
            rv = ca_db_query(NULL, db, "cacert_con_end_sessions", CA_ARGS(member_id), p);
        }
    }
    return action_end(rv, db, actor, member_id,
                      on ? member_flags[flag].on : member_flags[flag].off, ticket, NULL, p);
}

apr_status_t ca_console_lock(ca_db_t *db, const char *actor, const char *member_id,
                             const char *ticket, int lock, apr_pool_t *p)
{
    return set_flag(db, actor, member_id, ticket, FLAG_LOCKED, lock, p);
}

static const char *full_name(const char *given, const char *middle, const char *family,
                             const char *suffix, apr_pool_t *p)
{
    return apr_pstrcat(p, given, *middle ? " " : "", middle, " ", family,
                       *suffix ? " " : "", suffix, NULL);
}

apr_status_t ca_console_set_identity(ca_db_t *db, const char *actor, const char *member_id,
                                     const char *ticket, const char *given,
                                     const char *middle, const char *family,
                                     const char *suffix, const char *dob, apr_pool_t *p)
{
    member_state_t st;
    const char *d = NULL, *before, *after;
    apr_status_t rv;
    char y[5], m[3], dd[3];

    given = nz(given);
    middle = nz(middle);
    family = nz(family);
    suffix = nz(suffix);
    /* the same checks as at registration */
    if (ca_valid_name(given, 1, 64) || ca_valid_name(middle, 0, 64)
        || ca_valid_name(family, 1, 64) || ca_valid_suffix(suffix)
        || !dob || strlen(dob) != 10 || dob[4] != '-' || dob[7] != '-') {
        return APR_EINVAL;
    }
    apr_cpystrn(y, dob, sizeof(y));
    apr_cpystrn(m, dob + 5, sizeof(m));
    apr_cpystrn(dd, dob + 8, sizeof(dd));
    if (ca_valid_dob(&d, y, m, dd, apr_time_now(), p) || strcmp(d, dob)) {
        return APR_EINVAL;
    }
    if ((rv = action_begin(&st, db, actor, member_id, ticket, p)) != APR_SUCCESS) {
        return rv;
    }
    /* the audit log keeps the names; of the date of birth only that it
     * changed (the log can neither be wiped nor edited) */
    before = full_name(st.given, st.middle, st.family, st.suffix, p);
    after = full_name(given, middle, family, suffix, p);
    if (st.deleted) {
        rv = APR_EACCES;
    }
    else if (!strcmp(before, after) && !strcmp(st.dob, dob) && !strcmp(st.given, given)
             && !strcmp(st.family, family)) {
        rv = APR_EEXIST;
    }
    else {
        rv = ca_db_query(NULL, db, "cacert_con_set_identity",
                         CA_ARGS(given, middle, family, suffix, dob, member_id), p);
    }
    return action_end(rv, db, actor, member_id, "console.identity", ticket,
                      apr_pstrcat(p, "from=\"", before, "\" to=\"", after, "\"",
                                  strcmp(st.dob, dob) ? " dob=changed" : "", NULL), p);
}

apr_status_t ca_console_revoke_assurance(ca_db_t *db, const char *actor,
                                         const char *member_id, const char *assurance_id,
                                         const char *ticket, apr_pool_t *p)
{
    member_state_t st;
    const ca_row_t *row;
    const char *assurer, *assuree;
    apr_status_t rv;

    if (!ca_is_id(assurance_id)) {
        return ca_ticket_ok(ticket) ? APR_NOTFOUND : APR_EINVAL;
    }
    if (!ca_ticket_ok(ticket)) {
        return APR_EINVAL;
    }
    if (!ca_is_id(member_id)) {
        return APR_NOTFOUND;
    }
    /* the assurer's and the assuree's rows, in id order, before the
     * member's own lock (which is then one of them again) */
    if ((rv = ca_db_row(&row, db, "cacert_con_assurance_pair",
                        CA_ARGS(assurance_id, member_id, member_id), p)) != APR_SUCCESS) {
        return rv;
    }
    assurer = ca_col(row, "assurer_id");
    assuree = ca_col(row, "assuree_id");
    if ((rv = action_begin_locked(&st, db, actor, member_id, ticket, assurer, assuree, p))
        != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_con_assurance_lock",
                       CA_ARGS(assurance_id, member_id, member_id), p);
    if (rv == APR_SUCCESS) {
        if (ca_col_true(row, "revoked")) {
            rv = APR_EEXIST;
        }
        else if (actor && (!strcmp(actor, assurer) || !strcmp(actor, assuree))) {
            rv = APR_EACCES;
        }
        else {
            rv = ca_db_query(NULL, db, "cacert_con_assurance_revoke",
                             CA_ARGS(actor, ticket, assurance_id), p);
        }
    }
    return action_end(rv, db, actor, member_id, "console.assurance.revoke", ticket,
                      rv == APR_SUCCESS ? apr_pstrcat(p, "assurance=", assurance_id,
                                                      " assurer=", assurer, " assuree=", assuree,
                                                      " points=", ca_col(row, "points"), NULL)
                                        : NULL, p);
}

apr_status_t ca_console_block(ca_db_t *db, const char *actor, const char *member_id,
                              const char *ticket, int block, apr_pool_t *p)
{
    return set_flag(db, actor, member_id, ticket, FLAG_BLOCKED, block, p);
}

apr_status_t ca_console_codesign(ca_db_t *db, const char *actor, const char *member_id,
                                 const char *ticket, int allow, apr_pool_t *p)
{
    return set_flag(db, actor, member_id, ticket, FLAG_CODESIGN, allow, p);
}

/* queue the revocation of every live certificate, in the open transaction */
static apr_status_t revoke_all(int *pcount, const char **plist, ca_db_t *db,
                               const char *actor, const char *member_id, int reason,
                               apr_pool_t *p)
{
    apr_array_header_t *rows;
    const char *list = "";
    apr_status_t rv;
    int i;

    *pcount = 0;
    rv = ca_db_rows(&rows, db, "cacert_con_live_certs", CA_ARGS(member_id), p);
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        const char *cert_id = ca_col(APR_ARRAY_IDX(rows, i, const ca_row_t *), "id"), *req_id;
        rv = ca_issue_revoke_in_tx(&req_id, db, cert_id, member_id, reason, actor, p);
        if (rv == APR_EEXIST) {
            rv = APR_SUCCESS;       /* under way already */
            continue;
        }
        if (rv == APR_SUCCESS) {
            list = apr_pstrcat(p, list, *list ? "," : "", cert_id, NULL);
            (*pcount)++;
        }
    }
    *plist = list;
    return rv;
}

apr_status_t ca_console_revoke_certs(int *pcount, ca_db_t *db, const char *actor,
                                     const char *member_id, const char *ticket, int reason,
                                     apr_pool_t *p)
{
    member_state_t st;
    const char *list = "";
    apr_status_t rv;

    *pcount = 0;
    if (reason != 0 && reason != 1 && reason != 4 && reason != 9) {
        return APR_EINVAL;
    }
    if ((rv = action_begin(&st, db, actor, member_id, ticket, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = revoke_all(pcount, &list, db, actor, member_id, reason, p);
    if (rv == APR_SUCCESS && *pcount == 0) {
        rv = APR_EEXIST;
    }
    return action_end(rv, db, actor, member_id, "console.certs.revoke", ticket,
                      apr_psprintf(p, "reason=%d certificates=%s", reason, list), p);
}

apr_status_t ca_console_delete(ca_db_t *db, const char *actor, const char *member_id,
                               const char *ticket, apr_pool_t *p)
{
    member_state_t st;
    const char *list = "";
    const ca_row_t *row;
    apr_status_t rv;
    int count = 0, subscriber = 1;

    if ((rv = action_begin(&st, db, actor, member_id, ticket, p)) != APR_SUCCESS) {
        return rv;
    }
    if (st.deleted) {
        ca_db_rollback(db, p);
        return APR_EEXIST;
    }
    /* privilegeWithdrawn: the account is gone, so are its certificates */
    rv = revoke_all(&count, &list, db, actor, member_id, 9, p);
    if (rv == APR_SUCCESS) {
        rv = ca_db_row(&row, db, "cacert_con_subscriber",
                           CA_ARGS(member_id, member_id, member_id, member_id), p);
        if (rv == APR_SUCCESS) {
            subscriber = ca_col_true(row, "subscriber");
        }
    }
    if (rv == APR_SUCCESS) {
        int n = 0;
        rv = ca_db_query(&n, db, "cacert_con_mark_deleted",
                         CA_ARGS(actor, ticket, tf(subscriber), member_id), p);
        if (rv == APR_SUCCESS && n != 1) {
            rv = APR_EEXIST;
        }
    }
    if (rv == APR_SUCCESS
        && ((rv = ca_db_query(NULL, db, "cacert_con_wipe_questions", CA_ARGS(member_id), p))
            != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_wipe_sessions", CA_ARGS(member_id), p))
            != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_wipe_resets", CA_ARGS(member_id), p))
            != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_end_pings", CA_ARGS(member_id), p))
            != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_release_emails", CA_ARGS(member_id), p))
            != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_release_domains", CA_ARGS(member_id),
                                 p)) != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_end_roles",
                                 CA_ARGS(actor, ticket, member_id), p)) != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_end_orgadmin",
                                 CA_ARGS(actor, member_id), p)) != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_delist", CA_ARGS(member_id), p))
            != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_delete_listing", CA_ARGS(member_id),
                                 p)) != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_close_ttp", CA_ARGS(actor, member_id),
                                 p)) != APR_SUCCESS)) {
        /* rv set */
    }
    if (rv == APR_SUCCESS && !subscriber
        && ((rv = ca_db_query(NULL, db, "cacert_con_wipe_identity", CA_ARGS(member_id), p))
            != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_wipe_addresses", CA_ARGS(member_id), p))
            != APR_SUCCESS
            || (rv = ca_db_query(NULL, db, "cacert_con_wipe_domains", CA_ARGS(member_id), p))
            != APR_SUCCESS)) {
        /* rv set */
    }
    return action_end(rv, db, actor, member_id, "console.delete", ticket,
                      apr_psprintf(p, "retention=%s certificates=%s",
                                   subscriber ? "7y" : "none", list), p);
}

apr_status_t ca_console_role(ca_db_t *db, const char *actor, const char *member_id,
                             const char *role, const char *ticket, int grant, apr_pool_t *p)
{
    member_state_t st;
    apr_status_t rv;
    int n = 0;

    if (!ca_role_bit(role)) {
        return APR_EINVAL;
    }
    if ((rv = action_begin(&st, db, actor, member_id, ticket, p)) != APR_SUCCESS) {
        return rv;
    }
    if (st.deleted || (grant && st.locked)) {
        rv = APR_EACCES;
    }
    else if (grant) {
        apr_array_header_t *rows;
        rv = ca_db_rows(&rows, db, "cacert_con_role_grant",
                          CA_ARGS(member_id, role, actor, ticket), p);
        n = rv == APR_SUCCESS ? rows->nelts : 0;
    }
    else {
        rv = ca_db_query(&n, db, "cacert_con_role_remove",
                         CA_ARGS(actor, ticket, member_id, role), p);
    }
    if (rv == APR_SUCCESS && n == 0) {
        rv = APR_EEXIST;
    }
    return action_end(rv, db, actor, member_id, grant ? "role.grant" : "role.remove",
                      ticket, apr_pstrcat(p, "role=", role, NULL), p);
}
