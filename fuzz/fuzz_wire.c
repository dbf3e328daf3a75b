/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the signer protocol's stream decoder (ca_wire_feed,
 * ca_wire_next, ca_wire_idle) and the TLV parser and schema check of every
 * frame it hands out.
 *
 * Input layout: byte 0 chooses how the rest is cut into pieces (low 4
 * bits: a piece-size seed; bit 4: declare the line idle after each piece;
 * bit 5: drain only after every second piece); the rest is the byte
 * stream as it came off the line.
 *
 * Besides sanitizer reports, it abort()s when a promise is broken: a
 * delivered frame must re-encode to exactly the bytes it came from (so its
 * CRC was right), be within the size limit, and a fresh decoder fed those
 * bytes must deliver it again; TLVs must cover the payload exactly when
 * the parser accepts it; counters must add up (every byte fed is either
 * in a delivered frame, counted as garbage, or still pending). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_tables.h>

#include "ca_wire.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_size_t framed;   /* bytes in delivered frames */

static void on_frame(const ca_frame_t *f, apr_pool_t *p)
{
    const unsigned char *enc;
    apr_size_t enclen;
    apr_array_header_t *tlvs;
    apr_status_t rv;

    fuzz_check(f->len <= CA_WIRE_MAX_PAYLOAD);
    framed += CA_WIRE_HEADER + f->len + CA_WIRE_TRAILER;
    fuzz_check(ca_wire_encode(&enc, &enclen, f->type, f->id, f->payload, f->len, p)
          == APR_SUCCESS);
    fuzz_check(enclen == CA_WIRE_HEADER + f->len + CA_WIRE_TRAILER);
    /* the frame's own bytes end in its CRC: a fresh decoder agrees */
    {
        ca_wire_decoder_t *d2 = ca_wire_decoder_make(p);
        ca_frame_t g;

        ca_wire_feed(d2, enc, enclen);
        fuzz_check(ca_wire_next(d2, &g) == CA_WIRE_FRAME);
        fuzz_check(g.type == f->type && g.id == f->id && g.len == f->len);
        fuzz_check(f->len == 0 || memcmp(g.payload, f->payload, f->len) == 0);
        fuzz_check(ca_wire_next(d2, &g) == CA_WIRE_NEED_MORE);
        fuzz_check(ca_wire_garbage(d2) == 0 && ca_wire_damaged(d2) == 0);
    }
    rv = ca_tlv_parse(&tlvs, f->payload, f->len, p);
    if (rv == APR_SUCCESS) {
        apr_size_t sum = 0;
        const char *err = NULL;
        int i;

        for (i = 0; i < tlvs->nelts; ++i) {
            const ca_tlv_t *t = &APR_ARRAY_IDX(tlvs, i, ca_tlv_t);
            fuzz_check(t->value >= f->payload && t->value + t->len <= f->payload + f->len);
            sum += 3 + (apr_size_t)t->len;
            (void)ca_tlv_uint(t);
        }
        fuzz_check(sum == f->len);
        rv = ca_wire_check(&err, f, tlvs);
        fuzz_check((rv == APR_SUCCESS) == (err == NULL));
        fuzz_check(rv == APR_SUCCESS || rv == APR_EINVAL || rv == APR_ENOTIMPL);
        if (rv == APR_SUCCESS) {
            /* re-encoding the TLVs gives back the payload */
            apr_array_header_t *buf = apr_array_make(p, 64, 1);
            for (i = 0; i < tlvs->nelts; ++i) {
                const ca_tlv_t *t = &APR_ARRAY_IDX(tlvs, i, ca_tlv_t);
                ca_tlv_add(buf, t->tag, t->value, t->len);
            }
            fuzz_check((apr_size_t)buf->nelts == f->len);
            fuzz_check(f->len == 0 || memcmp(buf->elts, f->payload, f->len) == 0);
        }
    }
    else {
        fuzz_check(rv == APR_EINVAL && tlvs == NULL);
    }
}

static void drain(ca_wire_decoder_t *d, apr_pool_t *p)
{
    ca_frame_t f;
    ca_wire_event_t ev;

    while ((ev = ca_wire_next(d, &f)) != CA_WIRE_NEED_MORE) {
        fuzz_check(ev == CA_WIRE_FRAME || ev == CA_WIRE_DAMAGED);
        if (ev == CA_WIRE_FRAME) {
            on_frame(&f, p);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    ca_wire_decoder_t *d;
    size_t off, piece = 0;
    unsigned mode, seed;
    apr_size_t damaged_before;

    fuzz_init();
    if (size < 1) {
        return 0;
    }
    mode = data[0];
    seed = (mode & 15) + 1;
    data++;
    size--;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        abort();
    }
    framed = 0;
    d = ca_wire_decoder_make(p);
    for (off = 0; off < size; ++piece) {
        size_t n = 1 + (seed * 2654435761u + piece * 40503u) % (seed * 23);

        if (n > size - off) {
            n = size - off;
        }
        ca_wire_feed(d, data + off, n);
        off += n;
        if (!(mode & 32) || (piece & 1)) {
            drain(d, p);
        }
        if (mode & 16) {
            drain(d, p);
            if (ca_wire_idle(d) == CA_WIRE_DAMAGED) {
                drain(d, p);
            }
        }
    }
    drain(d, p);
    fuzz_check(framed + ca_wire_garbage(d) + ca_wire_pending(d) == size);
    /* the line goes quiet: whatever is held goes, then nothing is held */
    damaged_before = ca_wire_damaged(d);
    while (ca_wire_pending(d)) {
        fuzz_check(ca_wire_idle(d) == CA_WIRE_DAMAGED);
        drain(d, p);
    }
    fuzz_check(ca_wire_damaged(d) >= damaged_before);
    fuzz_check(ca_wire_idle(d) == CA_WIRE_NEED_MORE);
    fuzz_check(framed + ca_wire_garbage(d) == size);
    apr_pool_destroy(p);
    return 0;
}
