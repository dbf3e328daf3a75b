/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_ocsp's configuration: the directives, and the defaults
 * OCSP_CFG gives a setting not configured (ocsp_config.c). */
#ifndef OCSP_CONFIG_H
#define OCSP_CONFIG_H

#include <apr_tables.h>
#include <apr_time.h>
#include <httpd.h>
#include <http_config.h>

#include "ca_ocsp.h"
#include "cacert_glue.h"

typedef struct {
    const char *name;
    const char *issuer, *cert, *key;
    ca_ocsp_files_t files;          /* read by the parent, while it is root */
    int read;
} responder_conf_t;

typedef struct {
    apr_array_header_t *responder_confs;    /* of responder_conf_t */
    apr_array_header_t *responders;         /* of ca_ocsp_responder_t *, loaded */
    apr_interval_time_t validity;           /* nextUpdate - thisUpdate */
    apr_interval_time_t max_age;            /* HTTP Cache-Control for GET */
    int nonce;                              /* echo nonces (1) or ignore them (0) */
    const char *path;                       /* URL path of the responder, for GET */
    const char *cache_spec;                 /* "shmcb:path(size)" */
    apr_interval_time_t refresh;            /* how often the watchdog re-signs */
    const char *primary;                    /* libpq parameters of the primary */
} ocsp_srv_cfg;

CACERT_SRV_CFG_DECLS(ocsp_, ocsp_srv_cfg);

/* the defaults of the settings (ocsp_config.c); OCSP_CFG(c, validity): the
 * setting of c, or its default, typed as the field (primary is NULL when
 * CAcertOCSPPrimary is not set: the listener uses mod_dbd's database,
 * which is then the primary) */
extern const ocsp_srv_cfg ocsp_defaults;
#define OCSP_CFG(c, f) CACERT_CFG(c, ocsp_defaults, f)

#endif
