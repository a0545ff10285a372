/* Block code: host machine code for a decoded 64-bit block (block.c),
 * built with the block and dropped with it. This file: the code buffer,
 * the layout of a block's code (check, body, exits, chaining) and the
 * generic instruction (a direct call to its handler). The forms emitted
 * inline are in jit_forms.c and jit_branch.c, the emitter in jit_emit.h.
 * docs/emu.md, "Block code", says what each part does and why.
 *
 * Why: the block loop in exec.c pays, per guest instruction, a load of the
 * handler, an indirect call from one call site (which the host's branch
 * predictor mostly gets wrong, the targets change at every instruction),
 * and the loop's bookkeeping. Block code does the same bookkeeping with
 * constants folded in, calls each handler from its own call site, emits
 * the commonest forms without a call, and jumps from block to block.
 *
 * What a block's code does is what run_block() does, in the same order
 * (tests/unit/emu/test_blocks.c and the diff tests run the same guest
 * code both ways):
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
#include "accel/emu/jit_emit.h"

#define JIT_SIZE (64u << 20)
/* The most one instruction's code takes (checkpoint, far call, checks). */
#define JIT_INSN_MAX 320
#define JIT_FRAME_MAX 2048  /* the entry, the exits, and a Jcc's extra */

struct emu_jit {
    uint8_t *rw, *rx;
    size_t used;
    uintptr_t leave;  /* the way out (emit_entry) */
    uintptr_t jcache; /* the jump cache lookup (emit_entry) */
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

void *emu_jit_data_hint(const struct emu_jit *j)
{
    return j ? j->rx + JIT_SIZE : NULL;
}

void emu_jit_reset(struct emu_jit *j)
{
    if (j)
        emit_entry(j);
}


_Static_assert(offsetof(struct emu_lazy_flags, op) == 24 && sizeof(((struct emu_lazy_flags *)0)->op) == 4,
               "block code copies the lazy flags as three 8-byte fields and the 4-byte op");

/* The generic form of instruction k (at offset at, ending at end_off):
 * what run_block does for it. Jumps to exit when the block must end. */
void jit_call_out(struct emit *e, const struct emu_binsn *bi, unsigned k, uint32_t at, uint32_t end_off,
                     uintptr_t exit)
{
    const struct insn *in = &bi[k].i;
    lea_r12(e, RAX, at);
    store(e, RAX, CPU(rip));
    lea_r12(e, R13, end_off);
    if (in->ckpt) {
        load(e, RAX, CPU(rflags));
        store(e, RAX, CPU(rflags_start));
        copy8s(e, CPU(lf), CPU(lf_start), offsetof(struct emu_lazy_flags, op));
        bytes(e, (const uint8_t[]){ 0x8b, 0x83 }, 2);  /* mov eax, [rbx+lf.op]: the op is 4 bytes */
        b4(e, CPU(lf.op));
        bytes(e, (const uint8_t[]){ 0x89, 0x83 }, 2);  /* mov [rbx+lf_start.op], eax */
        b4(e, CPU(lf_start.op));
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

/* a block is at most BLOCK_MAX_INSNS (32) instructions of 15 bytes */
#define CHECKS_MAX (32 * 15 / 8 + 3)  /* and the dead check */

/* Compares b's bytes with guest memory's (clobbers rax, rcx, rdx); each
 * returned rel32 (in stale[], the count returned) is a jump to patch to
 * where they differ. */
static unsigned check_bytes(struct emit *e, const struct emu_block *b, uint8_t *stale[CHECKS_MAX])
{
    unsigned nstale = 0, n = b->nbytes;
    uint64_t w;
    mov_rax_imm64(e, (uint64_t)(uintptr_t)b->host);
    if (n < 8) {
        memcpy(&w, b->bytes, 8);
        stale[nstale++] = check8(e, 0, 64 - 8 * n, w);
        return nstale;
    }
    for (unsigned k = 0; k + 8 <= n; k += 8) {
        memcpy(&w, b->bytes + k, 8);
        stale[nstale++] = check8(e, k, 0, w);
    }
    if (n % 8) {
        memcpy(&w, b->bytes + n - 8, 8);
        stale[nstale++] = check8(e, n - 8, 0, w);
    }
    return nstale;
}

/* op reg, [addr]: RIP-relative when addr is in reach, else through rcx
 * (mov rcx, imm64; op reg, [rcx]); reg 0..7, a 64-bit op */
static void op_abs(struct emit *e, uint8_t opcode, unsigned reg, const void *addr)
{
    intptr_t rel = (intptr_t)(uintptr_t)addr - (intptr_t)(e->rx + 7);
    if (rel == (int32_t)rel) {
        bytes(e, (const uint8_t[]){ 0x48, opcode, (uint8_t)(0x05 | (reg << 3)) }, 3);
        b4(e, (uint32_t)(int32_t)rel);
        return;
    }
    b1(e, 0x48);                                                /* mov rcx, imm64 */
    b1(e, 0xb9);
    b8(e, (uint64_t)(uintptr_t)addr);
    bytes(e, (const uint8_t[]){ 0x48, opcode, (uint8_t)(0x01 | (reg << 3)) }, 3);
}

/* Back to the loop from a block whose bytes changed: nothing of it ran,
 * and the block that ran before it may have jumped to it directly
 * (jit_goto) without saying so in c->jit_last: the loop looks RIP up
 * afresh. */
static void stale_exit(struct emit *e, uintptr_t leave)
{
    bytes(e, (const uint8_t[]){ 0x48, 0xc7, 0x83 }, 3);  /* mov qword [rbx+jit_last], 0 */
    b4(e, CPU(jit_last));
    b4(e, 0);
    jmp_to(e, leave);
}

/* The way in (at the start of the buffer, emitted after every reset):
 * saves rbx and r12..r15 (five pushes after the return address keep the
 * stack 16-byte aligned for the handler calls), rbx = c, jumps to the
 * code; "leave" (right after it) undoes that. */
static void emit_entry(struct emu_jit *j)
{
    struct emit e = { j->rw, (uintptr_t)j->rx, NULL, 0, 0, false };
    bytes(&e, (const uint8_t[]){ 0x53, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57 }, 9);
    bytes(&e, (const uint8_t[]){ 0x48, 0x89, 0xfb }, 3);  /* mov rbx, rdi */
    bytes(&e, (const uint8_t[]){ 0xff, 0xe6 }, 2);        /* jmp rsi */
    j->leave = e.rx;
    bytes(&e, (const uint8_t[]){ 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5b, 0xc3 }, 10);
    /* The jump cache lookup, for a block's exit once its checks passed and
     * its links missed: jumps to the code cached for RIP = rax at this CPL
     * (emu_jcache_key, emu_jcache_index), else to the loop. */
    j->jcache = e.rx;
    bytes(&e, (const uint8_t[]){ 0x48, 0x89, 0xc1 }, 3);        /* mov rcx, rax */
    bytes(&e, (const uint8_t[]){ 0x31, 0xd2, 0x80, 0xbb }, 4);  /* xor edx, edx; cmp byte [rbx+cpl], 3 */
    b4(&e, CPU(cpl));
    b1(&e, 3);
    bytes(&e, (const uint8_t[]){ 0x0f, 0x94, 0xc2 }, 3);        /* sete dl */
    bytes(&e, (const uint8_t[]){ 0x48, 0xc1, 0xe2, 63 }, 4);    /* shl rdx, 63 */
    bytes(&e, (const uint8_t[]){ 0x48, 0x31, 0xd1 }, 3);        /* xor rcx, rdx: the key */
    bytes(&e, (const uint8_t[]){ 0x89, 0xc2 }, 2);              /* mov edx, eax */
    bytes(&e, (const uint8_t[]){ 0xc1, 0xea, 0x04 }, 3);        /* shr edx, 4 */
    bytes(&e, (const uint8_t[]){ 0x31, 0xc2 }, 2);              /* xor edx, eax */
    bytes(&e, (const uint8_t[]){ 0x81, 0xe2 }, 2);              /* and edx, EMU_JCACHE_SIZE - 1 */
    b4(&e, EMU_JCACHE_SIZE - 1);
    bytes(&e, (const uint8_t[]){ 0xc1, 0xe2, 0x04 }, 3);        /* shl edx, 4: the entry's offset */
    _Static_assert(sizeof(struct emu_jcache_entry) == 16, "the jump cache is indexed by a shift");
    bytes(&e, (const uint8_t[]){ 0x48, 0x3b, 0x8c, 0x13 }, 4); /* cmp rcx, [rbx+rdx+jcache] */
    b4(&e, CPU(jcache));
    uint8_t *miss = jump_fwd(&e, true);
    bytes(&e, (const uint8_t[]){ 0xff, 0xa4, 0x13 }, 3);        /* jmp [rbx+rdx+jcache+8] */
    b4(&e, CPU(jcache) + 8);
    land(&e, miss);
    bytes(&e, (const uint8_t[]){ 0x48, 0xc7, 0x83 }, 3);        /* mov qword [rbx+exec_page], 0 */
    b4(&e, CPU(exec_page));
    b4(&e, 0);
    jmp_to(&e, j->leave);
    j->used = ((size_t)(e.p - j->rw) + 15) & ~(size_t)15;
}

void (*emu_jit_entry(const struct emu_jit *j))(struct emu_cpu *c, const void *code)
{
    return (void (*)(struct emu_cpu *, const void *))(uintptr_t)j->rx;
}

bool jit_can_goto(const struct emit *e, int64_t off)
{
    int64_t in_page = (int64_t)((uintptr_t)e->b->host & 0xfff) + off;
    return in_page >= 0 && in_page < 0x1000 && e->b->ndirect < 2;
}

void jit_goto(struct emit *e, int64_t off)
{
    struct emu_block *b = e->b;
    int64_t in_page = (int64_t)((uintptr_t)b->host & 0xfff) + off;
    lea_r12(e, RAX, (uint32_t)(int32_t)off);
    store(e, RAX, CPU(rip));
    /* room for one more block in the run, as the generic exit asks */
    load(e, RAX, CPU(insns));
    bytes(e, (const uint8_t[]){ 0x48, 0x83, 0xc0, 32 }, 4);  /* add rax, BLOCK_MAX_INSNS */
    rbx_mem(e, 0x3b, RAX, CPU(run_end));                     /* cmp rax, [rbx+run_end] */
    bytes(e, (const uint8_t[]){ 0x0f, 0x87 }, 2);            /* ja: the generic exit, to the loop */
    b4(e, (uint32_t)(int32_t)((intptr_t)e->exit_rip_set - (intptr_t)(e->rx + 4)));
    b1(e, 0xe9);                                             /* jmp: the generic exit until linked */
    b->direct_at[b->ndirect] = e->p;
    b->direct_off[b->ndirect] = (uint16_t)in_page;
    b->ndirect++;
    b4(e, (uint32_t)(int32_t)((intptr_t)e->exit_rip_set - (intptr_t)(e->rx + 4)));
}

/* The rel32 that, at at (in the writable view), jumps to to's code */
static int32_t rel32_to(const struct emu_jit *j, const uint8_t *at, const struct emu_block *to)
{
    uintptr_t rx = (uintptr_t)j->rx + (uintptr_t)(at - j->rw);
    return (int32_t)((intptr_t)(uintptr_t)to->code - (intptr_t)(rx + 4));
}

/* Points the rel32 at (in from's code) to to's code. */
static void patch_rel32(struct emu_jit *j, uint8_t *at, const struct emu_block *to)
{
    int32_t rel = rel32_to(j, at, to);
    memcpy(at, &rel, 4);
}

void emu_jit_link(struct emu_jit *j, struct emu_block *from, unsigned k, const struct emu_block *to)
{
    if (!j || !to->code)
        return;
    /* A direct jump's target byte never changes: it is relinked only
     * when that block was decoded again. */
    for (unsigned d = 0; d < from->ndirect; d++) {
        int32_t now;
        memcpy(&now, from->direct_at[d], 4);
        if (from->page + from->direct_off[d] == (uintptr_t)to->host && now != rel32_to(j, from->direct_at[d], to))
            patch_rel32(j, from->direct_at[d], to);
    }
    uint8_t *at = from->link_at[k];
    if (!at)
        return;
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
    patch_rel32(j, at, to);
}

/* The most code one block can take. */
#define JIT_BLOCK_MAX (JIT_FRAME_MAX + 32u * JIT_INSN_MAX + CHECKS_MAX * 32u)

bool emu_jit_full(const struct emu_jit *j)
{
    return j && j->used + JIT_BLOCK_MAX > JIT_SIZE;
}

const void *emu_jit_compile(struct emu_jit *j, struct emu_block *b, bool gen)
{
    if (!j || !(b->mode & 1) || (b->nbytes < 8 && !b->wide) || b->nbytes > 32 * 15)
        return NULL;
    if (emu_jit_full(j))
        return NULL;
    struct emit e = { j->rw + j->used, (uintptr_t)(j->rx + j->used), b, 0, 0, false };
    const struct emu_binsn *bi = emu_block_insns(b);
    b->ndirect = 0;

    /* The exits come first, so the jumps to them are backwards and their
     * target is known. After a handler: rip = next_rip. */
    const uintptr_t exit = e.rx;
    load(&e, RAX, CPU(next_rip));
    store(&e, RAX, CPU(rip));
    /* Then: this block is the last that ran, and the next one is chained
     * when nothing asks for the loop: no exit, no block_break (the mode,
     * the TLB, a code write), no interrupt shadow or TF (stepped alone),
     * room for a whole block in the run, and the next RIP in the TLB (its
     * execute tag gives the host byte, as block_at_rip would find it). */
    const uintptr_t exit_rip_set = e.rx;
    e.exit_rip_set = exit_rip_set;
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
     * block_at_rip finds it; a miss tries the jump cache), with this
     * CPL's TLB: r15 is recomputed, whatever the block did. */
    load(&e, RAX, CPU(rip));
    emit_tlb_row(&e);
    uint8_t *to_jcache[2];
    to_jcache[0] = tlb_lookup(&e, 1, ACC_X);
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
            to_jcache[1] = next;
    }
    /* Neither: the jump cache (rax is still RIP), which also ends in the
     * loop when it has nothing. */
    for (unsigned k = 0; k < 2; k++)
        land(&e, to_jcache[k]);
    jmp_to(&e, j->jcache);
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

    /* The entry: the check (its bytes are still guest memory's), then
     * the registers block code keeps. With gen, the bytes are compared
     * only when guest RAM or b's page changed since they last were
     * (emu_block_matches), out of the straight path; and then b's slot =
     * the count read before the compare. A difference goes back to the loop
     * without running anything (RIP is this block's first instruction;
     * the loop decodes it again). */
    uint8_t *stale[CHECKS_MAX], *body;
    unsigned nstale;
    uintptr_t start;
    if (gen) {
        const uintptr_t verify = e.rx;
        mov_rax_imm64(&e, (uint64_t)(uintptr_t)&b->dead);      /* a replaced block never runs again */
        bytes(&e, (const uint8_t[]){ 0x80, 0x38, 0x00 }, 3);  /* cmp byte [rax], 0 */
        uint8_t *dead = jump_fwd(&e, true);
        op_abs(&e, 0x8b, RAX, &guest_ram_gen);                  /* mov rax, [guest_ram_gen] */
        bytes(&e, (const uint8_t[]){ 0x49, 0x89, 0xc0 }, 3);  /* mov r8, rax */
        nstale = check_bytes(&e, b, stale);
        stale[nstale++] = dead;
        mov_rax_imm64(&e, (uint64_t)(uintptr_t)b->check);
        bytes(&e, (const uint8_t[]){ 0x4c, 0x89, 0x00 }, 3);  /* mov [rax], r8 */
        uint8_t *verified = jump_fwd(&e, false);
        for (unsigned k = 0; k < nstale; k++)
            land(&e, stale[k]);
        stale_exit(&e, leave);
        start = e.rx;
        op_abs(&e, 0x8b, RAX, &guest_ram_gen);                  /* mov rax, [guest_ram_gen] */
        op_abs(&e, 0x3b, RAX, b->check);                        /* cmp rax, [its slot] */
        jnz(&e, verify);
        land(&e, verified);
    } else {
        start = e.rx;
        nstale = check_bytes(&e, b, stale);
        body = jump_fwd(&e, false);
        for (unsigned k = 0; k < nstale; k++)
            land(&e, stale[k]);
        stale_exit(&e, leave);
        land(&e, body);
    }
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
    bool last_called = false; /* the last instruction is a generic call of its handler */
    for (unsigned k = 0; k < b->n; k++) {
        const struct insn *in = &bi[k].i;
        uint32_t at = off;
        off += in->len;
        if (!in->ckpt && jit_inline(&e, in, bi[k].fn, off)) {
            pending++;
            continue;
        }
        /* (the fast paths cannot fault: no flag checkpoint; the slow path
         * makes it when the instruction needs one) */
        enum mem_form form = jit_mem_form(&e, in, bi[k].fn);
        if (form != MEM_NONE) {
            const uint32_t lf_known = e.lf_known;
            const bool lf_b_zero = e.lf_b_zero;
            uint8_t *miss = jit_mem_fast(&e, in, form, off);
            uint8_t *done = jump_fwd(&e, false);
            /* The slow path: the handler, with c->insns exact around it;
             * then back to the count the fast path leaves (pending + 1). */
            land(&e, miss);
            unsigned before = pending;
            count(&e, &pending);
            jit_call_out(&e, bi, k, at, off, exit);
            bytes(&e, (const uint8_t[]){ 0x48, 0x83, 0xab }, 3);  /* sub qword [rbx+insns], before + 1 */
            b4(&e, CPU(insns));
            b1(&e, (uint8_t)(before + 1));
            land(&e, done);
            pending = before + 1;
            /* What the record is now: the ALU forms' slow paths leave
             * their handler's, not known here; the other forms leave the
             * flags alone. */
            e.lf_known = form == MEM_ALU_IMM || form == MEM_ALU_RM || form == MEM_BYTE ? 0 : lf_known;
            e.lf_b_zero = lf_b_zero;
            continue;
        }
        if (k == b->n - 1u && jit_is_call_ret(in, bi[k].fn)) {
            jit_call_ret(&e, bi, k, at, off, pending, exit, exit_rip_set);
            pending = 0;
            off_done = true;
            break;
        }
        if (k == b->n - 1u && jit_is_jcc64(in, bi[k].fn)) {
            jit_jcc(&e, bi, k, at, off, pending, exit, exit_rip_set);
            pending = 0;
            off_done = true;
            break;
        }
        count(&e, &pending);
        jit_call_out(&e, bi, k, at, off, exit);
        e.lf_known = 0;  /* whatever its handler left */
        last_called = k == b->n - 1u;
    }
    /* The block ran to its end: RIP is the fall-through, straight to its
     * block unless the last instruction's handler may have changed what
     * the generic exit checks (the interrupt shadow, TF: STI, POPF...). */
    if (!off_done) {
        count(&e, &pending);
        if (!last_called && jit_can_goto(&e, off))
            jit_goto(&e, off);
        else
            exit_at(&e, off, exit_rip_set);
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

