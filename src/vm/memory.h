/* Guest physical memory.
 *
 * RAM is backed by memfd regions so that snapshots, migration and page
 * sharing can later work on the file descriptors. The layout is fixed:
 *
 *   0x0000_0000 .. min(ram, 3 GiB)        low RAM
 *   0xC000_0000 .. 0x1_0000_0000          32-bit MMIO hole (devices, APICs)
 *   0x1_0000_0000 .. 4 GiB + the rest     high RAM, when ram > 3 GiB
 *
 * The hole starts at 3 GiB (not higher, as on some PCs) so that every
 * 32-bit MMIO device fits below 4 GiB with room to spare, and the guest never
 * has to relocate anything. Regions never change after vm_create(), so
 * lookups need no lock. */
#ifndef BRUME_VM_MEMORY_H
#define BRUME_VM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_HOLE_START 0xC0000000ull
#define MEM_HOLE_END   0x100000000ull
#define MEM_MAX_REGIONS 4

struct mem_region {
    uint64_t gpa;   /* first guest physical address */
    uint64_t size;  /* bytes, a multiple of 4 KiB */
    uint8_t *hva;   /* host mapping of the whole region */
    int fd;         /* memfd backing the region */
};

struct guest_memory {
    struct mem_region regions[MEM_MAX_REGIONS];
    int nregions;
    uint64_t ram_size; /* total bytes of RAM, as given by --mem */
};

/* Creates the RAM regions for ram_size bytes (a multiple of 4 KiB).
 * Returns 0, or -ENOMEM / -EINVAL with a reason in err_get(). */
int guest_memory_init(struct guest_memory *mem, uint64_t ram_size);

/* Unmaps and closes every region. Safe on a zeroed struct. */
void guest_memory_destroy(struct guest_memory *mem);

/* Translates [gpa, gpa+len) to a host pointer, or returns NULL when any
 * byte of the range is outside RAM or the range crosses a region boundary
 * (or len overflows). This is the one check every guest-supplied address
 * goes through before brume touches it. len 0 is valid inside RAM. */
void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

/* Copies between guest RAM and host buffers with the same checks; return 0
 * or -EFAULT. They may cross region boundaries (never the hole). */
int guest_read(const struct guest_memory *mem, uint64_t gpa, void *buf, uint64_t len);
int guest_write(const struct guest_memory *mem, uint64_t gpa, const void *buf, uint64_t len);

/* True when gpa is backed by RAM. */
bool gpa_is_ram(const struct guest_memory *mem, uint64_t gpa);

/* A count that moves on whenever guest RAM may have changed behind the
 * CPU engines' backs, that is not by a vCPU's own instruction: a device
 * finished writing into it (virtq_push after the buffers, virtq_pop and
 * virtq_set_notify after the ring fields), guest_write (the loader). The
 * emu engine's decoded blocks check their bytes against RAM again when it
 * has moved since their last check (accel/emu/block.c); a writer moves it
 * after writing and before telling the guest. One count for all the VMs
 * of the process: a change in one of them only makes the others check
 * again. */
extern uint64_t guest_ram_gen;

static inline void guest_ram_changed(void)
{
    __atomic_add_fetch(&guest_ram_gen, 1, __ATOMIC_SEQ_CST);
}

static inline uint64_t guest_ram_gen_now(void)
{
    return __atomic_load_n(&guest_ram_gen, __ATOMIC_ACQUIRE);
}

#endif
