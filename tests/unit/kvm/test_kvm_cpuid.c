/* The kvm engine's CPUID policy, fed a synthetic host table shaped like
 * KVM_GET_SUPPORTED_CPUID on a recent Intel host: every feature brume
 * cannot snapshot must disappear, the topology must be brume's, and the
 * paravirtual leaves must be replaced. Needs no /dev/kvm. */
#include <errno.h>
#include <string.h>

#include "../test.h"
#include "accel/kvm/kvm.h"

#define BIT(n) (1u << (n))
#define IDX KVM_CPUID_FLAG_SIGNIFCANT_INDEX

static const struct kvm_cpuid_entry2 host[] = {
    {.function = 0, .eax = 0x20, .ebx = 0x756e6547, .ecx = 0x6c65746e, .edx = 0x49656e69},
    {.function = 1, .eax = 0x000906ea, .ebx = 0x12340800 | 0x42 /* brand */,
     /* SSE3 PCLMUL VMX(5) SSSE3 FMA CX16 PCID SSE4.1/2 x2APIC MOVBE POPCNT
      * TSC-deadline AES XSAVE OSXSAVE AVX F16C RDRAND */
     .ecx = BIT(0) | BIT(1) | BIT(5) | BIT(9) | BIT(12) | BIT(13) | BIT(17) | BIT(19) |
            BIT(20) | BIT(21) | BIT(22) | BIT(23) | BIT(24) | BIT(25) | BIT(26) | BIT(27) |
            BIT(28) | BIT(29) | BIT(30),
     /* everything incl. MCE(7) MCA(14) DS(21) ACPI(22) */
     .edx = 0xbfebfbff},
    {.function = 2, .eax = 0x00feff01},
    {.function = 4, .index = 0, .flags = IDX, .eax = 0x1c004121},   /* L1d, 8 cores */
    {.function = 4, .index = 1, .flags = IDX, .eax = 0x1c004122},
    {.function = 4, .index = 2, .flags = IDX, .eax = 0x1c004143},   /* L2 */
    {.function = 4, .index = 3, .flags = IDX, .eax = 0x1c03c163},   /* L3, shared by 16 */
    {.function = 4, .index = 4, .flags = IDX, .eax = 0},
    {.function = 5, .eax = 0x40, .ebx = 0x40, .ecx = 3, .edx = 0x11142120},
    {.function = 6, .eax = 0x4 | 0x2 /* turbo */},
    {.function = 7, .index = 0, .flags = IDX, .eax = 1,
     /* FSGSBASE TSC_ADJUST BMI1 HLE AVX2 SMEP BMI2 ERMS INVPCID RTM MPX AVX512F
      * RDSEED ADX SMAP CLFLUSHOPT */
     .ebx = BIT(0) | BIT(1) | BIT(3) | BIT(4) | BIT(5) | BIT(7) | BIT(8) | BIT(9) | BIT(10) |
            BIT(11) | BIT(14) | BIT(16) | BIT(18) | BIT(19) | BIT(20) | BIT(23),
     .ecx = BIT(3) /* PKU */ | BIT(16) /* LA57 */ | BIT(22) /* RDPID */,
     .edx = BIT(10) | BIT(26) | BIT(29) | BIT(31) | BIT(24) /* AMX */},
    {.function = 7, .index = 1, .flags = IDX, .eax = BIT(4) /* AVX-VNNI */},
    {.function = 0xa, .eax = 0x07300404},
    {.function = 0xb, .index = 0, .flags = IDX, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 9},
    {.function = 0xb, .index = 1, .flags = IDX, .eax = 4, .ebx = 16, .ecx = 0x201, .edx = 9},
    {.function = 0xd, .index = 0, .flags = IDX, .eax = 7, .ebx = 0x340, .ecx = 0x340},
    {.function = 0xd, .index = 1, .flags = IDX, .eax = 0xf},
    {.function = 0xd, .index = 2, .flags = IDX, .eax = 0x100, .ebx = 0x240},
    {.function = 0x1f, .index = 0, .flags = IDX, .eax = 1, .ebx = 2},
    {.function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b, .ecx = 0x564b4d56, .edx = 0x4d},
    {.function = 0x40000001, .eax = 0x01007afb},
    {.function = 0x80000000, .eax = 0x80000021},
    {.function = 0x80000001, .ecx = BIT(0) | BIT(5) | BIT(8) | BIT(22) /* TOPOEXT */,
     .edx = BIT(11) | BIT(20) | BIT(26) | BIT(27) | BIT(29)},
    {.function = 0x80000002, .eax = 0x65746e49},
    {.function = 0x80000006, .ecx = 0x01006040},
    {.function = 0x80000007, .edx = BIT(8) | BIT(1)},
    {.function = 0x80000008, .eax = 0x3027, .ebx = BIT(9) | BIT(0) /* CLZERO */, .ecx = 0x7},
    {.function = 0x8000000a, .eax = 1},
};
#define NHOST ((int)(sizeof host / sizeof host[0]))

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid_entry2 *e, int n,
                                           uint32_t leaf, uint32_t sub)
{
    return kvm_cpuid_find(e, n, leaf, sub);
}

int main(void)
{
    struct kvm_cpuid_entry2 out[64];
    struct kvm_cpuid_ctx ctx = {.apic_id = 3, .ncpus = 6, .tsc_khz = 2904000};
    int n = kvm_cpuid_build(host, NHOST, &ctx, out, 64);
    CHECK(n > 0);
    const struct kvm_cpuid_entry2 *e;

    /* leaf 0: vendor kept, highest basic leaf is 0x15 (the TSC leaf) */
    CHECK((e = find(out, n, 0, 0)) != NULL);
    if (e) {
        CHECK_EQ(e->eax, 0x15);
        CHECK_EQ(e->ebx, 0x756e6547);
    }

    /* leaf 1 */
    CHECK((e = find(out, n, 1, 0)) != NULL);
    if (e) {
        CHECK_EQ(e->eax, 0x000906ea);
        CHECK_EQ(e->ebx >> 24, 3);              /* APIC ID */
        CHECK_EQ((e->ebx >> 16) & 0xff, 8);     /* 6 vCPUs: 8 IDs addressable */
        CHECK_EQ((e->ebx >> 8) & 0xff, 8);      /* CLFLUSH line size kept */
        CHECK_EQ(e->ebx & 0xff, 0);             /* brand index cleared */
        CHECK(e->ecx & BIT(31));                /* hypervisor */
        CHECK(e->ecx & BIT(13));                /* CX16 kept */
        CHECK(e->ecx & BIT(25));                /* AES kept */
        CHECK(!(e->ecx & BIT(5)));              /* no VMX */
        CHECK(!(e->ecx & BIT(12)));             /* no FMA */
        CHECK(!(e->ecx & BIT(21)));             /* no x2APIC */
        CHECK(!(e->ecx & BIT(24)));             /* no TSC deadline */
        CHECK(!(e->ecx & (BIT(26) | BIT(27) | BIT(28) | BIT(29))));   /* no XSAVE, AVX */
        CHECK(e->edx & BIT(28));                /* HTT */
        CHECK(e->edx & BIT(12));                /* MTRR */
        CHECK(e->edx & BIT(24));                /* FXSR */
        CHECK(!(e->edx & (BIT(7) | BIT(14))));  /* no MCE/MCA */
        CHECK(!(e->edx & (BIT(21) | BIT(22)))); /* no DS/ACPI */
    }

    /* leaf 4: brume's core count, per-core L1/L2, shared L3 */
    CHECK((e = find(out, n, 4, 0)) != NULL);
    if (e) {
        CHECK_EQ(e->eax >> 26, 7);
        CHECK_EQ((e->eax >> 14) & 0xfff, 0);
        CHECK_EQ(e->eax & 0x3fff, 0x0121);
    }
    CHECK((e = find(out, n, 4, 3)) != NULL);
    if (e)
        CHECK_EQ((e->eax >> 14) & 0xfff, 7);
    CHECK((e = find(out, n, 4, 4)) != NULL);
    if (e)
        CHECK_EQ(e->eax, 0);

    /* leaf 6: only ARAT */
    CHECK((e = find(out, n, 6, 0)) != NULL);
    if (e)
        CHECK_EQ(e->eax, 4);

    /* leaf 7.0: no subleaves, state-bearing features gone */
    CHECK((e = find(out, n, 7, 0)) != NULL);
    if (e) {
        CHECK_EQ(e->eax, 0);
        CHECK(e->ebx & BIT(0));    /* FSGSBASE */
        CHECK(e->ebx & BIT(7));    /* SMEP */
        CHECK(e->ebx & BIT(20));   /* SMAP */
        CHECK(!(e->ebx & BIT(1))); /* TSC_ADJUST */
        CHECK(!(e->ebx & (BIT(4) | BIT(11))));   /* TSX */
        CHECK(!(e->ebx & BIT(5)));  /* AVX2 */
        CHECK(!(e->ebx & BIT(14))); /* MPX */
        CHECK(!(e->ebx & BIT(16))); /* AVX-512 */
        CHECK_EQ(e->ecx, BIT(22));  /* RDPID only: no PKU, no LA57 */
        CHECK(!(e->edx & BIT(24))); /* AMX */
        CHECK(e->edx & BIT(26));    /* SPEC_CTRL: in cpu_state */
    }
    CHECK(find(out, n, 7, 1) == NULL);

    /* dropped leaves */
    CHECK(find(out, n, 5, 0) == NULL);
    CHECK(find(out, n, 0xa, 0) == NULL);
    CHECK(find(out, n, 0xd, 0) == NULL);
    CHECK(find(out, n, 0xd, 1) == NULL);
    CHECK(find(out, n, 0x1f, 0) == NULL);
    CHECK(find(out, n, 0x40000001, 0) == NULL);
    CHECK(find(out, n, 0x8000000a, 0) == NULL);

    /* leaf 0xB: SMT level of one thread, core level of 6, this APIC ID */
    CHECK((e = find(out, n, 0xb, 0)) != NULL);
    if (e) {
        CHECK_EQ(e->eax, 0);
        CHECK_EQ(e->ebx, 1);
        CHECK_EQ(e->ecx, 0x100);
        CHECK_EQ(e->edx, 3);
    }
    CHECK((e = find(out, n, 0xb, 1)) != NULL);
    if (e) {
        CHECK_EQ(e->eax, 3);
        CHECK_EQ(e->ebx, 6);
        CHECK_EQ(e->ecx, 0x201);
        CHECK_EQ(e->edx, 3);
    }
    CHECK((e = find(out, n, 0xb, 2)) != NULL);
    if (e) {
        CHECK_EQ(e->ebx, 0);
        CHECK_EQ(e->ecx, 2);   /* level type 0: the end */
    }

    /* leaf 0x15: 1 GHz crystal and the host TSC rate */
    CHECK((e = find(out, n, 0x15, 0)) != NULL);
    if (e) {
        CHECK_EQ(e->ecx, 1000000000);
        CHECK_EQ((uint64_t)e->ecx * e->ebx / e->eax, 2904000000ull);
    }

    /* the hypervisor leaf is brume's */
    CHECK((e = find(out, n, 0x40000000, 0)) != NULL);
    if (e) {
        char sig[13] = {0};
        memcpy(sig, &e->ebx, 4);
        memcpy(sig + 4, &e->ecx, 4);
        memcpy(sig + 8, &e->edx, 4);
        CHECK(strcmp(sig, "brumebrume") == 0);
        CHECK_EQ(e->eax, 0x40000000);
    }

    /* extended leaves */
    CHECK((e = find(out, n, 0x80000000, 0)) != NULL);
    if (e)
        CHECK_EQ(e->eax, 0x80000008);
    CHECK((e = find(out, n, 0x80000001, 0)) != NULL);
    if (e) {
        CHECK_EQ(e->ecx, BIT(0) | BIT(5) | BIT(8));   /* no TOPOEXT */
        CHECK_EQ(e->edx, BIT(11) | BIT(20) | BIT(26) | BIT(27) | BIT(29));
    }
    CHECK((e = find(out, n, 0x80000007, 0)) != NULL);
    if (e)
        CHECK_EQ(e->edx, BIT(8));
    CHECK((e = find(out, n, 0x80000008, 0)) != NULL);
    if (e) {
        CHECK_EQ(e->eax, 0x3027);
        CHECK_EQ(e->ebx, BIT(9));
        CHECK_EQ(e->ecx, 5 | (3 << 12));
    }
    CHECK(find(out, n, 0x80000002, 0) != NULL);
    CHECK(find(out, n, 0x80000006, 0) != NULL);

    /* vCPU 0 of 1, TSC rate unknown: no leaf 0x15, highest basic leaf 0xB */
    struct kvm_cpuid_ctx one = {.apic_id = 0, .ncpus = 1, .tsc_khz = 0};
    n = kvm_cpuid_build(host, NHOST, &one, out, 64);
    CHECK(n > 0);
    CHECK(find(out, n, 0x15, 0) == NULL);
    CHECK((e = find(out, n, 0, 0)) != NULL);
    if (e)
        CHECK_EQ(e->eax, 0xb);
    CHECK((e = find(out, n, 1, 0)) != NULL);
    if (e) {
        CHECK_EQ(e->ebx >> 24, 0);
        CHECK_EQ((e->ebx >> 16) & 0xff, 1);
    }
    CHECK((e = find(out, n, 0xb, 1)) != NULL);
    if (e) {
        CHECK_EQ(e->eax, 0);
        CHECK_EQ(e->ebx, 1);
    }

    /* no room */
    CHECK_EQ(kvm_cpuid_build(host, NHOST, &ctx, out, 5), -ENOSPC);
    TEST_MAIN_END();
}
