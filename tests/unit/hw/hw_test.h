/* A struct vm for device tests: real buses, a fake engine that records
 * interrupt lines and kicks (or routes them to the software interrupt
 * controllers, as the emu engine does), no I/O loop. */
#ifndef BRUME_TESTS_UNIT_HW_HW_TEST_H
#define BRUME_TESTS_UNIT_HW_HW_TEST_H

#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

#define TEST_MAX_GSI 32

struct test_vm {
    struct vm vm;
    struct vcpu vcpus[4];
    bool route;                 /* irq_line goes to hw_emu_irq_line */
    int level[TEST_MAX_GSI];    /* last level per GSI */
    int rises[TEST_MAX_GSI];    /* 0 -> 1 transitions per GSI */
    int calls[TEST_MAX_GSI];
    int kicks[4];
};

static struct test_vm *test_vm_of(struct vm *vm)
{
    return (struct test_vm *)vm; /* vm is the first member */
}

static inline int fake_irq_line(struct vm *vm, unsigned gsi, int level)
{
    struct test_vm *t = test_vm_of(vm);
    if (gsi < TEST_MAX_GSI) {
        if (level && !t->level[gsi])
            t->rises[gsi]++;
        t->level[gsi] = level;
        t->calls[gsi]++;
    }
    if (t->route)
        hw_emu_irq_line(vm, gsi, level);
    return 0;
}

static inline void fake_kick(struct vcpu *cpu)
{
    test_vm_of(cpu->vm)->kicks[cpu->index]++;
}

static const struct accel_ops fake_emu_ops = {
    .name = "fake", .kind = ACCEL_EMU, .irq_line = fake_irq_line, .vcpu_kick = fake_kick,
};

/* A VM with ncpus vCPUs (with local APICs when lapics is set). */
static struct test_vm *test_vm_new(int ncpus, bool lapics)
{
    struct test_vm *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    struct vm *vm = &t->vm;
    vm->accel = &fake_emu_ops;
    vm->mem.ram_size = 256ull << 20;
    pthread_mutex_init(&vm->stop_lock, NULL);
    pthread_cond_init(&vm->stopped, NULL);
    vm->vcpus = t->vcpus;
    vm->ncpus = ncpus;
    for (int i = 0; i < ncpus; i++) {
        t->vcpus[i].vm = vm;
        t->vcpus[i].index = i;
        if (lapics)
            t->vcpus[i].lapic = lapic_create(&t->vcpus[i]);
    }
    return t;
}

static inline void test_vm_free(struct test_vm *t)
{
    hw_destroy(&t->vm);
    for (int i = 0; i < t->vm.ncpus; i++)
        lapic_destroy(t->vcpus[i].lapic);
    bus_destroy(&t->vm.pio);
    bus_destroy(&t->vm.mmio);
    pthread_mutex_destroy(&t->vm.stop_lock);
    pthread_cond_destroy(&t->vm.stopped);
    free(t);
}

static inline uint64_t inp(struct test_vm *t, uint16_t port, unsigned size)
{
    uint64_t v = 0;
    CHECK_EQ(bus_read(&t->vm.pio, port, size, &v), 0);
    return v;
}

static inline uint8_t inb(struct test_vm *t, uint16_t port)
{
    return (uint8_t)inp(t, port, 1);
}

static inline void outp(struct test_vm *t, uint16_t port, unsigned size, uint64_t v)
{
    CHECK_EQ(bus_write(&t->vm.pio, port, size, v), 0);
}

static inline void outb(struct test_vm *t, uint16_t port, uint8_t v)
{
    outp(t, port, 1, v);
}

static inline uint32_t mmio_rd(struct test_vm *t, uint64_t addr)
{
    uint64_t v = 0;
    CHECK_EQ(bus_read(&t->vm.mmio, addr, 4, &v), 0);
    return (uint32_t)v;
}

static inline void mmio_wr(struct test_vm *t, uint64_t addr, uint32_t v)
{
    CHECK_EQ(bus_write(&t->vm.mmio, addr, 4, v), 0);
}

#endif
