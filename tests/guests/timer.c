/* timer: the PIT's channel 0 in periodic mode, IRQ 0 routed through the
 * IOAPIC (pin 2, as the MADT's interrupt source override says) to the
 * BSP's local APIC. Counts ticks over a bounded number of HLTs; passes
 * when they arrive and nothing unexpected does. The local APIC timer runs
 * as a watchdog, so a silent PIT fails instead of hanging. */
#include "rt.h"

const char guest_name[] = "timer";

#define VEC_PIT      0x30
#define VEC_WATCHDOG 0x31
#define PIT_HZ       1193182u
#define TICK_HZ      100u
#define WANT_TICKS   20u

static volatile unsigned ticks;
static volatile bool watchdog_fired;

static void on_pit(struct rt_frame *f)
{
    (void)f;
    ticks++;
    lapic_eoi();
}

static void on_watchdog(struct rt_frame *f)
{
    (void)f;
    watchdog_fired = true;
    lapic_eoi();
}

const char *guest_main(void)
{
    unsigned pin = 2;
    pic_mask_all();
    ioapic_mask_all();
    lapic_enable();
    rt_set_handler(VEC_PIT, on_pit);
    rt_set_handler(VEC_WATCHDOG, on_watchdog);
    ioapic_route(pin, VEC_PIT, lapic_id(), false, false);

    /* Channel 0, lobyte/hibyte, mode 2 (rate generator), binary. */
    uint16_t divisor = (uint16_t)(PIT_HZ / TICK_HZ);
    outb(PORT_PIT + 3, 0x34);
    outb(PORT_PIT + 0, (uint8_t)divisor);
    outb(PORT_PIT + 0, (uint8_t)(divisor >> 8));

    /* Watchdog: one-shot local APIC timer, divide by 128, about 10 s at
     * the machine's 1 GHz bus clock (and longer on a slower one). */
    lapic_write(LAPIC_TMR_DIV, 0xA);
    lapic_write(LAPIC_LVT_TMR, VEC_WATCHDOG);
    lapic_write(LAPIC_TMR_INIT, (uint32_t)(MACHINE_CRYSTAL_HZ / 128 * 10));

    uint32_t t0 = pm_timer();
    unsigned halts = 0;
    while (ticks < WANT_TICKS && !watchdog_fired && halts < 100000) {
        sti_hlt();
        cli();
        halts++;
    }
    uint32_t t1 = pm_timer();
    lapic_write(LAPIC_TMR_INIT, 0);
    ioapic_route(pin, VEC_PIT, lapic_id(), false, true);
    outb(PORT_PIT + 3, 0x30);          /* channel 0 to mode 0: stops repeating */

    uint64_t us = pm_elapsed_us(t0, t1);
    rt_printf("timer: %u ticks in %u HLTs, %lu us by the PM timer (info: %lu Hz)\n",
              ticks, halts, us, us ? (uint64_t)ticks * 1000000 / us : 0);
    if (rt_unexpected)
        return "unexpected interrupts arrived";
    if (ticks < WANT_TICKS)
        return watchdog_fired ? "no PIT ticks before the local APIC watchdog" : "too few PIT ticks";
    return 0;
}
