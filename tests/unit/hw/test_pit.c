/* 8254 PIT and port 0x61, driven with explicit times: counts in modes
 * 0-5, OUT, latch and read-back, access modes, BCD, the gate of channel 2
 * through port 0x61, and the IRQ 0 edges of channel 0. */
#include "hw_test.h"

#define T 5000000000ull

static struct test_vm *t;
static struct pit *p;

static uint64_t at(uint64_t ticks)
{
    return T + hw_ticks_to_ns(ticks, PIT_HZ);
}

static uint16_t latch_read(unsigned ch, uint64_t now)
{
    pit_io_write(p, 3, (uint8_t)(ch << 6), now);
    uint16_t lo = pit_io_read(p, ch, now + 7777777); /* latched: later reads do not move */
    return (uint16_t)(lo | pit_io_read(p, ch, now + 9999999) << 8);
}

static void program(unsigned ch, uint8_t mode_bits, uint16_t count, uint64_t now)
{
    pit_io_write(p, 3, (uint8_t)(ch << 6 | 0x30 | mode_bits), now);
    pit_io_write(p, ch, (uint8_t)count, now);
    pit_io_write(p, ch, (uint8_t)(count >> 8), now);
}

static void test_mode2_irq0(void)
{
    program(0, 2 << 1, 1193, T);
    CHECK_EQ(latch_read(0, at(0)), 1193);
    CHECK_EQ(latch_read(0, at(100)), 1093);
    CHECK_EQ(latch_read(0, at(1193 + 5)), 1188); /* reloaded */
    CHECK(pit_get_out(p, 0, at(1191)));
    CHECK(!pit_get_out(p, 0, at(1192)));           /* one tick low at count 1 */
    CHECK(pit_get_out(p, 0, at(1193)));
    /* status via read-back: OUT, access mode 3, mode 2 */
    pit_io_write(p, 3, 0xE2, at(10));
    CHECK_EQ(pit_io_read(p, 0, at(10)), 0xB4);
    /* read-back latching both: status first, then the count */
    pit_io_write(p, 3, 0xC2, at(200));
    CHECK_EQ(pit_io_read(p, 0, at(300)), 0xB4);
    CHECK_EQ(pit_io_read(p, 0, at(300)), (1193 - 200) & 0xFF);
    CHECK_EQ(pit_io_read(p, 0, at(300)), (1193 - 200) >> 8);

    /* IRQ 0: one pulse per rising edge of OUT, missed edges coalesced */
    int rises = t->rises[IRQ_PIT];
    uint64_t d = pit_timer_run(p, at(0));
    CHECK_EQ(t->rises[IRQ_PIT], rises);
    CHECK_EQ(d, at(1193) - at(0));
    d = pit_timer_run(p, at(1193));
    CHECK_EQ(t->rises[IRQ_PIT], rises + 1);
    CHECK_EQ(t->level[IRQ_PIT], 0);        /* a pulse, not a level */
    CHECK_EQ(d, at(2 * 1193) - at(1193));
    d = pit_timer_run(p, at(3 * 1193 + 600));
    CHECK_EQ(t->rises[IRQ_PIT], rises + 2);
    CHECK_EQ(d, at(4 * 1193) - at(3 * 1193 + 600));
    /* reprogrammed to one-shot mode 0: one edge, then the timer stops */
    program(0, 0, 500, at(5000));
    d = pit_timer_run(p, at(5000 + 499));
    CHECK_EQ(t->rises[IRQ_PIT], rises + 2);
    CHECK(d > 0);
    CHECK_EQ(pit_timer_run(p, at(5000 + 500)), 0);
    CHECK_EQ(t->rises[IRQ_PIT], rises + 3);
    CHECK_EQ(pit_timer_run(p, at(50000)), 0);
    CHECK_EQ(t->rises[IRQ_PIT], rises + 3);
    /* a control word alone stops channel 0 */
    pit_io_write(p, 3, 0x34, at(60000));
    CHECK_EQ(pit_timer_run(p, at(70000)), 0);
}

static void test_modes_ch2(void)
{
    struct sysctrl *s = t->vm.devices->sysctrl;
    /* mode 0, gate low: nothing moves, OUT low */
    sysctrl_write_at(s, 0x00, T);
    program(2, 0, 1000, T);
    CHECK_EQ(latch_read(2, at(300)), 1000);
    CHECK_EQ(sysctrl_read_at(s, at(300)) & 0x21, 0x00);
    /* gate on through port 0x61 bit 0; OUT on bit 5 at terminal count */
    sysctrl_write_at(s, 0x01, at(300));
    CHECK_EQ(latch_read(2, at(800)), 500);
    CHECK_EQ(sysctrl_read_at(s, at(1299)) & 0x21, 0x01);
    CHECK_EQ(sysctrl_read_at(s, at(1300)) & 0x21, 0x21);
    CHECK_EQ(latch_read(2, at(1310)), 0xFFFF - 9); /* counting on past zero */
    /* gate low suspends mode 0 */
    program(2, 0, 1000, at(2000));
    sysctrl_write_at(s, 0x00, at(2400));
    CHECK_EQ(latch_read(2, at(9000)), 600);
    sysctrl_write_at(s, 0x01, at(10000));
    CHECK_EQ(latch_read(2, at(10100)), 500);

    /* mode 3: square wave, counts by two, gate edge reloads */
    program(2, 3 << 1, 1000, at(20000));
    CHECK_EQ(latch_read(2, at(20100)), 800);
    CHECK(pit_get_out(p, 2, at(20499)));
    CHECK(!pit_get_out(p, 2, at(20500)));
    CHECK(pit_get_out(p, 2, at(21000)));
    sysctrl_write_at(s, 0x00, at(21100));
    CHECK(pit_get_out(p, 2, at(21700)));      /* gate low: OUT high */
    sysctrl_write_at(s, 0x01, at(22000));
    CHECK_EQ(latch_read(2, at(22001)), 998);

    /* mode 1: one-shot started by a gate edge */
    program(2, 1 << 1, 100, at(30000));
    CHECK(pit_get_out(p, 2, at(30050)));      /* not triggered: gate already high */
    sysctrl_write_at(s, 0x00, at(30060));
    sysctrl_write_at(s, 0x01, at(30070));
    CHECK(!pit_get_out(p, 2, at(30070)));
    CHECK_EQ(latch_read(2, at(30120)), 50);
    CHECK(pit_get_out(p, 2, at(30170)));

    /* mode 4: software strobe, OUT low for one tick at zero */
    program(2, 4 << 1, 10, at(40000));
    CHECK(pit_get_out(p, 2, at(40009)));
    CHECK(!pit_get_out(p, 2, at(40010)));
    CHECK(pit_get_out(p, 2, at(40011)));
    /* mode 5: hardware strobe */
    program(2, 5 << 1, 10, at(41000));
    sysctrl_write_at(s, 0x00, at(41001));
    sysctrl_write_at(s, 0x01, at(41002));
    CHECK(!pit_get_out(p, 2, at(41012)));
    CHECK(pit_get_out(p, 2, at(41013)));
    sysctrl_write_at(s, 0x00, at(42000));

    /* port 0x61: stored bits, refresh toggling with time */
    sysctrl_write_at(s, 0x0E, 0);
    CHECK_EQ(sysctrl_read_at(s, 0) & 0x1F, 0x0E);
    CHECK_EQ(sysctrl_read_at(s, 15085) & 0x10, 0x10);
    CHECK_EQ(sysctrl_read_at(s, 2 * 15085) & 0x10, 0x00);
    sysctrl_write_at(s, 0x00, 0);
}

static void test_access_modes(void)
{
    /* LSB only */
    pit_io_write(p, 3, 0x50, T);            /* ch1, LSB, mode 0 */
    pit_io_write(p, 1, 0x80, T);
    CHECK_EQ(pit_io_read(p, 1, at(0x10)), 0x70);
    CHECK_EQ(pit_io_read(p, 1, at(0x10)), 0x70);
    /* MSB only */
    pit_io_write(p, 3, 0x60, T);
    pit_io_write(p, 1, 0x12, T);
    CHECK_EQ(pit_io_read(p, 1, at(0x100)), 0x11);
    /* word, live reads alternate LSB/MSB */
    program(1, 0, 0x4321, T);
    CHECK_EQ(pit_io_read(p, 1, at(0x21)), 0x00);
    CHECK_EQ(pit_io_read(p, 1, at(0x21)), 0x43);
    /* null count until the count is written */
    pit_io_write(p, 3, 0x74, T);
    pit_io_write(p, 3, 0xE4, T);
    CHECK_EQ(pit_io_read(p, 1, T) & 0x40, 0x40);
    pit_io_write(p, 1, 0x00, T);
    pit_io_write(p, 1, 0x10, T);
    pit_io_write(p, 3, 0xE4, T);
    CHECK_EQ(pit_io_read(p, 1, T) & 0x40, 0x00);
    /* BCD: 1000 decimal counts 0999 after a tick; 0 means 10000 */
    pit_io_write(p, 3, 0x71, T);
    pit_io_write(p, 1, 0x00, T);
    pit_io_write(p, 1, 0x10, T);
    CHECK_EQ(latch_read(1, at(1)), 0x0999);
    pit_io_write(p, 3, 0x71, T);
    pit_io_write(p, 1, 0x00, T);
    pit_io_write(p, 1, 0x00, T);
    CHECK_EQ(latch_read(1, at(1)), 0x9999);
    /* a second latch before reading keeps the first value */
    program(1, 2 << 1, 1000, T);
    pit_io_write(p, 3, 0x40, at(10));
    pit_io_write(p, 3, 0x40, at(20));
    CHECK_EQ(pit_io_read(p, 1, at(30)) | pit_io_read(p, 1, at(30)) << 8, 990);
    /* through the bus: the control port reads as open */
    CHECK_EQ(inb(t, PORT_PIT + 3), 0xFF);
}

int main(void)
{
    t = test_vm_new(1, false);
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    p = t->vm.devices->pit;
    CHECK(p != NULL && t->vm.devices->sysctrl != NULL);
    test_mode2_irq0();
    test_modes_ch2();
    test_access_modes();
    test_vm_free(t);
    TEST_MAIN_END();
}
