/* rtc: reads the CMOS clock (BCD or binary, 12 or 24 hours, as status
 * register B says) and prints it as an ISO-8601 UTC timestamp; the test
 * script compares it with the host's clock. */
#include "rt.h"

const char guest_name[] = "rtc";

static uint8_t cmos(uint8_t reg)
{
    outb(PORT_RTC, reg);
    return inb(PORT_RTC + 1);
}

struct rtc_time { unsigned sec, min, hour, day, mon, year, century; };

static void read_raw(struct rtc_time *t)
{
    /* Wait out an update in progress (bounded). */
    for (int i = 0; i < 1000000 && (cmos(0x0A) & 0x80); i++)
        pause();
    t->sec = cmos(0x00);
    t->min = cmos(0x02);
    t->hour = cmos(0x04);
    t->day = cmos(0x07);
    t->mon = cmos(0x08);
    t->year = cmos(0x09);
    t->century = cmos(0x32);
}

static unsigned bcd(unsigned v)
{
    return (v & 0xF) + (v >> 4) * 10;
}

const char *guest_main(void)
{
    struct rtc_time a, b;
    int tries = 0;
    do {
        read_raw(&a);
        read_raw(&b);
    } while (memcmp(&a, &b, sizeof(a)) != 0 && ++tries < 10);
    uint8_t status_b = cmos(0x0B);
    bool binary = status_b & 0x04, h24 = status_b & 0x02;
    bool pm = !h24 && (a.hour & 0x80);
    a.hour &= 0x7F;
    if (!binary) {
        a.sec = bcd(a.sec); a.min = bcd(a.min); a.hour = bcd(a.hour);
        a.day = bcd(a.day); a.mon = bcd(a.mon); a.year = bcd(a.year);
        a.century = bcd(a.century);
    }
    if (!h24)
        a.hour = (a.hour % 12) + (pm ? 12 : 0);
    unsigned century = (a.century >= 19 && a.century <= 30) ? a.century : 20;
    rt_printf("rtc: status B 0x%x, century register %u\n", status_b, a.century);
    rt_printf("rtc: %04u-%02u-%02uT%02u:%02u:%02uZ\n", century * 100 + a.year, a.mon, a.day,
              a.hour, a.min, a.sec);
    if (a.sec > 59 || a.min > 59 || a.hour > 23 || a.day < 1 || a.day > 31 || a.mon < 1 || a.mon > 12)
        return "the RTC holds an impossible date";
    return 0;
}
