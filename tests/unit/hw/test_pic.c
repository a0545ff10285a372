/* 8259A pair: Linux's init sequence, priorities, EOI flavours, masking,
 * cascade, ELCR level triggering, auto-EOI, poll mode, spurious IRQs and
 * kicking the BSP when the output rises. */
#include "hw_test.h"

static struct test_vm *t;
static struct pic *p;

static void eoi_both(void)
{
    outb(t, 0xA0, 0x20);
    outb(t, 0x20, 0x20);
}

static uint8_t read_isr(uint16_t base)
{
    outb(t, base, 0x0B);
    uint8_t v = inb(t, base);
    outb(t, base, 0x0A);
    return v;
}

static void init_pics(uint8_t icw4)
{
    outb(t, 0x20, 0x11); outb(t, 0x21, 0x20); outb(t, 0x21, 0x04); outb(t, 0x21, icw4);
    outb(t, 0xA0, 0x11); outb(t, 0xA1, 0x28); outb(t, 0xA1, 0x02); outb(t, 0xA1, 0x01);
    outb(t, 0x21, 0x00);
    outb(t, 0xA1, 0x00);
}

static void test_basic(void)
{
    /* firmware state: all masked */
    CHECK_EQ(inb(t, 0x21), 0xFF);
    pic_set_irq(p, 1, 1);
    pic_set_irq(p, 1, 0);
    CHECK(!pic_has_interrupt(p));
    init_pics(0x01);
    CHECK(!pic_has_interrupt(p)); /* ICW1 forgot the old edge */
    CHECK_EQ(inb(t, 0x21), 0x00);

    int kicks = t->kicks[0];
    vm_irq_pulse(&t->vm, 1); /* through hw_emu_irq_line */
    CHECK(pic_has_interrupt(p));
    CHECK_EQ(t->kicks[0], kicks + 1);
    CHECK_EQ(inb(t, 0x20), 0x02); /* IRR */
    CHECK_EQ(pic_acknowledge(p), 0x21);
    CHECK_EQ(read_isr(0x20), 0x02);
    CHECK_EQ(inb(t, 0x20), 0x00);

    /* lower priority waits while IRQ 1 is in service, higher preempts */
    vm_irq_pulse(&t->vm, 3);
    CHECK(!pic_has_interrupt(p));
    pic_set_irq(p, 0, 1);
    pic_set_irq(p, 0, 0);
    CHECK(pic_has_interrupt(p));
    CHECK_EQ(pic_acknowledge(p), 0x20);
    CHECK_EQ(read_isr(0x20), 0x03);
    outb(t, 0x20, 0x20); /* non-specific EOI: IRQ 0 */
    CHECK_EQ(read_isr(0x20), 0x02);
    CHECK(!pic_has_interrupt(p));
    outb(t, 0x20, 0x61); /* specific EOI for IRQ 1 */
    CHECK_EQ(read_isr(0x20), 0x00);
    CHECK(pic_has_interrupt(p));
    CHECK_EQ(pic_acknowledge(p), 0x23);
    outb(t, 0x20, 0x20);

    /* masking keeps the request in IRR until unmasked */
    outb(t, 0x21, 0x10);
    vm_irq_pulse(&t->vm, 4);
    CHECK(!pic_has_interrupt(p));
    CHECK_EQ(inb(t, 0x20) & 0x10, 0x10);
    outb(t, 0x21, 0x00);
    CHECK(pic_has_interrupt(p));
    CHECK_EQ(pic_acknowledge(p), 0x24);
    outb(t, 0x20, 0x20);

    /* nothing pending: spurious IRQ 7, ISR untouched */
    CHECK_EQ(pic_acknowledge(p), 0x27);
    CHECK_EQ(read_isr(0x20), 0x00);
}

static void test_cascade_and_level(void)
{
    vm_irq_pulse(&t->vm, 10);
    CHECK(pic_has_interrupt(p));
    CHECK_EQ(pic_acknowledge(p), 0x2A);
    CHECK_EQ(read_isr(0x20), 0x04);
    CHECK_EQ(read_isr(0xA0), 0x04);
    eoi_both();
    CHECK(!pic_has_interrupt(p));

    /* ELCR: IRQ 10 level triggered; IRQ 0-2 cannot be */
    outb(t, PORT_ELCR, 0xFF);
    CHECK_EQ(inb(t, PORT_ELCR), 0xF8);
    outb(t, PORT_ELCR, 0x00);
    outp(t, PORT_ELCR, 2, 0x0400);
    CHECK_EQ(inp(t, PORT_ELCR, 2), 0x0400);
    vm_irq_line(&t->vm, 10, 1);
    CHECK_EQ(pic_acknowledge(p), 0x2A);
    eoi_both();
    CHECK(pic_has_interrupt(p)); /* still asserted: requested again */
    CHECK_EQ(pic_acknowledge(p), 0x2A);
    vm_irq_line(&t->vm, 10, 0);
    eoi_both();
    CHECK(!pic_has_interrupt(p));
    /* a level request withdrawn before the INTA is gone */
    vm_irq_line(&t->vm, 10, 1);
    CHECK(pic_has_interrupt(p));
    vm_irq_line(&t->vm, 10, 0);
    CHECK(!pic_has_interrupt(p) || pic_acknowledge(p) == 0x2F); /* spurious 15 at worst */
    eoi_both();
    outp(t, PORT_ELCR, 2, 0);
    while (read_isr(0x20) || read_isr(0xA0))
        eoi_both();
}

static void test_modes(void)
{
    /* poll mode: the read is the acknowledge */
    vm_irq_pulse(&t->vm, 5);
    outb(t, 0x20, 0x0C);
    CHECK_EQ(inb(t, 0x20), 0x85);
    CHECK_EQ(read_isr(0x20), 0x20);
    outb(t, 0x20, 0x20);
    outb(t, 0x20, 0x0C);
    CHECK_EQ(inb(t, 0x20), 0x00);

    /* set priority: IRQ 3 lowest, so IRQ 5 beats IRQ 1 */
    outb(t, 0x20, 0xC3);
    vm_irq_pulse(&t->vm, 1);
    vm_irq_pulse(&t->vm, 5);
    CHECK_EQ(pic_acknowledge(p), 0x25);
    outb(t, 0x20, 0x20);
    CHECK_EQ(pic_acknowledge(p), 0x21);
    outb(t, 0x20, 0x20);
    outb(t, 0x20, 0xC7); /* back to IRQ 0 highest */

    /* auto-EOI: nothing stays in service */
    init_pics(0x03);
    vm_irq_pulse(&t->vm, 6);
    CHECK_EQ(pic_acknowledge(p), 0x26);
    CHECK_EQ(read_isr(0x20), 0x00);
    vm_irq_pulse(&t->vm, 7);
    CHECK(pic_has_interrupt(p));
    CHECK_EQ(pic_acknowledge(p), 0x27);
}

int main(void)
{
    t = test_vm_new(1, false);
    t->route = true;
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    p = t->vm.devices->pic;
    CHECK(p != NULL);
    test_basic();
    test_cascade_and_level();
    test_modes();
    test_vm_free(t);
    TEST_MAIN_END();
}
