/* Network back-ends: where a virtio-net interface's frames go.
 *
 * A back-end moves whole Ethernet frames (no virtio header) between the
 * guest's interface and the world: user-mode networking through libslirp
 * (net/slirp.c) or a host TAP device (net/tap.c). Everything runs on the
 * VM's I/O loop thread: the device calls send() from its transmit handler,
 * and the back-end calls rx() from its own loop handlers. */
#ifndef BRUME_NET_NET_H
#define BRUME_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct io_loop;
struct net_backend;

/* A frame for the guest (loop thread). The buffer is only valid during the
 * call. */
typedef void (*net_rx_fn)(void *opaque, const uint8_t *frame, size_t len);

struct net_backend_ops {
    /* Sends one frame from the guest. Returns 0 or -errno (frame dropped). */
    int (*send)(struct net_backend *be, const struct iovec *iov, int iovcnt);
    /* Flow control from the device: stop / resume delivering frames
     * (the guest has no receive buffers). May be NULL (frames are dropped
     * instead, and TCP retransmits them, as with slirp). */
    void (*set_receive)(struct net_backend *be, bool enabled);
    void (*close)(struct net_backend *be);
};

struct net_backend {
    const struct net_backend_ops *ops;
    struct io_loop *loop;
    net_rx_fn rx;          /* set by the device before frames flow */
    void *rx_opaque;
};

#define NET_MAX_HOSTFWD 16
#define NET_MAX_FRAME   65562  /* 64 KiB payload + Ethernet header + VLAN tag */

struct net_hostfwd {
    bool udp;
    uint32_t host_addr;    /* IPv4, network byte order; 0 = any */
    uint16_t host_port;
    uint32_t guest_addr;   /* network byte order; 0 = the DHCP address */
    uint16_t guest_port;
};

struct net_user_opts {
    struct net_hostfwd fwd[NET_MAX_HOSTFWD];
    int nfwd;
};

/* User-mode networking: 10.0.2.0/24, the host (gateway) at 10.0.2.2, DNS at
 * 10.0.2.3, the guest gets 10.0.2.15 by DHCP. Fails with a one-line reason
 * (e.g. a host port already in use). */
int net_slirp_open(struct io_loop *loop, const struct net_user_opts *opts, struct net_backend **out);

/* Attaches to (or creates) TAP interface ifname. */
int net_tap_open(struct io_loop *loop, const char *ifname, struct net_backend **out);

static inline void net_backend_close(struct net_backend *be)
{
    if (be)
        be->ops->close(be);
}

#endif
