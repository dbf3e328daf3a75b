/* Copyright 2026 The cacert-httpd authors
 * SPDX-License-Identifier: Apache-2.0 */
/* The serial line (see ca_serial.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "ca_serial.h"

static const struct {
    long baud;
    speed_t speed;
} speeds[] = {
    { 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
    { 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 }, { 500000, B500000 },
    { 576000, B576000 }, { 921600, B921600 }, { 1000000, B1000000 },
    { 1152000, B1152000 }, { 1500000, B1500000 }, { 2000000, B2000000 },
    { 2500000, B2500000 }, { 3000000, B3000000 }, { 3500000, B3500000 },
    { 4000000, B4000000 }
};

static speed_t speed_of(long baud)
{
    apr_size_t i;

    for (i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
        if (speeds[i].baud == baud) {
            return speeds[i].speed;
        }
    }
    return B0;
}

int ca_serial_speed_ok(long baud)
{
    return speed_of(baud) != B0;
}

const char *ca_serial_speeds(void)
{
    return "9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, "
           "1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000";
}

/* raw 8N1, no flow control, modem lines ignored; poll() says when to
 * read, and a read takes what is there */
static void make_raw(struct termios *t)
{
    cfmakeraw(t);
    t->c_cflag |= CLOCAL | CREAD;
    t->c_cflag &= ~(tcflag_t)(CRTSCTS | CSTOPB | PARENB | CSIZE);
    t->c_cflag |= CS8;
    t->c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t->c_cc[VMIN] = 1;
    t->c_cc[VTIME] = 0;
}

/* what tcsetattr promised is what the line has */
static int kept(const struct termios *want, const struct termios *got)
{
    return got->c_cflag == want->c_cflag && got->c_iflag == want->c_iflag
           && got->c_oflag == want->c_oflag && got->c_lflag == want->c_lflag
           && cfgetispeed(got) == cfgetispeed(want) && cfgetospeed(got) == cfgetospeed(want)
           && got->c_cc[VMIN] == want->c_cc[VMIN] && got->c_cc[VTIME] == want->c_cc[VTIME];
}

apr_status_t ca_serial_open(int *pfd, const char **pwhy, const char *device, long baud)
{
    struct termios want, got;
    speed_t speed = speed_of(baud);
    apr_status_t rv = APR_SUCCESS;
    int fd = -1, excl = 0;

    *pfd = -1;
    *pwhy = NULL;
    if (speed == B0) {
        *pwhy = "unsupported speed";
        return APR_EINVAL;
    }
    if ((fd = open(device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        *pwhy = errno == EBUSY ? "cannot get exclusive use" : "cannot open";
        goto leave;
    }
    if (!isatty(fd)) {
        *pwhy = "not a terminal device";
        rv = APR_EINVAL;
        goto leave;
    }
    /* nobody else may open the line while this end holds it */
    if (ioctl(fd, TIOCEXCL) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        *pwhy = "cannot get exclusive use";
        goto leave;
    }
    excl = 1;
    if (tcgetattr(fd, &want) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        *pwhy = "cannot read its settings";
        goto leave;
    }
    make_raw(&want);
    if (cfsetispeed(&want, speed) != 0 || cfsetospeed(&want, speed) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        *pwhy = "cannot set the speed";
        goto leave;
    }
    if (tcsetattr(fd, TCSANOW, &want) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        *pwhy = "cannot apply the settings";
        goto leave;
    }
    /* tcsetattr succeeds when any one change took: read them all back */
    if (tcgetattr(fd, &got) != 0 || !kept(&want, &got)) {
        *pwhy = "the settings did not hold";
        rv = APR_EINVAL;
        goto leave;
    }
    /* whatever sat in the buffers belongs to an earlier conversation */
    tcflush(fd, TCIOFLUSH);
    *pfd = fd;
    return APR_SUCCESS;

leave:
    if (fd >= 0) {
        if (excl) {
            ioctl(fd, TIOCNXCL);
        }
        close(fd);
    }
    return rv;
}

void ca_serial_close(int fd)
{
    if (fd >= 0) {
        ioctl(fd, TIOCNXCL);
        close(fd);
    }
}
