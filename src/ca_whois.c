/* The whois answer parser (pure; fuzzed by fuzz/fuzz_whois.c): the
 * addresses a whois answer lists, and the server it refers to.  Declared in
 * ca_probe.h; the client that asks is in ca_probe.c. */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "ca_probe.h"
#include "ca_valid.h"

static int local_char(int c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

static int host_char(int c)
{
    return apr_isalnum(c) || c == '-' || c == '.';
}

void ca_whois_emails(apr_array_header_t **paddrs, const char *text, apr_size_t len,
                     apr_pool_t *p)
{
    apr_size_t i = 0;

    *paddrs = apr_array_make(p, 4, sizeof(const char *));
    while (i < len && (*paddrs)->nelts < 16) {
        apr_size_t eol = i, j;
        while (eol < len && text[eol] != '\n') {
            eol++;
        }
        /* comment lines: the registry's terms of use, not contacts */
        j = i;
        while (j < eol && (text[j] == ' ' || text[j] == '\t')) {
            j++;
        }
        if (j < eol && text[j] != '%' && text[j] != '#') {
            for (; j < eol && (*paddrs)->nelts < 16; j++) {
                apr_size_t s, e;
                const char *addr;
                int k, dup = 0;
                if (text[j] != '@') {
                    continue;
                }
                for (s = j; s > i && local_char((unsigned char)text[s - 1]); s--) {
                }
                for (e = j + 1; e < eol && host_char((unsigned char)text[e]); e++) {
                }
                while (e > j + 1 && text[e - 1] == '.') {
                    e--;
                }
                while (s < j && text[s] == '.') {
                    s++;
                }
                if (s == j || e == j + 1 || e - s > 254) {
                    continue;
                }
                addr = ca_email_canonical(apr_pstrmemdup(p, text + s, e - s), p);
                if (ca_valid_email(addr)) {
                    continue;
                }
                for (k = 0; k < (*paddrs)->nelts; k++) {
                    if (!strcasecmp(addr, APR_ARRAY_IDX(*paddrs, k, const char *))) {
                        dup = 1;
                    }
                }
                if (!dup) {
                    APR_ARRAY_PUSH(*paddrs, const char *) = addr;
                }
            }
        }
        i = eol + 1;
    }
}

const char *ca_whois_referral(const char *text, apr_size_t len, apr_pool_t *p)
{
    static const char *const keys[] = { "refer:", "whois:", "registrar whois server:", NULL };
    apr_size_t i = 0;

    while (i < len) {
        apr_size_t eol = i, j, k, s;
        while (eol < len && text[eol] != '\n') {
            eol++;
        }
        j = i;
        while (j < eol && (text[j] == ' ' || text[j] == '\t')) {
            j++;
        }
        for (k = 0; keys[k]; k++) {
            apr_size_t kl = strlen(keys[k]);
            if (eol - j > kl && !strncasecmp(text + j, keys[k], kl)) {
                const char *host;
                s = j + kl;
                while (s < eol && (text[s] == ' ' || text[s] == '\t')) {
                    s++;
                }
                for (j = s; j < eol && host_char((unsigned char)text[j]); j++) {
                }
                if (j == s || j - s > 253) {
                    break;
                }
                host = apr_pstrmemdup(p, text + s, j - s);
                /* a host name of LDH labels, or an IPv4 address */
                if (host[0] != '.' && host[0] != '-' && !strstr(host, "..")
                    && host[strlen(host) - 1] != '.') {
                    return host;
                }
                break;
            }
        }
        i = eol + 1;
    }
    return NULL;
}
