/* ACPI fixed hardware (both engines), and port 0x80.
 *
 *   PORT_ACPI_PM1A_EVT  PM1 status (2 bytes, write 1 to clear) and enable (2)
 *   PORT_ACPI_PM1A_CNT  PM1 control: SCI_EN always reads 1 (ACPI mode is on
 *                       from the start: there is no SMI_CMD to switch it);
 *                       SLP_EN with SLP_TYP == ACPI_S5_SLP_TYP powers off
 *   PORT_ACPI_PM_TMR    the PM timer at ACPI_PM_TIMER_HZ, 32 bits wide (a
 *                       24-bit reader masks it, so the FADT may say either)
 *   PORT_ACPI_RESET     the FADT reset register: ACPI_RESET_VALUE resets
 *   PORT_POST           POST codes; Linux writes here as an I/O delay
 *
 * Events: the power button (acpi_pm_power_button) sets PWRBTN_STS and
 * raises the SCI (IRQ 9, level) while status & enable is non-zero.
 * TMR_STS is set when bit 23 of the timer flips, computed on read; the
 * timer does not raise the SCI (no OS enables TMR_EN).
 *
 * Locking: pm->lock protects status/enable/control. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

#define PM1_TMR_STS    0x0001
#define PM1_PWRBTN_STS 0x0100
#define PM1_WAK_STS    0x8000
#define PM1_STS_MASK   0x8D31  /* TMR, BM, GBL, PWRBTN, SLPBTN, RTC, WAK */
#define PM1_EN_MASK    0x0721  /* TMR, GBL, PWRBTN, SLPBTN, RTC */
#define PM1_SCI_EN     0x0001
#define PM1_SLP_EN     0x2000
#define PM1_SLP_TYP(v) (((v) >> 10) & 7)
#define PM1_CNT_MASK   0x1C06  /* BM_RLD, GBL_RLS, SLP_TYP: stored */

struct acpi_pm {
    struct vm *vm;
    pthread_mutex_t lock;
    uint16_t sts, en, cnt;
    uint64_t tmr_epoch;    /* timer bit-23 period when TMR_STS was last cleared */
    bool sci_level;
};

uint32_t acpi_pm_timer_at(uint64_t now)
{
    return (uint32_t)hw_ns_to_ticks(now, ACPI_PM_TIMER_HZ);
}

static uint16_t acpi_pm_status(struct acpi_pm *pm, uint64_t now)
{
    uint16_t s = pm->sts;
    if ((hw_ns_to_ticks(now, ACPI_PM_TIMER_HZ) >> 23) != pm->tmr_epoch)
        s |= PM1_TMR_STS;
    return s;
}

static void acpi_pm_update_sci(struct acpi_pm *pm)
{
    bool level = (pm->sts & pm->en) != 0;
    if (level != pm->sci_level) {
        pm->sci_level = level;
        vm_irq_line(pm->vm, IRQ_ACPI_SCI, level);
    }
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
    pthread_mutex_lock(&pm->lock);
    pm->sts |= PM1_PWRBTN_STS;
    acpi_pm_update_sci(pm);
    pthread_mutex_unlock(&pm->lock);
}

/* PM1 event block, one byte at a time: 0-1 status, 2-3 enable. */
static uint8_t acpi_pm_evt_byte(struct acpi_pm *pm, unsigned off, uint64_t now)
{
    uint16_t r = off < 2 ? acpi_pm_status(pm, now) : pm->en;
    return (uint8_t)(r >> (8 * (off & 1)));
}

static uint64_t acpi_pm_evt_read(void *opaque, uint64_t offset, unsigned size)
{
    struct acpi_pm *pm = opaque;
    uint64_t now = vm_clock_ns(), v = 0;
    pthread_mutex_lock(&pm->lock);
    for (unsigned i = 0; i < size && offset + i < 4; i++)
        v |= (uint64_t)acpi_pm_evt_byte(pm, (unsigned)offset + i, now) << (8 * i);
    pthread_mutex_unlock(&pm->lock);
    return v;
}

static void acpi_pm_evt_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct acpi_pm *pm = opaque;
    uint64_t now = vm_clock_ns();
    pthread_mutex_lock(&pm->lock);
    for (unsigned i = 0; i < size && offset + i < 4; i++) {
        unsigned off = (unsigned)offset + i;
        uint16_t b = (uint16_t)((uint8_t)(value >> (8 * i)) << (8 * (off & 1)));
        if (off < 2) {
            pm->sts &= (uint16_t)~(b & PM1_STS_MASK); /* write 1 to clear */
            if (b & PM1_TMR_STS)
                pm->tmr_epoch = hw_ns_to_ticks(now, ACPI_PM_TIMER_HZ) >> 23;
        } else {
            uint16_t keep = off & 1 ? 0x00FF : 0xFF00;
            pm->en = (uint16_t)((pm->en & keep) | (b & PM1_EN_MASK));
        }
    }
    acpi_pm_update_sci(pm);
    pthread_mutex_unlock(&pm->lock);
}

static uint64_t acpi_pm_cnt_read(void *opaque, uint64_t offset, unsigned size)
{
    struct acpi_pm *pm = opaque;
    pthread_mutex_lock(&pm->lock);
    uint16_t v = pm->cnt | PM1_SCI_EN;
    pthread_mutex_unlock(&pm->lock);
    uint64_t r = (uint64_t)v >> (8 * offset);
    return size >= 2 ? r : r & 0xFF;
}

static void acpi_pm_cnt_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct acpi_pm *pm = opaque;
    pthread_mutex_lock(&pm->lock);
    uint16_t full = pm->cnt;
    for (unsigned i = 0; i < size && offset + i < 2; i++) {
        unsigned shift = 8 * ((unsigned)offset + i);
        full = (uint16_t)((full & ~(0xFFu << shift)) | ((value >> (8 * i)) & 0xFF) << shift);
    }
    pm->cnt = full & PM1_CNT_MASK;
    pthread_mutex_unlock(&pm->lock);
    if ((full & PM1_SLP_EN) && PM1_SLP_TYP(full) == ACPI_S5_SLP_TYP)
        vm_request_stop(pm->vm, VM_STOP_POWEROFF, NULL);
    else if (full & PM1_SLP_EN)
        log_debug("acpi: sleep type %u requested, not supported", PM1_SLP_TYP(full));
}

static uint64_t acpi_pm_tmr_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    uint64_t v = acpi_pm_timer_at(vm_clock_ns()) >> (8 * offset);
    return size >= 4 ? v : v & ((1ull << (8 * size)) - 1);
}

static void acpi_pm_ignore_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)opaque; (void)offset; (void)size; (void)value;
}

static uint64_t acpi_pm_reset_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque; (void)offset; (void)size;
    return 0;
}

static void acpi_pm_reset_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset; (void)size;
    struct acpi_pm *pm = opaque;
    if ((uint8_t)value == ACPI_RESET_VALUE)
        vm_request_stop(pm->vm, VM_STOP_RESET, NULL);
}

static uint64_t post_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque; (void)offset;
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; /* nothing there */
}

static const struct bus_ops acpi_pm_evt_ops = {.read = acpi_pm_evt_read, .write = acpi_pm_evt_write};
static const struct bus_ops acpi_pm_cnt_ops = {.read = acpi_pm_cnt_read, .write = acpi_pm_cnt_write};
static const struct bus_ops acpi_pm_tmr_ops = {.read = acpi_pm_tmr_read, .write = acpi_pm_ignore_write};
static const struct bus_ops acpi_pm_reset_ops = {.read = acpi_pm_reset_read, .write = acpi_pm_reset_write};
static const struct bus_ops post_ops = {.read = post_read, .write = acpi_pm_ignore_write};

struct acpi_pm *acpi_pm_create(struct vm *vm)
{
    struct acpi_pm *pm = calloc(1, sizeof(*pm));
    if (!pm) {
        err_set(-ENOMEM, "acpi: out of memory");
        return NULL;
    }
    pm->vm = vm;
    pm->tmr_epoch = hw_ns_to_ticks(vm_clock_ns(), ACPI_PM_TIMER_HZ) >> 23;
    pthread_mutex_init(&pm->lock, NULL);
    static const struct {
        uint16_t port, len;
        const struct bus_ops *ops;
        const char *name;
    } ranges[] = {
        {PORT_ACPI_PM1A_EVT, 4, &acpi_pm_evt_ops, "acpi pm1a event"},
        {PORT_ACPI_PM1A_CNT, 2, &acpi_pm_cnt_ops, "acpi pm1a control"},
        {PORT_ACPI_PM_TMR, 4, &acpi_pm_tmr_ops, "acpi pm timer"},
        {PORT_ACPI_RESET, 1, &acpi_pm_reset_ops, "acpi reset"},
        {PORT_POST, 1, &post_ops, "post"},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (hw_register(&vm->pio, ranges[i].port, ranges[i].len, ranges[i].ops, pm,
                         ranges[i].name) < 0) {
            pthread_mutex_destroy(&pm->lock);
            free(pm);
            return NULL;
        }
    }
    return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
    if (!pm)
        return;
    pthread_mutex_destroy(&pm->lock);
    free(pm);
}
