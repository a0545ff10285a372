/* 8250/16550A: the sequences Linux's 8250 driver runs (probe, loopback
 * test, THRE test), FIFO behaviour, interrupt priorities and the IRQ level. */
#include <fcntl.h>
#include <unistd.h>

#include "hw_test.h"

#define COM1 PORT_COM1
enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };

static struct test_vm *t;
static int pipefd[2];

static size_t drain_output(char *buf, size_t cap)
{
    ssize_t n = read(pipefd[0], buf, cap);
    return n < 0 ? 0 : (size_t)n;
}

static void test_probe(void)
{
    /* autoconfig: IER holds exactly 4 bits (no XScale UUE bit) */
    outb(t, COM1 + IER, 0);
    CHECK_EQ(inb(t, COM1 + IER) & 0x0F, 0);
    outb(t, COM1 + IER, 0x0F);
    CHECK_EQ(inb(t, COM1 + IER), 0x0F);
    outb(t, COM1 + IER, 0x40 | 0x0F);
    CHECK_EQ(inb(t, COM1 + IER), 0x0F);
    outb(t, COM1 + IER, 0);
    /* scratch register */
    outb(t, COM1 + SCR, 0xA5);
    CHECK_EQ(inb(t, COM1 + SCR), 0xA5);
    /* loopback test: RTS|OUT2 -> CTS|DCD */
    outb(t, COM1 + MCR, 0x10 | 0x0A);
    CHECK_EQ(inb(t, COM1 + MSR) & 0xF0, 0x90);
    outb(t, COM1 + MCR, 0x10 | 0x05); /* DTR|OUT1 -> DSR|RI */
    CHECK_EQ(inb(t, COM1 + MSR) & 0xF0, 0x60);
    outb(t, COM1 + MCR, 0);
    CHECK_EQ(inb(t, COM1 + MSR) & 0xF0, 0xB0); /* DCD DSR CTS from the "terminal" */
    /* FIFO enable shows in IIR bits 6-7: a 16550A */
    outb(t, COM1 + IIR, 0x01);
    CHECK_EQ(inb(t, COM1 + IIR) & 0xC0, 0xC0);
    outb(t, COM1 + IIR, 0x00);
    CHECK_EQ(inb(t, COM1 + IIR), 0x01);
    /* divisor latch */
    outb(t, COM1 + LCR, 0x80);
    outb(t, COM1 + RBR, 0x01);
    outb(t, COM1 + IER, 0x02);
    CHECK_EQ(inb(t, COM1 + RBR), 0x01);
    CHECK_EQ(inb(t, COM1 + IER), 0x02);
    outb(t, COM1 + LCR, 0x03);
    CHECK_EQ(inb(t, COM1 + IER), 0); /* the real IER is untouched */
    CHECK_EQ(inb(t, COM1 + LCR), 0x03);
    CHECK_EQ(t->level[IRQ_COM1], 0);
}

static void test_transmit_and_thre(void)
{
    char buf[16];
    outb(t, COM1 + IIR, 0x07); /* FIFO on, both cleared */
    outb(t, COM1 + RBR, 'h');
    outb(t, COM1 + RBR, 'i');
    CHECK_EQ(drain_output(buf, sizeof(buf)), 2);
    CHECK(buf[0] == 'h' && buf[1] == 'i');
    CHECK_EQ(inb(t, COM1 + LSR), 0x60); /* THRE | TEMT */

    /* Linux's startup THRE test: enabling THRI raises THRE each time. */
    int rises = t->rises[IRQ_COM1];
    outb(t, COM1 + IER, 0x02);
    CHECK_EQ(t->level[IRQ_COM1], 1);
    CHECK_EQ(t->rises[IRQ_COM1], rises + 1);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC2);
    CHECK_EQ(t->level[IRQ_COM1], 0); /* reading IIR acknowledged it */
    CHECK_EQ(inb(t, COM1 + IIR), 0xC1);
    outb(t, COM1 + IER, 0);
    outb(t, COM1 + IER, 0x02);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC2);
    /* a byte sent empties THR again: THRE again */
    outb(t, COM1 + RBR, '!');
    CHECK_EQ(t->level[IRQ_COM1], 1);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC2);
    CHECK_EQ(t->level[IRQ_COM1], 0);
    outb(t, COM1 + IER, 0);
    drain_output(buf, sizeof(buf));
}

static int notified;

static void count_notify(void *opaque)
{
    ++*(int *)opaque;
}

static void test_receive(void)
{
    outb(t, COM1 + IIR, 0x07); /* FIFO, trigger level 1 */
    outb(t, COM1 + IER, 0x01);
    CHECK_EQ(t->level[IRQ_COM1], 0);
    CHECK_EQ(uart_receive(t->vm.devices->com1, (const uint8_t *)"hello", 5), 5);
    CHECK_EQ(t->level[IRQ_COM1], 1);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC4);
    CHECK_EQ(inb(t, COM1 + LSR) & 0x01, 1);
    char got[6] = {0};
    for (int i = 0; i < 5; i++)
        got[i] = (char)inb(t, COM1 + RBR);
    CHECK(memcmp(got, "hello", 5) == 0);
    CHECK_EQ(inb(t, COM1 + LSR) & 0x01, 0);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC1);
    CHECK_EQ(t->level[IRQ_COM1], 0);

    /* the FIFO holds 16; the rest is refused, not lost */
    uint8_t many[20];
    for (int i = 0; i < 20; i++)
        many[i] = (uint8_t)('a' + i);
    uart_set_rx_notify(t->vm.devices->com1, count_notify, &notified);
    CHECK_EQ(uart_receive(t->vm.devices->com1, many, 20), 16);
    CHECK_EQ(uart_receive(t->vm.devices->com1, many + 16, 4), 0);
    CHECK_EQ(notified, 0);
    (void)inb(t, COM1 + LSR);
    CHECK_EQ(notified, 0);                  /* no room made yet */
    CHECK_EQ(inb(t, COM1 + RBR), 'a');
    CHECK_EQ(notified, 1);                  /* room: offer again */
    CHECK_EQ(uart_receive(t->vm.devices->com1, many + 16, 4), 1);
    CHECK_EQ(inb(t, COM1 + LSR) & 0x02, 0); /* no overrun from the host side */
    for (int i = 1; i < 17; i++)
        CHECK_EQ(inb(t, COM1 + RBR), 'a' + i);
    CHECK_EQ(inb(t, COM1 + LSR) & 0x01, 0);
    CHECK_EQ(notified, 2);                  /* once per refusal, not per byte */
    uart_set_rx_notify(t->vm.devices->com1, NULL, NULL);

    /* trigger level 8: below it the "character timeout" identification */
    outb(t, COM1 + IIR, 0x81);
    CHECK_EQ(uart_receive(t->vm.devices->com1, (const uint8_t *)"abc", 3), 3);
    CHECK_EQ(inb(t, COM1 + IIR), 0xCC);
    CHECK_EQ(uart_receive(t->vm.devices->com1, (const uint8_t *)"defgh", 5), 5);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC4);
    outb(t, COM1 + IIR, 0x83); /* clear the receive FIFO */
    CHECK_EQ(inb(t, COM1 + LSR) & 0x01, 0);
    CHECK_EQ(t->level[IRQ_COM1], 0);

    /* FIFO off: a single holding register */
    outb(t, COM1 + IIR, 0x00);
    CHECK_EQ(uart_receive(t->vm.devices->com1, (const uint8_t *)"xy", 2), 1);
    CHECK_EQ(inb(t, COM1 + IIR), 0x04);
    CHECK_EQ(inb(t, COM1 + RBR), 'x');
    outb(t, COM1 + IER, 0);
}

static void test_priorities_and_loopback(void)
{
    char buf[32];
    outb(t, COM1 + IIR, 0x07);
    outb(t, COM1 + MCR, 0x10); /* loopback: THR -> RBR, nothing leaves */
    outb(t, COM1 + IER, 0x07); /* RDI, THRI, RLSI */
    outb(t, COM1 + RBR, 'L');
    CHECK_EQ(drain_output(buf, sizeof(buf)), 0);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC4); /* data beats THRE */
    CHECK_EQ(inb(t, COM1 + RBR), 'L');
    CHECK_EQ(inb(t, COM1 + IIR), 0xC2); /* then THRE */
    CHECK_EQ(inb(t, COM1 + IIR), 0xC1);
    /* overrun: line status has the highest priority, LSR read clears it */
    for (int i = 0; i < 17; i++)
        outb(t, COM1 + RBR, (uint8_t)i);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC6);
    CHECK_EQ(inb(t, COM1 + LSR) & 0x03, 0x03);
    CHECK_EQ(inb(t, COM1 + LSR) & 0x02, 0);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC4);
    outb(t, COM1 + IIR, 0x03);
    /* host input is not connected in loopback */
    CHECK_EQ(uart_receive(t->vm.devices->com1, (const uint8_t *)"z", 1), 0);
    /* modem status interrupt: DTR toggles DSR in loopback */
    (void)inb(t, COM1 + IIR);
    outb(t, COM1 + IER, 0x08);
    (void)inb(t, COM1 + MSR);
    outb(t, COM1 + MCR, 0x11);
    CHECK_EQ(t->level[IRQ_COM1], 1);
    CHECK_EQ(inb(t, COM1 + IIR), 0xC0);
    CHECK_EQ(inb(t, COM1 + MSR), 0x20 | 0x02); /* DSR, delta DSR */
    CHECK_EQ(inb(t, COM1 + IIR), 0xC1);
    CHECK_EQ(t->level[IRQ_COM1], 0);
    outb(t, COM1 + IER, 0);
    outb(t, COM1 + MCR, 0);
}

int main(void)
{
    CHECK_EQ(pipe2(pipefd, O_NONBLOCK), 0);
    t = test_vm_new(1, false);
    t->vm.devices = calloc(1, sizeof(*t->vm.devices));
    t->vm.devices->com1 = uart_create(&t->vm, PORT_COM1, IRQ_COM1, pipefd[1]);
    CHECK(t->vm.devices->com1 != NULL);
    test_probe();
    test_transmit_and_thre();
    test_receive();
    test_priorities_and_loopback();
    /* a second UART on the same port is refused with a reason */
    CHECK(uart_create(&t->vm, PORT_COM1, IRQ_COM1, -1) == NULL);
    CHECK(strstr(err_get(), "overlaps") != NULL);
    test_vm_free(t);
    close(pipefd[0]);
    close(pipefd[1]);
    TEST_MAIN_END();
}
