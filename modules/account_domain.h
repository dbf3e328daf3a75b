/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Domain control inside mod_cacert_account (CPS 4.2.2, 3.1.7; DESIGN.md
 * "Domain control"): the /domains pages, the probes the member starts, the
 * email ping's answer and the re-test watchdog live in
 * modules/account_domain.c (its directives in account_domain_config.c), linked into mod_cacert_account.so together with
 * the probe library (src/libcacert_probe.la: ldns, libcurl).  The logic is
 * in the core (src/ca_domain*.c, src/ca_probe.c, src/ca_whois.c).
 *
 * THE CONTRACT with the rest of the module (account_private.h)
 *  - its server configuration holds an account_domain_cfg_t *, made by
 *    account_domain_create_cfg and merged by account_domain_merge_cfg, and
 *    handed out by account_domain_cfg_of (defined in account_config.c);
 *  - its command table (account_config.c) expands ACCOUNT_DOMAIN_SETTINGS;
 *  - its register_hooks calls account_domain_register_hooks;
 *  - its dispatcher serves account_domain_routes (handler cacert-domain). */
#ifndef ACCOUNT_DOMAIN_H
#define ACCOUNT_DOMAIN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include <httpd.h>
#include <http_config.h>

#include "ca_domain.h"
#include "ca_probe.h"

/* nothing here is exported from mod_cacert_account.so (httpd loads the
 * modules into one global symbol table) */
#pragma GCC visibility push(hidden)

/* every domain setting, a line each (cacert_glue.h): the field, its
 * default, the directive that sets it and its help; the setters are
 * account_domain_config.c's */
#define ACCOUNT_DOMAIN_SETTINGS(S, t) \
    S(t, ARR, rules, ca_domain_rule_t, TAKE_ARGV, "CAcertDomainChecks", account_domain_set_rule, "ROOT N [METHOD...]: a server certificate under ROOT needs N different passed checks among the METHODs (email, dns, http; default all)") \
    S(t, LIST, registrars, NULL, TAKE_ARGV, "CAcertIDNRegistrars", account_domain_set_registrars, "top-level domains whose registrars prevent homographs (CPS 3.1.7; default the CPS list), or none") \
    S(t, STR, resolver, NULL, TAKE1, "CAcertDomainResolver", account_domain_set_resolver, "IP address[:port] of the DNS resolver the probes ask (default: /etc/resolv.conf)") \
    S(t, INT, resolver_port, 0, NONE, -, -, "the resolver's port, set by CAcertDomainResolver") \
    S(t, STR, whois, NULL, TAKE1, "CAcertWhoisServer", account_domain_set_whois, "whois server host[:port] for the addresses of the email ping (default: none)") \
    S(t, INT, whois_port, 0, NONE, -, -, "the whois server's port, set by CAcertWhoisServer") \
    S(t, TIME, timeout, apr_time_from_sec(10), TAKE1, "CAcertDomainProbeTimeout", account_domain_set_time, "the whole time one probe may take (default 10s)") \
    S(t, INT, max_size, 65536, TAKE1, "CAcertDomainProbeMaxSize", account_domain_set_int, "bytes read at most from a web server or whois server (default 65536)") \
    S(t, STR, http_scheme, "http", TAKE1, "CAcertDomainHTTPScheme", account_domain_set_scheme, "http or https for the file check (default http)") \
    S(t, INT, http_port, 0, TAKE1, "CAcertDomainHTTPPort", account_domain_set_port, "port of the file check (default: the scheme's)") \
    S(t, INT, allow_private, 0, FLAG, "CAcertDomainProbePrivateAddresses", account_domain_set_flag, "let the file check connect to loopback and private addresses (test set-ups only; default off)") \
    S(t, INT, per_account, 30, TAKE1, "CAcertDomainProbesPerAccount", account_domain_set_int, "probes one account may start per window (default 30)") \
    S(t, INT, per_domain, 10, TAKE1, "CAcertDomainProbesPerDomain", account_domain_set_int, "probes of one domain per window, by anyone (default 10)") \
    S(t, TIME, window, apr_time_from_sec(3600), TAKE1, "CAcertDomainProbeWindow", account_domain_set_time, "the window of the probe limits (default 1h)") \
    S(t, TIME, ping_lifetime, apr_time_from_sec(48 * 3600), TAKE1, "CAcertDomainPingLifetime", account_domain_set_time, "how long the link of a domain's email ping works (default 48h)") \
    S(t, TIME, retest_interval, apr_time_from_sec(7 * 86400), TAKE1, "CAcertDomainRetestInterval", account_domain_set_time, "re-test the DNS and file cookies of verified domains this often (default 7d)") \
    S(t, INT, retest_batch, 20, TAKE1, "CAcertDomainRetestBatch", account_domain_set_int, "domains re-tested at most per round of the watchdog (default 20)")

/* the domain settings of one server ("unset": -1 or NULL) */
typedef struct {
    CACERT_SETTINGS_FIELDS(ACCOUNT_DOMAIN_SETTINGS)

    /* filled in post_config */
    ca_domain_cfg_t dom;
    ca_probe_cfg_t probe;
} account_domain_cfg_t;

account_domain_cfg_t *account_domain_create_cfg(apr_pool_t *p);
account_domain_cfg_t *account_domain_merge_cfg(apr_pool_t *p,
                                               const account_domain_cfg_t *base,
                                               const account_domain_cfg_t *add);
/* the domain configuration of server s (account_config.c) */
account_domain_cfg_t *account_domain_cfg_of(server_rec *s);

void account_domain_register_hooks(apr_pool_t *p);

/* the directives' functions, for ACCOUNT_DOMAIN_SETTINGS */
const char *account_domain_set_rule(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
const char *account_domain_set_registrars(cmd_parms *cmd, void *dc, int argc,
                                          char *const argv[]);
const char *account_domain_set_resolver(cmd_parms *cmd, void *dc, const char *arg);
const char *account_domain_set_whois(cmd_parms *cmd, void *dc, const char *arg);
const char *account_domain_set_time(cmd_parms *cmd, void *dc, const char *arg);
const char *account_domain_set_int(cmd_parms *cmd, void *dc, const char *arg);
const char *account_domain_set_scheme(cmd_parms *cmd, void *dc, const char *arg);
const char *account_domain_set_port(cmd_parms *cmd, void *dc, const char *arg);
const char *account_domain_set_flag(cmd_parms *cmd, void *dc, int on);

#pragma GCC visibility pop

#endif
