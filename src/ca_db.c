/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "ca_db.h"
#include "ca_log.h"

static apr_status_t get_stmt(apr_dbd_prepared_t **pst, ca_db_t *db,
                             const char *label)
{
    *pst = db->prepared ? apr_hash_get(db->prepared, label, APR_HASH_KEY_STRING)
                        : NULL;
    if (!*pst) {
        ca_log(CA_LOG_ERR, "CA10301", APR_NOTFOUND,
               "statement %s is not prepared", label);
        return APR_NOTFOUND;
    }
    return APR_SUCCESS;
}

apr_status_t ca_db_query(int *pnrows, ca_db_t *db, const char *label,
                         int nargs, const char **args, apr_pool_t *p)
{
    apr_dbd_prepared_t *st;
    apr_status_t rv;
    int rc, n = 0;

    if (pnrows) {
        *pnrows = 0;
    }
    if ((rv = get_stmt(&st, db, label)) != APR_SUCCESS) {
        return rv;
    }
    rc = apr_dbd_pquery(db->driver, p, db->handle, &n, st, nargs, args);
    if (rc != 0) {
        ca_log(CA_LOG_ERR, "CA10302", APR_EGENERAL, "%s: %s", label,
               apr_dbd_error(db->driver, db->handle, rc));
        db->trans_failed = 1;
        return APR_EGENERAL;
    }
    if (pnrows) {
        *pnrows = n;
    }
    return APR_SUCCESS;
}

apr_status_t ca_db_query_one(ca_db_t *db, const char *label, int nargs, const char **args,
                             apr_pool_t *p)
{
    int n = 0;
    apr_status_t rv = ca_db_query(&n, db, label, nargs, args, p);

    return rv == APR_SUCCESS && n != 1 ? APR_NOTFOUND : rv;
}

const char *ca_col(const ca_row_t *row, const char *name)
{
    int i;

    for (i = 0; i < row->ncols; i++) {
        if (row->names[i] && !strcmp(row->names[i], name)) {
            return row->vals[i];
        }
    }
    {
        char have[256];
        apr_size_t n = 0;
        have[0] = '\0';
        for (i = 0; i < row->ncols && n + 2 < sizeof(have); i++) {
            const char *nm = row->names[i] ? row->names[i] : "?";
            int w = apr_snprintf(have + n, sizeof(have) - n, "%s%s", i ? "," : "", nm);
            n += (apr_size_t)w;
        }
        ca_log(CA_LOG_ERR, "CA10307", APR_NOTFOUND,
               "no column %s in this result (it has %s)", name, have);
    }
    return NULL;
}

/* a value read as a 64-bit integer, DEF for NULL or not one */
static apr_int64_t val_i64(const char *v, apr_int64_t def)
{
    char *end;
    apr_int64_t n;

    if (!v || !*v) {
        return def;
    }
    errno = 0;
    n = apr_strtoi64(v, &end, 10);
    return (*end || errno) ? def : n;
}

static int val_int(const char *v, int def)
{
    apr_int64_t n = val_i64(v, def);

    return (n < INT_MIN || n > INT_MAX) ? def : (int)n;
}

static int val_true(const char *v)
{
    return v && (!strcmp(v, "t") || !strcmp(v, "true"));
}

apr_int64_t ca_col_i64(const ca_row_t *row, const char *name, apr_int64_t def)
{
    return val_i64(ca_col(row, name), def);
}

int ca_col_int(const ca_row_t *row, const char *name, int def)
{
    return val_int(ca_col(row, name), def);
}

int ca_col_true(const ca_row_t *row, const char *name)
{
    return val_true(ca_col(row, name));
}

/* "YYYY-MM-DD[ HH:MM]" of secs (UTC); v as it is when it is not a number */
static const char *utc_of(const char *v, apr_int64_t mul, int minutes, apr_pool_t *p)
{
    apr_time_exp_t t;
    apr_int64_t n;
    char *end;

    if (!v || !*v) {
        return v;
    }
    errno = 0;
    n = apr_strtoi64(v, &end, 10);
    if (*end || errno || n > APR_INT64_C(253402300799) / mul
        || n < APR_INT64_C(-62135596800) / mul
        || apr_time_exp_gmt(&t, apr_time_from_sec(n * mul)) != APR_SUCCESS) {
        return v;
    }
    return minutes ? apr_psprintf(p, "%04d-%02d-%02d %02d:%02d", t.tm_year + 1900, t.tm_mon + 1,
                                  t.tm_mday, t.tm_hour, t.tm_min)
                   : apr_psprintf(p, "%04d-%02d-%02d", t.tm_year + 1900, t.tm_mon + 1,
                                  t.tm_mday);
}

const char *ca_ts_of_epoch(const char *secs, apr_pool_t *p)
{
    return utc_of(secs, 1, 1, p);
}

const char *ca_date_of_days(const char *days, apr_pool_t *p)
{
    return utc_of(days, 86400, 0, p);
}

apr_status_t ca_db_rows(apr_array_header_t **prows, ca_db_t *db, const char *label,
                        int nargs, const char **args, apr_pool_t *p)
{
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char **names;
    apr_status_t rv;
    int rc, ncols, i;

    *prows = apr_array_make(p, 4, sizeof(const ca_row_t *));
    if ((rv = get_stmt(&st, db, label)) != APR_SUCCESS) {
        return rv;
    }
    rc = apr_dbd_pselect(db->driver, p, db->handle, &res, st, 1, nargs, args);
    if (rc != 0) {
        ca_log(CA_LOG_ERR, "CA10303", APR_EGENERAL, "%s: %s", label,
               apr_dbd_error(db->driver, db->handle, rc));
        db->trans_failed = 1;
        return APR_EGENERAL;
    }
    ncols = apr_dbd_num_cols(db->driver, res);
    /* copies: the driver clears the result once the last row was read */
    names = apr_pcalloc(p, sizeof(const char *) * (apr_size_t)(ncols + 1));
    for (i = 0; i < ncols; i++) {
        const char *nm = apr_dbd_get_name(db->driver, res, i);
        names[i] = nm ? apr_pstrdup(p, nm) : NULL;
    }
    if ((i = apr_dbd_num_tuples(db->driver, res)) > 0) {
        *prows = apr_array_make(p, i, sizeof(const ca_row_t *));
    }
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        ca_row_t *r = apr_palloc(p, sizeof(*r));
        const char **vals = apr_palloc(p, sizeof(const char *) * (apr_size_t)(ncols + 1));
        for (i = 0; i < ncols; i++) {
            const char *v = apr_dbd_get_entry(db->driver, row, i);
            vals[i] = v ? apr_pstrdup(p, v) : NULL;
        }
        vals[ncols] = NULL;
        r->ncols = ncols;
        r->names = names;
        r->vals = vals;
        APR_ARRAY_PUSH(*prows, const ca_row_t *) = r;
    }
    return APR_SUCCESS;
}

/* where each column of map is in row's result (names shared by its rows):
 * idx[k] for map[k], -1 for a name the result lacks */
static void map_resolve(int *idx, const ca_row_t *row, const ca_col_map_t *map)
{
    int k, i;

    for (k = 0; map[k].col; k++) {
        idx[k] = -1;
        for (i = 0; i < row->ncols; i++) {
            if (row->names[i] && !strcmp(row->names[i], map[k].col)) {
                idx[k] = i;
                break;
            }
        }
    }
}

/* idx: where each column of map is in row (map_index), or NULL to look
 * each one up by name; p: for bytea columns (none without it) */
static apr_status_t fill_at(void *obj, const ca_row_t *row, const ca_col_map_t *map,
                            const int *idx, apr_pool_t *p)
{
    char *base = obj;
    apr_status_t rv = APR_SUCCESS;
    int k;

    for (k = 0; map[k].col && rv == APR_SUCCESS; k++) {
        const char *v;
        if (map[k].kind == CA_COL_MAP) {
            rv = fill_at(obj, row, map[k].more, NULL, p);
            continue;
        }
        /* a name the query lacks: ca_col says so (CA10307) */
        v = idx && idx[k] >= 0 ? row->vals[idx[k]] : ca_col(row, map[k].col);
        switch (map[k].kind) {
        case CA_COL_INT:
            *(int *)(base + map[k].offset) = val_int(v, 0);
            break;
        case CA_COL_TRUE:
            *(int *)(base + map[k].offset) = val_true(v);
            break;
        case CA_COL_BYTES:
            rv = p ? ca_bytea_out((const unsigned char **)(void *)(base + map[k].offset),
                                  (apr_size_t *)(void *)(base + map[k].len_offset), v, p)
                   : APR_EINVAL;
            break;
        default:
            *(const char **)(base + map[k].offset) = v;
            break;
        }
    }
    return rv;
}

static int *map_index(const ca_row_t *row, const ca_col_map_t *map, apr_pool_t *p)
{
    int n = 0, *idx;

    while (map[n].col) {
        n++;
    }
    idx = apr_palloc(p, sizeof(int) * (apr_size_t)(n + 1));
    map_resolve(idx, row, map);
    return idx;
}

void ca_row_fill(void *obj, const ca_row_t *row, const ca_col_map_t *map)
{
    fill_at(obj, row, map, NULL, NULL);
}

apr_status_t ca_db_collect(apr_array_header_t **parr, apr_size_t elt_size,
                           ca_row_fn_t *fill, const void *baton, ca_db_t *db,
                           const char *label, int nargs, const char **args, apr_pool_t *p)
{
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *parr = apr_array_make(p, 4, (int)elt_size);
    if ((rv = ca_db_rows(&rows, db, label, nargs, args, p)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nelts; i++) {
        void *e = apr_array_push(*parr);
        memset(e, 0, elt_size);
        fill(e, APR_ARRAY_IDX(rows, i, const ca_row_t *), baton);
    }
    return APR_SUCCESS;
}

apr_status_t ca_db_fill(apr_array_header_t **parr, apr_size_t elt_size,
                        const ca_col_map_t *map, ca_db_t *db, const char *label,
                        int nargs, const char **args, apr_pool_t *p)
{
    apr_array_header_t *rows;
    const int *idx;
    apr_status_t rv;
    int i;

    *parr = apr_array_make(p, 4, (int)elt_size);
    if ((rv = ca_db_rows(&rows, db, label, nargs, args, p)) != APR_SUCCESS
        || rows->nelts == 0) {
        return rv;
    }
    *parr = apr_array_make(p, rows->nelts, (int)elt_size);
    /* the columns found by name once for the whole result */
    idx = map_index(APR_ARRAY_IDX(rows, 0, const ca_row_t *), map, p);
    for (i = 0; i < rows->nelts && rv == APR_SUCCESS; i++) {
        void *e = apr_array_push(*parr);
        memset(e, 0, elt_size);
        rv = fill_at(e, APR_ARRAY_IDX(rows, i, const ca_row_t *), map, idx, p);
    }
    return rv;
}

apr_status_t ca_db_fill_lists(void *obj, const ca_db_list_t *lists, ca_db_t *db, int nargs,
                              const char **args, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;

    for (; lists->label && rv == APR_SUCCESS; lists++) {
        rv = ca_db_fill((apr_array_header_t **)(void *)((char *)obj + lists->offset),
                        lists->elt_size, lists->map, db, lists->label, nargs, args, p);
    }
    return rv;
}

/* *obj of size bytes zeroed, then filled by map from row if rv, the
 * row's lookup, is APR_SUCCESS */
static apr_status_t fill_found(void *obj, apr_size_t size, const ca_col_map_t *map,
                               apr_status_t rv, const ca_row_t *row, apr_pool_t *p)
{
    memset(obj, 0, size);
    return rv == APR_SUCCESS ? fill_at(obj, row, map, NULL, p) : rv;
}

apr_status_t ca_db_fill_row(void *obj, apr_size_t size, const ca_col_map_t *map, ca_db_t *db,
                            const char *label, int nargs, const char **args, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv = ca_db_row(&row, db, label, nargs, args, p);

    return fill_found(obj, size, map, rv, row, p);
}

apr_status_t ca_db_new_row(void **pobj, apr_size_t size, const ca_col_map_t *map, ca_db_t *db,
                           const char *label, int nargs, const char **args, apr_pool_t *p)
{
    void *obj = apr_palloc(p, size);
    apr_status_t rv = ca_db_fill_row(obj, size, map, db, label, nargs, args, p);

    *pobj = rv == APR_SUCCESS ? obj : NULL;
    return rv;
}

apr_status_t ca_db_id_new(void **pobj, apr_size_t size, const ca_col_map_t *map, ca_db_t *db,
                          const char *label, const char *id, const char *member_id,
                          apr_pool_t *p)
{
    *pobj = NULL;
    if (!ca_is_id(id)) {
        return APR_NOTFOUND;
    }
    return ca_db_new_row(pobj, size, map, db, label, CA_ARGS(id, member_id), p);
}

int ca_is_id(const char *s)
{
    int n = 0;

    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++, n++) {
        if (!apr_isdigit(*s) || n >= 18) {
            return 0;
        }
    }
    return 1;
}

apr_status_t ca_db_owned_row(const ca_row_t **prow, ca_db_t *db, const char *label,
                             const char *id, const char *member_id, apr_pool_t *p)
{
    apr_status_t rv;

    *prow = NULL;
    if (!ca_is_id(id)) {
        return APR_NOTFOUND;
    }
    if ((rv = ca_db_row(prow, db, label, CA_ARGS(id), p)) != APR_SUCCESS) {
        return rv;
    }
    return member_id && strcmp(ca_col(*prow, "member_id"), member_id) ? APR_NOTFOUND
                                                                      : APR_SUCCESS;
}

apr_status_t ca_db_owned_new(void **pobj, apr_size_t size, const ca_col_map_t *map,
                             ca_db_t *db, const char *label, const char *id,
                             const char *member_id, apr_pool_t *p)
{
    const ca_row_t *row;
    void *obj = apr_palloc(p, size);
    apr_status_t rv = ca_db_owned_row(&row, db, label, id, member_id, p);

    rv = fill_found(obj, size, map, rv, row, p);
    *pobj = rv == APR_SUCCESS ? obj : NULL;
    return rv;
}

apr_status_t ca_db_row(const ca_row_t **prow, ca_db_t *db, const char *label,
                       int nargs, const char **args, apr_pool_t *p)
{
    apr_array_header_t *rows;
    apr_status_t rv;

    *prow = NULL;
    if ((rv = ca_db_rows(&rows, db, label, nargs, args, p)) != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0) {
        return APR_NOTFOUND;
    }
    *prow = APR_ARRAY_IDX(rows, 0, const ca_row_t *);
    return APR_SUCCESS;
}

apr_status_t ca_db_value(const char **pval, ca_db_t *db, const char *label,
                         const char *col, int nargs, const char **args, apr_pool_t *p)
{
    const ca_row_t *row;
    apr_status_t rv;

    *pval = NULL;
    rv = ca_db_row(&row, db, label, nargs, args, p);
    if (rv == APR_SUCCESS) {
        *pval = ca_col(row, col);
    }
    return rv;
}

/* Transactions are BEGIN, COMMIT and ROLLBACK sent as they are, not
 * apr_dbd_transaction_start/_end: apr-util's pgsql driver dereferences a
 * NULL transaction when BEGIN fails with an error result, which is what a
 * connection the server has closed gives (libpq learns it on that BEGIN),
 * and httpd's child died of it.  No data goes into these three commands;
 * every statement inside stays prepared. */
static apr_status_t tx_command(ca_db_t *db, const char *cmd, const char *tag)
{
    int n = 0, rc = apr_dbd_query(db->driver, db->handle, &n, cmd);

    if (rc != 0) {
        ca_log(CA_LOG_ERR, tag, APR_EGENERAL, "%s: %s", cmd,
               apr_dbd_error(db->driver, db->handle, rc));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t ca_db_begin(ca_db_t *db, apr_pool_t *p)
{
    (void)p;
    db->in_trans = 0;
    db->trans_failed = 0;
    if (tx_command(db, "BEGIN", "CA10304") != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    db->in_trans = 1;
    return APR_SUCCESS;
}

apr_status_t ca_db_commit(ca_db_t *db, apr_pool_t *p)
{
    int failed;
    apr_status_t rv;

    (void)p;
    if (!db->in_trans) {
        return APR_EGENERAL;
    }
    failed = db->trans_failed;
    /* PostgreSQL takes COMMIT of a failed transaction as ROLLBACK, and
     * says so only in the command tag: a failure is rolled back by name */
    rv = tx_command(db, failed ? "ROLLBACK" : "COMMIT", "CA10305");
    db->in_trans = 0;
    return (failed || rv != APR_SUCCESS) ? APR_EGENERAL : APR_SUCCESS;
}

apr_status_t ca_db_end(ca_db_t *db, apr_status_t rv, apr_pool_t *p)
{
    if (rv == APR_SUCCESS) {
        return ca_db_commit(db, p);
    }
    ca_db_rollback(db, p);
    return rv;
}

apr_status_t ca_db_end_refused(ca_db_t *db, apr_status_t rv, const char *refusal,
                               apr_pool_t *p)
{
    if (refusal) {
        ca_db_rollback(db, p);
        return APR_SUCCESS;
    }
    return ca_db_end(db, rv, p);
}

apr_status_t ca_db_rollback(ca_db_t *db, apr_pool_t *p)
{
    (void)p;
    if (!db->in_trans) {
        return APR_SUCCESS;
    }
    db->in_trans = 0;
    return tx_command(db, "ROLLBACK", "CA10305");
}

int ca_db_prepare_tables(ca_db_t *db, const ca_stmt_t *const *tables, apr_pool_t *p)
{
    int t, i, failed = 0;

    if (!db->prepared) {
        db->prepared = apr_hash_make(p);
    }
    for (t = 0; tables[t]; t++) {
        for (i = 0; tables[t][i].label; i++) {
            const ca_stmt_t *s = &tables[t][i];
            apr_dbd_prepared_t *st = NULL;
            int rc = apr_dbd_prepare(db->driver, p, db->handle, s->sql, s->label, &st);
            if (rc != 0) {
                ca_log(CA_LOG_ERR, "CA10306", APR_EGENERAL, "prepare %s: %s",
                       s->label, apr_dbd_error(db->driver, db->handle, rc));
                failed++;
                continue;
            }
            apr_hash_set(db->prepared, s->label, APR_HASH_KEY_STRING, st);
        }
    }
    return failed;
}

apr_status_t ca_db_prepare_again(ca_db_t *db, apr_hash_t *sqls, apr_pool_t *conn_pool)
{
    apr_hash_index_t *hi;
    int done = 0, failed = 0;

    if (!db->prepared) {
        return APR_SUCCESS;
    }
    /* from a clean slate, so that a try cut short by another failure can
     * be repeated (a constant command, no data) */
    {
        int n = 0;
        if (apr_dbd_query(db->driver, db->handle, &n, "DEALLOCATE ALL") != 0) {
            ca_log(CA_LOG_ERR, "CA10306", APR_EGENERAL, "DEALLOCATE ALL: %s",
                   apr_dbd_error(db->driver, db->handle, 0));
            return APR_EGENERAL;
        }
    }
    for (hi = apr_hash_first(NULL, db->prepared); hi; hi = apr_hash_next(hi)) {
        const void *key;
        apr_ssize_t klen;
        apr_dbd_prepared_t *st = NULL;
        const char *sql;
        int rc;

        apr_hash_this(hi, &key, &klen, NULL);
        sql = apr_hash_get(sqls, key, klen);
        if (!sql) {
            continue;
        }
        rc = apr_dbd_prepare(db->driver, conn_pool, db->handle, sql, key, &st);
        if (rc != 0) {
            ca_log(CA_LOG_ERR, "CA10306", APR_EGENERAL, "prepare %s: %s", (const char *)key,
                   apr_dbd_error(db->driver, db->handle, rc));
            failed++;
            continue;
        }
        /* replacing the value of a key the iteration is on is safe */
        apr_hash_set(db->prepared, key, klen, st);
        done++;
    }
    ca_log(failed ? CA_LOG_ERR : CA_LOG_NOTICE, "CA10308", APR_SUCCESS,
           "a new database session: %d statements prepared again, %d failed", done, failed);
    return failed ? APR_EGENERAL : APR_SUCCESS;
}

const char *ca_bytea_in(const unsigned char *data, apr_size_t len, apr_pool_t *p)
{
    char *s = apr_palloc(p, 2 * len + 3);
    apr_size_t i;

    s[0] = '\\';
    s[1] = 'x';
    for (i = 0; i < len; i++) {
        s[2 + 2 * i] = "0123456789abcdef"[data[i] >> 4];
        s[3 + 2 * i] = "0123456789abcdef"[data[i] & 15];
    }
    s[2 + 2 * len] = '\0';
    return s;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

apr_status_t ca_hex_decode(unsigned char **pdata, apr_size_t *plen, const char *hex,
                           apr_pool_t *p)
{
    apr_size_t n = strlen(hex), i;
    unsigned char *d;

    if (n % 2) {
        return APR_EINVAL;
    }
    d = apr_palloc(p, n / 2 + 1);
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return APR_EINVAL;
        }
        d[i] = (unsigned char)(hi << 4 | lo);
    }
    *pdata = d;
    *plen = n / 2;
    return APR_SUCCESS;
}

apr_status_t ca_bytea_out(const unsigned char **pdata, apr_size_t *plen,
                          const char *text, apr_pool_t *p)
{
    unsigned char *d;
    apr_status_t rv;

    *pdata = NULL;
    *plen = 0;
    if (!text || strncmp(text, "\\x", 2)) {
        return APR_EINVAL;
    }
    rv = ca_hex_decode(&d, plen, text + 2, p);
    *pdata = d;
    return rv;
}

