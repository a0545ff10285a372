/* The step loop: fetch through the TLB, decode, dispatch, retire. Faults
 * longjmp back here and are delivered (or end the run in flat mode). */
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

int emu_icache_init(struct emu_cpu *c)
{
    c->icache = calloc(EMU_ICACHE_SIZE, sizeof(*c->icache));
    return c->icache ? 0 : -ENOMEM;
}

void emu_icache_free(struct emu_cpu *c)
{
    free(c->icache);
    c->icache = NULL;
}

_Noreturn static void decode_fail(struct emu_cpu *c, int r)
{
    if (r == DECODE_UD)
        emu_raise(c, EXC_UD);
    emu_raise_err(c, EXC_GP, 0);  /* DECODE_TOOLONG */
}

/* Fetches and decodes the instruction at RIP; returns its handler and sets
 * *out to the decoded form (a cache entry or *tmp). Bytes come straight
 * from the host page when the TLB knows it; an instruction crossing into
 * the next page faults on that page only if it really needs its bytes. */
static emu_op_fn fetch_decode(struct emu_cpu *c, struct insn *tmp, const struct insn **out)
{
    uint64_t lin;
    if (c->mode == MODE_LONG64)
        lin = c->rip;
    else
        lin = (c->seg[SEG_CS].base + c->rip) & 0xffffffffull;
    bool user = emu_user(c);
    const struct emu_tlb_entry *e = &c->tlb[user][(lin >> 12) & (EMU_TLB_SIZE - 1)];
    const uint8_t *p;
    if (e->tag[ACC_X] == (lin & ~0xfffull)) {
        p = (const uint8_t *)(uintptr_t)(lin + e->addend);
    } else {
        uint64_t gpa;
        p = emu_translate(c, lin, ACC_X, user, &gpa);
        if (!p)
            emu_fatal(c, EMU_EXIT_ERROR, "emu: executing from MMIO at RIP 0x%llx (physical 0x%llx) is not supported",
                      (unsigned long long)c->rip, (unsigned long long)gpa);
    }
    struct decode_mode m = decode_mode(c);
    uint8_t key = (uint8_t)(m.code64 | (m.def32 << 1));
    unsigned avail = 0x1000 - (unsigned)(lin & 0xfff);
    emu_op_fn fn;
    const struct insn *i;
    struct emu_icache_entry *ce = NULL;
    if (c->icache) {
        uintptr_t h = (uintptr_t)p;
        ce = &c->icache[(h ^ (h >> 12)) & (EMU_ICACHE_SIZE - 1)];
        bool same;
        if ((lin & 0xfff) <= 0x1000 - 16) {
            uint64_t a, b;
            memcpy(&a, p, 8);
            memcpy(&b, p + 8, 8);
            same = !(((a ^ ce->w[0]) & ce->m[0]) | ((b ^ ce->w[1]) & ce->m[1]));
        } else {
            same = memcmp(ce->insn.bytes, p, ce->insn.len) == 0;
        }
        if (ce->host == p && ce->mode == key && same) {
            i = &ce->insn;
            fn = ce->fn;
            goto done;
        }
        ce->host = NULL;
    }
    int r = emu_decode(p, avail, m, ce ? &ce->insn : tmp);
    if (r == DECODE_OK) {
        i = ce ? &ce->insn : tmp;
        fn = emu_dispatch(i);
        if (ce) {
            unsigned n = i->len;
            ce->host = p;
            ce->mode = key;
            ce->fn = fn;
            memset(ce->w, 0, sizeof(ce->w));
            memcpy(ce->w, i->bytes, n);
            ce->m[0] = n >= 8 ? ~0ull : (1ull << (8 * n)) - 1;
            ce->m[1] = n <= 8 ? 0 : n >= 16 ? ~0ull : (1ull << (8 * (n - 8))) - 1;
        }
    } else if (r == DECODE_MORE) {
        uint8_t buf[15];
        uint64_t gpa;
        memcpy(buf, p, avail);
        const uint8_t *q = emu_translate(c, (lin | 0xfff) + 1, ACC_X, user, &gpa);
        if (!q)
            emu_fatal(c, EMU_EXIT_ERROR, "emu: executing from MMIO at 0x%llx is not supported",
                      (unsigned long long)gpa);
        memcpy(buf + avail, q, 15 - avail);
        r = emu_decode(buf, 15, m, tmp);
        if (r != DECODE_OK)
            decode_fail(c, r);
        i = tmp;
        fn = emu_dispatch(i);
    } else {
        decode_fail(c, r);
    }
done:
    if (c->mode == MODE_LONG64)
        c->next_rip = c->rip + i->len;
    else
        c->next_rip = (c->rip + i->len) & (c->seg[SEG_CS].db ? 0xffffffffull : 0xffffull);
    *out = i;
    return fn;
}

/* The hot loop, kept out of emu_run so that setjmp does not pin its
 * variables to the stack. */
__attribute__((noinline)) static void run_loop(struct emu_cpu *c, uint64_t end)
{
    struct insn tmp;
    while (c->insns < end) {
        bool shadow = c->intr_shadow;
        bool single_step = c->rflags & RFLAGS_TF;
        emu_flags_checkpoint(c);
        const struct insn *i;
        emu_op_fn fn = fetch_decode(c, &tmp, &i);
        fn(c, i);
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
        emu_deliver_exception(c);
        if (c->exit)
            goto out;
    }
    run_loop(c, end);
out:
    c->jb = saved;
    return c->insns - start;
}
