/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the whois answer parser (ca_whois_emails,
 * ca_whois_referral), which reads what any whois server sends.  Besides
 * "no crash, no sanitizer report", it checks the promises: at most 16
 * addresses, each valid per ca_valid_email and none twice; a referral is a
 * non-empty host name of letters, digits, hyphens and dots. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "ca_probe.h"
#include "ca_valid.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_array_header_t *addrs;
    const char *ref, *c;
    apr_pool_t *p;
    int i, j;

    fuzz_init();
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        abort();
    }
    ca_whois_emails(&addrs, (const char *)data, size, p);
    fuzz_check(addrs->nelts <= 16);
    for (i = 0; i < addrs->nelts; i++) {
        const char *a = APR_ARRAY_IDX(addrs, i, const char *);
        fuzz_check(ca_valid_email(a) == NULL);
        for (j = 0; j < i; j++) {
            fuzz_check(strcasecmp(a, APR_ARRAY_IDX(addrs, j, const char *)) != 0);
        }
    }
    ref = ca_whois_referral((const char *)data, size, p);
    if (ref) {
        fuzz_check(*ref && strlen(ref) <= 253);
        for (c = ref; *c; c++) {
            fuzz_check((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
                  || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.');
        }
    }
    apr_pool_destroy(p);
    return 0;
}
