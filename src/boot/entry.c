/* The 64-bit entry: the boot GDT, the identity page tables and the
 * register state vCPU 0 starts with.
 *
 * The boot protocol's 64-bit entry wants long mode with paging on, an
 * identity mapping covering the kernel, boot_params, the command line and
 * the initrd, __BOOT_CS (0x10) a flat 64-bit code segment and __BOOT_DS
 * (0x18) a flat data segment, interrupts off, and RSI pointing at
 * boot_params. brume maps the whole low 4 GiB (2 MiB pages), which covers
 * every one of these wherever they are placed, and the MMIO hole too. */
#include <errno.h>
#include <string.h>

#include "boot/boot.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/memory.h"

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_PS  (1ull << 7)

/* Descriptors in the GDT's packed format: base 0, limit 0xFFFFF pages. */
#define GDT_CODE64 0x00AF9B000000FFFFull  /* P, DPL0, S, type 0xB, L, G */
#define GDT_DATA   0x00CF93000000FFFFull  /* P, DPL0, S, type 0x3, D/B, G */
/* A busy 64-bit TSS at base 0 with limit 0x67: VMX requires TR to hold a
 * usable TSS; Linux loads its own before it could ever use this one. */
#define GDT_TSS    0x00008B0000000067ull

int boot_setup_long_mode(struct guest_memory *mem)
{
    const uint64_t gdt[BOOT_GDT_ENTRIES] = { 0, 0, GDT_CODE64, GDT_DATA, GDT_TSS };
    if (guest_write(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt)) < 0)
        return err_set(-EFAULT, "boot: cannot write the GDT at 0x%llx",
                       (unsigned long long)BOOT_GDT_ADDR);

    uint64_t *pml4 = gpa_to_hva(mem, BOOT_PML4_ADDR, 4096);
    uint64_t *pdpt = gpa_to_hva(mem, BOOT_PDPT_ADDR, 4096);
    uint64_t *pd = gpa_to_hva(mem, BOOT_PD_ADDR, 4 * 4096);
    if (!pml4 || !pdpt || !pd)
        return err_set(-EFAULT, "boot: the page tables at 0x%llx are outside RAM",
                       (unsigned long long)BOOT_PML4_ADDR);
    memset(pml4, 0, 4096);
    memset(pdpt, 0, 4096);
    pml4[0] = BOOT_PDPT_ADDR | PTE_P | PTE_RW;
    for (uint64_t i = 0; i < 4; i++)
        pdpt[i] = (BOOT_PD_ADDR + i * 4096) | PTE_P | PTE_RW;
    for (uint64_t i = 0; i < 4 * 512; i++)
        pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
    return 0;
}

static struct cpu_segment flat_segment(uint16_t selector, uint8_t type, int code64)
{
    struct cpu_segment s = {
        .base = 0, .limit = 0xFFFFFFFF, .selector = selector, .type = type,
        .s = 1, .dpl = 0, .present = 1, .l = code64 ? 1 : 0,
        .db = code64 ? 0 : 1, .g = 1,
    };
    return s;
}

void boot_cpu_entry_state(struct cpu_state *s, uint64_t entry, uint64_t params)
{
    uint8_t lapic[CPU_LAPIC_REGS_SIZE];
    memcpy(lapic, s->lapic, sizeof(lapic));
    memset(s, 0, sizeof(*s));
    memcpy(s->lapic, lapic, sizeof(lapic));

    s->rip = entry;
    s->rflags = RFLAGS_FIXED;
    s->regs[GPR_RSI] = params;
    s->regs[GPR_RSP] = BOOT_STACK_TOP;

    s->seg[SEG_CS] = flat_segment(BOOT_GDT_CS, 0xB, 1);
    static const int data_segs[] = { SEG_DS, SEG_ES, SEG_SS, SEG_FS, SEG_GS };
    for (size_t i = 0; i < sizeof(data_segs) / sizeof(data_segs[0]); i++)
        s->seg[data_segs[i]] = flat_segment(BOOT_GDT_DS, 0x3, 0);
    s->tr = (struct cpu_segment){ .selector = BOOT_GDT_TSS, .limit = 0x67, .type = 0xB,
                                  .present = 1 };
    s->ldtr = (struct cpu_segment){ .type = 0x2, .unusable = 1 };
    s->gdt.base = BOOT_GDT_ADDR;
    s->gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
    s->idt.base = 0;
    s->idt.limit = 0;

    s->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
    s->cr3 = BOOT_PML4_ADDR;
    s->cr4 = CR4_PAE;
    s->xcr0 = 1;                      /* x87 only, the reset value */
    s->dr6 = 0xFFFF0FF0;
    s->dr7 = 0x400;

    s->msr.efer = EFER_LME | EFER_LMA;
    s->msr.apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | APIC_BASE_BSP;
    s->msr.pat = 0x0007040600070406ull;      /* the reset value */
    s->msr.misc_enable = 1;                  /* fast strings */
    s->msr.mtrr_def_type = (1u << 11) | 6;   /* MTRRs on, default write-back */

    s->fx.fcw = 0x37F;
    s->fx.mxcsr = 0x1F80;
    s->run_state = CPU_RUNNABLE;
}
