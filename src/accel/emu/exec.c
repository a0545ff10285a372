/* The step loop: decoded blocks (block.c) run one instruction after the
 * other; single instructions are fetched through the TLB, decoded and
 * dispatched. Faults longjmp back here and are delivered (or end the run
 * in flat mode). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>

#include "accel/emu/insn.h"

void emu_cpu_reset(struct emu_cpu *c)
{
    memset(c->r, 0, sizeof(c->r));
    c->r[GPR_RDX] = 0x600;  /* family 6 */
    c->rip = 0xfff0;
    c->rflags = RFLAGS_FIXED;
    c->lf.op = LF_NONE;
    for (int s = 0; s < SEG_COUNT; s++) {
        memset(&c->seg[s], 0, sizeof(c->seg[s]));
        c->seg[s].limit = 0xffff;
        c->seg[s].present = 1;
        c->seg[s].s = 1;
        c->seg[s].type = 3;  /* read/write data, accessed */
    }
    c->seg[SEG_CS].selector = 0xf000;
    c->seg[SEG_CS].base = 0xffff0000;
    c->seg[SEG_CS].type = 0xb;
    memset(&c->tr, 0, sizeof(c->tr));
    c->tr.limit = 0xffff;
    c->tr.type = 0xb;
    c->tr.present = 1;
    memset(&c->ldtr, 0, sizeof(c->ldtr));
    c->ldtr.limit = 0xffff;
    c->ldtr.type = 2;
    c->ldtr.present = 1;
    c->gdt.base = c->idt.base = 0;
    c->gdt.limit = c->idt.limit = 0xffff;
    c->cr0 = CR0_ET | CR0_CD | CR0_NW;
    c->cr2 = c->cr3 = c->cr4 = c->cr8 = 0;
    c->xcr0 = 1;
    memset(c->dr, 0, sizeof(c->dr));
    c->dr6 = 0xffff0ff0;
    c->dr7 = 0x400;
    uint64_t apic_base = c->msr.apic_base;
    memset(&c->msr, 0, sizeof(c->msr));
    c->msr.apic_base = apic_base ? apic_base : (APIC_BASE_DEFAULT | APIC_BASE_ENABLE);
    c->msr.pat = 0x0007040600070406ull;
    c->msr.misc_enable = 1;  /* fast strings */
    memset(&c->fx, 0, sizeof(c->fx));
    c->fx.fcw = 0x37f;
    c->fx.mxcsr = 0x1f80;
    c->fx.mxcsr_mask = 0xffff;
    c->intr_shadow = false;
    c->nmi_pending = c->nmi_masked = false;
    c->delivering = -1;
    emu_update_mode(c);
    emu_tlb_flush(c, false);
}

void emu_update_mode(struct emu_cpu *c)
{
    c->block_break = true;  /* decoding and fetching depend on the mode and CS */
    if (!(c->cr0 & CR0_PE)) {
        c->mode = MODE_REAL;
        c->cpl = 0;
    } else if (c->msr.efer & EFER_LMA) {
        c->mode = c->seg[SEG_CS].l ? MODE_LONG64 : c->seg[SEG_CS].db ? MODE_COMPAT32 : MODE_COMPAT16;
    } else {
        c->mode = c->seg[SEG_CS].db ? MODE_PROT32 : MODE_PROT16;
    }
}

_Noreturn void emu_fatal(struct emu_cpu *c, int exit, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->exit_msg, sizeof(c->exit_msg), fmt, ap);
    va_end(ap);
    c->exit = exit;
    longjmp(*c->jb, 1);
}

_Noreturn void emu_unimplemented(struct emu_cpu *c, const struct insn *i)
{
    char hex[15 * 3 + 1];
    size_t n = 0;
    for (unsigned k = 0; k < i->len && k < 15; k++)
        n += (size_t)snprintf(hex + n, sizeof(hex) - n, "%s%02x", k ? " " : "", i->bytes[k]);
    hex[n] = 0;
    emu_fatal(c, EMU_EXIT_UNIMPL, "emu: unimplemented instruction at RIP 0x%llx: bytes %s",
              (unsigned long long)c->rip, hex);
}

void op_unimpl(struct emu_cpu *c, const struct insn *i)
{
    emu_unimplemented(c, i);
}

void op_ud(struct emu_cpu *c, const struct insn *i)
{
    (void)i;
    emu_raise(c, EXC_UD);
}

static inline struct decode_mode decode_mode(const struct emu_cpu *c)
{
    struct decode_mode m = { c->mode == MODE_LONG64, c->seg[SEG_CS].db };
    return m;
}

_Noreturn static void decode_fail(struct emu_cpu *c, int r)
{
    if (r == DECODE_UD)
        emu_raise(c, EXC_UD);
    emu_raise_err(c, EXC_GP, 0);  /* DECODE_TOOLONG */
}

/* Linear address of RIP. */
static inline uint64_t fetch_lin(const struct emu_cpu *c)
{
    if (c->mode == MODE_LONG64)
        return c->rip;
    return (c->seg[SEG_CS].base + c->rip) & 0xffffffffull;
}

/* Host pointer for executing at linear lin (TLB, else a walk that may
 * fault); NULL when lin is not RAM. */
static inline const uint8_t *fetch_ptr(struct emu_cpu *c, uint64_t lin, uint64_t *gpa)
{
    bool user = emu_user(c);
    const struct emu_tlb_entry *e = &c->tlb[user][(lin >> 12) & (EMU_TLB_SIZE - 1)];
    if (e->tag[ACC_X] == (lin & ~0xfffull))
        return (const uint8_t *)(uintptr_t)(lin + e->addend);
    return emu_translate(c, lin, ACC_X, user, gpa);
}

/* Fetches and decodes the instruction at RIP into *i and returns its
 * handler. Bytes come straight from the host page; an instruction
 * crossing into the next page faults on that page only if it really needs
 * its bytes. */
static emu_op_fn fetch_decode(struct emu_cpu *c, struct insn *i)
{
    uint64_t lin = fetch_lin(c), gpa = 0;
    bool user = emu_user(c);
    const uint8_t *p = fetch_ptr(c, lin, &gpa);
    if (!p)
        emu_fatal(c, EMU_EXIT_ERROR, "emu: executing from MMIO at RIP 0x%llx (physical 0x%llx) is not supported",
                  (unsigned long long)c->rip, (unsigned long long)gpa);
    struct decode_mode m = decode_mode(c);
    unsigned avail = 0x1000 - (unsigned)(lin & 0xfff);
    int r = emu_decode(p, avail, m, i);
    if (r == DECODE_MORE) {
        uint8_t buf[15];
        memcpy(buf, p, avail);
        const uint8_t *q = emu_translate(c, (lin | 0xfff) + 1, ACC_X, user, &gpa);
        if (!q)
            emu_fatal(c, EMU_EXIT_ERROR, "emu: executing from MMIO at 0x%llx is not supported",
                      (unsigned long long)gpa);
        memcpy(buf + avail, q, 15 - avail);
        r = emu_decode(buf, 15, m, i);
    }
    if (r != DECODE_OK)
        decode_fail(c, r);
    if (c->mode == MODE_LONG64)
        c->next_rip = c->rip + i->len;
    else
        c->next_rip = (c->rip + i->len) & (c->seg[SEG_CS].db ? 0xffffffffull : 0xffffull);
    return emu_dispatch(i);
}

/* Runs one instruction the slow way: fetched and decoded now, with the
 * interrupt shadow and TF single-step handled. */
static void step_one(struct emu_cpu *c)
{
    struct insn i;
    bool shadow = c->intr_shadow;
    bool single_step = c->rflags & RFLAGS_TF;
    c->exec_page = 0;
    emu_flags_checkpoint(c);
    emu_op_fn fn = fetch_decode(c, &i);
    fn(c, &i);
    c->rip = c->next_rip;
    if (shadow)
        c->intr_shadow = false;
    c->insns++;
    if (single_step) {
        /* TF at the start of an instruction: #DB trap after it (DR6.BS) */
        c->dr6 |= 1u << 14;
        emu_flags_checkpoint(c);
        emu_raise(c, EXC_DB);
    }
}

/* Runs up to budget instructions of block b, which starts at RIP. Only
 * what each instruction architecturally needs is done per instruction;
 * the block ends early when an instruction jumps (next_rip is not the
 * fall-through), stops the run (c->exit) or asks for it (c->block_break:
 * mode or TLB change, a store into this block's page). Faults longjmp out
 * with c->rip on the faulting instruction. */
static void run_block(struct emu_cpu *c, const struct emu_block *b, uint64_t budget)
{
    const struct emu_binsn *bi = emu_block_insns(b);
    const struct emu_binsn *end = bi + (b->n < budget ? b->n : budget);
    const uint64_t mask = b->ripmask;
    c->block_break = false;
    c->exec_page = b->page;
    /* The next block is likely one of the linked ones: start loading their
     * headers (and the guest bytes after this block) while this one runs.
     * Prefetching NULL or any address never faults. */
    __builtin_prefetch(b->next[0]);
    __builtin_prefetch(b->next[1]);
    __builtin_prefetch(b->host + b->nbytes);
    for (; bi < end; bi++) {
        uint64_t next = (c->rip + bi->i.len) & mask;
        if (bi->i.ckpt)
            emu_flags_checkpoint(c);
        c->next_rip = next;
        bi->fn(c, &bi->i);
        c->rip = c->next_rip;
        c->insns++;
        if (__builtin_expect((c->next_rip != next) | c->block_break | (c->exit != 0), 0))
            break;
    }
    c->exec_page = 0;
}

/* The block at RIP, or NULL when RIP must be stepped alone (no cache,
 * interrupt shadow, TF, an instruction across pages, MMIO, a RIP that
 * would wrap inside the block). prev is the block that ran just before,
 * at linear address *lin (updated): a successor on the same page with
 * nothing in between that could change the TLB or the mode (block_break)
 * needs no TLB lookup, as the translation of that page is still the one
 * the TLB gave (x86 lets a TLB keep a translation until invalidated). */
static struct emu_block *block_at_rip(struct emu_cpu *c, struct emu_block *prev, uint64_t *lin)
{
    if (!c->blocks || c->intr_shadow || (c->rflags & RFLAGS_TF))
        return NULL;
    uint64_t l = fetch_lin(c), gpa;
    const uint8_t *p;
    uint8_t key;
    if (prev && !c->block_break && ((l ^ *lin) >> 12) == 0) {
        p = prev->host + (int64_t)(l - *lin);
        key = prev->mode;
    } else {
        p = fetch_ptr(c, l, &gpa);
        if (!p)
            return NULL;
        struct decode_mode m = decode_mode(c);
        key = (uint8_t)(m.code64 | (m.def32 << 1));
    }
    *lin = l;
    struct emu_block *b;
    unsigned k = prev && p != prev->host + prev->nbytes;
    if (prev && emu_block_matches(prev->next[k], p, key, emu_block_gen(c))) {
        b = prev->next[k];  /* linked: no table lookup */
        if (b->code && prev->code)
            emu_block_link(c, prev, k, b);  /* prev's code may not jump to b's yet */
    } else {
        unsigned avail = 0x1000 - (unsigned)(l & 0xfff);
        if (c->flat && c->flat_base + c->flat_size - l < avail)
            avail = (unsigned)(c->flat_base + c->flat_size - l);  /* a partial last page */
        b = emu_block_get(c, prev, p, (unsigned)(l & 0xfff), avail, key);
    }
    if (b && !(key & 1) && c->rip + b->nbytes > b->ripmask + 1)
        return NULL;
    return b;
}

/* The hot loop, kept out of emu_run so that setjmp does not pin its
 * variables to the stack. */
__attribute__((noinline)) static void run_loop(struct emu_cpu *c, uint64_t end)
{
    struct emu_block *prev = NULL;
    uint64_t lin = 0;
    c->run_end = end;
    while (c->insns < end) {
        struct emu_block *b = block_at_rip(c, prev, &lin);
        if (b && b->code && b->n <= end - c->insns) {
            /* the same as run_block, then maybe chained blocks (jit.c) */
            c->jit_last = b;
            c->jit_last_lin = lin;
            struct emu_jcache_entry *jc = &c->jcache[emu_jcache_index(lin)];
            jc->key = emu_jcache_key(lin, c->cpl);
            jc->code = b->code;
            c->jit_enter(c, b->code);
            /* The last block that ran, and its linear address, as block_at_rip expects */
            b = c->jit_last;
            lin = c->jit_last_lin;
        } else if (b)
            run_block(c, b, end - c->insns);
        else
            step_one(c);
        prev = b;
        /* A kick (STI, POPF) is acted on once the interrupt shadow ends. */
        if (c->exit && !(c->exit == EMU_EXIT_KICK && c->intr_shadow))
            break;
    }
}

uint64_t emu_run(struct emu_cpu *c, uint64_t max_insns)
{
    jmp_buf jb, *saved = c->jb;
    const uint64_t end = c->insns + max_insns;
    const uint64_t start = c->insns;
    c->jb = &jb;
    emu_flags_checkpoint(c);

    if (setjmp(jb)) {
        /* An exception (or a fatal stop) unwound an instruction. */
        c->jb = &jb;
        if (c->exit)
            goto out;
        emu_flags_rollback(c);
        if (c->flat) {
            if (c->exc_soft)
                c->rip = c->next_rip;  /* INT3/INT n: report RIP after them */
            c->exit = EMU_EXIT_EXCEPTION;
            goto out;
        }
        c->intr_shadow = false;
        c->exec_page = 0;
        emu_deliver_exception(c);
        if (c->exit)
            goto out;
        /* delivery changed the flags: a fault in the first instruction of
         * the handler must not put back those of the faulting one */
        emu_flags_checkpoint(c);
    }
    run_loop(c, end);
out:
    c->jb = saved;
    return c->insns - start;
}
