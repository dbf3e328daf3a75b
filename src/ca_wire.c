/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The signer protocol's framing and TLV payloads (see ca_wire.h and
 * docs/signer-protocol.md).  Pure functions, no I/O.
 *
 * The stream decoder keeps one bounded buffer and, beside every byte, the
 * running CRC-32 of everything fed before it.  A candidate frame's CRC is
 * then derived from two running values (crc32_combine arithmetic), so a
 * resync inside a damaged frame never checksums the same bytes again: the
 * work stays O(n) in the bytes fed, even for input made of nothing but
 * magics with large length fields. */
#include <string.h>

#include <apr_strings.h>

#include "ca_log.h"
#include "ca_wire.h"

#define MAGIC0 0xCA
#define MAGIC1 0x5E
#define CRC_POLY 0xEDB88320u
#define MAX_FRAME (CA_WIRE_HEADER + CA_WIRE_MAX_PAYLOAD + CA_WIRE_TRAILER)

static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
    0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
    0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
    0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
    0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
    0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
    0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
    0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
    0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
    0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
    0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
    0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
    0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
    0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
    0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
    0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
    0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
    0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
    0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
    0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
    0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
    0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
    0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
    0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
    0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

static uint32_t crc_update(uint32_t reg, const unsigned char *data, apr_size_t len)
{
    while (len--) {
        reg = crc_table[(reg ^ *data++) & 0xff] ^ (reg >> 8);
    }
    return reg;
}

uint32_t ca_crc32(const unsigned char *data, apr_size_t len)
{
    return ~crc_update(0xFFFFFFFFu, data, len);
}

/* a * b modulo the CRC polynomial, reflected (bit 31 is x^0) */
static uint32_t multmodp(uint32_t a, uint32_t b)
{
    uint32_t m = 1u << 31, r = 0;

    for (;;) {
        if (a & m) {
            r ^= b;
            if ((a & (m - 1)) == 0) {
                break;
            }
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ CRC_POLY : b >> 1;
    }
    return r;
}

/* x^(8 * nbytes) mod p: the product of x^(2^k) for the bits k of
 * 8 * nbytes, each power the square of the one before */
static uint32_t x8nmodp(apr_size_t nbytes)
{
    uint32_t r = 1u << 31;      /* x^0 */
    uint32_t x2k = 1u << 23;    /* x^8 = x^(2^3): bit 3 of 8 * nbytes is bit 0 of nbytes */

    while (nbytes) {
        if (nbytes & 1) {
            r = multmodp(x2k, r);
        }
        nbytes >>= 1;
        x2k = multmodp(x2k, x2k);
    }
    return r;
}

static void put_be32(unsigned char *o, uint32_t v)
{
    o[0] = (unsigned char)(v >> 24);
    o[1] = (unsigned char)(v >> 16);
    o[2] = (unsigned char)(v >> 8);
    o[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *i)
{
    return ((uint32_t)i[0] << 24) | ((uint32_t)i[1] << 16) | ((uint32_t)i[2] << 8) | i[3];
}

static void put_be64(unsigned char *o, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; --i) {
        o[i] = (unsigned char)v;
        v >>= 8;
    }
}

static uint64_t get_be64(const unsigned char *in)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; ++i) {
        v = (v << 8) | in[i];
    }
    return v;
}

apr_status_t ca_wire_encode(const unsigned char **pbuf, apr_size_t *plen,
                            uint8_t type, uint64_t id,
                            const unsigned char *payload, apr_size_t len,
                            apr_pool_t *p)
{
    unsigned char *b;
    apr_size_t total;

    *pbuf = NULL;
    *plen = 0;
    if (len > CA_WIRE_MAX_PAYLOAD || (len && !payload)) {
        return APR_EINVAL;
    }
    total = CA_WIRE_HEADER + len + CA_WIRE_TRAILER;
    b = apr_palloc(p, total);
    b[0] = MAGIC0;
    b[1] = MAGIC1;
    b[2] = CA_WIRE_VERSION;
    b[3] = type;
    put_be64(b + 4, id);
    put_be32(b + 12, (uint32_t)len);
    if (len) {
        memcpy(b + CA_WIRE_HEADER, payload, len);
    }
    put_be32(b + CA_WIRE_HEADER + len, ca_crc32(b, CA_WIRE_HEADER + len));
    *pbuf = b;
    *plen = total;
    return APR_SUCCESS;
}

/* ---- stream decoder ---- */

struct ca_wire_decoder_t {
    unsigned char *buf;
    uint32_t *crc;          /* crc[k]: CRC-32 of buf[0..k) (see above) */
    apr_size_t cap;
    apr_size_t start;       /* first byte not yet consumed */
    apr_size_t end;         /* one past the last byte fed */
    uint32_t reg;           /* CRC register after buf[0..end) */
    apr_size_t garbage;
    apr_size_t damaged;
    int lost;               /* bytes were dropped unseen: report once */
};

ca_wire_decoder_t *ca_wire_decoder_make(apr_pool_t *p)
{
    ca_wire_decoder_t *d = apr_pcalloc(p, sizeof(*d));

    d->cap = MAX_FRAME + CA_WIRE_FEED_MAX;
    d->buf = apr_palloc(p, d->cap);
    d->crc = apr_palloc(p, (d->cap + 1) * sizeof(*d->crc));
    d->crc[0] = 0;
    d->reg = 0xFFFFFFFFu;
    return d;
}

static void compact(ca_wire_decoder_t *d)
{
    apr_size_t n = d->end - d->start;

    if (d->start == 0) {
        return;
    }
    memmove(d->buf, d->buf + d->start, n);
    memmove(d->crc, d->crc + d->start, (n + 1) * sizeof(*d->crc));
    d->start = 0;
    d->end = n;
}

void ca_wire_feed(ca_wire_decoder_t *d, const unsigned char *data, apr_size_t len)
{
    apr_size_t i;

    if (len == 0) {
        return;
    }
    if (len > d->cap) {
        /* only the last cap bytes can be kept */
        d->garbage += (d->end - d->start) + (len - d->cap);
        d->start = d->end;
        d->lost = 1;
        data += len - d->cap;
        len = d->cap;
    }
    if (d->end + len > d->cap) {
        compact(d);
    }
    if (d->end + len > d->cap) {
        apr_size_t drop = d->end + len - d->cap;

        d->garbage += drop;
        d->start += drop;
        d->lost = 1;
        compact(d);
    }
    memcpy(d->buf + d->end, data, len);
    for (i = 0; i < len; ++i) {
        d->reg = crc_table[(d->reg ^ data[i]) & 0xff] ^ (d->reg >> 8);
        d->crc[d->end + i + 1] = ~d->reg;
    }
    d->end += len;
}

/* CRC-32 of buf[a..b) from the running values: crc(0..b) is
 * crc(0..a) shifted by (b - a) bytes xor crc(a..b) */
static uint32_t crc_range(const ca_wire_decoder_t *d, apr_size_t a, apr_size_t b)
{
    return d->crc[b] ^ multmodp(x8nmodp(b - a), d->crc[a]);
}

ca_wire_event_t ca_wire_next(ca_wire_decoder_t *d, ca_frame_t *frame)
{
    const unsigned char *h;
    apr_size_t avail;
    uint32_t len;

    if (d->lost) {
        d->lost = 0;
        ++d->damaged;
        return CA_WIRE_DAMAGED;
    }
    for (;;) {
        avail = d->end - d->start;
        h = d->buf + d->start;
        if (avail == 0) {
            break;
        }
        if (h[0] != MAGIC0 || (avail >= 2 && h[1] != MAGIC1)) {
            const unsigned char *q = memchr(h + 1, MAGIC0, avail - 1);
            apr_size_t skip = q ? (apr_size_t)(q - h) : avail;

            d->garbage += skip;
            d->start += skip;
            continue;
        }
        if (avail < CA_WIRE_HEADER) {
            break;
        }
        len = get_be32(h + 12);
        if (h[2] != CA_WIRE_VERSION || len > CA_WIRE_MAX_PAYLOAD) {
            goto damaged;
        }
        if (avail < CA_WIRE_HEADER + len + CA_WIRE_TRAILER) {
            break;
        }
        if (crc_range(d, d->start, d->start + CA_WIRE_HEADER + len)
            != get_be32(h + CA_WIRE_HEADER + len)) {
            goto damaged;
        }
        frame->type = h[3];
        frame->id = get_be64(h + 4);
        frame->payload = h + CA_WIRE_HEADER;
        frame->len = len;
        d->start += CA_WIRE_HEADER + len + CA_WIRE_TRAILER;
        return CA_WIRE_FRAME;
    }
    if (d->start == d->end) {
        d->start = d->end = 0;  /* crc[0] stays valid: any origin works */
        d->crc[0] = ~d->reg;
    }
    return CA_WIRE_NEED_MORE;

damaged:
    /* resynchronise at the next magic after this one (the magic cannot
     * overlap itself, so skipping both bytes loses nothing) */
    d->start += 2;
    d->garbage += 2;
    ++d->damaged;
    return CA_WIRE_DAMAGED;
}

ca_wire_event_t ca_wire_idle(ca_wire_decoder_t *d)
{
    apr_size_t avail = d->end - d->start;

    if (avail == 0) {
        return CA_WIRE_NEED_MORE;
    }
    /* after ca_wire_next returned NEED_MORE, what is held starts with a
     * magic (or its first byte): skip it and let ca_wire_next rescan */
    if (avail >= 2 && d->buf[d->start] == MAGIC0 && d->buf[d->start + 1] == MAGIC1) {
        d->start += 2;
        d->garbage += 2;
    }
    else {
        d->garbage += avail;
        d->start = d->end;
    }
    ++d->damaged;
    return CA_WIRE_DAMAGED;
}

apr_size_t ca_wire_pending(const ca_wire_decoder_t *d)
{
    return d->end - d->start;
}

apr_size_t ca_wire_garbage(const ca_wire_decoder_t *d)
{
    return d->garbage;
}

apr_size_t ca_wire_damaged(const ca_wire_decoder_t *d)
{
    return d->damaged;
}

/* ---- TLV payloads ---- */

void ca_tlv_add(apr_array_header_t *buf, uint8_t tag, const void *value, apr_size_t len)
{
    unsigned char hdr[3];
    apr_size_t at;

    if (len > 0xFFFF) {
        ca_log(CA_LOG_ERR, "CA60001", APR_EINVAL,
               "TLV %u: value of %lu bytes does not fit, left out",
               (unsigned)tag, (unsigned long)len);
        return;
    }
    hdr[0] = tag;
    hdr[1] = (unsigned char)(len >> 8);
    hdr[2] = (unsigned char)len;
    at = (apr_size_t)buf->nelts;
    /* grow once, then copy */
    while ((apr_size_t)buf->nalloc < at + 3 + len) {
        buf->nelts = buf->nalloc;
        apr_array_push(buf);        /* doubles the allocation */
    }
    memcpy(buf->elts + at, hdr, 3);
    if (len) {
        memcpy(buf->elts + at + 3, value, len);
    }
    buf->nelts = (int)(at + 3 + len);
}

void ca_tlv_add_str(apr_array_header_t *buf, uint8_t tag, const char *s)
{
    ca_tlv_add(buf, tag, s, strlen(s));
}

void ca_tlv_add_uint(apr_array_header_t *buf, uint8_t tag, uint64_t v, int nbytes)
{
    unsigned char b[8];
    int i;

    if (nbytes != 1 && nbytes != 2 && nbytes != 4 && nbytes != 8) {
        ca_log(CA_LOG_ERR, "CA60002", APR_EINVAL, "TLV %u: bad integer size %d",
               (unsigned)tag, nbytes);
        return;
    }
    for (i = nbytes - 1; i >= 0; --i) {
        b[i] = (unsigned char)v;
        v >>= 8;
    }
    ca_tlv_add(buf, tag, b, (apr_size_t)nbytes);
}

void ca_tlv_add_u64(apr_array_header_t *buf, uint8_t tag, uint64_t v)
{
    ca_tlv_add_uint(buf, tag, v, 8);
}

apr_status_t ca_tlv_parse(apr_array_header_t **ptlvs, const unsigned char *payload,
                          apr_size_t len, apr_pool_t *p)
{
    apr_array_header_t *tlvs;
    apr_size_t off = 0;
    apr_status_t rv = APR_SUCCESS;

    tlvs = apr_array_make(p, 8, sizeof(ca_tlv_t));
    while (off < len) {
        ca_tlv_t *t;
        uint16_t vlen;

        if (len - off < 3) {
            rv = APR_EINVAL;
            goto leave;
        }
        vlen = (uint16_t)((payload[off + 1] << 8) | payload[off + 2]);
        if (len - off - 3 < vlen) {
            rv = APR_EINVAL;
            goto leave;
        }
        t = apr_array_push(tlvs);
        t->tag = payload[off];
        t->len = vlen;
        t->value = payload + off + 3;
        off += 3 + (apr_size_t)vlen;
    }
leave:
    *ptlvs = rv == APR_SUCCESS ? tlvs : NULL;
    return rv;
}

const ca_tlv_t *ca_tlv_get(const apr_array_header_t *tlvs, uint8_t tag)
{
    int i;

    for (i = 0; i < tlvs->nelts; ++i) {
        const ca_tlv_t *t = &APR_ARRAY_IDX(tlvs, i, ca_tlv_t);
        if (t->tag == tag) {
            return t;
        }
    }
    return NULL;
}

uint64_t ca_tlv_uint(const ca_tlv_t *t)
{
    uint64_t v = 0;
    uint16_t i;

    if (!t || (t->len != 1 && t->len != 2 && t->len != 4 && t->len != 8)) {
        return 0;
    }
    for (i = 0; i < t->len; ++i) {
        v = (v << 8) | t->value[i];
    }
    return v;
}

/* ---- message schemas ---- */

enum { V_BYTES, V_TEXT, V_FIXED, V_SERIAL };

typedef struct {
    uint8_t type;
    uint8_t id_zero;        /* 1: id must be 0, 0: must not be, 2: either */
} msg_rule_t;

typedef struct {
    uint8_t type;           /* the message the tag may stand in */
    uint8_t tag;
    uint8_t min, max;       /* occurrences; max 255 = unbounded */
    uint8_t kind;
    uint8_t size;           /* V_FIXED */
} tag_rule_t;

/* min, max: the occurrences "1", "?" and "*" of docs/signer-protocol.md */
#define ONCE 1, 1
#define OPT 0, 1
#define ANY 0, 255

static const msg_rule_t msg_rules[] = {
    { CA_MSG_HELLO, 1 },
    { CA_MSG_HEARTBEAT, 1 },
    { CA_MSG_SIGN, 0 },
    { CA_MSG_REVOKE, 0 },
    { CA_MSG_CRL, 0 },
    { CA_MSG_HELLO_OK, 1 },
    { CA_MSG_HEARTBEAT_OK, 1 },
    { CA_MSG_CERT, 0 },
    { CA_MSG_REVOKED, 0 },
    { CA_MSG_CRL_SIG, 0 },
    { CA_MSG_NAK, 1 },
    { CA_MSG_STOP, 2 },
    { CA_MSG_PGPSIGN, 0 },
    { CA_MSG_PGPKEY, 0 },
};

/* the tags each message may carry; a message with none has no row */
static const tag_rule_t tag_rules[] = {
    { CA_MSG_HELLO, CA_TAG_TEXT, OPT, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_CA, ONCE, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_PROFILE, ONCE, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_CN, OPT, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_EMAIL, OPT, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_SAN_EMAIL, ANY, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_SAN_DNS, ANY, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_SPKI, ONCE, V_BYTES, 0 },
    { CA_MSG_SIGN, CA_TAG_DAYS, ONCE, V_FIXED, 2 },
    { CA_MSG_SIGN, CA_TAG_MD, ONCE, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_ORG_O, OPT, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_ORG_OU, OPT, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_ORG_L, OPT, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_ORG_ST, OPT, V_TEXT, 0 },
    { CA_MSG_SIGN, CA_TAG_ORG_C, OPT, V_TEXT, 0 },
    { CA_MSG_REVOKE, CA_TAG_CA, ONCE, V_TEXT, 0 },
    { CA_MSG_REVOKE, CA_TAG_SERIAL, ONCE, V_SERIAL, 0 },
    { CA_MSG_REVOKE, CA_TAG_REASON, ONCE, V_FIXED, 1 },
    { CA_MSG_CRL, CA_TAG_CA, ONCE, V_TEXT, 0 },
    { CA_MSG_CRL, CA_TAG_CRL_NUMBER, ONCE, V_FIXED, 8 },
    { CA_MSG_CRL, CA_TAG_THIS_UPDATE, ONCE, V_FIXED, 8 },
    { CA_MSG_CRL, CA_TAG_NEXT_UPDATE, ONCE, V_FIXED, 8 },
    { CA_MSG_CRL, CA_TAG_MD, ONCE, V_TEXT, 0 },
    { CA_MSG_CRL, CA_TAG_TBS_SHA256, ONCE, V_FIXED, 32 },
    { CA_MSG_HELLO_OK, CA_TAG_TEXT, ONCE, V_TEXT, 0 },
    { CA_MSG_CERT, CA_TAG_CERT, ONCE, V_BYTES, 0 },
    { CA_MSG_CERT, CA_TAG_SERIAL, ONCE, V_SERIAL, 0 },
    { CA_MSG_REVOKED, CA_TAG_SERIAL, ONCE, V_SERIAL, 0 },
    { CA_MSG_REVOKED, CA_TAG_TIME, ONCE, V_FIXED, 8 },
    { CA_MSG_REVOKED, CA_TAG_COUNT, ONCE, V_FIXED, 4 },
    { CA_MSG_CRL_SIG, CA_TAG_SIGNATURE, OPT, V_BYTES, 0 },
    { CA_MSG_CRL_SIG, CA_TAG_TBS_SHA256, OPT, V_FIXED, 32 },
    { CA_MSG_CRL_SIG, CA_TAG_PENDING, OPT, V_FIXED, 4 },
    { CA_MSG_CRL_SIG, CA_TAG_COUNT, ONCE, V_FIXED, 4 },
    { CA_MSG_STOP, CA_TAG_TEXT, ONCE, V_TEXT, 0 },
    /* OpenPGP key signing (protocol revision 1.1) */
    { CA_MSG_PGPSIGN, CA_TAG_PGP_KEY, ONCE, V_BYTES, 0 },
    { CA_MSG_PGPSIGN, CA_TAG_PGP_FPR, ONCE, V_FIXED, 20 },
    { CA_MSG_PGPSIGN, CA_TAG_PGP_UID, 1, 32, V_TEXT, 0 },
    { CA_MSG_PGPSIGN, CA_TAG_PGP_NAME, 0, 16, V_TEXT, 0 },
    { CA_MSG_PGPSIGN, CA_TAG_PGP_EMAIL, ANY, V_TEXT, 0 },
    { CA_MSG_PGPKEY, CA_TAG_PGP_KEY, ONCE, V_BYTES, 0 },
    { CA_MSG_PGPKEY, CA_TAG_TIME, ONCE, V_FIXED, 8 },
    { CA_MSG_PGPKEY, CA_TAG_COUNT, ONCE, V_FIXED, 4 },
};

apr_status_t ca_wire_check(const char **perr, const ca_frame_t *frame,
                           const apr_array_header_t *tlvs)
{
    const msg_rule_t *m = NULL;
    const tag_rule_t *r, *end = tag_rules + sizeof(tag_rules) / sizeof(tag_rules[0]);
    unsigned counts[256];
    apr_size_t i;
    int j;

    *perr = NULL;
    for (i = 0; i < sizeof(msg_rules) / sizeof(msg_rules[0]); ++i) {
        if (msg_rules[i].type == frame->type) {
            m = &msg_rules[i];
            break;
        }
    }
    if (!m) {
        *perr = "unknown message type";
        return APR_ENOTIMPL;
    }
    if (m->id_zero == 1 && frame->id != 0) {
        *perr = "message must have id 0";
        return APR_EINVAL;
    }
    if (m->id_zero == 0 && frame->id == 0) {
        *perr = "message must have a non-zero id";
        return APR_EINVAL;
    }
    memset(counts, 0, sizeof(counts));
    for (j = 0; j < tlvs->nelts; ++j) {
        const ca_tlv_t *t = &APR_ARRAY_IDX(tlvs, j, ca_tlv_t);

        for (r = tag_rules; r < end; ++r) {
            if (r->type == m->type && r->tag == t->tag) {
                break;
            }
        }
        if (r == end) {
            *perr = "unexpected tag";
            return APR_EINVAL;
        }
        if (++counts[t->tag & 255] > r->max) {
            *perr = "repeated tag";
            return APR_EINVAL;
        }
        switch (r->kind) {
        case V_FIXED:
            if (t->len != r->size) {
                *perr = "value of the wrong size";
                return APR_EINVAL;
            }
            break;
        case V_TEXT:
            if (t->len == 0 || memchr(t->value, 0, t->len)) {
                *perr = "empty text or text with NUL";
                return APR_EINVAL;
            }
            break;
        case V_SERIAL:
            if (t->len == 0 || t->len > 20 || t->value[0] == 0) {
                *perr = "bad serial number";
                return APR_EINVAL;
            }
            break;
        default:
            if (t->len == 0) {
                *perr = "empty value";
                return APR_EINVAL;
            }
            break;
        }
    }
    for (r = tag_rules; r < end; ++r) {
        if (r->type == m->type && counts[r->tag & 255] < r->min) {
            *perr = "missing tag";
            return APR_EINVAL;
        }
    }
    if (frame->type == CA_MSG_CRL_SIG
        && (counts[CA_TAG_SIGNATURE] + counts[CA_TAG_TBS_SHA256]) != 1) {
        *perr = "CRL_SIG needs exactly one of SIGNATURE and TBS_SHA256";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}
