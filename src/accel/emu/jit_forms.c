/* Block code (jit.c): the instruction forms emitted inline, without a
 * call to their handler, and the memory forms' TLB fast paths. */
#include "accel/emu/jit_emit.h"

/* ---- inline forms: instructions emitted as host code, no handler call ----
 * Only forms that can neither fault nor change RIP, the mode or the run
 * (register MOVs and ALU ops, LEA): they need no RIP, no flag checkpoint
 * and no check after them. Each must leave exactly what special.c's
 * handler for the form leaves (registers and the lazy flag record), since
 * the instructions after it, run by handlers, read that. The form is taken
 * inline only when the block's handler is special.c's for it, so the
 * decoder's checks (LOCK, sizes, ModRM) have been made. */


/* rax = a + b etc.: the host op "op rax, rcx" (opcode of the r/m, r form) */
static void alu_rax_rcx(struct emit *e, uint8_t opcode, bool q)
{
    if (q)
        b1(e, 0x48);
    b1(e, opcode);
    b1(e, 0xc8);
}

/* ALU op number (bits 5:3 of 00..3F and the group 1 /nnn) to the host
 * opcode, the lazy kind and whether it writes its destination; ADC and SBB
 * (which read CF) are left to their handlers. */
static bool alu_form(unsigned nnn, uint8_t *opcode, uint32_t *kind, bool *write)
{
    static const uint8_t host[8] = { 0x01, 0x09, 0, 0, 0x21, 0x29, 0x31, 0x29 };
    static const uint32_t kinds[8] = { LF_ADD, LF_SZP, 0, 0, LF_SZP, LF_SUB, LF_SZP, LF_SUB };
    if (nnn == 2 || nnn == 3)
        return false;
    *opcode = host[nnn];
    *kind = kinds[nnn];
    *write = nnn != 7;
    return true;
}

/* rax = a OP rcx (b), both already in place and masked to the size (1,
 * 4 or 8 bytes); then the lazy record and the destination, as special.c's
 * ALU_RR/ALU_RI. dst: where the result goes when the op writes, the
 * place of its register in c (a byte register's for size 1), or DST_MEM:
 * the memory at rsi. A byte op is done in 32 bits, whose low byte is the
 * 8-bit result; the record then has a, b and res masked to 8 bits, as the
 * handlers leave it. */
#define DST_MEM UINT32_MAX

static void alu_tail(struct emit *e, uint8_t opcode, uint32_t kind, bool write, unsigned size, uint32_t dst)
{
    if (kind != LF_SZP) {
        store(e, RAX, CPU(lf.a));
        store(e, RCX, CPU(lf.b));
    }
    alu_rax_rcx(e, opcode, size == 8);  /* a 32-bit op zero-extends rax */
    if (size == 1)
        bytes(e, (const uint8_t[]){ 0x0f, 0xb6, 0xc0 }, 3);  /* movzx eax, al */
    store(e, RAX, CPU(lf.res));
    if (kind == LF_SZP) {
        bytes(e, (const uint8_t[]){ 0x48, 0xc7, 0x83 }, 3);  /* mov qword [rbx+lf.b], 0 */
        b4(e, CPU(lf.b));
        b4(e, 0);
    }
    set_lf_op(e, kind | (size << LF_SIZE_SHIFT), kind == LF_SZP);
    if (!write)
        return;
    if (size == 1 && dst == DST_MEM) {
        bytes(e, (const uint8_t[]){ 0x88, 0x06 }, 2);  /* mov [rsi], al */
    } else if (size == 1) {
        bytes(e, (const uint8_t[]){ 0x88, 0x83 }, 2);  /* mov [rbx+dst], al */
        b4(e, dst);
    } else if (dst == DST_MEM) {
        if (size == 8)
            b1(e, 0x48);
        bytes(e, (const uint8_t[]){ 0x89, 0x06 }, 2);  /* mov [rsi], rax/eax */
    } else {
        store(e, RAX, dst);
    }
}

/* The byte register n of in (AH..BH for 4..7 without REX, as reg_read) */
static uint32_t reg8(const struct insn *in, unsigned n)
{
    return n >= 4 && n < 8 && !in->rex ? GPR(n - 4) + 1 : GPR(n);
}

/* movzx reg, byte [rbx+d] (reg: RAX or RCX) */
static void load_byte(struct emit *e, unsigned reg, uint32_t d)
{
    bytes(e, (const uint8_t[]){ 0x0f, 0xb6, (uint8_t)(0x83 | (reg << 3)) }, 3);
    b4(e, d);
}

/* ALU r/m8, r8 or r8, r/m8 (00..3A with bit 0 clear, not ADC/SBB) run by
 * the generic handler: its host opcode, lazy kind and whether it writes */
static bool alu8_form(const struct insn *in, emu_op_fn fn, uint8_t *opcode, uint32_t *kind, bool *write)
{
    uint8_t op = in->op;
    return op < 0x40 && (op & 7) <= 2 && !(op & 1) && fn == ((op & 2) ? op_alu_G_E : op_alu_E_G) &&
           alu_form((op >> 3) & 7, opcode, kind, write);
}

/* The 8-bit register forms: ALU r8, r8 (00..3B with bit 0 clear), TEST
 * r8, r8 (84), group 1 r8, imm8 (80), ALU/TEST AL, imm8 (04..3C, A8). */
static bool inline_alu8(struct emit *e, const struct insn *in, emu_op_fn fn)
{
    uint8_t op = in->op, opcode;
    uint32_t kind;
    bool write;
    uint32_t dst;
    if ((op == 0x84 && fn == op_test_E_G) || alu8_form(in, fn, &opcode, &kind, &write)) {
        if (in->mod != 3)
            return false;
        if (op == 0x84)
            opcode = 0x21, kind = LF_SZP, write = false;
        bool to_g = op != 0x84 && (op & 2);
        dst = reg8(in, to_g ? in->reg : in->rm);
        load_byte(e, RAX, dst);
        load_byte(e, RCX, reg8(in, to_g ? in->rm : in->reg));
    } else if (op == 0x80) {
        if (in->mod != 3 || fn != op_grp1_E_I || !alu_form(in->nnn, &opcode, &kind, &write))
            return false;
        dst = reg8(in, in->rm);
        load_byte(e, RAX, dst);
        mov_imm(e, RCX, in->imm & 0xff);
    } else if (op == 0xa8 || (op < 0x40 && (op & 7) == 4)) {
        if (op == 0xa8 ? fn != op_test_A_I : (fn != op_alu_A_I || !alu_form(op >> 3, &opcode, &kind, &write)))
            return false;
        if (op == 0xa8)
            opcode = 0x21, kind = LF_SZP, write = false;
        dst = GPR(GPR_RAX);
        load_byte(e, RAX, dst);
        mov_imm(e, RCX, in->imm & 0xff);
    } else {
        return false;
    }
    alu_tail(e, opcode, kind, write, 1, dst);
    return true;
}

/* rax = the effective address of in's memory operand, 64-bit addressing
 * (end_off: the instruction's end in the block, for RIP-relative ones). */
static void ea64(struct emit *e, const struct insn *in, uint32_t end_off)
{
    uint64_t disp = (uint64_t)in->disp;
    if (in->ea_base == EA_RIP) {
        rip_plus(e, end_off, disp);
    } else {
        mov_imm(e, RAX, disp);
        if (in->ea_base != EA_NONE)
            rbx_mem(e, 0x03, RAX, GPR(in->ea_base));           /* add rax, [rbx+base] */
    }
    if (in->ea_index != EA_NONE) {
        load(e, RCX, GPR(in->ea_index));
        if (in->ea_scale)
            bytes(e, (const uint8_t[]){ 0x48, 0xc1, 0xe1, in->ea_scale }, 4);  /* shl rcx, scale */
        bytes(e, (const uint8_t[]){ 0x48, 0x01, 0xc8 }, 3);  /* add rax, rcx */
    }
}

/* rax = the linear address of in's memory operand (64-bit mode): the
 * effective address, plus the FS or GS base (the other bases are 0) */
static void lin64(struct emit *e, const struct insn *in, uint32_t end_off)
{
    ea64(e, in, end_off);
    if (in->ea_seg == SEG_FS || in->ea_seg == SEG_GS)  /* add rax, [rbx+seg.base] */
        rbx_mem(e, 0x03, RAX, CPU(seg) + (uint32_t)(in->ea_seg * sizeof(struct cpu_segment)) +
                              (uint32_t)offsetof(struct cpu_segment, base));
}

/* rcx = the most significant bit (0 or 1) of eax/rax */
static void msb_to_rcx(struct emit *e, bool q)
{
    if (q)
        b1(e, 0x48);
    bytes(e, (const uint8_t[]){ 0x89, 0xc1 }, 2);                   /* mov ecx/rcx, eax/rax */
    if (q)
        b1(e, 0x48);
    bytes(e, (const uint8_t[]){ 0xc1, 0xe9, q ? 63 : 31 }, 3);      /* shr ecx/rcx, 31/63 */
}

/* SHL/SAL, SHR, SAR of a 32/64-bit register by 1 or an immediate (D1, C1
 * /4../7 with mod 3), as special.c's shift_r: a masked count of 0 is left
 * to the handler; otherwise CF is the last bit out (the host's CF), OF is
 * SHL's MSB(result) ^ CF, SHR's MSB(operand), SAR's 0, and the record is
 * LF_SZP with CF/OF in b. */
static void emit_shift(struct emit *e, const struct insn *in, bool q, unsigned count)
{
    unsigned nnn = in->nnn == 6 ? 4 : in->nnn;
    load_sized(e, RAX, GPR(in->rm), q);
    if (nnn == 5)  /* SHR: OF = the operand's MSB */
        msb_to_rcx(e, q);
    if (q)
        b1(e, 0x48);
    bytes(e, (const uint8_t[]){ 0xc1, (uint8_t)(0xc0 | (nnn << 3)), (uint8_t)count }, 3);  /* shl/shr/sar rax, count */
    bytes(e, (const uint8_t[]){ 0x0f, 0x92, 0xc2, 0x0f, 0xb6, 0xd2 }, 6);  /* setc dl; movzx edx, dl */
    if (nnn == 4) {  /* SHL: OF = MSB(result) ^ CF */
        msb_to_rcx(e, q);
        bytes(e, (const uint8_t[]){ 0x31, 0xd1 }, 2);                       /* xor ecx, edx */
    } else if (nnn == 7) {
        bytes(e, (const uint8_t[]){ 0x31, 0xc9 }, 2);                       /* xor ecx, ecx: OF = 0 */
    }
    bytes(e, (const uint8_t[]){ 0xc1, 0xe1, 11 }, 3);                       /* shl ecx, 11: RFLAGS_OF */
    bytes(e, (const uint8_t[]){ 0x09, 0xd1 }, 2);                           /* or ecx, edx: | RFLAGS_CF */
    store(e, RAX, CPU(lf.res));
    store(e, RCX, CPU(lf.b));
    set_lf_op(e, LF_SZP | ((q ? 8u : 4u) << LF_SIZE_SHIFT), false);
    store(e, RAX, GPR(in->rm));
}

/* movzx/movsx eax (rax: sx64), byte or word register n of in (AH..BH
 * for 4..7 without REX, as reg_read) */
static void load_narrow(struct emit *e, const struct insn *in, unsigned n, bool word, bool sx, bool sx64)
{
    uint32_t d = word ? GPR(n) : reg8(in, n);
    if (sx64)
        b1(e, 0x48);
    bytes(e, (const uint8_t[]){ 0x0f, (uint8_t)((sx ? 0xbe : 0xb6) | word), 0x83 }, 3);
    b4(e, d);
}

/* The 0F forms: NOP r/m (nothing to do: it touches no memory), MOVZX and
 * MOVSX between registers, IMUL r, r. */
static bool inline_0f(struct emit *e, const struct insn *in, emu_op_fn fn)
{
    uint8_t op = in->op;
    if (op == 0x1f && fn == op_nop_Ev)
        return true;
    if (in->osz != 4 && in->osz != 8)
        return false;
    bool q = in->osz == 8;
    if (in->mod != 3)
        return false;
    if (((op == 0xb6 || op == 0xb7) && fn == op_movzx_Gv_E) || ((op == 0xbe || op == 0xbf) && fn == op_movsx_Gv_E)) {
        bool sx = op >= 0xbe;
        load_narrow(e, in, in->rm, op & 1, sx, sx && q);  /* a 32-bit result zero-extends */
        store(e, RAX, GPR(in->reg));
        return true;
    }
    if (op == 0xaf && fn == op_imul_Gv_Ev) {  /* as muldiv.c's imul2: CF = OF = the product overflows */
        load_sized(e, RAX, GPR(in->reg), q);
        load_sized(e, RCX, GPR(in->rm), q);
        if (q)
            b1(e, 0x48);
        bytes(e, (const uint8_t[]){ 0x0f, 0xaf, 0xc1 }, 3);                /* imul rax/eax, rcx/ecx */
        bytes(e, (const uint8_t[]){ 0x0f, 0x90, 0xc2, 0x0f, 0xb6, 0xd2 }, 6);  /* seto dl; movzx edx, dl */
        bytes(e, (const uint8_t[]){ 0x69, 0xd2 }, 2);                      /* imul edx, edx, CF | OF */
        b4(e, RFLAGS_CF | RFLAGS_OF);
        store(e, RAX, CPU(lf.res));
        store(e, RDX, CPU(lf.b));
        set_lf_op(e, LF_SZP | ((q ? 8u : 4u) << LF_SIZE_SHIFT), false);
        store(e, RAX, GPR(in->reg));
        return true;
    }
    return false;
}

/* Emits instruction in inline when it is an inline form (end_off: its end
 * offset in the block, for RIP-relative LEA); false: call its handler. */
bool jit_inline(struct emit *e, const struct insn *in, emu_op_fn fn, uint32_t end_off)
{
    if (in->lock)
        return false;
    if (in->map == MAP_0F)
        return inline_0f(e, in, fn);
    if (in->map == MAP_1BYTE && inline_alu8(e, in, fn))
        return true;
    if (in->map != MAP_1BYTE || (in->osz != 4 && in->osz != 8))
        return false;
    bool q = in->osz == 8;
    uint8_t op = in->op;
    if (op >= 0xb8 && op <= 0xbf && fn == op_mov_Zv_Iv) {  /* MOV r, imm */
        mov_imm(e, RAX, q ? in->imm : (uint32_t)in->imm);
        store(e, RAX, GPR((op & 7) | ((in->rex & 1) << 3)));
        return true;
    }
    uint8_t opcode;
    uint32_t kind;
    bool write;
    if ((op == 0xa9 && fn == op_test_A_I) ||                           /* TEST rAX, imm */
        (op < 0x40 && (op & 7) == 5 && fn == op_alu_A_I && alu_form(op >> 3, &opcode, &kind, &write))) {
        if (op == 0xa9)
            opcode = 0x21, kind = LF_SZP, write = false;
        load_sized(e, RAX, GPR(GPR_RAX), q);
        mov_imm(e, RCX, q ? in->imm : (uint32_t)in->imm);
        alu_tail(e, opcode, kind, write, q ? 8 : 4, GPR(GPR_RAX));
        return true;
    }
    if (op == 0x8d && in->mod != 3 && in->asz == 8 &&                    /* LEA r64/r32, m */
        (q ? emu_specialize(in, NULL) == fn : fn == op_lea_Gv_M)) {
        ea64(e, in, end_off);
        if (!q)
            bytes(e, (const uint8_t[]){ 0x89, 0xc0 }, 2);  /* mov eax, eax: the low half, zero-extended */
        store(e, RAX, GPR(in->reg));
        return true;
    }
    if (op == 0x63 && in->mod == 3 && fn == op_movsxd_Gv_Ed) {           /* MOVSXD r, r32 */
        if (q)
            rbx_mem(e, 0x63, RAX, GPR(in->rm));                         /* movsxd rax, [rbx+d] */
        else
            load_sized(e, RAX, GPR(in->rm), false);                     /* 32 bits: a MOV */
        store(e, RAX, GPR(in->reg));
        return true;
    }
    if (!in->has_modrm || emu_specialize(in, NULL) != fn)
        return false;
    if (in->mod == 3) {
        if (op == 0x89 || op == 0x8b) {  /* MOV between registers */
            unsigned dst = op == 0x89 ? in->rm : in->reg, src = op == 0x89 ? in->reg : in->rm;
            load_sized(e, RAX, GPR(src), q);
            store(e, RAX, GPR(dst));
            return true;
        }
        uint8_t opcode;
        uint32_t kind;
        bool write;
        if (op == 0x85 || (op < 0x40 && (op & 7) <= 3 && (op & 1))) {  /* ALU Ev,Gv / Gv,Ev; TEST */
            if (op == 0x85) {
                opcode = 0x21, kind = LF_SZP, write = false;
            } else if (!alu_form((op >> 3) & 7, &opcode, &kind, &write)) {
                return false;
            }
            bool to_g = op != 0x85 && (op & 2);
            unsigned dst = to_g ? in->reg : in->rm, src = to_g ? in->rm : in->reg;
            load_sized(e, RAX, GPR(dst), q);
            load_sized(e, RCX, GPR(src), q);
            alu_tail(e, opcode, kind, write, q ? 8 : 4, GPR(dst));
            return true;
        }
        if ((op == 0xc1 || op == 0xd1) && in->nnn >= 4) {  /* SHL/SHR/SAR r, 1 or imm */
            unsigned count = (op == 0xd1 ? 1u : (unsigned)in->imm) & (q ? 63u : 31u);
            if (!count)
                return false;
            emit_shift(e, in, q, count);
            return true;
        }
        if (op == 0x81 || op == 0x83) {  /* group 1: op r, imm */
            if (!alu_form(in->nnn, &opcode, &kind, &write))
                return false;
            load_sized(e, RAX, GPR(in->rm), q);
            mov_imm(e, RCX, q ? in->imm : (uint32_t)in->imm);
            alu_tail(e, opcode, kind, write, q ? 8 : 4, GPR(in->rm));
            return true;
        }
        return false;
    }
    return false;
}

/* ---- inline memory forms (enum mem_form in jit_emit.h: MOV r, m and
 * MOV m, r, MOV m, imm, MOVZX/MOVSX/MOVSXD loads, ALU m, imm, PUSH r64,
 * POP r64; MOV r, m and MOV m, r also with FS/GS), through the TLB like
 * emu_read_lin / emu_write_lin. A TLB miss,
 * a page-crossing access, a non-canonical address (never a tag) or a store
 * into a code page (no write tag) runs the handler instead, which does the
 * same access the slow way and may fault. ---- */

/* A memory operand that the generic handlers (data.c) would address
 * through insn_lin's 64-bit fast case: 64-bit addressing, no FS/GS base. */
static bool plain_mem64(const struct insn *in)
{
    return in->has_modrm && in->mod != 3 && in->asz == 8 && in->ea_seg < SEG_FS && (in->osz == 4 || in->osz == 8);
}

enum mem_form jit_mem_form(const struct emit *e, const struct insn *in, emu_op_fn fn)
{
    if (in->lock)
        return MEM_NONE;
    if (in->map == MAP_0F && in->mod == 3) {
        /* SETcc and CMOVcc when the record is known or the condition is
         * E/NE: a full dispatch (jit_cond) in each would make much code */
        unsigned cc = in->op & 15;
        bool cheap = jit_cond_known(e, cc) || cc == 4 || cc == 5;
        if ((in->op & 0xf0) == 0x90 && fn == op_setcc_Eb && cheap)
            return MEM_SETCC;
        if ((in->op & 0xf0) == 0x40 && fn == op_cmovcc_Gv_Ev && (in->osz == 4 || in->osz == 8) && cheap)
            return MEM_CMOVCC;
        return MEM_NONE;
    }
    if (in->map == MAP_0F) {
        if (!plain_mem64(in))
            return MEM_NONE;
        if ((in->op == 0xb6 || in->op == 0xb7) && fn == op_movzx_Gv_E)
            return MEM_LOADX;
        if ((in->op == 0xbe || in->op == 0xbf) && fn == op_movsx_Gv_E)
            return MEM_LOADX;
        return MEM_NONE;
    }
    if (in->map != MAP_1BYTE)
        return MEM_NONE;
    if (in->op >= 0x50 && in->op <= 0x5f && in->osz == 8)
        return in->op < 0x58 ? (fn == op_push_Zv ? MEM_PUSH : MEM_NONE) : (fn == op_pop_Zv ? MEM_POP : MEM_NONE);
    if (in->op == 0x63 && fn == op_movsxd_Gv_Ed && plain_mem64(in))
        return MEM_LOADX;
    if ((in->op == 0xc6 || in->op == 0xc7) && in->nnn == 0 && fn == op_mov_E_I && plain_mem64(in))
        return MEM_STORE_IMM;
    if ((in->op == 0x81 || in->op == 0x83) && in->nnn != 2 && in->nnn != 3 && fn == op_grp1_E_I && plain_mem64(in))
        return MEM_ALU_IMM;
    if (!in->has_modrm || in->mod == 3 || (in->osz != 4 && in->osz != 8))
        return MEM_NONE;
    uint8_t opcode;
    uint32_t kind;
    bool write;
    if (plain_mem64(in) &&
        ((in->op == 0x8a && fn == op_mov_G_E) || (in->op == 0x88 && fn == op_mov_E_G) ||
         (in->op == 0x80 && fn == op_grp1_E_I && alu_form(in->nnn, &opcode, &kind, &write)) ||
         alu8_form(in, fn, &opcode, &kind, &write)))
        return MEM_BYTE;
    if (plain_mem64(in) && (in->op == 0x85 || (in->op < 0x40 && (in->op & 7) <= 3 && (in->op & 1))) &&
        (in->op == 0x85 || alu_form((in->op >> 3) & 7, &opcode, &kind, &write)) &&
        (fn == emu_specialize(in, op_alu_E_G) || fn == op_alu_E_G || fn == op_alu_G_E || fn == op_test_E_G))
        return MEM_ALU_RM;
    /* MOV with FS or GS (per-CPU data, thread-local storage): special.c
     * leaves those to the generic handlers, which add the base */
    if (in->asz == 8 && (in->ea_seg == SEG_FS || in->ea_seg == SEG_GS) &&
        ((in->op == 0x8b && fn == op_mov_G_E) || (in->op == 0x89 && fn == op_mov_E_G)))
        return in->op == 0x8b ? MEM_LOAD : MEM_STORE;
    if (emu_specialize(in, NULL) != fn)
        return MEM_NONE;
    return in->op == 0x8b ? MEM_LOAD : in->op == 0x89 ? MEM_STORE : MEM_NONE;
}

/* The fast path of a memory form; returns the rel32 to patch to its slow path. */
uint8_t *jit_mem_fast(struct emit *e, const struct insn *in, enum mem_form form, uint32_t end_off)
{
    bool q = in->osz == 8;
    unsigned n = (in->op & 7) | ((in->rex & 1) << 3);
    uint8_t *miss;
    switch (form) {
    case MEM_LOAD:
        lin64(e, in, end_off);
        miss = tlb_lookup(e, q ? 8 : 4, ACC_R);
        if (q)
            b1(e, 0x48);
        bytes(e, (const uint8_t[]){ 0x8b, 0x06 }, 2);  /* mov rax/eax, [rsi] */
        store(e, RAX, GPR(in->reg));
        return miss;
    case MEM_LOADX: {
        /* the size read, and the host load that extends it as the handler
         * does (a 32-bit destination zero-extends the 32-bit result) */
        unsigned size = in->op == 0x63 ? 4 : (in->op & 1) ? 2 : 1;
        lin64(e, in, end_off);
        miss = tlb_lookup(e, size, ACC_R);
        if (in->op == 0xb6 || in->op == 0xb7) {
            bytes(e, (const uint8_t[]){ 0x0f, in->op, 0x06 }, 3);  /* movzx eax, byte/word [rsi] */
        } else if (in->op == 0x63) {
            if (q)
                bytes(e, (const uint8_t[]){ 0x48, 0x63, 0x06 }, 3);  /* movsxd rax, dword [rsi] */
            else
                bytes(e, (const uint8_t[]){ 0x8b, 0x06 }, 2);      /* mov eax, [rsi] (no REX.W: a MOV) */
        } else {
            if (q)
                b1(e, 0x48);
            bytes(e, (const uint8_t[]){ 0x0f, in->op, 0x06 }, 3);  /* movsx rax/eax, byte/word [rsi] */
        }
        store(e, RAX, GPR(in->reg));
        return miss;
    }
    case MEM_STORE_IMM: {
        unsigned size = in->op == 0xc6 ? 1 : in->osz;
        lin64(e, in, end_off);
        miss = tlb_lookup(e, size, ACC_W);
        if (size == 1) {
            bytes(e, (const uint8_t[]){ 0xc6, 0x06, (uint8_t)in->imm }, 3);  /* mov byte [rsi], imm8 */
        } else {
            if (size == 8)
                b1(e, 0x48);  /* the imm32 sign-extends, as i->imm was */
            bytes(e, (const uint8_t[]){ 0xc7, 0x06 }, 2);  /* mov dword/qword [rsi], imm32 */
            b4(e, (uint32_t)in->imm);
        }
        return miss;
    }
    case MEM_ALU_IMM: {
        /* as alu_E: CMP reads, the others read and write through the
         * write tag (none for code pages: the handler takes those) */
        uint8_t opcode = 0;
        uint32_t kind = 0;
        bool write = false;
        alu_form(in->nnn, &opcode, &kind, &write);  /* jit_mem_form checked that it is one */
        lin64(e, in, end_off);
        miss = tlb_lookup(e, q ? 8 : 4, write ? ACC_W : ACC_R);
        if (q)
            b1(e, 0x48);
        bytes(e, (const uint8_t[]){ 0x8b, 0x06 }, 2);  /* mov rax/eax, [rsi] */
        mov_imm(e, RCX, q ? in->imm : (uint32_t)in->imm);
        alu_tail(e, opcode, kind, write, q ? 8 : 4, DST_MEM);
        return miss;
    }
    case MEM_ALU_RM: {
        /* as alu_E/alu_G: a is the destination's value, b the source's;
         * the memory is written (through the write tag) only when it is
         * the destination and the op writes */
        uint8_t opcode = 0x21;
        uint32_t kind = LF_SZP;
        bool write = false;
        if (in->op != 0x85)
            alu_form((in->op >> 3) & 7, &opcode, &kind, &write);  /* jit_mem_form checked that it is one */
        bool to_g = in->op != 0x85 && (in->op & 2);
        lin64(e, in, end_off);
        miss = tlb_lookup(e, q ? 8 : 4, write && !to_g ? ACC_W : ACC_R);
        if (to_g) {
            load_sized(e, RAX, GPR(in->reg), q);
            if (q)
                b1(e, 0x48);
            bytes(e, (const uint8_t[]){ 0x8b, 0x0e }, 2);  /* mov rcx/ecx, [rsi] */
        } else {
            if (q)
                b1(e, 0x48);
            bytes(e, (const uint8_t[]){ 0x8b, 0x06 }, 2);  /* mov rax/eax, [rsi] */
            load_sized(e, RCX, GPR(in->reg), q);
        }
        alu_tail(e, opcode, kind, write, q ? 8 : 4, to_g ? GPR(in->reg) : DST_MEM);
        return miss;
    }
    case MEM_BYTE: {
        uint8_t op = in->op, opcode = 0;
        uint32_t kind = 0;
        bool write = false, to_g = op == 0x8a || (op < 0x40 && (op & 2));
        if (op == 0x80)
            alu_form(in->nnn, &opcode, &kind, &write);  /* jit_mem_form checked these */
        else if (op < 0x40)
            alu_form((op >> 3) & 7, &opcode, &kind, &write);
        bool writes_mem = op == 0x88 || (!to_g && op != 0x8a && write);
        lin64(e, in, end_off);
        miss = tlb_lookup(e, 1, writes_mem ? ACC_W : ACC_R);
        uint32_t reg = reg8(in, in->reg);
        if (op == 0x8a) {                                      /* MOV r8, m8 */
            bytes(e, (const uint8_t[]){ 0x0f, 0xb6, 0x06 }, 3);  /* movzx eax, byte [rsi] */
            bytes(e, (const uint8_t[]){ 0x88, 0x83 }, 2);        /* mov [rbx+reg], al */
            b4(e, reg);
        } else if (op == 0x88) {                               /* MOV m8, r8 */
            load_byte(e, RAX, reg);
            bytes(e, (const uint8_t[]){ 0x88, 0x06 }, 2);        /* mov [rsi], al */
        } else if (to_g) {                                     /* ALU r8, m8 */
            load_byte(e, RAX, reg);
            bytes(e, (const uint8_t[]){ 0x0f, 0xb6, 0x0e }, 3);  /* movzx ecx, byte [rsi] */
            alu_tail(e, opcode, kind, write, 1, reg);
        } else {                                               /* ALU m8, r8 / imm8 */
            bytes(e, (const uint8_t[]){ 0x0f, 0xb6, 0x06 }, 3);  /* movzx eax, byte [rsi] */
            if (op == 0x80)
                mov_imm(e, RCX, in->imm & 0xff);
            else
                load_byte(e, RCX, reg);
            alu_tail(e, opcode, kind, write, 1, DST_MEM);
        }
        return miss;
    }
    case MEM_STORE:
        lin64(e, in, end_off);
        miss = tlb_lookup(e, q ? 8 : 4, ACC_W);
        load(e, RCX, GPR(in->reg));
        if (q)
            b1(e, 0x48);
        bytes(e, (const uint8_t[]){ 0x89, 0x0e }, 2);  /* mov [rsi], rcx/ecx */
        return miss;
    case MEM_PUSH:
        load(e, RAX, GPR(GPR_RSP));
        bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xe8, 0x08 }, 4);  /* sub rax, 8 */
        miss = tlb_lookup(e, 8, ACC_W);
        load(e, RCX, GPR(n));  /* the old RSP for PUSH RSP */
        bytes(e, (const uint8_t[]){ 0x48, 0x89, 0x0e }, 3);  /* mov [rsi], rcx */
        store(e, RAX, GPR(GPR_RSP));
        return miss;
    case MEM_SETCC:
    case MEM_CMOVCC: {
        struct cond_exits x;
        jit_cond(e, in->op & 15, &x);
        for (unsigned k = 0; k < x.nother; k++)
            land(e, x.other[k]);
        miss = jump_fwd(e, false);
        for (unsigned k = 0; k < x.nyes; k++)
            land(e, x.yes[k]);
        uint8_t *end = NULL;
        if (form == MEM_SETCC) {
            /* mov byte [rbx+d], 1 / 0 (AH..BH for 4..7 without REX) */
            uint32_t d = reg8(in, in->rm);
            bytes(e, (const uint8_t[]){ 0xc6, 0x83 }, 2);
            b4(e, d);
            b1(e, 1);
            end = jump_fwd(e, false);
            for (unsigned k = 0; k < x.nno; k++)
                land(e, x.no[k]);
            bytes(e, (const uint8_t[]){ 0xc6, 0x83 }, 2);
            b4(e, d);
            b1(e, 0);
        } else {
            /* true: the source; false: a 32-bit destination is zero-extended */
            load_sized(e, RAX, GPR(in->rm), q);
            store(e, RAX, GPR(in->reg));
            end = jump_fwd(e, false);
            for (unsigned k = 0; k < x.nno; k++)
                land(e, x.no[k]);
            if (!q) {
                load_sized(e, RAX, GPR(in->reg), false);
                store(e, RAX, GPR(in->reg));
            }
        }
        land(e, end);
        return miss;
    }
    default: /* MEM_POP */
        load(e, RAX, GPR(GPR_RSP));
        miss = tlb_lookup(e, 8, ACC_R);
        bytes(e, (const uint8_t[]){ 0x48, 0x8b, 0x0e }, 3);  /* mov rcx, [rsi] */
        bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xc0, 0x08 }, 4);  /* add rax, 8 */
        store(e, RAX, GPR(GPR_RSP));
        store(e, RCX, GPR(n));  /* after RSP: POP RSP leaves the value */
        return miss;
    }
}
