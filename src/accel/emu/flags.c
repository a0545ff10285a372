/* Lazy arithmetic flags (how they work: docs/emu.md, "Lazy flags"), the
 * condition codes (Jcc, SETcc, CMOVcc, LOOPcc) and the flag instructions
 * CLC/STC/CMC/CLD/STD/LAHF/SAHF. */
#include "accel/emu/insn.h"

/* The six flags from the record (SDM vol. 1, appendix A). */
uint64_t emu_flags_arith(const struct emu_cpu *c)
{
    const struct emu_lazy_flags *l = &c->lf;
    unsigned size = (l->op >> LF_SIZE_SHIFT) & 15;
    uint64_t a = l->a, b = l->b, res = l->res;
    bool cin = l->op & LF_CIN;
    uint64_t f;
    switch (l->op & LF_KIND) {
    case LF_ADD:
        f = flags_szp(res, size);
        if (cin ? res <= a : res < a)
            f |= RFLAGS_CF;
        f |= (a ^ b ^ res) & RFLAGS_AF;
        if (((a ^ res) & (b ^ res)) & sign_bit(size))
            f |= RFLAGS_OF;
        return f;
    case LF_SUB:
        f = flags_szp(res, size);
        if (cin ? a <= b : a < b)
            f |= RFLAGS_CF;
        f |= (a ^ b ^ res) & RFLAGS_AF;
        if (((a ^ b) & (a ^ res)) & sign_bit(size))
            f |= RFLAGS_OF;
        return f;
    case LF_INC:
        f = flags_szp(res, size) | (b & RFLAGS_CF) | ((a ^ 1 ^ res) & RFLAGS_AF);
        if (res == sign_bit(size))
            f |= RFLAGS_OF;
        return f;
    case LF_DEC:
        f = flags_szp(res, size) | (b & RFLAGS_CF) | ((a ^ 1 ^ res) & RFLAGS_AF);
        if (a == sign_bit(size))
            f |= RFLAGS_OF;
        return f;
    case LF_SZP:
        return flags_szp(res, size) | (b & (RFLAGS_CF | RFLAGS_AF | RFLAGS_OF));
    default:
        return c->rflags & FLAGS_ARITH;
    }
}

bool emu_cond_slow(const struct emu_cpu *c, unsigned cc)
{
    uint64_t f = emu_flags(c);
    bool r;
    switch (cc >> 1) {
    case 0: r = f & RFLAGS_OF; break;                          /* O */
    case 1: r = f & RFLAGS_CF; break;                          /* B/C */
    case 2: r = f & RFLAGS_ZF; break;                          /* E/Z */
    case 3: r = f & (RFLAGS_CF | RFLAGS_ZF); break;            /* BE */
    case 4: r = f & RFLAGS_SF; break;                          /* S */
    case 5: r = f & RFLAGS_PF; break;                          /* P */
    case 6: r = !(f & RFLAGS_SF) != !(f & RFLAGS_OF); break;   /* L */
    default: r = (f & RFLAGS_ZF) || (!(f & RFLAGS_SF) != !(f & RFLAGS_OF)); break; /* LE */
    }
    return (cc & 1) ? !r : r;
}

/* CLC (F8) STC (F9) CMC (F5) CLD (FC) STD (FD) */
OP(op_flag_bits)
{
    emu_flags_sync(c);
    switch (i->op) {
    case 0xf5: c->rflags ^= RFLAGS_CF; break;
    case 0xf8: c->rflags &= ~RFLAGS_CF; break;
    case 0xf9: c->rflags |= RFLAGS_CF; break;
    case 0xfc: c->rflags &= ~RFLAGS_DF; break;
    case 0xfd: c->rflags |= RFLAGS_DF; break;
    }
}

/* LAHF (9F): AH = SF:ZF:0:AF:0:PF:1:CF */
OP(op_lahf)
{
    (void)i;
    uint64_t ah = (emu_flags(c) & (RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | RFLAGS_CF)) | RFLAGS_FIXED;
    c->r[GPR_RAX] = (c->r[GPR_RAX] & ~0xff00ull) | (ah << 8);
}

/* SAHF (9E) */
OP(op_sahf)
{
    (void)i;
    uint64_t ah = (c->r[GPR_RAX] >> 8) & 0xff;
    uint64_t m = RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | RFLAGS_CF;
    emu_flags_sync(c);
    c->rflags = (c->rflags & ~m) | (ah & m);
}
