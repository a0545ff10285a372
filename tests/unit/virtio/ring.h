/* A test "driver": builds split rings in guest RAM and, for device tests,
 * drives the virtio-mmio registers the way Linux's virtio_mmio does. */
#ifndef BRUME_TESTS_RING_H
#define BRUME_TESTS_RING_H

#include <string.h>

#include "fake_ram.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue.h"

#define RING_DATA  0x80000ull   /* ring 0's area; buffers go above 1 MiB */

struct ring {
    struct guest_memory *mem;
    uint16_t size;
    uint16_t avail_idx;
    uint16_t used_seen;
    uint64_t desc, avail, used;
};

static inline struct virtq_desc *ring_desc(struct ring *r, unsigned i)
{
    return (struct virtq_desc *)fake_ram_ptr(r->mem, r->desc + 16ull * i);
}

static inline uint16_t *ring_avail(struct ring *r)
{
    return (uint16_t *)fake_ram_ptr(r->mem, r->avail);
}

static inline volatile uint16_t *ring_used16(struct ring *r)
{
    return (volatile uint16_t *)fake_ram_ptr(r->mem, r->used);
}

static inline uint32_t *ring_used_elem(struct ring *r, unsigned i)
{
    return (uint32_t *)fake_ram_ptr(r->mem, r->used + 4 + 8ull * (i % r->size));
}

static inline void ring_set_desc(struct ring *r, unsigned i, uint64_t addr, uint32_t len,
                                 uint16_t flags, uint16_t next)
{
    struct virtq_desc d = {addr, len, flags, next};
    memcpy(ring_desc(r, i), &d, sizeof(d));
}

/* Publishes head in the avail ring. */
static inline void ring_add(struct ring *r, uint16_t head)
{
    ring_avail(r)[2 + r->avail_idx % r->size] = head;
    r->avail_idx++;
    __atomic_store_n(&ring_avail(r)[1], r->avail_idx, __ATOMIC_RELEASE);
}

/* Rings at base: descriptors, then avail at +64 KiB, used at +128 KiB. */
static inline void ring_init_at(struct ring *r, struct guest_memory *mem, struct virtq *q,
                                uint16_t size, uint64_t base)
{
    r->mem = mem;
    r->size = size;
    r->avail_idx = 0;
    r->used_seen = 0;
    r->desc = base;
    r->avail = base + 0x10000;
    r->used = base + 0x20000;
    memset(fake_ram_ptr(mem, r->desc), 0, 16ull * size);
    memset(fake_ram_ptr(mem, r->avail), 0, 6 + 2ull * size);
    memset(fake_ram_ptr(mem, r->used), 0, 6 + 8ull * size);
    if (q) {
        virtq_reset(q);
        q->size = size;
        q->desc_gpa = r->desc;
        q->avail_gpa = r->avail;
        q->used_gpa = r->used;
    }
}

static inline void ring_init(struct ring *r, struct guest_memory *mem, struct virtq *q, uint16_t size)
{
    ring_init_at(r, mem, q, size, 0x1000);
}

/* ---- the driver side of virtio-mmio ---- */
static inline uint32_t mmio_rd(struct virtio_dev *d, unsigned off)
{
    return (uint32_t)virtio_mmio_read(d, off, 4);
}

static inline void mmio_wr(struct virtio_dev *d, unsigned off, uint32_t v)
{
    virtio_mmio_write(d, off, 4, v);
}

/* Negotiates features (intersected with the device's) and returns the
 * status the device accepted. */
static inline uint32_t mmio_negotiate(struct virtio_dev *d, uint64_t want)
{
    mmio_wr(d, 0x070, 0);
    mmio_wr(d, 0x070, 1);
    mmio_wr(d, 0x070, 3);
    mmio_wr(d, 0x014, 0);
    uint64_t f = mmio_rd(d, 0x010);
    mmio_wr(d, 0x014, 1);
    f |= (uint64_t)mmio_rd(d, 0x010) << 32;
    f &= want;
    mmio_wr(d, 0x024, 0);
    mmio_wr(d, 0x020, (uint32_t)f);
    mmio_wr(d, 0x024, 1);
    mmio_wr(d, 0x020, (uint32_t)(f >> 32));
    mmio_wr(d, 0x070, 3 | 8);
    return mmio_rd(d, 0x070);
}

static inline void mmio_setup_queue(struct virtio_dev *d, unsigned qi, struct ring *r)
{
    mmio_wr(d, 0x030, qi);
    mmio_wr(d, 0x038, r->size);
    mmio_wr(d, 0x080, (uint32_t)r->desc);
    mmio_wr(d, 0x084, (uint32_t)(r->desc >> 32));
    mmio_wr(d, 0x090, (uint32_t)r->avail);
    mmio_wr(d, 0x094, (uint32_t)(r->avail >> 32));
    mmio_wr(d, 0x0a0, (uint32_t)r->used);
    mmio_wr(d, 0x0a4, (uint32_t)(r->used >> 32));
    mmio_wr(d, 0x044, 1);
}

static inline void mmio_driver_ok(struct virtio_dev *d)
{
    mmio_wr(d, 0x070, 1 | 2 | 4 | 8);
}
#endif
