/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Translation catalogues: GNU gettext's compiled format (.mo), as msgfmt
 * writes it from po/<lang>.po.
 *
 * A catalogue is read whole into memory once (at httpd start) and checked:
 * the magic number (either byte order), the tables inside the file, every
 * string NUL-terminated inside the file and valid UTF-8, the header's
 * charset UTF-8, and its Plural-Forms expression, which is compiled into a
 * small tree evaluated for each plural message.  A file that fails any
 * check is refused as a whole, with a reason.
 *
 * Entries are found by (context, msgid): messages.txt texts use their key
 * as context; the date, month and number formats use "date", "datetime",
 * "month" and "number".  A plural entry is found by its singular msgid; its
 * forms are chosen by the Plural-Forms expression. */
#ifndef CA_CATALOG_H
#define CA_CATALOG_H

#include <apr_pools.h>

typedef struct ca_catalog_t ca_catalog_t;

typedef struct {
    const char *ctxt;               /* NULL if the entry has no context */
    const char *msgid;
    const char *msgid_plural;       /* NULL unless a plural entry */
    const char **forms;             /* the translations: 1, or nplurals */
    int nforms;
} ca_catalog_entry_t;

/* parse a .mo image; data must stay valid as long as the catalogue (it is
 * not copied).  On failure *perr says why. */
apr_status_t ca_catalog_parse(ca_catalog_t **pcat, const char **perr,
                              const char *data, apr_size_t len, apr_pool_t *p);
/* read and parse a .mo file (at most 16 MiB) */
apr_status_t ca_catalog_load(ca_catalog_t **pcat, const char **perr,
                             const char *path, apr_pool_t *p);

/* number of entries (the header is not one) and the i-th entry */
int ca_catalog_count(const ca_catalog_t *cat);
const ca_catalog_entry_t *ca_catalog_entry(const ca_catalog_t *cat, int i);
/* index of the entry for (ctxt, msgid), ctxt may be NULL; -1 if none */
int ca_catalog_find(const ca_catalog_t *cat, const char *ctxt, const char *msgid);
/* translation of (ctxt, msgid), NULL if none (singular form of a plural) */
const char *ca_catalog_get(const ca_catalog_t *cat, const char *ctxt,
                           const char *msgid);
/* index of the plural form for the number n, in [0, nplurals) */
int ca_catalog_plural(const ca_catalog_t *cat, unsigned long n);
int ca_catalog_nplurals(const ca_catalog_t *cat);
/* a header field ("Language", "Plural-Forms", ...), NULL if absent */
const char *ca_catalog_header(const ca_catalog_t *cat, const char *field,
                              apr_pool_t *p);

#endif
