/* i8042: Linux's probe sequence answers at once, the keyboard answers its
 * commands with IRQ 1, and the reset line stops the VM with VM_STOP_RESET. */
#include "hw_test.h"

#define DATA PORT_I8042_DATA
#define CMD PORT_I8042_CMD

static uint8_t command(struct test_vm *t, uint8_t cmd)
{
    outb(t, CMD, cmd);
    CHECK_EQ(inb(t, CMD) & 0x01, 1); /* OBF: an answer is waiting */
    return inb(t, DATA);
}

int main(void)
{
    struct test_vm *t = test_vm_new(1, false);
    t->vm.devices = calloc(1, sizeof(*t->vm.devices));
    struct i8042 *k = i8042_create(&t->vm);
    t->vm.devices->i8042 = k;
    CHECK(k != NULL);

    CHECK_EQ(inb(t, CMD) & 0x01, 0);      /* nothing to flush */
    CHECK_EQ(command(t, 0xAA), 0x55);     /* controller self-test */
    CHECK(inb(t, CMD) & 0x04);            /* system flag */
    uint8_t ctr = command(t, 0x20);
    CHECK_EQ(ctr & 0x01, 0x01);           /* keyboard interrupt enabled */
    outb(t, CMD, 0x60);
    outb(t, DATA, 0x44);                  /* interrupts off, translation on */
    CHECK_EQ(command(t, 0x20), 0x44);
    int calls = t->calls[IRQ_KEYBOARD];
    CHECK_EQ(command(t, 0xAB), 0x00);     /* keyboard interface test */
    /* AUX loopback comes back without the AUX flag: "no AUX port" */
    outb(t, CMD, 0xD3);
    outb(t, DATA, 0x5A);
    CHECK_EQ(inb(t, CMD) & 0x21, 0x01);
    CHECK_EQ(inb(t, DATA), 0x5A);
    CHECK_EQ(command(t, 0xA9), 0x01);     /* AUX test: clock line stuck */
    outb(t, CMD, 0xA7);
    CHECK(command(t, 0x20) & 0x20);
    outb(t, CMD, 0xA8);
    CHECK(!(command(t, 0x20) & 0x20));
    outb(t, CMD, 0xAD);
    CHECK(command(t, 0x20) & 0x10);
    outb(t, CMD, 0xAE);
    CHECK(!(command(t, 0x20) & 0x10));
    CHECK_EQ(t->calls[IRQ_KEYBOARD], calls); /* interrupts were off */

    /* keyboard with interrupts: identify answers ACK, 0xAB, 0x41 (translated) */
    outb(t, CMD, 0x60);
    outb(t, DATA, 0x45);
    int rises = t->rises[IRQ_KEYBOARD];
    outb(t, DATA, 0xF2);
    CHECK_EQ(t->level[IRQ_KEYBOARD], 1);
    CHECK_EQ(inb(t, DATA), 0xFA);
    CHECK_EQ(inb(t, DATA), 0xAB);
    CHECK_EQ(inb(t, DATA), 0x41);
    CHECK_EQ(t->rises[IRQ_KEYBOARD], rises + 3); /* one edge per byte */
    CHECK_EQ(t->level[IRQ_KEYBOARD], 0);
    outb(t, DATA, 0xFF);                 /* reset: ACK, self-test passed */
    CHECK_EQ(inb(t, DATA), 0xFA);
    CHECK_EQ(inb(t, DATA), 0xAA);
    outb(t, DATA, 0xED);                 /* LEDs take an argument */
    CHECK_EQ(inb(t, DATA), 0xFA);
    outb(t, DATA, 0x07);
    CHECK_EQ(inb(t, DATA), 0xFA);
    outb(t, DATA, 0xF0);                 /* get scancode set */
    CHECK_EQ(inb(t, DATA), 0xFA);
    outb(t, DATA, 0x00);
    CHECK_EQ(inb(t, DATA), 0xFA);
    CHECK_EQ(inb(t, DATA), 0x02);
    CHECK_EQ(inb(t, CMD) & 0x01, 0);

    /* output port write with bit 0 set: no reset; 0xFE: reset */
    outb(t, CMD, 0xD1);
    outb(t, DATA, 0x03);
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_RUNNING);
    outb(t, CMD, 0xFF);                  /* pulse nothing */
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_RUNNING);
    outb(t, CMD, 0xFE);
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_STOP_RESET);
    test_vm_free(t);
    TEST_MAIN_END();
}
