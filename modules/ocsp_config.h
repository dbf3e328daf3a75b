/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* mod_cacert_ocsp's configuration: the directives, and the typed getters
 * that give each setting or its default (ocsp_config.c). */
#ifndef OCSP_CONFIG_H
#define OCSP_CONFIG_H

#include <apr_tables.h>
#include <apr_time.h>
#include <httpd.h>
#include <http_config.h>

#include "ca_ocsp.h"

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

extern const command_rec ocsp_cmds[];
void *ocsp_create_srv_cfg(apr_pool_t *p, server_rec *s);
void *ocsp_merge_srv_cfg(apr_pool_t *p, void *basev, void *addv);
ocsp_srv_cfg *ocsp_cfg_of(server_rec *s);

/* each setting, or its default */
apr_interval_time_t ocsp_cfg_validity(const ocsp_srv_cfg *c);
apr_interval_time_t ocsp_cfg_max_age(const ocsp_srv_cfg *c);
apr_interval_time_t ocsp_cfg_refresh(const ocsp_srv_cfg *c);
int ocsp_cfg_nonce(const ocsp_srv_cfg *c);
const char *ocsp_cfg_path(const ocsp_srv_cfg *c);
const char *ocsp_cfg_cache_spec(const ocsp_srv_cfg *c);
/* CAcertOCSPPrimary: NULL when not set (the listener uses mod_dbd's
 * database, which is then the primary) */
const char *ocsp_cfg_primary(const ocsp_srv_cfg *c);

#endif
