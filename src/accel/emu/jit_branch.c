/* Block code (jit.c): the instructions that end a block and are emitted
 * inline, Jcc, JMP rel, CALL rel32 and RET, with their handler as the slow path. */
#include "accel/emu/jit_emit.h"

/* rax = the target of a relative branch (the instruction ends at end_off,
 * disp its displacement); jumps to the returned rel32 unless it is
 * canonical (the handler then raises #GP). */
static uint8_t *rel_target(struct emit *e, uint32_t end_off, uint64_t disp)
{
    rip_plus(e, end_off, disp);
    return unless_canonical(e);
}

/* ---- Jcc inline (64-bit mode; the last instruction of its block) ----
 * When the lazy record is a plain SUB/CMP, ADD or logic op (no carry in,
 * CF = OF = 0) of 32 or 64 bits, redoing that operation on the host sets
 * the host's flags exactly as the guest's (CF, OF, SF, ZF and PF; Jcc does
 * not read AF), and x86 condition codes are the same on both sides, so
 * the host's own Jcc decides. Any other record, and a target that is not
 * canonical (#GP), runs the handler. Returns false when in is no such Jcc. */
bool jit_is_jcc64(const struct insn *in, emu_op_fn fn)
{
    bool jcc = (in->map == MAP_1BYTE && (in->op & 0xf0) == 0x70) || (in->map == MAP_0F && (in->op & 0xf0) == 0x80);
    return jcc && in->osz == 8 && !in->ckpt && emu_specialize(in, NULL) == fn;
}

void jit_jcc(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
                     unsigned pending, uintptr_t exit, uintptr_t exit_rip_set)
{
    const struct insn *in = &bi[k].i;
    unsigned cc = in->op & 15;
    uint8_t *taken[6], *not_taken[6], *generic[8];
    unsigned nt = 0, ng = 0;
    struct { uint32_t op; uint8_t load, alu; bool q; } forms[] = {
        { LF_SUB | (8 << LF_SIZE_SHIFT), 0x8b, 0x3b, true },   /* mov rax, [a]; cmp rax, [b] */
        { LF_SUB | (4 << LF_SIZE_SHIFT), 0x8b, 0x3b, false },
        { LF_SZP | (8 << LF_SIZE_SHIFT), 0x8b, 0x85, true },   /* mov rax, [res]; test rax, rax */
        { LF_SZP | (4 << LF_SIZE_SHIFT), 0x8b, 0x85, false },
        { LF_ADD | (8 << LF_SIZE_SHIFT), 0x8b, 0x03, true },   /* mov rax, [a]; add rax, [b] */
        { LF_ADD | (4 << LF_SIZE_SHIFT), 0x8b, 0x03, false },
    };
    uint8_t *next_form = NULL;
    for (unsigned f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
        if (next_form)
            land(e, next_form);
        bytes(e, (const uint8_t[]){ 0x81, 0xbb }, 2);  /* cmp dword [rbx+lf.op], form */
        b4(e, CPU(lf.op));
        b4(e, forms[f].op);
        next_form = jump_fwd(e, true);
        bool szp = (forms[f].op & LF_KIND) == LF_SZP;
        if (szp) {  /* CF and OF from b must be 0 */
            bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xbb }, 3);  /* cmp qword [rbx+lf.b], 0 */
            b4(e, CPU(lf.b));
            b1(e, 0);
            generic[ng++] = jump_fwd(e, true);
        }
        if (forms[f].q)
            b1(e, 0x48);
        b1(e, forms[f].load);  /* mov rax/eax, [rbx + (szp ? res : a)] */
        b1(e, 0x83);
        b4(e, szp ? CPU(lf.res) : CPU(lf.a));
        if (forms[f].q)
            b1(e, 0x48);
        if (szp) {
            bytes(e, (const uint8_t[]){ 0x85, 0xc0 }, 2);  /* test rax/eax, rax/eax */
        } else {
            b1(e, forms[f].alu);  /* cmp/add rax/eax, [rbx+lf.b] */
            b1(e, 0x83);
            b4(e, CPU(lf.b));
        }
        bytes(e, (const uint8_t[]){ 0x0f, (uint8_t)(0x80 + cc) }, 2);  /* jcc taken */
        taken[nt] = e->p;
        b4(e, 0);
        not_taken[nt] = jump_fwd(e, false);
        nt++;
    }
    land(e, next_form);
    uint8_t *to_generic = jump_fwd(e, false);
    /* not taken: RIP is the next instruction */
    for (unsigned t = 0; t < nt; t++)
        land(e, not_taken[t]);
    unsigned n = pending + 1;
    count(e, &n);
    if (jit_can_goto(e, end_off))
        jit_goto(e, end_off);
    else
        exit_at(e, end_off, exit_rip_set);
    /* taken: RIP = the target, if canonical (it is when on this page) */
    for (unsigned t = 0; t < nt; t++)
        land(e, taken[t]);
    n = pending + 1;
    if (jit_can_goto(e, (int64_t)end_off + (int64_t)in->imm)) {
        count(e, &n);
        jit_goto(e, (int64_t)end_off + (int64_t)in->imm);
    } else {
        generic[ng++] = rel_target(e, end_off, in->imm);
        store(e, RAX, CPU(rip));
        count(e, &n);
        jmp_to(e, exit_rip_set);
    }
    /* anything else: the handler */
    land(e, to_generic);
    for (unsigned g = 0; g < ng; g++)
        land(e, generic[g]);
    n = pending;
    count(e, &n);
    jit_call_out(e, bi, k, at, end_off, exit);
    exit_at(e, end_off, exit_rip_set);  /* not taken */
}

/* ---- JMP rel, CALL rel32 and RET inline (64-bit mode, 64-bit stack; the
 * last instruction of their block) ----
 * As op_jmp_J: the target's canonical check; as op_call_J: that check,
 * then the push; as op_ret: the pop, the target's check, then RSP. A
 * non-canonical target or a stack access the TLB cannot do fast runs the
 * handler. */
bool jit_is_call_ret(const struct insn *in, emu_op_fn fn)
{
    if (in->map != MAP_1BYTE || in->osz != 8 || in->ckpt)
        return false;
    return (in->op == 0xe8 && fn == op_call_J) || (in->op == 0xc3 && fn == op_ret) ||
           ((in->op == 0xe9 || in->op == 0xeb) && fn == op_jmp_J);
}

void jit_call_ret(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
                          unsigned pending, uintptr_t exit, uintptr_t exit_rip_set)
{
    const struct insn *in = &bi[k].i;
    uint8_t *slow[2];
    const int64_t target = (int64_t)end_off + (int64_t)in->imm;
    bool near = false;
    if ((in->op == 0xe9 || in->op == 0xeb) && jit_can_goto(e, target)) {  /* JMP rel on the page */
        unsigned n = pending + 1;
        count(e, &n);
        jit_goto(e, target);
        return;
    }
    if (in->op == 0xe9 || in->op == 0xeb) {  /* JMP rel */
        slow[0] = rel_target(e, end_off, in->imm);
        store(e, RAX, CPU(rip));
        slow[1] = NULL;
    } else if (in->op == 0xe8) {
        near = jit_can_goto(e, target);  /* then canonical, and jit_goto sets RIP */
        slow[0] = near ? NULL : rel_target(e, end_off, in->imm);
        lea_r12(e, R13, end_off);                              /* r13 = the return address */
        if (!near)
            bytes(e, (const uint8_t[]){ 0x48, 0x89, 0xc7 }, 3);  /* mov rdi, rax (the target) */
        load(e, RAX, GPR(GPR_RSP));
        bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xe8, 0x08 }, 4);  /* sub rax, 8 */
        slow[1] = tlb_lookup(e, 8, ACC_W);
        bytes(e, (const uint8_t[]){ 0x4c, 0x89, 0x2e }, 3);    /* mov [rsi], r13 */
        store(e, RAX, GPR(GPR_RSP));
        if (!near)
            store(e, RDI, CPU(rip));
    } else {
        load(e, RAX, GPR(GPR_RSP));
        slow[0] = tlb_lookup(e, 8, ACC_R);
        bytes(e, (const uint8_t[]){ 0x48, 0x89, 0xc1 }, 3);    /* mov rcx, rax (the old RSP) */
        bytes(e, (const uint8_t[]){ 0x48, 0x8b, 0x06 }, 3);    /* mov rax, [rsi]: the target */
        slow[1] = unless_canonical(e);
        bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xc1, 0x08 }, 4);  /* add rcx, 8 */
        store(e, RCX, GPR(GPR_RSP));
        store(e, RAX, CPU(rip));
    }
    unsigned n = pending + 1;
    count(e, &n);
    if (near)
        jit_goto(e, target);
    else
        jmp_to(e, exit_rip_set);
    for (unsigned s = 0; s < 2; s++)
        if (slow[s])
            land(e, slow[s]);
    n = pending;
    count(e, &n);
    jit_call_out(e, bi, k, at, end_off, exit);
    exit_at(e, end_off, exit_rip_set);  /* a CALL or JMP to the next instruction */
}
