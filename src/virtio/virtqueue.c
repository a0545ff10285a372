/* Split virtqueues, device side. See virtqueue.h for the rules enforced.
 *
 * The guest writes the rings while we read them, so every descriptor is
 * copied once into a local before it is checked and used (no double
 * fetch), and the indices are read and written with the ordering the
 * virtio spec asks for (2.7.13, 2.7.7.2). */
#include "virtio/virtqueue.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtio rings are little-endian; brume assumes a little-endian host"
#endif

void virtq_reset(struct virtq *q)
{
    memset(q, 0, sizeof(*q));
}

int virtq_break(struct virtq *q, const char *fmt, ...)
{
    if (!q->broken) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(q->reason, sizeof(q->reason), fmt, ap);
        va_end(ap);
        q->broken = true;
    }
    q->ready = false;
    return -EIO;
}

/* Ring field accessors. Guest memory is shared with running vCPUs: use
 * single, untorn accesses for the indices. */
static inline uint16_t load16(volatile uint16_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void store16(volatile uint16_t *p, uint16_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline volatile uint16_t *avail_ring(struct virtq *q, unsigned i)
{
    return &q->avail[2 + i];
}

static inline volatile uint16_t *used_event(struct virtq *q)
{
    return &q->avail[2 + q->size];
}

static inline volatile uint16_t *avail_event(struct virtq *q)
{
    /* after flags, idx and size 8-byte elements */
    return (volatile uint16_t *)((volatile uint8_t *)q->used + 4 + 8 * (size_t)q->size);
}

int virtq_map(struct virtq *q, const struct guest_memory *mem)
{
    uint32_t n = q->size;
    q->mem = mem;
    q->broken = false;
    q->reason[0] = '\0';
    if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
        return virtq_break(q, "queue size %u is not a power of two up to %u", n, VIRTQ_MAX_SIZE), -EINVAL;
    if (q->desc_gpa % 16 || q->avail_gpa % 2 || q->used_gpa % 4)
        return virtq_break(q, "misaligned ring (desc 0x%llx, avail 0x%llx, used 0x%llx)",
                           (unsigned long long)q->desc_gpa, (unsigned long long)q->avail_gpa,
                           (unsigned long long)q->used_gpa), -EINVAL;
    void *d = gpa_to_hva(mem, q->desc_gpa, 16ull * n);
    void *a = gpa_to_hva(mem, q->avail_gpa, 6 + 2ull * n);
    void *u = gpa_to_hva(mem, q->used_gpa, 6 + 8ull * n);
    if (!d || !a || !u)
        return virtq_break(q, "ring outside guest RAM (desc 0x%llx, avail 0x%llx, used 0x%llx)",
                           (unsigned long long)q->desc_gpa, (unsigned long long)q->avail_gpa,
                           (unsigned long long)q->used_gpa), -EFAULT;
    q->desc = d;
    q->avail = a;
    q->used = u;
    q->last_avail = 0;
    q->used_idx = 0;
    q->signalled_used = 0;
    q->signalled_valid = false;
    q->ready = true;
    return 0;
}

static void read_desc(const volatile void *table, unsigned i, struct virtq_desc *out)
{
    /* memcpy copes with indirect tables at any guest alignment */
    memcpy(out, (const void *)((const volatile uint8_t *)table + 16 * (size_t)i), sizeof(*out));
}

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
    if (q->broken)
        return -EIO;
    if (!q->ready)
        return 0;
    uint16_t avail_idx = load16(&q->avail[1]);
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (pending == 0)
        return 0;
    if (pending > q->size)
        return virtq_break(q, "avail index %u is %u entries ahead of %u (ring of %u)",
                           avail_idx, pending, q->last_avail, q->size);
    /* Read the ring entry only after seeing the index (2.7.13.4). */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint16_t head = load16(avail_ring(q, q->last_avail % q->size));
    if (head >= q->size)
        return virtq_break(q, "head descriptor %u out of range (ring of %u)", head, q->size);

    const volatile void *table = q->desc;
    unsigned table_len = q->size, i = head, visited = 0, nsegs = 0;
    bool indirect = false;
    e->head = head;
    e->nout = e->nin = 0;
    e->out_len = e->in_len = 0;
    for (;;) {
        struct virtq_desc d;
        if (visited++ >= table_len)
            return virtq_break(q, "descriptor chain from %u loops or is longer than its table (%u)",
                               head, table_len);
        read_desc(table, i, &d);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!q->indirect)
                return virtq_break(q, "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC");
            if (indirect)
                return virtq_break(q, "indirect table inside an indirect table");
            if (d.flags & VIRTQ_DESC_F_NEXT)
                return virtq_break(q, "indirect descriptor with NEXT set");
            if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_MAX_SEGS)
                return virtq_break(q, "indirect table of %u bytes", d.len);
            const void *t = gpa_to_hva(q->mem, d.addr, d.len);
            if (!t)
                return virtq_break(q, "indirect table at 0x%llx+%u outside guest RAM",
                                   (unsigned long long)d.addr, d.len);
            table = t;
            table_len = d.len / 16;
            indirect = true;
            visited = 0;
            i = 0;
            continue;
        }
        if (d.len) {
            void *hva = gpa_to_hva(q->mem, d.addr, d.len);
            if (!hva)
                return virtq_break(q, "buffer at 0x%llx+%u outside guest RAM",
                                   (unsigned long long)d.addr, d.len);
            if (nsegs >= VIRTQ_MAX_SEGS)
                return virtq_break(q, "descriptor chain of more than %u buffers", VIRTQ_MAX_SEGS);
            if (d.flags & VIRTQ_DESC_F_WRITE) {
                e->in_len += d.len;
                e->nin++;
            } else {
                if (e->nin)
                    return virtq_break(q, "readable buffer after a writable one in chain %u", head);
                e->out_len += d.len;
                e->nout++;
            }
            e->iov[nsegs].iov_base = hva;
            e->iov[nsegs].iov_len = d.len;
            nsegs++;
        } else if (!(d.flags & VIRTQ_DESC_F_WRITE) && e->nin) {
            return virtq_break(q, "readable buffer after a writable one in chain %u", head);
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        i = d.next;
        if (i >= table_len)
            return virtq_break(q, "next descriptor %u out of range (table of %u)", i, table_len);
    }
    q->last_avail++;
    if (q->event_idx) {
        /* Ask to be notified for anything after what we just took; the
         * device re-checks has_work before sleeping. */
        store16(avail_event(q), q->last_avail);
        guest_ram_changed();
    }
    return 1;
}

void virtq_unpop(struct virtq *q)
{
    q->last_avail--;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
    if (!q->ready)
        return;
    volatile uint8_t *elem = (volatile uint8_t *)q->used + 4 + 8 * (size_t)(q->used_idx % q->size);
    __atomic_store_n((volatile uint32_t *)elem, (uint32_t)head, __ATOMIC_RELAXED);
    __atomic_store_n((volatile uint32_t *)(elem + 4), len, __ATOMIC_RELAXED);
    q->used_idx++;
    /* The device's writes into the buffers (and this element) are done:
     * the emu engine must see them before the guest can (vm/memory.h). */
    guest_ram_changed();
    /* The element must be visible before the index that publishes it. */
    __atomic_store_n(&q->used[1], q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *q)
{
    if (!q->ready)
        return false;
    /* Order the used index store before reading the driver's wishes. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!q->event_idx)
        return !(load16(&q->avail[0]) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    uint16_t old = q->signalled_used, now = q->used_idx;
    bool valid = q->signalled_valid;
    q->signalled_used = now;
    q->signalled_valid = true;
    if (!valid)
        return true;
    uint16_t event = load16(used_event(q));
    /* vring_need_event: did we cross used_event since the last signal? */
    return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

bool virtq_has_work(struct virtq *q)
{
    if (!q->ready || q->broken)
        return false;
    return load16(&q->avail[1]) != q->last_avail;
}

void virtq_set_notify(struct virtq *q, bool enable)
{
    if (!q->ready)
        return;
    if (q->event_idx) {
        if (enable)
            store16(avail_event(q), q->last_avail);
    } else {
        store16(&q->used[0], enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
    }
    guest_ram_changed();  /* (also a full barrier, as the fence below) */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

