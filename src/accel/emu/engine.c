/* accel_emu_ops: the emu engine behind struct accel_ops.
 *
 * One thread per vCPU runs blocks of instructions (emu_run) and between
 * blocks looks at: a stop request, its kick flag, the local APIC timer,
 * INIT/SIPI, and pending interrupts. HLT and wait-for-SIPI sleep on a
 * condition variable until a kick or the next APIC timer deadline: never a
 * busy wait. Physical accesses go to guest RAM (gpa_to_hva), the LAPIC page
 * of this vCPU (lapic_mmio_*), or vm->mmio; ports go to vm->pio. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "accel/accel.h"
#include "accel/emu/flat.h"
#include "accel/emu/insn.h"
#include "hw/apic.h"
#include "hw/devices.h"
#include "util/log.h"
#include "vm/vm.h"

/* Instructions per block: interrupts and kicks are seen between blocks. */
#define EMU_BLOCK 4096

struct emu_vm {
    pthread_mutex_t split_lock;   /* LOCKed operations that the host cannot do atomically */
    /* The VM-wide TSC offset: every vCPU starts with it, so the TSCs are
     * synchronized (Linux checks that across CPUs and otherwise marks the
     * TSC unstable). Guarded by split_lock. */
    int64_t tsc_offset;
};

struct emu_vcpu {
    struct emu_cpu cpu;
    struct vcpu *vcpu;
    atomic_bool kick;
    pthread_mutex_t lock;         /* protects the sleep/wake hand-off */
    pthread_cond_t wake;
};

static inline struct emu_vcpu *to_ev(struct emu_cpu *c)
{
    return (struct emu_vcpu *)c;  /* cpu is the first member */
}

static inline bool apic_page(struct emu_cpu *c, uint64_t gpa)
{
    return (c->msr.apic_base & APIC_BASE_ENABLE) &&
           (gpa & ~0xfffull) == (c->msr.apic_base & ~0xfffull & ((1ull << EMU_PHYS_BITS) - 1));
}

static uint8_t *host_ram_page(struct emu_cpu *c, uint64_t gpa)
{
    if (apic_page(c, gpa))
        return NULL;
    return gpa_to_hva(&c->vm->mem, gpa & ~0xfffull, 0x1000);
}

static uint64_t host_mmio_read(struct emu_cpu *c, uint64_t gpa, unsigned size)
{
    if (apic_page(c, gpa)) {
        /* The LAPIC has 32-bit registers: narrower reads take their part. */
        uint32_t off = (uint32_t)(gpa & 0xfff);
        uint64_t v = lapic_mmio_read(to_ev(c)->vcpu->lapic, off & ~3u);
        if (size == 8)
            v |= (uint64_t)lapic_mmio_read(to_ev(c)->vcpu->lapic, (off & ~3u) + 4) << 32;
        return (v >> (8 * (off & 3))) & mask_of(size);
    }
    uint64_t v = ~0ull;
    bus_read(&c->vm->mmio, gpa, size, &v);
    return v & mask_of(size);
}

static void host_mmio_write(struct emu_cpu *c, uint64_t gpa, unsigned size, uint64_t v)
{
    if (apic_page(c, gpa)) {
        uint32_t off = (uint32_t)(gpa & 0xfff);
        if (size >= 4 && !(off & 3))
            lapic_mmio_write(to_ev(c)->vcpu->lapic, off, (uint32_t)v);
        else
            log_debug("emu: ignored %u-byte LAPIC write at offset 0x%x", size, off);
        return;
    }
    bus_write(&c->vm->mmio, gpa, size, v);
}

static uint64_t host_pio_in(struct emu_cpu *c, uint16_t port, unsigned size)
{
    uint64_t v = ~0ull;
    bus_read(&c->vm->pio, port, size, &v);
    return v & mask_of(size);
}

static void host_pio_out(struct emu_cpu *c, uint16_t port, unsigned size, uint64_t v)
{
    bus_write(&c->vm->pio, port, size, v);
}

static uint64_t host_clock_ns(struct emu_cpu *c)
{
    (void)c;
    return vm_clock_ns();
}

#define APIC_REG_TPR 0x80

static uint64_t host_cr8_read(struct emu_cpu *c)
{
    return (lapic_mmio_read(to_ev(c)->vcpu->lapic, APIC_REG_TPR) >> 4) & 0xf;
}

static void host_cr8_write(struct emu_cpu *c, uint64_t v)
{
    lapic_mmio_write(to_ev(c)->vcpu->lapic, APIC_REG_TPR, (uint32_t)(v & 0xf) << 4);
}

static void host_apic_base_changed(struct emu_cpu *c)
{
    emu_tlb_flush(c, false);  /* the page may have moved over RAM */
}

static const struct emu_host_ops vm_host = {
    .ram_page = host_ram_page,
    .mmio_read = host_mmio_read,
    .mmio_write = host_mmio_write,
    .pio_in = host_pio_in,
    .pio_out = host_pio_out,
    .clock_ns = host_clock_ns,
    .cr8_read = host_cr8_read,
    .cr8_write = host_cr8_write,
    .apic_base_changed = host_apic_base_changed,
};

/* Measures the interpreter on a short loop so accel_select can compare. */
static int emu_probe(struct accel_probe *p)
{
    /* mov ecx, 200000; L: add eax, ecx; dec ecx; jnz L; int3 */
    static const uint8_t loop[] = { 0xb9, 0x40, 0x0d, 0x03, 0x00, 0x01, 0xc8, 0xff, 0xc9, 0x75, 0xfa, 0xcc };
    struct cpu_state *st = calloc(1, sizeof(*st));
    memset(p, 0, sizeof(*p));
    p->usable = true;
    p->max_cpus = MACHINE_MAX_CPUS;
    snprintf(p->reason, sizeof(p->reason), "software x86-64 interpreter");
    if (!st)
        return 0;
    uint8_t *m = calloc(1, 4096);
    if (m) {
        memcpy(m, loop, sizeof(loop));
        st->rip = 0x1000;
        st->regs[GPR_RSP] = 0x1ff0;
        struct emu_flat_result r;
        uint64_t t0 = vm_clock_ns();
        if (emu_flat_run(st, m, 0x1000, 4096, 1000000, &r) == 0 && r.vector == 3 && r.insns) {
            uint64_t dt = vm_clock_ns() - t0;
            p->ns_per_insn = (double)dt / (double)r.insns;
            snprintf(p->reason, sizeof(p->reason), "software x86-64 interpreter, %.1f ns per instruction",
                     p->ns_per_insn);
        }
        free(m);
    }
    free(st);
    return 0;
}

static int emu_vm_init(struct vm *vm)
{
    struct emu_vm *e = calloc(1, sizeof(*e));
    if (!e)
        return err_set(-ENOMEM, "emu: out of memory");
    pthread_mutex_init(&e->split_lock, NULL);
    /* TSC 0 at VM creation */
    e->tsc_offset = -(int64_t)(uint64_t)((unsigned __int128)vm_clock_ns() * MACHINE_CRYSTAL_HZ / 1000000000u);
    vm->accel_data = e;
    return 0;
}

static void emu_vm_destroy(struct vm *vm)
{
    struct emu_vm *e = vm->accel_data;
    if (!e)
        return;
    pthread_mutex_destroy(&e->split_lock);
    free(e);
    vm->accel_data = NULL;
}

/* The state after INIT (and at power-on for application processors). */
static void reset_for_init(struct emu_vcpu *v)
{
    struct emu_cpu *c = &v->cpu;
    emu_cpu_reset(c);
    c->run_state = v->vcpu->index == 0 ? CPU_RUNNABLE : CPU_WAIT_FOR_SIPI;
}

static int emu_vcpu_init(struct vcpu *cpu)
{
    struct emu_vcpu *v = aligned_alloc(64, (sizeof(*v) + 63) & ~(size_t)63);
    if (!v)
        return err_set(-ENOMEM, "emu: vCPU %d: out of memory", cpu->index);
    memset(v, 0, sizeof(*v));
    struct emu_cpu *c = &v->cpu;
    if (emu_blocks_init(c) < 0) {
        free(v);
        return err_set(-ENOMEM, "emu: vCPU %d: out of memory", cpu->index);
    }
    v->vcpu = cpu;
    atomic_init(&v->kick, false);
    pthread_mutex_init(&v->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&v->wake, &ca);
    pthread_condattr_destroy(&ca);
    c->host = &vm_host;
    c->opaque = cpu;
    c->vm = cpu->vm;
    c->cross_modify = cpu->vm->config.ncpus > 1;
    c->split_lock = cpu->vm->accel_data ? &((struct emu_vm *)cpu->vm->accel_data)->split_lock : NULL;
    c->apic_id = (uint32_t)cpu->index;
    if (cpu->vm->accel_data)
        c->tsc_offset = ((struct emu_vm *)cpu->vm->accel_data)->tsc_offset;
    c->msr.apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (cpu->index == 0 ? APIC_BASE_BSP : 0);
    cpu->accel_data = v;
    reset_for_init(v);
    cpu->lapic = lapic_create(cpu);
    if (!cpu->lapic) {
        cpu->accel_data = NULL;
        pthread_cond_destroy(&v->wake);
        pthread_mutex_destroy(&v->lock);
        emu_blocks_free(c);
        free(v);
        return err_set(-ENOMEM, "emu: vCPU %d: cannot create the local APIC", cpu->index);
    }
    return 0;
}

static void emu_vcpu_destroy(struct vcpu *cpu)
{
    struct emu_vcpu *v = cpu->accel_data;
    if (cpu->lapic) {
        lapic_destroy(cpu->lapic);
        cpu->lapic = NULL;
    }
    if (!v)
        return;
    pthread_cond_destroy(&v->wake);
    pthread_mutex_destroy(&v->lock);
    emu_blocks_free(&v->cpu);
    free(v);
    cpu->accel_data = NULL;
}

static void emu_vcpu_kick(struct vcpu *cpu)
{
    struct emu_vcpu *v = cpu->accel_data;
    if (!v)
        return;
    atomic_store_explicit(&v->kick, true, memory_order_release);
    pthread_mutex_lock(&v->lock);
    pthread_cond_signal(&v->wake);
    pthread_mutex_unlock(&v->lock);
}

/* Sleeps until a kick, a stop request or the deadline (vm_clock_ns time). */
static void vcpu_sleep(struct emu_vcpu *v, uint64_t deadline)
{
    struct vm *vm = v->vcpu->vm;
    pthread_mutex_lock(&v->lock);
    while (!atomic_load_explicit(&v->kick, memory_order_acquire) && !vm_stopping(vm)) {
        if (deadline == UINT64_MAX) {
            pthread_cond_wait(&v->wake, &v->lock);
        } else {
            if (vm_clock_ns() >= deadline)
                break;
            struct timespec ts = { (time_t)(deadline / 1000000000ull), (long)(deadline % 1000000000ull) };
            pthread_cond_timedwait(&v->wake, &v->lock, &ts);
        }
    }
    pthread_mutex_unlock(&v->lock);
}

/* Starts an application processor at vector << 12 in real mode (SIPI). */
static void start_at_sipi(struct emu_cpu *c, int vector)
{
    c->seg[SEG_CS].selector = (uint16_t)(vector << 8);
    c->seg[SEG_CS].base = (uint64_t)vector << 12;
    c->rip = 0;
    c->run_state = CPU_RUNNABLE;
    emu_update_mode(c);
}

static int emu_vcpu_run(struct vcpu *cpu)
{
    struct emu_vcpu *v = cpu->accel_data;
    struct emu_cpu *c = &v->cpu;
    struct vm *vm = cpu->vm;
    struct lapic *l = cpu->lapic;

    for (;;) {
        if (vm_stopping(vm))
            return VCPU_EXIT_STOP;
        atomic_store_explicit(&v->kick, false, memory_order_relaxed);
        uint64_t deadline = lapic_poll_timer(l, vm_clock_ns());

        if (lapic_take_init(l)) {
            reset_for_init(v);
            c->run_state = CPU_WAIT_FOR_SIPI;
        }
        if (c->run_state == CPU_WAIT_FOR_SIPI) {
            int sipi = lapic_take_sipi(l);
            if (sipi < 0) {
                vcpu_sleep(v, deadline);
                continue;
            }
            start_at_sipi(c, sipi);
        }
        bool can_take = (c->rflags & RFLAGS_IF) && !c->intr_shadow;
        if (c->run_state == CPU_HALTED) {
            if (!(can_take && lapic_has_interrupt(l))) {
                vcpu_sleep(v, deadline);
                continue;
            }
            c->run_state = CPU_RUNNABLE;
        }
        c->exit = EMU_EXIT_NONE;
        if (can_take) {
            int vec = lapic_take_interrupt(l);
            if (vec >= 0)
                emu_deliver(c, vec, true);  /* may end in a triple fault */
        }
        if (c->exit == EMU_EXIT_NONE)
            emu_run(c, EMU_BLOCK);
        switch (c->exit) {
        case EMU_EXIT_UNIMPL:
        case EMU_EXIT_ERROR:
            vm_request_stop(vm, VM_STOP_ERROR, "%s", c->exit_msg);
            return VCPU_EXIT_STOP;
        case EMU_EXIT_TRIPLE_FAULT:
            vm_request_stop(vm, VM_STOP_TRIPLE_FAULT, "%s", c->exit_msg);
            return VCPU_EXIT_STOP;
        default:
            break;
        }
    }
}

static int emu_vcpu_get_state(struct vcpu *cpu, struct cpu_state *out)
{
    struct emu_vcpu *v = cpu->accel_data;
    if (!v)
        return err_set(-EINVAL, "emu: vCPU %d is not initialized", cpu->index);
    emu_get_state(&v->cpu, out);
    if (cpu->lapic)
        lapic_get_state(cpu->lapic, out->lapic);
    return 0;
}

static int emu_vcpu_set_state(struct vcpu *cpu, const struct cpu_state *in)
{
    struct emu_vcpu *v = cpu->accel_data;
    if (!v)
        return err_set(-EINVAL, "emu: vCPU %d is not initialized", cpu->index);
    if (cpu->lapic)
        lapic_set_state(cpu->lapic, in->lapic);
    emu_set_state(&v->cpu, in);
    /* Keep the TSCs of all vCPUs synchronized, as KVM does: a TSC value
     * within one second of the VM-wide TSC matches it exactly (boot and
     * restore set every vCPU at about the same moment); anything else
     * moves the VM-wide offset, which the other vCPUs then match. */
    struct emu_vm *e = cpu->vm->accel_data;
    if (e) {
        pthread_mutex_lock(&e->split_lock);
        int64_t mine = v->cpu.tsc_offset;
        int64_t diff = mine - e->tsc_offset;
        if (diff < -(int64_t)MACHINE_CRYSTAL_HZ || diff > (int64_t)MACHINE_CRYSTAL_HZ)
            e->tsc_offset = mine;
        v->cpu.tsc_offset = e->tsc_offset;
        pthread_mutex_unlock(&e->split_lock);
    }
    return 0;
}

static int emu_irq_line(struct vm *vm, unsigned gsi, int level)
{
    hw_emu_irq_line(vm, gsi, level);
    return 0;
}

const struct accel_ops accel_emu_ops = {
    .name = "emu",
    .kind = ACCEL_EMU,
    .probe = emu_probe,
    .vm_init = emu_vm_init,
    .vm_destroy = emu_vm_destroy,
    .vcpu_init = emu_vcpu_init,
    .vcpu_destroy = emu_vcpu_destroy,
    .vcpu_run = emu_vcpu_run,
    .vcpu_get_state = emu_vcpu_get_state,
    .vcpu_set_state = emu_vcpu_set_state,
    .vcpu_kick = emu_vcpu_kick,
    .irq_line = emu_irq_line,
};
