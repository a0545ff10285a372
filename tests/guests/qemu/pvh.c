/* Turns QEMU's hvm_start_info (the PVH boot ABI) into the boot_params a
 * brume guest expects, at brume's BOOT_PARAMS_ADDR. See pvh.S. */
#include "rt.h"

struct hvm_start_info {
    uint32_t magic;             /* 0x336ec578 */
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;      /* version 1 */
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct hvm_modlist_entry { uint64_t paddr, size, cmdline_paddr, reserved; };
struct hvm_memmap_entry { uint64_t addr, size; uint32_t type, reserved; };

struct boot_params *pvh_setup(const struct hvm_start_info *si);
struct boot_params *pvh_setup(const struct hvm_start_info *si)
{
    struct boot_params *bp = (struct boot_params *)(uintptr_t)BOOT_PARAMS_ADDR;
    memset(bp, 0, sizeof(*bp));
    bp->hdr.boot_flag = SETUP_BOOT_FLAG;
    bp->hdr.header = SETUP_HDR_MAGIC;
    bp->hdr.version = 0x020F;
    bp->hdr.type_of_loader = BOOT_LOADER_UNDEFINED;
    if (si->magic != 0x336ec578)
        return bp;
    bp->hdr.cmd_line_ptr = (uint32_t)si->cmdline_paddr;
    bp->acpi_rsdp_addr = si->rsdp_paddr;
    if (si->nr_modules) {
        const struct hvm_modlist_entry *m = (const void *)(uintptr_t)si->modlist_paddr;
        bp->hdr.ramdisk_image = (uint32_t)m->paddr;
        bp->hdr.ramdisk_size = (uint32_t)m->size;
    }
    if (si->version >= 1) {
        const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
        unsigned n = si->memmap_entries < E820_MAX_ENTRIES_ZEROPAGE ? si->memmap_entries
                                                                    : E820_MAX_ENTRIES_ZEROPAGE;
        for (unsigned i = 0; i < n; i++) {
            bp->e820_table[i].addr = e[i].addr;
            bp->e820_table[i].size = e[i].size;
            bp->e820_table[i].type = e[i].type;
        }
        bp->e820_entries = (uint8_t)n;
    }
    return bp;
}
