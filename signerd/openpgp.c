/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* signerd: OpenPGP key certification through gpgme (CPS 4.3.1).
 *
 * The CA's OpenPGP key lives in its own gpg home directory (owned by the
 * user signerd runs as).  gpg and its agent run as children of signerd
 * after the privilege drop; signerd writes gpg.conf and gpg-agent.conf
 * there at start (the certification digest and the policy URL come from
 * signerd's config, never from a request), unlocks the key once with a
 * self-test signature, and stops the agent when it exits.
 *
 * gpg-agent keeps passphrases, not unlocked keys: every signature derives
 * the key's protection key again (its S2K, about a tenth of a second or
 * more by design).  So signerd signs in a session copy of the home
 * (<home>/session): at start the key files are copied there, and that
 * copy's agent changes the key's passphrase to one of 256 random bits
 * made for this run, protected with gpg-agent's smallest S2K count.  Its
 * strength is in the random passphrase, which lives only in signerd's
 * memory, so the cheap S2K costs nothing; the key in <home> keeps its own
 * passphrase and protection.  The real passphrase is needed once, at
 * start; the session copy is removed when signerd stops (dead-man, STOP,
 * SIGTERM).
 *
 * A PGPSIGN request carries the member's key, the user IDs to certify and
 * the facts the web side approved them against (the permitted forms of
 * the member's name, the verified addresses).  signerd checks everything
 * again on its own; anything that does not fit stops it.  Log tags
 * CA901xx. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <gpgme.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ca_gpg.h"
#include "ca_log.h"
#include "ca_openpgp.h"
#include "signerd.h"

struct signerd_pgp_t {
    const char *home;
    char fpr[41];                   /* upper-case hex */
    unsigned char keyid[8];
    int days;
    const char *digest;             /* "SHA256", ... */
    const char *cps_url;
    int line;
    apr_pool_t *pool;               /* the context lives here */
    gpgme_ctx_t ctx;
    gpgme_key_t cakey;
    int open;
    const char *session;            /* the session copy of home */
    const char *scdaemon;           /* the key on a token: gnupg-pkcs11-scd */
    int on_card;                    /* the key is on a token (a card to gpg) */
    char *pass;                     /* the passphrase for gpg-agent, or NULL */
    char *session_pass;             /* the session copy's random passphrase */
    int asked;                      /* passphrase questions while changing it */
};

static apr_status_t bad(const char *path, int line, const char *fmt, const char *arg)
{
    char msg[512];

    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    ca_log(CA_LOG_ERR, "CA90101", APR_SUCCESS, "%s:%d: %s", path, line, msg);
    return APR_EINVAL;
}

static int url_ok(const char *s)
{
    const char *c;

    if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
        return 0;
    }
    for (c = s; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7F || *c == '"') {
            return 0;
        }
    }
    return 1;
}

apr_status_t signerd_pgp_config(signerd_config_t *conf, const char *path, int line,
                                char **args, int nargs, apr_pool_t *p)
{
    signerd_pgp_t *g;
    int i;

    if (conf->pgp) {
        return bad(path, line, "openpgp given twice%s", NULL);
    }
    g = apr_pcalloc(p, sizeof(*g));
    g->line = line;
    g->digest = "SHA256";
    for (i = 0; i < nargs; i++) {
        char *eq = strchr(args[i], '='), *key = args[i], *val;

        if (!eq || eq == key || !eq[1]) {
            return bad(path, line, "openpgp setting '%s' is not key=value", args[i]);
        }
        *eq = '\0';
        val = eq + 1;
        if (!strcmp(key, "home")) {
            if (g->home || val[0] != '/') {
                return bad(path, line, "openpgp home '%s': once, an absolute path", val);
            }
            g->home = val;
        }
        else if (!strcmp(key, "fpr")) {
            int j;
            if (g->fpr[0] || strlen(val) != 40) {
                return bad(path, line, "openpgp fpr '%s': once, 40 hex digits", val);
            }
            for (j = 0; j < 40; j++) {
                char c = val[j];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                      || (c >= 'A' && c <= 'F'))) {
                    return bad(path, line, "openpgp fpr '%s': 40 hex digits", val);
                }
                g->fpr[j] = (char)(c >= 'a' ? c - 32 : c);
                if (j % 2) {
                    unsigned hi = (unsigned)(g->fpr[j - 1] <= '9' ? g->fpr[j - 1] - '0'
                                                                  : g->fpr[j - 1] - 'A' + 10);
                    unsigned lo = (unsigned)(g->fpr[j] <= '9' ? g->fpr[j] - '0'
                                                              : g->fpr[j] - 'A' + 10);
                    if (j / 2 >= 12) {
                        g->keyid[j / 2 - 12] = (unsigned char)(hi << 4 | lo);
                    }
                }
            }
            g->fpr[40] = '\0';
        }
        else if (!strcmp(key, "days")) {
            char *end;
            long v = strtol(val, &end, 10);
            if (g->days || *end || v < 1 || v > 1825) {
                return bad(path, line, "openpgp days '%s': once, 1..1825", val);
            }
            g->days = (int)v;
        }
        else if (!strcmp(key, "digest")) {
            if (!strcmp(val, "sha256")) {
                g->digest = "SHA256";
            }
            else if (!strcmp(val, "sha384")) {
                g->digest = "SHA384";
            }
            else if (!strcmp(val, "sha512")) {
                g->digest = "SHA512";
            }
            else {
                return bad(path, line, "openpgp digest '%s': sha256, sha384 or sha512", val);
            }
        }
        else if (!strcmp(key, "cps")) {
            if (g->cps_url || !url_ok(val)) {
                return bad(path, line, "openpgp cps '%s': once, an http(s) URL", val);
            }
            g->cps_url = val;
        }
        else if (!strcmp(key, "scdaemon")) {
            if (g->scdaemon || val[0] != '/') {
                return bad(path, line, "openpgp scdaemon '%s': once, an absolute path", val);
            }
            g->scdaemon = val;
        }
        else {
            return bad(path, line, "unknown openpgp setting '%s'", key);
        }
    }
    if (!g->home || !g->fpr[0] || !g->days || !g->cps_url) {
        return bad(path, line, "openpgp needs home=, fpr=, days= and cps=%s", NULL);
    }
    conf->pgp = g;
    return APR_SUCCESS;
}

static apr_status_t write_file(const char *path, const char *text)
{
    char *tmp;
    FILE *f;
    apr_status_t rv = APR_SUCCESS;
    size_t n = strlen(path) + 8;

    tmp = malloc(n);
    if (!tmp) {
        return APR_ENOMEM;
    }
    snprintf(tmp, n, "%s.new", path);
    if (!(f = fopen(tmp, "w"))) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    else {
        if (fputs(text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
            rv = APR_FROM_OS_ERROR(errno);
        }
        if (fclose(f) != 0 && rv == APR_SUCCESS) {
            rv = APR_FROM_OS_ERROR(errno);
        }
        if (rv == APR_SUCCESS && rename(tmp, path) != 0) {
            rv = APR_FROM_OS_ERROR(errno);
        }
    }
    if (rv != APR_SUCCESS) {
        unlink(tmp);
    }
    free(tmp);
    return rv;
}

/* gpg-agent asks (loopback pinentry) when it has no passphrase cached:
 * while the session copy's passphrase is changed, first the key's own
 * passphrase, then the new one; afterwards the session passphrase.  Never
 * again after a wrong one. */
static gpgme_error_t give_passphrase(void *hook, const char *uid_hint,
                                     const char *passphrase_info, int prev_was_bad, int fd)
{
    signerd_pgp_t *g = hook;
    const char *give;

    (void)uid_hint;
    (void)passphrase_info;
    give = g->asked++ == 0 && g->pass ? g->pass : g->session_pass;
    if (!give || prev_was_bad) {
        return gpg_error(GPG_ERR_CANCELED);
    }
    if (gpgme_io_writen(fd, give, strlen(give)) != 0 || gpgme_io_writen(fd, "\n", 1) != 0) {
        return gpg_error(GPG_ERR_CANCELED);
    }
    return 0;
}

/* copies one file (the keyring, a key) into the session copy */
static apr_status_t copy_file(const char *from, const char *to, apr_pool_t *p)
{
    char *data;
    apr_size_t len;
    FILE *f;
    struct stat sb;
    apr_status_t rv;
    int fd;

    if (!(f = fopen(from, "rb"))) {
        return errno == ENOENT ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    }
    if (fstat(fileno(f), &sb) != 0 || sb.st_size > (64 << 20)) {
        fclose(f);
        return APR_EGENERAL;
    }
    len = (apr_size_t)sb.st_size;
    data = apr_palloc(p, len + 1);
    if (fread(data, 1, len, f) != len) {
        fclose(f);
        return APR_EGENERAL;
    }
    fclose(f);
    if ((fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    rv = write(fd, data, len) == (ssize_t)len ? APR_SUCCESS : APR_EGENERAL;
    if (close(fd) != 0 && rv == APR_SUCCESS) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    OPENSSL_cleanse(data, len);
    return rv;
}

/* <home>/session made anew: the keyrings and the private keys of home */
static apr_status_t make_session(signerd_pgp_t *g, const char *conftext, apr_pool_t *p)
{
    static const char *const files[] = { "pubring.kbx", "pubring.gpg", "trustdb.gpg", NULL };
    const char *keys = apr_pstrcat(p, g->home, "/private-keys-v1.d", NULL);
    const char *skeys = apr_pstrcat(p, g->session, "/private-keys-v1.d", NULL);
    apr_status_t rv = APR_SUCCESS;
    struct dirent *de;
    DIR *d;
    int i;

    ca_gpg_kill_agent(g->session, 1);
    ca_gpg_rmtree(g->session, p);
    if (mkdir(g->session, 0700) != 0 || mkdir(skeys, 0700) != 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    for (i = 0; files[i] && rv == APR_SUCCESS; i++) {
        rv = copy_file(apr_pstrcat(p, g->home, "/", files[i], NULL),
                       apr_pstrcat(p, g->session, "/", files[i], NULL), p);
    }
    if (rv == APR_SUCCESS && (d = opendir(keys))) {
        while (rv == APR_SUCCESS && (de = readdir(d))) {
            if (de->d_name[0] != '.') {
                rv = copy_file(apr_pstrcat(p, keys, "/", de->d_name, NULL),
                               apr_pstrcat(p, skeys, "/", de->d_name, NULL), p);
            }
        }
        closedir(d);
    }
    if (rv == APR_SUCCESS) {
        rv = write_file(apr_pstrcat(p, g->session, "/gpg.conf", NULL), conftext);
    }
    if (rv == APR_SUCCESS) {
        /* the smallest count gpg-agent takes: the random passphrase is the
         * protection here */
        rv = write_file(apr_pstrcat(p, g->session, "/gpg-agent.conf", NULL),
                        "# written by signerd at every start: edits are lost\n"
                        "allow-loopback-pinentry\ns2k-count 65536\n"
                        "default-cache-ttl 315360000\nmax-cache-ttl 315360000\n");
    }
    return rv;
}

/* the session copy's key gets a passphrase of 256 random bits */
static apr_status_t session_passphrase(signerd_pgp_t *g)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[32];
    gpgme_error_t err;
    int i;

    if (!(g->session_pass = malloc(2 * sizeof(r) + 1)) || RAND_bytes(r, sizeof(r)) != 1) {
        return APR_ENOMEM;
    }
    for (i = 0; i < (int)sizeof(r); i++) {
        g->session_pass[2 * i] = hex[r[i] >> 4];
        g->session_pass[2 * i + 1] = hex[r[i] & 15];
    }
    g->session_pass[2 * sizeof(r)] = '\0';
    OPENSSL_cleanse(r, sizeof(r));
    g->asked = 0;
    if ((err = gpgme_op_passwd(g->ctx, g->cakey, 0)) != 0) {
        ca_log(CA_LOG_ERR, "CA90109", APR_SUCCESS, "openpgp: cannot unlock %s for this run "
               "(wrong passphrase?): %s", g->fpr, gpgme_strerror(err));
        return APR_EINVAL;
    }
    /* the key's own passphrase is not needed any more */
    if (g->pass) {
        OPENSSL_cleanse(g->pass, strlen(g->pass));
        free(g->pass);
        g->pass = NULL;
    }
    g->asked = 1;
    return APR_SUCCESS;
}

/* a gpgme context on home and the CA's usable secret key in it */
static apr_status_t find_key(signerd_pgp_t *g, const char *home)
{
    gpgme_error_t err;

    if (ca_gpg_ctx(&g->ctx, home, g->pool) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    gpgme_set_passphrase_cb(g->ctx, give_passphrase, g);
    if ((err = gpgme_get_key(g->ctx, g->fpr, &g->cakey, 1)) != 0 || !g->cakey
        || !g->cakey->can_certify || g->cakey->revoked || g->cakey->expired
        || g->cakey->invalid || !g->cakey->subkeys
        || strcasecmp(g->cakey->subkeys->fpr, g->fpr)) {
        ca_log(CA_LOG_ERR, "CA90105", APR_SUCCESS, "openpgp: no usable secret key %s in %s%s%s",
               g->fpr, home, err ? ": " : "", err ? gpgme_strerror(err) : "");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t signerd_pgp_open(signerd_config_t *conf, const char *passphrase, apr_pool_t *p)
{
    signerd_pgp_t *g = conf->pgp;
    gpgme_error_t err;
    gpgme_data_t in = NULL, out = NULL;
    gpgme_sign_result_t sr;
    struct stat sb;
    apr_status_t rv = APR_EGENERAL;
    const char *conftext;

    if (!g) {
        return APR_SUCCESS;
    }
    if (stat(g->home, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        ca_log(CA_LOG_ERR, "CA90102", APR_SUCCESS, "openpgp home %s is not a directory",
               g->home);
        return APR_EINVAL;
    }
    if (sb.st_uid != geteuid()) {
        ca_log(CA_LOG_ERR, "CA90103", APR_SUCCESS, "openpgp home %s must belong to the user "
               "signerd runs as (uid %ld)", g->home, (long)geteuid());
        return APR_EINVAL;
    }
    if (ca_gpg_init() != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* an agent left from an earlier run would not read the new settings */
    ca_gpg_kill_agent(g->home, 1);
    g->session = apr_pstrcat(p, g->home, "/session", NULL);
    conftext = apr_psprintf(p, "# written by signerd at every start: edits are lost\n"
                            "no-greeting\nbatch\nno-auto-key-retrieve\n"
                            "trust-model always\ndefault-cert-level 0\n"
                            "cert-digest-algo %s\ncert-policy-url %s\n"
                            "no-auto-check-trustdb\n", g->digest, g->cps_url);
    if ((rv = write_file(apr_pstrcat(p, g->home, "/gpg.conf", NULL), conftext))
        != APR_SUCCESS
        || (rv = write_file(apr_pstrcat(p, g->home, "/gpg-agent.conf", NULL),
                            apr_pstrcat(p, "# written by signerd at every start: edits are "
                                        "lost\nallow-loopback-pinentry\n"
                                        "default-cache-ttl 315360000\n"
                                        "max-cache-ttl 315360000\n",
                                        g->scdaemon ? "scdaemon-program " : "",
                                        g->scdaemon ? g->scdaemon : "",
                                        g->scdaemon ? "\n" : "", NULL)))
        != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA90104", rv, "cannot write the gpg configuration in %s", g->home);
        return rv;
    }
    /* the passphrase (or the token's PIN): kept, in locked memory, while
     * the agent may ask for it */
    if (passphrase && *passphrase) {
        size_t n = strlen(passphrase) + 1;
        if (!(g->pass = malloc(n))) {
            return APR_ENOMEM;
        }
        memcpy(g->pass, passphrase, n);
    }
    apr_pool_create(&g->pool, p);
    g->open = 1;
    if ((rv = find_key(g, g->home)) != APR_SUCCESS) {
        return rv;
    }
    g->on_card = g->cakey->subkeys->is_cardkey;
    if (g->on_card) {
        /* the key is on a token, reached through the agent's scdaemon
         * (gnupg-pkcs11-scd): every certification is made there, with the
         * PIN the agent asks for once; nothing to copy */
        ca_log(CA_LOG_NOTICE, "CA90112", APR_SUCCESS, "openpgp: key %s is on a token (card "
               "%s)", g->fpr, g->cakey->subkeys->card_number ? g->cakey->subkeys->card_number
                                                            : "?");
        g->asked = 1;
        g->session_pass = g->pass;
        g->pass = NULL;
    }
    else {
        gpgme_key_unref(g->cakey);
        g->cakey = NULL;
        if ((rv = make_session(g, conftext, p)) != APR_SUCCESS) {
            ca_log(CA_LOG_ERR, "CA90110", rv, "cannot make the session copy %s", g->session);
            return rv;
        }
        if ((rv = find_key(g, g->session)) != APR_SUCCESS
            || (rv = session_passphrase(g)) != APR_SUCCESS) {
            return rv;
        }
    }
    rv = APR_EGENERAL;
    if (!g->cakey->can_sign) {
        /* a certify-only key cannot make the self-test signature: the first
         * certification unlocks it */
        ca_log(CA_LOG_NOTICE, "CA90108", APR_SUCCESS, "openpgp: key %s certifies only: no "
               "self-test signature at start", g->fpr);
        rv = APR_SUCCESS;
    }
    /* unlock the key once, and prove that gpg can sign as this user */
    gpgme_signers_clear(g->ctx);
    gpgme_signers_add(g->ctx, g->cakey);
    if (rv != APR_SUCCESS && gpgme_data_new_from_mem(&in, "signerd self-test\n", 18, 0) == 0
        && gpgme_data_new(&out) == 0) {
        err = gpgme_op_sign(g->ctx, in, out, GPGME_SIG_MODE_DETACH);
        sr = err ? NULL : gpgme_op_sign_result(g->ctx);
        if (sr && sr->signatures && !sr->invalid_signers) {
            rv = APR_SUCCESS;
        }
        else {
            ca_log(CA_LOG_ERR, "CA90106", APR_SUCCESS, "openpgp: the self-test signature "
                   "with %s failed: %s", g->fpr, err ? gpgme_strerror(err) : "no signature");
        }
    }
    gpgme_signers_clear(g->ctx);
    if (in) {
        gpgme_data_release(in);
    }
    if (out) {
        gpgme_data_release(out);
    }
    if (rv == APR_SUCCESS) {
        ca_log(CA_LOG_NOTICE, "CA90107", APR_SUCCESS, "openpgp: key %s ready in %s, "
               "certifications for %d days, %s, policy URL %s", g->fpr, g->home, g->days,
               g->digest, g->cps_url);
    }
    return rv;
}

void signerd_pgp_close(signerd_config_t *conf)
{
    signerd_pgp_t *g = conf ? conf->pgp : NULL;

    if (!g || !g->open) {
        return;
    }
    if (g->cakey) {
        gpgme_key_unref(g->cakey);
        g->cakey = NULL;
    }
    if (g->pool) {
        apr_pool_destroy(g->pool);
        g->pool = NULL;
        g->ctx = NULL;
    }
    if (g->pass) {
        OPENSSL_cleanse(g->pass, strlen(g->pass));
        free(g->pass);
        g->pass = NULL;
    }
    if (g->session_pass) {
        OPENSSL_cleanse(g->session_pass, strlen(g->session_pass));
        free(g->session_pass);
        g->session_pass = NULL;
    }
    /* the agents hold the passphrases: they go with signerd, and so does
     * the session copy */
    ca_gpg_kill_agent(g->home, 1);      /* and its scdaemon: the token's session ends */
    if (!g->on_card && g->session) {
        apr_pool_t *tp;
        ca_gpg_kill_agent(g->session, 1);
        apr_pool_create(&tp, NULL);
        if (ca_gpg_rmtree(g->session, tp) != APR_SUCCESS) {
            ca_log(CA_LOG_WARN, "CA90111", APR_SUCCESS, "cannot remove %s", g->session);
        }
        apr_pool_destroy(tp);
    }
    g->open = 0;
}

/* drop the member's key from the CA's keyring (never the CA's own) */
static void forget_key(signerd_pgp_t *g, const char *fpr)
{
    gpgme_key_t k = NULL;

    if (!strcasecmp(fpr, g->fpr)) {
        return;
    }
    if (gpgme_get_key(g->ctx, fpr, &k, 0) == 0 && k) {
        gpgme_op_delete_ext(g->ctx, k, GPGME_DELETE_FORCE);
        gpgme_key_unref(k);
    }
}

/* the request's user IDs (no one twice), names and addresses */
static const char *request_lists(apr_array_header_t **puids, apr_array_header_t **pnames,
                                 apr_array_header_t **pemails,
                                 const apr_array_header_t *tlvs, apr_pool_t *p)
{
    int i, j;

    *puids = apr_array_make(p, 4, sizeof(const char *));
    *pnames = apr_array_make(p, 4, sizeof(const char *));
    *pemails = apr_array_make(p, 4, sizeof(const char *));
    for (i = 0; i < tlvs->nelts; i++) {
        const ca_tlv_t *t = &APR_ARRAY_IDX(tlvs, i, ca_tlv_t);
        const char *s = apr_pstrmemdup(p, (const char *)t->value, t->len);
        if (t->tag == CA_TAG_PGP_UID) {
            for (j = 0; j < (*puids)->nelts; j++) {
                if (!strcmp(APR_ARRAY_IDX(*puids, j, const char *), s)) {
                    return "the same user ID asked twice";
                }
            }
            APR_ARRAY_PUSH(*puids, const char *) = s;
        }
        else if (t->tag == CA_TAG_PGP_NAME) {
            APR_ARRAY_PUSH(*pnames, const char *) = s;
        }
        else if (t->tag == CA_TAG_PGP_EMAIL) {
            APR_ARRAY_PUSH(*pemails, const char *) = s;
        }
    }
    return NULL;
}

/* the key: one well-formed public key, as a member may upload it, the one
 * the request names, not the CA's; every user ID on it, self-certified,
 * within Table 4.3.1 for the facts given.  *plf: the user IDs, one a line */
static const char *request_key(ca_pgp_key_t **pkey, const char **plf, const signerd_pgp_t *g,
                               const apr_array_header_t *tlvs, const apr_array_header_t *uids,
                               const apr_array_header_t *names,
                               const apr_array_header_t *emails, apr_pool_t *p)
{
    const ca_tlv_t *kt = ca_tlv_get(tlvs, CA_TAG_PGP_KEY);
    const ca_tlv_t *ft = ca_tlv_get(tlvs, CA_TAG_PGP_FPR);
    const char *e, *lf = "";
    ca_pgp_key_t *key;
    int i, j;

    if ((e = ca_pgp_parse(&key, kt->value, kt->len, p))) {
        return apr_psprintf(p, "the key is refused (%s)", e);
    }
    if (memcmp(key->fpr, ft->value, 20)) {
        return "the key is not the one the request names (fingerprint)";
    }
    if (!memcmp(key->fpr_hex, g->fpr, 40)) {
        return "the request asks to certify the CA's own key";
    }
    for (i = 0; i < uids->nelts; i++) {
        const char *u = APR_ARRAY_IDX(uids, i, const char *);
        int on = 0;
        for (j = 0; j < key->uids->nelts; j++) {
            const ca_pgp_uid_t *ku = &APR_ARRAY_IDX(key->uids, j, ca_pgp_uid_t);
            if (!strcmp(ku->text, u)) {
                on = ku->self_signed ? 1 : 2;
            }
        }
        if (on != 1) {
            return apr_psprintf(p, "user ID %d is %s", i + 1,
                                on ? "not self-certified" : "not on the key");
        }
        if ((e = ca_pgp_uid_verdict(u, names, emails, p))) {
            return apr_psprintf(p, "user ID %d does not fit the facts given (%s)", i + 1, e);
        }
        lf = apr_pstrcat(p, lf, i ? "\n" : "", u, NULL);
    }
    *pkey = key;
    *plf = lf;
    return NULL;
}

/* what gpg sees: the primary key, these user IDs, their
 * self-certifications, the subkeys -- nothing else; then gpg's own view of
 * it must agree (*pmk: gpg's key, the caller unrefs it) */
static const char *gpg_import(gpgme_key_t *pmk, signerd_pgp_t *g, const ca_pgp_key_t *key,
                              const apr_array_header_t *uids, apr_pool_t *p)
{
    const unsigned char *clean;
    apr_size_t cleanlen;
    gpgme_data_t d = NULL;
    gpgme_import_result_t ir;
    gpgme_user_id_t gu;
    gpgme_error_t err;
    int i;

    ca_pgp_filter(&clean, &cleanlen, NULL, key, uids, NULL, p);
    forget_key(g, key->fpr_hex);
    if (gpgme_data_new_from_mem(&d, (const char *)clean, cleanlen, 0) != 0) {
        return "internal error: gpgme data";
    }
    err = gpgme_op_import(g->ctx, d);
    gpgme_data_release(d);
    ir = err ? NULL : gpgme_op_import_result(g->ctx);
    if (!ir || ir->considered != 1 || ir->imported != 1 || ir->secret_read != 0
        || !ir->imports || !ir->imports->fpr || strcasecmp(ir->imports->fpr, key->fpr_hex)) {
        return apr_psprintf(p, "gpg does not import the key alone (%s)",
                            err ? gpgme_strerror(err) : "import result");
    }
    if ((err = gpgme_get_key(g->ctx, key->fpr_hex, pmk, 0)) != 0 || !*pmk) {
        return "gpg lost the key after importing it";
    }
    if ((*pmk)->revoked || (*pmk)->expired || (*pmk)->invalid || (*pmk)->disabled
        || (*pmk)->secret) {
        return "gpg finds the key revoked, expired or invalid";
    }
    for (i = 0; i < uids->nelts; i++) {
        const char *u = APR_ARRAY_IDX(uids, i, const char *);
        for (gu = (*pmk)->uids; gu; gu = gu->next) {
            if (gu->uid && !strcmp(gu->uid, u)) {
                break;
            }
        }
        if (!gu || gu->revoked || gu->invalid) {
            return apr_psprintf(p, "gpg finds user ID %d revoked or without a valid "
                                "self-certification", i + 1);
        }
    }
    return NULL;
}

/* gpg certifies the user IDs (lf) with the CA key and exports the key;
 * *pexported: gpg's memory (gpgme_free) */
static const char *gpg_certify(ca_pgp_key_t **psigned, char **pexported, signerd_pgp_t *g,
                               gpgme_key_t mk, const ca_pgp_key_t *key, const char *lf,
                               apr_pool_t *p)
{
    gpgme_data_t d = NULL;
    gpgme_error_t err;
    size_t explen = 0;

    gpgme_signers_clear(g->ctx);
    if ((err = gpgme_signers_add(g->ctx, g->cakey)) != 0
        || (err = gpgme_op_keysign(g->ctx, mk, lf,
                                   (unsigned long)g->days * 86400ul,
                                   GPGME_KEYSIGN_LFSEP | GPGME_KEYSIGN_FORCE)) != 0) {
        return apr_psprintf(p, "gpg could not certify: %s", gpgme_strerror(err));
    }
    gpgme_signers_clear(g->ctx);
    if (gpgme_data_new(&d) != 0) {
        return "gpg could not export the certified key";
    }
    if (gpgme_op_export(g->ctx, key->fpr_hex, 0, d) != 0) {
        gpgme_data_release(d);
        return "gpg could not export the certified key";
    }
    *pexported = gpgme_data_release_and_get_mem(d, &explen);
    if (!*pexported || ca_pgp_parse(psigned, (const unsigned char *)*pexported, explen, p)) {
        return "the certified key gpg exported does not parse";
    }
    if (memcmp((*psigned)->fpr, key->fpr, 20)) {
        return "gpg exported another key";
    }
    return NULL;
}

const char *signerd_pgp_sign(const unsigned char **panswer, apr_size_t *plen,
                             const char **pdone, signerd_config_t *conf,
                             const apr_array_header_t *tlvs, apr_pool_t *p)
{
    signerd_pgp_t *g = conf->pgp;
    apr_array_header_t *uids, *names, *emails, *answer;
    ca_pgp_key_t *key = NULL, *signedkey;
    const unsigned char *outk;
    apr_size_t outlen;
    gpgme_key_t mk = NULL;
    const char *why, *lf = NULL;
    char *exported = NULL;
    int i, count;
    int64_t expires = 0;

    *panswer = NULL;
    *plen = 0;
    *pdone = NULL;
    if (!g || !g->open) {
        return "OpenPGP signing is not configured";
    }
    if ((why = request_lists(&uids, &names, &emails, tlvs, p))
        || (why = request_key(&key, &lf, g, tlvs, uids, names, emails, p))) {
        return why;
    }
    if ((why = gpg_import(&mk, g, key, uids, p))
        || (why = gpg_certify(&signedkey, &exported, g, mk, key, lf, p))) {
        goto leave;
    }
    /* only the new certifications leave, on exactly these user IDs */
    ca_pgp_filter(&outk, &outlen, &count, signedkey, uids, g->keyid, p);
    if (count != uids->nelts || ca_pgp_parse(&signedkey, outk, outlen, p)) {
        why = apr_psprintf(p, "gpg made %d certifications for %d user IDs", count,
                           uids->nelts);
        goto leave;
    }
    for (i = 0; i < uids->nelts; i++) {
        int64_t x;
        if (ca_pgp_count_certs(&x, signedkey, APR_ARRAY_IDX(uids, i, const char *),
                               g->keyid) != 1) {
            why = "a user ID does not carry exactly one new certification";
            goto leave;
        }
        if (!expires || (x && x < expires)) {
            expires = x;
        }
    }
    answer = apr_array_make(p, (int)outlen + 64, 1);
    ca_tlv_add(answer, CA_TAG_PGP_KEY, outk, outlen);
    ca_tlv_add_uint(answer, CA_TAG_TIME, (uint64_t)expires, 8);
    ca_tlv_add_uint(answer, CA_TAG_COUNT, (uint64_t)count, 4);
    *panswer = (const unsigned char *)answer->elts;
    *plen = (apr_size_t)answer->nelts;
    *pdone = apr_psprintf(p, "certified %d user ID%s of key %s with %s, expiring %" PRId64,
                          count, count == 1 ? "" : "s", key->fpr_hex, g->fpr, expires);
leave:
    if (exported) {
        gpgme_free(exported);
    }
    if (mk) {
        gpgme_key_unref(mk);
    }
    gpgme_signers_clear(g->ctx);
    /* the member's key leaves the CA's keyring whatever happened */
    forget_key(g, key->fpr_hex);
    return why;
}

const char *signerd_pgp_fpr(const signerd_config_t *conf)
{
    return conf->pgp ? conf->pgp->fpr : NULL;
}
