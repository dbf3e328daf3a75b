/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the signer protocol framing (ca_wire). */
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "tests.h"
#include "ca_log.h"
#include "ca_wire.h"

static apr_pool_t *pool;

/* a small deterministic generator (rand_r is not C11) */
static int rand_r_(unsigned int *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (int)((*seed >> 1) & 0x7FFFFFFF);
}
#define rand_r rand_r_

static void setup(void) { apr_pool_create(&pool, NULL); }
static void teardown(void) { apr_pool_destroy(pool); }

static const unsigned char *mkframe(apr_size_t *plen, uint8_t type, uint64_t id,
                                    const char *payload)
{
    const unsigned char *b;
    apr_size_t n = payload ? strlen(payload) : 0;

    ck_assert_int_eq(ca_wire_encode(&b, plen, type, id, (const unsigned char *)payload,
                                    n, pool), APR_SUCCESS);
    return b;
}

/* drain a decoder: frames' ids (and payload first bytes) into out, damage
 * count into *pdamaged; returns the number of frames */
static int drain(ca_wire_decoder_t *d, uint64_t *ids, int max, int *pdamaged)
{
    ca_frame_t f;
    ca_wire_event_t ev;
    int n = 0;

    while ((ev = ca_wire_next(d, &f)) != CA_WIRE_NEED_MORE) {
        if (ev == CA_WIRE_FRAME) {
            ck_assert_int_lt(n, max);
            ids[n++] = f.id;
        }
        else {
            ck_assert_int_eq(ev, CA_WIRE_DAMAGED);
            if (pdamaged) {
                ++*pdamaged;
            }
        }
    }
    return n;
}

START_TEST(crc_vectors)
{
    ck_assert_uint_eq(ca_crc32((const unsigned char *)"", 0), 0);
    ck_assert_uint_eq(ca_crc32((const unsigned char *)"123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(ca_crc32((const unsigned char *)"a", 1), 0xE8B7BE43u);
    ck_assert_uint_eq(ca_crc32((const unsigned char *)"The quick brown fox jumps over "
                               "the lazy dog", 43), 0x414FA339u);
    {
        unsigned char z[32];
        memset(z, 0, sizeof(z));
        ck_assert_uint_eq(ca_crc32(z, 32), 0x190A55ADu);
        memset(z, 0xFF, sizeof(z));
        ck_assert_uint_eq(ca_crc32(z, 32), 0xFF6CAB0Bu);
    }
}
END_TEST

START_TEST(encode_layout)
{
    apr_size_t n;
    const unsigned char *b = mkframe(&n, CA_MSG_SIGN, 0x0102030405060708ull, "abc");

    ck_assert_uint_eq(n, CA_WIRE_HEADER + 3 + CA_WIRE_TRAILER);
    ck_assert_uint_eq(b[0], 0xCA);
    ck_assert_uint_eq(b[1], 0x5E);
    ck_assert_uint_eq(b[2], CA_WIRE_VERSION);
    ck_assert_uint_eq(b[3], CA_MSG_SIGN);
    ck_assert_uint_eq(b[4], 1);
    ck_assert_uint_eq(b[11], 8);
    ck_assert_uint_eq(b[12] | b[13] | b[14], 0);
    ck_assert_uint_eq(b[15], 3);
    ck_assert(memcmp(b + 16, "abc", 3) == 0);
    {
        uint32_t crc = ca_crc32(b, 19);
        ck_assert_uint_eq(b[19], crc >> 24);
        ck_assert_uint_eq(b[22], crc & 0xff);
    }
    /* empty payload, NULL pointer */
    ck_assert_int_eq(ca_wire_encode(&b, &n, CA_MSG_HEARTBEAT, 0, NULL, 0, pool), APR_SUCCESS);
    ck_assert_uint_eq(n, 20);
    /* oversized */
    {
        unsigned char *big = apr_pcalloc(pool, CA_WIRE_MAX_PAYLOAD + 1);
        ck_assert_int_eq(ca_wire_encode(&b, &n, CA_MSG_SIGN, 1, big, CA_WIRE_MAX_PAYLOAD + 1,
                                        pool), APR_EINVAL);
        ck_assert_ptr_null(b);
        ck_assert_int_eq(ca_wire_encode(&b, &n, CA_MSG_SIGN, 1, big, CA_WIRE_MAX_PAYLOAD,
                                        pool), APR_SUCCESS);
    }
}
END_TEST

START_TEST(roundtrip)
{
    ca_wire_decoder_t *d = ca_wire_decoder_make(pool);
    ca_frame_t f;
    apr_size_t n;
    const unsigned char *b;
    unsigned char *big;
    apr_size_t sizes[] = { 0, 1, 2, 100, 4096, CA_WIRE_MAX_PAYLOAD };
    int i;

    for (i = 0; i < (int)(sizeof(sizes) / sizeof(sizes[0])); ++i) {
        apr_size_t k;

        big = apr_palloc(pool, sizes[i] + 1);
        for (k = 0; k < sizes[i]; ++k) {
            big[k] = (unsigned char)(k * 7 + i);
        }
        ck_assert_int_eq(ca_wire_encode(&b, &n, CA_MSG_CERT, 99 + i, big, sizes[i], pool),
                         APR_SUCCESS);
        ca_wire_feed(d, b, n);
        ck_assert_int_eq(ca_wire_next(d, &f), CA_WIRE_FRAME);
        ck_assert_uint_eq(f.type, CA_MSG_CERT);
        ck_assert_uint_eq(f.id, 99 + i);
        ck_assert_uint_eq(f.len, sizes[i]);
        ck_assert(sizes[i] == 0 || memcmp(f.payload, big, sizes[i]) == 0);
        ck_assert_int_eq(ca_wire_next(d, &f), CA_WIRE_NEED_MORE);
        ck_assert_uint_eq(ca_wire_pending(d), 0);
    }
    ck_assert_uint_eq(ca_wire_garbage(d), 0);
    ck_assert_uint_eq(ca_wire_damaged(d), 0);
}
END_TEST

START_TEST(byte_by_byte)
{
    ca_wire_decoder_t *d = ca_wire_decoder_make(pool);
    ca_frame_t f;
    apr_size_t n, i;
    const unsigned char *b = mkframe(&n, CA_MSG_REVOKE, 7, "hello world");
    int frames = 0;

    for (i = 0; i < n; ++i) {
        ca_wire_event_t ev;
        ca_wire_feed(d, b + i, 1);
        while ((ev = ca_wire_next(d, &f)) != CA_WIRE_NEED_MORE) {
            ck_assert_int_eq(ev, CA_WIRE_FRAME);
            ck_assert_uint_eq(i, n - 1);    /* only with the last byte */
            ck_assert_uint_eq(f.len, 11);
            ck_assert(memcmp(f.payload, "hello world", 11) == 0);
            ++frames;
        }
    }
    ck_assert_int_eq(frames, 1);
    /* and twice more, split at every position */
    for (i = 1; i < n; ++i) {
        uint64_t ids[4];
        ca_wire_feed(d, b, i);
        ck_assert_int_eq(drain(d, ids, 4, NULL), 0);
        ca_wire_feed(d, b + i, n - i);
        ck_assert_int_eq(drain(d, ids, 4, NULL), 1);
        ck_assert_uint_eq(ids[0], 7);
    }
    ck_assert_uint_eq(ca_wire_garbage(d), 0);
}
END_TEST

START_TEST(garbage_before)
{
    ca_wire_decoder_t *d = ca_wire_decoder_make(pool);
    apr_size_t n;
    const unsigned char *b = mkframe(&n, CA_MSG_HELLO, 0, NULL);
    /* garbage including lone magic bytes and half magics */
    static const unsigned char junk[] = { 0x00, 0xCA, 0xCA, 0x41, 0x5E, 0xCA, 0x5E, 0x02,
                                          0xFF, 0xCA };
    uint64_t ids[4];
    int damaged = 0;

    ca_wire_feed(d, junk, sizeof(junk));
    ca_wire_feed(d, b, n);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 1);
    /* the "CA 5E 02" at 5..7 is a frame header of version 2: damaged */
    ck_assert_int_eq(damaged, 1);
    ck_assert_uint_eq(ca_wire_garbage(d), sizeof(junk));
    ck_assert_uint_eq(ca_wire_damaged(d), 1);
}
END_TEST

START_TEST(several_in_one_feed)
{
    ca_wire_decoder_t *d = ca_wire_decoder_make(pool);
    apr_array_header_t *all = apr_array_make(pool, 256, 1);
    uint64_t ids[20];
    int i;

    for (i = 1; i <= 10; ++i) {
        apr_size_t n;
        const unsigned char *b = mkframe(&n, CA_MSG_SIGN, (uint64_t)i, "payload");
        apr_size_t k;
        for (k = 0; k < n; ++k) {
            APR_ARRAY_PUSH(all, unsigned char) = b[k];
        }
        if (i % 3 == 0) {
            APR_ARRAY_PUSH(all, unsigned char) = 'x';
        }
    }
    ca_wire_feed(d, (unsigned char *)all->elts, (apr_size_t)all->nelts);
    ck_assert_int_eq(drain(d, ids, 20, NULL), 10);
    for (i = 0; i < 10; ++i) {
        ck_assert_uint_eq(ids[i], (uint64_t)i + 1);
    }
    ck_assert_uint_eq(ca_wire_garbage(d), 3);
}
END_TEST

/* flip every bit of a frame in turn: the frame is never delivered, the
 * decoder reports damage (or waits, when the length grew), and the frame
 * sent after it arrives intact */
START_TEST(every_bit_flipped)
{
    apr_size_t n, n2;
    const unsigned char *b = mkframe(&n, CA_MSG_SIGN, 42, "some payload bytes");
    const unsigned char *b2 = mkframe(&n2, CA_MSG_HEARTBEAT, 0, NULL);
    unsigned char *bad = apr_palloc(pool, n);
    apr_size_t bit;

    for (bit = 0; bit < n * 8; ++bit) {
        ca_wire_decoder_t *d;
        apr_pool_t *sp;
        ca_frame_t f;
        ca_wire_event_t ev;
        int got42 = 0, got0 = 0, damaged = 0;

        apr_pool_create(&sp, pool);
        d = ca_wire_decoder_make(sp);
        memcpy(bad, b, n);
        bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        ca_wire_feed(d, bad, n);
        ca_wire_feed(d, b2, n2);
        for (;;) {
            while ((ev = ca_wire_next(d, &f)) != CA_WIRE_NEED_MORE) {
                if (ev == CA_WIRE_DAMAGED) {
                    ++damaged;
                }
                else if (f.id == 42) {
                    ++got42;
                }
                else {
                    ck_assert_uint_eq(f.type, CA_MSG_HEARTBEAT);
                    ++got0;
                }
            }
            /* a flipped length bit makes the decoder wait: the line goes
             * quiet, the caller says so */
            if (ca_wire_pending(d) == 0 || ca_wire_idle(d) == CA_WIRE_NEED_MORE) {
                break;
            }
            ++damaged;
        }
        ck_assert_msg(got42 == 0, "bit %lu: damaged frame delivered", (unsigned long)bit);
        ck_assert_msg(got0 == 1, "bit %lu: next frame lost", (unsigned long)bit);
        /* a flip in the magic makes the frame garbage, not damage */
        if (bit >= 16) {
            ck_assert_msg(damaged >= 1, "bit %lu: damage not reported", (unsigned long)bit);
        }
        apr_pool_destroy(sp);
    }
}
END_TEST

START_TEST(damage_kinds)
{
    ca_wire_decoder_t *d = ca_wire_decoder_make(pool);
    apr_size_t n, ng;
    const unsigned char *b = mkframe(&n, CA_MSG_CRL, 5, "0123456789");
    const unsigned char *good = mkframe(&ng, CA_MSG_CRL, 6, "x");
    unsigned char *bad = apr_palloc(pool, n);
    uint64_t ids[4];
    int damaged;

    /* wrong version */
    memcpy(bad, b, n);
    bad[2] = 2;
    damaged = 0;
    ca_wire_feed(d, bad, n);
    ca_wire_feed(d, good, ng);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 1);
    ck_assert_int_eq(damaged, 1);
    ck_assert_uint_eq(ids[0], 6);
    /* oversized length: damaged at once, without waiting for the body */
    memcpy(bad, b, n);
    bad[13] = 0x01;
    bad[14] = 0x00;
    bad[15] = 0x01;        /* 65537 */
    damaged = 0;
    ca_wire_feed(d, bad, CA_WIRE_HEADER);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 0);
    ck_assert_int_eq(damaged, 1);
    ca_wire_feed(d, bad + CA_WIRE_HEADER, n - CA_WIRE_HEADER);
    ca_wire_feed(d, good, ng);
    ck_assert_int_eq(drain(d, ids, 4, NULL), 1);
    /* bad CRC */
    memcpy(bad, b, n);
    bad[n - 1] ^= 0x80;
    damaged = 0;
    ca_wire_feed(d, bad, n);
    ca_wire_feed(d, good, ng);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 1);
    ck_assert_int_eq(damaged, 1);
    /* truncated: the rest never comes, the next frame starts inside the
     * claimed length; the caller declares the line idle */
    damaged = 0;
    {
        apr_size_t nl;
        const unsigned char *longer = mkframe(&nl, CA_MSG_CRL, 5, apr_pstrcat(pool,
            "0123456789012345678901234567890123456789012345678901234567890123456789",
            "0123456789012345678901234567890123456789", NULL));
        ca_wire_feed(d, longer, nl - 60);
    }
    ca_wire_feed(d, good, ng);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 0);
    ck_assert_uint_gt(ca_wire_pending(d), 0);
    ck_assert_int_eq(ca_wire_idle(d), CA_WIRE_DAMAGED);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 1);
    ck_assert_uint_eq(ids[0], 6);
    ck_assert_int_eq(ca_wire_idle(d), CA_WIRE_NEED_MORE);
    /* bad magic: just garbage */
    memcpy(bad, b, n);
    bad[1] = 0x5F;
    ca_wire_feed(d, bad, n);
    ca_wire_feed(d, good, ng);
    damaged = 0;
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 1);
    ck_assert_int_eq(damaged, 0);
    /* a lone first magic byte, then idle */
    ca_wire_feed(d, (const unsigned char *)"\xCA", 1);
    ck_assert_int_eq(drain(d, ids, 4, NULL), 0);
    ck_assert_uint_eq(ca_wire_pending(d), 1);
    ck_assert_int_eq(ca_wire_idle(d), CA_WIRE_DAMAGED);
    ck_assert_uint_eq(ca_wire_pending(d), 0);
}
END_TEST

/* a valid frame hidden inside the claimed body of a damaged one is found */
START_TEST(resync_inside)
{
    ca_wire_decoder_t *d = ca_wire_decoder_make(pool);
    apr_size_t n, ni;
    const unsigned char *inner = mkframe(&ni, CA_MSG_HEARTBEAT, 0, NULL);
    char *payload = apr_pcalloc(pool, ni + 11);
    const unsigned char *b;
    unsigned char *bad;
    uint64_t ids[4];
    int damaged = 0;

    memcpy(payload, "12345", 5);
    memcpy(payload + 5, inner, ni);
    memcpy(payload + 5 + ni, "67890", 5);
    ck_assert_int_eq(ca_wire_encode(&b, &n, CA_MSG_SIGN, 3, (unsigned char *)payload,
                                    ni + 10, pool), APR_SUCCESS);
    /* intact: the inner frame is payload, not a frame */
    ca_wire_feed(d, b, n);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 1);
    ck_assert_uint_eq(ids[0], 3);
    /* damaged CRC: the inner frame surfaces */
    bad = apr_pmemdup(pool, b, n);
    bad[n - 2] ^= 1;
    ca_wire_feed(d, bad, n);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 1);
    ck_assert_uint_eq(ids[0], 0);
    ck_assert_int_eq(damaged, 1);
}
END_TEST

/* frames on random chunk boundaries with random damage: what is delivered
 * is exactly what was sent intact, in order */
START_TEST(random_stream)
{
    ca_wire_decoder_t *d = ca_wire_decoder_make(pool);
    apr_array_header_t *stream = apr_array_make(pool, 1 << 16, 1);
    uint64_t expect[300], got[300];
    int nexpect = 0, ngot = 0, i;
    apr_size_t off;
    unsigned int seed = 12345;

    for (i = 1; i <= 300; ++i) {
        apr_size_t n, k, plen = (apr_size_t)(rand_r(&seed) % 300);
        unsigned char *pl = apr_palloc(pool, plen + 1);
        const unsigned char *b;
        int kind = rand_r(&seed) % 6;

        for (k = 0; k < plen; ++k) {
            pl[k] = (unsigned char)rand_r(&seed);
        }
        ck_assert_int_eq(ca_wire_encode(&b, &n, CA_MSG_SIGN, (uint64_t)i, pl, plen, pool),
                         APR_SUCCESS);
        if (kind == 0) {
            /* corrupt a byte after the length field (CRC catches it) */
            unsigned char *c = apr_pmemdup(pool, b, n);
            c[CA_WIRE_HEADER + (apr_size_t)rand_r(&seed) % (n - CA_WIRE_HEADER)] ^=
                (unsigned char)(1 + rand_r(&seed) % 255);
            b = c;
        }
        else {
            expect[nexpect++] = (uint64_t)i;
        }
        for (k = 0; k < n; ++k) {
            APR_ARRAY_PUSH(stream, unsigned char) = b[k];
        }
        if (kind == 1) {
            APR_ARRAY_PUSH(stream, unsigned char) = (unsigned char)rand_r(&seed);
        }
    }
    off = 0;
    while (off < (apr_size_t)stream->nelts) {
        apr_size_t chunk = 1 + (apr_size_t)rand_r(&seed) % 700;
        ca_frame_t f;
        ca_wire_event_t ev;

        if (chunk > (apr_size_t)stream->nelts - off) {
            chunk = (apr_size_t)stream->nelts - off;
        }
        ca_wire_feed(d, (unsigned char *)stream->elts + off, chunk);
        off += chunk;
        while ((ev = ca_wire_next(d, &f)) != CA_WIRE_NEED_MORE) {
            if (ev == CA_WIRE_FRAME) {
                ck_assert_int_lt(ngot, 300);
                got[ngot++] = f.id;
            }
        }
    }
    ck_assert_int_eq(ngot, nexpect);
    for (i = 0; i < ngot; ++i) {
        ck_assert_uint_eq(got[i], expect[i]);
    }
}
END_TEST

/* more than fits without draining: the oldest bytes go, reported as
 * damage; the decoder works on afterwards */
START_TEST(overflow)
{
    ca_wire_decoder_t *d = ca_wire_decoder_make(pool);
    apr_size_t big = 3 * CA_WIRE_MAX_PAYLOAD, n;
    unsigned char *junk = apr_palloc(pool, big);
    const unsigned char *b = mkframe(&n, CA_MSG_HELLO, 0, NULL);
    uint64_t ids[4];
    int damaged = 0;

    memset(junk, 0x11, big);
    ca_wire_feed(d, junk, big);
    ca_wire_feed(d, junk, CA_WIRE_FEED_MAX);
    ca_wire_feed(d, junk, CA_WIRE_FEED_MAX);
    ca_wire_feed(d, b, n);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 1);
    ck_assert_int_eq(damaged, 1);
    ca_wire_feed(d, b, n);
    ck_assert_int_eq(drain(d, ids, 4, &damaged), 1);
}
END_TEST

static int logged;

static void count_log(void *baton, ca_log_level_t level, const char *tag,
                      apr_status_t rv, const char *msg)
{
    (void)baton; (void)level; (void)rv; (void)msg;
    if (!strcmp(tag, "CA60001")) {
        ++logged;
    }
}

START_TEST(tlv_roundtrip)
{
    apr_array_header_t *buf = apr_array_make(pool, 4, 1), *tlvs;
    const ca_tlv_t *t;
    unsigned char *blob = apr_palloc(pool, 70000);

    memset(blob, 'z', 70000);
    ca_tlv_add_str(buf, CA_TAG_CA, "assured");
    ca_tlv_add_u64(buf, CA_TAG_CRL_NUMBER, 0x0102030405060708ull);
    ca_tlv_add_uint(buf, CA_TAG_DAYS, 730, 2);
    ca_tlv_add_uint(buf, CA_TAG_COUNT, 0xDEADBEEF, 4);
    ca_tlv_add(buf, CA_TAG_SPKI, "", 0);
    ca_tlv_add(buf, CA_TAG_CERT, blob, 65535);
    ca_log_set_sink(count_log, NULL);
    ca_tlv_add(buf, CA_TAG_CERT, blob, 65536);      /* left out, logged */
    ca_log_set_sink(NULL, NULL);
    ck_assert_int_eq(logged, 1);
    ck_assert_int_eq(ca_tlv_parse(&tlvs, (unsigned char *)buf->elts, (apr_size_t)buf->nelts,
                                  pool), APR_SUCCESS);
    ck_assert_int_eq(tlvs->nelts, 6);
    t = ca_tlv_get(tlvs, CA_TAG_CA);
    ck_assert_uint_eq(t->len, 7);
    ck_assert(memcmp(t->value, "assured", 7) == 0);
    ck_assert(ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_CRL_NUMBER)) == 0x0102030405060708ull);
    ck_assert_uint_eq(ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_DAYS)), 730);
    ck_assert_uint_eq(ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_COUNT)), 0xDEADBEEF);
    ck_assert_uint_eq(ca_tlv_get(tlvs, CA_TAG_SPKI)->len, 0);
    ck_assert_uint_eq(ca_tlv_get(tlvs, CA_TAG_CERT)->len, 65535);
    ck_assert_ptr_null(ca_tlv_get(tlvs, CA_TAG_MD));
    ck_assert_uint_eq(ca_tlv_uint(ca_tlv_get(tlvs, CA_TAG_CA)), 0);    /* 7 bytes */
    /* empty payload */
    ck_assert_int_eq(ca_tlv_parse(&tlvs, NULL, 0, pool), APR_SUCCESS);
    ck_assert_int_eq(tlvs->nelts, 0);
}
END_TEST

START_TEST(tlv_errors)
{
    static const unsigned char trunc_hdr[] = { 1, 0 };
    static const unsigned char overrun[] = { 1, 0, 5, 'a', 'b' };
    static const unsigned char trailing[] = { 1, 0, 1, 'a', 2 };
    static const unsigned char huge[] = { 1, 0xFF, 0xFF, 'a' };
    apr_array_header_t *tlvs;

    ck_assert_int_eq(ca_tlv_parse(&tlvs, trunc_hdr, 2, pool), APR_EINVAL);
    ck_assert_ptr_null(tlvs);
    ck_assert_int_eq(ca_tlv_parse(&tlvs, overrun, sizeof(overrun), pool), APR_EINVAL);
    ck_assert_int_eq(ca_tlv_parse(&tlvs, trailing, sizeof(trailing), pool), APR_EINVAL);
    ck_assert_int_eq(ca_tlv_parse(&tlvs, huge, sizeof(huge), pool), APR_EINVAL);
    ck_assert_int_eq(ca_tlv_parse(&tlvs, trailing, 4, pool), APR_SUCCESS);
}
END_TEST

static apr_status_t check_msg(const char **perr, uint8_t type, uint64_t id,
                              apr_array_header_t *buf)
{
    apr_array_header_t *tlvs;
    ca_frame_t f;

    f.type = type;
    f.id = id;
    f.payload = (unsigned char *)buf->elts;
    f.len = (uint32_t)buf->nelts;
    ck_assert_int_eq(ca_tlv_parse(&tlvs, f.payload, f.len, pool), APR_SUCCESS);
    return ca_wire_check(perr, &f, tlvs);
}

static apr_array_header_t *sign_body(void)
{
    apr_array_header_t *b = apr_array_make(pool, 64, 1);

    ca_tlv_add_str(b, CA_TAG_CA, "member");
    ca_tlv_add_str(b, CA_TAG_PROFILE, "server");
    ca_tlv_add_str(b, CA_TAG_SAN_DNS, "a.example");
    ca_tlv_add_str(b, CA_TAG_SAN_DNS, "b.example");
    ca_tlv_add(b, CA_TAG_SPKI, "\x30\x00", 2);
    ca_tlv_add_uint(b, CA_TAG_DAYS, 180, 2);
    ca_tlv_add_str(b, CA_TAG_MD, "sha256");
    return b;
}

START_TEST(schema)
{
    const char *err;
    apr_array_header_t *b;

    ck_assert_int_eq(check_msg(&err, CA_MSG_SIGN, 1, sign_body()), APR_SUCCESS);
    ck_assert_ptr_null(err);
    /* id rules */
    ck_assert_int_eq(check_msg(&err, CA_MSG_SIGN, 0, sign_body()), APR_EINVAL);
    ck_assert_int_eq(check_msg(&err, CA_MSG_HEARTBEAT, 1, apr_array_make(pool, 1, 1)),
                     APR_EINVAL);
    ck_assert_int_eq(check_msg(&err, CA_MSG_HEARTBEAT, 0, apr_array_make(pool, 1, 1)),
                     APR_SUCCESS);
    /* unknown type */
    ck_assert_int_eq(check_msg(&err, 0x42, 1, sign_body()), APR_ENOTIMPL);
    ck_assert_ptr_nonnull(err);
    /* missing tag */
    b = apr_array_make(pool, 64, 1);
    ca_tlv_add_str(b, CA_TAG_CA, "member");
    ck_assert_int_eq(check_msg(&err, CA_MSG_SIGN, 1, b), APR_EINVAL);
    ck_assert_str_eq(err, "missing tag");
    /* duplicate */
    b = sign_body();
    ca_tlv_add_str(b, CA_TAG_MD, "sha256");
    ck_assert_int_eq(check_msg(&err, CA_MSG_SIGN, 1, b), APR_EINVAL);
    ck_assert_str_eq(err, "repeated tag");
    /* unknown tag for the type */
    b = sign_body();
    ca_tlv_add_uint(b, CA_TAG_COUNT, 1, 4);
    ck_assert_int_eq(check_msg(&err, CA_MSG_SIGN, 1, b), APR_EINVAL);
    b = sign_body();
    ca_tlv_add_uint(b, 99, 1, 4);
    ck_assert_int_eq(check_msg(&err, CA_MSG_SIGN, 1, b), APR_EINVAL);
    /* wrong size */
    b = apr_array_make(pool, 64, 1);
    ca_tlv_add_str(b, CA_TAG_CA, "member");
    ca_tlv_add(b, CA_TAG_SERIAL, "\x01\x02", 2);
    ca_tlv_add_uint(b, CA_TAG_REASON, 1, 2);
    ck_assert_int_eq(check_msg(&err, CA_MSG_REVOKE, 9, b), APR_EINVAL);
    ck_assert_str_eq(err, "value of the wrong size");
    /* serials */
    b = apr_array_make(pool, 64, 1);
    ca_tlv_add_str(b, CA_TAG_CA, "member");
    ca_tlv_add(b, CA_TAG_SERIAL, "\x00\x02", 2);
    ca_tlv_add_uint(b, CA_TAG_REASON, 1, 1);
    ck_assert_int_eq(check_msg(&err, CA_MSG_REVOKE, 9, b), APR_EINVAL);
    /* text with NUL, empty text */
    b = apr_array_make(pool, 64, 1);
    ca_tlv_add(b, CA_TAG_TEXT, "a\0b", 3);
    ck_assert_int_eq(check_msg(&err, CA_MSG_STOP, 9, b), APR_EINVAL);
    b = apr_array_make(pool, 64, 1);
    ca_tlv_add(b, CA_TAG_TEXT, "", 0);
    ck_assert_int_eq(check_msg(&err, CA_MSG_HELLO_OK, 0, b), APR_EINVAL);
    /* CRL_SIG: exactly one of SIGNATURE, TBS_SHA256 */
    b = apr_array_make(pool, 64, 1);
    ca_tlv_add_uint(b, CA_TAG_COUNT, 3, 4);
    ck_assert_int_eq(check_msg(&err, CA_MSG_CRL_SIG, 9, b), APR_EINVAL);
    ca_tlv_add(b, CA_TAG_SIGNATURE, "sig", 3);
    ck_assert_int_eq(check_msg(&err, CA_MSG_CRL_SIG, 9, b), APR_SUCCESS);
    ca_tlv_add(b, CA_TAG_TBS_SHA256, "0123456789abcdef0123456789abcdef", 32);
    ck_assert_int_eq(check_msg(&err, CA_MSG_CRL_SIG, 9, b), APR_EINVAL);
}
END_TEST

Suite *wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("wire");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crc_vectors);
    tcase_add_test(tc, encode_layout);
    tcase_add_test(tc, roundtrip);
    tcase_add_test(tc, byte_by_byte);
    tcase_add_test(tc, garbage_before);
    tcase_add_test(tc, several_in_one_feed);
    tcase_add_test(tc, every_bit_flipped);
    tcase_add_test(tc, damage_kinds);
    tcase_add_test(tc, resync_inside);
    tcase_add_test(tc, random_stream);
    tcase_add_test(tc, overflow);
    tcase_add_test(tc, tlv_roundtrip);
    tcase_add_test(tc, tlv_errors);
    tcase_add_test(tc, schema);
    suite_add_tcase(s, tc);
    return s;
}
