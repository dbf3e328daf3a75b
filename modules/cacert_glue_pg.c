/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The glue's PostgreSQL connections of their own, beside mod_dbd's pool
 * (see cacert_glue.h): the conninfo they are made from, the LISTEN
 * connection (cacert_listen) and the advisory lock (cacert_pglock). */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <mod_dbd.h>

#include <libpq-fe.h>

#include "ca_log.h"
#include "cacert_glue.h"

/* a connection at rest whose socket is readable holds the server's last
 * words (its session ended): read, libpq then marks it bad */
void cacert_pg_read_goodbye(PGconn *conn)
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
        cacert_pg_read_goodbye(l->conn);
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
