/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The serial line, the same at both ends (signerd, and the web side's
 * signer link): raw (no line discipline, no echo, no flow control, modem
 * lines ignored), 8N1, exclusive while it is open (TIOCEXCL, given up on
 * close), non-blocking; every setting checked and read back.  A pty
 * ignores the speed; it is set anyway. */
#ifndef CA_SERIAL_H
#define CA_SERIAL_H

#include <apr_errno.h>

/* 1 if the line can run at baud bits per second */
int ca_serial_speed_ok(long baud);
/* the speeds, for messages: "9600, 19200, ..., 4000000" */
const char *ca_serial_speeds(void);

/* Open device for the line.  APR_SUCCESS with *pfd, or the error (an OS
 * error where there is one) with *pwhy the step that failed: "unsupported
 * speed", "cannot open", "not a terminal device", "cannot get exclusive
 * use" (another process holds the line), "cannot read its settings",
 * "cannot set the speed", "cannot apply the settings", "the settings did
 * not hold".  Nothing is logged: each end says it in its own words. */
apr_status_t ca_serial_open(int *pfd, const char **pwhy, const char *device, long baud);
/* give up the exclusive use and close */
void ca_serial_close(int fd);

#endif
