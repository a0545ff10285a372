/* The test guests' tiny runtime: serial output, printf-lite, exception and
 * interrupt handlers, local APIC / IOAPIC / PM timer helpers, ACPI table
 * lookups, power-off and reset.
 *
 * A guest is an ELF64 "kernel" that brume boots like Linux: 64-bit entry,
 * RSI = boot_params, the low 4 GiB identity-mapped. It defines guest_name
 * and guest_main(); the runtime prints "guest: PASS" when guest_main
 * returns NULL and "guest: FAIL <why>" otherwise, then powers off through
 * ACPI. Everything here is engine-neutral: only what a PC guest would do. */
#ifndef BRUME_GUEST_RT_H
#define BRUME_GUEST_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/bootparam.h"
#include "vm/machine.h"
#include "vm/memory.h"   /* MEM_HOLE_* (the declarations are not used) */

/* ---- what each guest provides ---- */
extern const char guest_name[];
/* Returns NULL on success, or why it failed. */
const char *guest_main(void);

/* ---- port I/O and system registers ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void pause(void) { __asm__ volatile("pause" ::: "memory"); }
/* sti; hlt as one unit: an interrupt pending at sti wakes the hlt. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline uint64_t read_rflags(void) { uint64_t v; __asm__ volatile("pushfq; popq %0" : "=r"(v)); return v; }

/* ---- output ---- */
void serial_init(void);
void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_vprintf(const char *fmt, va_list ap);

/* ---- memory and strings (the compiler may call the first four) ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
uint32_t rt_crc32(const void *p, size_t n);   /* zlib's CRC-32 */

/* ---- boot information ---- */
extern struct boot_params *rt_boot_params;     /* from RSI at entry */
const char *rt_cmdline(void);
/* Finds key=value on the command line; parses decimal or 0x-hex. */
bool rt_cmdline_u64(const char *key, uint64_t *value);

/* ---- interrupts and exceptions ---- */
struct rt_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*rt_handler)(struct rt_frame *f);
void rt_idt_load(void);                        /* on each CPU */
void rt_set_handler(uint8_t vector, rt_handler h);
/* Interrupts that arrived with no handler (counted, and printed). */
extern volatile unsigned rt_unexpected;

/* ---- local APIC, IOAPIC, PM timer ---- */
#define LAPIC_ID      0x020
#define LAPIC_EOI     0x0B0
#define LAPIC_SVR     0x0F0
#define LAPIC_ICR_LO  0x300
#define LAPIC_ICR_HI  0x310
#define LAPIC_LVT_TMR 0x320
#define LAPIC_TMR_INIT 0x380
#define LAPIC_TMR_DIV 0x3E0
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
unsigned lapic_id(void);
void lapic_enable(void);
void lapic_eoi(void);
/* Sends an IPI (ICR low bits) to apic_id; false if it stayed pending. */
bool lapic_ipi(unsigned apic_id, uint32_t icr_lo);
void ioapic_route(unsigned pin, uint8_t vector, unsigned dest_apic, bool level, bool masked);
void ioapic_mask_all(void);
void pic_mask_all(void);
uint32_t pm_timer(void);
/* Busy-waits us microseconds on the ACPI PM timer; false if it is stuck. */
bool rt_delay_us(uint64_t us);
/* Microseconds between two pm_timer() readings (32-bit counter). */
uint64_t pm_elapsed_us(uint32_t from, uint32_t to);

/* ---- ACPI (as parsed at start-up) ---- */
struct rt_acpi {
    bool ok;                    /* RSDP, XSDT, FADT, DSDT \_S5 and MADT found */
    const char *why;            /* else why not */
    uint64_t rsdp;
    uint8_t revision;           /* RSDP revision: 2+ has the XSDT */
    uint16_t pm1a_cnt, reset_port;
    uint8_t s5_slp_typ, reset_value;
    uint32_t ioapic_addr;
    int ncpus;
    uint8_t apic_ids[MACHINE_MAX_CPUS];
};
extern struct rt_acpi rt_acpi;
void rt_acpi_init(void);

/* ---- the end ---- */
void rt_poweroff(void) __attribute__((noreturn));
void rt_reset(void) __attribute__((noreturn));
void rt_finish(const char *why) __attribute__((noreturn));   /* PASS if NULL */
void rt_halt_forever(void) __attribute__((noreturn));

/* A lock for output shared by CPUs (recursive per APIC ID). */
void rt_lock(void);
void rt_unlock(void);

#endif
