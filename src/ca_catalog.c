/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Translation catalogues in gettext's .mo format: see ca_catalog.h.
 *
 * The .mo layout (GNU gettext manual, "The Format of GNU MO Files"):
 * a 28-byte header of 32-bit words (magic 0x950412de, revision, count N,
 * offset of the msgid table, offset of the translation table, hash table
 * size and offset), then the two tables of N (length, offset) pairs, each
 * pointing at a NUL-terminated string.  A msgid with a context is stored as
 * "ctxt\4msgid"; a plural msgid as "singular\0plural", its translation as
 * "form0\0form1\0...".  The entry with the empty msgid is the header.  The
 * hash table is not used: entries go into an APR hash at load. */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "ca_catalog.h"
#include "ca_form.h"

#define MO_MAGIC        0x950412deU
#define MO_MAX_FILE     (16 * 1024 * 1024)
#define MO_MAX_PLURALS  6
#define PL_MAX_DEPTH    32
#define PL_MAX_LEN      512

/* ------------------------------------------------------------------ */
/* Plural-Forms: a C expression in n                                  */

typedef enum {
    PL_NUM, PL_N, PL_NOT, PL_MUL, PL_DIV, PL_MOD, PL_ADD, PL_SUB,
    PL_LT, PL_GT, PL_LE, PL_GE, PL_EQ, PL_NE, PL_AND, PL_OR, PL_COND
} pl_op_t;

typedef struct pl_node_t {
    pl_op_t op;
    unsigned long num;
    const struct pl_node_t *a, *b, *c;
} pl_node_t;

typedef struct {
    const char *s;
    apr_pool_t *p;
    int depth;
    int bad;
} pl_parser_t;

static void pl_space(pl_parser_t *ps)
{
    while (*ps->s == ' ' || *ps->s == '\t' || *ps->s == '\n') {
        ++ps->s;
    }
}

static int pl_eat(pl_parser_t *ps, const char *tok)
{
    apr_size_t n = strlen(tok);

    pl_space(ps);
    if (strncmp(ps->s, tok, n)) {
        return 0;
    }
    /* "<" must not take the first half of "<=", "=" never stands alone */
    if (n == 1 && (tok[0] == '<' || tok[0] == '>' || tok[0] == '!')
        && ps->s[1] == '=') {
        return 0;
    }
    ps->s += n;
    return 1;
}

static pl_node_t *pl_make(pl_parser_t *ps, pl_op_t op, const pl_node_t *a,
                          const pl_node_t *b, const pl_node_t *c)
{
    pl_node_t *n = apr_pcalloc(ps->p, sizeof(*n));

    n->op = op;
    n->a = a;
    n->b = b;
    n->c = c;
    return n;
}

static const pl_node_t *pl_cond(pl_parser_t *ps);

static const pl_node_t *pl_primary(pl_parser_t *ps)
{
    const pl_node_t *e;
    pl_node_t *n;

    if (++ps->depth > PL_MAX_DEPTH) {
        ps->bad = 1;
        return NULL;
    }
    pl_space(ps);
    if (pl_eat(ps, "(")) {
        e = pl_cond(ps);
        if (!e || !pl_eat(ps, ")")) {
            ps->bad = 1;
            return NULL;
        }
    }
    else if (pl_eat(ps, "!")) {
        const pl_node_t *a = pl_primary(ps);
        e = a ? pl_make(ps, PL_NOT, a, NULL, NULL) : NULL;
    }
    else if (*ps->s == 'n') {
        ++ps->s;
        e = pl_make(ps, PL_N, NULL, NULL, NULL);
    }
    else if (*ps->s >= '0' && *ps->s <= '9') {
        n = pl_make(ps, PL_NUM, NULL, NULL, NULL);
        while (*ps->s >= '0' && *ps->s <= '9') {
            if (n->num > 100000000UL) {
                ps->bad = 1;
                return NULL;
            }
            n->num = n->num * 10 + (unsigned long)(*ps->s++ - '0');
        }
        e = n;
    }
    else {
        ps->bad = 1;
        e = NULL;
    }
    --ps->depth;
    return e;
}

/* binary operators by precedence, lowest first */
static const struct {
    const char *tok[4];
    pl_op_t op[4];
} pl_levels[] = {
    { { "||" }, { PL_OR } },
    { { "&&" }, { PL_AND } },
    { { "==", "!=" }, { PL_EQ, PL_NE } },
    { { "<=", ">=", "<", ">" }, { PL_LE, PL_GE, PL_LT, PL_GT } },
    { { "+", "-" }, { PL_ADD, PL_SUB } },
    { { "*", "/", "%" }, { PL_MUL, PL_DIV, PL_MOD } },
};
#define PL_LEVELS ((int)(sizeof(pl_levels) / sizeof(pl_levels[0])))

static const pl_node_t *pl_binary(pl_parser_t *ps, int level)
{
    const pl_node_t *a, *b;
    int i, found;

    if (level >= PL_LEVELS) {
        return pl_primary(ps);
    }
    if (++ps->depth > PL_MAX_DEPTH) {
        ps->bad = 1;
        return NULL;
    }
    a = pl_binary(ps, level + 1);
    do {
        found = 0;
        for (i = 0; a && i < 4 && pl_levels[level].tok[i]; ++i) {
            if (pl_eat(ps, pl_levels[level].tok[i])) {
                b = pl_binary(ps, level + 1);
                a = b ? pl_make(ps, pl_levels[level].op[i], a, b, NULL) : NULL;
                found = 1;
                break;
            }
        }
    } while (found && a);
    --ps->depth;
    return a;
}

static const pl_node_t *pl_cond(pl_parser_t *ps)
{
    const pl_node_t *c, *a, *b;

    if (++ps->depth > PL_MAX_DEPTH) {
        ps->bad = 1;
        return NULL;
    }
    c = pl_binary(ps, 0);
    if (c && pl_eat(ps, "?")) {
        a = pl_cond(ps);
        if (!a || !pl_eat(ps, ":")) {
            ps->bad = 1;
            return NULL;
        }
        b = pl_cond(ps);
        c = b ? pl_make(ps, PL_COND, c, a, b) : NULL;
    }
    --ps->depth;
    return c;
}

static unsigned long pl_eval(const pl_node_t *e, unsigned long n)
{
    unsigned long a, b;

    switch (e->op) {
    case PL_NUM: return e->num;
    case PL_N: return n;
    case PL_NOT: return !pl_eval(e->a, n);
    case PL_COND: return pl_eval(e->a, n) ? pl_eval(e->b, n) : pl_eval(e->c, n);
    case PL_AND: return pl_eval(e->a, n) && pl_eval(e->b, n);
    case PL_OR: return pl_eval(e->a, n) || pl_eval(e->b, n);
    default:
        break;
    }
    a = pl_eval(e->a, n);
    b = pl_eval(e->b, n);
    switch (e->op) {
    case PL_MUL: return a * b;
    case PL_DIV: return b ? a / b : 0;
    case PL_MOD: return b ? a % b : 0;
    case PL_ADD: return a + b;
    case PL_SUB: return a - b;
    case PL_LT: return a < b;
    case PL_GT: return a > b;
    case PL_LE: return a <= b;
    case PL_GE: return a >= b;
    case PL_EQ: return a == b;
    case PL_NE: return a != b;
    default: return 0;
    }
}

/* ------------------------------------------------------------------ */
/* the catalogue                                                      */

struct ca_catalog_t {
    apr_array_header_t *entries;    /* ca_catalog_entry_t */
    apr_hash_t *index;              /* "ctxt\4msgid" or "msgid" -> int + 1 */
    const char *header;
    int nplurals;
    const pl_node_t *plural;        /* NULL: n != 1 */
};

static apr_uint32_t word(const unsigned char *d, int swap)
{
    if (swap) {
        return (apr_uint32_t)d[0] << 24 | (apr_uint32_t)d[1] << 16
             | (apr_uint32_t)d[2] << 8 | (apr_uint32_t)d[3];
    }
    return (apr_uint32_t)d[3] << 24 | (apr_uint32_t)d[2] << 16
         | (apr_uint32_t)d[1] << 8 | (apr_uint32_t)d[0];
}

/* string i of the table at off: NUL-terminated inside the file */
static const char *mo_string(apr_size_t *plen, const char *data, apr_size_t len,
                             apr_uint32_t table, apr_uint32_t i, int swap)
{
    const unsigned char *d = (const unsigned char *)data;
    apr_size_t at = (apr_size_t)table + (apr_size_t)i * 8;
    apr_uint32_t slen, soff;

    if (at + 8 > len) {
        return NULL;
    }
    slen = word(d + at, swap);
    soff = word(d + at + 4, swap);
    if ((apr_size_t)soff > len || (apr_size_t)slen >= len - soff
        || data[soff + slen] != '\0') {
        return NULL;
    }
    *plen = slen;
    return data + soff;
}

static const char *header_field(const char *header, const char *field,
                                apr_size_t *pvlen)
{
    apr_size_t fl = strlen(field);
    const char *line = header;

    while (line && *line) {
        const char *nl = strchr(line, '\n');
        apr_size_t ll = nl ? (apr_size_t)(nl - line) : strlen(line);
        if (ll > fl && !strncasecmp(line, field, fl) && line[fl] == ':') {
            const char *v = line + fl + 1;
            while (*v == ' ') {
                ++v;
            }
            *pvlen = ll - (apr_size_t)(v - line);
            return v;
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static const char *parse_header(ca_catalog_t *cat, apr_pool_t *p)
{
    const char *v, *cs, *pl;
    apr_size_t vlen;
    pl_parser_t ps;
    char *expr, *end;

    v = header_field(cat->header, "Content-Type", &vlen);
    if (v) {
        char *ct = apr_pstrmemdup(p, v, vlen);
        cs = strstr(ct, "charset=");
        if (!cs || strncasecmp(cs + 8, "UTF-8", 5)
            || (cs[13] && cs[13] != ';' && cs[13] != ' ')) {
            return "the header's charset is not UTF-8";
        }
    }
    cat->nplurals = 2;
    cat->plural = NULL;
    v = header_field(cat->header, "Plural-Forms", &vlen);
    if (!v) {
        return NULL;
    }
    if (vlen > PL_MAX_LEN) {
        return "Plural-Forms is too long";
    }
    expr = apr_pstrmemdup(p, v, vlen);
    pl = strstr(expr, "nplurals=");
    if (!pl) {
        return "Plural-Forms has no nplurals=";
    }
    cat->nplurals = (int)strtol(pl + 9, &end, 10);
    if (end == pl + 9 || cat->nplurals < 1 || cat->nplurals > MO_MAX_PLURALS) {
        return "Plural-Forms: nplurals must be 1 to 6";
    }
    pl = strstr(expr, "plural=");
    if (!pl) {
        return "Plural-Forms has no plural=";
    }
    end = strchr(pl, ';');
    if (end) {
        *end = '\0';
    }
    memset(&ps, 0, sizeof(ps));
    ps.s = pl + 7;
    ps.p = p;
    cat->plural = pl_cond(&ps);
    pl_space(&ps);
    if (!cat->plural || ps.bad || *ps.s) {
        return "Plural-Forms: the plural= expression does not parse";
    }
    return NULL;
}

apr_status_t ca_catalog_parse(ca_catalog_t **pcat, const char **perr,
                              const char *data, apr_size_t len, apr_pool_t *p)
{
    const unsigned char *d = (const unsigned char *)data;
    ca_catalog_t *cat;
    apr_uint32_t count, otab, ttab, i;
    const char *err = NULL;
    int swap;

    *pcat = NULL;
    *perr = NULL;
    if (len < 28 || len > MO_MAX_FILE) {
        err = "not a .mo file (size)";
        goto leave;
    }
    if (word(d, 0) == MO_MAGIC) {
        swap = 0;
    }
    else if (word(d, 1) == MO_MAGIC) {
        swap = 1;
    }
    else {
        err = "not a .mo file (magic number)";
        goto leave;
    }
    if ((word(d + 4, swap) >> 16) > 1) {
        err = "unknown .mo revision";
        goto leave;
    }
    count = word(d + 8, swap);
    otab = word(d + 12, swap);
    ttab = word(d + 16, swap);
    if (count > len / 16 || otab > len || ttab > len
        || (apr_size_t)count * 8 > len - otab || (apr_size_t)count * 8 > len - ttab) {
        err = "the .mo tables lie outside the file";
        goto leave;
    }
    cat = apr_pcalloc(p, sizeof(*cat));
    cat->entries = apr_array_make(p, (int)count + 1, sizeof(ca_catalog_entry_t));
    cat->index = apr_hash_make(p);
    cat->header = "";
    for (i = 0; i < count; ++i) {
        apr_size_t olen, tlen, k;
        const char *o = mo_string(&olen, data, len, otab, i, swap);
        const char *t = mo_string(&tlen, data, len, ttab, i, swap);
        const char *eot, *key, *ctxt = NULL, *msgid;
        ca_catalog_entry_t *e;
        int nforms = 1;

        if (!o || !t) {
            err = apr_psprintf(p, "entry %u lies outside the file", i);
            goto leave;
        }
        if (!ca_utf8_valid(o, olen) || !ca_utf8_valid(t, tlen)) {
            err = apr_psprintf(p, "entry %u is not valid UTF-8", i);
            goto leave;
        }
        if (olen == 0) {
            cat->header = t;
            continue;
        }
        key = o;
        /* the context ends before the msgid, never inside a plural */
        eot = memchr(o, '\4', strlen(o));
        if (eot) {
            ctxt = apr_pstrmemdup(p, o, (apr_size_t)(eot - o));
            msgid = eot + 1;
        }
        else {
            msgid = o;
        }
        e = &APR_ARRAY_PUSH(cat->entries, ca_catalog_entry_t);
        e->ctxt = ctxt;
        e->msgid = msgid;
        e->msgid_plural = NULL;
        if (strlen(o) < olen) {
            e->msgid_plural = o + strlen(o) + 1;
        }
        for (k = 0; k < tlen; ++k) {
            nforms += t[k] == '\0';
        }
        if (nforms > MO_MAX_PLURALS) {
            err = apr_psprintf(p, "entry %u has more than %d forms", i, MO_MAX_PLURALS);
            goto leave;
        }
        e->forms = apr_palloc(p, sizeof(const char *) * (apr_size_t)nforms);
        e->nforms = nforms;
        for (k = 0; k < (apr_size_t)nforms; ++k) {
            e->forms[k] = t;
            t += strlen(t) + 1;
        }
        apr_hash_set(cat->index, key, (apr_ssize_t)strlen(key),
                     (void *)(apr_uintptr_t)cat->entries->nelts);
    }
    if ((err = parse_header(cat, p)) != NULL) {
        goto leave;
    }
    *pcat = cat;
leave:
    if (err) {
        *perr = err;
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t ca_catalog_load(ca_catalog_t **pcat, const char **perr,
                             const char *path, apr_pool_t *p)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_size_t n = 0;
    char *buf;
    apr_status_t rv;

    *pcat = NULL;
    *perr = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv != APR_SUCCESS) {
        *perr = "cannot open";
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS || fi.size < 0 || fi.size > MO_MAX_FILE) {
        *perr = "cannot read its size, or larger than 16 MiB";
        apr_file_close(f);
        return rv != APR_SUCCESS ? rv : APR_EINVAL;
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    if (fi.size > 0) {
        rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &n);
    }
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        *perr = "cannot read";
        return rv;
    }
    buf[n] = '\0';
    return ca_catalog_parse(pcat, perr, buf, n, p);
}

int ca_catalog_count(const ca_catalog_t *cat)
{
    return cat->entries->nelts;
}

const ca_catalog_entry_t *ca_catalog_entry(const ca_catalog_t *cat, int i)
{
    if (i < 0 || i >= cat->entries->nelts) {
        return NULL;
    }
    return &APR_ARRAY_IDX(cat->entries, i, ca_catalog_entry_t);
}

int ca_catalog_find(const ca_catalog_t *cat, const char *ctxt, const char *msgid)
{
    char buf[512], *key = NULL;
    apr_size_t cl, ml;
    void *v;

    if (!msgid) {
        return -1;
    }
    if (!ctxt) {
        v = apr_hash_get(cat->index, msgid, APR_HASH_KEY_STRING);
        return v ? (int)(apr_uintptr_t)v - 1 : -1;
    }
    cl = strlen(ctxt);
    ml = strlen(msgid);
    key = cl + ml + 2 <= sizeof(buf) ? buf : malloc(cl + ml + 2);
    if (!key) {
        return -1;
    }
    memcpy(key, ctxt, cl);
    key[cl] = '\4';
    memcpy(key + cl + 1, msgid, ml + 1);
    v = apr_hash_get(cat->index, key, (apr_ssize_t)(cl + ml + 1));
    if (key != buf) {
        free(key);
    }
    return v ? (int)(apr_uintptr_t)v - 1 : -1;
}

const char *ca_catalog_get(const ca_catalog_t *cat, const char *ctxt,
                           const char *msgid)
{
    int i = ca_catalog_find(cat, ctxt, msgid);

    return i < 0 ? NULL : APR_ARRAY_IDX(cat->entries, i, ca_catalog_entry_t).forms[0];
}

int ca_catalog_plural(const ca_catalog_t *cat, unsigned long n)
{
    unsigned long k = cat->plural ? pl_eval(cat->plural, n) : (n != 1);

    return k < (unsigned long)cat->nplurals ? (int)k : 0;
}

int ca_catalog_nplurals(const ca_catalog_t *cat)
{
    return cat->nplurals;
}

const char *ca_catalog_header(const ca_catalog_t *cat, const char *field,
                              apr_pool_t *p)
{
    apr_size_t vlen;
    const char *v = header_field(cat->header, field, &vlen);

    return v ? apr_pstrmemdup(p, v, vlen) : NULL;
}
