/* The MC146818 CMOS real-time clock and its 128 bytes of CMOS RAM.
 *
 * Port 0x70 selects a register (bit 7, the NMI mask on PCs, is ignored);
 * port 0x71 reads or writes it. The clock registers show the host's UTC
 * time plus an offset the guest sets by writing them, in BCD or binary and
 * 12- or 24-hour form as register B asks. Register A's UIP bit is set in the
 * last 244 us of every host second, like a real part just before its
 * update, so that Linux's "wait for UIP to clear, read, check again" loop
 * ends quickly and reads a consistent time. No RTC interrupt (IRQ 8) is
 * generated: registers C's flags always read 0.
 *
 * While register B's SET bit is set, the clock registers are frozen and
 * take the guest's writes; clearing SET commits the new time as the offset.
 *
 * Locking: vCPU threads only, but several of them: r->lock. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

enum {
    RTC_SECONDS = 0x00, RTC_SECONDS_ALARM, RTC_MINUTES, RTC_MINUTES_ALARM,
    RTC_HOURS, RTC_HOURS_ALARM, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH,
    RTC_MONTH, RTC_YEAR, RTC_REG_A, RTC_REG_B, RTC_REG_C, RTC_REG_D,
    RTC_CENTURY = 0x32,
};

#define REG_A_UIP   0x80
#define REG_B_SET   0x80
#define REG_B_UIE   0x10
#define REG_B_DM    0x04  /* binary, else BCD */
#define REG_B_24H   0x02
#define REG_D_VRT   0x80

#define RTC_UIP_NS  244000  /* update cycle, with a 32.768 kHz time base */

struct rtc {
    struct vm *vm;
    pthread_mutex_t lock;
    uint8_t index;
    uint8_t cmos[128];       /* everything that is not the clock itself */
    int64_t offset;          /* guest time minus host time, seconds */
    bool frozen;             /* SET bit: the guest is writing the time */
    struct tm set_tm;        /* the time being written while frozen */
};

static bool rtc_is_clock(uint8_t index)
{
    switch (index) {
    case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        return true;
    }
    return false;
}

static uint8_t rtc_to_bcd(unsigned v)
{
    return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static unsigned rtc_from_bcd(uint8_t v)
{
    return (v >> 4) * 10 + (v & 0x0F);
}

static uint8_t rtc_encode(const struct rtc *r, unsigned v)
{
    return (r->cmos[RTC_REG_B] & REG_B_DM) ? (uint8_t)v : rtc_to_bcd(v);
}

static unsigned rtc_decode(const struct rtc *r, uint8_t v)
{
    return (r->cmos[RTC_REG_B] & REG_B_DM) ? v : rtc_from_bcd(v);
}

/* The guest's current broken-down UTC time. */
static void rtc_now_tm(const struct rtc *r, int64_t host_sec, struct tm *tm)
{
    if (r->frozen) {
        *tm = r->set_tm;
        return;
    }
    time_t t = (time_t)(host_sec + r->offset);
    gmtime_r(&t, tm);
}

static uint8_t rtc_encode_hour(const struct rtc *r, int hour)
{
    if (r->cmos[RTC_REG_B] & REG_B_24H)
        return rtc_encode(r, (unsigned)hour);
    int h12 = hour % 12 == 0 ? 12 : hour % 12;
    return (uint8_t)(rtc_encode(r, (unsigned)h12) | (hour >= 12 ? 0x80 : 0));
}

static int rtc_decode_hour(const struct rtc *r, uint8_t v)
{
    if (r->cmos[RTC_REG_B] & REG_B_24H)
        return (int)rtc_decode(r, v);
    int h = (int)rtc_decode(r, v & 0x7F) % 12;
    return (v & 0x80) ? h + 12 : h;
}

static uint8_t rtc_read_clock(const struct rtc *r, uint8_t index, int64_t host_sec)
{
    struct tm tm;
    rtc_now_tm(r, host_sec, &tm);
    switch (index) {
    case RTC_SECONDS:      return rtc_encode(r, (unsigned)tm.tm_sec % 60);
    case RTC_MINUTES:      return rtc_encode(r, (unsigned)tm.tm_min);
    case RTC_HOURS:        return rtc_encode_hour(r, tm.tm_hour);
    case RTC_DAY_OF_WEEK:  return rtc_encode(r, (unsigned)tm.tm_wday + 1); /* Sunday = 1 */
    case RTC_DAY_OF_MONTH: return rtc_encode(r, (unsigned)tm.tm_mday);
    case RTC_MONTH:        return rtc_encode(r, (unsigned)tm.tm_mon + 1);
    case RTC_YEAR:         return rtc_encode(r, (unsigned)(tm.tm_year + 1900) % 100);
    case RTC_CENTURY:      return rtc_encode(r, (unsigned)(tm.tm_year + 1900) / 100);
    }
    return 0;
}

static void rtc_write_clock(struct rtc *r, uint8_t index, uint8_t v, int64_t host_sec)
{
    struct tm tm;
    rtc_now_tm(r, host_sec, &tm);
    int year = tm.tm_year + 1900;
    switch (index) {
    case RTC_SECONDS:      tm.tm_sec = (int)rtc_decode(r, v); break;
    case RTC_MINUTES:      tm.tm_min = (int)rtc_decode(r, v); break;
    case RTC_HOURS:        tm.tm_hour = rtc_decode_hour(r, v); break;
    case RTC_DAY_OF_WEEK:  return; /* derived from the date */
    case RTC_DAY_OF_MONTH: tm.tm_mday = (int)rtc_decode(r, v); break;
    case RTC_MONTH:        tm.tm_mon = (int)rtc_decode(r, v) - 1; break;
    case RTC_YEAR:         tm.tm_year = year / 100 * 100 + (int)rtc_decode(r, v) - 1900; break;
    case RTC_CENTURY:      tm.tm_year = (int)rtc_decode(r, v) * 100 + year % 100 - 1900; break;
    }
    if (r->frozen) {
        r->set_tm = tm; /* committed when SET is cleared */
        return;
    }
    time_t t = timegm(&tm);
    if (t != (time_t)-1)
        r->offset = (int64_t)t - host_sec;
}

uint8_t rtc_read_at(struct rtc *r, uint8_t index, int64_t sec, long nsec)
{
    index &= 0x7F;
    pthread_mutex_lock(&r->lock);
    uint8_t v;
    if (rtc_is_clock(index)) {
        v = rtc_read_clock(r, index, sec);
    } else if (index == RTC_REG_A) {
        v = r->cmos[RTC_REG_A];
        if (!r->frozen && nsec >= 1000000000L - RTC_UIP_NS)
            v |= REG_A_UIP;
    } else if (index == RTC_REG_C) {
        v = 0; /* no interrupt flags: IRQ 8 is not generated */
    } else if (index == RTC_REG_D) {
        v = REG_D_VRT;
    } else {
        v = r->cmos[index];
    }
    pthread_mutex_unlock(&r->lock);
    return v;
}

void rtc_write_at(struct rtc *r, uint8_t index, uint8_t value, int64_t sec)
{
    index &= 0x7F;
    pthread_mutex_lock(&r->lock);
    if (rtc_is_clock(index)) {
        rtc_write_clock(r, index, value, sec);
    } else if (index == RTC_REG_A) {
        r->cmos[RTC_REG_A] = value & (uint8_t)~REG_A_UIP;
    } else if (index == RTC_REG_B) {
        bool set = value & REG_B_SET;
        if (set && !r->frozen) {
            rtc_now_tm(r, sec, &r->set_tm);
            r->frozen = true;
        } else if (!set && r->frozen) {
            r->frozen = false;
            time_t t = timegm(&r->set_tm);
            if (t != (time_t)-1)
                r->offset = (int64_t)t - sec;
        }
        if (set)
            value &= (uint8_t)~REG_B_UIE; /* SET clears UIE on the MC146818 */
        r->cmos[RTC_REG_B] = value;
    } else if (index == RTC_REG_C || index == RTC_REG_D) {
        /* read-only */
    } else {
        r->cmos[index] = value;
    }
    pthread_mutex_unlock(&r->lock);
}

static uint64_t rtc_bus_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    struct rtc *r = opaque;
    if (offset == 0)
        return 0xFF; /* the index port is write-only */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    pthread_mutex_lock(&r->lock);
    uint8_t index = r->index;
    pthread_mutex_unlock(&r->lock);
    return rtc_read_at(r, index, ts.tv_sec, ts.tv_nsec);
}

static void rtc_bus_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    struct rtc *r = opaque;
    if (offset == 0) {
        pthread_mutex_lock(&r->lock);
        r->index = value & 0x7F; /* bit 7: NMI disable, ignored */
        pthread_mutex_unlock(&r->lock);
        return;
    }
    pthread_mutex_lock(&r->lock);
    uint8_t index = r->index;
    pthread_mutex_unlock(&r->lock);
    rtc_write_at(r, index, (uint8_t)value, (int64_t)time(NULL));
}

static const struct bus_ops rtc_ops = {.read = rtc_bus_read, .write = rtc_bus_write};

/* The memory-size bytes PC firmware leaves in CMOS, for guests that read
 * them (Linux uses e820; some boot loaders and old kernels do not). */
static void rtc_set_memory_size(struct rtc *r, uint64_t ram)
{
    uint64_t low = ram < MEM_HOLE_START ? ram : MEM_HOLE_START;
    uint64_t ext_kb = low > (1u << 20) ? (low - (1u << 20)) >> 10 : 0;
    uint64_t above16m = low > (16u << 20) ? (low - (16u << 20)) >> 16 : 0;
    uint64_t above4g = ram > low ? (ram - low) >> 16 : 0;
    if (ext_kb > 0xFFFF) ext_kb = 0xFFFF;
    if (above16m > 0xFFFF) above16m = 0xFFFF;
    r->cmos[0x15] = 0x80; r->cmos[0x16] = 0x02; /* 640 KiB base memory */
    r->cmos[0x17] = r->cmos[0x30] = (uint8_t)ext_kb;
    r->cmos[0x18] = r->cmos[0x31] = (uint8_t)(ext_kb >> 8);
    r->cmos[0x34] = (uint8_t)above16m;
    r->cmos[0x35] = (uint8_t)(above16m >> 8);
    r->cmos[0x5B] = (uint8_t)above4g;
    r->cmos[0x5C] = (uint8_t)(above4g >> 8);
    r->cmos[0x5D] = (uint8_t)(above4g >> 16);
}

struct rtc *rtc_create(struct vm *vm)
{
    struct rtc *r = calloc(1, sizeof(*r));
    if (!r) {
        err_set(-ENOMEM, "rtc: out of memory");
        return NULL;
    }
    r->vm = vm;
    r->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
    r->cmos[RTC_REG_B] = REG_B_24H;
    rtc_set_memory_size(r, vm->mem.ram_size);
    pthread_mutex_init(&r->lock, NULL);
    if (hw_register(&vm->pio, PORT_RTC, 2, &rtc_ops, r, "rtc") < 0) {
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
    }
    return r;
}

void rtc_destroy(struct rtc *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}
