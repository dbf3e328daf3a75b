/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The journal: an append-only text file, one record a line, each ending in
 * a SHA-256 chained over the record before it, so an edited, removed or
 * inserted record shows.  Every SIGN and REVOKE answer is written (and
 * fsync'ed) before it goes on the line; at start the file is read back to
 * rebuild the id -> answer index and the revocation lists.
 *
 *   SEQ TIME OPEN cacert-signerd-journal 1 CHAIN
 *   SEQ TIME START signerd-VERSION CHAIN
 *   SEQ TIME SIGN ID CA REQHASH ANSWER CHAIN
 *   SEQ TIME REVOKE ID CA REQHASH SERIAL REVTIME REASON ANSWER CHAIN
 *
 * SEQ counts from 0; TIME, REVTIME seconds since the epoch; ID decimal;
 * REQHASH, SERIAL, CHAIN lower-case hex; ANSWER the answer's payload in
 * base64.  CHAIN = SHA-256(previous CHAIN as 32 bytes || the line up to
 * the space before CHAIN); before record 0 the previous CHAIN is 32 zero
 * bytes.  See docs/signerd.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ca_log.h"
#include "signerd.h"

#define JOURNAL_MAGIC "cacert-signerd-journal"

struct signerd_journal_t {
    const char *path;
    int fd;
    uint64_t seq;                   /* the next record's number */
    unsigned char chain[32];        /* the last record's chain value */
    apr_hash_t *index;              /* id (8 bytes) -> signerd_record_t */
    apr_pool_t *pool;
};

static const char hexd[] = "0123456789abcdef";

static char *hex(char *out, const unsigned char *in, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; ++i) {
        out[2 * i] = hexd[in[i] >> 4];
        out[2 * i + 1] = hexd[in[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

static int unhex(unsigned char *out, apr_size_t max, apr_size_t *plen, const char *s)
{
    static signed char val[256];
    static int ready;
    apr_size_t n = strlen(s), i;

    if (!ready) {
        memset(val, -1, sizeof(val));
        for (i = 0; i < 16; ++i) {
            val[(unsigned char)hexd[i]] = (signed char)i;
        }
        ready = 1;
    }
    if (n == 0 || n % 2 || n / 2 > max) {
        return 0;
    }
    for (i = 0; i < n; i += 2) {
        int hi = val[(unsigned char)s[i]], lo = val[(unsigned char)s[i + 1]];
        if (hi < 0 || lo < 0) {
            return 0;
        }
        out[i / 2] = (unsigned char)((hi << 4) | lo);
    }
    *plen = n / 2;
    return 1;
}

/* FNV-1a with a final mix: ids are sequential and serials share their
 * leading bytes, which APR's default hash spreads badly over buckets */
unsigned int signerd_hash(const char *key, apr_ssize_t *klen)
{
    uint64_t h = 0xcbf29ce484222325ull;
    apr_ssize_t i, n = *klen;

    if (n == APR_HASH_KEY_STRING) {
        n = *klen = (apr_ssize_t)strlen(key);
    }
    for (i = 0; i < n; ++i) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (unsigned int)h;
}

/* standard base64 with padding (apr-util's encoder) */
static char *b64_encode(const unsigned char *in, apr_size_t n, apr_pool_t *p)
{
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)n));

    apr_base64_encode_binary(out, in, (int)n);
    return out;
}

static const char b64c[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* strict (apr-util's decoder is not): length a multiple of 4, padding only
 * at the end */
static int b64_decode(unsigned char **pout, apr_size_t *plen, const char *s, apr_pool_t *p)
{
    static signed char rev[256];
    static int ready;
    apr_size_t n = strlen(s), i, o = 0;
    unsigned char *out;

    if (!ready) {
        memset(rev, -1, sizeof(rev));
        for (i = 0; i < 64; ++i) {
            rev[(unsigned char)b64c[i]] = (signed char)i;
        }
        ready = 1;
    }
    if (n == 0 || n % 4) {
        return 0;
    }
    out = apr_palloc(p, n / 4 * 3);
    for (i = 0; i < n; i += 4) {
        int a = rev[(unsigned char)s[i]], b = rev[(unsigned char)s[i + 1]];
        int c = rev[(unsigned char)s[i + 2]], d = rev[(unsigned char)s[i + 3]];
        int last = i + 4 == n;

        if (a < 0 || b < 0) {
            return 0;
        }
        out[o++] = (unsigned char)((a << 2) | (b >> 4));
        if (c < 0) {
            if (!last || s[i + 2] != '=' || s[i + 3] != '=') {
                return 0;
            }
            break;
        }
        out[o++] = (unsigned char)((b << 4) | (c >> 2));
        if (d < 0) {
            if (!last || s[i + 3] != '=') {
                return 0;
            }
            break;
        }
        out[o++] = (unsigned char)((c << 6) | d);
    }
    *pout = out;
    *plen = o;
    return 1;
}

static void chain_next(unsigned char out[32], const unsigned char prev[32],
                       const char *text, apr_size_t len)
{
    static EVP_MD_CTX *ctx;     /* one, reused: a million records load fast */
    unsigned int n = 32;

    if (!ctx && !(ctx = EVP_MD_CTX_new())) {
        memset(out, 0, 32);     /* no chain can match: start-up fails */
        return;
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(ctx, prev, 32) != 1
        || EVP_DigestUpdate(ctx, text, len) != 1
        || EVP_DigestFinal_ex(ctx, out, &n) != 1) {
        memset(out, 0, 32);
    }
}

/* ---- revocations ---- */

const ca_crl_entry_t *signerd_revocation_find(const signerd_ca_t *ca,
                                              const unsigned char *serial,
                                              apr_size_t len)
{
    uintptr_t at = (uintptr_t)apr_hash_get(ca->rev_index, serial, (apr_ssize_t)len);

    return at ? &APR_ARRAY_IDX(ca->revs, at - 1, ca_crl_entry_t) : NULL;
}

const ca_crl_entry_t *signerd_revocation_add(signerd_ca_t *ca, const ca_crl_entry_t *e)
{
    const ca_crl_entry_t *old = signerd_revocation_find(ca, e->serial, e->serial_len);
    ca_crl_entry_t *n;
    void *key;

    if (old) {
        return old;
    }
    n = apr_array_push(ca->revs);
    *n = *e;
    /* queued for the CRL set: merged (O(n), a copy) at the next CRL, so a
     * CRL is a concatenation, not a rebuild; if this fails the set lacks
     * the entry, every CRL digest differs and nothing is signed */
    if (ca_crl_set_add(ca->crlset, e, 1) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA61310", APR_EGENERAL, "ca %s: a revocation could not be "
               "added to the CRL set; CRLs of this CA will be refused", ca->name);
    }
    key = apr_pmemdup(ca->revs->pool, e->serial, e->serial_len);
    apr_hash_set(ca->rev_index, key, e->serial_len, (void *)(uintptr_t)ca->revs->nelts);
    return n;
}

/* ---- reading ---- */

static apr_status_t corrupt(const char *path, uint64_t line, const char *what)
{
    ca_log(CA_LOG_ERR, "CA61301", APR_EINVAL,
           "journal %s line %" PRIu64 ": %s; refusing to start (the journal must be "
           "restored from its backup or examined: see docs/signerd.md)", path, line, what);
    return APR_EINVAL;
}

static int parse_u64(uint64_t *pv, const char *s)
{
    char *end;
    unsigned long long v;

    if (!*s || *s < '0' || *s > '9' || (s[0] == '0' && s[1])) {
        return 0;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end) {
        return 0;
    }
    *pv = (uint64_t)v;
    return 1;
}

/* a time as the journal writes it ("%" PRId64): digits as parse_u64 takes
 * them, a '-' before them or not */
static int parse_i64(int64_t *pv, const char *s)
{
    int neg = *s == '-';
    uint64_t u;

    if (!parse_u64(&u, s + neg) || u > (uint64_t)INT64_MAX) {
        return 0;
    }
    *pv = neg ? -(int64_t)u : (int64_t)u;
    return 1;
}

static apr_status_t index_add(signerd_journal_t *j, signerd_record_t *rec)
{
    if (apr_hash_get(j->index, &rec->id, sizeof(rec->id))) {
        return APR_EEXIST;
    }
    apr_hash_set(j->index, &rec->id, sizeof(rec->id), rec);
    return APR_SUCCESS;
}

/* one verified line (without its chain field), split into words */
static apr_status_t replay(signerd_journal_t *j, signerd_config_t *conf, uint64_t lineno,
                           char **f, int nf)
{
    signerd_record_t *rec;
    apr_size_t n;
    unsigned char *ans;
    int is_sign;

    if (!strcmp(f[2], "OPEN")) {
        if (lineno != 1 || nf != 5 || strcmp(f[3], JOURNAL_MAGIC) || strcmp(f[4], "1")) {
            return corrupt(j->path, lineno, "bad OPEN record");
        }
        return APR_SUCCESS;
    }
    if (lineno == 1) {
        return corrupt(j->path, lineno, "the journal does not start with OPEN");
    }
    if (!strcmp(f[2], "START")) {
        return nf == 4 ? APR_SUCCESS : corrupt(j->path, lineno, "bad START record");
    }
    is_sign = !strcmp(f[2], "SIGN") || !strcmp(f[2], "PGPSIGN");
    if (!(is_sign && nf == 7) && !(!strcmp(f[2], "REVOKE") && nf == 10)) {
        return corrupt(j->path, lineno, "unknown record");
    }
    rec = apr_pcalloc(j->pool, sizeof(*rec));
    rec->type = is_sign ? CA_MSG_SIGN : CA_MSG_REVOKE;
    rec->answer_type = is_sign ? CA_MSG_CERT : CA_MSG_REVOKED;
    if (!strcmp(f[2], "PGPSIGN")) {
        rec->type = CA_MSG_PGPSIGN;
        rec->answer_type = CA_MSG_PGPKEY;
    }
    if (!parse_u64(&rec->id, f[3]) || rec->id == 0
        || !unhex(rec->reqhash, 32, &n, f[5]) || n != 32
        || !b64_decode(&ans, &rec->alen, f[nf - 1], j->pool)) {
        return corrupt(j->path, lineno, "bad field in record");
    }
    rec->answer = ans;
    if (index_add(j, rec) != APR_SUCCESS) {
        return corrupt(j->path, lineno, "request id recorded twice");
    }
    if (!is_sign) {
        ca_crl_entry_t e;
        int64_t t;
        uint64_t reason;
        apr_size_t slen;
        signerd_ca_t *ca = signerd_config_ca(conf, f[4]);

        memset(&e, 0, sizeof(e));
        if (!unhex(e.serial, sizeof(e.serial), &slen, f[6]) || !parse_i64(&t, f[7])
            || !parse_u64(&reason, f[8]) || reason > 10) {
            return corrupt(j->path, lineno, "bad field in REVOKE record");
        }
        e.serial_len = (uint8_t)slen;
        e.revoked_at = t;
        e.reason = (uint8_t)reason;
        if (!ca) {
            ca_log(CA_LOG_WARN, "CA61302", APR_SUCCESS,
                   "journal %s line %" PRIu64 ": revocation for CA '%s', which is no "
                   "longer configured: ignored for CRLs", j->path, lineno, f[4]);
        }
        else {
            signerd_revocation_add(ca, &e);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t append(signerd_journal_t *j, const char *body, apr_pool_t *p);

apr_status_t signerd_journal_open(signerd_journal_t **pj, const char *path,
                                  signerd_config_t *conf, apr_pool_t *p)
{
    signerd_journal_t *j;
    apr_status_t rv = APR_SUCCESS;
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    apr_pool_t *tmp = NULL;

    *pj = NULL;
    j = apr_pcalloc(p, sizeof(*j));
    j->path = path;
    j->pool = p;
    j->fd = -1;
    j->index = apr_hash_make_custom(p, signerd_hash);
    apr_pool_create(&tmp, p);
    if ((j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        ca_log(CA_LOG_ERR, "CA61303", rv, "cannot open journal %s", path);
        goto leave;
    }
    if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        ca_log(CA_LOG_ERR, "CA61304", rv, "journal %s is in use by another signerd", path);
        goto leave;
    }
    if (!(f = fopen(path, "r"))) {
        rv = APR_FROM_OS_ERROR(errno);
        ca_log(CA_LOG_ERR, "CA61309", rv, "cannot read journal %s", path);
        goto leave;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        char *words[12], *w, *sp;
        unsigned char want[32];
        char got[65];
        uint64_t seq;
        int nf = 0;

        ++lineno;
        if (line[len - 1] != '\n') {
            rv = corrupt(path, lineno, "the last record is incomplete (a write was cut "
                         "short; its answer was never sent)");
            goto leave;
        }
        line[--len] = '\0';
        if ((apr_size_t)len != strlen(line) || !(sp = strrchr(line, ' '))
            || strlen(sp + 1) != 64) {
            rv = corrupt(path, lineno, "malformed record");
            goto leave;
        }
        chain_next(want, j->chain, line, (apr_size_t)(sp - line));
        if (strcmp(hex(got, want, 32), sp + 1)) {
            rv = corrupt(path, lineno, "hash chain broken (a record was edited, removed "
                         "or inserted)");
            goto leave;
        }
        memcpy(j->chain, want, 32);
        *sp = '\0';
        /* split at single blanks (a doubled blank makes an empty word,
         * which no record has) */
        for (w = line; nf < (int)(sizeof(words) / sizeof(words[0])); ) {
            char *b = memchr(w, ' ', (apr_size_t)(sp - w));
            words[nf++] = w;
            if (!b) {
                break;
            }
            *b = '\0';
            w = b + 1;
        }
        if (nf < 3 || !parse_u64(&seq, words[0]) || seq != j->seq) {
            rv = corrupt(path, lineno, "record number out of sequence");
            goto leave;
        }
        if ((rv = replay(j, conf, lineno, words, nf)) != APR_SUCCESS) {
            goto leave;
        }
        ++j->seq;
    }
    if (ferror(f)) {
        rv = APR_FROM_OS_ERROR(errno);
        ca_log(CA_LOG_ERR, "CA61305", rv, "reading journal %s", path);
        goto leave;
    }
    if (lineno == 0) {
        rv = append(j, apr_psprintf(tmp, "OPEN %s 1", JOURNAL_MAGIC), tmp);
        if (rv != APR_SUCCESS) {
            goto leave;
        }
    }
    if ((rv = append(j, "START signerd-" SIGNERD_VERSION, tmp)) != APR_SUCCESS) {
        goto leave;
    }
    ca_log(CA_LOG_NOTICE, "CA61306", APR_SUCCESS,
           "journal %s: %" PRIu64 " records verified, %u answers indexed", path,
           j->seq, apr_hash_count(j->index));
    *pj = j;
leave:
    free(line);
    if (f) {
        fclose(f);
    }
    if (rv != APR_SUCCESS && j->fd >= 0) {
        close(j->fd);
    }
    apr_pool_destroy(tmp);
    return rv;
}

const signerd_record_t *signerd_journal_find(const signerd_journal_t *j, uint64_t id)
{
    return apr_hash_get(j->index, &id, sizeof(id));
}

apr_size_t signerd_journal_records(const signerd_journal_t *j)
{
    return (apr_size_t)j->seq;
}

/* write "SEQ TIME body CHAIN\n" in one write() and fsync it */
static apr_status_t append(signerd_journal_t *j, const char *body, apr_pool_t *p)
{
    unsigned char next[32];
    char chex[65];
    char *text, *line;
    apr_size_t tlen, off = 0, total;

    text = apr_psprintf(p, "%" PRIu64 " %" PRId64 " %s", j->seq, (int64_t)time(NULL), body);
    tlen = strlen(text);
    chain_next(next, j->chain, text, tlen);
    line = apr_pstrcat(p, text, " ", hex(chex, next, 32), "\n", NULL);
    total = strlen(line);
    while (off < total) {
        ssize_t w = write(j->fd, line + off, total - off);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            ca_log(CA_LOG_ERR, "CA61307", APR_FROM_OS_ERROR(errno),
                   "writing journal %s", j->path);
            return APR_FROM_OS_ERROR(errno);
        }
        off += (apr_size_t)w;
    }
    if (fsync(j->fd) != 0) {
        ca_log(CA_LOG_ERR, "CA61308", APR_FROM_OS_ERROR(errno), "fsync journal %s", j->path);
        return APR_FROM_OS_ERROR(errno);
    }
    memcpy(j->chain, next, 32);
    ++j->seq;
    return APR_SUCCESS;
}

static signerd_record_t *new_record(signerd_journal_t *j, uint64_t id, uint8_t type,
                                    const unsigned char reqhash[32],
                                    const unsigned char *answer, apr_size_t alen)
{
    signerd_record_t *rec = apr_pcalloc(j->pool, sizeof(*rec));

    rec->id = id;
    rec->type = type;
    rec->answer_type = type == CA_MSG_SIGN ? CA_MSG_CERT
                       : type == CA_MSG_PGPSIGN ? CA_MSG_PGPKEY : CA_MSG_REVOKED;
    memcpy(rec->reqhash, reqhash, 32);
    rec->answer = apr_pmemdup(j->pool, answer, alen);
    rec->alen = alen;
    return rec;
}

/* one answer into the journal: "WORD id FIELD reqhash answer" appended,
 * then kept in the index */
static apr_status_t record(signerd_journal_t *j, const char *word, uint64_t id,
                           const char *field, uint8_t kind, const unsigned char reqhash[32],
                           const unsigned char *answer, apr_size_t alen)
{
    apr_pool_t *tmp;
    apr_status_t rv;
    char h[65];

    apr_pool_create(&tmp, j->pool);
    rv = append(j, apr_psprintf(tmp, "%s %" PRIu64 " %s %s %s", word, id, field,
                                hex(h, reqhash, 32), b64_encode(answer, alen, tmp)), tmp);
    if (rv == APR_SUCCESS) {
        rv = index_add(j, new_record(j, id, kind, reqhash, answer, alen));
    }
    apr_pool_destroy(tmp);
    return rv;
}

apr_status_t signerd_journal_sign(signerd_journal_t *j, uint64_t id,
                                  const unsigned char reqhash[32], const char *ca,
                                  const unsigned char *answer, apr_size_t alen)
{
    return record(j, "SIGN", id, ca, CA_MSG_SIGN, reqhash, answer, alen);
}

apr_status_t signerd_journal_pgpsign(signerd_journal_t *j, uint64_t id,
                                     const unsigned char reqhash[32], const char *fpr,
                                     const unsigned char *answer, apr_size_t alen)
{
    return record(j, "PGPSIGN", id, fpr, CA_MSG_PGPSIGN, reqhash, answer, alen);
}

/* REVOKE's line has the serial, the time and the reason after the hash */
apr_status_t signerd_journal_revoke(signerd_journal_t *j, uint64_t id,
                                    const unsigned char reqhash[32], signerd_ca_t *ca,
                                    const ca_crl_entry_t *e,
                                    const unsigned char *answer, apr_size_t alen)
{
    apr_pool_t *tmp;
    apr_status_t rv;
    char h[65], s[41];

    apr_pool_create(&tmp, j->pool);
    rv = append(j, apr_psprintf(tmp, "REVOKE %" PRIu64 " %s %s %s %" PRId64 " %u %s", id,
                                ca->name, hex(h, reqhash, 32), hex(s, e->serial, e->serial_len),
                                e->revoked_at, (unsigned)e->reason,
                                b64_encode(answer, alen, tmp)), tmp);
    if (rv == APR_SUCCESS) {
        signerd_revocation_add(ca, e);
        rv = index_add(j, new_record(j, id, CA_MSG_REVOKE, reqhash, answer, alen));
    }
    apr_pool_destroy(tmp);
    return rv;
}
