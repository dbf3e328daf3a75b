/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* OpenPGP keys (RFC 4880) as members upload them and as signerd returns
 * them: an armour decoder, a packet walker, the checks of an upload, the
 * filter that keeps only what may leave, and the rules of CPS 4.3.1 /
 * Table 4.3.1 (which user IDs the CA may certify).  Pure functions: no
 * gpg, no I/O.  gpg itself (src/ca_gpg.h) checks the self-signatures.
 *
 * Every check returns NULL when the input is acceptable, else the key of
 * a message in templates/messages.txt ("pgp.*"). */
#ifndef CA_OPENPGP_H
#define CA_OPENPGP_H

#include <stdint.h>

#include <apr_pools.h>
#include <apr_tables.h>

/* the largest key accepted anywhere (binary, after de-armouring); a
 * signerd request carries it in one TLV */
#define CA_PGP_MAX_KEY 32768
/* the most user IDs on one key */
#define CA_PGP_MAX_UIDS 32
/* the longest user ID, bytes */
#define CA_PGP_MAX_UID 1024

/* packet tags */
enum {
    CA_PGP_TAG_SIG = 2, CA_PGP_TAG_SECKEY = 5, CA_PGP_TAG_PUBKEY = 6,
    CA_PGP_TAG_SECSUBKEY = 7, CA_PGP_TAG_MARKER = 10, CA_PGP_TAG_TRUST = 12,
    CA_PGP_TAG_UID = 13, CA_PGP_TAG_PUBSUBKEY = 14, CA_PGP_TAG_UAT = 17
};

typedef struct {
    uint8_t tag;
    const unsigned char *raw;       /* header and body */
    apr_size_t rawlen;
    const unsigned char *body;
    apr_size_t len;
} ca_pgp_packet_t;

/* a signature packet, as far as the filter needs it */
typedef struct {
    int version;                    /* 3 or 4 */
    uint8_t type;                   /* 0x10-0x13 certifications, 0x18 binding, ... */
    int has_issuer;
    unsigned char issuer[8];        /* key ID, from subpacket 16 or 33 */
    int64_t created;                /* -1 when absent */
    int64_t expires;                /* seconds after created, 0 = never */
} ca_pgp_sig_t;

typedef struct {
    const char *text;               /* NUL-terminated, checked: UTF-8, no control char */
    int self_signed;                /* a self-certification follows it */
} ca_pgp_uid_t;

typedef struct {
    const unsigned char *bin;       /* the key, binary (transferable public key) */
    apr_size_t len;
    apr_array_header_t *packets;    /* of ca_pgp_packet_t */
    unsigned char fpr[20];          /* v4 fingerprint of the primary key */
    char fpr_hex[41];               /* upper-case hex */
    unsigned char keyid[8];
    int algo;                       /* public-key algorithm of the primary key */
    int bits;                       /* RSA/DSA modulus bits; 255 for Ed25519 */
    const char *algo_name;          /* "rsa3072", "dsa2048", "ed25519" */
    int64_t created;
    apr_array_header_t *uids;       /* of ca_pgp_uid_t, in key order */
    int subkeys;
} ca_pgp_key_t;

/* walk the packets of bin (no partial or indeterminate lengths); NULL or
 * "pgp.garbage" */
const char *ca_pgp_packets(apr_array_header_t **ppackets, const unsigned char *bin,
                           apr_size_t len, apr_pool_t *p);

/* de-armour an ASCII-armoured PUBLIC KEY BLOCK (checking its CRC-24 when
 * given); input that does not start with "-----BEGIN PGP" (after white
 * space) is returned as it is.  NULL or "pgp.garbage", "pgp.secret" (a
 * PRIVATE KEY BLOCK), "pgp.several" (more than one block) */
const char *ca_pgp_dearmor(const unsigned char **pbin, apr_size_t *plen,
                           const unsigned char *in, apr_size_t len, apr_pool_t *p);

/* armour a binary key as a PUBLIC KEY BLOCK */
const char *ca_pgp_armor(const unsigned char *bin, apr_size_t len, apr_pool_t *p);

/* parse one transferable public key as a member uploads it (armoured or
 * binary) and check it: exactly one v4 primary key, RSA >= 2048 bits (at
 * most 16384), DSA or Ed25519; subkeys v4 RSA >= 2048, DSA, Elgamal,
 * Curve25519 ECDH or Ed25519; no secret key; 1..CA_PGP_MAX_UIDS user IDs,
 * each valid UTF-8 without control characters; at most CA_PGP_MAX_KEY
 * bytes.  Refusals: pgp.garbage, pgp.toolarge, pgp.secret, pgp.several,
 * pgp.nokey, pgp.version, pgp.algo, pgp.rsa.small, pgp.subkey, pgp.nouid,
 * pgp.uids.many, pgp.uid.control, pgp.uid.long */
const char *ca_pgp_parse(ca_pgp_key_t **pkey, const unsigned char *in, apr_size_t len,
                         apr_pool_t *p);

/* parse a signature packet's body; 0 when malformed */
int ca_pgp_sig_parse(ca_pgp_sig_t *sig, const unsigned char *body, apr_size_t len);

/* The key that may leave: the primary key and its self-signatures, the
 * user IDs in keep (strings; each at most once, in key order) with their
 * self-certifications and -- if ca_keyid is not NULL -- the certifications
 * by that key, the subkeys with their self-signatures.  Nothing else: no
 * other user ID, no user attribute, no third-party signature, no trust
 * packet.  *pcount: certifications by ca_keyid kept. */
apr_status_t ca_pgp_filter(const unsigned char **pout, apr_size_t *plen, int *pcount,
                           const ca_pgp_key_t *key, const apr_array_header_t *keep,
                           const unsigned char *ca_keyid, apr_pool_t *p);

/* certifications by ca_keyid on user ID uid of key; *pexpires the latest
 * expiry (epoch seconds, 0 = none) among them */
int ca_pgp_count_certs(int64_t *pexpires, const ca_pgp_key_t *key, const char *uid,
                       const unsigned char ca_keyid[8]);

/* ---- CPS 4.3.1, Table 4.3.1 ---- */

typedef struct {
    const char *name;               /* "" when absent */
    const char *comment;            /* "" when absent */
    const char *email;              /* "" when absent */
} ca_pgp_uid_parts_t;

/* split "Name (Comment) <email>", "Name <email>", "<email>", "email" or
 * "Name"; 0 when it is none of these */
int ca_pgp_uid_split(ca_pgp_uid_parts_t *u, const char *uid, apr_pool_t *p);

/* the forms of the member's assured name a user ID may carry:
 * "Given Family", "Given Middle Family", "Given M. Family" (middle names
 * as initials), each also followed by the suffix when there is one */
apr_array_header_t *ca_pgp_name_variants(const char *given, const char *middle,
                                         const char *family, const char *suffix,
                                         apr_pool_t *p);

/* may the CA certify this user ID for a member with these permitted names
 * and verified addresses (arrays of const char *)?  Table 4.3.1: a
 * verified name with a verified address, or without any address; a
 * verified address without a name.  NULL, or why not: pgp.uid.malformed,
 * pgp.uid.comment, pgp.uid.name, pgp.uid.email */
const char *ca_pgp_uid_verdict(const char *uid, const apr_array_header_t *names,
                               const apr_array_header_t *emails, apr_pool_t *p);

#endif
