/* The architectural state of one x86-64 vCPU, in one engine-neutral form.
 *
 * Both engines convert to and from this struct: the boot code writes the
 * initial state through it, and snapshots and migration store it, so a VM
 * saved on one engine can resume on the other. Keep it plain data (no
 * pointers) so that it can be written to a file as it is. */
#ifndef BRUME_ACCEL_CPU_STATE_H
#define BRUME_ACCEL_CPU_STATE_H

#include <stdbool.h>
#include <stdint.h>

/* General registers, in the x86 encoding order. (Not REG_*: glibc's
 * <sys/ucontext.h> defines those names under _GNU_SOURCE.) */
enum {
    GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
    GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
    GPR_COUNT
};

/* Segment registers, in the x86 encoding order. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* A segment register with its hidden (descriptor cache) part. */
struct cpu_segment {
    uint64_t base;
    uint32_t limit;     /* byte granular: already scaled when G=1 */
    uint16_t selector;
    uint8_t type;       /* descriptor type, 4 bits */
    uint8_t s;          /* 1 = code/data, 0 = system */
    uint8_t dpl;
    uint8_t present;
    uint8_t avl;
    uint8_t l;          /* 64-bit code segment */
    uint8_t db;         /* default operation size / big */
    uint8_t g;          /* granularity */
    uint8_t unusable;   /* null selector loaded (VMX sense) */
};

struct cpu_dtable {
    uint64_t base;
    uint16_t limit;
};

/* The x87/SSE state in the 512-byte FXSAVE layout (Intel SDM vol. 1,
 * table 10-2), so that FXSAVE/FXRSTOR and KVM_GET_FPU map onto it. */
struct cpu_fxsave {
    uint16_t fcw, fsw;
    uint8_t ftw;        /* abridged tag word: 1 bit per register */
    uint8_t reserved1;
    uint16_t fop;
    uint64_t fip, fdp;  /* 64-bit forms */
    uint32_t mxcsr, mxcsr_mask;
    uint8_t st[8][16];  /* ST0..ST7: 80-bit values in 16-byte slots */
    uint8_t xmm[16][16];
    uint8_t reserved2[96];
} __attribute__((aligned(16)));

_Static_assert(sizeof(struct cpu_fxsave) == 512, "FXSAVE area is 512 bytes");

/* MSRs that carry state across a snapshot. Others are derived or constant. */
struct cpu_msrs {
    uint64_t efer;
    uint64_t star, lstar, cstar, sfmask;
    uint64_t kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat;
    uint64_t tsc;             /* the guest TSC value when the state was taken */
    uint64_t tsc_aux;
    uint64_t apic_base;
    uint64_t misc_enable;
    uint64_t mtrr_def_type;
    uint64_t mtrr_fixed[11];  /* 64K_00000, 16K_80000, 16K_A0000, 4K_C0000..4K_F8000 */
    uint64_t mtrr_var_base[8], mtrr_var_mask[8];
    uint64_t spec_ctrl;
};

/* An event that was being delivered when the state was taken. */
struct cpu_pending_event {
    bool valid;
    bool is_exception;  /* else an external interrupt */
    bool has_error_code;
    uint8_t vector;
    uint32_t error_code;
};

#define CPU_LAPIC_REGS_SIZE 1024

enum cpu_run_state {
    CPU_RUNNABLE,        /* executing instructions */
    CPU_HALTED,          /* HLT, waiting for an interrupt */
    CPU_WAIT_FOR_SIPI,   /* an application processor before its SIPI (or after INIT) */
};

struct cpu_state {
    uint64_t regs[GPR_COUNT];
    uint64_t rip;
    uint64_t rflags;

    struct cpu_segment seg[SEG_COUNT];
    struct cpu_segment tr, ldtr;
    struct cpu_dtable gdt, idt;

    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t xcr0;
    uint64_t dr[4], dr6, dr7;

    struct cpu_msrs msr;
    struct cpu_fxsave fx;

    /* The local APIC register page, in the layout of KVM's
     * struct kvm_lapic_state (registers at their MMIO offsets). */
    uint8_t lapic[CPU_LAPIC_REGS_SIZE];

    struct cpu_pending_event event;
    bool interrupt_shadow;     /* after MOV SS / STI */
    bool nmi_pending, nmi_masked;
    enum cpu_run_state run_state;
};

/* RFLAGS bits */
#define RFLAGS_CF   (1ull << 0)
#define RFLAGS_FIXED (1ull << 1)  /* always one */
#define RFLAGS_PF   (1ull << 2)
#define RFLAGS_AF   (1ull << 4)
#define RFLAGS_ZF   (1ull << 6)
#define RFLAGS_SF   (1ull << 7)
#define RFLAGS_TF   (1ull << 8)
#define RFLAGS_IF   (1ull << 9)
#define RFLAGS_DF   (1ull << 10)
#define RFLAGS_OF   (1ull << 11)
#define RFLAGS_IOPL (3ull << 12)
#define RFLAGS_NT   (1ull << 14)
#define RFLAGS_RF   (1ull << 16)
#define RFLAGS_VM   (1ull << 17)
#define RFLAGS_AC   (1ull << 18)
#define RFLAGS_VIF  (1ull << 19)
#define RFLAGS_VIP  (1ull << 20)
#define RFLAGS_ID   (1ull << 21)

/* CR0 bits */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

/* CR4 bits */
#define CR4_VME        (1ull << 0)
#define CR4_PVI        (1ull << 1)
#define CR4_TSD        (1ull << 2)
#define CR4_DE         (1ull << 3)
#define CR4_PSE        (1ull << 4)
#define CR4_PAE        (1ull << 5)
#define CR4_MCE        (1ull << 6)
#define CR4_PGE        (1ull << 7)
#define CR4_PCE        (1ull << 8)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_PCIDE      (1ull << 17)
#define CR4_OSXSAVE    (1ull << 18)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)

/* EFER bits */
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* MSR numbers used across engines */
#define MSR_IA32_TSC              0x10
#define MSR_IA32_APIC_BASE        0x1b
#define MSR_IA32_SPEC_CTRL        0x48
#define MSR_IA32_SYSENTER_CS      0x174
#define MSR_IA32_SYSENTER_ESP     0x175
#define MSR_IA32_SYSENTER_EIP     0x176
#define MSR_IA32_MISC_ENABLE      0x1a0
#define MSR_IA32_PAT              0x277
#define MSR_MTRR_DEF_TYPE         0x2ff
#define MSR_EFER                  0xc0000080
#define MSR_STAR                  0xc0000081
#define MSR_LSTAR                 0xc0000082
#define MSR_CSTAR                 0xc0000083
#define MSR_SFMASK                0xc0000084
#define MSR_FS_BASE               0xc0000100
#define MSR_GS_BASE               0xc0000101
#define MSR_KERNEL_GS_BASE        0xc0000102
#define MSR_TSC_AUX               0xc0000103

#define APIC_BASE_DEFAULT   0xFEE00000ull
#define APIC_BASE_BSP       (1ull << 8)
#define APIC_BASE_ENABLE    (1ull << 11)

#endif
