/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Decoder of application/x-www-form-urlencoded data, UTF-8 checks and
 * URL encoding.  See ca_form.h for the contract. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "ca_form.h"

/* used when the caller passes no limits */
#define CA_FORM_DEF_BODY    (64 * 1024)
#define CA_FORM_DEF_FIELDS  64
#define CA_FORM_DEF_VALUE   4096
/* names are identifiers of our own forms, never long */
#define CA_FORM_MAX_NAME    128

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Percent-decode s[0..n) into a new NUL-terminated buffer; '+' is a space.
 * Returns 0 on a bad escape (a '%' not followed by two hex digits). */
static int pct_decode(char **pout, apr_size_t *poutlen, const char *s,
                      apr_size_t n, apr_pool_t *p)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < n; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int h, l;
            if (n - i < 3) {
                return 0;
            }
            h = hexval((unsigned char)s[i + 1]);
            l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) {
                return 0;
            }
            *o++ = (char)((h << 4) | l);
            i += 2;
        }
        else if (c == '+') {
            *o++ = ' ';
        }
        else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    *pout = out;
    *poutlen = (apr_size_t)(o - out);
    return 1;
}

static int form_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int ca_form_is_text_field(const char *name, const ca_form_limits_t *lim)
{
    const char *const *f;

    for (f = lim->text_fields; f && *f; f++) {
        if (!strcmp(*f, name)) {
            return 1;
        }
    }
    return 0;
}

const char *ca_form_check_value(const char *name, const char *v, apr_size_t vlen,
                                const ca_form_limits_t *lim)
{
    int text = ca_form_is_text_field(name, lim);

    if (vlen > (text ? lim->max_text : lim->max_value)) {
        return "field.toolong";
    }
    if (!ca_utf8_valid(v, vlen)) {
        return "field.utf8";
    }
    if (text ? ca_has_control_text(v, vlen) : ca_has_control(v, vlen)) {
        return "field.control";
    }
    return NULL;
}

apr_status_t ca_form_parse(apr_table_t **pvalues, apr_table_t **perrors,
                           const char **perr,
                           const char *data, apr_size_t len,
                           const ca_form_limits_t *limits, apr_pool_t *p)
{
    ca_form_limits_t deflim = { CA_FORM_DEF_BODY, CA_FORM_DEF_FIELDS,
                                CA_FORM_DEF_VALUE, NULL, 0 };
    const ca_form_limits_t *lim = limits ? limits : &deflim;
    apr_table_t *values, *errors;
    apr_hash_t *seen;
    apr_status_t rv = APR_SUCCESS;
    const char *err = NULL;
    apr_size_t i = 0;
    int nfields = 0;

    values = apr_table_make(p, 16);
    errors = apr_table_make(p, 4);
    seen = apr_hash_make(p);
    if (perr) {
        *perr = NULL;
    }
    if (len > 0 && !data) {
        err = "form.malformed";
        goto leave;
    }
    if (len > lim->max_body) {
        err = "form.toolarge";
        goto leave;
    }
    while (i < len) {
        const char *pair = data + i, *amp, *eq;
        apr_size_t plen, nlen, vlen, dlen, k;
        char *name, *value, *key;
        const char *verr;

        amp = memchr(pair, '&', len - i);
        plen = amp ? (apr_size_t)(amp - pair) : len - i;
        i += plen + 1;
        if (plen == 0) {
            continue;               /* "a=1&&b=2", a trailing '&' */
        }
        if (++nfields > lim->max_fields) {
            err = "form.toomany";
            goto leave;
        }
        eq = memchr(pair, '=', plen);
        nlen = eq ? (apr_size_t)(eq - pair) : plen;
        if (nlen == 0 || nlen > 3 * CA_FORM_MAX_NAME
            || !pct_decode(&name, &dlen, pair, nlen, p)
            || dlen == 0 || dlen > CA_FORM_MAX_NAME) {
            err = "form.malformed";
            goto leave;
        }
        for (k = 0; k < dlen; ++k) {
            if (!form_name_char((unsigned char)name[k])) {
                err = "form.malformed";
                goto leave;
            }
        }
        /* apr_table keys are case-insensitive, so are duplicates */
        key = apr_pstrmemdup(p, name, dlen);
        for (k = 0; k < dlen; ++k) {
            if (key[k] >= 'A' && key[k] <= 'Z') {
                key[k] = (char)(key[k] - 'A' + 'a');
            }
        }
        if (apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
            err = "form.duplicate";
            goto leave;
        }
        apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);

        if (!eq) {
            apr_table_setn(values, name, "");
            continue;
        }
        vlen = plen - nlen - 1;
        if (!pct_decode(&value, &vlen, eq + 1, vlen, p)) {
            verr = "field.encoding";
        }
        else {
            verr = ca_form_check_value(key, value, vlen, lim);
        }
        if (verr) {
            apr_table_setn(errors, name, verr);
        }
        else {
            apr_table_setn(values, name, value);
        }
    }
leave:
    if (err) {
        rv = APR_EINVAL;
        if (perr) {
            *perr = err;
        }
        /* nothing of a rejected form is handed out */
        values = apr_table_make(p, 1);
        errors = apr_table_make(p, 1);
    }
    if (pvalues) {
        *pvalues = values;
    }
    if (perrors) {
        *perrors = errors;
    }
    return rv;
}

int ca_utf8_valid(const char *str, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t i = 0;

    if (len > 0 && !s) {
        return 0;
    }
    while (i < len) {
        unsigned char c = s[i];
        unsigned char lo = 0x80, hi = 0xBF;
        apr_size_t n, k;

        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0) {
                lo = 0xA0;              /* overlong */
            }
            else if (c == 0xED) {
                hi = 0x9F;              /* surrogates */
            }
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0) {
                lo = 0x90;              /* overlong */
            }
            else if (c == 0xF4) {
                hi = 0x8F;              /* > U+10FFFF */
            }
        }
        else {
            return 0;                   /* 80..C1, F5..FF */
        }
        if (n > len - i - 1) {
            return 0;                   /* truncated */
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            return 0;
        }
        for (k = 2; k <= n; ++k) {
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) {
                return 0;
            }
        }
        i += n + 1;
    }
    return 1;
}

/* 1 if str[0..len) has a C0 or C1 control character or DEL; text: CR, LF
 * and TAB are allowed */
static int has_control(const char *str, apr_size_t len, int text)
{
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t i;

    for (i = 0; i < len; ++i) {
        if (text && (s[i] == '\r' || s[i] == '\n' || s[i] == '\t')) {
            continue;
        }
        if (s[i] < 0x20 || s[i] == 0x7F) {
            return 1;
        }
        /* U+0080..U+009F are C2 80..C2 9F */
        if (s[i] == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F) {
            return 1;
        }
    }
    return 0;
}

int ca_has_control_text(const char *str, apr_size_t len)
{
    return has_control(str, len, 1);
}

int ca_has_control(const char *str, apr_size_t len)
{
    return has_control(str, len, 0);
}

apr_size_t ca_utf8_len(const char *str, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    apr_size_t i, n = 0;

    for (i = 0; i < len; ++i) {
        if ((s[i] & 0xC0) != 0x80) {
            ++n;
        }
    }
    return n;
}

/* RFC 3986 unreserved: ALPHA DIGIT - . _ ~ (ASCII, whatever the locale) */
static int url_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

const char *ca_url_encode(const char *s, apr_pool_t *p)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = 0, i;
    char *out, *o;

    if (!s) {
        return "";
    }
    for (i = 0; s[i]; ++i) {
        unsigned char c = (unsigned char)s[i];
        n += url_unreserved(c) ? 1 : 3;
    }
    if (n == i) {
        return s;
    }
    o = out = apr_palloc(p, n + 1);
    for (i = 0; s[i]; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (url_unreserved(c)) {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0x0F];
        }
    }
    *o = '\0';
    return out;
}
