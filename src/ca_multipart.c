/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_hash.h>

#include "ca_multipart.h"

#define MAX_HEADERS 2048        /* bytes of headers of one part */

const char *ca_multipart_boundary(const char *ct, apr_pool_t *p)
{
    const char *b;
    apr_size_t n;

    if (!ct || strncasecmp(ct, "multipart/form-data", 19)) {
        return NULL;
    }
    for (b = ct + 19; (b = strchr(b, ';')); ) {
        b++;
        while (*b == ' ' || *b == '\t') {
            b++;
        }
        if (!strncasecmp(b, "boundary=", 9)) {
            b += 9;
            if (*b == '"') {
                const char *e = strchr(++b, '"');
                if (!e) {
                    return NULL;
                }
                n = (apr_size_t)(e - b);
            }
            else {
                n = strcspn(b, "; \t");
            }
            if (n < 1 || n > 70) {
                return NULL;
            }
            return apr_pstrmemdup(p, b, n);
        }
    }
    return NULL;
}

static const char *find(const char *hay, apr_size_t hlen, const char *needle, apr_size_t nlen)
{
    const char *end = hay + hlen;

    while (hlen >= nlen) {
        const char *c = memchr(hay, needle[0], hlen - nlen + 1);
        if (!c) {
            return NULL;
        }
        if (!memcmp(c, needle, nlen)) {
            return c;
        }
        hay = c + 1;
        hlen = (apr_size_t)(end - hay);
    }
    return NULL;
}

/* the value of param (name= or filename=) in a Content-Disposition line */
static int disposition_param(const char **pval, const char *line, const char *param,
                             apr_pool_t *p)
{
    apr_size_t pl = strlen(param);
    const char *s = line;

    *pval = NULL;
    while ((s = strchr(s, ';'))) {
        s++;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (!strncasecmp(s, param, pl) && s[pl] == '=') {
            const char *v = s + pl + 1, *e;
            if (*v != '"') {
                return 0;               /* browsers always quote */
            }
            e = strchr(++v, '"');
            if (!e) {
                return 0;
            }
            *pval = apr_pstrmemdup(p, v, (apr_size_t)(e - v));
            return 1;
        }
    }
    return 1;
}

static int name_ok(const char *n)
{
    if (!*n || strlen(n) > 128) {
        return 0;
    }
    for (; *n; n++) {
        if (!apr_isalnum(*n) && *n != '_' && *n != '.' && *n != '-') {
            return 0;
        }
    }
    return 1;
}

apr_status_t ca_multipart_parse(apr_table_t **pvalues, apr_table_t **perrors,
                                apr_array_header_t **pfiles, const char **perr,
                                const char *boundary, const char *body, apr_size_t len,
                                const ca_form_limits_t *lim, apr_pool_t *p)
{
    const char *delim = apr_pstrcat(p, "\r\n--", boundary, NULL);
    apr_size_t dlen = strlen(delim);
    const char *pos, *end = body + len;
    apr_hash_t *seen = apr_hash_make(p);
    int parts = 0;

    *pvalues = apr_table_make(p, 8);
    *perrors = apr_table_make(p, 2);
    *pfiles = apr_array_make(p, 1, sizeof(ca_file_part_t));
    *perr = NULL;
    if (len > lim->max_body) {
        *perr = "form.toolarge";
        goto fail;
    }
    /* the body starts with the first delimiter (without its CRLF) */
    if (len < dlen - 2 || memcmp(body, delim + 2, dlen - 2)) {
        goto malformed;
    }
    pos = body + dlen - 2;
    for (;;) {
        const char *hend, *next, *line, *name = NULL, *filename = NULL;
        char *headers;
        apr_size_t clen;
        /* after a delimiter: "--" ends the body, CRLF starts a part */
        if (end - pos >= 2 && !memcmp(pos, "--", 2)) {
            break;
        }
        if (end - pos < 2 || memcmp(pos, "\r\n", 2)) {
            goto malformed;
        }
        pos += 2;
        if (++parts > lim->max_fields) {
            *perr = "form.toomany";
            goto fail;
        }
        hend = find(pos, (apr_size_t)(end - pos) < MAX_HEADERS ? (apr_size_t)(end - pos)
                                                               : MAX_HEADERS, "\r\n\r\n", 4);
        if (!hend) {
            goto malformed;
        }
        headers = apr_pstrmemdup(p, pos, (apr_size_t)(hend - pos));
        if (memchr(pos, '\0', (apr_size_t)(hend - pos))) {
            goto malformed;
        }
        for (line = headers; line && *line; ) {
            char *eol = strstr(line, "\r\n");
            if (eol) {
                *eol = '\0';
            }
            if (!strncasecmp(line, "Content-Disposition:", 20)) {
                const char *v = line + 20;
                while (*v == ' ') {
                    v++;
                }
                if (strncasecmp(v, "form-data", 9)
                    || !disposition_param(&name, v, "name", p)
                    || !disposition_param(&filename, v, "filename", p)) {
                    goto malformed;
                }
            }
            line = eol ? eol + 2 : NULL;
        }
        if (!name || !name_ok(name)) {
            goto malformed;
        }
        pos = hend + 4;
        next = find(pos, (apr_size_t)(end - pos), delim, dlen);
        if (!next) {
            goto malformed;
        }
        clen = (apr_size_t)(next - pos);
        {
            char *key = apr_pstrdup(p, name), *k;
            for (k = key; *k; k++) {
                *k = (char)apr_tolower(*k);
            }
            if (apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
                *perr = "form.duplicate";
                goto fail;
            }
            apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);
        }
        if (filename) {
            if (clen > lim->max_text) {
                apr_table_setn(*perrors, name, "field.toolong");
            }
            else if (clen > 0) {
                ca_file_part_t *f = apr_array_push(*pfiles);
                f->name = name;
                f->filename = filename;
                f->data = apr_pmemdup(p, pos, clen);
                f->len = clen;
            }
        }
        else {
            const char *verr = ca_form_check_value(name, pos, clen, lim);
            if (verr) {
                apr_table_setn(*perrors, name, verr);
            }
            else {
                apr_table_setn(*pvalues, name, apr_pstrmemdup(p, pos, clen));
            }
        }
        pos = next + dlen;
    }
    return APR_SUCCESS;

malformed:
    *perr = "form.malformed";
fail:
    *pvalues = apr_table_make(p, 1);
    *perrors = apr_table_make(p, 1);
    *pfiles = apr_array_make(p, 1, sizeof(ca_file_part_t));
    return APR_EINVAL;
}
