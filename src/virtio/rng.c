/* virtio-rng (virtio 1.x, 5.4): fills the guest's buffers from the host's
 * getrandom(). Runs on the loop thread under the device lock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/log.h"
#include "virtio/devices.h"

struct rng {
    struct virtq_elem elem;
};

/* At most this much per request: a guest offering gigabytes of buffer
 * must not stall the I/O loop; the used length tells it what it got. */
#define RNG_MAX_PER_REQUEST 65536

static size_t fill(const struct iovec *iov, int cnt)
{
    size_t total = 0;
    for (int i = 0; i < cnt && total < RNG_MAX_PER_REQUEST; i++) {
        uint8_t *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        if (left > RNG_MAX_PER_REQUEST - total)
            left = RNG_MAX_PER_REQUEST - total;
        while (left) {
            ssize_t n = getrandom(p, left, 0);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return total;
            }
            p += n;
            left -= (size_t)n;
            total += (size_t)n;
        }
    }
    return total;
}

static void rng_queue_notify(struct virtio_dev *dev, int q)
{
    struct rng *r = dev->priv;
    while (virtio_pop(dev, q, &r->elem) > 0) {
        size_t n = fill(r->elem.iov + r->elem.nout, r->elem.nin);
        virtq_push(&dev->queues[q].vq, r->elem.head, (uint32_t)n);
    }
    virtio_notify(dev, q);
}

static const struct virtio_dev_ops rng_ops = {
    .queue_notify = rng_queue_notify,
};

int virtio_rng_init(struct virtio_dev *dev, const char *name)
{
    struct rng *r = calloc(1, sizeof(*r));
    if (!r)
        return err_set(-ENOMEM, "%s: out of memory", name);
    dev->device_id = VIRTIO_ID_RNG;
    dev->ops = &rng_ops;
    dev->priv = r;
    dev->host_features = (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX);
    dev->config_len = 0;
    int rc = virtio_dev_init(dev, name, 1, 64);
    if (rc < 0) {
        free(r);
        dev->priv = NULL;
    }
    return rc;
}

void virtio_rng_fini(struct virtio_dev *dev)
{
    if (!dev->priv)
        return;
    virtio_dev_destroy(dev);
    free(dev->priv);
    dev->priv = NULL;
}
