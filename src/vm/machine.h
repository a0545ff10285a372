/* The brume machine: one place for every fixed address, port and IRQ.
 *
 * Boot code (e820, ACPI tables, kernel command line), devices and docs all
 * read these constants, so the guest's view and the devices can never
 * disagree. docs/machine.md describes the same map for users. */
#ifndef BRUME_VM_MACHINE_H
#define BRUME_VM_MACHINE_H

/* ---- guest physical memory used by the boot path (all in low RAM) ---- */
#define BOOT_GDT_ADDR        0x00000500ull  /* GDT for the 64-bit entry */
#define BOOT_PARAMS_ADDR     0x00007000ull  /* struct boot_params ("zero page") */
#define BOOT_PML4_ADDR       0x00009000ull  /* identity page tables: PML4 */
#define BOOT_PDPT_ADDR       0x0000A000ull  /*   PDPT */
#define BOOT_PD_ADDR         0x0000B000ull  /*   4 PDs (2 MiB pages), 4 GiB */
#define BOOT_CMDLINE_ADDR    0x00020000ull
#define BOOT_CMDLINE_MAX     0x00010000ull  /* 64 KiB incl. the NUL */
#define BOOT_EBDA_START      0x0009FC00ull  /* RAM below this is usable */
#define BOOT_BIOS_START      0x000E0000ull  /* ACPI tables live here, reserved */
#define BOOT_BIOS_END        0x00100000ull
#define BOOT_ACPI_RSDP_ADDR  0x000E0000ull
#define BOOT_KERNEL_ADDR     0x00100000ull  /* non-relocatable bzImage / default */

/* ---- 32-bit MMIO hole (see memory.h) ---- */
#define VIRTIO_MMIO_BASE     0xD0000000ull  /* device n at BASE + n * SIZE */
#define VIRTIO_MMIO_SIZE     0x1000ull
#define VIRTIO_MMIO_MAX      16
#define IOAPIC_ADDR          0xFEC00000ull
#define IOAPIC_SIZE          0x1000ull
#define LAPIC_ADDR           0xFEE00000ull
#define LAPIC_SIZE           0x1000ull

/* ---- port I/O ---- */
#define PORT_PIC_MASTER      0x20   /* 2 ports */
#define PORT_PIT             0x40   /* 4 ports */
#define PORT_I8042_DATA      0x60
#define PORT_SYS_CTRL_B      0x61   /* PIT channel 2 gate and output (NMI status/control) */
#define PORT_I8042_CMD       0x64
#define PORT_RTC             0x70   /* 2 ports: index, data */
#define PORT_POST            0x80   /* POST diagnostics, ignored */
#define PORT_PIC_SLAVE       0xA0   /* 2 ports */
#define PORT_COM1            0x3F8  /* 8 ports */
#define PORT_ELCR            0x4D0  /* 2 ports: PIC edge/level control */
#define PORT_ACPI_PM1A_EVT   0x600  /* 4 bytes: PM1a status + enable */
#define PORT_ACPI_PM1A_CNT   0x604  /* 2 bytes: SLP_TYP/SLP_EN */
#define PORT_ACPI_PM_TMR     0x608  /* 4 bytes: 3.579545 MHz, 24-bit */
#define PORT_ACPI_RESET      0x60C  /* 1 byte: FADT reset register */
#define ACPI_RESET_VALUE     0x01
#define ACPI_S5_SLP_TYP      5      /* the value the DSDT's \_S5 gives */

/* ---- interrupts (ISA IRQ = GSI, except IRQ0 which is GSI 2 on the IOAPIC,
 * as on every PC; the MADT says so with an interrupt source override) ---- */
#define IRQ_PIT              0
#define IRQ_KEYBOARD         1
#define IRQ_COM1             4
#define IRQ_RTC              8
#define IRQ_ACPI_SCI         9
#define GSI_VIRTIO_FIRST     16     /* virtio device n uses GSI 16 + n */
#define IOAPIC_PINS          24

/* ---- clocks ----
 * The crystal that CPUID leaf 0x15 reports: the TSC runs at exactly this
 * rate on the emu engine, and the local APIC timer counts at it (before its
 * divider), as KVM's does (1 ns per bus cycle). Linux then needs no
 * calibration loop against the PIT. */
#define MACHINE_CRYSTAL_HZ   1000000000ull
#define ACPI_PM_TIMER_HZ     3579545ull

/* ---- limits ---- */
#define MACHINE_MAX_CPUS     64

#endif
