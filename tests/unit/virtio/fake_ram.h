/* Guest RAM for the virtio unit tests and fuzzer: the real memfd-backed
 * guest memory (src/vm/memory.c), sized to have low RAM up to the 3 GiB
 * hole plus 64 KiB above 4 GiB, so ranges crossing the hole can be tried.
 * MAP_NORESERVE keeps untouched pages free. */
#ifndef BRUME_TESTS_FAKE_RAM_H
#define BRUME_TESTS_FAKE_RAM_H

#include <stdint.h>
#include <stdlib.h>

#include "util/log.h"
#include "vm/memory.h"

static inline void fake_ram_init(struct guest_memory *m)
{
    if (guest_memory_init(m, MEM_HOLE_START + 0x10000) < 0) {
        fprintf(stderr, "guest memory: %s\n", err_get());
        abort();
    }
}

static inline void fake_ram_destroy(struct guest_memory *m)
{
    guest_memory_destroy(m);
}

static inline void *fake_ram_ptr(struct guest_memory *m, uint64_t gpa)
{
    return m->regions[0].hva + gpa;
}
#endif
