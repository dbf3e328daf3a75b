/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The httpd glue the cacert modules share (see cacert_glue.h). */
#include <errno.h>
#include <poll.h>
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

/* a connection at rest whose socket is readable holds the server's last
 * words (its session ended): read, libpq then marks it bad */
static void read_goodbye(PGconn *conn)
{
    if (PQtransactionStatus(conn) == PQTRANS_IDLE) {
        /* the goodbye (an error message), then the end of the stream: a
         * read each; a few reads at most, none of them waits */
        struct pollfd pfd = { PQsocket(conn), POLLIN, 0 };
        int reads = 0;
        while (pfd.fd >= 0 && reads++ < 4 && PQstatus(conn) == CONNECTION_OK
               && poll(&pfd, 1, 0) > 0 && PQconsumeInput(conn)) {
            pfd.revents = 0;
        }
    }
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
    read_goodbye(conn);
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

const char *cacert_check_conninfo(const char *conninfo, apr_pool_t *p)
{
    char *perr = NULL, *err, *nl;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);

    if (opts) {
        PQconninfoFree(opts);
        return NULL;
    }
    err = apr_pstrcat(p, "not libpq's connection parameters: ",
                      perr ? perr : "out of memory", NULL);
    PQfreemem(perr);
    if ((nl = strchr(err, '\n')) != NULL) {
        *nl = '\0';
    }
    return err;
}

/* the connection closed, in whatever state it is */
static void listener_disconnect(cacert_listener_t *l)
{
    if (l->db.handle) {
        apr_dbd_close(l->db.driver, l->db.handle);
    }
    if (l->pool) {
        apr_pool_destroy(l->pool);
    }
    memset(&l->db, 0, sizeof(l->db));
    l->pool = NULL;
    l->conn = NULL;
}

void cacert_listener_close(cacert_listener_t *l)
{
    pthread_mutex_lock(&l->mu);
    l->closed = 1;
    listener_disconnect(l);
    pthread_mutex_unlock(&l->mu);
}

/* libpq's options as one "key='value' ..." string (quotes and backslashes
 * escaped), with our application_name (appname, a constant of ours) */
static const char *conninfo_string(const PQconninfoOption *opts, const char *appname,
                                   apr_pool_t *p)
{
    const PQconninfoOption *o;
    char *out = "";

    for (o = opts; o->keyword; ++o) {
        const char *v;
        char *q, *e;
        if (!o->val || !*o->val || !strcmp(o->keyword, "application_name")) {
            continue;
        }
        e = q = apr_palloc(p, 2 * strlen(o->val) + 1);
        for (v = o->val; *v; v++) {
            if (*v == '\'' || *v == '\\') {
                *e++ = '\\';
            }
            *e++ = *v;
        }
        *e = '\0';
        out = apr_pstrcat(p, out, o->keyword, "='", q, "' ", NULL);
    }
    return apr_pstrcat(p, out, "application_name='", appname, "'", NULL);
}

/* the parameters of one of mod_dbd's connections of s (PQconninfo), which
 * is given back at once; NULL when there is none */
static const char *dbd_conninfo(server_rec *s, const char *appname, apr_pool_t *p)
{
    PQconninfoOption *opts;
    const char *info = NULL;
    PGconn *model;
    ap_dbd_t *dbd;
    ca_db_t db;

    if (cacert_db_open(&db, &dbd, s, p) != APR_SUCCESS) {
        return NULL;
    }
    if (!strcmp(apr_dbd_name(dbd->driver), "pgsql")
        && (model = apr_dbd_native_handle(dbd->driver, dbd->handle)) != NULL
        && (opts = PQconninfo(model)) != NULL) {
        info = conninfo_string(opts, appname, p);
        PQconninfoFree(opts);
    }
    cacert_db_close(dbd, s);
    return info;
}

/* a connection of its own, to l->conninfo or to the database mod_dbd uses,
 * with l->stmts prepared on it; *perr (when perr is not NULL) is libpq's
 * message when the database refused it */
static apr_status_t listener_connect(cacert_listener_t *l, const char **perr, server_rec *s,
                                     apr_pool_t *p)
{
    const apr_dbd_driver_t *driver;
    const char *info, *err = NULL;
    const char *appname = l->appname ? l->appname : "cacert-listen";
    apr_status_t rv;

    if (l->conninfo) {
        char *cerr = NULL;
        PQconninfoOption *opts = PQconninfoParse(l->conninfo, &cerr);
        if (!opts) {
            /* checked when the directive was read: not reached */
            PQfreemem(cerr);
            rv = APR_EINVAL;
            goto leave;
        }
        info = conninfo_string(opts, appname, p);
        PQconninfoFree(opts);
    }
    else if (!(info = dbd_conninfo(s, appname, p))) {
        rv = APR_EGENERAL;
        goto leave;
    }
    if ((rv = apr_dbd_get_driver(p, "pgsql", &driver)) != APR_SUCCESS) {
        goto leave;
    }
    if ((rv = apr_pool_create_unmanaged_ex(&l->pool, NULL, NULL)) != APR_SUCCESS) {
        l->pool = NULL;
        goto leave;
    }
    l->db.driver = driver;
    if ((rv = apr_dbd_open_ex(driver, l->pool, info, &l->db.handle, &err)) != APR_SUCCESS) {
        l->db.handle = NULL;
        if (perr) {
            *perr = apr_pstrdup(p, err ? err : "");
        }
        goto leave;
    }
    l->conn = apr_dbd_native_handle(driver, l->db.handle);
    l->db.prepared = apr_hash_make(l->pool);
    if (!l->conn || (l->stmts && ca_db_prepare_tables(&l->db, l->stmts, l->pool))) {
        rv = APR_EGENERAL;
        goto leave;
    }
leave:
    if (rv != APR_SUCCESS) {
        listener_disconnect(l);
    }
    return rv;
}

/* a connection that failed: closed, the next call makes a new one */
static apr_status_t listen_drop(cacert_listener_t *l)
{
    listener_disconnect(l);
    return APR_EGENERAL;
}

ca_db_t *cacert_listener_db(cacert_listener_t *l)
{
    pthread_mutex_lock(&l->mu);
    if (l->closed || !l->conn || PQstatus(l->conn) != CONNECTION_OK) {
        pthread_mutex_unlock(&l->mu);
        return NULL;
    }
    return &l->db;
}

ca_db_t *cacert_listener_open(cacert_listener_t *l, server_rec *s, apr_pool_t *p)
{
    pthread_mutex_lock(&l->mu);
    if (l->conn) {
        /* a session the server ended since the last use (a restart, a
         * failover) is noticed here, not by the next statement */
        read_goodbye(l->conn);
        if (PQstatus(l->conn) != CONNECTION_OK
            || PQtransactionStatus(l->conn) != PQTRANS_IDLE) {
            listener_disconnect(l); /* broken, or left inside a transaction */
        }
    }
    if (!l->conn && !l->closed) {
        const char *err = NULL;
        if (listener_connect(l, &err, s, p) != APR_SUCCESS) {
            /* once per outage (mod_dbd logs its own when it has none) */
            if (err && !l->down_logged) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "CA22105: %s: no connection of its "
                             "own to the database: %s", l->appname ? l->appname
                             : "cacert-listen", err);
                l->down_logged = 1;
            }
            pthread_mutex_unlock(&l->mu);
            return NULL;
        }
        l->down_logged = 0;
    }
    if (l->closed) {
        pthread_mutex_unlock(&l->mu);
        return NULL;
    }
    return &l->db;
}

void cacert_listener_release(cacert_listener_t *l)
{
    pthread_mutex_unlock(&l->mu);
}

apr_status_t cacert_listen(apr_array_header_t **ppayloads, int *pfresh,
                           cacert_listener_t *l, server_rec *s, const char *channel,
                           apr_interval_time_t wait, apr_pool_t *p)
{
    PGnotify *n;
    PGresult *res;
    struct pollfd pfd;
    apr_status_t rv = APR_SUCCESS;
    int ok;

    *pfresh = 0;
    if (!*ppayloads) {
        *ppayloads = apr_array_make(p, 4, sizeof(const char *));
    }
    pthread_mutex_lock(&l->mu);
    if (l->closed) {
        rv = APR_EOF;
        goto leave;
    }
    if (l->conn && PQstatus(l->conn) != CONNECTION_OK) {
        listen_drop(l);         /* a statement between calls found it broken */
    }
    if (!l->conn) {
        if ((rv = listener_connect(l, NULL, s, p)) != APR_SUCCESS) {
            goto leave;
        }
        /* the channel is one of the module's constants (an identifier),
         * never outside input; LISTEN cannot be a prepared statement */
        res = PQexec(l->conn, apr_pstrcat(p, "LISTEN ", channel, NULL));
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "CA22103: LISTEN %s: %s",
                         channel, PQerrorMessage(l->conn));
            rv = listen_drop(l);
            goto leave;
        }
        *pfresh = 1;
    }
    pfd.fd = PQsocket(l->conn);
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (pfd.fd < 0) {
        rv = listen_drop(l);
        goto leave;
    }
    if (poll(&pfd, 1, (int)(wait / 1000)) > 0 && !PQconsumeInput(l->conn)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "CA22104: listening on %s: %s",
                     channel, PQerrorMessage(l->conn));
        rv = listen_drop(l);
        goto leave;
    }
    while ((n = PQnotifies(l->conn)) != NULL) {
        if (n->relname && !strcmp(n->relname, channel) && n->extra) {
            APR_ARRAY_PUSH(*ppayloads, const char *) = apr_pstrdup(p, n->extra);
        }
        PQfreemem(n);
    }
    if (PQstatus(l->conn) != CONNECTION_OK) {
        rv = listen_drop(l);
    }
leave:
    pthread_mutex_unlock(&l->mu);
    return rv;
}

/* a connection of its own to the database mod_dbd uses: the parameters of
 * one of mod_dbd's connections (PQconninfo), which is given back at once,
 * with application_name and the pairs of extra (keys, values, NULL-ended)
 * over them */
static PGconn *own_connect(server_rec *s, const char *appname, const char *const *xkeys,
                           const char *const *xvals, apr_pool_t *p)
{
    PQconninfoOption *opts, *o;
    const char **keys, **vals;
    PGconn *conn = NULL, *model;
    ap_dbd_t *dbd;
    ca_db_t db;
    int n = 0, x, nx = 0;

    if (cacert_db_open(&db, &dbd, s, p) != APR_SUCCESS) {
        return NULL;
    }
    while (xkeys && xkeys[nx]) {
        ++nx;
    }
    if (!strcmp(apr_dbd_name(dbd->driver), "pgsql")
        && (model = apr_dbd_native_handle(dbd->driver, dbd->handle)) != NULL
        && (opts = PQconninfo(model)) != NULL) {
        for (o = opts; o->keyword; ++o) {
            ++n;
        }
        keys = apr_pcalloc(p, sizeof(*keys) * (apr_size_t)(n + nx + 2));
        vals = apr_pcalloc(p, sizeof(*vals) * (apr_size_t)(n + nx + 2));
        n = 0;
        for (o = opts; o->keyword; ++o) {
            int over = !strcmp(o->keyword, "application_name");
            for (x = 0; x < nx && !over; x++) {
                over = !strcmp(o->keyword, xkeys[x]);
            }
            if (o->val && *o->val && !over) {
                keys[n] = apr_pstrdup(p, o->keyword);
                vals[n++] = apr_pstrdup(p, o->val);
            }
            else if (o->val && *o->val && !strcmp(o->keyword, "options")) {
                /* options of the model's come before the extra ones */
                for (x = 0; x < nx; x++) {
                    if (!strcmp(xkeys[x], "options")) {
                        xvals = apr_pmemdup(p, xvals, sizeof(*xvals) * (apr_size_t)nx);
                        ((const char **)xvals)[x] = apr_pstrcat(p, o->val, " ", xvals[x],
                                                                NULL);
                    }
                }
            }
        }
        PQconninfoFree(opts);
        for (x = 0; x < nx; x++) {
            keys[n] = xkeys[x];
            vals[n++] = xvals[x];
        }
        keys[n] = "application_name";
        vals[n++] = appname;
        conn = PQconnectdbParams(keys, vals, 0);
    }
    cacert_db_close(dbd, s);
    if (conn && PQstatus(conn) != CONNECTION_OK) {
        PQfinish(conn);
        conn = NULL;
    }
    return conn;
}

/* ---- an advisory lock on a connection of its own ---- */

/* The lock's session must end when its host does: a process killed closes
 * its socket and the server ends the session at once, but a host that
 * dies (power, network) sends nothing.  TCP keepalives on both ends (the
 * server's, set for this session, and libpq's) and a user timeout end it
 * within about keepalive idle + interval * count. */
static const char *const lock_keys[] = {
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
    "tcp_user_timeout", "connect_timeout", "options", NULL
};
static const char *const lock_vals[] = {
    "1", "5", "2", "3", "10000", "5",
    "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 "
    "-c tcp_user_timeout=10000", NULL
};

#define LOCK_TRY "cacert_lock_try"
#define LOCK_PING "cacert_lock_ping"

/* the connection is gone: closed, so is the lock if the server still had
 * the session */
static void lock_drop(cacert_pglock_t *l)
{
    if (l->conn) {
        PQfinish(l->conn);
        l->conn = NULL;
    }
    l->held = 0;
}

/* a prepared statement of the lock's connection, answered within wait:
 * its one value ("t", "1"), or NULL when it failed or took longer */
static const char *lock_exec(cacert_pglock_t *l, const char *stmt, int nparams,
                             const char *const *params, apr_interval_time_t wait,
                             apr_pool_t *p)
{
    apr_time_t end = apr_time_now() + wait;
    const char *value = NULL;
    PGresult *res;
    int failed = 0;

    if (!PQsendQueryPrepared(l->conn, stmt, nparams, params, NULL, NULL, 0)) {
        return NULL;
    }
    for (;;) {
        struct pollfd pfd = { PQsocket(l->conn), POLLIN, 0 };
        apr_time_t now = apr_time_now();
        if (!PQconsumeInput(l->conn)) {
            return NULL;
        }
        if (!PQisBusy(l->conn)) {
            break;
        }
        if (now >= end || pfd.fd < 0) {
            return NULL;
        }
        if (poll(&pfd, 1, (int)((end - now) / 1000) + 1) < 0 && errno != EINTR) {
            return NULL;
        }
    }
    while ((res = PQgetResult(l->conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !value) {
            value = apr_pstrdup(p, PQgetvalue(res, 0, 0));
        }
        else {
            failed = 1;
        }
        PQclear(res);
    }
    return failed ? NULL : value;
}

apr_status_t cacert_pglock_hold(int *pheld, cacert_pglock_t *l, server_rec *s, apr_int64_t key,
                                apr_interval_time_t wait, apr_pool_t *p)
{
    const char *v, *param;
    apr_status_t rv = APR_SUCCESS;
    PGresult *res;
    int ok;

    *pheld = 0;
    pthread_mutex_lock(&l->mu);
    if (l->closed) {
        rv = APR_EOF;
        goto leave;
    }
    if (!l->conn) {
        if (!(l->conn = own_connect(s, "cacert-signer-lock", lock_keys, lock_vals, p))) {
            rv = APR_EGENERAL;
            goto leave;
        }
        res = PQprepare(l->conn, LOCK_TRY, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (ok) {
            res = PQprepare(l->conn, LOCK_PING, "SELECT 1", 0, NULL);
            ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            PQclear(res);
        }
        if (!ok) {
            lock_drop(l);
            rv = APR_EGENERAL;
            goto leave;
        }
    }
    if (l->held) {
        /* a session-level lock lasts as long as the session: one that
         * still answers holds it */
        if (!lock_exec(l, LOCK_PING, 0, NULL, wait, p)) {
            lock_drop(l);
            rv = APR_EGENERAL;
        }
        goto leave;
    }
    param = apr_psprintf(p, "%" APR_INT64_T_FMT, key);
    if (!(v = lock_exec(l, LOCK_TRY, 1, &param, wait, p))) {
        lock_drop(l);
        rv = APR_EGENERAL;
        goto leave;
    }
    l->held = !strcmp(v, "t");
leave:
    *pheld = l->held;
    pthread_mutex_unlock(&l->mu);
    return rv;
}

void cacert_pglock_close(cacert_pglock_t *l)
{
    pthread_mutex_lock(&l->mu);
    l->closed = 1;
    lock_drop(l);
    pthread_mutex_unlock(&l->mu);
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
