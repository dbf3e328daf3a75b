/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The signer protocol: framed, versioned, length-checked, CRC-checked
 * messages over a raw serial line between the web host's signer link and
 * signerd.  Pure functions: no I/O here.
 *
 * Frame (all integers big-endian):
 *   magic    2  0xCA 0x5E
 *   version  1  CA_WIRE_VERSION
 *   type     1  ca_msg_type_t
 *   id       8  request id (the web side's durable request number); 0 for
 *               HELLO/HEARTBEAT
 *   length   4  payload length, <= CA_WIRE_MAX_PAYLOAD
 *   payload  length bytes
 *   crc      4  CRC-32 (IEEE 802.3) of everything before it
 *
 * Payloads are TLV lists: tag 1 byte, length 2 bytes, value.  Each message
 * type has a fixed set of tags, each at most once unless stated; unknown
 * tags, missing mandatory tags, duplicates and trailing bytes make the
 * message malformed. */
#ifndef CA_WIRE_H
#define CA_WIRE_H

#include <stdint.h>

#include <apr_pools.h>
#include <apr_tables.h>

#define CA_WIRE_VERSION 1
#define CA_WIRE_HEADER 16
#define CA_WIRE_TRAILER 4
#define CA_WIRE_MAX_PAYLOAD 65536

typedef enum {
    CA_MSG_HELLO = 0x01,        /* link -> signerd: start of a conversation */
    CA_MSG_HEARTBEAT = 0x02,    /* link -> signerd: keeps the dead-man at bay */
    CA_MSG_SIGN = 0x03,         /* link -> signerd: sign a certificate */
    CA_MSG_REVOKE = 0x04,       /* link -> signerd: record a revocation */
    CA_MSG_CRL = 0x05,          /* link -> signerd: sign a CRL */
    CA_MSG_PGPSIGN = 0x06,      /* link -> signerd: certify user IDs of an OpenPGP key */
    CA_MSG_HELLO_OK = 0x81,
    CA_MSG_HEARTBEAT_OK = 0x82,
    CA_MSG_CERT = 0x83,         /* the certificate */
    CA_MSG_REVOKED = 0x84,
    CA_MSG_CRL_SIG = 0x85,
    CA_MSG_PGPKEY = 0x86,       /* the OpenPGP key with the new certifications */
    CA_MSG_NAK = 0x7E,          /* either way: a damaged frame was seen; resend */
    CA_MSG_STOP = 0x7F          /* signerd -> link: refused, stopping (reason) */
} ca_msg_type_t;

typedef struct {
    uint8_t type;
    uint64_t id;
    const unsigned char *payload;
    uint32_t len;
} ca_frame_t;

/* CRC-32 (reflected 0xEDB88320, init and final xor 0xFFFFFFFF) */
uint32_t ca_crc32(const unsigned char *data, apr_size_t len);

/* encode one frame; payload may be NULL when len is 0 */
apr_status_t ca_wire_encode(const unsigned char **pbuf, apr_size_t *plen,
                            uint8_t type, uint64_t id,
                            const unsigned char *payload, apr_size_t len,
                            apr_pool_t *p);

/* Stream decoder: feed it the bytes as they come; it hands out whole frames.
 * Bytes before a magic are skipped (counted as garbage).  A frame with a
 * bad CRC, a wrong version or an oversized length is "damaged": it is
 * dropped, the decoder resynchronises at the next magic, and the caller is
 * told so (it sends NAK or resends).  A damaged frame is never acted on. */
typedef struct ca_wire_decoder_t ca_wire_decoder_t;

typedef enum {
    CA_WIRE_NEED_MORE = 0,      /* no complete frame yet */
    CA_WIRE_FRAME = 1,          /* *frame is valid until the next call */
    CA_WIRE_DAMAGED = 2         /* a damaged frame was dropped */
} ca_wire_event_t;

ca_wire_decoder_t *ca_wire_decoder_make(apr_pool_t *p);
/* append bytes to the decoder's buffer (bounded: one max frame + slack of
 * CA_WIRE_FEED_MAX).  Drain with ca_wire_next until CA_WIRE_NEED_MORE
 * before feeding more than CA_WIRE_FEED_MAX again: bytes that do not fit
 * are dropped (oldest first) and reported as one damaged frame. */
#define CA_WIRE_FEED_MAX 65536
void ca_wire_feed(ca_wire_decoder_t *d, const unsigned char *data, apr_size_t len);
/* take the next event; call until CA_WIRE_NEED_MORE.  *frame (its payload
 * points into the decoder's buffer) is valid until the next call of
 * ca_wire_next, ca_wire_feed or ca_wire_idle.  Work is O(n) in the bytes
 * fed (each byte is checksummed once; a candidate frame's CRC is derived
 * from running CRCs in O(log length)), whatever the damage. */
ca_wire_event_t ca_wire_next(ca_wire_decoder_t *d, ca_frame_t *frame);
/* The line has been quiet while a frame was incomplete.  Senders write
 * whole frames, so the rest of it was lost (or its length field is
 * damaged and the decoder would wait for bytes that never come): drop it
 * as damaged and resynchronise.  Returns CA_WIRE_DAMAGED when something
 * was dropped (then call ca_wire_next again: frames may follow inside the
 * dropped bytes), CA_WIRE_NEED_MORE otherwise. */
ca_wire_event_t ca_wire_idle(ca_wire_decoder_t *d);
/* the silence, in milliseconds, after which both ends call ca_wire_idle
 * (docs/signer-protocol.md) */
#define CA_WIRE_IDLE_MS 1000
/* bytes held that do not yet make a whole frame (arm an idle timer when
 * non-zero) */
apr_size_t ca_wire_pending(const ca_wire_decoder_t *d);
/* bytes skipped as garbage and frames dropped as damaged, so far */
apr_size_t ca_wire_garbage(const ca_wire_decoder_t *d);
apr_size_t ca_wire_damaged(const ca_wire_decoder_t *d);

/* ---- payloads ---- */

/* tags */
enum {
    CA_TAG_CA = 1,          /* issuing CA name: "member", "assured", "org", "class1", "class3" */
    CA_TAG_PROFILE = 2,     /* "client", "server", "codesign", "org-client", "org-server" */
    CA_TAG_CN = 3,          /* UTF-8 */
    CA_TAG_EMAIL = 4,       /* subject emailAddress */
    CA_TAG_SAN_EMAIL = 5,   /* repeated */
    CA_TAG_SAN_DNS = 6,     /* repeated */
    CA_TAG_SPKI = 7,        /* DER SubjectPublicKeyInfo */
    CA_TAG_DAYS = 8,        /* uint16 */
    CA_TAG_MD = 9,          /* "sha256" | "sha384" | "sha512" */
    CA_TAG_ORG_O = 10, CA_TAG_ORG_OU = 11, CA_TAG_ORG_L = 12, CA_TAG_ORG_ST = 13,
    CA_TAG_ORG_C = 14,
    CA_TAG_CERT = 20,       /* DER certificate */
    CA_TAG_SERIAL = 21,     /* certificate serial, big-endian bytes */
    CA_TAG_TIME = 22,       /* int64 seconds since the epoch */
    CA_TAG_REASON = 23,     /* uint8 CRLReason */
    CA_TAG_CRL_NUMBER = 24, /* uint64 */
    CA_TAG_THIS_UPDATE = 25,/* int64 */
    CA_TAG_NEXT_UPDATE = 26,/* int64 */
    CA_TAG_TBS_SHA256 = 27, /* 32 bytes: the TBSCertList the link built */
    CA_TAG_SIGNATURE = 28,
    CA_TAG_TEXT = 29,       /* UTF-8 reason (STOP) or version (HELLO_OK) */
    CA_TAG_COUNT = 30,      /* uint32: revocations the signer holds for that CA;
                             * PGPKEY: certifications made */
    CA_TAG_PGP_KEY = 31,    /* binary OpenPGP transferable public key */
    CA_TAG_PGP_FPR = 32,    /* 20 bytes: v4 fingerprint of its primary key */
    CA_TAG_PGP_UID = 33,    /* repeated (1..32): a user ID to certify, exactly */
    CA_TAG_PGP_NAME = 34,   /* repeated (0..16): a permitted form of the assured name */
    CA_TAG_PGP_EMAIL = 35,  /* repeated: a verified address of the member */
    CA_TAG_PENDING = 36     /* uint32 (CRL_SIG): signerd still hashes the CRL;
                             * ask again in about this many ms (revision 1.2) */
};

typedef struct {
    uint8_t tag;
    uint16_t len;
    const unsigned char *value;
} ca_tlv_t;

/* append a TLV to a growing buffer (an apr array of bytes, elt_size 1);
 * a value longer than 65535 bytes is not added (logged: CA60001) and the
 * message then fails ca_wire_check on the other side */
void ca_tlv_add(apr_array_header_t *buf, uint8_t tag, const void *value, apr_size_t len);
void ca_tlv_add_str(apr_array_header_t *buf, uint8_t tag, const char *s);
void ca_tlv_add_u64(apr_array_header_t *buf, uint8_t tag, uint64_t v);  /* 8 bytes */
/* nbytes (1, 2, 4 or 8) big-endian bytes of v */
void ca_tlv_add_uint(apr_array_header_t *buf, uint8_t tag, uint64_t v, int nbytes);
/* parse a payload into TLVs (an array of ca_tlv_t whose values point into
 * payload); APR_EINVAL on truncation or overrun (*ptlvs is then NULL) */
apr_status_t ca_tlv_parse(apr_array_header_t **ptlvs, const unsigned char *payload,
                          apr_size_t len, apr_pool_t *p);

/* Check a frame's parsed TLVs against its message type's schema (both
 * directions, see docs/signer-protocol.md): the id is 0 exactly for HELLO,
 * HELLO_OK, HEARTBEAT, HEARTBEAT_OK and NAK; only the type's tags, each
 * within its count, fixed-size values of their exact size (DAYS 2, COUNT 4,
 * TIME/CRL_NUMBER/THIS_UPDATE/NEXT_UPDATE 8, TBS_SHA256 32, REASON 1),
 * SERIAL 1..20 bytes, first byte non-zero (a positive serial,
 * minimal big-endian), text values non-empty
 * without NUL; CRL_SIG carries exactly one of SIGNATURE and TBS_SHA256.
 * APR_EINVAL with *perr (a static string) when the message is malformed,
 * APR_ENOTIMPL for an unknown type. */
apr_status_t ca_wire_check(const char **perr, const ca_frame_t *frame,
                           const apr_array_header_t *tlvs);
/* the first TLV with that tag, or NULL */
const ca_tlv_t *ca_tlv_get(const apr_array_header_t *tlvs, uint8_t tag);
/* big-endian integer of a TLV of exactly 1, 2, 4 or 8 bytes */
uint64_t ca_tlv_uint(const ca_tlv_t *t);

#endif
