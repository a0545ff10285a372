/* Bit instructions: BT/BTS/BTR/BTC (register and immediate offsets, with
 * the register form's signed offset reaching outside the addressed operand),
 * BSF/BSR, POPCNT, BSWAP.
 *
 * BT*: only CF is defined; the other arithmetic flags are left unchanged.
 * BSF/BSR: ZF=1 and the destination unchanged for a zero source. */
#include "accel/emu/insn.h"

static uint64_t bt_fn(struct emu_cpu *c, uint64_t old, uint64_t bit, unsigned size)
{
    (void)size;
    flags_set(c, RFLAGS_CF, (old >> bit) & 1 ? RFLAGS_CF : 0);
    return old;
}

static uint64_t bts_fn(struct emu_cpu *c, uint64_t old, uint64_t bit, unsigned size)
{
    return bt_fn(c, old, bit, size) | (1ull << bit);
}

static uint64_t btr_fn(struct emu_cpu *c, uint64_t old, uint64_t bit, unsigned size)
{
    return bt_fn(c, old, bit, size) & ~(1ull << bit);
}

static uint64_t btc_fn(struct emu_cpu *c, uint64_t old, uint64_t bit, unsigned size)
{
    return bt_fn(c, old, bit, size) ^ (1ull << bit);
}

static const emu_rmw_fn bt_ops[4] = { bt_fn, bts_fn, btr_fn, btc_fn };

static void bit_op(struct emu_cpu *c, const struct insn *i, unsigned which, uint64_t offset, bool reg_offset)
{
    unsigned size = i->osz, bits = size * 8;
    if (i->lock && (i->mod == 3 || which == 0))
        emu_raise(c, EXC_UD);
    if (i->mod == 3 || !reg_offset) {
        uint64_t bit = offset & (bits - 1);
        if (i->mod == 3) {
            emu_rmw_E(c, i, size, bt_ops[which], bit, which != 0);
        } else {
            uint64_t lin = insn_lin(c, i, size);
            if (which == 0)
                bt_fn(c, emu_read_lin(c, lin, size), bit, size);
            else
                emu_rmw_lin(c, lin, size, bt_ops[which], bit, i->lock);
        }
        return;
    }
    /* Register offset into memory: the signed offset selects the operand. */
    int64_t off = sext(offset, size);
    int64_t unit = off >> (size == 2 ? 4 : size == 4 ? 5 : 6);
    uint64_t ea = (insn_ea(c, i) + (uint64_t)(unit * (int64_t)size)) & mask_of(i->asz);
    uint64_t lin = emu_linear(c, i->ea_seg, ea, size);
    uint64_t bit = (uint64_t)off & (bits - 1);
    if (which == 0)
        bt_fn(c, emu_read_lin(c, lin, size), bit, size);
    else
        emu_rmw_lin(c, lin, size, bt_ops[which], bit, i->lock);
}

/* BT Ev,Gv (0F A3), BTS (0F AB), BTR (0F B3), BTC (0F BB) */
OP(op_bt_Ev_Gv)
{
    unsigned which = i->op == 0xa3 ? 0 : i->op == 0xab ? 1 : i->op == 0xb3 ? 2 : 3;
    bit_op(c, i, which, rd_G(c, i, i->osz), true);
}

/* Group 8: 0F BA /4 BT, /5 BTS, /6 BTR, /7 BTC Ev,Ib */
OP(op_grp8_Ev_Ib)
{
    if (i->nnn < 4)
        emu_raise(c, EXC_UD);
    bit_op(c, i, i->nnn - 4, i->imm & 0xff, false);
}

/* BSF Gv,Ev (0F BC; F3 0F BC is TZCNT only on CPUs that advertise BMI1,
 * which this one does not: there it is BSF) */
OP(op_bsf_Gv_Ev)
{
    uint64_t v = rd_E(c, i, i->osz) & mask_of(i->osz);
    if (i->lock)
        emu_raise(c, EXC_UD);
    if (!v) {
        flags_set(c, RFLAGS_ZF, RFLAGS_ZF);
        return;
    }
    flags_set(c, RFLAGS_ZF, 0);
    wr_G(c, i, i->osz, (uint64_t)__builtin_ctzll(v));
}

/* BSR Gv,Ev (0F BD; LZCNT is not advertised) */
OP(op_bsr_Gv_Ev)
{
    uint64_t v = rd_E(c, i, i->osz) & mask_of(i->osz);
    if (i->lock)
        emu_raise(c, EXC_UD);
    if (!v) {
        flags_set(c, RFLAGS_ZF, RFLAGS_ZF);
        return;
    }
    flags_set(c, RFLAGS_ZF, 0);
    wr_G(c, i, i->osz, (uint64_t)(63 - __builtin_clzll(v)));
}

/* POPCNT Gv,Ev (F3 0F B8): ZF from the source, the other flags cleared */
OP(op_popcnt_Gv_Ev)
{
    if (i->pfx != PFX_F3 || i->lock)
        emu_raise(c, EXC_UD);
    uint64_t v = rd_E(c, i, i->osz) & mask_of(i->osz);
    wr_G(c, i, i->osz, (uint64_t)__builtin_popcountll(v));
    flags_set(c, FLAGS_ARITH, v ? 0 : RFLAGS_ZF);
}

/* BSWAP r32/r64 (0F C8+r); with a 16-bit operand the result is undefined:
 * hardware clears the register's low 16 bits. */
OP(op_bswap_Zv)
{
    unsigned n = (i->op & 7) | ((i->rex & 1) << 3);
    if (i->osz == 8)
        c->r[n] = __builtin_bswap64(c->r[n]);
    else if (i->osz == 4)
        c->r[n] = __builtin_bswap32((uint32_t)c->r[n]);
    else
        c->r[n] &= ~0xffffull;
}
