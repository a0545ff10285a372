/* Control transfers: Jcc, JMP, CALL, RET (near, far, indirect), LOOP/
 * LOOPcc/JrCXZ. Near targets wrap to the operand size; in 64-bit mode a
 * non-canonical target raises #GP(0) at the branch. */
#include "accel/emu/insn.h"

void emu_jump(struct emu_cpu *c, uint64_t target, unsigned osz)
{
    if (osz == 2)
        target &= 0xffff;
    else if (osz == 4)
        target &= 0xffffffff;
    if (c->mode == MODE_LONG64 && !emu_canonical(target))
        emu_raise_err(c, EXC_GP, 0);
    c->next_rip = target;
}

/* Jcc Jb (70..7F), Jcc Jz (0F 80..8F) */
OP(op_jcc_J)
{
    if (emu_cond(c, i->op & 15))
        emu_jump(c, c->next_rip + i->imm, i->osz);
}

/* JMP Jb (EB), JMP Jz (E9) */
OP(op_jmp_J)
{
    emu_jump(c, c->next_rip + i->imm, i->osz);
}

/* CALL Jz (E8) */
OP(op_call_J)
{
    uint64_t ret = c->next_rip;
    uint64_t target = c->next_rip + i->imm;
    emu_jump(c, target, i->osz);
    emu_push(c, i->osz, ret);
}

/* RET (C3), RET Iw (C2) */
OP(op_ret)
{
    uint64_t target = emu_peek(c, i->osz, 0);
    emu_jump(c, target, i->osz);
    unsigned ss = emu_stack_size(c);
    uint64_t sp = (c->r[GPR_RSP] + i->osz + (i->op == 0xc2 ? i->imm : 0)) & mask_of(ss);
    reg_set(c, GPR_RSP, ss, sp);
}

/* LOOPNE (E0), LOOPE (E1), LOOP (E2), JrCXZ (E3) */
OP(op_loop_Jb)
{
    uint64_t m = mask_of(i->asz);
    uint64_t cx = c->r[GPR_RCX] & m;
    bool take;
    if (i->op == 0xe3) {
        take = cx == 0;
    } else {
        cx = (cx - 1) & m;
        reg_set(c, GPR_RCX, i->asz, cx);
        take = cx != 0;
        if (i->op == 0xe0)
            take = take && !emu_cond(c, 4);  /* NZ */
        else if (i->op == 0xe1)
            take = take && emu_cond(c, 4);   /* Z */
    }
    if (take)
        emu_jump(c, c->next_rip + i->imm, i->osz);
}

/* FF /2 CALL Ev (near indirect) */
static void call_Ev(struct emu_cpu *c, const struct insn *i)
{
    uint64_t target = rd_E(c, i, i->osz);
    uint64_t ret = c->next_rip;
    emu_jump(c, target, i->osz);
    emu_push(c, i->osz, ret);
}

/* FF /4 JMP Ev (near indirect) */
static void jmp_Ev(struct emu_cpu *c, const struct insn *i)
{
    emu_jump(c, rd_E(c, i, i->osz), i->osz);
}

/* Far JMP/CALL to sel:off, without call gates (the only far transfers the
 * boot paths and Linux use). */
static void far_transfer(struct emu_cpu *c, uint16_t sel, uint64_t off, unsigned osz, bool call)
{
    if (c->mode == MODE_REAL) {
        if (call) {
            emu_push(c, osz, c->seg[SEG_CS].selector);
            emu_push(c, osz, c->next_rip);
        }
        emu_load_seg_real(c, SEG_CS, sel);
        c->next_rip = off & mask_of(osz);
        emu_update_mode(c);
        return;
    }
    uint64_t old_cs = c->seg[SEG_CS].selector, ret = c->next_rip;
    struct cpu_segment saved = c->seg[SEG_CS];
    uint8_t saved_mode = c->mode;
    uint64_t saved_sp = c->r[GPR_RSP];
    emu_load_cs(c, sel, c->cpl);
    jmp_buf jb, *outer = c->jb;
    c->jb = &jb;
    if (setjmp(jb)) {
        /* Undo the CS load if the pushes fault. */
        c->jb = outer;
        c->seg[SEG_CS] = saved;
        c->mode = saved_mode;
        c->r[GPR_RSP] = saved_sp;
        longjmp(*outer, 1);
    }
    if (call) {
        /* The return address goes on the stack with the old operand size. */
        emu_push(c, osz, old_cs);
        emu_push(c, osz, ret);
    }
    emu_jump(c, off, c->mode == MODE_LONG64 ? 8 : osz);
    c->jb = outer;
}

/* JMP Ap (EA), CALL Ap (9A), outside 64-bit mode */
OP(op_far_Ap)
{
    far_transfer(c, (uint16_t)i->imm2, i->imm, i->osz, i->op == 0x9a);
}

/* FF /3 CALL Mp, FF /5 JMP Mp: [offset (osz), selector (2)] */
static void far_Mp(struct emu_cpu *c, const struct insn *i)
{
    if (i->mod == 3)
        emu_raise(c, EXC_UD);
    uint64_t ea = insn_ea(c, i);
    uint64_t off = seg_read(c, i->ea_seg, ea, i->osz);
    uint16_t sel = (uint16_t)seg_read(c, i->ea_seg, (ea + i->osz) & mask_of(i->asz), 2);
    far_transfer(c, sel, off, i->osz, i->nnn == 3);
}

void stack_push_Ev(struct emu_cpu *c, const struct insn *i);
void alu_incdec_Ev(struct emu_cpu *c, const struct insn *i);

/* Group 5: FF /0 INC, /1 DEC, /2 CALL Ev, /3 CALLF Mp, /4 JMP Ev,
 * /5 JMPF Mp, /6 PUSH Ev */
OP(op_grp5_Ev)
{
    if (i->lock && i->nnn > 1)
        emu_raise(c, EXC_UD);
    switch (i->nnn) {
    case 0: case 1: alu_incdec_Ev(c, i); break;
    case 2: call_Ev(c, i); break;
    case 3: case 5: far_Mp(c, i); break;
    case 4: jmp_Ev(c, i); break;
    case 6: stack_push_Ev(c, i); break;
    default: emu_raise(c, EXC_UD);
    }
}

/* RETF (CB), RETF Iw (CA): same privilege, or to an outer privilege level
 * (then SS:RSP are popped too). */
OP(op_retf)
{
    unsigned osz = i->osz;
    uint64_t extra = i->op == 0xca ? i->imm : 0;
    uint64_t off = emu_peek(c, osz, 0);
    uint16_t sel = (uint16_t)emu_peek(c, osz, osz);
    if (c->mode == MODE_REAL) {
        emu_load_seg_real(c, SEG_CS, sel);
        c->next_rip = off & mask_of(osz);
        unsigned ss = emu_stack_size(c);
        reg_set(c, GPR_RSP, ss, c->r[GPR_RSP] + 2 * osz + extra);
        return;
    }
    unsigned rpl = sel & 3;
    if (rpl < c->cpl)
        emu_raise_err(c, EXC_GP, sel & ~3u);
    if (rpl == c->cpl) {
        emu_load_cs(c, sel, rpl);
        emu_jump(c, off, c->mode == MODE_LONG64 ? 8 : osz);
        unsigned ss = emu_stack_size(c);
        reg_set(c, GPR_RSP, ss, c->r[GPR_RSP] + 2 * osz + extra);
        return;
    }
    uint64_t sp = emu_peek(c, osz, 2 * osz + (unsigned)extra);
    uint16_t ss_sel = (uint16_t)emu_peek(c, osz, 3 * osz + (unsigned)extra);
    emu_load_cs(c, sel, rpl);
    emu_load_seg(c, SEG_SS, ss_sel);
    emu_jump(c, off, c->mode == MODE_LONG64 ? 8 : osz);
    reg_set(c, GPR_RSP, emu_stack_size(c), sp + extra);
}
