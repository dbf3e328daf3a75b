/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* Composition of the mails the CA sends.  The text comes from a rendered
 * mail template whose first line is "Subject: ..." followed by an empty
 * line and the body. */
#ifndef CA_MAIL_H
#define CA_MAIL_H

#include <apr_pools.h>
#include <apr_time.h>

/* Split a rendered mail template into subject and body; APR_EINVAL if it
 * has no "Subject:" first line. */
apr_status_t ca_mail_split(const char **psubject, const char **pbody,
                           const char *text, apr_pool_t *p);

/* A complete RFC 5322 / MIME message: From, To, Subject (RFC 2047 encoded
 * when not ASCII), Date, Message-ID, Auto-Submitted, UTF-8 text body in
 * quoted-printable.  from is "Name <addr>" or "addr".  Header values with
 * CR or LF are refused (APR_EINVAL). */
apr_status_t ca_mail_compose(const char **pmsg, apr_size_t *plen,
                             const char *from, const char *to,
                             const char *subject, const char *body,
                             apr_time_t now, apr_pool_t *p);

/* the bare address of "Name <addr>" or "addr" */
const char *ca_mail_addr(const char *from, apr_pool_t *p);

#endif
