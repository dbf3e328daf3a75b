/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* RFC 7512 PKCS#11 URIs naming one private key: see ca_p11uri.h. */
#include <string.h>

#include <apr_strings.h>

#include "ca_p11uri.h"

#define URI_MAX 4096

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %-decodes s[0..n); NULL on a bad escape, or a NUL byte unless binary */
static unsigned char *decode(apr_size_t *plen, const char *s, apr_size_t n, int binary,
                             apr_pool_t *p)
{
    unsigned char *out = apr_palloc(p, n + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] != '%') {
            out[o++] = (unsigned char)s[i];
            continue;
        }
        if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0) {
            return NULL;
        }
        out[o++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    if (!binary && memchr(out, 0, o)) {
        return NULL;
    }
    out[o] = '\0';
    *plen = o;
    return out;
}

/* one name=value of the path; NULL or the refusal */
static const char *path_attr(ca_p11uri_t *u, int *have_type, const char *a, apr_size_t n,
                             apr_pool_t *p)
{
    static const char *const ignored[] = {
        /* the library and the slot: the token attributes say enough */
        "library-manufacturer", "library-description", "library-version",
        "slot-description", "slot-manufacturer", "slot-id", NULL
    };
    const char *eq = memchr(a, '=', n), *name;
    const unsigned char *v;
    const char **slot = NULL;
    apr_size_t vlen = 0;
    int i;

    if (!eq || eq == a) {
        return "each part of a pkcs11: URI must be name=value";
    }
    name = apr_pstrmemdup(p, a, (apr_size_t)(eq - a));
    /* an id is bytes; the other attributes are text */
    if (!(v = decode(&vlen, eq + 1, n - (apr_size_t)(eq - a) - 1, !strcmp(name, "id"), p))) {
        return apr_psprintf(p, "pkcs11: URI attribute %s: bad %%-escape or NUL byte", name);
    }
    if (!vlen) {
        return apr_psprintf(p, "pkcs11: URI attribute %s is empty", name);
    }
    if (!strcmp(name, "token")) {
        slot = &u->token;
    }
    else if (!strcmp(name, "manufacturer")) {
        slot = &u->manufacturer;
    }
    else if (!strcmp(name, "model")) {
        slot = &u->model;
    }
    else if (!strcmp(name, "serial")) {
        slot = &u->serial;
    }
    else if (!strcmp(name, "object")) {
        slot = &u->object;
    }
    else if (!strcmp(name, "id")) {
        if (u->id) {
            return "pkcs11: URI attribute id given twice";
        }
        u->id = v;
        u->id_len = vlen;
        return NULL;
    }
    else if (!strcmp(name, "type")) {
        if ((*have_type)++) {
            return "pkcs11: URI attribute type given twice";
        }
        return strcmp((const char *)v, "private")
               ? "a CA key's pkcs11: URI may only name type=private" : NULL;
    }
    else {
        for (i = 0; ignored[i]; i++) {
            if (!strcmp(name, ignored[i])) {
                return NULL;
            }
        }
        return apr_psprintf(p, "pkcs11: URI attribute %s is not known", name);
    }
    if (*slot) {
        return apr_psprintf(p, "pkcs11: URI attribute %s given twice", name);
    }
    *slot = (const char *)v;
    return NULL;
}

const char *ca_p11uri_parse(ca_p11uri_t *u, const char *uri, apr_pool_t *p)
{
    const char *s, *q, *end;
    const char *why;
    int have_type = 0;

    memset(u, 0, sizeof(*u));
    if (strncmp(uri, "pkcs11:", 7)) {
        return "not a pkcs11: URI";
    }
    if (strlen(uri) > URI_MAX) {
        return "pkcs11: URI longer than 4096 bytes";
    }
    s = uri + 7;
    end = (q = strchr(s, '?')) ? q : s + strlen(s);
    if (q && q[1]) {
        /* the query: nothing in it is taken */
        if (strstr(q, "pin-")) {
            return "a pkcs11: URI must not carry the PIN: signerd takes it at start-up "
                   "(--passphrase-file or --passphrase-fd)";
        }
        if (strstr(q, "module-")) {
            return "a pkcs11: URI must not name the module: use the 'pkcs11-module' directive";
        }
        return "a pkcs11: URI query is not taken here";
    }
    while (s < end) {
        const char *semi = memchr(s, ';', (apr_size_t)(end - s));
        const char *stop = semi ? semi : end;
        if ((why = path_attr(u, &have_type, s, (apr_size_t)(stop - s), p))) {
            return why;
        }
        s = semi ? semi + 1 : end;
        if (semi && s == end) {
            return "a pkcs11: URI must not end with ';'";
        }
    }
    if (!u->object && !u->id) {
        return "a pkcs11: URI must name the key (object=LABEL or id=%XX...)";
    }
    return NULL;
}
