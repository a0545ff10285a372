/* The boot path: kernel, initrd and command line into guest RAM, the
 * firmware tables Linux expects (boot_params with its e820 map, ACPI), and
 * the 64-bit entry state of the bootstrap processor.
 *
 * There is no BIOS: brume plays the boot loader and the firmware, then
 * starts vCPU 0 directly at the kernel's 64-bit entry point, in long mode
 * with the identity mapping of the low 4 GiB that the boot protocol
 * promises. docs/boot.md describes the path and the memory it uses. */
#ifndef BRUME_BOOT_BOOT_H
#define BRUME_BOOT_BOOT_H

#include <stdint.h>

#include "accel/cpu_state.h"
#include "boot/bootparam.h"

struct vm;
struct guest_memory;

/* Selectors of the boot GDT (the boot protocol's __BOOT_CS / __BOOT_DS). */
#define BOOT_GDT_CS   0x10
#define BOOT_GDT_DS   0x18
#define BOOT_GDT_TSS  0x20
#define BOOT_GDT_ENTRIES 5

/* The initial stack: the free page between boot_params and the page
 * tables. The kernel switches to its own stack within a few instructions. */
#define BOOT_STACK_TOP 0x8FF0ull

/* Everything below this address belongs to the boot structures (GDT,
 * boot_params, page tables, command line): no kernel segment may land in it. */
#define BOOT_STRUCT_END (BOOT_CMDLINE_ADDR + BOOT_CMDLINE_MAX)

/* The smallest machine brume can boot: the boot structures, the ACPI
 * tables below 1 MiB, and room for a kernel above. */
#define BOOT_MIN_RAM (2ull << 20)

/* Loads vm->config.kernel_path (bzImage or ELF64), the initrd and the
 * command line into guest RAM, builds boot_params, the ACPI tables, the
 * GDT and the identity page tables, and fills *bsp with the 64-bit entry
 * state of vCPU 0 (bsp->lapic is left as the caller gave it). Virtio-mmio
 * devices must already be on vm->mmio: the DSDT describes the ones it
 * finds there. Take *bsp from the engine's vcpu_get_state() first, so that
 * the local APIC page stays valid, and give it back with vcpu_set_state().
 * Returns 0, or a negative errno with a one-line reason in err_get(); guest
 * RAM may then hold a partial image. */
int boot_linux(struct vm *vm, struct cpu_state *bsp);

/* ---- the pieces, for boot_linux and for tests ---- */

/* Fills table with brume's e820 map for ram_size bytes of RAM (the layout
 * of vm/memory.h); returns the number of entries (at most max), or
 * -EINVAL when the map does not fit or ram_size is below BOOT_MIN_RAM. */
int boot_e820_build(uint64_t ram_size, struct boot_e820_entry *table, int max);

/* Builds the ACPI tables (RSDP at BOOT_ACPI_RSDP_ADDR, XSDT, FADT, FACS,
 * DSDT, MADT for ncpus local APICs) in BOOT_BIOS_START..BOOT_BIOS_END.
 * virtio_mask has bit n set for each virtio-mmio device n to describe in
 * the DSDT. Returns 0 or a negative errno with a reason. */
int acpi_build(struct guest_memory *mem, int ncpus, uint32_t virtio_mask);

/* Writes the boot GDT and the identity page tables (4 GiB, 2 MiB pages). */
int boot_setup_long_mode(struct guest_memory *mem);

/* Fills *s with the 64-bit entry state: long mode, paging on the identity
 * map, flat segments from the boot GDT, interrupts off, RIP = entry,
 * RSI = boot_params. s->lapic is left untouched. */
void boot_cpu_entry_state(struct cpu_state *s, uint64_t entry, uint64_t params);

#endif
