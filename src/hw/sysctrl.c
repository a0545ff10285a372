/* Port 0x61, "system control port B" (emu engine only; on kvm the
 * in-kernel PIT owns this port).
 *
 *   bit 0  PIT channel 2 gate (read/write)
 *   bit 1  speaker data enable (read/write; no sound is made)
 *   bit 2  parity check disable, bit 3 channel check disable (stored)
 *   bit 4  refresh request: toggles every 15.085 us (read-only)
 *   bit 5  PIT channel 2 OUT (read-only)
 *   bits 6, 7  NMI sources (read as 0: never any)
 *
 * Calibration loops (Linux's PIT TSC calibration, firmware delays) gate
 * channel 2 here and poll bit 5 or bit 4, so both must move with time.
 *
 * Locking: s->lock protects the stored bits; channel 2 lives in the PIT. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

#define SYSCTRL_GATE2    0x01
#define SYSCTRL_SPEAKER  0x02
#define SYSCTRL_STORED   0x0F
#define SYSCTRL_REFRESH  0x10
#define SYSCTRL_OUT2     0x20
#define REFRESH_HALF_NS  15085u

struct sysctrl {
    struct vm *vm;
    struct pit *pit;
    pthread_mutex_t lock;
    uint8_t bits; /* bits 0-3 as last written */
};

uint8_t sysctrl_read_at(struct sysctrl *s, uint64_t now)
{
    pthread_mutex_lock(&s->lock);
    uint8_t v = s->bits & SYSCTRL_STORED;
    pthread_mutex_unlock(&s->lock);
    if ((now / REFRESH_HALF_NS) & 1)
        v |= SYSCTRL_REFRESH;
    if (pit_get_out(s->pit, 2, now))
        v |= SYSCTRL_OUT2;
    return v;
}

void sysctrl_write_at(struct sysctrl *s, uint8_t value, uint64_t now)
{
    pthread_mutex_lock(&s->lock);
    s->bits = value & SYSCTRL_STORED;
    /* Under s->lock so that two writers cannot reorder gate edges. */
    pit_set_gate(s->pit, 2, value & SYSCTRL_GATE2, now);
    pthread_mutex_unlock(&s->lock);
}

static uint64_t sysctrl_bus_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)offset; (void)size;
    return sysctrl_read_at(opaque, vm_clock_ns());
}

static void sysctrl_bus_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset; (void)size;
    sysctrl_write_at(opaque, (uint8_t)value, vm_clock_ns());
}

static const struct bus_ops sysctrl_ops = {.read = sysctrl_bus_read, .write = sysctrl_bus_write};

struct sysctrl *sysctrl_create(struct vm *vm, struct pit *pit)
{
    struct sysctrl *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(-ENOMEM, "port 0x61: out of memory");
        return NULL;
    }
    s->vm = vm;
    s->pit = pit;
    pthread_mutex_init(&s->lock, NULL);
    if (hw_register(&vm->pio, PORT_SYS_CTRL_B, 1, &sysctrl_ops, s, "system control B") < 0) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

void sysctrl_destroy(struct sysctrl *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}
