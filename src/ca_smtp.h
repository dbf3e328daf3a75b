/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* A minimal SMTP client (RFC 5321): EHLO/HELO, MAIL, RCPT, DATA, QUIT over
 * a plain TCP connection to the configured relay.  Mail never goes through
 * a shell or a local program. */
#ifndef CA_SMTP_H
#define CA_SMTP_H

#include <apr_pools.h>
#include <apr_time.h>
#include <apr_network_io.h>

typedef struct {
    const char *host;
    apr_port_t port;
    const char *helo;               /* name sent in EHLO */
    apr_interval_time_t timeout;    /* per read/write */
} ca_smtp_server_t;

/* Parse "host[:port]" (port default 25); NULL on success, else a reason. */
const char *ca_smtp_parse_server(ca_smtp_server_t *srv, const char *spec,
                                 apr_pool_t *p);

/* Send msg (a complete RFC 5322 message with CRLF or LF line ends) from
 * envelope sender from to the single recipient to.  Dot-stuffing and CRLF
 * line ends are applied here.  Any reply other than the expected class is
 * an error (APR_EGENERAL) and is logged with the server's reply. */
apr_status_t ca_smtp_send(const ca_smtp_server_t *srv, const char *from,
                          const char *to, const char *msg, apr_size_t len,
                          apr_pool_t *p);

#endif
