/* Condition codes (Jcc, SETcc, CMOVcc, LOOPcc) and the flag instructions
 * CLC/STC/CMC/CLD/STD/LAHF/SAHF. */
#include "accel/emu/insn.h"

bool emu_cond(const struct emu_cpu *c, unsigned cc)
{
    uint64_t f = c->rflags;
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
    (void)i;
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
    uint64_t ah = (c->rflags & (RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | RFLAGS_CF)) | RFLAGS_FIXED;
    c->r[GPR_RAX] = (c->r[GPR_RAX] & ~0xff00ull) | (ah << 8);
}

/* SAHF (9E) */
OP(op_sahf)
{
    (void)i;
    uint64_t ah = (c->r[GPR_RAX] >> 8) & 0xff;
    uint64_t m = RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | RFLAGS_CF;
    c->rflags = (c->rflags & ~m) | (ah & m);
}
