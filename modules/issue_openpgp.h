/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_issue: OpenPGP key signing (CPS 4.3.1).  The pages under
 * the certificate handler (openpgp, openpgp_key, openpgp_wait,
 * openpgp_download, openpgp_resign), the CA's public key on /pki, and the
 * signer link's handling of PGPKEY answers.  Thin glue: the key checks
 * are in src/ca_openpgp.c and src/ca_gpg.c, the storage in
 * src/ca_pgpkeys.c, the words in templates/. */
#ifndef ISSUE_OPENPGP_H
#define ISSUE_OPENPGP_H

#include <httpd.h>
#include <apr_time.h>

#include "ca_db.h"
#include "mod_cacert.h"

typedef struct {
    const char *key_file;           /* CAcertOpenPGPKey: the CA's public key */
    const char *tmpdir;             /* CAcertOpenPGPTempDir */
    /* loaded at start */
    int loaded;
    const char *armored;            /* the CA's public key, armoured */
    const char *fpr;                /* its fingerprint, hex */
    unsigned char keyid[8];
    const char *algo;
    const char *uid;                /* its first user ID */
} iss_pgp_cfg_t;

/* post_config: read and check the CA's public key (NULL or an error for
 * the log); a config without CAcertOpenPGPKey has no OpenPGP pages */
const char *iss_pgp_load(iss_pgp_cfg_t *c, apr_pool_t *p);
/* child_init: gpgme */
void iss_pgp_child_init(server_rec *s);

/* the waiting pages (mod_cacert_issue.c): the generation of ended requests
 * heard so far; then, after reading the request, sleep until the database
 * announced that request id ended (sql/019), the listener reconnected, a
 * second passed, or until (on the monotonic clock, ca_mono_now) -- whichever
 * comes first; *pgen moves on */
apr_uint64_t iss_wait_mark(void);
void iss_wait_for(apr_uint64_t *pgen, const char *id, apr_time_t until);

/* the pages; wait is how long the waiting page holds */
int iss_pgp_page_list(cacert_page_t *pg, const iss_pgp_cfg_t *c);
int iss_pgp_page_key(cacert_page_t *pg, const iss_pgp_cfg_t *c);
int iss_pgp_page_wait(cacert_page_t *pg, const iss_pgp_cfg_t *c, apr_interval_time_t wait);
int iss_pgp_page_download(cacert_page_t *pg, const iss_pgp_cfg_t *c);
int iss_pgp_page_resign(cacert_page_t *pg, const iss_pgp_cfg_t *c);

/* /pki: the CA's OpenPGP key on the page, and as openpgp.asc */
void iss_pgp_pki_vars(ca_tmpl_ctx_t *ctx, const iss_pgp_cfg_t *c);
int iss_pgp_pki_file(request_rec *r, const iss_pgp_cfg_t *c);

/* the signer link got PGPKEY for request req_id: store it and mail the
 * member.  1 stored, 0 could not be stored (ask again later), -1 the
 * answer does not fit the request (quarantined, logged). */
int iss_pgp_answer(server_rec *s, ca_db_t *db, const iss_pgp_cfg_t *c, const char *req_id,
                   const unsigned char *answer, apr_size_t len, apr_pool_t *p);

#endif
