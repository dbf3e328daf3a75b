/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Pages of mod_cacert_assure (mod_cacert_assure.h): the member's
 * overview and points, the CAP form, the Assurers' listing, "find an
 * Assurer" and its contact relay, the public statistics. */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include "ca_account.h"
#include "ca_policy.h"
#include "ca_valid.h"
#include "ca_wot.h"
#include "mod_cacert_assure.h"

APLOG_USE_MODULE(cacert_assure);

/* /wot/: the member's points and what to do next */
static int page_overview(assure_req_t *q)
{
    assure_standing_vars(q);
    return assure_render(q, "wot.html", HTTP_OK);
}

/* what a standing grants, as template items "grants" */
static void grant_items(assure_req_t *q, const char *list, const ca_standing_t *st)
{
    static const ca_profile_t profiles[] = { CA_PROFILE_CLIENT, CA_PROFILE_SERVER,
                                             CA_PROFILE_CODESIGN };
    ca_policy_cfg_t pc = { 0, 0, 0 };   /* the core's default validities */
    apr_pool_t *p = q->r->pool;
    int i;

    for (i = 0; i < 3; i++) {
        ca_grant_t g;
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, list);
        ca_standing_t s = *st;
        /* the code-signing flag is an administrator's decision: shown as
         * possible when everything else is there */
        s.codesign = 1;
        ca_policy_grant(&g, &s, profiles[i], &pc);
        assure_set_msg(q, "label", apr_pstrcat(p, "profile.", ca_profile_name(profiles[i]),
                                               NULL));
        ca_tmpl_set(item, "label", ca_tmpl_get(q->pg->ctx, "label"));
        if (g.ca) {
            ca_tmpl_set(item, "ca", g.ca);
            if (g.may_name) ca_tmpl_set(item, "may_name", "1");
            if (g.may_wildcard) ca_tmpl_set(item, "may_wildcard", "1");
            if (g.may_multi) ca_tmpl_set(item, "may_multi", "1");
            if (!strcmp(g.ca, "assured")) ca_tmpl_set(item, "long", "1");
        }
        else {
            ca_tmpl_set(item, "refused", "1");
        }
    }
    ca_tmpl_set(q->pg->ctx, "label", NULL);
}

static const cacert_var_t line_vars[] = {
    CACERT_VAR(STR, ca_wot_line_t, date), CACERT_VAR(STR, ca_wot_line_t, other),
    CACERT_VAR(INT, ca_wot_line_t, points), CACERT_VAR(STR, ca_wot_line_t, location),
    CACERT_VAR(STR, ca_wot_line_t, ttp), { NULL }
};

/* the rows first to last of lines as items of list */
static void line_items(assure_req_t *q, const char *list, const apr_array_header_t *lines,
                       int first, int last)
{
    /* the text of each method looked up once (a list has one or two) */
    const char *methods[8], *texts[8];
    int i, k, nm = 0;

    for (i = first; i < last; i++) {
        const ca_wot_line_t *l = &APR_ARRAY_IDX(lines, i, ca_wot_line_t);
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, list);
        const char *text = NULL;

        cacert_tmpl_vars_ref(item, l, line_vars);
        for (k = 0; k < nm && !text; k++) {
            if (!strcmp(methods[k], l->method)) {
                text = texts[k];
            }
        }
        if (!text) {
            assure_set_msg(q, "method_text", apr_pstrcat(q->r->pool, "wot.method.", l->method,
                                                         NULL));
            text = ca_tmpl_get(q->pg->ctx, "method_text");
            if (nm < 8) {
                methods[nm] = l->method;
                texts[nm++] = text;
            }
        }
        ca_tmpl_set_ref(item, "method", text);
    }
    ca_tmpl_set(q->pg->ctx, "method_text", NULL);
}

/* the points lists this child read last (ca_listcache) */
static ca_listcache_t *points_cache;

/* rows of a points list on one page: a busy Assurer gives thousands of
 * assurances (a row is about 110 bytes; the templates stop at 1 MiB) */
#define POINTS_PAGE 1000

/* one page of a points list with its pager, the page's number in the
 * argument arg; -1 for a page that does not exist */
static int line_page(assure_req_t *q, const char *list, const char *pager,
                     const apr_array_header_t *lines, const char *arg)
{
    int first, last;

    if (cacert_list_page(&first, &last, q->pg->ctx, pager,
                         apr_pstrcat(q->r->pool, "?", arg, "=", NULL), assure_arg(q, arg),
                         lines->nelts, POINTS_PAGE, q->r->pool)
        != 0) {
        return -1;
    }
    line_items(q, list, lines, first, last);
    return 0;
}

/* /wot/points: assurances received and given, what the points allow */
static int page_points(assure_req_t *q)
{
    const apr_array_header_t *received, *given;
    ca_standing_t next = q->standing;
    apr_status_t rv;

    if ((rv = ca_wot_lines(&received, &given, points_cache, q->pg->db, q->member_id,
                           q->pg->sess->lists_v, q->r->pool))
        != APR_SUCCESS) {
        return assure_internal_error(q, rv, "assurance list");
    }
    if (line_page(q, "received_list", "received_pager", received, "rp") != 0
        || line_page(q, "given_list", "given_pager", given, "gp") != 0) {
        return assure_message(q, "title.points", "err.nopage", HTTP_NOT_FOUND);
    }
    assure_standing_vars(q);
    grant_items(q, "grants", &q->standing);
    /* the next level: Assured Member, then Assurer */
    if (!ca_is_assured(&q->standing)) {
        next.received = CA_POINTS_ASSURED > next.received ? CA_POINTS_ASSURED : next.received;
        next.assurers = CA_POINTS_ASSURED_BY;
        ca_tmpl_set(q->pg->ctx, "next_assured", "1");
        grant_items(q, "next_grants", &next);
    }
    else if (!ca_is_assurer(&q->standing) && !q->standing.blocked) {
        next.received = CA_POINTS_ASSURER > next.received ? CA_POINTS_ASSURER : next.received;
        next.challenge = 1;
        ca_tmpl_set(q->pg->ctx, "next_assurer", "1");
        grant_items(q, "next_grants", &next);
    }
    if (assure_arg(q, "done")) {
        assure_set_msg(q, "notice", "ok.wot.assured");
    }
    return assure_render(q, "points.html", HTTP_OK);
}

/* /wot/cap: the CAP form to print, filled in with the member's data */
static int page_cap(assure_req_t *q)
{
    static const cacert_var_t vars[] = {
        CACERT_VAR(STR, ca_session_t, given), CACERT_VAR(STR, ca_session_t, middle),
        CACERT_VAR(STR, ca_session_t, family), CACERT_VAR(STR, ca_session_t, suffix),
        CACERT_VAR(STR, ca_session_t, dob), { NULL }
    };
    apr_status_t rv;

    if ((rv = assure_primary_email(q, q->pg->ctx, "email", q->r->pool)) != APR_SUCCESS) {
        return assure_internal_error(q, rv, "addresses");
    }
    cacert_tmpl_vars(q->pg->ctx, q->pg->sess, vars);
    ca_tmpl_set(q->pg->ctx, "today", assure_today(q->r->pool));
    return assure_render(q, "cap.html", HTTP_OK);
}

/* ---- find an Assurer ---- */

/* /wot/listing: an Assurer opts in or out of the listing */
static int page_listing(assure_req_t *q)
{
    ca_wot_listing_t l;
    const char *err;
    apr_status_t rv;
    int ok = 1;

    if (q->r->method_number != M_POST) {
        rv = ca_wot_listing_get(&l, q->pg->db, q->member_id, q->r->pool);
        if (rv == APR_SUCCESS) {
            ca_tmpl_set(q->pg->ctx, "v_country", l.country);
            ca_tmpl_set(q->pg->ctx, "v_town", l.town);
            ca_tmpl_set(q->pg->ctx, "v_languages", l.languages);
            if (l.listed) {
                ca_tmpl_set(q->pg->ctx, "listed", "1");
            }
        }
        else if (rv != APR_NOTFOUND) {
            return assure_internal_error(q, rv, "listing");
        }
        if (assure_arg(q, "saved")) {
            assure_set_msg(q, "notice", "ok.wot.listing");
        }
        return assure_render(q, "listing.html", HTTP_OK);
    }
    memset(&l, 0, sizeof(l));
    l.listed = !strcmp(assure_form(q, "listed"), "yes");
    l.country = assure_trimmed(q, "country");
    l.town = assure_trimmed(q, "town");
    l.languages = assure_trimmed(q, "languages");
    if ((err = ca_wot_check_country(l.country))) {
        assure_field_error(q, "country", err);
        ok = 0;
    }
    if ((err = ca_wot_check_text(l.town, 100))) {
        assure_field_error(q, "town", err);
        ok = 0;
    }
    if (strlen(l.languages) > 100) {
        assure_field_error(q, "languages", "wot.text.toolong");
        ok = 0;
    }
    if (!ok) {
        assure_keep_values(q);
        if (l.listed) {
            ca_tmpl_set(q->pg->ctx, "listed", "1");
        }
        return assure_render(q, "listing.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if ((rv = ca_wot_listing_set(q->pg->db, q->member_id, &l, q->r->pool)) != APR_SUCCESS) {
        return assure_internal_error(q, rv, "listing");
    }
    return assure_redirect(q, "listing?saved=1");
}

static const cacert_var_t found_vars[] = {
    CACERT_VAR_AS("id", STR, ca_wot_found_t, member_id), CACERT_VAR(STR, ca_wot_found_t, name),
    CACERT_VAR(STR, ca_wot_found_t, town), CACERT_VAR(STR, ca_wot_found_t, country),
    CACERT_VAR(STR, ca_wot_found_t, languages), { NULL }
};

/* /wot/find: members look for Assurers by country and town */
static int page_find(assure_req_t *q)
{
    const char *country = assure_arg(q, "country"), *town = assure_arg(q, "town");
    apr_array_header_t *found;
    apr_status_t rv;

    if (!country) {
        return assure_render(q, "find.html", HTTP_OK);
    }
    town = town ? ca_trim(town, q->r->pool) : "";
    ca_tmpl_set(q->pg->ctx, "v_country", country);
    ca_tmpl_set(q->pg->ctx, "v_town", town);
    if (ca_wot_check_country(country) || strlen(town) > 100) {
        assure_field_error(q, "country", "wot.country.invalid");
        return assure_render(q, "find.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    if ((rv = ca_wot_find(&found, q->pg->db, country, town, q->r->pool)) != APR_SUCCESS) {
        return assure_internal_error(q, rv, "find");
    }
    ca_tmpl_set(q->pg->ctx, "searched", "1");
    cacert_tmpl_items(q->pg->ctx, "found", found, found_vars);
    return assure_render(q, "find.html", HTTP_OK);
}

typedef struct {
    assure_req_t *q;
    const char *message;
} contact_baton_t;

static apr_status_t contact_send(void *baton, const ca_wot_contact_t *to, apr_pool_t *p)
{
    contact_baton_t *b = baton;
    assure_req_t *q = b->q;
    ca_tmpl_ctx_t *ctx = ca_tmpl_ctx_make(NULL, p);
    apr_status_t rv;

    if ((rv = assure_primary_email(q, ctx, "sender_email", p)) != APR_SUCCESS) {
        return rv;
    }
    ca_tmpl_set(ctx, "assurer", to->given);
    ca_tmpl_set(ctx, "sender", apr_pstrcat(p, q->pg->sess->given, " ", q->pg->sess->family,
                                           NULL));
    ca_tmpl_set(ctx, "message", b->message);
    return assure_mail(q, to->lang, "mail/contact.txt", ctx, to->email);
}

/* /wot/contact?id=N: a message to a listed Assurer, relayed by mail */
static int page_contact(assure_req_t *q)
{
    const char *id = q->r->method_number == M_POST ? assure_form(q, "id")
                                                    : assure_arg(q, "id");
    const char *message, *refusal;
    contact_baton_t b;
    apr_status_t rv;

    if (!id || !ca_is_id(id)) {
        return assure_message(q, "title.notfound", "wot.contact.unknown", HTTP_NOT_FOUND);
    }
    ca_tmpl_set(q->pg->ctx, "v_id", id);
    if (q->r->method_number != M_POST) {
        return assure_render(q, "contact.html", HTTP_OK);
    }
    message = ca_trim(assure_form(q, "message"), q->r->pool);
    if (ca_wot_check_text(message, 4000)) {
        assure_keep_values(q);
        assure_field_error(q, "message", ca_wot_check_text(message, 4000));
        return assure_render(q, "contact.html", HTTP_UNPROCESSABLE_ENTITY);
    }
    b.q = q;
    b.message = message;
    rv = ca_wot_contact(&refusal, q->pg->db, q->member_id, id, assure_contact_limit(q->cfg),
                        assure_contact_window(q->cfg), contact_send, &b, q->r->pool);
    if (rv != APR_SUCCESS) {
        return assure_internal_error(q, rv, "contact relay");
    }
    if (refusal) {
        assure_keep_values(q);
        assure_set_msg(q, "error", refusal);
        return assure_render(q, "contact.html", !strcmp(refusal, "wot.contact.limit")
                                                ? HTTP_TOO_MANY_REQUESTS
                                                : HTTP_UNPROCESSABLE_ENTITY);
    }
    return assure_message(q, "title.contact", "ok.wot.contact", HTTP_OK);
}

/* ---- statistics ---- */

#define CHART_HEIGHT 120
#define BAR_STEP 40

/* The statistics a process counted last: aggregates over every member and
 * assurance are the one expensive query of the module, and public figures
 * a few minutes old are as good (CAcertStatsCacheTime). */
#define STATS_MONTHS 12
typedef struct {
    const server_rec *server;           /* counted for this virtual host */
    apr_time_t at;                      /* 0: nothing counted yet */
    apr_int64_t for_secs;
    int members, assured, assurers, assurances, n;
    char months[STATS_MONTHS][8];
    int per_month[STATS_MONTHS], certs[STATS_MONTHS];
} stats_cache_t;

/* one per virtual host: a host whose DBDParams name a standby counts
 * there, and its figures stay its own (docs/scaling.md) */
#define STATS_HOSTS 4
static stats_cache_t stats_cache[STATS_HOSTS];
static apr_thread_mutex_t *stats_mutex;

/* under stats_mutex: the host's slot, else the one counted longest ago */
static stats_cache_t *stats_slot(const server_rec *s)
{
    int i, oldest = 0;

    for (i = 0; i < STATS_HOSTS; i++) {
        if (stats_cache[i].server == s) {
            return &stats_cache[i];
        }
        if (stats_cache[i].at < stats_cache[oldest].at) {
            oldest = i;
        }
    }
    return &stats_cache[oldest];
}

static apr_status_t stats_get(stats_cache_t *out, assure_req_t *q)
{
    apr_int64_t secs = assure_stats_cache(q->cfg);
    apr_time_t now = apr_time_now();
    ca_wot_stats_t st;
    apr_status_t rv;
    int i;

    if (secs > 0 && stats_mutex) {
        apr_thread_mutex_lock(stats_mutex);
        *out = *stats_slot(q->r->server);
        apr_thread_mutex_unlock(stats_mutex);
        if (out->server == q->r->server && out->at && out->for_secs == secs && now >= out->at
            && now - out->at < apr_time_from_sec(secs)) {
            return APR_SUCCESS;
        }
    }
    if ((rv = ca_wot_stats(&st, q->pg->db, q->r->pool)) != APR_SUCCESS) {
        return rv;
    }
    memset(out, 0, sizeof(*out));
    out->server = q->r->server;
    out->at = now;
    out->for_secs = secs;
    out->members = st.members;
    out->assured = st.assured;
    out->assurers = st.assurers;
    out->assurances = st.assurances;
    for (i = 0; i < st.months->nelts && i < STATS_MONTHS; i++) {
        apr_cpystrn(out->months[i], APR_ARRAY_IDX(st.months, i, const char *),
                    sizeof(out->months[i]));
        out->per_month[i] = APR_ARRAY_IDX(st.per_month, i, int);
        out->certs[i] = APR_ARRAY_IDX(st.certs, i, int);
    }
    out->n = i;
    if (secs > 0 && stats_mutex) {
        apr_thread_mutex_lock(stats_mutex);
        *stats_slot(q->r->server) = *out;
        apr_thread_mutex_unlock(stats_mutex);
    }
    return APR_SUCCESS;
}

static void chart(assure_req_t *q, const char *list, const stats_cache_t *st,
                  const int *values)
{
    int heights[STATS_MONTHS], i, max;

    ca_wot_bars(heights, &max, values, st->n, CHART_HEIGHT);
    ca_tmpl_setf(q->pg->ctx, apr_pstrcat(q->r->pool, list, "_max", NULL), "%d", max);
    for (i = 0; i < st->n; i++) {
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, list);
        ca_tmpl_set(item, "month", apr_pstrdup(q->r->pool, st->months[i]));
        ca_tmpl_set(item, "label", apr_pstrdup(q->r->pool, st->months[i] + 5));  /* "MM" */
        ca_tmpl_setf(item, "n", "%d", values[i]);
        ca_tmpl_setf(item, "x", "%d", 10 + i * BAR_STEP);
        ca_tmpl_setf(item, "tx", "%d", 10 + i * BAR_STEP + 15);
        ca_tmpl_setf(item, "y", "%d", 10 + CHART_HEIGHT - heights[i]);
        ca_tmpl_setf(item, "h", "%d", heights[i]);
    }
}

/* /wot/stats: public figures, no personal data */
static int page_stats(assure_req_t *q)
{
    stats_cache_t st;
    apr_status_t rv;
    int i;

    if ((rv = stats_get(&st, q)) != APR_SUCCESS) {
        return assure_internal_error(q, rv, "statistics");
    }
    ca_tmpl_setf(q->pg->ctx, "members", "%d", st.members);
    ca_tmpl_setf(q->pg->ctx, "assured", "%d", st.assured);
    ca_tmpl_setf(q->pg->ctx, "assurers", "%d", st.assurers);
    ca_tmpl_setf(q->pg->ctx, "assurances", "%d", st.assurances);
    chart(q, "assurance_bars", &st, st.per_month);
    chart(q, "cert_bars", &st, st.certs);
    for (i = 0; i < st.n; i++) {
        ca_tmpl_ctx_t *item = ca_tmpl_add_item(q->pg->ctx, "month_rows");
        ca_tmpl_set(item, "month", apr_pstrdup(q->r->pool, st.months[i]));
        ca_tmpl_setf(item, "assurances", "%d", st.per_month[i]);
        ca_tmpl_setf(item, "certs", "%d", st.certs[i]);
    }
    /* no public caching: the page carries the session's CSRF token like
     * every page (no-store, from the page's headers); the figures are
     * cached in the server instead (CAcertStatsCacheTime) */
    return assure_render(q, "stats.html", HTTP_OK);
}

void assure_wot_child_init(apr_pool_t *pchild)
{
    apr_thread_mutex_create(&stats_mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
    ca_listcache_make(&points_cache, CACERT_LIST_CACHE, pchild);
}

static const char *const contact_text[] = { "message", NULL };

const cacert_route_t assure_wot_routes[] = {
    ASSURE_ROUTE("",        CACERT_GET,               ASSURE_MEMBER,  0, NULL, page_overview),
    ASSURE_ROUTE("points",  CACERT_GET,               ASSURE_MEMBER,  0, NULL, page_points),
    ASSURE_ROUTE("cap",     CACERT_GET,               ASSURE_MEMBER,  0, NULL, page_cap),
    ASSURE_ROUTE("listing", CACERT_GET | CACERT_POST, ASSURE_ASSURER, 0, NULL, page_listing),
    ASSURE_ROUTE("find",    CACERT_GET,               ASSURE_MEMBER,  0, NULL, page_find),
    ASSURE_ROUTE("contact", CACERT_GET | CACERT_POST, ASSURE_MEMBER,  0, contact_text,
                 page_contact),
    ASSURE_ROUTE("stats",   CACERT_GET,               ASSURE_ANON,    0, NULL, page_stats),
    { NULL }
};
