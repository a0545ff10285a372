/* x87 kernels (src/accel/emu/x87_*.c, fxsave.c) and the architectural
 * checks of the x87 handlers: tag words, FNSTENV images against the host's
 * own FNSTENV, the host stubs' layout and side effects, #NM/#MF. */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "accel/emu/fp.h"
#include "accel/emu/insn.h"

void emu_fp_fwait(struct emu_cpu *c);

static void set_reg(struct cpu_fxsave *fx, unsigned i, uint64_t mant, uint16_t se)
{
    memset(fx->st[i], 0, 16);
    memcpy(fx->st[i], &mant, 8);
    memcpy(fx->st[i] + 8, &se, 2);
}

static void test_stubs(void)
{
    CHECK(x87_host_selftest());
    CHECK(x87_host_form(0, 0x00));          /* FADD m32 */
    CHECK(!x87_host_form(1, 1 << 3));       /* D9 /1: undefined */
    CHECK(!x87_host_form(1, 4 << 3));       /* FLDENV: a control form */
    CHECK(!x87_host_form(3, 4 << 3));       /* DB /4: undefined */
    CHECK(!x87_host_form(1, 0xe2));         /* D9 E2: undefined */
    CHECK(!x87_host_form(1, 0xd8));         /* FSTP1 alias: left out */
    CHECK(x87_host_form(7, 0xc3));          /* FFREEP */
    CHECK(!x87_host_form(3, 0xe3));         /* FNINIT: control */
    CHECK_EQ(x87_mem_size(3, 5 << 3), 10);  /* FLD m80 */
    CHECK_EQ(x87_mem_size(7, 5 << 3), 8);   /* FILD m64 */
    CHECK_EQ(x87_mem_size(6, 0), 2);        /* FIADD m16 */
    CHECK(x87_mem_is_store(7, 6 << 3));     /* FBSTP */
    CHECK(!x87_mem_is_store(7, 4 << 3));    /* FBLD */
}

/* Tags from contents: valid, zero, special (NaN/inf, denormal, unnormal),
 * empty; by physical register with TOP = 5. */
static void test_full_tag(void)
{
    struct cpu_fxsave fx;
    memset(&fx, 0, sizeof(fx));
    fx.fsw = 5 << FSW_TOP_SHIFT;
    set_reg(&fx, 0, 0x8000000000000000ull, 0x3fff);  /* phys 5: 1.0 valid */
    set_reg(&fx, 1, 0, 0x8000);                      /* phys 6: -0 zero */
    set_reg(&fx, 2, 0x8000000000000000ull, 0x7fff);  /* phys 7: inf special */
    set_reg(&fx, 3, 1, 0);                           /* phys 0: denormal special */
    set_reg(&fx, 4, 0x4000000000000000ull, 0x3fff);  /* phys 1: unnormal special */
    set_reg(&fx, 5, 0x8000000000000000ull, 0x4000);  /* phys 2: empty (tag bit clear) */
    fx.ftw = 0xff & ~(1u << 2) & ~(1u << 3) & ~(1u << 4);
    uint16_t tw = x87_full_tag(&fx);
    CHECK_EQ((tw >> 10) & 3, X87_TAG_VALID);
    CHECK_EQ((tw >> 12) & 3, X87_TAG_ZERO);
    CHECK_EQ((tw >> 14) & 3, X87_TAG_SPECIAL);
    CHECK_EQ((tw >> 0) & 3, X87_TAG_SPECIAL);
    CHECK_EQ((tw >> 2) & 3, X87_TAG_SPECIAL);
    CHECK_EQ((tw >> 4) & 3, X87_TAG_EMPTY);
    CHECK_EQ((tw >> 6) & 3, X87_TAG_EMPTY);
    CHECK_EQ(x87_abridge_tag(tw), fx.ftw);
    CHECK_EQ(x87_abridge_tag(0xffff), 0);
    CHECK_EQ(x87_abridge_tag(0x0000), 0xff);
}

/* Our FNSTENV image against the host's for the same state (loaded with
 * FXRSTOR): all but the pointer fields, which hold the host's. */
static void test_env_vs_host(void)
{
    struct cpu_fxsave fx;
    uint8_t mine[28], host[28];
    memset(&fx, 0, sizeof(fx));
    fx.fcw = 0x0a7f;
    fx.fsw = (3 << FSW_TOP_SHIFT) | FSW_C2 | FSW_PE;
    set_reg(&fx, 0, 0xc000000000000000ull, 0x4001);
    set_reg(&fx, 1, 0, 0);
    set_reg(&fx, 2, 0x1234, 0);
    set_reg(&fx, 3, 0xc000000000000000ull, 0xffff);
    fx.ftw = (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6);
    uint32_t host_mxcsr;
    uint16_t host_fcw;
    __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(host_mxcsr), "=m"(host_fcw));
    struct cpu_fxsave img = fx;
    img.mxcsr = host_mxcsr;
    __asm__ volatile("fxrstor64 %1\n\tfnstenv %0\n\tfninit\n\tfldcw %2"
                     : "=m"(host) : "m"(img), "m"(host_fcw));
    x87_env_store(&fx, mine, false);
    CHECK(memcmp(mine, host, 12) == 0);  /* FCW, FSW, full tag word */
    uint16_t tw = (uint16_t)(host[8] | host[9] << 8);
    /* phys 3 = ST0 valid, 4 = ST1 zero, 5 = ST2 denormal, 6 = ST3 NaN */
    CHECK_EQ(tw, 0xe93f);
    CHECK_EQ(mine[26] | mine[27] << 8, host[26] | host[27] << 8);
}

static void test_env_roundtrip(void)
{
    struct cpu_fxsave a, b;
    uint8_t img16[14], img32[28];
    memset(&a, 0, sizeof(a));
    a.fcw = 0x027f;
    a.fsw = (6 << FSW_TOP_SHIFT) | FSW_C3 | FSW_ZE;  /* ZE set, masked */
    a.ftw = 0xc0;
    set_reg(&a, 0, 0x8000000000000000ull, 0x3fff);
    set_reg(&a, 1, 0x8000000000000000ull, 0xbfff);
    a.fip = 0x11223344;
    a.fdp = 0x55667788;
    a.fop = 0x5c3;
    memcpy(&b, &a, sizeof(b));
    x87_env_store(&a, img32, false);
    memset(&b, 0, sizeof(b));
    x87_env_load(&b, img32, false);
    CHECK_EQ(b.fcw, a.fcw);
    CHECK_EQ(b.fsw, a.fsw);
    CHECK_EQ(b.ftw, a.ftw);
    CHECK_EQ(b.fip, a.fip);
    CHECK_EQ(b.fdp, a.fdp);
    CHECK_EQ(b.fop, a.fop);
    x87_env_store(&a, img16, true);
    memset(&b, 0, sizeof(b));
    x87_env_load(&b, img16, true);
    CHECK_EQ(b.fcw, a.fcw);
    CHECK_EQ(b.fsw, a.fsw);
    CHECK_EQ(b.ftw, a.ftw);
    CHECK_EQ(b.fip, 0x3344);
    CHECK_EQ(b.fdp, 0x7788);
    /* unmasking a set flag makes it pending: ES and B */
    img32[0] &= ~FSW_ZE;
    x87_env_load(&b, img32, false);
    CHECK(x87_mf_pending(&b));
    CHECK_EQ(b.fsw & (FSW_ES | FSW_B), FSW_ES | FSW_B);
    x87_clex(&b);
    CHECK(!x87_mf_pending(&b));
    CHECK_EQ(x87_fcw_norm(0), 0x40);
    CHECK_EQ(x87_fcw_norm(0xffff), 0x1f7f);
}

/* Host execution leaves the host's FCW and MXCSR as they were, and does
 * the guest's precision control. */
static void test_host_exec(void)
{
    struct cpu_fxsave fx;
    uint64_t rflags = RFLAGS_CF;
    uint8_t mem[16] __attribute__((aligned(16)));
    uint16_t fcw_before, fcw_after;
    uint32_t csr_before, csr_after;

    memset(&fx, 0, sizeof(fx));
    x87_init(&fx);
    fx.fcw = 0x0c7f;  /* PC 24 bits, RC toward zero */
    fx.mxcsr = 0x1f80;
    __asm__ volatile("fnstcw %0\n\tstmxcsr %1" : "=m"(fcw_before), "=m"(csr_before));
    x87_host_exec(&fx, 1, 0xe8, mem, &rflags);           /* FLD1 */
    uint32_t three = 3;
    memcpy(mem, &three, 4);
    x87_host_exec(&fx, 2, 6 << 3, mem, &rflags);         /* FIDIVR m32int: 3 / 1 */
    x87_host_exec(&fx, 1, 0xe8, mem, &rflags);           /* FLD1 */
    x87_host_exec(&fx, 6, 0xf9, mem, &rflags);           /* FDIVP: 1 / 3 */
    x87_host_exec(&fx, 3, 7 << 3, mem, &rflags);         /* FSTP m80 */
    __asm__ volatile("fnstcw %0\n\tstmxcsr %1" : "=m"(fcw_after), "=m"(csr_after));
    CHECK_EQ(fcw_after, fcw_before);
    CHECK_EQ(csr_after, csr_before);
    uint64_t mant;
    memcpy(&mant, mem, 8);
    CHECK_EQ(mant, 0xaaaaaa0000000000ull);  /* 24 bits, truncated */
    CHECK_EQ(mem[8] | mem[9] << 8, 0x3ffd);
    CHECK_EQ(x87_top(&fx), 0);
    CHECK_EQ(fx.ftw, 0);
    CHECK_EQ(rflags, RFLAGS_CF);  /* arithmetic does not touch EFLAGS */

    /* FCOMI writes ZF/PF/CF: 1 vs 1 -> ZF */
    x87_host_exec(&fx, 1, 0xe8, mem, &rflags);
    x87_host_exec(&fx, 1, 0xe8, mem, &rflags);
    x87_host_exec(&fx, 3, 0xf1, mem, &rflags);           /* FCOMI ST0, ST1 */
    CHECK_EQ(rflags & (RFLAGS_ZF | RFLAGS_PF | RFLAGS_CF), RFLAGS_ZF);
    /* FSCALE: 1 * 2^1 */
    x87_host_exec(&fx, 1, 0xfd, mem, &rflags);
    x87_host_exec(&fx, 3, 7 << 3, mem, &rflags);         /* FSTP m80 */
    memcpy(&mant, mem, 8);
    CHECK_EQ(mant, 0x8000000000000000ull);
    CHECK_EQ(mem[8] | mem[9] << 8, 0x4000);
}

/* ---- handler checks on a bare emu_cpu ---- */

static int run_insn(struct emu_cpu *c, const uint8_t *bytes, unsigned n)
{
    struct insn i;
    struct decode_mode m = { .code64 = true };
    if (emu_decode(bytes, n, m, &i) != DECODE_OK)
        return -2;
    jmp_buf jb;
    c->jb = &jb;
    c->exc_vector = -1;
    c->rip = 0x1000;
    c->next_rip = 0x1000 + i.len;
    if (setjmp(jb) == 0) {
        emu_dispatch(&i)(c, &i);
        return -1;
    }
    return c->exc_vector;
}

static struct emu_cpu *new_cpu(void)
{
    struct emu_cpu *c = calloc(1, sizeof(*c));
    c->mode = MODE_LONG64;
    c->cpl = 3;
    c->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
    c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    x87_init(&c->fx);
    c->fx.mxcsr = MXCSR_DEFAULT;
    return c;
}

static void test_checks(void)
{
    static const uint8_t fld1[] = { 0xd9, 0xe8 };
    static const uint8_t fnstsw_ax[] = { 0xdf, 0xe0 };
    struct emu_cpu *c = new_cpu();

    CHECK_EQ(run_insn(c, fld1, 2), -1);
    CHECK_EQ(x87_top(&c->fx), 7);
    CHECK_EQ(c->fx.fop, 0x1e8);
    CHECK_EQ(c->fx.fip, 0x1000);

    c->cr0 |= CR0_TS;
    CHECK_EQ(run_insn(c, fld1, 2), EXC_NM);
    c->cr0 &= ~CR0_TS;
    c->cr0 |= CR0_EM;
    CHECK_EQ(run_insn(c, fld1, 2), EXC_NM);   /* x87 with EM: #NM */
    c->cr0 &= ~CR0_EM;

    /* a pending unmasked exception: #MF for waiting forms only */
    c->fx.fcw = 0x37e;
    c->fx.fsw |= FSW_IE;
    x87_fix_es(&c->fx);
    CHECK_EQ(run_insn(c, fld1, 2), EXC_MF);
    CHECK_EQ(x87_top(&c->fx), 7);              /* not executed */
    CHECK_EQ(run_insn(c, fnstsw_ax, 2), -1);   /* FNSTSW does not wait */
    CHECK_EQ(c->r[GPR_RAX] & 0xffff, c->fx.fsw);
    CHECK_EQ(c->r[GPR_RAX] & 0x8081, 0x8081);
    jmp_buf jb;
    c->jb = &jb;
    c->exc_vector = -1;
    if (setjmp(jb) == 0)
        emu_fp_fwait(c);
    CHECK_EQ(c->exc_vector, EXC_MF);
    free(c);
}

int main(void)
{
    test_stubs();
    test_full_tag();
    test_env_vs_host();
    test_env_roundtrip();
    test_host_exec();
    test_checks();
    TEST_MAIN_END();
}
