/* The KVM engine: internals shared by its files, and the pure functions
 * (CPUID policy, state conversion, GSI routing, exit descriptions) that the
 * unit tests exercise without /dev/kvm.
 *
 * Files: kvm_probe.c (is /dev/kvm usable, how fast), kvm_vm.c (VM, memory
 * slots, in-kernel irqchip and PIT, GSI routing), kvm_vcpu.c (vCPU set-up,
 * state, kick, the ops table), kvm_run.c (the KVM_RUN loop and its exits),
 * kvm_cpuid.c (what the guest is told about the CPU), kvm_state.c
 * (struct cpu_state <-> KVM's structs). docs/kvm.md is the user's view. */
#ifndef BRUME_ACCEL_KVM_KVM_H
#define BRUME_ACCEL_KVM_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accel/accel.h"
#include "accel/cpu_state.h"

struct vm;
struct vcpu;

/* Guest-physical pages KVM needs for itself on Intel hosts without
 * "unrestricted guest": a one-page identity-mapped page table (to run real
 * mode and unpaged protected mode under EPT) and a three-page TSS (to run
 * real mode as vm86). They must not overlap RAM or any device, and the guest
 * must not use them: they sit at the top of the MMIO hole, above the local
 * APIC (0xFEE00000) and below 4 GiB - 16 MiB, where PCs have firmware and
 * brume has nothing (the same place QEMU uses). */
#define KVM_IDENTITY_MAP_ADDR 0xFEFFC000ull
#define KVM_TSS_ADDR          0xFEFFD000ull  /* 3 pages, up to 0xFF000000 */
#define KVM_RESERVED_START    KVM_IDENTITY_MAP_ADDR
#define KVM_RESERVED_END      0xFF000000ull

/* AUTO picks kvm only below this cost per guest instruction: real hardware
 * runs simple instructions in well under 1 ns, nested or emulated KVM
 * takes microseconds, so the line can sit anywhere in between. */
#define KVM_AUTO_MAX_NS_PER_INSN 50.0

/* The signal vcpu_kick() sends to a vCPU thread to interrupt KVM_RUN. Its
 * handler does nothing: the kick's real message is run->immediate_exit and
 * vm_stopping(); the signal only makes a blocked KVM_RUN return EINTR. */
#define KVM_KICK_SIGNAL SIGUSR1

/* Per-VM engine data (vm->accel_data). */
struct kvm_vm_data {
    int sys_fd;               /* /dev/kvm */
    int vm_fd;
    size_t run_size;          /* KVM_GET_VCPU_MMAP_SIZE */
    struct kvm_cpuid2 *supported; /* KVM_GET_SUPPORTED_CPUID, read once */
    uint32_t msr_list[64];    /* the MSRs a vCPU's state carries here */
    int nmsrs;
    uint32_t mxcsr_mask;      /* the host's: guests run on the host FPU */
};

/* Per-vCPU engine data (cpu->accel_data). */
struct kvm_vcpu_data {
    int fd;
    struct kvm_run *run;      /* mmap of the vCPU fd, run_size bytes */
    size_t run_size;
    pthread_t thread;         /* valid while in_run */
    _Atomic bool in_run;
    bool io_pending;          /* last exit was IO/MMIO: KVM must complete it */
};

/* ---- kvm_probe.c ---- */

/* Probes the KVM device at path ("/dev/kvm"): API version, capabilities,
 * and a calibration run that measures the cost of a guest instruction.
 * Always returns 0; p->usable and p->reason say what was found. */
int kvm_probe_path(const char *path, struct accel_probe *p);

/* Decides whether --accel auto should use kvm given a probe result, and
 * writes the one-line explanation ("auto: using kvm (...)" or
 * "auto: using emu (...)") into why. */
bool kvm_auto_verdict(const struct accel_probe *p, char *why, size_t n);

/* Formats a cost per instruction for people: "0.4 ns", "1.3 µs". */
void kvm_format_ns(double ns, char *buf, size_t n);

/* The capabilities brume requires, for probe and docs. */
struct kvm_cap_need {
    int cap;
    const char *name;
};
extern const struct kvm_cap_need kvm_caps_needed[];
extern const int kvm_ncaps_needed;

/* ---- kvm_vm.c ---- */

/* Fills entries (room for max) with the PC routing of GSIs to the in-kernel
 * PICs and IOAPIC; returns the number of entries or -ENOSPC. */
int kvm_gsi_routing_build(struct kvm_irq_routing_entry *entries, int max);

int kvm_vm_init(struct vm *vm);
void kvm_vm_destroy(struct vm *vm);
int kvm_irq_line(struct vm *vm, unsigned gsi, int level);

/* ---- kvm_cpuid.c ---- */

/* Topology and host facts the guest's CPUID depends on. */
struct kvm_cpuid_ctx {
    unsigned apic_id;       /* this vCPU: its index */
    unsigned ncpus;         /* vCPUs in the VM: one package, one core each */
    uint32_t tsc_khz;       /* guest TSC rate, 0 if unknown */
};

/* Builds the guest's CPUID table for one vCPU from the host's supported
 * table: only whitelisted features, brume's topology, no XSAVE state, no
 * paravirtual leaves (see docs/kvm.md). out has room for max entries.
 * Returns the number of entries, or -ENOSPC. */
int kvm_cpuid_build(const struct kvm_cpuid_entry2 *host, int nhost,
                    const struct kvm_cpuid_ctx *ctx,
                    struct kvm_cpuid_entry2 *out, int max);

/* Finds an entry by leaf and subleaf (subleaf ignored for entries without
 * KVM_CPUID_FLAG_SIGNIFCANT_INDEX); NULL if absent. */
const struct kvm_cpuid_entry2 *kvm_cpuid_find(const struct kvm_cpuid_entry2 *e, int n,
                                              uint32_t leaf, uint32_t subleaf);

/* ---- kvm_state.c ---- */

/* Every piece of KVM state that together makes one struct cpu_state. */
struct kvm_cpu_regs {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
    struct kvm_debugregs dregs;
    struct kvm_vcpu_events events;
    struct kvm_mp_state mp;
    struct kvm_lapic_state lapic;
    struct kvm_msr_entry msrs[64];
    int nmsrs;
};

/* MSRs carried in struct cpu_msrs (EFER and APIC base travel in sregs).
 * kvm_msr_is_optional() says which ones only some hosts have; the others
 * every KVM supports. */
extern const uint32_t kvm_state_msrs[];
extern const int kvm_nstate_msrs;
bool kvm_msr_is_optional(uint32_t index);

/* cpu_state -> KVM. Only the MSRs in msr_list (n of them) are written into
 * k->msrs. Returns 0, or -EINVAL (with err_set) when the state cannot be
 * valid: a pending exception vector above 31, an unknown run state, an
 * xcr0 that needs XSAVE. */
int kvm_state_to_kvm(const struct cpu_state *s, const uint32_t *msr_list, int n,
                     struct kvm_cpu_regs *k);

/* KVM -> cpu_state. mxcsr_mask fills fx.mxcsr_mask (KVM_GET_FPU lacks it);
 * MSRs absent from k->msrs read as 0. Returns 0 or -EINVAL for an MP state
 * brume does not model. */
int kvm_state_from_kvm(const struct kvm_cpu_regs *k, uint32_t mxcsr_mask, struct cpu_state *s);

/* True when the LAPIC page is all zeros, i.e. the caller did not provide
 * one (a real page always has a non-zero version register). */
bool kvm_lapic_page_empty(const uint8_t regs[CPU_LAPIC_REGS_SIZE]);

/* Checks that a LAPIC page belongs to vCPU index (its APIC ID). Returns 0
 * or -EINVAL with a reason. */
int kvm_lapic_check(const uint8_t regs[CPU_LAPIC_REGS_SIZE], int index);

/* ---- kvm_run.c ---- */

int kvm_vcpu_run(struct vcpu *cpu);

/* Handles one KVM_EXIT_IO / KVM_EXIT_MMIO described by run (run_size bytes
 * mapped) against vm's buses. Returns 0, or -EINVAL when the exit record is
 * inconsistent (never trusted blindly). */
int kvm_handle_io(struct vm *vm, struct kvm_run *run, size_t run_size);
int kvm_handle_mmio(struct vm *vm, struct kvm_run *run);

/* Describes a fatal exit (internal error, failed entry, unknown reason) in
 * one line, with rip and the instruction bytes when KVM gave them. */
void kvm_describe_exit(const struct kvm_run *run, uint64_t rip, char *buf, size_t n);

/* Name of an exit reason, "unknown" if out of the table. */
const char *kvm_exit_name(uint32_t reason);

/* ---- kvm_vcpu.c ---- */

/* Installs the no-op handler for KVM_KICK_SIGNAL once per process (without
 * SA_RESTART, so that a blocked KVM_RUN returns EINTR). */
void kvm_kick_signal_install(void);

#endif
