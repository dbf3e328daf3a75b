/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Storage: PostgreSQL through APR DBD, prepared statements only.
 *
 * Every statement lives in a table of {label, sql} owned by the part that
 * uses it; each httpd module registers the tables it uses with mod_dbd
 * (ap_dbd_prepare), and the tools that need every statement have the list
 * of all tables (tools/ca_allstmts.c: cacert-dbcheck prepares every one
 * against the real schema in the tests).
 * Parameters are written %s in the SQL and passed as strings; the SQL casts
 * them (%s::bigint, %s::date, ...).  No SQL is ever built from input. */
#ifndef CA_DB_H
#define CA_DB_H

#include <stddef.h>

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>
#include <apr_dbd.h>
#include <apr_strings.h>            /* CA_BLOB's apr_psprintf */

typedef struct {
    const char *label;
    const char *sql;
} ca_stmt_t;

typedef struct ca_db_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared;            /* label -> apr_dbd_prepared_t * */
    int in_trans;                    /* a transaction is open */
    int trans_failed;                /* a statement in it failed */
} ca_db_t;

/* args: the argument count then a compound literal of strings; NULL is SQL
 * NULL.  Use as ca_db_query(&n, db, "label", CA_ARGS(a, b), p). */
#define CA_ARGS(...) \
    (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *)), \
    (const char *[]){ __VA_ARGS__ }
#define CA_NOARGS 0, NULL
/* A bytea parameter sent to the server as it is, not as hex text: the
 * statement names it %pDb, and it takes four of CA_ARGS's places (the
 * data, its length in decimal, and two that the pgsql driver ignores).
 * For large values (a CRL of a million entries is 42 MB: as hex it would
 * be twice that, encoded here and decoded by the server).  len must be
 * at most INT_MAX (the driver reads it with atoi). */
#define CA_BLOB(data, len, p) \
    (const char *)(data), apr_psprintf((p), "%" APR_SIZE_T_FMT, (apr_size_t)(len)), "", ""

/* a timestamp column as the pages show it (UTC, to the minute), in SQL */
#define CA_SQL_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
/* The same in two steps, for lists of hundreds of rows, where to_char is
 * most of the server's work: in SQL a timestamp as whole seconds since
 * 1970 (a finite one), a date as days since 1970; ca_ts_of_epoch and
 * ca_date_of_days make of them what CA_SQL_TS and to_char(d,
 * 'YYYY-MM-DD') give.  SQL NULL ("") stays "". */
#define CA_SQL_EPOCH(col) "floor(date_part('epoch', " col "))::bigint"
#define CA_SQL_DAYS(col) "(" col " - DATE '1970-01-01')"
const char *ca_ts_of_epoch(const char *secs, apr_pool_t *p);
const char *ca_date_of_days(const char *days, apr_pool_t *p);

/* run a statement that returns no rows; *pnrows = rows affected */
apr_status_t ca_db_query(int *pnrows, ca_db_t *db, const char *label,
                         int nargs, const char **args, apr_pool_t *p);
/* the same for a statement that must change exactly one row: APR_NOTFOUND
 * when it changed none (or more) */
apr_status_t ca_db_query_one(ca_db_t *db, const char *label, int nargs, const char **args,
                             apr_pool_t *p);
/* A result row read by column name.  The names are the query's own (its
 * aliases): write "count(*) AS n", and alias any two columns that would
 * share a name. */
typedef struct ca_row_t {
    int ncols;
    const char *const *names;     /* shared by every row of one result */
    const char *const *vals;      /* SQL NULL reads as "" (see ca_col) */
} ca_row_t;

/* the value of column NAME in ROW.  SQL NULL reads as "": APR's pgsql
 * driver gives NULL as an empty string, so a column that may be NULL is
 * tested with *v (or selected as "x IS NULL AS ..."), never with v alone.
 * A name the query does not return is a defect of the caller, never of
 * the data: it is logged (CA10307, with the names the query has) and gives
 * NULL. */
const char *ca_col(const ca_row_t *row, const char *name);
/* ca_col as an int / a 64-bit integer / a flag ("t" or "true"); DEF for NULL
 * or a value that is not one */
int ca_col_int(const ca_row_t *row, const char *name, int def);
apr_int64_t ca_col_i64(const ca_row_t *row, const char *name, apr_int64_t def);
int ca_col_true(const ca_row_t *row, const char *name);

/* how a column goes into a field of a struct (ca_row_fill, ca_db_fill) */
enum { CA_COL_STR, CA_COL_INT, CA_COL_TRUE, CA_COL_BYTES, CA_COL_MAP };
typedef struct ca_col_map_t {
    const char *col;            /* the query's column; NULL ends a map */
    int kind;                   /* CA_COL_STR (const char *), _INT (int), _TRUE (int 0/1),
                                 * _BYTES (a bytea: const unsigned char * and its
                                 * apr_size_t length), _MAP (the columns of more too) */
    size_t offset;              /* offsetof the field */
    size_t len_offset;          /* _BYTES: offsetof the length */
    const struct ca_col_map_t *more;    /* _MAP */
} ca_col_map_t;
#define CA_FIELD(kind, type, field, col) \
    { (col), CA_COL_##kind, offsetof(type, field), 0, NULL }
#define CA_BYTES(type, field, len, col) \
    { (col), CA_COL_BYTES, offsetof(type, field), offsetof(type, len), NULL }
/* every column of another map of the same struct */
#define CA_ALSO(map) { "", CA_COL_MAP, 0, 0, (map) }
/* string fields read from the columns of the same names:
 * CA_COLS(type, id, name, created) -- up to 12 */
#define CA_COLS(type, ...) CA_COLS_(CA_COLS_N(__VA_ARGS__), type, __VA_ARGS__)
#define CA_COLS_(n, type, ...) CA_COLS_CAT(CA_COLS_, n)(type, __VA_ARGS__)
#define CA_COLS_CAT(a, b) a##b
#define CA_COLS_N(...) CA_COLS_NTH(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define CA_COLS_NTH(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, n, ...) n
#define CA_COLS_1(t, f) CA_FIELD(STR, t, f, #f)
#define CA_COLS_2(t, f, ...) CA_COLS_1(t, f), CA_COLS_1(t, __VA_ARGS__)
#define CA_COLS_3(t, f, ...) CA_COLS_1(t, f), CA_COLS_2(t, __VA_ARGS__)
#define CA_COLS_4(t, f, ...) CA_COLS_1(t, f), CA_COLS_3(t, __VA_ARGS__)
#define CA_COLS_5(t, f, ...) CA_COLS_1(t, f), CA_COLS_4(t, __VA_ARGS__)
#define CA_COLS_6(t, f, ...) CA_COLS_1(t, f), CA_COLS_5(t, __VA_ARGS__)
#define CA_COLS_7(t, f, ...) CA_COLS_1(t, f), CA_COLS_6(t, __VA_ARGS__)
#define CA_COLS_8(t, f, ...) CA_COLS_1(t, f), CA_COLS_7(t, __VA_ARGS__)
#define CA_COLS_9(t, f, ...) CA_COLS_1(t, f), CA_COLS_8(t, __VA_ARGS__)
#define CA_COLS_10(t, f, ...) CA_COLS_1(t, f), CA_COLS_9(t, __VA_ARGS__)
#define CA_COLS_11(t, f, ...) CA_COLS_1(t, f), CA_COLS_10(t, __VA_ARGS__)
#define CA_COLS_12(t, f, ...) CA_COLS_1(t, f), CA_COLS_11(t, __VA_ARGS__)

/* the fields of *obj from the row, as map says (a map without _BYTES) */
void ca_row_fill(void *obj, const ca_row_t *row, const ca_col_map_t *map);
/* a select's rows as an array of structs of elt_size, each filled by map
 * (other fields zero); map's names are looked up once per result */
apr_status_t ca_db_fill(apr_array_header_t **parr, apr_size_t elt_size,
                        const ca_col_map_t *map, ca_db_t *db, const char *label,
                        int nargs, const char **args, apr_pool_t *p);
/* one list of a struct for ca_db_fill_lists: where its array is, the size
 * of its elements, their map and the statement label (NULL ends a table) */
typedef struct {
    size_t offset;              /* offsetof the apr_array_header_t * field */
    apr_size_t elt_size;
    const ca_col_map_t *map;
    const char *label;
} ca_db_list_t;
/* CA_DB_LIST(view_t, items, item_t, item_map, "label"): view_t's field
 * items, an array of item_t filled by item_map (a field that is not an
 * apr_array_header_t * does not compile: the unevaluated comparison of
 * distinct pointer types) */
#define CA_DB_LIST(type, field, elt_type, map, label) \
    { offsetof(type, field) + 0 * sizeof(&((type *)0)->field == (apr_array_header_t **)0), \
      sizeof(elt_type), (map), (label) }
/* the arrays of *obj that the table lists names, each by ca_db_fill in
 * turn, every statement with the same arguments; the first failure stops
 * them */
apr_status_t ca_db_fill_lists(void *obj, const ca_db_list_t *lists, ca_db_t *db, int nargs,
                              const char **args, apr_pool_t *p);
/* the first row of a select into the struct *obj of size bytes, zeroed
 * first, filled by map; APR_NOTFOUND if there is none */
apr_status_t ca_db_fill_row(void *obj, apr_size_t size, const ca_col_map_t *map, ca_db_t *db,
                            const char *label, int nargs, const char **args, apr_pool_t *p);
/* the same into a new struct of size bytes from p: *pobj, NULL unless
 * APR_SUCCESS */
apr_status_t ca_db_new_row(void **pobj, apr_size_t size, const ca_col_map_t *map, ca_db_t *db,
                           const char *label, int nargs, const char **args, apr_pool_t *p);
/* the same by the statement label with the arguments id and member_id:
 * APR_NOTFOUND unless id is an id (ca_is_id) and there is a row */
apr_status_t ca_db_id_new(void **pobj, apr_size_t size, const ca_col_map_t *map, ca_db_t *db,
                          const char *label, const char *id, const char *member_id,
                          apr_pool_t *p);

/* a select's rows as an array of structs of elt_size, each zeroed then
 * given to fill with baton */
typedef void ca_row_fn_t(void *elt, const ca_row_t *row, const void *baton);
apr_status_t ca_db_collect(apr_array_header_t **parr, apr_size_t elt_size,
                           ca_row_fn_t *fill, const void *baton, ca_db_t *db,
                           const char *label, int nargs, const char **args, apr_pool_t *p);

/* run a select; *prows = array of const ca_row_t * (values copied into p) */
apr_status_t ca_db_rows(apr_array_header_t **prows, ca_db_t *db, const char *label,
                        int nargs, const char **args, apr_pool_t *p);
/* 1 if s is a row id: a non-empty string of at most 18 decimal digits */
int ca_is_id(const char *s);
/* the row of id by the statement label (its one argument), APR_NOTFOUND
 * unless id is an id and the row's member_id is member_id's (member_id
 * NULL: anyone's) */
apr_status_t ca_db_owned_row(const ca_row_t **prow, ca_db_t *db, const char *label,
                             const char *id, const char *member_id, apr_pool_t *p);
/* that row into a new struct of size bytes from p, zeroed first, filled by
 * map: *pobj, NULL unless APR_SUCCESS */
apr_status_t ca_db_owned_new(void **pobj, apr_size_t size, const ca_col_map_t *map,
                             ca_db_t *db, const char *label, const char *id,
                             const char *member_id, apr_pool_t *p);

/* defines apr_status_t name(type **pobj, ca_db_t *db, <params>, apr_pool_t *p),
 * params a parenthesised parameter list: *pobj, a new type from get
 * (ca_db_new_row, ca_db_id_new or ca_db_owned_new) with map, the statement
 * label and the arguments after it; NULL unless APR_SUCCESS */
#define CA_DB_GETTER(name, type, params, get, map, label, ...)                            \
    apr_status_t name(type **pobj, ca_db_t *db, CA_DB_UNPAREN params, apr_pool_t *p)      \
    {                                                                                     \
        void *obj;                                                                        \
        apr_status_t rv = get(&obj, sizeof(type), map, db, label, __VA_ARGS__, p);        \
                                                                                          \
        *pobj = obj;                                                                      \
        return rv;                                                                        \
    }
/* defines apr_status_t name(apr_array_header_t **parr, ca_db_t *db, <params>,
 * apr_pool_t *p): ca_db_fill of type by map with the statement label and
 * the arguments after it */
#define CA_DB_LISTER(name, type, params, map, label, ...)                                 \
    apr_status_t name(apr_array_header_t **parr, ca_db_t *db, CA_DB_UNPAREN params,       \
                      apr_pool_t *p)                                                      \
    {                                                                                     \
        return ca_db_fill(parr, sizeof(type), map, db, label, __VA_ARGS__, p);            \
    }
#define CA_DB_UNPAREN(...) __VA_ARGS__

/* the first row of a select, APR_NOTFOUND if there is none */
apr_status_t ca_db_row(const ca_row_t **prow, ca_db_t *db, const char *label,
                       int nargs, const char **args, apr_pool_t *p);
/* the column col of the first row of a select (NULL if SQL NULL),
 * APR_NOTFOUND if there is no row */
apr_status_t ca_db_value(const char **pval, ca_db_t *db, const char *label,
                         const char *col, int nargs, const char **args, apr_pool_t *p);

apr_status_t ca_db_begin(ca_db_t *db, apr_pool_t *p);
/* commit, or roll back if any statement in the transaction failed; returns
 * APR_EGENERAL if it was rolled back */
apr_status_t ca_db_commit(ca_db_t *db, apr_pool_t *p);
apr_status_t ca_db_rollback(ca_db_t *db, apr_pool_t *p);
/* the end of a transaction: commit when rv is APR_SUCCESS, else roll back
 * and keep rv; what the transaction ended with */
apr_status_t ca_db_end(ca_db_t *db, apr_status_t rv, apr_pool_t *p);
/* the same for a step that may refuse: with a refusal (not NULL) it is
 * rolled back and no error, APR_SUCCESS */
apr_status_t ca_db_end_refused(ca_db_t *db, apr_status_t rv, const char *refusal,
                               apr_pool_t *p);

/* bytea in and out of PostgreSQL's hex text form ("\\x0a1b...") */
const char *ca_bytea_in(const unsigned char *data, apr_size_t len, apr_pool_t *p);
apr_status_t ca_bytea_out(const unsigned char **pdata, apr_size_t *plen,
                          const char *text, apr_pool_t *p);
/* plain hex to bytes */
apr_status_t ca_hex_decode(unsigned char **pdata, apr_size_t *plen, const char *hex,
                           apr_pool_t *p);

/* prepare every statement of tables (a NULL-terminated list of NULL-label-
 * terminated tables) on a connection (for tools and tests); reports each
 * failure with ca_log and returns the count of failures */
int ca_db_prepare_tables(ca_db_t *db, const ca_stmt_t *const *tables, apr_pool_t *p);

/* A connection whose database session was replaced (the driver reconnected
 * after a database restart, a failover or a dropped connection) has lost
 * its prepared statements.  Prepare every statement of db->prepared again
 * on the new session, the SQL taken from sqls (label -> SQL), the new
 * handles allocated in conn_pool (a pool that lives as long as the
 * connection).  A label without SQL in sqls is left as it is.  APR_SUCCESS,
 * or APR_EGENERAL when a statement could not be prepared (logged). */
apr_status_t ca_db_prepare_again(ca_db_t *db, apr_hash_t *sqls, apr_pool_t *conn_pool);

#endif
