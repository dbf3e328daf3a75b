/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Template renderer (a logic-less Mustache subset) and the per-language
 * template/message store.  See ca_tmpl.h for the syntax.
 *
 * A template is first parsed into a small tree (text, variable, section,
 * inverted section, partial), then the tree is rendered into a growing
 * buffer.  Parsing never copies text: nodes point into the source.
 *
 * Like Mustache, a section, inverted section, section end, comment or
 * partial tag that stands alone on its line ("standalone") takes the whole
 * line with it: the indentation before it and the line end after it are
 * not output.  This keeps mail texts with sections readable.
 *
 * Hostile templates cannot loop or exhaust memory: sections and partials
 * together nest at most CA_TMPL_MAX_DEPTH deep, the output is bounded by
 * max_out, and the number of nodes visited is bounded by a work budget
 * derived from max_out (this stops e.g. a partial that includes itself
 * three times from taking 3^16 steps while producing nothing). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>

#include "ca_log.h"
#include "ca_form.h"
#include "ca_catalog.h"
#include "ca_tmpl.h"

#define CA_TMPL_MAX_DEPTH   16
#define CA_TMPL_MAX_NAME    256
#define CA_I18N_MAX_OUT     (1024 * 1024)
#define CA_I18N_MAX_FILE    (1024 * 1024)
#define CA_I18N_MAX_SUBDIRS 8
#define CA_I18N_MAX_TAGLEN  12          /* "abc-12345678" */
#define CA_AL_MAX_RANGES    32
#define CA_AL_MAX_LEN       4096

/* ------------------------------------------------------------------ */
/* contexts                                                           */

typedef struct {
    const char *str;                /* string value, or NULL for a list */
    apr_array_header_t *items;      /* list of ca_tmpl_ctx_t *, or NULL */
} tmpl_val_t;

/* A context holds its first CTX_LINEAR variables in a small unordered
 * array, searched from end to end: a list item (a table row) has a
 * handful of them, and a hash table made for each would cost more than
 * the lookups it saves.  Past CTX_LINEAR (a page's root context) they go
 * into a hash table, which then holds every variable of the context. */
#define CTX_LINEAR 16

typedef struct {
    const char *name;
    apr_size_t len;
    tmpl_val_t val;
} tmpl_var_t;

struct ca_tmpl_ctx_t {
    ca_tmpl_ctx_t *parent;
    apr_pool_t *pool;
    tmpl_var_t *list;               /* up to CTX_LINEAR variables, or NULL */
    int n;
    apr_hash_t *vars;               /* name -> tmpl_val_t: all of them, once
                                     * there were more than CTX_LINEAR */
};

ca_tmpl_ctx_t *ca_tmpl_ctx_make(ca_tmpl_ctx_t *parent, apr_pool_t *p)
{
    ca_tmpl_ctx_t *ctx = apr_pcalloc(p, sizeof(*ctx));

    ctx->parent = parent;
    ctx->pool = p;
    return ctx;
}

/* the variable name[0..len) of ctx itself (not its parents), or NULL */
static tmpl_val_t *ctx_own(const ca_tmpl_ctx_t *ctx, const char *name, apr_size_t len)
{
    int i;

    if (ctx->vars) {
        return apr_hash_get(ctx->vars, name, (apr_ssize_t)len);
    }
    for (i = 0; i < ctx->n; i++) {
        tmpl_var_t *e = &ctx->list[i];
        if (e->len == len && e->name[0] == name[0] && !memcmp(e->name, name, len)) {
            return &e->val;
        }
    }
    return NULL;
}

/* the variable name of ctx, made empty if it was not there; the name is
 * copied when copy_name */
static tmpl_val_t *ctx_slot(ca_tmpl_ctx_t *ctx, const char *name, int copy_name)
{
    apr_size_t len = strlen(name);
    tmpl_val_t *v = ctx_own(ctx, name, len);
    const char *nm;
    int i;

    if (v) {
        return v;
    }
    nm = copy_name ? apr_pstrmemdup(ctx->pool, name, len) : name;
    if (!ctx->vars && ctx->n < CTX_LINEAR) {
        tmpl_var_t *e;
        if (!ctx->list) {
            ctx->list = apr_palloc(ctx->pool, CTX_LINEAR * sizeof(*ctx->list));
        }
        e = &ctx->list[ctx->n++];
        e->name = nm;
        e->len = len;
        e->val.str = NULL;
        e->val.items = NULL;
        return &e->val;
    }
    if (!ctx->vars) {
        /* the array no longer changes: the hash table points into it */
        ctx->vars = apr_hash_make(ctx->pool);
        for (i = 0; i < ctx->n; i++) {
            apr_hash_set(ctx->vars, ctx->list[i].name, (apr_ssize_t)ctx->list[i].len,
                         &ctx->list[i].val);
        }
    }
    v = apr_pcalloc(ctx->pool, sizeof(*v));
    apr_hash_set(ctx->vars, nm, (apr_ssize_t)len, v);
    return v;
}

static void ctx_unset(ca_tmpl_ctx_t *ctx, const char *name)
{
    apr_size_t len = strlen(name);
    int i;

    if (ctx->vars) {
        apr_hash_set(ctx->vars, name, (apr_ssize_t)len, NULL);
        return;
    }
    for (i = 0; i < ctx->n; i++) {
        if (ctx->list[i].len == len && !memcmp(ctx->list[i].name, name, len)) {
            ctx->list[i] = ctx->list[--ctx->n];
            return;
        }
    }
}

static void tmpl_set(ca_tmpl_ctx_t *ctx, const char *name, const char *value, int copy_name,
                     int copy_value)
{
    tmpl_val_t *v;

    if (!ctx || !name) {
        return;
    }
    if (!value) {
        ctx_unset(ctx, name);
        return;
    }
    v = ctx_slot(ctx, name, copy_name);
    v->str = copy_value ? apr_pstrdup(ctx->pool, value) : value;
    v->items = NULL;
}

void ca_tmpl_set(ca_tmpl_ctx_t *ctx, const char *name, const char *value)
{
    tmpl_set(ctx, name, value, 1, 1);
}

void ca_tmpl_set_static(ca_tmpl_ctx_t *ctx, const char *name, const char *value)
{
    tmpl_set(ctx, name, value, 0, 1);
}

void ca_tmpl_set_ref(ca_tmpl_ctx_t *ctx, const char *name, const char *value)
{
    tmpl_set(ctx, name, value, 0, 0);
}

void ca_tmpl_setf(ca_tmpl_ctx_t *ctx, const char *name, const char *fmt, ...)
{
    va_list ap;
    const char *s;

    if (!ctx || !name || !fmt) {
        return;
    }
    va_start(ap, fmt);
    s = apr_pvsprintf(ctx->pool, fmt, ap);
    va_end(ap);
    ca_tmpl_set(ctx, name, s);
}

ca_tmpl_ctx_t *ca_tmpl_add_item(ca_tmpl_ctx_t *ctx, const char *name)
{
    tmpl_val_t *v;
    ca_tmpl_ctx_t *item;

    v = ctx_slot(ctx, name, 1);
    if (!v->items) {
        /* a string of the same name is replaced by the list */
        v->str = NULL;
        v->items = apr_array_make(ctx->pool, 8, sizeof(ca_tmpl_ctx_t *));
    }
    item = ca_tmpl_ctx_make(ctx, ctx->pool);
    APR_ARRAY_PUSH(v->items, ca_tmpl_ctx_t *) = item;
    return item;
}

static const tmpl_val_t *ctx_chain_lookup(const ca_tmpl_ctx_t *ctx,
                                          const char *name, apr_size_t len)
{
    const tmpl_val_t *v;

    for (; ctx; ctx = ctx->parent) {
        if ((v = ctx_own(ctx, name, len)) != NULL) {
            return v;
        }
    }
    return NULL;
}

const char *ca_tmpl_get(const ca_tmpl_ctx_t *ctx, const char *name)
{
    const tmpl_val_t *v;

    if (!name) {
        return NULL;
    }
    v = ctx_chain_lookup(ctx, name, strlen(name));
    return v ? v->str : NULL;
}

/* ------------------------------------------------------------------ */
/* HTML escaping                                                      */

static const char *html_repl(unsigned char c)
{
    switch (c) {
    case '&':  return "&amp;";
    case '<':  return "&lt;";
    case '>':  return "&gt;";
    case '"':  return "&quot;";
    case '\'': return "&#39;";
    case '/':  return "&#x2F;";
    default:   return NULL;
    }
}

static int html_special(unsigned char c)
{
    return c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '/';
}

const char *ca_html_escape(const char *s, apr_pool_t *p)
{
    apr_size_t n = 0, i;
    const char *r;
    char *out, *o;

    if (!s) {
        return "";
    }
    for (i = 0; s[i]; ++i) {
        if ((r = html_repl((unsigned char)s[i])) != NULL) {
            n += strlen(r) - 1;
        }
    }
    if (n == 0) {
        return s;
    }
    o = out = apr_palloc(p, i + n + 1);
    for (i = 0; s[i]; ++i) {
        if ((r = html_repl((unsigned char)s[i])) != NULL) {
            apr_size_t rl = strlen(r);
            memcpy(o, r, rl);
            o += rl;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* ------------------------------------------------------------------ */
/* parser                                                             */

typedef enum {
    N_TEXT, N_VAR, N_SECTION, N_INVERTED, N_PARTIAL, N_TRANS
} node_type_t;

/* what a value tag does with its value: {{name}}, {{name|date}}, ... */
typedef enum {
    F_NONE, F_DATE, F_DATETIME, F_NUM
} filter_t;

typedef struct {
    node_type_t type;
    const char *s;                  /* text, or name (not NUL-terminated) */
    apr_size_t len;
    apr_array_header_t *kids;       /* sections, translations: node_t */
    filter_t filter;                /* N_VAR */
    /* N_TRANS: the message id (whitespace folded in HTML), kids its
     * English text; plural: msgid_plural and kids2 its English text, the
     * count's name in s/len */
    const char *msgid, *msgid_plural;
    apr_array_header_t *kids2;
    int msg;                        /* the store's number for msgid, or -1 */
} node_t;

typedef struct {
    const char *src;
    apr_size_t len;
    apr_size_t pos;
    int line_start;                 /* pos is at the start of a line */
    int html;                       /* fold whitespace in message ids */
    int fragment;                   /* a translation: text and values only */
    apr_pool_t *p;
    const char *err;
    apr_size_t err_pos;
} parser_t;

static int name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int valid_name(const char *s, apr_size_t len, int partial)
{
    apr_size_t i;

    if (len == 0 || len > CA_TMPL_MAX_NAME) {
        return 0;
    }
    for (i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)s[i];
        /* partial names are template names, which may be paths */
        if (!name_char(c) && !(partial && c == '/')) {
            return 0;
        }
    }
    return 1;
}

static apr_status_t parse_fail(parser_t *ps, apr_size_t at, const char *msg)
{
    ps->err = msg;
    ps->err_pos = at;
    return APR_EINVAL;
}

/* position of the next c doubled ("{{", "}}") at or after from, or len */
static apr_size_t find_double(const char *s, apr_size_t len, apr_size_t from, char c)
{
    while (from + 1 < len) {
        const char *q = memchr(s + from, c, len - from - 1);
        if (!q) {
            break;
        }
        from = (apr_size_t)(q - s);
        if (s[from + 1] == c) {
            return from;
        }
        ++from;
    }
    return len;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Is the tag [tag_start, tag_end) alone on its line?  If so, *pline is
 * where the line's indentation begins and *pafter where the next line
 * begins. */
static int standalone(const parser_t *ps, apr_size_t text_start,
                      apr_size_t tag_start, apr_size_t tag_end,
                      apr_size_t *pline, apr_size_t *pafter)
{
    const char *s = ps->src;
    apr_size_t i = tag_start, j = tag_end;

    while (i > text_start && is_blank(s[i - 1])) {
        --i;
    }
    if (i == text_start) {
        if (!ps->line_start) {
            return 0;
        }
    }
    else if (s[i - 1] != '\n') {
        return 0;
    }
    while (j < ps->len && is_blank(s[j])) {
        ++j;
    }
    if (j < ps->len) {
        if (s[j] == '\n') {
            ++j;
        }
        else if (s[j] == '\r' && j + 1 < ps->len && s[j + 1] == '\n') {
            j += 2;
        }
        else {
            return 0;
        }
    }
    *pline = i;
    *pafter = j;
    return 1;
}

static node_t *push_node(apr_array_header_t *nodes, node_type_t type,
                         const char *s, apr_size_t len, apr_array_header_t *kids)
{
    node_t *n = &APR_ARRAY_PUSH(nodes, node_t);

    memset(n, 0, sizeof(*n));
    n->msg = -1;
    n->type = type;
    n->s = s;
    n->len = len;
    n->kids = kids;
    return n;
}

/* a value tag's content: name, or name|filter */
static apr_status_t push_var(apr_array_header_t *nodes, parser_t *ps,
                             apr_size_t tag, apr_size_t cs, apr_size_t ce)
{
    const char *c = ps->src + cs, *bar = memchr(c, '|', ce - cs);
    apr_size_t nl = bar ? (apr_size_t)(bar - c) : ce - cs;
    filter_t f = F_NONE;
    node_t *n;

    if (bar) {
        apr_size_t fl = ce - cs - nl - 1;
        if (fl == 4 && !memcmp(bar + 1, "date", 4)) {
            f = F_DATE;
        }
        else if (fl == 8 && !memcmp(bar + 1, "datetime", 8)) {
            f = F_DATETIME;
        }
        else if (fl == 3 && !memcmp(bar + 1, "num", 3)) {
            f = F_NUM;
        }
        else {
            return parse_fail(ps, tag, "unknown filter (date, datetime or num)");
        }
    }
    if (!valid_name(c, nl, 0)) {
        return parse_fail(ps, tag, "bad tag name");
    }
    n = push_node(nodes, N_VAR, c, nl, NULL);
    n->filter = f;
    return APR_SUCCESS;
}

/* the message id of [s, e): in HTML, runs of white space fold to one space */
static const char *make_msgid(const parser_t *ps, apr_size_t s, apr_size_t e)
{
    char *id = apr_palloc(ps->p, e - s + 1), *o = id;
    apr_size_t i;

    for (i = s; i < e; ++i) {
        char c = ps->src[i];
        if (ps->html && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
            if (o == id || o[-1] != ' ') {
                *o++ = ' ';
            }
            continue;
        }
        *o++ = c;
    }
    *o = '\0';
    return id;
}

/* The text of a translation mark, after {{_}} or {{_n count}}: text and
 * value tags up to {{/_}} (and one {{|}} between the forms of a plural). */
static apr_status_t parse_trans(node_t *tn, parser_t *ps, apr_size_t open_pos,
                                int plural)
{
    apr_array_header_t *nodes = apr_array_make(ps->p, 4, sizeof(node_t));
    apr_size_t start = ps->pos;
    apr_status_t rv;

    tn->kids = nodes;
    while (ps->pos < ps->len) {
        apr_size_t tag, end, cs, ce;

        tag = find_double(ps->src, ps->len, ps->pos, '{');
        if (tag >= ps->len) {
            break;
        }
        end = find_double(ps->src, ps->len, tag + 2, '}');
        if (end >= ps->len) {
            return parse_fail(ps, tag, "unclosed tag");
        }
        if (tag > ps->pos) {
            push_node(nodes, N_TEXT, ps->src + ps->pos, tag - ps->pos, NULL);
        }
        ps->pos = end + 2;
        cs = tag + 2;
        ce = end;
        while (cs < ce && is_blank(ps->src[cs])) {
            ++cs;
        }
        while (ce > cs && is_blank(ps->src[ce - 1])) {
            --ce;
        }
        if (ce - cs == 2 && !memcmp(ps->src + cs, "/_", 2)) {
            if (plural && !tn->kids2) {
                return parse_fail(ps, tag, "a plural message needs {{|}} "
                                  "between its two forms");
            }
            if (plural) {
                tn->msgid_plural = make_msgid(ps, start, tag);
            }
            else {
                tn->msgid = make_msgid(ps, start, tag);
            }
            if (!*(plural ? tn->msgid_plural : tn->msgid) || !*tn->msgid) {
                return parse_fail(ps, tag, "empty message");
            }
            ps->line_start = 0;
            return APR_SUCCESS;
        }
        if (ce - cs == 1 && ps->src[cs] == '|') {
            if (!plural || tn->kids2) {
                return parse_fail(ps, tag, "{{|}} outside a plural message");
            }
            tn->msgid = make_msgid(ps, start, tag);
            nodes = tn->kids2 = apr_array_make(ps->p, 4, sizeof(node_t));
            start = ps->pos;
            continue;
        }
        if (cs < ce && strchr("#^/!>_|", ps->src[cs])) {
            return parse_fail(ps, tag, "a message may hold only text and values");
        }
        if ((rv = push_var(nodes, ps, tag, cs, ce)) != APR_SUCCESS) {
            return rv;
        }
    }
    return parse_fail(ps, open_pos, "message without {{/_}}");
}

/* Parse nodes until EOF (close == NULL) or until {{/close}}. */
static apr_status_t parse_block(apr_array_header_t **pnodes, parser_t *ps,
                                const char *close, apr_size_t closelen,
                                apr_size_t open_pos, int depth)
{
    apr_array_header_t *nodes = apr_array_make(ps->p, 8, sizeof(node_t));
    apr_status_t rv = APR_SUCCESS;

    *pnodes = nodes;
    while (ps->pos < ps->len) {
        apr_size_t text_start = ps->pos, tag, end, text_end, after;
        apr_size_t cs, ce, line, next;
        char sigil = 0;
        apr_array_header_t *kids;

        tag = find_double(ps->src, ps->len, ps->pos, '{');
        if (tag >= ps->len) {
            push_node(nodes, N_TEXT, ps->src + text_start, ps->len - text_start, NULL);
            ps->pos = ps->len;
            break;
        }
        end = find_double(ps->src, ps->len, tag + 2, '}');
        if (end >= ps->len) {
            return parse_fail(ps, tag, "unclosed tag");
        }
        after = end + 2;
        cs = tag + 2;
        ce = end;
        if (cs < ce && ps->src[cs] && strchr("#^/!>", ps->src[cs])) {
            sigil = ps->src[cs++];
        }
        if (sigil != '!') {
            while (cs < ce && is_blank(ps->src[cs])) {
                ++cs;
            }
            while (ce > cs && is_blank(ps->src[ce - 1])) {
                --ce;
            }
        }
        if (ps->fragment && sigil) {
            return parse_fail(ps, tag, "a message may hold only text and values");
        }
        if (!sigil && cs < ce && ps->src[cs] == '_'
            && (ce - cs == 1 || (ce - cs > 3 && !memcmp(ps->src + cs, "_n ", 3)))) {
            /* {{_}}text{{/_}} or {{_n count}}one{{|}}many{{/_}} */
            apr_size_t ns = cs + 2;
            node_t *tn;

            if (ps->fragment) {
                return parse_fail(ps, tag, "a message may hold only text and values");
            }
            while (ns < ce && is_blank(ps->src[ns])) {
                ++ns;
            }
            if (ce - cs > 1 && !valid_name(ps->src + ns, ce - ns, 0)) {
                return parse_fail(ps, tag, "bad count name");
            }
            if (tag > text_start) {
                push_node(nodes, N_TEXT, ps->src + text_start, tag - text_start, NULL);
            }
            ps->pos = after;
            tn = push_node(nodes, N_TRANS, ps->src + ns, ce - cs > 1 ? ce - ns : 0,
                           NULL);
            rv = parse_trans(tn, ps, tag, ce - cs > 1);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            continue;
        }
        if (sigil != '!' && sigil
            && !valid_name(ps->src + cs, ce - cs, sigil == '>')) {
            return parse_fail(ps, tag, "bad tag name");
        }
        text_end = tag;
        next = after;
        if (sigil && standalone(ps, text_start, tag, after, &line, &next)) {
            text_end = line;
            ps->line_start = 1;
        }
        else {
            next = after;
            ps->line_start = 0;
        }
        if (text_end > text_start) {
            push_node(nodes, N_TEXT, ps->src + text_start, text_end - text_start, NULL);
        }
        ps->pos = next;

        switch (sigil) {
        case '#':
        case '^':
            if (depth + 1 > CA_TMPL_MAX_DEPTH) {
                return parse_fail(ps, tag, "sections nested too deep");
            }
            rv = parse_block(&kids, ps, ps->src + cs, ce - cs, tag, depth + 1);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            push_node(nodes, sigil == '#' ? N_SECTION : N_INVERTED,
                      ps->src + cs, ce - cs, kids);
            break;
        case '/':
            if (!close) {
                return parse_fail(ps, tag, "section end without start");
            }
            if (ce - cs != closelen || memcmp(ps->src + cs, close, closelen)) {
                return parse_fail(ps, tag, "section end does not match its start");
            }
            return APR_SUCCESS;
        case '!':
            break;
        case '>':
            push_node(nodes, N_PARTIAL, ps->src + cs, ce - cs, NULL);
            break;
        default:
            if ((rv = push_var(nodes, ps, tag, cs, ce)) != APR_SUCCESS) {
                return rv;
            }
            break;
        }
    }
    if (close) {
        return parse_fail(ps, open_pos, "unclosed section");
    }
    return rv;
}

static apr_size_t line_of(const char *s, apr_size_t pos)
{
    apr_size_t line = 1, i;

    for (i = 0; i < pos; ++i) {
        if (s[i] == '\n') {
            ++line;
        }
    }
    return line;
}

/* html: fold white space in message ids; fragment: a translation (text
 * and values only) */
static apr_status_t tmpl_parse(apr_array_header_t **pnodes, const char **perr,
                               const char *what, int html, int fragment,
                               const char *src, apr_size_t len, apr_pool_t *p)
{
    parser_t ps;
    apr_status_t rv;

    memset(&ps, 0, sizeof(ps));
    ps.src = src;
    ps.len = len;
    ps.line_start = 1;
    ps.html = html;
    ps.fragment = fragment;
    ps.p = p;
    rv = parse_block(pnodes, &ps, NULL, 0, 0, 0);
    if (rv != APR_SUCCESS) {
        *perr = apr_psprintf(p, "%s%sline %" APR_SIZE_T_FMT ": %s",
                             what ? what : "", what ? ", " : "",
                             line_of(src, ps.err_pos), ps.err);
    }
    return rv;
}

/* ------------------------------------------------------------------ */
/* renderer                                                           */

typedef struct frame_t {
    const ca_tmpl_ctx_t *ctx;
    const struct frame_t *next;     /* NULL: ctx is the root context */
} frame_t;

typedef struct {
    apr_array_header_t *nodes;      /* NULL if it failed to parse */
    const char *err;
} partial_t;

/* a language's translations and formats; the English source has no
 * catalogue and the formats below */
typedef struct {
    const ca_catalog_t *cat;        /* NULL: the templates' own text */
    apr_array_header_t ***forms;    /* entry -> form -> nodes; NULL: unusable */
    apr_array_header_t ***by_msg;   /* the store's message number -> forms */
    apr_hash_t *msgs;               /* messages.txt key -> translated text */
    const char *date_fmt, *datetime_fmt, *thousands;
    const char *month[12];
} tr_t;

static const tr_t tr_source = {
    NULL, NULL, NULL, NULL, "{{day}} {{month}} {{year}}", "{{day}} {{month}} {{year}}, {{time}} UTC",
    ",", { "January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December" }
};

typedef struct {
    const char *src;
    apr_array_header_t *nodes;
    int html;
} tmpl_t;

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap, max;
    int escape;
    ca_tmpl_loader_fn *loader;
    void *baton;
    apr_hash_t *trees;              /* name -> tmpl_t, parsed at load */
    apr_hash_t *partials;           /* name -> partial_t, per render */
    const tr_t *tr;
    apr_size_t steps, max_steps;
    const char *err;
} rstate_t;

static apr_status_t render_fail(rstate_t *st, const char *msg)
{
    if (!st->err) {
        st->err = msg;
    }
    return APR_EINVAL;
}

static apr_status_t out_reserve(rstate_t *st, apr_size_t n)
{
    apr_size_t cap;
    char *nb;

    if (n > st->max - st->len) {
        return render_fail(st, apr_psprintf(st->p, "output larger than %"
                                            APR_SIZE_T_FMT " bytes", st->max));
    }
    if (st->len + n + 1 <= st->cap) {
        return APR_SUCCESS;
    }
    cap = st->cap ? st->cap : 256;
    while (cap < st->len + n + 1) {
        cap *= 2;
    }
    if (cap > st->max + 1) {
        cap = st->max + 1;
    }
    nb = apr_palloc(st->p, cap);
    if (st->len) {
        memcpy(nb, st->buf, st->len);
    }
    st->buf = nb;
    st->cap = cap;
    return APR_SUCCESS;
}

static apr_status_t out_raw(rstate_t *st, const char *s, apr_size_t n)
{
    apr_status_t rv;

    if (n == 0) {
        return APR_SUCCESS;
    }
    if ((rv = out_reserve(st, n)) != APR_SUCCESS) {
        return rv;
    }
    memcpy(st->buf + st->len, s, n);
    st->len += n;
    return APR_SUCCESS;
}

/* s[0..n) escaped for HTML */
static apr_status_t out_escaped(rstate_t *st, const char *s, apr_size_t n)
{
    apr_status_t rv;
    const char *run = s, *end = s + n;

    for (; s < end; ++s) {
        const char *r;
        if (!html_special((unsigned char)*s)) {
            continue;
        }
        if ((rv = out_raw(st, run, (apr_size_t)(s - run))) != APR_SUCCESS) {
            return rv;
        }
        r = html_repl((unsigned char)*s);
        if ((rv = out_raw(st, r, strlen(r))) != APR_SUCCESS) {
            return rv;
        }
        run = s + 1;
    }
    return out_raw(st, run, (apr_size_t)(s - run));
}

static const tmpl_val_t *lookup(const frame_t *fr, const char *name, apr_size_t len)
{
    const tmpl_val_t *v;

    for (; fr; fr = fr->next) {
        if (!fr->next) {
            return ctx_chain_lookup(fr->ctx, name, len);
        }
        if ((v = ctx_own(fr->ctx, name, len)) != NULL) {
            return v;
        }
    }
    return NULL;
}

static apr_status_t render_nodes(rstate_t *st, const apr_array_header_t *nodes,
                                 const frame_t *fr, int depth);

static int all_digits(const char *s, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return n > 0;
}

/* a value as the template inserts it: escaped in HTML */
static apr_status_t out_value(rstate_t *st, const char *s, apr_size_t n)
{
    return st->escape ? out_escaped(st, s, n) : out_raw(st, s, n);
}

/* fmt with {{day}}, {{month}}, {{year}} and {{time}} replaced, written
 * out as a value (escaping, when there is, goes character by character:
 * the pieces escaped one by one come out as the whole would) */
static apr_status_t out_date(rstate_t *st, const char *fmt, const char *day,
                             const char *month, const char *year, const char *time)
{
    static const char *const names[] = { "{{day}}", "{{month}}", "{{year}}", "{{time}}" };
    static const apr_size_t lens[] = { 7, 9, 8, 8 };
    const char *vals[4];
    apr_status_t rv;
    int k;

    vals[0] = day;
    vals[1] = month;
    vals[2] = year;
    vals[3] = time;
    while (*fmt) {
        const char *next = strstr(fmt, "{{");
        if (!next) {
            return out_value(st, fmt, strlen(fmt));
        }
        if ((rv = out_value(st, fmt, (apr_size_t)(next - fmt))) != APR_SUCCESS) {
            return rv;
        }
        for (k = 0; k < 4; ++k) {
            if (!strncmp(next, names[k], lens[k])) {
                if ((rv = out_value(st, vals[k], strlen(vals[k]))) != APR_SUCCESS) {
                    return rv;
                }
                fmt = next + lens[k];
                break;
            }
        }
        if (k == 4) {
            if ((rv = out_value(st, "{{", 2)) != APR_SUCCESS) {
                return rv;
            }
            fmt = next + 2;
        }
    }
    return APR_SUCCESS;
}

/* {{x|date}} "YYYY-MM-DD[ HH:MM[:SS]]", {{x|datetime}}, {{x|num}} digits,
 * written out; a value of another shape is shown as it is */
static apr_status_t out_filtered(rstate_t *st, filter_t f, const char *v)
{
    const tr_t *tr = st->tr ? st->tr : &tr_source;
    apr_size_t n = strlen(v);

    if (f == F_NUM) {
        apr_size_t neg = v[0] == '-', digits = n - neg, i, o = 0;
        apr_size_t sl = strlen(tr->thousands);
        char *out;

        if (!all_digits(v + neg, digits) || digits <= 3) {
            return out_value(st, v, n);
        }
        out = apr_palloc(st->p, n + (digits / 3) * sl + 1);
        if (neg) {
            out[o++] = '-';
        }
        for (i = 0; i < digits; ++i) {
            if (i > 0 && (digits - i) % 3 == 0) {
                memcpy(out + o, tr->thousands, sl);
                o += sl;
            }
            out[o++] = v[neg + i];
        }
        return out_value(st, out, o);
    }
    if ((n == 10 || n == 16 || n == 19) && all_digits(v, 4) && v[4] == '-'
        && all_digits(v + 5, 2) && v[7] == '-' && all_digits(v + 8, 2)
        && (n == 10 || ((v[10] == ' ' || v[10] == 'T') && all_digits(v + 11, 2)
                        && v[13] == ':' && all_digits(v + 14, 2)
                        && (n == 16 || (v[16] == ':' && all_digits(v + 17, 2)))))) {
        int mon = (v[5] - '0') * 10 + (v[6] - '0');
        int day = (v[8] - '0') * 10 + (v[9] - '0');
        char dd[3], yyyy[5], hhmm[6];

        if (mon < 1 || mon > 12 || day < 1 || day > 31) {
            return out_value(st, v, n);
        }
        /* the day without a leading zero */
        dd[0] = day >= 10 ? (char)('0' + day / 10) : (char)('0' + day);
        dd[1] = day >= 10 ? (char)('0' + day % 10) : '\0';
        dd[2] = '\0';
        memcpy(yyyy, v, 4);
        yyyy[4] = '\0';
        if (n > 10) {
            memcpy(hhmm, v + 11, 5);
        }
        hhmm[n > 10 ? 5 : 0] = '\0';
        return out_date(st, f == F_DATETIME && n > 10 ? tr->datetime_fmt : tr->date_fmt,
                        dd, tr->month[mon - 1], yyyy, hhmm);
    }
    return out_value(st, v, n);
}

/* the nodes that say a translation mark's message in the language */
static const apr_array_header_t *trans_nodes(rstate_t *st, const node_t *n,
                                             const frame_t *fr)
{
    unsigned long count = 0;
    int i, form;

    if (n->kids2) {
        const tmpl_val_t *v = lookup(fr, n->s, n->len);
        if (v && v->str && all_digits(v->str, strlen(v->str))
            && strlen(v->str) < 10) {
            count = strtoul(v->str, NULL, 10);
        }
    }
    /* every message of the store's templates was looked up at load */
    if (st->tr && st->tr->by_msg && (i = n->msg) >= 0 && st->tr->by_msg[i]) {
        form = n->kids2 ? ca_catalog_plural(st->tr->cat, count) : 0;
        if (st->tr->by_msg[i][form]) {
            return st->tr->by_msg[i][form];
        }
    }
    return n->kids2 && count != 1 ? n->kids2 : n->kids;
}

static apr_status_t get_partial(const partial_t **ppart, rstate_t *st,
                                const char *name, apr_size_t len)
{
    partial_t *part;
    const char *pname, *src;

    part = apr_hash_get(st->partials, name, (apr_ssize_t)len);
    if (!part) {
        part = apr_pcalloc(st->p, sizeof(*part));
        pname = apr_pstrmemdup(st->p, name, len);
        if (st->trees) {
            const tmpl_t *t = apr_hash_get(st->trees, pname, APR_HASH_KEY_STRING);
            part->nodes = t ? t->nodes : NULL;
            src = NULL;
        }
        else {
            src = st->loader ? st->loader(st->baton, pname) : NULL;
        }
        if (!src && !part->nodes) {
            part->err = apr_psprintf(st->p, "unknown partial '%s'", pname);
        }
        else if (src && tmpl_parse(&part->nodes, &part->err,
                                   apr_psprintf(st->p, "partial '%s'", pname),
                                   st->escape, 0, src, strlen(src), st->p)
                        != APR_SUCCESS) {
            part->nodes = NULL;
        }
        apr_hash_set(st->partials, pname, (apr_ssize_t)len, part);
    }
    *ppart = part;
    if (!part->nodes) {
        return render_fail(st, part->err);
    }
    return APR_SUCCESS;
}

static apr_status_t render_nodes(rstate_t *st, const apr_array_header_t *nodes,
                                 const frame_t *fr, int depth)
{
    apr_status_t rv = APR_SUCCESS;
    const tmpl_val_t *v;
    const partial_t *part;
    int i, k;

    if (depth > CA_TMPL_MAX_DEPTH) {
        return render_fail(st, "sections and partials nested too deep");
    }
    for (i = 0; i < nodes->nelts; ++i) {
        const node_t *n = &APR_ARRAY_IDX(nodes, i, node_t);

        if (++st->steps > st->max_steps) {
            return render_fail(st, "template too complex");
        }
        switch (n->type) {
        case N_TEXT:
            rv = out_raw(st, n->s, n->len);
            break;
        case N_VAR:
            v = lookup(fr, n->s, n->len);
            if (v && v->str) {
                rv = n->filter == F_NONE ? out_value(st, v->str, strlen(v->str))
                                         : out_filtered(st, n->filter, v->str);
            }
            break;
        case N_TRANS:
            rv = render_nodes(st, trans_nodes(st, n, fr), fr, depth + 1);
            break;
        case N_SECTION:
            v = lookup(fr, n->s, n->len);
            if (!v) {
                break;
            }
            if (v->items) {
                for (k = 0; k < v->items->nelts && rv == APR_SUCCESS; ++k) {
                    frame_t f;
                    f.ctx = APR_ARRAY_IDX(v->items, k, ca_tmpl_ctx_t *);
                    f.next = fr;
                    rv = render_nodes(st, n->kids, &f, depth + 1);
                }
            }
            else if (v->str && *v->str) {
                rv = render_nodes(st, n->kids, fr, depth + 1);
            }
            break;
        case N_INVERTED:
            v = lookup(fr, n->s, n->len);
            if (!v || (v->items && v->items->nelts == 0)
                || (v->str && !*v->str)) {
                rv = render_nodes(st, n->kids, fr, depth + 1);
            }
            break;
        case N_PARTIAL:
            if (depth + 1 > CA_TMPL_MAX_DEPTH) {
                return render_fail(st, "partials nested too deep");
            }
            rv = get_partial(&part, st, n->s, n->len);
            if (rv == APR_SUCCESS) {
                rv = render_nodes(st, part->nodes, fr, depth + 1);
            }
            break;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* render the tree nodes (from a source of srclen bytes) */
static apr_status_t render_tree(const char **pout, apr_size_t *poutlen,
                                const char **perr, rstate_t *st,
                                const apr_array_header_t *nodes, apr_size_t srclen,
                                const ca_tmpl_ctx_t *ctx)
{
    frame_t root;
    apr_size_t max_out = st->max;
    apr_status_t rv;

    if (!ctx) {
        ctx = ca_tmpl_ctx_make(NULL, st->p);
    }
    st->partials = apr_hash_make(st->p);
    /* enough for any sane page, small enough to stop exponential trees */
    st->max_steps = (max_out > ((apr_size_t)-1 - 65536) / 4)
                    ? (apr_size_t)-1 : 65536 + 4 * max_out;
    /* most pages are a little larger than their template */
    st->cap = 0;
    rv = out_reserve(st, srclen + srclen / 2 < max_out ? srclen + srclen / 2 : max_out);
    if (rv == APR_SUCCESS) {
        root.ctx = ctx;
        root.next = NULL;
        rv = render_nodes(st, nodes, &root, 0);
    }
    if (rv != APR_SUCCESS) {
        *perr = st->err;
        return rv;
    }
    if (!st->buf) {
        st->buf = apr_palloc(st->p, 1);
    }
    st->buf[st->len] = '\0';
    *pout = st->buf;
    if (poutlen) {
        *poutlen = st->len;
    }
    return APR_SUCCESS;
}

apr_status_t ca_tmpl_render(const char **pout, apr_size_t *poutlen,
                            const char **perr,
                            const char *src, apr_size_t srclen,
                            const ca_tmpl_ctx_t *ctx, int escape_html,
                            ca_tmpl_loader_fn *loader, void *baton,
                            apr_size_t max_out, apr_pool_t *p)
{
    apr_array_header_t *nodes;
    rstate_t st;
    const char *err = NULL;
    apr_status_t rv;

    *pout = NULL;
    if (poutlen) {
        *poutlen = 0;
    }
    if (perr) {
        *perr = NULL;
    }
    if (!src) {
        err = "no template";
        rv = APR_EINVAL;
        goto leave;
    }
    rv = tmpl_parse(&nodes, &err, NULL, escape_html, 0, src, srclen, p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    st = (rstate_t){ .p = p, .max = max_out, .escape = escape_html, .loader = loader,
                     .baton = baton };
    rv = render_tree(pout, poutlen, &err, &st, nodes, srclen, ctx);
leave:
    if (rv != APR_SUCCESS && perr) {
        *perr = err ? err : "template error";
    }
    return rv;
}

/* ------------------------------------------------------------------ */
/* the store                                                          */

typedef struct {
    const char *tag;
    tr_t tr;                        /* tr.cat NULL: the source language */
} i18n_lang_t;

struct ca_i18n_t {
    apr_pool_t *pool;
    const char *default_lang;
    apr_hash_t *tmpls;              /* name -> tmpl_t */
    apr_hash_t *msgs;               /* key -> English text */
    apr_array_header_t *msgids;     /* the templates' messages, numbered */
    apr_hash_t *langs;              /* tag -> i18n_lang_t */
    apr_array_header_t *list;       /* sorted tags */
};

#define TAG_LOAD "CA02001"
#define TAG_RENDER "CA02002"
#define TAG_CATALOG "CA02003"
#define SOURCE_LANG "en"

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* [a-z]{2,3}(-[a-z0-9]{2,8})? */
static int valid_lang_tag(const char *s)
{
    apr_size_t i = 0, j;

    while (is_lower(s[i])) {
        ++i;
    }
    if (i < 2 || i > 3) {
        return 0;
    }
    if (s[i] == '\0') {
        return 1;
    }
    if (s[i] != '-') {
        return 0;
    }
    for (j = ++i; is_lower(s[j]) || is_digit(s[j]); ++j)
        ;
    return s[j] == '\0' && j - i >= 2 && j - i <= 8;
}

static apr_status_t read_file(char **pbuf, apr_size_t *plen, const char *path,
                              apr_size_t size, apr_pool_t *p)
{
    apr_file_t *f;
    apr_status_t rv;
    char *buf;
    apr_size_t n = 0;

    *pbuf = NULL;
    if (size > CA_I18N_MAX_FILE) {
        ca_log(CA_LOG_ERR, TAG_LOAD, 0, "%s: larger than %d bytes", path,
               CA_I18N_MAX_FILE);
        return APR_EINVAL;
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, TAG_LOAD, rv, "%s: cannot open", path);
        return rv;
    }
    buf = apr_palloc(p, size + 1);
    if (size > 0) {
        rv = apr_file_read_full(f, buf, size, &n);
    }
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        ca_log(CA_LOG_ERR, TAG_LOAD, rv, "%s: cannot read", path);
        return rv;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n) || !ca_utf8_valid(buf, n)) {
        ca_log(CA_LOG_ERR, TAG_LOAD, 0, "%s: not valid UTF-8 text", path);
        return APR_EINVAL;
    }
    *pbuf = buf;
    *plen = n;
    return APR_SUCCESS;
}

static void trim(char **ps, char **pe)
{
    char *s = *ps, *e = *pe;

    while (s < e && (is_blank(*s) || *s == '\r' || *s == '\n')) {
        ++s;
    }
    while (e > s && (is_blank(e[-1]) || e[-1] == '\r' || e[-1] == '\n')) {
        --e;
    }
    *ps = s;
    *pe = e;
}

static apr_status_t parse_messages(apr_hash_t *msgs, char *buf, apr_size_t len,
                                   const char *path, apr_pool_t *p)
{
    char *line = buf, *end = buf + len;
    apr_size_t lineno = 0;

    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
        line += 3;              /* a BOM, as some editors write */
    }
    while (line < end) {
        char *nl = memchr(line, '\n', (apr_size_t)(end - line));
        char *le = nl ? nl : end, *ks, *ke, *vs, *ve, *eq;

        ++lineno;
        ks = line;
        ke = le;
        line = nl ? nl + 1 : end;
        trim(&ks, &ke);
        if (ks == ke || *ks == '#') {
            continue;
        }
        eq = memchr(ks, '=', (apr_size_t)(ke - ks));
        if (!eq) {
            ca_log(CA_LOG_ERR, TAG_LOAD, 0, "%s:%" APR_SIZE_T_FMT
                   ": expected \"key = text\"", path, lineno);
            return APR_EINVAL;
        }
        vs = eq + 1;
        ve = ke;
        ke = eq;
        trim(&ks, &ke);
        trim(&vs, &ve);
        if (!valid_name(ks, (apr_size_t)(ke - ks), 0)) {
            ca_log(CA_LOG_ERR, TAG_LOAD, 0, "%s:%" APR_SIZE_T_FMT
                   ": bad message key", path, lineno);
            return APR_EINVAL;
        }
        *ke = '\0';
        *ve = '\0';
        if (apr_hash_get(msgs, ks, APR_HASH_KEY_STRING)) {
            ca_log(CA_LOG_WARN, TAG_LOAD, 0, "%s:%" APR_SIZE_T_FMT
                   ": key '%s' given again, the last one wins", path, lineno, ks);
        }
        apr_hash_set(msgs, ks, APR_HASH_KEY_STRING, vs);
    }
    return APR_SUCCESS;
}

/* load the files of dir (relative name prefix rel, "" at the top) */
static apr_status_t load_tree(ca_i18n_t *i18n, const char *dir, const char *rel,
                              int level, apr_pool_t *p, apr_pool_t *ptemp)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv;

    if (level > CA_I18N_MAX_SUBDIRS) {
        ca_log(CA_LOG_ERR, TAG_LOAD, 0, "%s: folders nested too deep", dir);
        return APR_EINVAL;
    }
    rv = apr_dir_open(&d, dir, ptemp);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, TAG_LOAD, rv, "%s: cannot open", dir);
        return rv;
    }
    while ((rv = apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE | APR_FINFO_SIZE,
                              d)) == APR_SUCCESS || rv == APR_INCOMPLETE) {
        const char *path, *name;
        char *buf;
        apr_size_t len;
        tmpl_t *t;
        const char *err;

        if (!fi.name || fi.name[0] == '.') {
            continue;           /* ".", "..", and dotfiles (editor swaps) */
        }
        path = apr_pstrcat(ptemp, dir, "/", fi.name, NULL);
        if (fi.filetype == APR_LNK || rv == APR_INCOMPLETE) {
            rv = apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_SIZE, ptemp);
            if (rv != APR_SUCCESS) {
                ca_log(CA_LOG_ERR, TAG_LOAD, rv, "%s: cannot stat", path);
                goto leave;
            }
        }
        name = *rel ? apr_pstrcat(p, rel, "/", fi.name, NULL)
                    : apr_pstrdup(p, fi.name);
        if (fi.filetype == APR_DIR) {
            rv = load_tree(i18n, path, name, level + 1, p, ptemp);
            if (rv != APR_SUCCESS) {
                goto leave;
            }
            continue;
        }
        if (fi.filetype != APR_REG) {
            continue;
        }
        rv = read_file(&buf, &len, path, (apr_size_t)fi.size, p);
        if (rv != APR_SUCCESS) {
            goto leave;
        }
        if (!*rel && !strcmp(name, "messages.txt")) {
            rv = parse_messages(i18n->msgs, buf, len, path, p);
            if (rv != APR_SUCCESS) {
                goto leave;
            }
            continue;
        }
        /* parsed once, at startup: syntax errors stop httpd there, not on
         * a member's request */
        t = apr_pcalloc(p, sizeof(*t));
        t->src = buf;
        t->html = strlen(name) >= 5 && !strcmp(name + strlen(name) - 5, ".html");
        if (tmpl_parse(&t->nodes, &err, NULL, t->html, 0, buf, len, p) != APR_SUCCESS) {
            ca_log(CA_LOG_ERR, TAG_LOAD, 0, "%s: %s", path, err);
            rv = APR_EINVAL;
            goto leave;
        }
        apr_hash_set(i18n->tmpls, name, APR_HASH_KEY_STRING, t);
    }
    if (!APR_STATUS_IS_ENOENT(rv)) {
        ca_log(CA_LOG_ERR, TAG_LOAD, rv, "%s: cannot read folder", dir);
        goto leave;
    }
    rv = APR_SUCCESS;
leave:
    apr_dir_close(d);
    return rv;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* the names of the value tags of a message (with their filters), sorted */
static void collect_vars(apr_array_header_t *out, const apr_array_header_t *nodes,
                         apr_pool_t *p)
{
    int i;

    for (i = 0; nodes && i < nodes->nelts; ++i) {
        const node_t *n = &APR_ARRAY_IDX(nodes, i, node_t);
        if (n->type == N_VAR) {
            APR_ARRAY_PUSH(out, const char *) =
                apr_psprintf(p, "%.*s|%d", (int)n->len, n->s, (int)n->filter);
        }
    }
    qsort(out->elts, (size_t)out->nelts, sizeof(const char *), cmp_str);
}

/* the markup of a message: every <...>, sorted; *pquotes: a '"' outside
 * them.  NULL if a '<' or '>' stands alone. */
static apr_array_header_t *collect_markup(const char *s, int *pquotes, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    const char *lt;

    *pquotes = 0;
    while (*s) {
        lt = strpbrk(s, "<>\"");
        if (!lt) {
            break;
        }
        if (*lt == '"') {
            *pquotes = 1;
            s = lt + 1;
            continue;
        }
        if (*lt == '>') {
            return NULL;
        }
        s = strchr(lt, '>');
        if (!s || memchr(lt + 1, '<', (apr_size_t)(s - lt - 1))) {
            return NULL;
        }
        ++s;
        APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(p, lt, (apr_size_t)(s - lt));
    }
    qsort(out->elts, (size_t)out->nelts, sizeof(const char *), cmp_str);
    return out;
}

static int same_strings(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;

    if (a->nelts != b->nelts) {
        return 0;
    }
    for (i = 0; i < a->nelts; ++i) {
        if (strcmp(APR_ARRAY_IDX(a, i, const char *), APR_ARRAY_IDX(b, i, const char *))) {
            return 0;
        }
    }
    return 1;
}

/* every string of a is in b */
static int subset_strings(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i, k;

    for (i = 0; i < a->nelts; ++i) {
        for (k = 0; k < b->nelts; ++k) {
            if (!strcmp(APR_ARRAY_IDX(a, i, const char *), APR_ARRAY_IDX(b, k, const char *))) {
                break;
            }
        }
        if (k == b->nelts) {
            return 0;
        }
    }
    return 1;
}

/* One form of a translated template message: it must parse as text and
 * values only, use the values of the English message (all of them, unless
 * it is a plural form) and carry exactly its markup, so a translation can
 * neither break a page nor add a link, a script or an attribute.  Returns
 * why not, or NULL with *pnodes set. */
static const char *check_form(apr_array_header_t **pnodes, const ca_catalog_entry_t *e,
                              const char *form, apr_pool_t *p)
{
    apr_array_header_t *tn, *idn, *tv, *idv, *tm, *idm;
    const char *err;
    int tq, iq;

    /* white space is folded as in an HTML template's message id */
    if (tmpl_parse(&tn, &err, NULL, 0, 1, form, strlen(form), p) != APR_SUCCESS) {
        return err;
    }
    if (tmpl_parse(&idn, &err, NULL, 0, 1, e->msgid, strlen(e->msgid), p) != APR_SUCCESS) {
        return apr_pstrcat(p, "the message id: ", err, NULL);
    }
    tv = apr_array_make(p, 4, sizeof(const char *));
    idv = apr_array_make(p, 4, sizeof(const char *));
    collect_vars(tv, tn, p);
    collect_vars(idv, idn, p);
    if (e->msgid_plural) {
        apr_array_header_t *pn;
        if (tmpl_parse(&pn, &err, NULL, 0, 1, e->msgid_plural, strlen(e->msgid_plural),
                       p) != APR_SUCCESS) {
            return apr_pstrcat(p, "the plural message id: ", err, NULL);
        }
        collect_vars(idv, pn, p);
        if (!subset_strings(tv, idv)) {
            return "it uses a value the message does not have";
        }
    }
    else if (!same_strings(tv, idv)) {
        return "its values ({{...}}) differ from the message's";
    }
    tm = collect_markup(form, &tq, p);
    idm = collect_markup(e->msgid, &iq, p);
    if (!tm || !idm || !same_strings(tm, idm)) {
        return "its markup (<...>) differs from the message's";
    }
    if (tq && !iq) {
        return "it has a '\"' the message does not have";
    }
    *pnodes = tn;
    return NULL;
}

static const char *lang_of_file(const char *name, apr_pool_t *p)
{
    apr_size_t n = strlen(name), i;
    char *tag;

    if (n < 4 || strcmp(name + n - 3, ".mo")) {
        return NULL;
    }
    tag = apr_pstrmemdup(p, name, n - 3);
    for (i = 0; tag[i]; ++i) {
        if (tag[i] == '_') {
            tag[i] = '-';
        }
        else if (tag[i] >= 'A' && tag[i] <= 'Z') {
            tag[i] = (char)(tag[i] - 'A' + 'a');
        }
    }
    return tag;
}

/* a catalogue's translations, checked and parsed; its formats */
static apr_status_t load_catalog(i18n_lang_t *lang, const ca_i18n_t *i18n,
                                 const char *path, apr_pool_t *p, apr_pool_t *ptemp)
{
    ca_catalog_t *cat;
    const char *err, *f;
    int i, k, nf = 0, np;
    apr_status_t rv;

    rv = ca_catalog_load(&cat, &err, path, p);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, TAG_CATALOG, rv, "%s: %s", path, err);
        return rv;
    }
    lang->tr = tr_source;
    lang->tr.cat = cat;
    np = ca_catalog_nplurals(cat);
    lang->tr.forms = apr_pcalloc(p, sizeof(apr_array_header_t **)
                                    * (apr_size_t)(ca_catalog_count(cat) + 1));
    for (i = 0; i < ca_catalog_count(cat); ++i) {
        const ca_catalog_entry_t *e = ca_catalog_entry(cat, i);
        apr_array_header_t **forms;

        if (e->ctxt) {
            continue;           /* a message of messages.txt, or a format */
        }
        if (e->msgid_plural ? e->nforms != np : e->nforms != 1) {
            ca_log(CA_LOG_WARN, TAG_CATALOG, 0, "%s: \"%.60s\": %d forms, "
                   "Plural-Forms says %d; English is shown instead", path,
                   e->msgid, e->nforms, e->msgid_plural ? np : 1);
            continue;
        }
        forms = apr_pcalloc(p, sizeof(*forms) * (apr_size_t)np);
        for (k = 0; k < e->nforms; ++k) {
            if ((err = check_form(&forms[k], e, e->forms[k], p)) != NULL) {
                ca_log(CA_LOG_WARN, TAG_CATALOG, 0, "%s: the translation of "
                       "\"%.60s\" is refused: %s; English is shown instead",
                       path, e->msgid, err);
                forms = NULL;
                break;
            }
        }
        lang->tr.forms[i] = forms;
        nf += forms != NULL;
    }
    if ((f = ca_catalog_get(cat, "date", tr_source.date_fmt)) != NULL) {
        lang->tr.date_fmt = f;
    }
    if ((f = ca_catalog_get(cat, "datetime", tr_source.datetime_fmt)) != NULL) {
        lang->tr.datetime_fmt = f;
    }
    if ((f = ca_catalog_get(cat, "number", tr_source.thousands)) != NULL && strlen(f) <= 8) {
        lang->tr.thousands = f;
    }
    for (k = 0; k < 12; ++k) {
        if ((f = ca_catalog_get(cat, "month", tr_source.month[k])) != NULL) {
            lang->tr.month[k] = f;
        }
    }
    /* lookups at load, none per request: the templates' messages by
     * number, messages.txt by key */
    lang->tr.by_msg = apr_pcalloc(p, sizeof(apr_array_header_t **)
                                     * (apr_size_t)(i18n->msgids->nelts + 1));
    for (k = 0; k < i18n->msgids->nelts; ++k) {
        i = ca_catalog_find(cat, NULL, APR_ARRAY_IDX(i18n->msgids, k, const char *));
        lang->tr.by_msg[k] = i >= 0 ? lang->tr.forms[i] : NULL;
    }
    lang->tr.msgs = apr_hash_make(p);
    {
        apr_hash_index_t *hi;
        for (hi = apr_hash_first(ptemp, i18n->msgs); hi; hi = apr_hash_next(hi)) {
            const void *key;
            void *en;
            apr_hash_this(hi, &key, NULL, &en);
            if ((f = ca_catalog_get(cat, key, en)) != NULL) {
                apr_hash_set(lang->tr.msgs, key, APR_HASH_KEY_STRING, f);
            }
        }
    }
    ca_log(CA_LOG_DEBUG, TAG_CATALOG, 0, "%s: %d entries, %d template messages",
           path, ca_catalog_count(cat), nf);
    return APR_SUCCESS;
}

/* give every translation mark of the tree its message's number */
static void number_msgs(ca_i18n_t *i18n, apr_hash_t *seen, apr_array_header_t *nodes,
                        apr_pool_t *ptemp)
{
    int i;

    for (i = 0; nodes && i < nodes->nelts; ++i) {
        node_t *n = &APR_ARRAY_IDX(nodes, i, node_t);
        if (n->type == N_TRANS) {
            void *v = apr_hash_get(seen, n->msgid, APR_HASH_KEY_STRING);
            if (!v) {
                APR_ARRAY_PUSH(i18n->msgids, const char *) = n->msgid;
                v = (void *)(apr_uintptr_t)i18n->msgids->nelts;
                apr_hash_set(seen, n->msgid, APR_HASH_KEY_STRING, v);
            }
            n->msg = (int)(apr_uintptr_t)v - 1;
        }
        else if (n->kids) {
            number_msgs(i18n, seen, n->kids, ptemp);
        }
    }
}

static i18n_lang_t *add_lang(ca_i18n_t *i18n, const char *tag, apr_pool_t *p)
{
    i18n_lang_t *lang = apr_pcalloc(p, sizeof(*lang));

    lang->tag = apr_pstrdup(p, tag);
    lang->tr = tr_source;
    apr_hash_set(i18n->langs, lang->tag, APR_HASH_KEY_STRING, lang);
    APR_ARRAY_PUSH(i18n->list, const char *) = lang->tag;
    return lang;
}

apr_status_t ca_i18n_load(ca_i18n_t **pi18n, const char *dir, const char *locale_dir,
                          const char *default_lang, apr_pool_t *p)
{
    ca_i18n_t *i18n;
    apr_pool_t *ptemp = NULL;
    apr_dir_t *d = NULL;
    apr_finfo_t fi;
    apr_status_t rv;

    *pi18n = NULL;
    if (!dir || !default_lang || !valid_lang_tag(default_lang)) {
        ca_log(CA_LOG_ERR, TAG_LOAD, 0, "bad template dir or default language");
        return APR_EINVAL;
    }
    if ((rv = apr_pool_create(&ptemp, p)) != APR_SUCCESS) {
        return rv;
    }
    i18n = apr_pcalloc(p, sizeof(*i18n));
    i18n->pool = p;
    i18n->tmpls = apr_hash_make(p);
    i18n->msgs = apr_hash_make(p);
    i18n->msgids = apr_array_make(p, 256, sizeof(const char *));
    i18n->langs = apr_hash_make(p);
    i18n->list = apr_array_make(p, 8, sizeof(const char *));

    rv = load_tree(i18n, dir, "", 0, p, ptemp);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (apr_hash_count(i18n->tmpls) == 0) {
        ca_log(CA_LOG_ERR, TAG_LOAD, 0, "%s: no templates", dir);
        rv = APR_ENOENT;
        goto leave;
    }
    {
        apr_hash_t *seen = apr_hash_make(ptemp);
        apr_hash_index_t *hi;
        for (hi = apr_hash_first(ptemp, i18n->tmpls); hi; hi = apr_hash_next(hi)) {
            void *t;
            apr_hash_this(hi, NULL, NULL, &t);
            number_msgs(i18n, seen, ((tmpl_t *)t)->nodes, ptemp);
        }
    }
    add_lang(i18n, SOURCE_LANG, p);
    if (locale_dir) {
        rv = apr_dir_open(&d, locale_dir, ptemp);
        if (rv != APR_SUCCESS) {
            ca_log(CA_LOG_ERR, TAG_LOAD, rv, "%s: cannot open", locale_dir);
            d = NULL;
            goto leave;
        }
        while ((rv = apr_dir_read(&fi, APR_FINFO_NAME, d)) == APR_SUCCESS
               || rv == APR_INCOMPLETE) {
            const char *tag = fi.name ? lang_of_file(fi.name, ptemp) : NULL;

            if (!tag || fi.name[0] == '.') {
                continue;       /* a README, an editor's swap file */
            }
            if (!valid_lang_tag(tag) || !strcmp(tag, SOURCE_LANG)) {
                ca_log(CA_LOG_ERR, TAG_LOAD, 0, "%s/%s: not a catalogue for a "
                       "language like \"de.mo\" or \"pt_BR.mo\" (and not for "
                       "the templates' own language, %s)", locale_dir, fi.name,
                       SOURCE_LANG);
                rv = APR_EINVAL;
                goto leave;
            }
            rv = load_catalog(add_lang(i18n, tag, p), i18n,
                              apr_pstrcat(ptemp, locale_dir, "/", fi.name, NULL),
                              p, ptemp);
            if (rv != APR_SUCCESS) {
                goto leave;
            }
        }
        if (!APR_STATUS_IS_ENOENT(rv)) {
            ca_log(CA_LOG_ERR, TAG_LOAD, rv, "%s: cannot read folder", locale_dir);
            goto leave;
        }
    }
    rv = APR_SUCCESS;
    qsort(i18n->list->elts, (size_t)i18n->list->nelts, sizeof(const char *), cmp_str);
    {
        const i18n_lang_t *def = apr_hash_get(i18n->langs, default_lang,
                                              APR_HASH_KEY_STRING);
        if (!def) {
            ca_log(CA_LOG_ERR, TAG_LOAD, 0, "no catalogue for the default "
                   "language '%s' in %s", default_lang,
                   locale_dir ? locale_dir : "(no locale folder)");
            rv = APR_ENOENT;
            goto leave;
        }
        i18n->default_lang = def->tag;
    }
    *pi18n = i18n;
leave:
    if (d) {
        apr_dir_close(d);
    }
    apr_pool_destroy(ptemp);
    return rv;
}

const apr_array_header_t *ca_i18n_langs(const ca_i18n_t *i18n)
{
    return i18n->list;
}

static const i18n_lang_t *get_lang(const ca_i18n_t *i18n, const char *lang)
{
    return lang ? apr_hash_get(i18n->langs, lang, APR_HASH_KEY_STRING) : NULL;
}

int ca_i18n_has_lang(const ca_i18n_t *i18n, const char *lang)
{
    return get_lang(i18n, lang) != NULL;
}

/* How well the language range r (lowercase, length rl) matches tag:
 * 4 exact, 3 r is a prefix of tag ("de" ~ "de-ch"), 2 tag is a prefix of r
 * ("de-de" ~ "de"), 1 wildcard, 0 no match. */
static int range_match(const char *r, apr_size_t rl, const char *tag)
{
    apr_size_t tl = strlen(tag);

    if (rl == 1 && r[0] == '*') {
        return 1;
    }
    if (rl == tl && !memcmp(r, tag, rl)) {
        return 4;
    }
    if (rl < tl && !memcmp(r, tag, rl) && tag[rl] == '-') {
        return 3;
    }
    if (tl < rl && !memcmp(r, tag, tl) && r[tl] == '-') {
        return 2;
    }
    return 0;
}

typedef struct {
    char tag[CA_I18N_MAX_TAGLEN * 2 + 1];
    apr_size_t len;
    int q;                          /* 0..1000 */
} al_range_t;

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* q = 0 | 0.ddd | 1 | 1.000 (RFC 9110), as thousandths; -1 if malformed */
static int parse_q(const char *s, apr_size_t n)
{
    int q, i, scale = 100;

    if (n == 0 || (s[0] != '0' && s[0] != '1')) {
        return -1;
    }
    q = (s[0] - '0') * 1000;
    if (n == 1) {
        return q;
    }
    if (s[1] != '.' || n > 5) {
        return -1;
    }
    for (i = 2; i < (int)n; ++i, scale /= 10) {
        if (!is_digit(s[i])) {
            return -1;
        }
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* parse one element "range[;q=x][;other]"; 0 if malformed */
static int parse_al_elem(al_range_t *r, const char *s, apr_size_t n)
{
    apr_size_t i = 0, seg = 0;

    while (i < n && is_blank(s[i])) {
        ++i;
    }
    while (n > i && is_blank(s[n - 1])) {
        --n;
    }
    r->len = 0;
    r->q = 1000;
    if (i < n && s[i] == '*') {
        r->tag[r->len++] = '*';
        ++i;
    }
    else {
        for (; i < n && s[i] != ';' && !is_blank(s[i]); ++i) {
            char c = lower(s[i]);
            if (c == '-') {
                if (seg == 0) {
                    return 0;
                }
                seg = 0;
            }
            else if (is_lower(c) || (r->len > 0 && is_digit(c))) {
                if (++seg > 8) {
                    return 0;
                }
            }
            else {
                return 0;
            }
            if (r->len >= sizeof(r->tag) - 1) {
                return 0;
            }
            r->tag[r->len++] = c;
        }
        if (r->len == 0 || seg == 0) {
            return 0;
        }
    }
    r->tag[r->len] = '\0';
    /* parameters */
    while (i < n) {
        apr_size_t ps, pe;
        while (i < n && is_blank(s[i])) {
            ++i;
        }
        if (i >= n) {
            break;
        }
        if (s[i] != ';') {
            return 0;
        }
        ++i;
        while (i < n && is_blank(s[i])) {
            ++i;
        }
        ps = i;
        while (i < n && s[i] != ';') {
            ++i;
        }
        pe = i;
        while (pe > ps && is_blank(s[pe - 1])) {
            --pe;
        }
        if (pe - ps >= 2 && lower(s[ps]) == 'q' && s[ps + 1] == '=') {
            int q = parse_q(s + ps + 2, pe - ps - 2);
            if (q < 0) {
                return 0;
            }
            r->q = q;
        }
    }
    return 1;
}

static const char *match_known(const ca_i18n_t *i18n, const al_range_t *ranges,
                               int nranges)
{
    const char *best = NULL;
    int best_q = 0, best_spec = 0, best_pos = 0, best_def = 0, i, k;

    for (k = 0; k < i18n->list->nelts; ++k) {
        const char *tag = APR_ARRAY_IDX(i18n->list, k, const char *);
        int q = -1, spec = 0, pos = 0, isdef;

        /* the most specific range decides; among equals the highest q */
        for (i = 0; i < nranges; ++i) {
            int m = range_match(ranges[i].tag, ranges[i].len, tag);
            if (m == 0) {
                continue;
            }
            if (m > spec || (m == spec && ranges[i].q > q)) {
                spec = m;
                q = ranges[i].q;
                pos = i;
            }
        }
        if (q <= 0) {
            continue;           /* not mentioned, or q=0: not acceptable */
        }
        isdef = (tag == i18n->default_lang);
        if (!best || q > best_q
            || (q == best_q && (spec > best_spec
                || (spec == best_spec && (pos < best_pos
                    || (pos == best_pos && isdef && !best_def)))))) {
            best = tag;
            best_q = q;
            best_spec = spec;
            best_pos = pos;
            best_def = isdef;
        }
    }
    return best;
}

const char *ca_i18n_pick(const ca_i18n_t *i18n, const char *chosen,
                         const char *accept_language, apr_pool_t *p)
{
    al_range_t ranges[CA_AL_MAX_RANGES];
    int n = 0;
    const char *best;

    if (chosen && *chosen) {
        apr_size_t cl = strlen(chosen);
        if (cl <= CA_I18N_MAX_TAGLEN * 2
            && parse_al_elem(&ranges[0], chosen, cl) && ranges[0].tag[0] != '*') {
            ranges[0].q = 1000;
            if ((best = match_known(i18n, ranges, 1)) != NULL) {
                return best;
            }
        }
    }
    if (accept_language) {
        const char *s = accept_language;
        apr_size_t len = strlen(s), i = 0;

        if (len > CA_AL_MAX_LEN) {
            len = CA_AL_MAX_LEN;    /* hostile: the rest is ignored */
        }
        while (i < len && n < CA_AL_MAX_RANGES) {
            const char *c = memchr(s + i, ',', len - i);
            apr_size_t e = c ? (apr_size_t)(c - s) : len;

            if (e > i && e - i <= 64 && parse_al_elem(&ranges[n], s + i, e - i)) {
                ++n;
            }
            i = e + 1;
        }
        if (n > 0 && (best = match_known(i18n, ranges, n)) != NULL) {
            return best;
        }
    }
    return i18n->default_lang;
}

const char *ca_i18n_template(const ca_i18n_t *i18n, const char *lang,
                             const char *name)
{
    const tmpl_t *t = name ? apr_hash_get(i18n->tmpls, name, APR_HASH_KEY_STRING) : NULL;

    (void)lang;                 /* one set of templates for every language */
    return t ? t->src : NULL;
}

const char *ca_i18n_msg(const ca_i18n_t *i18n, const char *lang,
                        const char *key)
{
    const i18n_lang_t *l = get_lang(i18n, lang);
    const char *en, *t;

    if (!key) {
        return "";
    }
    en = apr_hash_get(i18n->msgs, key, APR_HASH_KEY_STRING);
    if (!en) {
        return key;
    }
    if (!l) {
        l = get_lang(i18n, i18n->default_lang);
    }
    /* the key is the context: a changed English text leaves the old
     * translation unused (msgmerge marks it fuzzy) */
    t = l && l->tr.msgs ? apr_hash_get(l->tr.msgs, key, APR_HASH_KEY_STRING) : NULL;
    return t ? t : en;
}

apr_status_t ca_i18n_render(const char **pout, apr_size_t *poutlen,
                            const ca_i18n_t *i18n, const char *lang,
                            const char *name, const ca_tmpl_ctx_t *ctx,
                            apr_pool_t *p)
{
    const i18n_lang_t *l = get_lang(i18n, lang);
    const tmpl_t *t;
    const char *err = NULL;
    rstate_t st;
    apr_status_t rv;

    *pout = NULL;
    if (poutlen) {
        *poutlen = 0;
    }
    t = name ? apr_hash_get(i18n->tmpls, name, APR_HASH_KEY_STRING) : NULL;
    if (!t) {
        ca_log(CA_LOG_ERR, TAG_RENDER, APR_ENOENT, "template '%s' not found",
               name ? name : "(null)");
        return APR_ENOENT;
    }
    if (!l) {
        l = get_lang(i18n, i18n->default_lang);
    }
    memset(&st, 0, sizeof(st));
    st.p = p;
    st.max = CA_I18N_MAX_OUT;
    st.escape = t->html;
    st.trees = i18n->tmpls;
    st.tr = &l->tr;
    rv = render_tree(pout, poutlen, &err, &st, t->nodes, strlen(t->src), ctx);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, TAG_RENDER, rv, "template '%s' (%s): %s", name,
               l->tag, err ? err : "error");
    }
    return rv;
}
