/* Glue the cacert modules share, compiled into each of them: the sink that
 * sends the core's log lines to httpd's error log (APLOG_MARK names the
 * module it is compiled into), and the guard that keeps a watchdog thread's
 * database work out of a child's end.  Include after APLOG_USE_MODULE. */
#ifndef MOD_CACERT_GLUE_H
#define MOD_CACERT_GLUE_H

#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
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
static volatile int child_stopping;

static apr_status_t child_stop(void *data)
{
    child_stopping = 1;
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
    if (child_stopping) {
        return 0;
    }
    if (db_work_mutex) {
        apr_thread_mutex_lock(db_work_mutex);
    }
    if (child_stopping) {
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

#ifdef CACERT_PREPARE_STMTS
#include <apr_hash.h>
#include <apr_optional.h>
#include <mod_dbd.h>

#include "ca_db.h"

/* The statement tables a module uses (a NULL-terminated list), handed to
 * mod_dbd for every server by a post_config hook that runs before
 * mod_dbd's, whatever else the module is configured with.  A virtual host
 * without mod_dbd directives shares the main server's list of statements,
 * one with them has a list of its own.  Modules share tables: a label
 * already handed over for a list, by any of them (the registry is pconf's,
 * keyed by mod_dbd's configuration of the server), is not handed over
 * again, which mod_dbd would take for a conflict (AH02653).  Without
 * mod_dbd there is nothing to prepare. */
static int prepare_stmts(apr_pool_t *pconf, server_rec *s, const ca_stmt_t *const *tables)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    module *dbd = ap_find_linked_module("mod_dbd.c");
    apr_hash_t *done = NULL;
    server_rec *sp;
    int t, i;

    if (!dbd_prepare) {
        return OK;
    }
    apr_pool_userdata_get((void **)&done, "cacert-dbd-prepared", pconf);
    if (!done) {
        done = apr_hash_make(pconf);
        apr_pool_userdata_set(done, "cacert-dbd-prepared", apr_pool_cleanup_null, pconf);
    }
    for (sp = s; sp; sp = sp->next) {
        void *list = dbd ? ap_get_module_config(sp->module_config, dbd) : NULL;
        for (t = 0; tables[t]; t++) {
            for (i = 0; tables[t][i].label; i++) {
                const char *key = apr_psprintf(pconf, "%pp|%s", list ? list : (void *)sp,
                                               tables[t][i].label);
                if (apr_hash_get(done, key, APR_HASH_KEY_STRING)) {
                    continue;
                }
                apr_hash_set(done, key, APR_HASH_KEY_STRING, key);
                dbd_prepare(sp, tables[t][i].sql, tables[t][i].label);
            }
        }
    }
    return OK;
}
#endif

#endif
