/* Reads brume's ACPI tables the way an OS does, so that every guest checks
 * them: RSDP (from boot_params, else by scanning 0xE0000..0xFFFFF), XSDT,
 * FADT (PM1a control and reset registers), DSDT (\_S5), MADT (CPUs and
 * the IOAPIC). Power-off and reset then use what the tables say. */
#include "rt.h"

struct rt_acpi rt_acpi;

static uint8_t sum(const void *p, uint32_t n)
{
    const uint8_t *b = p;
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *b++);
    return s;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static const uint8_t *table(uint64_t addr, const char *sig)
{
    if (!addr || addr >= MEM_HOLE_START)
        return 0;
    const uint8_t *t = (const uint8_t *)(uintptr_t)addr;
    if (memcmp(t, sig, 4) != 0)
        return 0;
    uint32_t len = rd32(t + 4);
    if (len < 36 || len > 0x20000 || sum(t, len) != 0)
        return 0;
    return t;
}

static const char *find_s5(const uint8_t *dsdt)
{
    uint32_t len = rd32(dsdt + 4);
    for (uint32_t i = 36; i + 12 < len; i++) {
        if (memcmp(dsdt + i, "_S5_", 4) != 0 || dsdt[i + 4] != 0x12)
            continue;
        const uint8_t *p = dsdt + i + 5;
        p += 1 + (p[0] >> 6);              /* PkgLength */
        p++;                               /* NumElements */
        if (p[0] == 0x0A)
            rt_acpi.s5_slp_typ = p[1];
        else if (p[0] == 0x00 || p[0] == 0x01)
            rt_acpi.s5_slp_typ = p[0];
        else
            return "\\_S5 package has an unexpected element encoding";
        return 0;
    }
    return "no \\_S5 object in the DSDT";
}

static const char *parse_madt(const uint8_t *m)
{
    uint32_t len = rd32(m + 4);
    for (uint32_t off = 44; off + 2 <= len;) {
        uint8_t type = m[off], elen = m[off + 1];
        if (elen < 2 || off + elen > len)
            return "MADT entry with a bad length";
        if (type == 0 && elen >= 8 && (rd32(m + off + 4) & 1) && rt_acpi.ncpus < MACHINE_MAX_CPUS)
            rt_acpi.apic_ids[rt_acpi.ncpus++] = m[off + 3];
        if (type == 1 && elen >= 12)
            rt_acpi.ioapic_addr = rd32(m + off + 4);
        off += elen;
    }
    if (rt_acpi.ncpus == 0)
        return "no enabled local APIC in the MADT";
    if (rt_acpi.ioapic_addr == 0)
        return "no IOAPIC in the MADT";
    return 0;
}

static const char *parse(void)
{
    uint64_t rsdp = rt_boot_params ? rt_boot_params->acpi_rsdp_addr : 0;
    if (!rsdp) {
        for (uint64_t a = 0xE0000; a < 0x100000; a += 16)
            if (memcmp((const void *)(uintptr_t)a, "RSD PTR ", 8) == 0 &&
                sum((const void *)(uintptr_t)a, 20) == 0) {
                rsdp = a;
                break;
            }
    }
    if (!rsdp)
        return "no RSDP";
    const uint8_t *r = (const uint8_t *)(uintptr_t)rsdp;
    if (memcmp(r, "RSD PTR ", 8) != 0 || sum(r, 20) != 0)
        return "bad RSDP signature or checksum";
    rt_acpi.rsdp = rsdp;
    rt_acpi.revision = r[15];
    /* ACPI 2.0+ has the XSDT (64-bit entries); 1.0 only the RSDT. */
    bool xsdt = r[15] >= 2;
    if (xsdt && sum(r, 36) != 0)
        return "bad RSDP extended checksum";
    const uint8_t *x = xsdt ? table(rd64(r + 24), "XSDT") : table(rd32(r + 16), "RSDT");
    if (!x)
        return xsdt ? "bad XSDT" : "bad RSDT";
    unsigned esize = xsdt ? 8 : 4;
    const uint8_t *fadt = 0, *madt = 0;
    for (uint32_t off = 36; off + esize <= rd32(x + 4); off += esize) {
        uint64_t a = xsdt ? rd64(x + off) : rd32(x + off);
        if (!fadt)
            fadt = table(a, "FACP");
        if (!madt)
            madt = table(a, "APIC");
    }
    if (!fadt)
        return "no valid FADT";
    if (!madt)
        return "no valid MADT";
    rt_acpi.pm1a_cnt = (uint16_t)rd32(fadt + 64);
    if (rd32(fadt + 112) & (1u << 10)) {           /* RESET_REG_SUP */
        rt_acpi.reset_port = (uint16_t)rd64(fadt + 116 + 4);
        rt_acpi.reset_value = fadt[128];
    }
    uint64_t dsdt_addr = rd32(fadt + 4) >= 148 ? rd64(fadt + 140) : 0;
    if (!dsdt_addr)
        dsdt_addr = rd32(fadt + 40);
    const uint8_t *dsdt = table(dsdt_addr, "DSDT");
    if (!dsdt)
        return "bad DSDT";
    const char *why = find_s5(dsdt);
    if (why)
        return why;
    return parse_madt(madt);
}

void rt_acpi_init(void)
{
    memset(&rt_acpi, 0, sizeof(rt_acpi));
    rt_acpi.why = parse();
    rt_acpi.ok = rt_acpi.why == 0;
    if (!rt_acpi.ok)
        rt_printf("rt: ACPI tables unusable: %s (falling back to the machine's constants)\n",
                  rt_acpi.why);
}
