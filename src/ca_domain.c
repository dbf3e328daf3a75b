/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Domain control, the pure rules: names, the IDN rule of CPS 3.1.7, claims,
 * mailboxes and the checks rule (no I/O, no clock; fuzzed by
 * fuzz/fuzz_domain.c).  The storage is in ca_domain_db.c. */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include <idn2.h>
#include <libpsl.h>
#include <unistr.h>
#include <unictype.h>

#include "ca_domain.h"

/* ---- the pure rules ---- */

static const char *const method_names[] = { "email", "dns", "http" };

const char *ca_check_method_name(unsigned method)
{
    return method == CA_CHECK_EMAIL ? method_names[0]
           : method == CA_CHECK_DNS ? method_names[1]
           : method == CA_CHECK_HTTP ? method_names[2] : NULL;
}

unsigned ca_check_method_bit(const char *name)
{
    unsigned i;

    for (i = 0; name && i < 3; i++) {
        if (!strcmp(name, method_names[i])) {
            return 1u << i;
        }
    }
    return 0;
}

static int popcount3(unsigned m)
{
    return (int)((m & 1) + ((m >> 1) & 1) + ((m >> 2) & 1));
}

const ca_domain_rule_t *ca_domain_rule(const ca_domain_cfg_t *cfg, const char *root)
{
    static const ca_domain_rule_t one = { "member", 1, CA_CHECK_ALL };
    static const ca_domain_rule_t two = { "assured", 2, CA_CHECK_ALL };
    int i;

    for (i = 0; cfg && cfg->rules && i < cfg->rules->nelts; i++) {
        const ca_domain_rule_t *r = &APR_ARRAY_IDX(cfg->rules, i, ca_domain_rule_t);
        if (root && !strcmp(r->root, root)) {
            return r;
        }
    }
    return root && (!strcmp(root, "member") || !strcmp(root, "class1")) ? &one : &two;
}

int ca_domain_rule_met(const ca_domain_rule_t *rule, unsigned passed)
{
    return rule->need >= 1 && popcount3(passed & rule->methods) >= rule->need;
}

const ca_domain_t *ca_domain_short_of(const apr_array_header_t *domains, const char *host,
                                      const ca_domain_rule_t *rule)
{
    const ca_domain_t *best = NULL;
    int i;

    if (!host || !rule) {
        return NULL;
    }
    if (!strncmp(host, "*.", 2)) {
        host += 2;
    }
    for (i = 0; domains && i < domains->nelts; i++) {
        const ca_domain_t *d = &APR_ARRAY_IDX(domains, i, ca_domain_t);
        if (!d->name || !ca_domain_within(host, d->name)) {
            continue;
        }
        /* one that is verified enough: nothing is missing */
        if (ca_domain_rule_met(rule, d->passed)) {
            return NULL;
        }
        /* the most specific one with a passed check */
        if (d->passed && (!best || strlen(d->name) > strlen(best->name))) {
            best = d;
        }
    }
    return best;
}

const char *ca_domain_rule_parse(ca_domain_rule_t *rule, int argc, char *const argv[],
                                 apr_pool_t *p)
{
    static const char *const roots[] = { "member", "assured", "org", "class1", "class3",
                                         NULL };
    char *end;
    long n;
    int i;

    memset(rule, 0, sizeof(*rule));
    if (argc < 2) {
        return "needs a root and a number of checks";
    }
    for (i = 0; roots[i] && strcmp(roots[i], argv[0]); i++) {
    }
    if (!roots[i]) {
        return "root must be member, assured, org, class1 or class3";
    }
    n = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end || n < 1 || n > 3) {
        return "the number of checks must be 1, 2 or 3";
    }
    for (i = 2; i < argc; i++) {
        unsigned bit = ca_check_method_bit(argv[i]);
        if (!bit) {
            return "methods must be email, dns or http";
        }
        rule->methods |= bit;
    }
    if (!rule->methods) {
        rule->methods = CA_CHECK_ALL;
    }
    if (popcount3(rule->methods) < n) {
        return "asks for more different methods than it allows";
    }
    rule->root = apr_pstrdup(p, argv[0]);
    rule->need = (int)n;
    return NULL;
}

const char *const ca_idn_cps_registrars[] = {
    "ac", "ar", "at", "biz", "br", "cat", "ch", "cl", "cn", "de", "dk", "es", "fi", "gr",
    "hu", "info", "io", "ir", "is", "jp", "kr", "li", "lt", "museum", "no", "org", "pl",
    "pr", "se", "sh", "th", "tm", "tw", "vn", NULL
};

const char *const ca_domain_mailboxes[] = {
    "root", "hostmaster", "postmaster", "admin", "webmaster", NULL
};

const void *ca_domain_psl_load(void)
{
    const psl_ctx_t *psl = psl_latest(NULL);

    return psl ? psl : psl_builtin();
}

void ca_domain_psl_free(const void *psl)
{
    /* psl_free leaves libpsl's built-in list alone */
    psl_free((psl_ctx_t *)psl);
}

static int registrar_ok(const char *tld, const apr_array_header_t *registrars)
{
    int i;

    if (!registrars) {
        for (i = 0; ca_idn_cps_registrars[i]; i++) {
            if (!strcasecmp(tld, ca_idn_cps_registrars[i])) {
                return 1;
            }
        }
        return 0;
    }
    for (i = 0; i < registrars->nelts; i++) {
        if (!strcasecmp(tld, APR_ARRAY_IDX(registrars, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

/* one U-label: its code points from one script (not Common, not
 * Inherited), besides 0-9 and '-' */
static int single_script(const char *u, apr_size_t n)
{
    const uc_script_t *script = NULL;
    apr_size_t i = 0;

    while (i < n) {
        ucs4_t uc;
        int len = u8_mbtouc(&uc, (const uint8_t *)u + i, n - i);
        const uc_script_t *s;
        if (len <= 0 || uc == 0xfffd) {
            return 0;
        }
        i += (apr_size_t)len;
        if ((uc >= '0' && uc <= '9') || uc == '-') {
            continue;
        }
        s = uc_script(uc);
        if (!s || !strcmp(s->name, "Common") || !strcmp(s->name, "Inherited")) {
            return 0;
        }
        if (script && s != script) {
            return 0;
        }
        script = s;
    }
    return 1;
}

const char *ca_idn_check(const char *ascii, const apr_array_header_t *registrars)
{
    const char *label = ascii, *tld;
    int has_idn = 0, mixed = 0;

    tld = strrchr(ascii, '.');
    tld = tld ? tld + 1 : ascii;
    for (;;) {
        const char *dot = strchr(label, '.');
        apr_size_t n = dot ? (apr_size_t)(dot - label) : strlen(label);
        if (n >= 4 && !strncasecmp(label, "xn--", 4)) {
            char a[64], *u = NULL, *back = NULL;
            int rc;
            has_idn = 1;
            if (n > 63) {
                return "domain.idn.invalid";
            }
            memcpy(a, label, n);
            a[n] = '\0';
            /* decodes, and encodes again the IDNA2008 way: a label that
             * does not come back the same is not a valid A-label */
            rc = idn2_to_unicode_8z8z(a, &u, 0);
            if (rc != IDN2_OK || !u) {
                idn2_free(u);
                return "domain.idn.invalid";
            }
            rc = idn2_to_ascii_8z(u, &back, IDN2_NO_TR46);
            if (rc != IDN2_OK || !back || strcasecmp(back, a)) {
                idn2_free(u);
                idn2_free(back);
                return "domain.idn.invalid";
            }
            if (!single_script(u, strlen(u))) {
                mixed = 1;
            }
            idn2_free(u);
            idn2_free(back);
        }
        if (!dot) {
            break;
        }
        label = dot + 1;
    }
    if (!has_idn || !mixed) {
        return NULL;
    }
    return registrar_ok(tld, registrars) ? NULL : "domain.idn.mixed";
}

static int all_digits(const char *s, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (!apr_isdigit(s[i])) {
            return 0;
        }
    }
    return n > 0;
}

const char *ca_domain_name(const char **pname, const char *input, apr_size_t len,
                           const ca_domain_cfg_t *cfg, apr_pool_t *p)
{
    const psl_ctx_t *psl;
    char *name, *c, *label, *ascii = NULL;
    const char *e, *tld;
    unsigned char in6[16];
    int labels = 0, nonascii = 0;
    apr_size_t i, n;

    *pname = NULL;
    if (!input || len == 0) {
        return "domain.required";
    }
    if (memchr(input, '\0', len)) {
        return "domain.nul";
    }
    if (len > 1024) {
        return "domain.toolong";
    }
    name = apr_pstrmemdup(p, input, len);
    if (name[len - 1] == '.') {
        return "domain.trailingdot";
    }
    if (name[0] == '[' || (strchr(name, ':') && inet_pton(AF_INET6, name, in6) == 1)) {
        return "domain.ip";
    }
    if (!strncmp(name, "*.", 2)) {
        return "domain.wildcard";
    }
    for (i = 0; i < len; i++) {
        if ((unsigned char)name[i] >= 0x80) {
            nonascii = 1;
        }
        else if (apr_iscntrl(name[i]) || apr_isspace(name[i])) {
            return "domain.invalid";
        }
    }
    if (nonascii) {
        /* U-labels: to the A-label form (UTS #46 mapping, IDNA2008) */
        if (idn2_to_ascii_8z(name, &ascii, IDN2_NONTRANSITIONAL) != IDN2_OK || !ascii) {
            idn2_free(ascii);
            return "domain.idn.invalid";
        }
        name = apr_pstrdup(p, ascii);
        idn2_free(ascii);
        len = strlen(name);
    }
    for (c = name; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    /* LDH labels */
    label = name;
    for (;;) {
        char *dot = strchr(label, '.');
        n = dot ? (apr_size_t)(dot - label) : strlen(label);
        if (n == 0) {
            return "domain.invalid";
        }
        if (n > 63) {
            return "domain.label.toolong";
        }
        for (i = 0; i < n; i++) {
            if (!apr_isalnum(label[i]) && label[i] != '-') {
                return "domain.invalid";
            }
        }
        if (label[0] == '-' || label[n - 1] == '-'
            || (n >= 4 && label[2] == '-' && label[3] == '-' && strncmp(label, "xn", 2))) {
            return "domain.invalid";
        }
        labels++;
        if (!dot) {
            break;
        }
        label = dot + 1;
    }
    if (len > 253) {
        return "domain.toolong";
    }
    tld = strrchr(name, '.');
    tld = tld ? tld + 1 : name;
    if (all_digits(tld, strlen(tld))) {
        return "domain.ip";
    }
    if (labels < 2) {
        return "domain.onelabel";
    }
    if ((e = ca_idn_check(name, cfg ? cfg->registrars : NULL))) {
        return e;
    }
    psl = cfg && cfg->psl ? cfg->psl : psl_builtin();
    if (psl && psl_is_public_suffix2(psl, name, PSL_TYPE_ANY)) {
        return "domain.publicsuffix";
    }
    *pname = name;
    return NULL;
}

int ca_domain_within(const char *name, const char *domain)
{
    apr_size_t nl = strlen(name), dl = strlen(domain);

    if (nl == dl) {
        return !strcasecmp(name, domain);
    }
    return dl > 0 && nl > dl && name[nl - dl - 1] == '.' && !strcasecmp(name + nl - dl, domain);
}

/* keys[0] when name is other, [1] when name lies within other, [2] when
 * other lies within name; NULL when they are apart */
static const char *claim_rule(const char *name, const char *other, const char *const keys[3])
{
    if (!strcasecmp(name, other)) {
        return keys[0];
    }
    if (ca_domain_within(name, other)) {
        return keys[1];
    }
    if (ca_domain_within(other, name)) {
        return keys[2];
    }
    return NULL;
}

const char *ca_domain_claim_rule(const char *name, const char *other)
{
    static const char *const keys[3] = {
        "domain.claimed.same", "domain.claimed.parent", "domain.claimed.child"
    };

    return claim_rule(name, other, keys);
}

const char *ca_domain_org_claim_rule(const char *name, const char *other)
{
    static const char *const keys[3] = {
        "domain.claimed.org", "domain.claimed.org.parent", "domain.claimed.org.child"
    };

    return claim_rule(name, other, keys);
}

int ca_domain_mailbox_ok(const char *address, const char *domain,
                         const apr_array_header_t *whois)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    int i;

    if (!at) {
        return 0;
    }
    if (!strcasecmp(at + 1, domain)) {
        for (i = 0; ca_domain_mailboxes[i]; i++) {
            apr_size_t n = strlen(ca_domain_mailboxes[i]);
            if ((apr_size_t)(at - address) == n
                && !strncasecmp(address, ca_domain_mailboxes[i], n)) {
                return 1;
            }
        }
    }
    for (i = 0; whois && i < whois->nelts; i++) {
        if (!strcasecmp(address, APR_ARRAY_IDX(whois, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

