/* ACPI fixed hardware: S5 powers off, the reset register resets, the PM
 * timer counts at 3.579545 MHz, PM1 status is write-1-to-clear and drives
 * the SCI, port 0x80 swallows writes. */
#include <time.h>

#include "hw_test.h"

static void test_poweroff_and_sleep(void)
{
    struct test_vm *t = test_vm_new(1, false);
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    CHECK_EQ(inp(t, PORT_ACPI_PM1A_CNT, 2) & 1, 1); /* SCI_EN */
    /* S3 (not supported) does nothing; S5 powers off */
    outp(t, PORT_ACPI_PM1A_CNT, 2, (3u << 10) | (1u << 13));
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_RUNNING);
    outp(t, PORT_ACPI_PM1A_CNT, 2, (uint64_t)ACPI_S5_SLP_TYP << 10); /* no SLP_EN */
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_RUNNING);
    outp(t, PORT_ACPI_PM1A_CNT, 2, ((uint64_t)ACPI_S5_SLP_TYP << 10) | (1u << 13));
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_STOP_POWEROFF);
    test_vm_free(t);

    /* the same with byte accesses, high byte last (SLP_EN is in it) */
    t = test_vm_new(1, false);
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    outb(t, PORT_ACPI_PM1A_CNT, 0);
    outb(t, PORT_ACPI_PM1A_CNT + 1, (uint8_t)((ACPI_S5_SLP_TYP << 2) | 0x20));
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_STOP_POWEROFF);
    test_vm_free(t);
}

static void test_reset_register(void)
{
    struct test_vm *t = test_vm_new(1, false);
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    outb(t, PORT_ACPI_RESET, 0x02);
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_RUNNING);
    outb(t, PORT_ACPI_RESET, ACPI_RESET_VALUE);
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_STOP_RESET);
    test_vm_free(t);
}

static void test_timer_status_sci(void)
{
    /* The timer is a pure function of the clock. */
    CHECK_EQ(acpi_pm_timer_at(0), 0);
    CHECK_EQ(acpi_pm_timer_at(1000000000ull), ACPI_PM_TIMER_HZ);
    CHECK_EQ(acpi_pm_timer_at(1000000ull), 3579);
    /* wraps at 32 bits */
    uint64_t wrap_ns = (uint64_t)((((unsigned __int128)1 << 32) * 1000000000u) / ACPI_PM_TIMER_HZ) + 1;
    CHECK(acpi_pm_timer_at(wrap_ns) < 10);

    struct test_vm *t = test_vm_new(1, false);
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    /* the port reads follow the clock and never go backwards */
    uint32_t a = (uint32_t)inp(t, PORT_ACPI_PM_TMR, 4);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    uint32_t b = (uint32_t)inp(t, PORT_ACPI_PM_TMR, 4);
    CHECK(b - a >= 3579 * 2 - 1);

    /* power button: status, then SCI only once enabled; W1C clears */
    struct acpi_pm *pm = t->vm.devices->acpi_pm;
    acpi_pm_power_button(pm);
    CHECK(inp(t, PORT_ACPI_PM1A_EVT, 2) & 0x100);
    CHECK_EQ(t->level[IRQ_ACPI_SCI], 0);
    outp(t, PORT_ACPI_PM1A_EVT + 2, 2, 0x100);
    CHECK_EQ(inp(t, PORT_ACPI_PM1A_EVT + 2, 2), 0x100);
    CHECK_EQ(t->level[IRQ_ACPI_SCI], 1);
    outp(t, PORT_ACPI_PM1A_EVT, 2, 0x0001); /* clearing another bit keeps it */
    CHECK_EQ(t->level[IRQ_ACPI_SCI], 1);
    outp(t, PORT_ACPI_PM1A_EVT, 2, 0x0100);
    CHECK_EQ(inp(t, PORT_ACPI_PM1A_EVT, 2) & 0x100, 0);
    CHECK_EQ(t->level[IRQ_ACPI_SCI], 0);
    /* a 32-bit access covers status (low) and enable (high) */
    CHECK_EQ(inp(t, PORT_ACPI_PM1A_EVT, 4) >> 16, 0x100);

    /* port 0x80 takes writes silently */
    outb(t, PORT_POST, 0x12);
    CHECK_EQ(inb(t, PORT_POST), 0xFF);
    CHECK_EQ(atomic_load(&t->vm.stop_reason), VM_RUNNING);
    test_vm_free(t);
}

int main(void)
{
    test_poweroff_and_sleep();
    test_reset_register();
    test_timer_status_sci();
    TEST_MAIN_END();
}
