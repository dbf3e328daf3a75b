/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Decoder of application/x-www-form-urlencoded bodies and query strings.
 *
 * Structure errors (bad percent-encoding in a name, a name that is not
 * printable ASCII [A-Za-z0-9_.-], more than max_fields fields, a name
 * given twice, a body over max_body) reject the whole form: APR_EINVAL and
 * *perr is a message key ("form.malformed", "form.toomany",
 * "form.duplicate", "form.toolarge").
 *
 * Value errors are per field: the field is left out of the values table and
 * its name is mapped to a message key in the errors table:
 *   "field.encoding"  bad percent-encoding
 *   "field.utf8"      not valid UTF-8 (overlongs, surrogates, > U+10FFFF)
 *   "field.control"   contains a control character (C0 incl. NUL, DEL, C1);
 *                     CR/LF/TAB included: the forms here take no
 *                     multi-line text
 *   "field.toolong"   more than max_value bytes after decoding
 * '+' decodes to a space. */
#ifndef CA_FORM_H
#define CA_FORM_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    apr_size_t max_body;    /* whole input, bytes */
    int max_fields;         /* number of name=value pairs */
    apr_size_t max_value;   /* one decoded value, bytes */
    /* NULL-terminated names of fields that hold pasted text (a PEM block):
     * they may contain CR, LF and TAB (no other control character) and be
     * up to max_text bytes */
    const char *const *text_fields;
    apr_size_t max_text;
} ca_form_limits_t;

apr_status_t ca_form_parse(apr_table_t **pvalues, apr_table_t **perrors,
                           const char **perr,
                           const char *data, apr_size_t len,
                           const ca_form_limits_t *limits, apr_pool_t *p);

/* the check of one decoded value: NULL, or the field.* message key */
const char *ca_form_check_value(const char *name, const char *v, apr_size_t vlen,
                                const ca_form_limits_t *lim);
/* 1 if name is one of lim->text_fields */
int ca_form_is_text_field(const char *name, const ca_form_limits_t *lim);

/* 1 if s[0..len) is valid UTF-8 (RFC 3629), else 0 */
int ca_utf8_valid(const char *s, apr_size_t len);
/* 1 if the (valid UTF-8) string has a C0/C1 control character or DEL */
int ca_has_control(const char *s, apr_size_t len);
/* the same, but CR, LF and TAB are allowed */
int ca_has_control_text(const char *s, apr_size_t len);
/* number of code points of valid UTF-8 */
apr_size_t ca_utf8_len(const char *s, apr_size_t len);
/* percent-encode for use in a URL query value */
const char *ca_url_encode(const char *s, apr_pool_t *p);

#endif
