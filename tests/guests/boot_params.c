/* boot_params: what brume hands a kernel. Checks the entry state (long
 * mode, boot selectors, interrupts off), the e820 map against the RAM size
 * the test expects (expect_mem=), the command line, the initrd's size and
 * CRC-32 (expect_initrd_size=, expect_initrd_crc=) and the ACPI tables. */
#include "rt.h"

const char guest_name[] = "boot_params";

static const char *check_entry_state(void)
{
    uint16_t cs, ds;
    __asm__ volatile("mov %%cs, %0; mov %%ds, %1" : "=r"(cs), "=r"(ds));
    uint64_t efer = rdmsr(0xC0000080);
    rt_printf("entry: cs=0x%x ds=0x%x cr0=0x%lx cr3=0x%lx cr4=0x%lx efer=0x%lx rflags=0x%lx\n",
              cs, ds, read_cr0(), read_cr3(), read_cr4(), efer, read_rflags());
    if (cs != 0x10 || ds != 0x18)
        return "segment selectors are not __BOOT_CS/__BOOT_DS";
    if (!(read_cr0() & (1u << 31)) || !(read_cr0() & 1))
        return "paging or protection off at entry";
    if (!(read_cr4() & (1u << 5)) || !(efer & (1u << 10)))
        return "not in long mode (PAE or EFER.LMA clear)";
    if (read_rflags() & (1u << 9))
        return "interrupts enabled at entry";
    if (read_cr3() != BOOT_PML4_ADDR)
        return "CR3 is not the boot page tables";
    /* The identity map covers the top of the 4 GiB too: the LAPIC. */
    if (lapic_id() != 0)
        return "the bootstrap processor's APIC ID is not 0";
    return 0;
}

static const char *check_e820(void)
{
    const struct boot_params *bp = rt_boot_params;
    uint64_t expect;
    if (!rt_cmdline_u64("expect_mem", &expect))
        return "no expect_mem= on the command line";
    unsigned n = bp->e820_entries;
    if (n == 0 || n > E820_MAX_ENTRIES_ZEROPAGE)
        return "e820 map empty or oversized";
    uint64_t ram_high = 0, ram_low = 0, prev_end = 0;
    bool hole_ok = true;
    for (unsigned i = 0; i < n; i++) {
        const struct boot_e820_entry *e = &bp->e820_table[i];
        rt_printf("e820: 0x%016lx-0x%016lx type %u\n", e->addr, e->addr + e->size - 1, e->type);
        if (e->addr < prev_end)
            return "e820 entries overlap or are unsorted";
        prev_end = e->addr + e->size;
        if (e->type != E820_RAM)
            continue;
        if (e->addr < MEM_HOLE_END && prev_end > MEM_HOLE_START)
            hole_ok = false;
        if (e->addr >= 0x100000)
            ram_high += e->size;
        else
            ram_low += e->size;
    }
    if (!hole_ok)
        return "RAM reported inside the MMIO hole";
    /* RAM above 1 MiB plus the whole first MiB is what --mem gave. */
    uint64_t total = ram_high + 0x100000;
    rt_printf("e820: RAM %lu bytes below 1 MiB, %lu above; --mem %lu\n", ram_low, ram_high, total);
    if (total != expect)
        return "e820 RAM does not match expect_mem";
    if (ram_low == 0 || ram_low > BOOT_EBDA_START)
        return "e820 RAM below 1 MiB is wrong";
    /* The map is real: touch the last RAM page below the hole. */
    uint64_t top = expect < MEM_HOLE_START ? expect : MEM_HOLE_START;
    volatile uint64_t *last = (volatile uint64_t *)(uintptr_t)(top - 8);
    *last = 0x1234567890ABCDEFull;
    if (*last != 0x1234567890ABCDEFull)
        return "the top of low RAM does not hold a value";
    return 0;
}

static const char *check_cmdline(void)
{
    const char *c = rt_cmdline();
    rt_printf("cmdline: %s\n", c);
    if (rt_boot_params->hdr.cmd_line_ptr != BOOT_CMDLINE_ADDR)
        return "cmd_line_ptr is not BOOT_CMDLINE_ADDR";
    if (strlen(c) == 0)
        return "empty command line";
    return 0;
}

static const char *check_initrd(void)
{
    const struct setup_header *h = &rt_boot_params->hdr;
    uint64_t size, crc;
    if (!rt_cmdline_u64("expect_initrd_size", &size) || !rt_cmdline_u64("expect_initrd_crc", &crc)) {
        rt_printf("initrd: none expected\n");
        return h->ramdisk_size ? "an initrd nobody asked for" : 0;
    }
    rt_printf("initrd: 0x%x, %u bytes\n", h->ramdisk_image, h->ramdisk_size);
    if (h->ramdisk_size != size)
        return "initrd size differs";
    if (h->ramdisk_image % 4096)
        return "initrd not page-aligned";
    uint32_t got = rt_crc32((const void *)(uintptr_t)h->ramdisk_image, h->ramdisk_size);
    rt_printf("initrd: crc32 0x%08x, expected 0x%08lx\n", got, crc);
    if (got != crc)
        return "initrd CRC-32 differs";
    return 0;
}

static const char *check_acpi(void)
{
    if (!rt_acpi.ok)
        return rt_acpi.why;
    rt_printf("acpi: RSDP 0x%lx, PM1a_CNT 0x%x, S5 %u, reset 0x%x=0x%x, %d CPUs, IOAPIC 0x%x\n",
              rt_acpi.rsdp, rt_acpi.pm1a_cnt, rt_acpi.s5_slp_typ, rt_acpi.reset_port,
              rt_acpi.reset_value, rt_acpi.ncpus, rt_acpi.ioapic_addr);
    if (rt_acpi.revision < 2)
        return "the RSDP is ACPI 1.0 (no XSDT)";
    if (rt_boot_params->acpi_rsdp_addr != BOOT_ACPI_RSDP_ADDR)
        return "boot_params.acpi_rsdp_addr is not set";
    if (rt_acpi.pm1a_cnt != PORT_ACPI_PM1A_CNT || rt_acpi.s5_slp_typ != ACPI_S5_SLP_TYP)
        return "FADT/DSDT power-off registers differ from the machine";
    if (rt_acpi.reset_port != PORT_ACPI_RESET || rt_acpi.reset_value != ACPI_RESET_VALUE)
        return "FADT reset register differs from the machine";
    if (rt_acpi.ioapic_addr != IOAPIC_ADDR)
        return "MADT IOAPIC address differs from the machine";
    return 0;
}

const char *guest_main(void)
{
    const struct boot_params *bp = rt_boot_params;
    if (!bp || bp->hdr.header != SETUP_HDR_MAGIC)
        return "RSI does not point at boot_params";
    if (bp->hdr.type_of_loader != BOOT_LOADER_UNDEFINED)
        return "type_of_loader is not 0xFF";
    const char *(*const checks[])(void) = {
        check_entry_state, check_cmdline, check_initrd, check_e820, check_acpi,
    };
    for (unsigned i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        const char *why = checks[i]();
        if (why)
            return why;
    }
    return 0;
}
