/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The audit log (sql/001_accounts.sql audit_log; ca_audit_write() in
 * ca_roles.h writes an entry): verifying the hash chain independently of
 * the database's own audit_log_hash() -- someone who can change rows can
 * also replace that SQL function, so the verifier recomputes every hash in
 * C from the stored columns. */
#ifndef CA_AUDIT_H
#define CA_AUDIT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "ca_db.h"

extern const ca_stmt_t ca_audit_stmts[];

#define CA_AUDIT_ZERO_HASH \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" of a time in microseconds since the epoch
 * (UTC), as audit_log_hash formats it; out has room for 28 bytes */
void ca_audit_time_text(char out[28], apr_int64_t usec);

/* the hash of an entry exactly as audit_log_hash() computes it: lowercase
 * hex SHA-256 over the UTF-8 text
 *   prev|id|time|actor|member|len(action)|action|len(detail)|detail
 * where actor/member NULL are "-" and len() counts characters (code
 * points), as PostgreSQL's length(text) does */
void ca_audit_hash(char out[65], const char *prev, const char *id, const char *time,
                   const char *actor, const char *member, const char *action,
                   const char *detail);

/* a row as the verifier reads it */
typedef struct {
    const char *id;             /* decimal */
    apr_int64_t at_usec;        /* the time, microseconds since the epoch */
    const char *actor, *member; /* NULL for none */
    const char *action, *detail, *prev_hash, *hash;
} ca_audit_row_t;

/* the state of a walk along the chain */
typedef struct {
    apr_int64_t entries;        /* rows checked */
    apr_int64_t last_id;        /* 0 before the first row */
    char last_hash[65];         /* hash of the last row checked (zeros first) */
    apr_int64_t gaps;           /* ids missing where the chain still links:
                                 * rolled-back writes (the sequence is not
                                 * transactional) */
    apr_int64_t broken_id;      /* the first broken row, 0 while intact */
    const char *broken_why;     /* what is wrong with it */
} ca_audit_walk_t;

void ca_audit_walk_init(ca_audit_walk_t *w);
/* check the next row (in id order); 0 and w->broken_* set at the first
 * broken link, 1 while intact */
int ca_audit_walk_row(ca_audit_walk_t *w, const ca_audit_row_t *row, apr_pool_t *p);

/* walk the whole table in id order, in batches; anchor_id/anchor_hash (or
 * NULL) name an entry recorded earlier that must still be there with that
 * hash (a truncated tail leaves no broken link behind it) */
apr_status_t ca_audit_verify(ca_audit_walk_t *w, ca_db_t *db, const char *anchor_id,
                             const char *anchor_hash, apr_pool_t *p);

#endif
