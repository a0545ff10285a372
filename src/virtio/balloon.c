/* virtio-balloon (virtio 1.x, 5.5): the host asks for pages back.
 *
 * The target (config num_pages) comes from the CLI and may change at run
 * time (virtio_balloon_set_target, any thread). Inflated pages and pages
 * the guest reports free are dropped from the memfd behind guest RAM
 * (MADV_REMOVE), so the host really gets the memory back; a deflated or
 * reused page comes back as zeroes on the next touch.
 *
 * Queues follow the negotiated features, as Linux numbers them: inflateq,
 * deflateq, then statsq if VIRTIO_BALLOON_F_STATS_VQ, then reporting_vq if
 * VIRTIO_BALLOON_F_PAGE_REPORTING (absent queues take no index). The
 * roles are fixed at DRIVER_OK. Everything runs under the device lock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/log.h"
#include "virtio/devices.h"
#include "vm/loop.h"

#define VIRTIO_BALLOON_F_STATS_VQ       1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2
#define VIRTIO_BALLOON_F_PAGE_REPORTING 5

#define PAGE 4096ull
#define STATS_PERIOD_NS 2000000000ull

enum role { ROLE_NONE, ROLE_INFLATE, ROLE_DEFLATE, ROLE_STATS, ROLE_REPORT };

struct balloon {
    enum role roles[4];
    uint64_t inflated, deflated, reported;
    bool stats_valid;
    uint64_t stats[16];
    bool stats_held;            /* the driver's stats buffer is with us */
    uint16_t stats_head;
    int stats_q;
    int timer;
    struct virtq_elem elem;
};

/* Gives [hva, hva+len) back to the host; only whole pages. */
static void discard(void *hva, uint64_t len)
{
    uintptr_t start = ((uintptr_t)hva + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
    uintptr_t end = ((uintptr_t)hva + len) & ~(uintptr_t)(PAGE - 1);
    if (end <= start)
        return;
    if (madvise((void *)start, end - start, MADV_REMOVE) < 0)
        madvise((void *)start, end - start, MADV_DONTNEED);
}

/* inflateq / deflateq: arrays of 32-bit page frame numbers (4 KiB pages). */
static void pfns(struct virtio_dev *dev, int q, bool inflate)
{
    struct balloon *b = dev->priv;
    while (virtio_pop(dev, q, &b->elem) > 0) {
        uint64_t n = b->elem.out_len / 4;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t pfn;
            iov_to_buf(b->elem.iov, b->elem.nout, i * 4, &pfn, 4);
            if (!inflate) {
                b->deflated++;
                continue;
            }
            void *hva = gpa_to_hva(dev->mem, (uint64_t)pfn * PAGE, PAGE);
            if (!hva)
                continue;  /* not RAM: nothing to give back */
            discard(hva, PAGE);
            b->inflated++;
        }
        virtq_push(&dev->queues[q].vq, b->elem.head, 0);
    }
    virtio_notify(dev, q);
}

/* reporting_vq: each writable buffer is a free range of guest RAM. */
static void report(struct virtio_dev *dev, int q)
{
    struct balloon *b = dev->priv;
    while (virtio_pop(dev, q, &b->elem) > 0) {
        for (int i = b->elem.nout; i < b->elem.nout + b->elem.nin; i++) {
            discard(b->elem.iov[i].iov_base, b->elem.iov[i].iov_len);
            b->reported += b->elem.iov[i].iov_len / PAGE;
        }
        virtq_push(&dev->queues[q].vq, b->elem.head, 0);
    }
    virtio_notify(dev, q);
}

/* statsq: the driver's buffer of {le16 tag, le64 value} entries. We keep
 * the buffer and hand it back when we want fresh numbers. */
static void stats(struct virtio_dev *dev, int q)
{
    struct balloon *b = dev->priv;
    while (virtio_pop(dev, q, &b->elem) > 0) {
        if (b->stats_held)  /* a second buffer: return the older one */
            virtq_push(&dev->queues[q].vq, b->stats_head, 0);
        uint64_t n = b->elem.out_len / 10;
        for (uint64_t i = 0; i < n && i < 64; i++) {
            uint8_t ent[10];
            iov_to_buf(b->elem.iov, b->elem.nout, i * 10, ent, 10);
            uint16_t tag;
            uint64_t val;
            memcpy(&tag, ent, 2);
            memcpy(&val, ent + 2, 8);
            if (tag < 16)
                b->stats[tag] = val;
        }
        b->stats_valid = true;
        b->stats_held = true;
        b->stats_head = b->elem.head;
    }
    virtio_notify(dev, q);
}

static void bal_queue_notify(struct virtio_dev *dev, int q)
{
    struct balloon *b = dev->priv;
    switch (q < 4 ? b->roles[q] : ROLE_NONE) {
    case ROLE_INFLATE: pfns(dev, q, true); break;
    case ROLE_DEFLATE: pfns(dev, q, false); break;
    case ROLE_STATS: b->stats_q = q; stats(dev, q); break;
    case ROLE_REPORT: report(dev, q); break;
    case ROLE_NONE: break;
    }
}

static void bal_driver_ok(struct virtio_dev *dev)
{
    struct balloon *b = dev->priv;
    int i = 0;
    memset(b->roles, 0, sizeof(b->roles));
    b->roles[i++] = ROLE_INFLATE;
    b->roles[i++] = ROLE_DEFLATE;
    b->stats_q = -1;
    if (virtio_has_feature(dev, VIRTIO_BALLOON_F_STATS_VQ)) {
        b->stats_q = i;
        b->roles[i++] = ROLE_STATS;
    }
    if (virtio_has_feature(dev, VIRTIO_BALLOON_F_PAGE_REPORTING))
        b->roles[i++] = ROLE_REPORT;
    if (b->stats_q >= 0 && b->timer >= 0)
        loop_set_timer(dev->loop, b->timer, STATS_PERIOD_NS);
}

static void bal_reset(struct virtio_dev *dev)
{
    struct balloon *b = dev->priv;
    memset(b->roles, 0, sizeof(b->roles));
    b->stats_held = false;
    b->stats_q = -1;
    uint32_t zero = 0;
    memcpy(dev->config + 4, &zero, 4);  /* actual */
}

/* Periodically asks the driver for fresh statistics. */
static uint64_t stats_timer(void *opaque)
{
    struct virtio_dev *dev = opaque;
    struct balloon *b = dev->priv;
    uint64_t next = 0;
    pthread_mutex_lock(&dev->lock);
    if (b->stats_q >= 0 && virtio_queue_live(dev, b->stats_q)) {
        if (b->stats_held) {
            b->stats_held = false;
            virtio_push_notify(dev, b->stats_q, b->stats_head, 0);
        }
        next = STATS_PERIOD_NS;
    }
    pthread_mutex_unlock(&dev->lock);
    return next;
}

/* Only 'actual' (offset 4, 32 bits) is the driver's to write. */
static void bal_config_write(struct virtio_dev *dev, unsigned offset, unsigned size, uint64_t value)
{
    if (offset >= 4 && offset + size <= 8)
        memcpy(dev->config + offset, &value, size);
}

static const struct virtio_dev_ops bal_ops = {
    .queue_notify = bal_queue_notify,
    .config_write = bal_config_write,
    .driver_ok = bal_driver_ok,
    .reset = bal_reset,
};

int virtio_balloon_init(struct virtio_dev *dev, const char *name, uint32_t target_pages)
{
    struct balloon *b = calloc(1, sizeof(*b));
    if (!b)
        return err_set(-ENOMEM, "%s: out of memory", name);
    b->stats_q = -1;
    b->timer = -1;
    dev->device_id = VIRTIO_ID_BALLOON;
    dev->ops = &bal_ops;
    dev->priv = b;
    dev->host_features = (1ull << VIRTIO_BALLOON_F_STATS_VQ) | (1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM) |
                         (1ull << VIRTIO_BALLOON_F_PAGE_REPORTING) | (1ull << VIRTIO_RING_F_INDIRECT_DESC);
    memcpy(dev->config, &target_pages, 4);  /* num_pages; actual starts 0 */
    dev->config_len = 16;
    int rc = virtio_dev_init(dev, name, 4, 128);
    if (rc < 0)
        goto fail;
    if (dev->loop) {
        b->timer = loop_add_timer(dev->loop, 0, stats_timer, dev);
        if (b->timer < 0) {
            rc = b->timer;
            virtio_dev_destroy(dev);
            goto fail;
        }
    }
    return 0;
fail:
    free(b);
    dev->priv = NULL;
    return rc;
}

void virtio_balloon_fini(struct virtio_dev *dev)
{
    struct balloon *b = dev->priv;
    if (!b)
        return;
    if (b->timer >= 0)
        loop_set_timer(dev->loop, b->timer, 0);
    virtio_dev_destroy(dev);
    free(b);
    dev->priv = NULL;
}

void virtio_balloon_set_target(struct virtio_dev *dev, uint32_t target_pages)
{
    pthread_mutex_lock(&dev->lock);
    memcpy(dev->config, &target_pages, 4);
    virtio_config_changed(dev);
    pthread_mutex_unlock(&dev->lock);
}

void virtio_balloon_get_info(struct virtio_dev *dev, struct virtio_balloon_info *info)
{
    struct balloon *b = dev->priv;
    pthread_mutex_lock(&dev->lock);
    memset(info, 0, sizeof(*info));
    memcpy(&info->target_pages, dev->config, 4);
    memcpy(&info->actual_pages, dev->config + 4, 4);
    info->inflated_pages = b->inflated;
    info->deflated_pages = b->deflated;
    info->reported_pages = b->reported;
    info->stats_valid = b->stats_valid;
    memcpy(info->stats, b->stats, sizeof(info->stats));
    pthread_mutex_unlock(&dev->lock);
}
