/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Domain control (CPS 4.2.2 and 3.1.7; DESIGN.md "Domain control"): the
 * names members claim, the IDN rule, who may claim what, the record of the
 * checks, and what counts as verified under each root.
 *
 * The pure rules come first (no I/O, no clock); the storage functions after
 * them.  The probes themselves (DNS, HTTP, whois) live in ca_probe.h. */
#ifndef CA_DOMAIN_H
#define CA_DOMAIN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "ca_db.h"

extern const ca_stmt_t ca_domain_stmts[];

/* the methods of CPS 4.2.2 we implement, as a bit mask */
enum {
    CA_CHECK_EMAIL = 1,     /* email ping to a fixed mailbox or a whois address */
    CA_CHECK_DNS = 2,       /* the cookie in a DNS TXT record */
    CA_CHECK_HTTP = 4,      /* the cookie in a file on the web server */
    CA_CHECK_ALL = 7
};

/* "email", "dns", "http"; NULL for anything else */
const char *ca_check_method_name(unsigned method);
/* the bit of a method name, 0 if unknown */
unsigned ca_check_method_bit(const char *name);

/* what a server certificate under one root needs: need different methods
 * among those in methods */
typedef struct {
    const char *root;       /* "member", "assured", "class1", ... */
    int need;
    unsigned methods;
} ca_domain_rule_t;

typedef struct ca_domain_cfg_t {
    /* ca_domain_rule_t; rules not given take the defaults: one check for
     * member and class1, two different methods for every other root */
    const apr_array_header_t *rules;
    /* accepted IDN registrars: TLDs without the dot, in their ASCII form
     * (const char *); NULL: the list of CPS 3.1.7 */
    const apr_array_header_t *registrars;
    /* the Public Suffix List (a psl_ctx_t *); NULL: libpsl's built-in or
     * the system's list, see ca_domain_psl_load */
    const void *psl;
} ca_domain_cfg_t;

/* the rule for a root (a default one if the configuration has none) */
const ca_domain_rule_t *ca_domain_rule(const ca_domain_cfg_t *cfg, const char *root);
/* 1 if the methods passed (a mask) satisfy the rule */
int ca_domain_rule_met(const ca_domain_rule_t *rule, unsigned passed);
/* the directive's arguments: ROOT N [METHOD...]; NULL or what is wrong */
const char *ca_domain_rule_parse(ca_domain_rule_t *rule, int argc, char *const argv[],
                                 apr_pool_t *p);

/* the TLD list of CPS 3.1.7, NULL-terminated */
extern const char *const ca_idn_cps_registrars[];

/* load the Public Suffix List from the system (publicsuffix package), else
 * libpsl's built-in copy; NULL if neither exists.  Call once at start-up;
 * the result is read-only and may be shared by threads. */
const void *ca_domain_psl_load(void);
/* free what ca_domain_psl_load returned */
void ca_domain_psl_free(const void *psl);

/* CPS 3.1.7 on an ASCII (A-label) domain name: NULL if it has no xn--
 * label, or its TLD is on the registrar list (NULL: the CPS list), or every
 * label's code points come from one Unicode script (not Common or
 * Inherited), besides the digits 0-9 and the hyphen.  Else a message key:
 * "domain.idn.invalid" (not a valid IDNA2008 label), "domain.idn.mixed". */
const char *ca_idn_check(const char *ascii, const apr_array_header_t *registrars);

/* A domain a member may claim, from what was typed (len bytes, which may
 * hold NUL bytes).  On success NULL and *pname is the lower-case ASCII
 * (A-label) form; U-labels are converted.  Else a message key:
 * domain.required, domain.nul, domain.trailingdot, domain.ip,
 * domain.wildcard, domain.invalid, domain.label.toolong, domain.toolong,
 * domain.onelabel, domain.idn.invalid, domain.idn.mixed,
 * domain.publicsuffix. */
const char *ca_domain_name(const char **pname, const char *input, apr_size_t len,
                           const ca_domain_cfg_t *cfg, apr_pool_t *p);

/* 1 if name is domain or a name below it (at a label boundary); ASCII
 * case-insensitive */
int ca_domain_within(const char *name, const char *domain);

/* why name cannot be claimed while other (a live claim of another account)
 * exists: "domain.claimed.same", "domain.claimed.parent" (other is above
 * name), "domain.claimed.child" (other is below name); NULL if they are
 * unrelated */
const char *ca_domain_claim_rule(const char *name, const char *other);

/* the same for other, a live domain of an organisation (org_domains):
 * "domain.claimed.org", "domain.claimed.org.parent", "domain.claimed.org.child";
 * NULL if they are unrelated */
const char *ca_domain_org_claim_rule(const char *name, const char *other);

/* the fixed mailboxes of the email ping, NULL-terminated */
extern const char *const ca_domain_mailboxes[];
/* 1 if address may receive the ping for domain: a fixed mailbox at the
 * domain, or one of the whois-listed addresses (may be NULL) */
int ca_domain_mailbox_ok(const char *address, const char *domain,
                         const apr_array_header_t *whois);

/* ---- storage ---- */

typedef struct {
    const char *id, *name, *cookie, *created, *member_id;
    const char *retest_failed;          /* when a re-test failed, or "" */
    unsigned passed;                    /* methods whose latest check passed */
} ca_domain_t;

typedef struct {
    const char *id, *method, *kind, *result, *target, *detail, *at;
} ca_domain_check_t;

/* claim name (from ca_domain_name) for member_id.  APR_SUCCESS with *pid
 * set, or with *prefusal set to the claim rule that refuses it (nothing is
 * written) */
apr_status_t ca_domain_add(const char **pid, const char **prefusal, ca_db_t *db,
                           const char *member_id, const char *name, apr_pool_t *p);
/* the member gives the claim up; APR_NOTFOUND if it is not theirs */
apr_status_t ca_domain_remove(ca_db_t *db, const char *member_id, const char *domain_id,
                              apr_pool_t *p);
/* a member's live domains (ca_domain_t), oldest first */
apr_status_t ca_domain_list(apr_array_header_t **plist, ca_db_t *db, const char *member_id,
                            apr_pool_t *p);
/* host (a server certificate's name; "*." is left off) lies in one of
 * domains (ca_domain_t, a member's live domains) that has passed a check,
 * but none of those holding host satisfies rule: the most specific such
 * domain, whose page the member should go to for another, different check.
 * NULL when no domain holds host, when one holding it satisfies rule, or
 * when those holding it have passed no check yet.  Pure. */
const ca_domain_t *ca_domain_short_of(const apr_array_header_t *domains, const char *host,
                                      const ca_domain_rule_t *rule);
/* one live domain; member_id NULL: any member's (support); APR_NOTFOUND */
apr_status_t ca_domain_get(ca_domain_t **pd, ca_db_t *db, const char *domain_id,
                           const char *member_id, apr_pool_t *p);
/* every check of a domain (ca_domain_check_t), newest first, at most limit;
 * for the member's page and for support */
apr_status_t ca_domain_history(apr_array_header_t **pchecks, ca_db_t *db,
                               const char *domain_id, int limit, apr_pool_t *p);

/* record one check (method bit, "probe" or "retest", "passed"/"failed");
 * a passing probe clears the domain's re-test failure mark */
apr_status_t ca_domain_record(ca_db_t *db, const ca_domain_t *d, const char *member_id,
                              unsigned method, const char *kind, int passed,
                              const char *target, const char *detail, apr_pool_t *p);

/* the same inside the caller's transaction; kind may also be "acme" (a
 * challenge answered over ACME) */
apr_status_t ca_domain_record_tx(ca_db_t *db, const ca_domain_t *d, const char *member_id,
                                 unsigned method, const char *kind, int passed,
                                 const char *target, const char *detail, apr_pool_t *p);

/* a re-test of the domain ended: the failure mark is set (with an audit
 * entry) unless every method re-tested passed, which clears it */
apr_status_t ca_domain_retested(ca_db_t *db, const ca_domain_t *d, int all_passed,
                                apr_pool_t *p);

/* 1 in *pok if another probe is allowed: fewer than per_account probes by
 * member_id and fewer than per_domain probes of the name (by anyone) in
 * the last window */
apr_status_t ca_domain_rate_ok(int *pok, ca_db_t *db, const char *member_id,
                               const char *name, int per_account, int per_domain,
                               apr_interval_time_t window, apr_pool_t *p);

/* an email ping: records a "sent" check to address and a ping whose
 * cookie (*pcookie, to be mailed) lives lifetime */
apr_status_t ca_domain_ping_create(const char **pcookie, ca_db_t *db, const ca_domain_t *d,
                                   const char *member_id, const char *address,
                                   apr_interval_time_t lifetime, apr_pool_t *p);
/* the cookie came back: APR_SUCCESS records a "passed" email check and sets
 * *pname to the domain; APR_NOTFOUND for an unknown, used or expired cookie */
apr_status_t ca_domain_ping_confirm(const char **pname, ca_db_t *db, const char *cookie,
                                    apr_pool_t *p);

/* the member's domains (const char *, lower case) that satisfy the rule of
 * root under cfg (NULL: the defaults): what server certificates under that
 * root may name.  A domain whose re-test failed counts with the methods
 * that still pass. */
apr_status_t ca_domain_verified(apr_array_header_t **plist, ca_db_t *db,
                                const char *member_id, const char *root,
                                const ca_domain_cfg_t *cfg, apr_pool_t *p);

/* domains to re-test: a static method (dns, http) passed once, not
 * re-tested within interval; at most limit.  Here passed holds the static
 * methods that ever passed (those the re-test probes again). */
apr_status_t ca_domain_due(apr_array_header_t **plist, ca_db_t *db,
                           apr_interval_time_t interval, int limit, apr_pool_t *p);

#endif
