/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* signerd: start-up, privilege drop, the poll() loop and the requests.
 * See signerd.h, docs/signerd.md and docs/signer-protocol.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_log.h"
#include "ca_serial.h"
#include "ca_crypto.h"
#include "ca_p11.h"
#include "signerd.h"

#if defined(__SANITIZE_ADDRESS__)
#define SIGNERD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIGNERD_SANITIZED 1
#endif
#endif

#define READ_MAX 16384
#define OUT_MAX (4u << 20)          /* answers the link does not read */

/* ---- state ---- */

/* One serial line to a web host.  signerd may have two (a cable to each of
 * two web hosts, only one of which drives its line at a time: docs/
 * scaling.md); each has its own framing state, its own answers waiting to
 * go out and its own last answer for a NAK.  The journal, the ids and the
 * dead-man switch are shared: an id asked again on the other line gets the
 * journalled answer. */
#define MAX_LINES 2

typedef struct {
    const char *device;
    int fd;                         /* -1: closed (failed, with another line left) */
    ca_wire_decoder_t *dec;
    int64_t last_rx;                /* monotonic ms of the last byte read */
    unsigned char *out;             /* bytes waiting for the line */
    apr_size_t outlen, outcap;
    unsigned char *last;            /* the last answer sent, for a NAK */
    apr_size_t lastlen;
    int64_t reopen_at;              /* a failed line: when to open it again */
    int reopen_logged;              /* CA61040 said for this failure */
    int crl_pending;                /* its HELLO said "crl-pending" (do_crl) */
} line_t;

/* how often a failed line (with the other one left) is opened again */
#define REOPEN_MS 5000

static struct {
    apr_pool_t *pool;
    signerd_config_t *conf;
    signerd_journal_t *journal;
    line_t lines[MAX_LINES];
    int nlines;
    line_t *cur;                    /* the line whose frame is being answered */
    line_t *active;                 /* the line the last request came on */
    int sigpipe[2];
    int use_syslog;
    int64_t deadman_at;             /* monotonic ms */
    char passphrase[1024];          /* of the key files, or the tokens' PIN */
    int have_passphrase;
    ca_p11_t *token;         /* when a key is on a PKCS#11 token */
} sd = { .sigpipe = { -1, -1 } };

static int64_t now_ms(void)
{
    return (int64_t)(ca_mono_now() / 1000);
}

/* ---- logging: stderr lines with a timestamp; syslog when detached ---- */

static void log_sink(void *baton, ca_log_level_t level, const char *tag, apr_status_t rv,
                     const char *msg)
{
    static const char *names[] = { "emerg", "alert", "crit", "error", "warn", "notice",
                                   "info", "debug" };
    char ts[32], err[256] = "";
    struct timespec now;
    struct tm tm;

    if (!ca_log_is_level(level)) {
        return;
    }
    if (rv != APR_SUCCESS) {
        apr_strerror(rv, err, sizeof(err));
    }
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ signerd[%ld]: [%s] %s: %s%s%s\n", ts,
            now.tv_nsec / 1000000, (long)getpid(), names[level & 7], tag, msg,
            *err ? ": " : "", err);
    fflush(stderr);
    if (sd.use_syslog) {
        syslog((int)level, "%s: %s%s%s", tag, msg, *err ? ": " : "", err);
    }
}

#define log_ossl ca_log_openssl

/* ---- keys ---- */

static void wipe_keys(const char *why)
{
    int i;

    if (sd.conf) {
        for (i = 0; i < sd.conf->cas->nelts; ++i) {
            signerd_ca_t *ca = APR_ARRAY_IDX(sd.conf->cas, i, signerd_ca_t *);
            /* EVP_PKEY_free clears the private numbers (BN_clear_free) */
            EVP_PKEY_free(ca->key);
            ca->key = NULL;
            X509_free(ca->cert);
            ca->cert = NULL;
        }
    }
    /* a token's keys stay in it: its session ends (logout) */
    ca_p11_close(sd.token);
    sd.token = NULL;
    OPENSSL_cleanse(sd.passphrase, sizeof(sd.passphrase));
    sd.have_passphrase = 0;
    /* the OpenPGP key is unlocked in gpg-agent: stop it */
    signerd_pgp_close(sd.conf);
    ca_log(CA_LOG_NOTICE, "CA61001", APR_SUCCESS, "keys wiped from memory (%s)", why);
}

static void leave_now(int status, const char *why)
{
    int i;

    wipe_keys(why);
    for (i = 0; i < sd.nlines; i++) {
        if (sd.lines[i].fd >= 0) {
            ca_serial_close(sd.lines[i].fd);
            sd.lines[i].fd = -1;
        }
        free(sd.lines[i].out);
        free(sd.lines[i].last);
    }
    ca_log(CA_LOG_NOTICE, "CA61002", APR_SUCCESS, "exiting with status %d", status);
    exit(status);
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    const char *what = u;
    size_t n;

    (void)rwflag;
    if (!sd.have_passphrase) {
        ca_log(CA_LOG_ERR, "CA61003", APR_SUCCESS, "%s is encrypted: give its passphrase "
               "with --passphrase-file or --passphrase-fd", what);
        return -1;
    }
    n = strlen(sd.passphrase);
    if (n > (size_t)size) {
        return -1;
    }
    memcpy(buf, sd.passphrase, n);
    return (int)n;
}

static apr_status_t read_passphrase(int fd, const char *what)
{
    apr_size_t n = 0;
    ssize_t r;
    char c;

    while (n < sizeof(sd.passphrase) - 1) {
        r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            ca_log(CA_LOG_ERR, "CA61004", APR_FROM_OS_ERROR(errno), "reading passphrase "
                   "from %s", what);
            return APR_FROM_OS_ERROR(errno);
        }
        if (r == 0 || c == '\n') {
            break;
        }
        sd.passphrase[n++] = c;
    }
    if (n == sizeof(sd.passphrase) - 1) {
        ca_log(CA_LOG_ERR, "CA61005", APR_SUCCESS, "passphrase from %s is too long", what);
        return APR_EINVAL;
    }
    if (n && sd.passphrase[n - 1] == '\r') {
        --n;
    }
    sd.passphrase[n] = '\0';
    if (n == 0) {
        ca_log(CA_LOG_ERR, "CA61006", APR_SUCCESS, "empty passphrase from %s", what);
        return APR_EINVAL;
    }
    sd.have_passphrase = 1;
    return APR_SUCCESS;
}

static EVP_PKEY *load_key_token(const char *uri)
{
    if (!sd.token && ca_p11_open(&sd.token, sd.conf->pkcs11_module, sd.pool)
                     != APR_SUCCESS) {
        return NULL;
    }
    return ca_p11_key(sd.token, uri, sd.have_passphrase ? sd.passphrase : NULL,
                             sd.pool);
}

static EVP_PKEY *load_key_file(const char *path)
{
    unsigned char *buf = NULL;
    size_t n = 0;
    struct stat st;
    FILE *f = NULL;
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;

    if (!(f = fopen(path, "rb")) || fstat(fileno(f), &st) != 0) {
        ca_log(CA_LOG_ERR, "CA61009", APR_FROM_OS_ERROR(errno), "cannot read key %s", path);
        goto leave;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        ca_log(CA_LOG_WARN, "CA61010", APR_SUCCESS, "key %s can be read by others than "
               "its owner (mode %04o)", path, (unsigned)(st.st_mode & 07777));
    }
    if (st.st_size <= 0 || st.st_size > (1 << 20)) {
        ca_log(CA_LOG_ERR, "CA61011", APR_SUCCESS, "key %s: implausible size", path);
        goto leave;
    }
    buf = OPENSSL_secure_malloc((size_t)st.st_size);
    if (!buf || (n = fread(buf, 1, (size_t)st.st_size, f)) != (size_t)st.st_size) {
        ca_log(CA_LOG_ERR, "CA61034", APR_EGENERAL, "cannot read key %s", path);
        goto leave;
    }
    if (!(bio = BIO_new_mem_buf(buf, (int)n))) {
        goto leave;
    }
    if (!(key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)path))) {
        log_ossl("CA61012", apr_psprintf(sd.pool, "key %s: not a PEM private key, or the "
                                          "passphrase is wrong", path));
    }
leave:
    BIO_free(bio);
    if (buf) {
        OPENSSL_secure_clear_free(buf, (size_t)st.st_size);
    }
    if (f) {
        fclose(f);
    }
    return key;
}

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = NULL;

    if (!f) {
        ca_log(CA_LOG_ERR, "CA61013", APR_FROM_OS_ERROR(errno), "cannot read certificate %s",
               path);
        return NULL;
    }
    if (!(x = PEM_read_X509(f, NULL, NULL, NULL))) {
        log_ossl("CA61014", apr_psprintf(sd.pool, "%s: not a PEM certificate", path));
    }
    fclose(f);
    return x;
}

static apr_status_t load_keys(void)
{
    int i;

    for (i = 0; i < sd.conf->cas->nelts; ++i) {
        signerd_ca_t *ca = APR_ARRAY_IDX(sd.conf->cas, i, signerd_ca_t *);

        if (!(ca->cert = load_cert(ca->cert_path))) {
            return APR_EINVAL;
        }
        if (X509_check_ca(ca->cert) < 1) {
            ca_log(CA_LOG_ERR, "CA61015", APR_SUCCESS, "ca %s: %s is not a CA certificate",
                   ca->name, ca->cert_path);
            return APR_EINVAL;
        }
        ca->key = !strncmp(ca->key_path, "pkcs11:", 7) ? load_key_token(ca->key_path)
                                                       : load_key_file(ca->key_path);
        if (!ca->key) {
            return APR_EINVAL;
        }
        if (X509_check_private_key(ca->cert, ca->key) != 1) {
            ERR_clear_error();
            ca_log(CA_LOG_ERR, "CA61016", APR_SUCCESS, "ca %s: key %s does not belong to "
                   "certificate %s", ca->name, ca->key_path, ca->cert_path);
            return APR_EINVAL;
        }
    }
    if (!sd.conf->pgp) {
        /* else kept until the OpenPGP key is unlocked after the privilege drop */
        OPENSSL_cleanse(sd.passphrase, sizeof(sd.passphrase));
        sd.have_passphrase = 0;
    }
    return APR_SUCCESS;
}

/* one signature with every key, as the user signerd now is, checked with
 * its certificate: a token whose files or device that user cannot reach
 * is found at start-up, not at the first request */
static apr_status_t self_test(void)
{
    static const unsigned char data[] = "signerd self-test";
    unsigned char sig[1024];
    int i;

    for (i = 0; i < sd.conf->cas->nelts; ++i) {
        signerd_ca_t *ca = APR_ARRAY_IDX(sd.conf->cas, i, signerd_ca_t *);
        EVP_MD_CTX *mc = EVP_MD_CTX_new();
        size_t len = sizeof(sig);
        int ok = mc && EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, ca->key) == 1
                 && EVP_DigestSign(mc, sig, &len, data, sizeof(data)) == 1;

        EVP_MD_CTX_free(mc);
        mc = ok ? EVP_MD_CTX_new() : NULL;
        ok = ok && mc
             && EVP_DigestVerifyInit(mc, NULL, EVP_sha256(), NULL,
                                     X509_get0_pubkey(ca->cert)) == 1
             && EVP_DigestVerify(mc, sig, len, data, sizeof(data)) == 1;
        EVP_MD_CTX_free(mc);
        if (!ok) {
            log_ossl("CA61035", apr_psprintf(sd.pool, "ca %s: the key %s cannot sign as "
                                              "this user", ca->name, ca->key_path));
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* ---- privileges ---- */

static apr_status_t drop_privileges(void)
{
    struct rlimit nocore = { 0, 0 };

    setrlimit(RLIMIT_CORE, &nocore);
#ifndef SIGNERD_SANITIZED
    /* keys stay out of swap and out of other processes' reach; LSan and
     * a huge ASan shadow do not go with these */
    if (mlockall(MCL_CURRENT) != 0) {
        ca_log(CA_LOG_WARN, "CA61017", APR_FROM_OS_ERROR(errno), "mlockall");
    }
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
    if (getuid() == 0 || geteuid() == 0) {
        struct passwd *pw;
        gid_t gid;

        if (!sd.conf->user) {
            ca_log(CA_LOG_ERR, "CA61018", APR_SUCCESS, "started as root without a 'user' "
                   "directive: refusing to answer as root");
            return APR_EINVAL;
        }
        if (!(pw = getpwnam(sd.conf->user))) {
            ca_log(CA_LOG_ERR, "CA61019", APR_SUCCESS, "user '%s' does not exist",
                   sd.conf->user);
            return APR_EINVAL;
        }
        if (pw->pw_uid == 0) {
            ca_log(CA_LOG_ERR, "CA61020", APR_SUCCESS, "user '%s' is root", sd.conf->user);
            return APR_EINVAL;
        }
        gid = pw->pw_gid;
        if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0
            || setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
            ca_log(CA_LOG_ERR, "CA61021", APR_FROM_OS_ERROR(errno), "cannot become user %s",
                   sd.conf->user);
            return APR_EGENERAL;
        }
        if (setuid(0) == 0 || seteuid(0) == 0 || getuid() == 0 || geteuid() == 0
            || (gid != 0 && (setgid(0) == 0 || getegid() == 0))) {
            ca_log(CA_LOG_ERR, "CA61022", APR_SUCCESS, "could regain root after dropping "
                   "privileges: refusing to run");
            return APR_EGENERAL;
        }
        ca_log(CA_LOG_NOTICE, "CA61023", APR_SUCCESS, "running as user %s (uid %ld)",
               sd.conf->user, (long)pw->pw_uid);
    }
    else if (sd.conf->user) {
        struct passwd *pw = getpwnam(sd.conf->user);
        if (!pw || pw->pw_uid != getuid()) {
            ca_log(CA_LOG_NOTICE, "CA61024", APR_SUCCESS, "not started as root: 'user %s' "
                   "ignored, running as uid %ld", sd.conf->user, (long)getuid());
        }
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    return APR_SUCCESS;
}

/* ---- the lines ---- */

static int lines_open(void)
{
    int i, n = 0;

    for (i = 0; i < sd.nlines; i++) {
        n += sd.lines[i].fd >= 0;
    }
    return n;
}

/* A line that failed (a read or write error, the end of the stream): with
 * one line signerd exits (status 5) as it always did; with two, that line
 * is closed and signerd goes on with the other, and exits when none is
 * left. */
static void line_failed(line_t *ln, const char *tag, apr_status_t rv, const char *what)
{
    ca_log(CA_LOG_ERR, tag, rv, "%s %s", what, ln->device);
    if (sd.nlines < 2 || lines_open() < 2) {
        leave_now(SIGNERD_EXIT_IO, "the line failed");
    }
    ca_serial_close(ln->fd);
    ln->fd = -1;
    ln->outlen = 0;
    ln->reopen_at = now_ms() + REOPEN_MS;
    ln->reopen_logged = 0;
    ca_log(CA_LOG_WARN, "CA61037", APR_SUCCESS, "line %s closed; going on with the other "
           "line, and opening it again every %d s", ln->device, REOPEN_MS / 1000);
}

/* A failed line opened again by its path, as the user signerd runs as (a
 * cable plugged back in, a USB adapter that came back under the same
 * /dev/serial/by-id name): that user needs the device's group, e.g.
 * dialout.  It starts afresh: no half frame, no answer kept for a NAK
 * (a web host asks again by id, and the journal answers). */
static void line_reopen(line_t *ln, int64_t now)
{
    const char *why = NULL;
    apr_status_t rv;

    if (ln->fd >= 0 || now < ln->reopen_at) {
        return;
    }
    ln->reopen_at = now + REOPEN_MS;
    if ((rv = ca_serial_open(&ln->fd, &why, ln->device, sd.conf->baud)) != APR_SUCCESS) {
        ln->fd = -1;
        if (!ln->reopen_logged) {
            ca_log(CA_LOG_WARN, "CA61040", rv, "line %s cannot be opened again (%s); "
                   "trying every %d s", ln->device, why ? why : "", REOPEN_MS / 1000);
            ln->reopen_logged = 1;
        }
        return;
    }
    ln->dec = ca_wire_decoder_make(sd.pool);
    ln->last_rx = now;
    ln->outlen = 0;
    ln->lastlen = 0;
    ln->crl_pending = 0;        /* until its link says HELLO again */
    ca_log(CA_LOG_NOTICE, "CA61039", APR_SUCCESS, "line %s is open again", ln->device);
}

static void flush_out(line_t *ln)
{
    while (ln->fd >= 0 && ln->outlen) {
        ssize_t w = write(ln->fd, ln->out, ln->outlen);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            line_failed(ln, "CA61030", APR_FROM_OS_ERROR(errno), "writing to");
            return;
        }
        memmove(ln->out, ln->out + w, ln->outlen - (apr_size_t)w);
        ln->outlen -= (apr_size_t)w;
    }
}

/* everything out (for STOP), within a second or two */
static void flush_all(line_t *ln)
{
    int64_t until = now_ms() + 2000;

    flush_out(ln);
    while (ln->fd >= 0 && ln->outlen && now_ms() < until) {
        struct pollfd pfd = { ln->fd, POLLOUT, 0 };
        poll(&pfd, 1, 100);
        flush_out(ln);
    }
    if (ln->fd >= 0) {
        tcdrain(ln->fd);
    }
}

/* room for n more bytes on the line's way out; 0 when the line is closed
 * or its answers were dropped */
static int out_room(line_t *ln, apr_size_t n)
{
    if (ln->fd < 0) {
        return 0;
    }
    if (ln->outlen + n > OUT_MAX) {
        ca_log(CA_LOG_ERR, "CA61031", APR_SUCCESS, "the link on %s does not read its "
               "answers", ln->device);
        if (sd.nlines < 2) {
            leave_now(SIGNERD_EXIT_IO, "the line is blocked");
        }
        /* with two lines, the host that stopped reading is gone (the other
         * one asks again, by id): what waits for it is dropped */
        ca_log(CA_LOG_WARN, "CA61038", APR_SUCCESS, "%lu bytes of answers for %s dropped",
               (unsigned long)ln->outlen, ln->device);
        ln->outlen = 0;
    }
    if (ln->outlen + n > ln->outcap) {
        apr_size_t cap = (ln->outlen + n) * 2;
        unsigned char *o = realloc(ln->out, cap);
        if (!o) {
            leave_now(SIGNERD_EXIT_IO, "out of memory");
        }
        ln->out = o;
        ln->outcap = cap;
    }
    return 1;
}

/* a frame to the line whose request is being answered */
static void send_frame(uint8_t type, uint64_t id, const unsigned char *payload,
                       apr_size_t len, apr_pool_t *p)
{
    line_t *ln = sd.cur;
    const unsigned char *b;
    apr_size_t n;

    if (ca_wire_encode(&b, &n, type, id, payload, len, p) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA61401", APR_EINVAL, "answer to %" PRIu64 " does not fit a "
               "frame", id);
        leave_now(SIGNERD_EXIT_IO, "internal error");
    }
    if (!out_room(ln, n)) {
        return;
    }
    memcpy(ln->out + ln->outlen, b, n);
    ln->outlen += n;
    if (type != CA_MSG_NAK) {
        unsigned char *l = realloc(ln->last, n);
        if (l) {
            memcpy(l, b, n);
            ln->last = l;
            ln->lastlen = n;
        }
    }
    flush_out(ln);
}

static void resend_last(void)
{
    line_t *ln = sd.cur;

    if (!ln->lastlen || !out_room(ln, ln->lastlen)) {
        return;
    }
    memcpy(ln->out + ln->outlen, ln->last, ln->lastlen);
    ln->outlen += ln->lastlen;
    flush_out(ln);
}

static void send_tlvs(uint8_t type, uint64_t id, apr_array_header_t *tlvs, apr_pool_t *p)
{
    send_frame(type, id, (unsigned char *)tlvs->elts, (apr_size_t)tlvs->nelts, p);
}

/* a malformed or disallowed request: say why, STOP, wipe, exit 3 */
static void refuse(uint64_t id, const char *reason, apr_pool_t *p)
{
    apr_array_header_t *b = apr_array_make(p, 128, 1);

    ca_log(CA_LOG_ERR, "CA61402", APR_SUCCESS, "request %" PRIu64 " refused: %s; stopping",
           id, reason);
    ca_tlv_add_str(b, CA_TAG_TEXT, reason);
    send_tlvs(CA_MSG_STOP, id, b, p);
    flush_all(sd.cur);
    leave_now(SIGNERD_EXIT_STOP, "request refused");
}

/* ---- requests ---- */

static const char *tlv_str(const apr_array_header_t *tlvs, uint8_t tag, apr_pool_t *p)
{
    const ca_tlv_t *t = ca_tlv_get(tlvs, tag);

    /* ca_wire_check made sure: non-empty, no NUL */
    return t ? apr_pstrmemdup(p, (const char *)t->value, t->len) : NULL;
}

static const char *printable(const char *s, apr_pool_t *p)
{
    char *o = apr_pstrndup(p, s, 80), *c;

    for (c = o; *c; ++c) {
        if ((unsigned char)*c < 0x20 || *c == 0x7F) {
            *c = '?';
        }
    }
    return o;
}

static const char *key_check(const signerd_ca_t *ca, EVP_PKEY *k, apr_pool_t *p)
{
    int type = EVP_PKEY_get_base_id(k);
    EVP_PKEY_CTX *ctx;
    int ok;

    if (type == EVP_PKEY_RSA) {
        BIGNUM *e = NULL;
        int bits = EVP_PKEY_get_bits(k);

        if (bits < ca->rsa_min) {
            return apr_psprintf(p, "RSA key of %d bits: CA %s needs at least %d", bits,
                                ca->name, ca->rsa_min);
        }
        if (bits > 16384) {
            return "RSA key larger than 16384 bits";
        }
        if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e)) {
            ERR_clear_error();
            return "cannot read the RSA public exponent";
        }
        ok = BN_is_odd(e) && BN_num_bits(e) <= 256
             && (BN_num_bits(e) > 17 || BN_get_word(e) >= 65537);
        BN_free(e);
        if (!ok) {
            return "RSA public exponent must be odd, at least 65537 and below 2^256";
        }
    }
    else if (type == EVP_PKEY_EC) {
        char group[64];
        size_t glen = 0;
        unsigned bit = 0;
        const char *name = "?";

        if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof(group), &glen) == 1) {
            if (!strcmp(group, "prime256v1")) {
                bit = SIGNERD_EC_P256;
            }
            else if (!strcmp(group, "secp384r1")) {
                bit = SIGNERD_EC_P384;
            }
            else if (!strcmp(group, "secp521r1")) {
                bit = SIGNERD_EC_P521;
            }
            name = group;
        }
        ERR_clear_error();
        if (!(ca->curves & bit)) {
            return apr_psprintf(p, "EC key on curve %s: not allowed for CA %s",
                                printable(name, p), ca->name);
        }
    }
    else {
        return "subject key must be RSA or EC";
    }
    if (!(ctx = EVP_PKEY_CTX_new(k, NULL))) {
        return "out of memory";
    }
    ok = EVP_PKEY_public_check(ctx);
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok == 1 ? NULL : "subject public key fails the public key check";
}

static int is_org(ca_profile_t pr)
{
    return pr == CA_PROFILE_ORG_CLIENT || pr == CA_PROFILE_ORG_SERVER;
}

static int is_server(ca_profile_t pr)
{
    return pr == CA_PROFILE_SERVER || pr == CA_PROFILE_ORG_SERVER;
}

/* what the request asks of the CA: a CA of signerd's, a profile, a
 * validity and a hash it allows, a well-formed key it accepts; NULL or why
 * not (*ppub then freed by the caller) */
static const char *sign_request(signerd_ca_t **pca, ca_profile_t *pprofile, EVP_PKEY **ppub,
                                const apr_array_header_t *tlvs, apr_pool_t *p)
{
    const char *caname = tlv_str(tlvs, CA_TAG_CA, p);
    const char *pname = tlv_str(tlvs, CA_TAG_PROFILE, p), *md = tlv_str(tlvs, CA_TAG_MD, p);
    const ca_tlv_t *spki = ca_tlv_get(tlvs, CA_TAG_SPKI);
    unsigned days = (unsigned)ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_DAYS));
    signerd_ca_t *ca = signerd_config_ca(sd.conf, caname);
    const unsigned char *q;

    if (!(*pca = ca)) {
        return apr_psprintf(p, "unknown CA '%s'", printable(caname, p));
    }
    if (!(*pprofile = ca_profile_from_name(pname))) {
        return apr_psprintf(p, "unknown profile '%s'", printable(pname, p));
    }
    if (!(ca->profiles & (1u << *pprofile))) {
        return apr_psprintf(p, "profile %s not allowed for CA %s", pname, ca->name);
    }
    if (days < 1 || days > (unsigned)ca->max_days) {
        return apr_psprintf(p, "validity of %u days: CA %s allows 1 to %d", days, ca->name,
                            ca->max_days);
    }
    if (!(signerd_md_bit(md) & ca->mds)) {
        return apr_psprintf(p, "hash '%s' not allowed for CA %s", printable(md, p), ca->name);
    }
    q = spki->value;
    if (!(*ppub = d2i_PUBKEY(NULL, &q, spki->len)) || q != spki->value + spki->len) {
        ERR_clear_error();
        return "subject key is not a well-formed SubjectPublicKeyInfo";
    }
    return key_check(ca, *ppub, p);
}

/* one subjectAltName of the request: allowed in this profile, a wildcard
 * only where the CA issues them and well-formed */
static const char *san_check(const ca_san_t *san, const signerd_ca_t *ca, ca_profile_t profile,
                             const char *pname, apr_pool_t *p)
{
    if (san->type == CA_SAN_DNS && !is_server(profile)) {
        return apr_psprintf(p, "DNS name in a %s certificate", pname);
    }
    if (san->type == CA_SAN_EMAIL && is_server(profile)) {
        return apr_psprintf(p, "email address in a %s certificate", pname);
    }
    if (san->type == CA_SAN_DNS && strchr(san->value, '*')) {
        if (!ca->wildcards) {
            return apr_psprintf(p, "wildcard name %s not allowed for CA %s",
                                printable(san->value, p), ca->name);
        }
        if (strncmp(san->value, "*.", 2) || strchr(san->value + 1, '*')) {
            return apr_psprintf(p, "malformed wildcard name %s", printable(san->value, p));
        }
    }
    return NULL;
}

/* the names of the request into spec, as the profile and the CA allow */
static const char *sign_names(ca_cert_spec_t *spec, const apr_array_header_t *tlvs,
                              const signerd_ca_t *ca, ca_profile_t profile, apr_pool_t *p)
{
    const char *pname = ca_profile_name(profile), *why;
    apr_array_header_t *sans = apr_array_make(p, 8, sizeof(ca_san_t));
    int i;

    spec->cn = tlv_str(tlvs, CA_TAG_CN, p);
    spec->email = tlv_str(tlvs, CA_TAG_EMAIL, p);
    spec->org[0] = tlv_str(tlvs, CA_TAG_ORG_O, p);
    spec->org[1] = tlv_str(tlvs, CA_TAG_ORG_OU, p);
    spec->org[2] = tlv_str(tlvs, CA_TAG_ORG_L, p);
    spec->org[3] = tlv_str(tlvs, CA_TAG_ORG_ST, p);
    spec->org[4] = tlv_str(tlvs, CA_TAG_ORG_C, p);
    for (i = 0; !is_org(profile) && i < 5; ++i) {
        if (spec->org[i]) {
            return apr_psprintf(p, "organisation fields on a %s certificate", pname);
        }
    }
    if (spec->cn && strchr(spec->cn, '*') && (!is_server(profile) || !ca->wildcards)) {
        return apr_psprintf(p, "wildcard common name not allowed for CA %s", ca->name);
    }
    for (i = 0; i < tlvs->nelts; ++i) {
        const ca_tlv_t *t = &APR_ARRAY_IDX(tlvs, i, ca_tlv_t);
        ca_san_t *san;

        if (t->tag != CA_TAG_SAN_DNS && t->tag != CA_TAG_SAN_EMAIL) {
            continue;
        }
        san = apr_array_push(sans);
        san->type = t->tag == CA_TAG_SAN_DNS ? CA_SAN_DNS : CA_SAN_EMAIL;
        san->value = apr_pstrmemdup(p, (const char *)t->value, t->len);
        if ((why = san_check(san, ca, profile, pname, p))) {
            return why;
        }
    }
    if (sans->nelts > ca->max_sans) {
        return apr_psprintf(p, "%d subjectAltNames: CA %s allows %d", sans->nelts,
                            ca->name, ca->max_sans);
    }
    if (spec->email && is_server(profile)) {
        return apr_psprintf(p, "email address in a %s certificate", pname);
    }
    spec->sans = sans;
    return NULL;
}

static void do_sign(const ca_frame_t *f, const apr_array_header_t *tlvs,
                    const unsigned char reqhash[32], apr_pool_t *p)
{
    const char *pname = tlv_str(tlvs, CA_TAG_PROFILE, p), *md = tlv_str(tlvs, CA_TAG_MD, p);
    const char *why, *err = NULL;
    unsigned days = (unsigned)ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_DAYS));
    signerd_ca_t *ca = NULL;
    ca_cert_spec_t spec;
    ca_profile_t profile = 0;
    unsigned char serial[16];
    const unsigned char *der;
    apr_size_t derlen;
    EVP_PKEY *pub = NULL;
    X509 *cert = NULL;
    BIGNUM *bn = NULL;
    unsigned char sbytes[20];
    int slen, i;
    apr_array_header_t *answer;
    char shex[41];

    memset(&spec, 0, sizeof(spec));
    if ((why = sign_request(&ca, &profile, &pub, tlvs, p))
        || (why = sign_names(&spec, tlvs, ca, profile, p))) {
        goto leave;
    }
    spec.profile = profile;
    spec.pubkey = pub;
    spec.days = (int)days;
    spec.md = md;
    spec.ocsp_url = ca->ocsp_url;
    spec.crl_url = ca->crl_url;
    spec.ca_issuers_url = ca->issuers_url;
    spec.cps_url = ca->cps_url;
    if (ca_x509_random_serial(serial) != APR_SUCCESS) {
        why = "no random serial number (RNG failure)";
        goto leave;
    }
    if (ca_x509_issue(&cert, &err, &spec, ca->cert, ca->key, serial, time(NULL), p)
        != APR_SUCCESS) {
        why = err ? err : "signing failed";
        goto leave;
    }
    /* a faulty signature (a glitch in the RSA-CRT computation) would leak
     * the key: check it before it leaves */
    if (X509_verify(cert, X509_get0_pubkey(ca->cert)) != 1) {
        ERR_clear_error();
        why = "the new certificate's signature does not verify";
        goto leave;
    }
    if (ca_x509_der(&der, &derlen, cert, p) != APR_SUCCESS
        || !(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL))
        || BN_is_negative(bn) || BN_num_bytes(bn) > 20 || BN_num_bytes(bn) < 1) {
        why = "cannot encode the new certificate";
        goto leave;
    }
    slen = BN_bn2bin(bn, sbytes);
    answer = apr_array_make(p, (int)derlen + 64, 1);
    ca_tlv_add(answer, CA_TAG_CERT, der, derlen);
    ca_tlv_add(answer, CA_TAG_SERIAL, sbytes, (apr_size_t)slen);
    if (signerd_journal_sign(sd.journal, f->id, reqhash, ca->name,
                             (unsigned char *)answer->elts, (apr_size_t)answer->nelts)
        != APR_SUCCESS) {
        leave_now(SIGNERD_EXIT_IO, "the journal failed");
    }
    send_tlvs(CA_MSG_CERT, f->id, answer, p);
    for (i = 0; i < slen; ++i) {
        shex[2 * i] = "0123456789abcdef"[sbytes[i] >> 4];
        shex[2 * i + 1] = "0123456789abcdef"[sbytes[i] & 15];
    }
    shex[2 * slen] = '\0';
    ca_log(CA_LOG_NOTICE, "CA61403", APR_SUCCESS, "request %" PRIu64 ": signed %s "
           "certificate %s by CA %s, %u days, %s", f->id, pname, shex, ca->name, days, md);
leave:
    BN_free(bn);
    X509_free(cert);
    EVP_PKEY_free(pub);
    if (why) {
        refuse(f->id, why, p);
    }
}

static int reason_ok(unsigned r)
{
    /* RFC 5280 CRLReason; 7 is unused, 8 (removeFromCRL) is for delta CRLs */
    return r <= 10 && r != 7 && r != 8;
}

static void do_revoke(const ca_frame_t *f, const apr_array_header_t *tlvs,
                      const unsigned char reqhash[32], apr_pool_t *p)
{
    const char *caname = tlv_str(tlvs, CA_TAG_CA, p);
    signerd_ca_t *ca = signerd_config_ca(sd.conf, caname);
    const ca_tlv_t *st = ca_tlv_get(tlvs, CA_TAG_SERIAL);
    unsigned reason = (unsigned)ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_REASON));
    const ca_crl_entry_t *old;
    ca_crl_entry_t e;
    apr_array_header_t *answer;
    apr_size_t count;

    if (!ca) {
        refuse(f->id, apr_psprintf(p, "unknown CA '%s'", printable(caname, p)), p);
    }
    if (!reason_ok(reason)) {
        refuse(f->id, apr_psprintf(p, "revocation reason %u not allowed", reason), p);
    }
    memset(&e, 0, sizeof(e));
    if ((old = signerd_revocation_find(ca, st->value, st->len))) {
        e = *old;
        count = (apr_size_t)ca->revs->nelts;
    }
    else {
        memcpy(e.serial, st->value, st->len);
        e.serial_len = (uint8_t)st->len;
        e.revoked_at = (int64_t)time(NULL);
        e.reason = (uint8_t)reason;
        count = (apr_size_t)ca->revs->nelts + 1;
    }
    answer = apr_array_make(p, 64, 1);
    ca_tlv_add(answer, CA_TAG_SERIAL, e.serial, e.serial_len);
    ca_tlv_add_u64(answer, CA_TAG_TIME, (uint64_t)e.revoked_at);
    ca_tlv_add_uint(answer, CA_TAG_COUNT, count, 4);
    if (signerd_journal_revoke(sd.journal, f->id, reqhash, ca, &e,
                               (unsigned char *)answer->elts, (apr_size_t)answer->nelts)
        != APR_SUCCESS) {
        leave_now(SIGNERD_EXIT_IO, "the journal failed");
    }
    send_tlvs(CA_MSG_REVOKED, f->id, answer, p);
    ca_log(CA_LOG_NOTICE, "CA61404", APR_SUCCESS, "request %" PRIu64 ": revocation %s by "
           "CA %s (reason %u), %lu revocations held", f->id, old ? "repeated" : "recorded",
           ca->name, (unsigned)e.reason, (unsigned long)count);
}

#define MAX_CRL_PERIOD (31 * 86400)
#define MAX_CLOCK_SKEW 86400

/* The body of a CRL of a million entries (42 MB) takes about 30 ms to
 * hash, and the line would carry nothing else meanwhile: a certificate
 * request behind it waited for it.  A link that says "crl-pending" in its
 * HELLO gets CRL_SIG with PENDING at once instead (the milliseconds signerd
 * expects to need); the loop hashes the body in slices between other
 * requests (crl_work), and the link asks again with the same request: the
 * answer is there then.  One CRL at a time: another CRL request drops the
 * job.  A REVOKE finishes the job first (crl_finish), so the CRL is signed
 * before the revocation is recorded: signerd never signs a CRL that leaves
 * out a revocation it recorded.  A link that does not say it gets the
 * answer at once, as before. */
#define CRL_SLICE (1024 * 1024)     /* about 0.7 ms of hashing */

static struct {
    uint64_t id;                    /* 0: none */
    unsigned char reqhash[32];      /* to know the request again */
    apr_pool_t *pool;
    signerd_ca_t *ca;
    ca_crl_spec_t spec;
    ca_crl_digest_t *dig;
    unsigned char want[32];         /* the link's SHA-256 of its body */
    apr_size_t count;               /* revocations in the body */
    apr_time_t t0;
    int done;                       /* answer (or failed) is set */
    const char *failed;             /* why it could not be signed */
    apr_array_header_t *answer;
} crl;

static void crl_drop(void)
{
    if (crl.pool) {
        apr_pool_destroy(crl.pool);
    }
    memset(&crl, 0, sizeof(crl));
}

/* the rest of the body hashed, then signed (or not: the link's differs) */
static void crl_finish(void)
{
    unsigned char digest[32], mdigest[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const unsigned char *sig;
    apr_size_t siglen;

    if (!crl.id || crl.done) {
        return;
    }
    crl.done = 1;
    if (ca_crl_digest_step(crl.dig, (apr_size_t)-1) != 1
        || ca_crl_digest_end(digest, mdigest, &mdlen, crl.dig) != APR_SUCCESS) {
        crl.failed = "cannot build the CRL body";
        return;
    }
    crl.answer = apr_array_make(crl.pool, 600, 1);
    if (CRYPTO_memcmp(digest, crl.want, 32) == 0) {
        if (ca_crl_sign_digest(&sig, &siglen, mdigest, mdlen, crl.ca->key, crl.spec.md,
                               crl.pool) != APR_SUCCESS) {
            crl.failed = "signing the CRL failed";
            return;
        }
        ca_tlv_add(crl.answer, CA_TAG_SIGNATURE, sig, siglen);
        ca_log(CA_LOG_NOTICE, "CA61405", APR_SUCCESS, "request %" PRIu64 ": signed CRL %"
               PRIu64 " of CA %s with %lu revocations in %" APR_TIME_T_FMT " ms", crl.id,
               crl.spec.crl_number, crl.ca->name, (unsigned long)crl.count,
               apr_time_as_msec(apr_time_now() - crl.t0));
    }
    else {
        ca_tlv_add(crl.answer, CA_TAG_TBS_SHA256, digest, 32);
        ca_log(CA_LOG_WARN, "CA61406", APR_SUCCESS, "request %" PRIu64 ": CRL %" PRIu64
               " of CA %s not signed: the link's body differs from signerd's (%lu "
               "revocations here)", crl.id, crl.spec.crl_number, crl.ca->name,
               (unsigned long)crl.count);
    }
    ca_tlv_add_uint(crl.answer, CA_TAG_COUNT, crl.count, 4);
}

/* 1 while a CRL body is being hashed: the loop polls without waiting */
static int crl_busy(void)
{
    return crl.id && !crl.done;
}

/* a slice of the body, between two polls */
static void crl_work(void)
{
    int r;

    if (!crl_busy()) {
        return;
    }
    if ((r = ca_crl_digest_step(crl.dig, CRL_SLICE)) != 0) {
        crl_finish();           /* the rest (none), the digests, the signature */
    }
}

/* the answer (the request's own frame id), or PENDING while hashing */
static void crl_answer(uint64_t id, apr_pool_t *p)
{
    apr_array_header_t *b;

    if (crl.done) {
        if (crl.failed) {
            refuse(id, crl.failed, p);
        }
        send_tlvs(CA_MSG_CRL_SIG, id, crl.answer, p);
        crl_drop();
        return;
    }
    b = apr_array_make(p, 16, 1);
    ca_tlv_add_uint(b, CA_TAG_PENDING,
                    (uint64_t)(ca_crl_digest_left(crl.dig) / 1000000 + 1), 4);
    ca_tlv_add_uint(b, CA_TAG_COUNT, crl.count, 4);
    send_tlvs(CA_MSG_CRL_SIG, id, b, p);
}

static void do_crl(const ca_frame_t *f, const apr_array_header_t *tlvs,
                   const unsigned char reqhash[32], apr_pool_t *p)
{
    const char *caname = tlv_str(tlvs, CA_TAG_CA, p), *md = tlv_str(tlvs, CA_TAG_MD, p);
    signerd_ca_t *ca = signerd_config_ca(sd.conf, caname);
    ca_crl_spec_t spec;
    int64_t now = (int64_t)time(NULL);
    const ca_tlv_t *want = ca_tlv_get(tlvs, CA_TAG_TBS_SHA256);

    if (crl.id == f->id && CRYPTO_memcmp(crl.reqhash, reqhash, 32) == 0) {
        /* asked again */
        if (!sd.cur->crl_pending) {
            crl_finish();
        }
        crl_answer(f->id, p);
        return;
    }
    crl_drop();
    if (!ca) {
        refuse(f->id, apr_psprintf(p, "unknown CA '%s'", printable(caname, p)), p);
    }
    if (!(signerd_md_bit(md) & ca->mds)) {
        refuse(f->id, apr_psprintf(p, "hash '%s' not allowed for CA %s", printable(md, p),
                                   ca->name), p);
    }
    memset(&spec, 0, sizeof(spec));
    spec.issuer = ca->cert;
    spec.crl_number = ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_CRL_NUMBER));
    spec.this_update = (int64_t)ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_THIS_UPDATE));
    spec.next_update = (int64_t)ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_NEXT_UPDATE));
    if (spec.crl_number == 0 || spec.crl_number > INT64_MAX) {
        refuse(f->id, "CRL number out of range", p);
    }
    if (spec.this_update < now - MAX_CLOCK_SKEW || spec.this_update > now + MAX_CLOCK_SKEW) {
        refuse(f->id, "CRL thisUpdate more than a day away from signerd's clock", p);
    }
    if (spec.next_update <= spec.this_update
        || spec.next_update - spec.this_update > MAX_CRL_PERIOD) {
        refuse(f->id, "CRL nextUpdate not within 31 days after thisUpdate", p);
    }
    /* the body from the journal's revocations, kept sorted and encoded
     * (ca->crlset, updated on each REVOKE): its SHA-256 and its digest
     * with md in one pass over the set's parts, without a copy; what is
     * signed is that digest of the body signerd built, and only when its
     * SHA-256 is the link's */
    apr_pool_create(&crl.pool, sd.pool);
    crl.id = f->id;
    memcpy(crl.reqhash, reqhash, 32);
    crl.ca = ca;
    crl.spec = spec;
    crl.spec.md = apr_pstrdup(crl.pool, md);
    memcpy(crl.want, want->value, 32);
    crl.t0 = apr_time_now();
    if (ca_crl_digest_begin(&crl.dig, ca->crlset, &crl.spec, crl.pool) != APR_SUCCESS) {
        crl_drop();
        refuse(f->id, "cannot build the CRL body", p);
    }
    crl.count = ca_crl_set_count(ca->crlset);
    if (!sd.cur->crl_pending) {
        crl_finish();
    }
    crl_answer(f->id, p);
}

/* certify user IDs of a member's OpenPGP key (signerd/openpgp.c) */
static void do_pgpsign(const ca_frame_t *f, const apr_array_header_t *tlvs,
                       const unsigned char reqhash[32], apr_pool_t *p)
{
    const unsigned char *answer;
    apr_size_t alen;
    const char *done, *why;

    why = signerd_pgp_sign(&answer, &alen, &done, sd.conf, tlvs, p);
    if (why) {
        refuse(f->id, why, p);
    }
    if (signerd_journal_pgpsign(sd.journal, f->id, reqhash, signerd_pgp_fpr(sd.conf),
                                answer, alen) != APR_SUCCESS) {
        leave_now(SIGNERD_EXIT_IO, "the journal failed");
    }
    send_frame(CA_MSG_PGPKEY, f->id, answer, alen, p);
    ca_log(CA_LOG_NOTICE, "CA90110", APR_SUCCESS, "request %" PRIu64 ": %s", f->id, done);
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case CA_MSG_HELLO: return "HELLO";
    case CA_MSG_HEARTBEAT: return "HEARTBEAT";
    case CA_MSG_SIGN: return "SIGN";
    case CA_MSG_REVOKE: return "REVOKE";
    case CA_MSG_CRL: return "CRL";
    case CA_MSG_PGPSIGN: return "PGPSIGN";
    case CA_MSG_PGPKEY: return "PGPKEY";
    case CA_MSG_HELLO_OK: return "HELLO_OK";
    case CA_MSG_HEARTBEAT_OK: return "HEARTBEAT_OK";
    case CA_MSG_CERT: return "CERT";
    case CA_MSG_REVOKED: return "REVOKED";
    case CA_MSG_CRL_SIG: return "CRL_SIG";
    case CA_MSG_NAK: return "NAK";
    case CA_MSG_STOP: return "STOP";
    default: return "unknown";
    }
}

static void handle_frame(const ca_frame_t *f, apr_pool_t *p)
{
    apr_array_header_t *tlvs;
    const char *err = NULL;
    unsigned char reqhash[32];
    const signerd_record_t *rec;
    apr_status_t rv;

    if (ca_tlv_parse(&tlvs, f->payload, f->len, p) != APR_SUCCESS) {
        refuse(f->id, apr_psprintf(p, "malformed %s: TLVs overrun the payload",
                                   type_name(f->type)), p);
    }
    if ((rv = ca_wire_check(&err, f, tlvs)) != APR_SUCCESS) {
        refuse(f->id, rv == APR_ENOTIMPL
               ? apr_psprintf(p, "unknown message type 0x%02x", f->type)
               : apr_psprintf(p, "malformed %s: %s", type_name(f->type), err), p);
    }
    switch (f->type) {
    case CA_MSG_HELLO: {
        apr_array_header_t *b = apr_array_make(p, 32, 1);
        const char *text = tlv_str(tlvs, CA_TAG_TEXT, p);
        /* the link's words, e.g. "cacert-link crl-pending" */
        sd.cur->crl_pending = text && strstr(text, "crl-pending") != NULL;
        ca_tlv_add_str(b, CA_TAG_TEXT, "signerd " SIGNERD_VERSION);
        send_tlvs(CA_MSG_HELLO_OK, 0, b, p);
        ca_log(CA_LOG_INFO, "CA61407", APR_SUCCESS, "HELLO on %s", sd.cur->device);
        return;
    }
    case CA_MSG_HEARTBEAT:
        send_frame(CA_MSG_HEARTBEAT_OK, 0, NULL, 0, p);
        return;
    case CA_MSG_NAK:
        /* our last answer arrived damaged: once more */
        resend_last();
        return;
    case CA_MSG_SIGN:
    case CA_MSG_REVOKE:
    case CA_MSG_CRL:
    case CA_MSG_PGPSIGN:
        if (sd.active != sd.cur) {
            /* the requests come on another line: the web hosts moved the
             * link (docs/scaling.md) */
            if (sd.nlines > 1) {
                ca_log(CA_LOG_NOTICE, "CA61036", APR_SUCCESS, "requests come on %s now",
                       sd.cur->device);
            }
            sd.active = sd.cur;
        }
        break;
    default:
        refuse(f->id, apr_psprintf(p, "unexpected message %s from the link",
                                   type_name(f->type)), p);
    }
    {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        unsigned int n = 32;
        if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1
            || EVP_DigestUpdate(c, &f->type, 1) != 1
            || EVP_DigestUpdate(c, f->payload, f->len) != 1
            || EVP_DigestFinal_ex(c, reqhash, &n) != 1) {
            EVP_MD_CTX_free(c);
            refuse(f->id, "internal error: SHA-256 failed", p);
        }
        EVP_MD_CTX_free(c);
    }
    if ((rec = signerd_journal_find(sd.journal, f->id))) {
        if (rec->type != f->type || CRYPTO_memcmp(rec->reqhash, reqhash, 32) != 0) {
            refuse(f->id, "request id reused with a different request", p);
        }
        send_frame(rec->answer_type, f->id, rec->answer, rec->alen, p);
        ca_log(CA_LOG_NOTICE, "CA61408", APR_SUCCESS, "request %" PRIu64 " (%s) repeated: "
               "journalled answer sent again", f->id, type_name(f->type));
        return;
    }
    switch (f->type) {
    case CA_MSG_SIGN:
        do_sign(f, tlvs, reqhash, p);
        break;
    case CA_MSG_REVOKE:
        crl_finish();           /* the CRL under way is signed first */
        do_revoke(f, tlvs, reqhash, p);
        break;
    case CA_MSG_PGPSIGN:
        do_pgpsign(f, tlvs, reqhash, p);
        break;
    default:
        do_crl(f, tlvs, reqhash, p);
        break;
    }
}

/* ---- the loop ---- */

static void on_signal(int sig)
{
    unsigned char c = (unsigned char)sig;
    int saved = errno;

    if (write(sd.sigpipe[1], &c, 1) < 0) {
        /* nothing to do: the pipe is full, a signal is pending anyway */
    }
    errno = saved;
}

static void drain_events(line_t *ln, apr_pool_t *rp)
{
    ca_frame_t f;
    ca_wire_event_t ev;

    sd.cur = ln;
    while (ln->fd >= 0 && (ev = ca_wire_next(ln->dec, &f)) != CA_WIRE_NEED_MORE) {
        if (ev == CA_WIRE_DAMAGED) {
            ca_log(CA_LOG_NOTICE, "CA61409", APR_SUCCESS, "damaged frame dropped on %s (%lu "
                   "so far): NAK", ln->device, (unsigned long)ca_wire_damaged(ln->dec));
            send_frame(CA_MSG_NAK, 0, NULL, 0, rp);
            continue;
        }
        /* a valid frame on either line: the web side is there */
        sd.deadman_at = now_ms() + (int64_t)sd.conf->deadman * 1000;
        handle_frame(&f, rp);
        apr_pool_clear(rp);
    }
}

/* a line that has an incomplete frame and was silent for the protocol's
 * second: the frame is dropped as damaged (NAK) */
static void line_idle(line_t *ln, int64_t now, apr_pool_t *rp)
{
    if (ln->fd >= 0 && ca_wire_pending(ln->dec) && now - ln->last_rx >= CA_WIRE_IDLE_MS
        && ca_wire_idle(ln->dec) == CA_WIRE_DAMAGED) {
        ca_log(CA_LOG_NOTICE, "CA61411", APR_SUCCESS, "incomplete frame dropped on %s after "
               "%d ms of silence: NAK", ln->device, CA_WIRE_IDLE_MS);
        sd.cur = ln;
        send_frame(CA_MSG_NAK, 0, NULL, 0, rp);
        drain_events(ln, rp);
    }
}

static void line_read(line_t *ln, short revents, apr_pool_t *rp)
{
    unsigned char buf[READ_MAX];
    ssize_t r;

    if (revents & POLLOUT) {
        flush_out(ln);
    }
    if (ln->fd < 0 || !(revents & (POLLIN | POLLHUP | POLLERR))) {
        return;
    }
    r = read(ln->fd, buf, sizeof(buf));
    if (r > 0) {
        ln->last_rx = now_ms();
        ca_wire_feed(ln->dec, buf, (apr_size_t)r);
        drain_events(ln, rp);
    }
    else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        line_failed(ln, "CA61032", r ? APR_FROM_OS_ERROR(errno) : APR_EOF, "the line is gone:");
    }
}

static void run(void)
{
    apr_pool_t *rp;
    int i;

    apr_pool_create(&rp, sd.pool);
    for (i = 0; i < sd.nlines; i++) {
        sd.lines[i].dec = ca_wire_decoder_make(sd.pool);
        sd.lines[i].last_rx = now_ms();
    }
    sd.cur = &sd.lines[0];
    sd.deadman_at = now_ms() + (int64_t)sd.conf->deadman * 1000;
    for (;;) {
        struct pollfd pfd[MAX_LINES + 1];
        int64_t now = now_ms(), timeout;
        int n;

        if (now >= sd.deadman_at) {
            ca_log(CA_LOG_ERR, "CA61033", APR_SUCCESS, "dead-man: no valid frame for %d s",
                   sd.conf->deadman);
            leave_now(SIGNERD_EXIT_DEADMAN, "dead-man switch");
        }
        timeout = sd.deadman_at - now;
        for (i = 0; i < sd.nlines; i++) {
            line_t *ln = &sd.lines[i];
            line_reopen(ln, now);
            if (ln->fd < 0 && ln->reopen_at - now < timeout) {
                timeout = ln->reopen_at - now;
            }
            line_idle(ln, now, rp);
            if (ln->fd >= 0 && ca_wire_pending(ln->dec)
                && ln->last_rx + CA_WIRE_IDLE_MS - now < timeout) {
                timeout = ln->last_rx + CA_WIRE_IDLE_MS - now;
            }
            /* a closed line is left out of the poll (fd -1 is ignored) */
            pfd[i].fd = ln->fd;
            pfd[i].events = POLLIN | (ln->outlen ? POLLOUT : 0);
            pfd[i].revents = 0;
        }
        pfd[sd.nlines].fd = sd.sigpipe[0];
        pfd[sd.nlines].events = POLLIN;
        pfd[sd.nlines].revents = 0;
        if (crl_busy()) {
            timeout = 0;        /* a CRL is hashed between the frames */
        }
        n = poll(pfd, (nfds_t)sd.nlines + 1, (int)(timeout < 0 ? 0 : timeout));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ca_log(CA_LOG_ERR, "CA61025", APR_FROM_OS_ERROR(errno), "poll");
            leave_now(SIGNERD_EXIT_IO, "poll failed");
        }
        if (pfd[sd.nlines].revents & POLLIN) {
            unsigned char sig = 0;
            if (read(sd.sigpipe[0], &sig, 1) == 1 && (sig == SIGTERM || sig == SIGINT)) {
                ca_log(CA_LOG_NOTICE, "CA61026", APR_SUCCESS, "signal %d: stopping", sig);
                for (i = 0; i < sd.nlines; i++) {
                    flush_all(&sd.lines[i]);
                }
                leave_now(SIGNERD_EXIT_OK, "stopped by signal");
            }
        }
        for (i = 0; i < sd.nlines; i++) {
            line_read(&sd.lines[i], pfd[i].revents, rp);
        }
        crl_work();
    }
}

/* The name it was started under: the package installs it as cacert-signerd. */
static const char *progname = "signerd";

static void usage(void)
{
    fprintf(stderr, "usage: %s -c signerd.conf [--passphrase-file FILE | "
            "--passphrase-fd N] [--foreground]\n", progname);
    exit(SIGNERD_EXIT_USAGE);
}

int main(int argc, char **argv)
{
    const char *confpath = NULL, *passfile = NULL;
    int passfd = -1, foreground = 0, i;
    struct sigaction sa;

    if (argc > 0 && argv[0] && *argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        progname = slash ? slash + 1 : argv[0];
    }
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            confpath = argv[++i];
        }
        else if (!strcmp(argv[i], "--passphrase-file") && i + 1 < argc && passfd < 0) {
            passfile = argv[++i];
        }
        else if (!strcmp(argv[i], "--passphrase-fd") && i + 1 < argc && !passfile) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 65535) {
                usage();
            }
            passfd = (int)v;
        }
        else if (!strcmp(argv[i], "--foreground")) {
            foreground = 1;
        }
        else if (!strcmp(argv[i], "--version")) {
            printf("%s %s\n", progname, SIGNERD_VERSION);
            return 0;
        }
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s -c signerd.conf [--passphrase-file FILE | "
                   "--passphrase-fd N] [--foreground] [--version]\n"
                   "  the signing daemon of cacert-httpd (man cacert-signerd)\n", progname);
            return 0;
        }
        else {
            usage();
        }
    }
    if (!confpath) {
        usage();
    }
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&sd.pool, NULL);
    ca_log_set_sink(log_sink, NULL);
    ca_log_set_level(CA_LOG_NOTICE);
    umask(077);

    if (signerd_config_read(&sd.conf, confpath, sd.pool) != APR_SUCCESS) {
        return SIGNERD_EXIT_START;
    }
    if (passfile) {
        int fd = open(passfile, O_RDONLY | O_CLOEXEC);
        apr_status_t rv;
        if (fd < 0) {
            ca_log(CA_LOG_ERR, "CA61027", APR_FROM_OS_ERROR(errno), "cannot read %s",
                   passfile);
            return SIGNERD_EXIT_START;
        }
        rv = read_passphrase(fd, passfile);
        close(fd);
        if (rv != APR_SUCCESS) {
            return SIGNERD_EXIT_START;
        }
    }
    else if (passfd >= 0) {
        apr_status_t rv = read_passphrase(passfd, "the passphrase fd");
        close(passfd);
        if (rv != APR_SUCCESS) {
            return SIGNERD_EXIT_START;
        }
    }
    /* open what it needs (every line), then drop privileges, then answer */
    sd.lines[0].fd = sd.lines[1].fd = -1;
    sd.lines[sd.nlines++].device = sd.conf->device;
    if (sd.conf->device2) {
        sd.lines[sd.nlines++].device = sd.conf->device2;
    }
    for (i = 0; i < sd.nlines; ++i) {
        const char *why;
        apr_status_t rv = ca_serial_open(&sd.lines[i].fd, &why, sd.lines[i].device,
                                         sd.conf->baud);
        if (rv != APR_SUCCESS) {
            ca_log(CA_LOG_ERR, "CA61202", rv, "the line %s: %s", sd.lines[i].device, why);
            sd.lines[i].fd = -1;
            OPENSSL_cleanse(sd.passphrase, sizeof(sd.passphrase));
            leave_now(SIGNERD_EXIT_START, "start-up failed");
        }
    }
    if (load_keys() != APR_SUCCESS) {
        leave_now(SIGNERD_EXIT_START, "start-up failed");
    }
    if (signerd_journal_open(&sd.journal, sd.conf->journal, sd.conf, sd.pool)
        != APR_SUCCESS) {
        leave_now(SIGNERD_EXIT_START, "start-up failed");
    }
    if (pipe2(sd.sigpipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        leave_now(SIGNERD_EXIT_START, "start-up failed");
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (drop_privileges() != APR_SUCCESS) {
        leave_now(SIGNERD_EXIT_START, "start-up failed");
    }
    if (self_test() != APR_SUCCESS) {
        leave_now(SIGNERD_EXIT_START, "start-up failed");
    }
    /* gpg and its agent run as the user signerd now is */
    if (sd.conf->pgp) {
        apr_status_t rv = signerd_pgp_open(sd.conf, sd.have_passphrase ? sd.passphrase : NULL,
                                           sd.pool);
        OPENSSL_cleanse(sd.passphrase, sizeof(sd.passphrase));
        sd.have_passphrase = 0;
        if (rv != APR_SUCCESS) {
            leave_now(SIGNERD_EXIT_START, "start-up failed");
        }
    }
    if (!foreground) {
        pid_t pid = fork();
        int nul;

        if (pid < 0) {
            leave_now(SIGNERD_EXIT_START, "fork failed");
        }
        if (pid > 0) {
            _exit(0);
        }
        setsid();
        openlog("signerd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        sd.use_syslog = 1;
        if ((nul = open("/dev/null", O_RDWR)) >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
            if (nul > 2) {
                close(nul);
            }
        }
    }
    for (i = 0; i < sd.conf->cas->nelts; ++i) {
        signerd_ca_t *ca = APR_ARRAY_IDX(sd.conf->cas, i, signerd_ca_t *);
        /* the journal's revocations sorted and encoded once, here */
        if (ca_crl_set_merge(ca->crlset) != APR_SUCCESS) {
            leave_now(SIGNERD_EXIT_IO, "cannot hold the revocations for CRLs");
        }
        ca_log(CA_LOG_NOTICE, "CA61028", APR_SUCCESS, "ca %s: key loaded, %d revocations "
               "in the journal", ca->name, ca->revs->nelts);
    }
    ca_log(CA_LOG_NOTICE, "CA61029", APR_SUCCESS, "signerd %s ready on %s%s%s at %ld baud, "
           "dead-man %d s", SIGNERD_VERSION, sd.conf->device, sd.conf->device2 ? " and " : "",
           sd.conf->device2 ? sd.conf->device2 : "", sd.conf->baud, sd.conf->deadman);
    run();
    return 0;
}
