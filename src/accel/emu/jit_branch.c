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

/* ---- condition codes from the lazy record, decided by the host ----
 * E/NE: ZF is "res is 0" for every kind of record (res is masked to its
 * size), so one compare decides them. The other conditions: when the
 * record is a plain SUB/CMP, ADD or logic op (no carry in; for the logic
 * kind, CF = OF = 0) of any size, redoing that operation on the host
 * sets the host's flags exactly as the guest's (CF, OF, SF, ZF and PF;
 * no condition reads AF), and x86 condition codes are the same on both
 * sides, so the host's own Jcc decides. Any other record (LF_NONE, INC,
 * DEC, a carry in, a shift's CF/OF) is left to the handler. */

/* jcc rel32 to patch */
static uint8_t *jcc_fwd(struct emit *e, unsigned cc)
{
    bytes(e, (const uint8_t[]){ 0x0f, (uint8_t)(0x80 + cc) }, 2);
    uint8_t *at = e->p;
    b4(e, 0);
    return at;
}

/* The host redoes the record's operation (kind, size: no lf.op check)
 * and its Jcc decides. */
static void cond_form(struct emit *e, uint32_t kind, unsigned size, unsigned cc, struct cond_exits *x)
{
    bool szp = kind == LF_SZP;
    /* mov rax/eax, [rbx + (szp ? res : a)] (a or res masked: any width loads it) */
    if (size == 8)
        b1(e, 0x48);
    b1(e, 0x8b);
    b1(e, 0x83);
    b4(e, szp ? CPU(lf.res) : CPU(lf.a));
    if (size == 2)
        b1(e, 0x66);
    else if (size == 8)
        b1(e, 0x48);
    if (szp) {  /* test al/ax/eax/rax, itself */
        bytes(e, (const uint8_t[]){ size == 1 ? 0x84 : 0x85, 0xc0 }, 2);
    } else {    /* cmp/add al/ax/eax/rax, [rbx+lf.b] */
        uint8_t alu = kind == LF_SUB ? 0x3b : 0x03;
        b1(e, size == 1 ? (uint8_t)(alu - 1) : alu);
        b1(e, 0x83);
        b4(e, CPU(lf.b));
    }
    x->yes[x->nyes++] = jcc_fwd(e, cc);
    x->no[x->nno++] = jump_fwd(e, false);
}

/* E/NE: cmp qword [rbx+lf.res], 0 decides (the record is not LF_NONE) */
static void cond_zero(struct emit *e, unsigned cc, struct cond_exits *x)
{
    bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xbb }, 3);
    b4(e, CPU(lf.res));
    b1(e, 0);
    x->yes[x->nyes++] = jcc_fwd(e, cc);
    x->no[x->nno++] = jump_fwd(e, false);
}

bool jit_cond_known(const struct emit *e, unsigned cc)
{
    uint32_t known = e->lf_known, kind = known & LF_KIND;
    if (!known)
        return false;
    if (cc == 4 || cc == 5)
        return true;
    if (known & LF_CIN)
        return false;
    /* Z, S, P do not read CF or OF, which LF_SZP keeps in b */
    bool no_cf_of = cc == 8 || cc == 9 || cc == 10 || cc == 11;
    return kind == LF_SUB || kind == LF_ADD || (kind == LF_SZP && (e->lf_b_zero || no_cf_of));
}

void jit_cond(struct emit *e, unsigned cc, struct cond_exits *x)
{
    x->nyes = x->nno = x->nother = 0;
    if (jit_cond_known(e, cc)) {
        if (cc == 4 || cc == 5)
            cond_zero(e, cc, x);
        else
            cond_form(e, e->lf_known & LF_KIND, (e->lf_known >> LF_SIZE_SHIFT) & 15, cc, x);
        return;
    }
    if (cc == 4 || cc == 5) {
        bytes(e, (const uint8_t[]){ 0xf6, 0x83 }, 2);         /* test byte [rbx+lf.op], LF_KIND */
        b4(e, CPU(lf.op));
        b1(e, LF_KIND);
        x->other[x->nother++] = jcc_fwd(e, 4);                /* jz: LF_NONE */
        cond_zero(e, cc, x);
        return;
    }
    static const uint32_t kinds[3] = { LF_SUB, LF_SZP, LF_ADD };
    static const uint8_t sizes[4] = { 8, 4, 1, 2 };
    uint8_t *next_form = NULL;
    for (unsigned f = 0; f < 3; f++) {
        for (unsigned z = 0; z < 4; z++) {
            if (next_form)
                land(e, next_form);
            bytes(e, (const uint8_t[]){ 0x81, 0xbb }, 2);     /* cmp dword [rbx+lf.op], the form */
            b4(e, CPU(lf.op));
            b4(e, kinds[f] | ((uint32_t)sizes[z] << LF_SIZE_SHIFT));
            next_form = jump_fwd(e, true);
            if (kinds[f] == LF_SZP) {  /* CF and OF from b must be 0 */
                bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xbb }, 3);  /* cmp qword [rbx+lf.b], 0 */
                b4(e, CPU(lf.b));
                b1(e, 0);
                x->other[x->nother++] = jump_fwd(e, true);
            }
            cond_form(e, kinds[f], sizes[z], cc, x);
        }
    }
    land(e, next_form);
    x->other[x->nother++] = jump_fwd(e, false);
}

/* ---- Jcc inline (64-bit mode; the last instruction of its block) ----
 * Decided by jit_cond; its other records, and a target that is not
 * canonical (#GP), run the handler. Returns false when in is no such Jcc. */
bool jit_is_jcc64(const struct insn *in, emu_op_fn fn)
{
    bool jcc = (in->map == MAP_1BYTE && (in->op & 0xf0) == 0x70) || (in->map == MAP_0F && (in->op & 0xf0) == 0x80);
    return jcc && in->osz == 8 && !in->ckpt && emu_specialize(in, NULL) == fn;
}

void jit_jcc(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
                     unsigned pending, uintptr_t exit, uintptr_t exit_rip_set)
{
    const struct insn *in = &bi[k].i;
    struct cond_exits x;
    jit_cond(e, in->op & 15, &x);
    uint8_t *generic[COND_OTHER_MAX + 1];
    unsigned ng = 0;
    for (unsigned g = 0; g < x.nother; g++)
        generic[ng++] = x.other[g];
    /* not taken: RIP is the next instruction */
    for (unsigned t = 0; t < x.nno; t++)
        land(e, x.no[t]);
    unsigned n = pending + 1;
    count(e, &n);
    if (jit_can_goto(e, end_off))
        jit_goto(e, end_off);
    else
        exit_at(e, end_off, exit_rip_set);
    /* taken: RIP = the target, if canonical (it is when on this page) */
    for (unsigned t = 0; t < x.nyes; t++)
        land(e, x.yes[t]);
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
