/* The CPU engine interface.
 *
 * An engine runs guest code for the vCPUs of one VM. It never knows which
 * devices exist: port and MMIO accesses go to vm->pio and vm->mmio, and
 * interrupts come from the interrupt controllers (KVM's in-kernel ones for
 * kvm, the ones in src/hw for emu). Devices never know which engine runs:
 * they raise interrupts with vm_irq_line(). */
#ifndef BRUME_ACCEL_ACCEL_H
#define BRUME_ACCEL_ACCEL_H

#include <stdbool.h>
#include <stdint.h>

#include "accel/cpu_state.h"

struct vm;
struct vcpu;

enum accel_kind { ACCEL_AUTO, ACCEL_KVM, ACCEL_EMU };

/* What probe() found out about this host. */
struct accel_probe {
    bool usable;
    char reason[160];   /* why not usable, or a note such as the speed */
    double ns_per_insn; /* measured cost of a guest instruction, 0 if not measured */
    int max_cpus;
};

/* Why vcpu_run() returned. */
enum vcpu_exit {
    VCPU_EXIT_STOP,        /* vm->stop_reason is set: the VM is ending */
    VCPU_EXIT_ERROR,       /* engine failure: reason in err_get() */
};

struct accel_ops {
    const char *name;
    enum accel_kind kind;
    /* Checks whether the engine can run here; fills p. */
    int (*probe)(struct accel_probe *p);
    /* Per-VM set-up once guest memory exists and before devices are
     * created (kvm creates the VM, its memory slots and irqchip here). */
    int (*vm_init)(struct vm *vm);
    void (*vm_destroy)(struct vm *vm);
    int (*vcpu_init)(struct vcpu *cpu);
    void (*vcpu_destroy)(struct vcpu *cpu);
    /* Runs guest code on the calling thread until the VM stops or the
     * engine fails. Returns an enum vcpu_exit. */
    int (*vcpu_run)(struct vcpu *cpu);
    int (*vcpu_get_state)(struct vcpu *cpu, struct cpu_state *out);
    int (*vcpu_set_state)(struct vcpu *cpu, const struct cpu_state *in);
    /* Makes vcpu_run() notice a stop request or a new interrupt soon.
     * Called from any thread. */
    void (*vcpu_kick)(struct vcpu *cpu);
    /* Sets the level of a GSI (edge devices raise then lower it). Called
     * from any thread. */
    int (*irq_line)(struct vm *vm, unsigned gsi, int level);
};

extern const struct accel_ops accel_kvm_ops;
extern const struct accel_ops accel_emu_ops;

/* Picks the engine for kind. For ACCEL_AUTO: kvm when it probes usable and
 * fast enough to run guests at hardware speed, else emu; *why gets a
 * one-line explanation of the choice (a per-thread buffer: copy it), and
 * *probe (may be NULL) what the chosen engine's probe found, so callers need
 * not probe (and calibrate) again. Returns NULL with a reason in err_get()
 * when the requested engine is unusable. */
const struct accel_ops *accel_select(enum accel_kind kind, const char **why,
                                     struct accel_probe *probe);

/* Parses "kvm", "emu" or "auto". Returns 0 or -EINVAL. */
int accel_parse(const char *text, enum accel_kind *out);

#endif
