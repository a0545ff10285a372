/* TAP back-end: frames go to and come from a host TAP interface
 * (/dev/net/tun, IFF_TAP | IFF_NO_PI). Creating an interface needs
 * CAP_NET_ADMIN; attaching to a persistent one (ip tuntap add ... user
 * NAME) does not. The fd is non-blocking and read on the loop thread;
 * the device pauses reading when the guest has no receive buffers. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/net.h"
#include "util/log.h"
#include "vm/loop.h"

struct tap_be {
    struct net_backend be;
    int fd;
    bool receiving;
    uint8_t buf[NET_MAX_FRAME];
};

static void tap_readable(void *opaque, uint32_t events)
{
    (void)events;
    struct tap_be *t = opaque;
    /* a bounded batch per wake-up keeps the loop fair */
    for (int i = 0; i < 64 && t->receiving; i++) {
        ssize_t n = read(t->fd, t->buf, sizeof(t->buf));
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                log_debug("tap: read: %s", strerror(errno));
            return;
        }
        if (t->be.rx)
            t->be.rx(t->be.rx_opaque, t->buf, (size_t)n);
    }
}

static int tap_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
    struct tap_be *t = (struct tap_be *)be;
    ssize_t n = writev(t->fd, iov, iovcnt);
    return n < 0 ? -errno : 0;
}

static void tap_set_receive(struct net_backend *be, bool enabled)
{
    struct tap_be *t = (struct tap_be *)be;
    if (t->receiving == enabled)
        return;
    t->receiving = enabled;
    loop_mod_fd(be->loop, t->fd, enabled ? EPOLLIN : 0);
}

static void tap_close(struct net_backend *be)
{
    struct tap_be *t = (struct tap_be *)be;
    if (t->fd >= 0) {
        loop_remove_fd(be->loop, t->fd);
        close(t->fd);
    }
    free(t);
}

static const struct net_backend_ops tap_ops = {
    .send = tap_send,
    .set_receive = tap_set_receive,
    .close = tap_close,
};

int net_tap_open(struct io_loop *loop, const char *ifname, struct net_backend **out)
{
    if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
        return err_set(-EINVAL, "--net tap: ifname must be 1 to %d characters", IFNAMSIZ - 1);
    struct tap_be *t = calloc(1, sizeof(*t));
    if (!t)
        return err_set(-ENOMEM, "--net tap: out of memory");
    t->be.ops = &tap_ops;
    t->be.loop = loop;
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        int e = errno;
        free(t);
        return err_set(-e, "--net tap,ifname=%s: cannot open /dev/net/tun: %s", ifname, strerror(e));
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(t->fd);
        free(t);
        if (e == EPERM)
            return err_set(-e, "--net tap,ifname=%s: permission denied (creating a TAP needs "
                           "CAP_NET_ADMIN; or create it with 'ip tuntap add %s mode tap user $USER')",
                           ifname, ifname);
        if (e == EBUSY)
            return err_set(-e, "--net tap,ifname=%s: interface is busy (in use by another process?)", ifname);
        return err_set(-e, "--net tap,ifname=%s: TUNSETIFF: %s", ifname, strerror(e));
    }
    t->receiving = true;
    int rc = loop_add_fd(loop, t->fd, EPOLLIN, tap_readable, t);
    if (rc < 0) {
        close(t->fd);
        free(t);
        return rc;
    }
    *out = &t->be;
    return 0;
}
