/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Glue the cacert modules share, compiled into each of them: the sink that
 * sends the core's log lines to httpd's error log (APLOG_MARK names the
 * module it is compiled into), the guard that keeps a watchdog thread's
 * database work out of a child's end, and the start-up's word on its
 * watchdogs.  Include after APLOG_USE_MODULE. */
#ifndef MOD_CACERT_GLUE_H
#define MOD_CACERT_GLUE_H

#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <ap_mpm.h>
#include <http_log.h>

#include "ca_log.h"

static server_rec *log_server;

static void log_sink(void *baton, ca_log_level_t level, const char *tag,
                     apr_status_t rv, const char *msg)
{
    int lvl = level == CA_LOG_ERR ? APLOG_ERR
              : level == CA_LOG_WARN ? APLOG_WARNING
              : level == CA_LOG_NOTICE ? APLOG_NOTICE
              : level == CA_LOG_INFO ? APLOG_INFO : APLOG_DEBUG;

    ap_log_error(APLOG_MARK, lvl, rv, log_server, "%s: %s", tag, msg);
}

/* the modules' old name for cacert_parse_seconds (cacert_glue.h) */
const char *cacert_parse_seconds(apr_int64_t *psecs, const char *arg);
#define parse_seconds cacert_parse_seconds

#ifdef CACERT_DB_GUARD
/* The watchdog threads use mod_dbd's connections.  When a child ends,
 * mod_dbd's pool cleanups may close them before the watchdog thread is
 * joined: a pre-cleanup (which runs before every cleanup) stops the
 * database work first and waits for the part under way. */
static apr_thread_mutex_t *db_work_mutex;
static volatile int child_stop_flag;

/* 1 when this child ends: the MPM is stopping it (a graceful or a hard
 * stop; mod_watchdog checks the same) or its pool goes.  A watchdog
 * callback that works for long checks it at each turn: its child's end
 * joins the watchdog thread, and httpd's parent kills a child that does
 * not end within seconds. */
static int child_stopping(void)
{
    int state = AP_MPMQ_RUNNING;

    if (child_stop_flag) {
        return 1;
    }
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) != APR_SUCCESS
           || state == AP_MPMQ_STOPPING;
}

static apr_status_t child_stop(void *data)
{
    child_stop_flag = 1;
    if (db_work_mutex) {
        apr_thread_mutex_lock(db_work_mutex);
        apr_thread_mutex_unlock(db_work_mutex);
    }
    return APR_SUCCESS;
}

static void db_guard_init(apr_pool_t *pchild)
{
    apr_thread_mutex_create(&db_work_mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
    apr_pool_pre_cleanup_register(pchild, NULL, child_stop);
}

/* 1: the database may be used until db_work_end(); 0: the child ends */
static int db_work_begin(void)
{
    if (child_stopping()) {
        return 0;
    }
    if (db_work_mutex) {
        apr_thread_mutex_lock(db_work_mutex);
    }
    if (child_stop_flag) {
        if (db_work_mutex) {
            apr_thread_mutex_unlock(db_work_mutex);
        }
        return 0;
    }
    return 1;
}

static void db_work_end(void)
{
    if (db_work_mutex) {
        apr_thread_mutex_unlock(db_work_mutex);
    }
}
#endif

#ifdef CACERT_WATCHDOGS
/* The end of a post_config hook that starts its watchdogs, rv what the
 * cacert_watchdog_* calls gave: OK for APR_SUCCESS; else, after the line
 * missing (APR_ENOTIMPL: mod_watchdog is not loaded) or failed (with rv)
 * in the error log of s, HTTP_INTERNAL_SERVER_ERROR. */
static int watchdogs_started(apr_status_t rv, server_rec *s, const char *missing,
                             const char *failed)
{
    if (rv == APR_SUCCESS) {
        return OK;
    }
    if (rv == APR_ENOTIMPL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "%s", missing);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, "%s", failed);
    }
    return HTTP_INTERNAL_SERVER_ERROR;
}
#endif

#endif
