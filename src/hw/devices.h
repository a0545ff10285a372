/* The legacy devices of the brume machine, and where a VM keeps them.
 *
 * Which devices exist depends on the engine: with kvm the interrupt
 * controllers (PIC, IOAPIC, local APICs) and the PIT live in the host
 * kernel; with emu they are the software models in this folder. Everything
 * else is the same on both engines. Addresses, ports and IRQs come from
 * vm/machine.h. */
#ifndef BRUME_HW_DEVICES_H
#define BRUME_HW_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct uart;
struct i8042;
struct rtc;
struct pit;
struct pic;
struct ioapic;
struct acpi_pm;
struct sysctrl;

struct vm_devices {
    struct uart *com1;
    struct i8042 *i8042;
    struct rtc *rtc;
    struct acpi_pm *acpi_pm;
    struct sysctrl *sysctrl;  /* port 0x61, emu only (kvm's PIT has its own) */
    /* emu engine only (NULL on kvm): */
    struct pit *pit;
    struct pic *pic;
    struct ioapic *ioapic;
};

/* Creates and registers the legacy devices on vm's buses. The console
 * output of COM1 goes to console_fd (-1: discarded). Returns 0 or -errno
 * with a reason in err_get(). */
int hw_create(struct vm *vm, int console_fd);
void hw_destroy(struct vm *vm);

/* ---- 8250/16550A UART (hw/uart.c) ---- */
struct uart *uart_create(struct vm *vm, uint16_t port, unsigned irq, int out_fd);
void uart_destroy(struct uart *u);
/* Feeds bytes typed on the host into the receive FIFO. Returns how many
 * were taken (the rest must be offered again later, after the guest has
 * read some); thread-safe. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);
/* Registers fn to be called when the guest has made room in a receive
 * FIFO that refused host bytes, so the console back-end can stop polling
 * its input while the guest is not reading and offer the rest again. fn
 * runs on a vCPU thread, without the UART's lock; NULL disables it. */
void uart_set_rx_notify(struct uart *u, void (*fn)(void *opaque), void *opaque);

/* ---- emu interrupt routing (hw/irq_route.c) ---- */
/* Sets a GSI's level on the software PIC and IOAPIC, as a PC wires them:
 * ISA IRQ n to PIC pin n and IOAPIC pin n, except IRQ 0 to IOAPIC pin 2. */
void hw_emu_irq_line(struct vm *vm, unsigned gsi, int level);

#endif
