/* Creation and tear-down of the legacy devices of one VM.
 *
 * The devices common to both engines come first; the PIC, IOAPIC, PIT and
 * port 0x61 only on emu, since with kvm they are in the host kernel (whose
 * PIT also answers port 0x61). The local APICs are per vCPU and created by
 * the emu engine (vcpu_init -> lapic_create). */
#include <errno.h>
#include <stdlib.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

int hw_create(struct vm *vm, int console_fd)
{
    struct vm_devices *d = calloc(1, sizeof(*d));
    if (!d)
        return err_set(-ENOMEM, "devices: out of memory");
    vm->devices = d;
    errno = 0;
    bool emu = vm->accel && vm->accel->kind == ACCEL_EMU;

    /* The interrupt controllers first: the others may raise lines at once. */
    if (emu) {
        if (!(d->pic = pic_create(vm)) || !(d->ioapic = ioapic_create(vm)) ||
            !(d->pit = pit_create(vm)) || !(d->sysctrl = sysctrl_create(vm, d->pit)))
            goto fail;
    }
    if (!(d->com1 = uart_create(vm, PORT_COM1, IRQ_COM1, console_fd)) ||
        !(d->i8042 = i8042_create(vm)) || !(d->rtc = rtc_create(vm)) ||
        !(d->acpi_pm = acpi_pm_create(vm)))
        goto fail;
    return 0;
fail:;
    /* The constructor left its reason in err_get() and errno. */
    int rc = errno ? -errno : -ENOMEM;
    hw_destroy(vm);
    return rc;
}

/* Call with the vCPUs joined and the I/O loop stopped: devices are freed
 * here, and the PIT's loop timer points at its device. */
void hw_destroy(struct vm *vm)
{
    struct vm_devices *d = vm->devices;
    if (!d)
        return;
    acpi_pm_destroy(d->acpi_pm);
    rtc_destroy(d->rtc);
    i8042_destroy(d->i8042);
    uart_destroy(d->com1);
    sysctrl_destroy(d->sysctrl);
    pit_destroy(d->pit);
    ioapic_destroy(d->ioapic);
    pic_destroy(d->pic);
    free(d);
    vm->devices = NULL;
}
