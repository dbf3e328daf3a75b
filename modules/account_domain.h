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
 *  - its command table (account_config.c) expands ACCOUNT_DOMAIN_CMDS;
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

/* the domain directives of one server ("unset": -1 or NULL) */
typedef struct {
    apr_array_header_t *rules;          /* ca_domain_rule_t */
    apr_array_header_t *registrars;     /* const char *; NULL: CPS list */
    const char *resolver;
    int resolver_port;
    const char *whois;
    int whois_port;
    apr_interval_time_t timeout;
    int max_size;
    const char *http_scheme;
    int http_port;
    int allow_private;
    int per_account, per_domain;
    apr_interval_time_t window;
    apr_interval_time_t ping_lifetime;
    apr_interval_time_t retest_interval;
    int retest_batch;

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

/* the directives' functions, for ACCOUNT_DOMAIN_CMDS */
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

#define ACCOUNT_DOMAIN_OFF(f) (void *)APR_OFFSETOF(account_domain_cfg_t, f)

/* the entries of mod_cacert_account's command table for domain control */
#define ACCOUNT_DOMAIN_CMDS \
    AP_INIT_TAKE_ARGV("CAcertDomainChecks", account_domain_set_rule, NULL, RSRC_CONF, \
                      "ROOT N [METHOD...]: a server certificate under ROOT needs N different " \
                      "passed checks among the METHODs (email, dns, http; default all)"), \
    AP_INIT_TAKE_ARGV("CAcertIDNRegistrars", account_domain_set_registrars, NULL, RSRC_CONF, \
                      "top-level domains whose registrars prevent homographs (CPS 3.1.7; " \
                      "default the CPS list), or none"), \
    AP_INIT_TAKE1("CAcertDomainResolver", account_domain_set_resolver, NULL, RSRC_CONF, \
                  "IP address[:port] of the DNS resolver the probes ask (default: " \
                  "/etc/resolv.conf)"), \
    AP_INIT_TAKE1("CAcertWhoisServer", account_domain_set_whois, NULL, RSRC_CONF, \
                  "whois server host[:port] for the addresses of the email ping " \
                  "(default: none)"), \
    AP_INIT_TAKE1("CAcertDomainProbeTimeout", account_domain_set_time, \
                  ACCOUNT_DOMAIN_OFF(timeout), RSRC_CONF, \
                  "the whole time one probe may take (default 10s)"), \
    AP_INIT_TAKE1("CAcertDomainProbeMaxSize", account_domain_set_int, \
                  ACCOUNT_DOMAIN_OFF(max_size), RSRC_CONF, \
                  "bytes read at most from a web server or whois server (default 65536)"), \
    AP_INIT_TAKE1("CAcertDomainHTTPScheme", account_domain_set_scheme, NULL, RSRC_CONF, \
                  "http or https for the file check (default http)"), \
    AP_INIT_TAKE1("CAcertDomainHTTPPort", account_domain_set_port, \
                  ACCOUNT_DOMAIN_OFF(http_port), RSRC_CONF, \
                  "port of the file check (default: the scheme's)"), \
    AP_INIT_FLAG("CAcertDomainProbePrivateAddresses", account_domain_set_flag, \
                 ACCOUNT_DOMAIN_OFF(allow_private), RSRC_CONF, \
                 "let the file check connect to loopback and private addresses " \
                 "(test set-ups only; default off)"), \
    AP_INIT_TAKE1("CAcertDomainProbesPerAccount", account_domain_set_int, \
                  ACCOUNT_DOMAIN_OFF(per_account), RSRC_CONF, \
                  "probes one account may start per window (default 30)"), \
    AP_INIT_TAKE1("CAcertDomainProbesPerDomain", account_domain_set_int, \
                  ACCOUNT_DOMAIN_OFF(per_domain), RSRC_CONF, \
                  "probes of one domain per window, by anyone (default 10)"), \
    AP_INIT_TAKE1("CAcertDomainProbeWindow", account_domain_set_time, \
                  ACCOUNT_DOMAIN_OFF(window), RSRC_CONF, \
                  "the window of the probe limits (default 1h)"), \
    AP_INIT_TAKE1("CAcertDomainPingLifetime", account_domain_set_time, \
                  ACCOUNT_DOMAIN_OFF(ping_lifetime), RSRC_CONF, \
                  "how long the link of a domain's email ping works (default 48h)"), \
    AP_INIT_TAKE1("CAcertDomainRetestInterval", account_domain_set_time, \
                  ACCOUNT_DOMAIN_OFF(retest_interval), RSRC_CONF, \
                  "re-test the DNS and file cookies of verified domains this often " \
                  "(default 7d)"), \
    AP_INIT_TAKE1("CAcertDomainRetestBatch", account_domain_set_int, \
                  ACCOUNT_DOMAIN_OFF(retest_batch), RSRC_CONF, \
                  "domains re-tested at most per round of the watchdog (default 20)")

#endif
