/* Integer arithmetic and logic: ADD/ADC/SUB/SBB/AND/OR/XOR/CMP/TEST,
 * INC/DEC/NEG/NOT, and the read-modify-write helper with LOCK support.
 *
 * Flags are lazy (flags.c): each operation records its operands and
 * result; the undefined AF of the logic ops reads as cleared, as on Intel
 * CPUs. */
#include <errno.h>

#include "accel/emu/insn.h"

uint64_t alu_add(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size)
{
    uint64_t m = mask_of(size);
    a &= m;
    b &= m;
    uint64_t res = (a + b) & m;
    flags_lazy(c, LF_ADD, size, a, b, res);
    return res;
}

uint64_t alu_adc(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size)
{
    uint64_t m = mask_of(size);
    uint64_t cin = emu_flags_cf(c) ? 1 : 0;
    a &= m;
    b &= m;
    uint64_t res = (a + b + cin) & m;
    flags_lazy(c, LF_ADD, size, a, b, res);
    if (cin)
        c->lf.op |= LF_CIN;
    return res;
}

uint64_t alu_sub(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size)
{
    uint64_t m = mask_of(size);
    a &= m;
    b &= m;
    uint64_t res = (a - b) & m;
    flags_lazy(c, LF_SUB, size, a, b, res);
    return res;
}

uint64_t alu_sbb(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size)
{
    uint64_t m = mask_of(size);
    uint64_t cin = emu_flags_cf(c) ? 1 : 0;
    a &= m;
    b &= m;
    uint64_t res = (a - b - cin) & m;
    flags_lazy(c, LF_SUB, size, a, b, res);
    if (cin)
        c->lf.op |= LF_CIN;
    return res;
}

/* AND/OR/XOR/TEST: CF = OF = 0, AF cleared (undefined) */
static inline uint64_t logic(struct emu_cpu *c, uint64_t res, unsigned size)
{
    res &= mask_of(size);
    flags_lazy_szp(c, size, res, 0);
    return res;
}

uint64_t alu_and(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size) { return logic(c, a & b, size); }
uint64_t alu_or(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size) { return logic(c, a | b, size); }
uint64_t alu_xor(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size) { return logic(c, a ^ b, size); }

/* INC/DEC keep CF: the record carries it. */
static uint64_t alu_inc(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size)
{
    (void)b;
    uint64_t m = mask_of(size);
    a &= m;
    uint64_t res = (a + 1) & m;
    flags_lazy(c, LF_INC, size, a, emu_flags_cf(c), res);
    return res;
}

static uint64_t alu_dec(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size)
{
    (void)b;
    uint64_t m = mask_of(size);
    a &= m;
    uint64_t res = (a - 1) & m;
    flags_lazy(c, LF_DEC, size, a, emu_flags_cf(c), res);
    return res;
}

static uint64_t alu_neg(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size)
{
    (void)b;
    return alu_sub(c, 0, a, size);  /* CF = (a != 0), as SUB's borrow */
}

static uint64_t alu_not(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned size)
{
    (void)c;
    (void)b;
    return ~a & mask_of(size);
}

/* The ALU ops in the order of the opcode's bits 5:3 and group 1's /n. */
static const emu_rmw_fn alu_ops[8] = {
    alu_add, alu_or, alu_adc, alu_sbb, alu_and, alu_sub, alu_xor, alu_sub /* CMP */,
};

/* The same as alu_ops[n](c, a, b, size), as a switch the compiler inlines
 * into the hot handlers (no indirect call per ALU instruction). */
static inline uint64_t alu_do(struct emu_cpu *c, unsigned n, uint64_t a, uint64_t b, unsigned size)
{
    switch (n) {
    case 0: return alu_add(c, a, b, size);
    case 1: return logic(c, a | b, size);
    case 2: return alu_adc(c, a, b, size);
    case 3: return alu_sbb(c, a, b, size);
    case 4: return logic(c, a & b, size);
    case 6: return logic(c, a ^ b, size);
    default: return alu_sub(c, a, b, size);  /* SUB, CMP */
    }
}

/* ---- read-modify-write with LOCK ---- */

static bool cas(void *p, unsigned size, uint64_t *expected, uint64_t desired)
{
    switch (size) {
    case 1: { uint8_t e = (uint8_t)*expected;
        bool ok = __atomic_compare_exchange_n((uint8_t *)p, &e, (uint8_t)desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        *expected = e; return ok; }
    case 2: { uint16_t e = (uint16_t)*expected;
        bool ok = __atomic_compare_exchange_n((uint16_t *)p, &e, (uint16_t)desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        *expected = e; return ok; }
    case 4: { uint32_t e = (uint32_t)*expected;
        bool ok = __atomic_compare_exchange_n((uint32_t *)p, &e, (uint32_t)desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        *expected = e; return ok; }
    default: {
        uint64_t e = *expected;
        bool ok = __atomic_compare_exchange_n((uint64_t *)p, &e, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        *expected = e; return ok; }
    }
}

uint64_t emu_rmw_lin(struct emu_cpu *c, uint64_t lin, unsigned size, emu_rmw_fn fn, uint64_t src, bool lock)
{
    uint8_t *p;
    if (!lock && (p = emu_write_ptr(c, lin, size))) {
        /* TLB hit, unlocked: the common case */
        uint64_t old = emu_ld(p, size);
        emu_st(p, size, fn(c, old, src, size));
        return old;
    }
    p = emu_rmw_ptr(c, lin, size);
    if (p && lock && ((uintptr_t)p & (size - 1)) == 0) {
        uint64_t old = emu_ld(p, size);
        /* fn may read the flags (ADC, INC's CF): each try starts from
         * the flags of before the first. */
        uint64_t saved = c->rflags;
        struct emu_lazy_flags saved_lf = c->lf;
        for (;;) {
            uint64_t nv = fn(c, old, src, size);
            if (cas(p, size, &old, nv))
                return old;
            c->rflags = saved;
            c->lf = saved_lf;
        }
    }
    if (lock && c->split_lock)
        pthread_mutex_lock(c->split_lock);
    uint64_t old, nv;
    if (p) {
        old = emu_ld(p, size);
        nv = fn(c, old, src, size);
        emu_st(p, size, nv);
    } else {
        /* Permission was checked for every byte: these cannot fault. */
        old = emu_read_lin(c, lin, size);
        nv = fn(c, old, src, size);
        emu_write_lin(c, lin, size, nv);
    }
    if (lock && c->split_lock)
        pthread_mutex_unlock(c->split_lock);
    return old;
}

uint64_t emu_rmw_E(struct emu_cpu *c, const struct insn *i, unsigned size, emu_rmw_fn fn, uint64_t src, bool write)
{
    if (i->mod == 3) {
        uint64_t old = reg_read(c, i, i->rm, size);
        uint64_t nv = fn(c, old, src, size);
        if (write)
            reg_write(c, i, i->rm, size, nv);
        return old;
    }
    uint64_t lin = insn_lin(c, i, size);
    if (!write) {
        uint64_t old = emu_read_lin(c, lin, size);
        fn(c, old, src, size);
        return old;
    }
    return emu_rmw_lin(c, lin, size, fn, src, i->lock);
}

/* Raises #UD for LOCK on an instruction that does not allow it. */
static inline void no_lock(struct emu_cpu *c, const struct insn *i)
{
    if (i->lock)
        emu_raise(c, EXC_UD);
}

/* op n (alu_ops order) on the E operand with src: register, memory
 * (TLB fast path inline, the rest through emu_rmw_lin), CMP only reads. */
static inline __attribute__((always_inline)) void alu_E(struct emu_cpu *c, const struct insn *i, unsigned n, unsigned size, uint64_t src)
{
    if (i->mod == 3) {
        uint64_t r = alu_do(c, n, reg_read(c, i, i->rm, size), src, size);
        if (n != 7)
            reg_write(c, i, i->rm, size, r);
        return;
    }
    uint64_t lin = insn_lin(c, i, size);
    if (n == 7) {
        alu_do(c, n, emu_read_lin(c, lin, size), src, size);
        return;
    }
    uint8_t *p;
    if (!i->lock && (p = emu_write_ptr(c, lin, size))) {
        emu_st(p, size, alu_do(c, n, emu_ld(p, size), src, size));
        return;
    }
    emu_rmw_lin(c, lin, size, alu_ops[n], src, i->lock);
}

/* ADD/OR/ADC/SBB/AND/SUB/XOR/CMP Eb,Gb / Ev,Gv (00, 01, 08, 09, ...) */
OP(op_alu_E_G)
{
    unsigned size = osz_bv(i), n = (i->op >> 3) & 7;
    emu_check_lock(c, i);
    if (n == 7)
        no_lock(c, i);
    alu_E(c, i, n, size, rd_G(c, i, size));
}

/* ... Gb,Eb / Gv,Ev (02, 03, 0A, 0B, ...) */
OP(op_alu_G_E)
{
    unsigned size = osz_bv(i), n = (i->op >> 3) & 7;
    no_lock(c, i);
    uint64_t r = alu_do(c, n, rd_G(c, i, size), rd_E(c, i, size), size);
    if (n != 7)
        wr_G(c, i, size, r);
}

/* ... AL,Ib / rAX,Iz (04, 05, 0C, 0D, ...) */
OP(op_alu_A_I)
{
    unsigned size = osz_bv(i), n = (i->op >> 3) & 7;
    no_lock(c, i);
    uint64_t r = alu_do(c, n, reg_read(c, i, GPR_RAX, size), i->imm, size);
    if (n != 7)
        reg_set(c, GPR_RAX, size, r);
}

/* Group 1: 80 Eb,Ib / 81 Ev,Iz / 83 Ev,Ib */
OP(op_grp1_E_I)
{
    unsigned size = osz_bv(i), n = i->nnn;
    emu_check_lock(c, i);
    if (n == 7)
        no_lock(c, i);
    alu_E(c, i, n, size, i->imm);
}

/* TEST Eb,Gb / Ev,Gv (84, 85) */
OP(op_test_E_G)
{
    unsigned size = osz_bv(i);
    no_lock(c, i);
    alu_and(c, rd_E(c, i, size), rd_G(c, i, size), size);
}

/* TEST AL,Ib / rAX,Iz (A8, A9) */
OP(op_test_A_I)
{
    unsigned size = osz_bv(i);
    no_lock(c, i);
    alu_and(c, c->r[GPR_RAX], i->imm, size);
}

/* INC/DEC r16/r32 (40..4F, not in 64-bit mode) */
OP(op_incdec_Zv)
{
    unsigned n = i->op & 7;
    no_lock(c, i);
    uint64_t v = reg_read(c, i, n, i->osz);
    v = (i->op & 8) ? alu_dec(c, v, 0, i->osz) : alu_inc(c, v, 0, i->osz);
    reg_set(c, n, i->osz, v);
}

/* Group 4: FE /0 INC Eb, /1 DEC Eb */
OP(op_grp4_Eb)
{
    if (i->nnn > 1)
        emu_raise(c, EXC_UD);
    emu_check_lock(c, i);
    emu_rmw_E(c, i, 1, i->nnn ? alu_dec : alu_inc, 0, true);
}

/* FF /0 INC Ev, /1 DEC Ev (called from the group 5 handler) */
void alu_incdec_Ev(struct emu_cpu *c, const struct insn *i)
{
    emu_check_lock(c, i);
    emu_rmw_E(c, i, i->osz, i->nnn ? alu_dec : alu_inc, 0, true);
}

/* F6/F7 /0,/1 TEST E,I; /2 NOT; /3 NEG (the rest is in muldiv.c) */
void alu_grp3_low(struct emu_cpu *c, const struct insn *i)
{
    unsigned size = osz_bv(i);
    switch (i->nnn) {
    case 0: case 1: /* TEST */
        no_lock(c, i);
        alu_and(c, rd_E(c, i, size), i->imm, size);
        break;
    case 2: /* NOT */
        emu_check_lock(c, i);
        emu_rmw_E(c, i, size, alu_not, 0, true);
        break;
    case 3: /* NEG */
        emu_check_lock(c, i);
        emu_rmw_E(c, i, size, alu_neg, 0, true);
        break;
    }
}

/* ---- XADD, CMPXCHG ---- */

/* XADD Eb,Gb / Ev,Gv (0F C0, 0F C1) */
OP(op_xadd_E_G)
{
    unsigned size = osz_bv(i);
    emu_check_lock(c, i);
    uint64_t src = rd_G(c, i, size);
    uint64_t old = emu_rmw_E(c, i, size, alu_add, src, true);
    /* For XADD reg,reg with the same register, the sum wins: write G first. */
    if (i->mod == 3 && i->rm == i->reg) {
        uint64_t sum = (old + src) & mask_of(size);
        wr_G(c, i, size, old);
        reg_write(c, i, i->rm, size, sum);
    } else {
        wr_G(c, i, size, old);
    }
}

/* The compare of CMPXCHG is CMP acc, dest; the swap needs the accumulator,
 * which is passed through c (the handler runs on this thread only). */
static uint64_t cmpxchg_fn(struct emu_cpu *c, uint64_t old, uint64_t src, unsigned size)
{
    uint64_t acc = c->r[GPR_RAX] & mask_of(size);
    alu_sub(c, acc, old, size);
    return (acc == (old & mask_of(size))) ? src : old;
}

/* CMPXCHG Eb,Gb / Ev,Gv (0F B0, 0F B1) */
OP(op_cmpxchg_E_G)
{
    unsigned size = osz_bv(i);
    emu_check_lock(c, i);
    uint64_t src = rd_G(c, i, size);
    uint64_t acc = c->r[GPR_RAX] & mask_of(size);
    uint64_t old;
    if (i->mod == 3) {
        old = reg_read(c, i, i->rm, size);
        alu_sub(c, acc, old, size);
        if (acc == old)
            reg_write(c, i, i->rm, size, src);
    } else {
        /* The memory operand is always written (the old value when unequal). */
        old = emu_rmw_lin(c, insn_lin(c, i, size), size, cmpxchg_fn, src, i->lock);
    }
    if (acc != old)
        reg_set(c, GPR_RAX, size, old);
}

/* Group 9 /1: CMPXCHG8B Mq / CMPXCHG16B Mdq (0F C7 /1) */
void alu_cmpxchg8b16b(struct emu_cpu *c, const struct insn *i)
{
    if (i->mod == 3)
        emu_raise(c, EXC_UD);
    if (i->osz == 8) {
        uint64_t lin = insn_lin_align16(c, i, 16);
        unsigned __int128 expect = ((unsigned __int128)c->r[GPR_RDX] << 64) | c->r[GPR_RAX];
        unsigned __int128 desired = ((unsigned __int128)c->r[GPR_RCX] << 64) | c->r[GPR_RBX];
        uint8_t *p = emu_rmw_ptr(c, lin, 16);
        unsigned __int128 old;
        bool ok;
        if (p) {
            /* One host lock for 16-byte atomics: the split lock keeps it
             * simple and correct (GCC's 16-byte CAS may need libatomic). */
            if (c->split_lock)
                pthread_mutex_lock(c->split_lock);
            memcpy(&old, p, 16);
            ok = old == expect;
            memcpy(p, ok ? &desired : &old, 16);
            if (c->split_lock)
                pthread_mutex_unlock(c->split_lock);
        } else {
            uint8_t buf[16];
            if (c->split_lock)
                pthread_mutex_lock(c->split_lock);
            emu_read_bytes(c, lin, buf, 16, emu_user(c));
            memcpy(&old, buf, 16);
            ok = old == expect;
            emu_write_bytes(c, lin, ok ? (void *)&desired : (void *)&old, 16, emu_user(c));
            if (c->split_lock)
                pthread_mutex_unlock(c->split_lock);
        }
        flags_set(c, RFLAGS_ZF, ok ? RFLAGS_ZF : 0);
        if (!ok) {
            c->r[GPR_RAX] = (uint64_t)old;
            c->r[GPR_RDX] = (uint64_t)(old >> 64);
        }
        return;
    }
    uint64_t lin = insn_lin(c, i, 8);
    uint64_t expect = (c->r[GPR_RDX] << 32) | (c->r[GPR_RAX] & 0xffffffff);
    uint64_t desired = (c->r[GPR_RCX] << 32) | (c->r[GPR_RBX] & 0xffffffff);
    uint8_t *p = emu_rmw_ptr(c, lin, 8);
    uint64_t old;
    bool ok;
    if (p && ((uintptr_t)p & 7) == 0) {
        old = expect;
        ok = __atomic_compare_exchange_n((uint64_t *)p, &old, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    } else {
        if (c->split_lock)
            pthread_mutex_lock(c->split_lock);
        old = emu_read_lin(c, lin, 8);
        ok = old == expect;
        emu_write_lin(c, lin, 8, ok ? desired : old);
        if (c->split_lock)
            pthread_mutex_unlock(c->split_lock);
    }
    flags_set(c, RFLAGS_ZF, ok ? RFLAGS_ZF : 0);
    if (!ok) {
        c->r[GPR_RAX] = old & 0xffffffff;
        c->r[GPR_RDX] = old >> 32;
    }
}
