/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the domain-name and IDN parser of domain control
 * (ca_domain_name, ca_idn_check, ca_domain_claim_rule).  Besides "no
 * crash, no sanitizer report", it checks what the parser promises: an
 * accepted name is lower-case LDH ASCII of 2+ labels, at most 253 bytes,
 * labels of 1-63 bytes, no trailing dot, and accepting it again gives the
 * same name; a refusal is one of the documented message keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "ca_domain.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
    "domain.required", "domain.nul", "domain.trailingdot", "domain.ip", "domain.wildcard",
    "domain.invalid", "domain.label.toolong", "domain.toolong", "domain.onelabel",
    "domain.idn.invalid", "domain.idn.mixed", "domain.publicsuffix", NULL
};

static int known(const char *e)
{
    int i;

    for (i = 0; keys[i]; i++) {
        if (!strcmp(e, keys[i])) {
            return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ca_domain_cfg_t cfg;
    const char *name = NULL, *again = NULL, *e, *c, *label;
    apr_pool_t *p;
    int labels = 0;

    if (fuzz_init()) {
        cfg.psl = ca_domain_psl_load();
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        abort();
    }
    e = ca_domain_name(&name, (const char *)data, size, &cfg, p);
    if (e) {
        fuzz_check(known(e) && name == NULL);
    }
    else {
        size_t n = strlen(name);
        fuzz_check(n >= 3 && n <= 253 && name[n - 1] != '.');
        for (c = name; *c; c++) {
            fuzz_check((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'
                  || *c == '.');
        }
        for (label = name;; labels++) {
            const char *dot = strchr(label, '.');
            size_t l = dot ? (size_t)(dot - label) : strlen(label);
            fuzz_check(l >= 1 && l <= 63);
            if (!dot) {
                break;
            }
            label = dot + 1;
        }
        fuzz_check(labels >= 1);
        fuzz_check(ca_idn_check(name, NULL) == NULL);
        fuzz_check(ca_domain_name(&again, name, n, &cfg, p) == NULL && !strcmp(again, name));
        fuzz_check(!strcmp(ca_domain_claim_rule(name, name), "domain.claimed.same"));
        fuzz_check(ca_domain_within(apr_pstrcat(p, "www.", name, NULL), name));
    }
    /* the IDN rule on the raw input as a NUL-terminated string */
    {
        char *s = apr_pstrmemdup(p, (const char *)data, size);
        e = ca_idn_check(s, NULL);
        fuzz_check(!e || !strcmp(e, "domain.idn.invalid") || !strcmp(e, "domain.idn.mixed"));
    }
    apr_pool_destroy(p);
    return 0;
}
