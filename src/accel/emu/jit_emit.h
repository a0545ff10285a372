/* The emitter that block code (jit.c, jit_forms.c, jit_branch.c) is
 * written with: x86-64 instructions as bytes, only the forms block code
 * uses, and the pieces of block code that several instruction forms
 * share. Internal to those files.
 *
 * Host registers in block code: rbx = the emu_cpu, r12 = RIP of the
 * block's first instruction, r13 = the expected next RIP, r14 = the
 * block's decoded instructions, r15 = the TLB of the current CPL. */
#ifndef BRUME_ACCEL_EMU_JIT_EMIT_H
#define BRUME_ACCEL_EMU_JIT_EMIT_H

#include <stddef.h>
#include <string.h>

#include "accel/emu/insn.h"

/* ---- a tiny x86-64 emitter: only the forms block code uses ---- */

struct emit {
    uint8_t *p;       /* writable view */
    uintptr_t rx;     /* executable address of *p */
    /* The block whose code this is (NULL: the way in), and its exit once
     * RIP is set (the chaining checks: jit.c). */
    struct emu_block *b;
    uintptr_t exit_rip_set;
    /* The lazy record's op that the code emitted so far has certainly left
     * (an inline ALU op, shift or IMUL, and only instructions that keep
     * the flags since), 0 when not known; and whether its b is then 0
     * (CF = OF = 0 for LF_SZP). jit_cond needs no dispatch when known. */
    uint32_t lf_known;
    bool lf_b_zero;
};

static inline void b1(struct emit *e, uint8_t v) { *e->p++ = v; e->rx++; }
static inline void b4(struct emit *e, uint32_t v) { memcpy(e->p, &v, 4); e->p += 4; e->rx += 4; }
static inline void b8(struct emit *e, uint64_t v) { memcpy(e->p, &v, 8); e->p += 8; e->rx += 8; }
static inline void bytes(struct emit *e, const uint8_t *v, unsigned n) { while (n--) b1(e, *v++); }

#define CPU(field) ((uint32_t)offsetof(struct emu_cpu, field))

/* op [rbx + d32] with a 64-bit register operand reg (0..15): REX.W, opcode, ModRM mod=10 rm=rbx */
static inline void rbx_mem(struct emit *e, uint8_t opcode, unsigned reg, uint32_t d)
{
    b1(e, (uint8_t)(0x48 | ((reg & 8) ? 4 : 0)));
    b1(e, opcode);
    b1(e, (uint8_t)(0x83 | ((reg & 7) << 3)));
    b4(e, d);
}

enum { RAX = 0, RCX = 1, RDX = 2, RSI = 6, RDI = 7, R12 = 12, R13 = 13 };

static inline void load(struct emit *e, unsigned reg, uint32_t d) { rbx_mem(e, 0x8b, reg, d); }   /* mov reg, [rbx+d] */
static inline void store(struct emit *e, unsigned reg, uint32_t d) { rbx_mem(e, 0x89, reg, d); }  /* mov [rbx+d], reg */

/* lea reg, [r12 + d32] (reg: RAX or R13) */
static inline void lea_r12(struct emit *e, unsigned reg, uint32_t d)
{
    b1(e, (uint8_t)(0x49 | ((reg & 8) ? 4 : 0)));
    b1(e, 0x8d);
    b1(e, (uint8_t)(0x84 | ((reg & 7) << 3)));
    b1(e, 0x24);  /* SIB: base r12, no index */
    b4(e, d);
}

/* n bytes (a multiple of 8) from [rbx+from] to [rbx+to], 8 at a time:
 * what is copied was just written 8 bytes at a time, and a wider load of
 * it would wait for those stores to leave the store buffer (the host
 * cannot forward two stores to one load). Clobbers rax. */
static inline void copy8s(struct emit *e, uint32_t from, uint32_t to, unsigned n)
{
    for (unsigned k = 0; k < n; k += 8) {
        bytes(e, (const uint8_t[]){ 0x48, 0x8b, 0x83 }, 3);  /* mov rax, [rbx+from+k] */
        b4(e, from + k);
        bytes(e, (const uint8_t[]){ 0x48, 0x89, 0x83 }, 3);  /* mov [rbx+to+k], rax */
        b4(e, to + k);
    }
}

static inline void call(struct emit *e, const void *fn)
{
    intptr_t rel = (intptr_t)(uintptr_t)fn - (intptr_t)(e->rx + 5);
    if (rel == (int32_t)rel) {
        b1(e, 0xe8);
        b4(e, (uint32_t)(int32_t)rel);
        return;
    }
    b1(e, 0x48);  /* mov rax, imm64; call rax */
    b1(e, 0xb8);
    b8(e, (uint64_t)(uintptr_t)fn);
    bytes(e, (const uint8_t[]){ 0xff, 0xd0 }, 2);
}

/* jnz rel32 to target (an executable address) */
static inline void jnz(struct emit *e, uintptr_t target)
{
    bytes(e, (const uint8_t[]){ 0x0f, 0x85 }, 2);
    b4(e, (uint32_t)(int32_t)((intptr_t)target - (intptr_t)(e->rx + 4)));
}

#define GPR(n) (CPU(r) + 8u * (unsigned)(n))

/* mov reg, [rbx+d] as 64 bits, or 32 bits zero-extended (reg: 0..7) */
static inline void load_sized(struct emit *e, unsigned reg, uint32_t d, bool q)
{
    if (q)
        b1(e, 0x48);
    b1(e, 0x8b);
    b1(e, (uint8_t)(0x83 | (reg << 3)));
    b4(e, d);
}

/* mov reg, imm64 (reg 0..7), the short forms when the value allows */
static inline void mov_imm(struct emit *e, unsigned reg, uint64_t v)
{
    if (v == (uint32_t)v) {
        b1(e, (uint8_t)(0xb8 + reg));  /* mov r32, imm32: zero-extends */
        b4(e, (uint32_t)v);
    } else if ((int64_t)v == (int32_t)v) {
        bytes(e, (const uint8_t[]){ 0x48, 0xc7, (uint8_t)(0xc0 + reg) }, 3);
        b4(e, (uint32_t)v);
    } else {
        b1(e, 0x48);
        b1(e, (uint8_t)(0xb8 + reg));
        b8(e, v);
    }
}

/* mov dword [rbx+d], imm32 */
static inline void store_imm32(struct emit *e, uint32_t d, uint32_t v)
{
    bytes(e, (const uint8_t[]){ 0xc7, 0x83 }, 2);
    b4(e, d);
    b4(e, v);
}

/* lf.op = op, as an inline form leaves it (b_zero: its b is 0) */
static inline void set_lf_op(struct emit *e, uint32_t op, bool b_zero)
{
    store_imm32(e, CPU(lf.op), op);
    e->lf_known = op;
    e->lf_b_zero = b_zero;
}

/* add qword [rbx+insns], n: the inline instructions since the last flush */
static inline void count(struct emit *e, unsigned *pending)
{
    if (!*pending)
        return;
    bytes(e, (const uint8_t[]){ 0x48, 0x83, 0x83 }, 3);
    b4(e, CPU(insns));
    b1(e, (uint8_t)*pending);
    *pending = 0;
}

/* A forward rel32 jump whose target is patched later. */
static inline uint8_t *jump_fwd(struct emit *e, bool cond)
{
    if (cond)
        bytes(e, (const uint8_t[]){ 0x0f, 0x85 }, 2);  /* jne */
    else
        b1(e, 0xe9);
    uint8_t *at = e->p;
    b4(e, 0);
    return at;
}

static inline void land(struct emit *e, uint8_t *rel32)
{
    int32_t rel = (int32_t)(e->p - (rel32 + 4));
    memcpy(rel32, &rel, 4);
}

_Static_assert(sizeof(struct emu_tlb_entry) == 64, "block code indexes the TLB by a shift");
typedef struct emu_tlb_entry c_tlb_row[EMU_TLB_SIZE];

/* rsi = the host address of size bytes at linear rax (kept) when the TLB
 * (r15: this CPL's) allows access acc; else jumps to the returned rel32. */
static inline uint8_t *tlb_lookup(struct emit *e, unsigned size, unsigned acc)
{
    /* rdx = ((lin >> 12) & (EMU_TLB_SIZE - 1)) * 64, the entry's offset */
    bytes(e, (const uint8_t[]){ 0x89, 0xc2 }, 2);              /* mov edx, eax */
    bytes(e, (const uint8_t[]){ 0xc1, 0xea, 0x06 }, 3);        /* shr edx, 6 */
    bytes(e, (const uint8_t[]){ 0x81, 0xe2 }, 2);              /* and edx, (EMU_TLB_SIZE - 1) << 6 */
    b4(e, (EMU_TLB_SIZE - 1) << 6);
    /* The page of the last byte must be the tag: a tag is page-aligned, so
     * this also refuses accesses that cross into the next page. */
    bytes(e, (const uint8_t[]){ 0x48, 0x8d, 0x48, (uint8_t)(size - 1) }, 4);  /* lea rcx, [rax+size-1] */
    bytes(e, (const uint8_t[]){ 0x48, 0x81, 0xe1, 0x00, 0xf0, 0xff, 0xff }, 7);  /* and rcx, -4096 */
    bytes(e, (const uint8_t[]){ 0x49, 0x3b, 0x8c, 0x17 }, 4);  /* cmp rcx, [r15+rdx+tag] */
    b4(e, (uint32_t)(offsetof(struct emu_tlb_entry, tag) + 8 * acc));
    uint8_t *miss = jump_fwd(e, true);
    bytes(e, (const uint8_t[]){ 0x48, 0x89, 0xc6 }, 3);        /* mov rsi, rax */
    bytes(e, (const uint8_t[]){ 0x49, 0x03, 0xb4, 0x17 }, 4);  /* add rsi, [r15+rdx+addend] */
    b4(e, (uint32_t)offsetof(struct emu_tlb_entry, addend));
    return miss;
}

/* rax = imm64 (the mov rax, imm64 form, whatever the value) */
static inline void mov_rax_imm64(struct emit *e, uint64_t v)
{
    b1(e, 0x48);
    b1(e, 0xb8);
    b8(e, v);
}

/* jmp to an executable address (rel32) */
static inline void jmp_to(struct emit *e, uintptr_t target)
{
    b1(e, 0xe9);
    b4(e, (uint32_t)(int32_t)((intptr_t)target - (intptr_t)(e->rx + 4)));
}

/* jumps to the returned rel32 unless rax is canonical (clobbers rdx) */
static inline uint8_t *unless_canonical(struct emit *e)
{
    bytes(e, (const uint8_t[]){ 0x48, 0x89, 0xc2 }, 3);        /* mov rdx, rax */
    bytes(e, (const uint8_t[]){ 0x48, 0xc1, 0xe2, 0x10 }, 4);  /* shl rdx, 16 */
    bytes(e, (const uint8_t[]){ 0x48, 0xc1, 0xfa, 0x10 }, 4);  /* sar rdx, 16 */
    bytes(e, (const uint8_t[]){ 0x48, 0x39, 0xc2 }, 3);        /* cmp rdx, rax */
    return jump_fwd(e, true);
}

/* r15 = &c->tlb[CPL == 3] (clobbers rcx) */
static inline void emit_tlb_row(struct emit *e)
{
    bytes(e, (const uint8_t[]){ 0x31, 0xc9, 0x80, 0xbb }, 4);  /* xor ecx, ecx; cmp byte [rbx+cpl], 3 */
    b4(e, CPU(cpl));
    b1(e, 3);
    bytes(e, (const uint8_t[]){ 0x0f, 0x94, 0xc1, 0x69, 0xc9 }, 5);  /* sete cl; imul ecx, ecx, imm32 */
    b4(e, (uint32_t)sizeof(c_tlb_row));
    bytes(e, (const uint8_t[]){ 0x4c, 0x8d, 0xbc, 0x0b }, 4);  /* lea r15, [rbx+rcx+tlb] */
    b4(e, CPU(tlb));
}

/* rax = the block's RIP + off + disp (RIP-relative operands, branch
 * targets: off is the end of the instruction) */
static inline void rip_plus(struct emit *e, uint32_t off, uint64_t disp)
{
    lea_r12(e, RAX, off);
    if (disp) {
        mov_imm(e, RCX, disp);
        bytes(e, (const uint8_t[]){ 0x48, 0x01, 0xc8 }, 3);  /* add rax, rcx */
    }
}

/* RIP = the instruction at off in the block (the fall-through of the
 * last one), then the block's exit (the chaining checks) */
static inline void exit_at(struct emit *e, uint32_t off, uintptr_t exit_rip_set)
{
    lea_r12(e, RAX, off);
    store(e, RAX, CPU(rip));
    jmp_to(e, exit_rip_set);
}

/* ---- shared by the instruction forms (defined in jit.c, jit_forms.c) ---- */

/* RIP = the block's RIP + off (the instruction that ends at off, or a
 * branch target: a constant distance), then a jump that emu_jit_link
 * points at the target block's code. Only for a target on the block's own
 * page (jit_can_goto): the same page has the same translation, so no TLB
 * lookup; and only where nothing that the generic exit checks can have
 * changed (an instruction whose handler could, STI, POPF..., ends with the
 * generic exit). */
bool jit_can_goto(const struct emit *e, int64_t off);
void jit_goto(struct emit *e, int64_t off);

/* The generic form of instruction k of the block's instructions bi (at
 * offset at, ending at end_off): what run_block does for it, with a
 * direct call to its handler. Jumps to exit when the block must end. */
void jit_call_out(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
                  uintptr_t exit);

/* Emits in inline when it is one of the forms that need no call (end_off:
 * its end offset in the block); false: it is not. */
bool jit_inline(struct emit *e, const struct insn *in, emu_op_fn fn, uint32_t end_off);

enum mem_form {
    MEM_NONE, MEM_LOAD, MEM_STORE, MEM_PUSH, MEM_POP,
    MEM_LOADX,      /* MOVZX, MOVSX r32/r64, m8/m16; MOVSXD r64, m32 */
    MEM_STORE_IMM,  /* MOV m8/m32/m64, imm (C6, C7 /0) */
    MEM_ALU_IMM,    /* ADD, OR, AND, SUB, XOR, CMP m32/m64, imm (81, 83) */
    MEM_ALU_RM,     /* the same ops between a register and m32/m64, both ways; TEST m, r */
    MEM_BYTE,       /* MOV r8, m8 and m8, r8; ALU m8, r8 / r8, m8; group 1 m8, imm8 */
    /* Not memory forms, but forms with a fast path and the handler as the
     * slow path all the same (when jit_cond cannot decide): */
    MEM_SETCC,      /* SETcc r8 */
    MEM_CMOVCC,     /* CMOVcc r32/r64, r32/r64 */
};
/* The memory form of in (handler fn) that has a TLB fast path, or MEM_NONE. */
enum mem_form jit_mem_form(const struct emit *e, const struct insn *in, emu_op_fn fn);
/* Its fast path; returns the rel32 to patch to its slow path. */
uint8_t *jit_mem_fast(struct emit *e, const struct insn *in, enum mem_form form, uint32_t end_off);

/* Condition cc (Jcc's low opcode bits) decided from the lazy record
 * (jit_branch.c): jumps (rel32s to patch) to where it holds (yes), where
 * it does not (no), and where the record is one that the host cannot
 * redo (other: run the instruction's handler). Clobbers rax. */
#define COND_FORMS_MAX 12
#define COND_OTHER_MAX (COND_FORMS_MAX + 1)
struct cond_exits {
    uint8_t *yes[COND_FORMS_MAX], *no[COND_FORMS_MAX], *other[COND_OTHER_MAX];
    unsigned nyes, nno, nother;
};
void jit_cond(struct emit *e, unsigned cc, struct cond_exits *x);
/* True when the record at this point is known (e->lf_known) well enough
 * for jit_cond to decide cc with no dispatch. */
bool jit_cond_known(const struct emit *e, unsigned cc);

/* Jcc, CALL rel32, RET as the last instruction of a block (jit_branch.c):
 * whether in is one, and its code (pending: inline instructions before it
 * not yet counted in c->insns). */
bool jit_is_jcc64(const struct insn *in, emu_op_fn fn);
void jit_jcc(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
             unsigned pending, uintptr_t exit, uintptr_t exit_rip_set);
bool jit_is_call_ret(const struct insn *in, emu_op_fn fn);
void jit_call_ret(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
                  unsigned pending, uintptr_t exit, uintptr_t exit_rip_set);

#endif
