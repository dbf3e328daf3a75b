/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Core logging: the core never includes httpd headers, so the module (or a
 * command-line tool) installs a sink.  Every line carries a tag "CA#####". */
#ifndef CA_LOG_H
#define CA_LOG_H

#include <apr_errno.h>
#include <apr_time.h>

typedef enum {
    CA_LOG_ERR = 3,
    CA_LOG_WARN = 4,
    CA_LOG_NOTICE = 5,
    CA_LOG_INFO = 6,
    CA_LOG_DEBUG = 7
} ca_log_level_t;

typedef void ca_log_sink_fn(void *baton, ca_log_level_t level, const char *tag,
                            apr_status_t rv, const char *msg);

/* install the sink; NULL restores the default (stderr) */
void ca_log_set_sink(ca_log_sink_fn *fn, void *baton);
void ca_log_set_level(ca_log_level_t level);
int ca_log_is_level(ca_log_level_t level);

void ca_log(ca_log_level_t level, const char *tag, apr_status_t rv,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* microseconds on the monotonic clock, for intervals and deadlines that a
 * step of the wall clock must not move (the core's timers, signerd's) */
apr_time_t ca_mono_now(void);

#endif
