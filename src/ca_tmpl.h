/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Template renderer and per-language template/message store.
 *
 * Syntax (a small, logic-less subset in the spirit of Mustache):
 *   {{name}}           value of name, escaped for HTML (in HTML templates)
 *   {{#name}}..{{/name}}  section: rendered once if name is a non-empty
 *                      string, once per item if name is a list, else skipped
 *   {{^name}}..{{/name}}  inverted section: rendered if name is unset, empty
 *                      or an empty list
 *   {{>partial}}       includes another template of the same language
 *   {{!comment}}       nothing
 * Names are [A-Za-z0-9_.-]+ (partial names may also contain '/', as
 * template names do: {{>mail/footer.txt}}); a name is looked up in the
 * current context and then in its parents.  As in Mustache, a section,
 * section end, comment or partial tag alone on its line takes the line
 * (indentation and line end) with it.  Templates whose name ends in ".html" escape output
 * (& < > " ' and /); others (mail texts, ".txt") insert values as they are.
 * There is no way to output an unescaped value in an HTML template.
 * Include depth and output size are bounded, so hostile templates or values
 * cannot loop or exhaust memory: rendering fails with an error instead. */
#ifndef CA_TMPL_H
#define CA_TMPL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>

typedef struct ca_tmpl_ctx_t ca_tmpl_ctx_t;

/* a new context; parent may be NULL (lookups fall back to the parent) */
ca_tmpl_ctx_t *ca_tmpl_ctx_make(ca_tmpl_ctx_t *parent, apr_pool_t *p);
/* set a string value (copied); NULL value unsets */
void ca_tmpl_set(ca_tmpl_ctx_t *ctx, const char *name, const char *value);
/* the same, the name kept as it is, not copied: a string literal or one
 * that lives as long as ctx (the value is copied) */
void ca_tmpl_set_static(ca_tmpl_ctx_t *ctx, const char *name, const char *value);
/* the same, neither the name nor the value copied: both must stay as
 * they are until ctx is rendered for the last time (string literals, or
 * memory the caller holds for the request, e.g. a list kept in a
 * ca_listcache_t that the request's pool holds).  For the rows of long
 * lists, where copying each value was a good part of a page's time. */
void ca_tmpl_set_ref(ca_tmpl_ctx_t *ctx, const char *name, const char *value);
void ca_tmpl_setf(ca_tmpl_ctx_t *ctx, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* append a new item (child context) to the list called name, creating it */
ca_tmpl_ctx_t *ca_tmpl_add_item(ca_tmpl_ctx_t *ctx, const char *name);
/* the string value visible from ctx, or NULL */
const char *ca_tmpl_get(const ca_tmpl_ctx_t *ctx, const char *name);

/* looks up a partial by name; returns NULL if there is none */
typedef const char *ca_tmpl_loader_fn(void *baton, const char *name);

/* Render src.  escape_html selects HTML escaping of values.  On a syntax
 * error (unclosed tag or section, unknown partial, nesting too deep, output
 * over max_out bytes) returns APR_EINVAL and *perr says why. */
apr_status_t ca_tmpl_render(const char **pout, apr_size_t *poutlen,
                            const char **perr,
                            const char *src, apr_size_t srclen,
                            const ca_tmpl_ctx_t *ctx, int escape_html,
                            ca_tmpl_loader_fn *loader, void *baton,
                            apr_size_t max_out, apr_pool_t *p);

/* HTML-escape s */
const char *ca_html_escape(const char *s, apr_pool_t *p);

/* ---- the store: one set of templates, translated by catalogues ----
 * Layout of dir:  dir/<name>           templates (page.html, mail/x.txt),
 *                                      their text in English
 *                 dir/messages.txt     "key = text" lines, # comments
 * locale_dir (may be NULL): <lang>.mo catalogues compiled from
 * po/<lang>.po (ca_catalog.h); the file name gives the language tag
 * (pt_BR.mo -> "pt-br").  The languages are English and one per catalogue.
 *
 * Marks for translation in templates:
 *   {{_}}text{{/_}}                      a message: text and values only
 *   {{_n count}}one{{|}}many{{/_}}       a plural message, by the number
 *                                        in the value count
 *   {{name|date}} {{name|datetime}}      a value "YYYY-MM-DD[ HH:MM[:SS]]"
 *                                        in the language's date format
 *   {{name|num}}                         digits with the language's
 *                                        thousands separator
 * A message's id is its text (white space folded to one space in HTML
 * templates).  A translation that does not parse, uses other values or
 * other markup than its message is refused at load (CA02003, a warning)
 * and that message stays English; so does any message the catalogue
 * lacks.  messages.txt texts are found with their key as context.
 * Everything is read and parsed once at load; lookups never touch the
 * disk. */
typedef struct ca_i18n_t ca_i18n_t;

apr_status_t ca_i18n_load(ca_i18n_t **pi18n, const char *dir, const char *locale_dir,
                          const char *default_lang, apr_pool_t *p);
/* languages present, sorted (array of const char *) */
const apr_array_header_t *ca_i18n_langs(const ca_i18n_t *i18n);
int ca_i18n_has_lang(const ca_i18n_t *i18n, const char *lang);
/* choose a language: chosen (from the member's chooser/cookie) if present
 * and known, else the best match of an Accept-Language header value (q
 * values honoured, "de-DE" matches "de"), else the default language */
const char *ca_i18n_pick(const ca_i18n_t *i18n, const char *chosen,
                         const char *accept_language, apr_pool_t *p);
/* the source of template name (the same for every language); NULL if
 * there is none */
const char *ca_i18n_template(const ca_i18n_t *i18n, const char *lang,
                             const char *name);
/* message text for key in lang (the default language if lang is
 * unknown), falling back to English, and to the key itself when
 * messages.txt does not have it */
const char *ca_i18n_msg(const ca_i18n_t *i18n, const char *lang,
                        const char *key);
/* render template name in lang (the default language if lang is
 * unknown).  HTML escaping when name ends in ".html". */
apr_status_t ca_i18n_render(const char **pout, apr_size_t *poutlen,
                            const ca_i18n_t *i18n, const char *lang,
                            const char *name, const ca_tmpl_ctx_t *ctx,
                            apr_pool_t *p);

#endif
