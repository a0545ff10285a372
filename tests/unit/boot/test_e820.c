/* The e820 map at several memory sizes: it must follow vm/memory.h exactly
 * (and the RAM regions guest_memory_init() creates). */
#include <errno.h>

#include "../test.h"
#include "boot/boot.h"
#include "vm/machine.h"
#include "vm/memory.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

struct want { uint64_t addr, size; uint32_t type; };

static void check_map(uint64_t ram, const struct want *want, int n)
{
    struct boot_e820_entry t[E820_MAX_ENTRIES_ZEROPAGE];
    int got = boot_e820_build(ram, t, E820_MAX_ENTRIES_ZEROPAGE);
    CHECK_EQ(got, n);
    for (int i = 0; i < n && i < got; i++) {
        CHECK_EQ(t[i].addr, want[i].addr);
        CHECK_EQ(t[i].size, want[i].size);
        CHECK_EQ(t[i].type, want[i].type);
    }
    /* Every RAM byte the map promises is backed by guest memory, and the
     * RAM it omits is exactly the legacy area below 1 MiB. */
    struct guest_memory mem;
    CHECK_EQ(guest_memory_init(&mem, ram), 0);
    uint64_t total = 0;
    for (int i = 0; i < got; i++) {
        if (t[i].type != E820_RAM)
            continue;
        total += t[i].size;
        CHECK(gpa_is_ram(&mem, t[i].addr));
        CHECK(gpa_is_ram(&mem, t[i].addr + t[i].size - 1));
    }
    CHECK_EQ(total, ram - (BOOT_BIOS_END - BOOT_EBDA_START));
    /* The sorted, non-overlapping order Linux expects. */
    for (int i = 1; i < got; i++)
        CHECK(t[i].addr >= t[i - 1].addr + t[i - 1].size);
    guest_memory_destroy(&mem);
}

int main(void)
{
    const uint64_t low_ram = BOOT_EBDA_START;
    const struct want m128[] = {
        { 0, low_ram, E820_RAM },
        { BOOT_EBDA_START, 0xA0000 - BOOT_EBDA_START, E820_RESERVED },
        { 0xE0000, 0x20000, E820_RESERVED },
        { MiB, 127 * MiB, E820_RAM },
    };
    check_map(128 * MiB, m128, 4);

    const struct want m512[] = {
        { 0, low_ram, E820_RAM },
        { BOOT_EBDA_START, 0xA0000 - BOOT_EBDA_START, E820_RESERVED },
        { 0xE0000, 0x20000, E820_RESERVED },
        { MiB, 511 * MiB, E820_RAM },
    };
    check_map(512 * MiB, m512, 4);

    /* 3 GiB ends exactly at the hole: nothing above 4 GiB. */
    const struct want m3g[] = {
        { 0, low_ram, E820_RAM },
        { BOOT_EBDA_START, 0xA0000 - BOOT_EBDA_START, E820_RESERVED },
        { 0xE0000, 0x20000, E820_RESERVED },
        { MiB, 3 * GiB - MiB, E820_RAM },
    };
    check_map(3 * GiB, m3g, 4);

    /* 4 GiB: the hole MEM_HOLE_START..4G pushes 1 GiB above 4 GiB. */
    const struct want m4g[] = {
        { 0, low_ram, E820_RAM },
        { BOOT_EBDA_START, 0xA0000 - BOOT_EBDA_START, E820_RESERVED },
        { 0xE0000, 0x20000, E820_RESERVED },
        { MiB, MEM_HOLE_START - MiB, E820_RAM },
        { MEM_HOLE_END, 1 * GiB, E820_RAM },
    };
    check_map(4 * GiB, m4g, 5);

    const struct want m6g[] = {
        { 0, low_ram, E820_RAM },
        { BOOT_EBDA_START, 0xA0000 - BOOT_EBDA_START, E820_RESERVED },
        { 0xE0000, 0x20000, E820_RESERVED },
        { MiB, MEM_HOLE_START - MiB, E820_RAM },
        { MEM_HOLE_END, 3 * GiB, E820_RAM },
    };
    check_map(6 * GiB, m6g, 5);

    /* Too little memory, and a table too small for the map. */
    struct boot_e820_entry t[8];
    CHECK_EQ(boot_e820_build(1 * MiB, t, 8), -EINVAL);
    CHECK_EQ(boot_e820_build(4 * GiB, t, 3), -EINVAL);
    TEST_MAIN_END();
}
