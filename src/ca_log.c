/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <apr_strings.h>

#include "ca_log.h"

static ca_log_sink_fn *log_sink;
static void *log_baton;
static ca_log_level_t log_level = CA_LOG_NOTICE;

void ca_log_set_sink(ca_log_sink_fn *fn, void *baton)
{
    log_sink = fn;
    log_baton = baton;
}

void ca_log_set_level(ca_log_level_t level)
{
    log_level = level;
}

int ca_log_is_level(ca_log_level_t level)
{
    return level <= log_level;
}

void ca_log(ca_log_level_t level, const char *tag, apr_status_t rv,
            const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    if (!log_sink && !ca_log_is_level(level)) {
        return;
    }
    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (log_sink) {
        log_sink(log_baton, level, tag, rv, buf);
    }
    else {
        char err[256] = "";
        if (rv != APR_SUCCESS) {
            apr_strerror(rv, err, sizeof(err));
        }
        fprintf(stderr, "%s: %s%s%s\n", tag, buf, rv ? ": " : "", err);
    }
}

apr_time_t ca_mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_time_t)ts.tv_sec * APR_USEC_PER_SEC + ts.tv_nsec / 1000;
}
