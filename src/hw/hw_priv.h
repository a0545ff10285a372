/* Internals shared by the files of src/hw (and by their unit tests).
 *
 * devices.h and apic.h are the contracts the rest of brume sees; this
 * header adds the constructors hw.c calls and the "_at" variants of
 * time-dependent register accesses, which take the clock as a parameter so
 * that tests can drive a device through time without sleeping. The bus
 * callbacks call them with vm_clock_ns() (or the host's wall clock for
 * the RTC). */
#ifndef BRUME_HW_HW_PRIV_H
#define BRUME_HW_HW_PRIV_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/bus.h"

#include "hw/apic.h"
#include "hw/devices.h"

/* ---- i8042 keyboard controller (hw/i8042.c) ---- */
struct i8042 *i8042_create(struct vm *vm);
void i8042_destroy(struct i8042 *k);

/* ---- CMOS RTC (hw/rtc.c) ---- */
struct rtc *rtc_create(struct vm *vm);
void rtc_destroy(struct rtc *r);
/* Reads/writes CMOS register index as if the host's UTC wall clock were
 * sec.nsec (seconds since the Unix epoch). */
uint8_t rtc_read_at(struct rtc *r, uint8_t index, int64_t sec, long nsec);
void rtc_write_at(struct rtc *r, uint8_t index, uint8_t value, int64_t sec);

/* ---- 8254 PIT (hw/pit.c), emu only ---- */
#define PIT_HZ 1193182ull
struct pit *pit_create(struct vm *vm);
void pit_destroy(struct pit *p);
/* Port offsets 0..3 from PORT_PIT; now is vm_clock_ns() time. */
uint8_t pit_io_read(struct pit *p, unsigned offset, uint64_t now);
void pit_io_write(struct pit *p, unsigned offset, uint8_t value, uint64_t now);
/* Channel 2's gate input (port 0x61 bit 0) and OUT pin (port 0x61 bit 5). */
void pit_set_gate(struct pit *p, unsigned channel, bool level, uint64_t now);
bool pit_get_gate(struct pit *p, unsigned channel);
bool pit_get_out(struct pit *p, unsigned channel, uint64_t now);
/* The channel 0 timer body: pulses IRQ 0 if OUT rose since the last call,
 * returns the delay in ns to the next rising edge, 0 when there is none. */
uint64_t pit_timer_run(struct pit *p, uint64_t now);

/* ---- port 0x61, system control port B (hw/sysctrl.c), emu only ---- */
struct sysctrl *sysctrl_create(struct vm *vm, struct pit *pit);
void sysctrl_destroy(struct sysctrl *s);
uint8_t sysctrl_read_at(struct sysctrl *s, uint64_t now);
void sysctrl_write_at(struct sysctrl *s, uint8_t value, uint64_t now);

/* ---- ACPI fixed hardware and port 0x80 (hw/acpi_pm.c) ---- */
struct acpi_pm *acpi_pm_create(struct vm *vm);
void acpi_pm_destroy(struct acpi_pm *pm);
/* The PM timer's 32-bit value at vm_clock_ns() time now. */
uint32_t acpi_pm_timer_at(uint64_t now);
/* Presses the power button: sets PWRBTN_STS and raises the SCI if the
 * guest enabled it, so an ACPI guest shuts down cleanly. */
void acpi_pm_power_button(struct acpi_pm *pm);

/* ---- local APIC (hw/lapic.c) ---- */
uint32_t lapic_mmio_read_at(struct lapic *l, uint32_t offset, uint64_t now);
void lapic_mmio_write_at(struct lapic *l, uint32_t offset, uint32_t value, uint64_t now);

/* ---- helpers ---- */
/* bus_register() that also leaves the error in errno, so that a
 * constructor returning NULL still tells hw_create() why. */
static inline int hw_register(struct bus *bus, uint64_t base, uint64_t len,
                              const struct bus_ops *ops, void *opaque, const char *name)
{
    int rc = bus_register(bus, base, len, ops, opaque, name);
    if (rc < 0)
        errno = -rc;
    return rc;
}

/* Converts a count of ns into ticks of a hz clock without overflow. */
static inline uint64_t hw_ns_to_ticks(uint64_t ns, uint64_t hz)
{
    return (uint64_t)((unsigned __int128)ns * hz / 1000000000u);
}

/* The first ns at which a hz clock has counted ticks ticks (rounded up). */
static inline uint64_t hw_ticks_to_ns(uint64_t ticks, uint64_t hz)
{
    unsigned __int128 n = (unsigned __int128)ticks * 1000000000u + hz - 1;
    n /= hz;
    return n > UINT64_MAX ? UINT64_MAX : (uint64_t)n;
}

#endif
