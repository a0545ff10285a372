#include "vm/vcpu.h"

#include <string.h>

static void real_mode_segment(struct cpu_segment *seg, uint16_t selector, uint8_t type)
{
    *seg = (struct cpu_segment){
        .base = (uint64_t)selector << 4, .limit = 0xFFFF, .selector = selector,
        .type = type, .s = 1, .present = 1,
    };
}

void cpu_state_init_ap(struct cpu_state *s, int index)
{
    /* Everything but the local APIC page, which the engine owns. */
    uint8_t lapic[CPU_LAPIC_REGS_SIZE];
    memcpy(lapic, s->lapic, sizeof(lapic));
    memset(s, 0, sizeof(*s));
    memcpy(s->lapic, lapic, sizeof(lapic));
    /* The values after INIT (Intel SDM vol. 3, table 9-1). */
    s->rip = 0xFFF0;
    s->rflags = RFLAGS_FIXED;
    s->cr0 = CR0_ET | CR0_NW | CR0_CD;
    for (int i = 0; i < SEG_COUNT; i++)
        real_mode_segment(&s->seg[i], 0, 0x3);   /* read/write data, accessed */
    real_mode_segment(&s->seg[SEG_CS], 0xF000, 0xB); /* execute/read code, accessed */
    s->seg[SEG_CS].base = 0xFFFF0000;
    s->tr = (struct cpu_segment){ .limit = 0xFFFF, .type = 0xB, .present = 1 };
    s->ldtr = (struct cpu_segment){ .limit = 0xFFFF, .type = 0x2, .present = 1 };
    s->gdt.limit = 0xFFFF;
    s->idt.limit = 0xFFFF;
    s->dr6 = 0xFFFF0FF0;
    s->dr7 = 0x400;
    s->xcr0 = 1;
    s->fx.fcw = 0x37F;
    s->fx.mxcsr = 0x1F80;
    s->msr.pat = 0x0007040600070406ull;
    s->msr.misc_enable = 1; /* fast strings, as on the BSP: else Linux drops REP_GOOD/ERMS */
    s->msr.apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (index == 0 ? APIC_BASE_BSP : 0);
    s->regs[GPR_RDX] = 0x600; /* family/model/stepping after reset: informational */
    s->run_state = CPU_WAIT_FOR_SIPI;
}
