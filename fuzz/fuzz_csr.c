/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: CSR intake (PEM or DER) as the request form hands it
 * over. */
#include <stddef.h>
#include <stdint.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "ca_csr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    ca_csr_t *csr;

    fuzz_init();
    apr_pool_create(&p, NULL);
    ca_csr_parse(&csr, (const char *)data, size, NULL, p);
    apr_pool_destroy(p);
    return 0;
}
