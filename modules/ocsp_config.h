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

/* every setting of mod_cacert_ocsp, a line each (cacert_glue.h): the
 * field, its default, the directive that sets it and its help; the
 * setters are ocsp_config.c's */
#define OCSP_SETTINGS(S, t) \
    S(t, ARR, responder_confs, responder_conf_t, TAKE_ARGV, "CAcertOCSPResponder", set_responder, "CA name, issuer certificate, responder certificate, responder key") \
    S(t, TIME, validity, apr_time_from_sec(3600), TAKE1, "CAcertOCSPValidity", set_duration, "nextUpdate - thisUpdate of responses (default 1h)") \
    S(t, TIME, max_age, apr_time_from_sec(60), TAKE1, "CAcertOCSPMaxAge", set_duration, "HTTP max-age of GET answers (default 60s)") \
    S(t, TIME, refresh, apr_time_from_sec(60), TAKE1, "CAcertOCSPRefresh", set_duration, "how often cached answers near their nextUpdate are signed anew (default 60s)") \
    S(t, INT, nonce, 1, FLAG, "CAcertOCSPNonce", set_flag, "echo request nonces in freshly signed answers (default on)") \
    S(t, STR, path, "/ocsp", TAKE1, "CAcertOCSPPath", set_path, "URL path of the responder, for GET requests (default /ocsp)") \
    S(t, STR, cache_spec, "shmcb", TAKE1, "CAcertOCSPCache", set_global, "mod_socache provider and its argument for signed answers (default shmcb)") \
    S(t, STR, primary, NULL, TAKE1, "CAcertOCSPPrimary", set_primary, "libpq parameters of the primary database, when mod_dbd reads a hot standby (default: none, mod_dbd's database is the primary)")

typedef struct {
    CACERT_SETTINGS_FIELDS(OCSP_SETTINGS)
    apr_array_header_t *responders;         /* of ca_ocsp_responder_t *, loaded */
} ocsp_srv_cfg;

CACERT_SRV_CFG_DECLS(ocsp_, ocsp_srv_cfg);

/* the defaults of the settings (ocsp_config.c); OCSP_CFG(c, validity): the
 * setting of c, or its default, typed as the field (primary is NULL when
 * CAcertOCSPPrimary is not set: the listener uses mod_dbd's database,
 * which is then the primary) */
extern const ocsp_srv_cfg ocsp_defaults;
#define OCSP_CFG(c, f) CACERT_CFG(c, ocsp_defaults, f)

#endif
