/* The engine loop (engine.c, compiled into this test) on a real struct vm
 * with guest memory and buses, and a private stub local APIC: HLT sleeps
 * until a kick brings an interrupt, an AP waits for its SIPI, triple faults
 * and unimplemented instructions stop the VM with their message.
 *
 * The stub lives here only (src/hw owns the real lapic). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../test.h"
#include "accel/accel.h"
#include "accel/emu/insn.h"
#include "hw/apic.h"
#include "hw/devices.h"
#include "vm/vm.h"

/* ---- stub local APIC ---- */
struct lapic {
    pthread_mutex_t m;
    int pending;   /* vector or -1 */
    bool init;
    int sipi;
};

struct lapic *lapic_create(struct vcpu *cpu)
{
    (void)cpu;
    struct lapic *l = calloc(1, sizeof(*l));
    pthread_mutex_init(&l->m, NULL);
    l->pending = -1;
    l->sipi = -1;
    return l;
}
void lapic_destroy(struct lapic *l) { pthread_mutex_destroy(&l->m); free(l); }
uint32_t lapic_mmio_read(struct lapic *l, uint32_t offset) { (void)l; (void)offset; return 0; }
void lapic_mmio_write(struct lapic *l, uint32_t offset, uint32_t value) { (void)l; (void)offset; (void)value; }
int lapic_take_interrupt(struct lapic *l)
{
    pthread_mutex_lock(&l->m);
    int v = l->pending;
    l->pending = -1;
    pthread_mutex_unlock(&l->m);
    return v;
}
bool lapic_has_interrupt(struct lapic *l)
{
    pthread_mutex_lock(&l->m);
    bool r = l->pending >= 0;
    pthread_mutex_unlock(&l->m);
    return r;
}
uint64_t lapic_poll_timer(struct lapic *l, uint64_t now_ns) { (void)l; (void)now_ns; return UINT64_MAX; }
bool lapic_take_init(struct lapic *l)
{
    pthread_mutex_lock(&l->m);
    bool r = l->init;
    l->init = false;
    pthread_mutex_unlock(&l->m);
    return r;
}
int lapic_take_sipi(struct lapic *l)
{
    pthread_mutex_lock(&l->m);
    int v = l->sipi;
    l->sipi = -1;
    pthread_mutex_unlock(&l->m);
    return v;
}
void lapic_get_state(struct lapic *l, uint8_t regs[CPU_LAPIC_REGS_SIZE]) { (void)l; memset(regs, 0, CPU_LAPIC_REGS_SIZE); }
void lapic_set_state(struct lapic *l, const uint8_t regs[CPU_LAPIC_REGS_SIZE]) { (void)l; (void)regs; }
void hw_emu_irq_line(struct vm *vm, unsigned gsi, int level) { (void)vm; (void)gsi; (void)level; }

/* ---- a port that records writes; 0x82 powers off ---- */
struct portlog {
    pthread_mutex_t m;
    int n;
    uint16_t port[32];
    uint8_t val[32];
    struct vm *vm;
};

static uint64_t port_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque; (void)offset; (void)size;
    return 0;
}

static void port_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct portlog *p = opaque;
    (void)size;
    pthread_mutex_lock(&p->m);
    if (p->n < 32) {
        p->port[p->n] = (uint16_t)(0x80 + offset);
        p->val[p->n] = (uint8_t)value;
        p->n++;
    }
    pthread_mutex_unlock(&p->m);
    if (offset == 2)
        vm_request_stop(p->vm, VM_STOP_POWEROFF, NULL);
}

static const struct bus_ops port_ops = { port_read, port_write };

static bool seen(struct portlog *p, uint16_t port)
{
    pthread_mutex_lock(&p->m);
    bool r = false;
    for (int k = 0; k < p->n; k++)
        r = r || p->port[k] == port;
    pthread_mutex_unlock(&p->m);
    return r;
}

/* Waits (up to 10 s) for a condition; no timing is asserted. */
#define WAIT_FOR(cond) \
    do { for (int w_ = 0; w_ < 10000 && !(cond); w_++) { struct timespec ts_ = { 0, 1000000 }; nanosleep(&ts_, NULL); } } while (0)

struct machine {
    struct vm vm;
    struct portlog log;
    int rc[2];
};

static void *run_thread(void *arg)
{
    struct vcpu *cpu = arg;
    struct machine *m = (struct machine *)cpu->vm;
    m->rc[cpu->index] = accel_emu_ops.vcpu_run(cpu);
    return NULL;
}

static struct machine *machine_new(int ncpus)
{
    struct machine *m = calloc(1, sizeof(*m));
    struct vm *vm = &m->vm;
    pthread_mutex_init(&vm->stop_lock, NULL);
    pthread_cond_init(&vm->stopped, NULL);
    pthread_mutex_init(&m->log.m, NULL);
    m->log.vm = vm;
    CHECK_EQ(guest_memory_init(&vm->mem, 2u << 20), 0);
    CHECK_EQ(bus_register(&vm->pio, 0x80, 0x20, &port_ops, &m->log, "test"), 0);
    vm->accel = &accel_emu_ops;
    vm->ncpus = ncpus;
    vm->vcpus = calloc((size_t)ncpus, sizeof(*vm->vcpus));
    CHECK_EQ(accel_emu_ops.vm_init(vm), 0);
    for (int k = 0; k < ncpus; k++) {
        vm->vcpus[k].vm = vm;
        vm->vcpus[k].index = k;
        CHECK_EQ(accel_emu_ops.vcpu_init(&vm->vcpus[k]), 0);
    }
    return m;
}

static void machine_free(struct machine *m)
{
    for (int k = 0; k < m->vm.ncpus; k++)
        accel_emu_ops.vcpu_destroy(&m->vm.vcpus[k]);
    accel_emu_ops.vm_destroy(&m->vm);
    free(m->vm.vcpus);
    bus_destroy(&m->vm.pio);
    guest_memory_destroy(&m->vm.mem);
    free(m);
}

/* Puts vCPU 0 in real mode at 0100:0000 (physical 0x1000). */
static void bsp_real_mode_at_1000(struct machine *m)
{
    struct cpu_state *st = calloc(1, sizeof(*st));
    CHECK_EQ(accel_emu_ops.vcpu_get_state(&m->vm.vcpus[0], st), 0);
    st->seg[SEG_CS].selector = 0x100;
    st->seg[SEG_CS].base = 0x1000;
    st->rip = 0;
    CHECK_EQ(accel_emu_ops.vcpu_set_state(&m->vm.vcpus[0], st), 0);
    free(st);
}

static void test_hlt_interrupt_sipi(void)
{
    /* BSP: mov al,0x42; out 0x80,al; sti; hlt; out 0x82,al; cli; hlt
     * handler for vector 0x20 at 0000:2000: out 0x81,al; iret
     * AP (SIPI vector 3): mov al,0x77; out 0x90,al; cli; hlt */
    static const uint8_t bsp[] = { 0xb0, 0x42, 0xe6, 0x80, 0xfb, 0xf4, 0xe6, 0x82, 0xfa, 0xf4 };
    static const uint8_t handler[] = { 0xe6, 0x81, 0xcf };
    static const uint8_t ap[] = { 0xb0, 0x77, 0xe6, 0x90, 0xfa, 0xf4 };
    struct machine *m = machine_new(2);
    struct vm *vm = &m->vm;
    guest_write(&vm->mem, 0x1000, bsp, sizeof(bsp));
    guest_write(&vm->mem, 0x2000, handler, sizeof(handler));
    guest_write(&vm->mem, 0x3000, ap, sizeof(ap));
    uint32_t ivt = 0x00002000;  /* 0000:2000 */
    guest_write(&vm->mem, 0x20 * 4, &ivt, 4);
    bsp_real_mode_at_1000(m);

    pthread_t t0, t1;
    pthread_create(&t0, NULL, run_thread, &vm->vcpus[0]);
    pthread_create(&t1, NULL, run_thread, &vm->vcpus[1]);
    WAIT_FOR(seen(&m->log, 0x80));
    CHECK(seen(&m->log, 0x80));
    /* the BSP now sleeps in HLT; nothing else happens without an interrupt */
    CHECK(!seen(&m->log, 0x81));
    /* start the AP */
    struct lapic *l1 = vm->vcpus[1].lapic;
    pthread_mutex_lock(&l1->m);
    l1->sipi = 3;
    pthread_mutex_unlock(&l1->m);
    accel_emu_ops.vcpu_kick(&vm->vcpus[1]);
    WAIT_FOR(seen(&m->log, 0x90));
    CHECK(seen(&m->log, 0x90));
    /* interrupt the BSP: handler, IRET, then the power-off port */
    struct lapic *l0 = vm->vcpus[0].lapic;
    pthread_mutex_lock(&l0->m);
    l0->pending = 0x20;
    pthread_mutex_unlock(&l0->m);
    accel_emu_ops.vcpu_kick(&vm->vcpus[0]);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
    CHECK_EQ(m->rc[0], VCPU_EXIT_STOP);
    CHECK_EQ(m->rc[1], VCPU_EXIT_STOP);
    CHECK_EQ(atomic_load(&vm->stop_reason), VM_STOP_POWEROFF);
    CHECK(seen(&m->log, 0x81));
    CHECK(seen(&m->log, 0x82));
    struct cpu_state *st = calloc(1, sizeof(*st));
    accel_emu_ops.vcpu_get_state(&vm->vcpus[1], st);
    CHECK_EQ(st->seg[SEG_CS].base, 0x3000);
    CHECK_EQ(st->run_state, CPU_HALTED);
    free(st);
    machine_free(m);
}

static void run_until_stop(struct machine *m, const uint8_t *code, size_t n, uint16_t idt_limit)
{
    guest_write(&m->vm.mem, 0x1000, code, n);
    bsp_real_mode_at_1000(m);
    struct cpu_state *st = calloc(1, sizeof(*st));
    accel_emu_ops.vcpu_get_state(&m->vm.vcpus[0], st);
    st->idt.limit = idt_limit;
    accel_emu_ops.vcpu_set_state(&m->vm.vcpus[0], st);
    free(st);
    pthread_t t;
    pthread_create(&t, NULL, run_thread, &m->vm.vcpus[0]);
    pthread_join(t, NULL);
}

static void test_triple_fault(void)
{
    static const uint8_t code[] = { 0x0f, 0x0b };  /* ud2 with an empty IVT */
    struct machine *m = machine_new(1);
    run_until_stop(m, code, sizeof(code), 0);
    CHECK_EQ(m->rc[0], VCPU_EXIT_STOP);
    CHECK_EQ(atomic_load(&m->vm.stop_reason), VM_STOP_TRIPLE_FAULT);
    CHECK(strstr(m->vm.stop_message, "triple fault at RIP 0x0") != NULL);
    machine_free(m);
}

static void test_unimplemented_stops(void)
{
    /* mov eax,cr0; or al,1; mov cr0,eax; iret: IRET in (16-bit) protected
     * mode is not implemented (Linux never uses it). */
    static const uint8_t code[] = { 0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, 0xcf };
    struct machine *m = machine_new(1);
    run_until_stop(m, code, sizeof(code), 0x3ff);
    CHECK_EQ(m->rc[0], VCPU_EXIT_STOP);
    CHECK_EQ(atomic_load(&m->vm.stop_reason), VM_STOP_ERROR);
    if (!strstr(m->vm.stop_message, "emu: unimplemented instruction at RIP 0x8: bytes cf"))
        fprintf(stderr, "stop message: %s\n", m->vm.stop_message);
    CHECK(strstr(m->vm.stop_message, "emu: unimplemented instruction at RIP 0x8: bytes cf") != NULL);
    machine_free(m);
}

/* Setting one vCPU's TSC (as the boot path does for the BSP) keeps every
 * vCPU on the same TSC: Linux's cross-CPU TSC check fails otherwise. */
static void test_tsc_synchronized(void)
{
    struct machine *m = machine_new(2);
    struct cpu_state *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    accel_emu_ops.vcpu_get_state(&m->vm.vcpus[0], a);
    a->msr.tsc = 0;
    accel_emu_ops.vcpu_set_state(&m->vm.vcpus[0], a);
    accel_emu_ops.vcpu_get_state(&m->vm.vcpus[1], b);
    accel_emu_ops.vcpu_get_state(&m->vm.vcpus[0], a);
    /* vCPU 1 read its TSC before vCPU 0: it must not be ahead */
    CHECK(b->msr.tsc <= a->msr.tsc);
    /* a restore to a far value moves every vCPU there */
    a->msr.tsc = 1ull << 50;
    accel_emu_ops.vcpu_set_state(&m->vm.vcpus[0], a);
    b->msr.tsc = 1ull << 50;
    accel_emu_ops.vcpu_set_state(&m->vm.vcpus[1], b);
    accel_emu_ops.vcpu_get_state(&m->vm.vcpus[0], a);
    accel_emu_ops.vcpu_get_state(&m->vm.vcpus[1], b);
    CHECK(a->msr.tsc >= 1ull << 50);
    CHECK(b->msr.tsc >= a->msr.tsc);
    free(a);
    free(b);
    machine_free(m);
}

int main(void)
{
    test_tsc_synchronized();
    test_hlt_interrupt_sipi();
    test_triple_fault();
    test_unimplemented_stops();
    TEST_MAIN_END();
}
