/* Exceptions and interrupts: raising (longjmp to the step loop) and
 * delivery through the IDT.
 *
 * Long mode (SDM vol. 3, 6.14): 16-byte gates, IST stacks, the TSS RSP0..2
 * for privilege changes, SS:RSP always pushed, RSP aligned to 16. Real mode:
 * the IVT. 16/32-bit protected mode delivery is not implemented (only
 * start-up trampolines run there, with interrupts off) and stops the VM.
 * A fault while delivering gives #DF (SDM table 6-5); a fault while
 * delivering #DF is a triple fault. */
#include <stdio.h>

#include "accel/emu/insn.h"

_Noreturn void emu_raise_err(struct emu_cpu *c, int vector, uint32_t error_code)
{
    c->exc_vector = vector;
    c->exc_error = error_code;
    c->exc_has_error = true;
    c->exc_soft = false;
    longjmp(*c->jb, 1);
}

static bool has_error_code(int v)
{
    return v == EXC_DF || (v >= EXC_TS && v <= EXC_PF) || v == EXC_AC || v == 21;
}

_Noreturn void emu_raise(struct emu_cpu *c, int vector)
{
    if (has_error_code(vector))
        emu_raise_err(c, vector, 0);
    c->exc_vector = vector;
    c->exc_error = 0;
    c->exc_has_error = false;
    c->exc_soft = false;
    longjmp(*c->jb, 1);
}

/* c->next_rip must be the address after the instruction. */
_Noreturn void emu_raise_soft(struct emu_cpu *c, int vector)
{
    c->exc_vector = vector;
    c->exc_error = 0;
    c->exc_has_error = false;
    c->exc_soft = true;
    longjmp(*c->jb, 1);
}

/* Writes a qword on the new stack during delivery (supervisor access when
 * the handler runs at CPL 0..2). */
static void push_sys(struct emu_cpu *c, uint64_t *sp, uint64_t v, bool user)
{
    *sp -= 8;
    if (!emu_canonical(*sp))
        emu_raise_err(c, EXC_SS, 0);
    if (user)
        emu_write_slow(c, *sp, 8, v, true);
    else
        emu_write_sys(c, *sp, 8, v);
}

static void deliver_long(struct emu_cpu *c, int vec, bool has_err, uint32_t err, bool soft, bool ext)
{
    uint32_t gate_err = (uint32_t)vec * 8 + 2 + (ext ? 1 : 0);
    if ((uint64_t)vec * 16 + 15 > c->idt.limit)
        emu_raise_err(c, EXC_GP, gate_err);
    uint64_t lo = emu_read_sys(c, c->idt.base + (uint64_t)vec * 16, 8);
    uint64_t hi = emu_read_sys(c, c->idt.base + (uint64_t)vec * 16 + 8, 8);
    unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3;
    if (type != 0xe && type != 0xf)
        emu_raise_err(c, EXC_GP, gate_err);
    if (soft && dpl < c->cpl)
        emu_raise_err(c, EXC_GP, gate_err);
    if (!((lo >> 47) & 1))
        emu_raise_err(c, EXC_NP, gate_err);
    uint16_t sel = (uint16_t)(lo >> 16);
    uint64_t target = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull) | (hi << 32);
    unsigned ist = (lo >> 32) & 7;

    if ((sel & ~3u) == 0)
        emu_raise_err(c, EXC_GP, ext ? 1 : 0);
    uint64_t d = emu_read_desc(c, sel, EXC_GP);
    struct cpu_segment cs;
    emu_desc_to_seg(d, sel, &cs);
    if (!cs.s || !(cs.type & 8) || !cs.l || cs.db || cs.dpl > c->cpl)
        emu_raise_err(c, EXC_GP, (sel & ~3u) | (ext ? 1 : 0));
    if (!cs.present)
        emu_raise_err(c, EXC_NP, (sel & ~3u) | (ext ? 1 : 0));
    unsigned new_cpl = (cs.type & 4) ? c->cpl : cs.dpl;

    uint64_t old_ss = c->seg[SEG_SS].selector, old_rsp = c->r[GPR_RSP];
    uint64_t sp;
    if (ist)
        sp = emu_read_sys(c, c->tr.base + 0x24 + (ist - 1) * 8, 8);
    else if (new_cpl < c->cpl)
        sp = emu_read_sys(c, c->tr.base + 4 + new_cpl * 8, 8);
    else
        sp = c->r[GPR_RSP];
    sp &= ~0xfull;
    /* The image of a fault has RF set, so IRET does not re-trigger an
     * instruction breakpoint; traps and interrupts push RF as it is. */
    uint64_t flags = c->rflags | RFLAGS_FIXED;
    if (!soft && !ext && vec != EXC_DB && vec != EXC_BP && vec != EXC_OF)
        flags |= RFLAGS_RF;
    bool user = new_cpl == 3;
    push_sys(c, &sp, old_ss, user);
    push_sys(c, &sp, old_rsp, user);
    push_sys(c, &sp, flags, user);
    push_sys(c, &sp, c->seg[SEG_CS].selector, user);
    push_sys(c, &sp, soft ? c->next_rip : c->rip, user);
    if (has_err)
        push_sys(c, &sp, err, user);

    /* Commit */
    cs.selector = (uint16_t)((sel & ~3u) | new_cpl);
    cs.type |= 1;
    if (new_cpl != c->cpl) {
        memset(&c->seg[SEG_SS], 0, sizeof(c->seg[SEG_SS]));
        c->seg[SEG_SS].selector = (uint16_t)new_cpl;
        c->seg[SEG_SS].unusable = 1;
        c->seg[SEG_SS].dpl = (uint8_t)new_cpl;
    }
    c->seg[SEG_CS] = cs;
    c->cpl = (uint8_t)new_cpl;
    c->r[GPR_RSP] = sp;
    c->rip = target;
    c->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
    if (type == 0xe)
        c->rflags &= ~RFLAGS_IF;
    emu_update_mode(c);
}

static void deliver_real(struct emu_cpu *c, int vec, bool soft)
{
    if ((uint64_t)vec * 4 + 3 > c->idt.limit)
        emu_raise_err(c, EXC_GP, 0);
    uint32_t v = (uint32_t)emu_read_sys(c, c->idt.base + (uint64_t)vec * 4, 4);
    emu_push(c, 2, c->rflags);
    emu_push(c, 2, c->seg[SEG_CS].selector);
    emu_push(c, 2, soft ? c->next_rip : c->rip);
    c->rflags &= ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_AC);
    emu_load_seg_real(c, SEG_CS, (uint16_t)(v >> 16));
    c->rip = v & 0xffff;
}

static bool contributory(int v)
{
    return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

/* Delivers one event with the #DF / triple-fault rules. */
static void deliver_event(struct emu_cpu *c, int vec, bool has_err, uint32_t err, bool soft, bool ext)
{
    emu_flags_sync(c);  /* the pushed image and the bits cleared below are exact */
    jmp_buf jb, *saved = c->jb;
    volatile int v = vec;
    volatile bool he = has_err, sf = soft, ex = ext;
    volatile uint32_t e = err;
    c->jb = &jb;
    if (setjmp(jb)) {
        /* A fault while delivering v */
        if (c->exit) {
            c->jb = saved;
            return;
        }
        int second = c->exc_vector;
        if (v == EXC_DF) {
            c->exit = EMU_EXIT_TRIPLE_FAULT;
            snprintf(c->exit_msg, sizeof(c->exit_msg), "triple fault at RIP 0x%llx (vector %d while delivering #DF)",
                     (unsigned long long)c->rip, second);
            c->jb = saved;
            return;
        }
        if ((contributory(v) && contributory(second)) || (v == EXC_PF && (second == EXC_PF || contributory(second)))) {
            v = EXC_DF;
            he = true;
            e = 0;
        } else {
            v = second;
            he = c->exc_has_error;
            e = c->exc_error;
        }
        sf = false;
        ex = false;
    }
    c->delivering = v;
    if (c->mode == MODE_REAL)
        deliver_real(c, v, sf);
    else if (c->msr.efer & EFER_LMA)
        deliver_long(c, v, he, e, sf, ex);
    else
        emu_fatal(c, EMU_EXIT_UNIMPL, "emu: exception %d in 32-bit protected mode at RIP 0x%llx: not implemented",
                  (int)v, (unsigned long long)c->rip);
    c->delivering = -1;
    c->intr_shadow = false;
    c->jb = saved;
}

void emu_deliver_exception(struct emu_cpu *c)
{
    deliver_event(c, c->exc_vector, c->exc_has_error, c->exc_error, c->exc_soft, false);
}

void emu_deliver(struct emu_cpu *c, int vector, bool external)
{
    deliver_event(c, vector, false, 0, false, external);
}
