/* What the guest is told about its CPU on the kvm engine.
 *
 * The starting point is KVM_GET_SUPPORTED_CPUID (what this host and KVM
 * can run); the result is what brume stands behind:
 *
 *  - Features pass through a whitelist. A feature that brings state
 *    struct cpu_state cannot carry (XSAVE and everything built on it: AVX,
 *    AVX-512, AMX, MPX, PKU, CET; the TSC deadline timer, PMU, machine
 *    check banks, x2APIC, TSX) is hidden, so snapshots and migration never
 *    lose guest state. Features the host gains after this was written stay
 *    hidden until someone adds them here on purpose.
 *  - Topology is brume's: one package, one core per vCPU, one thread per
 *    core; the APIC ID is the vCPU index (leaves 1, 4, 0xB, 0x8000_0008).
 *  - Leaf 0x15 describes the 1 GHz crystal that drives KVM's APIC timer
 *    and the host TSC rate, so Linux needs no calibration loop.
 *  - KVM's paravirtual leaves (0x4000_00xx) are replaced by a brume
 *    signature with no features: kvmclock and friends keep state in MSRs
 *    that brume does not snapshot.
 *
 * This file is pure: it turns one table into another, and the unit tests
 * feed it synthetic host tables. */
#include <errno.h>
#include <string.h>

#include "accel/kvm/kvm.h"
#include "vm/machine.h"

#define BIT(n) (1u << (n))

enum { R_EAX, R_EBX, R_ECX, R_EDX };

/* Feature leaves: which bits may pass. Leaves absent here but kept below
 * pass unchanged (they describe, they do not enable). */
static const struct {
    uint32_t leaf, subleaf;
    uint32_t mask[4];
} feature_masks[] = {
    {1, 0, {0xffffffff, 0xffffffff,
            /* ECX: SSE3 PCLMULQDQ SSSE3 CX16 PCID SSE4.1 SSE4.2 MOVBE POPCNT AES RDRAND */
            BIT(0) | BIT(1) | BIT(9) | BIT(13) | BIT(17) | BIT(19) | BIT(20) | BIT(22) |
            BIT(23) | BIT(25) | BIT(30),
            /* EDX: FPU VME DE PSE TSC MSR PAE CX8 APIC SEP MTRR PGE CMOV PAT PSE36
             * CLFSH MMX FXSR SSE SSE2 */
            BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(8) |
            BIT(9) | BIT(11) | BIT(12) | BIT(13) | BIT(15) | BIT(16) | BIT(17) |
            BIT(19) | BIT(23) | BIT(24) | BIT(25) | BIT(26)}},
    {6, 0, {BIT(2) /* ARAT */, 0, 0, 0}},
    {7, 0, {0 /* no subleaf beyond 0 */,
            /* EBX: FSGSBASE BMI1 FDP_EXCPTN_ONLY SMEP BMI2 ERMS INVPCID
             * ZERO_FCS_FDS RDSEED ADX SMAP CLFLUSHOPT CLWB SHA */
            BIT(0) | BIT(3) | BIT(6) | BIT(7) | BIT(8) | BIT(9) | BIT(10) | BIT(13) |
            BIT(18) | BIT(19) | BIT(20) | BIT(23) | BIT(24) | BIT(29),
            /* ECX: UMIP GFNI RDPID CLDEMOTE MOVDIRI MOVDIR64B */
            BIT(2) | BIT(8) | BIT(22) | BIT(25) | BIT(27) | BIT(28),
            /* EDX: FSRM MD_CLEAR SERIALIZE SPEC_CTRL STIBP FLUSH_L1D
             * ARCH_CAPABILITIES SSBD */
            BIT(4) | BIT(10) | BIT(14) | BIT(26) | BIT(27) | BIT(28) | BIT(29) | BIT(31)}},
    {0x80000001, 0, {0xffffffff, 0,
            /* ECX: LAHF_LM ABM/LZCNT SSE4A MISALIGNSSE 3DNOWPREFETCH */
            BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(8),
            /* EDX: the AMD mirrors of leaf 1 EDX, SYSCALL NX MMXEXT PDPE1GB RDTSCP LM */
            BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(8) |
            BIT(9) | BIT(12) | BIT(13) | BIT(15) | BIT(16) | BIT(17) | BIT(23) | BIT(24) |
            BIT(11) | BIT(20) | BIT(22) | BIT(26) | BIT(27) | BIT(29)}},
    {0x80000007, 0, {0, 0, 0, BIT(8) /* invariant TSC */}},
    {0x80000008, 0, {0xffffffff,
            /* EBX: WBNOINVD IBPB IBRS STIBP IBRS/STIBP always-on, IBRS preferred
             * and same mode, SSBD, SSB_NO */
            BIT(9) | BIT(12) | BIT(14) | BIT(15) | BIT(16) | BIT(17) | BIT(18) | BIT(19) |
            BIT(24) | BIT(26),
            0xffffffff /* rewritten below */, 0}},
};

/* Leaves kept from the host table (after masking and rewriting); every
 * other leaf is dropped. Cache descriptors (2, 4, 0x8000_0005/6), brand
 * string and address sizes describe the host CPU the guest really runs on. */
static bool leaf_kept(uint32_t leaf)
{
    switch (leaf) {
    case 0: case 1: case 2: case 4: case 6: case 7: case 0xb:
    case 0x80000000: case 0x80000001: case 0x80000002: case 0x80000003:
    case 0x80000004: case 0x80000005: case 0x80000006: case 0x80000007:
    case 0x80000008:
        return true;
    }
    return false;
}

#define MAX_EXT_LEAF 0x80000008u
#define TSC_LEAF     0x15u

const struct kvm_cpuid_entry2 *kvm_cpuid_find(const struct kvm_cpuid_entry2 *e, int n,
                                              uint32_t leaf, uint32_t subleaf)
{
    for (int i = 0; i < n; i++)
        if (e[i].function == leaf &&
            (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e[i].index == subleaf))
            return &e[i];
    return NULL;
}

static uint32_t *reg(struct kvm_cpuid_entry2 *e, int r)
{
    switch (r) {
    case R_EAX: return &e->eax;
    case R_EBX: return &e->ebx;
    case R_ECX: return &e->ecx;
    default:    return &e->edx;
    }
}

/* Smallest power of two >= n, and its log2: APIC ID fields are bit fields. */
static unsigned pow2_ceil(unsigned n)
{
    unsigned p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static unsigned log2_ceil(unsigned n)
{
    unsigned b = 0;
    while ((1u << b) < n)
        b++;
    return b;
}

struct builder {
    struct kvm_cpuid_entry2 *out;
    int n, max;
};

static struct kvm_cpuid_entry2 *add(struct builder *b, uint32_t leaf, uint32_t sub, uint32_t flags)
{
    if (b->n >= b->max)
        return NULL;
    struct kvm_cpuid_entry2 *e = &b->out[b->n++];
    memset(e, 0, sizeof *e);
    e->function = leaf;
    e->index = sub;
    e->flags = flags;
    return e;
}

static void apply_mask(struct kvm_cpuid_entry2 *e)
{
    for (size_t i = 0; i < sizeof feature_masks / sizeof feature_masks[0]; i++)
        if (feature_masks[i].leaf == e->function && feature_masks[i].subleaf == e->index)
            for (int r = 0; r < 4; r++)
                *reg(e, r) &= feature_masks[i].mask[r];
}

/* Rewrites what depends on brume's topology and the vCPU. */
static void apply_topology(struct kvm_cpuid_entry2 *e, const struct kvm_cpuid_ctx *c)
{
    unsigned cores = c->ncpus ? c->ncpus : 1;
    unsigned p2 = pow2_ceil(cores), bits = log2_ceil(cores);

    switch (e->function) {
    case 1:
        /* EBX: APIC ID, addressable logical processors per package,
         * CLFLUSH size kept, brand index cleared; HTT says EBX[23:16] is valid */
        e->ebx = (c->apic_id << 24) | ((p2 & 0xff) << 16) | (e->ebx & 0xff00);
        e->edx |= BIT(28);
        e->ecx |= BIT(31);   /* hypervisor present */
        break;
    case 4:
        /* EAX[31:26]: cores per package - 1; EAX[25:14]: logical processors
         * sharing this cache - 1 (every level but the last is per core) */
        if ((e->eax & 0x1f) != 0) {
            unsigned level = (e->eax >> 5) & 7;
            unsigned sharing = level >= 3 ? p2 - 1 : 0;
            e->eax = (e->eax & 0x3fff) | ((sharing & 0xfff) << 14) | (((p2 - 1) & 0x3f) << 26);
        }
        break;
    case 0x80000008:
        /* ECX: NC = cores - 1, ApicIdSize; no performance timestamp counter */
        e->ecx = ((cores - 1) & 0xff) | ((bits & 0xf) << 12);
        break;
    }
}

/* Leaf 0xB: SMT level (1 thread), core level (all vCPUs), then the end. */
static int add_leaf_b(struct builder *b, const struct kvm_cpuid_ctx *c)
{
    unsigned cores = c->ncpus ? c->ncpus : 1;
    for (uint32_t sub = 0; sub < 3; sub++) {
        struct kvm_cpuid_entry2 *e = add(b, 0xb, sub, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
        if (!e)
            return -ENOSPC;
        e->edx = c->apic_id;
        e->ecx = sub;
        if (sub == 0) {
            e->eax = 0;
            e->ebx = 1;
            e->ecx |= 1 << 8;
        } else if (sub == 1) {
            e->eax = log2_ceil(cores);
            e->ebx = cores;
            e->ecx |= 2 << 8;
        }
    }
    return 0;
}

int kvm_cpuid_build(const struct kvm_cpuid_entry2 *host, int nhost,
                    const struct kvm_cpuid_ctx *ctx,
                    struct kvm_cpuid_entry2 *out, int max)
{
    struct builder b = {out, 0, max};
    const struct kvm_cpuid_entry2 *h0 = kvm_cpuid_find(host, nhost, 0, 0);
    bool have_b = false;

    for (int i = 0; i < nhost; i++) {
        const struct kvm_cpuid_entry2 *h = &host[i];
        if (!leaf_kept(h->function))
            continue;
        if (h->function == 0xb) {
            if (!have_b && add_leaf_b(&b, ctx) < 0)
                return -ENOSPC;
            have_b = true;
            continue;
        }
        /* leaf 7 subleaves beyond 0 carry only features brume hides */
        if (h->function == 7 && h->index != 0)
            continue;
        struct kvm_cpuid_entry2 *e = add(&b, h->function, h->index, h->flags);
        if (!e)
            return -ENOSPC;
        e->eax = h->eax;
        e->ebx = h->ebx;
        e->ecx = h->ecx;
        e->edx = h->edx;
        apply_mask(e);
        apply_topology(e, ctx);
        /* no basic leaf above the last one brume describes, so a guest
         * never reads host leaves (0x1F, 0x24, ...) that were dropped */
        if (e->function == 0)
            e->eax = ctx->tsc_khz ? TSC_LEAF : (e->eax < 0xb ? e->eax : 0xb);
        if (e->function == 0x80000000 && e->eax > MAX_EXT_LEAF)
            e->eax = MAX_EXT_LEAF;
    }

    /* Leaf 0x15: TSC = crystal * EBX / EAX, with the crystal at 1 GHz */
    if (ctx->tsc_khz && h0) {
        struct kvm_cpuid_entry2 *e = add(&b, TSC_LEAF, 0, 0);
        if (!e)
            return -ENOSPC;
        e->eax = 1000000;
        e->ebx = ctx->tsc_khz;
        e->ecx = (uint32_t)MACHINE_CRYSTAL_HZ;
    }

    /* The hypervisor leaf: brume's signature, no paravirtual features */
    struct kvm_cpuid_entry2 *e = add(&b, 0x40000000, 0, 0);
    if (!e)
        return -ENOSPC;
    static const char sig[12] = "brumebrume\0";
    e->eax = 0x40000000;
    memcpy(&e->ebx, sig, 4);
    memcpy(&e->ecx, sig + 4, 4);
    memcpy(&e->edx, sig + 8, 4);
    return b.n;
}
