/* SSE kernels (sse_host.c, sse_shuf.c) and the SSE handlers' checks:
 * every table operation runs and leaves the host's MXCSR alone, the
 * guest's rounding/DAZ/FTZ are honoured, conversions give the integer
 * indefinite, #UD/#NM/#XM conditions. */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "accel/emu/fp.h"
#include "accel/emu/insn.h"

static fp_xmm xf(float a, float b, float c, float d)
{
    fp_xmm x;
    x.f[0] = a; x.f[1] = b; x.f[2] = c; x.f[3] = d;
    return x;
}

static void test_table(void)
{
    uint32_t before, after;
    __asm__ volatile("stmxcsr %0" : "=m"(before));
    for (int op = 0; op < SSE_OP_COUNT; op++) {
        fp_xmm d = xf(1.0f, -2.0f, 0.0f, 3.0f), s = xf(0.5f, 0.0f, -1.0f, 1e-40f);
        const char *name = sse_op_name((enum sse_op)op);
        CHECK(name && name[0]);
        /* a guest MXCSR with round-up and FTZ must not leak into the host */
        uint32_t fl = sse_exec((enum sse_op)op, &d, &s, 0x5f80 | MXCSR_FTZ);
        CHECK((fl & ~MXCSR_FLAGS) == 0);
        if (!sse_op_is_fp((enum sse_op)op))
            CHECK_EQ(fl, 0);
    }
    __asm__ volatile("stmxcsr %0" : "=m"(after));
    CHECK_EQ(after, before);
    CHECK(sse_op_is_fp(SSE_ADDPS));
    CHECK(sse_op_is_fp(SSE_CVTTPD2DQ));
    CHECK(!sse_op_is_fp(SSE_PADDB));
    CHECK(!strcmp(sse_op_name(SSE_CMPNLEPD), "cmpnlepd"));
}

static void test_rounding(void)
{
    /* 1 + 2^-30 in single precision: nearest -> 1, up -> 1 + 2^-23 */
    fp_xmm d = xf(1.0f, 0, 0, 0), s = xf(0x1p-30f, 0, 0, 0);
    CHECK_EQ(sse_exec(SSE_ADDSS, &d, &s, MXCSR_DEFAULT), 0x20);
    CHECK_EQ(d.d[0], 0x3f800000);
    d = xf(1.0f, 0, 0, 0);
    sse_exec(SSE_ADDSS, &d, &s, MXCSR_DEFAULT | 0x4000);
    CHECK_EQ(d.d[0], 0x3f800001);
    /* scalar forms keep the upper lanes */
    d = xf(1.0f, 7.0f, 8.0f, 9.0f);
    sse_exec(SSE_MULSS, &d, &s, MXCSR_DEFAULT);
    CHECK_EQ(d.d[1], 0x40e00000);
    CHECK_EQ(d.d[3], 0x41100000);
    /* DAZ: a denormal source reads as zero, no DE */
    fp_xmm dz = xf(0, 0, 0, 0), den;
    memset(&den, 0, sizeof(den));
    den.d[0] = 1;
    CHECK_EQ(sse_exec(SSE_ADDSS, &dz, &den, MXCSR_DEFAULT), 0x02);  /* DE */
    CHECK_EQ(dz.d[0], 1);
    dz = xf(0, 0, 0, 0);
    CHECK_EQ(sse_exec(SSE_ADDSS, &dz, &den, MXCSR_DEFAULT | MXCSR_DAZ), 0);
    CHECK_EQ(dz.d[0], 0);
}

static void test_cvt(void)
{
    fp_xmm x;
    uint64_t g;
    memset(&x, 0, sizeof(x));
    x.f[0] = -0.9f;
    CHECK_EQ(sse_cvt_gpr(CVT_TSS2SI, &x, &g, 8, MXCSR_DEFAULT), 0x20);
    CHECK_EQ(g, 0);
    x.f[0] = 0x1p63f;
    CHECK_EQ(sse_cvt_gpr(CVT_TSS2SI, &x, &g, 8, MXCSR_DEFAULT), 0x01);
    CHECK_EQ(g, 0x8000000000000000ull);
    x.f[0] = -0x1p31f;
    CHECK_EQ(sse_cvt_gpr(CVT_SS2SI, &x, &g, 4, MXCSR_DEFAULT), 0);
    CHECK_EQ(g, 0x80000000u);
    x.g[0] = -1.5;
    sse_cvt_gpr(CVT_SD2SI, &x, &g, 4, MXCSR_DEFAULT | 0x2000);  /* RC down */
    CHECK_EQ(g, 0xfffffffe);
    g = 0xffffffffffffffffull;
    x.q[1] = 0x1234;
    sse_cvt_gpr(CVT_SI2SD, &x, &g, 8, MXCSR_DEFAULT);
    CHECK_EQ(x.q[0], 0xbff0000000000000ull);
    CHECK_EQ(x.q[1], 0x1234);
    g = 0xffffffff;  /* 32-bit source: -1 */
    sse_cvt_gpr(CVT_SI2SS, &x, &g, 4, MXCSR_DEFAULT);
    CHECK_EQ(x.d[0], 0xbf800000);
    uint64_t fl = RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_DF;
    fp_xmm a = xf(-0.0f, 0, 0, 0), b = xf(0.0f, 0, 0, 0);
    sse_comi(&a, &b, false, true, MXCSR_DEFAULT, &fl);
    CHECK_EQ(fl, RFLAGS_ZF | RFLAGS_DF);  /* -0 == +0; OF SF AF cleared */
}

static void test_shuf(void)
{
    fp_xmm a, b;
    for (int k = 0; k < 16; k++) {
        a.b[k] = (uint8_t)k;
        b.b[k] = (uint8_t)(0x80 | k);
    }
    fp_xmm t = a;
    sse_pslldq(&t, 16);
    CHECK_EQ(t.q[0] | t.q[1], 0);
    t = a;
    sse_psrldq(&t, 200);
    CHECK_EQ(t.q[0] | t.q[1], 0);
    t = a;
    sse_pslldq(&t, 1);
    CHECK_EQ(t.b[0], 0);
    CHECK_EQ(t.b[15], 14);
    t = a;
    sse_pshufhw(&t, &a, 0x1b);
    CHECK_EQ(t.q[0], a.q[0]);
    CHECK_EQ(t.w[4], a.w[7]);
    CHECK_EQ(t.w[7], a.w[4]);
    t = a;
    sse_shufpd(&t, &b, 0x1);
    CHECK_EQ(t.q[0], a.q[1]);
    CHECK_EQ(t.q[1], b.q[0]);
    CHECK_EQ(sse_pmovmskb(&b, 16), 0xffff);
    CHECK_EQ(sse_pmovmskb(&b, 8), 0xff);
    CHECK_EQ(mmx_pshufw(0x4444333322221111ull, 0x00), 0x1111111111111111ull);
    CHECK_EQ(mmx_exec(SSE_PSRAW, 0x8000000080000000ull, 15), 0xffff0000ffff0000ull);
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

static void test_checks(void)
{
    static const uint8_t addps[] = { 0x0f, 0x58, 0xc1 };        /* addps xmm0, xmm1 */
    static const uint8_t divss[] = { 0xf3, 0x0f, 0x5e, 0xc1 };  /* divss xmm0, xmm1 */
    static const uint8_t paddb_mm[] = { 0x0f, 0xfc, 0xc1 };     /* paddb mm0, mm1 */
    struct emu_cpu *c = calloc(1, sizeof(*c));
    c->mode = MODE_LONG64;
    c->cpl = 3;
    c->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
    c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    x87_init(&c->fx);
    c->fx.mxcsr = MXCSR_DEFAULT;

    CHECK_EQ(run_insn(c, addps, 3), -1);
    c->cr4 &= ~CR4_OSFXSR;
    CHECK_EQ(run_insn(c, addps, 3), EXC_UD);
    c->cr4 |= CR4_OSFXSR;
    c->cr0 |= CR0_EM;
    CHECK_EQ(run_insn(c, addps, 3), EXC_UD);
    CHECK_EQ(run_insn(c, paddb_mm, 3), EXC_UD);
    c->cr0 &= ~CR0_EM;
    c->cr0 |= CR0_TS;
    CHECK_EQ(run_insn(c, addps, 3), EXC_NM);
    CHECK_EQ(run_insn(c, paddb_mm, 3), EXC_NM);
    c->cr0 &= ~CR0_TS;

    /* 1/0 with ZE unmasked: #XM (or #UD without OSXMMEXCPT), xmm0 kept */
    fp_xmm one = xf(1.0f, 0, 0, 0), zero = xf(0, 0, 0, 0);
    memcpy(c->fx.xmm[0], &one, 16);
    memcpy(c->fx.xmm[1], &zero, 16);
    c->fx.mxcsr = MXCSR_DEFAULT & ~0x200u;
    CHECK_EQ(run_insn(c, divss, 4), EXC_XM);
    CHECK(memcmp(c->fx.xmm[0], &one, 16) == 0);
    CHECK_EQ(c->fx.mxcsr & MXCSR_FLAGS, 0x04);
    c->cr4 &= ~CR4_OSXMMEXCPT;
    CHECK_EQ(run_insn(c, divss, 4), EXC_UD);
    c->fx.mxcsr = MXCSR_DEFAULT;
    CHECK_EQ(run_insn(c, divss, 4), -1);
    CHECK_EQ(c->fx.xmm[0][3], 0x7f);  /* +inf */
    free(c);
}

int main(void)
{
    test_table();
    test_rounding();
    test_cvt();
    test_shuf();
    test_checks();
    TEST_MAIN_END();
}
