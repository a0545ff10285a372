/* Block code: host machine code that runs a decoded block (block.c) by
 * calling each instruction's handler in turn ("call threading").
 *
 * Why: the block loop in exec.c pays, per guest instruction, a load of the
 * handler, an indirect call from one call site (which the host's branch
 * predictor mostly gets wrong, the targets change at every instruction),
 * and the loop's bookkeeping. Block code does the same bookkeeping with
 * constants folded in and calls each handler from its own call site, a
 * direct call the predictor always gets right. It is the first step of a
 * translator: hot handlers can later be emitted inline, one form at a time.
 *
 * What the code of a block does is exactly what run_block() does, in the
 * same order, and it must stay so (tests/unit/emu/test_jit.c runs the same
 * guest code both ways):
 *
 *   block_break = false; exec_page = block's page
 *   for each instruction k (RIP of the first is c->rip at entry):
 *       rip = start + off[k]; next = rip + len[k]
 *       if ckpt[k]: rflags_start = rflags; lf_start = lf; ckpt_insns = insns
 *       next_rip = next; handler[k](c, &insn[k]); insns++
 *       if next_rip != next || block_break || exit: break
 *   rip = next_rip; exec_page = 0
 *
 * Only 64-bit blocks get code (no RIP wrap inside them). Faults longjmp
 * out of the block code as out of run_block: it keeps nothing on its stack
 * frame that outlives the call.
 *
 * Memory: one shared-memory file mapped twice per vCPU, writable at one
 * address and executable at another, so no page is ever writable and
 * executable at once. The executable view is placed near brume's own text
 * when the kernel agrees, so calls to handlers are 5-byte direct calls. It
 * is emptied with the block arena (block.c). BRUME_NO_JIT=1 turns block
 * code off (the loop of exec.c then runs every block). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/emu/insn.h"
#include "accel/emu/jit.h"

#define JIT_SIZE (64u << 20)
/* The most one instruction's code takes (checkpoint, far call, checks). */
#define JIT_INSN_MAX 320
#define JIT_FRAME_MAX 1024  /* the entry, the exits, and a Jcc's extra */

struct emu_jit {
    uint8_t *rw, *rx;
    size_t used;
    uintptr_t leave;  /* the way out (emit_entry) */
};

static void emit_entry(struct emu_jit *j);

struct emu_jit *emu_jit_new(void)
{
    const char *off = getenv("BRUME_NO_JIT");
    if (off && *off && strcmp(off, "0") != 0)
        return NULL;
    struct emu_jit *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    int fd = memfd_create("brume-jit", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, JIT_SIZE) < 0)
        goto fail;
    j->rw = mmap(NULL, JIT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    /* A hint 512 MiB past our text: most handler calls then fit in rel32. */
    uintptr_t hint = (((uintptr_t)&emu_jit_new) + (512u << 20)) & ~(uintptr_t)0xfff;
    j->rx = mmap((void *)hint, JIT_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (j->rw == MAP_FAILED || j->rx == MAP_FAILED)
        goto fail;
    close(fd);
    emit_entry(j);
    return j;
fail:
    if (j->rw && j->rw != MAP_FAILED)
        munmap(j->rw, JIT_SIZE);
    if (j->rx && j->rx != MAP_FAILED)
        munmap(j->rx, JIT_SIZE);
    if (fd >= 0)
        close(fd);
    free(j);
    return NULL;
}

void emu_jit_delete(struct emu_jit *j)
{
    if (!j)
        return;
    /* For profiles: perf names block code by address only; objdump -b
     * binary --adjust-vma=<the address in the name> reads this back. */
    const char *dump = getenv("BRUME_JIT_DUMP");
    if (dump && *dump) {
        char path[4096];
        snprintf(path, sizeof(path), "%s.%llx", dump, (unsigned long long)(uintptr_t)j->rx);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(j->rw, 1, j->used, f);
            fclose(f);
        }
    }
    munmap(j->rw, JIT_SIZE);
    munmap(j->rx, JIT_SIZE);
    free(j);
}

void emu_jit_reset(struct emu_jit *j)
{
    if (j)
        emit_entry(j);
}

/* ---- a tiny x86-64 emitter: only the forms block code uses ---- */

struct emit {
    uint8_t *p;       /* writable view */
    uintptr_t rx;     /* executable address of *p */
};

static void b1(struct emit *e, uint8_t v) { *e->p++ = v; e->rx++; }
static void b4(struct emit *e, uint32_t v) { memcpy(e->p, &v, 4); e->p += 4; e->rx += 4; }
static void b8(struct emit *e, uint64_t v) { memcpy(e->p, &v, 8); e->p += 8; e->rx += 8; }
static void bytes(struct emit *e, const uint8_t *v, unsigned n) { while (n--) b1(e, *v++); }

#define CPU(field) ((uint32_t)offsetof(struct emu_cpu, field))

/* Host registers: rbx = the emu_cpu, r12 = RIP of the block's first
 * instruction, r13 = the expected next RIP, r14 = the block's instructions. */

/* op [rbx + d32] with a 64-bit register operand reg (0..15): REX.W, opcode, ModRM mod=10 rm=rbx */
static void rbx_mem(struct emit *e, uint8_t opcode, unsigned reg, uint32_t d)
{
    b1(e, (uint8_t)(0x48 | ((reg & 8) ? 4 : 0)));
    b1(e, opcode);
    b1(e, (uint8_t)(0x83 | ((reg & 7) << 3)));
    b4(e, d);
}

enum { RAX = 0, RSI = 6, RDI = 7, R12 = 12, R13 = 13 };

static void load(struct emit *e, unsigned reg, uint32_t d) { rbx_mem(e, 0x8b, reg, d); }   /* mov reg, [rbx+d] */
static void store(struct emit *e, unsigned reg, uint32_t d) { rbx_mem(e, 0x89, reg, d); }  /* mov [rbx+d], reg */

/* lea reg, [r12 + d32] (reg: RAX or R13) */
static void lea_r12(struct emit *e, unsigned reg, uint32_t d)
{
    b1(e, (uint8_t)(0x49 | ((reg & 8) ? 4 : 0)));
    b1(e, 0x8d);
    b1(e, (uint8_t)(0x84 | ((reg & 7) << 3)));
    b1(e, 0x24);  /* SIB: base r12, no index */
    b4(e, d);
}

/* movdqu xmm0, [rbx+d] / movdqu [rbx+d], xmm0 */
static void copy16(struct emit *e, uint32_t from, uint32_t to)
{
    bytes(e, (const uint8_t[]){ 0xf3, 0x0f, 0x6f, 0x83 }, 4);
    b4(e, from);
    bytes(e, (const uint8_t[]){ 0xf3, 0x0f, 0x7f, 0x83 }, 4);
    b4(e, to);
}

static void call(struct emit *e, const void *fn)
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
static void jnz(struct emit *e, uintptr_t target)
{
    bytes(e, (const uint8_t[]){ 0x0f, 0x85 }, 2);
    b4(e, (uint32_t)(int32_t)((intptr_t)target - (intptr_t)(e->rx + 4)));
}

_Static_assert(sizeof(struct emu_lazy_flags) == 32, "block code copies the lazy flags as two 16-byte halves");

/* ---- inline forms: instructions emitted as host code, no handler call ----
 * Only forms that can neither fault nor change RIP, the mode or the run
 * (register MOVs and ALU ops, LEA): they need no RIP, no flag checkpoint
 * and no check after them. Each must leave exactly what special.c's
 * handler for the form leaves (registers and the lazy flag record), since
 * the instructions after it, run by handlers, read that. The form is taken
 * inline only when the block's handler is special.c's for it, so the
 * decoder's checks (LOCK, sizes, ModRM) have been made. */

enum { RCX = 1, RDX = 2 };

#define GPR(n) (CPU(r) + 8u * (unsigned)(n))

/* mov reg, [rbx+d] as 64 bits, or 32 bits zero-extended (reg: 0..7) */
static void load_sized(struct emit *e, unsigned reg, uint32_t d, bool q)
{
    if (q)
        b1(e, 0x48);
    b1(e, 0x8b);
    b1(e, (uint8_t)(0x83 | (reg << 3)));
    b4(e, d);
}

/* mov reg, imm64 (reg 0..7), the short forms when the value allows */
static void mov_imm(struct emit *e, unsigned reg, uint64_t v)
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
static void store_imm32(struct emit *e, uint32_t d, uint32_t v)
{
    bytes(e, (const uint8_t[]){ 0xc7, 0x83 }, 2);
    b4(e, d);
    b4(e, v);
}

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

/* rax = a OP rcx (b), both already in place and masked to the size; then
 * the lazy record and the destination, as special.c's ALU_RR/ALU_RI. */
#define DST_MEM 0xffu  /* alu_tail's destination: the memory at rsi */

static void alu_tail(struct emit *e, uint8_t opcode, uint32_t kind, bool write, bool q, unsigned dst)
{
    unsigned size = q ? 8 : 4;
    if (kind != LF_SZP) {
        store(e, RAX, CPU(lf.a));
        store(e, RCX, CPU(lf.b));
    }
    alu_rax_rcx(e, opcode, q);  /* a 32-bit op zero-extends rax */
    store(e, RAX, CPU(lf.res));
    if (kind == LF_SZP) {
        bytes(e, (const uint8_t[]){ 0x48, 0xc7, 0x83 }, 3);  /* mov qword [rbx+lf.b], 0 */
        b4(e, CPU(lf.b));
        b4(e, 0);
    }
    store_imm32(e, CPU(lf.op), kind | (size << LF_SIZE_SHIFT));
    if (write && dst == DST_MEM) {
        if (q)
            b1(e, 0x48);
        bytes(e, (const uint8_t[]){ 0x89, 0x06 }, 2);  /* mov [rsi], rax/eax */
    } else if (write) {
        store(e, RAX, GPR(dst));
    }
}

/* rax = the effective address of in's memory operand, 64-bit addressing
 * (end_off: the instruction's end in the block, for RIP-relative ones). */
static void ea64(struct emit *e, const struct insn *in, uint32_t end_off)
{
    uint64_t disp = (uint64_t)in->disp;
    if (in->ea_base == EA_RIP) {
        lea_r12(e, RAX, end_off);
        if (disp) {
            mov_imm(e, RCX, disp);
            bytes(e, (const uint8_t[]){ 0x48, 0x01, 0xc8 }, 3);  /* add rax, rcx */
        }
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

/* Emits instruction in inline when it is an inline form (end_off: its end
 * offset in the block, for RIP-relative LEA); false: call its handler. */
static bool emit_inline(struct emit *e, const struct insn *in, emu_op_fn fn, uint32_t end_off)
{
    if (in->map != MAP_1BYTE || in->lock || (in->osz != 4 && in->osz != 8))
        return false;
    bool q = in->osz == 8;
    uint8_t op = in->op;
    if (op >= 0xb8 && op <= 0xbf && fn == op_mov_Zv_Iv) {  /* MOV r, imm */
        mov_imm(e, RAX, q ? in->imm : (uint32_t)in->imm);
        store(e, RAX, GPR((op & 7) | ((in->rex & 1) << 3)));
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
            alu_tail(e, opcode, kind, write, q, dst);
            return true;
        }
        if (op == 0x81 || op == 0x83) {  /* group 1: op r, imm */
            if (!alu_form(in->nnn, &opcode, &kind, &write))
                return false;
            load_sized(e, RAX, GPR(in->rm), q);
            mov_imm(e, RCX, q ? in->imm : (uint32_t)in->imm);
            alu_tail(e, opcode, kind, write, q, in->rm);
            return true;
        }
        return false;
    }
    if (op == 0x8d && q && in->asz == 8) {  /* LEA r64, m */
        ea64(e, in, end_off);
        store(e, RAX, GPR(in->reg));
        return true;
    }
    return false;
}

/* add qword [rbx+insns], n: the inline instructions since the last flush */
static void count(struct emit *e, unsigned *pending)
{
    if (!*pending)
        return;
    bytes(e, (const uint8_t[]){ 0x48, 0x83, 0x83 }, 3);
    b4(e, CPU(insns));
    b1(e, (uint8_t)*pending);
    *pending = 0;
}

/* The generic form of instruction k (at offset at, ending at end_off):
 * what run_block does for it. Jumps to exit when the block must end. */
static void call_out(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
                     uintptr_t exit)
{
    const struct insn *in = &bi[k].i;
    lea_r12(e, RAX, at);
    store(e, RAX, CPU(rip));
    lea_r12(e, R13, end_off);
    if (in->ckpt) {
        load(e, RAX, CPU(rflags));
        store(e, RAX, CPU(rflags_start));
        copy16(e, CPU(lf), CPU(lf_start));
        copy16(e, CPU(lf) + 16, CPU(lf_start) + 16);
        load(e, RAX, CPU(insns));
        store(e, RAX, CPU(ckpt_insns));
    }
    store(e, R13, CPU(next_rip));
    bytes(e, (const uint8_t[]){ 0x48, 0x89, 0xdf }, 3);  /* mov rdi, rbx */
    bytes(e, (const uint8_t[]){ 0x49, 0x8d, 0xb6 }, 3);  /* lea rsi, [r14 + d32] */
    b4(e, (uint32_t)((const uint8_t *)in - (const uint8_t *)bi));
    call(e, (const void *)bi[k].fn);
    unsigned one = 1;
    count(e, &one);
    rbx_mem(e, 0x39, R13, CPU(next_rip));                /* cmp [rbx+next_rip], r13 */
    jnz(e, exit);
    bytes(e, (const uint8_t[]){ 0x0f, 0xb6, 0x83 }, 3);  /* movzx eax, byte [rbx+block_break] */
    b4(e, CPU(block_break));
    bytes(e, (const uint8_t[]){ 0x0b, 0x83 }, 2);        /* or eax, [rbx+exit] */
    b4(e, CPU(exit));
    jnz(e, exit);
}

/* A forward rel32 jump whose target is patched later. */
static uint8_t *jump_fwd(struct emit *e, bool cond)
{
    if (cond)
        bytes(e, (const uint8_t[]){ 0x0f, 0x85 }, 2);  /* jne */
    else
        b1(e, 0xe9);
    uint8_t *at = e->p;
    b4(e, 0);
    return at;
}

static void land(struct emit *e, uint8_t *rel32)
{
    int32_t rel = (int32_t)(e->p - (rel32 + 4));
    memcpy(rel32, &rel, 4);
}

/* ---- inline memory forms: MOV r, m and MOV m, r (32/64-bit), PUSH r64,
 * POP r64, through the TLB like emu_read_lin / emu_write_lin. A TLB miss,
 * a page-crossing access, a non-canonical address (never a tag) or a store
 * into a code page (no write tag) runs the handler instead, which does the
 * same access the slow way and may fault. ---- */

enum mem_form {
    MEM_NONE, MEM_LOAD, MEM_STORE, MEM_PUSH, MEM_POP,
    MEM_LOADX,      /* MOVZX, MOVSX r32/r64, m8/m16; MOVSXD r64, m32 */
    MEM_STORE_IMM,  /* MOV m8/m32/m64, imm (C6, C7 /0) */
    MEM_ALU_IMM,    /* ADD, OR, AND, SUB, XOR, CMP m32/m64, imm (81, 83) */
};

/* A memory operand that the generic handlers (data.c) would address
 * through insn_lin's 64-bit fast case: 64-bit addressing, no FS/GS base. */
static bool plain_mem64(const struct insn *in)
{
    return in->has_modrm && in->mod != 3 && in->asz == 8 && in->ea_seg < SEG_FS && (in->osz == 4 || in->osz == 8);
}

static enum mem_form mem_form(const struct insn *in, emu_op_fn fn)
{
    if (in->lock)
        return MEM_NONE;
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
    if (!in->has_modrm || in->mod == 3 || (in->osz != 4 && in->osz != 8) || emu_specialize(in, NULL) != fn)
        return MEM_NONE;
    return in->op == 0x8b ? MEM_LOAD : in->op == 0x89 ? MEM_STORE : MEM_NONE;
}

_Static_assert(sizeof(struct emu_tlb_entry) == 64, "block code indexes the TLB by a shift");
typedef struct emu_tlb_entry c_tlb_row[EMU_TLB_SIZE];

/* rsi = the host address of size bytes at linear rax (kept) when the TLB
 * (r15: this CPL's) allows access acc; else jumps to the returned rel32. */
static uint8_t *tlb_lookup(struct emit *e, unsigned size, unsigned acc)
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

/* The fast path of a memory form; returns the rel32 to patch to its slow path. */
static uint8_t *emit_mem_fast(struct emit *e, const struct insn *in, enum mem_form form, uint32_t end_off)
{
    bool q = in->osz == 8;
    unsigned n = (in->op & 7) | ((in->rex & 1) << 3);
    uint8_t *miss;
    switch (form) {
    case MEM_LOAD:
        ea64(e, in, end_off);
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
        ea64(e, in, end_off);
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
        ea64(e, in, end_off);
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
        uint8_t opcode;
        uint32_t kind;
        bool write;
        alu_form(in->nnn, &opcode, &kind, &write);
        ea64(e, in, end_off);
        miss = tlb_lookup(e, q ? 8 : 4, write ? ACC_W : ACC_R);
        if (q)
            b1(e, 0x48);
        bytes(e, (const uint8_t[]){ 0x8b, 0x06 }, 2);  /* mov rax/eax, [rsi] */
        mov_imm(e, RCX, q ? in->imm : (uint32_t)in->imm);
        alu_tail(e, opcode, kind, write, q, DST_MEM);
        return miss;
    }
    case MEM_STORE:
        ea64(e, in, end_off);
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

/* rax = imm64 (the mov rax, imm64 form, whatever the value) */
static void mov_rax_imm64(struct emit *e, uint64_t v)
{
    b1(e, 0x48);
    b1(e, 0xb8);
    b8(e, v);
}

/* The self-check: jumps to the returned rel32 (to patch) unless the 8
 * bytes at rax + at, shifted left by sh bits, equal want. */
static uint8_t *check8(struct emit *e, uint32_t at, unsigned sh, uint64_t want)
{
    bytes(e, (const uint8_t[]){ 0x48, 0x8b, 0x88 }, 3);  /* mov rcx, [rax+at] */
    b4(e, at);
    if (sh)
        bytes(e, (const uint8_t[]){ 0x48, 0xc1, 0xe1, (uint8_t)sh }, 4);  /* shl rcx, sh */
    b1(e, 0x48);  /* mov rdx, imm64 */
    b1(e, 0xba);
    b8(e, want << sh);
    bytes(e, (const uint8_t[]){ 0x48, 0x39, 0xd1 }, 3);  /* cmp rcx, rdx */
    return jump_fwd(e, true);
}

/* The way in (at the start of the buffer, emitted after every reset):
 * saves rbx and r12..r15 (five pushes after the return address keep the
 * stack 16-byte aligned for the handler calls), rbx = c, jumps to the
 * code; "leave" (right after it) undoes that. */
static void emit_entry(struct emu_jit *j)
{
    struct emit e = { j->rw, (uintptr_t)j->rx };
    bytes(&e, (const uint8_t[]){ 0x53, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57 }, 9);
    bytes(&e, (const uint8_t[]){ 0x48, 0x89, 0xfb }, 3);  /* mov rbx, rdi */
    bytes(&e, (const uint8_t[]){ 0xff, 0xe6 }, 2);        /* jmp rsi */
    j->leave = e.rx;
    bytes(&e, (const uint8_t[]){ 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5b, 0xc3 }, 10);
    j->used = 16 + 16;
}

void (*emu_jit_entry(const struct emu_jit *j))(struct emu_cpu *c, const void *code)
{
    return (void (*)(struct emu_cpu *, const void *))(uintptr_t)j->rx;
}

/* jmp to an executable address (rel32) */
static void jmp_to(struct emit *e, uintptr_t target)
{
    b1(e, 0xe9);
    b4(e, (uint32_t)(int32_t)((intptr_t)target - (intptr_t)(e->rx + 4)));
}

/* jumps to the returned rel32 unless rax is canonical (clobbers rdx) */
static uint8_t *unless_canonical(struct emit *e)
{
    bytes(e, (const uint8_t[]){ 0x48, 0x89, 0xc2 }, 3);        /* mov rdx, rax */
    bytes(e, (const uint8_t[]){ 0x48, 0xc1, 0xe2, 0x10 }, 4);  /* shl rdx, 16 */
    bytes(e, (const uint8_t[]){ 0x48, 0xc1, 0xfa, 0x10 }, 4);  /* sar rdx, 16 */
    bytes(e, (const uint8_t[]){ 0x48, 0x39, 0xc2 }, 3);        /* cmp rdx, rax */
    return jump_fwd(e, true);
}

/* ---- Jcc inline (64-bit mode; the last instruction of its block) ----
 * When the lazy record is a plain SUB/CMP, ADD or logic op (no carry in,
 * CF = OF = 0) of 32 or 64 bits, redoing that operation on the host sets
 * the host's flags exactly as the guest's (CF, OF, SF, ZF and PF; Jcc does
 * not read AF), and x86 condition codes are the same on both sides, so
 * the host's own Jcc decides. Any other record, and a target that is not
 * canonical (#GP), runs the handler. Returns false when in is no such Jcc. */
static bool is_jcc64(const struct insn *in, emu_op_fn fn)
{
    bool jcc = (in->map == MAP_1BYTE && (in->op & 0xf0) == 0x70) || (in->map == MAP_0F && (in->op & 0xf0) == 0x80);
    return jcc && in->osz == 8 && !in->ckpt && emu_specialize(in, NULL) == fn;
}

static void emit_jcc(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
                     unsigned pending, uintptr_t exit, uintptr_t exit_rip_set)
{
    const struct insn *in = &bi[k].i;
    unsigned cc = in->op & 15;
    uint8_t *taken[6], *generic[8];
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
        nt++;
        /* not taken: RIP is the next instruction */
        unsigned n = pending + 1;
        count(e, &n);
        lea_r12(e, RAX, end_off);
        store(e, RAX, CPU(rip));
        jmp_to(e, exit_rip_set);
    }
    land(e, next_form);
    uint8_t *to_generic = jump_fwd(e, false);
    /* taken: RIP = the target, if canonical */
    for (unsigned t = 0; t < nt; t++)
        land(e, taken[t]);
    lea_r12(e, RAX, end_off);
    mov_imm(e, RCX, in->imm);
    bytes(e, (const uint8_t[]){ 0x48, 0x01, 0xc8 }, 3);        /* add rax, rcx */
    generic[ng++] = unless_canonical(e);
    store(e, RAX, CPU(rip));
    unsigned n = pending + 1;
    count(e, &n);
    jmp_to(e, exit_rip_set);
    /* anything else: the handler */
    land(e, to_generic);
    for (unsigned g = 0; g < ng; g++)
        land(e, generic[g]);
    n = pending;
    count(e, &n);
    call_out(e, bi, k, at, end_off, exit);
    lea_r12(e, RAX, end_off);  /* not taken */
    store(e, RAX, CPU(rip));
    jmp_to(e, exit_rip_set);
}

/* ---- CALL rel32 and RET inline (64-bit mode, 64-bit stack; the last
 * instruction of their block) ----
 * As op_call_J: the target's canonical check, then the push; as op_ret:
 * the pop, the target's check, then RSP. A non-canonical target or a
 * stack access the TLB cannot do fast runs the handler. */
static bool is_call_ret(const struct insn *in, emu_op_fn fn)
{
    if (in->map != MAP_1BYTE || in->osz != 8 || in->ckpt)
        return false;
    return (in->op == 0xe8 && fn == op_call_J) || (in->op == 0xc3 && fn == op_ret);
}

static void emit_call_ret(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
                          unsigned pending, uintptr_t exit, uintptr_t exit_rip_set)
{
    const struct insn *in = &bi[k].i;
    uint8_t *slow[3];
    if (in->op == 0xe8) {
        lea_r12(e, R13, end_off);                              /* r13 = the return address */
        bytes(e, (const uint8_t[]){ 0x4c, 0x89, 0xe8 }, 3);    /* mov rax, r13 */
        mov_imm(e, RCX, in->imm);
        bytes(e, (const uint8_t[]){ 0x48, 0x01, 0xc8 }, 3);    /* add rax, rcx: the target */
        slow[0] = unless_canonical(e);
        bytes(e, (const uint8_t[]){ 0x48, 0x89, 0xc7 }, 3);    /* mov rdi, rax (the target) */
        load(e, RAX, GPR(GPR_RSP));
        bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xe8, 0x08 }, 4);  /* sub rax, 8 */
        slow[1] = tlb_lookup(e, 8, ACC_W);
        bytes(e, (const uint8_t[]){ 0x4c, 0x89, 0x2e }, 3);    /* mov [rsi], r13 */
        store(e, RAX, GPR(GPR_RSP));
        store(e, RDI, CPU(rip));
        slow[2] = NULL;
    } else {
        load(e, RAX, GPR(GPR_RSP));
        slow[0] = tlb_lookup(e, 8, ACC_R);
        bytes(e, (const uint8_t[]){ 0x48, 0x89, 0xc1 }, 3);    /* mov rcx, rax (the old RSP) */
        bytes(e, (const uint8_t[]){ 0x48, 0x8b, 0x06 }, 3);    /* mov rax, [rsi]: the target */
        slow[1] = unless_canonical(e);
        bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xc1, 0x08 }, 4);  /* add rcx, 8 */
        store(e, RCX, GPR(GPR_RSP));
        store(e, RAX, CPU(rip));
        slow[2] = NULL;
    }
    unsigned n = pending + 1;
    count(e, &n);
    jmp_to(e, exit_rip_set);
    for (unsigned s = 0; s < 3; s++)
        if (slow[s])
            land(e, slow[s]);
    n = pending;
    count(e, &n);
    call_out(e, bi, k, at, end_off, exit);
    lea_r12(e, RAX, end_off);  /* a CALL to the next instruction */
    store(e, RAX, CPU(rip));
    jmp_to(e, exit_rip_set);
}

void emu_jit_link(struct emu_jit *j, struct emu_block *from, unsigned k, const struct emu_block *to)
{
    uint8_t *at = from->link_at[k];
    if (!j || !at || !to->code)
        return;
    uintptr_t rx = (uintptr_t)j->rx + (uintptr_t)(at - j->rw);
    int32_t rel = (int32_t)((intptr_t)(uintptr_t)to->code - (intptr_t)(rx + 4));
    /* before the rel32: jmp (1), jne (6), cmp rsi, rcx (3), then the imm64 */
    uint64_t host = (uint64_t)(uintptr_t)to->host, old;
    memcpy(&old, at - 1 - 6 - 3 - 8, 8);
    if (old == host)
        return;
    /* Rewriting code that may be in the host's instruction cache costs a
     * pipeline flush: a successor that keeps changing (a RET returning to
     * many callers) stops being linked after a few tries. */
    if (old && from->relinks >= 4)
        return;
    if (old)
        from->relinks++;
    memcpy(at - 1 - 6 - 3 - 8, &host, 8);
    memcpy(at, &rel, 4);
}

/* r15 = &c->tlb[CPL == 3] (clobbers rcx) */
static void emit_tlb_row(struct emit *e)
{
    bytes(e, (const uint8_t[]){ 0x31, 0xc9, 0x80, 0xbb }, 4);  /* xor ecx, ecx; cmp byte [rbx+cpl], 3 */
    b4(e, CPU(cpl));
    b1(e, 3);
    bytes(e, (const uint8_t[]){ 0x0f, 0x94, 0xc1, 0x69, 0xc9 }, 5);  /* sete cl; imul ecx, ecx, imm32 */
    b4(e, (uint32_t)sizeof(c_tlb_row));
    bytes(e, (const uint8_t[]){ 0x4c, 0x8d, 0xbc, 0x0b }, 4);  /* lea r15, [rbx+rcx+tlb] */
    b4(e, CPU(tlb));
}

/* The most code one block can take. */
#define JIT_BLOCK_MAX (JIT_FRAME_MAX + 32u * JIT_INSN_MAX + (32u * 15 / 8 + 2) * 32u)

bool emu_jit_full(const struct emu_jit *j)
{
    return j && j->used + JIT_BLOCK_MAX > JIT_SIZE;
}

const void *emu_jit_compile(struct emu_jit *j, struct emu_block *b)
{
    if (!j || !(b->mode & 1) || (b->nbytes < 8 && !b->wide) || b->nbytes > 32 * 15)
        return NULL;
    if (emu_jit_full(j))
        return NULL;
    struct emit e = { j->rw + j->used, (uintptr_t)(j->rx + j->used) };
    const struct emu_binsn *bi = emu_block_insns(b);

    /* The exits come first, so the jumps to them are backwards and their
     * target is known. After a handler: rip = next_rip. */
    const uintptr_t exit = e.rx;
    load(&e, RAX, CPU(next_rip));
    store(&e, RAX, CPU(rip));
    /* Then: this block is the last that ran, and the next one is chained
     * when nothing asks for the loop: no exit, no block_break (the mode,
     * the TLB, a code write), no interrupt shadow or TF (stepped alone),
     * room for a whole block in the run, and the same page (so the host
     * page is still this one's: block_at_rip's same-page rule). */
    const uintptr_t exit_rip_set = e.rx;
    mov_rax_imm64(&e, (uint64_t)(uintptr_t)b);
    store(&e, RAX, CPU(jit_last));
    store(&e, R12, CPU(jit_last_lin));
    bytes(&e, (const uint8_t[]){ 0x83, 0xbb }, 2);              /* cmp dword [rbx+exit], 0 */
    b4(&e, CPU(exit));
    b1(&e, 0);
    uint8_t *to_loop[8];
    unsigned nloop = 0;
    to_loop[nloop++] = jump_fwd(&e, true);
    bytes(&e, (const uint8_t[]){ 0x0f, 0xb6, 0x83 }, 3);        /* movzx eax, byte [rbx+block_break] */
    b4(&e, CPU(block_break));
    bytes(&e, (const uint8_t[]){ 0x0a, 0x83 }, 2);              /* or al, [rbx+intr_shadow] */
    b4(&e, CPU(intr_shadow));
    bytes(&e, (const uint8_t[]){ 0x0a, 0x83 }, 2);              /* or al, [rbx+rflags+1] (TF is bit 0 of it) */
    b4(&e, CPU(rflags) + 1);
    bytes(&e, (const uint8_t[]){ 0xa8, 0x01 }, 2);              /* test al, 1 */
    to_loop[nloop++] = jump_fwd(&e, true);
    load(&e, RAX, CPU(insns));
    bytes(&e, (const uint8_t[]){ 0x48, 0x83, 0xc0, 32 }, 4);    /* add rax, BLOCK_MAX_INSNS */
    rbx_mem(&e, 0x3b, RAX, CPU(run_end));                       /* cmp rax, [rbx+run_end] */
    bytes(&e, (const uint8_t[]){ 0x0f, 0x87 }, 2);              /* ja: not room for one more block */
    to_loop[nloop] = e.p;
    b4(&e, 0);
    nloop++;
    /* rsi = the host byte of the next RIP, through the TLB (as
     * block_at_rip finds it; a miss goes back to the loop), with this
     * CPL's TLB: r15 is recomputed, whatever the block did. */
    load(&e, RAX, CPU(rip));
    emit_tlb_row(&e);
    to_loop[nloop++] = tlb_lookup(&e, 1, ACC_X);
    /* The two successors (emu_jit_link patches their host byte and code;
     * until then the host is 0, never equal). The mode is this block's:
     * a mode change sets block_break. */
    uint8_t *link[2];
    for (unsigned k = 0; k < 2; k++) {
        b1(&e, 0x48);                                           /* mov rcx, imm64 (its host byte) */
        b1(&e, 0xb9);
        b8(&e, 0);
        bytes(&e, (const uint8_t[]){ 0x48, 0x39, 0xce }, 3);    /* cmp rsi, rcx */
        uint8_t *next = jump_fwd(&e, true);
        b1(&e, 0xe9);                                           /* jmp its code */
        link[k] = e.p;
        b4(&e, 0);
        if (k == 0)
            land(&e, next);
        else
            to_loop[nloop++] = next;
    }
    /* Back to the loop. */
    const uintptr_t leave = e.rx;
    for (unsigned k = 0; k < nloop; k++)
        land(&e, to_loop[k]);
    for (unsigned k = 0; k < 2; k++) {
        land(&e, link[k]);
        b->link_at[k] = link[k];
    }
    bytes(&e, (const uint8_t[]){ 0x48, 0xc7, 0x83 }, 3);        /* mov qword [rbx+exec_page], 0 */
    b4(&e, CPU(exec_page));
    b4(&e, 0);
    jmp_to(&e, j->leave);

    /* The entry: the self-check (its bytes are still guest memory's), then
     * the registers block code keeps. */
    const uintptr_t start = e.rx;
    mov_rax_imm64(&e, (uint64_t)(uintptr_t)b->host);
    /* a block is at most BLOCK_MAX_INSNS (32) instructions of 15 bytes */
    uint8_t *stale[32 * 15 / 8 + 2];
    unsigned nstale = 0;
    unsigned n = b->nbytes;
    uint64_t w;
    if (n < 8) {
        memcpy(&w, b->bytes, 8);
        stale[nstale++] = check8(&e, 0, 64 - 8 * n, w);
    } else {
        for (unsigned k = 0; k + 8 <= n; k += 8) {
            memcpy(&w, b->bytes + k, 8);
            stale[nstale++] = check8(&e, k, 0, w);
        }
        if (n % 8) {
            memcpy(&w, b->bytes + n - 8, 8);
            stale[nstale++] = check8(&e, n - 8, 0, w);
        }
    }
    uint8_t *body = jump_fwd(&e, false);
    /* Stale: back to the loop without running anything (RIP is this
     * block's first instruction; the loop decodes it again). */
    for (unsigned k = 0; k < nstale; k++)
        land(&e, stale[k]);
    jmp_to(&e, leave);
    land(&e, body);
    load(&e, R12, CPU(rip));
    bytes(&e, (const uint8_t[]){ 0xc6, 0x83 }, 2);        /* mov byte [rbx+block_break], 0 */
    b4(&e, CPU(block_break));
    b1(&e, 0);
    mov_rax_imm64(&e, (uint64_t)b->page);
    store(&e, RAX, CPU(exec_page));
    b1(&e, 0x49);                                         /* mov r14, imm64 (the instructions) */
    b1(&e, 0xbe);
    b8(&e, (uint64_t)(uintptr_t)bi);
    /* r15 = &c->tlb[CPL == 3]: the CPL cannot change inside a block
     * without ending it (only control transfers change it). */
    emit_tlb_row(&e);

    uint32_t off = 0;
    unsigned pending = 0;  /* inline instructions not yet counted in c->insns */
    bool off_done = false; /* the last instruction left the block itself (Jcc) */
    for (unsigned k = 0; k < b->n; k++) {
        const struct insn *in = &bi[k].i;
        uint32_t at = off;
        off += in->len;
        if (!in->ckpt && emit_inline(&e, in, bi[k].fn, off)) {
            pending++;
            continue;
        }
        /* (the fast paths cannot fault: no flag checkpoint; the slow path
         * makes it when the instruction needs one) */
        enum mem_form form = mem_form(in, bi[k].fn);
        if (form != MEM_NONE) {
            uint8_t *miss = emit_mem_fast(&e, in, form, off);
            uint8_t *done = jump_fwd(&e, false);
            /* The slow path: the handler, with c->insns exact around it;
             * then back to the count the fast path leaves (pending + 1). */
            land(&e, miss);
            unsigned before = pending;
            count(&e, &pending);
            call_out(&e, bi, k, at, off, exit);
            bytes(&e, (const uint8_t[]){ 0x48, 0x83, 0xab }, 3);  /* sub qword [rbx+insns], before + 1 */
            b4(&e, CPU(insns));
            b1(&e, (uint8_t)(before + 1));
            land(&e, done);
            pending = before + 1;
            continue;
        }
        if (k == b->n - 1u && is_call_ret(in, bi[k].fn)) {
            emit_call_ret(&e, bi, k, at, off, pending, exit, exit_rip_set);
            pending = 0;
            off_done = true;
            break;
        }
        if (k == b->n - 1u && is_jcc64(in, bi[k].fn)) {
            emit_jcc(&e, bi, k, at, off, pending, exit, exit_rip_set);
            pending = 0;
            off_done = true;
            break;
        }
        count(&e, &pending);
        call_out(&e, bi, k, at, off, exit);
    }
    /* The block ran to its end: RIP is the fall-through. */
    if (!off_done) {
        count(&e, &pending);
        lea_r12(&e, RAX, off);
        store(&e, RAX, CPU(rip));
        jmp_to(&e, exit_rip_set);
    }

    size_t used = (size_t)(e.rx - (uintptr_t)j->rx);
    if (used - j->used > JIT_BLOCK_MAX) {
        /* The bound that emu_jit_full() keeps free was too small: a bug
         * here, and it may have written past the buffer. Stop now. */
        fprintf(stderr, "brume: emu block code: %zu bytes for a block, more than the %u allowed\n",
                used - j->used, (unsigned)JIT_BLOCK_MAX);
        abort();
    }
    j->used = (used + 15) & ~(size_t)15;
    return (const void *)start;
}
