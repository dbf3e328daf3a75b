/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* signerd: the single-purpose key process on the signing host (CPS 6.2.1).
 *
 * It owns the SubRoot keys, listens only on one serial line, speaks only
 * the signer protocol (src/ca_wire.h, docs/signer-protocol.md) and decides
 * on its own what it signs.  Anything malformed or outside its
 * configuration makes it log why, answer STOP, wipe its keys and exit.
 *
 *   signerd.c  main, start-up, privilege drop, the poll() loop, requests
 *   config.c   the config file (docs/signerd.md)
 *   serial.c   opening the serial device raw
 *   journal.c  the append-only, hash-chained journal of answers
 *
 * Log tags: CA610xx main, CA611xx config, CA612xx serial, CA613xx
 * journal, CA614xx requests. */
#ifndef SIGNERD_H
#define SIGNERD_H

#include <stdint.h>

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca_wire.h"
#include "ca_x509.h"

#define SIGNERD_VERSION "0.1"

/* exit statuses (docs/signerd.md) */
#define SIGNERD_EXIT_OK 0           /* SIGTERM / SIGINT */
#define SIGNERD_EXIT_START 1        /* could not start: config, keys, journal */
#define SIGNERD_EXIT_USAGE 2
#define SIGNERD_EXIT_STOP 3         /* refused a request (STOP sent) */
#define SIGNERD_EXIT_DEADMAN 4      /* no valid frame for too long */
#define SIGNERD_EXIT_IO 5           /* the line or the journal failed */

/* allowed hashes (signerd_ca_t.mds) */
#define SIGNERD_MD_SHA256 1u
#define SIGNERD_MD_SHA384 2u
#define SIGNERD_MD_SHA512 4u
/* allowed curves (signerd_ca_t.curves) */
#define SIGNERD_EC_P256 1u
#define SIGNERD_EC_P384 2u
#define SIGNERD_EC_P521 4u

typedef struct {
    const char *name;
    int line;                       /* where it was configured */
    const char *cert_path;
    const char *key_path;           /* a PEM file or a pkcs11: URI */
    unsigned profiles;              /* bit (1 << ca_profile_t) */
    int max_days;
    unsigned mds;
    const char *ocsp_url;
    const char *crl_url;
    const char *issuers_url;        /* may be NULL */
    const char *cps_url;            /* may be NULL */
    int wildcards;
    int max_sans;
    int rsa_min;
    unsigned curves;
    /* loaded at start */
    X509 *cert;
    EVP_PKEY *key;
    /* revocations recorded in the journal, in order */
    apr_array_header_t *revs;       /* of ca_crl_entry_t */
    apr_hash_t *rev_index;          /* serial bytes -> index + 1 (uintptr) */
    ca_crl_set_t *crlset;           /* the same, sorted and encoded for CRLs */
} signerd_ca_t;

typedef struct signerd_pgp_t signerd_pgp_t;

typedef struct {
    const char *path;
    const char *device;             /* the first line */
    const char *device2;            /* a second line (another web host), or NULL */
    long baud;
    const char *user;               /* may be NULL */
    const char *journal;
    int deadman;                    /* seconds */
    apr_array_header_t *cas;        /* of signerd_ca_t * */
    signerd_pgp_t *pgp;             /* the 'openpgp' directive, or NULL */
    const char *pkcs11_module;      /* the 'pkcs11-module' directive, or NULL */
} signerd_config_t;

/* config.c: parse the file; on error, logs "PATH:LINE: what" and returns
 * APR_EINVAL (or the I/O error) */
apr_status_t signerd_config_read(signerd_config_t **pconf, const char *path,
                                 apr_pool_t *p);
signerd_ca_t *signerd_config_ca(const signerd_config_t *conf, const char *name);
/* "sha256" -> SIGNERD_MD_SHA256, 0 when unknown */
unsigned signerd_md_bit(const char *name);


/* journal.c */
/* the hash function of signerd's id and serial indexes (apr_hash) */
unsigned int signerd_hash(const char *key, apr_ssize_t *klen);
typedef struct signerd_journal_t signerd_journal_t;

typedef struct {
    uint64_t id;
    uint8_t type;                   /* CA_MSG_SIGN or CA_MSG_REVOKE */
    uint8_t answer_type;            /* CA_MSG_CERT or CA_MSG_REVOKED */
    unsigned char reqhash[32];      /* SHA-256 of type byte and payload */
    const unsigned char *answer;    /* the answer's payload */
    apr_size_t alen;
} signerd_record_t;

/* open (create) the journal, verify its chain, replay it: the id index and
 * every CA's revocations.  APR_EINVAL (logged, naming the line) on a
 * broken chain or a damaged record. */
apr_status_t signerd_journal_open(signerd_journal_t **pj, const char *path,
                                  signerd_config_t *conf, apr_pool_t *p);
const signerd_record_t *signerd_journal_find(const signerd_journal_t *j, uint64_t id);
apr_size_t signerd_journal_records(const signerd_journal_t *j);
/* append (write + fsync) before the answer goes out */
apr_status_t signerd_journal_sign(signerd_journal_t *j, uint64_t id,
                                  const unsigned char reqhash[32], const char *ca,
                                  const unsigned char *answer, apr_size_t alen);
/* records the revocation in ca (unless the serial is there already: then
 * *pentry is the earlier one) and the answer */
apr_status_t signerd_journal_revoke(signerd_journal_t *j, uint64_t id,
                                    const unsigned char reqhash[32], signerd_ca_t *ca,
                                    const ca_crl_entry_t *entry,
                                    const unsigned char *answer, apr_size_t alen);
/* the revocation of that serial in ca, or NULL */
const ca_crl_entry_t *signerd_revocation_find(const signerd_ca_t *ca,
                                              const unsigned char *serial,
                                              apr_size_t len);
/* add a revocation to ca unless that serial is there; returns the entry
 * held (the new or the earlier one) */
const ca_crl_entry_t *signerd_revocation_add(signerd_ca_t *ca, const ca_crl_entry_t *e);

/* openpgp.c: OpenPGP key certification (docs/signerd.md, "OpenPGP") */
/* the 'openpgp' directive's words after the directive */
apr_status_t signerd_pgp_config(signerd_config_t *conf, const char *path, int line,
                                char **args, int nargs, apr_pool_t *p);
/* after the privilege drop: write gpg.conf and gpg-agent.conf in the home,
 * find the CA's secret key, unlock it with a self-test signature */
apr_status_t signerd_pgp_open(signerd_config_t *conf, const char *passphrase, apr_pool_t *p);
/* release gpgme, stop the agent */
void signerd_pgp_close(signerd_config_t *conf);
/* a PGPSIGN request (checked by ca_wire_check): NULL and the answer's
 * payload, or why it is refused; *pdone says what was done (for the log) */
const char *signerd_pgp_sign(const unsigned char **panswer, apr_size_t *plen,
                             const char **pdone, signerd_config_t *conf,
                             const apr_array_header_t *tlvs, apr_pool_t *p);
const char *signerd_pgp_fpr(const signerd_config_t *conf);
/* journal.c: a PGPSIGN answer, before it goes out */
apr_status_t signerd_journal_pgpsign(signerd_journal_t *j, uint64_t id,
                                     const unsigned char reqhash[32], const char *fpr,
                                     const unsigned char *answer, apr_size_t alen);

#endif
