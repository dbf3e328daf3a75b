/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the translation catalogue reader (ca_catalog_parse),
 * which reads .mo files compiled from volunteers' po/<lang>.po.
 *
 * The input is the .mo image.  A catalogue that is read must answer every
 * lookup of its own entries, and its plural rule must give a form inside
 * [0, nplurals) for any number. */
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "ca_catalog.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned long numbers[] = { 0, 1, 2, 5, 11, 21, 101, 1000000, 4294967295UL };
    apr_pool_t *p;
    ca_catalog_t *cat;
    const char *err;
    char *copy;
    int i, n;

    fuzz_init();
    apr_pool_create(&p, NULL);
    /* the reader needs the image to stay, and may not read past it */
    copy = apr_pmemdup(p, data, size ? size : 1);
    if (ca_catalog_parse(&cat, &err, copy, size, p) == APR_SUCCESS) {
        fuzz_check(cat != NULL);
        n = ca_catalog_count(cat);
        for (i = 0; i < n; ++i) {
            const ca_catalog_entry_t *e = ca_catalog_entry(cat, i);
            fuzz_check(e && e->msgid && e->nforms >= 1);
            fuzz_check(ca_catalog_find(cat, e->ctxt, e->msgid) >= 0);
        }
        fuzz_check(ca_catalog_entry(cat, n) == NULL);
        for (i = 0; i < (int)(sizeof(numbers) / sizeof(numbers[0])); ++i) {
            int form = ca_catalog_plural(cat, numbers[i]);
            fuzz_check(form >= 0 && form < ca_catalog_nplurals(cat));
        }
        (void)ca_catalog_header(cat, "Language", p);
    }
    else {
        fuzz_check(err != NULL && cat == NULL);
    }
    apr_pool_destroy(p);
    return 0;
}
