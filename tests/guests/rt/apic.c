/* Local APIC (xAPIC MMIO), IOAPIC, 8259 masking and the ACPI PM timer. */
#include "rt.h"

#define LAPIC ((volatile uint32_t *)(uintptr_t)LAPIC_ADDR)

uint32_t lapic_read(uint32_t reg)
{
    return LAPIC[reg / 4];
}

void lapic_write(uint32_t reg, uint32_t v)
{
    LAPIC[reg / 4] = v;
}

unsigned lapic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

void lapic_enable(void)
{
    lapic_write(0x080, 0);                       /* TPR: accept everything */
    lapic_write(LAPIC_SVR, 0x100 | 0xFF);        /* enabled, spurious 0xFF */
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

bool lapic_ipi(unsigned apic_id, uint32_t icr_lo)
{
    lapic_write(LAPIC_ICR_HI, apic_id << 24);
    lapic_write(LAPIC_ICR_LO, icr_lo);
    for (int i = 0; i < 100000; i++) {
        if (!(lapic_read(LAPIC_ICR_LO) & (1u << 12)))   /* delivery status */
            return true;
        pause();
    }
    return false;
}

static volatile uint32_t *ioapic(void)
{
    return (volatile uint32_t *)(uintptr_t)(rt_acpi.ioapic_addr ? rt_acpi.ioapic_addr : IOAPIC_ADDR);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    volatile uint32_t *io = ioapic();
    io[0] = reg;        /* IOREGSEL */
    io[4] = v;          /* IOWIN at +0x10 */
}

void ioapic_route(unsigned pin, uint8_t vector, unsigned dest_apic, bool level, bool masked)
{
    uint32_t lo = vector | (level ? 1u << 15 : 0) | (masked ? 1u << 16 : 0);
    ioapic_write(0x10 + 2 * pin + 1, dest_apic << 24);
    ioapic_write(0x10 + 2 * pin, lo);
}

void ioapic_mask_all(void)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        ioapic_route(pin, 0, 0, false, true);
}

void pic_mask_all(void)
{
    /* Re-base the 8259s to vectors 0x20..0x2F first, so that even a stray
     * delivery could never look like an exception, then mask every line. */
    static const uint8_t init[][2] = {
        { PORT_PIC_MASTER, 0x11 }, { PORT_PIC_SLAVE, 0x11 },
        { PORT_PIC_MASTER + 1, 0x20 }, { PORT_PIC_SLAVE + 1, 0x28 },
        { PORT_PIC_MASTER + 1, 0x04 }, { PORT_PIC_SLAVE + 1, 0x02 },
        { PORT_PIC_MASTER + 1, 0x01 }, { PORT_PIC_SLAVE + 1, 0x01 },
        { PORT_PIC_MASTER + 1, 0xFF }, { PORT_PIC_SLAVE + 1, 0xFF },
    };
    for (unsigned i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        outb(init[i][0], init[i][1]);
}

uint32_t pm_timer(void)
{
    return inl(PORT_ACPI_PM_TMR);
}

uint64_t pm_elapsed_us(uint32_t from, uint32_t to)
{
    return (uint64_t)(uint32_t)(to - from) * 1000000ull / ACPI_PM_TIMER_HZ;
}

bool rt_delay_us(uint64_t us)
{
    uint32_t start = pm_timer(), last = start;
    uint64_t ticks = us * ACPI_PM_TIMER_HZ / 1000000ull + 1;
    /* A PM timer that does not move must not hang the guest: give up after
     * many reads without progress. */
    unsigned still = 0;
    for (;;) {
        uint32_t now = pm_timer();
        if ((uint32_t)(now - start) >= ticks)
            return true;
        if (now == last) {
            if (++still > 10000000)
                return false;
        } else {
            still = 0;
            last = now;
        }
        pause();
    }
}
