/* COM1 output by polling, and a printf with the handful of formats the
 * guests use: %d %u %x %s %c %p and %%, with l/ll/z sizes, a width and
 * zero padding. */
#include "rt.h"

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

void serial_init(void)
{
    outb(PORT_COM1 + UART_IER, 0x00);
    outb(PORT_COM1 + UART_LCR, 0x80);     /* DLAB: divisor 1 = 115200 */
    outb(PORT_COM1 + 0, 0x01);
    outb(PORT_COM1 + 1, 0x00);
    outb(PORT_COM1 + UART_LCR, 0x03);     /* 8N1 */
    outb(PORT_COM1 + UART_FCR, 0x07);     /* FIFOs on and cleared */
    outb(PORT_COM1 + UART_MCR, 0x03);     /* DTR, RTS */
}

static void serial_putc(char c)
{
    /* Bounded: a UART that never drains must not hang the guest. */
    for (int i = 0; i < 100000 && !(inb(PORT_COM1 + UART_LSR) & LSR_THRE); i++)
        pause();
    outb(PORT_COM1 + UART_THR, (uint8_t)c);
}

static volatile int lock_owner = -1;
static int lock_depth;

void rt_lock(void)
{
    int me = (int)lapic_id();
    if (lock_owner == me) {
        lock_depth++;
        return;
    }
    for (;;) {
        int expected = -1;
        if (__atomic_compare_exchange_n(&lock_owner, &expected, me, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            break;
        pause();
    }
    lock_depth = 1;
}

void rt_unlock(void)
{
    if (--lock_depth == 0)
        __atomic_store_n(&lock_owner, -1, __ATOMIC_RELEASE);
}

static void put_uint(uint64_t v, unsigned base, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (width-- > n)
        serial_putc(pad);
    while (n)
        serial_putc(buf[--n]);
}

void rt_vprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0')
            pad = '0';
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0) {
                serial_putc('-');
                v = -v;
            }
            put_uint((uint64_t)v, 10, width, pad);
            break;
        }
        case 'u':
            put_uint(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad);
            break;
        case 'x':
            put_uint(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad);
            break;
        case 'p':
            serial_putc('0');
            serial_putc('x');
            put_uint((uint64_t)(uintptr_t)va_arg(ap, void *), 16, width, pad);
            break;
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            for (s = s ? s : "(null)"; *s; s++)
                serial_putc(*s);
            break;
        }
        case '%':
            serial_putc('%');
            break;
        default:
            serial_putc('?');
            break;
        }
    }
}

void rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_lock();
    rt_vprintf(fmt, ap);
    rt_unlock();
    va_end(ap);
}
