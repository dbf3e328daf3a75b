/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>
#include <openssl/evp.h>

#include "ca_audit.h"
#include "ca_log.h"

#define BATCH "1000"

const ca_stmt_t ca_audit_stmts[] = {
    /* the stored columns only: the time as exact microseconds (numeric in
     * PostgreSQL >= 14), formatted and hashed here, not by the database */
    { "cacert_aud_batch",
      "SELECT id, (extract(epoch FROM at) * 1000000)::bigint AS at_usec, actor_id, member_id,"
      " action, detail, prev_hash, hash FROM audit_log WHERE id > %s::bigint"
      " ORDER BY id LIMIT " BATCH },
    { NULL, NULL }
};

void ca_audit_time_text(char out[28], apr_int64_t usec)
{
    apr_int64_t secs = usec / 1000000, frac = usec % 1000000;
    time_t t;
    struct tm tm;
    char buf[96];

    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    t = (time_t)secs;
    gmtime_r(&t, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    apr_cpystrn(out, buf, 28);
}

/* characters (code points) of UTF-8 text: bytes that do not continue one */
static apr_size_t utf8_chars(const char *s)
{
    apr_size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

static void md_str(EVP_MD_CTX *ctx, const char *s)
{
    EVP_DigestUpdate(ctx, s, strlen(s));
}

void ca_audit_hash(char out[65], const char *prev, const char *id, const char *time,
                   const char *actor, const char *member, const char *action,
                   const char *detail)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned int n = 0, i;
    char num[24];

    /* concat_ws('|', ...) of the SQL function, field by field */
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    md_str(ctx, prev);
    md_str(ctx, "|");
    md_str(ctx, id);
    md_str(ctx, "|");
    md_str(ctx, time);
    md_str(ctx, "|");
    md_str(ctx, actor ? actor : "-");
    md_str(ctx, "|");
    md_str(ctx, member ? member : "-");
    md_str(ctx, "|");
    snprintf(num, sizeof(num), "%lu", (unsigned long)utf8_chars(action));
    md_str(ctx, num);
    md_str(ctx, "|");
    md_str(ctx, action);
    md_str(ctx, "|");
    snprintf(num, sizeof(num), "%lu", (unsigned long)utf8_chars(detail));
    md_str(ctx, num);
    md_str(ctx, "|");
    md_str(ctx, detail);
    EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    for (i = 0; i < 32; i++) {
        out[2 * i] = "0123456789abcdef"[md[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
    }
    out[64] = '\0';
}

void ca_audit_walk_init(ca_audit_walk_t *w)
{
    memset(w, 0, sizeof(*w));
    memcpy(w->last_hash, CA_AUDIT_ZERO_HASH, 65);
}

static int broken(ca_audit_walk_t *w, apr_int64_t id, const char *why)
{
    w->broken_id = id;
    w->broken_why = why;
    return 0;
}

int ca_audit_walk_row(ca_audit_walk_t *w, const ca_audit_row_t *row, apr_pool_t *p)
{
    char when[28], hash[65];
    char *end;
    apr_int64_t id = apr_strtoi64(row->id, &end, 10);

    if (w->broken_id) {
        return 0;
    }
    if (end == row->id || *end || id <= w->last_id) {
        return broken(w, id, "the id is not a number above the previous entry's");
    }
    if (!row->prev_hash || strcmp(row->prev_hash, w->last_hash)) {
        if (w->last_id == 0 && id > 1) {
            return broken(w, id, apr_psprintf(p, "entries 1 to %" APR_INT64_T_FMT
                                              " are missing: the first entry does not"
                                              " link to the start of the log", id - 1));
        }
        if (w->last_id == 0) {
            return broken(w, id, "prev_hash of the first entry is not the start of the log");
        }
        if (id > w->last_id + 1) {
            return broken(w, id, apr_psprintf(p, "prev_hash does not match the hash of entry %"
                                              APR_INT64_T_FMT ": entries %" APR_INT64_T_FMT
                                              " to %" APR_INT64_T_FMT " are missing (deleted),"
                                              " or entry %" APR_INT64_T_FMT " was rewritten",
                                              w->last_id, w->last_id + 1, id - 1, w->last_id));
        }
        return broken(w, id, apr_psprintf(p, "prev_hash does not match the hash of entry %"
                                          APR_INT64_T_FMT " (that entry was rewritten)",
                                          w->last_id));
    }
    ca_audit_time_text(when, row->at_usec);
    ca_audit_hash(hash, row->prev_hash, row->id, when, row->actor, row->member,
                  row->action ? row->action : "", row->detail ? row->detail : "");
    if (!row->hash || strcmp(hash, row->hash)) {
        return broken(w, id, "the stored hash does not match the entry's content"
                             " (the entry was changed)");
    }
    if (id > w->last_id + 1 && w->last_id > 0) {
        w->gaps += id - w->last_id - 1;
    }
    w->last_id = id;
    memcpy(w->last_hash, hash, 65);
    w->entries++;
    return 1;
}

apr_status_t ca_audit_verify(ca_audit_walk_t *w, ca_db_t *db, const char *anchor_id,
                             const char *anchor_hash, apr_pool_t *p)
{
    apr_int64_t anchor = anchor_id ? apr_atoi64(anchor_id) : 0;
    int anchor_seen = 0;
    apr_status_t rv = APR_SUCCESS;

    ca_audit_walk_init(w);
    for (;;) {
        apr_pool_t *bp;
        apr_array_header_t *rows;
        int i;

        apr_pool_create(&bp, p);
        rv = ca_db_rows(&rows, db, "cacert_aud_batch",
                        CA_ARGS(apr_psprintf(bp, "%" APR_INT64_T_FMT, w->last_id)), bp);
        if (rv != APR_SUCCESS) {
            apr_pool_destroy(bp);
            goto leave;
        }
        for (i = 0; i < rows->nelts; i++) {
            const ca_row_t *r = APR_ARRAY_IDX(rows, i, const ca_row_t *);
            const char *actor = ca_col(r, "actor_id"), *member = ca_col(r, "member_id");
            ca_audit_row_t row;
            row.id = ca_col(r, "id");
            row.at_usec = ca_col_i64(r, "at_usec", 0);
            /* NULL ids may arrive as "" (a bigint's text is never empty) */
            row.actor = actor && *actor ? actor : NULL;
            row.member = member && *member ? member : NULL;
            row.action = ca_col(r, "action");
            row.detail = ca_col(r, "detail");
            row.prev_hash = ca_col(r, "prev_hash");
            row.hash = ca_col(r, "hash");
            if (!ca_audit_walk_row(w, &row, p)) {
                apr_pool_destroy(bp);
                goto leave;
            }
            if (anchor && w->last_id == anchor) {
                anchor_seen = 1;
                if (!anchor_hash || strcmp(anchor_hash, w->last_hash)) {
                    broken(w, anchor, "the entry differs from the anchor recorded earlier");
                    apr_pool_destroy(bp);
                    goto leave;
                }
            }
        }
        apr_pool_destroy(bp);
        if (rows->nelts == 0) {
            break;
        }
    }
    if (anchor && !anchor_seen) {
        broken(w, anchor, w->last_id < anchor
               ? "the log ends before the anchor recorded earlier (entries were cut off)"
               : "the anchor entry is missing (deleted)");
    }

leave:
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA45001", rv, "reading the audit log failed");
    }
    return rv;
}
