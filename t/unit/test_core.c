/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Runs every unit-test suite of the core. */
#include <stdlib.h>

#include <apr_general.h>

#include "tests.h"

int main(void)
{
    SRunner *sr;
    int failed;

    apr_initialize();
    atexit(apr_terminate);
    sr = srunner_create(tmpl_suite());
    srunner_add_suite(sr, form_suite());
    srunner_add_suite(sr, valid_suite());
    srunner_add_suite(sr, crypto_suite());
    srunner_add_suite(sr, mail_suite());
    srunner_add_suite(sr, x509_suite());
    srunner_add_suite(sr, wire_suite());
    srunner_add_suite(sr, link_suite());
    srunner_add_suite(sr, policy_suite());
    srunner_add_suite(sr, csr_suite());
    srunner_add_suite(sr, multipart_suite());
    srunner_add_suite(sr, ocsp_suite());
    srunner_add_suite(sr, openpgp_suite());
    srunner_add_suite(sr, points_suite());
    srunner_add_suite(sr, audit_suite());
    srunner_add_suite(sr, org_suite());
    srunner_add_suite(sr, domain_suite());
    srunner_add_suite(sr, jose_suite());
    srunner_add_suite(sr, p11uri_suite());
    srunner_add_suite(sr, listcache_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
