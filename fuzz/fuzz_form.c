/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the form decoder (ca_form_parse) and the UTF-8 and URL
 * helpers.  Besides "no crash, no sanitizer report", it checks what the
 * decoder promises: every accepted value is valid UTF-8 without control
 * characters and within max_value, and URL-encoding an accepted value and
 * decoding it again gives the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "ca_form.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ca_form_limits_t lim = { 2048, 32, 256, NULL, 0 };
    apr_pool_t *p;
    apr_table_t *values = NULL, *errors = NULL;
    const char *err = NULL;
    const apr_array_header_t *elts;
    apr_status_t rv;
    int i;

    fuzz_init();
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        abort();
    }
    rv = ca_form_parse(&values, &errors, &err, (const char *)data, size, &lim, p);
    fuzz_check(values != NULL && errors != NULL);
    if (rv != APR_SUCCESS) {
        fuzz_check(err != NULL);
        fuzz_check(!strcmp(err, "form.malformed") || !strcmp(err, "form.toomany")
              || !strcmp(err, "form.duplicate") || !strcmp(err, "form.toolarge"));
        fuzz_check(apr_is_empty_table(values) && apr_is_empty_table(errors));
    }
    else {
        fuzz_check(err == NULL);
        elts = apr_table_elts(values);
        fuzz_check(elts->nelts + apr_table_elts(errors)->nelts <= lim.max_fields);
        for (i = 0; i < elts->nelts; ++i) {
            const apr_table_entry_t *e = &APR_ARRAY_IDX(elts, i, apr_table_entry_t);
            apr_size_t vl = strlen(e->val);
            const char *enc, *form;
            apr_table_t *v2, *e2;

            fuzz_check(vl <= lim.max_value);
            fuzz_check(ca_utf8_valid(e->val, vl));
            fuzz_check(!ca_has_control(e->val, vl));
            fuzz_check(ca_utf8_len(e->val, vl) <= vl);
            enc = ca_url_encode(e->val, p);
            form = apr_pstrcat(p, "v=", enc, NULL);
            fuzz_check(ca_form_parse(&v2, &e2, NULL, form, strlen(form), NULL, p)
                  == APR_SUCCESS);
            fuzz_check(apr_table_get(v2, "v") && !strcmp(apr_table_get(v2, "v"), e->val));
        }
    }
    /* the helpers on the raw input */
    if (ca_utf8_valid((const char *)data, size)) {
        fuzz_check(ca_utf8_len((const char *)data, size) <= size);
        (void)ca_has_control((const char *)data, size);
    }
    apr_pool_destroy(p);
    return 0;
}
