/* MUL/IMUL/DIV/IDIV (group 3 /4../7), IMUL Gv,Ev[,imm] and the
 * accumulator sign extensions CBW/CWDE/CDQE/CWD/CDQ/CQO.
 *
 * MUL/IMUL set CF=OF when the high half is significant; SF/ZF/PF follow the
 * low half of the result and AF is cleared (undefined in the SDM). DIV and
 * IDIV raise #DE on a zero divisor or a quotient that does not fit, and
 * leave the flags unchanged (undefined). */
#include "accel/emu/insn.h"

void alu_grp3_low(struct emu_cpu *c, const struct insn *i);

static void mul_flags(struct emu_cpu *c, uint64_t lo, bool overflow, unsigned size)
{
    flags_lazy_szp(c, size, lo & mask_of(size), overflow ? (RFLAGS_CF | RFLAGS_OF) : 0);
}

/* Writes a double-width result to AX / DX:AX / EDX:EAX / RDX:RAX. */
static void write_acc2(struct emu_cpu *c, unsigned size, uint64_t lo, uint64_t hi)
{
    if (size == 1) {
        reg_set(c, GPR_RAX, 2, (lo & 0xff) | ((hi & 0xff) << 8));
        return;
    }
    reg_set(c, GPR_RAX, size, lo);
    reg_set(c, GPR_RDX, size, hi);
}

static void op_mul(struct emu_cpu *c, const struct insn *i, unsigned size, bool sign)
{
    uint64_t src = rd_E(c, i, size);
    uint64_t a = size == 1 ? c->r[GPR_RAX] & 0xff : c->r[GPR_RAX] & mask_of(size);
    uint64_t lo, hi;
    bool ovf;
    if (!sign) {
        unsigned __int128 p = (unsigned __int128)a * (src & mask_of(size));
        lo = (uint64_t)p & mask_of(size);
        hi = size == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> (size * 8)) & mask_of(size);
        ovf = hi != 0;
    } else {
        __int128 p = (__int128)sext(a, size) * sext(src, size);
        lo = (uint64_t)p & mask_of(size);
        hi = size == 8 ? (uint64_t)((unsigned __int128)p >> 64) : (uint64_t)(p >> (size * 8)) & mask_of(size);
        ovf = p != (__int128)sext(lo, size);
    }
    write_acc2(c, size, lo, hi);
    mul_flags(c, lo, ovf, size);
}

static void op_div(struct emu_cpu *c, const struct insn *i, unsigned size, bool sign)
{
    uint64_t d = rd_E(c, i, size) & mask_of(size);
    uint64_t lo, hi;
    if (size == 1) {
        lo = c->r[GPR_RAX] & 0xff;
        hi = (c->r[GPR_RAX] >> 8) & 0xff;
    } else {
        lo = c->r[GPR_RAX] & mask_of(size);
        hi = c->r[GPR_RDX] & mask_of(size);
    }
    if (d == 0)
        emu_raise(c, EXC_DE);
    unsigned bits = size * 8;
    uint64_t q, r;
    if (!sign) {
        unsigned __int128 n = size == 8 ? ((unsigned __int128)hi << 64) | lo : ((unsigned __int128)hi << bits) | lo;
        unsigned __int128 qq = n / d;
        if (qq > mask_of(size))
            emu_raise(c, EXC_DE);
        q = (uint64_t)qq;
        r = (uint64_t)(n % d);
    } else {
        __int128 n;
        if (size == 8)
            n = (__int128)(((unsigned __int128)hi << 64) | lo);
        else if (size == 4)
            n = (int64_t)((hi << 32) | lo);
        else if (size == 2)
            n = (int32_t)(uint32_t)((hi << 16) | lo);
        else
            n = (int16_t)(uint16_t)((hi << 8) | lo);
        __int128 dd = sext(d, size);
        /* INT128_MIN / -1 cannot happen: n fits in 2*size bits <= 128 only for
         * size 8, where it is checked by the range test below. */
        if (size == 8 && n == (__int128)(((unsigned __int128)1) << 127) && dd == -1)
            emu_raise(c, EXC_DE);
        __int128 qq = n / dd;
        __int128 rr = n % dd;
        __int128 maxq = ((__int128)1 << (bits - 1)) - 1, minq = -((__int128)1 << (bits - 1));
        if (qq > maxq || qq < minq)
            emu_raise(c, EXC_DE);
        q = (uint64_t)qq & mask_of(size);
        r = (uint64_t)rr & mask_of(size);
    }
    if (size == 1)
        reg_set(c, GPR_RAX, 2, q | (r << 8));
    else {
        reg_set(c, GPR_RAX, size, q);
        reg_set(c, GPR_RDX, size, r);
    }
}

/* Group 3: F6/F7 /0 TEST, /2 NOT, /3 NEG, /4 MUL, /5 IMUL, /6 DIV, /7 IDIV */
OP(op_grp3_E)
{
    unsigned size = osz_bv(i);
    if (i->nnn < 4) {
        alu_grp3_low(c, i);
        return;
    }
    if (i->lock)
        emu_raise(c, EXC_UD);
    switch (i->nnn) {
    case 4: op_mul(c, i, size, false); break;
    case 5: op_mul(c, i, size, true); break;
    case 6: op_div(c, i, size, false); break;
    default: op_div(c, i, size, true); break;
    }
}

static void imul2(struct emu_cpu *c, const struct insn *i, uint64_t a, uint64_t b)
{
    unsigned size = i->osz;
    if (size < 8) {
        /* 16- and 32-bit products fit in 64 bits */
        int64_t p = sext(a, size) * sext(b, size);
        uint64_t lo = (uint64_t)p & mask_of(size);
        wr_G(c, i, size, lo);
        mul_flags(c, lo, p != sext(lo, size), size);
        return;
    }
    __int128 p = (__int128)sext(a, size) * sext(b, size);
    uint64_t lo = (uint64_t)p & mask_of(size);
    wr_G(c, i, size, lo);
    mul_flags(c, lo, p != (__int128)sext(lo, size), size);
}

/* IMUL Gv,Ev (0F AF) */
OP(op_imul_Gv_Ev)
{
    if (i->lock)
        emu_raise(c, EXC_UD);
    imul2(c, i, rd_G(c, i, i->osz), rd_E(c, i, i->osz));
}

/* IMUL Gv,Ev,Iz (69) / IMUL Gv,Ev,Ib (6B) */
OP(op_imul_Gv_Ev_I)
{
    if (i->lock)
        emu_raise(c, EXC_UD);
    imul2(c, i, rd_E(c, i, i->osz), i->imm);
}

/* CBW/CWDE/CDQE (98) */
OP(op_cbw)
{
    unsigned half = i->osz / 2;
    reg_set(c, GPR_RAX, i->osz, (uint64_t)sext(c->r[GPR_RAX], half));
}

/* CWD/CDQ/CQO (99) */
OP(op_cwd)
{
    uint64_t hi = (c->r[GPR_RAX] & sign_bit(i->osz)) ? ~0ull : 0;
    reg_set(c, GPR_RDX, i->osz, hi);
}
