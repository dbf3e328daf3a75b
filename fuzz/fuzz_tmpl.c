/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the template renderer (ca_tmpl_render).
 *
 * Input layout: byte 0 holds flags (bit 0: HTML escaping, bits 1-2: the
 * output limit), the rest is split at NUL bytes: part 0 is the template
 * source, parts 1.. are values.  The values are set as "a", "b", "c" in
 * the root context, and as "x" in the items of the list "l" (and "y" in a
 * nested list "n" of the first item).  The loader serves a few fixed
 * partials, one of which includes itself and one that includes the fuzzed
 * template itself, to exercise the depth and work limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "ca_tmpl.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *loader(void *baton, const char *name)
{
    if (!strcmp(name, "p")) {
        return "[{{a}}{{#l}}<{{x}}>{{/l}}]";
    }
    if (!strcmp(name, "self")) {
        return "{{a}}{{>self}}";
    }
    if (!strcmp(name, "cond")) {
        return "{{#l}}{{^x}}{{>cond}}{{/x}}{{x}}{{/l}}";
    }
    if (!strcmp(name, "dir/t.txt")) {
        return "{{! comment }}\n{{#a}}\n{{b}}\n{{/a}}\n";
    }
    if (!strcmp(name, "me")) {
        return baton;           /* the fuzzed template itself */
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const apr_size_t limits[4] = { 0, 100, 4096, 65536 };
    static const char *const names[3] = { "a", "b", "c" };
    apr_pool_t *p;
    ca_tmpl_ctx_t *ctx, *item = NULL;
    const char *parts[8];
    const char *src, *out = NULL, *err = NULL;
    apr_size_t srclen, outlen = 0, max_out, off;
    apr_status_t rv;
    int flags, nparts = 0, i;

    fuzz_init();
    if (size < 1) {
        return 0;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        abort();
    }
    flags = data[0];
    max_out = limits[(flags >> 1) & 3];
    /* split the rest at NULs, each part copied and NUL-terminated */
    off = 1;
    while (off <= size && nparts < 8) {
        const uint8_t *z = off < size ? memchr(data + off, 0, size - off) : NULL;
        apr_size_t end = z ? (apr_size_t)(z - data) : size;
        parts[nparts++] = apr_pstrmemdup(p, (const char *)data + off, end - off);
        off = end + 1;
    }
    src = parts[0];
    srclen = strlen(src);

    ctx = ca_tmpl_ctx_make(NULL, p);
    for (i = 1; i < nparts; ++i) {
        if (i <= 3) {
            ca_tmpl_set(ctx, names[i - 1], parts[i]);
        }
        else {
            item = ca_tmpl_add_item(ctx, "l");
            ca_tmpl_set(item, "x", parts[i]);
            ca_tmpl_set(ca_tmpl_add_item(item, "n"), "y", parts[i]);
        }
    }
    if (!item) {
        ca_tmpl_add_item(ctx, "l");     /* a list with an item that has no x */
    }
    ca_tmpl_setf(ctx, "count", "%d", nparts);

    rv = ca_tmpl_render(&out, &outlen, &err, src, srclen, ctx, flags & 1,
                        loader, (void *)src, max_out, p);
    if (rv == APR_SUCCESS) {
        if (!out || err || outlen > max_out || strlen(out) != outlen) {
            abort();
        }
    }
    else if (rv != APR_EINVAL || out || !err) {
        abort();
    }
    /* escaping never leaves a special character behind */
    if (nparts > 1) {
        const char *e = ca_html_escape(parts[1], p);
        if (strpbrk(e, "<>\"'/")) {
            abort();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
