/* A test "driver": builds split rings in fake guest RAM. */
#ifndef BRUME_TESTS_RING_H
#define BRUME_TESTS_RING_H

#include <string.h>

#include "fake_ram.h"
#include "virtio/virtqueue.h"

#define RING_DESC  0x1000ull
#define RING_AVAIL 0x40000ull
#define RING_USED  0x50000ull
#define RING_DATA  0x80000ull

struct ring {
    struct guest_memory *mem;
    uint16_t size;
    uint16_t avail_idx;
};

static inline struct virtq_desc *ring_desc(struct ring *r, unsigned i)
{
    return (struct virtq_desc *)fake_ram_ptr(r->mem, RING_DESC + 16ull * i);
}

static inline uint16_t *ring_avail(struct ring *r)
{
    return (uint16_t *)fake_ram_ptr(r->mem, RING_AVAIL);
}

static inline uint16_t *ring_used16(struct ring *r)
{
    return (uint16_t *)fake_ram_ptr(r->mem, RING_USED);
}

static inline uint32_t *ring_used_elem(struct ring *r, unsigned i)
{
    return (uint32_t *)fake_ram_ptr(r->mem, RING_USED + 4 + 8ull * (i % r->size));
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
    ring_avail(r)[1] = r->avail_idx;
}

static inline void ring_init(struct ring *r, struct guest_memory *mem, struct virtq *q, uint16_t size)
{
    r->mem = mem;
    r->size = size;
    r->avail_idx = 0;
    memset(fake_ram_ptr(mem, RING_DESC), 0, 16ull * size);
    memset(fake_ram_ptr(mem, RING_AVAIL), 0, 6 + 2ull * size);
    memset(fake_ram_ptr(mem, RING_USED), 0, 6 + 8ull * size);
    if (q) {
        virtq_reset(q);
        q->size = size;
        q->desc_gpa = RING_DESC;
        q->avail_gpa = RING_AVAIL;
        q->used_gpa = RING_USED;
    }
}
#endif
