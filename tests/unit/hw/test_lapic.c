/* Local APIC: reset state, timer one-shot/periodic/divider (driven with
 * explicit times), TPR/PPR/ISR priorities, EOI order, IPIs between two
 * APICs (fixed, self, all-but-self, INIT, SIPI), errors, software disable,
 * ExtINT from the PIC, and the state page round trip. */
#include "hw_test.h"

#define T 1000000000ull

static struct test_vm *t;

static struct lapic *cpu(int i)
{
    return t->vcpus[i].lapic;
}

static uint32_t rd(int i, uint32_t off)
{
    return lapic_mmio_read_at(cpu(i), off, T);
}

static void wr(int i, uint32_t off, uint32_t v)
{
    lapic_mmio_write_at(cpu(i), off, v, T);
}

static void test_reset_state(void)
{
    CHECK_EQ(rd(0, 0x20), 0);
    CHECK_EQ(rd(1, 0x20), 1u << 24);
    CHECK_EQ(rd(0, 0x30), 0x00050014);
    CHECK_EQ(rd(0, 0xF0), 0xFF);
    CHECK_EQ(rd(0, 0xE0), 0xFFFFFFFF);
    CHECK_EQ(rd(0, 0x320), 1u << 16);
    CHECK_EQ(rd(0, 0x350), 0x700);      /* BSP: virtual wire */
    CHECK_EQ(rd(1, 0x350), 1u << 16);
    CHECK_EQ(lapic_poll_timer(cpu(0), T), UINT64_MAX);
    /* software-disabled: fixed interrupts are dropped, LVTs stay masked */
    apic_deliver(&t->vm, 0, false, 0, 0x40, false);
    CHECK(!lapic_has_interrupt(cpu(0)));
    wr(0, 0x370, 0x33);
    CHECK_EQ(rd(0, 0x370), 0x10033);
    for (int i = 0; i < 2; i++)
        wr(i, 0xF0, 0x1FF);
    wr(0, 0x370, 0x33);
    CHECK_EQ(rd(0, 0x370), 0x33);
    wr(0, 0x370, 1u << 16);
}

static void test_timer(void)
{
    struct lapic *l = cpu(0);
    /* one-shot, divide by 1: 1000 ticks = 1000 ns at 1 GHz */
    wr(0, 0x3E0, 0xB);
    wr(0, 0x320, 0x40);
    lapic_mmio_write_at(l, 0x380, 1000, T);
    CHECK_EQ(lapic_mmio_read_at(l, 0x390, T + 400), 600);
    CHECK_EQ(lapic_poll_timer(l, T + 999), T + 1000);
    CHECK(!lapic_has_interrupt(l));
    CHECK_EQ(lapic_poll_timer(l, T + 1000), UINT64_MAX);
    CHECK_EQ(lapic_mmio_read_at(l, 0x390, T + 1001), 0);
    CHECK_EQ(lapic_take_interrupt(l), 0x40);
    lapic_mmio_write_at(l, 0xB0, 0, T);
    CHECK_EQ(lapic_poll_timer(l, T + 5000), UINT64_MAX); /* fired once only */
    CHECK(!lapic_has_interrupt(l));

    /* periodic, divide by 2: 500 ticks = 1000 ns */
    wr(0, 0x3E0, 0x0);
    wr(0, 0x320, 0x20041);
    lapic_mmio_write_at(l, 0x380, 500, T);
    CHECK_EQ(lapic_mmio_read_at(l, 0x390, T + 250), 375);
    CHECK_EQ(lapic_poll_timer(l, T + 1500), T + 2000);
    CHECK_EQ(lapic_take_interrupt(l), 0x41);
    lapic_mmio_write_at(l, 0xB0, 0, T);
    CHECK_EQ(lapic_mmio_read_at(l, 0x390, T + 2250), 375); /* not polled: still counts */
    CHECK_EQ(lapic_poll_timer(l, T + 5500), T + 6000);  /* missed periods coalesce */
    CHECK_EQ(lapic_take_interrupt(l), 0x41);
    CHECK_EQ(lapic_take_interrupt(l), -1);
    lapic_mmio_write_at(l, 0xB0, 0, T);
    /* masked: counts, no interrupt */
    lapic_mmio_write_at(l, 0x320, 0x30041, T);
    CHECK_EQ(lapic_poll_timer(l, T + 6000), T + 7000);
    CHECK(!lapic_has_interrupt(l));
    /* TMICT 0 stops it */
    lapic_mmio_write_at(l, 0x380, 0, T + 6000);
    CHECK_EQ(lapic_poll_timer(l, T + 9000), UINT64_MAX);

    /* the divide configuration */
    static const struct { uint32_t tdcr, div; } divs[] = {
        {0x0, 2}, {0x1, 4}, {0x2, 8}, {0x3, 16}, {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1},
    };
    wr(0, 0x320, 0x40);
    for (size_t i = 0; i < sizeof(divs) / sizeof(divs[0]); i++) {
        wr(0, 0x3E0, divs[i].tdcr);
        lapic_mmio_write_at(l, 0x380, 1000, T);
        CHECK_EQ(lapic_mmio_read_at(l, 0x390, T + 10 * divs[i].div), 990);
        CHECK_EQ(lapic_poll_timer(l, T), T + 1000ull * divs[i].div);
    }
    lapic_mmio_write_at(l, 0x380, 0, T);
}

static void test_priorities(void)
{
    struct lapic *l = cpu(0);
    apic_deliver(&t->vm, 0, false, 0, 0x41, false);
    wr(0, 0x80, 0x50);
    CHECK_EQ(rd(0, 0xA0), 0x50);
    CHECK(!lapic_has_interrupt(l)); /* class 4 <= TPR class 5 */
    CHECK_EQ(rd(0, 0x200 + 0x20), 1u << 1); /* IRR bit 0x41 */
    wr(0, 0x80, 0x30);
    CHECK(lapic_has_interrupt(l));
    CHECK_EQ(lapic_take_interrupt(l), 0x41);
    CHECK_EQ(rd(0, 0x100 + 0x20), 1u << 1); /* ISR */
    CHECK_EQ(rd(0, 0xA0), 0x40);            /* PPR from ISR */
    apic_deliver(&t->vm, 0, false, 0, 0x45, false);
    CHECK(!lapic_has_interrupt(l));         /* same class waits */
    apic_deliver(&t->vm, 0, false, 0, 0x61, true);
    CHECK_EQ(lapic_take_interrupt(l), 0x61);   /* higher class nests */
    CHECK_EQ(rd(0, 0x180 + 0x30), 1u << 1);    /* TMR: level */
    wr(0, 0xB0, 0);                            /* EOI ends 0x61 first */
    CHECK_EQ(rd(0, 0x100 + 0x30), 0);
    CHECK_EQ(rd(0, 0x100 + 0x20), 1u << 1);
    wr(0, 0xB0, 0);
    CHECK_EQ(lapic_take_interrupt(l), 0x45);
    wr(0, 0xB0, 0);
    wr(0, 0x80, 0);
    CHECK_EQ(rd(0, 0xA0), 0);
    CHECK_EQ(lapic_take_interrupt(l), -1);
}

static void test_ipis(void)
{
    int kicks = t->kicks[1];
    wr(0, 0x310, 1u << 24);
    wr(0, 0x300, 0x4051); /* fixed, assert, physical */
    CHECK_EQ(t->kicks[1], kicks + 1);
    CHECK_EQ(rd(0, 0x300) & (1u << 12), 0); /* delivery status idle */
    CHECK(!lapic_has_interrupt(cpu(0)));
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x51);
    wr(1, 0xB0, 0);
    wr(1, 0x300, (1u << 18) | 0x52); /* self */
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x52);
    wr(1, 0xB0, 0);
    wr(1, 0x300, (3u << 18) | 0x53); /* all but self */
    CHECK_EQ(lapic_take_interrupt(cpu(0)), 0x53);
    CHECK_EQ(lapic_take_interrupt(cpu(1)), -1);
    wr(0, 0xB0, 0);
    wr(0, 0x300, (2u << 18) | 0x54); /* all including self */
    CHECK_EQ(lapic_take_interrupt(cpu(0)), 0x54);
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x54);
    wr(0, 0xB0, 0);
    wr(1, 0xB0, 0);
    /* logical, flat: LDR bit 1 is CPU 1 */
    wr(1, 0xD0, 0x02000000);
    wr(0, 0x310, 0x02000000);
    wr(0, 0x300, 0x4855);
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x55);
    wr(1, 0xB0, 0);
    /* cluster model: cluster 1, member bit 0 */
    wr(1, 0xE0, 0x0FFFFFFF);
    wr(1, 0xD0, 0x11000000);
    CHECK_EQ(rd(1, 0xE0), 0x0FFFFFFF);
    wr(0, 0x310, 0x11000000);
    wr(0, 0x300, 0x4856);
    CHECK_EQ(lapic_take_interrupt(cpu(1)), 0x56);
    wr(1, 0xB0, 0);
    wr(0, 0x310, 0x21000000); /* another cluster: nobody */
    wr(0, 0x300, 0x4857);
    CHECK(!lapic_has_interrupt(cpu(1)));
    wr(1, 0xE0, 0xFFFFFFFF);

    /* INIT, INIT de-assert (ignored), SIPI */
    wr(1, 0x80, 0x20);
    wr(0, 0x310, 1u << 24);
    wr(0, 0x300, 0xC500);
    CHECK(lapic_take_init(cpu(1)));
    CHECK(!lapic_take_init(cpu(1)));
    CHECK_EQ(rd(1, 0x80), 0);           /* INIT reset the APIC... */
    CHECK_EQ(rd(1, 0x20), 1u << 24);    /* ...but not its ID */
    wr(0, 0x300, 0x8500);
    CHECK(!lapic_take_init(cpu(1)));
    CHECK_EQ(lapic_take_sipi(cpu(1)), -1);
    wr(0, 0x300, 0x4608);
    CHECK_EQ(lapic_take_sipi(cpu(1)), 0x08);
    CHECK_EQ(lapic_take_sipi(cpu(1)), -1);
    wr(1, 0xF0, 0x1FF);

    /* an illegal vector is not sent; ESR shows it after a write */
    wr(0, 0x300, 0x4005);
    CHECK(!lapic_has_interrupt(cpu(1)));
    wr(0, 0x280, 0);
    CHECK_EQ(rd(0, 0x280), 0x20);
    wr(0, 0x280, 0);
    CHECK_EQ(rd(0, 0x280), 0);

    /* software disable masks the LVTs and drops fixed interrupts */
    wr(1, 0x320, 0x40);
    wr(1, 0xF0, 0xFF);
    CHECK_EQ(rd(1, 0x320), 0x10040);
    wr(0, 0x300, 0x4058);
    CHECK(!lapic_has_interrupt(cpu(1)));
    wr(1, 0xF0, 0x1FF);
}

static void test_extint(void)
{
    struct pic *p = t->vm.devices->pic;
    outb(t, 0x20, 0x11); outb(t, 0x21, 0x20); outb(t, 0x21, 0x04); outb(t, 0x21, 0x01);
    outb(t, 0x21, 0x00);
    int kicks = t->kicks[0];
    vm_irq_pulse(&t->vm, 1);
    CHECK_EQ(t->kicks[0], kicks + 1);
    CHECK(pic_has_interrupt(p));
    CHECK(lapic_has_interrupt(cpu(0)));
    CHECK(!lapic_has_interrupt(cpu(1))); /* its LINT0 is masked */
    CHECK_EQ(lapic_take_interrupt(cpu(0)), 0x21);
    CHECK_EQ(rd(0, 0x100 + 0x20), 0);    /* the PIC's ISR, not the APIC's */
    outb(t, 0x20, 0x20);
    /* LINT0 masked: the PIC's output does not reach the CPU */
    wr(0, 0x350, 0x10700);
    vm_irq_pulse(&t->vm, 1);
    CHECK(pic_has_interrupt(p));
    CHECK(!lapic_has_interrupt(cpu(0)));
    wr(0, 0x350, 0x700);
    CHECK_EQ(lapic_take_interrupt(cpu(0)), 0x21);
    outb(t, 0x20, 0x20);
}

static void test_state(void)
{
    static uint8_t page[CPU_LAPIC_REGS_SIZE];
    wr(0, 0x80, 0x20);
    wr(0, 0xD0, 0x04000000);
    wr(0, 0x3E0, 0xB);
    wr(0, 0x320, 0x20047);
    lapic_mmio_write(cpu(0), 0x380, 1000000000); /* one second: still running below */
    apic_deliver(&t->vm, 0, false, 0, 0x90, false);
    lapic_get_state(cpu(0), page);
    uint32_t v;
    memcpy(&v, &page[0x80], 4);  CHECK_EQ(v, 0x20);
    memcpy(&v, &page[0xD0], 4);  CHECK_EQ(v, 0x04000000);
    memcpy(&v, &page[0x380], 4); CHECK_EQ(v, 1000000000);
    memcpy(&v, &page[0x390], 4); CHECK(v > 0 && v <= 1000000000);
    memcpy(&v, &page[0x200 + 0x40], 4); CHECK_EQ(v, 1u << 16); /* IRR 0x90 */
    /* restore onto a fresh APIC: same registers, timer running again */
    struct vcpu extra = {.vm = &t->vm, .index = 0};
    struct lapic *l = lapic_create(&extra);
    lapic_set_state(l, page);
    CHECK_EQ(lapic_mmio_read(l, 0x80), 0x20);
    CHECK_EQ(lapic_mmio_read(l, 0xD0), 0x04000000);
    CHECK_EQ(lapic_mmio_read(l, 0x320), 0x20047);
    uint32_t cc = lapic_mmio_read(l, 0x390);
    CHECK(cc > 0 && cc <= 1000000000);
    CHECK(lapic_poll_timer(l, vm_clock_ns()) != UINT64_MAX);
    CHECK_EQ(lapic_take_interrupt(l), 0x90);
    lapic_destroy(l);
    lapic_mmio_write(cpu(0), 0x380, 0);
}

int main(void)
{
    t = test_vm_new(2, true);
    t->route = true;
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    test_reset_state();
    test_timer();
    test_priorities();
    test_ipis();
    test_extint();
    test_state();
    test_vm_free(t);
    TEST_MAIN_END();
}
