/* Which flags are defined after a case, the comparison of the two final
 * states, and the detailed report of a mismatch. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diff.h"

#define ARITH_DF (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF | RFLAGS_DF)

static const char *const gpr_names[GPR_COUNT] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* The flags that carry a defined value after this case: the arithmetic
 * flags and DF, minus what the SDM leaves undefined for the form (always,
 * or depending on the shift/rotate count as masked by the CPU). */
uint64_t compare_flag_mask(const struct diff_form *f, const struct diff_case *c)
{
    uint64_t m = ARITH_DF;
    if (f->flags & F_FLAGSALL)
        m |= RFLAGS_AC | RFLAGS_ID | RFLAGS_NT;
    m &= ~(uint64_t)f->undef;
    if (f->undef_kind == UK_NONE || !c->has_count)
        return m;
    unsigned bits = f->osz * 8u;
    uint64_t n = c->count & (f->osz == 8 ? 63 : 31);
    if (n == 0)
        return m;  /* flags unaffected: all defined */
    switch (f->undef_kind) {
    case UK_SHIFT:
        m &= ~(uint64_t)RFLAGS_AF;
        if (n != 1)
            m &= ~(uint64_t)RFLAGS_OF;
        if (n >= bits)
            m &= ~(uint64_t)RFLAGS_CF;
        break;
    case UK_SAR:
    case UK_SHXD:
        m &= ~(uint64_t)RFLAGS_AF;
        if (n != 1)
            m &= ~(uint64_t)RFLAGS_OF;
        break;
    case UK_ROT:
        if (n != 1)
            m &= ~(uint64_t)RFLAGS_OF;
        break;
    default:
        break;
    }
    return m;
}

struct out {
    char *p;
    size_t left;
    int diffs;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
    if (!o->p || o->left < 2)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p, o->left, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t k = (size_t)n < o->left ? (size_t)n : o->left - 1;
    o->p += k, o->left -= k;
}

/* One difference, described by a printf line. */
#define say(o, ...) ((o)->diffs++, emit(o, __VA_ARGS__))

/* Byte strings, printed most significant byte first (little-endian values). */
static void cmp_bytes(struct out *o, const char *what, const uint8_t *a, const uint8_t *b, size_t n)
{
    if (!memcmp(a, b, n))
        return;
    o->diffs++;
    emit(o, "    %s: native", what);
    for (size_t i = 0; i < n; i++)
        emit(o, " %02x", a[n - 1 - i]);
    emit(o, "\n    %*s  emu   ", (int)strlen(what), "");
    for (size_t i = 0; i < n; i++)
        emit(o, " %02x", b[n - 1 - i]);
    emit(o, "\n");
}

int compare_results(const struct diff_form *f, const struct diff_case *c,
                    const struct diff_result *nat, const struct diff_result *emu,
                    char *buf, size_t buflen)
{
    struct out o = { buf, buflen, 0 };
    if (buf && buflen)
        buf[0] = 0;
    if (nat->vector != emu->vector)
        say(&o, "    vector: native %d, emu %d%s\n", nat->vector, emu->vector,
            emu->vector < 0 ? " (ran out of instructions)" : "");
    for (int i = 0; i < GPR_COUNT; i++)
        if (nat->st.regs[i] != emu->st.regs[i])
            say(&o, "    %-6s native %016" PRIx64 "  emu %016" PRIx64 "  (in %016" PRIx64 ")\n",
                gpr_names[i], nat->st.regs[i], emu->st.regs[i], c->in.regs[i]);
    if (nat->st.rip != emu->st.rip)
        say(&o, "    rip    native %016" PRIx64 "  emu %016" PRIx64 "\n", nat->st.rip, emu->st.rip);
    uint64_t fm = compare_flag_mask(f, c);
    if ((nat->st.rflags ^ emu->st.rflags) & fm)
        say(&o, "    rflags native %06" PRIx64 "  emu %06" PRIx64 "  (compared bits %06" PRIx64
            ", differing %06" PRIx64 ", in %06" PRIx64 ")\n",
            nat->st.rflags & 0x3fffff, emu->st.rflags & 0x3fffff, fm,
            (nat->st.rflags ^ emu->st.rflags) & fm, c->in.rflags);
    int shown = 0;
    for (size_t i = 0; i < DIFF_SIZE; i++) {
        if (nat->mem[i] == emu->mem[i])
            continue;
        size_t j = i;
        while (j < DIFF_SIZE && j < i + 16 && nat->mem[j] != emu->mem[j])
            j++;
        if (shown++ < 4) {
            char what[48];
            snprintf(what, sizeof what, "mem %08" PRIx64 "..+%zu", (uint64_t)(DIFF_BASE + i), j - i);
            cmp_bytes(&o, what, nat->mem + i, emu->mem + i, j - i);
        } else {
            o.diffs++;
        }
        i = j;
    }
    for (int i = 0; i < 16; i++) {
        char what[16];
        snprintf(what, sizeof what, "xmm%d", i);
        cmp_bytes(&o, what, nat->st.fx.xmm[i], emu->st.fx.xmm[i], 16);
    }
    if (nat->st.fx.mxcsr != emu->st.fx.mxcsr)
        say(&o, "    mxcsr  native %08x  emu %08x\n", nat->st.fx.mxcsr, emu->st.fx.mxcsr);
    if (nat->st.fx.fcw != emu->st.fx.fcw || nat->st.fx.fsw != emu->st.fx.fsw ||
        nat->st.fx.ftw != emu->st.fx.ftw)
        say(&o, "    x87 fcw/fsw/ftw native %04x/%04x/%02x  emu %04x/%04x/%02x\n", nat->st.fx.fcw,
            nat->st.fx.fsw, nat->st.fx.ftw, emu->st.fx.fcw, emu->st.fx.fsw, emu->st.fx.ftw);
    for (int i = 0; i < 8; i++) {
        char what[16];
        snprintf(what, sizeof what, "st%d", i);
        cmp_bytes(&o, what, nat->st.fx.st[i], emu->st.fx.st[i], 10);
    }
    return o.diffs;
}

/* Prints the case: form, how to reproduce it, bytes, input state. */
void compare_print_case(const struct diff_form *f, const struct diff_case *c, uint64_t seed,
                        uint64_t idx)
{
    printf("  MISMATCH %s [%s]  reproduce: diff-runner --form '%s' --seed %" PRIu64 " --case %" PRIu64 "\n",
           f->name, f->group, f->name, seed, idx);
    printf("    bytes:");
    for (unsigned i = 0; i < c->len; i++)
        printf(" %02x", c->bytes[i]);
    printf("  (at %08" PRIx64 ", then cc)\n", c->in.rip);
    for (int i = 0; i < GPR_COUNT; i++)
        printf("    in %-4s %016" PRIx64 "%s", gpr_names[i], c->in.regs[i], i % 4 == 3 ? "\n" : "");
    printf("    in rflags %06" PRIx64, c->in.rflags);
    if (c->ea)
        printf("  memory operand at %016" PRIx64, c->ea);
    if (c->has_count)
        printf("  count %" PRIu64, c->count);
    printf("\n");
    if (c->ea >= DIFF_BASE && c->ea + 16 <= DIFF_BASE + DIFF_SIZE) {
        printf("    in memory at operand:");
        for (int i = 0; i < 16; i++)
            printf(" %02x", c->image[c->ea - DIFF_BASE + (uint64_t)i]);
        printf("\n");
    }
}
