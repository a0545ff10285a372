/* virtio-net (virtio 1.x, 5.1): one receive and one transmit queue in
 * front of a network back-end (net/net.h: libslirp or TAP).
 *
 * No offloads are offered, so every frame is a plain Ethernet frame behind
 * a 12-byte virtio_net_hdr_v1 (all zeroes but num_buffers = 1 on receive).
 * Everything runs on the loop thread under the device lock: transmit on
 * the queue's notification, receive when the back-end hands a frame over.
 * Frames that arrive while the guest has no receive buffers wait in a
 * small backlog; when it fills, the back-end is asked to pause (TAP) or
 * frames are dropped (slirp: TCP retransmits). A per-interface rate
 * limiter (bytes/s with burst, each direction) holds transmit buffers in
 * the ring and received frames in the backlog, retried by a loop timer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "util/log.h"
#include "util/token_bucket.h"
#include "virtio/devices.h"
#include "vm/loop.h"
#include "vm/vm.h"

#define VIRTIO_NET_F_MAC    5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

#define NET_RX 0
#define NET_TX 1
#define NET_HDR_LEN 12
#define RX_BACKLOG 256
#define RX_PAUSE_AT (RX_BACKLOG * 3 / 4)

struct frame {
    size_t len;
    uint8_t data[];
};

struct vnet {
    struct net_backend *be;
    struct rate_limiter tx_rl, rx_rl;
    int timer;
    struct frame *backlog[RX_BACKLOG];
    int bl_head, bl_count;
    bool paused;                 /* back-end told to stop delivering */
    uint64_t rx_dropped;
    struct iovec txiov[VIRTQ_MAX_SEGS];
    /* One element per direction: a back-end may deliver a frame (slirp's
     * ARP or DHCP answer) from inside send(), i.e. while tx() still holds
     * its popped element, and the receive path must not overwrite it. */
    struct virtq_elem tx_elem, rx_elem;
};

static void arm(struct virtio_dev *dev, uint64_t delay)
{
    struct vnet *n = dev->priv;
    if (dev->loop && n->timer >= 0)
        loop_set_timer(dev->loop, n->timer, delay);
}

static void tx(struct virtio_dev *dev)
{
    struct vnet *n = dev->priv;
    bool pushed = false;
    while (virtio_pop(dev, NET_TX, &n->tx_elem) > 0) {
        struct virtq_elem *e = &n->tx_elem;
        if (e->out_len < NET_HDR_LEN || e->out_len - NET_HDR_LEN > NET_MAX_FRAME) {
            virtq_push(&dev->queues[NET_TX].vq, e->head, 0);  /* not a frame: dropped */
            pushed = true;
            continue;
        }
        uint64_t len = e->out_len - NET_HDR_LEN;
        if (rate_limiter_active(&n->tx_rl)) {
            uint64_t delay = rate_limiter_admit(&n->tx_rl, len, vm_clock_ns());
            if (delay) {
                virtq_unpop(&dev->queues[NET_TX].vq);
                arm(dev, delay);
                break;
            }
        }
        int cnt = iov_slice(e->iov, e->nout, NET_HDR_LEN, len, n->txiov, VIRTQ_MAX_SEGS);
        if (cnt > 0 && n->be)
            n->be->ops->send(n->be, n->txiov, cnt);
        virtq_push(&dev->queues[NET_TX].vq, e->head, 0);
        pushed = true;
    }
    if (pushed)
        virtio_notify(dev, NET_TX);
}

/* Puts one frame into the guest's next receive buffer. Returns 1 when the
 * frame is consumed (delivered, or dropped as too big for the buffer), 0
 * when it must wait (no buffer, or the rate limiter). */
static int deliver(struct virtio_dev *dev, const uint8_t *data, size_t len)
{
    struct vnet *n = dev->priv;
    if (rate_limiter_active(&n->rx_rl)) {
        uint64_t delay = token_bucket_delay_ns(&n->rx_rl.bytes, len, vm_clock_ns());
        if (delay) {
            arm(dev, delay);
            return 0;
        }
    }
    struct virtq *vq = &dev->queues[NET_RX].vq;
    int rc = virtio_pop(dev, NET_RX, &n->rx_elem);
    if (rc == 0) {
        /* ask the driver to kick us for new buffers, then look once more */
        virtq_set_notify(vq, true);
        rc = virtio_pop(dev, NET_RX, &n->rx_elem);
    }
    if (rc <= 0)
        return 0;
    struct virtq_elem *e = &n->rx_elem;
    if (e->in_len < NET_HDR_LEN + len) {
        n->rx_dropped++;
        virtq_unpop(vq);
        return 1;
    }
    uint8_t hdr[NET_HDR_LEN] = {0};
    hdr[10] = 1;  /* num_buffers */
    const struct iovec *in = e->iov + e->nout;
    iov_from_buf(in, e->nin, 0, hdr, NET_HDR_LEN);
    iov_from_buf(in, e->nin, NET_HDR_LEN, data, len);
    if (rate_limiter_active(&n->rx_rl))
        token_bucket_consume(&n->rx_rl.bytes, len, vm_clock_ns());
    virtq_push(vq, e->head, (uint32_t)(NET_HDR_LEN + len));
    return 1;
}

static void drain(struct virtio_dev *dev)
{
    struct vnet *n = dev->priv;
    bool any = false;
    while (n->bl_count) {
        struct frame *f = n->backlog[n->bl_head];
        if (!deliver(dev, f->data, f->len))
            break;
        free(f);
        n->bl_head = (n->bl_head + 1) % RX_BACKLOG;
        n->bl_count--;
        any = true;
    }
    if (any)
        virtio_notify(dev, NET_RX);
    if (n->paused && n->bl_count < RX_PAUSE_AT / 2 && n->be && n->be->ops->set_receive) {
        n->paused = false;
        n->be->ops->set_receive(n->be, true);
    }
}

static void backlog_drop_all(struct vnet *n)
{
    while (n->bl_count) {
        free(n->backlog[n->bl_head]);
        n->bl_head = (n->bl_head + 1) % RX_BACKLOG;
        n->bl_count--;
    }
}

/* A frame from the back-end (loop thread). */
static void rx_frame(void *opaque, const uint8_t *data, size_t len)
{
    struct virtio_dev *dev = opaque;
    struct vnet *n = dev->priv;
    pthread_mutex_lock(&dev->lock);
    if (!virtio_queue_live(dev, NET_RX) || len > NET_MAX_FRAME)
        goto out;  /* no driver yet: the wire drops it */
    if (!n->bl_count && deliver(dev, data, len)) {
        virtio_notify(dev, NET_RX);
        goto out;
    }
    if (n->bl_count == RX_BACKLOG) {
        n->rx_dropped++;
        goto out;
    }
    struct frame *f = malloc(sizeof(*f) + len);
    if (!f)
        goto out;
    f->len = len;
    memcpy(f->data, data, len);
    n->backlog[(n->bl_head + n->bl_count) % RX_BACKLOG] = f;
    n->bl_count++;
    if (n->bl_count >= RX_PAUSE_AT && !n->paused && n->be->ops->set_receive) {
        n->paused = true;
        n->be->ops->set_receive(n->be, false);
    }
out:
    pthread_mutex_unlock(&dev->lock);
}

static void net_queue_notify(struct virtio_dev *dev, int q)
{
    if (q == NET_TX)
        tx(dev);
    else
        drain(dev);
}

static uint64_t net_timer(void *opaque)
{
    struct virtio_dev *dev = opaque;
    pthread_mutex_lock(&dev->lock);
    if (virtio_queue_live(dev, NET_TX))
        tx(dev);
    if (virtio_queue_live(dev, NET_RX))
        drain(dev);
    pthread_mutex_unlock(&dev->lock);
    return 0;
}

static void net_reset(struct virtio_dev *dev)
{
    struct vnet *n = dev->priv;
    backlog_drop_all(n);
    if (n->paused && n->be && n->be->ops->set_receive)
        n->be->ops->set_receive(n->be, true);
    n->paused = false;
}

static const struct virtio_dev_ops net_ops = {
    .queue_notify = net_queue_notify,
    .reset = net_reset,
};

int virtio_net_init(struct virtio_dev *dev, const char *name, struct net_backend *be,
                    const struct virtio_net_opts *o)
{
    struct vnet *n = calloc(1, sizeof(*n));
    if (!n)
        return err_set(-ENOMEM, "%s: out of memory", name);
    n->be = be;
    n->timer = -1;
    uint64_t now = vm_clock_ns();
    rate_limiter_init(&n->tx_rl, 0, 0, o->bps, o->bps_burst, now);
    rate_limiter_init(&n->rx_rl, 0, 0, o->bps, o->bps_burst, now);
    dev->device_id = VIRTIO_ID_NET;
    dev->ops = &net_ops;
    dev->priv = n;
    dev->host_features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
                         (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX);
    memcpy(dev->config, o->mac, 6);
    dev->config[6] = VIRTIO_NET_S_LINK_UP;
    dev->config[8] = 1;  /* max_virtqueue_pairs */
    dev->config_len = 12;
    int rc = virtio_dev_init(dev, name, 2, 256);
    if (rc < 0)
        goto fail;
    if (dev->loop) {
        n->timer = loop_add_timer(dev->loop, 0, net_timer, dev);
        if (n->timer < 0) {
            rc = n->timer;
            virtio_dev_destroy(dev);
            goto fail;
        }
    }
    if (be) {
        be->rx = rx_frame;
        be->rx_opaque = dev;
    }
    return 0;
fail:
    free(n);
    dev->priv = NULL;
    return rc;
}

void virtio_net_fini(struct virtio_dev *dev)
{
    struct vnet *n = dev->priv;
    if (!n)
        return;
    if (n->timer >= 0)
        loop_set_timer(dev->loop, n->timer, 0);
    net_backend_close(n->be);
    backlog_drop_all(n);
    virtio_dev_destroy(dev);
    free(n);
    dev->priv = NULL;
}
