/* virtio-blk (virtio 1.x, 5.2): one request queue in front of the block
 * layer (block.h), so raw, qcow2 and the other formats all work.
 *
 * Requests are parsed on the I/O loop thread under the device lock and
 * handed to block_submit(); completions come back on the loop thread,
 * take the lock, write the status byte and publish the used element.
 * A per-disk rate limiter (ops/s and bytes/s with burst) holds back the
 * request that would exceed it: the queue stops being popped and a loop
 * timer retries when the buckets have refilled, so nothing busy-waits.
 *
 * A malformed request (no room for header or status) breaks the device
 * (NEEDS_RESET); a well-formed request the device cannot serve gets
 * IOERR or UNSUPP, as the spec says. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "util/log.h"
#include "util/token_bucket.h"
#include "virtio/devices.h"
#include "vm/loop.h"
#include "vm/vm.h"

struct blk_req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct blk_discard_seg {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
};
#define BLK_WZ_FLAG_UNMAP 1

struct blk_req {
    struct virtio_dev *dev;
    uint64_t generation;         /* device resets in between drop the completion */
    uint8_t *status;             /* last writable byte */
    uint32_t in_data;            /* bytes written to the guest on success */
    struct block_request breq;
    struct iovec data[VIRTQ_MAX_SEGS];
    struct virtq_elem elem;      /* large: last */
};

struct blk {
    struct block_dev *bd;
    uint64_t sectors;
    bool read_only;
    char id[VIRTIO_BLK_ID_BYTES];
    struct rate_limiter rl;
    int timer;                   /* loop timer that retries a throttled request */
    struct blk_req *throttled;   /* popped, waiting for tokens */
    uint64_t generation;
    unsigned inflight;
};

static struct blk *blk_of(struct virtio_dev *dev)
{
    return dev->priv;
}

static void req_finish(struct blk_req *r, uint8_t status)
{
    struct virtio_dev *dev = r->dev;
    struct blk *b = blk_of(dev);
    if (r->generation == b->generation) {
        *r->status = status;
        uint32_t len = (status == VIRTIO_BLK_S_OK ? r->in_data : 0) + 1;
        virtio_push_notify(dev, 0, r->elem.head, len);
    }
    free(r);
}

/* block layer completion: loop thread */
static void req_done(struct block_request *breq, int result)
{
    struct blk_req *r = breq->opaque;
    struct virtio_dev *dev = r->dev;
    pthread_mutex_lock(&dev->lock);
    struct blk *b = blk_of(dev);
    b->inflight--;
    if (result < 0)
        log_debug("%s: I/O error: %s", dev->name, strerror(-result));
    req_finish(r, result < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
    pthread_mutex_unlock(&dev->lock);
}

static void submit(struct blk_req *r)
{
    struct blk *b = blk_of(r->dev);
    r->breq.done = req_done;
    r->breq.opaque = r;
    b->inflight++;
    int rc = block_submit(b->bd, &r->breq);
    if (rc < 0) {
        b->inflight--;
        req_finish(r, VIRTIO_BLK_S_IOERR);
    }
}

static bool range_ok(struct blk *b, uint64_t sector, uint64_t nsectors)
{
    return sector <= b->sectors && nsectors <= b->sectors - sector;
}

/* DISCARD / WRITE_ZEROES: exactly one segment (we advertise max_seg 1). */
static uint8_t prep_zeroing(struct blk *b, struct blk_req *r, uint32_t type)
{
    struct virtq_elem *e = &r->elem;
    struct blk_discard_seg seg;
    if (e->out_len != sizeof(struct blk_req_hdr) + sizeof(seg))
        return VIRTIO_BLK_S_UNSUPP;
    iov_to_buf(e->iov, e->nout, sizeof(struct blk_req_hdr), &seg, sizeof(seg));
    if (b->read_only)
        return VIRTIO_BLK_S_IOERR;
    if (seg.flags & ~(uint32_t)BLK_WZ_FLAG_UNMAP ||
        (type == VIRTIO_BLK_T_DISCARD && seg.flags))
        return VIRTIO_BLK_S_UNSUPP;
    if (!range_ok(b, seg.sector, seg.num_sectors))
        return VIRTIO_BLK_S_IOERR;
    r->breq.op = type == VIRTIO_BLK_T_DISCARD ? BLOCK_OP_DISCARD : BLOCK_OP_WRITE_ZEROES;
    r->breq.offset = seg.sector * 512;
    r->breq.len = (uint64_t)seg.num_sectors * 512;
    r->breq.may_unmap = seg.flags & BLK_WZ_FLAG_UNMAP;
    return VIRTIO_BLK_S_OK;
}

/* Parses r into r->breq. Returns -1 when the request is malformed (device
 * breaks), 0 when it is ready to submit, or 1 with *status set when it is
 * finished without I/O. */
static int prepare(struct virtio_dev *dev, struct blk_req *r, uint8_t *status, uint64_t *bytes)
{
    struct blk *b = blk_of(dev);
    struct virtq_elem *e = &r->elem;
    struct blk_req_hdr h;
    if (e->out_len < sizeof(h) || e->nin == 0) {
        virtio_dev_fail(dev, "request without header or status byte");
        return -1;
    }
    iov_to_buf(e->iov, e->nout, 0, &h, sizeof(h));
    struct iovec *last = &e->iov[e->nout + e->nin - 1];
    r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    r->in_data = 0;
    *bytes = 0;
    memset(&r->breq, 0, sizeof(r->breq));

    switch (h.type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        bool in = h.type == VIRTIO_BLK_T_IN;
        uint64_t len = in ? e->in_len - 1 : e->out_len - sizeof(h);
        int n = in ? iov_slice(e->iov + e->nout, e->nin, 0, len, r->data, VIRTQ_MAX_SEGS)
                   : iov_slice(e->iov, e->nout, sizeof(h), len, r->data, VIRTQ_MAX_SEGS);
        if (n < 0 || len % 512 || len > UINT32_MAX - 1 || !range_ok(b, h.sector, len / 512)) {
            *status = VIRTIO_BLK_S_IOERR;
            return 1;
        }
        if (!in && b->read_only) {
            *status = VIRTIO_BLK_S_IOERR;
            return 1;
        }
        r->breq.op = in ? BLOCK_OP_READ : BLOCK_OP_WRITE;
        r->breq.offset = h.sector * 512;
        r->breq.iov = r->data;
        r->breq.iovcnt = n;
        r->in_data = in ? (uint32_t)len : 0;
        *bytes = len;
        return 0;
    }
    case VIRTIO_BLK_T_FLUSH:
        r->breq.op = BLOCK_OP_FLUSH;
        return 0;
    case VIRTIO_BLK_T_GET_ID: {
        size_t room = e->in_len - 1;
        size_t n = room < sizeof(b->id) ? room : sizeof(b->id);
        iov_from_buf(e->iov + e->nout, e->nin, 0, b->id, n);
        r->in_data = (uint32_t)n;
        *status = VIRTIO_BLK_S_OK;
        return 1;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        *status = prep_zeroing(b, r, h.type);
        if (*status != VIRTIO_BLK_S_OK)
            return 1;
        *bytes = 0;
        return 0;
    default:
        *status = VIRTIO_BLK_S_UNSUPP;
        return 1;
    }
}

/* Tries to start r; returns false when the rate limiter holds it back. */
static bool start(struct virtio_dev *dev, struct blk_req *r)
{
    struct blk *b = blk_of(dev);
    uint8_t status = 0;
    uint64_t bytes = 0;
    int rc = prepare(dev, r, &status, &bytes);
    if (rc < 0) {
        free(r);
        return true;
    }
    if (rc > 0) {
        req_finish(r, status);
        return true;
    }
    if (rate_limiter_active(&b->rl)) {
        uint64_t delay = rate_limiter_admit(&b->rl, bytes, vm_clock_ns());
        if (delay) {
            b->throttled = r;
            /* without a loop (unit tests) the next notify retries */
            if (dev->loop && b->timer >= 0)
                loop_set_timer(dev->loop, b->timer, delay);
            return false;
        }
    }
    submit(r);
    return true;
}

static void process(struct virtio_dev *dev)
{
    struct blk *b = blk_of(dev);
    if (b->throttled) {
        struct blk_req *r = b->throttled;
        b->throttled = NULL;
        /* re-admit: prepare again is harmless (pure parsing) */
        if (!start(dev, r))
            return;
    }
    for (;;) {
        struct blk_req *r = malloc(sizeof(*r));
        if (!r) {
            log_warn("%s: out of memory", dev->name);
            return;
        }
        r->dev = dev;
        r->generation = b->generation;
        int rc = virtio_pop(dev, 0, &r->elem);
        if (rc <= 0) {
            free(r);
            return;
        }
        if (!start(dev, r))
            return;
    }
}

static void blk_queue_notify(struct virtio_dev *dev, int q)
{
    (void)q;
    process(dev);
}

static uint64_t blk_timer(void *opaque)
{
    struct virtio_dev *dev = opaque;
    pthread_mutex_lock(&dev->lock);
    if (virtio_queue_live(dev, 0))
        process(dev);
    pthread_mutex_unlock(&dev->lock);
    return 0;
}

static void blk_reset(struct virtio_dev *dev)
{
    struct blk *b = blk_of(dev);
    /* In-flight requests finish in the block layer; their completions see a
     * new generation and publish nothing into the reset rings. */
    b->generation++;
    free(b->throttled);
    b->throttled = NULL;
}

static const struct virtio_dev_ops blk_ops = {
    .queue_notify = blk_queue_notify,
    .reset = blk_reset,
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

int virtio_blk_init(struct virtio_dev *dev, const char *name, struct block_dev *bd,
                    const struct virtio_blk_opts *o)
{
    struct block_info info;
    int rc = block_get_info(bd, &info);
    if (rc < 0)
        return rc;
    struct blk *b = calloc(1, sizeof(*b));
    if (!b)
        return err_set(-ENOMEM, "%s: out of memory", name);
    b->bd = bd;
    b->sectors = info.virtual_size / 512;
    b->read_only = o->read_only || info.read_only;
    b->timer = -1;
    if (o->serial)
        memcpy(b->id, o->serial, strnlen(o->serial, sizeof(b->id))); /* unterminated at 20 */
    else
        snprintf(b->id, sizeof(b->id), "brume-%s", name);
    rate_limiter_init(&b->rl, o->iops, o->iops_burst, o->bps, o->bps_burst, vm_clock_ns());

    dev->device_id = VIRTIO_ID_BLOCK;
    dev->ops = &blk_ops;
    dev->priv = b;
    dev->host_features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_SIZE_MAX) |
                         (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH) |
                         (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX);
    if (b->read_only)
        dev->host_features |= 1ull << VIRTIO_BLK_F_RO;
    else
        dev->host_features |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);

    uint8_t *c = dev->config;
    put64(c + 0, b->sectors);            /* capacity */
    put32(c + 8, VIRTIO_BLK_SIZE_MAX);   /* size_max */
    put32(c + 12, VIRTIO_BLK_SEG_MAX);   /* seg_max */
    put32(c + 20, 512);                  /* blk_size */
    put32(c + 36, 0x400000);             /* max_discard_sectors (2 GiB) */
    put32(c + 40, 1);                    /* max_discard_seg */
    put32(c + 44, 8);                    /* discard_sector_alignment (4 KiB) */
    put32(c + 48, 0x400000);             /* max_write_zeroes_sectors */
    put32(c + 52, 1);                    /* max_write_zeroes_seg */
    c[56] = 1;                           /* write_zeroes_may_unmap */
    dev->config_len = 60;

    rc = virtio_dev_init(dev, name, 1, VIRTIO_BLK_QUEUE_SIZE);
    if (rc < 0)
        goto fail;
    if (dev->loop) {
        rc = block_attach_loop(bd, dev->loop);
        if (rc < 0)
            goto fail_dev;
        b->timer = loop_add_timer(dev->loop, 0, blk_timer, dev);
        if (b->timer < 0) {
            rc = b->timer;
            goto fail_dev;
        }
    }
    return 0;
fail_dev:
    virtio_dev_destroy(dev);
fail:
    free(b);
    dev->priv = NULL;
    return rc;
}

void virtio_blk_fini(struct virtio_dev *dev)
{
    struct blk *b = blk_of(dev);
    if (!b)
        return;
    if (b->timer >= 0 && dev->loop)
        loop_set_timer(dev->loop, b->timer, 0);
    /* Requests still in flight complete here, while b exists; the new
     * generation keeps them out of the rings. */
    b->generation++;
    block_detach_loop(b->bd);
    free(b->throttled);
    virtio_dev_destroy(dev);
    free(b);
    dev->priv = NULL;
}
