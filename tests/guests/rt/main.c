/* Start-up and the end of a guest: PASS/FAIL line, then ACPI power-off. */
#include "rt.h"

void rt_start(struct boot_params *bp);

void rt_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void rt_poweroff(void)
{
    uint16_t port = rt_acpi.pm1a_cnt ? rt_acpi.pm1a_cnt : PORT_ACPI_PM1A_CNT;
    uint8_t typ = rt_acpi.ok ? rt_acpi.s5_slp_typ : ACPI_S5_SLP_TYP;
    outw(port, (uint16_t)((typ << 10) | (1u << 13)));     /* SLP_TYP | SLP_EN */
    rt_delay_us(1000000);
    rt_printf("guest: power-off through port 0x%x did not stop the machine\n", port);
    rt_halt_forever();
}

void rt_reset(void)
{
    outb(PORT_I8042_CMD, 0xFE);                           /* pulse the reset line */
    rt_delay_us(1000000);
    rt_printf("guest: FAIL the i8042 reset did not stop the machine\n");
    rt_poweroff();
}

void rt_finish(const char *why)
{
    if (why)
        rt_printf("guest: FAIL %s\n", why);
    else
        rt_printf("guest: PASS\n");
    rt_poweroff();
}

void rt_start(struct boot_params *bp)
{
    rt_boot_params = bp;
    serial_init();
    rt_idt_load();
    rt_printf("guest: %s starting\n", guest_name);
    rt_acpi_init();
    rt_finish(guest_main());
}
