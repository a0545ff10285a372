/* Architectural start-up states of a vCPU. */
#ifndef BRUME_VM_VCPU_H
#define BRUME_VM_VCPU_H

#include "accel/cpu_state.h"

/* The state of an application processor after power-on/INIT: real mode at
 * the reset vector, waiting for a STARTUP IPI (run_state
 * CPU_WAIT_FOR_SIPI). index is the vCPU number, which is also its APIC ID.
 * s->lapic is kept as it is: the local APIC page belongs to the engine. */
void cpu_state_init_ap(struct cpu_state *s, int index);

#endif
