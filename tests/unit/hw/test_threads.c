/* Interrupt controllers under concurrency: one "device" thread drives
 * edge and level lines, two "vCPU" threads take interrupts, send each
 * other IPIs, run their timers and EOI, while a third thread programs the
 * PIC. The test ends (no deadlock between the ioapic -> lapic -> pic lock
 * order and the IPI/EOI paths) and leaves a consistent state: nothing stuck
 * in service, no Remote IRR left, every IPI accounted for. */
#include <stdatomic.h>

#include "hw_test.h"

#define ROUNDS 20000

static struct test_vm *t;
static atomic_int running;
static atomic_int ipis_sent[2], ipis_seen[2];

static void *device_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS * 2; i++) {
        vm_irq_line(&t->vm, 10, i & 1);   /* level, to CPU 0 */
        vm_irq_pulse(&t->vm, 4);          /* edge, to CPU 1 */
        vm_irq_pulse(&t->vm, 1);          /* edge, PIC and IOAPIC (masked) */
    }
    vm_irq_line(&t->vm, 10, 0);
    return NULL;
}

static void *pic_thread(void *arg)
{
    (void)arg;
    while (atomic_load(&running)) {
        outb(t, 0x21, 0xFD);
        outb(t, 0x20, 0x0B);
        (void)inb(t, 0x20);
        outb(t, 0x20, 0x0A);
        outb(t, 0x21, 0xFF);
    }
    return NULL;
}

static void *cpu_thread(void *arg)
{
    int me = (int)(intptr_t)arg, other = 1 - me;
    struct lapic *l = t->vcpus[me].lapic;
    for (int i = 0; i < ROUNDS; i++) {
        lapic_poll_timer(l, vm_clock_ns());
        if (i % 16 == 0) {
            lapic_mmio_write(l, 0x310, (uint32_t)other << 24);
            lapic_mmio_write(l, 0x300, 0x4070u + (unsigned)other); /* vector 0x70 + target */
            atomic_fetch_add(&ipis_sent[other], 1);
        }
        int v = lapic_take_interrupt(l);
        if (v >= 0) {
            if (v == 0x70 + me)
                atomic_fetch_add(&ipis_seen[me], 1);
            if (v < 0x20 || v >= 0x30) /* not a PIC vector */
                lapic_mmio_write(l, 0xB0, 0);
            else
                outb(t, 0x20, 0x20);
        }
    }
    return NULL;
}

static void io_route(unsigned pin, uint32_t low, uint8_t dest)
{
    mmio_wr(t, IOAPIC_ADDR, 0x11 + 2 * pin);
    mmio_wr(t, IOAPIC_ADDR + 0x10, (uint32_t)dest << 24);
    mmio_wr(t, IOAPIC_ADDR, 0x10 + 2 * pin);
    mmio_wr(t, IOAPIC_ADDR + 0x10, low);
}

int main(void)
{
    t = test_vm_new(2, true);
    t->route = true;
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    for (int i = 0; i < 2; i++) {
        lapic_mmio_write(t->vcpus[i].lapic, 0xF0, 0x1FF);
        lapic_mmio_write(t->vcpus[i].lapic, 0x3E0, 0xB);
        lapic_mmio_write(t->vcpus[i].lapic, 0x320, 0x20050);  /* periodic, vector 0x50 */
        lapic_mmio_write(t->vcpus[i].lapic, 0x380, 20000);    /* 20 us */
    }
    outb(t, 0x20, 0x11); outb(t, 0x21, 0x20); outb(t, 0x21, 0x04); outb(t, 0x21, 0x01);
    io_route(10, 0x4A | (1u << 15), 0);
    io_route(4, 0x44, 1);

    atomic_store(&running, 1);
    pthread_t dev, pic, cpu[2];
    pthread_create(&dev, NULL, device_thread, NULL);
    pthread_create(&pic, NULL, pic_thread, NULL);
    for (int i = 0; i < 2; i++)
        pthread_create(&cpu[i], NULL, cpu_thread, (void *)(intptr_t)i);
    pthread_join(dev, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(cpu[i], NULL);
    atomic_store(&running, 0);
    pthread_join(pic, NULL);

    /* quiesce: timers off, PIC masked, then drain every CPU */
    outb(t, 0x21, 0xFF);
    for (int i = 0; i < 2; i++) {
        struct lapic *l = t->vcpus[i].lapic;
        lapic_mmio_write(l, 0x380, 0);
        lapic_mmio_write(l, 0x350, 0x10700); /* LINT0 masked: only APIC vectors */
        for (int n = 0; n < 1000; n++) {
            while (lapic_mmio_read(l, 0xA0)) /* PPR: something in service */
                lapic_mmio_write(l, 0xB0, 0);
            int v = lapic_take_interrupt(l);
            if (v < 0)
                break;
            if (v == 0x70 + i)
                atomic_fetch_add(&ipis_seen[i], 1);
            lapic_mmio_write(l, 0xB0, 0);
        }
        for (uint32_t off = 0x100; off < 0x180; off += 0x10)
            CHECK_EQ(lapic_mmio_read(l, off), 0);   /* ISR empty */
        for (uint32_t off = 0x200; off < 0x280; off += 0x10)
            CHECK_EQ(lapic_mmio_read(l, off), 0);   /* IRR empty */
        CHECK(atomic_load(&ipis_seen[i]) >= 1);
        CHECK(atomic_load(&ipis_seen[i]) <= atomic_load(&ipis_sent[i]));
    }
    mmio_wr(t, IOAPIC_ADDR, 0x10 + 20);
    CHECK_EQ(mmio_rd(t, IOAPIC_ADDR + 0x10) & (1u << 14), 0); /* no Remote IRR */
    CHECK(t->kicks[0] > 0 && t->kicks[1] > 0);
    test_vm_free(t);
    TEST_MAIN_END();
}
