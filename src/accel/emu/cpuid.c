/* CPUID: what this CPU claims to be. Advertise only what is implemented
 * exactly. The features of the SSE/x87 code (other files) are gathered in
 * one place, CPUID_1_EDX_FPU_SSE / CPUID_1_ECX_SSE, so they are easy to
 * adjust as that work lands. */
#include "accel/emu/insn.h"
#include "vm/machine.h"

/* Leaf 1 EDX */
#define F_FPU   (1u << 0)
#define F_PSE   (1u << 3)
#define F_TSC   (1u << 4)
#define F_MSR   (1u << 5)
#define F_PAE   (1u << 6)
#define F_CX8   (1u << 8)
#define F_APIC  (1u << 9)
#define F_SEP   (1u << 11)
#define F_MTRR  (1u << 12)
#define F_PGE   (1u << 13)
#define F_CMOV  (1u << 15)
#define F_PAT   (1u << 16)
#define F_CLFSH (1u << 19)
#define F_MMX   (1u << 23)
#define F_FXSR  (1u << 24)
#define F_SSE   (1u << 25)
#define F_SSE2  (1u << 26)
/* Leaf 1 ECX */
#define F_CX16   (1u << 13)
#define F_POPCNT (1u << 23)
#define F_HYPERVISOR (1u << 31)  /* honest: this is a virtual machine */

/* x87, MMX, SSE, SSE2, FXSAVE: implemented by sse*.c / x87*.c. x86-64 Linux
 * requires all of them, so they are advertised from the start. */
#define CPUID_1_EDX_FPU_SSE (F_FPU | F_MMX | F_FXSR | F_SSE | F_SSE2)
#define CPUID_1_ECX_SSE     0u  /* SSE3, SSSE3, SSE4.x: not yet */

#define CPUID_1_EDX (F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 | F_APIC | F_SEP | F_MTRR | F_PGE | \
                     F_CMOV | F_PAT | F_CLFSH | CPUID_1_EDX_FPU_SSE)
#define CPUID_1_ECX (F_CX16 | F_POPCNT | F_HYPERVISOR | CPUID_1_ECX_SSE)

/* Leaf 7 EBX: TSC_ADJUST (with the invariant TSC it lets Linux trust the
 * TSC without the clocksource watchdog, which compares it with jiffies that
 * an emulated CPU delivers late); ERMS (REP MOVSB/STOSB are exact, the bit
 * is a hint).
 * Leaf 7 EDX: ARCH_CAPABILITIES (MSR 0x10A says which speculative-execution
 * flaws this CPU does not have: none of them, it does not speculate), so
 * Linux needs neither page-table isolation nor VERW buffer clearing; and
 * IBRS/IBPB (the SPEC_CTRL and PRED_CMD MSRs, msr.c), which with
 * ARCH_CAPABILITIES.IBRS_ALL lets Linux go without retpolines. */
#define CPUID_7_EBX ((1u << 1) | (1u << 9))  /* TSC_ADJUST, ERMS */
#define CPUID_7_EDX ((1u << 26) | (1u << 29))
/* Leaf 7 subleaf 2 EDX: BHI_CTRL (SPEC_CTRL.BHI_DIS_S), so that Linux
 * need not clear the branch history in software at each system call. */
#define CPUID_7_2_EDX (1u << 4)

/* 0x80000001 */
#define CPUID_81_ECX (1u << 0)  /* LAHF/SAHF in 64-bit mode */
#define CPUID_81_EDX ((1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29)) /* SYSCALL NX 1GB RDTSCP LM */

#define MAX_BASIC 0x16u
#define MAX_EXT   0x80000008u

static void str4(uint32_t *out, const char *s)
{
    memcpy(out, s, 4);
}

void emu_cpuid(struct emu_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    (void)sub;
    memset(out, 0, 16);
    if ((leaf & 0xf0000000u) == 0x40000000u)
        return;  /* hypervisor leaves: no paravirtual interface is offered */
    if (leaf >= 0x80000000u ? leaf > MAX_EXT : leaf > MAX_BASIC)
        leaf = MAX_BASIC;  /* Intel: out-of-range leaves return the highest basic leaf */
    uint32_t apic_id = c->apic_id;
    switch (leaf) {
    case 0:
        out[0] = MAX_BASIC;
        str4(&out[1], "Genu");
        str4(&out[3], "ineI");
        str4(&out[2], "ntel");
        break;
    case 1:
        out[0] = (0x3u << 16) | (6u << 8) | (0xau << 4) | 9u;  /* family 6, model 0x3A, stepping 9 */
        out[1] = (apic_id << 24) | (1u << 16) | (8u << 8);  /* CLFLUSH line 64 bytes */
        out[2] = CPUID_1_ECX;
        out[3] = CPUID_1_EDX;
        break;
    case 6:
        out[0] = 1u << 2;  /* ARAT: the APIC timer keeps running in deep C-states */
        break;
    case 7:
        if (sub == 0) {
            out[0] = 2;  /* the last subleaf */
            out[1] = CPUID_7_EBX;
            out[3] = CPUID_7_EDX;
        } else if (sub == 2) {
            out[3] = CPUID_7_2_EDX;
        }
        break;
    case 0x15:
        out[0] = 1;  /* TSC = crystal * EBX / EAX */
        out[1] = 1;
        out[2] = (uint32_t)MACHINE_CRYSTAL_HZ;
        break;
    case 0x16:
        out[0] = (uint32_t)(MACHINE_CRYSTAL_HZ / 1000000);
        out[1] = out[0];
        out[2] = out[0];
        break;
    case 0x80000000u:
        out[0] = MAX_EXT;
        break;
    case 0x80000001u:
        out[2] = CPUID_81_ECX;
        out[3] = CPUID_81_EDX;
        break;
    case 0x80000002u: case 0x80000003u: case 0x80000004u: {
        static const char brand[48] = "brume emu x86-64 CPU";
        memcpy(out, brand + (leaf - 0x80000002u) * 16, 16);
        break;
    }
    case 0x80000007u:
        out[3] = 1u << 8;  /* invariant TSC */
        break;
    case 0x80000008u:
        out[0] = EMU_PHYS_BITS | (EMU_VIRT_BITS << 8);
        break;
    default:
        break;
    }
}
