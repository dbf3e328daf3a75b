/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* OpenPGP keys: armour, packets, the upload checks, the filter, and the
 * user ID rules of CPS Table 4.3.1.  See ca_openpgp.h. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <openssl/evp.h>

#include "ca_openpgp.h"

#define ARMOR_BEGIN "-----BEGIN PGP PUBLIC KEY BLOCK-----"
#define ARMOR_END "-----END PGP PUBLIC KEY BLOCK-----"

/* ---- packets ---- */

const char *ca_pgp_packets(apr_array_header_t **ppackets, const unsigned char *bin,
                           apr_size_t len, apr_pool_t *p)
{
    apr_array_header_t *pkts = apr_array_make(p, 16, sizeof(ca_pgp_packet_t));
    apr_size_t off = 0;

    *ppackets = NULL;
    while (off < len) {
        ca_pgp_packet_t *k;
        unsigned char b = bin[off];
        apr_size_t hl, bl;
        uint8_t tag;

        if (!(b & 0x80)) {
            return "pgp.garbage";
        }
        if (b & 0x40) {                 /* new format */
            unsigned char o1;
            tag = b & 0x3F;
            if (off + 2 > len) {
                return "pgp.garbage";
            }
            o1 = bin[off + 1];
            if (o1 < 192) {
                hl = 2;
                bl = o1;
            }
            else if (o1 < 224) {
                if (off + 3 > len) {
                    return "pgp.garbage";
                }
                hl = 3;
                bl = ((apr_size_t)(o1 - 192) << 8) + bin[off + 2] + 192;
            }
            else if (o1 == 255) {
                if (off + 6 > len) {
                    return "pgp.garbage";
                }
                hl = 6;
                bl = (apr_size_t)bin[off + 2] << 24 | (apr_size_t)bin[off + 3] << 16
                     | (apr_size_t)bin[off + 4] << 8 | bin[off + 5];
            }
            else {
                return "pgp.garbage";   /* partial lengths: never in keys */
            }
        }
        else {                          /* old format */
            int lt = b & 3;
            tag = (b >> 2) & 0x0F;
            if (lt == 3) {
                return "pgp.garbage";   /* indeterminate length */
            }
            hl = 1 + (apr_size_t)(1 << lt);
            if (off + hl > len) {
                return "pgp.garbage";
            }
            if (lt == 0) {
                bl = bin[off + 1];
            }
            else if (lt == 1) {
                bl = (apr_size_t)bin[off + 1] << 8 | bin[off + 2];
            }
            else {
                bl = (apr_size_t)bin[off + 1] << 24 | (apr_size_t)bin[off + 2] << 16
                     | (apr_size_t)bin[off + 3] << 8 | bin[off + 4];
            }
        }
        if (tag == 0 || bl > len - off - hl) {
            return "pgp.garbage";
        }
        k = apr_array_push(pkts);
        k->tag = tag;
        k->raw = bin + off;
        k->rawlen = hl + bl;
        k->body = bin + off + hl;
        k->len = bl;
        off += hl + bl;
    }
    *ppackets = pkts;
    return NULL;
}

/* ---- armour ---- */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static uint32_t crc24(const unsigned char *d, apr_size_t n)
{
    uint32_t crc = 0xB704CEu;
    apr_size_t i;
    int b;

    for (i = 0; i < n; i++) {
        crc ^= (uint32_t)d[i] << 16;
        for (b = 0; b < 8; b++) {
            crc <<= 1;
            if (crc & 0x1000000u) {
                crc ^= 0x1864CFBu;
            }
        }
    }
    return crc & 0xFFFFFFu;
}

static int b64val(unsigned char c)
{
    const char *q = c ? strchr(b64chars, c) : NULL;

    return q ? (int)(q - b64chars) : -1;
}

/* base64 of a whole string (white space skipped); 0 on a bad character
 * or bad padding */
static int b64_decode(unsigned char **pout, apr_size_t *plen, const char *s, apr_size_t n,
                      apr_pool_t *p)
{
    unsigned char *out = apr_palloc(p, n / 4 * 3 + 4);
    apr_size_t o = 0, i;
    uint32_t acc = 0;
    int bits = 0, pad = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            continue;
        }
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || (v = b64val(c)) < 0) {
            return 0;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (pad > 2 || bits >= 6) {
        return 0;
    }
    *pout = out;
    *plen = o;
    return 1;
}

static int only_space(const unsigned char *s, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            return 0;
        }
    }
    return 1;
}

static const unsigned char *find(const unsigned char *h, apr_size_t hn, const char *needle)
{
    apr_size_t nn = strlen(needle), i;

    for (i = 0; nn <= hn && i <= hn - nn; i++) {
        if (h[i] == (unsigned char)needle[0] && !memcmp(h + i, needle, nn)) {
            return h + i;
        }
    }
    return NULL;
}

const char *ca_pgp_dearmor(const unsigned char **pbin, apr_size_t *plen,
                           const unsigned char *in, apr_size_t len, apr_pool_t *p)
{
    const unsigned char *s = in, *e = in + len, *line, *body, *end, *crcline = NULL;
    unsigned char *bin, *crcb;
    apr_size_t blen, crclen;

    *pbin = NULL;
    *plen = 0;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
    }
    if ((apr_size_t)(e - s) < 14 || memcmp(s, "-----BEGIN PGP", 14)) {
        *pbin = in;
        *plen = len;
        return NULL;
    }
    if ((apr_size_t)(e - s) >= 37 && !memcmp(s, "-----BEGIN PGP PRIVATE KEY BLOCK-----", 37)) {
        return "pgp.secret";
    }
    if ((apr_size_t)(e - s) < sizeof(ARMOR_BEGIN) - 1
        || memcmp(s, ARMOR_BEGIN, sizeof(ARMOR_BEGIN) - 1)) {
        return "pgp.garbage";
    }
    s += sizeof(ARMOR_BEGIN) - 1;
    /* the rest of the BEGIN line */
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r')) {
        s++;
    }
    if (s >= e || *s != '\n') {
        return "pgp.garbage";
    }
    s++;
    /* armour headers ("Key: value" lines) up to an empty line */
    for (;;) {
        const unsigned char *nl = memchr(s, '\n', (apr_size_t)(e - s));
        const unsigned char *le;
        if (!nl) {
            return "pgp.garbage";
        }
        le = nl;
        while (le > s && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t')) {
            le--;
        }
        line = s;
        s = nl + 1;
        if (le == line) {
            break;
        }
        if (!memchr(line, ':', (apr_size_t)(le - line))) {
            /* no blank line after BEGIN (some tools omit it): body starts here */
            s = line;
            break;
        }
    }
    body = s;
    if (!(end = find(s, (apr_size_t)(e - s), ARMOR_END))) {
        return "pgp.garbage";
    }
    /* the optional "=XXXX" checksum line just before END */
    for (line = body; line < end;) {
        const unsigned char *nl = memchr(line, '\n', (apr_size_t)(end - line));
        if (*line == '=') {
            crcline = line;
            break;
        }
        if (!nl) {
            break;
        }
        line = nl + 1;
    }
    if (!b64_decode(&bin, &blen, (const char *)body,
                    (apr_size_t)((crcline ? crcline : end) - body), p) || blen == 0) {
        return "pgp.garbage";
    }
    if (crcline) {
        if (!b64_decode(&crcb, &crclen, (const char *)crcline + 1,
                        (apr_size_t)(end - crcline - 1), p)
            || crclen != 3
            || crc24(bin, blen) != ((uint32_t)crcb[0] << 16 | (uint32_t)crcb[1] << 8 | crcb[2])) {
            return "pgp.garbage";
        }
    }
    s = end + sizeof(ARMOR_END) - 1;
    if (!only_space(s, (apr_size_t)(e - s))) {
        return find(s, (apr_size_t)(e - s), "-----BEGIN PGP") ? "pgp.several" : "pgp.garbage";
    }
    *pbin = bin;
    *plen = blen;
    return NULL;
}

const char *ca_pgp_armor(const unsigned char *bin, apr_size_t len, apr_pool_t *p)
{
    apr_size_t cap = len / 3 * 4 + len / 48 + 256, o = 0, i;
    char *out = apr_palloc(p, cap);
    uint32_t crc = crc24(bin, len);
    unsigned char c[3];
    int col = 0;

    o += (apr_size_t)apr_snprintf(out, cap, "%s\n\n", ARMOR_BEGIN);
    for (i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)bin[i] << 16 | (i + 1 < len ? (uint32_t)bin[i + 1] << 8 : 0)
                     | (i + 2 < len ? bin[i + 2] : 0);
        out[o++] = b64chars[v >> 18 & 63];
        out[o++] = b64chars[v >> 12 & 63];
        out[o++] = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? b64chars[v & 63] : '=';
        if (++col == 16) {
            out[o++] = '\n';
            col = 0;
        }
    }
    if (col) {
        out[o++] = '\n';
    }
    c[0] = (unsigned char)(crc >> 16);
    c[1] = (unsigned char)(crc >> 8);
    c[2] = (unsigned char)crc;
    out[o++] = '=';
    out[o++] = b64chars[c[0] >> 2];
    out[o++] = b64chars[(c[0] & 3) << 4 | c[1] >> 4];
    out[o++] = b64chars[(c[1] & 15) << 2 | c[2] >> 6];
    out[o++] = b64chars[c[2] & 63];
    o += (apr_size_t)apr_snprintf(out + o, cap - o, "\n%s\n", ARMOR_END);
    return out;
}

/* ---- key material ---- */

/* one MPI at *off; its bit count in *pbits */
static int mpi(const unsigned char *b, apr_size_t len, apr_size_t *off, int *pbits)
{
    unsigned bits;
    apr_size_t n;

    if (*off + 2 > len) {
        return 0;
    }
    bits = (unsigned)b[*off] << 8 | b[*off + 1];
    n = (bits + 7) / 8;
    if (n > len - *off - 2) {
        return 0;
    }
    *off += 2 + n;
    if (pbits) {
        *pbits = (int)bits;
    }
    return 1;
}

static const unsigned char oid_ed25519[] = { 0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F,
                                             0x01 };
static const unsigned char oid_cv25519[] = { 0x2B, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01,
                                             0x05, 0x01 };

static int oid_is(const unsigned char *b, apr_size_t len, apr_size_t *off,
                  const unsigned char *oid, apr_size_t olen)
{
    apr_size_t n;

    if (*off + 1 > len) {
        return 0;
    }
    n = b[*off];
    if (n != olen || n > len - *off - 1 || memcmp(b + *off + 1, oid, olen)) {
        return 0;
    }
    *off += 1 + n;
    return 1;
}

/* a v4 key packet body: algorithm and size; NULL or why not */
static const char *key_material(int *palgo, int *pbits, int64_t *pcreated,
                                const unsigned char *b, apr_size_t len, int primary)
{
    apr_size_t off = 6;
    int algo, bits = 0, dummy;

    if (len < 1 || b[0] != 4) {
        return primary ? "pgp.version" : "pgp.subkey";
    }
    if (len < 6) {
        return "pgp.garbage";
    }
    *pcreated = (int64_t)((uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8
                          | b[4]);
    algo = b[5];
    switch (algo) {
    case 1: case 2: case 3:             /* RSA */
        if (!mpi(b, len, &off, &bits) || !mpi(b, len, &off, NULL)) {
            return "pgp.garbage";
        }
        if (bits < 2048 || bits > 16384) {
            return primary ? "pgp.rsa.small" : "pgp.subkey";
        }
        if (primary && algo == 2) {
            return "pgp.algo";          /* encrypt-only RSA cannot certify */
        }
        break;
    case 17:                            /* DSA */
        if (!mpi(b, len, &off, &bits) || !mpi(b, len, &off, NULL)
            || !mpi(b, len, &off, NULL) || !mpi(b, len, &off, NULL)) {
            return "pgp.garbage";
        }
        /* DSA-1024 (with its 160-bit q) is the weak key of old keyrings */
        if (bits < 2048 || bits > 3072) {
            return primary ? "pgp.dsa.small" : "pgp.subkey";
        }
        break;
    case 16:                            /* Elgamal, encryption subkeys only */
        if (primary) {
            return "pgp.algo";
        }
        if (!mpi(b, len, &off, &bits) || !mpi(b, len, &off, NULL)
            || !mpi(b, len, &off, NULL)) {
            return "pgp.garbage";
        }
        if (bits < 2048 || bits > 16384) {
            return "pgp.subkey";
        }
        break;
    case 22:                            /* EdDSA: Ed25519 */
        if (!oid_is(b, len, &off, oid_ed25519, sizeof(oid_ed25519))) {
            return primary ? "pgp.algo" : "pgp.subkey";
        }
        if (!mpi(b, len, &off, &dummy)) {
            return "pgp.garbage";
        }
        bits = 255;
        break;
    case 18:                            /* ECDH: Curve25519, encryption subkeys only */
        if (primary) {
            return "pgp.algo";
        }
        if (!oid_is(b, len, &off, oid_cv25519, sizeof(oid_cv25519))) {
            return "pgp.subkey";
        }
        if (!mpi(b, len, &off, &dummy) || off + 1 > len || b[off] != 3 || off + 4 > len) {
            return "pgp.garbage";
        }
        off += 4;
        bits = 255;
        break;
    default:
        return primary ? "pgp.algo" : "pgp.subkey";
    }
    if (off != len) {
        return "pgp.garbage";
    }
    *palgo = algo;
    *pbits = bits;
    return NULL;
}

/* ---- signatures ---- */

static int subpackets(ca_pgp_sig_t *sig, const unsigned char *b, apr_size_t len)
{
    apr_size_t off = 0;

    while (off < len) {
        apr_size_t n, hl;
        unsigned char t;

        if (b[off] < 192) {
            n = b[off];
            hl = 1;
        }
        else if (b[off] < 255) {
            if (off + 2 > len) {
                return 0;
            }
            n = ((apr_size_t)(b[off] - 192) << 8) + b[off + 1] + 192;
            hl = 2;
        }
        else {
            if (off + 5 > len) {
                return 0;
            }
            n = (apr_size_t)b[off + 1] << 24 | (apr_size_t)b[off + 2] << 16
                | (apr_size_t)b[off + 3] << 8 | b[off + 4];
            hl = 5;
        }
        if (n < 1 || n > len - off - hl) {
            return 0;
        }
        t = b[off + hl] & 0x7F;
        if (t == 16 && n == 9) {
            memcpy(sig->issuer, b + off + hl + 1, 8);
            sig->has_issuer = 1;
        }
        else if (t == 33 && n == 22 && b[off + hl + 1] == 4) {
            memcpy(sig->issuer, b + off + hl + 1 + 1 + 12, 8);
            sig->has_issuer = 1;
        }
        else if (t == 2 && n == 5) {
            const unsigned char *v = b + off + hl + 1;
            sig->created = (int64_t)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16
                                     | (uint32_t)v[2] << 8 | v[3]);
        }
        else if (t == 3 && n == 5) {
            const unsigned char *v = b + off + hl + 1;
            sig->expires = (int64_t)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16
                                     | (uint32_t)v[2] << 8 | v[3]);
        }
        off += hl + n;
    }
    return 1;
}

int ca_pgp_sig_parse(ca_pgp_sig_t *sig, const unsigned char *b, apr_size_t len)
{
    apr_size_t hn, un;

    memset(sig, 0, sizeof(*sig));
    sig->created = -1;
    if (len < 1) {
        return 0;
    }
    sig->version = b[0];
    if (b[0] == 3) {
        if (len < 19 || b[1] != 5) {
            return 0;
        }
        sig->type = b[2];
        sig->created = (int64_t)((uint32_t)b[3] << 24 | (uint32_t)b[4] << 16
                                 | (uint32_t)b[5] << 8 | b[6]);
        memcpy(sig->issuer, b + 7, 8);
        sig->has_issuer = 1;
        return 1;
    }
    if (b[0] != 4 || len < 6) {
        return 0;
    }
    sig->type = b[1];
    hn = (apr_size_t)b[4] << 8 | b[5];
    if (hn > len - 6 || len - 6 - hn < 2) {
        return 0;
    }
    un = (apr_size_t)b[6 + hn] << 8 | b[7 + hn];
    if (un > len - 8 - hn || len - 8 - hn - un < 2) {
        return 0;
    }
    if (!subpackets(sig, b + 6, hn)) {
        return 0;
    }
    /* the unhashed area may only tell the issuer */
    {
        ca_pgp_sig_t u;
        memset(&u, 0, sizeof(u));
        if (!subpackets(&u, b + 8 + hn, un)) {
            return 0;
        }
        if (!sig->has_issuer && u.has_issuer) {
            memcpy(sig->issuer, u.issuer, 8);
            sig->has_issuer = 1;
        }
    }
    return 1;
}

/* ---- user IDs ---- */

/* valid UTF-8 without C0, DEL or C1 controls, and no U+2028/2029 or bidi
 * overrides (they change how the ID reads) */
static int uid_text_ok(const unsigned char *s, apr_size_t n)
{
    apr_size_t i = 0;

    while (i < n) {
        unsigned c = s[i], cp;
        int k;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F) {
                return 0;
            }
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        if ((apr_size_t)k >= n - i) {
            return 0;
        }
        {
            int j;
            for (j = 1; j <= k; j++) {
                if ((s[i + (apr_size_t)j] & 0xC0) != 0x80) {
                    return 0;
                }
                cp = cp << 6 | (s[i + (apr_size_t)j] & 0x3F);
            }
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF))
            || (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp <= 0x9F)
            || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E)
            || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF) {
            return 0;
        }
        i += (apr_size_t)k + 1;
    }
    return 1;
}

static int issuer_is(const ca_pgp_sig_t *s, const unsigned char *keyid)
{
    return keyid && s->has_issuer && !memcmp(s->issuer, keyid, 8);
}

static int is_cert(uint8_t t)
{
    return t >= 0x10 && t <= 0x13;
}

const char *ca_pgp_parse(ca_pgp_key_t **pkey, const unsigned char *in, apr_size_t len,
                         apr_pool_t *p)
{
    const unsigned char *bin;
    apr_size_t blen;
    apr_array_header_t *pkts;
    ca_pgp_key_t *k;
    ca_pgp_uid_t *cur = NULL;
    const char *e;
    int i, pubkeys = 0, in_subkey = 0;

    *pkey = NULL;
    if (len > 4 * CA_PGP_MAX_KEY) {
        return "pgp.toolarge";
    }
    if ((e = ca_pgp_dearmor(&bin, &blen, in, len, p))) {
        return e;
    }
    if (blen > CA_PGP_MAX_KEY) {
        return "pgp.toolarge";
    }
    if (blen == 0 || (e = ca_pgp_packets(&pkts, bin, blen, p))) {
        return e ? e : "pgp.garbage";
    }
    for (i = 0; i < pkts->nelts; i++) {
        uint8_t t = APR_ARRAY_IDX(pkts, i, ca_pgp_packet_t).tag;
        if (t == CA_PGP_TAG_SECKEY || t == CA_PGP_TAG_SECSUBKEY) {
            return "pgp.secret";
        }
        if (t == CA_PGP_TAG_PUBKEY) {
            pubkeys++;
        }
    }
    if (pubkeys > 1) {
        return "pgp.several";
    }
    if (pubkeys == 0) {
        return "pgp.nokey";
    }
    k = apr_pcalloc(p, sizeof(*k));
    k->bin = bin;
    k->len = blen;
    k->packets = pkts;
    k->uids = apr_array_make(p, 4, sizeof(ca_pgp_uid_t));
    for (i = 0; i < pkts->nelts; i++) {
        ca_pgp_packet_t *pk = &APR_ARRAY_IDX(pkts, i, ca_pgp_packet_t);
        ca_pgp_sig_t sig;

        if (i == 0) {
            unsigned char hdr[3];
            unsigned int n = 20;
            EVP_MD_CTX *c;

            if (pk->tag != CA_PGP_TAG_PUBKEY) {
                return "pgp.garbage";
            }
            if ((e = key_material(&k->algo, &k->bits, &k->created, pk->body, pk->len, 1))) {
                return e;
            }
            if (pk->len > 0xFFFF) {
                return "pgp.garbage";
            }
            hdr[0] = 0x99;
            hdr[1] = (unsigned char)(pk->len >> 8);
            hdr[2] = (unsigned char)pk->len;
            if (!(c = EVP_MD_CTX_new())) {
                return "pgp.garbage";
            }
            if (EVP_DigestInit_ex(c, EVP_sha1(), NULL) != 1
                || EVP_DigestUpdate(c, hdr, 3) != 1
                || EVP_DigestUpdate(c, pk->body, pk->len) != 1
                || EVP_DigestFinal_ex(c, k->fpr, &n) != 1) {
                EVP_MD_CTX_free(c);
                return "pgp.garbage";
            }
            EVP_MD_CTX_free(c);
            memcpy(k->keyid, k->fpr + 12, 8);
            {
                int j;
                for (j = 0; j < 20; j++) {
                    apr_snprintf(k->fpr_hex + 2 * j, 3, "%02X", k->fpr[j]);
                }
            }
            k->algo_name = apr_psprintf(p, "%s%d", k->algo == 17 ? "dsa" : k->algo == 22
                                        ? "ed" : "rsa", k->bits == 255 ? 25519 : k->bits);
            continue;
        }
        switch (pk->tag) {
        case CA_PGP_TAG_SIG:
            if (!ca_pgp_sig_parse(&sig, pk->body, pk->len)) {
                return "pgp.garbage";
            }
            if (cur && !in_subkey && is_cert(sig.type) && issuer_is(&sig, k->keyid)) {
                cur->self_signed = 1;
            }
            break;
        case CA_PGP_TAG_UID:
            if (in_subkey) {
                return "pgp.garbage";   /* user IDs come before subkeys */
            }
            if (pk->len > CA_PGP_MAX_UID) {
                return "pgp.uid.long";
            }
            if (pk->len == 0 || !uid_text_ok(pk->body, pk->len)) {
                return "pgp.uid.control";
            }
            if (k->uids->nelts >= CA_PGP_MAX_UIDS) {
                return "pgp.uids.many";
            }
            cur = apr_array_push(k->uids);
            cur->text = apr_pstrmemdup(p, (const char *)pk->body, pk->len);
            cur->self_signed = 0;
            break;
        case CA_PGP_TAG_UAT:
            cur = NULL;
            break;
        case CA_PGP_TAG_PUBSUBKEY: {
            int a, b2;
            int64_t cr;
            if ((e = key_material(&a, &b2, &cr, pk->body, pk->len, 0))) {
                return e;
            }
            in_subkey = 1;
            cur = NULL;
            k->subkeys++;
            break;
        }
        case CA_PGP_TAG_TRUST:
        case CA_PGP_TAG_MARKER:
            break;
        default:
            return "pgp.garbage";
        }
    }
    if (k->uids->nelts == 0) {
        return "pgp.nouid";
    }
    *pkey = k;
    return NULL;
}

apr_status_t ca_pgp_filter(const unsigned char **pout, apr_size_t *plen, int *pcount,
                           const ca_pgp_key_t *key, const apr_array_header_t *keep,
                           const unsigned char *ca_keyid, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, (int)key->len + 16, 1);
    char *used = apr_pcalloc(p, (apr_size_t)(keep ? keep->nelts : 0) + 1);
    enum { PRIMARY, UID_KEEP, DROP, SUBKEY } where = PRIMARY;
    int i, count = 0;

    for (i = 0; i < key->packets->nelts; i++) {
        const ca_pgp_packet_t *pk = &APR_ARRAY_IDX(key->packets, i, ca_pgp_packet_t);
        int take = 0;

        switch (pk->tag) {
        case CA_PGP_TAG_PUBKEY:
            take = i == 0;
            where = PRIMARY;
            break;
        case CA_PGP_TAG_UID: {
            int j;
            where = DROP;
            for (j = 0; keep && j < keep->nelts; j++) {
                const char *u = APR_ARRAY_IDX(keep, j, const char *);
                if (!used[j] && strlen(u) == pk->len && !memcmp(u, pk->body, pk->len)) {
                    used[j] = 1;
                    where = UID_KEEP;
                    take = 1;
                    break;
                }
            }
            break;
        }
        case CA_PGP_TAG_PUBSUBKEY:
            where = SUBKEY;
            take = 1;
            break;
        case CA_PGP_TAG_SIG: {
            ca_pgp_sig_t s;
            if (where == DROP || !ca_pgp_sig_parse(&s, pk->body, pk->len)) {
                break;
            }
            if (issuer_is(&s, key->keyid)) {
                take = 1;
            }
            else if (where == UID_KEEP && is_cert(s.type) && issuer_is(&s, ca_keyid)) {
                take = 1;
                count++;
            }
            break;
        }
        default:                        /* user attributes, trust, marker */
            if (pk->tag == CA_PGP_TAG_UAT) {
                where = DROP;
            }
            break;
        }
        if (take) {
            apr_array_header_t raw;
            raw.pool = p;
            raw.elt_size = 1;
            raw.nelts = raw.nalloc = (int)pk->rawlen;
            raw.elts = (char *)pk->raw;
            apr_array_cat(out, &raw);
        }
    }
    *pout = (const unsigned char *)out->elts;
    *plen = (apr_size_t)out->nelts;
    if (pcount) {
        *pcount = count;
    }
    return APR_SUCCESS;
}

int ca_pgp_count_certs(int64_t *pexpires, const ca_pgp_key_t *key, const char *uid,
                       const unsigned char ca_keyid[8])
{
    int i, in = 0, n = 0;
    apr_size_t ul = strlen(uid);

    if (pexpires) {
        *pexpires = 0;
    }
    for (i = 0; i < key->packets->nelts; i++) {
        const ca_pgp_packet_t *pk = &APR_ARRAY_IDX(key->packets, i, ca_pgp_packet_t);
        ca_pgp_sig_t s;

        if (pk->tag == CA_PGP_TAG_UID) {
            in = pk->len == ul && !memcmp(pk->body, uid, ul);
        }
        else if (pk->tag == CA_PGP_TAG_UAT || pk->tag == CA_PGP_TAG_PUBSUBKEY) {
            in = 0;
        }
        else if (pk->tag == CA_PGP_TAG_SIG && in && ca_pgp_sig_parse(&s, pk->body, pk->len)
                 && is_cert(s.type) && issuer_is(&s, ca_keyid)) {
            n++;
            if (pexpires && s.created >= 0 && s.expires
                && s.created + s.expires > *pexpires) {
                *pexpires = s.created + s.expires;
            }
        }
    }
    return n;
}

/* ---- Table 4.3.1 ---- */

static int email_shape_ok(const char *e)
{
    const char *at = strchr(e, '@');
    const char *c;

    if (!at || at == e || !at[1] || strchr(at + 1, '@')) {
        return 0;
    }
    for (c = e; *c; c++) {
        if (*c == ' ' || *c == '<' || *c == '>' || *c == '(' || *c == ')') {
            return 0;
        }
    }
    return 1;
}

int ca_pgp_uid_split(ca_pgp_uid_parts_t *u, const char *uid, apr_pool_t *p)
{
    apr_size_t n = strlen(uid);
    const char *lt, *rest;
    apr_size_t rn;

    u->name = u->comment = u->email = "";
    if (n == 0) {
        return 0;
    }
    if (uid[n - 1] == '>') {
        if (!(lt = strrchr(uid, '<'))) {
            return 0;
        }
        u->email = apr_pstrmemdup(p, lt + 1, (apr_size_t)(uid + n - 1 - lt - 1));
        if (!email_shape_ok(u->email)) {
            return 0;
        }
        rest = uid;
        rn = (apr_size_t)(lt - uid);
        if (rn) {
            if (uid[rn - 1] != ' ') {
                return 0;
            }
            rn--;
        }
    }
    else if (strchr(uid, '@') && !strchr(uid, ' ') && !strchr(uid, '<')) {
        if (!email_shape_ok(uid)) {
            return 0;
        }
        u->email = uid;
        return 1;
    }
    else {
        rest = uid;
        rn = n;
    }
    if (rn && rest[rn - 1] == ')') {
        const char *op = NULL, *c;
        for (c = rest; c < rest + rn; c++) {
            if (*c == '(') {
                op = c;
            }
        }
        if (!op) {
            return 0;
        }
        u->comment = apr_pstrmemdup(p, op + 1, (apr_size_t)(rest + rn - 1 - op - 1));
        rn = (apr_size_t)(op - rest);
        if (rn) {
            if (rest[rn - 1] != ' ') {
                return 0;
            }
            rn--;
        }
        if (!*u->comment) {
            u->comment = "()";          /* an empty comment is still one */
        }
    }
    {
        apr_size_t i;
        for (i = 0; i < rn; i++) {
            if (rest[i] == '<' || rest[i] == '>' || rest[i] == '(' || rest[i] == ')') {
                return 0;
            }
        }
    }
    u->name = apr_pstrmemdup(p, rest, rn);
    if (rn && (u->name[0] == ' ' || u->name[rn - 1] == ' ')) {
        return 0;
    }
    return *u->name || *u->email;
}

/* 1 if list (const char *; NULL: empty) holds s, compared as it is or,
 * nocase, without regard to ASCII case */
static int listed(const apr_array_header_t *list, const char *s, int nocase)
{
    int i;

    for (i = 0; list && i < list->nelts; i++) {
        const char *e = APR_ARRAY_IDX(list, i, const char *);
        if (!(nocase ? strcasecmp(e, s) : strcmp(e, s))) {
            return 1;
        }
    }
    return 0;
}

static void add_name(apr_array_header_t *a, const char *n)
{
    if (!listed(a, n, 0)) {
        APR_ARRAY_PUSH(a, const char *) = n;
    }
}

/* "Anna Maria" -> "A. M." (the first character of each word, which may
 * be several bytes in UTF-8) */
static const char *initials(const char *middle, apr_pool_t *p)
{
    const char *w = middle, *out = "";

    while (*w) {
        const char *e;
        apr_size_t cl = 1;
        while (*w == ' ') {
            w++;
        }
        if (!*w) {
            break;
        }
        while (((unsigned char)w[cl] & 0xC0) == 0x80) {
            cl++;
        }
        out = apr_pstrcat(p, out, *out ? " " : "", apr_pstrmemdup(p, w, cl), ".", NULL);
        e = strchr(w, ' ');
        w = e ? e : w + strlen(w);
    }
    return out;
}

apr_array_header_t *ca_pgp_name_variants(const char *given, const char *middle,
                                         const char *family, const char *suffix,
                                         apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 6, sizeof(const char *));
    const char *forms[3];
    int i, nf = 0;

    if (!given || !*given || !family || !*family) {
        return a;
    }
    forms[nf++] = apr_pstrcat(p, given, " ", family, NULL);
    if (middle && *middle) {
        forms[nf++] = apr_pstrcat(p, given, " ", middle, " ", family, NULL);
        forms[nf++] = apr_pstrcat(p, given, " ", initials(middle, p), " ", family, NULL);
    }
    for (i = 0; i < nf; i++) {
        add_name(a, forms[i]);
        if (suffix && *suffix) {
            add_name(a, apr_pstrcat(p, forms[i], " ", suffix, NULL));
        }
    }
    return a;
}

const char *ca_pgp_uid_verdict(const char *uid, const apr_array_header_t *names,
                               const apr_array_header_t *emails, apr_pool_t *p)
{
    ca_pgp_uid_parts_t u;

    if (!uid_text_ok((const unsigned char *)uid, strlen(uid))) {
        return "pgp.uid.control";
    }
    if (!ca_pgp_uid_split(&u, uid, p)) {
        return "pgp.uid.malformed";
    }
    if (*u.comment) {
        return "pgp.uid.comment";
    }
    if (*u.name && !listed(names, u.name, 0)) {
        return "pgp.uid.name";
    }
    if (*u.email && !listed(emails, u.email, 1)) {
        return "pgp.uid.email";
    }
    return NULL;
}
