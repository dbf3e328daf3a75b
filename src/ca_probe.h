/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The probes of domain control (CPS 4.2.2): the cookie in a DNS TXT record
 * (ldns, at the configured resolver), the cookie in a file on the domain's
 * web server (libcurl; the name resolved through that same resolver), and
 * the whois client (RFC 3912, APR sockets) with its response parser.
 *
 * What the outside world answers is a result, not an error: every probe
 * returns APR_SUCCESS with *res filled in (passed, or the message key of
 * what went wrong), and an error only when it could not run at all. */
#ifndef CA_PROBE_H
#define CA_PROBE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* where the member publishes the cookies */
#define CA_PROBE_DNS_LABEL  "_cacert"
#define CA_PROBE_HTTP_PATH  "/.well-known/cacert-domain.txt"

typedef struct {
    const char *resolver;           /* IP address of the DNS resolver; NULL:
                                     * /etc/resolv.conf */
    int resolver_port;              /* 0: 53 */
    const char *whois_server;       /* host name or address; NULL: no whois */
    int whois_port;                 /* 0: 43 */
    apr_interval_time_t timeout;    /* each probe's whole time */
    apr_size_t max_size;            /* of an HTTP body and a whois answer */
    const char *http_scheme;        /* "http" or "https" */
    int http_port;                  /* 0: the scheme's port */
    int allow_private;              /* HTTP to private/loopback addresses */
    int max_redirects;
} ca_probe_cfg_t;

/* defaults: resolv.conf, no whois, 10 s, 64 KiB, http on port 80, public
 * addresses only, 3 redirects */
void ca_probe_cfg_default(ca_probe_cfg_t *cfg);

typedef struct {
    int passed;
    const char *detail;     /* NULL when passed, else a message key */
    const char *target;     /* what was asked: DNS name, URL, server */
} ca_probe_result_t;

/* once per process, before threads: libcurl's global state */
apr_status_t ca_probe_global_init(void);

/* DNS: a TXT record at _cacert.<domain> whose text is the cookie */
apr_status_t ca_probe_dns(ca_probe_result_t *res, const char *domain, const char *cookie,
                          const ca_probe_cfg_t *cfg, apr_pool_t *p);

/* HTTP: <scheme>://<domain>[:port]/.well-known/cacert-domain.txt holds the
 * cookie (white space around it is ignored).  The host is resolved through
 * the configured resolver and curl connects to that address; redirects are
 * followed only to the domain or names below it, on the same scheme and
 * port, with the same checks. */
apr_status_t ca_probe_http(ca_probe_result_t *res, const char *domain, const char *cookie,
                           const ca_probe_cfg_t *cfg, apr_pool_t *p);
/* the same probes at another place: the TXT records of owner (a full
 * name, e.g. "_acme-challenge.example.org"), and the file at path (from
 * "/") on domain's web server, redirects staying within domain; for ACME
 * (ca_acme.c) */
apr_status_t ca_probe_txt(ca_probe_result_t *res, const char *owner, const char *cookie,
                          const ca_probe_cfg_t *cfg, apr_pool_t *p);
apr_status_t ca_probe_http_path(ca_probe_result_t *res, const char *domain, const char *path,
                                const char *cookie, const ca_probe_cfg_t *cfg, apr_pool_t *p);

/* A and AAAA records of host at the configured resolver (const char *
 * addresses as text); *perr a message key when there are none */
apr_status_t ca_probe_resolve(apr_array_header_t **paddrs, const char **perr,
                              const char *host, const ca_probe_cfg_t *cfg, apr_pool_t *p);

/* 1 if the address (text) is a public unicast one: not loopback, private,
 * link-local, CGNAT, multicast, documentation or unspecified */
int ca_addr_is_public(const char *addr);

/* whois: ask the configured server about domain (following one referral
 * on the same port) and return the addresses listed in the answer.
 * *perr is a message key when the answer could not be had (no server
 * configured, unreachable, timeout, too large). */
apr_status_t ca_whois_lookup(apr_array_header_t **paddrs, const char **perr,
                             const char *domain, const ca_probe_cfg_t *cfg, apr_pool_t *p);

/* ---- the whois answer parser (pure; fuzzed) ---- */

/* the email addresses in the registrant, admin and tech contacts' email
 * fields of a whois answer ("Registrant Email:", "Admin Email:", "Tech
 * Contact E-Mail:"; const char *, domain part in lower case, each valid per
 * ca_valid_email, no duplicates, at most 16).  Nothing else is taken:
 * comments (% or #), generic "e-mail:" fields, and no line that mentions
 * abuse or the registrar */
void ca_whois_emails(apr_array_header_t **paddrs, const char *text, apr_size_t len,
                     apr_pool_t *p);
/* the whois server an answer refers to ("refer:", "whois:", "Registrar
 * WHOIS Server:"), a valid host name or NULL */
const char *ca_whois_referral(const char *text, apr_size_t len, apr_pool_t *p);

#endif
