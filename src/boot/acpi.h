/* ACPI table layouts (ACPI 6.x, chapter 5), as brume writes them. Shared
 * by acpi.c and the unit test that parses the tables back. */
#ifndef BRUME_BOOT_ACPI_H
#define BRUME_BOOT_ACPI_H

#include <stdint.h>

#define ACPI_OEM_ID       "BRUME "
#define ACPI_OEM_TABLE_ID "BRUMEVM "
#define ACPI_CREATOR_ID   "BRUM"

struct acpi_rsdp {
    char signature[8];          /* "RSD PTR " */
    uint8_t checksum;           /* of the first 20 bytes */
    char oem_id[6];
    uint8_t revision;           /* 2: ACPI 2.0+, has the XSDT */
    uint32_t rsdt_address;
    uint32_t length;            /* 36 */
    uint64_t xsdt_address;
    uint8_t extended_checksum;  /* of all 36 bytes */
    uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure */
struct acpi_gas {
    uint8_t space_id;           /* 0 memory, 1 I/O */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;        /* 1 byte, 2 word, 3 dword, 4 qword */
    uint64_t address;
} __attribute__((packed));

#define ACPI_GAS_IO 1

struct acpi_fadt {
    struct acpi_header h;
    uint32_t firmware_ctrl;
    uint32_t dsdt;
    uint8_t reserved1;
    uint8_t preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
    uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
    uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
    uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
    uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
    uint16_t p_lvl2_lat, p_lvl3_lat;
    uint16_t flush_size, flush_stride;
    uint8_t duty_offset, duty_width;
    uint8_t day_alrm, mon_alrm, century;
    uint16_t iapc_boot_arch;
    uint8_t reserved2;
    uint32_t flags;
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    uint16_t arm_boot_arch;
    uint8_t minor_version;
    uint64_t x_firmware_ctrl;
    uint64_t x_dsdt;
    struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
    struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
    struct acpi_gas sleep_control_reg, sleep_status_reg;
    uint64_t hypervisor_vendor_id;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_header) == 36, "table header");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");

/* FADT flags */
#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_PWR_BUTTON    (1u << 4)   /* no fixed-feature power button */
#define FADT_SLP_BUTTON    (1u << 5)   /* no fixed-feature sleep button */
#define FADT_TMR_VAL_EXT   (1u << 8)   /* 32-bit PM timer */
#define FADT_RESET_REG_SUP (1u << 10)

/* FADT IA-PC boot architecture flags */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_8042           (1u << 1)
#define IAPC_NO_VGA         (1u << 2)

struct acpi_facs {
    char signature[4];          /* "FACS" */
    uint32_t length;            /* 64 */
    uint32_t hardware_signature;
    uint32_t firmware_waking_vector;
    uint32_t global_lock;
    uint32_t flags;
    uint64_t x_firmware_waking_vector;
    uint8_t version;            /* 2 */
    uint8_t reserved[31];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");

struct acpi_madt {
    struct acpi_header h;
    uint32_t lapic_address;
    uint32_t flags;             /* bit 0: PC-AT compatible dual 8259 */
} __attribute__((packed));

enum {
    MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_INT_OVERRIDE = 2, MADT_LAPIC_NMI = 4,
};

struct madt_lapic {
    uint8_t type, length;       /* 0, 8 */
    uint8_t processor_uid;
    uint8_t apic_id;
    uint32_t flags;             /* bit 0: enabled */
} __attribute__((packed));

struct madt_ioapic {
    uint8_t type, length;       /* 1, 12 */
    uint8_t ioapic_id;
    uint8_t reserved;
    uint32_t address;
    uint32_t gsi_base;
} __attribute__((packed));

struct madt_int_override {
    uint8_t type, length;       /* 2, 10 */
    uint8_t bus;                /* 0: ISA */
    uint8_t source;             /* ISA IRQ */
    uint32_t gsi;
    uint16_t flags;             /* polarity bits 0-1, trigger bits 2-3 */
} __attribute__((packed));

struct madt_lapic_nmi {
    uint8_t type, length;       /* 4, 6 */
    uint8_t processor_uid;      /* 0xFF: all */
    uint16_t flags;
    uint8_t lint;
} __attribute__((packed));

#define MPS_POLARITY_HIGH 0x1
#define MPS_POLARITY_LOW  0x3
#define MPS_TRIGGER_EDGE  (0x1 << 2)
#define MPS_TRIGGER_LEVEL (0x3 << 2)

/* Sum of len bytes modulo 256: 0 for a valid table. */
static inline uint8_t acpi_sum(const void *p, uint32_t len)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < len; i++)
        s = (uint8_t)(s + ((const uint8_t *)p)[i]);
    return s;
}

#endif
