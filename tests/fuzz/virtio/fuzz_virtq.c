/* libFuzzer harness for the split virtqueue: the input becomes a guest's
 * rings (descriptor table, avail ring, indirect tables and data in a small
 * guest RAM) and the device pops and pushes until the queue is empty or
 * broken. ASan/UBSan catch any out-of-bounds access; the asserts catch an
 * element that escapes guest RAM. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../../unit/virtio/fake_ram.h"
#include "virtio/virtqueue.h"

#define RAM_SIZE 0x20000ull

static struct guest_memory mem;
static struct virtq_elem elem;

static bool inside_ram(const struct iovec *v)
{
    for (int i = 0; i < mem.nregions; i++) {
        uint8_t *lo = mem.regions[i].hva, *hi = lo + mem.regions[i].size;
        if ((uint8_t *)v->iov_base >= lo && (uint8_t *)v->iov_base + v->iov_len <= hi)
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!mem.nregions)
        fake_ram_init(&mem);
    if (size < 8)
        return 0;
    /* header: queue size log2, flags, ring offsets */
    struct virtq q;
    virtq_reset(&q);
    q.size = (uint16_t)(1u << (data[0] % 10));   /* 1 .. 512 */
    q.indirect = data[1] & 1;
    q.event_idx = data[1] & 2;
    q.desc_gpa = (uint64_t)(data[2] & 0x1f) << 12;   /* may overlap: fine */
    q.avail_gpa = ((uint64_t)(data[3] & 0x1f) << 12) | (data[4] & 0x2);
    q.used_gpa = ((uint64_t)(data[5] & 0x1f) << 12) | (data[6] & 0x4);
    unsigned rounds = data[7];
    data += 8;
    size -= 8;
    memset(mem.regions[0].hva, 0, RAM_SIZE);
    memcpy(mem.regions[0].hva, data, size < RAM_SIZE ? size : RAM_SIZE);
    if (virtq_map(&q, &mem) < 0)
        return 0;
    for (unsigned i = 0; i <= rounds; i++) {
        int rc = virtq_pop(&q, &elem);
        if (rc <= 0)
            break;
        assert(elem.head < q.size);
        assert(elem.nout + elem.nin <= VIRTQ_MAX_SEGS);
        uint64_t in = 0;
        for (int k = 0; k < elem.nout + elem.nin; k++) {
            assert(inside_ram(&elem.iov[k]));
            if (k >= elem.nout)
                in += elem.iov[k].iov_len;
            /* touch the buffers as a device would (only in the window we
             * reset per input, so the memfd does not grow without bound) */
            volatile uint8_t *p = elem.iov[k].iov_base;
            if ((uint8_t *)p + elem.iov[k].iov_len <= mem.regions[0].hva + RAM_SIZE) {
                (void)p[0];
                (void)p[elem.iov[k].iov_len - 1];
            }
        }
        assert(in == elem.in_len);
        virtq_push(&q, elem.head, (uint32_t)elem.in_len);
        (void)virtq_should_notify(&q);
        if (i & 1)
            virtq_set_notify(&q, i & 2);
    }
    return 0;
}
