/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: multipart/form-data bodies.  The first line of the
 * input is the Content-Type header value, the rest the body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "ca_multipart.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const text[] = { "csr", NULL };
    ca_form_limits_t lim = { 8192, 16, 256, text, 2048 };
    const char *nl = memchr(data, '\n', size), *ct, *boundary, *err;
    apr_table_t *values, *errors;
    apr_array_header_t *files;
    apr_pool_t *p;

    fuzz_init();
    if (!nl) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    ct = apr_pstrmemdup(p, (const char *)data, (apr_size_t)(nl - (const char *)data));
    boundary = ca_multipart_boundary(ct, p);
    if (boundary) {
        ca_multipart_parse(&values, &errors, &files, &err, boundary, nl + 1,
                           size - (size_t)(nl + 1 - (const char *)data), &lim, p);
    }
    apr_pool_destroy(p);
    return 0;
}
