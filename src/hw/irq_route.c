/* Interrupt wiring of the emu machine, as on a PC: ISA IRQ n goes to PIC
 * input n and IOAPIC pin n, except IRQ 0 (the PIT), which the IOAPIC sees
 * on pin 2 (the MADT's interrupt source override says so). IRQ 2 is the
 * PIC cascade and takes no device. GSIs 16 and up exist only on the
 * IOAPIC. */
#include "hw/hw_priv.h"
#include "vm/vm.h"

void hw_emu_irq_line(struct vm *vm, unsigned gsi, int level)
{
    struct vm_devices *d = vm->devices;
    if (!d)
        return;
    if (d->pic && gsi < 16 && gsi != 2)
        pic_set_irq(d->pic, gsi, level);
    if (d->ioapic) {
        unsigned pin = gsi == IRQ_PIT ? 2 : gsi;
        if (pin < IOAPIC_PINS)
            ioapic_set_irq(d->ioapic, pin, level);
    }
}
