/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* signerd's config file: one directive per line, '#' starts a comment.
 * Every mistake names the file and line and stops the start-up. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "ca_log.h"
#include "ca_serial.h"
#include "ca_p11uri.h"
#include "signerd.h"

#define MAX_LINE 4096

typedef struct {
    const char *path;
    int line;
} where_t;

static apr_status_t bad(const where_t *w, const char *fmt, const char *arg)
{
    char msg[512];

    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    ca_log(CA_LOG_ERR, "CA61101", APR_SUCCESS, "%s:%d: %s", w->path, w->line, msg);
    return APR_EINVAL;
}

static int parse_int(long *pv, const char *s, long min, long max)
{
    char *end;
    long v;

    if (!*s || !((*s >= '0' && *s <= '9'))) {
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) {
        return 0;
    }
    *pv = v;
    return 1;
}

/* the directives that take one value, each given at most once: text, an
 * absolute path, or a number in min..max (unit after it in messages) */
typedef enum { SET_TEXT, SET_PATH, SET_LONG, SET_INT } set_kind_t;
typedef struct {
    const char *name;
    set_kind_t kind;
    size_t offset;
    long min, max;
    const char *unit;
} setting_t;

static const setting_t settings[] = {
    { "user", SET_TEXT, offsetof(signerd_config_t, user), 0, 0, NULL },
    { "journal", SET_PATH, offsetof(signerd_config_t, journal), 0, 0, NULL },
    { "pkcs11-module", SET_PATH, offsetof(signerd_config_t, pkcs11_module), 0, 0, NULL },
    { "baud", SET_LONG, offsetof(signerd_config_t, baud), 9600, 4000000, "" },
    { "deadman", SET_INT, offsetof(signerd_config_t, deadman), 1, 86400, " seconds" },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* value for settings[k] (seen: the settings given so far, a bit each) */
static apr_status_t set_one(signerd_config_t *conf, unsigned *seen, const where_t *w,
                            size_t k, const char *value, apr_pool_t *p)
{
    const setting_t *st = &settings[k];
    char *field = (char *)conf + st->offset;
    long v;

    if (*seen & (1u << k)) {
        return bad(w, apr_pstrcat(p, st->name, " given twice%s", NULL), NULL);
    }
    *seen |= 1u << k;
    switch (st->kind) {
    case SET_PATH:
        if (value[0] != '/') {
            return bad(w, apr_pstrcat(p, st->name, " '%s' must be an absolute path", NULL),
                       value);
        }
        /* fall through */
    case SET_TEXT:
        *(const char **)field = value;
        return APR_SUCCESS;
    default:
        if (!parse_int(&v, value, st->min, st->max)) {
            return bad(w, apr_psprintf(p, "%s %%s: must be %ld..%ld%s", st->name, st->min,
                                       st->max, st->unit), value);
        }
        if (st->kind == SET_INT) {
            *(int *)field = (int)v;
        }
        else {
            *(long *)field = v;
        }
        return APR_SUCCESS;
    }
}

typedef struct {
    const char *name;
    unsigned bit;
} name_bit_t;

static const name_bit_t md_bits[] = {
    { "sha256", SIGNERD_MD_SHA256 },
    { "sha384", SIGNERD_MD_SHA384 },
    { "sha512", SIGNERD_MD_SHA512 },
    { NULL, 0 }
};

static const name_bit_t curve_bits[] = {
    { "P-256", SIGNERD_EC_P256 },
    { "P-384", SIGNERD_EC_P384 },
    { "P-521", SIGNERD_EC_P521 },
    { NULL, 0 }
};

/* name's bit in the table, 0 if it is not there */
static unsigned bit_of(const name_bit_t *t, const char *name)
{
    for (; t->name; t++) {
        if (!strcmp(name, t->name)) {
            return t->bit;
        }
    }
    return 0;
}

unsigned signerd_md_bit(const char *name)
{
    return bit_of(md_bits, name);
}

static unsigned curve_bit(const char *name)
{
    return bit_of(curve_bits, name);
}

static int url_ok(const char *s)
{
    const char *c;

    if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
        return 0;
    }
    for (c = s; *c; ++c) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7F) {
            return 0;
        }
    }
    return strlen(s) <= 1024;
}

/* a comma list of names through fn into a bit set; 0 on an unknown or
 * repeated name */
static unsigned parse_list(const char *list, unsigned (*fn)(const char *),
                           apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, list), *tok, *state = NULL;
    unsigned bits = 0, b;

    for (tok = apr_strtok(copy, ",", &state); tok; tok = apr_strtok(NULL, ",", &state)) {
        if (!(b = fn(tok)) || (bits & b)) {
            return 0;
        }
        bits |= b;
    }
    return bits;
}

static unsigned profile_bit(const char *name)
{
    ca_profile_t pr = ca_profile_from_name(name);

    return pr ? 1u << pr : 0;
}

static int valid_name(const char *s)
{
    const char *c;

    if (!*s || strlen(s) > 32) {
        return 0;
    }
    for (c = s; *c; ++c) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'
              || *c == '_')) {
            return 0;
        }
    }
    return 1;
}

static apr_status_t parse_ca(signerd_config_t *conf, const where_t *w, char **args,
                             int nargs, apr_pool_t *p)
{
    signerd_ca_t *ca;
    int i;
    long v;

    if (nargs < 1) {
        return bad(w, "ca needs a name and key=value settings%s", NULL);
    }
    if (!valid_name(args[0])) {
        return bad(w, "ca name '%s' must be 1-32 of a-z, 0-9, '-', '_'", args[0]);
    }
    if (signerd_config_ca(conf, args[0])) {
        return bad(w, "ca '%s' configured twice", args[0]);
    }
    ca = apr_pcalloc(p, sizeof(*ca));
    ca->name = args[0];
    ca->line = w->line;
    ca->max_sans = 10;
    ca->rsa_min = 2048;
    ca->curves = SIGNERD_EC_P256 | SIGNERD_EC_P384;
    ca->max_days = -1;
    ca->wildcards = -1;
    for (i = 1; i < nargs; ++i) {
        char *eq = strchr(args[i], '='), *key = args[i], *val;

        if (!eq || eq == key || !eq[1]) {
            return bad(w, "ca setting '%s' is not key=value", args[i]);
        }
        *eq = '\0';
        val = eq + 1;
#define ONCE(field) \
        if (field) { \
            return bad(w, "ca setting '%s' given twice", key); \
        }
        if (!strcmp(key, "cert")) {
            ONCE(ca->cert_path);
            ca->cert_path = val;
        }
        else if (!strcmp(key, "key")) {
            ONCE(ca->key_path);
            ca->key_path = val;
        }
        else if (!strcmp(key, "profiles")) {
            ONCE(ca->profiles);
            if (!(ca->profiles = parse_list(val, profile_bit, p))) {
                return bad(w, "profiles=%s: known profiles are client, server, codesign, "
                           "org-client, org-server (comma-separated, each once)", val);
            }
        }
        else if (!strcmp(key, "max_days")) {
            if (ca->max_days != -1) {
                return bad(w, "ca setting '%s' given twice", key);
            }
            if (!parse_int(&v, val, 1, 825)) {
                return bad(w, "max_days=%s: must be 1..825", val);
            }
            ca->max_days = (int)v;
        }
        else if (!strcmp(key, "md")) {
            ONCE(ca->mds);
            if (!(ca->mds = parse_list(val, signerd_md_bit, p))) {
                return bad(w, "md=%s: allowed are sha256, sha384, sha512", val);
            }
        }
        else if (!strcmp(key, "ocsp") || !strcmp(key, "crl") || !strcmp(key, "issuers")
                 || !strcmp(key, "cps")) {
            const char **slot = !strcmp(key, "ocsp") ? &ca->ocsp_url
                              : !strcmp(key, "crl") ? &ca->crl_url
                              : !strcmp(key, "issuers") ? &ca->issuers_url : &ca->cps_url;
            ONCE(*slot);
            if (!url_ok(val)) {
                return bad(w, "'%s' is not an http:// or https:// URL", val);
            }
            *slot = val;
        }
        else if (!strcmp(key, "wildcards")) {
            if (ca->wildcards != -1) {
                return bad(w, "ca setting '%s' given twice", key);
            }
            if (!strcmp(val, "yes")) {
                ca->wildcards = 1;
            }
            else if (!strcmp(val, "no")) {
                ca->wildcards = 0;
            }
            else {
                return bad(w, "wildcards=%s: must be yes or no", val);
            }
        }
        else if (!strcmp(key, "max_sans")) {
            if (!parse_int(&v, val, 0, 100)) {
                return bad(w, "max_sans=%s: must be 0..100", val);
            }
            ca->max_sans = (int)v;
        }
        else if (!strcmp(key, "rsa_min")) {
            if (!parse_int(&v, val, 2048, 16384)) {
                return bad(w, "rsa_min=%s: must be 2048..16384", val);
            }
            ca->rsa_min = (int)v;
        }
        else if (!strcmp(key, "ec_curves")) {
            if (!(ca->curves = parse_list(val, curve_bit, p))) {
                return bad(w, "ec_curves=%s: known curves are P-256, P-384, P-521", val);
            }
        }
        else {
            return bad(w, "unknown ca setting '%s'", key);
        }
#undef ONCE
    }
    if (!ca->cert_path || !ca->key_path) {
        return bad(w, "ca '%s' needs cert= and key=", ca->name);
    }
    if (!strncmp(ca->key_path, "pkcs11:", 7)) {
        ca_p11uri_t u;
        const char *why = ca_p11uri_parse(&u, ca->key_path, p);
        if (why) {
            return bad(w, "%s", apr_psprintf(p, "ca '%s': %s", ca->name, why));
        }
    }
    if (!ca->profiles) {
        return bad(w, "ca '%s' needs profiles=", ca->name);
    }
    if (ca->max_days < 0) {
        return bad(w, "ca '%s' needs max_days=", ca->name);
    }
    if (!ca->mds) {
        return bad(w, "ca '%s' needs md=", ca->name);
    }
    if (!ca->ocsp_url || !ca->crl_url) {
        return bad(w, "ca '%s' needs ocsp= and crl=", ca->name);
    }
    if (ca->wildcards < 0) {
        ca->wildcards = 0;
    }
    ca->revs = apr_array_make(p, 64, sizeof(ca_crl_entry_t));
    ca->rev_index = apr_hash_make_custom(p, signerd_hash);
    ca_crl_set_make(&ca->crlset, p);
    APR_ARRAY_PUSH(conf->cas, signerd_ca_t *) = ca;
    return APR_SUCCESS;
}

apr_status_t signerd_config_read(signerd_config_t **pconf, const char *path,
                                 apr_pool_t *p)
{
    signerd_config_t *conf;
    apr_status_t rv = APR_SUCCESS;
    FILE *f = NULL;
    char buf[MAX_LINE + 2];
    where_t w = { path, 0 };
    unsigned seen = 0;
    size_t k;
    int i;

    *pconf = NULL;
    conf = apr_pcalloc(p, sizeof(*conf));
    conf->path = path;
    conf->baud = 115200;
    conf->deadman = 60;
    conf->cas = apr_array_make(p, 4, sizeof(signerd_ca_t *));
    if (!(f = fopen(path, "r"))) {
        rv = APR_FROM_OS_ERROR(errno);
        ca_log(CA_LOG_ERR, "CA61102", rv, "cannot read config file %s", path);
        goto leave;
    }
    while (fgets(buf, sizeof(buf), f)) {
        char *args[64], *state = NULL, *tok, *hash;
        apr_size_t len = strlen(buf);
        int nargs = 0;

        ++w.line;
        if (len > MAX_LINE || (len && buf[len - 1] != '\n' && !feof(f))) {
            rv = bad(&w, "line longer than 4096 bytes%s", NULL);
            goto leave;
        }
        if ((hash = strchr(buf, '#'))) {
            *hash = '\0';
        }
        for (tok = apr_strtok(buf, " \t\r\n", &state); tok;
             tok = apr_strtok(NULL, " \t\r\n", &state)) {
            if (nargs == (int)(sizeof(args) / sizeof(args[0]))) {
                rv = bad(&w, "too many words%s", NULL);
                goto leave;
            }
            args[nargs++] = apr_pstrdup(p, tok);
        }
        if (nargs == 0) {
            continue;
        }
        if (!strcmp(args[0], "ca")) {
            if ((rv = parse_ca(conf, &w, args + 1, nargs - 1, p)) != APR_SUCCESS) {
                goto leave;
            }
            continue;
        }
        if (!strcmp(args[0], "openpgp")) {
            if ((rv = signerd_pgp_config(conf, path, w.line, args + 1, nargs - 1, p))
                != APR_SUCCESS) {
                goto leave;
            }
            continue;
        }
        if (nargs != 2) {
            rv = bad(&w, "'%s' takes exactly one value", args[0]);
            goto leave;
        }
        if (!strcmp(args[0], "device")) {
            /* at most two lines: one cable to each of two web hosts */
            if (conf->device2) {
                rv = bad(&w, "at most two 'device' lines%s", NULL);
                goto leave;
            }
            if (args[1][0] != '/') {
                rv = bad(&w, "device '%s' must be an absolute path", args[1]);
                goto leave;
            }
            if (conf->device && !strcmp(conf->device, args[1])) {
                rv = bad(&w, "device '%s' given twice", args[1]);
                goto leave;
            }
            if (conf->device) {
                conf->device2 = args[1];
            }
            else {
                conf->device = args[1];
            }
            continue;
        }
        for (k = 0; k < NSETTINGS && strcmp(args[0], settings[k].name); k++) {
        }
        if (k < NSETTINGS) {
            if ((rv = set_one(conf, &seen, &w, k, args[1], p)) != APR_SUCCESS) {
                goto leave;
            }
            /* a speed the line can be set to */
            if (!strcmp(args[0], "baud") && !ca_serial_speed_ok(conf->baud)) {
                rv = bad(&w, apr_pstrcat(p, "baud %s: not a standard speed (",
                                         ca_serial_speeds(), ")", NULL), args[1]);
                goto leave;
            }
        }
        else {
            rv = bad(&w, "unknown directive '%s'", args[0]);
            goto leave;
        }
    }
    if (ferror(f)) {
        rv = APR_FROM_OS_ERROR(errno);
        ca_log(CA_LOG_ERR, "CA61103", rv, "reading %s", path);
        goto leave;
    }
    w.line = 0;
    if (!conf->device) {
        rv = bad(&w, "no 'device' directive%s", NULL);
        goto leave;
    }
    if (!conf->journal) {
        rv = bad(&w, "no 'journal' directive%s", NULL);
        goto leave;
    }
    if (conf->cas->nelts == 0) {
        rv = bad(&w, "no 'ca' directive%s", NULL);
        goto leave;
    }
    for (i = 0; i < conf->cas->nelts; i++) {
        const signerd_ca_t *ca = APR_ARRAY_IDX(conf->cas, i, signerd_ca_t *);
        if (!strncmp(ca->key_path, "pkcs11:", 7) && !conf->pkcs11_module) {
            w.line = ca->line;
            rv = bad(&w, "ca %s: a pkcs11: key needs the 'pkcs11-module' directive (the "
                     "token's PKCS#11 library)", ca->name);
            goto leave;
        }
    }
    *pconf = conf;
leave:
    if (f) {
        fclose(f);
    }
    return rv;
}

signerd_ca_t *signerd_config_ca(const signerd_config_t *conf, const char *name)
{
    int i;

    for (i = 0; i < conf->cas->nelts; ++i) {
        signerd_ca_t *ca = APR_ARRAY_IDX(conf->cas, i, signerd_ca_t *);
        if (!strcmp(ca->name, name)) {
            return ca;
        }
    }
    return NULL;
}
