/* The software local APIC, as used by the emu engine (kvm has its own).
 *
 * One struct lapic per vCPU (vcpu->lapic). Interrupts reach it from the
 * IOAPIC, from other local APICs (IPIs) and from the PIC through LINT0 in
 * ExtINT mode; when one arrives, the lapic kicks its vCPU through the
 * engine's vcpu_kick. The lapic is xAPIC only (no x2APIC is advertised).
 *
 * Thread-safety: lapic_* entry points may be called from any thread; the
 * lapic locks its own state. */
#ifndef BRUME_HW_APIC_H
#define BRUME_HW_APIC_H

#include <stdbool.h>
#include <stdint.h>

#include "accel/cpu_state.h"

struct vm;
struct vcpu;
struct lapic;

struct lapic *lapic_create(struct vcpu *cpu);
void lapic_destroy(struct lapic *l);

/* Register access at (APIC base + offset), 32-bit accesses. */
uint32_t lapic_mmio_read(struct lapic *l, uint32_t offset);
void lapic_mmio_write(struct lapic *l, uint32_t offset, uint32_t value);

/* The CPU is ready to take an external interrupt (RFLAGS.IF=1, no
 * interrupt shadow): returns the vector of the highest-priority deliverable
 * interrupt and acknowledges it (IRR -> ISR, or an INTA cycle on the PIC for
 * ExtINT), or returns -1. */
int lapic_take_interrupt(struct lapic *l);

/* True when an interrupt is deliverable (ignoring RFLAGS.IF): a halted CPU
 * wakes up on it. */
bool lapic_has_interrupt(struct lapic *l);

/* Runs the local timer up to now_ns (fires it if it expired) and returns
 * the next deadline in vm_clock_ns() time, or UINT64_MAX if none. Called by
 * the vCPU thread between instruction blocks and before it sleeps. */
uint64_t lapic_poll_timer(struct lapic *l, uint64_t now_ns);

/* INIT and STARTUP IPIs received by this CPU. take_init returns true once
 * per INIT; take_sipi returns the SIPI vector (the AP starts in real mode at
 * vector << 12), or -1. */
bool lapic_take_init(struct lapic *l);
int lapic_take_sipi(struct lapic *l);

/* Delivers an interrupt message (from the IOAPIC or an MSI) to the local
 * APICs it addresses. mode is the delivery mode (0 fixed, 1 lowest
 * priority, 4 NMI, 5 INIT, 6 SIPI, 7 ExtINT). */
void apic_deliver(struct vm *vm, uint8_t dest, bool logical, uint8_t mode,
                  uint8_t vector, bool level_triggered);

/* Tells the IOAPIC that the CPU ended a level-triggered interrupt (EOI). */
void ioapic_eoi(struct vm *vm, uint8_t vector);

/* Snapshot support: the register page in struct cpu_state's layout. */
void lapic_get_state(struct lapic *l, uint8_t regs[CPU_LAPIC_REGS_SIZE]);
void lapic_set_state(struct lapic *l, const uint8_t regs[CPU_LAPIC_REGS_SIZE]);

/* ---- 8259A pair (hw/pic.c) ---- */
struct pic *pic_create(struct vm *vm);
void pic_destroy(struct pic *p);
void pic_set_irq(struct pic *p, unsigned irq, int level);
/* True when the master's INT output is asserted. */
bool pic_has_interrupt(struct pic *p);
/* INTA cycle: returns the vector and updates ISR/IRR. */
int pic_acknowledge(struct pic *p);

/* ---- IOAPIC (hw/ioapic.c) ---- */
struct ioapic *ioapic_create(struct vm *vm);
void ioapic_destroy(struct ioapic *io);
void ioapic_set_irq(struct ioapic *io, unsigned pin, int level);

#endif
