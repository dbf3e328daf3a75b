/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "ca_policy.h"
#include "ca_points.h"
#include "ca_valid.h"

int ca_points_total(const ca_standing_t *s)
{
    return ca_points_sum(s->received, s->given);
}

int ca_is_assurer(const ca_standing_t *s)
{
    return ca_points_assurer(s->received, s->challenge, s->blocked);
}

int ca_is_assured(const ca_standing_t *s)
{
    return ca_points_assured_member(s->received, s->assurers);
}

static int member_days(const ca_policy_cfg_t *cfg)
{
    return cfg->member_days > 0 ? cfg->member_days : CA_DAYS_MEMBER;
}

static int assured_days(const ca_policy_cfg_t *cfg)
{
    return cfg->assured_days > 0 ? cfg->assured_days : CA_DAYS_ASSURED;
}

void ca_policy_grant(ca_grant_t *g, const ca_standing_t *s, ca_profile_t profile,
                     const ca_policy_cfg_t *cfg)
{
    int points = ca_points_received(s->received);

    memset(g, 0, sizeof(*g));
    switch (profile) {
    case CA_PROFILE_CLIENT:
    case CA_PROFILE_SERVER:
        if (ca_is_assured(s)) {
            g->ca = "assured";
            g->days = assured_days(cfg);
            g->may_name = (profile == CA_PROFILE_CLIENT);
            g->may_wildcard = (profile == CA_PROFILE_SERVER);
            g->may_multi = 1;
        }
        else if (points >= 1) {
            g->ca = "member";
            g->days = member_days(cfg);
        }
        else if (cfg->class1_root) {
            g->ca = "class1";
            g->days = member_days(cfg);
        }
        else {
            g->refusal = "policy.needpoints";
        }
        break;
    case CA_PROFILE_CODESIGN:
        if (!ca_is_assurer(s)) {
            g->refusal = "policy.codesign.assurer";
        }
        else if (!s->codesign) {
            g->refusal = "policy.codesign.flag";
        }
        else {
            g->ca = "assured";
            g->days = assured_days(cfg);
            g->may_name = 1;
            g->may_multi = 1;
        }
        break;
    default:
        /* organisation certificates arrive with organisation assurance */
        g->refusal = "policy.profile";
        break;
    }
}

int ca_policy_md_ok(const char *md)
{
    return md && (!strcmp(md, "sha256") || !strcmp(md, "sha384") || !strcmp(md, "sha512"));
}

/* LDH host name of two or more labels, optionally "*." in front */
static int host_ok(const char *host)
{
    if (!host || strlen(host) > 253) {
        return 0;
    }
    if (!strncmp(host, "*.", 2)) {
        host += 2;
    }
    return ca_valid_ldh_domain(host, CA_LDH_ANY_TLD);
}

int ca_host_in_domains(const char **pdomain, const char *host,
                       const apr_array_header_t *domains)
{
    const char *h = host;
    apr_size_t hl;
    int i;

    *pdomain = NULL;
    if (!host_ok(host)) {
        return 0;
    }
    if (!strncmp(h, "*.", 2)) {
        h += 2;
    }
    hl = strlen(h);
    for (i = 0; domains && i < domains->nelts; i++) {
        const char *d = APR_ARRAY_IDX(domains, i, const char *);
        apr_size_t dl = strlen(d);
        /* the domain itself, or a name below it (a label boundary) */
        if ((hl == dl && !strcasecmp(h, d))
            || (hl > dl && h[hl - dl - 1] == '.' && !strcasecmp(h + hl - dl, d))) {
            *pdomain = d;
            return 1;
        }
    }
    return 1;
}

/* s (case-insensitively) among the first n strings of list */
static int in_first(const char *s, const apr_array_header_t *list, int n)
{
    int i;

    for (i = 0; list && i < n && i < list->nelts; i++) {
        if (!strcasecmp(s, APR_ARRAY_IDX(list, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

static int in_list(const char *s, const apr_array_header_t *list)
{
    return list && in_first(s, list, list->nelts);
}

/* the i-th string of list given before it too */
static int repeated(const apr_array_header_t *list, int i)
{
    return in_first(APR_ARRAY_IDX(list, i, const char *), list, i);
}

static void add_san(apr_array_header_t *sans, ca_san_type_t type, const char *value)
{
    ca_san_t *san = apr_array_push(sans);
    san->type = type;
    san->value = value;
}

/* a server certificate's host names: each in one of the domains (outside
 * them all: unverified), a wildcard only where the grant allows, none
 * twice, more than one only where the grant allows, at most 100; every
 * name a SAN, the first the CN too.  NULL or the message key. */
static const char *host_names(ca_cert_names_t *names, const apr_array_header_t *hosts,
                              const ca_grant_t *grant, const apr_array_header_t *domains,
                              const char *unverified, apr_pool_t *p)
{
    int i, n = hosts ? hosts->nelts : 0;

    if (n < 1) {
        return "policy.hosts.required";
    }
    if (n > 1 && !grant->may_multi) {
        return "policy.hosts.one";
    }
    if (n > 100) {
        return "policy.hosts.toomany";
    }
    for (i = 0; i < n; i++) {
        const char *h = APR_ARRAY_IDX(hosts, i, const char *), *dom;
        if (!ca_host_in_domains(&dom, h, domains)) {
            return "policy.host.invalid";
        }
        if (!dom) {
            return unverified;
        }
        if (!strncmp(h, "*.", 2) && !grant->may_wildcard) {
            return "policy.wildcard";
        }
        if (repeated(hosts, i)) {
            return "policy.duplicate";
        }
        add_san(names->sans, CA_SAN_DNS, apr_pstrdup(p, h));
    }
    names->cn = APR_ARRAY_IDX(hosts, 0, const char *);
    return NULL;
}

/* the domain part of an address lies in one of the domains */
static int email_in_domains(const char *email, const apr_array_header_t *domains)
{
    const char *at = strrchr(email, '@'), *dom;

    return at && ca_host_in_domains(&dom, at + 1, domains) && dom != NULL;
}

/* the addresses of a client, code-signing or organisation certificate:
 * each in the member's verified addresses (list), or for org valid and in
 * one of the organisation's domains (list), none twice; every one a SAN,
 * the first the certificate's address.  NULL or the message key. */
static const char *email_names(ca_cert_names_t *names, const apr_array_header_t *emails,
                               const apr_array_header_t *list, int org)
{
    int i;

    for (i = 0; i < emails->nelts; i++) {
        const char *e = APR_ARRAY_IDX(emails, i, const char *);
        if (!org && !in_list(e, list)) {
            return "policy.email.unverified";
        }
        if (org && ca_valid_email(e)) {
            return "policy.org.email";
        }
        if (org && !email_in_domains(e, list)) {
            return "policy.org.email.domain";
        }
        if (repeated(emails, i)) {
            return "policy.duplicate";
        }
        add_san(names->sans, CA_SAN_EMAIL, e);
    }
    names->email = APR_ARRAY_IDX(emails, 0, const char *);
    return NULL;
}

const char *ca_policy_names(ca_cert_names_t *names, const ca_grant_t *grant,
                            const ca_cert_choice_t *choice,
                            const ca_member_facts_t *facts, apr_pool_t *p)
{
    int nemails = choice->emails ? choice->emails->nelts : 0;
    int nhosts = choice->hosts ? choice->hosts->nelts : 0;
    const char *why;

    memset(names, 0, sizeof(*names));
    names->sans = apr_array_make(p, 4, sizeof(ca_san_t));
    if (!grant->ca) {
        return grant->refusal ? grant->refusal : "policy.profile";
    }
    if (!ca_policy_md_ok(choice->md)) {
        return "policy.md";
    }
    switch (choice->profile) {
    case CA_PROFILE_CLIENT:
    case CA_PROFILE_CODESIGN:
        if (nhosts) {
            return "policy.hosts.notallowed";
        }
        if (nemails < 1) {
            return "policy.emails.required";
        }
        if (nemails > 1 && !grant->may_multi) {
            return "policy.emails.one";
        }
        if ((why = email_names(names, choice->emails, facts->emails, 0))) {
            return why;
        }
        if (choice->profile == CA_PROFILE_CODESIGN || choice->use_name) {
            if (!grant->may_name) {
                return "policy.name.notassured";
            }
            if (!facts->name || !*facts->name) {
                return "policy.name.missing";
            }
            names->cn = facts->name;
        }
        else {
            names->cn = CA_ANON_CN;
        }
        break;
    case CA_PROFILE_SERVER:
        if (choice->use_name || nemails) {
            return "policy.server.names";
        }
        return host_names(names, choice->hosts, grant, facts->domains,
                          "policy.host.unverified", p);
    default:
        return "policy.profile";
    }
    return NULL;
}

/* ---- organisation certificates ---- */

void ca_policy_org_grant(ca_grant_t *g, ca_profile_t profile, const ca_policy_cfg_t *cfg)
{
    memset(g, 0, sizeof(*g));
    if (profile != CA_PROFILE_ORG_CLIENT && profile != CA_PROFILE_ORG_SERVER) {
        g->refusal = "policy.profile";
        return;
    }
    g->ca = "org";
    g->days = assured_days(cfg);
    g->may_name = profile == CA_PROFILE_ORG_CLIENT;
    g->may_wildcard = profile == CA_PROFILE_ORG_SERVER;
    g->may_multi = 1;
}

const char *ca_policy_org_names(ca_cert_names_t *names, const char *org[5],
                                const ca_grant_t *grant, const ca_org_choice_t *choice,
                                const ca_org_facts_t *facts, apr_pool_t *p)
{
    int i, nemails = choice->emails ? choice->emails->nelts : 0;
    int nhosts = choice->hosts ? choice->hosts->nelts : 0;
    const char *unit = choice->unit ? choice->unit : "";
    const char *cn = choice->cn ? choice->cn : "", *refusal;

    memset(names, 0, sizeof(*names));
    names->sans = apr_array_make(p, 4, sizeof(ca_san_t));
    for (i = 0; i < 5; i++) {
        org[i] = NULL;
    }
    if (!grant->ca) {
        return grant->refusal ? grant->refusal : "policy.profile";
    }
    if (!ca_policy_md_ok(choice->md)) {
        return "policy.md";
    }
    if (*unit && ca_valid_name(unit, 0, 64)) {
        return "policy.org.unit";
    }
    switch (choice->profile) {
    case CA_PROFILE_ORG_CLIENT:
        if (nhosts) {
            return "policy.hosts.notallowed";
        }
        if (nemails < 1) {
            return "policy.emails.required";
        }
        if (nemails > 10) {
            return "policy.hosts.toomany";
        }
        if ((refusal = email_names(names, choice->emails, facts->domains, 1))) {
            return refusal;
        }
        if (*cn && ca_valid_name(cn, 1, 64)) {
            return "policy.org.cn";
        }
        names->cn = *cn ? cn : names->email;
        break;
    case CA_PROFILE_ORG_SERVER:
        if (nemails || *cn) {
            return "policy.server.names";
        }
        if ((refusal = host_names(names, choice->hosts, grant, facts->domains,
                                  "policy.org.host.domain", p))) {
            return refusal;
        }
        break;
    default:
        return "policy.profile";
    }
    org[0] = facts->name;
    org[1] = *unit ? unit : NULL;
    org[2] = facts->town;
    org[3] = facts->state && *facts->state ? facts->state : NULL;
    org[4] = facts->country;
    return NULL;
}
