/* Data movement: MOV (all integer forms), MOVZX/MOVSX/MOVSXD, LEA, XCHG,
 * CMOVcc, SETcc, XLAT, and the NOP forms. */
#include "accel/emu/insn.h"

void legacy_arpl(struct emu_cpu *c, const struct insn *i);

static inline void no_lock(struct emu_cpu *c, const struct insn *i)
{
    if (i->lock)
        emu_raise(c, EXC_UD);
}

/* MOV Eb,Gb / Ev,Gv (88, 89) */
OP(op_mov_E_G)
{
    unsigned size = osz_bv(i);
    no_lock(c, i);
    wr_E(c, i, size, rd_G(c, i, size));
}

/* MOV Gb,Eb / Gv,Ev (8A, 8B) */
OP(op_mov_G_E)
{
    unsigned size = osz_bv(i);
    no_lock(c, i);
    wr_G(c, i, size, rd_E(c, i, size));
}

/* MOV Eb,Ib / Ev,Iz (C6 /0, C7 /0) */
OP(op_mov_E_I)
{
    if (i->nnn != 0)
        emu_raise(c, EXC_UD);  /* C6/C7 F8 are XABORT/XBEGIN: no RTM */
    no_lock(c, i);
    wr_E(c, i, osz_bv(i), i->imm);
}

/* MOV r8,Ib (B0+r) */
OP(op_mov_Zb_Ib)
{
    reg_write(c, i, (i->op & 7) | ((i->rex & 1) << 3), 1, i->imm);
}

/* MOV r,Iv (B8+r) */
OP(op_mov_Zv_Iv)
{
    reg_set(c, (i->op & 7) | ((i->rex & 1) << 3), i->osz, i->imm);
}

/* MOV AL/rAX,moffs (A0, A1); MOV moffs,AL/rAX (A2, A3) */
OP(op_mov_moffs)
{
    unsigned size = osz_bv(i);
    int seg = i->seg_override >= 0 ? i->seg_override : SEG_DS;
    uint64_t off = i->imm & mask_of(i->asz);
    no_lock(c, i);
    if (i->op < 0xa2)
        reg_set(c, GPR_RAX, size, seg_read(c, seg, off, size));
    else
        seg_write(c, seg, off, size, c->r[GPR_RAX]);
}

/* LEA Gv,M (8D) */
OP(op_lea_Gv_M)
{
    if (i->mod == 3)
        emu_raise(c, EXC_UD);
    no_lock(c, i);
    wr_G(c, i, i->osz, insn_ea(c, i));
}

/* MOVZX Gv,Eb / Gv,Ew (0F B6, 0F B7) */
OP(op_movzx_Gv_E)
{
    unsigned src = i->op & 1 ? 2 : 1;
    no_lock(c, i);
    wr_G(c, i, i->osz, rd_E(c, i, src));
}

/* MOVSX Gv,Eb / Gv,Ew (0F BE, 0F BF) */
OP(op_movsx_Gv_E)
{
    unsigned src = i->op & 1 ? 2 : 1;
    no_lock(c, i);
    wr_G(c, i, i->osz, (uint64_t)sext(rd_E(c, i, src), src));
}

/* MOVSXD Gv,Ed (63 in 64-bit mode); without REX.W it is a plain MOV */
OP(op_movsxd_Gv_Ed)
{
    if (c->mode != MODE_LONG64) {
        legacy_arpl(c, i);
        return;
    }
    no_lock(c, i);
    unsigned src = i->osz == 2 ? 2 : 4;
    wr_G(c, i, i->osz, (uint64_t)sext(rd_E(c, i, src), src));
}

static uint64_t xchg_fn(struct emu_cpu *c, uint64_t old, uint64_t src, unsigned size)
{
    (void)c;
    (void)old;
    (void)size;
    return src;
}

/* XCHG Eb,Gb / Ev,Gv (86, 87): always locked with a memory operand */
OP(op_xchg_E_G)
{
    unsigned size = osz_bv(i);
    if (i->lock && i->mod == 3)
        emu_raise(c, EXC_UD);
    uint64_t g = rd_G(c, i, size);
    if (i->mod == 3) {
        uint64_t e = reg_read(c, i, i->rm, size);
        reg_write(c, i, i->rm, size, g);
        wr_G(c, i, size, e);
        return;
    }
    uint64_t old = emu_rmw_lin(c, insn_lin(c, i, size), size, xchg_fn, g, true);
    wr_G(c, i, size, old);
}

/* XCHG r,rAX (90+r); 90 without REX.B is NOP, F3 90 is PAUSE */
OP(op_xchg_Zv_rAX)
{
    unsigned n = (i->op & 7) | ((i->rex & 1) << 3);
    no_lock(c, i);
    if (n == 0) {
        /* 90 is NOP (not "xchg eax,eax" zeroing the top half). F3 90 is
         * PAUSE: a spin-wait, so let the engine look at events now. */
        if (i->rep == 0xf3)
            c->exit = EMU_EXIT_KICK;
        return;
    }
    uint64_t a = c->r[GPR_RAX];
    reg_set(c, GPR_RAX, i->osz, c->r[n]);
    reg_set(c, n, i->osz, a);
}

/* CMOVcc Gv,Ev (0F 40..4F): the source is read (and may fault) and a
 * 32-bit destination is zero-extended even when the condition is false */
OP(op_cmovcc_Gv_Ev)
{
    no_lock(c, i);
    uint64_t v = rd_E(c, i, i->osz);
    if (emu_cond(c, i->op & 15))
        wr_G(c, i, i->osz, v);
    else if (i->osz == 4)
        c->r[i->reg] &= 0xffffffff;
}

/* SETcc Eb (0F 90..9F) */
OP(op_setcc_Eb)
{
    no_lock(c, i);
    wr_E(c, i, 1, emu_cond(c, i->op & 15));
}

/* XLAT (D7): AL = [seg:rBX + AL] */
OP(op_xlat)
{
    int seg = i->seg_override >= 0 ? i->seg_override : SEG_DS;
    uint64_t off = (c->r[GPR_RBX] + (c->r[GPR_RAX] & 0xff)) & mask_of(i->asz);
    reg_set(c, GPR_RAX, 1, seg_read(c, seg, off, 1));
}

/* NOP Ev (0F 1F), hint NOPs (0F 19..1E), PREFETCH (0F 18, 0F 0D) */
OP(op_nop_Ev)
{
    no_lock(c, i);
    (void)c;
}

/* NOP (single-byte forms that need no operand: PAUSE is 90 with F3) */
OP(op_nop)
{
    (void)c;
    (void)i;
}
