/* SSE/SSE2/MMX instructions that compute: arithmetic, logic, compares,
 * conversions, integer SIMD, shifts, shuffles. The arithmetic itself is
 * the host's (sse_host.c); these handlers fetch operands, apply the
 * architectural checks and write back only when no unmasked exception
 * occurred. The opcode table is sse_table.c. */
#include "accel/emu/fp_emu.h"
#include "accel/emu/fp_ops.h"

/* Lanes an operation can underflow in: float lanes (count, > 0) or double
 * lanes (count, < 0); 0 for operations that never underflow. */
static int sse_tiny_lanes(enum sse_op op)
{
    switch (op) {
    case SSE_ADDPS: case SSE_SUBPS: case SSE_MULPS: case SSE_DIVPS: return 4;
    case SSE_ADDSS: case SSE_SUBSS: case SSE_MULSS: case SSE_DIVSS: case SSE_CVTSD2SS: return 1;
    case SSE_CVTPD2PS: return 2;
    case SSE_ADDPD: case SSE_SUBPD: case SSE_MULPD: case SSE_DIVPD: return -2;
    case SSE_ADDSD: case SSE_SUBSD: case SSE_MULSD: case SSE_DIVSD: return -1;
    default: return 0;
    }
}

/* The host runs with underflow masked, which reports UE only for tiny
 * results that are also inexact; with UM clear the guest must see UE for
 * every tiny result. An exact tiny result is a denormal in the
 * destination (FTZ does not act when UM is clear, and the host's FTZ
 * reports UE itself), so look for one. */
static uint32_t sse_exact_tiny(const struct emu_cpu *c, enum sse_op op, const fp_xmm *d, uint32_t fl)
{
    if ((c->fx.mxcsr & 0x0800u) || (fl & 0x10u))
        return fl;
    int lanes = sse_tiny_lanes(op);
    for (int k = 0; k < lanes; k++)
        if ((d->d[k] & 0x7f800000u) == 0 && (d->d[k] & 0x007fffffu))
            return fl | 0x10u;
    for (int k = 0; k < -lanes; k++)
        if ((d->q[k] & 0x7ff0000000000000ull) == 0 && (d->q[k] & 0x000fffffffffffffull))
            return fl | 0x10u;
    return fl;
}

/* V = V op W: size is the memory operand's (16, 8 or 4), align16 the
 * legacy rule for m128. */
static void sse_vw(struct emu_cpu *c, const struct insn *i, enum sse_op op, unsigned size, bool align16)
{
    fp_xmm s, d;
    fp_check_sse(c, i);
    fp_read_W(c, i, &s, size, align16);
    d = *fp_xmm_reg(c, i->reg);
    uint32_t fl = sse_exec(op, &d, &s, c->fx.mxcsr);
    if (sse_op_is_fp(op))
        fp_sse_flags(c, sse_exact_tiny(c, op, &d, fl));
    *fp_xmm_reg(c, i->reg) = d;
}

/* MMX: P = P op Q (64-bit operands; PUNPCKL* read only 32 bits of
 * memory). */
static void mmx_pq(struct emu_cpu *c, const struct insn *i, enum sse_op op)
{
    fp_check_mmx(c, i);
    unsigned size = (op == SSE_PUNPCKLBW || op == SSE_PUNPCKLWD || op == SSE_PUNPCKLDQ) ? 4 : 8;
    uint64_t s = i->mod == 3 ? 0 : mem_read(c, i, size);
    mmx_enter(&c->fx);
    if (i->mod == 3)
        s = mmx_read(&c->fx, i->rm);
    mmx_write(&c->fx, i->reg, mmx_exec(op, mmx_read(&c->fx, i->reg), s));
}

#define PK(name, op)  FP_OP(name) { sse_vw(c, i, op, 16, true); }
#define SC(name, op, n) FP_OP(name) { sse_vw(c, i, op, n, false); }
#define MM(name, op)  FP_OP(name) { mmx_pq(c, i, op); }

/* Floating point, packed and scalar */
PK(op_addps, SSE_ADDPS) PK(op_addpd, SSE_ADDPD) SC(op_addss, SSE_ADDSS, 4) SC(op_addsd, SSE_ADDSD, 8)
PK(op_subps, SSE_SUBPS) PK(op_subpd, SSE_SUBPD) SC(op_subss, SSE_SUBSS, 4) SC(op_subsd, SSE_SUBSD, 8)
PK(op_mulps, SSE_MULPS) PK(op_mulpd, SSE_MULPD) SC(op_mulss, SSE_MULSS, 4) SC(op_mulsd, SSE_MULSD, 8)
PK(op_divps, SSE_DIVPS) PK(op_divpd, SSE_DIVPD) SC(op_divss, SSE_DIVSS, 4) SC(op_divsd, SSE_DIVSD, 8)
PK(op_minps, SSE_MINPS) PK(op_minpd, SSE_MINPD) SC(op_minss, SSE_MINSS, 4) SC(op_minsd, SSE_MINSD, 8)
PK(op_maxps, SSE_MAXPS) PK(op_maxpd, SSE_MAXPD) SC(op_maxss, SSE_MAXSS, 4) SC(op_maxsd, SSE_MAXSD, 8)
PK(op_sqrtps, SSE_SQRTPS) PK(op_sqrtpd, SSE_SQRTPD) SC(op_sqrtss, SSE_SQRTSS, 4) SC(op_sqrtsd, SSE_SQRTSD, 8)
PK(op_rcpps, SSE_RCPPS) SC(op_rcpss, SSE_RCPSS, 4) PK(op_rsqrtps, SSE_RSQRTPS) SC(op_rsqrtss, SSE_RSQRTSS, 4)

/* Conversions between XMM formats */
SC(op_cvtps2pd, SSE_CVTPS2PD, 8) PK(op_cvtpd2ps, SSE_CVTPD2PS)
SC(op_cvtss2sd, SSE_CVTSS2SD, 4) SC(op_cvtsd2ss, SSE_CVTSD2SS, 8)
PK(op_cvtdq2ps, SSE_CVTDQ2PS) PK(op_cvtps2dq, SSE_CVTPS2DQ) PK(op_cvttps2dq, SSE_CVTTPS2DQ)
SC(op_cvtdq2pd, SSE_CVTDQ2PD, 8) PK(op_cvtpd2dq, SSE_CVTPD2DQ) PK(op_cvttpd2dq, SSE_CVTTPD2DQ)

/* Logic: the PS/PD forms are the same bitwise operations */
PK(op_pand, SSE_PAND) PK(op_pandn, SSE_PANDN) PK(op_por, SSE_POR) PK(op_pxor, SSE_PXOR)
PK(op_unpcklps, SSE_UNPCKLPS) PK(op_unpckhps, SSE_UNPCKHPS)
PK(op_unpcklpd, SSE_UNPCKLPD) PK(op_unpckhpd, SSE_UNPCKHPD)

/* Integer SIMD: the XMM (66) form and the MMX (no prefix) form */
#define INT_BOTH(name, mnem) PK(op_##name##_x, SSE_##name) MM(op_##name##_m, SSE_##name)
MMX_INT_OPS(INT_BOTH)
#undef INT_BOTH
PK(op_PUNPCKLQDQ_x, SSE_PUNPCKLQDQ) PK(op_PUNPCKHQDQ_x, SSE_PUNPCKHQDQ)

/* CMPPS/CMPPD/CMPSS/CMPSD xmm, xmm/m, imm8: predicates 0..7 (bits 7:3 of
 * the immediate are ignored by the legacy encoding). */
static void sse_cmp(struct emu_cpu *c, const struct insn *i, enum sse_op base, unsigned size, bool align16)
{
    sse_vw(c, i, (enum sse_op)(base + (i->imm & 7)), size, align16);
}
FP_OP(op_cmpps) { sse_cmp(c, i, SSE_CMPEQPS, 16, true); }
FP_OP(op_cmppd) { sse_cmp(c, i, SSE_CMPEQPD, 16, true); }
FP_OP(op_cmpss) { sse_cmp(c, i, SSE_CMPEQSS, 4, false); }
FP_OP(op_cmpsd) { sse_cmp(c, i, SSE_CMPEQSD, 8, false); }

/* COMISS/UCOMISS (0F 2F/2E), COMISD/UCOMISD (66) */
static void sse_comi_op(struct emu_cpu *c, const struct insn *i, bool dbl, bool ordered)
{
    fp_xmm s;
    fp_check_sse(c, i);
    fp_read_W(c, i, &s, dbl ? 8 : 4, false);
    emu_flags_sync(c);
    uint64_t fl = c->rflags;
    uint32_t ex = sse_comi(fp_xmm_reg(c, i->reg), &s, dbl, ordered, c->fx.mxcsr, &fl);
    fp_sse_flags(c, ex);
    c->rflags = fl;
}
FP_OP(op_comiss) { sse_comi_op(c, i, false, true); }
FP_OP(op_ucomiss) { sse_comi_op(c, i, false, false); }
FP_OP(op_comisd) { sse_comi_op(c, i, true, true); }
FP_OP(op_ucomisd) { sse_comi_op(c, i, true, false); }

/* CVTSI2SS/SD xmm, r/m32/64 (F3/F2 0F 2A) */
static void sse_cvt_from_gpr(struct emu_cpu *c, const struct insn *i, enum sse_cvt which)
{
    unsigned size = (i->rex & 8) ? 8 : 4;
    fp_check_sse(c, i);
    uint64_t g = rd_E(c, i, size);
    fp_xmm d = *fp_xmm_reg(c, i->reg);
    fp_sse_flags(c, sse_cvt_gpr(which, &d, &g, size, c->fx.mxcsr));
    *fp_xmm_reg(c, i->reg) = d;
}
FP_OP(op_cvtsi2ss) { sse_cvt_from_gpr(c, i, CVT_SI2SS); }
FP_OP(op_cvtsi2sd) { sse_cvt_from_gpr(c, i, CVT_SI2SD); }

/* CVT(T)SS2SI / CVT(T)SD2SI r32/64, xmm/m32/64 (F3/F2 0F 2C/2D) */
static void sse_cvt_to_gpr(struct emu_cpu *c, const struct insn *i, enum sse_cvt which, unsigned msize)
{
    unsigned size = (i->rex & 8) ? 8 : 4;
    fp_xmm s;
    fp_check_sse(c, i);
    fp_read_W(c, i, &s, msize, false);
    uint64_t g = 0;
    fp_sse_flags(c, sse_cvt_gpr(which, &s, &g, size, c->fx.mxcsr));
    reg_set(c, i->reg, size, g);
}
FP_OP(op_cvtss2si) { sse_cvt_to_gpr(c, i, CVT_SS2SI, 4); }
FP_OP(op_cvtsd2si) { sse_cvt_to_gpr(c, i, CVT_SD2SI, 8); }
FP_OP(op_cvttss2si) { sse_cvt_to_gpr(c, i, CVT_TSS2SI, 4); }
FP_OP(op_cvttsd2si) { sse_cvt_to_gpr(c, i, CVT_TSD2SI, 8); }

/* Shuffles with an immediate */
static void sse_shuf(struct emu_cpu *c, const struct insn *i, void (*fn)(fp_xmm *, const fp_xmm *, uint8_t))
{
    fp_xmm s;
    fp_check_sse(c, i);
    fp_read_W(c, i, &s, 16, true);
    fn(fp_xmm_reg(c, i->reg), &s, (uint8_t)i->imm);
}
FP_OP(op_shufps) { sse_shuf(c, i, sse_shufps); }
FP_OP(op_shufpd) { sse_shuf(c, i, sse_shufpd); }
FP_OP(op_pshufd) { sse_shuf(c, i, sse_pshufd); }
FP_OP(op_pshuflw) { sse_shuf(c, i, sse_pshuflw); }
FP_OP(op_pshufhw) { sse_shuf(c, i, sse_pshufhw); }

/* PSHUFW mm, mm/m64, imm8 (0F 70) */
FP_OP(op_pshufw)
{
    fp_check_mmx(c, i);
    uint64_t s = i->mod == 3 ? 0 : mem_read(c, i, 8);
    mmx_enter(&c->fx);
    if (i->mod == 3)
        s = mmx_read(&c->fx, i->rm);
    mmx_write(&c->fx, i->reg, mmx_pshufw(s, (uint8_t)i->imm));
}

/* Groups 12/13/14 (0F 71/72/73): shifts of the r/m register by imm8. The
 * immediate count goes through the "by register" form, which has the same
 * semantics for every count. */
static const enum sse_op sse_shift_grp[3][8] = {
    /* 71 */ {SSE_OP_COUNT, SSE_OP_COUNT, SSE_PSRLW, SSE_OP_COUNT, SSE_PSRAW, SSE_OP_COUNT, SSE_PSLLW, SSE_OP_COUNT},
    /* 72 */ {SSE_OP_COUNT, SSE_OP_COUNT, SSE_PSRLD, SSE_OP_COUNT, SSE_PSRAD, SSE_OP_COUNT, SSE_PSLLD, SSE_OP_COUNT},
    /* 73 */ {SSE_OP_COUNT, SSE_OP_COUNT, SSE_PSRLQ, SSE_OP_COUNT, SSE_OP_COUNT, SSE_OP_COUNT, SSE_PSLLQ, SSE_OP_COUNT},
};

FP_OP(op_shift_imm_x)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    uint8_t imm = (uint8_t)i->imm;
    if (i->op == 0x73 && (i->nnn == 3 || i->nnn == 7)) {  /* PSRLDQ, PSLLDQ */
        fp_check_sse(c, i);
        if (i->nnn == 3)
            sse_psrldq(fp_xmm_reg(c, i->rm), imm);
        else
            sse_pslldq(fp_xmm_reg(c, i->rm), imm);
        return;
    }
    enum sse_op op = sse_shift_grp[i->op - 0x71][i->nnn];
    if (op == SSE_OP_COUNT)
        emu_raise(c, EXC_UD);
    fp_check_sse(c, i);
    fp_xmm cnt;
    memset(&cnt, 0, sizeof(cnt));
    cnt.q[0] = imm;
    sse_exec(op, fp_xmm_reg(c, i->rm), &cnt, c->fx.mxcsr);
}

FP_OP(op_shift_imm_m)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    enum sse_op op = sse_shift_grp[i->op - 0x71][i->nnn];
    if (op == SSE_OP_COUNT)
        emu_raise(c, EXC_UD);
    fp_check_mmx(c, i);
    mmx_enter(&c->fx);
    unsigned r = i->rm & 7;
    mmx_write(&c->fx, r, mmx_exec(op, mmx_read(&c->fx, r), (uint8_t)i->imm));
}

/* MMX <-> XMM conversions (0F 2A/2C/2D without prefix and with 66). The
 * host runs the XMM form on a copy whose unused lanes are zero (zero
 * converts exactly and raises nothing), so results and flags are those of
 * the MMX form. A register MMX operand makes the x87 -> MMX transition. */

/* CVTPI2PS xmm, mm/m64: two int32 -> low two floats, upper lanes kept */
FP_OP(op_cvtpi2ps)
{
    fp_check_sse(c, i);
    uint64_t s;
    if (i->mod == 3) {
        fp_check_mmx(c, i);
        mmx_enter(&c->fx);
        s = mmx_read(&c->fx, i->rm);
    } else {
        s = mem_read(c, i, 8);
    }
    fp_xmm t, src;
    memset(&src, 0, sizeof(src));
    src.q[0] = s;
    t = src;
    uint32_t fl = sse_exec(SSE_CVTDQ2PS, &t, &src, c->fx.mxcsr);
    fp_sse_flags(c, fl);
    fp_xmm_reg(c, i->reg)->q[0] = t.q[0];
}

/* CVTPI2PD xmm, mm/m64: two int32 -> two doubles (exact) */
FP_OP(op_cvtpi2pd)
{
    fp_check_sse(c, i);
    uint64_t s;
    if (i->mod == 3) {
        fp_check_mmx(c, i);
        mmx_enter(&c->fx);
        s = mmx_read(&c->fx, i->rm);
    } else {
        s = mem_read(c, i, 8);
    }
    fp_xmm t, src;
    memset(&src, 0, sizeof(src));
    src.q[0] = s;
    t = src;
    sse_exec(SSE_CVTDQ2PD, &t, &src, c->fx.mxcsr);
    *fp_xmm_reg(c, i->reg) = t;
}

/* CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128 */
static void sse_cvt_to_mmx(struct emu_cpu *c, const struct insn *i, enum sse_op op, unsigned size, bool align16)
{
    fp_xmm s, t;
    fp_check_sse(c, i);
    fp_check_mmx(c, i);
    fp_read_W(c, i, &s, size, align16);
    if (size == 8)
        s.q[1] = 0;  /* only the low two floats exist */
    t = s;
    uint32_t fl = sse_exec(op, &t, &s, c->fx.mxcsr);
    fp_sse_flags(c, fl);
    mmx_enter(&c->fx);
    mmx_write(&c->fx, i->reg, t.q[0]);
}
FP_OP(op_cvtps2pi) { sse_cvt_to_mmx(c, i, SSE_CVTPS2DQ, 8, false); }
FP_OP(op_cvttps2pi) { sse_cvt_to_mmx(c, i, SSE_CVTTPS2DQ, 8, false); }
FP_OP(op_cvtpd2pi) { sse_cvt_to_mmx(c, i, SSE_CVTPD2DQ, 16, true); }
FP_OP(op_cvttpd2pi) { sse_cvt_to_mmx(c, i, SSE_CVTTPD2DQ, 16, true); }
