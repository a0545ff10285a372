/* The 8254 programmable interval timer (emu engine only).
 *
 * Nothing ticks: every channel remembers when it started counting, and its
 * count and OUT pin are computed from vm_clock_ns() when read, at 1.193182
 * MHz. Modes 0-5, the counter latch, read-back, the four access modes and
 * BCD counting are modelled; the gate of channel 2 comes from port 0x61
 * (hw/sysctrl.c), the gates of channels 0 and 1 are tied high as on a PC.
 *
 * Channel 0's OUT drives IRQ 0: a loop timer wakes at each rising edge of
 * OUT and calls vm_irq_pulse(). The timer is armed only while channel 0
 * counts, and edges that were missed (the host was late) are coalesced into
 * one pulse, as lost ticks are on real machines under SMIs.
 *
 * Locking: port accesses come from vCPU threads and the IRQ timer runs on
 * the loop thread; p->lock protects the channels. The loop timer is armed
 * outside it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/loop.h"
#include "vm/vm.h"

/* The shortest period the IRQ timer follows: faster programming is
 * coalesced (one pulse per wake-up) rather than flooding the loop. */
#define PIT_MIN_TIMER_NS 10000u

enum { RW_LATCH, RW_LSB, RW_MSB, RW_WORD };

struct pit_channel {
    uint32_t reload;       /* N: 1..65536 (binary) or 1..10000 (BCD) */
    uint8_t mode;          /* 0..5 */
    uint8_t rw;            /* RW_LSB, RW_MSB, RW_WORD */
    bool bcd;
    bool gate;
    bool counting;         /* a count was loaded since the control word */
    bool triggered;        /* modes 1 and 5: a gate edge started the count */
    bool running;          /* the count advances now */
    bool null_count;       /* written count not yet loaded (status bit 6) */
    uint64_t base_ticks;   /* ticks counted before run_start */
    uint64_t run_start;    /* ns when the current run began */

    bool write_msb_next;   /* RW_WORD write flip-flop */
    uint8_t write_lsb;
    bool read_msb_next;    /* RW_WORD read flip-flop */
    bool count_latched;
    uint16_t latched;
    bool latched_msb_next;
    bool status_latched;
    uint8_t status;

    uint64_t next_edge;    /* channel 0: tick of the next rising edge of OUT */
};

struct pit {
    struct vm *vm;
    pthread_mutex_t lock;
    struct pit_channel ch[3];

    int timer_id;               /* loop timer for IRQ 0; -1 without a loop (tests) */
};

/* Ticks counted so far. Ticks are numbered on one global 1.193182 MHz
 * clock (tick k at k / PIT_HZ seconds of vm_clock_ns time), as the PIT's
 * input clock is shared by all channels: two channels started in the same
 * tick see the same edges. */
static uint64_t pit_elapsed(const struct pit_channel *c, uint64_t now)
{
    uint64_t t = c->base_ticks;
    if (c->running && now > c->run_start)
        t += hw_ns_to_ticks(now, PIT_HZ) - hw_ns_to_ticks(c->run_start, PIT_HZ);
    return t;
}

static bool pit_out_at(const struct pit_channel *c, uint64_t t)
{
    uint64_t n = c->reload;
    if (!c->counting)
        return c->mode != 0; /* mode 0 starts low, the others high */
    switch (c->mode) {
    case 0: return t >= n;
    case 1: return !c->triggered || t >= n;
    case 2: return !c->running || n < 2 || t % n != n - 1;
    case 3: return !c->running || t % n < (n + 1) / 2;
    case 4: return t != n;
    case 5: return !c->triggered || t != n;
    }
    return true;
}

static bool pit_out(const struct pit_channel *c, uint64_t now)
{
    return pit_out_at(c, pit_elapsed(c, now));
}

static uint16_t pit_to_bcd(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint32_t pit_from_bcd(uint16_t v)
{
    return (v >> 12 & 0xF) * 1000u + (v >> 8 & 0xF) * 100u + (v >> 4 & 0xF) * 10u + (v & 0xF);
}

/* The counting element's value, as the counter latch would capture it. */
static uint16_t pit_count(const struct pit_channel *c, uint64_t now)
{
    uint64_t n = c->reload, modulus = c->bcd ? 10000 : 65536, v;
    uint64_t t = pit_elapsed(c, now);
    if (!c->counting) {
        v = n % modulus;
    } else {
        switch (c->mode) {
        case 2:
            v = c->running ? n - t % n : n;
            break;
        case 3:
            /* counts down by two, twice per period */
            v = c->running ? (n - (2 * t) % n) & ~1ull : n;
            break;
        case 1: case 5:
            if (!c->triggered) { v = n; break; }
            /* fall through */
        default:
            v = (n + modulus * ((t / modulus) + 1) - t) % modulus;
            break;
        }
        v %= modulus;
    }
    return c->bcd ? pit_to_bcd((uint32_t)v) : (uint16_t)v;
}

static uint8_t pit_status(const struct pit_channel *c, uint64_t now)
{
    return (uint8_t)((pit_out(c, now) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
                     c->rw << 4 | c->mode << 1 | (c->bcd ? 1 : 0));
}

/* Channel 0: the first rising edge of OUT after tick t, or UINT64_MAX. */
static uint64_t pit_next_edge(const struct pit_channel *c, uint64_t t)
{
    uint64_t n = c->reload;
    if (!c->counting || !c->running)
        return UINT64_MAX;
    switch (c->mode) {
    case 0: return t < n ? n : UINT64_MAX;
    case 2: case 3: return (t / n + 1) * n;
    case 4: return t < n + 1 ? n + 1 : UINT64_MAX;
    case 1: case 5: return c->triggered && t < n + 1 ? n + 1 : UINT64_MAX;
    }
    return UINT64_MAX;
}

/* ns from now until channel 0's next edge; 0 when there is none. */
static uint64_t pit_ch0_delay(const struct pit_channel *c, uint64_t now)
{
    if (c->next_edge == UINT64_MAX)
        return 0;
    uint64_t at = hw_ticks_to_ns(hw_ns_to_ticks(c->run_start, PIT_HZ) + c->next_edge - c->base_ticks,
                                 PIT_HZ);
    uint64_t d = at > now ? at - now : 0;
    return d < PIT_MIN_TIMER_NS ? PIT_MIN_TIMER_NS : d;
}

static uint64_t pit_loop_timer(void *opaque)
{
    struct pit *p = opaque;
    return pit_timer_run(p, vm_clock_ns());
}

/* Arms (delay > 0) or disarms the IRQ 0 timer; never called under p->lock.
 * If the timer callback is running meanwhile, it may re-arm with a delay
 * computed from the old programming: that only delays the first edge, as
 * the next callback computes from the new one. */
static void pit_arm(struct pit *p, uint64_t delay)
{
    if (p->timer_id >= 0)
        loop_set_timer(p->vm->loop, p->timer_id, delay);
}

uint64_t pit_timer_run(struct pit *p, uint64_t now)
{
    pthread_mutex_lock(&p->lock);
    struct pit_channel *c = &p->ch[0];
    bool pulse = false;
    uint64_t t = pit_elapsed(c, now);
    if (c->next_edge != UINT64_MAX && t >= c->next_edge) {
        pulse = true;
        c->next_edge = pit_next_edge(c, t);
    }
    uint64_t delay = pit_ch0_delay(c, now);
    pthread_mutex_unlock(&p->lock);
    if (pulse)
        vm_irq_pulse(p->vm, IRQ_PIT);
    return delay;
}

/* Starts (or restarts) the count from zero elapsed ticks. */
static void pit_start(struct pit_channel *c, uint64_t now, bool running)
{
    c->base_ticks = 0;
    c->run_start = now;
    c->running = running;
}

static void pit_load(struct pit_channel *c, uint16_t raw, uint64_t now)
{
    uint32_t n = c->bcd ? pit_from_bcd(raw) : raw;
    if (n == 0)
        n = c->bcd ? 10000 : 65536;
    c->reload = n;
    c->counting = true;
    c->null_count = false;
    c->triggered = false;
    if (c->mode == 1 || c->mode == 5)
        pit_start(c, now, false); /* waits for a gate edge */
    else
        pit_start(c, now, c->gate);
}

void pit_set_gate(struct pit *p, unsigned channel, bool level, uint64_t now)
{
    if (channel > 2)
        return;
    pthread_mutex_lock(&p->lock);
    struct pit_channel *c = &p->ch[channel];
    bool rising = level && !c->gate, falling = !level && c->gate;
    c->gate = level;
    if (c->counting) {
        switch (c->mode) {
        case 0: case 4: /* gate low suspends counting */
            if (falling) {
                c->base_ticks = pit_elapsed(c, now);
                c->running = false;
            } else if (rising) {
                c->run_start = now;
                c->running = true;
            }
            break;
        case 2: case 3: /* gate low stops, a rising edge reloads */
            if (falling)
                c->running = false;
            else if (rising)
                pit_start(c, now, true);
            break;
        case 1: case 5: /* a rising edge (re)triggers */
            if (rising) {
                c->triggered = true;
                pit_start(c, now, true);
            }
            break;
        }
    }
    uint64_t delay = 0;
    if (channel == 0) {
        c->next_edge = pit_next_edge(c, pit_elapsed(c, now));
        delay = pit_ch0_delay(c, now);
    }
    pthread_mutex_unlock(&p->lock);
    if (channel == 0)
        pit_arm(p, delay);
}

bool pit_get_gate(struct pit *p, unsigned channel)
{
    if (channel > 2)
        return false;
    pthread_mutex_lock(&p->lock);
    bool g = p->ch[channel].gate;
    pthread_mutex_unlock(&p->lock);
    return g;
}

bool pit_get_out(struct pit *p, unsigned channel, uint64_t now)
{
    if (channel > 2)
        return false;
    pthread_mutex_lock(&p->lock);
    bool out = pit_out(&p->ch[channel], now);
    pthread_mutex_unlock(&p->lock);
    return out;
}

static void pit_latch_count(struct pit_channel *c, uint64_t now)
{
    if (c->count_latched)
        return; /* a second latch before the read is ignored */
    c->latched = pit_count(c, now);
    c->count_latched = true;
    c->latched_msb_next = c->rw == RW_MSB;
}

static void pit_control(struct pit *p, uint8_t v, uint64_t now)
{
    unsigned sel = v >> 6;
    if (sel == 3) { /* read-back: bit 5 clear latches counts, bit 4 clear latches status */
        for (unsigned i = 0; i < 3; i++) {
            if (!(v & (2u << i)))
                continue;
            struct pit_channel *c = &p->ch[i];
            if (!(v & 0x20))
                pit_latch_count(c, now);
            if (!(v & 0x10) && !c->status_latched) {
                c->status = pit_status(c, now);
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &p->ch[sel];
    unsigned rw = (v >> 4) & 3;
    if (rw == RW_LATCH) {
        pit_latch_count(c, now);
        return;
    }
    unsigned mode = (v >> 1) & 7;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode); /* 6 and 7 alias 2 and 3 */
    c->rw = (uint8_t)rw;
    c->bcd = v & 1;
    c->counting = false;
    c->running = false;
    c->null_count = true;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->count_latched = false;
    c->status_latched = false;
}

static void pit_write_count(struct pit_channel *c, uint8_t v, uint64_t now)
{
    switch (c->rw) {
    case RW_LSB:
        pit_load(c, v, now);
        break;
    case RW_MSB:
        pit_load(c, (uint16_t)(v << 8), now);
        break;
    case RW_WORD:
        if (!c->write_msb_next) {
            c->write_lsb = v;
            c->write_msb_next = true;
            if (c->mode == 0) { /* the first byte stops a mode 0 count */
                c->base_ticks = pit_elapsed(c, now);
                c->running = false;
                c->counting = false;
            }
        } else {
            c->write_msb_next = false;
            pit_load(c, (uint16_t)(c->write_lsb | v << 8), now);
        }
        break;
    }
}

static uint8_t pit_read_count(struct pit_channel *c, uint64_t now)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->count_latched) {
        uint8_t v;
        if (c->rw == RW_WORD && !c->latched_msb_next) {
            v = (uint8_t)c->latched;
            c->latched_msb_next = true;
        } else {
            v = (uint8_t)(c->latched >> (c->latched_msb_next ? 8 : 0));
            c->count_latched = false;
        }
        return v;
    }
    uint16_t count = pit_count(c, now);
    switch (c->rw) {
    case RW_LSB: return (uint8_t)count;
    case RW_MSB: return (uint8_t)(count >> 8);
    default:
        c->read_msb_next = !c->read_msb_next;
        return (uint8_t)(c->read_msb_next ? count : count >> 8);
    }
}

uint8_t pit_io_read(struct pit *p, unsigned offset, uint64_t now)
{
    if (offset > 2)
        return 0xFF; /* the control register is write-only */
    pthread_mutex_lock(&p->lock);
    uint8_t v = pit_read_count(&p->ch[offset], now);
    pthread_mutex_unlock(&p->lock);
    return v;
}

void pit_io_write(struct pit *p, unsigned offset, uint8_t value, uint64_t now)
{
    if (offset > 3)
        return;
    pthread_mutex_lock(&p->lock);
    if (offset == 3)
        pit_control(p, value, now);
    else
        pit_write_count(&p->ch[offset], value, now);
    struct pit_channel *c0 = &p->ch[0];
    /* Channel 0 reprogrammed (not merely latched): re-aim the IRQ timer. */
    bool ch0 = offset == 0 || (offset == 3 && (value >> 6) == 0 && (value & 0x30));
    uint64_t delay = 0;
    if (ch0) {
        c0->next_edge = pit_next_edge(c0, pit_elapsed(c0, now));
        delay = pit_ch0_delay(c0, now);
    }
    pthread_mutex_unlock(&p->lock);
    if (ch0)
        pit_arm(p, delay);
}

static uint64_t pit_bus_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    return pit_io_read(opaque, (unsigned)offset, vm_clock_ns());
}

static void pit_bus_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)size;
    pit_io_write(opaque, (unsigned)offset, (uint8_t)value, vm_clock_ns());
}

static const struct bus_ops pit_ops = {.read = pit_bus_read, .write = pit_bus_write};

struct pit *pit_create(struct vm *vm)
{
    struct pit *p = calloc(1, sizeof(*p));
    if (!p) {
        err_set(-ENOMEM, "pit: out of memory");
        return NULL;
    }
    p->vm = vm;
    p->timer_id = -1;
    for (int i = 0; i < 3; i++) {
        p->ch[i].reload = 65536;
        p->ch[i].rw = RW_WORD;
        p->ch[i].gate = i != 2; /* channel 2's gate is port 0x61 bit 0, reset low */
        p->ch[i].next_edge = UINT64_MAX;
    }
    pthread_mutex_init(&p->lock, NULL);
    if (vm->loop) {
        /* Created disarmed (delay 0); armed when channel 0 counts. */
        p->timer_id = loop_add_timer(vm->loop, 0, pit_loop_timer, p);
        if (p->timer_id < 0) {
            errno = -p->timer_id;
            goto fail;
        }
    }
    if (hw_register(&vm->pio, PORT_PIT, 4, &pit_ops, p, "pit") < 0)
        goto fail;
    return p;
fail:
    /* A loop timer cannot be removed: leave it disarmed, it never fires. */
    pthread_mutex_destroy(&p->lock);
    free(p);
    return NULL;
}

void pit_destroy(struct pit *p)
{
    if (!p)
        return;
    /* The I/O loop is stopped before the devices go (hw_destroy's
     * contract), so the IRQ 0 timer cannot fire on freed memory. */
    pthread_mutex_destroy(&p->lock);
    free(p);
}
