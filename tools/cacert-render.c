/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* cacert-render: render templates in every language, as httpd would, for
 * translators and the tests (docs/translating.md).
 *
 *   cacert-render TEMPLATE_DIR LOCALE_DIR OUT_DIR NAME... [-- VAR=VALUE...]
 *
 * Loads the templates and catalogues as mod_cacert_account does (a refused
 * translation is reported, CA02003), then writes OUT_DIR/<lang>/<NAME> for
 * every language and every template NAME given, with the values given
 * after "--" (a value "1" also opens the section of that name).  Exit
 * status 1 if anything fails to load or render, or a translation is
 * refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "ca_log.h"
#include "ca_tmpl.h"

static int warnings;

/* every warning (a refused translation) is printed and fails the run */
static void sink(void *baton, ca_log_level_t level, const char *tag, apr_status_t rv,
                 const char *msg)
{
    (void)baton;
    (void)rv;
    if (level <= CA_LOG_WARN) {
        fprintf(stderr, "%s: %s\n", tag, msg);
        ++warnings;
    }
}

static int write_out(const char *path, const char *data, apr_size_t len, apr_pool_t *p)
{
    char *dir = apr_pstrdup(p, path);
    apr_file_t *f;
    apr_size_t n = len;

    *strrchr(dir, '/') = '\0';
    if (apr_dir_make_recursive(dir, APR_FPROT_OS_DEFAULT, p) != APR_SUCCESS
        || apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                         APR_FPROT_OS_DEFAULT, p) != APR_SUCCESS) {
        fprintf(stderr, "cacert-render: cannot write %s\n", path);
        return 1;
    }
    if (apr_file_write_full(f, data, len, &n) != APR_SUCCESS) {
        fprintf(stderr, "cacert-render: cannot write %s\n", path);
        apr_file_close(f);
        return 1;
    }
    apr_file_close(f);
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    ca_i18n_t *i18n;
    ca_tmpl_ctx_t *ctx;
    const apr_array_header_t *langs;
    int i, k, names_end = argc, bad = 0;

    if (argc < 5) {
        fprintf(stderr, "usage: cacert-render TEMPLATE_DIR LOCALE_DIR OUT_DIR NAME... "
                "[-- VAR=VALUE...]\n");
        return 2;
    }
    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&p, NULL);
    ca_log_set_level(CA_LOG_WARN);
    ca_log_set_sink(sink, NULL);
    if (ca_i18n_load(&i18n, argv[1], argv[2], "en", p) != APR_SUCCESS) {
        fprintf(stderr, "cacert-render: cannot load %s and %s\n", argv[1], argv[2]);
        return 1;
    }
    ctx = ca_tmpl_ctx_make(NULL, p);
    for (i = 4; i < argc; ++i) {
        if (!strcmp(argv[i], "--")) {
            names_end = i;
            for (++i; i < argc; ++i) {
                const char *eq = strchr(argv[i], '=');
                if (!eq) {
                    fprintf(stderr, "cacert-render: %s: expected VAR=VALUE\n", argv[i]);
                    return 2;
                }
                ca_tmpl_set(ctx, apr_pstrmemdup(p, argv[i], (apr_size_t)(eq - argv[i])),
                            eq + 1);
            }
        }
    }
    langs = ca_i18n_langs(i18n);
    for (k = 0; k < langs->nelts; ++k) {
        const char *lang = APR_ARRAY_IDX(langs, k, const char *);
        for (i = 4; i < names_end; ++i) {
            const char *out;
            apr_size_t len;
            if (ca_i18n_render(&out, &len, i18n, lang, argv[i], ctx, p) != APR_SUCCESS) {
                fprintf(stderr, "cacert-render: %s (%s) does not render\n", argv[i], lang);
                bad = 1;
                continue;
            }
            bad |= write_out(apr_pstrcat(p, argv[3], "/", lang, "/", argv[i], NULL),
                             out, len, p);
        }
    }
    return bad || warnings;
}
