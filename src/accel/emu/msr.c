/* Model-specific registers: the ones Linux reads and writes, anything else
 * raises #GP (RDMSR/WRMSR in system.c). One table row per MSR or range. */
#include "accel/emu/insn.h"
#include "vm/machine.h"

#define MSR_IA32_TSC_ADJUST  0x3b
#define MSR_IA32_UCODE_REV   0x8b
#define MSR_SPEC_CTRL        0x48
#define MSR_PRED_CMD         0x49
#define MSR_ARCH_CAPABILITIES 0x10a
/* RDCL_NO, IBRS_ALL, SSB_NO, MDS_NO, PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO,
 * FBSDP_NO, PSDP_NO, BHI_NO, PBRSB_NO, GDS_NO, RFDS_NO, ITS_NO: an
 * interpreter leaks nothing through speculation, and predicts no branch
 * (IBRS_ALL: "enhanced IBRS", whose promise, no prediction steered by
 * another mode, holds trivially). With IBRS_ALL and ITS_NO, Linux uses
 * plain indirect branches and returns instead of retpolines and return
 * thunks, each of which would cost the engine one or two extra blocks and
 * a trip through the jump cache per call. */
#define ARCH_CAP_VALUE ((1ull << 0) | (1ull << 1) | (1ull << 4) | (1ull << 5) | (1ull << 6) | \
                        (1ull << 8) | (1ull << 13) | (1ull << 14) | (1ull << 15) | (1ull << 20) | \
                        (1ull << 24) | (1ull << 26) | (1ull << 27) | (1ull << 62))
/* SPEC_CTRL: IBRS (bit 0) and BHI_DIS_S (bit 10), the controls that CPUID
 * advertises (leaf 7 EDX bit 26, leaf 7.2 EDX bit 4); STIBP and SSBD are
 * not advertised. */
#define SPEC_CTRL_BITS ((1ull << 0) | (1ull << 10))
#define MSR_MTRR_CAP         0xfe
#define MSR_MCG_CAP          0x179
#define MSR_MCG_STATUS       0x17a
#define MSR_DEBUGCTL         0x1d9
#define MSR_MTRR_PHYS_BASE0  0x200
#define MSR_MTRR_FIX_64K     0x250
#define MSR_MTRR_FIX_16K_80  0x258
#define MSR_MTRR_FIX_16K_A0  0x259
#define MSR_MTRR_FIX_4K_C0   0x268

uint64_t emu_rdtsc(struct emu_cpu *c)
{
    uint64_t ns = c->host->clock_ns(c);
    uint64_t t = (uint64_t)((unsigned __int128)ns * MACHINE_CRYSTAL_HZ / 1000000000u);
    return t + (uint64_t)c->tsc_offset;
}

static bool pat_valid(uint64_t v)
{
    for (int k = 0; k < 8; k++) {
        unsigned t = (v >> (8 * k)) & 0xff;
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

static bool mtrr_type_valid(unsigned t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

/* Index into msr.mtrr_fixed[] for a fixed-range MTRR, or -1. */
static int mtrr_fixed_index(uint32_t msr)
{
    if (msr == MSR_MTRR_FIX_64K)
        return 0;
    if (msr == MSR_MTRR_FIX_16K_80 || msr == MSR_MTRR_FIX_16K_A0)
        return 1 + (int)(msr - MSR_MTRR_FIX_16K_80);
    if (msr >= MSR_MTRR_FIX_4K_C0 && msr < MSR_MTRR_FIX_4K_C0 + 8)
        return 3 + (int)(msr - MSR_MTRR_FIX_4K_C0);
    return -1;
}

bool emu_rdmsr(struct emu_cpu *c, uint32_t msr, uint64_t *v)
{
    int fx = mtrr_fixed_index(msr);
    if (fx >= 0) {
        *v = c->msr.mtrr_fixed[fx];
        return true;
    }
    if (msr >= MSR_MTRR_PHYS_BASE0 && msr < MSR_MTRR_PHYS_BASE0 + 16) {
        unsigned n = (msr - MSR_MTRR_PHYS_BASE0) / 2;
        *v = (msr & 1) ? c->msr.mtrr_var_mask[n] : c->msr.mtrr_var_base[n];
        return true;
    }
    switch (msr) {
    case MSR_IA32_TSC: *v = emu_rdtsc(c); return true;
    case MSR_IA32_TSC_ADJUST: *v = (uint64_t)c->tsc_adjust; return true;
    case MSR_IA32_APIC_BASE: *v = c->msr.apic_base; return true;
    case MSR_IA32_UCODE_REV: *v = 0x100000000ull; return true;
    case MSR_ARCH_CAPABILITIES: *v = ARCH_CAP_VALUE; return true;
    case MSR_SPEC_CTRL: *v = c->spec_ctrl; return true;
    case MSR_MTRR_CAP: *v = 0x508; return true;  /* 8 variable ranges, fixed ranges, WC */
    case MSR_IA32_SYSENTER_CS: *v = c->msr.sysenter_cs; return true;
    case MSR_IA32_SYSENTER_ESP: *v = c->msr.sysenter_esp; return true;
    case MSR_IA32_SYSENTER_EIP: *v = c->msr.sysenter_eip; return true;
    case MSR_MCG_CAP: case MSR_MCG_STATUS: *v = 0; return true;
    case MSR_IA32_MISC_ENABLE: *v = c->msr.misc_enable; return true;
    case MSR_DEBUGCTL: *v = 0; return true;
    case MSR_IA32_PAT: *v = c->msr.pat; return true;
    case MSR_MTRR_DEF_TYPE: *v = c->msr.mtrr_def_type; return true;
    case MSR_EFER: *v = c->msr.efer; return true;
    case MSR_STAR: *v = c->msr.star; return true;
    case MSR_LSTAR: *v = c->msr.lstar; return true;
    case MSR_CSTAR: *v = c->msr.cstar; return true;
    case MSR_SFMASK: *v = c->msr.sfmask; return true;
    case MSR_FS_BASE: *v = c->seg[SEG_FS].base; return true;
    case MSR_GS_BASE: *v = c->seg[SEG_GS].base; return true;
    case MSR_KERNEL_GS_BASE: *v = c->msr.kernel_gs_base; return true;
    case MSR_TSC_AUX: *v = c->msr.tsc_aux; return true;
    default: return false;
    }
}

bool emu_wrmsr(struct emu_cpu *c, uint32_t msr, uint64_t v)
{
    int fx = mtrr_fixed_index(msr);
    if (fx >= 0) {
        for (int k = 0; k < 8; k++)
            if (!mtrr_type_valid((v >> (8 * k)) & 0xff))
                return false;
        c->msr.mtrr_fixed[fx] = v;
        return true;
    }
    if (msr >= MSR_MTRR_PHYS_BASE0 && msr < MSR_MTRR_PHYS_BASE0 + 16) {
        unsigned n = (msr - MSR_MTRR_PHYS_BASE0) / 2;
        uint64_t phys = (1ull << EMU_PHYS_BITS) - 1;
        if (msr & 1) {
            if (v & ~(phys & ~0xfffull) & ~(1ull << 11))
                return false;
            c->msr.mtrr_var_mask[n] = v;
        } else {
            if ((v & ~(phys & ~0xfffull) & ~0xffull) || !mtrr_type_valid(v & 0xff))
                return false;
            c->msr.mtrr_var_base[n] = v;
        }
        return true;
    }
    switch (msr) {
    case MSR_IA32_TSC: {
        /* SDM 17.17.3: a TSC write moves TSC_ADJUST by the same amount */
        uint64_t old = emu_rdtsc(c);
        c->tsc_adjust += (int64_t)(v - old);
        c->tsc_offset += (int64_t)(v - old);
        return true;
    }
    case MSR_IA32_TSC_ADJUST:
        /* ... and a TSC_ADJUST write moves the TSC */
        c->tsc_offset += (int64_t)(v - (uint64_t)c->tsc_adjust);
        c->tsc_adjust = (int64_t)v;
        return true;
    case MSR_IA32_APIC_BASE: {
        /* BSP bit is read-only; x2APIC (bit 10) is not supported */
        uint64_t phys = (1ull << EMU_PHYS_BITS) - 1;
        if (v & ~((phys & ~0xfffull) | APIC_BASE_ENABLE | APIC_BASE_BSP))
            return false;
        c->msr.apic_base = (v & ~APIC_BASE_BSP) | (c->msr.apic_base & APIC_BASE_BSP);
        if (c->host->apic_base_changed)
            c->host->apic_base_changed(c);
        return true;
    }
    case MSR_IA32_UCODE_REV: return true;  /* Linux writes 0 before reading the revision */
    case MSR_SPEC_CTRL:
        if (v & ~SPEC_CTRL_BITS) return false;
        c->spec_ctrl = v; return true;  /* nothing to restrict: nothing is predicted */
    case MSR_PRED_CMD: return (v & ~1ull) == 0;  /* IBPB: no predictions to throw away */
    case MSR_IA32_SYSENTER_CS: c->msr.sysenter_cs = v & 0xffff; return true;
    case MSR_IA32_SYSENTER_ESP:
        if (!emu_canonical(v)) return false;
        c->msr.sysenter_esp = v; return true;
    case MSR_IA32_SYSENTER_EIP:
        if (!emu_canonical(v)) return false;
        c->msr.sysenter_eip = v; return true;
    case MSR_MCG_STATUS: return v == 0;
    case MSR_IA32_MISC_ENABLE:
        c->msr.misc_enable = v & (1ull | (1ull << 22) | (1ull << 23));  /* fast strings, limit CPUID, xTPR */
        return true;
    case MSR_DEBUGCTL: return v == 0;  /* LBR/BTF are not implemented */
    case MSR_IA32_PAT:
        if (!pat_valid(v)) return false;
        c->msr.pat = v; return true;
    case MSR_MTRR_DEF_TYPE:
        if ((v & ~0xcffull) || !mtrr_type_valid(v & 0xff)) return false;
        c->msr.mtrr_def_type = v; return true;
    case MSR_EFER: {
        uint64_t allowed = EFER_SCE | EFER_LME | EFER_NXE;
        if (v & ~(allowed | EFER_LMA))
            return false;
        /* LME cannot change while paging is on; LMA is read-only */
        if ((c->cr0 & CR0_PG) && ((v ^ c->msr.efer) & EFER_LME))
            return false;
        uint64_t nv = (v & allowed) | (c->msr.efer & EFER_LMA);
        if ((nv ^ c->msr.efer) & EFER_NXE)
            emu_tlb_flush(c, false);
        c->msr.efer = nv;
        return true;
    }
    case MSR_STAR: c->msr.star = v; return true;
    case MSR_LSTAR:
        if (!emu_canonical(v)) return false;
        c->msr.lstar = v; return true;
    case MSR_CSTAR:
        if (!emu_canonical(v)) return false;
        c->msr.cstar = v; return true;
    case MSR_SFMASK: c->msr.sfmask = v & 0xffffffffull; return true;
    case MSR_FS_BASE:
        if (!emu_canonical(v)) return false;
        c->seg[SEG_FS].base = v; return true;
    case MSR_GS_BASE:
        if (!emu_canonical(v)) return false;
        c->seg[SEG_GS].base = v; return true;
    case MSR_KERNEL_GS_BASE:
        if (!emu_canonical(v)) return false;
        c->msr.kernel_gs_base = v; return true;
    case MSR_TSC_AUX:
        if (v >> 32) return false;
        c->msr.tsc_aux = v; return true;
    default: return false;
    }
}
