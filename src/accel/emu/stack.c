/* The stack: PUSH/POP (registers, immediates, memory, segment registers),
 * PUSHF/POPF, ENTER/LEAVE. Memory is written before RSP changes, so a
 * faulting push leaves the state as it was. */
#include "accel/emu/insn.h"

unsigned emu_stack_size(const struct emu_cpu *c)
{
    if (c->mode == MODE_LONG64)
        return 8;
    return c->seg[SEG_SS].db ? 4 : 2;
}

static inline uint64_t sp_get(const struct emu_cpu *c)
{
    return c->r[GPR_RSP] & mask_of(emu_stack_size(c));
}

static inline void sp_set(struct emu_cpu *c, uint64_t v)
{
    reg_set(c, GPR_RSP, emu_stack_size(c), v);
}

/* The general forms of emu_push/emu_peek/emu_pop (insn.h): any stack
 * width, segment bases and limits, non-canonical addresses (#SS). */
void emu_push_slow(struct emu_cpu *c, unsigned size, uint64_t v)
{
    uint64_t sp = (sp_get(c) - size) & mask_of(emu_stack_size(c));
    seg_write(c, SEG_SS, sp, size, v);
    sp_set(c, sp);
}

uint64_t emu_peek_slow(struct emu_cpu *c, unsigned size, unsigned offset)
{
    uint64_t sp = (sp_get(c) + offset) & mask_of(emu_stack_size(c));
    return seg_read(c, SEG_SS, sp, size);
}

uint64_t emu_pop_slow(struct emu_cpu *c, unsigned size)
{
    uint64_t v = emu_peek_slow(c, size, 0);
    sp_set(c, sp_get(c) + size);
    return v;
}

/* PUSH r (50+r) */
OP(op_push_Zv)
{
    emu_push(c, i->osz, c->r[(i->op & 7) | ((i->rex & 1) << 3)]);
}

/* POP r (58+r) */
OP(op_pop_Zv)
{
    unsigned n = (i->op & 7) | ((i->rex & 1) << 3);
    uint64_t v = emu_pop(c, i->osz);
    reg_set(c, n, i->osz, v);
}

/* PUSH Iz (68), PUSH Ib (6A) */
OP(op_push_I)
{
    emu_push(c, i->osz, i->imm);
}

/* PUSH Ev (FF /6), called from group 5 */
void stack_push_Ev(struct emu_cpu *c, const struct insn *i)
{
    emu_push(c, i->osz, rd_E(c, i, i->osz));
}

/* POP Ev (8F /0): RSP is incremented before the destination address is
 * computed (an RSP-based destination sees the new value). */
OP(op_pop_Ev)
{
    if (i->nnn != 0)
        emu_raise(c, EXC_UD);  /* XOP on AMD */
    uint64_t v = emu_peek(c, i->osz, 0);
    uint64_t old_sp = c->r[GPR_RSP];
    sp_set(c, sp_get(c) + i->osz);
    if (i->mod == 3) {
        reg_set(c, i->rm, i->osz, v);
        return;
    }
    jmp_buf jb, *saved = c->jb;
    c->jb = &jb;
    if (setjmp(jb)) {
        c->jb = saved;
        c->r[GPR_RSP] = old_sp;
        longjmp(*saved, 1);
    }
    mem_write(c, i, i->osz, v);
    c->jb = saved;
}

/* The flags PUSHF sees: VM and RF read as zero. */
static uint64_t flags_image(const struct emu_cpu *c)
{
    return (emu_flags(c) & ~(RFLAGS_VM | RFLAGS_RF)) | RFLAGS_FIXED;
}

/* PUSHF/PUSHFD/PUSHFQ (9C) */
OP(op_pushf)
{
    emu_push(c, i->osz, flags_image(c));
}

/* Writes RFLAGS from POPF/IRET: which bits may change depends on CPL and
 * IOPL. */
void emu_write_flags(struct emu_cpu *c, uint64_t v, unsigned size, bool iret)
{
    uint64_t mask = RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_TF |
                    RFLAGS_DF | RFLAGS_OF | RFLAGS_NT | RFLAGS_AC | RFLAGS_ID;
    unsigned iopl = (c->rflags >> 12) & 3;
    if (c->cpl == 0)
        mask |= RFLAGS_IOPL | RFLAGS_IF;
    else if (c->cpl <= iopl)
        mask |= RFLAGS_IF;
    if (iret)
        mask |= RFLAGS_RF;
    if (size == 2)
        mask &= 0xffff;
    emu_flags_sync(c);
    c->rflags = ((c->rflags & ~mask) | (v & mask) | RFLAGS_FIXED) & ~(iret ? 0 : RFLAGS_RF);
}

/* POPF/POPFD/POPFQ (9D) */
OP(op_popf)
{
    uint64_t v = emu_peek(c, i->osz, 0);
    bool was_if = c->rflags & RFLAGS_IF;
    sp_set(c, sp_get(c) + i->osz);
    emu_write_flags(c, v, i->osz, false);
    if (!was_if && (c->rflags & RFLAGS_IF))
        c->exit = EMU_EXIT_KICK;  /* let the loop look at pending interrupts */
}

/* ENTER Iw,Ib (C8) */
OP(op_enter)
{
    unsigned size = i->osz, ss = emu_stack_size(c);
    unsigned level = i->imm2 & 31;
    uint64_t alloc = i->imm & 0xffff;
    uint64_t sp = sp_get(c), bp = c->r[GPR_RBP] & mask_of(ss);
    uint64_t m = mask_of(ss);
    /* Write everything first (faults leave the state unchanged). */
    uint64_t t = (sp - size) & m;
    seg_write(c, SEG_SS, t, size, c->r[GPR_RBP]);
    uint64_t frame = t;
    for (unsigned k = 1; k < level; k++) {
        bp = (bp - size) & m;
        uint64_t v = seg_read(c, SEG_SS, bp, size);
        t = (t - size) & m;
        seg_write(c, SEG_SS, t, size, v);
    }
    if (level > 0) {
        t = (t - size) & m;
        seg_write(c, SEG_SS, t, size, frame);
    }
    uint64_t nsp = (t - alloc) & m;
    if (alloc)
        emu_probe_write(c, emu_linear(c, SEG_SS, nsp, 1), 1, emu_user(c));
    reg_set(c, GPR_RBP, size, frame);
    sp_set(c, nsp);
}

/* LEAVE (C9) */
OP(op_leave)
{
    unsigned ss = emu_stack_size(c);
    uint64_t bp = c->r[GPR_RBP] & mask_of(ss);
    uint64_t v = seg_read(c, SEG_SS, bp, i->osz);
    sp_set(c, bp + i->osz);
    reg_set(c, GPR_RBP, i->osz, v);
}

/* PUSH FS/GS (0F A0, 0F A8), PUSH ES/CS/SS/DS (06, 0E, 16, 1E) */
OP(op_push_Sw)
{
    int seg = i->map == MAP_0F ? (i->op == 0xa0 ? SEG_FS : SEG_GS) : (i->op >> 3) & 3;
    emu_push(c, i->osz, c->seg[seg].selector);
}

/* POP FS/GS (0F A1, 0F A9), POP ES/SS/DS (07, 17, 1F) */
OP(op_pop_Sw)
{
    int seg = i->map == MAP_0F ? (i->op == 0xa1 ? SEG_FS : SEG_GS) : (i->op >> 3) & 3;
    uint16_t sel = (uint16_t)emu_peek(c, i->osz, 0);
    emu_load_seg(c, seg, sel);
    sp_set(c, sp_get(c) + i->osz);
    if (seg == SEG_SS)
        c->intr_shadow = true;
}
