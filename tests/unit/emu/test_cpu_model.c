/* The CPU model (cpuid.c, msr.c): the speculation controls that let
 * Linux run without retpolines, return thunks or branch-history clearing
 * are advertised together with the MSRs that they promise, and those MSRs
 * refuse what is not advertised. */
#include "../test.h"
#include "sys_util.h"

static void test_speculation_controls(void)
{
    struct sysm *m = sys_new();
    uint32_t r[4];
    emu_cpuid(&m->c, 7, 0, r);
    CHECK_EQ(r[0], 2);                 /* subleaves up to 2 */
    CHECK(r[3] & (1u << 26));          /* IBRS/IBPB: SPEC_CTRL, PRED_CMD */
    CHECK(r[3] & (1u << 29));          /* ARCH_CAPABILITIES */
    CHECK(!(r[3] & (1u << 27)));       /* no STIBP */
    emu_cpuid(&m->c, 7, 2, r);
    CHECK_EQ(r[3], 1u << 4);           /* BHI_CTRL */
    uint64_t v = 0;
    CHECK(emu_rdmsr(&m->c, 0x10a, &v));
    CHECK(v & (1ull << 1));            /* IBRS_ALL */
    CHECK(v & (1ull << 20));           /* BHI_NO */
    CHECK(v & (1ull << 62));           /* ITS_NO */
    CHECK(!(v & (1ull << 2)));         /* not RSBA */
    CHECK(emu_rdmsr(&m->c, 0x48, &v));
    CHECK_EQ(v, 0);
    CHECK(emu_wrmsr(&m->c, 0x48, 1 | (1ull << 10)));  /* IBRS, BHI_DIS_S */
    CHECK(emu_rdmsr(&m->c, 0x48, &v));
    CHECK_EQ(v, 1 | (1ull << 10));
    CHECK(!emu_wrmsr(&m->c, 0x48, 2));  /* STIBP: #GP */
    CHECK(!emu_wrmsr(&m->c, 0x48, 4));  /* SSBD: #GP */
    CHECK(emu_rdmsr(&m->c, 0x48, &v));
    CHECK_EQ(v, 1 | (1ull << 10));      /* a refused write changes nothing */
    CHECK(emu_wrmsr(&m->c, 0x49, 1));   /* IBPB */
    CHECK(!emu_wrmsr(&m->c, 0x49, 2));
    CHECK(!emu_rdmsr(&m->c, 0x49, &v)); /* PRED_CMD is write-only */
    sys_free(m);
}

int main(void)
{
    test_speculation_controls();
    TEST_MAIN_END();
}
