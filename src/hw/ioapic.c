/* The I/O APIC (emu engine only): IOAPIC_PINS inputs at IOAPIC_ADDR.
 *
 * Registers are reached indirectly: IOREGSEL (offset 0x00) selects, IOWIN
 * (offset 0x10) reads or writes. Index 0 is the ID, 1 the version
 * (0x11 with the highest pin number in bits 16-23), 2 the arbitration ID,
 * 0x10 + 2n / 0x11 + 2n the low/high halves of pin n's redirection entry.
 *
 * Inputs take the logical level (1 = asserted): brume's devices never
 * drive an active-low line, so the polarity bit is stored and reported
 * but does not invert (as KVM's IOAPIC does). Edge-triggered pins deliver
 * on a rising edge when unmasked. Level-triggered pins deliver while
 * asserted and set remote IRR; the local APIC's EOI for that vector
 * (ioapic_eoi) clears it and delivers again if the line is still asserted.
 * Unmasking an asserted level pin delivers too.
 *
 * Locking: io->lock protects the table; deliveries go to the local APICs
 * under it (lock order: ioapic, then lapic — a lapic never calls in here
 * while holding its own lock). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

#define IOREGSEL 0x00
#define IOWIN    0x10

#define RTE_VECTOR      0x000000FFull
#define RTE_DELMODE(e)  (((e) >> 8) & 7)
#define RTE_LOGICAL     (1ull << 11)
#define RTE_DELIVS      (1ull << 12)
#define RTE_REMOTE_IRR  (1ull << 14)
#define RTE_LEVEL       (1ull << 15)
#define RTE_MASKED      (1ull << 16)
#define RTE_DEST(e)     ((uint8_t)((e) >> 56))
/* Bits the guest may write: all but delivery status and remote IRR. */
#define RTE_WRITABLE    (~(RTE_DELIVS | RTE_REMOTE_IRR) & 0xFF0000000001FFFFull)

struct ioapic {
    struct vm *vm;
    pthread_mutex_t lock;
    uint32_t regsel;
    uint32_t id;               /* bits 24-27 of register 0 */
    uint32_t irr;              /* input levels, one bit per pin */
    uint64_t rte[IOAPIC_PINS];
};

/* Sends pin's interrupt to the local APICs. Level pins get remote IRR. */
static void ioapic_service(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->rte[pin];
    bool level = e & RTE_LEVEL;
    if (e & RTE_MASKED)
        return;
    if (level) {
        if (e & RTE_REMOTE_IRR)
            return; /* waits for the EOI */
        io->rte[pin] |= RTE_REMOTE_IRR;
    }
    apic_deliver(io->vm, RTE_DEST(e), e & RTE_LOGICAL, (uint8_t)RTE_DELMODE(e),
                 (uint8_t)(e & RTE_VECTOR), level);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, int level)
{
    if (!io || pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin;
    pthread_mutex_lock(&io->lock);
    bool was = io->irr & bit;
    if (level) {
        io->irr |= bit;
        if ((io->rte[pin] & RTE_LEVEL) || !was)
            ioapic_service(io, pin);
    } else {
        io->irr &= ~bit;
    }
    pthread_mutex_unlock(&io->lock);
}

void ioapic_eoi(struct vm *vm, uint8_t vector)
{
    struct ioapic *io = vm->devices ? vm->devices->ioapic : NULL;
    if (!io)
        return;
    pthread_mutex_lock(&io->lock);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->rte[pin];
        if ((e & RTE_VECTOR) != vector || !(e & RTE_LEVEL) || !(e & RTE_REMOTE_IRR))
            continue;
        io->rte[pin] &= ~RTE_REMOTE_IRR;
        if (io->irr & (1u << pin))
            ioapic_service(io, pin); /* still asserted: deliver again */
    }
    pthread_mutex_unlock(&io->lock);
}

static uint32_t ioapic_read_reg(struct ioapic *io)
{
    uint32_t index = io->regsel;
    switch (index) {
    case 0x00: return io->id;
    case 0x01: return 0x11 | ((IOAPIC_PINS - 1) << 16);
    case 0x02: return io->id; /* arbitration ID */
    }
    if (index >= 0x10 && index < 0x10 + 2 * IOAPIC_PINS) {
        uint64_t e = io->rte[(index - 0x10) / 2];
        return (index & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;
}

static void ioapic_write_reg(struct ioapic *io, uint32_t value)
{
    uint32_t index = io->regsel;
    if (index == 0x00) {
        io->id = value & 0x0F000000;
        return;
    }
    if (index < 0x10 || index >= 0x10 + 2 * IOAPIC_PINS)
        return; /* version and arbitration are read-only */
    unsigned pin = (index - 0x10) / 2;
    uint64_t e = io->rte[pin];
    if (index & 1)
        e = (e & 0xFFFFFFFFull) | (uint64_t)value << 32;
    else
        e = (e & 0xFFFFFFFF00000000ull) | value;
    e = (e & RTE_WRITABLE) | (io->rte[pin] & RTE_REMOTE_IRR);
    if (!(e & RTE_LEVEL))
        e &= ~RTE_REMOTE_IRR; /* meaningless for edge pins */
    io->rte[pin] = e;
    /* An asserted level line that is now unmasked delivers. */
    if ((e & RTE_LEVEL) && !(e & RTE_MASKED) && (io->irr & (1u << pin)))
        ioapic_service(io, pin);
}

static uint64_t ioapic_bus_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ioapic *io = opaque;
    uint64_t v = 0;
    pthread_mutex_lock(&io->lock);
    if (offset < IOREGSEL + 4)
        v = io->regsel >> (8 * offset);
    else if (offset >= IOWIN && offset < IOWIN + 4)
        v = ioapic_read_reg(io) >> (8 * (offset - IOWIN));
    pthread_mutex_unlock(&io->lock);
    return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static void ioapic_bus_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct ioapic *io = opaque;
    pthread_mutex_lock(&io->lock);
    if (offset == IOREGSEL) {
        io->regsel = (uint32_t)value & 0xFF;
    } else if (offset == IOWIN && size == 4) {
        ioapic_write_reg(io, (uint32_t)value);
    } else {
        log_debug("ioapic: ignored %u-byte write at offset 0x%llx", size,
                  (unsigned long long)offset);
    }
    pthread_mutex_unlock(&io->lock);
}

static const struct bus_ops ioapic_ops = {.read = ioapic_bus_read, .write = ioapic_bus_write};

struct ioapic *ioapic_create(struct vm *vm)
{
    struct ioapic *io = calloc(1, sizeof(*io));
    if (!io) {
        err_set(-ENOMEM, "ioapic: out of memory");
        return NULL;
    }
    io->vm = vm;
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        io->rte[i] = RTE_MASKED;
    pthread_mutex_init(&io->lock, NULL);
    if (hw_register(&vm->mmio, IOAPIC_ADDR, IOAPIC_SIZE, &ioapic_ops, io, "ioapic") < 0) {
        pthread_mutex_destroy(&io->lock);
        free(io);
        return NULL;
    }
    return io;
}

void ioapic_destroy(struct ioapic *io)
{
    if (!io)
        return;
    pthread_mutex_destroy(&io->lock);
    free(io);
}
