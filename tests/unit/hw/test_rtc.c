/* CMOS RTC: the host time in BCD and binary, 12/24 h, UIP, setting the
 * time through the SET bit, plain CMOS bytes, the NMI bit in the index. */
#include <time.h>

#include "hw_test.h"

#define T0 1234567890 /* Fri 2009-02-13 23:31:30 UTC */

int main(void)
{
    struct test_vm *t = test_vm_new(1, false);
    t->vm.devices = calloc(1, sizeof(*t->vm.devices));
    struct rtc *r = rtc_create(&t->vm);
    t->vm.devices->rtc = r;
    CHECK(r != NULL);

    /* default: BCD, 24 h */
    CHECK_EQ(rtc_read_at(r, 0x0B, T0, 0), 0x02);
    CHECK_EQ(rtc_read_at(r, 0x00, T0, 0), 0x30);
    CHECK_EQ(rtc_read_at(r, 0x02, T0, 0), 0x31);
    CHECK_EQ(rtc_read_at(r, 0x04, T0, 0), 0x23);
    CHECK_EQ(rtc_read_at(r, 0x06, T0, 0), 6); /* Friday, Sunday = 1 */
    CHECK_EQ(rtc_read_at(r, 0x07, T0, 0), 0x13);
    CHECK_EQ(rtc_read_at(r, 0x08, T0, 0), 0x02);
    CHECK_EQ(rtc_read_at(r, 0x09, T0, 0), 0x09);
    CHECK_EQ(rtc_read_at(r, 0x32, T0, 0), 0x20);
    /* binary */
    rtc_write_at(r, 0x0B, 0x06, T0);
    CHECK_EQ(rtc_read_at(r, 0x00, T0, 0), 30);
    CHECK_EQ(rtc_read_at(r, 0x04, T0, 0), 23);
    CHECK_EQ(rtc_read_at(r, 0x07, T0, 0), 13);
    CHECK_EQ(rtc_read_at(r, 0x32, T0, 0), 20);
    /* 12 h, BCD: 23h is 11 PM; 00:xx is 12 AM */
    rtc_write_at(r, 0x0B, 0x00, T0);
    CHECK_EQ(rtc_read_at(r, 0x04, T0, 0), 0x91);
    CHECK_EQ(rtc_read_at(r, 0x04, T0 + 3600, 0), 0x12);
    CHECK_EQ(rtc_read_at(r, 0x04, T0 + 13 * 3600, 0), 0x92);
    rtc_write_at(r, 0x0B, 0x02, T0);

    /* UIP only in the last 244 us of a second; registers A, C, D */
    CHECK_EQ(rtc_read_at(r, 0x0A, T0, 0), 0x26);
    CHECK_EQ(rtc_read_at(r, 0x0A, T0, 999900000L), 0xA6);
    CHECK_EQ(rtc_read_at(r, 0x0A, T0, 999700000L), 0x26);
    CHECK_EQ(rtc_read_at(r, 0x0C, T0, 0), 0);
    CHECK_EQ(rtc_read_at(r, 0x0D, T0, 0), 0x80);

    /* setting the time: frozen while SET, committed as an offset */
    rtc_write_at(r, 0x0B, 0x82, T0);
    rtc_write_at(r, 0x09, 0x24, T0);      /* 2024 */
    rtc_write_at(r, 0x08, 0x12, T0);      /* December */
    rtc_write_at(r, 0x07, 0x31, T0);
    rtc_write_at(r, 0x04, 0x10, T0);
    rtc_write_at(r, 0x02, 0x00, T0);
    rtc_write_at(r, 0x00, 0x00, T0);
    CHECK_EQ(rtc_read_at(r, 0x00, T0 + 100, 0), 0x00); /* frozen */
    rtc_write_at(r, 0x0B, 0x02, T0 + 100);
    CHECK_EQ(rtc_read_at(r, 0x00, T0 + 105, 0), 0x05);
    CHECK_EQ(rtc_read_at(r, 0x04, T0 + 105, 0), 0x10);
    CHECK_EQ(rtc_read_at(r, 0x07, T0 + 105, 0), 0x31);
    CHECK_EQ(rtc_read_at(r, 0x06, T0 + 105, 0), 3); /* 2024-12-31 was a Tuesday */
    CHECK_EQ(rtc_read_at(r, 0x09, T0 + 100 + 14 * 3600, 0), 0x25); /* the new year */
    /* a single field write without SET applies at once */
    rtc_write_at(r, 0x02, 0x45, T0 + 200);
    CHECK_EQ(rtc_read_at(r, 0x02, T0 + 200, 0), 0x45);

    /* through the ports: index with the NMI bit, CMOS bytes, memory size */
    outb(t, PORT_RTC, 0x80 | 0x0D);
    CHECK_EQ(inb(t, PORT_RTC + 1), 0x80);
    outb(t, PORT_RTC, 0x40);
    outb(t, PORT_RTC + 1, 0x5A);
    outb(t, PORT_RTC, 0x41);
    outb(t, PORT_RTC + 1, 0xA5);
    outb(t, PORT_RTC, 0x40);
    CHECK_EQ(inb(t, PORT_RTC + 1), 0x5A);
    outb(t, PORT_RTC, 0x35);
    CHECK_EQ(inb(t, PORT_RTC + 1), 0x0F); /* (256 - 16) MiB in 64 KiB units */
    outb(t, PORT_RTC, 0x15);
    CHECK_EQ(inb(t, PORT_RTC + 1), 0x80);
    test_vm_free(t);

    /* a fresh RTC shows the host's date (checked on the century, which
     * cannot change during the test) */
    t = test_vm_new(1, false);
    t->vm.devices = calloc(1, sizeof(*t->vm.devices));
    t->vm.devices->rtc = rtc_create(&t->vm);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    outb(t, PORT_RTC, 0x32);
    uint8_t century = inb(t, PORT_RTC + 1);
    CHECK_EQ(century, ((tm.tm_year + 1900) / 1000 % 10) << 4 | (tm.tm_year + 1900) / 100 % 10);
    test_vm_free(t);
    TEST_MAIN_END();
}
