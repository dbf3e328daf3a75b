/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* What every fuzz target needs: APR once per process (terminated at exit,
 * so LeakSanitizer sees the pools freed) and a check that stops the run. */
#ifndef CACERT_FUZZ_H
#define CACERT_FUZZ_H

#include <stdlib.h>

#include <apr_general.h>

/* 1 the first time it is called in this process, after apr_initialize */
static inline int fuzz_init(void)
{
    static int initialized;

    if (initialized) {
        return 0;
    }
    apr_initialize();
    atexit(apr_terminate);
    initialized = 1;
    return 1;
}

/* a property the target asserts: a failure is a finding */
static inline void fuzz_check(int cond)
{
    if (!cond) {
        abort();
    }
}

#endif
