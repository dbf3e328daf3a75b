/* The serial line: opened raw (no line discipline, no echo, no flow
 * control, modem lines ignored), exclusive, non-blocking; poll() drives
 * reads and writes.  A pty ignores the speed; it is set anyway. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <apr_errno.h>

#include "ca_log.h"
#include "signerd.h"

static speed_t baud_speed(long baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 500000: return B500000;
    case 576000: return B576000;
    case 921600: return B921600;
    case 1000000: return B1000000;
    case 1152000: return B1152000;
    case 1500000: return B1500000;
    case 2000000: return B2000000;
    case 2500000: return B2500000;
    case 3000000: return B3000000;
    case 3500000: return B3500000;
    case 4000000: return B4000000;
    default: return B0;
    }
}

int signerd_serial_open(const char *device, long baud)
{
    struct termios tio;
    speed_t speed = baud_speed(baud);
    int fd = -1;

    if (speed == B0) {
        ca_log(CA_LOG_ERR, "CA61201", APR_EINVAL, "%s: unsupported speed %ld", device, baud);
        goto fail;
    }
    if ((fd = open(device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
        ca_log(CA_LOG_ERR, "CA61202", APR_FROM_OS_ERROR(errno), "cannot open %s", device);
        goto fail;
    }
    if (!isatty(fd)) {
        ca_log(CA_LOG_ERR, "CA61203", APR_SUCCESS, "%s is not a terminal device", device);
        goto fail;
    }
    /* nobody else may open the line while signerd holds it */
    if (ioctl(fd, TIOCEXCL) != 0) {
        ca_log(CA_LOG_WARN, "CA61204", APR_FROM_OS_ERROR(errno),
               "%s: cannot get exclusive use", device);
    }
    if (tcgetattr(fd, &tio) != 0) {
        ca_log(CA_LOG_ERR, "CA61205", APR_FROM_OS_ERROR(errno), "%s: tcgetattr", device);
        goto fail;
    }
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~(tcflag_t)(CRTSCTS | CSTOPB | PARENB | CSIZE);
    tio.c_cflag |= CS8;
    tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    tio.c_cc[VMIN] = 1;         /* poll() says when; a read takes what is there */
    tio.c_cc[VTIME] = 0;
    if (cfsetispeed(&tio, speed) != 0 || cfsetospeed(&tio, speed) != 0) {
        ca_log(CA_LOG_ERR, "CA61206", APR_FROM_OS_ERROR(errno), "%s: cannot set speed %ld",
               device, baud);
        goto fail;
    }
    if (tcsetattr(fd, TCSANOW, &tio) != 0) {
        ca_log(CA_LOG_ERR, "CA61207", APR_FROM_OS_ERROR(errno), "%s: tcsetattr", device);
        goto fail;
    }
    /* whatever sat in the buffers belongs to an earlier conversation */
    tcflush(fd, TCIOFLUSH);
    return fd;
fail:
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}

void signerd_serial_close(int fd)
{
    if (ioctl(fd, TIOCNXCL) != 0 && errno != ENOTTY) {
        ca_log(CA_LOG_WARN, "CA61208", APR_FROM_OS_ERROR(errno),
               "cannot give up the exclusive use of the line");
    }
    close(fd);
}
