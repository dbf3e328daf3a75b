/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The httpd glue the cacert modules share, compiled once (cacert_glue.c,
 * cacert_glue_config.c) and linked into each module with hidden symbols:
 * the server configuration made and merged from a table of its fields,
 * directive setters and the "unset" defaults, hook registration and the
 * module record, the database handle, one route type and one handler
 * type, redirects, the internal-error page and sending a body.  What a
 * module decides stays in the module; what the CA decides stays in the
 * core (src/). */
#ifndef CACERT_GLUE_H
#define CACERT_GLUE_H

#include <pthread.h>
#include <stddef.h>

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_dbd.h>
#include <httpd.h>
#include <http_config.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>

#include "ca_db.h"
#include "mod_cacert.h"

/* ---- the page API of mod_cacert_account (mod_cacert.h) ---- */

typedef struct {
    APR_OPTIONAL_FN_TYPE(cacert_page_start) *start;
    APR_OPTIONAL_FN_TYPE(cacert_page_render) *render;
    APR_OPTIONAL_FN_TYPE(cacert_page_message) *message;
    APR_OPTIONAL_FN_TYPE(cacert_page_set_msg) *set_msg;
    APR_OPTIONAL_FN_TYPE(cacert_page_headers) *headers;
    APR_OPTIONAL_FN_TYPE(cacert_mail) *mail;
} cacert_page_api_t;

/* retrieve it (from post_config on); api->start is NULL when
 * mod_cacert_account is not loaded */
void cacert_page_api(cacert_page_api_t *api);

/* ---- logging ---- */

/* send the core's log lines (ca_log) to the error log of server s, as the
 * module's lines (call from the module's post_config) */
void cacert_log_to_(server_rec *s, int module_index);
#define cacert_log_to(s) cacert_log_to_((s), APLOG_MODULE_INDEX)

/* ---- configuration ---- */

/* a numeric directive not given in a server's configuration */
#define CACERT_UNSET (-1)

/* how many members' long lists (points page, certificate list) a child
 * keeps per list (ca_listcache): a few MB at 300 rows each */
#define CACERT_LIST_CACHE 128

/* merge of a pointer of a server's configuration over its base (outside
 * the table of fields, below): the field of add when it was set there,
 * else the base's */
#define CACERT_MERGE_PTR(c, base, add, f) ((c)->f = (add)->f ? (add)->f : (base)->f)

/* A field of a server configuration that the glue makes unset and merges:
 * a pointer (set when not NULL), a number, int or 64-bit (set when not
 * CACERT_UNSET), or an array of elements of elt bytes (made empty, set when
 * it has elements).  A module lists its fields in one table, which ends
 * with { 0 }; what merges otherwise it merges itself. */
enum { CACERT_FIELD_PTR_ = 1, CACERT_FIELD_NUM_, CACERT_FIELD_ARR_ };
typedef struct {
    int kind;                   /* CACERT_FIELD_*_; 0 ends a table */
    apr_size_t offset;          /* offsetof the field in its struct */
    apr_size_t size;            /* sizeof the field */
    apr_size_t elt;             /* an array's sizeof its elements */
} cacert_field_t;
#define CACERT_FIELD_PTR(type, f) \
    { CACERT_FIELD_PTR_, APR_OFFSETOF(type, f), sizeof(((type *)0)->f), 0 }
#define CACERT_FIELD_NUM(type, f) \
    { CACERT_FIELD_NUM_, APR_OFFSETOF(type, f), sizeof(((type *)0)->f), 0 }
#define CACERT_FIELD_ARR(type, f, elt_type) \
    { CACERT_FIELD_ARR_, APR_OFFSETOF(type, f), sizeof(((type *)0)->f), sizeof(elt_type) }

/* A module's settings, each stated once: a list macro LIST(S, t) of one
 * line per setting, S(t, kind, field, default, how, directive, setter, help),
 * t the configuration's type (passed through).
 *  kind       STR (const char *), INT (int), TIME (apr_interval_time_t,
 *             microseconds), I64 (apr_int64_t, e.g. seconds):
 *             a field the glue declares, makes unset and merges, with its
 *             default; ARR: an apr_array_header_t * the glue makes empty and
 *             merges, the default column naming its element type; LIST: an
 *             apr_array_header_t * its setter makes (NULL: unset, merged as
 *             a pointer, the default column NULL); OWN: a
 *             field the module declares and merges itself (the directive is
 *             given its offset, the default column is not read); CMD: no
 *             field, the setter knows where it writes (cmd->info NULL)
 *  how        AP_INIT_<how> (TAKE1, FLAG, TAKE2, ...), all RSRC_CONF; NONE:
 *             no directive of its own (another directive's setter fills it;
 *             the directive, setter and help columns are not read)
 * From the list: CACERT_SETTINGS_FIELDS (inside the struct),
 * CACERT_SETTINGS_DEFAULTS (the initialiser of a const struct of the
 * defaults, read through CACERT_CFG), CACERT_SETTINGS_MERGE (the table of
 * fields, without its end) and CACERT_SETTINGS_CMDS (the command_rec
 * entries, without their end). */
#define CACERT_SET_FIELD_STR(f) const char *f;
#define CACERT_SET_FIELD_INT(f) int f;
#define CACERT_SET_FIELD_TIME(f) apr_interval_time_t f;
#define CACERT_SET_FIELD_I64(f) apr_int64_t f;
#define CACERT_SET_FIELD_ARR(f) apr_array_header_t *f;
#define CACERT_SET_FIELD_LIST(f) apr_array_header_t *f;
#define CACERT_SET_FIELD_OWN(f)
#define CACERT_SET_FIELD_CMD(f)
#define CACERT_SET_FIELD(t, kind, f, def, how, name, set, help) CACERT_SET_FIELD_##kind(f)
#define CACERT_SETTINGS_FIELDS(list) list(CACERT_SET_FIELD, -)

#define CACERT_SET_DEF_STR(f, def) .f = (def),
#define CACERT_SET_DEF_INT(f, def) .f = (def),
#define CACERT_SET_DEF_TIME(f, def) .f = (def),
#define CACERT_SET_DEF_I64(f, def) .f = (def),
#define CACERT_SET_DEF_ARR(f, def)
#define CACERT_SET_DEF_LIST(f, def) .f = (def),
#define CACERT_SET_DEF_OWN(f, def)
#define CACERT_SET_DEF_CMD(f, def)
#define CACERT_SET_DEF(t, kind, f, def, how, name, set, help) CACERT_SET_DEF_##kind(f, def)
#define CACERT_SETTINGS_DEFAULTS(list) list(CACERT_SET_DEF, -)

#define CACERT_SET_MERGE_STR(t, f, def) CACERT_FIELD_PTR(t, f),
#define CACERT_SET_MERGE_INT(t, f, def) CACERT_FIELD_NUM(t, f),
#define CACERT_SET_MERGE_TIME(t, f, def) CACERT_FIELD_NUM(t, f),
#define CACERT_SET_MERGE_I64(t, f, def) CACERT_FIELD_NUM(t, f),
#define CACERT_SET_MERGE_ARR(t, f, def) CACERT_FIELD_ARR(t, f, def),
#define CACERT_SET_MERGE_LIST(t, f, def) CACERT_FIELD_PTR(t, f),
#define CACERT_SET_MERGE_OWN(t, f, def)
#define CACERT_SET_MERGE_CMD(t, f, def)
#define CACERT_SET_MERGE(t, kind, f, def, how, name, set, help) CACERT_SET_MERGE_##kind(t, f, def)
#define CACERT_SETTINGS_MERGE(list, type) list(CACERT_SET_MERGE, type)

#define CACERT_SET_INFO_STR(t, f) (void *)APR_OFFSETOF(t, f)
#define CACERT_SET_INFO_INT CACERT_SET_INFO_STR
#define CACERT_SET_INFO_TIME CACERT_SET_INFO_STR
#define CACERT_SET_INFO_I64 CACERT_SET_INFO_STR
#define CACERT_SET_INFO_ARR CACERT_SET_INFO_STR
#define CACERT_SET_INFO_LIST CACERT_SET_INFO_STR
#define CACERT_SET_INFO_OWN CACERT_SET_INFO_STR
#define CACERT_SET_INFO_CMD(t, f) NULL
#define CACERT_SET_CMD_NONE(name, set, info, help)
#define CACERT_SET_CMD_FLAG(name, set, info, help) AP_INIT_FLAG(name, set, info, RSRC_CONF, help),
#define CACERT_SET_CMD_TAKE1(name, set, info, help) AP_INIT_TAKE1(name, set, info, RSRC_CONF, help),
#define CACERT_SET_CMD_TAKE2(name, set, info, help) AP_INIT_TAKE2(name, set, info, RSRC_CONF, help),
#define CACERT_SET_CMD_TAKE12(name, set, info, help) \
    AP_INIT_TAKE12(name, set, info, RSRC_CONF, help),
#define CACERT_SET_CMD_TAKE23(name, set, info, help) \
    AP_INIT_TAKE23(name, set, info, RSRC_CONF, help),
#define CACERT_SET_CMD_RAW_ARGS(name, set, info, help) \
    AP_INIT_RAW_ARGS(name, set, info, RSRC_CONF, help),
#define CACERT_SET_CMD_TAKE_ARGV(name, set, info, help) \
    AP_INIT_TAKE_ARGV(name, set, info, RSRC_CONF, help),
#define CACERT_SET_CMD(t, kind, f, def, how, name, set, help) \
    CACERT_SET_CMD_##how(name, set, CACERT_SET_INFO_##kind(t, f), help)
#define CACERT_SETTINGS_CMDS(list, type) list(CACERT_SET_CMD, type)

/* a new configuration of size bytes, zeros but the numbers among fields,
 * which are CACERT_UNSET, and the arrays, which are empty */
void *cacert_cfg_create(const cacert_field_t *fields, apr_size_t size, apr_pool_t *p);
/* a new configuration of size bytes, zeros but fields: each the one of add
 * when it was set there, else the one of base */
void *cacert_cfg_merge(const void *base, const void *add, const cacert_field_t *fields,
                       apr_size_t size, apr_pool_t *p);
/* prefix##create_srv_cfg and prefix##merge_srv_cfg of a module whose
 * server configuration (type) is made and merged by its table `fields`
 * alone */
#define CACERT_SRV_CFG_FNS(prefix, type) \
    void *prefix##create_srv_cfg(apr_pool_t *p, server_rec *s) \
    { return cacert_cfg_create(fields, sizeof(type), p); } \
    void *prefix##merge_srv_cfg(apr_pool_t *p, void *basev, void *addv) \
    { return cacert_cfg_merge(basev, addv, fields, sizeof(type), p); }

/* the declarations of what CACERT_SRV_CFG_FNS and CACERT_MODULE name:
 * prefix##create_srv_cfg, prefix##merge_srv_cfg and prefix##cmds, and
 * prefix##cfg_of, the configuration (type) of a server */
#define CACERT_SRV_CFG_DECLS(prefix, type) \
    extern const command_rec prefix##cmds[]; \
    void *prefix##create_srv_cfg(apr_pool_t *p, server_rec *s); \
    void *prefix##merge_srv_cfg(apr_pool_t *p, void *basev, void *addv); \
    type *prefix##cfg_of(server_rec *s)

/* a configured value, or def when it was not configured */
int cacert_cfg_int(int v, int def);
apr_int64_t cacert_cfg_i64(apr_int64_t v, apr_int64_t def);
const char *cacert_cfg_str(const char *v, const char *def);

/* the setting f of the configuration *c, or the one in defs (a const
 * struct of the configuration's own type) when it was not configured: an
 * int, an apr_int64_t (apr_interval_time_t) or a string */
#define CACERT_CFG(c, defs, f) \
    _Generic((c)->f, int: cacert_cfg_int, apr_int64_t: cacert_cfg_i64, \
             const char *: cacert_cfg_str)((c)->f, (defs).f)

/* the getters of a module's settings: the configured value, or the one in
 * the module's `defaults` (a const struct of the configuration's own type,
 * in the file that uses these) */
#define CACERT_GET_INT(prefix, type, f) \
    int prefix##f(const type *c) { return cacert_cfg_int(c->f, defaults.f); }
#define CACERT_GET_TIME(prefix, type, f) \
    apr_interval_time_t prefix##f(const type *c) { return cacert_cfg_i64(c->f, defaults.f); }

/* "Directive: msg" for a directive's error, NULL for NULL */
const char *cacert_cmd_err(cmd_parms *cmd, const char *msg);

/* a directive's non-empty string into the field of cfg at the offset
 * cmd->info (AP_INIT_TAKE1's cmd_data), outside <Directory>: NULL or the
 * error */
const char *cacert_set_str(cmd_parms *cmd, void *cfg, const char *arg);

/* for the directives of a file: srv_cfg_of(cmd), the server configuration
 * (type) of module in cmd->server, and the setters set_str, set_time and
 * set_flag (cacert_set_*) on it; static, and inline so that those a file
 * does not use are not there */
#define CACERT_SETTERS(type, module) \
    static APR_INLINE type *srv_cfg_of(cmd_parms *cmd) \
    { return ap_get_module_config(cmd->server->module_config, &(module)); } \
    static APR_INLINE const char *set_str(cmd_parms *cmd, void *dc, const char *arg) \
    { return cacert_set_str(cmd, srv_cfg_of(cmd), arg); } \
    static APR_INLINE const char *set_time(cmd_parms *cmd, void *dc, const char *arg) \
    { return cacert_set_time(cmd, srv_cfg_of(cmd), arg); } \
    static APR_INLINE const char *set_flag(cmd_parms *cmd, void *dc, int on) \
    { return cacert_set_flag(cmd, srv_cfg_of(cmd), on); }

/* a whole number min..max into *pv: NULL, or "is out of range" */
const char *cacert_parse_int(int *pv, const char *arg, int min, int max);

/* the same into the int field of cfg at the offset cmd->info, outside
 * <Directory>: NULL or the error */
const char *cacert_set_int(cmd_parms *cmd, void *cfg, const char *arg, int min, int max);

/* a positive duration (cacert_parse_seconds) into the apr_interval_time_t
 * field of cfg at the offset cmd->info, outside <Directory> */
const char *cacert_set_time(cmd_parms *cmd, void *cfg, const char *arg);

/* On/Off as 1/0 into the int field of cfg at the offset cmd->info,
 * outside <Directory> */
const char *cacert_set_flag(cmd_parms *cmd, void *cfg, int on);

/* a duration as the directives take it: "90", "90s", "30m", "48h", "7d"
 * -> seconds, 0 to 100 years; NULL, or what is wrong with it */
const char *cacert_parse_seconds(apr_int64_t *psecs, const char *arg);

/* ---- database ---- */

/* the core's handle on a connection of mod_dbd (no transaction open) */
void cacert_db_of(ca_db_t *db, const ap_dbd_t *dbd);
/* the request's connection (ap_dbd_acquire): APR_SUCCESS, or APR_EGENERAL
 * when mod_dbd is missing or has no connection */
apr_status_t cacert_db_acquire(ca_db_t *db, request_rec *r);
/* a connection for work outside a request (a watchdog callback): close it
 * with cacert_db_close; APR_EGENERAL when there is none */
apr_status_t cacert_db_open(ca_db_t *db, ap_dbd_t **pdbd, server_rec *s, apr_pool_t *p);
void cacert_db_close(ap_dbd_t *dbd, server_rec *s);

/* a connection at rest whose socket is readable holds the server's last
 * words (its session ended): read, libpq then marks it bad */
struct pg_conn;
void cacert_pg_read_goodbye(struct pg_conn *conn);

/* NULL when conninfo is libpq's connection parameters ("key=value ..." or
 * a URI), else what is wrong with it */
const char *cacert_check_conninfo(const char *conninfo, apr_pool_t *p);

/* LISTEN on a PostgreSQL channel, on a connection of the listener's own
 * (libpq through APR DBD, never one of mod_dbd's pool), kept from call to
 * call.  Its parameters are conninfo (libpq's "key=value ..." or URI), or
 * when that is NULL those of mod_dbd's connections of the server.  The
 * listener is static storage of the module (CACERT_LISTENER_INIT), its
 * conninfo and stmts set in post_config, used by one thread (a
 * watchdog's); the connection lives in a pool of its own, outside every
 * other pool, so no pool's lifetime decides when it closes.  Each call
 * waits up to wait for notifications and appends their payloads
 * (const char *) to *ppayloads.  *pfresh is set when the connection was
 * (re)made in this call: notifications sent while there was none are lost,
 * so the caller catches up from the tables.  APR_EGENERAL when the database
 * cannot be reached (the next call tries again); APR_EOF once the listener
 * is closed. */
typedef struct {
    struct pg_conn *conn;       /* the native handle of db */
    ca_db_t db;                 /* the same connection, stmts prepared on it */
    apr_pool_t *pool;           /* the connection's own; destroyed when it closes */
    const char *conninfo;       /* NULL: the parameters of mod_dbd's connections */
    const ca_stmt_t *const *stmts;  /* prepared on each new connection (or NULL) */
    const char *appname;        /* its application_name (NULL: cacert-listen) */
    int down_logged;            /* cacert_listener_open: CA22105 logged */
    pthread_mutex_t mu;         /* held while conn is in use */
    int closed;                 /* cacert_listener_close: never again */
} cacert_listener_t;
#define CACERT_LISTENER_INIT { .mu = PTHREAD_MUTEX_INITIALIZER }

apr_status_t cacert_listen(apr_array_header_t **ppayloads, int *pfresh,
                           cacert_listener_t *l, server_rec *s, const char *channel,
                           apr_interval_time_t wait, apr_pool_t *p);
/* The listener's connection for its statements (l->stmts), from the thread
 * that listens, between calls of cacert_listen: NULL when there is none;
 * else it is held until cacert_listener_release (so that a close from
 * another thread waits).  A failed statement leaves the connection to
 * cacert_listen, which notices a broken one. */
ca_db_t *cacert_listener_db(cacert_listener_t *l);
/* The same, from a thread that only runs statements (no LISTEN): the
 * connection is made when there is none, and made anew when the last one
 * broke or was left inside a transaction; NULL when the database cannot be
 * reached or the listener is closed. */
ca_db_t *cacert_listener_open(cacert_listener_t *l, server_rec *s, apr_pool_t *p);
void cacert_listener_release(cacert_listener_t *l);
/* Close the connection for good, from any thread: mod_watchdog calls its
 * STOPPING state from the thread that ends the child while the watchdog's
 * own thread may be in cacert_listen, so this waits for that call (at most
 * its wait) and no call reconnects afterwards. */
void cacert_listener_close(cacert_listener_t *l);

/* An advisory lock (pg_try_advisory_lock, session level) held on a
 * connection of its own (libpq, the parameters of mod_dbd's connections,
 * with TCP keepalives on both ends so that the session of a host that
 * died ends within about 11 s).  Static storage of the module
 * (CACERT_PGLOCK_INIT), used by one thread; closed from any thread.
 * cacert_pglock_hold: when the lock is not held, tries to take it; when
 * it is, checks that the session still answers within wait (else the
 * connection is dropped and the lock counts as lost).  *pheld: 1 when
 * this process holds key now.  APR_EGENERAL when the database could not
 * be reached or did not answer in time (the next call tries again),
 * APR_EOF once closed. */
typedef struct {
    struct pg_conn *conn;
    pthread_mutex_t mu;
    int closed;
    int held;
} cacert_pglock_t;
#define CACERT_PGLOCK_INIT { NULL, PTHREAD_MUTEX_INITIALIZER, 0, 0 }

apr_status_t cacert_pglock_hold(int *pheld, cacert_pglock_t *l, server_rec *s, apr_int64_t key,
                                apr_interval_time_t wait, apr_pool_t *p);
/* the lock given up for good (its session ends), from any thread */
void cacert_pglock_close(cacert_pglock_t *l);

/* ---- watchdogs ---- */

/* a watchdog whose thread runs in every child (not a singleton) */
apr_status_t cacert_watchdog_each_child(ap_watchdog_t **pwd, const char *name,
                                        apr_pool_t *pconf);

/* the singleton watchdog name (its thread runs in one child): APR_SUCCESS,
 * APR_ENOTIMPL when mod_watchdog is not there, or mod_watchdog's error */
apr_status_t cacert_watchdog_start(ap_watchdog_t **pwd, const char *name, apr_pool_t *pconf);
/* call cb(state, data, pool) every interval on watchdog wd */
apr_status_t cacert_watchdog_every(ap_watchdog_t *wd, apr_interval_time_t interval, void *data,
                                   ap_watchdog_callback_fn_t *cb);

/* The statement tables a module uses (a NULL-terminated list), handed to
 * mod_dbd for every server by the module's post_config hook that runs
 * before mod_dbd's; a label handed over already for the same list (by any
 * module) is not handed over again (cacert_glue.c says more). */
int cacert_prepare_stmts(apr_pool_t *pconf, server_rec *s, const ca_stmt_t *const *tables);
/* from a module's register_hooks: cacert_prepare_stmts with these tables
 * as a post_config hook that runs before mod_dbd's */
void cacert_hook_stmts(const ca_stmt_t *const *tables);
/* from a module's register_hooks: its statement tables (cacert_hook_stmts)
 * and its post_config, child_init and handler hooks (each NULL when it has
 * none), in the middle of the others */
void cacert_hook_module(const ca_stmt_t *const *tables, ap_HOOK_post_config_t *post_config,
                        ap_HOOK_child_init_t *child_init, ap_HOOK_handler_t *handler);

/* the record of a cacert module called name: a server configuration
 * (prefix##create_srv_cfg, prefix##merge_srv_cfg), its directives
 * (prefix##cmds) and its register_hooks; nothing per directory */
#define CACERT_MODULE(name, prefix) \
    module AP_MODULE_DECLARE_DATA name = { \
        STANDARD20_MODULE_STUFF, NULL, NULL, prefix##create_srv_cfg, prefix##merge_srv_cfg, \
        prefix##cmds, register_hooks, AP_MODULE_FLAG_NONE \
    }

/* ---- routes ---- */

enum { CACERT_GET = 1, CACERT_POST = 2 };

/* each module defines struct cacert_req: what its handlers are given */
typedef struct cacert_req cacert_req_t;
typedef int cacert_handler_fn(cacert_req_t *q);

typedef struct {
    const char *path;                   /* the last part of the URL path */
    unsigned methods;                   /* CACERT_GET | CACERT_POST */
    int login;                          /* 1 members, 0 visitors, -1 anyone */
    int access;                         /* the module's own access class */
    unsigned roles;                     /* roles that may (module's rule) */
    const char *const *text_fields;     /* multi-line fields of the form */
    cacert_handler_fn *fn;
} cacert_route_t;

/* the route for path in the tables (a NULL-terminated list of tables,
 * each ending with { NULL }); NULL when there is none */
const cacert_route_t *cacert_route_find(const cacert_route_t *const *tables, const char *path);
/* a module's handler: the one of handlers (a list ending with { NULL })
 * named as r->handler, given the request */
typedef struct {
    const char *name;
    int (*fn)(request_rec *r);
} cacert_handler_t;
/* what that handler answers; DECLINED when there is none */
int cacert_handle(request_rec *r, const cacert_handler_t *handlers);

/* OK when the request's method is one the route takes; else
 * HTTP_METHOD_NOT_ALLOWED with r->allowed set */
int cacert_route_method(request_rec *r, const cacert_route_t *rt);

/* ---- requests ---- */

/* the request's body, at most max bytes, into *pbuf (NUL-terminated) and
 * *plen: OK, or the status to answer with (HTTP_REQUEST_ENTITY_TOO_LARGE,
 * HTTP_BAD_REQUEST when the client's body breaks off, or what
 * ap_setup_client_block said) */
int cacert_read_body(char **pbuf, apr_size_t *plen, request_rec *r, apr_size_t max);

/* ---- template variables from a struct ---- */

enum {
    CACERT_VAR_STR,             /* a const char * field, set as it is (NULL unsets) */
    CACERT_VAR_NONEMPTY,        /* a const char * field, set unless NULL or "" */
    CACERT_VAR_INT,             /* an int field, as a decimal number */
    CACERT_VAR_FLAG             /* an int field: "1" when not 0, else not set */
};

typedef struct {
    const char *name;           /* the template variable (kept, not copied: a
                                 * string literal); NULL ends a list */
    int kind;                   /* CACERT_VAR_* */
    size_t offset;              /* offsetof the field in its struct */
} cacert_var_t;

/* the variable named as the field, or another name */
#define CACERT_VAR(kind, type, field) { #field, CACERT_VAR_##kind, offsetof(type, field) }
#define CACERT_VAR_AS(name, kind, type, field) \
    { (name), CACERT_VAR_##kind, offsetof(type, field) }

/* set the variables of vars (a list ending with { NULL }) from *obj */
void cacert_tmpl_vars(ca_tmpl_ctx_t *ctx, const void *obj, const cacert_var_t *vars);
/* the same, the strings of *obj not copied (ca_tmpl_set_ref): for the rows
 * of a list that stays as it is until the page is rendered */
void cacert_tmpl_vars_ref(ca_tmpl_ctx_t *ctx, const void *obj, const cacert_var_t *vars);
/* an item of the list called list for each element of arr, its variables
 * from vars */
void cacert_tmpl_items(ca_tmpl_ctx_t *ctx, const char *list, const apr_array_header_t *arr,
                       const cacert_var_t *vars);

/* A list shown a page at a time, so that a long one (a member's thousands
 * of certificates, an Assurer's thousands of assurances) stays under the
 * templates' 1 MiB output limit.  arg: the query argument with the page's
 * number (NULL: the first page); total: the list's length; per: rows a
 * page.  Sets [*pfirst, *plast), the rows to show; when the list is longer
 * than a page, adds one item to the list called pager with first, last,
 * total, prev and next (the numbers of the neighbouring pages) and url
 * (the page's address up to the number, e.g. "?p="), for pager.html.  0,
 * or -1 when arg is no page of the list (the caller answers 404). */
int cacert_list_page(int *pfirst, int *plast, ca_tmpl_ctx_t *ctx, const char *pager,
                     const char *url, const char *arg, int total, int per, apr_pool_t *p);
/* cacert_list_page over arr, and the rows of that page as items of list
 * (as cacert_tmpl_items): 0, or -1 when arg is no page of arr */
int cacert_tmpl_items_page(ca_tmpl_ctx_t *ctx, const char *list, const apr_array_header_t *arr,
                           const cacert_var_t *vars, const char *pager, const char *url,
                           const char *arg, int per, apr_pool_t *p);

/* ---- answers ---- */

/* 303 to base/where (where may carry a query string), with the headers
 * every page carries */
int cacert_redirect(request_rec *r, const char *base, const char *where);
/* a body as a download (filename not NULL) or inline, with the headers
 * every page carries */
int cacert_send(request_rec *r, const char *type, const char *filename, const void *data,
                apr_size_t len);
/* log "<tag>: <what> failed" for the module and answer with the error page */
int cacert_internal_error_(cacert_page_t *pg, int module_index, const char *tag,
                           apr_status_t rv, const char *what);
#define cacert_internal_error(pg, tag, rv, what) \
    cacert_internal_error_((pg), APLOG_MODULE_INDEX, (tag), (rv), (what))

#endif
