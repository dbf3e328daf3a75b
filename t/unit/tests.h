/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the core (Check).  Each file contributes one suite. */
#ifndef CA_TESTS_H
#define CA_TESTS_H

#include <check.h>

Suite *tmpl_suite(void);
Suite *form_suite(void);
Suite *valid_suite(void);
Suite *crypto_suite(void);
Suite *mail_suite(void);
Suite *x509_suite(void);
Suite *wire_suite(void);
Suite *link_suite(void);
Suite *policy_suite(void);
Suite *csr_suite(void);
Suite *multipart_suite(void);
Suite *ocsp_suite(void);
Suite *openpgp_suite(void);
Suite *points_suite(void);
Suite *audit_suite(void);
Suite *org_suite(void);
Suite *domain_suite(void);
Suite *jose_suite(void);
Suite *p11uri_suite(void);
Suite *listcache_suite(void);

#endif
