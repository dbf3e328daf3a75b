/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* gpg through gpgme: keyrings in a given home directory, throwaway ones
 * for looking at a member's key, and the agent's end.  Compiled only into
 * the programs that need gpg (mod_cacert_issue and signerd), not into
 * libcacert, so the other modules do not carry gpgme. */
#ifndef CA_GPG_H
#define CA_GPG_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <gpgme.h>

#include "ca_openpgp.h"

/* once per process, before any other call and before threads start:
 * gpgme_check_version and the OpenPGP engine (gpg) present; APR_EGENERAL
 * (logged CA90001) otherwise.  Removes a preloaded sanitizer runtime from
 * LD_PRELOAD so that gpg does not inherit it. */
apr_status_t ca_gpg_init(void);

/* a gpgme context on homedir (OpenPGP protocol, binary output, loopback
 * pinentry so that gpg never asks a terminal), released with p */
apr_status_t ca_gpg_ctx(gpgme_ctx_t *pctx, const char *homedir, apr_pool_t *p);

/* a throwaway home directory (mode 0700) under tmpdir with a gpg.conf
 * that never starts an agent or a dirmngr; it is removed with everything
 * in it when p is cleaned up */
apr_status_t ca_gpg_tmphome(const char **phome, const char *tmpdir, apr_pool_t *p);

/* stop the gpg-agent of homedir ("gpgconf --kill gpg-agent", through the
 * gpgconf that gpgme's engine info names); unless always, only when its
 * socket is in homedir */
void ca_gpg_kill_agent(const char *homedir, int always);

/* remove a directory tree (the throwaway homes) */
apr_status_t ca_gpg_rmtree(const char *dir, apr_pool_t *p);

typedef struct {
    const char *uid;
    int revoked, invalid;
} ca_gpg_uid_t;

typedef struct {
    int revoked, expired, invalid, disabled;
    int64_t expires;                /* of the primary key, 0 = never */
    apr_array_header_t *uids;       /* of ca_gpg_uid_t: what gpg accepted */
} ca_gpg_keyinfo_t;

/* what gpg makes of a member's key: imported alone into a throwaway
 * keyring under tmpdir (removed before returning).  *perr is NULL or a
 * message key: pgp.gpg (gpg refused it), pgp.revoked, pgp.expired,
 * pgp.invalid.  The return value is for internal failures (logged). */
apr_status_t ca_gpg_inspect(const char **perr, ca_gpg_keyinfo_t **pinfo,
                            const ca_pgp_key_t *key, const char *tmpdir, apr_pool_t *p);

/* the gpg verdict on one user ID of info: NULL (valid), pgp.uid.revoked,
 * pgp.uid.invalid or pgp.uid.noself (gpg dropped it: no valid
 * self-certification) */
const char *ca_gpg_uid_state(const ca_gpg_keyinfo_t *info, const char *uid);

#endif
