/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* gpg through gpgme.  See ca_gpg.h.  Log tags CA900xx. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_strings.h>

#include "ca_gpg.h"
#include "ca_log.h"

extern char **environ;

apr_status_t ca_gpg_init(void)
{
    gpgme_engine_info_t ei;
    const char *pre = getenv("LD_PRELOAD");

    /* a sanitizer runtime preloaded into this process (the ASan test
     * builds) must not be handed to gpg and gpg-agent, which are not built
     * with it; called before any thread or child exists */
    if (pre && (strstr(pre, "libasan") || strstr(pre, "clang_rt.asan"))) {
        unsetenv("LD_PRELOAD");
    }

    if (!gpgme_check_version("1.14.0")) {
        ca_log(CA_LOG_ERR, "CA90001", APR_SUCCESS, "gpgme is older than 1.14");
        return APR_EGENERAL;
    }
    if (gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) != 0
        || gpgme_get_engine_info(&ei) != 0) {
        ca_log(CA_LOG_ERR, "CA90001", APR_SUCCESS, "gpgme finds no usable gpg engine");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t release_ctx(void *data)
{
    gpgme_release((gpgme_ctx_t)data);
    return APR_SUCCESS;
}

/* never ask for a passphrase: the callback declines */
static gpgme_error_t no_passphrase(void *hook, const char *uid_hint,
                                   const char *passphrase_info, int prev_was_bad, int fd)
{
    return gpg_error(GPG_ERR_CANCELED);
}

apr_status_t ca_gpg_ctx(gpgme_ctx_t *pctx, const char *homedir, apr_pool_t *p)
{
    gpgme_ctx_t ctx = NULL;
    gpgme_error_t err;

    *pctx = NULL;
    if ((err = gpgme_new(&ctx)) != 0) {
        ca_log(CA_LOG_ERR, "CA90002", APR_SUCCESS, "gpgme_new: %s", gpgme_strerror(err));
        return APR_EGENERAL;
    }
    if ((err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0
        || (err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, homedir)) != 0
        || (err = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK)) != 0) {
        ca_log(CA_LOG_ERR, "CA90003", APR_SUCCESS, "gpgme set-up for %s: %s", homedir,
               gpgme_strerror(err));
        gpgme_release(ctx);
        return APR_EGENERAL;
    }
    gpgme_set_armor(ctx, 0);
    gpgme_set_offline(ctx, 1);
    gpgme_set_passphrase_cb(ctx, no_passphrase, NULL);
    apr_pool_cleanup_register(p, ctx, release_ctx, apr_pool_cleanup_null);
    *pctx = ctx;
    return APR_SUCCESS;
}

apr_status_t ca_gpg_rmtree(const char *dir, apr_pool_t *p)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_pool_t *tmp;

    apr_pool_create(&tmp, p);
    if ((rv = apr_dir_open(&d, dir, tmp)) != APR_SUCCESS) {
        apr_pool_destroy(tmp);
        return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        const char *path;
        if (!strcmp(fi.name, ".") || !strcmp(fi.name, "..")) {
            continue;
        }
        path = apr_pstrcat(tmp, dir, "/", fi.name, NULL);
        if (fi.filetype == APR_DIR) {
            ca_gpg_rmtree(path, tmp);
        }
        else {
            apr_file_remove(path, tmp);
        }
    }
    apr_dir_close(d);
    rv = apr_dir_remove(dir, tmp);
    apr_pool_destroy(tmp);
    return rv;
}

typedef struct {
    const char *dir;
    apr_pool_t *pool;
} tmphome_t;

static apr_status_t tmphome_cleanup(void *data)
{
    tmphome_t *t = data;
    apr_pool_t *p;

    /* no agent is started there (no-autostart), but be sure */
    ca_gpg_kill_agent(t->dir, 0);
    apr_pool_create(&p, NULL);
    if (ca_gpg_rmtree(t->dir, p) != APR_SUCCESS) {
        ca_log(CA_LOG_WARN, "CA90004", APR_SUCCESS, "cannot remove the throwaway keyring %s",
               t->dir);
    }
    apr_pool_destroy(p);
    return APR_SUCCESS;
}

apr_status_t ca_gpg_tmphome(const char **phome, const char *tmpdir, apr_pool_t *p)
{
    static const char conf[] =
        "# a throwaway keyring: no agent, no network\n"
        "no-autostart\nbatch\nno-greeting\nno-auto-key-retrieve\n"
        "trust-model always\n";
    char *dir = apr_pstrcat(p, tmpdir, "/cacert-gpg-XXXXXX", NULL);
    tmphome_t *t;
    apr_file_t *f;
    apr_status_t rv;
    apr_size_t n = sizeof(conf) - 1;

    *phome = NULL;
    if (!mkdtemp(dir)) {
        rv = APR_FROM_OS_ERROR(errno);
        ca_log(CA_LOG_ERR, "CA90005", rv, "cannot make a throwaway keyring under %s", tmpdir);
        return rv;
    }
    t = apr_palloc(p, sizeof(*t));
    t->dir = dir;
    t->pool = p;
    apr_pool_cleanup_register(p, t, tmphome_cleanup, apr_pool_cleanup_null);
    rv = apr_file_open(&f, apr_pstrcat(p, dir, "/gpg.conf", NULL),
                       APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, conf, n, NULL);
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA90006", rv, "cannot write %s/gpg.conf", dir);
        return rv;
    }
    *phome = dir;
    return APR_SUCCESS;
}

void ca_gpg_kill_agent(const char *homedir, int always)
{
    gpgme_engine_info_t ei;
    const char *gpgconf = NULL;
    char *argv[6];
    pid_t pid;
    int st;
    posix_spawn_file_actions_t fa;

    if (gpgme_get_engine_info(&ei) == 0) {
        for (; ei; ei = ei->next) {
            if (ei->protocol == GPGME_PROTOCOL_GPGCONF && ei->file_name) {
                gpgconf = ei->file_name;
            }
        }
    }
    if (!gpgconf) {
        return;
    }
    /* nothing to stop when no agent socket is there */
    if (!always) {
        struct stat sb;
        char *sock = malloc(strlen(homedir) + 16);
        int none;
        if (!sock) {
            return;
        }
        strcpy(sock, homedir);
        strcat(sock, "/S.gpg-agent");
        none = stat(sock, &sb) != 0;
        free(sock);
        if (none) {
            return;
        }
    }
    argv[0] = (char *)"gpgconf";
    argv[1] = (char *)"--homedir";
    argv[2] = (char *)homedir;
    argv[3] = (char *)"--kill";
    argv[4] = (char *)"gpg-agent";
    argv[5] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", 0, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    if (posix_spawn(&pid, gpgconf, &fa, NULL, argv, environ) == 0) {
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
    }
    posix_spawn_file_actions_destroy(&fa);
}

apr_status_t ca_gpg_inspect(const char **perr, ca_gpg_keyinfo_t **pinfo,
                            const ca_pgp_key_t *key, const char *tmpdir, apr_pool_t *p)
{
    apr_pool_t *tmp;
    const char *home;
    gpgme_ctx_t ctx;
    gpgme_data_t d = NULL;
    gpgme_import_result_t ir;
    gpgme_key_t k = NULL;
    gpgme_user_id_t u;
    gpgme_error_t err;
    ca_gpg_keyinfo_t *info;
    apr_status_t rv;

    *perr = NULL;
    *pinfo = NULL;
    apr_pool_create(&tmp, p);
    if ((rv = ca_gpg_tmphome(&home, tmpdir, tmp)) != APR_SUCCESS
        || (rv = ca_gpg_ctx(&ctx, home, tmp)) != APR_SUCCESS) {
        goto leave;
    }
    if ((err = gpgme_data_new_from_mem(&d, (const char *)key->bin, key->len, 0)) != 0) {
        rv = APR_ENOMEM;
        goto leave;
    }
    err = gpgme_op_import(ctx, d);
    ir = err ? NULL : gpgme_op_import_result(ctx);
    if (!ir || ir->considered != 1 || ir->imported != 1 || ir->secret_read != 0
        || !ir->imports || !ir->imports->fpr || strcasecmp(ir->imports->fpr, key->fpr_hex)) {
        *perr = "pgp.gpg";
        goto leave;
    }
    if ((err = gpgme_get_key(ctx, key->fpr_hex, &k, 0)) != 0 || !k) {
        *perr = "pgp.gpg";
        goto leave;
    }
    info = apr_pcalloc(p, sizeof(*info));
    info->revoked = k->revoked;
    info->expired = k->expired;
    info->invalid = k->invalid;
    info->disabled = k->disabled;
    info->expires = k->subkeys ? (int64_t)k->subkeys->expires : 0;
    info->uids = apr_array_make(p, 4, sizeof(ca_gpg_uid_t));
    for (u = k->uids; u; u = u->next) {
        ca_gpg_uid_t *gu = apr_array_push(info->uids);
        gu->uid = apr_pstrdup(p, u->uid ? u->uid : "");
        gu->revoked = u->revoked;
        gu->invalid = u->invalid;
    }
    *pinfo = info;
    if (k->revoked) {
        *perr = "pgp.revoked";
    }
    else if (k->expired) {
        *perr = "pgp.expired";
    }
    else if (k->invalid || k->disabled) {
        *perr = "pgp.invalid";
    }
leave:
    if (k) {
        gpgme_key_unref(k);
    }
    if (d) {
        gpgme_data_release(d);
    }
    apr_pool_destroy(tmp);          /* the context, then the keyring */
    return rv;
}

const char *ca_gpg_uid_state(const ca_gpg_keyinfo_t *info, const char *uid)
{
    int i;

    for (i = 0; i < info->uids->nelts; i++) {
        const ca_gpg_uid_t *u = &APR_ARRAY_IDX(info->uids, i, ca_gpg_uid_t);
        if (!strcmp(u->uid, uid)) {
            return u->revoked ? "pgp.uid.revoked" : u->invalid ? "pgp.uid.invalid" : NULL;
        }
    }
    return "pgp.uid.noself";
}
