/* The ACPI tables: how Linux learns about the CPUs, the interrupt
 * controllers, power-off, reset and the virtio-mmio devices.
 *
 * brume describes the machine with ACPI instead of an MP table: Debian's
 * kernels are built without CONFIG_X86_MPPARSE, ACPI is the only way to
 * give Linux the S5 (power-off) and reset registers, and the virtio-mmio
 * driver finds its devices through DSDT entries (_HID "LNRO0005") since
 * the kernel lacks CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES.
 *
 * Layout, all in the reserved BIOS area (BOOT_BIOS_START..BOOT_BIOS_END),
 * which Linux scans for "RSD PTR " when boot_params.acpi_rsdp_addr is not
 * available:
 *
 *   RSDP (BOOT_ACPI_RSDP_ADDR) -> XSDT -> FADT -> FACS, DSDT
 *                                      -> MADT
 *
 * The FADT sets SMI_CMD to 0: the machine is always in ACPI mode and Linux
 * never tries the SMI handshake. */
#include <errno.h>
#include <string.h>

#include "boot/acpi.h"
#include "boot/aml.h"
#include "boot/boot.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/memory.h"

#define ACPI_REGION_SIZE (BOOT_BIOS_END - BOOT_BIOS_START)

/* A bump allocator over the BIOS area. */
struct acpi_area {
    uint8_t *hva;       /* host view of BOOT_BIOS_START */
    uint64_t used;      /* bytes from BOOT_BIOS_START */
    int err;
};

static uint64_t area_alloc(struct acpi_area *ar, uint64_t len, uint64_t align)
{
    uint64_t off = (ar->used + align - 1) & ~(align - 1);
    if (off > ACPI_REGION_SIZE || len > ACPI_REGION_SIZE - off) {
        ar->err = -ENOSPC;
        return 0;
    }
    ar->used = off + len;
    return BOOT_BIOS_START + off;
}

static void *area_ptr(struct acpi_area *ar, uint64_t gpa)
{
    return ar->hva + (gpa - BOOT_BIOS_START);
}

static void header_init(struct acpi_header *h, const char sig[4], uint32_t len, uint8_t rev)
{
    memcpy(h->signature, sig, 4);
    h->length = len;
    h->revision = rev;
    memcpy(h->oem_id, ACPI_OEM_ID, 6);
    memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
    h->oem_revision = 1;
    memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
    h->creator_revision = 1;
}

static void header_checksum(struct acpi_header *h)
{
    h->checksum = 0;
    h->checksum = (uint8_t)(0x100 - acpi_sum(h, h->length));
}

static struct acpi_gas gas_io(uint16_t port, uint8_t bits, uint8_t access)
{
    struct acpi_gas g = { .space_id = ACPI_GAS_IO, .bit_width = bits, .access_size = access,
                          .address = port };
    return g;
}

static uint64_t build_facs(struct acpi_area *ar)
{
    uint64_t gpa = area_alloc(ar, sizeof(struct acpi_facs), 64);
    if (ar->err)
        return 0;
    struct acpi_facs *f = area_ptr(ar, gpa);
    memcpy(f->signature, "FACS", 4);
    f->length = sizeof(*f);
    f->version = 2;
    return gpa;
}

/* The _CRS of virtio-mmio device n: its register window and its GSI,
 * level-triggered and active high (the interrupt stays up until the
 * driver acknowledges it in InterruptACK). */
static size_t virtio_crs(unsigned n, uint8_t *out)
{
    uint32_t base = (uint32_t)(VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_SIZE);
    uint32_t size = (uint32_t)VIRTIO_MMIO_SIZE;
    uint32_t gsi = GSI_VIRTIO_FIRST + n;
    size_t i = 0;
    /* Memory32Fixed (large item 0x06): length 9, read-write. */
    out[i++] = 0x86; out[i++] = 9; out[i++] = 0; out[i++] = 1;
    memcpy(out + i, &base, 4); i += 4;
    memcpy(out + i, &size, 4); i += 4;
    /* Extended Interrupt (large item 0x09): length 6; flags: consumer,
     * level, active high, exclusive; one interrupt. */
    out[i++] = 0x89; out[i++] = 6; out[i++] = 0; out[i++] = 0x01; out[i++] = 1;
    memcpy(out + i, &gsi, 4); i += 4;
    /* End tag, checksum 0 (= not checked). */
    out[i++] = 0x79; out[i++] = 0;
    return i;
}

static uint64_t build_dsdt(struct acpi_area *ar, uint32_t virtio_mask)
{
    uint64_t gpa = area_alloc(ar, sizeof(struct acpi_header), 16);
    if (ar->err)
        return 0;
    struct aml a;
    uint8_t *body = area_ptr(ar, gpa) + sizeof(struct acpi_header);
    aml_init(&a, body, ACPI_REGION_SIZE - ar->used);

    /* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved. Linux writes
     * SLP_TYPa << 10 | SLP_EN to PM1a_CNT to power off. */
    const uint64_t s5[] = { ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP, 0, 0 };
    aml_name_package(&a, "_S5_", s5, 4);

    if (virtio_mask) {
        aml_scope_open(&a, "_SB_");
        for (unsigned n = 0; n < VIRTIO_MMIO_MAX; n++) {
            if (!(virtio_mask & (1u << n)))
                continue;
            char name[5];
            static const char hex[] = "0123456789ABCDEF";
            name[0] = 'V'; name[1] = 'R'; name[2] = hex[(n >> 4) & 0xF]; name[3] = hex[n & 0xF];
            uint8_t crs[32];
            size_t crs_len = virtio_crs(n, crs);
            aml_device_open(&a, name);
            aml_name_string(&a, "_HID", "LNRO0005");
            aml_name_int(&a, "_UID", n);
            aml_name_buffer(&a, "_CRS", crs, crs_len);
            aml_close(&a);
        }
        aml_close(&a);
    }
    if (a.err || a.depth) {
        ar->err = a.err ? a.err : -EINVAL;
        return 0;
    }
    ar->used += a.len;
    struct acpi_header *h = area_ptr(ar, gpa);
    header_init(h, "DSDT", (uint32_t)(sizeof(*h) + a.len), 2);
    header_checksum(h);
    return gpa;
}

static uint64_t build_fadt(struct acpi_area *ar, uint64_t facs, uint64_t dsdt)
{
    uint64_t gpa = area_alloc(ar, sizeof(struct acpi_fadt), 16);
    if (ar->err)
        return 0;
    struct acpi_fadt *f = area_ptr(ar, gpa);
    header_init(&f->h, "FACP", sizeof(*f), 6);
    /* The FACS by its 32-bit pointer only: with both set, ACPICA maps it
     * twice (and Linux lists it twice). */
    f->firmware_ctrl = (uint32_t)facs;
    f->x_firmware_ctrl = 0;
    f->dsdt = (uint32_t)dsdt;
    f->x_dsdt = dsdt;
    f->sci_int = IRQ_ACPI_SCI;
    f->smi_cmd = 0;                          /* no SMI: always in ACPI mode */
    f->pm1a_evt_blk = PORT_ACPI_PM1A_EVT;
    f->pm1a_cnt_blk = PORT_ACPI_PM1A_CNT;
    f->pm_tmr_blk = PORT_ACPI_PM_TMR;
    f->pm1_evt_len = 4;
    f->pm1_cnt_len = 2;
    f->pm_tmr_len = 4;
    f->x_pm1a_evt_blk = gas_io(PORT_ACPI_PM1A_EVT, 32, 2);
    f->x_pm1a_cnt_blk = gas_io(PORT_ACPI_PM1A_CNT, 16, 2);
    f->x_pm_tmr_blk = gas_io(PORT_ACPI_PM_TMR, 32, 3);
    f->p_lvl2_lat = 101;                     /* > 100: no C2 */
    f->p_lvl3_lat = 1001;                    /* > 1000: no C3 */
    f->iapc_boot_arch = IAPC_LEGACY_DEVICES | IAPC_8042 | IAPC_NO_VGA;
    f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
               FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP;
    f->reset_reg = gas_io(PORT_ACPI_RESET, 8, 1);
    f->reset_value = ACPI_RESET_VALUE;
    f->minor_version = 0;
    header_checksum(&f->h);
    return gpa;
}

static uint64_t build_madt(struct acpi_area *ar, int ncpus)
{
    uint32_t len = (uint32_t)(sizeof(struct acpi_madt) + (size_t)ncpus * sizeof(struct madt_lapic) +
                              sizeof(struct madt_ioapic) + 2 * sizeof(struct madt_int_override) +
                              sizeof(struct madt_lapic_nmi));
    uint64_t gpa = area_alloc(ar, len, 16);
    if (ar->err)
        return 0;
    uint8_t *p = area_ptr(ar, gpa);
    struct acpi_madt *m = (struct acpi_madt *)p;
    header_init(&m->h, "APIC", len, 5);
    m->lapic_address = (uint32_t)LAPIC_ADDR;
    m->flags = 1;                            /* PC-AT compatible: there is an 8259 pair */
    size_t off = sizeof(*m);
    for (int i = 0; i < ncpus; i++) {
        struct madt_lapic e = { MADT_LAPIC, sizeof(e), (uint8_t)i, (uint8_t)i, 1 };
        memcpy(p + off, &e, sizeof(e));
        off += sizeof(e);
    }
    struct madt_ioapic io = { MADT_IOAPIC, sizeof(io), 0, 0, (uint32_t)IOAPIC_ADDR, 0 };
    memcpy(p + off, &io, sizeof(io));
    off += sizeof(io);
    const struct madt_int_override ovr[] = {
        /* The PIT's IRQ 0 is wired to IOAPIC pin 2, as on every PC. */
        { MADT_INT_OVERRIDE, sizeof(ovr[0]), 0, IRQ_PIT, 2, 0 },
        /* The SCI is level-triggered, active high (the ACPI default would
         * be active low). */
        { MADT_INT_OVERRIDE, sizeof(ovr[0]), 0, IRQ_ACPI_SCI, IRQ_ACPI_SCI,
          MPS_POLARITY_HIGH | MPS_TRIGGER_LEVEL },
    };
    memcpy(p + off, ovr, sizeof(ovr));
    off += sizeof(ovr);
    /* LINT1 is the NMI input on every CPU. */
    struct madt_lapic_nmi nmi = { MADT_LAPIC_NMI, sizeof(nmi), 0xFF, 0, 1 };
    memcpy(p + off, &nmi, sizeof(nmi));
    header_checksum(&m->h);
    return gpa;
}

static uint64_t build_xsdt(struct acpi_area *ar, const uint64_t *tables, int n)
{
    uint32_t len = (uint32_t)(sizeof(struct acpi_header) + (size_t)n * 8);
    uint64_t gpa = area_alloc(ar, len, 16);
    if (ar->err)
        return 0;
    struct acpi_header *h = area_ptr(ar, gpa);
    header_init(h, "XSDT", len, 1);
    memcpy((uint8_t *)h + sizeof(*h), tables, (size_t)n * 8);
    header_checksum(h);
    return gpa;
}

int acpi_build(struct guest_memory *mem, int ncpus, uint32_t virtio_mask)
{
    if (ncpus < 1 || ncpus > MACHINE_MAX_CPUS)
        return err_set(-EINVAL, "acpi: %d CPUs (brume supports 1 to %d)", ncpus, MACHINE_MAX_CPUS);
    struct acpi_area ar = { .hva = gpa_to_hva(mem, BOOT_BIOS_START, ACPI_REGION_SIZE) };
    if (!ar.hva)
        return err_set(-EFAULT, "acpi: the BIOS area 0x%llx..0x%llx is not RAM",
                       (unsigned long long)BOOT_BIOS_START, (unsigned long long)BOOT_BIOS_END);
    memset(ar.hva, 0, ACPI_REGION_SIZE);

    uint64_t rsdp_gpa = area_alloc(&ar, sizeof(struct acpi_rsdp), 16);
    uint64_t facs = build_facs(&ar);
    uint64_t dsdt = build_dsdt(&ar, virtio_mask);
    uint64_t tables[2];
    tables[0] = build_fadt(&ar, facs, dsdt);
    tables[1] = build_madt(&ar, ncpus);
    uint64_t xsdt = build_xsdt(&ar, tables, 2);
    if (ar.err)
        return err_set(ar.err, "acpi: the tables do not fit in the %llu KiB BIOS area",
                       (unsigned long long)(ACPI_REGION_SIZE >> 10));
    if (rsdp_gpa != BOOT_ACPI_RSDP_ADDR)
        return err_set(-EINVAL, "acpi: RSDP misplaced at 0x%llx", (unsigned long long)rsdp_gpa);

    struct acpi_rsdp *r = area_ptr(&ar, rsdp_gpa);
    memcpy(r->signature, "RSD PTR ", 8);
    memcpy(r->oem_id, ACPI_OEM_ID, 6);
    r->revision = 2;
    r->length = sizeof(*r);
    r->xsdt_address = xsdt;
    r->checksum = (uint8_t)(0x100 - acpi_sum(r, 20));
    r->extended_checksum = (uint8_t)(0x100 - acpi_sum(r, sizeof(*r)));
    log_debug("acpi: RSDP 0x%llx, XSDT 0x%llx, %d CPUs, virtio mask 0x%x, %llu bytes",
              (unsigned long long)rsdp_gpa, (unsigned long long)xsdt, ncpus, virtio_mask,
              (unsigned long long)ar.used);
    return 0;
}
