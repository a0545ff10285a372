/* The Linux x86 boot protocol structures (Documentation/arch/x86/boot.rst
 * and zero-page.rst), written from the documented offsets.
 *
 * struct setup_header is what a bzImage carries at file offset 0x1F1 and
 * what the loader copies into boot_params; struct boot_params is the 4 KiB
 * "zero page" whose address the kernel receives in RSI. Only the fields a
 * loader fills are named; the rest is padding at the documented offsets,
 * and the static asserts pin every named field to its offset. */
#ifndef BRUME_BOOT_BOOTPARAM_H
#define BRUME_BOOT_BOOTPARAM_H

#include <stddef.h>
#include <stdint.h>

#define SETUP_HDR_OFFSET   0x1F1   /* in the bzImage and in boot_params */
#define SETUP_HDR_MAGIC    0x53726448u  /* "HdrS" */
#define SETUP_BOOT_FLAG    0xAA55
#define SETUP_SECTS_DEFAULT 4      /* setup_sects == 0 means 4 */

/* loadflags */
#define LOADED_HIGH     (1u << 0)  /* protected-mode code at 0x100000 */
#define KEEP_SEGMENTS   (1u << 6)
#define CAN_USE_HEAP    (1u << 7)

/* xloadflags */
#define XLF_KERNEL_64               (1u << 0)  /* has the 64-bit entry at +0x200 */
#define XLF_CAN_BE_LOADED_ABOVE_4G  (1u << 1)

#define BOOT_PROTO_MIN_64BIT  0x020C   /* xloadflags appeared in 2.12 */
#define BOOT_PROTO_RSDP_ADDR  0x020E   /* boot_params.acpi_rsdp_addr, 2.14 */
#define BOOT_LOADER_UNDEFINED 0xFF     /* type_of_loader: "not assigned" */

struct setup_header {
    uint8_t  setup_sects;
    uint16_t root_flags;
    uint32_t syssize;
    uint16_t ram_size;
    uint16_t vid_mode;
    uint16_t root_dev;
    uint16_t boot_flag;
    uint16_t jump;
    uint32_t header;
    uint16_t version;
    uint32_t realmode_swtch;
    uint16_t start_sys_seg;
    uint16_t kernel_version;
    uint8_t  type_of_loader;
    uint8_t  loadflags;
    uint16_t setup_move_size;
    uint32_t code32_start;
    uint32_t ramdisk_image;
    uint32_t ramdisk_size;
    uint32_t bootsect_kludge;
    uint16_t heap_end_ptr;
    uint8_t  ext_loader_ver;
    uint8_t  ext_loader_type;
    uint32_t cmd_line_ptr;
    uint32_t initrd_addr_max;
    uint32_t kernel_alignment;
    uint8_t  relocatable_kernel;
    uint8_t  min_alignment;
    uint16_t xloadflags;
    uint32_t cmdline_size;
    uint32_t hardware_subarch;
    uint64_t hardware_subarch_data;
    uint32_t payload_offset;
    uint32_t payload_length;
    uint64_t setup_data;
    uint64_t pref_address;
    uint32_t init_size;
    uint32_t handover_offset;
    uint32_t kernel_info_offset;
} __attribute__((packed));

/* Offsets below are relative to the start of boot_params (so 0x1F1 is the
 * first header byte), as in the protocol documentation. */
#define HDR_OFF(f) (SETUP_HDR_OFFSET + offsetof(struct setup_header, f))
_Static_assert(HDR_OFF(boot_flag) == 0x1FE, "boot_flag");
_Static_assert(HDR_OFF(header) == 0x202, "header");
_Static_assert(HDR_OFF(type_of_loader) == 0x210, "type_of_loader");
_Static_assert(HDR_OFF(ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(HDR_OFF(cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(HDR_OFF(kernel_alignment) == 0x230, "kernel_alignment");
_Static_assert(HDR_OFF(xloadflags) == 0x236, "xloadflags");
_Static_assert(HDR_OFF(pref_address) == 0x258, "pref_address");
_Static_assert(HDR_OFF(kernel_info_offset) == 0x268, "kernel_info_offset");
#define SETUP_HDR_END 0x26C   /* one past the last field we know */

#define E820_MAX_ENTRIES_ZEROPAGE 128
#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3

struct boot_e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

struct boot_params {
    uint8_t  screen_info[0x40];                 /* 0x000 */
    uint8_t  apm_bios_info[0x14];               /* 0x040 */
    uint8_t  pad2[4];                           /* 0x054 */
    uint64_t tboot_addr;                        /* 0x058 */
    uint8_t  ist_info[0x10];                    /* 0x060 */
    uint64_t acpi_rsdp_addr;                    /* 0x070 */
    uint8_t  pad3[8];                           /* 0x078 */
    uint8_t  hd0_info[16];                      /* 0x080 */
    uint8_t  hd1_info[16];                      /* 0x090 */
    uint8_t  sys_desc_table[0x10];              /* 0x0A0 */
    uint8_t  olpc_ofw_header[0x10];             /* 0x0B0 */
    uint32_t ext_ramdisk_image;                 /* 0x0C0 */
    uint32_t ext_ramdisk_size;                  /* 0x0C4 */
    uint32_t ext_cmd_line_ptr;                  /* 0x0C8 */
    uint8_t  pad4[0x13C - 0xCC];                /* 0x0CC */
    uint32_t cc_blob_address;                   /* 0x13C */
    uint8_t  edid_info[0x80];                   /* 0x140 */
    uint8_t  efi_info[0x20];                    /* 0x1C0 */
    uint32_t alt_mem_k;                         /* 0x1E0 */
    uint32_t scratch;                           /* 0x1E4 */
    uint8_t  e820_entries;                      /* 0x1E8 */
    uint8_t  eddbuf_entries;                    /* 0x1E9 */
    uint8_t  edd_mbr_sig_buf_entries;           /* 0x1EA */
    uint8_t  kbd_status;                        /* 0x1EB */
    uint8_t  secure_boot;                       /* 0x1EC */
    uint8_t  pad5[2];                           /* 0x1ED */
    uint8_t  sentinel;                          /* 0x1EF */
    uint8_t  pad6[1];                           /* 0x1F0 */
    struct setup_header hdr;                    /* 0x1F1 */
    uint8_t  pad7[0x290 - SETUP_HDR_END];       /* 0x26C */
    uint32_t edd_mbr_sig_buffer[16];            /* 0x290 */
    struct boot_e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2D0 */
    uint8_t  pad8[48];                          /* 0xCD0 */
    uint8_t  eddbuf[0xEEC - 0xD00];             /* 0xD00 */
    uint8_t  pad9[0x1000 - 0xEEC];              /* 0xEEC */
} __attribute__((packed));

_Static_assert(sizeof(struct setup_header) == SETUP_HDR_END - SETUP_HDR_OFFSET, "setup_header size");
_Static_assert(sizeof(struct boot_params) == 0x1000, "boot_params is one page");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1E8, "e820_entries");
_Static_assert(offsetof(struct boot_params, hdr) == SETUP_HDR_OFFSET, "hdr");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2D0, "e820_table");

#endif
