/* The e820 memory map: the guest's only description of where RAM is.
 *
 * It follows vm/memory.h exactly: low RAM up to the EBDA, the EBDA and the
 * BIOS area (where the ACPI tables live) reserved, RAM from 1 MiB to the
 * 3 GiB hole (or the end of RAM), and the rest of RAM above 4 GiB. The
 * legacy VGA/option-ROM window 0xA0000..0xE0000 is backed by RAM in brume
 * but left out of the map, as on a PC, so the guest never uses it. */
#include <errno.h>

#include "boot/boot.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/memory.h"

static int e820_add(struct boot_e820_entry *table, int n, int max,
                    uint64_t addr, uint64_t end, uint32_t type)
{
    if (end <= addr)
        return n;
    if (n >= max)
        return -1;
    table[n].addr = addr;
    table[n].size = end - addr;
    table[n].type = type;
    return n + 1;
}

int boot_e820_build(uint64_t ram_size, struct boot_e820_entry *table, int max)
{
    if (ram_size < BOOT_MIN_RAM)
        return err_set(-EINVAL, "boot: %llu KiB of RAM is too little (brume needs at least %llu MiB)",
                       (unsigned long long)(ram_size >> 10),
                       (unsigned long long)(BOOT_MIN_RAM >> 20));
    uint64_t low_end = ram_size < MEM_HOLE_START ? ram_size : MEM_HOLE_START;
    const struct { uint64_t addr, end; uint32_t type; } map[] = {
        { 0, BOOT_EBDA_START, E820_RAM },
        { BOOT_EBDA_START, 0xA0000, E820_RESERVED },
        { BOOT_BIOS_START, BOOT_BIOS_END, E820_RESERVED },
        { BOOT_BIOS_END, low_end, E820_RAM },
        { MEM_HOLE_END, MEM_HOLE_END + (ram_size - low_end), E820_RAM },
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        n = e820_add(table, n, max, map[i].addr, map[i].end, map[i].type);
        if (n < 0)
            return err_set(-EINVAL, "boot: the e820 map needs more than %d entries", max);
    }
    return n;
}
