/* Specialised handlers for the hottest instruction forms, chosen once when
 * an instruction is decoded (emu_specialize, called by emu_dispatch): MOV
 * and the ALU ops between two 32- or 64-bit registers or a register and an
 * immediate (group 1), INC/DEC of a register, MUL r/m32 and r/m64 (the
 * kernel's multiprecision RSA loops: MUL, ADD/ADC, SUB/SBB, INC, JNZ), SHL/SHR/SAR of a 32/64-bit register by 1 or an
 * immediate, MOV, LEA and the ALU ops with a 32/64-bit register and a
 * memory source in 64-bit mode, Jcc in 64-bit mode. They do what the general
 * handlers (data.c, alu.c) do for that form, without deciding again on
 * every execution the operand size, register-or-memory, the byte-register
 * and LOCK rules, and which ALU op it is.
 *
 * The rule for adding one: the form's checks (LOCK, ModRM kind, sizes) are
 * made in emu_specialize, so the handler has none left; anything that
 * depends on CPU state (the mode, for memory forms) is checked in the
 * handler, falling back to the general one. The differential tests run
 * every form through here. */
#include "accel/emu/insn.h"

/* ---- MOV between registers (89, 8B with mod 3) ---- */

static void mov_rr64(struct emu_cpu *c, const struct insn *i, unsigned dst, unsigned src)
{
    (void)i;
    c->r[dst] = c->r[src];
}

static void op_mov_Eq_Gq_rr(struct emu_cpu *c, const struct insn *i) { mov_rr64(c, i, i->rm, i->reg); }
static void op_mov_Gq_Eq_rr(struct emu_cpu *c, const struct insn *i) { mov_rr64(c, i, i->reg, i->rm); }
static void op_mov_Ed_Gd_rr(struct emu_cpu *c, const struct insn *i) { c->r[i->rm] = (uint32_t)c->r[i->reg]; }
static void op_mov_Gd_Ed_rr(struct emu_cpu *c, const struct insn *i) { c->r[i->reg] = (uint32_t)c->r[i->rm]; }

/* ---- MOV between a register and memory, 64-bit mode ---- */

/* Linear address of the memory operand with 64-bit addressing and no FS/GS
 * base (checked by emu_specialize): the offset itself when canonical. */
static inline uint64_t lin64(struct emu_cpu *c, const struct insn *i, unsigned size)
{
    /* insn_ea without the address-size mask (64 bits here), computed once */
    uint64_t ea = (uint64_t)i->disp;
    if (i->ea_base == EA_RIP)
        ea += c->rip + i->len;
    else if (i->ea_base != EA_NONE)
        ea += c->r[i->ea_base];
    if (i->ea_index != EA_NONE)
        ea += c->r[i->ea_index] << i->ea_scale;
    if (c->mode == MODE_LONG64 && emu_canonical(ea))
        return ea;
    return emu_linear(c, i->ea_seg, ea, size);  /* what insn_lin does then */
}

static void op_mov_Gq_M64(struct emu_cpu *c, const struct insn *i)
{
    c->r[i->reg] = emu_read_lin(c, lin64(c, i, 8), 8);
}

static void op_mov_Gd_M64(struct emu_cpu *c, const struct insn *i)
{
    c->r[i->reg] = emu_read_lin(c, lin64(c, i, 4), 4);
}

static void op_mov_M64_Gq(struct emu_cpu *c, const struct insn *i)
{
    emu_write_lin(c, lin64(c, i, 8), 8, c->r[i->reg]);
}

static void op_mov_M64_Gd(struct emu_cpu *c, const struct insn *i)
{
    emu_write_lin(c, lin64(c, i, 4), 4, c->r[i->reg]);
}

/* ---- ALU ops between registers (00..3F Ev,Gv / Gv,Ev with mod 3, 85) ----
 * One handler per (op, size, direction): ADD, OR, ADC, SBB, AND, SUB, XOR,
 * CMP and TEST. A 32-bit result zero-extends. */

#define ALU_RR(name, size, dst, src, expr, kind, write)                         \
    static void name(struct emu_cpu *c, const struct insn *i)                    \
    {                                                                            \
        uint64_t m = mask_of(size);                                              \
        uint64_t a = c->r[i->dst] & m, b = c->r[i->src] & m;                     \
        uint64_t r = (expr) & m;                                                 \
        if (kind == LF_SZP)                                                      \
            flags_lazy_szp(c, size, r, 0);                                       \
        else                                                                     \
            flags_lazy(c, kind, size, a, b, r);                                  \
        if (write)                                                               \
            c->r[i->dst] = r;                                                    \
    }

#define ALU_RR_ALL(op, expr, kind, write)                                        \
    ALU_RR(op_##op##_EGq_rr, 8, rm, reg, expr, kind, write)                      \
    ALU_RR(op_##op##_EGd_rr, 4, rm, reg, expr, kind, write)                      \
    ALU_RR(op_##op##_GEq_rr, 8, reg, rm, expr, kind, write)                      \
    ALU_RR(op_##op##_GEd_rr, 4, reg, rm, expr, kind, write)

ALU_RR_ALL(add, a + b, LF_ADD, true)
ALU_RR_ALL(or, a | b, LF_SZP, true)
ALU_RR_ALL(and, a & b, LF_SZP, true)
ALU_RR_ALL(sub, a - b, LF_SUB, true)
ALU_RR_ALL(xor, a ^ b, LF_SZP, true)
ALU_RR_ALL(cmp, a - b, LF_SUB, false)
/* ADC/SBB: the carry in comes from the lazy record */
#define ADC_RR(name, size, dst, src, sub)                                       \
    static void name(struct emu_cpu *c, const struct insn *i)                    \
    {                                                                            \
        uint64_t m = mask_of(size), cin = emu_flags_cf(c) ? 1 : 0;               \
        uint64_t a = c->r[i->dst] & m, b = c->r[i->src] & m;                     \
        uint64_t r = (sub ? a - b - cin : a + b + cin) & m;                      \
        flags_lazy(c, sub ? LF_SUB : LF_ADD, size, a, b, r);                     \
        c->lf.op |= cin ? LF_CIN : 0;                                            \
        c->r[i->dst] = r;                                                        \
    }

ADC_RR(op_adc_EGq_rr, 8, rm, reg, false)
ADC_RR(op_adc_EGd_rr, 4, rm, reg, false)
ADC_RR(op_adc_GEq_rr, 8, reg, rm, false)
ADC_RR(op_adc_GEd_rr, 4, reg, rm, false)
ADC_RR(op_sbb_EGq_rr, 8, rm, reg, true)
ADC_RR(op_sbb_EGd_rr, 4, rm, reg, true)
ADC_RR(op_sbb_GEq_rr, 8, reg, rm, true)
ADC_RR(op_sbb_GEd_rr, 4, reg, rm, true)

ALU_RR(op_test_EGq_rr, 8, rm, reg, a & b, LF_SZP, false)
ALU_RR(op_test_EGd_rr, 4, rm, reg, a & b, LF_SZP, false)

/* Indexed by the opcode's bits 5:3, then [size 8?][G,E?] */
static const emu_op_fn alu_rr[8][2][2] = {
    { { op_add_EGd_rr, op_add_GEd_rr }, { op_add_EGq_rr, op_add_GEq_rr } },
    { { op_or_EGd_rr, op_or_GEd_rr }, { op_or_EGq_rr, op_or_GEq_rr } },
    { { op_adc_EGd_rr, op_adc_GEd_rr }, { op_adc_EGq_rr, op_adc_GEq_rr } },
    { { op_sbb_EGd_rr, op_sbb_GEd_rr }, { op_sbb_EGq_rr, op_sbb_GEq_rr } },
    { { op_and_EGd_rr, op_and_GEd_rr }, { op_and_EGq_rr, op_and_GEq_rr } },
    { { op_sub_EGd_rr, op_sub_GEd_rr }, { op_sub_EGq_rr, op_sub_GEq_rr } },
    { { op_xor_EGd_rr, op_xor_GEd_rr }, { op_xor_EGq_rr, op_xor_GEq_rr } },
    { { op_cmp_EGd_rr, op_cmp_GEd_rr }, { op_cmp_EGq_rr, op_cmp_GEq_rr } },
};

/* ---- Group 1 with a register (81, 83 with mod 3): op Ev, imm ---- */

#define ALU_RI(name, size, expr, kind, write)                                   \
    static void name(struct emu_cpu *c, const struct insn *i)                    \
    {                                                                            \
        uint64_t m = mask_of(size);                                              \
        uint64_t a = c->r[i->rm] & m, b = i->imm & m;                            \
        uint64_t r = (expr) & m;                                                 \
        if (kind == LF_SZP)                                                      \
            flags_lazy_szp(c, size, r, 0);                                       \
        else                                                                     \
            flags_lazy(c, kind, size, a, b, r);                                  \
        if (write)                                                               \
            c->r[i->rm] = r;                                                     \
    }

#define ALU_RI_BOTH(op, expr, kind, write)                                       \
    ALU_RI(op_##op##_Eq_I_r, 8, expr, kind, write)                               \
    ALU_RI(op_##op##_Ed_I_r, 4, expr, kind, write)

#define ADC_RI(name, size, sub)                                                 \
    static void name(struct emu_cpu *c, const struct insn *i)                    \
    {                                                                            \
        uint64_t m = mask_of(size), cin = emu_flags_cf(c) ? 1 : 0;               \
        uint64_t a = c->r[i->rm] & m, b = i->imm & m;                            \
        uint64_t r = (sub ? a - b - cin : a + b + cin) & m;                      \
        flags_lazy(c, sub ? LF_SUB : LF_ADD, size, a, b, r);                     \
        c->lf.op |= cin ? LF_CIN : 0;                                            \
        c->r[i->rm] = r;                                                         \
    }

ADC_RI(op_adc_Eq_I_r, 8, false)
ADC_RI(op_adc_Ed_I_r, 4, false)
ADC_RI(op_sbb_Eq_I_r, 8, true)
ADC_RI(op_sbb_Ed_I_r, 4, true)

ALU_RI_BOTH(add, a + b, LF_ADD, true)
ALU_RI_BOTH(or, a | b, LF_SZP, true)
ALU_RI_BOTH(and, a & b, LF_SZP, true)
ALU_RI_BOTH(sub, a - b, LF_SUB, true)
ALU_RI_BOTH(xor, a ^ b, LF_SZP, true)
ALU_RI_BOTH(cmp, a - b, LF_SUB, false)

/* [nnn][size 8?] */
static const emu_op_fn alu_ri[8][2] = {
    { op_add_Ed_I_r, op_add_Eq_I_r }, { op_or_Ed_I_r, op_or_Eq_I_r },
    { op_adc_Ed_I_r, op_adc_Eq_I_r }, { op_sbb_Ed_I_r, op_sbb_Eq_I_r },
    { op_and_Ed_I_r, op_and_Eq_I_r }, { op_sub_Ed_I_r, op_sub_Eq_I_r }, { op_xor_Ed_I_r, op_xor_Eq_I_r },
    { op_cmp_Ed_I_r, op_cmp_Eq_I_r },
};

/* ---- ALU ops with a memory source, 64-bit addressing: op Gv, M (03, 0B,
 * ... 3B) and CMP M, Gv (39) ---- */

#define ALU_GM(name, size, expr, kind, write)                                   \
    static void name(struct emu_cpu *c, const struct insn *i)                    \
    {                                                                            \
        uint64_t m = mask_of(size);                                              \
        uint64_t b = emu_read_lin(c, lin64(c, i, size), size);                   \
        uint64_t a = c->r[i->reg] & m;                                           \
        uint64_t r = (expr) & m;                                                 \
        if (kind == LF_SZP)                                                      \
            flags_lazy_szp(c, size, r, 0);                                       \
        else                                                                     \
            flags_lazy(c, kind, size, a, b, r);                                  \
        if (write)                                                               \
            c->r[i->reg] = r;                                                    \
    }

#define ALU_GM_BOTH(op, expr, kind, write)                                       \
    ALU_GM(op_##op##_Gq_M64, 8, expr, kind, write)                               \
    ALU_GM(op_##op##_Gd_M64, 4, expr, kind, write)

ALU_GM_BOTH(add, a + b, LF_ADD, true)
ALU_GM_BOTH(or, a | b, LF_SZP, true)
ALU_GM_BOTH(and, a & b, LF_SZP, true)
ALU_GM_BOTH(sub, a - b, LF_SUB, true)
ALU_GM_BOTH(xor, a ^ b, LF_SZP, true)
ALU_GM_BOTH(cmp, a - b, LF_SUB, false)
/* CMP M, Gv: memory minus register */
static inline void cmp_M_G64(struct emu_cpu *c, const struct insn *i, unsigned size)
{
    uint64_t m = mask_of(size);
    uint64_t a = emu_read_lin(c, lin64(c, i, size), size);
    uint64_t b = c->r[i->reg] & m;
    flags_lazy(c, LF_SUB, size, a, b, (a - b) & m);
}

static void op_cmp_Mq_G64(struct emu_cpu *c, const struct insn *i) { cmp_M_G64(c, i, 8); }
static void op_cmp_Md_G64(struct emu_cpu *c, const struct insn *i) { cmp_M_G64(c, i, 4); }

static const emu_op_fn alu_gm[8][2] = {
    { op_add_Gd_M64, op_add_Gq_M64 }, { op_or_Gd_M64, op_or_Gq_M64 }, { NULL, NULL }, { NULL, NULL },
    { op_and_Gd_M64, op_and_Gq_M64 }, { op_sub_Gd_M64, op_sub_Gq_M64 }, { op_xor_Gd_M64, op_xor_Gq_M64 },
    { op_cmp_Gd_M64, op_cmp_Gq_M64 },
};

/* ---- LEA r64, m with 64-bit addressing (8D) ---- */

static void op_lea_Gq_M64(struct emu_cpu *c, const struct insn *i)
{
    c->r[i->reg] = insn_ea(c, i);
}

/* ---- SHL/SHR/SAR r32/r64 by 1 or imm8 (D1, C1 with mod 3) ----
 * The same results and flags as shift.c's shift_op: a masked count of 0
 * changes no flag (a 32-bit register is still zero-extended); CF is the
 * last bit out, OF the count-1 formula, AF cleared. */

static inline void shift_r(struct emu_cpu *c, const struct insn *i, unsigned size, unsigned count)
{
    unsigned bits = size * 8;
    uint64_t m = mask_of(size), v = c->r[i->rm] & m;
    count &= size == 8 ? 63 : 31;
    if (!count) {
        c->r[i->rm] = v;  /* 64-bit: unchanged; 32-bit: zero-extended */
        return;
    }
    uint64_t res, cf, of;
    switch (i->nnn) {
    case 4: case 6: /* SHL/SAL */
        res = (v << count) & m;
        cf = (v >> (bits - count)) & 1;
        of = (res >> (bits - 1)) ^ cf;
        break;
    case 5: /* SHR */
        res = v >> count;
        cf = (v >> (count - 1)) & 1;
        of = v >> (bits - 1);
        break;
    default: { /* SAR */
        int64_t sv = sext(v, size);
        res = (uint64_t)(sv >> count) & m;
        cf = (uint64_t)(sv >> (count - 1)) & 1;
        of = 0;
        break;
    }
    }
    flags_lazy_szp(c, size, res, (cf ? RFLAGS_CF : 0) | (of ? RFLAGS_OF : 0));
    c->r[i->rm] = res;
}

static void op_shift_Eq_Ib_r(struct emu_cpu *c, const struct insn *i) { shift_r(c, i, 8, (unsigned)i->imm); }
static void op_shift_Ed_Ib_r(struct emu_cpu *c, const struct insn *i) { shift_r(c, i, 4, (unsigned)i->imm); }
static void op_shift_Eq_1_r(struct emu_cpu *c, const struct insn *i) { shift_r(c, i, 8, 1); }
static void op_shift_Ed_1_r(struct emu_cpu *c, const struct insn *i) { shift_r(c, i, 4, 1); }

/* ---- INC/DEC r32/r64 (FF /0, /1 with mod 3): CF kept in the record ---- */

static inline void incdec_r(struct emu_cpu *c, const struct insn *i, unsigned size, bool dec)
{
    uint64_t m = mask_of(size), a = c->r[i->rm] & m;
    uint64_t r = (dec ? a - 1 : a + 1) & m;
    flags_lazy(c, dec ? LF_DEC : LF_INC, size, a, emu_flags_cf(c), r);
    c->r[i->rm] = r;
}

static void op_inc_Eq_r(struct emu_cpu *c, const struct insn *i) { incdec_r(c, i, 8, false); }
static void op_inc_Ed_r(struct emu_cpu *c, const struct insn *i) { incdec_r(c, i, 4, false); }
static void op_dec_Eq_r(struct emu_cpu *c, const struct insn *i) { incdec_r(c, i, 8, true); }
static void op_dec_Ed_r(struct emu_cpu *c, const struct insn *i) { incdec_r(c, i, 4, true); }

/* ---- MUL r/m32, r/m64 (F7 /4): rDX:rAX = rAX * src; CF = OF = (high half
 * != 0); SF/ZF/PF from the low half, AF cleared (as muldiv.c) ---- */

static inline void mul_src(struct emu_cpu *c, unsigned size, uint64_t src)
{
    uint64_t lo, hi;
    if (size == 8) {
        unsigned __int128 p = (unsigned __int128)c->r[GPR_RAX] * src;
        lo = (uint64_t)p;
        hi = (uint64_t)(p >> 64);
    } else {
        uint64_t p = (c->r[GPR_RAX] & 0xffffffffull) * (src & 0xffffffffull);
        lo = p & 0xffffffffull;
        hi = p >> 32;
    }
    c->r[GPR_RAX] = lo;
    c->r[GPR_RDX] = hi;
    flags_lazy_szp(c, size, lo, hi ? (RFLAGS_CF | RFLAGS_OF) : 0);
}

static void op_mul_Eq_r(struct emu_cpu *c, const struct insn *i) { mul_src(c, 8, c->r[i->rm]); }
static void op_mul_Ed_r(struct emu_cpu *c, const struct insn *i) { mul_src(c, 4, c->r[i->rm]); }
static void op_mul_Mq64(struct emu_cpu *c, const struct insn *i) { mul_src(c, 8, emu_read_lin(c, lin64(c, i, 8), 8)); }
static void op_mul_Md64(struct emu_cpu *c, const struct insn *i) { mul_src(c, 4, emu_read_lin(c, lin64(c, i, 4), 4)); }

/* ---- Jcc in 64-bit mode (70..7F, 0F 80..8F; F64: osz 8 only there) ----
 * One handler per condition, so emu_cond's switch on it folds away; the
 * jump is emu_jump's with a 64-bit operand size. */

#define JCC64(cc)                                                               \
    static void op_jcc64_##cc(struct emu_cpu *c, const struct insn *i)           \
    {                                                                            \
        if (emu_cond(c, cc)) {                                                   \
            uint64_t t = c->next_rip + i->imm;                                   \
            if (c->mode == MODE_LONG64 && !emu_canonical(t))                     \
                emu_raise_err(c, EXC_GP, 0);                                     \
            c->next_rip = t;                                                     \
        }                                                                        \
    }

JCC64(0) JCC64(1) JCC64(2) JCC64(3) JCC64(4) JCC64(5) JCC64(6) JCC64(7)
JCC64(8) JCC64(9) JCC64(10) JCC64(11) JCC64(12) JCC64(13) JCC64(14) JCC64(15)

static const emu_op_fn jcc64[16] = {
    op_jcc64_0, op_jcc64_1, op_jcc64_2, op_jcc64_3, op_jcc64_4, op_jcc64_5, op_jcc64_6, op_jcc64_7,
    op_jcc64_8, op_jcc64_9, op_jcc64_10, op_jcc64_11, op_jcc64_12, op_jcc64_13, op_jcc64_14, op_jcc64_15,
};

emu_op_fn emu_specialize(const struct insn *i, emu_op_fn fn)
{
    if (i->osz == 8 && ((i->map == MAP_1BYTE && (i->op & 0xf0) == 0x70) || (i->map == MAP_0F && (i->op & 0xf0) == 0x80)))
        return jcc64[i->op & 15];
    if (i->map != MAP_1BYTE || i->lock || !i->has_modrm || (i->osz != 4 && i->osz != 8))
        return fn;
    bool q = i->osz == 8;
    if (i->mod == 3) {
        switch (i->op) {
        case 0x89: return q ? op_mov_Eq_Gq_rr : op_mov_Ed_Gd_rr;
        case 0x8b: return q ? op_mov_Gq_Eq_rr : op_mov_Gd_Ed_rr;
        case 0x85: return q ? op_test_EGq_rr : op_test_EGd_rr;
        }
        /* 01, 03, 09, 0B, ... 39, 3B: ALU Ev,Gv and Gv,Ev */
        if (i->op < 0x40 && (i->op & 7) <= 3 && (i->op & 1)) {
            emu_op_fn f = alu_rr[(i->op >> 3) & 7][q][(i->op >> 1) & 1];
            return f ? f : fn;
        }
        if (i->op == 0x81 || i->op == 0x83) {
            emu_op_fn f = alu_ri[i->nnn][q];
            return f ? f : fn;
        }
        if (i->op == 0xff && i->nnn <= 1)
            return i->nnn ? (q ? op_dec_Eq_r : op_dec_Ed_r) : (q ? op_inc_Eq_r : op_inc_Ed_r);
        if (i->op == 0xf7 && i->nnn == 4)
            return q ? op_mul_Eq_r : op_mul_Ed_r;
        if ((i->op == 0xc1 || i->op == 0xd1) && i->nnn >= 4) {
            if (i->op == 0xc1)
                return q ? op_shift_Eq_Ib_r : op_shift_Ed_Ib_r;
            return q ? op_shift_Eq_1_r : op_shift_Ed_1_r;
        }
        return fn;
    }
    /* Memory forms: 64-bit addressing, no FS/GS (their base is added by
     * insn_lin's general path) */
    if (i->asz != 8 || i->ea_seg >= SEG_FS)
        return fn;
    switch (i->op) {
    case 0x89: return q ? op_mov_M64_Gq : op_mov_M64_Gd;
    case 0x8b: return q ? op_mov_Gq_M64 : op_mov_Gd_M64;
    case 0x39: return q ? op_cmp_Mq_G64 : op_cmp_Md_G64;
    case 0x8d: return q ? op_lea_Gq_M64 : fn;
    case 0xf7: return i->nnn == 4 ? (q ? op_mul_Mq64 : op_mul_Md64) : fn;
    }
    if (i->op < 0x40 && (i->op & 7) == 3) {
        emu_op_fn f = alu_gm[(i->op >> 3) & 7][q];
        return f ? f : fn;
    }
    return fn;
}
