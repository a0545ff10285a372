/* Conversion between struct emu_cpu and the engine-neutral cpu_state. */
#include "accel/emu/insn.h"

void emu_get_state(const struct emu_cpu *c, struct cpu_state *st)
{
    memcpy(st->regs, c->r, sizeof(st->regs));
    st->rip = c->rip;
    st->rflags = emu_flags(c) | RFLAGS_FIXED;
    memcpy(st->seg, c->seg, sizeof(st->seg));
    st->tr = c->tr;
    st->ldtr = c->ldtr;
    st->gdt = c->gdt;
    st->idt = c->idt;
    st->cr0 = c->cr0;
    st->cr2 = c->cr2;
    st->cr3 = c->cr3;
    st->cr4 = c->cr4;
    st->cr8 = c->host && c->host->cr8_read ? c->host->cr8_read((struct emu_cpu *)c) : c->cr8;
    st->xcr0 = c->xcr0;
    memcpy(st->dr, c->dr, sizeof(st->dr));
    st->dr6 = c->dr6;
    st->dr7 = c->dr7;
    st->msr = c->msr;
    st->msr.tsc = c->host && c->host->clock_ns ? emu_rdtsc((struct emu_cpu *)c) : (uint64_t)c->tsc_offset;
    st->fx = c->fx;
    memset(&st->event, 0, sizeof(st->event));
    st->interrupt_shadow = c->intr_shadow;
    st->nmi_pending = c->nmi_pending;
    st->nmi_masked = c->nmi_masked;
    st->run_state = c->run_state;
}

void emu_set_state(struct emu_cpu *c, const struct cpu_state *st)
{
    memcpy(c->r, st->regs, sizeof(c->r));
    c->rip = st->rip;
    c->rflags = st->rflags | RFLAGS_FIXED;
    c->lf.op = LF_NONE;
    memcpy(c->seg, st->seg, sizeof(c->seg));
    c->tr = st->tr;
    c->ldtr = st->ldtr;
    c->gdt = st->gdt;
    c->idt = st->idt;
    c->cr0 = st->cr0;
    c->cr2 = st->cr2;
    c->cr3 = st->cr3;
    c->cr4 = st->cr4;
    c->cr8 = st->cr8;
    c->xcr0 = st->xcr0;
    memcpy(c->dr, st->dr, sizeof(c->dr));
    c->dr6 = st->dr6;
    c->dr7 = st->dr7;
    c->msr = st->msr;
    if (c->host && c->host->clock_ns)
        c->tsc_offset = (int64_t)(st->msr.tsc - (emu_rdtsc(c) - (uint64_t)c->tsc_offset));
    else
        c->tsc_offset = (int64_t)st->msr.tsc;
    c->fx = st->fx;
    c->intr_shadow = st->interrupt_shadow;
    c->nmi_pending = st->nmi_pending;
    c->nmi_masked = st->nmi_masked;
    c->run_state = st->run_state;
    emu_update_mode(c);
    c->cpl = c->mode == MODE_REAL ? 0 : c->seg[SEG_SS].dpl;
    if (c->mode != MODE_REAL && !(c->cr0 & CR0_PE))
        c->cpl = 0;
    if (c->host && c->host->cr8_write && c->mode != MODE_REAL)
        c->host->cr8_write(c, st->cr8);
    emu_tlb_flush(c, false);
}
