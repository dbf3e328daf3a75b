/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The web of trust in the core: assurances, TTP, the Assurer Challenge,
 * "find an Assurer" and the statistics, on top of the points engine
 * (ca_points.h).  Every state change is one transaction with its audit
 * entry; bad input changes nothing.  Refusals are message keys
 * (templates/messages.txt); an apr_status_t other than APR_SUCCESS
 * is a failure of the database. */
#ifndef CA_WOT_H
#define CA_WOT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "ca_db.h"
#include "ca_points.h"
#include "ca_policy.h"
#include "ca_listcache.h"

extern const ca_stmt_t ca_wot_stmts[];

/* the member owning the live, verified address email (case-insensitive);
 * APR_NOTFOUND if none */
apr_status_t ca_wot_member_by_email(const char **pmember_id, ca_db_t *db,
                                    const char *email, apr_pool_t *p);

/* ---- checks of what is typed (pure) ---- */

/* points: decimal digits only, 0..max -> *ppoints; else wot.points.number
 * (not a number) or wot.points.range (above max) */
const char *ca_wot_check_points(int *ppoints, const char *s, int max);
/* a date YYYY-MM-DD from 2000-01-01 to latest (a date in the same form):
 * wot.date.invalid, wot.date.future */
const char *ca_wot_check_date(const char *s, const char *latest);
/* the calendar date (YYYY-MM-DD) of t in UTC */
const char *ca_wot_date_of(apr_time_t t, apr_pool_t *p);
/* the latest meeting date accepted at t: the date of t in the easternmost
 * time zone (UTC+14), so that nobody's "today" is refused and nothing
 * later than anybody's today is accepted (docs/wot.md) */
const char *ca_wot_latest_date(apr_time_t t, apr_pool_t *p);
/* documents checked: 1..9 (wot.documents.none, wot.documents.number) */
const char *ca_wot_check_documents(int *pn, const char *s);
/* free text of 1..max characters (wot.text.required, wot.text.toolong) */
const char *ca_wot_check_text(const char *s, apr_size_t max);
/* an ISO 3166 alpha-2 country code, upper case (wot.country.invalid) */
const char *ca_wot_check_country(const char *s);
/* a challenge variant: 1-64 of [a-z0-9.-] (wot.challenge.variant) */
const char *ca_wot_check_variant(const char *s);

/* ---- assurance entry ---- */

typedef enum {
    CA_WOT_FACE_TO_FACE = 0,    /* an Assurer met the member */
    CA_WOT_TTP,                 /* a TTP-admin enters a TTP's assurance */
    CA_WOT_TOPUP                /* a TTP-admin's top-up after the challenge */
} ca_wot_kind_t;

const char *ca_wot_kind_name(ca_wot_kind_t kind);   /* assurances.method */

/* the assuree as the first step of the form finds them */
typedef struct {
    const char *id;
    const char *version;        /* changes when name or date of birth change */
    int verified;               /* primary address confirmed */
    int locked;
} ca_wot_assuree_t;

/* APR_NOTFOUND: no member has that (live) address */
apr_status_t ca_wot_assuree(ca_wot_assuree_t *a, ca_db_t *db, const char *email,
                            apr_pool_t *p);

typedef struct {
    ca_wot_kind_t kind;
    const char *assurer_id;     /* the Assurer, or the TTP-admin */
    const char *email;          /* the assuree's address */
    const char *version;        /* ca_wot_assuree_t.version when the form was shown */
    const char *given, *middle, *family, *suffix;   /* as read from the documents */
    const char *dob;            /* YYYY-MM-DD, as read */
    const char *date;           /* of the meeting, checked with ca_wot_check_date */
    const char *location;
    const char *ttp;            /* TTP kinds: which TTP */
    int points;
    int documents;              /* identity documents checked */
    int cca_agreed;             /* the member agreed to the CCA */
    int face_to_face;           /* the meeting was face to face */
} ca_wot_entry_t;

/* what the mails of a new assurance need */
typedef struct {
    const char *assurance_id, *assuree_id;
    const char *assuree_email, *assuree_lang, *assuree_given;
    const char *assurer_email, *assurer_lang, *assurer_given, *assurer_name;
    int assuree_points;         /* ca_points_total after the assurance */
} ca_wot_done_t;

/* Record an assurance in one transaction with its audit entry.  Refusals
 * (*prefusal, nothing changed): wot.assuree.unknown, wot.assuree.unverified,
 * wot.assuree.locked, wot.self, wot.changed (name or date of birth changed
 * since the form was shown), wot.mismatch, wot.notassurer, wot.points.range
 * (above the Assurer's maximum), wot.pair, wot.cap.declarations,
 * wot.documents.*, wot.date.* (the meeting date is checked again against
 * ca_wot_latest_date of now), the TTP refusals of ca_points_ttp_check.
 * now: the current time, read once by the caller; ages are counted on its
 * UTC date.  TTP kinds do not check a role: the caller has checked that
 * the assurer is a TTP-admin. */
/* Mismatches of name or date of birth an Assurer may enter for one
 * assuree in 24 hours, and for anybody in an hour, before ca_wot_assure
 * refuses with wot.mismatch.limit: the check must not become a way to
 * guess a member's date of birth (a year has 365 guesses).  Counted per
 * Assurer and assuree, so that nobody can stop the assurances of a member
 * by failing on purpose. */
#define CA_WOT_MISMATCHES_PAIR 5
#define CA_WOT_MISMATCHES_ASSURER 20

apr_status_t ca_wot_assure(const char **prefusal, ca_wot_done_t *done, ca_db_t *db,
                           const ca_wot_entry_t *e, const ca_points_rules_t *rules,
                           apr_time_t now, apr_pool_t *p);

/* one line of a member's assurances (received or given) */
typedef struct {
    const char *id, *date, *method, *location, *ttp;
    const char *other;          /* the other party's name */
    int points;
} ca_wot_line_t;

/* live assurances received by / given by a member (arrays of ca_wot_line_t),
 * kept in cache (may be NULL) while the member's lists do not change: shared,
 * not to be changed; version as for ca_account_list */
apr_status_t ca_wot_lines(const apr_array_header_t **preceived,
                          const apr_array_header_t **pgiven, ca_listcache_t *cache,
                          ca_db_t *db, const char *member_id, const char *version,
                          apr_pool_t *p);

/* ---- TTP ---- */

/* a member asks for TTP assistance (wot.ttp.junior, wot.ttp.open) */
apr_status_t ca_wot_ttp_request(const char **prefusal, ca_db_t *db, const char *member_id,
                                const char *country, const char *note, int junior,
                                const ca_points_rules_t *rules, apr_pool_t *p);

typedef struct {
    const char *id, *member_id, *name, *email, *country, *note, *date;
} ca_wot_ttp_req_t;

/* open requests (array of ca_wot_ttp_req_t); member_id NULL: everyone's */
apr_status_t ca_wot_ttp_requests(apr_array_header_t **preqs, ca_db_t *db,
                                 const char *member_id, apr_pool_t *p);

/* ---- the Assurer Challenge ---- */

/* Record a pass (source "admin" with recorded_by, or "import" without) of
 * the member with address email.  Refusals: wot.assuree.unknown,
 * wot.challenge.duplicate.  Sets members.assurer_challenge_at on the first
 * pass. */
/* recorded_by (an administrator, source "admin") needs a ticket
 * (ca_ticket_ok, in the audit entry) and may not record their own pass
 * (refusals "wot.challenge.ticket", "wot.challenge.self"); an import
 * (recorded_by NULL) needs none */
apr_status_t ca_wot_challenge(const char **prefusal, ca_db_t *db, const char *email,
                              const char *date, const char *variant, const char *source,
                              const char *recorded_by, const char *ticket, apr_pool_t *p);

/* ---- find an Assurer ---- */

typedef struct {
    int listed;
    const char *country, *town, *languages;
} ca_wot_listing_t;

/* the Assurer's listing; APR_NOTFOUND if never listed */
apr_status_t ca_wot_listing_get(ca_wot_listing_t *l, ca_db_t *db, const char *member_id,
                                apr_pool_t *p);
apr_status_t ca_wot_listing_set(ca_db_t *db, const char *member_id,
                                const ca_wot_listing_t *l, apr_pool_t *p);

typedef struct {
    const char *member_id, *name, *town, *country, *languages;
} ca_wot_found_t;

/* listed Assurers in a country (and town, when not empty): array of
 * ca_wot_found_t, names shortened to given name and initial */
apr_status_t ca_wot_find(apr_array_header_t **pfound, ca_db_t *db, const char *country,
                         const char *town, apr_pool_t *p);

/* who a message goes to */
typedef struct {
    const char *email, *lang, *given;
} ca_wot_contact_t;

/* Relay a message: *prefusal wot.contact.unknown (not a listed Assurer),
 * wot.contact.self, wot.contact.limit (more than limit messages from the
 * sender in window_secs).  send(baton, &to) is called inside the
 * transaction: an error from it changes nothing. */
typedef apr_status_t ca_wot_send_fn(void *baton, const ca_wot_contact_t *to,
                                    apr_pool_t *p);
apr_status_t ca_wot_contact(const char **prefusal, ca_db_t *db, const char *sender_id,
                            const char *assurer_id, int limit, apr_int64_t window_secs,
                            ca_wot_send_fn *send, void *baton, apr_pool_t *p);

/* ---- statistics (aggregates only) ---- */

typedef struct {
    int members, assured, assurers, assurances;
    apr_array_header_t *months;     /* "YYYY-MM" of the last 12 months, oldest first */
    apr_array_header_t *per_month;  /* int: assurances entered that month */
    apr_array_header_t *certs;      /* int: certificates issued that month */
} ca_wot_stats_t;

apr_status_t ca_wot_stats(ca_wot_stats_t *st, ca_db_t *db, apr_pool_t *p);

/* bars of a chart: heights scaled so that the largest value is height
 * (pure; *pmax = the largest value) */
void ca_wot_bars(int *heights, int *pmax, const int *values, int n, int height);

#endif
