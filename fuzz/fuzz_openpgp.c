/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the OpenPGP key upload path (armour, packets, the
 * upload checks, the filter and the user ID rules of Table 4.3.1). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "ca_openpgp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char some_keyid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    apr_pool_t *p;
    ca_pgp_key_t *key;
    apr_array_header_t *names, *emails, *keep;
    int i;

    fuzz_init();
    apr_pool_create(&p, NULL);
    names = ca_pgp_name_variants("Alice", "Bea Cee", "Example", "Jr.", p);
    emails = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(emails, const char *) = "alice@example.org";
    keep = apr_array_make(p, 4, sizeof(const char *));
    if (!ca_pgp_parse(&key, data, size, p)) {
        const unsigned char *out;
        apr_size_t olen;
        int count;
        ca_pgp_key_t *again;

        for (i = 0; i < key->uids->nelts; i++) {
            const char *u = APR_ARRAY_IDX(key->uids, i, ca_pgp_uid_t).text;
            if (!ca_pgp_uid_verdict(u, names, emails, p) || i == 0) {
                APR_ARRAY_PUSH(keep, const char *) = u;
            }
            ca_pgp_count_certs(NULL, key, u, some_keyid);
        }
        ca_pgp_filter(&out, &olen, &count, key, keep, some_keyid, p);
        /* what the filter keeps is a key that parses again */
        if (keep->nelts && ca_pgp_parse(&again, out, olen, p)) {
            __builtin_trap();
        }
        ca_pgp_armor(out, olen, p);
    }
    else {
        /* the user ID rules on arbitrary text too */
        char *s = apr_pstrmemdup(p, (const char *)data, size < 300 ? size : 300);
        ca_pgp_uid_verdict(s, names, emails, p);
    }
    apr_pool_destroy(p);
    return 0;
}
