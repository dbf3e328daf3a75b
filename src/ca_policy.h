/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* What a member may get (DESIGN.md "What a member may get"; CPS 1.4.5,
 * 3.2.2, 4.2.3-4.2.6, 7.1).  Pure functions: no I/O, no clock. */
#ifndef CA_POLICY_H
#define CA_POLICY_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "ca_x509.h"

#define CA_ANON_CN "CAcert WoT Member"

/* a member's standing, read from the assurance records and flags */
typedef struct {
    int received;       /* live assurance points received */
    int given;          /* live assurances given (each worth 2 experience points) */
    int challenge;      /* passed the Assurer Challenge */
    int blocked;        /* blocked as Assurer */
    int codesign;       /* the code-signing flag set by an administrator */
    int assurers;       /* different members who gave the received points */
} ca_standing_t;

/* The points engine (ca_points.h) applied to a standing -- the one
 * definition every module uses. */
/* min(received, 100) + min(2 * given, 50): at most 150 */
int ca_points_total(const ca_standing_t *s);
/* >= 100 points received, challenge passed, not blocked */
int ca_is_assurer(const ca_standing_t *s);
/* Assured Member: >= 50 points received from >= 2 different assurers */
int ca_is_assured(const ca_standing_t *s);

/* the validities unless the operator sets others (CPS 6.3.2) */
#define CA_DAYS_MEMBER 183      /* Member SubRoot: 6 months */
#define CA_DAYS_ASSURED 730     /* Assured SubRoot: 24 months */

typedef struct {
    int class1_root;        /* the operator still runs a legacy Class 1 root */
    int member_days;        /* validity under the Member SubRoot; 0: CA_DAYS_MEMBER */
    int assured_days;       /* validity under the Assured SubRoot; 0: CA_DAYS_ASSURED */
} ca_policy_cfg_t;

/* what one profile grants a member */
typedef struct {
    const char *ca;         /* issuing CA ("class1", "member", "assured"); NULL: refused */
    const char *refusal;    /* message key when refused */
    int days;               /* validity */
    int may_name;           /* the assured Name may go in the CN */
    int may_wildcard;       /* "*.domain" server names */
    int may_multi;          /* more than one address / host name */
} ca_grant_t;

void ca_policy_grant(ca_grant_t *g, const ca_standing_t *s, ca_profile_t profile,
                     const ca_policy_cfg_t *cfg);

/* the hash algorithms offered; sha256 is the default */
int ca_policy_md_ok(const char *md);

/* what the member asks for on the form */
typedef struct {
    ca_profile_t profile;
    int use_name;                       /* client/code signing: Name in the CN */
    const apr_array_header_t *emails;   /* addresses chosen (const char *) */
    const apr_array_header_t *hosts;    /* host names typed (const char *) */
    const char *md;
} ca_cert_choice_t;

/* what the member has proved */
typedef struct {
    const char *name;                       /* the member's full Name */
    const apr_array_header_t *emails;       /* verified addresses (const char *) */
    const apr_array_header_t *domains;      /* verified domains (const char *) */
} ca_member_facts_t;

/* the names that go into the certificate */
typedef struct {
    const char *cn;
    const char *email;                  /* subject emailAddress or NULL */
    apr_array_header_t *sans;           /* of ca_san_t */
} ca_cert_names_t;

/* Decide the names of a certificate from the grant, the choice and the
 * facts.  NULL when acceptable (with *names filled), else a message key:
 * an address or host the member has not verified, a wildcard or a second
 * name without entitlement, a Name without assurance, ... */
const char *ca_policy_names(ca_cert_names_t *names, const ca_grant_t *grant,
                            const ca_cert_choice_t *choice,
                            const ca_member_facts_t *facts, apr_pool_t *p);

/* 1 if host is a syntactically valid host name (LDH labels, or "*." and
 * such a name), and *pdomain is set to the verified domain it lies in */
int ca_host_in_domains(const char **pdomain, const char *host,
                       const apr_array_header_t *domains);

/* ---- organisation certificates (CPS 7.1.2; docs/organisations.md) ---- */

/* the organisation as its certificates name it */
typedef struct {
    const char *name, *town, *state, *country;  /* O, L, ST, C */
    const apr_array_header_t *domains;          /* its live domains (const char *) */
} ca_org_facts_t;

/* what the O-Admin asks for */
typedef struct {
    ca_profile_t profile;                       /* CA_PROFILE_ORG_CLIENT / _SERVER */
    const char *unit;                           /* OU, "" for none */
    const char *cn;                             /* client: a person's or a role's
                                                 * name, "" for the first address */
    const apr_array_header_t *emails;           /* client (const char *) */
    const apr_array_header_t *hosts;            /* server (const char *) */
    const char *md;
} ca_org_choice_t;

/* the Organisation SubRoot ("org"), 24 months, wildcards for servers,
 * several names */
void ca_policy_org_grant(ca_grant_t *g, ca_profile_t profile, const ca_policy_cfg_t *cfg);
/* the names and the organisation fields (O, OU, L, ST, C) of an
 * organisation certificate: addresses and hosts must lie in the
 * organisation's domains; NULL or a message key */
const char *ca_policy_org_names(ca_cert_names_t *names, const char *org[5],
                                const ca_grant_t *grant, const ca_org_choice_t *choice,
                                const ca_org_facts_t *facts, apr_pool_t *p);

#endif
