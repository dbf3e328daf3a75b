/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* multipart/form-data (RFC 7578), for forms with a file field.  Text
 * parts are checked exactly like urlencoded values (ca_form.h: UTF-8, no
 * control characters, lengths, one value per name); file parts are kept as
 * bytes. */
#ifndef CA_MULTIPART_H
#define CA_MULTIPART_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "ca_form.h"

typedef struct {
    const char *name;               /* the field */
    const char *filename;           /* as the browser sent it (not trusted) */
    const unsigned char *data;
    apr_size_t len;
} ca_file_part_t;

/* the boundary of a multipart/form-data Content-Type, or NULL */
const char *ca_multipart_boundary(const char *content_type, apr_pool_t *p);

/* Parse body (len bytes) with the given boundary.  Structure errors reject
 * the whole form (APR_EINVAL, *perr a message key as in ca_form.h);
 * values and per-field errors as ca_form_parse; *pfiles the file parts
 * (array of ca_file_part_t), each at most lim->max_text bytes (else the
 * field gets "field.toolong"); an empty file part (nothing chosen) is
 * left out. */
apr_status_t ca_multipart_parse(apr_table_t **pvalues, apr_table_t **perrors,
                                apr_array_header_t **pfiles, const char **perr,
                                const char *boundary, const char *body, apr_size_t len,
                                const ca_form_limits_t *lim, apr_pool_t *p);

#endif
