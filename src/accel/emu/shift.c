/* Shifts and rotates: group 2 (ROL/ROR/RCL/RCR/SHL/SHR/SAL/SAR with 1, CL
 * or imm8) and SHLD/SHRD. A masked count of zero changes nothing, flags
 * included. OF is the SDM's count-1 formula for every count (undefined for
 * larger counts); AF is cleared (undefined). */
#include "accel/emu/insn.h"

static uint64_t shift_op(struct emu_cpu *c, unsigned op, uint64_t v, unsigned count, unsigned size)
{
    unsigned bits = size * 8;
    uint64_t m = mask_of(size), sb = sign_bit(size);
    uint64_t res;
    bool cf, of;
    count &= size == 8 ? 63 : 31;
    if (!count)
        return v & m;
    v &= m;
    if (op < 4)
        emu_flags_sync(c);  /* rotates change CF and OF only */
    uint64_t f = c->rflags;
    switch (op) {
    case 0: { /* ROL */
        unsigned n = count % bits;
        res = n ? ((v << n) | (v >> (bits - n))) & m : v;
        cf = res & 1;
        of = !!(res & sb) != cf;
        c->rflags = (f & ~(RFLAGS_CF | RFLAGS_OF)) | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0);
        return res;
    }
    case 1: { /* ROR */
        unsigned n = count % bits;
        res = n ? ((v >> n) | (v << (bits - n))) & m : v;
        cf = res & sb;
        of = !!(res & sb) != !!(res & (sb >> 1));
        c->rflags = (f & ~(RFLAGS_CF | RFLAGS_OF)) | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0);
        return res;
    }
    case 2: { /* RCL: rotate through CF, a (bits+1)-bit rotate */
        unsigned n = count % (bits + 1);
        cf = f & RFLAGS_CF;
        res = v;
        for (unsigned k = 0; k < n; k++) {
            bool out = res & sb;
            res = ((res << 1) | cf) & m;
            cf = out;
        }
        of = !!(res & sb) != cf;
        c->rflags = (f & ~(RFLAGS_CF | RFLAGS_OF)) | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0);
        return res;
    }
    case 3: { /* RCR */
        unsigned n = count % (bits + 1);
        cf = f & RFLAGS_CF;
        of = !!(v & sb) != cf;
        res = v;
        for (unsigned k = 0; k < n; k++) {
            bool out = res & 1;
            res = (res >> 1) | (cf ? sb : 0);
            cf = out;
        }
        c->rflags = (f & ~(RFLAGS_CF | RFLAGS_OF)) | (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0);
        return res;
    }
    case 4: case 6: /* SHL/SAL */
        res = count < 64 ? (v << count) & m : 0;
        cf = count <= bits ? (v >> (bits - count)) & 1 : 0;
        of = !!(res & sb) != cf;
        break;
    case 5: /* SHR */
        res = count < 64 ? v >> count : 0;
        cf = count <= bits ? (v >> (count - 1)) & 1 : 0;
        of = v & sb;
        break;
    default: { /* SAR */
        int64_t s = sext(v, size);
        res = (uint64_t)(s >> (count < bits ? count : bits - 1)) & m;
        cf = (s >> (count - 1 < bits ? count - 1 : bits - 1)) & 1;
        of = false;
        break;
    }
    }
    flags_lazy_szp(c, size, res, (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0));
    return res;
}

/* Reads the E operand of a shift. A memory destination is a read-modify-
 * write: its page is checked for write access first, so a #PF reports the
 * W bit like the CPU does (even when the masked count is 0). */
static uint64_t shift_read_E(struct emu_cpu *c, const struct insn *i, unsigned size, uint64_t *lin)
{
    if (i->mod == 3)
        return reg_read(c, i, i->rm, size);
    *lin = insn_lin(c, i, size);
    void *p = emu_write_ptr(c, *lin, size);
    if (p)
        return emu_ld(p, size);
    (void)emu_rmw_ptr(c, *lin, size); /* write-access check */
    return emu_read_lin(c, *lin, size);
}

/* Writes the result back. A 32-bit register destination is zero-extended
 * even with a masked count of 0 (result = the unchanged value). */
static void shift_write_E(struct emu_cpu *c, const struct insn *i, unsigned size, uint64_t lin, uint64_t v,
                          bool changed)
{
    if (i->mod == 3) {
        if (changed || size == 4)
            reg_write(c, i, i->rm, size, v);
    } else if (changed) {
        emu_write_lin(c, lin, size, v);
    }
}

/* Group 2: C0/C1 E,Ib; D0/D1 E,1; D2/D3 E,CL */
OP(op_grp2_E)
{
    unsigned size = osz_bv(i);
    unsigned count;
    if (i->lock)
        emu_raise(c, EXC_UD);
    if (i->op == 0xc0 || i->op == 0xc1)
        count = (unsigned)i->imm & 0xff;
    else if (i->op == 0xd0 || i->op == 0xd1)
        count = 1;
    else
        count = c->r[GPR_RCX] & 0xff;
    uint64_t lin = 0;
    uint64_t v = shift_read_E(c, i, size, &lin);
    uint64_t r = shift_op(c, i->nnn, v, count, size);
    shift_write_E(c, i, size, lin, r, (count & (size == 8 ? 63 : 31)) != 0);
}

/* SHLD Ev,Gv,Ib/CL (0F A4, 0F A5); SHRD (0F AC, 0F AD) */
OP(op_shld_shrd)
{
    unsigned size = i->osz, bits = size * 8;
    bool left = i->op < 0xa8;
    unsigned count = ((i->op & 1) ? c->r[GPR_RCX] : i->imm) & (size == 8 ? 63 : 31);
    if (i->lock)
        emu_raise(c, EXC_UD);
    uint64_t m = mask_of(size), sb = sign_bit(size);
    uint64_t lin = 0;
    uint64_t d = shift_read_E(c, i, size, &lin), s = rd_G(c, i, size);
    if (!count) {
        shift_write_E(c, i, size, lin, d, false);
        return;
    }
    uint64_t res;
    bool cf;
    if (size == 2 && count > 16) {
        /* Undefined result; hardware shifts a 48-bit d:s:d pattern. */
        unsigned __int128 w = left ? ((unsigned __int128)d << 32) | (s << 16) | d
                                   : ((unsigned __int128)d << 32) | (s << 16) | d;
        if (left) {
            res = (uint64_t)(w >> (32 - count)) & m;
            cf = (uint64_t)(w >> (48 - count)) & 1;
        } else {
            w = ((unsigned __int128)s << 32) | ((unsigned __int128)d << 16) | s;
            w = (w & ~(unsigned __int128)0xffff) | d;
            res = (uint64_t)(w >> count) & m;
            cf = (uint64_t)(w >> (count - 1)) & 1;
        }
    } else if (left) {
        res = ((d << count) | (s >> (bits - count))) & m;
        cf = (d >> (bits - count)) & 1;
    } else {
        res = ((d >> count) | (s << (bits - count))) & m;
        cf = (d >> (count - 1)) & 1;
    }
    bool of = !!((res ^ d) & sb);
    shift_write_E(c, i, size, lin, res, true);
    flags_lazy_szp(c, size, res, (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0));
}
