/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "ca_smtp.h"
#include "ca_log.h"

typedef struct {
    apr_socket_t *sock;
    char buf[1024];
    apr_size_t len;     /* bytes in buf */
    apr_pool_t *p;
} smtp_conn_t;

const char *ca_smtp_parse_server(ca_smtp_server_t *srv, const char *spec,
                                 apr_pool_t *p)
{
    char *host, *scope;
    apr_port_t port = 0;

    if (!spec || !*spec) {
        return "empty SMTP server";
    }
    if (apr_parse_addr_port(&host, &scope, &port, spec, p) != APR_SUCCESS
        || !host || scope || (spec[0] != '[' && strchr(host, ':'))
        || strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789.-:") != strlen(host)) {
        return "SMTP server must be host or host:port";
    }
    srv->host = host;
    srv->port = port ? port : 25;
    return NULL;
}

static apr_status_t send_all(smtp_conn_t *c, const char *data, apr_size_t len)
{
    apr_status_t rv = APR_SUCCESS;

    while (len > 0) {
        apr_size_t n = len;
        rv = apr_socket_send(c->sock, data, &n);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        data += n;
        len -= n;
    }
    return rv;
}

/* read one reply (possibly multi-line); *pcode = the 3-digit code */
static apr_status_t read_reply(int *pcode, const char **ptext, smtp_conn_t *c)
{
    apr_status_t rv;
    char *nl;
    int lines = 0;

    *pcode = 0;
    *ptext = "";
    for (;;) {
        while (!(nl = memchr(c->buf, '\n', c->len))) {
            apr_size_t n = sizeof(c->buf) - 1 - c->len;
            if (n == 0) {
                return APR_EGENERAL;        /* reply line too long */
            }
            rv = apr_socket_recv(c->sock, c->buf + c->len, &n);
            if (rv != APR_SUCCESS && !(APR_STATUS_IS_EOF(rv) && n > 0)) {
                return rv;
            }
            c->len += n;
        }
        *nl = '\0';
        if (nl > c->buf && nl[-1] == '\r') {
            nl[-1] = '\0';
        }
        if (strlen(c->buf) < 3 || !apr_isdigit(c->buf[0]) || !apr_isdigit(c->buf[1])
            || !apr_isdigit(c->buf[2]) || (c->buf[3] != ' ' && c->buf[3] != '-'
                                           && c->buf[3] != '\0')) {
            return APR_EGENERAL;
        }
        *pcode = atoi(apr_pstrmemdup(c->p, c->buf, 3));
        *ptext = apr_pstrdup(c->p, c->buf);
        {
            int more = (c->buf[3] == '-');
            apr_size_t used = (apr_size_t)(nl + 1 - c->buf);
            memmove(c->buf, nl + 1, c->len - used);
            c->len -= used;
            if (!more) {
                return APR_SUCCESS;
            }
        }
        if (++lines > 100) {
            return APR_EGENERAL;
        }
    }
}

static apr_status_t command(smtp_conn_t *c, const char *line, int expect_class,
                            const char *what)
{
    apr_status_t rv;
    int code;
    const char *text;

    if (line && (rv = send_all(c, line, strlen(line))) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10201", rv, "SMTP: sending %s failed", what);
        return rv;
    }
    if ((rv = read_reply(&code, &text, c)) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10202", rv, "SMTP: no valid reply to %s", what);
        return rv;
    }
    if (code / 100 != expect_class) {
        ca_log(CA_LOG_ERR, "CA10203", APR_EGENERAL, "SMTP: %s refused: %s",
               what, text);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static int header_safe(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == '<' || *s == '>' || *s == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* the message with CRLF line ends and leading dots doubled */
static const char *dot_stuff(apr_size_t *plen, const char *msg, apr_size_t len,
                             apr_pool_t *p)
{
    char *out = apr_palloc(p, len * 2 + 8), *o = out;
    apr_size_t i;
    int bol = 1;

    for (i = 0; i < len; i++) {
        char ch = msg[i];
        if (bol && ch == '.') {
            *o++ = '.';
        }
        bol = 0;
        if (ch == '\r') {
            continue;
        }
        if (ch == '\n') {
            *o++ = '\r';
            *o++ = '\n';
            bol = 1;
            continue;
        }
        *o++ = ch;
    }
    if (!bol) {
        *o++ = '\r';
        *o++ = '\n';
    }
    memcpy(o, ".\r\n", 3);
    o += 3;
    *plen = (apr_size_t)(o - out);
    return out;
}

apr_status_t ca_smtp_send(const ca_smtp_server_t *srv, const char *from,
                          const char *to, const char *msg, apr_size_t len,
                          apr_pool_t *p)
{
    apr_status_t rv;
    apr_sockaddr_t *sa;
    smtp_conn_t *c = apr_pcalloc(p, sizeof(*c));
    const char *data;
    apr_size_t dlen;

    c->p = p;
    if (!header_safe(from) || !header_safe(to)) {
        rv = APR_EINVAL;
        ca_log(CA_LOG_ERR, "CA10204", rv, "SMTP: refusing unsafe envelope address");
        goto leave;
    }
    rv = apr_sockaddr_info_get(&sa, srv->host, APR_UNSPEC, srv->port, 0, p);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10205", rv, "SMTP: cannot resolve %s", srv->host);
        goto leave;
    }
    rv = apr_socket_create(&c->sock, sa->family, SOCK_STREAM, APR_PROTO_TCP, p);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    apr_socket_timeout_set(c->sock, srv->timeout > 0 ? srv->timeout
                                                    : apr_time_from_sec(30));
    rv = apr_socket_connect(c->sock, sa);
    if (rv != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10206", rv, "SMTP: cannot connect to %s:%d",
               srv->host, (int)srv->port);
        goto leave;
    }
    if ((rv = command(c, NULL, 2, "greeting")) != APR_SUCCESS) goto leave;
    rv = command(c, apr_psprintf(p, "EHLO %s\r\n", srv->helo ? srv->helo : "localhost"),
                 2, "EHLO");
    if (rv != APR_SUCCESS) {
        rv = command(c, apr_psprintf(p, "HELO %s\r\n",
                                     srv->helo ? srv->helo : "localhost"), 2, "HELO");
        if (rv != APR_SUCCESS) goto leave;
    }
    rv = command(c, apr_psprintf(p, "MAIL FROM:<%s>\r\n", from), 2, "MAIL FROM");
    if (rv != APR_SUCCESS) goto leave;
    rv = command(c, apr_psprintf(p, "RCPT TO:<%s>\r\n", to), 2, "RCPT TO");
    if (rv != APR_SUCCESS) goto leave;
    if ((rv = command(c, "DATA\r\n", 3, "DATA")) != APR_SUCCESS) goto leave;
    data = dot_stuff(&dlen, msg, len, p);
    if ((rv = send_all(c, data, dlen)) != APR_SUCCESS) {
        ca_log(CA_LOG_ERR, "CA10207", rv, "SMTP: sending the message failed");
        goto leave;
    }
    if ((rv = command(c, NULL, 2, "message")) != APR_SUCCESS) goto leave;
    command(c, "QUIT\r\n", 2, "QUIT");      /* the mail is accepted already */

leave:
    if (c->sock) {
        apr_socket_close(c->sock);
    }
    return rv;
}
