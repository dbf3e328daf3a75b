/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
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

/* word (lower case) anywhere in text[s, e), case-insensitive; NUL bytes
 * are characters like any other */
static int has_word(const char *text, apr_size_t s, apr_size_t e, const char *word)
{
    apr_size_t n = strlen(word), i, k;

    for (i = s; i + n <= e; i++) {
        for (k = 0; k < n && apr_tolower((unsigned char)text[i + k]) == word[k]; k++) {
        }
        if (k == n) {
            return 1;
        }
    }
    return 0;
}

/* where the value of a contact's email field starts, or 0: the field name
 * begins with the role of a registrant, admin or tech contact and names a
 * mail address ("Registrant Email:", "Tech Contact E-Mail:"); never a line
 * about abuse or the registrar (whose addresses are not the domain
 * holder's) */
static apr_size_t contact_value(const char *text, apr_size_t j, apr_size_t eol)
{
    static const char *const roles[] = { "registrant", "admin", "tech", NULL };
    apr_size_t colon = j;
    int k;

    while (colon < eol && text[colon] != ':') {
        colon++;
    }
    if (colon == eol || !has_word(text, j, colon, "mail")
        || has_word(text, j, eol, "abuse") || has_word(text, j, eol, "registrar")) {
        return 0;
    }
    for (k = 0; roles[k]; k++) {
        if (has_word(text, j, j + strlen(roles[k]) <= colon ? j + strlen(roles[k]) : j,
                     roles[k])) {
            return colon + 1;
        }
    }
    return 0;
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
        /* the contacts' email fields only: not the terms of use in
         * comments, nor the registrar's abuse or support addresses */
        j = i;
        while (j < eol && (text[j] == ' ' || text[j] == '\t')) {
            j++;
        }
        if (j < eol && (j = contact_value(text, j, eol)) != 0) {
            apr_size_t v = j;
            for (; j < eol && (*paddrs)->nelts < 16; j++) {
                apr_size_t s, e;
                const char *addr;
                int k, dup = 0;
                if (text[j] != '@') {
                    continue;
                }
                for (s = j; s > v && local_char((unsigned char)text[s - 1]); s--) {
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
