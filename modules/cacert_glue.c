/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The httpd glue the cacert modules share (see cacert_glue.h). */
#include <string.h>

#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_optional.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>

#include <libpq-fe.h>

#include "ca_log.h"
#include "cacert_glue.h"

static server_rec *log_server;
static int log_module_index;

static void log_sink(void *baton, ca_log_level_t level, const char *tag, apr_status_t rv,
                     const char *msg)
{
    int lvl = level == CA_LOG_ERR ? APLOG_ERR
              : level == CA_LOG_WARN ? APLOG_WARNING
              : level == CA_LOG_NOTICE ? APLOG_NOTICE
              : level == CA_LOG_INFO ? APLOG_INFO : APLOG_DEBUG;

    ap_log_error_(__FILE__, __LINE__, log_module_index, lvl, rv, log_server, "%s: %s", tag,
                  msg);
}

void cacert_log_to_(server_rec *s, int module_index)
{
    log_server = s;
    log_module_index = module_index;
    ca_log_set_sink(log_sink, NULL);
}

void cacert_page_api(cacert_page_api_t *api)
{
    api->start = APR_RETRIEVE_OPTIONAL_FN(cacert_page_start);
    api->render = APR_RETRIEVE_OPTIONAL_FN(cacert_page_render);
    api->message = APR_RETRIEVE_OPTIONAL_FN(cacert_page_message);
    api->set_msg = APR_RETRIEVE_OPTIONAL_FN(cacert_page_set_msg);
    api->headers = APR_RETRIEVE_OPTIONAL_FN(cacert_page_headers);
    api->mail = APR_RETRIEVE_OPTIONAL_FN(cacert_mail);
}

/* The SQL of every statement the modules hand to mod_dbd (label -> SQL),
 * shared by the modules through pconf and set by each module's post_config
 * hook (cacert_prepare_stmts), to prepare the statements again on a
 * connection whose session was replaced. */
static apr_hash_t *stmt_sqls;

/* kept in mod_dbd's hash of a connection's statements: the PostgreSQL
 * server process they were prepared in */
#define SESSION_KEY "\001cacert-session"

void cacert_db_of(ca_db_t *db, const ap_dbd_t *dbd)
{
    memset(db, 0, sizeof(*db));
    db->driver = dbd->driver;
    db->handle = dbd->handle;
    db->prepared = dbd->prepared;
}

/* A connection mod_dbd hands out may have outlived its database session: the
 * server restarted, failed over, or ended it.  libpq learns that only when it
 * reads, and apr-util's reconnection (PQreset, on mod_dbd's next check) opens
 * a session without the prepared statements.  So, before a connection is
 * used: a socket readable at rest holds the server's last words, which are
 * read (libpq then marks the connection bad); a bad connection is reset
 * here; and on a session other than the one the statements were prepared
 * in, every statement is prepared again.  APR_EGENERAL when the database
 * cannot be reached. */
static apr_status_t db_session_check(ca_db_t *db, const ap_dbd_t *dbd)
{
    PGconn *conn;
    int *known, pid;

    if (!stmt_sqls || !dbd->prepared || strcmp(apr_dbd_name(dbd->driver), "pgsql")) {
        return APR_SUCCESS;
    }
    conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    if (!conn) {
        return APR_EGENERAL;
    }
    known = apr_hash_get(dbd->prepared, SESSION_KEY, APR_HASH_KEY_STRING);
    if (!known) {
        /* first seen: mod_dbd prepared the statements when it opened it,
         * in the session it has now -- unless that is gone already (0:
         * whatever session it gets next is new) */
        known = apr_palloc(dbd->pool, sizeof(*known));
        *known = PQstatus(conn) == CONNECTION_OK ? PQbackendPID(conn) : 0;
        apr_hash_set(dbd->prepared, SESSION_KEY, APR_HASH_KEY_STRING, known);
    }
    cacert_pg_read_goodbye(conn);
    if (PQstatus(conn) != CONNECTION_OK
        && (apr_dbd_check_conn(dbd->driver, dbd->pool, dbd->handle) != APR_SUCCESS
            || PQstatus(conn) != CONNECTION_OK)) {
        return APR_EGENERAL;
    }
    pid = PQbackendPID(conn);
    if (*known != pid) {
        if (ca_db_prepare_again(db, stmt_sqls, dbd->pool) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        *known = pid;
    }
    return APR_SUCCESS;
}

apr_status_t cacert_db_acquire(ca_db_t *db, request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    ap_dbd_t *dbd = acquire ? acquire(r) : NULL;

    if (!dbd) {
        return APR_EGENERAL;
    }
    cacert_db_of(db, dbd);
    return db_session_check(db, dbd);
}

apr_status_t cacert_db_open(ca_db_t *db, ap_dbd_t **pdbd, server_rec *s, apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    ap_dbd_t *dbd = dbd_open ? dbd_open(p, s) : NULL;

    *pdbd = dbd;
    if (!dbd) {
        return APR_EGENERAL;
    }
    cacert_db_of(db, dbd);
    if (db_session_check(db, dbd) != APR_SUCCESS) {
        cacert_db_close(dbd, s);
        *pdbd = NULL;
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

void cacert_db_close(ap_dbd_t *dbd, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);

    if (dbd && dbd_close) {
        dbd_close(s, dbd);
    }
}

apr_status_t cacert_watchdog_start(ap_watchdog_t **pwd, const char *name, apr_pool_t *pconf)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);

    if (!wd_get || !APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback)) {
        return APR_ENOTIMPL;
    }
    return wd_get(pwd, name, 0, 1, pconf);
}

apr_status_t cacert_watchdog_each_child(ap_watchdog_t **pwd, const char *name,
                                        apr_pool_t *pconf)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);

    if (!wd_get || !APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback)) {
        return APR_ENOTIMPL;
    }
    return wd_get(pwd, name, 0, 0, pconf);
}

apr_status_t cacert_watchdog_every(ap_watchdog_t *wd, apr_interval_time_t interval, void *data,
                                   ap_watchdog_callback_fn_t *cb)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);

    return wd_register ? wd_register(wd, interval, data, cb) : APR_ENOTIMPL;
}

int cacert_read_body(char **pbuf, apr_size_t *plen, request_rec *r, apr_size_t max)
{
    char *buf;
    apr_size_t len = 0;
    long n;
    int rc;

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (r->remaining > (apr_off_t)max) {
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    buf = apr_palloc(r->pool, max + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + len, max + 1 - len)) > 0) {
            len += (apr_size_t)n;
            if (len > max) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    buf[len] = '\0';
    *pbuf = buf;
    *plen = len;
    return OK;
}

static void page_headers(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(cacert_page_headers) *headers =
        APR_RETRIEVE_OPTIONAL_FN(cacert_page_headers);

    if (headers) {
        headers(r);
    }
}

int cacert_redirect(request_rec *r, const char *base, const char *where)
{
    const char *url = apr_pstrcat(r->pool, base, "/", where, NULL);

    page_headers(r);
    /* a path, never a URL made from the request's Host header (which the
     * client chooses); RFC 9110 10.2.2 allows a relative Location */
    apr_table_setn(r->headers_out, "Location", url);
    return HTTP_SEE_OTHER;
}

int cacert_send(request_rec *r, const char *type, const char *filename, const void *data,
                apr_size_t len)
{
    page_headers(r);
    ap_set_content_type(r, type);
    if (filename) {
        apr_table_setn(r->headers_out, "Content-Disposition",
                       apr_psprintf(r->pool, "attachment; filename=\"%s\"", filename));
    }
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(data, (int)len, r);
    }
    return OK;
}

int cacert_internal_error_(cacert_page_t *pg, int module_index, const char *tag,
                           apr_status_t rv, const char *what)
{
    APR_OPTIONAL_FN_TYPE(cacert_page_message) *message =
        APR_RETRIEVE_OPTIONAL_FN(cacert_page_message);

    ap_log_rerror_(__FILE__, __LINE__, module_index, APLOG_ERR, rv, pg->r,
                   "%s: %s failed", tag, what);
    if (!message) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return message(pg, "title.error", "err.internal", HTTP_INTERNAL_SERVER_ERROR);
}

/* The statement tables a module uses (a NULL-terminated list), handed to
 * mod_dbd for every server by a post_config hook that runs before
 * mod_dbd's, whatever else the module is configured with.  A virtual host
 * without mod_dbd directives shares the main server's list of statements,
 * one with them has a list of its own.  Modules share tables: a label
 * already handed over for a list, by any of them (the registry is pconf's,
 * keyed by mod_dbd's configuration of the server), is not handed over
 * again, which mod_dbd would take for a conflict (AH02653).  Without
 * mod_dbd there is nothing to prepare. */
int cacert_prepare_stmts(apr_pool_t *pconf, server_rec *s, const ca_stmt_t *const *tables)
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
    apr_pool_userdata_get((void **)&stmt_sqls, "cacert-dbd-sql", pconf);
    if (!stmt_sqls) {
        stmt_sqls = apr_hash_make(pconf);
        apr_pool_userdata_set(stmt_sqls, "cacert-dbd-sql", apr_pool_cleanup_null, pconf);
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
                apr_hash_set(stmt_sqls, tables[t][i].label, APR_HASH_KEY_STRING,
                             tables[t][i].sql);
                dbd_prepare(sp, tables[t][i].sql, tables[t][i].label);
            }
        }
    }
    return OK;
}

/* each module links its own copy of this file: one list per module */
static const ca_stmt_t *const *hooked_tables;

static int prepare_hook(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    return cacert_prepare_stmts(pconf, s, hooked_tables);
}

void cacert_hook_stmts(const ca_stmt_t *const *tables)
{
    static const char *const before_dbd[] = { "mod_dbd.c", NULL };

    hooked_tables = tables;
    ap_hook_post_config(prepare_hook, NULL, before_dbd, APR_HOOK_MIDDLE);
}

void cacert_hook_module(const ca_stmt_t *const *tables, ap_HOOK_post_config_t *post_config,
                        ap_HOOK_child_init_t *child_init, ap_HOOK_handler_t *handler)
{
    cacert_hook_stmts(tables);
    if (post_config) {
        ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    }
    if (child_init) {
        ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    }
    if (handler) {
        ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
    }
}
