/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "ca_org.h"
#include "ca_account.h"
#include "ca_roles.h"
#include "ca_console.h"
#include "ca_domain.h"
#include "ca_form.h"
#include "ca_log.h"
#include "ca_valid.h"
#include "ca_wire.h"

#define TS(col) CA_SQL_TS(col)
#define ORG_COLUMNS \
    "SELECT o.id, o.name, o.town, o.state, o.country, o.contact_email, o.ticket," \
    " " TS("o.created_at") " AS created, o.created_by FROM organisations o"

const ca_stmt_t ca_org_stmts[] = {
    { "cacert_org_insert",
      "INSERT INTO organisations (name, town, state, country, contact_email, ticket, created_by)"
      " VALUES (%s, %s, %s, %s, %s, %s, %s::bigint)"
      " ON CONFLICT (lower(name), country) WHERE deleted_at IS NULL DO NOTHING RETURNING id" },
    { "cacert_org_all", ORG_COLUMNS " WHERE o.deleted_at IS NULL ORDER BY lower(o.name), o.id" },
    { "cacert_org_mine",
      ORG_COLUMNS " JOIN org_admins a ON a.organisation_id = o.id AND a.removed_at IS NULL"
      " WHERE a.member_id = %s::bigint AND o.deleted_at IS NULL ORDER BY lower(o.name), o.id" },
    { "cacert_org_get", ORG_COLUMNS " WHERE o.id = %s::bigint AND o.deleted_at IS NULL" },
    { "cacert_org_lock",
      "SELECT id FROM organisations WHERE id = %s::bigint AND deleted_at IS NULL FOR UPDATE" },
    { "cacert_org_domains",
      "SELECT id, name, " TS("verified_at") " AS verified, verified_by, ticket FROM org_domains"
      " WHERE organisation_id = %s::bigint AND removed_at IS NULL ORDER BY lower(name)" },
    { "cacert_org_admins",
      "SELECT a.member_id, concat_ws(' ', m.given_name, m.family_name) AS name,"
      " coalesce((SELECT e.address FROM emails e WHERE e.member_id = m.id AND e.is_primary"
      "  AND e.deleted_at IS NULL LIMIT 1), '') AS email,"
      " " TS("a.appointed_at") " AS appointed, a.appointed_by,"
      " a.is_master FROM org_admins a JOIN members m ON m.id = a.member_id"
      " WHERE a.organisation_id = %s::bigint AND a.removed_at IS NULL ORDER BY a.id" },
    { "cacert_org_documents",
      "SELECT kind, description, ticket, " TS("recorded_at") " AS recorded, recorded_by"
      " FROM organisation_documents WHERE organisation_id = %s::bigint ORDER BY id" },
    { "cacert_org_document_insert",
      "INSERT INTO organisation_documents (organisation_id, kind, description, ticket,"
      " recorded_by) VALUES (%s::bigint, %s, %s, %s, %s::bigint)" },
    /* a domain belongs to one account only: organisations and members; nor
     * may one account hold a name above or below another's (the rule of
     * ca_domain_claim_rule; the trigger of sql/009 checks again).  The
     * organisation's own domains count only with the same name.  Under
     * the claim lock of ca_domain_db.c (cacert_dom_lock). */
    { "cacert_org_domain_conflicts",
      "SELECT n FROM (SELECT lower(name) AS n FROM domains WHERE deleted_at IS NULL"
      " UNION ALL SELECT lower(name) FROM org_domains WHERE removed_at IS NULL"
      "  AND (organisation_id <> %s::bigint OR lower(name) = %s)) c"
      " WHERE n = %s OR right(%s, length(n) + 1) = '.' || n"
      "  OR right(n, length(%s) + 1) = '.' || %s"
      " ORDER BY length(n) LIMIT 1" },
    { "cacert_org_domain_insert",
      "INSERT INTO org_domains (organisation_id, name, ticket, verified_by)"
      " VALUES (%s::bigint, lower(%s), %s, %s::bigint) RETURNING id" },
    { "cacert_org_domain_remove",
      "UPDATE org_domains SET removed_at = now(), removed_by = %s::bigint"
      " WHERE id = %s::bigint AND organisation_id = %s::bigint AND removed_at IS NULL"
      " RETURNING name" },
    { "cacert_org_admin_of",
      "SELECT a.is_master FROM org_admins a JOIN organisations o ON o.id = a.organisation_id"
      " WHERE a.organisation_id = %s::bigint AND a.member_id = %s::bigint"
      " AND a.removed_at IS NULL AND o.deleted_at IS NULL" },
    { "cacert_org_member_live",
      "SELECT locked_at IS NULL AND deleted_at IS NULL AS live FROM members"
      " WHERE id = %s::bigint" },
    /* the O-Admin's row while an organisation certificate is requested: a
     * block or a lock waits for the request, or the request sees it */
    { "cacert_org_member_lock",
      "SELECT locked_at IS NULL AND deleted_at IS NULL AS live FROM members"
      " WHERE id = %s::bigint FOR SHARE" },
    { "cacert_org_admin_insert",
      "INSERT INTO org_admins (organisation_id, member_id, is_master, ticket, appointed_by)"
      " VALUES (%s::bigint, %s::bigint, %s::boolean, %s, %s::bigint)"
      " ON CONFLICT (organisation_id, member_id) WHERE removed_at IS NULL DO NOTHING"
      " RETURNING id" },
    { "cacert_org_admin_get",
      "SELECT is_master FROM org_admins WHERE organisation_id = %s::bigint"
      " AND member_id = %s::bigint AND removed_at IS NULL FOR UPDATE" },
    { "cacert_org_admin_remove",
      "UPDATE org_admins SET removed_at = now(), removed_by = %s::bigint"
      " WHERE organisation_id = %s::bigint AND member_id = %s::bigint AND removed_at IS NULL" },
    { "cacert_org_domain_names",
      "SELECT lower(name) AS name FROM org_domains WHERE organisation_id = %s::bigint"
      " AND removed_at IS NULL ORDER BY id" },
    { NULL, NULL }
};

/* ISO 3166-1 alpha-2, the officially assigned codes */
static const char countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP "
    "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ OM "
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
    "UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW ";

int ca_country_ok(const char *cc)
{
    const char *s;

    if (!cc || !apr_isupper(cc[0]) || !apr_isupper(cc[1]) || cc[2]) {
        return 0;
    }
    for (s = countries; *s; s += 3) {
        if (s[0] == cc[0] && s[1] == cc[1]) {
            return 1;
        }
    }
    return 0;
}

const char *ca_org_valid_domain(const char *name)
{
    if (!name || !*name || strlen(name) > 253 || !ca_valid_ldh_domain(name, CA_LDH_LOWER)) {
        return "org.domain.invalid";
    }
    return NULL;
}

const char *ca_org_check(const char **pfield, const ca_org_t *o)
{
    const char *e;

    *pfield = "name";
    if (!o->name || !*o->name || ca_utf8_len(o->name, strlen(o->name)) > 64) {
        return "org.name.invalid";
    }
    *pfield = "town";
    if (!o->town || !*o->town || ca_utf8_len(o->town, strlen(o->town)) > 128) {
        return "org.town.invalid";
    }
    *pfield = "state";
    if (o->state && ca_utf8_len(o->state, strlen(o->state)) > 128) {
        return "org.state.invalid";
    }
    *pfield = "country";
    if (!ca_country_ok(o->country)) {
        return "org.country.invalid";
    }
    *pfield = "contact";
    if (!o->contact || (e = ca_valid_email(o->contact))) {
        return "org.contact.invalid";
    }
    *pfield = NULL;
    return NULL;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* the audit entry, then commit; a refusal or failure rolls back */
static apr_status_t finish(apr_status_t rv, ca_db_t *db, const char *actor,
                           const char *member_id, const char *action, const char *detail,
                           apr_pool_t *p)
{
    if (rv == APR_SUCCESS) {
        rv = ca_audit_write(db, actor, member_id, action, detail, p);
    }
    if (rv != APR_SUCCESS) {
        ca_db_rollback(db, p);
        return rv;
    }
    if ((rv = ca_db_commit(db, p)) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA45301", rv, "organisation action %s did not commit", action);
    }
    return rv;
}

/* begin and lock the live organisation */
static apr_status_t org_begin(ca_db_t *db, const char *org_id, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    if (!ca_is_id(org_id)) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = ca_db_row(&row, db, "cacert_org_lock", CA_ARGS(org_id), p)) != APR_SUCCESS) {
        ca_db_rollback(db, p);
    }
    return rv;
}

apr_status_t ca_org_create(const char **porg_id, ca_db_t *db, const char *actor,
                           const ca_org_t *o, const char *ticket, apr_pool_t *p)
{
    apr_array_header_t *rows;
    const char *field;
    apr_status_t rv;

    *porg_id = NULL;
    if (ca_org_check(&field, o) || !ca_ticket_ok(ticket)) {
        return APR_EINVAL;
    }
    if ((rv = ca_db_begin(db, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_rows(&rows, db, "cacert_org_insert",
                      CA_ARGS(o->name, o->town, nz(o->state), o->country,
                              ca_email_canonical(o->contact, p), ticket, actor), p);
    if (rv == APR_SUCCESS && rows->nelts == 0) {
        rv = APR_EEXIST;
    }
    if (rv == APR_SUCCESS) {
        *porg_id = ca_col(APR_ARRAY_IDX(rows, 0, const ca_row_t *), "id");
    }
    rv = finish(rv, db, actor, NULL, "org.create",
                rv == APR_SUCCESS ? apr_pstrcat(p, "ticket=", ticket, " org=", *porg_id,
                                                " name=\"", o->name, "\" country=",
                                                o->country, NULL) : NULL, p);
    if (rv != APR_SUCCESS) {
        *porg_id = NULL;
    }
    return rv;
}

static const ca_col_map_t org_map[] = {
    CA_COLS(ca_org_t, id, name, town, state, country),
    CA_FIELD(STR, ca_org_t, contact, "contact_email"),
    CA_COLS(ca_org_t, ticket, created, created_by),
    { NULL }
};

apr_status_t ca_org_list(apr_array_header_t **porgs, ca_db_t *db, const char *member_id,
                         apr_pool_t *p)
{
    return member_id ? ca_db_fill(porgs, sizeof(ca_org_t), org_map, db, "cacert_org_mine",
                                  CA_ARGS(member_id), p)
                     : ca_db_fill(porgs, sizeof(ca_org_t), org_map, db, "cacert_org_all",
                                  CA_NOARGS, p);
}

static const ca_col_map_t domain_map[] = {
    CA_COLS(ca_org_domain_t, id, name, verified, verified_by, ticket),
    { NULL }
};

static const ca_col_map_t admin_map[] = {
    CA_COLS(ca_org_admin_t, member_id, name, email, appointed, appointed_by),
    CA_FIELD(TRUE, ca_org_admin_t, master, "is_master"),
    { NULL }
};

static const ca_col_map_t document_map[] = {
    CA_COLS(ca_org_document_t, kind, description, ticket, recorded, recorded_by),
    { NULL }
};

/* the lists of an organisation's view, each by its id */
static const ca_db_list_t view_lists[] = {
    CA_DB_LIST(ca_org_view_t, domains, ca_org_domain_t, domain_map, "cacert_org_domains"),
    CA_DB_LIST(ca_org_view_t, admins, ca_org_admin_t, admin_map, "cacert_org_admins"),
    CA_DB_LIST(ca_org_view_t, documents, ca_org_document_t, document_map, "cacert_org_documents"),
    { 0 }
};

apr_status_t ca_org_get(ca_org_view_t **pv, ca_db_t *db, const char *org_id, apr_pool_t *p)
{
    const ca_row_t *r;
    ca_org_view_t *v;
    apr_status_t rv;

    *pv = NULL;
    if (!ca_is_id(org_id)) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_row(&r, db, "cacert_org_get", CA_ARGS(org_id), p)) != APR_SUCCESS) {
        return rv;
    }
    v = apr_pcalloc(p, sizeof(*v));
    ca_row_fill(&v->org, r, org_map);
    if ((rv = ca_db_fill_lists(v, view_lists, db, CA_ARGS(org_id), p)) == APR_SUCCESS) {
        *pv = v;
    }
    return rv;
}

apr_status_t ca_org_document(ca_db_t *db, const char *actor, const char *org_id,
                             const char *kind, const char *description, const char *ticket,
                             apr_pool_t *p)
{
    apr_status_t rv;

    kind = nz(kind);
    description = nz(description);
    if (!*kind || ca_utf8_len(kind, strlen(kind)) > 100
        || ca_utf8_len(description, strlen(description)) > 2000
        || !ca_ticket_ok(ticket)) {
        return APR_EINVAL;
    }
    if ((rv = org_begin(db, org_id, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_query(NULL, db, "cacert_org_document_insert",
                     CA_ARGS(org_id, kind, description, ticket, actor), p);
    return finish(rv, db, actor, NULL, "org.document",
                  apr_pstrcat(p, "ticket=", ticket, " org=", org_id, " kind=\"", kind, "\"",
                              NULL), p);
}

apr_status_t ca_org_add_domain(const char **pwhy, ca_db_t *db, const char *actor,
                               const char *org_id, const char *input,
                               const ca_domain_cfg_t *dcfg, const char *ticket,
                               apr_pool_t *p)
{
    const ca_row_t *row;
    const char *name = NULL;
    apr_status_t rv;

    *pwhy = NULL;
    if (!ca_ticket_ok(ticket)) {
        *pwhy = "console.ticket.invalid";
        return APR_EINVAL;
    }
    /* the member side's rules: syntax, public suffixes, IDN */
    if ((*pwhy = ca_domain_name(&name, input ? input : "", input ? strlen(input) : 0, dcfg,
                                p))) {
        return APR_EINVAL;
    }
    if ((rv = org_begin(db, org_id, p)) != APR_SUCCESS) {
        return rv;
    }
    /* one claim at a time, members' and organisations' alike */
    rv = ca_db_row(&row, db, "cacert_dom_lock", CA_NOARGS, p);
    if (rv == APR_SUCCESS) {
        rv = ca_db_row(&row, db, "cacert_org_domain_conflicts",
                           CA_ARGS(org_id, name, name, name, name, name), p);
        if (rv == APR_SUCCESS) {
            *pwhy = ca_domain_claim_rule(name, ca_col(row, "n"));
            if (!*pwhy) {
                *pwhy = "domain.claimed.same";
            }
            rv = APR_EEXIST;
        }
        else if (rv == APR_NOTFOUND) {
            rv = ca_db_row(&row, db, "cacert_org_domain_insert",
                               CA_ARGS(org_id, name, ticket, actor), p);
        }
    }
    if (rv == APR_EEXIST) {
        ca_log(CA_LOG_INFO, "CA47001", 0, "organisation %s: domain %s refused (%s)", org_id,
               name, *pwhy);
    }
    return finish(rv, db, actor, NULL, "org.domain.add",
                  apr_pstrcat(p, "ticket=", ticket, " org=", org_id, " domain=", name, NULL),
                  p);
}

apr_status_t ca_org_remove_domain(ca_db_t *db, const char *actor, const char *org_id,
                                  const char *domain_id, const char *ticket, apr_pool_t *p)
{
    const ca_row_t *row = NULL;
    apr_status_t rv;

    if (!ca_ticket_ok(ticket)) {
        return APR_EINVAL;
    }
    if (!ca_is_id(domain_id)) {
        return APR_NOTFOUND;
    }
    if ((rv = org_begin(db, org_id, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_org_domain_remove", CA_ARGS(actor, domain_id, org_id),
                       p);
    return finish(rv, db, actor, NULL, "org.domain.remove",
                  rv == APR_SUCCESS ? apr_pstrcat(p, "ticket=", ticket, " org=", org_id,
                                                  " domain=", ca_col(row, "name"), NULL)
                                  : NULL, p);
}

apr_status_t ca_org_admin_of(int *padmin, int *pmaster, ca_db_t *db, const char *org_id,
                             const char *member_id, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    *padmin = *pmaster = 0;
    if (!ca_is_id(org_id) || !ca_is_id(member_id)) {
        return APR_SUCCESS;
    }
    rv = ca_db_row(&row, db, "cacert_org_admin_of", CA_ARGS(org_id, member_id), p);
    if (rv == APR_NOTFOUND) {
        return APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        *padmin = 1;
        *pmaster = ca_col_true(row, "is_master");
    }
    return rv;
}

/* may actor change the appointment of a (non-)master?  in the open
 * transaction */
static apr_status_t may_appoint(const char **pwhy, ca_db_t *db, const char *actor,
                                int org_assurer, const char *org_id, int master,
                                apr_pool_t *p)
{
    int admin, amaster;
    apr_status_t rv;

    if (org_assurer) {
        return APR_SUCCESS;
    }
    if ((rv = ca_org_admin_of(&admin, &amaster, db, org_id, actor, p)) != APR_SUCCESS) {
        return rv;
    }
    if (!amaster || master) {
        *pwhy = "org.admin.notmaster";
        return APR_EACCES;
    }
    return APR_SUCCESS;
}

/* every appointment and removal names a ticket, a master O-Admin's too
 * (checked after the authorisation, so that others learn nothing) */
static apr_status_t ticket_required(const char **pwhy, const char *ticket)
{
    if (ca_ticket_ok(ticket)) {
        return APR_SUCCESS;
    }
    *pwhy = *ticket ? "console.ticket.invalid" : "console.ticket.missing";
    return APR_EINVAL;
}

/* what appointing and removing an O-Admin check first: the ticket (an
 * organisation assurer must give one; anyone who gives one must give a
 * good one), the member's number */
static apr_status_t admin_args(const char **pwhy, const char **pticket, int org_assurer,
                               const char *member_id)
{
    *pwhy = NULL;
    *pticket = nz(*pticket);
    if ((org_assurer || **pticket) && !ca_ticket_ok(*pticket)) {
        *pwhy = "console.ticket.invalid";
        return APR_EINVAL;
    }
    return ca_is_id(member_id) ? APR_SUCCESS : APR_NOTFOUND;
}

apr_status_t ca_org_appoint(const char **pwhy, ca_db_t *db, const char *actor,
                            int org_assurer, const char *org_id, const char *member_id,
                            int master, const char *ticket, apr_pool_t *p)
{
    apr_array_header_t *rows;
    const ca_row_t *row;
    ca_standing_t st;
    apr_status_t rv;

    if ((rv = admin_args(pwhy, &ticket, org_assurer, member_id)) != APR_SUCCESS) {
        return rv;
    }
    if (actor && !strcmp(actor, member_id)) {
        *pwhy = "org.admin.self";
        return APR_EACCES;
    }
    if ((rv = org_begin(db, org_id, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = may_appoint(pwhy, db, actor, org_assurer, org_id, master, p)) != APR_SUCCESS
        || (rv = ticket_required(pwhy, ticket)) != APR_SUCCESS) {
        ca_db_rollback(db, p);
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_org_member_live", CA_ARGS(member_id), p);
    if (rv == APR_SUCCESS && !ca_col_true(row, "live")) {
        rv = APR_NOTFOUND;
    }
    if (rv == APR_SUCCESS) {
        rv = ca_account_standing(&st, db, member_id, p);
    }
    if (rv == APR_SUCCESS && !ca_is_assurer(&st)) {
        *pwhy = "org.admin.notassurer";
        rv = APR_EINVAL;
    }
    if (rv == APR_SUCCESS) {
        rv = ca_db_rows(&rows, db, "cacert_org_admin_insert",
                          CA_ARGS(org_id, member_id, master ? "true" : "false", ticket, actor),
                          p);
        if (rv == APR_SUCCESS && rows->nelts == 0) {
            *pwhy = "org.admin.exists";
            rv = APR_EEXIST;
        }
    }
    return finish(rv, db, actor, member_id, "org.admin.appoint",
                  apr_pstrcat(p, "ticket=", ticket, " org=", org_id, " master=",
                              master ? "yes" : "no", NULL), p);
}

apr_status_t ca_org_remove_admin(const char **pwhy, ca_db_t *db, const char *actor,
                                 int org_assurer, const char *org_id, const char *member_id,
                                 const char *ticket, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    if ((rv = admin_args(pwhy, &ticket, org_assurer, member_id)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = org_begin(db, org_id, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_org_admin_get", CA_ARGS(org_id, member_id), p);
    if (rv == APR_SUCCESS) {
        rv = may_appoint(pwhy, db, actor, org_assurer, org_id, ca_col_true(row, "is_master"),
                         p);
    }
    if (rv == APR_SUCCESS) {
        rv = ticket_required(pwhy, ticket);
    }
    if (rv == APR_SUCCESS) {
        rv = ca_db_query(NULL, db, "cacert_org_admin_remove", CA_ARGS(actor, org_id, member_id),
                         p);
    }
    return finish(rv, db, actor, member_id, "org.admin.remove",
                  apr_pstrcat(p, "ticket=", ticket, " org=", org_id, NULL), p);
}

apr_status_t ca_org_facts(ca_org_facts_t *f, ca_db_t *db, const char *org_id,
                          apr_pool_t *p)
{
    apr_array_header_t *rows, *domains;
    const ca_row_t *r;
    apr_status_t rv;
    int i;

    memset(f, 0, sizeof(*f));
    if (!ca_is_id(org_id)) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_row(&r, db, "cacert_org_get", CA_ARGS(org_id), p)) != APR_SUCCESS
        || (rv = ca_db_rows(&rows, db, "cacert_org_domain_names", CA_ARGS(org_id), p))
        != APR_SUCCESS) {
        return rv;
    }
    f->name = ca_col(r, "name");
    f->town = ca_col(r, "town");
    f->state = ca_col(r, "state");
    f->country = ca_col(r, "country");
    domains = apr_array_make(p, rows->nelts + 1, sizeof(const char *));
    for (i = 0; i < rows->nelts; i++) {
        APR_ARRAY_PUSH(domains, const char *) = ca_col(APR_ARRAY_IDX(rows, i, const ca_row_t *),
                                                       "name");
    }
    f->domains = domains;
    return APR_SUCCESS;
}

apr_status_t ca_org_requester_check(ca_db_t *db, const char *org_id, const char *member_id,
                                    apr_pool_t *p)
{
    const ca_row_t *row;
    ca_standing_t st;
    apr_status_t rv;
    int admin, master;

    if (!ca_is_id(org_id)) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_row(&row, db, "cacert_org_lock", CA_ARGS(org_id), p)) != APR_SUCCESS) {
        return rv;
    }
    rv = ca_db_row(&row, db, "cacert_org_member_lock", CA_ARGS(member_id), p);
    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && !ca_col_true(row, "live"))) {
        return APR_EACCES;
    }
    if (rv != APR_SUCCESS
        || (rv = ca_org_admin_of(&admin, &master, db, org_id, member_id, p)) != APR_SUCCESS) {
        return rv;
    }
    if (!admin) {
        return APR_EACCES;
    }
    if ((rv = ca_account_standing(&st, db, member_id, p)) != APR_SUCCESS) {
        return rv;
    }
    if (!ca_is_assurer(&st)) {
        ca_log(CA_LOG_INFO, "CA47002", 0, "member %s: no organisation certificate for "
               "organisation %s, no longer an Assurer", member_id, org_id);
        return APR_EACCES;
    }
    return APR_SUCCESS;
}
