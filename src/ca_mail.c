/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <apr_base64.h>

#include "ca_mail.h"
#include "ca_crypto.h"

apr_status_t ca_mail_split(const char **psubject, const char **pbody,
                           const char *text, apr_pool_t *p)
{
    const char *nl;

    *psubject = *pbody = NULL;
    if (strncmp(text, "Subject:", 8) != 0 || !(nl = strchr(text, '\n'))) {
        return APR_EINVAL;
    }
    *psubject = apr_pstrmemdup(p, text + 8, (apr_size_t)(nl - text - 8));
    while (**psubject == ' ') {
        (*psubject)++;
    }
    nl++;
    if (*nl == '\n') {
        nl++;
    }
    *pbody = nl;
    return APR_SUCCESS;
}

static int has_crlf(const char *s)
{
    return strchr(s, '\r') || strchr(s, '\n');
}

static int is_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80) {
            return 0;
        }
    }
    return 1;
}

/* RFC 2047 encoded-words, each at most 75 chars, not splitting UTF-8
 * sequences */
static const char *encode_header(const char *s, apr_pool_t *p)
{
    const char *out = NULL;
    apr_size_t len = strlen(s), i = 0;

    if (is_ascii(s)) {
        return s;
    }
    while (i < len) {
        apr_size_t n = len - i > 45 ? 45 : len - i;
        char *b64;
        while (i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80) {
            n--;
        }
        b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)n));
        apr_base64_encode(b64, s + i, (int)n);
        out = out ? apr_pstrcat(p, out, "\r\n =?UTF-8?B?", b64, "?=", NULL)
                  : apr_pstrcat(p, "=?UTF-8?B?", b64, "?=", NULL);
        i += n;
    }
    return out;
}

/* quoted-printable (RFC 2045), lines <= 76 characters */
static const char *qp_encode(const char *s, apr_pool_t *p)
{
    apr_size_t len = strlen(s);
    char *out = apr_palloc(p, len * 4 + 16), *o = out;
    int col = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int need;
        if (c == '\r') {
            continue;
        }
        if (c == '\n') {
            /* trailing white space before a line end must be encoded */
            if (o > out && (o[-1] == ' ' || o[-1] == '\t')) {
                char ws = o[-1];
                o--;
                o += sprintf(o, "=%02X", (unsigned char)ws);
            }
            *o++ = '\r';
            *o++ = '\n';
            col = 0;
            continue;
        }
        need = (c == '=' || c >= 0x7f || (c < 0x20 && c != '\t')) ? 3 : 1;
        if (col + need > 75) {
            *o++ = '=';
            *o++ = '\r';
            *o++ = '\n';
            col = 0;
        }
        if (need == 3) {
            o += sprintf(o, "=%02X", c);
        }
        else {
            *o++ = (char)c;
        }
        col += need;
    }
    *o = '\0';
    return out;
}

const char *ca_mail_addr(const char *from, apr_pool_t *p)
{
    const char *lt = strrchr(from, '<'), *gt;

    if (lt && (gt = strchr(lt, '>'))) {
        return apr_pstrmemdup(p, lt + 1, (apr_size_t)(gt - lt - 1));
    }
    return from;
}

apr_status_t ca_mail_compose(const char **pmsg, apr_size_t *plen,
                             const char *from, const char *to,
                             const char *subject, const char *body,
                             apr_time_t now, apr_pool_t *p)
{
    char date[APR_RFC822_DATE_LEN];
    const char *token, *domain, *addr, *msg;

    *pmsg = NULL;
    if (has_crlf(from) || has_crlf(to) || has_crlf(subject)) {
        return APR_EINVAL;
    }
    addr = ca_mail_addr(from, p);
    domain = strrchr(addr, '@');
    domain = domain ? domain + 1 : "localhost";
    if (ca_random_token(&token, 18, p) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    apr_rfc822_date(date, now);
    msg = apr_pstrcat(p,
                      "From: ", from, "\r\n",
                      "To: ", to, "\r\n",
                      "Subject: ", encode_header(subject, p), "\r\n",
                      "Date: ", date, "\r\n",
                      "Message-ID: <", token, "@", domain, ">\r\n",
                      "Auto-Submitted: auto-generated\r\n",
                      "MIME-Version: 1.0\r\n",
                      "Content-Type: text/plain; charset=UTF-8\r\n",
                      "Content-Transfer-Encoding: quoted-printable\r\n",
                      "\r\n", qp_encode(body, p), NULL);
    *pmsg = msg;
    *plen = strlen(msg);
    return APR_SUCCESS;
}
