/* SSE/SSE2/MMX data movement: MOVxPS/PD, MOVSS/SD, MOVLPS/HPS/..., MOVD,
 * MOVQ, MOVDQA/U, non-temporal stores, MOVMSK, PEXTRW/PINSRW, MASKMOV,
 * EMMS, and the state instructions of 0F AE (FXSAVE, FXRSTOR, LDMXCSR,
 * STMXCSR). Plain C: nothing here has floating-point semantics. */
#include "accel/emu/fp_emu.h"
#include "accel/emu/fp_ops.h"

/* MOVUPS/MOVUPD/MOVDQU/MOVAPS/MOVAPD/MOVDQA load (V <- W) and store
 * (W <- V): 16 bytes, aligned forms check alignment. */
static void sse_mov_load(struct emu_cpu *c, const struct insn *i, bool align16)
{
    fp_xmm s;
    fp_check_sse(c);
    fp_read_W(c, i, &s, 16, align16);
    *fp_xmm_reg(c, i->reg) = s;
}

static void sse_mov_store(struct emu_cpu *c, const struct insn *i, bool align16)
{
    fp_check_sse(c);
    if (i->mod == 3)
        *fp_xmm_reg(c, i->rm) = *fp_xmm_reg(c, i->reg);
    else
        fp_write_M(c, i, fp_xmm_reg(c, i->reg), 16, align16);
}

FP_OP(op_movu_load) { sse_mov_load(c, i, false); }
FP_OP(op_mova_load) { sse_mov_load(c, i, true); }
FP_OP(op_movu_store) { sse_mov_store(c, i, false); }
FP_OP(op_mova_store) { sse_mov_store(c, i, true); }

/* MOVNTPS/MOVNTPD/MOVNTDQ m128, xmm: memory only, aligned. */
FP_OP(op_movnt_store)
{
    if (i->mod == 3)
        emu_raise(c, EXC_UD);
    sse_mov_store(c, i, true);
}

/* MOVSS/MOVSD (F3/F2 0F 10/11): register to register merges the low
 * lane; a load zeroes the rest. */
static void sse_movs(struct emu_cpu *c, const struct insn *i, unsigned size, bool store)
{
    fp_check_sse(c);
    if (i->mod == 3) {
        unsigned dst = store ? i->rm : i->reg, src = store ? i->reg : i->rm;
        memcpy(fp_xmm_reg(c, dst), fp_xmm_reg(c, src), size);
    } else if (store) {
        fp_write_M(c, i, fp_xmm_reg(c, i->reg), size, false);
    } else {
        fp_xmm s;
        fp_read_W(c, i, &s, size, false);
        *fp_xmm_reg(c, i->reg) = s;
    }
}
FP_OP(op_movss_load) { sse_movs(c, i, 4, false); }
FP_OP(op_movss_store) { sse_movs(c, i, 4, true); }
FP_OP(op_movsd_load) { sse_movs(c, i, 8, false); }
FP_OP(op_movsd_store) { sse_movs(c, i, 8, true); }

/* 0F 12/16 (no prefix): MOVLPS/MOVHPS xmm, m64, or MOVHLPS/MOVLHPS
 * xmm, xmm; 66 0F 12/16: MOVLPD/MOVHPD xmm, m64 (memory only). */
static void sse_movlh_load(struct emu_cpu *c, const struct insn *i, unsigned half, bool reg_ok)
{
    fp_check_sse(c);
    fp_xmm *d = fp_xmm_reg(c, i->reg);
    if (i->mod == 3) {
        if (!reg_ok)
            emu_raise(c, EXC_UD);
        /* MOVHLPS: low <- source high; MOVLHPS: high <- source low */
        d->q[half] = fp_xmm_reg(c, i->rm)->q[half ^ 1];
        return;
    }
    uint64_t v = mem_read(c, i, 8);
    d->q[half] = v;
}
FP_OP(op_movlps_load) { sse_movlh_load(c, i, 0, true); }
FP_OP(op_movhps_load) { sse_movlh_load(c, i, 1, true); }
FP_OP(op_movlpd_load) { sse_movlh_load(c, i, 0, false); }
FP_OP(op_movhpd_load) { sse_movlh_load(c, i, 1, false); }

/* 0F 13/17 (and 66): MOVLPS/MOVHPS/MOVLPD/MOVHPD m64, xmm */
static void sse_movlh_store(struct emu_cpu *c, const struct insn *i, unsigned half)
{
    if (i->mod == 3)
        emu_raise(c, EXC_UD);
    fp_check_sse(c);
    mem_write(c, i, 8, fp_xmm_reg(c, i->reg)->q[half]);
}
FP_OP(op_movlp_store) { sse_movlh_store(c, i, 0); }
FP_OP(op_movhp_store) { sse_movlh_store(c, i, 1); }

/* MOVD/MOVQ xmm, r/m32/64 (66 0F 6E): zero-extends to 128 bits. */
FP_OP(op_movd_x_E)
{
    unsigned size = (i->rex & 8) ? 8 : 4;
    fp_check_sse(c);
    uint64_t v = rd_E(c, i, size);
    fp_xmm *d = fp_xmm_reg(c, i->reg);
    d->q[0] = v;
    d->q[1] = 0;
}

/* MOVD/MOVQ r/m32/64, xmm (66 0F 7E) */
FP_OP(op_movd_E_x)
{
    unsigned size = (i->rex & 8) ? 8 : 4;
    fp_check_sse(c);
    wr_E(c, i, size, fp_xmm_reg(c, i->reg)->q[0] & mask_of(size));
}

/* MOVQ xmm, xmm/m64 (F3 0F 7E): zero-extends. */
FP_OP(op_movq_x_W)
{
    fp_xmm s;
    fp_check_sse(c);
    fp_read_W(c, i, &s, 8, false);
    s.q[1] = 0;
    *fp_xmm_reg(c, i->reg) = s;
}

/* MOVQ xmm/m64, xmm (66 0F D6): a register destination is zero-extended. */
FP_OP(op_movq_W_x)
{
    fp_check_sse(c);
    uint64_t v = fp_xmm_reg(c, i->reg)->q[0];
    if (i->mod == 3) {
        fp_xmm *d = fp_xmm_reg(c, i->rm);
        d->q[0] = v;
        d->q[1] = 0;
    } else {
        mem_write(c, i, 8, v);
    }
}

/* MOVD/MOVQ mm, r/m32/64 (0F 6E) */
FP_OP(op_movd_m_E)
{
    unsigned size = (i->rex & 8) ? 8 : 4;
    fp_check_mmx(c);
    uint64_t v = rd_E(c, i, size);
    mmx_enter(&c->fx);
    mmx_write(&c->fx, i->reg, v);
}

/* MOVD/MOVQ r/m32/64, mm (0F 7E) */
FP_OP(op_movd_E_m)
{
    unsigned size = (i->rex & 8) ? 8 : 4;
    fp_check_mmx(c);
    if (i->mod != 3)
        emu_probe_write(c, insn_lin(c, i, size), size, emu_user(c));
    mmx_enter(&c->fx);
    wr_E(c, i, size, mmx_read(&c->fx, i->reg) & mask_of(size));
}

/* MOVQ mm, mm/m64 (0F 6F) */
FP_OP(op_movq_m_Q)
{
    fp_check_mmx(c);
    uint64_t v = i->mod == 3 ? 0 : mem_read(c, i, 8);
    mmx_enter(&c->fx);
    if (i->mod == 3)
        v = mmx_read(&c->fx, i->rm);
    mmx_write(&c->fx, i->reg, v);
}

/* MOVQ mm/m64, mm (0F 7F) and MOVNTQ m64, mm (0F E7) */
static void mmx_store(struct emu_cpu *c, const struct insn *i, bool mem_only)
{
    if (mem_only && i->mod == 3)
        emu_raise(c, EXC_UD);
    fp_check_mmx(c);
    if (i->mod != 3)
        emu_probe_write(c, insn_lin(c, i, 8), 8, emu_user(c));
    mmx_enter(&c->fx);
    uint64_t v = mmx_read(&c->fx, i->reg);
    if (i->mod == 3)
        mmx_write(&c->fx, i->rm, v);
    else
        mem_write(c, i, 8, v);
}
FP_OP(op_movq_Q_m) { mmx_store(c, i, false); }
FP_OP(op_movntq) { mmx_store(c, i, true); }

/* MOVQ2DQ xmm, mm (F3 0F D6) and MOVDQ2Q mm, xmm (F2 0F D6) */
FP_OP(op_movq2dq)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_sse(c);
    fp_check_mmx(c);
    mmx_enter(&c->fx);
    fp_xmm *d = fp_xmm_reg(c, i->reg);
    d->q[0] = mmx_read(&c->fx, i->rm);
    d->q[1] = 0;
}

FP_OP(op_movdq2q)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_sse(c);
    fp_check_mmx(c);
    mmx_enter(&c->fx);
    mmx_write(&c->fx, i->reg, fp_xmm_reg(c, i->rm)->q[0]);
}

/* MOVMSKPS/MOVMSKPD r32, xmm (0F 50, 66 0F 50); PMOVMSKB r32, xmm/mm
 * (66 0F D7, 0F D7). Register operands only. */
FP_OP(op_movmskps)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_sse(c);
    reg_set(c, i->reg, 4, sse_movmskps(fp_xmm_reg(c, i->rm)));
}

FP_OP(op_movmskpd)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_sse(c);
    reg_set(c, i->reg, 4, sse_movmskpd(fp_xmm_reg(c, i->rm)));
}

FP_OP(op_pmovmskb_x)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_sse(c);
    reg_set(c, i->reg, 4, sse_pmovmskb(fp_xmm_reg(c, i->rm), 16));
}

FP_OP(op_pmovmskb_m)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_mmx(c);
    mmx_enter(&c->fx);
    fp_xmm v;
    memset(&v, 0, sizeof(v));
    v.q[0] = mmx_read(&c->fx, i->rm);
    reg_set(c, i->reg, 4, sse_pmovmskb(&v, 8));
}

/* PEXTRW r32, xmm/mm, imm8 (66 0F C5 / 0F C5): register source only. */
FP_OP(op_pextrw_x)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_sse(c);
    reg_set(c, i->reg, 4, fp_xmm_reg(c, i->rm)->w[i->imm & 7]);
}

FP_OP(op_pextrw_m)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_mmx(c);
    mmx_enter(&c->fx);
    reg_set(c, i->reg, 4, (mmx_read(&c->fx, i->rm) >> (16 * (i->imm & 3))) & 0xffff);
}

/* PINSRW xmm/mm, r32/m16, imm8 (66 0F C4 / 0F C4) */
FP_OP(op_pinsrw_x)
{
    fp_check_sse(c);
    uint16_t v = (uint16_t)(i->mod == 3 ? c->r[i->rm] : mem_read(c, i, 2));
    fp_xmm_reg(c, i->reg)->w[i->imm & 7] = v;
}

FP_OP(op_pinsrw_m)
{
    fp_check_mmx(c);
    uint64_t v = (uint16_t)(i->mod == 3 ? c->r[i->rm] : mem_read(c, i, 2));
    mmx_enter(&c->fx);
    unsigned sh = 16 * (i->imm & 3);
    uint64_t r = mmx_read(&c->fx, i->reg);
    mmx_write(&c->fx, i->reg, (r & ~(0xffffull << sh)) | (v << sh));
}

/* MASKMOVDQU xmm, xmm (66 0F F7) / MASKMOVQ mm, mm (0F F7): stores the
 * bytes whose mask byte has its top bit set to DS:rDI. Every selected
 * byte is checked for write access before any is written. */
static void maskmov(struct emu_cpu *c, const uint8_t *data, const uint8_t *mask, unsigned n)
{
    uint64_t rdi = c->r[GPR_RDI] & mask_of(c->mode == MODE_LONG64 ? 8 : 4);
    bool user = emu_user(c);
    uint64_t lin[16];
    for (unsigned k = 0; k < n; k++) {
        if (mask[k] & 0x80) {
            lin[k] = emu_linear(c, SEG_DS, rdi + k, 1);
            emu_probe_write(c, lin[k], 1, user);
        }
    }
    for (unsigned k = 0; k < n; k++)
        if (mask[k] & 0x80)
            emu_write_bytes(c, lin[k], data + k, 1, user);
}

FP_OP(op_maskmovdqu)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_sse(c);
    fp_xmm d = *fp_xmm_reg(c, i->reg), m = *fp_xmm_reg(c, i->rm);
    maskmov(c, d.b, m.b, 16);
}

FP_OP(op_maskmovq)
{
    if (i->mod != 3)
        emu_raise(c, EXC_UD);
    fp_check_mmx(c);
    mmx_enter(&c->fx);
    uint64_t d = mmx_read(&c->fx, i->reg), m = mmx_read(&c->fx, i->rm);
    maskmov(c, (const uint8_t *)&d, (const uint8_t *)&m, 8);
}

/* EMMS (0F 77) */
FP_OP(op_emms)
{
    fp_check_mmx(c);
    mmx_emms(&c->fx);
}

/* 0F AE /0../3 with a memory operand: FXSAVE, FXRSTOR, LDMXCSR, STMXCSR. */
FP_OP(op_grp15_fp)
{
    bool user = emu_user(c);
    bool rex_w = (i->rex & 8) != 0;
    unsigned nx = fp_xmm_count(c);
    unsigned n = 160 + 16 * nx;
    uint8_t img[512];

    switch (i->nnn) {
    case 0: /* FXSAVE */
    case 1: { /* FXRSTOR */
        if (c->cr0 & (CR0_EM | CR0_TS))
            emu_raise(c, EXC_NM);
        uint64_t lin = fp_mem_lin(c, i, 512, true);
        if (i->nnn == 0) {
            emu_probe_write(c, lin, n, user);
            fxsave_store(&c->fx, img, rex_w, nx);
            emu_write_bytes(c, lin, img, n, user);
        } else {
            memset(img, 0, sizeof(img));
            emu_read_bytes(c, lin, img, n, user);
            if (!fxsave_image_valid(img))
                emu_raise_err(c, EXC_GP, 0);
            fxsave_load(&c->fx, img, rex_w, nx);
        }
        return;
    }
    case 2: { /* LDMXCSR m32 */
        fp_check_sse(c);
        uint32_t v = (uint32_t)mem_read(c, i, 4);
        if (v & ~fp_mxcsr_mask())
            emu_raise_err(c, EXC_GP, 0);
        c->fx.mxcsr = v;
        return;
    }
    case 3: /* STMXCSR m32 */
        fp_check_sse(c);
        mem_write(c, i, 4, c->fx.mxcsr);
        return;
    }
    emu_raise(c, EXC_UD);
}
