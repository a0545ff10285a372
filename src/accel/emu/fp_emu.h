/* Helpers shared by the x87/MMX/SSE instruction handlers (x87_ops.c,
 * sse_*.c): the architectural checks every such instruction starts with,
 * and XMM/MMX operand access. Kernels are in fp.h. */
#ifndef BRUME_ACCEL_EMU_FP_EMU_H
#define BRUME_ACCEL_EMU_FP_EMU_H

#include <string.h>

#include "accel/emu/fp.h"
#include "accel/emu/insn.h"

static inline fp_xmm *fp_xmm_reg(struct emu_cpu *c, unsigned n)
{
    return (fp_xmm *)(void *)c->fx.xmm[n & 15];
}

/* No x87/MMX/SSE instruction takes LOCK. */
static inline void fp_check_lock(struct emu_cpu *c, const struct insn *i)
{
    if (i->lock)
        emu_raise(c, EXC_UD);
}

/* x87 instructions: #NM when CR0.EM or CR0.TS (SDM vol. 3, 2.5). */
static inline void fp_check_x87(struct emu_cpu *c, const struct insn *i)
{
    fp_check_lock(c, i);
    if (c->cr0 & (CR0_EM | CR0_TS))
        emu_raise(c, EXC_NM);
}

/* A waiting x87 instruction: also #MF for a pending unmasked exception
 * (CR0.NE=0's external FERR# is not modelled: #MF either way). */
static inline void fp_check_x87_wait(struct emu_cpu *c, const struct insn *i)
{
    fp_check_x87(c, i);
    if (x87_mf_pending(&c->fx))
        emu_raise(c, EXC_MF);
}

/* SSE/SSE2: #UD when CR0.EM or !CR4.OSFXSR, #NM when CR0.TS. */
static inline void fp_check_sse(struct emu_cpu *c, const struct insn *i)
{
    fp_check_lock(c, i);
    if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
        emu_raise(c, EXC_UD);
    if (c->cr0 & CR0_TS)
        emu_raise(c, EXC_NM);
}

/* MMX: #UD when CR0.EM, #NM when CR0.TS, #MF for a pending x87 exception. */
static inline void fp_check_mmx(struct emu_cpu *c, const struct insn *i)
{
    fp_check_lock(c, i);
    if (c->cr0 & CR0_EM)
        emu_raise(c, EXC_UD);
    if (c->cr0 & CR0_TS)
        emu_raise(c, EXC_NM);
    if (x87_mf_pending(&c->fx))
        emu_raise(c, EXC_MF);
}

/* Linear address of a memory operand of size bytes; align16: the legacy
 * SSE rule for 16-byte operands (#GP(0) when misaligned). */
static inline uint64_t fp_mem_lin(struct emu_cpu *c, const struct insn *i, unsigned size, bool align16)
{
    if (align16)
        return insn_lin_align16(c, i, size);
    return insn_lin(c, i, size);
}

/* The W operand (ModRM r/m: XMM register or memory of size bytes, the
 * rest zero). */
static inline void fp_read_W(struct emu_cpu *c, const struct insn *i, fp_xmm *out, unsigned size, bool align16)
{
    if (i->mod == 3) {
        *out = *fp_xmm_reg(c, i->rm);
        return;
    }
    memset(out, 0, sizeof(*out));
    emu_read_bytes(c, fp_mem_lin(c, i, size, align16), out, size, emu_user(c));
}

/* Stores the low size bytes of v to the memory operand. */
static inline void fp_write_M(struct emu_cpu *c, const struct insn *i, const void *v, unsigned size, bool align16)
{
    emu_write_bytes(c, fp_mem_lin(c, i, size, align16), v, size, emu_user(c));
}

/* Merges the exception flags an SSE operation raised into MXCSR. When one
 * of them is unmasked the instruction must not write its destination:
 * raises #XM (CR4.OSXMMEXCPT) or #UD, so call it before the write-back. */
static inline void fp_sse_flags(struct emu_cpu *c, uint32_t flags)
{
    uint32_t unmasked = flags & ~(c->fx.mxcsr >> 7) & MXCSR_FLAGS;
    if (unmasked) {
        /* A pre-computation exception (invalid, denormal, divide) stops
         * the operation before the post-computation ones are detected. */
        if (unmasked & 0x7)
            flags &= 0x7;
        c->fx.mxcsr |= flags;
        emu_raise(c, (c->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD);
    }
    c->fx.mxcsr |= flags;
}

/* FWAIT/WAIT (9B), for the core's op_fwait (x87_ops.c): #NM when CR0.MP
 * and CR0.TS, then #MF when an unmasked x87 exception is pending. */
void emu_fp_fwait(struct emu_cpu *c);

/* The number of XMM registers of the current mode. */
static inline unsigned fp_xmm_count(const struct emu_cpu *c)
{
    return c->mode == MODE_LONG64 ? 16 : 8;
}

#endif
