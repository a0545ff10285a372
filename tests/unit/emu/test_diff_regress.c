/* Regression tests for engine bugs found by the differential tests
 * (tests/diff): each case is a reduced reproducer, run through
 * emu_flat_run, with the result the host CPU gives (Intel SDM). */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "accel/emu/emu.h"
#include "flat_util.h"

#define ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#include "util/log.h"

/* A 32-bit destination is zero-extended even with a masked count of 0,
 * and the flags stay as they were (CF set). */
static void test_shift_count0_zero_extends(struct flat *f)
{
    static const uint8_t code[] = {
        0x48, 0xc7, 0xc5, 0xff, 0xff, 0xff, 0xff,       /* mov rbp, -1 */
        0x31, 0xc9,                                     /* xor ecx, ecx */
        0xf9,                                           /* stc */
        0xd3, 0xc5,                                     /* rol ebp, cl */
        0x48, 0xc7, 0xc3, 0xff, 0xff, 0xff, 0xff,       /* mov rbx, -1 */
        0xc1, 0xe3, 0x00,                               /* shl ebx, 0 */
        0x48, 0xc7, 0xc2, 0xff, 0xff, 0xff, 0xff,       /* mov rdx, -1 */
        0x48, 0xc7, 0xc6, 0xff, 0xff, 0xff, 0xff,       /* mov rsi, -1 */
        0x0f, 0xa4, 0xf2, 0x20,                         /* shld edx, esi, 32 (masked: 0) */
        0x48, 0xc7, 0xc7, 0xff, 0xff, 0xff, 0xff,       /* mov rdi, -1 */
        0xd1, 0xdf,                                     /* rcr edi, 1 (real count, control) */
        0xcc,
    };
    flat_init(f);
    flat_run(f, code, sizeof(code), 1000);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.regs[GPR_RBP], 0xffffffffull);
    CHECK_EQ(f->st.regs[GPR_RBX], 0xffffffffull);
    CHECK_EQ(f->st.regs[GPR_RDX], 0xffffffffull);
    CHECK_EQ(f->st.regs[GPR_RSI], 0xffffffffffffffffull);   /* the source is not written */
    CHECK_EQ(f->st.regs[GPR_RDI], 0xffffffffull);           /* CF=1 rotated in */
}

/* Shifts with a memory destination are read-modify-write: a #PF on a
 * not-present page reports W (error code 6 at CPL 3), even with count 0. */
static void check_shift_pf(struct flat *f, const uint8_t *insn, size_t n, const char *what)
{
    uint8_t code[32] = { 0x48, 0xc7, 0xc3, 0x00, 0x00, 0x41, 0x00 };  /* mov rbx, 0x410000 (unmapped) */
    memcpy(code + 7, insn, n);
    code[7 + n] = 0xcc;
    flat_init(f);
    f->st.regs[GPR_RCX] = 0;
    flat_run(f, code, 8 + n, 1000);
    if (f->res.vector != 14 || f->res.error_code != 6)
        fprintf(stderr, "%s: vector %d error code %#x\n", what, f->res.vector, f->res.error_code);
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->res.error_code, 6);
    CHECK_EQ(f->st.cr2, 0x410000);
    CHECK_EQ(f->st.rip, FLAT_BASE + 7);
}

static void test_shift_mem_pf_write(struct flat *f)
{
    static const struct { uint8_t b[8]; size_t n; const char *what; } t[] = {
        { { 0x66, 0xd1, 0x03 }, 3, "rol word [rbx], 1" },
        { { 0xd3, 0x2b }, 2, "shr dword [rbx], cl (cl=0)" },
        { { 0xc0, 0x3b, 0x05 }, 3, "sar byte [rbx], 5" },
        { { 0x48, 0xd1, 0x13 }, 3, "rcl qword [rbx], 1" },
        { { 0x48, 0x0f, 0xad, 0x03 }, 4, "shrd qword [rbx], rax, cl (cl=0)" },
        { { 0x0f, 0xa4, 0x03, 0x03 }, 4, "shld dword [rbx], eax, 3" },
    };
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
        check_shift_pf(f, t[k].b, t[k].n, t[k].what);
}

/* REPNE SCASW stopped by a #PF after three completed iterations: RCX/RDI
 * show the progress and RFLAGS the flags of the third compare
 * (1 - 3: CF, AF, SF), not the flags from before the instruction. */
static void test_rep_scas_fault_keeps_flags(struct flat *f)
{
    static const uint8_t code[] = {
        0x48, 0xc7, 0xc7, 0xfa, 0xff, 0x40, 0x00,       /* mov rdi, 0x40fffa */
        0xb9, 0x0a, 0x00, 0x00, 0x00,                   /* mov ecx, 10 */
        0xb8, 0x01, 0x00, 0x00, 0x00,                   /* mov eax, 1 */
        0x66, 0xf2, 0xaf,                               /* repne scasw */
        0xcc,
    };
    flat_init(f);
    f->mem[0xfffa] = 5;
    f->mem[0xfffc] = 4;
    f->mem[0xfffe] = 3;
    flat_run(f, code, sizeof(code), 1000);
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->res.error_code, 4);
    CHECK_EQ(f->st.cr2, 0x410000);
    CHECK_EQ(f->st.rip, FLAT_BASE + 17);
    CHECK_EQ(f->st.regs[GPR_RCX], 7);
    CHECK_EQ(f->st.regs[GPR_RDI], 0x410000);
    CHECK_EQ(f->st.rflags & (ARITH | RFLAGS_DF), RFLAGS_CF | RFLAGS_AF | RFLAGS_SF);
}

/* REPE CMPSD: one equal compare (ZF, PF), then a #PF reading [RSI]. */
static void test_rep_cmps_fault_keeps_flags(struct flat *f)
{
    static const uint8_t code[] = {
        0x48, 0xc7, 0xc6, 0xfc, 0xff, 0x40, 0x00,       /* mov rsi, 0x40fffc */
        0x48, 0xc7, 0xc7, 0x00, 0x80, 0x40, 0x00,       /* mov rdi, 0x408000 */
        0xb9, 0x05, 0x00, 0x00, 0x00,                   /* mov ecx, 5 */
        0xf3, 0xa7,                                     /* repe cmpsd */
        0xcc,
    };
    flat_init(f);
    memcpy(f->mem + 0xfffc, "abcd", 4);
    memcpy(f->mem + 0x8000, "abcd", 4);
    flat_run(f, code, sizeof(code), 1000);
    CHECK_EQ(f->res.vector, 14);
    CHECK_EQ(f->st.cr2, 0x410000);
    CHECK_EQ(f->st.regs[GPR_RCX], 4);
    CHECK_EQ(f->st.regs[GPR_RSI], 0x410000);
    CHECK_EQ(f->st.regs[GPR_RDI], 0x408004);
    CHECK_EQ(f->st.rflags & ARITH, RFLAGS_ZF | RFLAGS_PF);
}

/* A misaligned 16-byte aligned operand is #GP(0) even with an RBP base
 * and a non-canonical address (the stack segment would give #SS); an
 * aligned non-canonical stack reference stays #SS(0). */
static void check_vector(struct flat *f, const uint8_t *insn, size_t n, uint64_t rbp, int vector, const char *what)
{
    uint8_t code[16];
    memcpy(code, insn, n);
    code[n] = 0xcc;
    flat_init(f);
    f->st.regs[GPR_RBP] = rbp;
    flat_run(f, code, n + 1, 10);
    if (f->res.vector != vector)
        fprintf(stderr, "%s: vector %d, want %d\n", what, f->res.vector, vector);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, vector);
    CHECK_EQ(f->res.error_code, 0);
    CHECK_EQ(f->st.rip, FLAT_BASE);
}

static void test_align16_gp_not_ss(struct flat *f)
{
    static const uint8_t cx16[] = { 0x48, 0x0f, 0xc7, 0x4d, 0x00 };         /* cmpxchg16b [rbp] */
    static const uint8_t lcx16[] = { 0xf0, 0x48, 0x0f, 0xc7, 0x4d, 0x00 };  /* lock cmpxchg16b [rbp] */
    static const uint8_t movdqa[] = { 0x66, 0x0f, 0x6f, 0x5d, 0x00 };      /* movdqa xmm3, [rbp] */
    check_vector(f, cx16, sizeof(cx16), 0x8000000000000008ull, 13, "cmpxchg16b noncanonical misaligned");
    check_vector(f, lcx16, sizeof(lcx16), 0x8000000000000008ull, 13, "lock cmpxchg16b noncanonical misaligned");
    check_vector(f, movdqa, sizeof(movdqa), 0x8000000000000008ull, 13, "movdqa noncanonical misaligned");
    check_vector(f, cx16, sizeof(cx16), FLAT_DATA + 8, 13, "cmpxchg16b misaligned");
    check_vector(f, cx16, sizeof(cx16), 0x8000000000000010ull, 12, "cmpxchg16b noncanonical aligned");
    check_vector(f, movdqa, sizeof(movdqa), 0x8000000000000010ull, 12, "movdqa noncanonical aligned");
}

/* Encodings of features emu's CPUID does not advertise are #UD (not an
 * engine stop): MOVBE, SSSE3/SSE4 in 0F 38/0F 3A, SSE3 in the 0F map. */
static void test_unadvertised_ud(struct flat *f)
{
    static const struct { uint8_t b[8]; size_t n; const char *what; } t[] = {
        { { 0x0f, 0x38, 0xf0, 0x06 }, 4, "movbe eax, [rsi]" },
        { { 0x48, 0x0f, 0x38, 0xf1, 0x06 }, 5, "movbe [rsi], rax" },
        { { 0x66, 0x0f, 0x38, 0xf0, 0x06 }, 5, "movbe ax, [rsi]" },
        { { 0x66, 0x0f, 0x38, 0x00, 0xc1 }, 5, "pshufb xmm0, xmm1 (SSSE3)" },
        { { 0xf2, 0x0f, 0x38, 0xf1, 0xc1 }, 5, "crc32 eax, ecx (SSE4.2)" },
        { { 0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x01 }, 6, "palignr xmm0, xmm1, 1 (SSSE3)" },
        { { 0xf2, 0x0f, 0x12, 0xc1 }, 4, "movddup (SSE3)" },
        { { 0x66, 0x0f, 0x7c, 0xc1 }, 4, "haddpd (SSE3)" },
        { { 0xf2, 0x0f, 0xd0, 0xc1 }, 4, "addsubps (SSE3)" },
        { { 0xf2, 0x0f, 0xf0, 0x06 }, 4, "lddqu xmm0, [rsi] (SSE3)" },
    };
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        uint8_t code[16];
        memcpy(code, t[k].b, t[k].n);
        code[t[k].n] = 0xcc;
        flat_init(f);
        f->st.regs[GPR_RSI] = FLAT_DATA;
        flat_run(f, code, t[k].n + 1, 10);
        if (f->rc != 0 || f->res.vector != 6)
            fprintf(stderr, "%s: rc %d vector %d (%s)\n", t[k].what, f->rc, f->res.vector, f->rc ? err_get() : "");
        CHECK_EQ(f->rc, 0);
        CHECK_EQ(f->res.vector, 6);
        CHECK_EQ(f->st.rip, FLAT_BASE);
    }
}

/* FWAIT raises #MF when an unmasked x87 exception is pending: a division
 * by zero with ZM clear sets FSW.ES (no fault yet, x87 exceptions are
 * reported at the next waiting instruction), then FWAIT faults. */
static void test_fwait_pending_mf(struct flat *f)
{
    static const uint8_t code[] = {
        0xd9, 0xe8,     /* fld1 */
        0xd9, 0xee,     /* fldz */
        0xde, 0xf9,     /* fdivp st(1), st: 1/0 */
        0x9b,           /* fwait */
        0xcc,
    };
    flat_init(f);
    f->st.fx.fcw = 0x037b;          /* all masked but ZM */
    f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 16);
    CHECK_EQ(f->st.rip, FLAT_BASE + 6);
    CHECK_EQ(f->st.fx.fsw & 0x84, 0x84);    /* ES and ZE */

    /* The same with ZM set: masked, no #MF, FWAIT is a no-op. */
    flat_init(f);
    f->st.fx.fcw = 0x037f;
    f->st.fx.mxcsr = 0x1f80;
    flat_run(f, code, sizeof(code), 100);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->res.vector, 3);
    CHECK_EQ(f->st.rip, FLAT_BASE + 8);
}

int main(void)
{
    struct flat *f = malloc(sizeof(*f));
    test_shift_count0_zero_extends(f);
    test_shift_mem_pf_write(f);
    test_rep_scas_fault_keeps_flags(f);
    test_rep_cmps_fault_keeps_flags(f);
    test_align16_gp_not_ss(f);
    test_unadvertised_ud(f);
    test_fwait_pending_mf(f);
    if (test_failures)
        fprintf(stderr, "last error: %s\n", err_get());
    free(f);
    TEST_MAIN_END();
}
