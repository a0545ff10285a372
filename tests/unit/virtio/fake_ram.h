/* Test-only guest RAM for the virtio unit tests and fuzzer: one or two
 * regions backed by host buffers, and the same gpa_to_hva contract as
 * src/vm/memory.c. */
#ifndef BRUME_TESTS_FAKE_RAM_H
#define BRUME_TESTS_FAKE_RAM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vm/memory.h"

/* Low region at 0 of low_size bytes; a high region at 4 GiB of 64 KiB so
 * that ranges crossing the hole can be tried. */
static inline void fake_ram_init(struct guest_memory *m, uint64_t low_size)
{
    memset(m, 0, sizeof(*m));
    m->regions[0].gpa = 0;
    m->regions[0].size = low_size;
    m->regions[0].hva = mmap(NULL, low_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m->regions[0].fd = -1;
    m->regions[1].gpa = 0x100000000ull;
    m->regions[1].size = 0x10000;
    m->regions[1].hva = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m->regions[1].fd = -1;
    m->nregions = 2;
    m->ram_size = low_size + 0x10000;
    if (m->regions[0].hva == MAP_FAILED || m->regions[1].hva == MAP_FAILED)
        abort();
}

static inline void fake_ram_destroy(struct guest_memory *m)
{
    for (int i = 0; i < m->nregions; i++)
        munmap(m->regions[i].hva, m->regions[i].size);
}

static inline void *fake_ram_ptr(struct guest_memory *m, uint64_t gpa)
{
    return m->regions[0].hva + gpa;
}
#endif
