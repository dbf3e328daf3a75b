/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The web side of the signer line (see ca_link.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <openssl/crypto.h>

#include "ca_link.h"
#include "ca_issue.h"
#include "ca_log.h"
#include "ca_serial.h"
#include "ca_wire.h"

/* what the link holds of a CA's revocations, for its CRLs: sorted and
 * encoded (ca_crl_set_t), read once in steps of CRL_CHUNK and then brought
 * up to date from certificates.revoked_seq before each CRL */
typedef struct {
    const char *ca;
    ca_crl_set_t *set;
    apr_int64_t seq;                /* the last revoked_seq read */
    int loaded;                     /* the first load is done */
    int behind;                     /* the last step read a full chunk */
    apr_time_t last_step;
} link_crl_t;

/* revocations read in one step of the first load: a few ms between two
 * requests, so issuance does not wait behind a million of them */
#define CRL_CHUNK 5000

/* A signed CRL handed to the store thread: everything in its own pool
 * (unmanaged: made in the link's thread, destroyed in the store's), but
 * the copy of the TBS, 42 MB at a million entries: that is in buf, which
 * the store thread gives back for the next CRL (crl_store_t.spare), so the
 * link does not allocate and fault in 42 MB for every CRL while requests
 * wait behind it.  buf belongs to the job (freed with its pool) until the
 * store thread moves it to spare. */
typedef enum {
    JOB_HASH,                       /* a new request's TBS: the thread hashes it */
    JOB_READY,                      /* hashed: the payload waits for the link */
    JOB_STORE                       /* signed: the thread checks and stores it */
} job_phase_t;

typedef struct {
    apr_pool_t *pool;
    const char *id;
    job_phase_t phase;
    ca_crl_snap_t *snap;            /* the TBS as the link's set had it, in buf */
    apr_int64_t seq;                /* the set's revoked_seq then (JOB_HASH) */
    /* a new request's TBS is copied by the store thread too (JOB_HASH):
     * the link leaves set alone until copied (store_lent) */
    ca_crl_set_t *set;
    const char *ca, *md;
    X509 *issuer;
    apr_interval_time_t validity;
    int copied;                     /* 1: set is the link's again; under st->mu */
    int failed;                     /* the copy failed: made on the line instead */
    const unsigned char *payload;   /* the request made from it (JOB_READY) */
    apr_size_t len;
    apr_time_t t_copy, t_hash;      /* for CA21125 */
    apr_time_t t_store;             /* ca_issue_store_crl's own time */
    const unsigned char *ans;       /* signerd's answer */
    apr_size_t alen;
    unsigned char *buf;             /* malloc'ed, cap bytes */
    apr_size_t cap;
} crl_job_t;

/* the CRL store thread's nice value: it yields the CPU to the threads
 * that answer members and to the link */
#define STORE_NICE 10

/* After a CRL is stored, no CRL request goes out for CRL_PACE times the
 * work that CRL cost (at most CRL_PACE_MAX): this thread's copy of the
 * TBS, its SHA-256 twice (signerd takes one over the same bytes) and the
 * store itself (not opening its connection).  CRLs of a million entries
 * made back to back would otherwise keep signerd and this thread busy
 * next to the members' requests (issue 19: issuance p99 while CRLs are
 * made).  The factor bounds that work to about 1/31 of a core however many
 * revocations come, up to about a million entries (about 70 ms of that
 * work, a CRL every 2 s or so); above, CRL_PACE_MAX holds and the share
 * grows with the CRL (1/15 at two million).  15 (1/16) still raised
 * issuance p99 by 2-3 ms in every round of bench/crl_stall_bench.py.  At
 * the sizes of the tests the pause is some 10-100 ms.  A revocation still
 * reaches the published CRL within CRL_PACE_MAX plus two CRLs' time. */
#define CRL_PACE 30
#define CRL_PACE_MAX apr_time_from_sec(2)

/* a new CRL request hashed again after revocations overtook it this many
 * times is hashed on the line instead, so a steady flow of revocations
 * cannot hold a CRL back for ever */
#define CRL_HASH_TRIES 3

/* The thread that stores signed CRLs (issue 19).  Assembling a CRL of a
 * million entries and writing its 40 MB took the link about a second per
 * CRL, and every request queued meanwhile waited.  Now the link only
 * brings its set up to date and copies the TBS (a snapshot, so the set may
 * move on); this thread checks the hash and the signature against the
 * issuer and stores the CRL's fields and signature (not its body:
 * migration 025, /pki builds it), on a database connection of its own.
 *
 * Nothing is lost: the request stays "sent" until the transaction that
 * inserts the CRL row also marks it done (ca_issue_store_crl).  Meanwhile
 * the link asks for no CRL at all (ca_issue_next, crl_held), so it does
 * not send this one again while it is stored.  If the store fails, or the
 * process ends before the commit (a crash, a stop that drops a job not
 * begun), the request is still open: the link (this host's after
 * retry_after, or the next one to hold the line) sends it again with the
 * same id and payload, signerd signs the same TBS once more, and it is
 * stored then -- or refused and queued anew when revocations came
 * meanwhile, as before.  One CRL at a time: a second signed CRL would
 * only wait for the first.
 *
 * The thread also takes the SHA-256 of a new CRL request off the line
 * (28-30 ms at a million entries, which every request queued behind the
 * CRL waited for).  The link copies the TBS from its set (a few ms) and
 * hands it over as a JOB_HASH; it sends other requests meanwhile (no CRL:
 * store_held).  Once hashed (JOB_READY) the link sends the CRL request
 * with that payload -- only if its set has not moved since the copy (the
 * same revoked_seq), else the copy would not be what signerd holds, and it
 * copies anew.  signerd's answer then makes the same job a JOB_STORE, with
 * no second copy: the TBS signed is the one copied. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t thread;
    int started;                    /* the thread runs: to be joined */
    int closed;                     /* ca_link_store_stop: no more jobs */
    crl_job_t *job;                 /* waiting or being stored */
    /* on the monotonic clock, as every time of the link's (ca_link_t) */
    apr_time_t retry_after;         /* after a failure to store */
    apr_time_t pace_until;          /* after a CRL stored (CRL_PACE) */
    unsigned char *spare;           /* the TBS buffer of the last job, given
                                     * back by the thread for the next one */
    apr_size_t spare_cap;
} crl_store_t;

/* every time the link keeps is on the monotonic clock (ca_mono_now): a
 * step of the wall clock must neither hold heartbeats, resends and CRLs
 * back nor fire them all at once */
struct ca_link_t {
    const ca_link_cfg_t *cfg;
    crl_store_t store;
    apr_pool_t *crl_pool;           /* the CRL state's, made in the link's
                                     * thread, gone with ca_link_forget */
    apr_array_header_t *crls;       /* of link_crl_t, NULL until then */
    apr_pool_t *pool;
    int fd;
    ca_wire_decoder_t *dec;
    int hello;                      /* signerd answered HELLO since it (re)started */
    int down_logged;
    apr_time_t last_sent;           /* of anything, for heartbeats */
    apr_time_t last_rx;             /* of any byte, for a frame cut short */
    apr_time_t next_try;            /* when the device cannot be opened */
    apr_time_t last_crl;            /* last periodic CRL queued */
    apr_time_t pause_until;         /* after a failure to store an answer */
    apr_int64_t hash_id;            /* the new CRL request hashed off the line, */
    int hash_tries;                 /* and how many times */
    apr_time_t crl_ask_at;          /* signerd hashes the CRL sent: ask again then */
    apr_int64_t crl_asked_id;       /* that CRL request, */
    apr_time_t crl_t_start, crl_t_sent; /* and when it was first prepared and sent */
    int crl_asks;                   /* PENDING answers to it so far */
};

/* WAIT_MORE: nothing decided yet, read on */
typedef enum { WAIT_ANSWER, WAIT_TIMEOUT, WAIT_RESEND, WAIT_STOP, WAIT_ERROR, WAIT_MORE } wait_t;

static apr_interval_time_t or_default(apr_interval_time_t v, int secs)
{
    return v > 0 ? v : apr_time_from_sec(secs);
}

ca_link_t *ca_link_make(const ca_link_cfg_t *cfg, apr_pool_t *pool)
{
    ca_link_t *l = apr_pcalloc(pool, sizeof(*l));

    l->cfg = cfg;
    l->pool = pool;
    l->fd = -1;
    pthread_mutex_init(&l->store.mu, NULL);
    pthread_cond_init(&l->store.cond, NULL);
    return l;
}

/* store one CRL on a connection of the store thread's own: 1 when it is
 * done with (stored, or refused for good) */
static int store_job(ca_link_t *l, crl_job_t *j, apr_pool_t *tp)
{
    apr_pool_t *p;
    ca_db_t db;
    void *handle = NULL;
    apr_time_t t0 = ca_mono_now();
    apr_status_t rv;

    apr_pool_create(&p, tp);
    memset(&db, 0, sizeof(db));
    if ((rv = l->cfg->store_db(l->cfg->baton, &db, &handle, p)) != APR_SUCCESS) {
        goto leave;
    }
    j->t_store = ca_mono_now();
    rv = ca_issue_store_crl(&db, j->snap, j->ans, j->alen, p);
    j->t_store = ca_mono_now() - j->t_store;
    l->cfg->store_db_close(l->cfg->baton, handle);
leave:
    if (rv == APR_EMISMATCH) {
        /* a CRL that does not match is logged (CA10605-CA10607, CA10625) and set
         * aside for support: done with */
        rv = APR_SUCCESS;
    }
    else if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA21121", rv, "the CRL of request %s could not be stored; "
               "it will be asked again in a few seconds", j->id);
    }
    else {
        ca_log(CA_LOG_INFO, "CA21107", APR_SUCCESS, "request %s (crl) done: checked and "
               "stored in %" APR_TIME_T_FMT " ms", j->id, apr_time_as_msec(ca_mono_now() - t0));
    }
    apr_pool_destroy(p);
    return rv == APR_SUCCESS;
}

static void *store_main(void *data)
{
    ca_link_t *l = data;
    crl_store_t *st = &l->store;
    apr_pool_t *tp = NULL;
    crl_job_t *j;
    int ok;

    /* the thread's own pool: its allocator keeps the memory of one CRL
     * for the next, as the link's pools did, instead of mapping and
     * faulting it in again for every CRL */
    if (apr_pool_create_unmanaged_ex(&tp, NULL, NULL) != APR_SUCCESS) {
        tp = NULL;
    }
    /* background work: on a busy host the threads that answer members go
     * first (Linux: the nice value of this thread alone) */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), STORE_NICE) != 0) {
        ca_log(CA_LOG_DEBUG, "CA21127", APR_FROM_OS_ERROR(errno), "the CRL store thread "
               "keeps its priority");
    }
    for (;;) {
        pthread_mutex_lock(&st->mu);
        while ((!st->job || st->job->phase == JOB_READY) && !st->closed) {
            pthread_cond_wait(&st->cond, &st->mu);
        }
        j = st->job;
        if (st->closed && j) {
            /* not begun: dropped, its request stays open */
            st->job = NULL;
            pthread_mutex_unlock(&st->mu);
            ca_log(CA_LOG_NOTICE, "CA21122", APR_SUCCESS, "the CRL of request %s is set "
                   "aside: the link stops; the request stays open", j->id);
            apr_pool_destroy(j->pool);
            break;
        }
        pthread_mutex_unlock(&st->mu);
        if (!j) {
            break;
        }
        if (j->phase == JOB_HASH) {
            /* the job's pool is the thread's until it is JOB_READY; the
             * set is the thread's until copied: the link does not touch it
             * meanwhile (store_lent) */
            apr_time_t t0 = ca_mono_now();
            int failed = ca_issue_crl_prepare(&j->snap, j->id, j->ca, j->issuer, j->md,
                                              j->validity, j->set, j->seq, &j->buf, &j->cap,
                                              j->pool)
                         != APR_SUCCESS;
            pthread_mutex_lock(&st->mu);
            j->copied = 1;
            pthread_mutex_unlock(&st->mu);
            j->t_copy = ca_mono_now() - t0;
            if (!failed) {
                t0 = ca_mono_now();
                ca_issue_crl_finish(&j->payload, &j->len, j->snap, j->pool);
                j->t_hash = ca_mono_now() - t0;
            }
            pthread_mutex_lock(&st->mu);
            j->failed = failed;
            j->phase = JOB_READY;
            pthread_mutex_unlock(&st->mu);
            continue;
        }
        ok = store_job(l, j, tp ? tp : j->pool);
        pthread_mutex_lock(&st->mu);
        st->job = NULL;
        if (!ok) {
            st->retry_after = ca_mono_now() + apr_time_from_sec(5);
        }
        else {
            apr_interval_time_t pace = CRL_PACE * (j->t_copy + 2 * j->t_hash + j->t_store);
            st->pace_until = ca_mono_now() + (pace < CRL_PACE_MAX ? pace : CRL_PACE_MAX);
        }
        /* done with the TBS: its buffer back for the next CRL, in the same
         * step that takes the job off, so a link that sees no job (and only
         * then sends a CRL request: store_held) finds the buffer there */
        if (!st->spare) {
            st->spare = j->buf;
            st->spare_cap = j->cap;
            j->buf = NULL;
        }
        pthread_mutex_unlock(&st->mu);
        apr_pool_destroy(j->pool);
    }
    if (tp) {
        apr_pool_destroy(tp);
    }
    /* the thread ends: its OpenSSL thread state goes too */
    OPENSSL_thread_stop();
    return NULL;
}

/* 1 while the store thread copies set for a new CRL request: the link
 * reads no revocations into it meanwhile */
static int store_lent(ca_link_t *l, const ca_crl_set_t *set)
{
    crl_store_t *st = &l->store;
    int lent;

    pthread_mutex_lock(&st->mu);
    lent = st->job && st->job->phase == JOB_HASH && !st->job->copied && st->job->set == set;
    pthread_mutex_unlock(&st->mu);
    return lent;
}

/* 1 while a CRL request is hashed or a CRL stored, for a while after one
 * was stored (CRL_PACE), or after a failure to store one: no CRL request
 * goes out meanwhile */
static int store_held(ca_link_t *l)
{
    crl_store_t *st = &l->store;
    int held;

    if (ca_mono_now() < l->crl_ask_at) {
        return 1;           /* signerd hashes the one sent (crl_pending) */
    }
    if (!l->cfg->store_db) {
        return 0;
    }
    pthread_mutex_lock(&st->mu);
    held = (st->job && st->job->phase != JOB_READY) || ca_mono_now() < st->retry_after
           || ca_mono_now() < st->pace_until;
    pthread_mutex_unlock(&st->mu);
    return held;
}

void ca_link_store_stop(ca_link_t *l)
{
    crl_store_t *st = &l->store;
    int join;

    pthread_mutex_lock(&st->mu);
    st->closed = 1;
    join = st->started;
    st->started = 0;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->mu);
    if (join) {
        pthread_join(st->thread, NULL);
    }
    /* no job comes any more (closed): the spare buffer is not needed */
    pthread_mutex_lock(&st->mu);
    free(st->spare);
    st->spare = NULL;
    st->spare_cap = 0;
    pthread_mutex_unlock(&st->mu);
}

void ca_link_forget(ca_link_t *l)
{
    if (l->crl_pool) {
        apr_pool_destroy(l->crl_pool);
    }
    l->crl_pool = NULL;
    l->crls = NULL;
}

/* the CRL state of ca, made when first asked */
static link_crl_t *crl_state(ca_link_t *l, const char *ca)
{
    link_crl_t *c;
    int i;

    if (!l->crls) {
        /* a pool of its own, made in the link's thread (the link's may be
         * the parent process's): the sets' big arrays are freed with it */
        apr_pool_create(&l->crl_pool, NULL);
        l->crls = apr_array_make(l->crl_pool, 8, sizeof(link_crl_t));
    }
    for (i = 0; i < l->crls->nelts; i++) {
        c = &APR_ARRAY_IDX(l->crls, i, link_crl_t);
        if (!strcmp(c->ca, ca)) {
            return c;
        }
    }
    c = apr_array_push(l->crls);
    memset(c, 0, sizeof(*c));
    c->ca = apr_pstrdup(l->crl_pool, ca);
    c->behind = 1;
    ca_crl_set_make(&c->set, l->crl_pool);
    return c;
}

/* one step of reading c's revocations: *pmore when more are there */
static apr_status_t crl_step(int *pmore, ca_link_t *l, link_crl_t *c, ca_db_t *db,
                             apr_pool_t *p)
{
    apr_size_t got = 0;
    apr_status_t rv = ca_issue_crl_sync(&got, &c->seq, c->set, db, c->ca, -1, CRL_CHUNK, p);

    (void)l;
    *pmore = 0;
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA21119", rv, "cannot read the revocations of %s for its CRLs",
               c->ca);
        goto leave;
    }
    *pmore = c->behind = got == CRL_CHUNK;
    c->last_step = ca_mono_now();
    if (!*pmore && !c->loaded) {
        c->loaded = 1;
        ca_log(CA_LOG_NOTICE, "CA21120", APR_SUCCESS, "the revocations of %s are loaded "
               "for its CRLs: %" APR_SIZE_T_FMT, c->ca, ca_crl_set_count(c->set));
    }
leave:
    return rv;
}

/* c brought up to date before a CRL (a handful of rows, usually none) */
static apr_status_t crl_catch_up(ca_link_t *l, link_crl_t *c, ca_db_t *db, apr_pool_t *p)
{
    apr_status_t rv;
    int more;

    do {
        rv = crl_step(&more, l, c, db, p);
    } while (rv == APR_SUCCESS && more);
    return rv;
}

/* one step of reading the CAs' revocations, between two requests: the
 * first load, or a batch of many stored at once (an import), in chunks;
 * otherwise a look every second for what was revoked meanwhile.  1 if a
 * chunk was read; *plater the CAs whose queued CRLs wait until the link
 * has caught up with them. */
static int crl_load_step(const char **plater, ca_link_t *l, ca_db_t *db, apr_pool_t *p)
{
    const char *later = "";
    int i, done = 0, more;

    for (i = 0; l->cfg->cas && l->cfg->cas[i]; i++) {
        crl_state(l, l->cfg->cas[i]);
    }
    for (i = 0; l->crls && i < l->crls->nelts; i++) {
        link_crl_t *c = &APR_ARRAY_IDX(l->crls, i, link_crl_t);
        if (!done && (c->behind
                      || ca_mono_now() - c->last_step > apr_time_from_sec(1))
            && !store_lent(l, c->set)) {
            crl_step(&more, l, c, db, p);
            done = more;
        }
        if (c->behind) {
            later = *later ? apr_pstrcat(p, later, ",", c->ca, NULL) : c->ca;
        }
    }
    *plater = later;
    return done;
}

void ca_link_close(ca_link_t *l)
{
    ca_serial_close(l->fd);
    l->fd = -1;
    l->hello = 0;
}

static apr_status_t link_send(ca_link_t *l, uint8_t type, uint64_t id,
                              const unsigned char *payload, apr_size_t len, apr_pool_t *p)
{
    const unsigned char *buf;
    apr_size_t n, off = 0;
    apr_status_t rv = ca_wire_encode(&buf, &n, type, id, payload, len, p);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (off < n) {
        ssize_t w = write(l->fd, buf + off, n - off);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                struct pollfd pfd = { l->fd, POLLOUT, 0 };
                poll(&pfd, 1, 100);
                continue;
            }
            return APR_FROM_OS_ERROR(errno);
        }
        off += (apr_size_t)w;
    }
    l->last_sent = ca_mono_now();
    return APR_SUCCESS;
}

/* the text signerd gave with STOP */
static const char *stop_reason(const ca_frame_t *f, apr_pool_t *p)
{
    const char *reason = "signerd stopped";
    apr_array_header_t *tlvs;
    int i;

    if (ca_tlv_parse(&tlvs, f->payload, f->len, p) == APR_SUCCESS) {
        for (i = 0; i < tlvs->nelts; i++) {
            ca_tlv_t *t = &APR_ARRAY_IDX(tlvs, i, ca_tlv_t);
            if (t->tag == CA_TAG_TEXT) {
                reason = apr_pstrmemdup(p, (const char *)t->value, t->len);
            }
        }
    }
    return reason;
}

/* one frame that arrived, while waiting for want to id */
static int frame_event(wait_t *pw, const ca_frame_t *f, uint8_t want, uint64_t id,
                       const unsigned char **ppayload, apr_size_t *plen,
                       const char **preason, apr_pool_t *p)
{
    if (f->type == CA_MSG_NAK) {
        ca_log(CA_LOG_INFO, "CA21102", APR_SUCCESS, "signerd saw a damaged frame: resending");
        *pw = WAIT_RESEND;
        return 1;
    }
    if (f->type == CA_MSG_STOP) {
        *preason = stop_reason(f, p);
        /* a stop for another request: signerd is gone all the same */
        *pw = f->id == id ? WAIT_STOP : WAIT_ERROR;
        return 1;
    }
    if (f->type == want && f->id == id) {
        *ppayload = apr_pmemdup(p, f->payload, f->len ? f->len : 1);
        *plen = f->len;
        *pw = WAIT_ANSWER;
        return 1;
    }
    return 0;           /* a late answer to an earlier resend: ignored */
}

/* read what the line has, up to 50 ms */
static wait_t read_some(ca_link_t *l, apr_time_t end)
{
    unsigned char buf[4096];
    apr_time_t now = ca_mono_now();
    struct pollfd pfd = { l->fd, POLLIN, 0 };
    ssize_t n;
    int ms, rc;

    if (now >= end) {
        return WAIT_TIMEOUT;
    }
    ms = (int)((end - now) / 1000) + 1;
    rc = poll(&pfd, 1, ms > 50 ? 50 : ms);
    if (rc < 0 && errno != EINTR) {
        return WAIT_ERROR;
    }
    if (rc <= 0) {
        return WAIT_MORE;
    }
    if (pfd.revents & (POLLERR | POLLNVAL)) {
        return WAIT_ERROR;
    }
    n = read(l->fd, buf, sizeof(buf));
    if (n > 0) {
        ca_wire_feed(l->dec, buf, (apr_size_t)n);
        l->last_rx = ca_mono_now();
    }
    else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return WAIT_ERROR;
    }
    else if (n == 0 || (pfd.revents & POLLHUP)) {
        /* the other end of the line is closed: wait a little */
        apr_sleep(apr_time_from_msec(20));
    }
    return WAIT_MORE;
}

/* wait for the answer of type want to id; copies its payload into p */
static wait_t link_wait(ca_link_t *l, uint8_t want, uint64_t id, apr_interval_time_t timeout,
                        const unsigned char **ppayload, apr_size_t *plen,
                        const char **preason, apr_pool_t *p)
{
    apr_time_t end = ca_mono_now() + timeout;
    ca_frame_t f;
    wait_t w;
    int cut = 0;

    for (;;) {
        ca_wire_event_t ev;
        while ((ev = ca_wire_next(l->dec, &f)) != CA_WIRE_NEED_MORE) {
            if (ev == CA_WIRE_DAMAGED) {
                ca_log(CA_LOG_INFO, "CA21101", APR_SUCCESS,
                       "a damaged frame from signerd: resending");
                return WAIT_RESEND;
            }
            if (frame_event(&w, &f, want, id, ppayload, plen, preason, p)) {
                return w;
            }
        }
        if (cut) {
            /* what followed the cut frame's start held no answer */
            return WAIT_RESEND;
        }
        /* signerd writes whole frames: an incomplete one followed by the
         * protocol's second of silence was cut, or its length field was
         * hit and it would swallow every later answer -- dropped, the
         * frames inside it read, and the request sent again */
        if (ca_wire_pending(l->dec)
            && ca_mono_now() - l->last_rx >= apr_time_from_msec(CA_WIRE_IDLE_MS)
            && ca_wire_idle(l->dec) == CA_WIRE_DAMAGED) {
            ca_log(CA_LOG_INFO, "CA21113", APR_SUCCESS, "an incomplete frame from signerd "
                   "after a second of silence: dropped, resending");
            cut = 1;
            continue;
        }
        if ((w = read_some(l, end)) != WAIT_MORE) {
            return w;
        }
    }
}

/* one exchange with resends; WAIT_ANSWER, WAIT_STOP or a failure */
static wait_t link_exchange(ca_link_t *l, uint8_t type, uint8_t want, uint64_t id,
                            const unsigned char *payload, apr_size_t len,
                            const unsigned char **panswer, apr_size_t *palen,
                            const char **preason, int tries, apr_pool_t *p)
{
    wait_t w = WAIT_TIMEOUT;
    int i;

    for (i = 0; i < tries; i++) {
        if (link_send(l, type, id, payload, len, p) != APR_SUCCESS) {
            return WAIT_ERROR;
        }
        w = link_wait(l, want, id, or_default(l->cfg->timeout, 5), panswer, palen, preason, p);
        if (w != WAIT_RESEND && w != WAIT_TIMEOUT) {
            return w;
        }
    }
    return w;
}

static int link_open(ca_link_t *l)
{
    const char *why;
    apr_status_t rv;

    if (ca_mono_now() < l->next_try) {
        return 0;
    }
    rv = ca_serial_open(&l->fd, &why, l->cfg->device,
                        l->cfg->baud > 0 ? l->cfg->baud : 115200);
    if (rv != APR_SUCCESS) {
        l->next_try = ca_mono_now() + apr_time_from_sec(1);
        if (!l->down_logged) {
            ca_log(CA_LOG_NOTICE, "CA21109", rv, "cannot open the signer line %s yet: %s",
                   l->cfg->device, why);
            l->down_logged = 1;
        }
        return 0;
    }
    l->dec = ca_wire_decoder_make(l->pool);
    l->hello = 0;
    return 1;
}

int ca_link_ready(ca_link_t *l, apr_pool_t *p)
{
    const unsigned char *ans;
    apr_size_t alen;
    const char *reason = NULL;
    apr_array_header_t *hello_text = apr_array_make(p, 32, 1);

    /* this link takes PENDING in CRL_SIG (revision 1.2, crl_pending) */
    ca_tlv_add_str(hello_text, CA_TAG_TEXT, "cacert-link crl-pending");

    if (l->fd < 0 && !link_open(l)) {
        return 0;
    }
    if (ca_mono_now() < l->pause_until) {
        return 0;
    }
    if (l->hello) {
        return 1;
    }
    if (link_exchange(l, CA_MSG_HELLO, CA_MSG_HELLO_OK, 0,
                      (const unsigned char *)hello_text->elts, (apr_size_t)hello_text->nelts,
                      &ans, &alen, &reason, 1, p) == WAIT_ANSWER) {
        ca_log(CA_LOG_NOTICE, "CA21103", APR_SUCCESS, "signerd answers on %s",
               l->cfg->device);
        l->hello = 1;
        l->down_logged = 0;
        return 1;
    }
    if (!l->down_logged) {
        ca_log(CA_LOG_NOTICE, "CA21104", APR_SUCCESS,
               "signerd does not answer on %s yet; requests wait", l->cfg->device);
        l->down_logged = 1;
    }
    return 0;
}

/* the message of each kind of request, and the answer it waits for */
static const struct {
    const char *kind;
    uint8_t type, want;
} kinds[] = {
    { "sign", CA_MSG_SIGN, CA_MSG_CERT },
    { "revoke", CA_MSG_REVOKE, CA_MSG_REVOKED },
    { "crl", CA_MSG_CRL, CA_MSG_CRL_SIG },
    { "pgpsign", CA_MSG_PGPSIGN, CA_MSG_PGPKEY },
};

static int kind_of(const char *kind)
{
    int i;

    for (i = 0; i < (int)(sizeof(kinds) / sizeof(kinds[0])); i++) {
        if (!strcmp(kinds[i].kind, kind)) {
            return i;
        }
    }
    return 2;           /* the queue holds nothing else */
}

/* a CRL request is built when it goes out: the revocations up to now,
 * from the set the link keeps (brought up to date just before) */
static int crl_payload(ca_link_t *l, ca_db_t *db, ca_queued_t *q, uint64_t id, apr_pool_t *p)
{
    X509 *issuer = l->cfg->issuer(l->cfg->baton, q->ca, p);
    link_crl_t *c = crl_state(l, q->ca);
    apr_status_t rv;

    if (!issuer) {
        ca_issue_quarantine(db, q->id, "no CAcertIssuer for this CA", p);
        return 0;
    }
    rv = ca_issue_crl_request(&q->payload, &q->len, c->set, q->ca, id, issuer,
                              l->cfg->crl_md ? l->cfg->crl_md : "sha256",
                              or_default(l->cfg->crl_validity, 86400), p);
    if (rv == APR_SUCCESS) {
        rv = ca_issue_set_payload(db, q->id, q->payload, q->len, p);
    }
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA21105", rv, "cannot build the CRL request %s", q->id);
        return -1;
    }
    return 1;
}

/* a job's TBS buffer goes with its pool unless the store thread took it */
static apr_status_t job_cleanup(void *data)
{
    crl_job_t *j = data;

    free(j->buf);
    j->buf = NULL;
    return APR_SUCCESS;
}

/* a job of its own pool, with the buffer of the CRL stored before.  It is
 * there: a CRL request goes out only when no job is held (store_held,
 * ca_issue_next), and the store thread gives the buffer back as it takes
 * its job off.  Were it not, the copy gets a buffer of its own: a buffer
 * is never the link's and a job's at once. */
static apr_status_t job_make(crl_job_t **pj, ca_link_t *l, const char *id, job_phase_t phase)
{
    crl_store_t *st = &l->store;
    apr_pool_t *jp;
    crl_job_t *j;
    apr_status_t rv;

    *pj = NULL;
    if ((rv = apr_pool_create_unmanaged_ex(&jp, NULL, NULL)) != APR_SUCCESS) {
        return rv;
    }
    j = apr_pcalloc(jp, sizeof(*j));
    j->pool = jp;
    j->phase = phase;
    apr_pool_cleanup_register(jp, j, job_cleanup, apr_pool_cleanup_null);
    pthread_mutex_lock(&st->mu);
    j->buf = st->spare;
    j->cap = st->spare_cap;
    st->spare = NULL;
    st->spare_cap = 0;
    pthread_mutex_unlock(&st->mu);
    j->id = apr_pstrdup(jp, id);
    *pj = j;
    return APR_SUCCESS;
}

/* j to the store thread, started when first needed; on success the job is
 * the thread's */
static apr_status_t job_post(ca_link_t *l, crl_job_t *j)
{
    crl_store_t *st = &l->store;
    apr_status_t rv = APR_SUCCESS;
    int err;

    pthread_mutex_lock(&st->mu);
    if (st->closed) {
        rv = APR_EINCOMPLETE;
    }
    else if (!st->started && (err = pthread_create(&st->thread, NULL, store_main, l)) != 0) {
        rv = APR_FROM_OS_ERROR(err);
        ca_log(CA_LOG_ERR, "CA21123", rv, "cannot start the CRL store thread");
    }
    else {
        st->started = 1;
        st->job = j;
        pthread_cond_broadcast(&st->cond);
    }
    pthread_mutex_unlock(&st->mu);
    return rv;
}

/* the hashed job (JOB_READY) of the request id, or NULL; one of another
 * request (or of this one when drop) is taken back: its buffer to spare,
 * its pool to *pgone for the caller to destroy.  Under st->mu. */
static crl_job_t *job_ready_locked(crl_store_t *st, const char *id, int drop,
                                   apr_pool_t **pgone)
{
    crl_job_t *j = st->job;

    *pgone = NULL;
    if (!j || j->phase != JOB_READY) {
        return NULL;
    }
    if (!drop && !strcmp(j->id, id)) {
        return j;
    }
    st->job = NULL;
    if (!st->spare) {
        st->spare = j->buf;
        st->spare_cap = j->cap;
        j->buf = NULL;
    }
    *pgone = j->pool;
    return NULL;
}

/* a new CRL request of q (no payload yet), made from a copy of c's set
 * that the store thread hashes: 1 when q->payload is ready to send (the
 * set has not moved since the copy; or hashed on the line after
 * CRL_HASH_TRIES), 0 when a copy went to be hashed and the link goes on
 * meanwhile (or q was quarantined), -1 on failure */
static int crl_prepared(ca_link_t *l, ca_db_t *db, ca_queued_t *q, link_crl_t *c,
                        uint64_t id, apr_pool_t *p)
{
    crl_store_t *st = &l->store;
    crl_job_t *j;
    apr_pool_t *gone;
    X509 *issuer;
    apr_status_t rv;

    pthread_mutex_lock(&st->mu);
    j = job_ready_locked(st, q->id, 0, &gone);
    if (j && j->failed) {
        /* the store thread could not copy it: made on the line below */
        j = job_ready_locked(st, q->id, 1, &gone);
    }
    else if (j && j->seq != c->seq) {
        /* revocations came since the copy: signerd holds them too */
        j = job_ready_locked(st, q->id, 1, &gone);
        ca_log(CA_LOG_INFO, "CA21126", APR_SUCCESS, "request %s (crl): revocations came "
               "since its TBS was copied; it is copied again", q->id);
    }
    pthread_mutex_unlock(&st->mu);
    if (gone) {
        apr_pool_destroy(gone);
    }
    if (j) {
        /* the job stays with the link (JOB_READY) until the answer */
        q->payload = apr_pmemdup(p, j->payload, j->len);
        q->len = j->len;
        ca_log(CA_LOG_INFO, "CA21125", APR_SUCCESS, "request %s (crl): the TBS copied in "
               "%" APR_TIME_T_FMT " ms and hashed in %" APR_TIME_T_FMT " ms, both off the "
               "line", q->id, apr_time_as_msec(j->t_copy), apr_time_as_msec(j->t_hash));
        if ((rv = ca_issue_set_payload(db, q->id, q->payload, q->len, p)) != APR_SUCCESS) {
            ca_log(CA_LOG_ERR, "CA21105", rv, "cannot build the CRL request %s", q->id);
            return -1;
        }
        return 1;
    }
    if (l->hash_id != (apr_int64_t)id) {
        l->hash_id = (apr_int64_t)id;
        l->hash_tries = 0;
    }
    if (l->hash_tries++ >= CRL_HASH_TRIES) {
        return crl_payload(l, db, q, id, p);
    }
    if ((rv = job_make(&j, l, q->id, JOB_HASH)) != APR_SUCCESS) {
        return crl_payload(l, db, q, id, p);
    }
    j->seq = c->seq;
    /* the issuer lives as long as the job: the snapshot keeps it.  Without
     * one the request is made on the line (and quarantined there) */
    if ((issuer = l->cfg->issuer(l->cfg->baton, q->ca, j->pool)) == NULL) {
        apr_pool_destroy(j->pool);
        return crl_payload(l, db, q, id, p);
    }
    /* the store thread copies the set (a few ms at a million entries)
     * and hashes the copy; the link leaves the set alone until it is
     * copied (store_lent) and sends other requests meanwhile */
    j->issuer = issuer;
    j->set = c->set;
    j->ca = apr_pstrdup(j->pool, q->ca);
    j->md = apr_pstrdup(j->pool, l->cfg->crl_md ? l->cfg->crl_md : "sha256");
    j->validity = or_default(l->cfg->crl_validity, 86400);
    if (job_post(l, j) != APR_SUCCESS) {
        apr_pool_destroy(j->pool);
        return crl_payload(l, db, q, id, p);
    }
    return 0;
}

/* a signed CRL of q to the store thread: the job that hashed its request,
 * or the set brought up to date and copied, so the link can go on at once */
static apr_status_t crl_hand_over(ca_link_t *l, ca_db_t *db, ca_queued_t *q,
                                  const unsigned char *ans, apr_size_t alen, apr_pool_t *p)
{
    crl_store_t *st = &l->store;
    link_crl_t *c = crl_state(l, q->ca);
    apr_pool_t *gone;
    crl_job_t *j;
    X509 *issuer;
    apr_status_t rv = APR_SUCCESS;

    pthread_mutex_lock(&st->mu);
    if ((j = job_ready_locked(st, q->id, 0, &gone)) != NULL) {
        /* the TBS signed is the one copied: nothing moved the set between
         * the check and the answer (crl_prepared) */
        if (st->closed) {
            rv = APR_EINCOMPLETE;
        }
        else {
            j->ans = apr_pmemdup(j->pool, ans, alen ? alen : 1);
            j->alen = alen;
            j->phase = JOB_STORE;
            pthread_cond_broadcast(&st->cond);
        }
    }
    pthread_mutex_unlock(&st->mu);
    if (gone) {
        apr_pool_destroy(gone);
    }
    if (j) {
        return rv;
    }
    /* a request sent before (its payload from the queue): revocations
     * stored since then make it differ, the store thread refuses it, and
     * a new one is queued */
    if ((rv = crl_catch_up(l, c, db, p)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = job_make(&j, l, q->id, JOB_STORE)) != APR_SUCCESS) {
        return rv;
    }
    j->ans = apr_pmemdup(j->pool, ans, alen ? alen : 1);
    j->alen = alen;
    if (!(issuer = l->cfg->issuer(l->cfg->baton, q->ca, j->pool))) {
        rv = APR_EGENERAL;
    }
    else if ((rv = ca_issue_crl_snapshot(&j->snap, q, issuer, c->set, c->seq, &j->buf,
                                         &j->cap, j->pool)) == APR_SUCCESS) {
        rv = job_post(l, j);
    }
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(j->pool);
    }
    return rv;
}

/* the answer stored in the transaction that closes the request */
static apr_status_t store_answer(ca_link_t *l, ca_db_t *db, ca_queued_t *q, uint8_t type,
                                 const unsigned char *ans, apr_size_t alen, apr_pool_t *p)
{
    apr_status_t rv;

    switch (type) {
    case CA_MSG_PGPSIGN:
        return l->cfg->pgp_answer ? l->cfg->pgp_answer(l->cfg->baton, db, q->id, ans, alen, p)
                                  : APR_ENOTIMPL;
    case CA_MSG_SIGN:
        if ((rv = ca_issue_answer_cert(db, q, ans, alen, p)) == APR_SUCCESS
            && l->cfg->issued) {
            l->cfg->issued(l->cfg->baton, db, q->id, p);
        }
        return rv;
    case CA_MSG_REVOKE:
        if ((rv = ca_issue_answer_revoked(db, q, ans, alen, p)) == APR_SUCCESS
            && l->cfg->revoked) {
            l->cfg->revoked(l->cfg->baton, db, q->cert_id, p);
        }
        return rv;
    default: {
        if (l->cfg->store_db) {
            return crl_hand_over(l, db, q, ans, alen, p);
        }
        X509 *issuer = l->cfg->issuer(l->cfg->baton, q->ca, p);
        link_crl_t *c = crl_state(l, q->ca);
        /* revocations stored since the request make it differ: refused,
         * and a new one queued */
        if ((rv = crl_catch_up(l, c, db, p)) == APR_SUCCESS) {
            rv = issuer ? ca_issue_answer_crl(db, q, issuer, c->set, c->seq, ans, alen, p)
                        : APR_EGENERAL;
        }
        /* a CRL that does not match is logged and set aside for support */
        return rv == APR_EMISMATCH ? APR_SUCCESS : rv;
    }
    }
}

/* signerd's CRL_SIG says it still hashes the CRL (PENDING): the ms it
 * expects, else -1.  The request stays sent; the link sends others and
 * asks again with the same one after that time (store_held keeps CRLs
 * back until then), and the answer is there. */
static int crl_pending(const unsigned char *ans, apr_size_t alen, apr_pool_t *p)
{
    apr_array_header_t *tlvs;
    const ca_tlv_t *t;

    if (ca_tlv_parse(&tlvs, ans, alen, p) != APR_SUCCESS
        || !(t = ca_tlv_get(tlvs, CA_TAG_PENDING))) {
        return -1;
    }
    return (int)ca_tlv_uint(t);
}

/* how long the link waits at most before it asks again for a CRL */
#define CRL_ASK_MAX apr_time_from_msec(100)

/* send one open request and store its answer; 0 when the link must pause */
static int link_request(ca_link_t *l, ca_db_t *db, ca_queued_t *q, apr_pool_t *p)
{
    const unsigned char *ans;
    apr_size_t alen;
    const char *reason = NULL;
    int k = kind_of(q->kind), built;
    uint64_t id = (uint64_t)apr_atoi64(q->id);
    apr_time_t t_start = ca_mono_now(), t_sent, t_answer;
    apr_status_t rv;
    wait_t w;
    int pending;

    if (kinds[k].type == CA_MSG_CRL) {
        link_crl_t *c = crl_state(l, q->ca);
        int more;
        if (c->behind) {
            /* a CRL already sent (or of a CA first seen): the link reads
             * on, a step a round, and sends it once it has them all */
            return crl_step(&more, l, c, db, p) == APR_SUCCESS;
        }
        if (crl_catch_up(l, c, db, p) != APR_SUCCESS) {
            return 0;
        }
        if (q->len == 0) {
            built = l->cfg->store_db ? crl_prepared(l, db, q, c, id, p)
                                     : crl_payload(l, db, q, id, p);
            if (built <= 0) {
                return built == 0;
            }
        }
    }
    if (ca_issue_mark_sent(db, q->id, p) != APR_SUCCESS) {
        return 0;
    }
    t_sent = ca_mono_now();
    w = link_exchange(l, kinds[k].type, kinds[k].want, id, q->payload, q->len, &ans, &alen,
                      &reason, 3, p);
    if (w == WAIT_ANSWER && kinds[k].type == CA_MSG_CRL
        && (pending = crl_pending(ans, alen, p)) >= 0) {
        apr_interval_time_t wait = apr_time_from_msec(pending > 0 ? pending : 1);
        l->crl_ask_at = ca_mono_now() + (wait < CRL_ASK_MAX ? wait : CRL_ASK_MAX);
        if (!l->crl_asked_id || l->crl_asked_id != (apr_int64_t)id) {
            l->crl_asked_id = (apr_int64_t)id;
            l->crl_t_sent = t_sent;
            l->crl_t_start = t_start;
            l->crl_asks = 0;
        }
        l->crl_asks++;
        return 1;
    }
    if (w == WAIT_ANSWER) {
        t_answer = ca_mono_now();
        int asks = 0;
        if (kinds[k].type == CA_MSG_CRL && l->crl_asked_id == (apr_int64_t)id) {
            /* asked again: the times from the first ask */
            t_sent = l->crl_t_sent;
            t_start = l->crl_t_start;
            asks = l->crl_asks;
        }
        if (kinds[k].type == CA_MSG_CRL) {
            l->crl_asked_id = 0;
        }
        if ((rv = store_answer(l, db, q, kinds[k].type, ans, alen, p)) != APR_SUCCESS) {
            ca_log(CA_LOG_ERR, "CA21106", rv, "the answer to request %s could not be "
                   "stored; it will be asked again in a few seconds", q->id);
            l->pause_until = ca_mono_now() + apr_time_from_sec(5);
            return 0;
        }
        if (kinds[k].type == CA_MSG_CRL && l->cfg->store_db) {
            ca_log(CA_LOG_INFO, "CA21124", APR_SUCCESS, "request %s (crl) prepared in "
                   "%" APR_TIME_T_FMT " ms, signed in %" APR_TIME_T_FMT " ms%s, handed to "
                   "the CRL store thread in %" APR_TIME_T_FMT " ms", q->id,
                   apr_time_as_msec(t_sent - t_start), apr_time_as_msec(t_answer - t_sent),
                   asks ? apr_psprintf(p, " (asked %d times: signerd hashed it between "
                                       "other requests)", asks + 1) : "",
                   apr_time_as_msec(ca_mono_now() - t_answer));
        }
        else {
            ca_log(CA_LOG_INFO, "CA21107", APR_SUCCESS, "request %s (%s) done", q->id,
                   q->kind);
        }
        return 1;
    }
    if (w == WAIT_STOP) {
        ca_log(CA_LOG_ERR, "CA21108", APR_SUCCESS, "signerd refused request %s and stopped: "
               "%s; the request is quarantined, the others go on once signerd is back",
               q->id, reason ? reason : "");
        ca_issue_quarantine(db, q->id, reason ? reason : "signerd stopped", p);
    }
    l->hello = 0;
    return 0;
}

/* a heartbeat after a silence keeps signerd's dead-man switch from
 * firing; 1 when one went and was answered */
static int heartbeat(ca_link_t *l, apr_pool_t *p)
{
    const unsigned char *ans;
    apr_size_t alen;
    const char *reason;

    if (ca_mono_now() - l->last_sent <= or_default(l->cfg->heartbeat, 10)) {
        return 0;
    }
    if (link_exchange(l, CA_MSG_HEARTBEAT, CA_MSG_HEARTBEAT_OK, 0, NULL, 0, &ans, &alen,
                      &reason, 2, p) != WAIT_ANSWER) {
        l->hello = 0;
        return 0;
    }
    return 1;
}

void ca_link_keepalive(ca_link_t *l, apr_pool_t *p)
{
    if (l->fd >= 0 && l->hello) {
        heartbeat(l, p);
    }
}

ca_link_outcome_t ca_link_exchange(ca_link_t *l, uint8_t type, uint8_t want, uint64_t id,
                                   const unsigned char *payload, apr_size_t len,
                                   const unsigned char **panswer, apr_size_t *palen,
                                   const char **preason, int tries, apr_pool_t *p)
{
    wait_t w;

    if (l->fd < 0) {
        return CA_LINK_FAILED;
    }
    w = link_exchange(l, type, want, id, payload, len, panswer, palen, preason, tries, p);
    return w == WAIT_ANSWER ? CA_LINK_ANSWER : w == WAIT_STOP ? CA_LINK_STOP : CA_LINK_FAILED;
}

int ca_link_work(ca_link_t *l, ca_db_t *db, apr_interval_time_t budget, apr_pool_t *p)
{
    apr_time_t end = ca_mono_now() + budget;
    int i;

    /* CRLs at least every crl_interval, for every issuing CA (last_crl 0:
     * none queued yet, one at start) */
    if (!l->last_crl || ca_mono_now() - l->last_crl > or_default(l->cfg->crl_interval, 3600)) {
        for (i = 0; l->cfg->cas && l->cfg->cas[i]; i++) {
            ca_issue_enqueue_crl(db, l->cfg->cas[i], p);
        }
        l->last_crl = ca_mono_now();
    }
    while (l->hello && ca_mono_now() < end
           && !(l->cfg->stopping && l->cfg->stopping(l->cfg->baton))) {
        apr_pool_t *rp;
        ca_queued_t *q;
        const char *later;
        apr_status_t rv;
        int go_on = 1, loading;

        apr_pool_create(&rp, p);
        /* the first load of the revocations, one small step between two
         * requests; queued CRLs of CAs not loaded yet wait meanwhile */
        loading = crl_load_step(&later, l, db, rp);
        rv = ca_issue_next(&q, db, later, store_held(l), rp);
        if (rv == APR_SUCCESS) {
            go_on = link_request(l, db, q, rp);
        }
        else if (rv == APR_NOTFOUND) {
            if (!heartbeat(l, rp) && !loading) {
                apr_sleep(apr_time_from_msec(10));
            }
        }
        else {
            /* the database failed: signerd must not take that for a
             * web side that is gone */
            heartbeat(l, rp);
            go_on = 0;
        }
        apr_pool_destroy(rp);
        if (!go_on) {
            return 0;
        }
    }
    return l->hello && !(l->cfg->stopping && l->cfg->stopping(l->cfg->baton));
}
