/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the signer link (ca_link) and the serial line (ca_serial)
 * over a real pseudo-terminal, without httpd and without signerd: a peer
 * thread on the master side speaks the wire protocol as a script says. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "tests.h"
#include "ca_link.h"
#include "ca_log.h"
#include "ca_serial.h"
#include "ca_wire.h"

/* what the peer does with the frames it reads (not HELLO, always answered) */
typedef enum {
    PEER_ANSWER,            /* the answer at once */
    PEER_DAMAGE_FIRST,      /* a damaged frame first, the answer to the resend */
    PEER_NAK_FIRST,         /* NAK first, the answer to the resend */
    PEER_SILENT_FIRST,      /* nothing first, the answer to the resend */
    PEER_OTHERS_FIRST,      /* a late answer to another id and a frame of
                             * another kind, then the answer */
    PEER_STOP,              /* STOP with a reason */
    PEER_SILENT,            /* never */
    PEER_STEP_AHEAD_FIRST,  /* the wall clock an hour ahead, the answer 0.1 s later */
    PEER_STEP_BACK_FIRST    /* the wall clock an hour back and nothing, the
                             * answer to the resend */
} peer_mode_t;

typedef struct {
    int master;
    peer_mode_t mode;
    volatile int done;
    int seen;                           /* frames read, HELLO not counted */
    uint64_t ids[8];
    unsigned char first[64];            /* the bytes of the first frame */
    apr_size_t first_len;
    int same_bytes;                     /* every frame repeated the first */
    apr_pool_t *pool;
} peer_t;

/* the wall clock as all code in this process sees it: APR's, stepped by
 * wall_step (as NTP steps a clock).  The link keeps its times on the
 * monotonic clock: a step must neither end a wait at once nor make it last
 * the step's length */
static volatile apr_interval_time_t wall_step;

apr_time_t apr_time_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (apr_time_t)ts.tv_sec * APR_USEC_PER_SEC + ts.tv_nsec / 1000 + wall_step;
}

static apr_pool_t *pool;
static peer_t peer;
static char slave[128];
static ca_link_cfg_t cfg;
static ca_link_t *lnk;
static int log_21109;

static void count_log(void *baton, ca_log_level_t level, const char *tag, apr_status_t rv,
                      const char *msg)
{
    (void)baton; (void)level; (void)rv; (void)msg;
    if (!strcmp(tag, "CA21109")) {
        log_21109++;
    }
}

static void put(int fd, uint8_t type, uint64_t id, const void *payload, apr_size_t len,
                int damage, apr_pool_t *p)
{
    const unsigned char *b;
    apr_size_t n;
    unsigned char *c;

    ck_assert_int_eq(ca_wire_encode(&b, &n, type, id, payload, len, p), APR_SUCCESS);
    c = apr_pmemdup(p, b, n);
    if (damage) {
        c[n - 2] ^= 0x40;               /* the checksum no longer fits */
    }
    ck_assert_int_eq(write(fd, c, n), (ssize_t)n);
}

static uint8_t answer_of(uint8_t type)
{
    return type == CA_MSG_HELLO ? CA_MSG_HELLO_OK : (uint8_t)(type | 0x80);
}

static void peer_frame(peer_t *pr, const ca_frame_t *f, const unsigned char *raw,
                       apr_size_t rawlen, apr_pool_t *p)
{
    static const char reason[] = "the profile is refused";
    int n;

    if (f->type == CA_MSG_HELLO) {
        put(pr->master, CA_MSG_HELLO_OK, 0, "1.1", 3, 0, p);
        return;
    }
    n = pr->seen++;
    if (n < 8) {
        pr->ids[n] = f->id;
    }
    if (n == 0) {
        pr->first_len = rawlen < sizeof(pr->first) ? rawlen : sizeof(pr->first);
        memcpy(pr->first, raw, pr->first_len);
        pr->same_bytes = 1;
    }
    else if (rawlen < pr->first_len || memcmp(raw, pr->first, pr->first_len)) {
        pr->same_bytes = 0;
    }
    switch (pr->mode) {
    case PEER_SILENT:
        return;
    case PEER_SILENT_FIRST:
        if (n == 0) {
            return;
        }
        break;
    case PEER_DAMAGE_FIRST:
        if (n == 0) {
            put(pr->master, answer_of(f->type), f->id, "signed", 6, 1, p);
            return;
        }
        break;
    case PEER_NAK_FIRST:
        if (n == 0) {
            put(pr->master, CA_MSG_NAK, f->id, NULL, 0, 0, p);
            return;
        }
        break;
    case PEER_STEP_AHEAD_FIRST:
        if (n == 0) {
            wall_step = apr_time_from_sec(3600);
            apr_sleep(apr_time_from_msec(100));
        }
        break;
    case PEER_STEP_BACK_FIRST:
        if (n == 0) {
            wall_step = -apr_time_from_sec(3600);
            return;
        }
        break;
    case PEER_OTHERS_FIRST:
        put(pr->master, answer_of(f->type), f->id - 1, "stale", 5, 0, p);
        put(pr->master, CA_MSG_HEARTBEAT_OK, 0, NULL, 0, 0, p);
        break;
    case PEER_STOP: {
        apr_array_header_t *tlv = apr_array_make(p, 32, 1);
        ca_tlv_add_str(tlv, CA_TAG_TEXT, reason);
        put(pr->master, CA_MSG_STOP, f->id, tlv->elts, (apr_size_t)tlv->nelts, 0, p);
        return;
    }
    default:
        break;
    }
    put(pr->master, answer_of(f->type), f->id, "signed", 6, 0, p);
}

/* reads frames with their raw bytes: the decoder gives the frame, the
 * bytes since the last frame are its wire form */
static void *APR_THREAD_FUNC peer_main(apr_thread_t *t, void *data)
{
    peer_t *pr = data;
    ca_wire_decoder_t *dec = ca_wire_decoder_make(pr->pool);
    unsigned char buf[4096], raw[4096];
    apr_size_t rawlen = 0;
    ca_frame_t f;

    while (!pr->done) {
        struct pollfd pfd = { pr->master, POLLIN, 0 };
        ssize_t n;
        ca_wire_event_t ev;
        if (poll(&pfd, 1, 20) <= 0) {
            continue;
        }
        n = read(pr->master, buf, sizeof(buf));
        if (n <= 0) {
            continue;
        }
        if (rawlen + (apr_size_t)n <= sizeof(raw)) {
            memcpy(raw + rawlen, buf, (apr_size_t)n);
            rawlen += (apr_size_t)n;
        }
        ca_wire_feed(dec, buf, (apr_size_t)n);
        while ((ev = ca_wire_next(dec, &f)) != CA_WIRE_NEED_MORE) {
            if (ev == CA_WIRE_FRAME) {
                peer_frame(pr, &f, raw, rawlen, pr->pool);
            }
            rawlen = 0;
        }
    }
    (void)t;
    return NULL;        /* not apr_thread_exit: ASan trips over pthread_exit's unwinding */
}

static apr_thread_t *peer_thread;

static void start_peer(peer_mode_t mode)
{
    peer.mode = mode;
    peer.seen = 0;
    peer.done = 0;
    ck_assert_int_eq(apr_thread_create(&peer_thread, NULL, peer_main, &peer, pool),
                     APR_SUCCESS);
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(&peer, 0, sizeof(peer));
    peer.pool = pool;
    peer.master = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert_int_ge(peer.master, 0);
    ck_assert_int_eq(grantpt(peer.master), 0);
    ck_assert_int_eq(unlockpt(peer.master), 0);
    ck_assert_int_eq(ptsname_r(peer.master, slave, sizeof(slave)), 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.device = slave;
    cfg.baud = 115200;
    cfg.timeout = apr_time_from_msec(300);
    lnk = ca_link_make(&cfg, pool);
    log_21109 = 0;
}

static void teardown(void)
{
    apr_status_t trv;

    wall_step = 0;
    if (peer_thread) {
        peer.done = 1;
        apr_thread_join(&trv, peer_thread);
        peer_thread = NULL;
    }
    ca_link_close(lnk);
    close(peer.master);
    ca_log_set_sink(NULL, NULL);
    apr_pool_destroy(pool);
}

/* the link up: HELLO answered */
static void up(peer_mode_t mode)
{
    start_peer(mode);
    ck_assert_int_eq(ca_link_ready(lnk, pool), 1);
}

static ca_link_outcome_t sign(uint64_t id, const unsigned char **pans, apr_size_t *plen,
                              const char **preason, int tries)
{
    static const unsigned char req[] = "a request";

    return ca_link_exchange(lnk, CA_MSG_SIGN, CA_MSG_CERT, id, req, sizeof(req), pans, plen,
                            preason, tries, pool);
}

START_TEST(hello_and_sign)
{
    const unsigned char *ans;
    const char *reason = NULL;
    apr_size_t len;

    up(PEER_ANSWER);
    ck_assert_int_eq(sign(41, &ans, &len, &reason, 3), CA_LINK_ANSWER);
    ck_assert_uint_eq(len, 6);
    ck_assert_int_eq(memcmp(ans, "signed", 6), 0);
    ck_assert_int_eq(peer.seen, 1);
    ck_assert_uint_eq(peer.ids[0], 41);
    /* a heartbeat is an exchange like any other */
    ck_assert_int_eq(ca_link_exchange(lnk, CA_MSG_HEARTBEAT, CA_MSG_HEARTBEAT_OK, 0, NULL, 0,
                                      &ans, &len, &reason, 2, pool), CA_LINK_ANSWER);
}
END_TEST

START_TEST(damaged_answer_is_asked_again)
{
    const unsigned char *ans;
    const char *reason = NULL;
    apr_size_t len;

    up(PEER_DAMAGE_FIRST);
    ck_assert_int_eq(sign(7, &ans, &len, &reason, 3), CA_LINK_ANSWER);
    ck_assert_int_eq(peer.seen, 2);
    ck_assert_uint_eq(peer.ids[1], 7);
    ck_assert_int_eq(peer.same_bytes, 1);       /* the same bytes, the same id */
}
END_TEST

START_TEST(nak_and_silence_resend)
{
    const unsigned char *ans;
    const char *reason = NULL;
    apr_size_t len;

    up(PEER_NAK_FIRST);
    ck_assert_int_eq(sign(8, &ans, &len, &reason, 3), CA_LINK_ANSWER);
    ck_assert_int_eq(peer.seen, 2);
    ck_assert_int_eq(peer.same_bytes, 1);
    peer.mode = PEER_SILENT_FIRST;
    peer.seen = 0;
    ck_assert_int_eq(sign(9, &ans, &len, &reason, 3), CA_LINK_ANSWER);
    ck_assert_int_eq(peer.seen, 2);
    ck_assert_int_eq(peer.same_bytes, 1);
}
END_TEST

START_TEST(other_frames_are_passed_over)
{
    const unsigned char *ans;
    const char *reason = NULL;
    apr_size_t len;

    up(PEER_OTHERS_FIRST);
    ck_assert_int_eq(sign(12, &ans, &len, &reason, 1), CA_LINK_ANSWER);
    ck_assert_int_eq(memcmp(ans, "signed", 6), 0);
    ck_assert_int_eq(peer.seen, 1);
}
END_TEST

START_TEST(stop_gives_the_reason)
{
    const unsigned char *ans;
    const char *reason = NULL;
    apr_size_t len;

    up(PEER_STOP);
    ck_assert_int_eq(sign(13, &ans, &len, &reason, 3), CA_LINK_STOP);
    ck_assert_str_eq(reason, "the profile is refused");
    ck_assert_int_eq(peer.seen, 1);             /* a stop is not resent */
}
END_TEST

START_TEST(silence_fails_after_the_tries)
{
    const unsigned char *ans;
    const char *reason = NULL;
    apr_size_t len;

    up(PEER_SILENT);
    ck_assert_int_eq(sign(14, &ans, &len, &reason, 3), CA_LINK_FAILED);
    ck_assert_int_eq(peer.seen, 3);
    ck_assert_int_eq(peer.same_bytes, 1);
}
END_TEST

START_TEST(a_step_of_the_wall_clock_changes_no_wait)
{
    const unsigned char *ans;
    const char *reason = NULL;
    apr_size_t len;
    apr_time_t t0;

    /* an hour ahead while the answer is on its way: one try is enough */
    up(PEER_STEP_AHEAD_FIRST);
    ck_assert_int_eq(sign(21, &ans, &len, &reason, 1), CA_LINK_ANSWER);
    ck_assert_int_eq(peer.seen, 1);
    /* an hour back while signerd is silent: resent after the timeout
     * (0.3 s), not after an hour */
    peer.mode = PEER_STEP_BACK_FIRST;
    peer.seen = 0;
    t0 = ca_mono_now();
    ck_assert_int_eq(sign(22, &ans, &len, &reason, 3), CA_LINK_ANSWER);
    ck_assert_int_eq(peer.seen, 2);
    ck_assert_int_lt(ca_mono_now() - t0, apr_time_from_sec(5));
}
END_TEST

START_TEST(no_hello_no_requests)
{
    const unsigned char *ans;
    const char *reason = NULL;
    apr_size_t len;

    /* nobody answers on the other end */
    ck_assert_int_eq(ca_link_ready(lnk, pool), 0);
    ck_assert_int_eq(sign(1, &ans, &len, &reason, 1), CA_LINK_FAILED);
}
END_TEST

START_TEST(missing_device_is_logged_once)
{
    static ca_link_cfg_t gone;
    ca_link_t *l;

    gone = cfg;
    gone.device = "/nonexistent/signer.tty";
    l = ca_link_make(&gone, pool);
    ca_log_set_sink(count_log, NULL);
    ck_assert_int_eq(ca_link_ready(l, pool), 0);
    ck_assert_int_eq(ca_link_ready(l, pool), 0);
    ck_assert_int_eq(log_21109, 1);
}
END_TEST

START_TEST(serial_line_checks)
{
    const char *why;
    int fd;

    ck_assert_int_ne(ca_serial_open(&fd, &why, slave, 12345), APR_SUCCESS);
    ck_assert_str_eq(why, "unsupported speed");
    ck_assert_int_ne(ca_serial_open(&fd, &why, "/nonexistent/tty", 115200), APR_SUCCESS);
    ck_assert_str_eq(why, "cannot open");
    ck_assert_int_ne(ca_serial_open(&fd, &why, "/dev/null", 115200), APR_SUCCESS);
    ck_assert_str_eq(why, "not a terminal device");
    ck_assert_int_eq(fd, -1);
    ck_assert(ca_serial_speed_ok(9600) && ca_serial_speed_ok(921600)
              && ca_serial_speed_ok(4000000) && !ca_serial_speed_ok(0));
    ck_assert_int_eq(ca_serial_open(&fd, &why, slave, 921600), APR_SUCCESS);
    ca_serial_close(fd);
}
END_TEST

/* while one end holds the line, an unprivileged process cannot open it
 * (root may: the test drops to nobody in a child) */
START_TEST(serial_line_is_exclusive)
{
    const char *why;
    int fd, status;
    pid_t pid;

    ck_assert_int_eq(ca_serial_open(&fd, &why, slave, 115200), APR_SUCCESS);
    if (geteuid() != 0) {
        ca_serial_close(fd);
        return;         /* no way to be another user */
    }
    chmod(slave, 0666);
    pid = fork();
    if (pid == 0) {
        int fd2;
        if (setgid(65534) != 0 || setuid(65534) != 0) {
            _exit(3);
        }
        if (ca_serial_open(&fd2, &why, slave, 115200) == APR_SUCCESS) {
            _exit(1);
        }
        _exit(strcmp(why, "cannot get exclusive use") ? 2 : 0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    /* given up on close: the line can be opened again */
    ca_serial_close(fd);
    pid = fork();
    if (pid == 0) {
        int fd2;
        if (setgid(65534) != 0 || setuid(65534) != 0) {
            _exit(3);
        }
        _exit(ca_serial_open(&fd2, &why, slave, 115200) == APR_SUCCESS ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

Suite *link_suite(void)
{
    Suite *s = suite_create("link");
    TCase *tc = tcase_create("pty");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, hello_and_sign);
    tcase_add_test(tc, damaged_answer_is_asked_again);
    tcase_add_test(tc, nak_and_silence_resend);
    tcase_add_test(tc, other_frames_are_passed_over);
    tcase_add_test(tc, stop_gives_the_reason);
    tcase_add_test(tc, silence_fails_after_the_tries);
    tcase_add_test(tc, a_step_of_the_wall_clock_changes_no_wait);
    tcase_add_test(tc, no_hello_no_requests);
    tcase_add_test(tc, missing_device_is_logged_once);
    tcase_add_test(tc, serial_line_checks);
    tcase_add_test(tc, serial_line_is_exclusive);
    suite_add_tcase(s, tc);
    return s;
}
