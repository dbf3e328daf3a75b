/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_network_io.h>

#include <curl/curl.h>
#include <ldns/ldns.h>

#include "ca_probe.h"
#include "ca_domain.h"
#include "ca_valid.h"
#include "ca_log.h"

void ca_probe_cfg_default(ca_probe_cfg_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->timeout = apr_time_from_sec(10);
    cfg->max_size = 64 * 1024;
    cfg->http_scheme = "http";
    cfg->max_redirects = 3;
}

apr_status_t ca_probe_global_init(void)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

    if (rc != CURLE_OK) {
        ca_log(CA_LOG_ERR, "CA80201", APR_EGENERAL, "libcurl: %s", curl_easy_strerror(rc));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static void fail(ca_probe_result_t *res, const char *detail)
{
    res->passed = 0;
    res->detail = detail;
}

/* ---- DNS ---- */

/* the probe's whole time from now */
static apr_time_t probe_deadline(const ca_probe_cfg_t *cfg)
{
    return apr_time_now() + (cfg->timeout > 0 ? cfg->timeout : apr_time_from_sec(10));
}

/* what is left until deadline for the next question: 0 when nothing is */
static int resolver_left(ldns_resolver *r, apr_time_t deadline)
{
    apr_interval_time_t t = deadline - apr_time_now();
    struct timeval tv;

    if (t <= 0) {
        return 0;
    }
    tv.tv_sec = (time_t)apr_time_sec(t);
    tv.tv_usec = (suseconds_t)apr_time_usec(t);
    ldns_resolver_set_timeout(r, tv);
    return 1;
}

static apr_status_t resolver_make(ldns_resolver **pr, const ca_probe_cfg_t *cfg)
{
    ldns_resolver *r = NULL;

    *pr = NULL;
    if (cfg->resolver) {
        ldns_rdf *ns = ldns_rdf_new_frm_str(strchr(cfg->resolver, ':') ? LDNS_RDF_TYPE_AAAA
                                                                      : LDNS_RDF_TYPE_A,
                                            cfg->resolver);
        if (!ns || !(r = ldns_resolver_new())) {
            ldns_rdf_deep_free(ns);
            ca_log(CA_LOG_ERR, "CA80202", APR_EINVAL, "DNS resolver address %s",
                   cfg->resolver);
            return APR_EINVAL;
        }
        if (ldns_resolver_push_nameserver(r, ns) != LDNS_STATUS_OK) {
            ldns_rdf_deep_free(ns);
            ldns_resolver_deep_free(r);
            return APR_EGENERAL;
        }
        ldns_rdf_deep_free(ns);
        ldns_resolver_set_port(r, (uint16_t)(cfg->resolver_port ? cfg->resolver_port : 53));
    }
    else if (ldns_resolver_new_frm_file(&r, NULL) != LDNS_STATUS_OK) {
        ca_log(CA_LOG_ERR, "CA80203", APR_EGENERAL, "cannot read /etc/resolv.conf");
        return APR_EGENERAL;
    }
    /* one try, within the probe's time (resolver_left before each
     * question); never the search list */
    ldns_resolver_set_retry(r, 1);
    ldns_resolver_set_retrans(r, 1);
    ldns_resolver_set_defnames(r, false);
    ldns_resolver_set_dnsrch(r, false);
    ldns_resolver_set_dnssec(r, false);
    ldns_resolver_set_recursive(r, true);
    ldns_resolver_set_random(r, false);
    *pr = r;
    return APR_SUCCESS;
}

/* ask for name/type; the answer packet or a message key */
static ldns_pkt *dns_ask(const char **perr, ldns_resolver *r, ldns_rdf *qname, ldns_rr_type type)
{
    ldns_pkt *pkt = NULL;
    ldns_rr_list *q;
    ldns_status st;

    *perr = NULL;
    st = ldns_resolver_query_status(&pkt, r, qname, type, LDNS_RR_CLASS_IN, LDNS_RD);
    if (st != LDNS_STATUS_OK || !pkt) {
        ldns_pkt_free(pkt);
        *perr = st == LDNS_STATUS_NETWORK_ERR || st == LDNS_STATUS_RES_NO_NS
                ? "probe.dns.timeout" : "probe.dns.garbage";
        return NULL;
    }
    /* an answer to another question is no answer */
    q = ldns_pkt_question(pkt);
    if (!ldns_pkt_qr(pkt) || !q || ldns_rr_list_rr_count(q) != 1
        || ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(q, 0)), qname) != 0
        || ldns_rr_get_type(ldns_rr_list_rr(q, 0)) != type) {
        ldns_pkt_free(pkt);
        *perr = "probe.dns.garbage";
        return NULL;
    }
    if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN) {
        ldns_pkt_free(pkt);
        *perr = "probe.dns.norecord";
        return NULL;
    }
    if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR) {
        ldns_pkt_free(pkt);
        *perr = "probe.dns.error";
        return NULL;
    }
    return pkt;
}

apr_status_t ca_probe_dns(ca_probe_result_t *res, const char *domain, const char *cookie,
                          const ca_probe_cfg_t *cfg, apr_pool_t *p)
{
    return ca_probe_txt(res, apr_pstrcat(p, CA_PROBE_DNS_LABEL ".", domain, NULL), cookie,
                        cfg, p);
}

apr_status_t ca_probe_txt(ca_probe_result_t *res, const char *owner, const char *cookie,
                          const ca_probe_cfg_t *cfg, apr_pool_t *p)
{
    const char *name = apr_pstrcat(p, owner, ".", NULL), *err;
    ldns_resolver *r = NULL;
    ldns_rdf *qname = NULL;
    ldns_pkt *pkt = NULL;
    ldns_rr_list *txt = NULL;
    apr_status_t rv;
    size_t i, j;

    memset(res, 0, sizeof(*res));
    res->target = apr_pstrcat(p, owner, " TXT", NULL);
    fail(res, "probe.dns.norecord");
    if ((rv = resolver_make(&r, cfg)) != APR_SUCCESS) {
        goto leave;
    }
    if (!(qname = ldns_dname_new_frm_str(name))) {
        fail(res, "probe.dns.garbage");
        goto leave;
    }
    if (!resolver_left(r, probe_deadline(cfg))) {
        fail(res, "probe.dns.timeout");
        goto leave;
    }
    if (!(pkt = dns_ask(&err, r, qname, LDNS_RR_TYPE_TXT))) {
        fail(res, err);
        goto leave;
    }
    txt = ldns_pkt_rr_list_by_name_and_type(pkt, qname, LDNS_RR_TYPE_TXT,
                                            LDNS_SECTION_ANSWER);
    for (i = 0; txt && i < ldns_rr_list_rr_count(txt); i++) {
        ldns_rr *rr = ldns_rr_list_rr(txt, i);
        apr_array_header_t *text = apr_array_make(p, 64, 1);
        for (j = 0; j < ldns_rr_rd_count(rr); j++) {
            ldns_rdf *f = ldns_rr_rdf(rr, j);
            const uint8_t *d = ldns_rdf_data(f);
            size_t n = ldns_rdf_size(f);
            if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_STR && n >= 1 && (size_t)d[0] + 1 <= n) {
                for (n = 0; n < d[0]; n++) {
                    *(char *)apr_array_push(text) = (char)d[1 + n];
                }
            }
        }
        *(char *)apr_array_push(text) = '\0';
        if (strlen(text->elts) == (apr_size_t)text->nelts - 1
            && !strcmp(ca_trim(text->elts, p), cookie)) {
            res->passed = 1;
            res->detail = NULL;
            goto leave;
        }
        fail(res, "probe.dns.mismatch");
    }

leave:
    ldns_rr_list_deep_free(txt);
    ldns_pkt_free(pkt);
    ldns_rdf_deep_free(qname);
    if (r) {
        ldns_resolver_deep_free(r);
    }
    return rv;
}

/* ca_probe_resolve by a deadline: no question is asked after it, and
 * none waits beyond it */
static apr_status_t resolve_by(apr_array_header_t **paddrs, const char **perr,
                               const char *host, apr_time_t deadline,
                               const ca_probe_cfg_t *cfg, apr_pool_t *p)
{
    static const ldns_rr_type types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA };
    ldns_resolver *r = NULL;
    ldns_rdf *qname = NULL;
    apr_status_t rv;
    const char *err = NULL;
    size_t t, i;

    *paddrs = apr_array_make(p, 4, sizeof(const char *));
    *perr = NULL;
    if ((rv = resolver_make(&r, cfg)) != APR_SUCCESS) {
        goto leave;
    }
    if (!(qname = ldns_dname_new_frm_str(apr_pstrcat(p, host, ".", NULL)))) {
        *perr = "probe.dns.garbage";
        goto leave;
    }
    for (t = 0; t < 2; t++) {
        ldns_pkt *pkt;
        ldns_rr_list *rrs;
        if (!resolver_left(r, deadline)) {
            (*paddrs)->nelts = 0;       /* half an answer is none */
            *perr = "probe.dns.timeout";
            goto leave;
        }
        pkt = dns_ask(&err, r, qname, types[t]);
        if (!pkt) {
            if (!*perr || strcmp(err, "probe.dns.norecord")) {
                *perr = err;
            }
            if (strcmp(err, "probe.dns.norecord") && strcmp(err, "probe.dns.error")) {
                break;      /* a timeout or garbage: do not wait twice */
            }
            continue;
        }
        /* what the recursive resolver found at the end of any CNAME chain */
        rrs = ldns_pkt_rr_list_by_type(pkt, types[t], LDNS_SECTION_ANSWER);
        for (i = 0; rrs && i < ldns_rr_list_rr_count(rrs); i++) {
            char *a = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0));
            if (a) {
                APR_ARRAY_PUSH(*paddrs, const char *) = apr_pstrdup(p, a);
                free(a);
            }
        }
        ldns_rr_list_deep_free(rrs);
        ldns_pkt_free(pkt);
    }
    if ((*paddrs)->nelts) {
        *perr = NULL;
    }
    else if (!*perr) {
        *perr = "probe.dns.norecord";
    }

leave:
    ldns_rdf_deep_free(qname);
    if (r) {
        ldns_resolver_deep_free(r);
    }
    return rv;
}

apr_status_t ca_probe_resolve(apr_array_header_t **paddrs, const char **perr,
                              const char *host, const ca_probe_cfg_t *cfg, apr_pool_t *p)
{
    return resolve_by(paddrs, perr, host, probe_deadline(cfg), cfg, p);
}

static int v4_is_public(const unsigned char *a)
{
    return !(a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224
             || (a[0] == 100 && (a[1] & 0xc0) == 64)
             || (a[0] == 169 && a[1] == 254)
             || (a[0] == 172 && (a[1] & 0xf0) == 16)
             || (a[0] == 192 && a[1] == 168)
             || (a[0] == 192 && a[1] == 0 && (a[2] == 0 || a[2] == 2))
             || (a[0] == 192 && a[1] == 88 && a[2] == 99)        /* 6to4 relays */
             || (a[0] == 198 && (a[1] & 0xfe) == 18)
             || (a[0] == 198 && a[1] == 51 && a[2] == 100)
             || (a[0] == 203 && a[1] == 0 && a[2] == 113));
}

int ca_addr_is_public(const char *addr)
{
    unsigned char a[16];

    if (inet_pton(AF_INET, addr, a) == 1) {
        return v4_is_public(a);
    }
    if (inet_pton(AF_INET6, addr, a) == 1) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
        /* an IPv4 address inside: the IPv4 rules (IPv4-mapped, the NAT64
         * well-known prefix 64:ff9b::/96, 6to4 2002::/16) */
        if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12)) {
            return v4_is_public(a + 12);
        }
        if (a[0] == 0x20 && a[1] == 0x02) {
            return v4_is_public(a + 2);
        }
        /* global unicast is 2000::/3 only: this leaves out ::, ::1, the
         * IPv4-compatible ::a.b.c.d, 100::/64, 64:ff9b:1::/48, fc00::/7,
         * fe80::/10, fec0::/10 and multicast */
        if ((a[0] & 0xe0) != 0x20) {
            return 0;
        }
        return !((a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00)  /* Teredo */
                 || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x02
                     && a[4] == 0 && a[5] == 0)                     /* 2001:2::/48 bench */
                 || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00
                     && (a[3] >> 4 == 1 || a[3] >> 4 == 2))        /* ORCHID, ORCHIDv2 */
                 || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
                 || (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0));  /* 3fff::/20 doc */
    }
    return 0;
}

/* ---- HTTP ---- */

typedef struct {
    char *buf;              /* max + 1 bytes */
    apr_size_t len, max;
    int over;
} body_t;

static size_t body_write(char *data, size_t size, size_t n, void *baton)
{
    body_t *b = baton;
    size_t len = size * n;

    if (len > b->max - b->len) {
        b->over = 1;
        return 0;           /* curl stops the transfer: nothing more is read */
    }
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    return len;
}

/* the host, scheme and port of a URL; NULL if it cannot be parsed */
static const char *url_host(const char **pscheme, long *pport, const char *url, apr_pool_t *p)
{
    CURLU *u = curl_url();
    char *host = NULL, *scheme = NULL, *port = NULL;
    const char *out = NULL;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        out = apr_pstrdup(p, host);
        *pscheme = apr_pstrdup(p, scheme);
        *pport = strtol(port, NULL, 10);
    }
    curl_free(host);
    curl_free(scheme);
    curl_free(port);
    curl_url_cleanup(u);
    return out;
}

/* one request to url, connecting to addr; *pcode the HTTP status, *plocation
 * a redirect's target */
static const char *http_once(long *pcode, const char **plocation, body_t *body,
                             const char *url, const char *host, long port, const char *addr,
                             apr_interval_time_t left, const ca_probe_cfg_t *cfg,
                             apr_pool_t *p)
{
    CURL *c = curl_easy_init();
    struct curl_slist *resolve = NULL;
    const char *err = NULL;
    char *loc = NULL;
    CURLcode rc;

    *pcode = 0;
    *plocation = NULL;
    if (!c) {
        return "probe.http.error";
    }
    resolve = curl_slist_append(NULL, apr_psprintf(p, strchr(addr, ':') ? "%s:%ld:[%s]"
                                                                        : "%s:%ld:%s",
                                                   host, port, addr));
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(left / 1000 > 0 ? left / 1000 : 1));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_size);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "cacert-httpd domain probe");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, pcode);
        if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
            *plocation = apr_pstrdup(p, loc);
        }
    }
    else if (body->over || rc == CURLE_FILESIZE_EXCEEDED) {
        err = "probe.http.toolarge";
    }
    else if (rc == CURLE_OPERATION_TIMEDOUT) {
        err = "probe.http.timeout";
    }
    else if (rc == CURLE_COULDNT_CONNECT) {
        err = "probe.http.connect";
    }
    else {
        err = "probe.http.error";
    }
    curl_slist_free_all(resolve);
    curl_easy_cleanup(c);
    return err;
}

apr_status_t ca_probe_http(ca_probe_result_t *res, const char *domain, const char *cookie,
                           const ca_probe_cfg_t *cfg, apr_pool_t *p)
{
    return ca_probe_http_path(res, domain, CA_PROBE_HTTP_PATH, cookie, cfg, p);
}

apr_status_t ca_probe_http_path(ca_probe_result_t *res, const char *domain, const char *path,
                                const char *cookie, const ca_probe_cfg_t *cfg, apr_pool_t *p)
{
    apr_time_t deadline = probe_deadline(cfg);
    const char *scheme = cfg->http_scheme ? cfg->http_scheme : "http", *url, *err;
    long first_port = 0;
    int hop;

    memset(res, 0, sizeof(*res));
    url = cfg->http_port ? apr_psprintf(p, "%s://%s:%d%s", scheme, domain, cfg->http_port, path)
                         : apr_psprintf(p, "%s://%s%s", scheme, domain, path);
    res->target = url;
    for (hop = 0; hop <= cfg->max_redirects; hop++) {
        apr_array_header_t *addrs;
        const char *host, *addr = NULL, *loc, *s;
        body_t body;
        long port, code;
        apr_status_t rv;
        int i;

        if (!(host = url_host(&s, &port, url, p))
            || (strcasecmp(s, "http") && strcasecmp(s, "https"))) {
            fail(res, "probe.http.redirect");
            return APR_SUCCESS;
        }
        /* only the claimed domain and names below it, with the scheme and
         * port of the first request (the configured ones) */
        if (!ca_domain_within(host, domain) || strcasecmp(s, scheme)
            || (hop > 0 && port != first_port)) {
            fail(res, "probe.http.redirect");
            return APR_SUCCESS;
        }
        first_port = hop ? first_port : port;
        rv = resolve_by(&addrs, &err, host, deadline, cfg, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (err) {
            fail(res, err);
            return APR_SUCCESS;
        }
        for (i = 0; i < addrs->nelts && !addr; i++) {
            const char *a = APR_ARRAY_IDX(addrs, i, const char *);
            if (cfg->allow_private || ca_addr_is_public(a)) {
                addr = a;
            }
        }
        if (!addr) {
            fail(res, "probe.http.private");
            return APR_SUCCESS;
        }
        if (apr_time_now() >= deadline) {
            fail(res, "probe.http.timeout");
            return APR_SUCCESS;
        }
        body.buf = apr_palloc(p, cfg->max_size + 1);
        body.len = 0;
        body.max = cfg->max_size;
        body.over = 0;
        err = http_once(&code, &loc, &body, url, host, port, addr, deadline - apr_time_now(),
                        cfg, p);
        if (err) {
            fail(res, err);
            return APR_SUCCESS;
        }
        if (code >= 300 && code < 400 && loc) {
            url = loc;
            continue;
        }
        if (code != 200) {
            fail(res, "probe.http.status");
            return APR_SUCCESS;
        }
        body.buf[body.len] = '\0';
        if (strlen(body.buf) == body.len && !strcmp(ca_trim(body.buf, p), cookie)) {
            res->passed = 1;
            res->detail = NULL;
        }
        else {
            fail(res, "probe.http.mismatch");
        }
        return APR_SUCCESS;
    }
    fail(res, "probe.http.redirects");
    return APR_SUCCESS;
}

/* ---- whois (RFC 3912) ---- */

/* the address to ask server at: an address as it is; a name through the
 * probe's resolver by the deadline, and (like HTTP) only a public address
 * unless private ones are allowed.  The configured server is trusted;
 * checked is a server a whois answer referred to. */
static const char *whois_addr(apr_sockaddr_t **psa, const char *server, int port, int checked,
                              apr_time_t deadline, const ca_probe_cfg_t *cfg, apr_pool_t *p)
{
    unsigned char bin[16];
    apr_array_header_t *addrs;
    const char *addr = NULL, *err;
    int i;

    *psa = NULL;
    if (inet_pton(AF_INET, server, bin) == 1 || inet_pton(AF_INET6, server, bin) == 1) {
        addrs = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(addrs, const char *) = server;
    }
    else if (resolve_by(&addrs, &err, server, deadline, cfg, p) != APR_SUCCESS || err) {
        return err && !strcmp(err, "probe.dns.timeout") ? "probe.whois.timeout"
                                                        : "probe.whois.unreachable";
    }
    for (i = 0; i < addrs->nelts && !addr; i++) {
        const char *a = APR_ARRAY_IDX(addrs, i, const char *);
        if (!checked || cfg->allow_private || ca_addr_is_public(a)) {
            addr = a;
        }
    }
    if (!addr) {
        ca_log(CA_LOG_INFO, "CA82001", APR_SUCCESS,
               "whois: referral to %s refused: no public address", server);
        return "probe.whois.unreachable";
    }
    if (apr_sockaddr_info_get(psa, addr, APR_UNSPEC, (apr_port_t)(port ? port : 43),
                              APR_IPV4_ADDR_OK, p) != APR_SUCCESS) {
        return "probe.whois.unreachable";
    }
    return NULL;
}

static const char *whois_ask(const char **ptext, apr_size_t *plen, const char *server,
                             int port, int checked, const char *query, apr_time_t deadline,
                             const ca_probe_cfg_t *cfg, apr_pool_t *p)
{
    apr_sockaddr_t *sa;
    apr_socket_t *s = NULL;
    char *buf = apr_palloc(p, cfg->max_size + 1);
    apr_size_t have = 0;
    const char *line = apr_pstrcat(p, query, "\r\n", NULL), *err = NULL;
    apr_size_t n;
    apr_status_t rv;

    *ptext = NULL;
    *plen = 0;
    if ((err = whois_addr(&sa, server, port, checked, deadline, cfg, p))) {
        return err;
    }
    if (deadline - apr_time_now() <= 0) {
        return "probe.whois.timeout";
    }
    rv = apr_socket_create(&s, sa->family, SOCK_STREAM, APR_PROTO_TCP, p);
    if (rv == APR_SUCCESS) {
        apr_socket_timeout_set(s, deadline - apr_time_now());
        rv = apr_socket_connect(s, sa);
    }
    if (rv != APR_SUCCESS) {
        err = APR_STATUS_IS_TIMEUP(rv) ? "probe.whois.timeout" : "probe.whois.unreachable";
        goto leave;
    }
    n = strlen(line);
    if ((rv = apr_socket_send(s, line, &n)) != APR_SUCCESS) {
        err = "probe.whois.unreachable";
        goto leave;
    }
    for (;;) {
        char chunk[4096];
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            err = "probe.whois.timeout";
            goto leave;
        }
        apr_socket_timeout_set(s, left);
        n = sizeof(chunk);
        rv = apr_socket_recv(s, chunk, &n);
        if (n > 0) {
            if (n > cfg->max_size - have) {
                err = "probe.whois.toolarge";
                goto leave;
            }
            memcpy(buf + have, chunk, n);
            have += n;
        }
        if (rv == APR_EOF) {
            break;
        }
        if (rv != APR_SUCCESS) {
            err = APR_STATUS_IS_TIMEUP(rv) ? "probe.whois.timeout" : "probe.whois.unreachable";
            goto leave;
        }
    }
    buf[have] = '\0';
    *plen = have;
    *ptext = buf;

leave:
    if (s) {
        apr_socket_close(s);
    }
    return err;
}

apr_status_t ca_whois_lookup(apr_array_header_t **paddrs, const char **perr,
                             const char *domain, const ca_probe_cfg_t *cfg, apr_pool_t *p)
{
    const char *text, *server = cfg->whois_server, *refer;
    apr_time_t deadline = probe_deadline(cfg);
    apr_size_t len;
    int hop;

    *paddrs = apr_array_make(p, 4, sizeof(const char *));
    *perr = NULL;
    if (!server) {
        *perr = "probe.whois.none";
        return APR_SUCCESS;
    }
    for (hop = 0; hop < 2; hop++) {
        if ((*perr = whois_ask(&text, &len, server, cfg->whois_port, hop > 0, domain,
                               deadline, cfg, p))) {
            return APR_SUCCESS;
        }
        refer = ca_whois_referral(text, len, p);
        if (!refer || hop == 1 || !strcasecmp(refer, server)) {
            break;
        }
        server = refer;
    }
    ca_whois_emails(paddrs, text, len, p);
    if (!(*paddrs)->nelts) {
        *perr = "probe.whois.noaddress";
    }
    return APR_SUCCESS;
}

