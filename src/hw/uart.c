/* The 8250/16550A UART (COM1).
 *
 * A 16550A as Linux's 8250 driver expects to find it: the scratch and IER
 * probes, the loopback test (MCR bit 4 wires OUT2/OUT1/RTS/DTR to
 * DCD/RI/CTS/DSR and THR to RBR), FIFO enable reported in IIR bits 6-7,
 * and the "THRE re-asserts when IER.THRI is set" behaviour the driver
 * checks at startup. Transmission takes no time: a byte written to THR goes
 * to the output fd at once and THR is empty again, so THRE is always set.
 *
 * The interrupt output is a level: vm_irq_line() is called whenever the
 * "some interrupt pending" condition (IIR bit 0 clear) changes.
 *
 * Locking: vCPU threads (register access) and the I/O loop (uart_receive)
 * both reach the state; u->lock protects all of it. The IRQ line is set
 * under the lock so that raise/lower calls reach the interrupt controller
 * in the order the state changed. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

#define UART_FIFO_SIZE 16

/* Register offsets */
enum { UART_RBR_THR, UART_IER, UART_IIR_FCR, UART_LCR, UART_MCR, UART_LSR, UART_MSR, UART_SCR };

#define IER_RDI   0x01  /* received data available */
#define IER_THRI  0x02  /* THR empty */
#define IER_RLSI  0x04  /* receiver line status */
#define IER_MSI   0x08  /* modem status */

#define IIR_NO_INT   0x01
#define IIR_MSI      0x00
#define IIR_THRI     0x02
#define IIR_RDI      0x04
#define IIR_RLSI     0x06
#define IIR_TIMEOUT  0x0C
#define IIR_FIFO_ON  0xC0

#define FCR_ENABLE   0x01
#define FCR_CLR_RCVR 0x02
#define FCR_CLR_XMIT 0x04

#define LCR_DLAB  0x80

#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10

#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_PE    0x04
#define LSR_FE    0x08
#define LSR_BI    0x10
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define LSR_ERRS  (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

struct uart {
    struct vm *vm;
    unsigned irq;
    int out_fd;
    pthread_mutex_t lock;

    uint8_t ier, lcr, mcr, lsr_errs, msr, scr, fcr;
    uint16_t divisor;
    bool thr_ipending;      /* THRE interrupt armed, not yet acknowledged */
    bool irq_level;         /* what we last told the interrupt controller */

    uint8_t rx[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;

    bool host_waiting;      /* uart_receive() refused bytes since the last read */
    void (*rx_notify)(void *opaque);
    void *rx_notify_opaque;
};

static unsigned uart_rx_capacity(const struct uart *u)
{
    return (u->fcr & FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

/* The receive trigger level programmed in FCR bits 6-7. */
static unsigned uart_rx_trigger(const struct uart *u)
{
    static const unsigned levels[4] = {1, 4, 8, 14};
    return (u->fcr & FCR_ENABLE) ? levels[u->fcr >> 6] : 1;
}

static uint8_t uart_lsr(const struct uart *u)
{
    uint8_t lsr = LSR_THRE | LSR_TEMT | u->lsr_errs;
    if (u->rx_count)
        lsr |= LSR_DR;
    return lsr;
}

/* IIR's interrupt identification, in the 16550A's priority order. */
static uint8_t uart_iir_id(const struct uart *u)
{
    if ((u->ier & IER_RLSI) && u->lsr_errs)
        return IIR_RLSI;
    if ((u->ier & IER_RDI) && u->rx_count)
        return u->rx_count >= uart_rx_trigger(u) ? IIR_RDI : IIR_TIMEOUT;
    if ((u->ier & IER_THRI) && u->thr_ipending)
        return IIR_THRI;
    if ((u->ier & IER_MSI) && (u->msr & 0x0F))
        return IIR_MSI;
    return IIR_NO_INT;
}

static void uart_update_irq(struct uart *u)
{
    bool level = uart_iir_id(u) != IIR_NO_INT;
    if (level != u->irq_level) {
        u->irq_level = level;
        vm_irq_line(u->vm, u->irq, level);
    }
}

/* The modem status inputs: in loopback they follow MCR, otherwise a
 * terminal that is always there (DCD, DSR, CTS asserted). */
static uint8_t uart_msr_lines(const struct uart *u)
{
    if (!(u->mcr & MCR_LOOP))
        return MSR_DCD | MSR_DSR | MSR_CTS;
    uint8_t m = 0;
    if (u->mcr & MCR_DTR)  m |= MSR_DSR;
    if (u->mcr & MCR_RTS)  m |= MSR_CTS;
    if (u->mcr & MCR_OUT1) m |= MSR_RI;
    if (u->mcr & MCR_OUT2) m |= MSR_DCD;
    return m;
}

/* Sets the MSR line bits and their delta bits from a change of inputs. */
static void uart_set_msr_lines(struct uart *u, uint8_t lines)
{
    uint8_t old = u->msr & 0xF0, delta = 0;
    if ((old ^ lines) & MSR_CTS) delta |= MSR_DCTS;
    if ((old ^ lines) & MSR_DSR) delta |= MSR_DDSR;
    if ((old ^ lines) & MSR_DCD) delta |= MSR_DDCD;
    if ((old & MSR_RI) && !(lines & MSR_RI)) delta |= MSR_TERI; /* trailing edge */
    u->msr = lines | (u->msr & 0x0F) | delta;
}

static bool uart_rx_push(struct uart *u, uint8_t byte)
{
    if (u->rx_count >= uart_rx_capacity(u)) {
        u->lsr_errs |= LSR_OE;
        return false;
    }
    u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
    u->rx_count++;
    return true;
}

static void uart_rx_clear(struct uart *u)
{
    u->rx_head = u->rx_count = 0;
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
    if (u->mcr & MCR_LOOP) {
        uart_rx_push(u, byte);
    } else if (u->out_fd >= 0) {
        ssize_t n;
        do {
            n = write(u->out_fd, &byte, 1);
        } while (n < 0 && errno == EINTR);
        /* A full or closed console loses output; the guest must not stall. */
    }
    u->thr_ipending = true; /* THR is empty again at once */
}

static uint8_t uart_read_reg(struct uart *u, unsigned reg)
{
    uint8_t v = 0;
    switch (reg) {
    case UART_RBR_THR:
        if (u->lcr & LCR_DLAB)
            return (uint8_t)u->divisor;
        if (u->rx_count) {
            v = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
            u->rx_count--;
        }
        break;
    case UART_IER:
        return (u->lcr & LCR_DLAB) ? (uint8_t)(u->divisor >> 8) : u->ier;
    case UART_IIR_FCR:
        v = uart_iir_id(u);
        /* Reading IIR acknowledges a THRE interrupt it reports. */
        if (v == IIR_THRI)
            u->thr_ipending = false;
        if (u->fcr & FCR_ENABLE)
            v |= IIR_FIFO_ON;
        break;
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        v = uart_lsr(u);
        u->lsr_errs = 0;
        break;
    case UART_MSR:
        v = u->msr;
        u->msr &= 0xF0;
        break;
    case UART_SCR:
        return u->scr;
    }
    return v;
}

static void uart_write_reg(struct uart *u, unsigned reg, uint8_t v)
{
    switch (reg) {
    case UART_RBR_THR:
        if (u->lcr & LCR_DLAB)
            u->divisor = (u->divisor & 0xFF00) | v;
        else
            uart_transmit(u, v);
        break;
    case UART_IER:
        if (u->lcr & LCR_DLAB) {
            u->divisor = (u->divisor & 0x00FF) | (uint16_t)(v << 8);
        } else {
            /* Enabling THRI while THR is empty raises THRE again. */
            if ((v & IER_THRI) && !(u->ier & IER_THRI))
                u->thr_ipending = true;
            u->ier = v & 0x0F;
        }
        break;
    case UART_IIR_FCR:
        if ((v ^ u->fcr) & FCR_ENABLE) {
            uart_rx_clear(u); /* switching FIFO mode empties both FIFOs */
        }
        if (v & FCR_CLR_RCVR)
            uart_rx_clear(u);
        u->fcr = (v & FCR_ENABLE) ? (v & 0xC1) : 0;
        break;
    case UART_LCR:
        u->lcr = v;
        break;
    case UART_MCR:
        u->mcr = v & 0x1F;
        uart_set_msr_lines(u, uart_msr_lines(u));
        break;
    case UART_LSR:
        break; /* read-only (factory test on real parts) */
    case UART_MSR:
        break;
    case UART_SCR:
        u->scr = v;
        break;
    }
}

static uint64_t uart_bus_read(void *opaque, uint64_t offset, unsigned size)
{
    struct uart *u = opaque;
    uint64_t v = 0;
    void (*notify)(void *) = NULL;
    void *notify_opaque = NULL;
    pthread_mutex_lock(&u->lock);
    unsigned before = u->rx_count;
    for (unsigned i = 0; i < size && offset + i < 8; i++)
        v |= (uint64_t)uart_read_reg(u, (unsigned)(offset + i)) << (8 * i);
    uart_update_irq(u);
    if (u->rx_count < before && u->host_waiting && u->rx_notify) {
        u->host_waiting = false;
        notify = u->rx_notify;
        notify_opaque = u->rx_notify_opaque;
    }
    pthread_mutex_unlock(&u->lock);
    if (notify)
        notify(notify_opaque);
    return v;
}

static void uart_bus_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct uart *u = opaque;
    pthread_mutex_lock(&u->lock);
    for (unsigned i = 0; i < size && offset + i < 8; i++)
        uart_write_reg(u, (unsigned)(offset + i), (uint8_t)(value >> (8 * i)));
    uart_update_irq(u);
    pthread_mutex_unlock(&u->lock);
}

static const struct bus_ops uart_ops = {.read = uart_bus_read, .write = uart_bus_write};

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
    size_t taken = 0;
    pthread_mutex_lock(&u->lock);
    /* Never overrun from the host side: what does not fit is offered again. */
    while (taken < len && u->rx_count < uart_rx_capacity(u) && !(u->mcr & MCR_LOOP))
        uart_rx_push(u, buf[taken++]);
    if (taken < len)
        u->host_waiting = true;
    uart_update_irq(u);
    pthread_mutex_unlock(&u->lock);
    return taken;
}

void uart_set_rx_notify(struct uart *u, void (*fn)(void *opaque), void *opaque)
{
    pthread_mutex_lock(&u->lock);
    u->rx_notify = fn;
    u->rx_notify_opaque = opaque;
    pthread_mutex_unlock(&u->lock);
}

struct uart *uart_create(struct vm *vm, uint16_t port, unsigned irq, int out_fd)
{
    struct uart *u = calloc(1, sizeof(*u));
    if (!u) {
        err_set(-ENOMEM, "uart at port 0x%x: out of memory", port);
        return NULL;
    }
    u->vm = vm;
    u->irq = irq;
    u->out_fd = out_fd;
    u->divisor = 12; /* 9600 baud, the firmware default */
    u->thr_ipending = false;
    u->msr = uart_msr_lines(u);
    pthread_mutex_init(&u->lock, NULL);
    if (hw_register(&vm->pio, port, 8, &uart_ops, u, "uart") < 0) {
        pthread_mutex_destroy(&u->lock);
        free(u);
        return NULL;
    }
    return u;
}

void uart_destroy(struct uart *u)
{
    if (!u)
        return;
    pthread_mutex_destroy(&u->lock);
    free(u);
}
