/* Parses brume's ACPI tables back from guest memory, the way a guest
 * does: find the RSDP (by address and by scanning 0xE0000..0xFFFFF), walk
 * the XSDT, check every checksum and length, and decode the FADT, the
 * MADT entries and the DSDT's AML objects. */
#include <errno.h>
#include <string.h>

#include "../test.h"
#include "boot/acpi.h"
#include "boot/aml.h"
#include "boot/boot.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/memory.h"

static const uint8_t *ptr(struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
    return gpa_to_hva(mem, gpa, len);
}

/* Returns the table at gpa after checking its header, or NULL. */
static const struct acpi_header *table_at(struct guest_memory *mem, uint64_t gpa, const char *sig)
{
    CHECK(gpa >= BOOT_BIOS_START && gpa < BOOT_BIOS_END);
    const struct acpi_header *h = (const void *)ptr(mem, gpa, sizeof(*h));
    if (!h)
        return NULL;
    CHECK(memcmp(h->signature, sig, 4) == 0);
    CHECK(h->length >= sizeof(*h));
    CHECK(gpa + h->length <= BOOT_BIOS_END);
    if (!ptr(mem, gpa, h->length))
        return NULL;
    CHECK_EQ(acpi_sum(h, h->length), 0);
    CHECK(memcmp(h->oem_id, ACPI_OEM_ID, 6) == 0);
    return h;
}

/* Decodes a PkgLength at p; returns its value and sets *n to its size. */
static size_t pkglen(const uint8_t *p, size_t *n)
{
    size_t extra = p[0] >> 6;
    size_t v = extra ? (p[0] & 0xF) : (p[0] & 0x3F);
    for (size_t i = 0; i < extra; i++)
        v |= (size_t)p[1 + i] << (4 + 8 * i);
    *n = 1 + extra;
    return v;
}

/* Walks the DSDT body: \_S5_ first, then an optional Scope(\_SB_) whose
 * Devices must be exactly the virtio slots in mask. */
static void check_dsdt(const uint8_t *aml, size_t len, uint32_t mask)
{
    static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
                                  0x0A, ACPI_S5_SLP_TYP, 0x0A, ACPI_S5_SLP_TYP, 0x00, 0x00 };
    CHECK(len >= sizeof(s5));
    CHECK(memcmp(aml, s5, sizeof(s5)) == 0);
    size_t off = sizeof(s5);
    if (!mask) {
        CHECK_EQ(off, len);
        return;
    }
    CHECK_EQ(aml[off], 0x10);                 /* ScopeOp */
    size_t n, scope_len = pkglen(aml + off + 1, &n);
    CHECK_EQ(off + 1 + scope_len, len);       /* the scope runs to the end */
    CHECK(memcmp(aml + off + 1 + n, "\\_SB_", 5) == 0);
    size_t p = off + 1 + n + 5;
    uint32_t seen = 0;
    while (p < len) {
        CHECK_EQ(aml[p], 0x5B);
        CHECK_EQ(aml[p + 1], 0x82);           /* DeviceOp */
        size_t dn, dev_len = pkglen(aml + p + 2, &dn);
        const uint8_t *d = aml + p + 2 + dn;
        size_t body = dev_len - dn;
        CHECK(d[0] == 'V' && d[1] == 'R');
        static const char hid[] = "\x08_HID\x0DLNRO0005";
        CHECK(memcmp(d + 4, hid, sizeof(hid)) == 0);   /* includes the NUL */
        const uint8_t *u = d + 4 + sizeof(hid);
        CHECK(memcmp(u, "\x08_UID", 5) == 0);
        unsigned uid = u[5] == 0x00 ? 0 : u[5] == 0x01 ? 1 : u[6];
        size_t ulen = u[5] <= 1 ? 6 : 7;
        CHECK(uid < VIRTIO_MMIO_MAX);
        seen |= 1u << uid;
        const uint8_t *c = u + ulen;
        CHECK(memcmp(c, "\x08_CRS\x11", 6) == 0);
        size_t bn, buf_len = pkglen(c + 6, &bn);
        const uint8_t *b = c + 6 + bn;
        CHECK_EQ(b[0], 0x0A);                 /* BytePrefix buffer size */
        size_t res_len = b[1];
        CHECK_EQ(bn + 2 + res_len, buf_len);
        const uint8_t *r = b + 2;
        uint32_t base, size, gsi;
        CHECK_EQ(r[0], 0x86);                 /* Memory32Fixed */
        memcpy(&base, r + 4, 4);
        memcpy(&size, r + 8, 4);
        CHECK_EQ(base, VIRTIO_MMIO_BASE + uid * VIRTIO_MMIO_SIZE);
        CHECK_EQ(size, VIRTIO_MMIO_SIZE);
        CHECK_EQ(r[12], 0x89);                /* Extended Interrupt */
        CHECK_EQ(r[15] & 0x07, 0x01);         /* consumer, level, active high */
        CHECK_EQ(r[16], 1);
        memcpy(&gsi, r + 17, 4);
        CHECK_EQ(gsi, GSI_VIRTIO_FIRST + uid);
        CHECK_EQ(r[21], 0x79);                /* end tag */
        CHECK_EQ((size_t)(c + 6 + buf_len - d), body);  /* nothing after _CRS */
        p += 2 + dev_len;
    }
    CHECK_EQ(p, len);
    CHECK_EQ(seen, mask);
}

static void check_madt(const struct acpi_header *h, int ncpus)
{
    const struct acpi_madt *m = (const void *)h;
    CHECK_EQ(m->lapic_address, LAPIC_ADDR);
    CHECK_EQ(m->flags & 1, 1);
    const uint8_t *p = (const uint8_t *)h + sizeof(*m), *end = (const uint8_t *)h + h->length;
    int lapics = 0, ioapics = 0, nmis = 0;
    bool irq0 = false, sci = false;
    while (p < end) {
        CHECK(p[1] >= 2 && p + p[1] <= end);
        if (p[1] < 2)
            break;
        switch (p[0]) {
        case MADT_LAPIC: {
            const struct madt_lapic *l = (const void *)p;
            CHECK_EQ(l->length, 8);
            CHECK_EQ(l->apic_id, lapics);
            CHECK_EQ(l->processor_uid, lapics);
            CHECK_EQ(l->flags & 1, 1);
            lapics++;
            break;
        }
        case MADT_IOAPIC: {
            const struct madt_ioapic *io = (const void *)p;
            CHECK_EQ(io->length, 12);
            CHECK_EQ(io->address, IOAPIC_ADDR);
            CHECK_EQ(io->gsi_base, 0);
            ioapics++;
            break;
        }
        case MADT_INT_OVERRIDE: {
            const struct madt_int_override *o = (const void *)p;
            CHECK_EQ(o->length, 10);
            CHECK_EQ(o->bus, 0);
            if (o->source == IRQ_PIT) {
                CHECK_EQ(o->gsi, 2);
                irq0 = true;
            } else if (o->source == IRQ_ACPI_SCI) {
                CHECK_EQ(o->gsi, IRQ_ACPI_SCI);
                CHECK_EQ(o->flags, MPS_POLARITY_HIGH | MPS_TRIGGER_LEVEL);
                sci = true;
            } else {
                CHECK(!"unexpected override");
            }
            break;
        }
        case MADT_LAPIC_NMI:
            CHECK_EQ(p[1], 6);
            nmis++;
            break;
        default:
            CHECK(!"unexpected MADT entry");
        }
        p += p[1];
    }
    CHECK(p == end);
    CHECK_EQ(lapics, ncpus);
    CHECK_EQ(ioapics, 1);
    CHECK_EQ(nmis, 1);
    CHECK(irq0);
    CHECK(sci);
}

static void check_tables(int ncpus, uint32_t mask)
{
    struct guest_memory mem;
    CHECK_EQ(guest_memory_init(&mem, 64ull << 20), 0);
    /* Garbage first: the builder must not depend on zeroed memory. */
    memset(gpa_to_hva(&mem, BOOT_BIOS_START, BOOT_BIOS_END - BOOT_BIOS_START), 0xA5,
           BOOT_BIOS_END - BOOT_BIOS_START);
    CHECK_EQ(acpi_build(&mem, ncpus, mask), 0);

    /* Scan like Linux does without acpi_rsdp_addr: 16-byte boundaries. */
    uint64_t found = 0;
    for (uint64_t a = 0xE0000; a < 0x100000; a += 16) {
        const uint8_t *p = ptr(&mem, a, 20);
        if (memcmp(p, "RSD PTR ", 8) == 0 && acpi_sum(p, 20) == 0) {
            found = a;
            break;
        }
    }
    CHECK_EQ(found, BOOT_ACPI_RSDP_ADDR);

    const struct acpi_rsdp *r = (const void *)ptr(&mem, BOOT_ACPI_RSDP_ADDR, sizeof(*r));
    CHECK_EQ(r->revision, 2);
    CHECK_EQ(r->length, 36);
    CHECK_EQ(acpi_sum(r, 20), 0);
    CHECK_EQ(acpi_sum(r, 36), 0);

    const struct acpi_header *x = table_at(&mem, r->xsdt_address, "XSDT");
    if (!x)
        return;
    int entries = (int)((x->length - sizeof(*x)) / 8);
    CHECK_EQ(entries, 2);
    const struct acpi_header *fadt_h = NULL, *madt_h = NULL;
    for (int i = 0; i < entries; i++) {
        uint64_t a;
        memcpy(&a, (const uint8_t *)x + sizeof(*x) + 8 * i, 8);
        const struct acpi_header *h = (const void *)ptr(&mem, a, sizeof(*h));
        if (memcmp(h->signature, "FACP", 4) == 0)
            fadt_h = table_at(&mem, a, "FACP");
        else if (memcmp(h->signature, "APIC", 4) == 0)
            madt_h = table_at(&mem, a, "APIC");
        else
            CHECK(!"unexpected table in the XSDT");
    }
    CHECK(fadt_h && madt_h);
    if (!fadt_h || !madt_h)
        return;

    const struct acpi_fadt *f = (const void *)fadt_h;
    CHECK_EQ(f->h.length, 276);
    CHECK_EQ(f->h.revision, 6);
    CHECK_EQ(f->sci_int, IRQ_ACPI_SCI);
    CHECK_EQ(f->smi_cmd, 0);
    CHECK_EQ(f->pm1a_evt_blk, PORT_ACPI_PM1A_EVT);
    CHECK_EQ(f->pm1a_cnt_blk, PORT_ACPI_PM1A_CNT);
    CHECK_EQ(f->pm_tmr_blk, PORT_ACPI_PM_TMR);
    CHECK_EQ(f->pm1_evt_len, 4);
    CHECK_EQ(f->pm1_cnt_len, 2);
    CHECK_EQ(f->pm_tmr_len, 4);
    CHECK_EQ(f->x_pm1a_cnt_blk.address, PORT_ACPI_PM1A_CNT);
    CHECK_EQ(f->x_pm1a_cnt_blk.space_id, ACPI_GAS_IO);
    CHECK_EQ(f->x_pm_tmr_blk.address, PORT_ACPI_PM_TMR);
    CHECK(f->flags & FADT_TMR_VAL_EXT);
    CHECK(f->flags & FADT_RESET_REG_SUP);
    CHECK_EQ(f->reset_reg.space_id, ACPI_GAS_IO);
    CHECK_EQ(f->reset_reg.bit_width, 8);
    CHECK_EQ(f->reset_reg.address, PORT_ACPI_RESET);
    CHECK_EQ(f->reset_value, ACPI_RESET_VALUE);
    CHECK(f->iapc_boot_arch & IAPC_8042);
    CHECK(f->iapc_boot_arch & IAPC_NO_VGA);
    CHECK_EQ(f->dsdt, f->x_dsdt);
    CHECK_EQ(f->x_firmware_ctrl, 0);

    const struct acpi_facs *facs = (const void *)ptr(&mem, f->firmware_ctrl, 64);
    CHECK(memcmp(facs->signature, "FACS", 4) == 0);
    CHECK_EQ(facs->length, 64);
    CHECK_EQ(f->firmware_ctrl % 64, 0);
    CHECK(f->firmware_ctrl >= BOOT_BIOS_START && f->firmware_ctrl < BOOT_BIOS_END);

    const struct acpi_header *d = table_at(&mem, f->x_dsdt, "DSDT");
    if (d)
        check_dsdt((const uint8_t *)d + sizeof(*d), d->length - sizeof(*d), mask);
    check_madt(madt_h, ncpus);
    guest_memory_destroy(&mem);
}

static void check_pkglength(void)
{
    uint8_t b[4];
    size_t n;
    CHECK_EQ(aml_pkglength(10, b), 1);
    CHECK_EQ(b[0], 11);
    CHECK_EQ(aml_pkglength(62, b), 1);
    CHECK_EQ(aml_pkglength(63, b), 2);        /* 65 with its two bytes */
    CHECK_EQ(pkglen(b, &n), 65);
    CHECK_EQ(n, 2);
    CHECK_EQ(aml_pkglength(5000, b), 3);
    CHECK_EQ(pkglen(b, &n), 5003);
    CHECK_EQ(aml_pkglength(1u << 20, b), 4);
    CHECK_EQ(pkglen(b, &n), (1u << 20) + 4);
    CHECK_EQ(aml_pkglength(1u << 28, b), 0);
}

/* Writes each table of a 4-CPU machine with 3 virtio devices to dir as
 * NAME.dat, for iasl_check.sh (ACPICA's disassembler, the parser Linux
 * itself uses, as an independent check). */
static int dump_tables(const char *dir)
{
    struct guest_memory mem;
    if (guest_memory_init(&mem, 64ull << 20) < 0 || acpi_build(&mem, 4, 0x7) < 0) {
        fprintf(stderr, "%s\n", err_get());
        return 1;
    }
    const struct acpi_rsdp *r = (const void *)ptr(&mem, BOOT_ACPI_RSDP_ADDR, sizeof(*r));
    const struct acpi_header *x = (const void *)ptr(&mem, r->xsdt_address, 36);
    uint64_t addrs[8];
    int n = 0;
    addrs[n++] = r->xsdt_address;
    for (uint32_t off = 36; off + 8 <= x->length && n < 6; off += 8) {
        memcpy(&addrs[n], (const uint8_t *)x + off, 8);
        const struct acpi_header *h = (const void *)ptr(&mem, addrs[n], 36);
        if (memcmp(h->signature, "FACP", 4) == 0) {
            const struct acpi_fadt *f = (const void *)h;
            addrs[++n] = f->x_dsdt;
        }
        n++;
    }
    for (int i = 0; i < n; i++) {
        const struct acpi_header *h = (const void *)ptr(&mem, addrs[i], 36);
        char path[4096];
        snprintf(path, sizeof(path), "%s/%.4s.dat", dir, h->signature);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(h, 1, h->length, f) != h->length) {
            perror(path);
            return 1;
        }
        fclose(f);
    }
    guest_memory_destroy(&mem);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--dump") == 0)
        return dump_tables(argv[2]);
    check_pkglength();
    check_tables(1, 0);
    check_tables(2, 0x1);
    check_tables(4, 0x5);
    check_tables(MACHINE_MAX_CPUS, (1u << VIRTIO_MMIO_MAX) - 1);

    struct guest_memory mem;
    CHECK_EQ(guest_memory_init(&mem, 64ull << 20), 0);
    CHECK_EQ(acpi_build(&mem, 0, 0), -EINVAL);
    CHECK_EQ(acpi_build(&mem, MACHINE_MAX_CPUS + 1, 0), -EINVAL);
    CHECK(strstr(err_get(), "CPUs") != NULL);
    guest_memory_destroy(&mem);
    TEST_MAIN_END();
}
