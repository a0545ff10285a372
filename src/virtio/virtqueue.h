/* Split virtqueues (virtio 1.x, section 2.7): the device side.
 *
 * The rings live in guest RAM, written concurrently by the guest. Every
 * guest-supplied address, length, index and flag is checked here: a ring
 * that does not follow the rules (descriptor loops, addresses outside RAM,
 * overflowing lengths, too many descriptors, nested indirect tables, an avail
 * index that runs ahead of the ring) makes the queue "broken". A broken
 * queue pops nothing more; the transport then marks the device NEEDS_RESET.
 *
 * Threading: a struct virtq has one owner at a time. The transport maps it
 * (virtq_map) under the device lock from a vCPU thread; afterwards only the
 * thread that processes the device (the I/O loop, under the same lock) pops
 * and pushes. The guest side is only touched through the ring memory with
 * the barriers the spec asks for. */
#ifndef BRUME_VIRTIO_VIRTQUEUE_H
#define BRUME_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vm/memory.h"
#include "util/iov.h"   /* iov_to_buf, iov_from_buf, iov_slice over elements */

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

#define VIRTQ_MAX_SIZE  32768   /* the spec's limit for split rings */
/* Most buffers one chain may have (direct or through an indirect table).
 * Linux never goes past a few hundred; anything longer is treated as an
 * attack, which also bounds the work one pop can cost. */
#define VIRTQ_MAX_SEGS  1024

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* One popped descriptor chain. The readable (driver-to-device) buffers come
 * first in iov, then the writable ones. iov points straight into guest RAM. */
struct virtq_elem {
    uint16_t head;        /* id to give back in the used ring */
    uint16_t nout, nin;   /* number of readable / writable iovecs */
    uint64_t out_len, in_len;
    struct iovec iov[VIRTQ_MAX_SEGS];
};

struct virtq {
    /* Set by the transport before virtq_map. */
    uint16_t size;            /* number of entries, a power of two */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    bool indirect;            /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    bool event_idx;           /* VIRTIO_RING_F_EVENT_IDX negotiated */

    /* State. */
    bool ready;               /* mapped and usable */
    bool broken;
    const struct guest_memory *mem;
    volatile struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
    volatile uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[size], avail_event */
    uint16_t last_avail;      /* next avail entry to pop */
    uint16_t used_idx;        /* next used entry to fill (published on push) */
    uint16_t signalled_used;  /* used_idx at the last interrupt (event idx) */
    bool signalled_valid;
    char reason[160];         /* why the queue broke (first reason only) */
};

/* Resets q to the state after a device reset (size and addresses too). */
void virtq_reset(struct virtq *q);

/* Checks the three rings' addresses, alignment and size against guest RAM
 * and makes the queue usable. Returns 0, or -EINVAL/-EFAULT and marks the
 * queue broken with the reason. */
int virtq_map(struct virtq *q, const struct guest_memory *mem);

/* Pops the next available chain into e. Returns 1 when an element was
 * popped, 0 when the ring is empty, -EIO when the queue is (or just became)
 * broken; q->reason then says why. */
int virtq_pop(struct virtq *q, struct virtq_elem *e);

/* Hands the last popped element back without using it (e.g. no room for
 * it right now): the next pop returns it again. */
void virtq_unpop(struct virtq *q);

/* Returns element head to the driver with len bytes written to its
 * writable buffers, and publishes the used index. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/* True when the driver wants an interrupt for what was pushed since the
 * last time this returned true (honours NO_INTERRUPT and used_event). */
bool virtq_should_notify(struct virtq *q);

/* True when the avail ring has entries not popped yet. */
bool virtq_has_work(struct virtq *q);

/* Asks the driver to notify us (or not) about new buffers: sets the
 * NO_NOTIFY flag or, with event idx, the avail_event field. After enabling,
 * the caller must re-check virtq_has_work to close the race with the
 * driver. */
void virtq_set_notify(struct virtq *q, bool enable);

/* Marks q broken with a reason (printf format). Returns -EIO. */
int virtq_break(struct virtq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));


#endif
