/* The virtio-mmio transport, register layout version 2 (virtio 1.x, 4.2.2).
 *
 * Accesses arrive on vCPU threads; each takes the device lock. QueueNotify
 * only signals the queue's eventfd, so no device work runs on a vCPU. */
#include "virtio/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

enum {
    REG_MAGIC = 0x000,
    REG_VERSION = 0x004,
    REG_DEVICE_ID = 0x008,
    REG_VENDOR_ID = 0x00c,
    REG_DEVICE_FEATURES = 0x010,
    REG_DEVICE_FEATURES_SEL = 0x014,
    REG_DRIVER_FEATURES = 0x020,
    REG_DRIVER_FEATURES_SEL = 0x024,
    REG_QUEUE_SEL = 0x030,
    REG_QUEUE_NUM_MAX = 0x034,
    REG_QUEUE_NUM = 0x038,
    REG_QUEUE_READY = 0x044,
    REG_QUEUE_NOTIFY = 0x050,
    REG_INTERRUPT_STATUS = 0x060,
    REG_INTERRUPT_ACK = 0x064,
    REG_STATUS = 0x070,
    REG_QUEUE_DESC_LOW = 0x080,
    REG_QUEUE_DESC_HIGH = 0x084,
    REG_QUEUE_DRIVER_LOW = 0x090,
    REG_QUEUE_DRIVER_HIGH = 0x094,
    REG_QUEUE_DEVICE_LOW = 0x0a0,
    REG_QUEUE_DEVICE_HIGH = 0x0a4,
    REG_SHM_SEL = 0x0ac,
    REG_SHM_LEN_LOW = 0x0b0,
    REG_SHM_LEN_HIGH = 0x0b4,
    REG_SHM_BASE_LOW = 0x0b8,
    REG_SHM_BASE_HIGH = 0x0bc,
    REG_CONFIG_GENERATION = 0x0fc,
    REG_CONFIG = 0x100,
};

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */

static struct virtio_queue_state *selected(struct virtio_dev *dev)
{
    if (dev->queue_sel >= (uint32_t)dev->nqueues)
        return NULL;
    return &dev->queues[dev->queue_sel];
}

/* Device reset (status written 0): everything the driver negotiated goes. */
static void dev_reset(struct virtio_dev *dev)
{
    for (int i = 0; i < dev->nqueues; i++)
        virtq_reset(&dev->queues[i].vq);
    dev->driver_features = 0;
    dev->device_features_sel = dev->driver_features_sel = dev->queue_sel = 0;
    dev->status = 0;
    virtio_dev_ack(dev, ~0u);
    if (dev->ops->reset)
        dev->ops->reset(dev);
}

static void write_status(struct virtio_dev *dev, uint32_t v)
{
    if (v == 0) {
        dev_reset(dev);
        return;
    }
    uint32_t old = dev->status;
    /* The driver cannot clear bits without a reset, nor set NEEDS_RESET. */
    v = (v & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET);
    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
        /* Accept only what we offered, and only modern (1.x) drivers. */
        if ((dev->driver_features & ~dev->host_features) ||
            !virtio_has_feature(dev, VIRTIO_F_VERSION_1))
            v &= ~VIRTIO_STATUS_FEATURES_OK;
    }
    if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
        v &= ~VIRTIO_STATUS_DRIVER_OK;  /* driver skipped feature negotiation */
    dev->status = v;
    if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) && dev->ops->driver_ok)
        dev->ops->driver_ok(dev);
}

static void queue_ready(struct virtio_dev *dev, struct virtio_queue_state *qs, uint32_t v)
{
    struct virtq *vq = &qs->vq;
    if (!v) {
        vq->ready = false;
        return;
    }
    if (vq->ready || (dev->status & VIRTIO_STATUS_NEEDS_RESET))
        return;  /* a broken device stays stopped until the driver resets it */
    if (vq->size == 0)
        vq->size = qs->max_size;
    vq->indirect = virtio_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC);
    vq->event_idx = virtio_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);
    if (virtq_map(vq, dev->mem) < 0) {
        char reason[200];
        snprintf(reason, sizeof(reason), "queue %d: %s", qs->index, vq->reason);
        virtio_dev_fail(dev, reason);
    }
}

static void set_low(uint64_t *r, uint32_t v) { *r = (*r & ~0xffffffffull) | v; }
static void set_high(uint64_t *r, uint32_t v) { *r = (*r & 0xffffffffull) | ((uint64_t)v << 32); }

static uint64_t config_read(struct virtio_dev *dev, uint64_t off, unsigned size)
{
    if (off + size > dev->config_len)
        return 0;
    uint64_t v = 0;
    memcpy(&v, dev->config + off, size);
    return v;
}

uint64_t virtio_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct virtio_dev *dev = opaque;
    uint64_t v = 0;
    pthread_mutex_lock(&dev->lock);
    if (offset >= REG_CONFIG) {
        v = config_read(dev, offset - REG_CONFIG, size);
        goto out;
    }
    if (size != 4 || (offset & 3))
        goto out;  /* registers are 32-bit only (4.2.2.2) */
    struct virtio_queue_state *qs = selected(dev);
    switch (offset) {
    case REG_MAGIC: v = VIRTIO_MMIO_MAGIC; break;
    case REG_VERSION: v = 2; break;
    case REG_DEVICE_ID: v = dev->device_id; break;
    case REG_VENDOR_ID: v = VIRTIO_VENDOR_ID; break;
    case REG_DEVICE_FEATURES:
        v = dev->device_features_sel < 2 ? (uint32_t)(dev->host_features >> (32 * dev->device_features_sel)) : 0;
        break;
    case REG_QUEUE_NUM_MAX: v = qs ? qs->max_size : 0; break;
    case REG_QUEUE_READY: v = qs ? qs->vq.ready : 0; break;
    case REG_INTERRUPT_STATUS: v = dev->isr; break;
    case REG_STATUS: v = dev->status; break;
    case REG_SHM_LEN_LOW: case REG_SHM_LEN_HIGH: v = 0xffffffffu; break; /* no shared memory */
    case REG_CONFIG_GENERATION: v = dev->config_generation; break;
    default: break;
    }
out:
    pthread_mutex_unlock(&dev->lock);
    return v;
}

void virtio_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct virtio_dev *dev = opaque;
    uint32_t v = (uint32_t)value;
    int notify = -1;
    pthread_mutex_lock(&dev->lock);
    if (offset >= REG_CONFIG) {
        uint64_t off = offset - REG_CONFIG;
        if (off + size <= dev->config_len && dev->ops->config_write)
            dev->ops->config_write(dev, (unsigned)off, size, value);
        goto out;
    }
    if (size != 4 || (offset & 3))
        goto out;
    struct virtio_queue_state *qs = selected(dev);
    /* Queue layout may change only while the queue is not ready (4.2.2.3). */
    bool qs_writable = qs && !qs->vq.ready;
    switch (offset) {
    case REG_DEVICE_FEATURES_SEL: dev->device_features_sel = v; break;
    case REG_DRIVER_FEATURES:
        if (dev->status & VIRTIO_STATUS_FEATURES_OK)
            break;  /* frozen once accepted */
        if (dev->driver_features_sel == 0)
            set_low(&dev->driver_features, v);
        else if (dev->driver_features_sel == 1)
            set_high(&dev->driver_features, v);
        break;
    case REG_DRIVER_FEATURES_SEL: dev->driver_features_sel = v; break;
    case REG_QUEUE_SEL: dev->queue_sel = v; break;
    case REG_QUEUE_NUM:
        if (qs_writable && v <= qs->max_size)
            qs->vq.size = (uint16_t)v;
        break;
    case REG_QUEUE_READY:
        if (qs)
            queue_ready(dev, qs, v);
        break;
    case REG_QUEUE_NOTIFY: notify = (int)v; break;
    case REG_INTERRUPT_ACK: virtio_dev_ack(dev, v); break;
    case REG_STATUS: write_status(dev, v); break;
    case REG_QUEUE_DESC_LOW: if (qs_writable) set_low(&qs->vq.desc_gpa, v); break;
    case REG_QUEUE_DESC_HIGH: if (qs_writable) set_high(&qs->vq.desc_gpa, v); break;
    case REG_QUEUE_DRIVER_LOW: if (qs_writable) set_low(&qs->vq.avail_gpa, v); break;
    case REG_QUEUE_DRIVER_HIGH: if (qs_writable) set_high(&qs->vq.avail_gpa, v); break;
    case REG_QUEUE_DEVICE_LOW: if (qs_writable) set_low(&qs->vq.used_gpa, v); break;
    case REG_QUEUE_DEVICE_HIGH: if (qs_writable) set_high(&qs->vq.used_gpa, v); break;
    case REG_SHM_SEL: break;
    default: break;
    }
out:
    if (notify >= 0 && notify < dev->nqueues && dev->queues[notify].eventfd >= 0) {
        uint64_t one = 1;
        if (write(dev->queues[notify].eventfd, &one, sizeof(one)) < 0)
            log_debug("%s: eventfd write: %s", dev->name, strerror(errno));
        notify = -1;
    }
    pthread_mutex_unlock(&dev->lock);
    if (notify >= 0)
        virtio_dev_kick(dev, notify);  /* no loop: run it here (unit tests) */
}

const struct bus_ops virtio_mmio_ops = {
    .read = virtio_mmio_read,
    .write = virtio_mmio_write,
};
