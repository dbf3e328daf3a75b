/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Times one Argon2id password verification with given parameters, as the
 * login page pays it.  Prints the median and the spread over N runs.
 *
 *   argon2_bench [iterations memory_kib lanes [runs]]   (default 3 65536 1 9) */
#include <stdio.h>
#include <stdlib.h>

#include <apr_general.h>
#include <apr_time.h>

#include "ca_crypto.h"

static int cmp(const void *a, const void *b)
{
    apr_interval_time_t x = *(const apr_interval_time_t *)a;
    apr_interval_time_t y = *(const apr_interval_time_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    ca_argon2_params_t prm = { 3, 65536, 1 };
    apr_interval_time_t t[101];
    const char *hash;
    apr_pool_t *p;
    int runs = 9, i;

    if (argc >= 4) {
        prm.t_cost = (uint32_t)atoi(argv[1]);
        prm.m_cost = (uint32_t)atoi(argv[2]);
        prm.lanes = (uint32_t)atoi(argv[3]);
    }
    if (argc >= 5) {
        runs = atoi(argv[4]);
    }
    if (runs < 1 || runs > 101) {
        fprintf(stderr, "runs must be 1..101\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    if (ca_pw_hash(&hash, "Quiet-Harbour-47-lantern", &prm, p) != APR_SUCCESS) {
        fprintf(stderr, "argon2id failed with t=%u m=%u p=%u\n", prm.t_cost, prm.m_cost,
                prm.lanes);
        return 1;
    }
    for (i = 0; i < runs; i++) {
        apr_time_t start = apr_time_now();
        if (ca_pw_verify(hash, "Quiet-Harbour-47-lantern") != APR_SUCCESS) {
            fprintf(stderr, "verification failed\n");
            return 1;
        }
        t[i] = apr_time_now() - start;
    }
    qsort(t, (size_t)runs, sizeof(t[0]), cmp);
    printf("argon2id t=%u m=%uKiB p=%u: one verification median %.1f ms "
           "(min %.1f, max %.1f, %d runs)\n", prm.t_cost, prm.m_cost, prm.lanes,
           t[runs / 2] / 1000.0, t[0] / 1000.0, t[runs - 1] / 1000.0, runs);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
