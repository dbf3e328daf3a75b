/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Organisation assurance: Organisation Assurers create organisations,
 * record the documents they saw, add the organisation's domains and appoint
 * its administrators (O-Admins, who must be Assurers); a master O-Admin
 * appoints further O-Admins; O-Admins request organisation certificates
 * (docs/organisations.md).  Each change is one transaction with an audit
 * entry.
 *
 * Statuses: APR_NOTFOUND no such (live) organisation, member or domain;
 * APR_EEXIST taken already (name, domain, appointment); APR_EACCES the actor
 * may not do this (not a master O-Admin, appointing oneself); APR_EINVAL
 * bad input, with *pwhy a message key where the function has one. */
#ifndef CA_ORG_H
#define CA_ORG_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "ca_db.h"
#include "ca_csr.h"
#include "ca_policy.h"

extern const ca_stmt_t ca_org_stmts[];

/* an assigned ISO 3166-1 alpha-2 code ("DE", "NL"; not "UK", not "de") */
int ca_country_ok(const char *cc);
/* a domain name an organisation may hold: lower-case LDH labels, at least
 * two, an alphabetic or xn-- top-level label, at most 253 characters;
 * NULL or a message key */
const char *ca_org_valid_domain(const char *name);

typedef struct {
    const char *id, *name, *town, *state, *country, *contact;
    const char *ticket, *created, *created_by;
} ca_org_t;

/* the fields of a new organisation; NULL or a message key, *pfield the
 * form field it concerns */
const char *ca_org_check(const char **pfield, const ca_org_t *o);

typedef struct {
    const char *id, *name, *verified, *verified_by, *ticket;
} ca_org_domain_t;

typedef struct {
    const char *member_id, *name, *email, *appointed, *appointed_by;
    int master;
} ca_org_admin_t;

typedef struct {
    const char *kind, *description, *ticket, *recorded, *recorded_by;
} ca_org_document_t;

typedef struct {
    ca_org_t org;
    apr_array_header_t *domains;        /* ca_org_domain_t, live ones */
    apr_array_header_t *admins;         /* ca_org_admin_t, live ones */
    apr_array_header_t *documents;      /* ca_org_document_t */
} ca_org_view_t;

apr_status_t ca_org_create(const char **porg_id, ca_db_t *db, const char *actor,
                           const ca_org_t *o, const char *ticket, apr_pool_t *p);
/* live organisations: all (member_id NULL) or those member_id administers
 * (array of ca_org_t) */
apr_status_t ca_org_list(apr_array_header_t **porgs, ca_db_t *db, const char *member_id,
                         apr_pool_t *p);
apr_status_t ca_org_get(ca_org_view_t **pv, ca_db_t *db, const char *org_id, apr_pool_t *p);

apr_status_t ca_org_document(ca_db_t *db, const char *actor, const char *org_id,
                             const char *kind, const char *description, const char *ticket,
                             apr_pool_t *p);
struct ca_domain_cfg_t;
/* add a domain to an organisation: the name as typed goes through the
 * member side's ca_domain_name (public suffixes, IDN; dcfg NULL: the
 * defaults) and the claim rule of ca_domain_claim_rule against every live
 * member domain and every other organisation's domain.  APR_EINVAL or
 * APR_EEXIST with *pwhy the message key */
apr_status_t ca_org_add_domain(const char **pwhy, ca_db_t *db, const char *actor,
                               const char *org_id, const char *input,
                               const struct ca_domain_cfg_t *dcfg, const char *ticket,
                               apr_pool_t *p);
apr_status_t ca_org_remove_domain(ca_db_t *db, const char *actor, const char *org_id,
                                  const char *domain_id, const char *ticket, apr_pool_t *p);

/* is member_id a live O-Admin of a live organisation (and a master)? */
apr_status_t ca_org_admin_of(int *padmin, int *pmaster, ca_db_t *db, const char *org_id,
                             const char *member_id, apr_pool_t *p);
/* appoint member_id: an Organisation Assurer (org_assurer=1) appoints any
 * Assurer, as master or not; a master O-Admin appoints non-master O-Admins
 * (ticket may be empty then).  *pwhy on refusal: "org.admin.notassurer",
 * "org.admin.self", "org.admin.notmaster", "org.admin.exists" */
apr_status_t ca_org_appoint(const char **pwhy, ca_db_t *db, const char *actor,
                            int org_assurer, const char *org_id, const char *member_id,
                            int master, const char *ticket, apr_pool_t *p);
/* the same rules: a master removes non-masters, an Organisation Assurer anyone */
apr_status_t ca_org_remove_admin(const char **pwhy, ca_db_t *db, const char *actor,
                                 int org_assurer, const char *org_id, const char *member_id,
                                 const char *ticket, apr_pool_t *p);

/* ---- organisation certificates ---- */

/* the organisation as its certificates name it */
apr_status_t ca_org_facts(ca_org_facts_t *f, ca_db_t *db, const char *org_id,
                          apr_pool_t *p);
/* in the caller's transaction: the organisation's row locked (APR_NOTFOUND
 * when it is gone), and the member still a live O-Admin of it and still
 * an Assurer (APR_EACCES otherwise) -- who may request its certificates */
apr_status_t ca_org_requester_check(ca_db_t *db, const char *org_id, const char *member_id,
                                    apr_pool_t *p);

#endif
