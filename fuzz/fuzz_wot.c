/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: what the web of trust reads from outside -- the
 * challenge import's and the forms' values after the form decoder: points,
 * dates, document counts, country codes, challenge variants, ticket
 * references, ages.  Besides "no crash, no sanitizer report", it checks
 * what the checks promise: accepted points are within 0..max, an accepted
 * date is a calendar date no later than the bound, an accepted ticket is
 * 's' or 'a'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "ca_points.h"
#include "ca_roles.h"
#include "ca_wot.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *s, *t;
    int n, max, k;

    fuzz_init();
    if (size > 4096) {
        return 0;
    }
    apr_pool_create(&p, NULL);
    /* the input as one string, and split at its first NUL or '|' into two */
    s = apr_pstrmemdup(p, (const char *)data, size);
    t = strchr(s, '|');
    if (t) {
        *t++ = '\0';
    }
    else {
        t = s + strlen(s);
    }
    max = size ? data[0] % 40 : 0;
    if (!ca_wot_check_points(&n, s, max)) {
        fuzz_check(n >= 0 && n <= max);
    }
    if (!ca_wot_check_date(s, t)) {
        fuzz_check(ca_points_age(s, s) == 0 && strlen(s) == 10);
        fuzz_check(!*t || strcmp(s, t) <= 0);
    }
    if (!ca_wot_check_documents(&n, s)) {
        fuzz_check(n >= 1 && n <= 9);
    }
    if (!ca_wot_check_country(s)) {
        fuzz_check(strlen(s) == 2);
    }
    if (!ca_wot_check_variant(s)) {
        fuzz_check(strlen(s) >= 1 && strlen(s) <= 64);
    }
    k = ca_ticket_ok(s);
    fuzz_check(k == 0 || k == 's' || k == 'a');
    if (k) {
        fuzz_check(strlen(s) >= 11 && strlen(s) <= 16);
    }
    n = ca_points_age(s, t);
    fuzz_check(n >= -1);
    fuzz_check(ca_points_junior(s, t) == (n < 18));
    apr_pool_destroy(p);
    return 0;
}
