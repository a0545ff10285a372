/* A small long-mode machine for engine tests: RAM in a host buffer, identity
 * page tables, a Linux-style GDT, an IDT and a TSS, and an emu_cpu at CPL 0.
 *
 * Physical (= linear) layout:
 *   0x1000 PML4  0x2000 PDPT  0x3000 PD  0x4000 PT (4 KiB pages for 0..2 MiB)
 *   0x5000 GDT   0x6000 IDT   0x7000 TSS
 *   0x10000 kernel code, 0x20000 user code, 0x30000.. handlers
 *   0x80000 kernel stack top, 0x90000 RSP0, 0xa0000 IST1, 0xb0000 user stack
 *   0x200000..0x400000 one 2 MiB page; 0x100000 data */
#ifndef BRUME_TESTS_UNIT_EMU_SYS_UTIL_H
#define BRUME_TESTS_UNIT_EMU_SYS_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "accel/emu/insn.h"

#define SYS_RAM (8u << 20)
#define SYS_PML4 0x1000
#define SYS_PDPT 0x2000
#define SYS_PD   0x3000
#define SYS_PT   0x4000
#define SYS_GDT  0x5000
#define SYS_IDT  0x6000
#define SYS_TSS  0x7000
#define SYS_KCODE 0x10000
#define SYS_UCODE 0x20000
#define SYS_KSTACK 0x80000
#define SYS_RSP0 0x90000
#define SYS_IST1 0xa0000
#define SYS_USTACK 0xb0000

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE32 0x18
#define SEL_UDATA 0x20
#define SEL_UCODE 0x28
#define SEL_TSS 0x30

struct sysm {
    struct emu_cpu c;        /* first: the host hooks cast back */
    uint8_t *ram;
    int last_port;
    uint64_t last_out;
};

static inline uint64_t rd64(struct sysm *m, uint64_t pa)
{
    uint64_t v;
    memcpy(&v, m->ram + pa, 8);
    return v;
}

static inline void wr64(struct sysm *m, uint64_t pa, uint64_t v)
{
    memcpy(m->ram + pa, &v, 8);
}

static uint8_t *sm_ram_page(struct emu_cpu *c, uint64_t gpa)
{
    struct sysm *m = (struct sysm *)c;
    return gpa + 0x1000 <= SYS_RAM ? m->ram + (gpa & ~0xfffull) : NULL;
}
static uint64_t sm_mmio_read(struct emu_cpu *c, uint64_t gpa, unsigned size) { (void)c; (void)gpa; (void)size; return ~0ull; }
static void sm_mmio_write(struct emu_cpu *c, uint64_t gpa, unsigned size, uint64_t v) { (void)c; (void)gpa; (void)size; (void)v; }
static uint64_t sm_pio_in(struct emu_cpu *c, uint16_t port, unsigned size)
{
    ((struct sysm *)c)->last_port = port;
    return 0x12345678 & mask_of(size);
}
static void sm_pio_out(struct emu_cpu *c, uint16_t port, unsigned size, uint64_t v)
{
    (void)size;
    ((struct sysm *)c)->last_port = port;
    ((struct sysm *)c)->last_out = v;
}
static uint64_t sm_clock(struct emu_cpu *c) { (void)c; return 1000; }

static const struct emu_host_ops sm_host = {
    sm_ram_page, sm_mmio_read, sm_mmio_write, sm_pio_in, sm_pio_out, sm_clock, NULL, NULL, NULL,
};

/* An IDT gate: type 0xE interrupt, 0xF trap */
static inline void sys_gate(struct sysm *m, int vec, uint64_t off, unsigned type, unsigned dpl, unsigned ist)
{
    uint64_t lo = (off & 0xffff) | ((uint64_t)SEL_KCODE << 16) | ((uint64_t)ist << 32) | ((uint64_t)type << 40) |
                  ((uint64_t)dpl << 45) | (1ull << 47) | (((off >> 16) & 0xffff) << 48);
    wr64(m, SYS_IDT + (uint64_t)vec * 16, lo);
    wr64(m, SYS_IDT + (uint64_t)vec * 16 + 8, off >> 32);
}

static inline void sys_code(struct sysm *m, uint64_t pa, const uint8_t *code, size_t n)
{
    memcpy(m->ram + pa, code, n);
}

static inline struct sysm *sys_new(void)
{
    struct sysm *m = calloc(1, sizeof(*m));
    m->ram = calloc(1, SYS_RAM);
    struct emu_cpu *c = &m->c;
    c->host = &sm_host;
    emu_cpu_reset(c);
    /* identity page tables, user-accessible */
    wr64(m, SYS_PML4, SYS_PDPT | 7);
    wr64(m, SYS_PDPT, SYS_PD | 7);
    wr64(m, SYS_PD, SYS_PT | 7);
    wr64(m, SYS_PD + 8, 0x200000 | 0x87);
    wr64(m, SYS_PD + 16, 0x400000 | 0x87);
    wr64(m, SYS_PD + 24, 0x600000 | 0x87);
    for (uint64_t k = 1; k < 512; k++)
        wr64(m, SYS_PT + k * 8, (k << 12) | 7);
    /* GDT */
    wr64(m, SYS_GDT + SEL_KCODE, 0x00af9b000000ffffull);
    wr64(m, SYS_GDT + SEL_KDATA, 0x00cf93000000ffffull);
    wr64(m, SYS_GDT + SEL_UCODE32, 0x00cffb000000ffffull);
    wr64(m, SYS_GDT + SEL_UDATA, 0x00cff3000000ffffull);
    wr64(m, SYS_GDT + SEL_UCODE, 0x00affb000000ffffull);
    wr64(m, SYS_GDT + SEL_TSS, 0x0000890000000067ull | ((uint64_t)SYS_TSS << 16));
    wr64(m, SYS_GDT + SEL_TSS + 8, 0);
    /* TSS: RSP0, IST1 */
    wr64(m, SYS_TSS + 4, SYS_RSP0);
    wr64(m, SYS_TSS + 0x24, SYS_IST1);
    m->ram[SYS_TSS + 0x66] = 0x68;  /* I/O bitmap beyond the limit */

    c->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    c->cr3 = SYS_PML4;
    c->cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR;
    c->msr.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    c->msr.star = ((uint64_t)SEL_UCODE32 << 48) | ((uint64_t)SEL_KCODE << 32);
    c->gdt.base = SYS_GDT;
    c->gdt.limit = 0x3f;
    c->idt.base = SYS_IDT;
    c->idt.limit = 0xfff;
    emu_desc_to_seg(0x00af9b000000ffffull, SEL_KCODE, &c->seg[SEG_CS]);
    emu_desc_to_seg(0x00cf93000000ffffull, SEL_KDATA, &c->seg[SEG_SS]);
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS && s != SEG_SS) {
            memset(&c->seg[s], 0, sizeof(c->seg[s]));
            c->seg[s].unusable = 1;
        }
    emu_desc_to_seg(0x0000890000000067ull | ((uint64_t)SYS_TSS << 16), SEL_TSS, &c->tr);
    c->tr.type = 0xb;
    c->ldtr.unusable = 1;
    c->cpl = 0;
    c->rip = SYS_KCODE;
    c->r[GPR_RSP] = SYS_KSTACK;
    c->rflags = RFLAGS_FIXED;
    emu_update_mode(c);
    emu_tlb_flush(c, false);
    return m;
}

static inline void sys_free(struct sysm *m)
{
    free(m->ram);
    free(m);
}

/* Runs until HLT, an exit other than a kick, or n instructions. */
static inline uint64_t sys_run(struct sysm *m, uint64_t n)
{
    uint64_t done = 0;
    do {
        m->c.exit = EMU_EXIT_NONE;
        done += emu_run(&m->c, n - done);
    } while (m->c.exit == EMU_EXIT_KICK && done < n);
    return done;
}

#endif
