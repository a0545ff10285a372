/* IOAPIC: registers, redirection to physical and logical destinations,
 * edge and level pins with remote IRR and re-delivery on EOI, masks,
 * lowest priority, IRQ 0 on pin 2. */
#include "hw_test.h"

static struct test_vm *t;

static void io_write(unsigned index, uint32_t v)
{
    mmio_wr(t, IOAPIC_ADDR, index);
    mmio_wr(t, IOAPIC_ADDR + 0x10, v);
}

static uint32_t io_read(unsigned index)
{
    mmio_wr(t, IOAPIC_ADDR, index);
    return mmio_rd(t, IOAPIC_ADDR + 0x10);
}

static void route(unsigned pin, uint32_t low, uint8_t dest)
{
    io_write(0x11 + 2 * pin, (uint32_t)dest << 24);
    io_write(0x10 + 2 * pin, low);
}

static struct lapic *cpu(int i)
{
    return t->vcpus[i].lapic;
}

int main(void)
{
    t = test_vm_new(2, true);
    t->route = true;
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    for (int i = 0; i < 2; i++) {
        lapic_mmio_write(cpu(i), 0xF0, 0x1FF);                  /* software enable */
        lapic_mmio_write(cpu(i), 0xD0, (uint32_t)(1u << i) << 24); /* flat logical IDs 1, 2 */
    }

    CHECK_EQ(io_read(1), 0x11u | ((IOAPIC_PINS - 1u) << 16));
    io_write(0, 0x05000000);
    CHECK_EQ(io_read(0), 0x05000000);
    CHECK_EQ(io_read(0x10 + 2 * 7) & (1u << 16), 1u << 16); /* masked at reset */
    mmio_wr(t, IOAPIC_ADDR, 0x12);
    CHECK_EQ(mmio_rd(t, IOAPIC_ADDR), 0x12);

    /* edge, physical destination 1 */
    route(4, 0x34, 1);
    CHECK_EQ(io_read(0x10 + 8), 0x34);
    int kicks = t->kicks[1];
    vm_irq_pulse(&t->vm, 4);
    CHECK_EQ(t->kicks[1], kicks + 1);
    CHECK(!lapic_has_interrupt(cpu(0)));
    CHECK(lapic_has_interrupt(cpu(1)));
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x34);
    lapic_mmio_write(cpu(1), 0xB0, 0);
    /* held high: one edge, one interrupt */
    vm_irq_line(&t->vm, 4, 1);
    vm_irq_line(&t->vm, 4, 1);
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x34);
    CHECK_EQ(lapic_take_interrupt(cpu(1)), -1);
    vm_irq_line(&t->vm, 4, 0);
    lapic_mmio_write(cpu(1), 0xB0, 0);
    /* masked edges are lost */
    route(4, 0x34 | (1u << 16), 1);
    vm_irq_pulse(&t->vm, 4);
    route(4, 0x34, 1);
    CHECK(!lapic_has_interrupt(cpu(1)));

    /* level, physical destination 0: remote IRR and re-delivery */
    route(10, 0x3A | (1u << 15), 0);
    vm_irq_line(&t->vm, 10, 1);
    CHECK(io_read(0x10 + 20) & (1u << 14));
    CHECK_EQ(lapic_take_interrupt(cpu(0)), 0x3A);
    lapic_mmio_write(cpu(0), 0xB0, 0);          /* EOI while still asserted */
    CHECK(io_read(0x10 + 20) & (1u << 14));     /* delivered again */
    CHECK_EQ(lapic_take_interrupt(cpu(0)), 0x3A);
    vm_irq_line(&t->vm, 10, 0);
    lapic_mmio_write(cpu(0), 0xB0, 0);
    CHECK_EQ(io_read(0x10 + 20) & (1u << 14), 0);
    CHECK(!lapic_has_interrupt(cpu(0)));
    /* the guest cannot write remote IRR or delivery status */
    io_write(0x10 + 20, 0x3A | (1u << 15) | (1u << 14) | (1u << 12));
    CHECK_EQ(io_read(0x10 + 20), 0x3A | (1u << 15));

    /* unmasking an asserted level pin delivers */
    route(11, 0x3B | (1u << 15) | (1u << 16), 0);
    vm_irq_line(&t->vm, 11, 1);
    CHECK(!lapic_has_interrupt(cpu(0)));
    route(11, 0x3B | (1u << 15), 0);
    CHECK_EQ(lapic_take_interrupt(cpu(0)), 0x3B);
    vm_irq_line(&t->vm, 11, 0);
    lapic_mmio_write(cpu(0), 0xB0, 0);

    /* logical destination 2 is CPU 1 */
    route(5, 0x35 | (1u << 11), 0x02);
    vm_irq_pulse(&t->vm, 5);
    CHECK(!lapic_has_interrupt(cpu(0)));
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x35);
    lapic_mmio_write(cpu(1), 0xB0, 0);
    /* lowest priority among CPUs 0 and 1: CPU 0 has a high TPR */
    lapic_mmio_write(cpu(0), 0x80, 0x80);
    route(6, 0x36 | (1u << 11) | (1u << 8), 0x03);
    vm_irq_pulse(&t->vm, 6);
    CHECK(!lapic_has_interrupt(cpu(0)));
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x36);
    lapic_mmio_write(cpu(1), 0xB0, 0);
    lapic_mmio_write(cpu(0), 0x80, 0);

    /* the PIT's IRQ 0 arrives on pin 2; GSI 16+ only on the IOAPIC */
    route(2, 0x30, 0);
    route(0, 0x3F, 1);
    vm_irq_pulse(&t->vm, 0);
    CHECK_EQ(lapic_take_interrupt(cpu(0)), 0x30);
    CHECK(!lapic_has_interrupt(cpu(1)));
    lapic_mmio_write(cpu(0), 0xB0, 0);
    route(17, 0x51 | (1u << 15), 1);
    vm_irq_line(&t->vm, 17, 1);
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x51);
    vm_irq_line(&t->vm, 17, 0);
    lapic_mmio_write(cpu(1), 0xB0, 0);
    /* out-of-range pins and registers are ignored */
    vm_irq_pulse(&t->vm, IOAPIC_PINS + 3);
    io_write(0x10 + 2 * IOAPIC_PINS, 0x12345678);
    CHECK_EQ(io_read(0x10 + 2 * IOAPIC_PINS), 0);
    test_vm_free(t);
    TEST_MAIN_END();
}
