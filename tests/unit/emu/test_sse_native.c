/* Compiler-generated floating-point code, run natively and in emu: the
 * functions below are compiled into this test (gcc or clang, -O2: SSE2
 * scalar and vectorized loops, x87 for long double, conversions), then run
 * again by emu_flat_run over an identity map of this executable's image, and
 * the two sets of results must be equal bit for bit.
 *
 * The functions call nothing, keep no arrays on their stack (no stack
 * protector) and are not instrumented by the sanitizers, so the only memory
 * they touch is their arguments (in .bss) and their constants (.rodata). */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "accel/emu/flat.h"
#include "util/log.h"

extern const char __executable_start[];
extern char end[];

#define N 64

struct results {
    double dsum, dprod, droot, dmix[N];
    float fvec[N];
    long double lsum, lquot, lconv;
    int64_t i64[8];
    int32_t i32[N];
    uint8_t bytes[N];
    unsigned count;
};

struct inputs {
    double d[N];
    float f[N];
    int32_t k[N];
    uint8_t b[N];
    long double l[4];
};

#define NOSAN __attribute__((noinline, used, no_sanitize("address", "undefined")))

NOSAN void fp_work(struct results *restrict r, const struct inputs *restrict in)
{
    double s = 0, p = 1;
    for (int k = 0; k < N; k++) {
        s += in->d[k] * in->d[(k + 7) % N] - in->d[k] / (1.0 + in->f[k] * in->f[k]);
        p *= 1.0 + in->d[k] * 1e-3;
        r->dmix[k] = in->d[k] > in->f[k] ? in->d[k] - in->f[k] : (double)in->k[k] * 0.5;
    }
    r->dsum = s;
    r->dprod = p;
    r->droot = __builtin_sqrt(s * s + p);
    for (int k = 0; k < N; k++)  /* vectorizable at -O2 */
        r->fvec[k] = in->f[k] * 3.0f + (float)in->k[k];
    for (int k = 0; k < N; k++)
        r->i32[k] = (int32_t)(in->d[k] * 1000.0) + in->k[k] * 3;
    unsigned cnt = 0;
    for (int k = 0; k < N; k++) {
        r->bytes[k] = (uint8_t)(in->b[k] > 100 ? in->b[k] - 100 : in->b[k] + 7);
        cnt += in->b[k] == 42;
    }
    r->count = cnt;
    long double ls = 0;
    for (int k = 1; k <= 200; k++)
        ls += 1.0L / k;
    r->lsum = ls;
    r->lquot = in->l[0] / in->l[1] + in->l[2] * in->l[3];
    r->lconv = (long double)in->d[3] * in->l[1];
    r->i64[0] = (int64_t)ls;
    r->i64[1] = (int64_t)(in->l[0] * 1e6L);
    r->i64[2] = (int64_t)(in->d[5] * 1e12);
    r->i64[3] = (int64_t)(in->f[9] * 1e6f);
    r->i64[4] = (int64_t)(s < p) + 2 * (int64_t)(in->d[1] == in->d[2]);
    r->i64[5] = (int64_t)(in->d[7] * 100.0 + 0.5);
    r->i64[6] = (int64_t)(uint64_t)(in->d[9] * 1e15 + 1e19);   /* unsigned conversion path */
    r->i64[7] = (int64_t)(double)(uint64_t)in->k[3] * 3;
}

static struct inputs g_in;
static struct results g_native, g_emu;
static uint64_t g_stack[512] __attribute__((aligned(16)));

int main(void)
{
    for (int k = 0; k < N; k++) {
        g_in.d[k] = (k * 37 % 19) * 0.37 - 2.5 + (k == 11 ? 1e-310 : 0);
        g_in.f[k] = (float)((k * 13 % 7) * 0.9 - 1.7);
        g_in.k[k] = (k * 7919) % 2001 - 1000;
        g_in.b[k] = (uint8_t)(k * 29 + (k % 5 == 0 ? 42 - k * 29 : 0));
    }
    g_in.l[0] = 3.0L;
    g_in.l[1] = 7.0L;
    g_in.l[2] = 1.0e-300L;
    g_in.l[3] = 1.0e-100L;

    fp_work(&g_native, &g_in);

    uint64_t base = (uint64_t)(uintptr_t)__executable_start & ~0xfffull;
    uint64_t size = (((uint64_t)(uintptr_t)end + 0xfff) & ~0xfffull) - base;
    struct cpu_state *st = calloc(1, sizeof(*st));
    struct emu_flat_result res;
    st->fx.fcw = 0x37f;
    st->fx.mxcsr = 0x1f80;
    st->rip = (uint64_t)(uintptr_t)fp_work;
    st->regs[GPR_RDI] = (uint64_t)(uintptr_t)&g_emu;
    st->regs[GPR_RSI] = (uint64_t)(uintptr_t)&g_in;
    /* fp_work returns to an INT3 inside the stack array (not a global of
     * its own: the emulator fetches code several bytes at a time) */
    g_stack[500] = 0xcc;
    g_stack[490] = (uint64_t)(uintptr_t)&g_stack[500];
    st->regs[GPR_RSP] = (uint64_t)(uintptr_t)&g_stack[490];
    st->rflags = 2;
    int rc = emu_flat_run(st, (void *)(uintptr_t)base, base, size, 10000000, &res);
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "emu: %s\n", err_get());
    CHECK_EQ(res.vector, 3);
    if (res.vector != 3)
        fprintf(stderr, "vector %d at rip 0x%llx (fp_work at %p)\n", res.vector,
                (unsigned long long)st->rip, (void *)fp_work);
    CHECK_EQ(st->rip, (uint64_t)(uintptr_t)&g_stack[500] + 1);
    CHECK(memcmp(&g_native.dsum, &g_emu.dsum, 8 * 3) == 0);
    CHECK(memcmp(g_native.dmix, g_emu.dmix, sizeof(g_native.dmix)) == 0);
    CHECK(memcmp(g_native.fvec, g_emu.fvec, sizeof(g_native.fvec)) == 0);
    CHECK(memcmp(&g_native.lsum, &g_emu.lsum, 10) == 0);
    CHECK(memcmp(&g_native.lquot, &g_emu.lquot, 10) == 0);
    CHECK(memcmp(&g_native.lconv, &g_emu.lconv, 10) == 0);
    CHECK(memcmp(g_native.i64, g_emu.i64, sizeof(g_native.i64)) == 0);
    CHECK(memcmp(g_native.i32, g_emu.i32, sizeof(g_native.i32)) == 0);
    CHECK(memcmp(g_native.bytes, g_emu.bytes, sizeof(g_native.bytes)) == 0);
    CHECK_EQ(g_native.count, g_emu.count);
    CHECK(g_native.count > 0);
    CHECK(res.insns > 1000);
    free(st);
    TEST_MAIN_END();
}
