/* The i8042 keyboard controller, with a keyboard but without a mouse.
 *
 * Enough of the controller for Linux's i8042 and atkbd drivers to probe
 * quickly and quietly: the self-tests, the command byte (CTR), port
 * enable/disable, the output port, and a keyboard that answers its
 * commands (reset, identify, LEDs, scancode set, ...). There is no AUX
 * (mouse) port: the AUX loopback command echoes its byte as keyboard data,
 * which Linux takes as "no AUX port" without waiting for a timeout, and the
 * AUX interface test reports a stuck clock line.
 *
 * Its real job in brume is the reset line: command 0xFE (pulse output port
 * bit 0) or an output-port write with bit 0 clear resets the machine, which
 * is how `reboot=k` reboots.
 *
 * Locking: register accesses come from vCPU threads; k->lock protects the
 * state, and IRQ 1 is set under it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

#define I8042_QUEUE 16

/* Status register */
#define STR_OBF     0x01
#define STR_SYS     0x04
#define STR_CMD     0x08  /* last write went to the command port */
#define STR_UNLOCK  0x10  /* keyboard not inhibited */

/* Command byte (CTR) */
#define CTR_KBDINT  0x01
#define CTR_SYS     0x04
#define CTR_KBDDIS  0x10
#define CTR_AUXDIS  0x20
#define CTR_XLATE   0x40

/* Controller commands that take a data byte next */
enum i8042_pending {
    PEND_NONE,
    PEND_WRITE_CTR,      /* 0x60 */
    PEND_WRITE_OUTPORT,  /* 0xD1 */
    PEND_WRITE_KBD_OBUF, /* 0xD2 */
    PEND_WRITE_AUX_OBUF, /* 0xD3 */
    PEND_WRITE_AUX,      /* 0xD4 */
    PEND_KBD_ARG,        /* keyboard command argument (0xED, 0xF0, 0xF3) */
};

struct i8042 {
    struct vm *vm;
    pthread_mutex_t lock;

    uint8_t ctr;
    uint8_t status_cmd;      /* STR_CMD or 0 */
    uint8_t outport;
    enum i8042_pending pending;
    uint8_t kbd_cmd;         /* the keyboard command awaiting an argument */
    uint8_t scancode_set;
    bool irq_level;

    uint8_t queue[I8042_QUEUE];
    unsigned head, count;
};

static void i8042_update_irq(struct i8042 *k)
{
    bool level = k->count && (k->ctr & CTR_KBDINT);
    if (level != k->irq_level) {
        k->irq_level = level;
        vm_irq_line(k->vm, IRQ_KEYBOARD, level);
    }
}

static void i8042_push(struct i8042 *k, uint8_t byte)
{
    if (k->count == I8042_QUEUE)
        return; /* the guest is not reading: drop, like a full keyboard buffer */
    k->queue[(k->head + k->count) % I8042_QUEUE] = byte;
    k->count++;
}

static void i8042_reset_machine(struct i8042 *k)
{
    vm_request_stop(k->vm, VM_STOP_RESET, NULL);
}

/* A byte written to the data port with no controller command pending goes
 * to the keyboard: answer like a PS/2 keyboard with scancode set 2. */
static void i8042_kbd_command(struct i8042 *k, uint8_t cmd)
{
    switch (cmd) {
    case 0xED: /* set LEDs */
    case 0xF0: /* get/set scancode set */
    case 0xF3: /* set typematic rate */
        k->kbd_cmd = cmd;
        k->pending = PEND_KBD_ARG;
        i8042_push(k, 0xFA);
        break;
    case 0xEE: /* echo */
        i8042_push(k, 0xEE);
        break;
    case 0xF2: /* identify: MF2 keyboard; the controller translates 0x83 */
        i8042_push(k, 0xFA);
        i8042_push(k, 0xAB);
        i8042_push(k, (k->ctr & CTR_XLATE) ? 0x41 : 0x83);
        break;
    case 0xFF: /* reset and self-test */
        k->scancode_set = 2;
        i8042_push(k, 0xFA);
        i8042_push(k, 0xAA);
        break;
    case 0xF4: /* enable */
    case 0xF5: /* disable */
    case 0xF6: /* set defaults */
    default:
        i8042_push(k, 0xFA);
        break;
    }
}

static void i8042_kbd_argument(struct i8042 *k, uint8_t arg)
{
    i8042_push(k, 0xFA);
    if (k->kbd_cmd == 0xF0) {
        if (arg == 0)
            i8042_push(k, k->scancode_set);
        else if (arg <= 3)
            k->scancode_set = arg;
    }
}

static void i8042_write_data(struct i8042 *k, uint8_t v)
{
    enum i8042_pending p = k->pending;
    k->pending = PEND_NONE;
    switch (p) {
    case PEND_WRITE_CTR:
        k->ctr = v;
        break;
    case PEND_WRITE_OUTPORT:
        k->outport = v;
        if (!(v & 0x01))
            i8042_reset_machine(k);
        break;
    case PEND_WRITE_KBD_OBUF:
        i8042_push(k, v);
        break;
    case PEND_WRITE_AUX_OBUF:
        /* No AUX port: the byte comes back as keyboard data (see top). */
        i8042_push(k, v);
        break;
    case PEND_WRITE_AUX:
        break; /* no mouse to talk to */
    case PEND_KBD_ARG:
        i8042_kbd_argument(k, v);
        break;
    case PEND_NONE:
        i8042_kbd_command(k, v);
        break;
    }
}

static void i8042_write_command(struct i8042 *k, uint8_t cmd)
{
    k->pending = PEND_NONE;
    switch (cmd) {
    case 0x20: i8042_push(k, k->ctr); break;             /* read CTR */
    case 0x60: k->pending = PEND_WRITE_CTR; break;
    case 0xA7: k->ctr |= CTR_AUXDIS; break;               /* disable AUX */
    case 0xA8: k->ctr &= (uint8_t)~CTR_AUXDIS; break;     /* enable AUX */
    case 0xA9: i8042_push(k, 0x01); break;                /* AUX test: clock stuck low */
    case 0xAA: i8042_push(k, 0x55); k->ctr |= CTR_SYS; break; /* self-test */
    case 0xAB: i8042_push(k, 0x00); break;                /* keyboard interface test */
    case 0xAD: k->ctr |= CTR_KBDDIS; break;               /* disable keyboard */
    case 0xAE: k->ctr &= (uint8_t)~CTR_KBDDIS; break;     /* enable keyboard */
    case 0xC0: i8042_push(k, 0x80); break;                /* input port: not inhibited */
    case 0xD0: i8042_push(k, k->outport); break;          /* read output port */
    case 0xD1: k->pending = PEND_WRITE_OUTPORT; break;
    case 0xD2: k->pending = PEND_WRITE_KBD_OBUF; break;
    case 0xD3: k->pending = PEND_WRITE_AUX_OBUF; break;
    case 0xD4: k->pending = PEND_WRITE_AUX; break;
    default:
        /* 0xF0-0xFF pulse the output port bits whose mask bit is 0 (for
         * about 6 us); bit 0 is the CPU reset line. */
        if (cmd >= 0xF0 && !(cmd & 0x01))
            i8042_reset_machine(k);
        break;
    }
}

static uint8_t i8042_read_data(struct i8042 *k)
{
    if (!k->count)
        return k->queue[(k->head + I8042_QUEUE - 1) % I8042_QUEUE]; /* last byte again */
    uint8_t v = k->queue[k->head];
    k->head = (k->head + 1) % I8042_QUEUE;
    k->count--;
    /* The IRQ follows OBF: it drops, then rises again for the next byte,
     * so an edge-triggered input sees one edge per byte. */
    if (k->irq_level) {
        k->irq_level = false;
        vm_irq_line(k->vm, IRQ_KEYBOARD, 0);
    }
    return v;
}

static uint8_t i8042_read_status(struct i8042 *k)
{
    uint8_t s = STR_UNLOCK | k->status_cmd;
    if (k->ctr & CTR_SYS)
        s |= STR_SYS;
    if (k->count)
        s |= STR_OBF;
    return s;
}

/* Data port (0x60) and command/status port (0x64): two one-byte ranges,
 * since port 0x61 between them belongs to another device. */
static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)offset; (void)size;
    struct i8042 *k = opaque;
    pthread_mutex_lock(&k->lock);
    uint8_t v = i8042_read_data(k);
    i8042_update_irq(k);
    pthread_mutex_unlock(&k->lock);
    return v;
}

static void i8042_data_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset; (void)size;
    struct i8042 *k = opaque;
    pthread_mutex_lock(&k->lock);
    k->status_cmd = 0;
    i8042_write_data(k, (uint8_t)value);
    i8042_update_irq(k);
    pthread_mutex_unlock(&k->lock);
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)offset; (void)size;
    struct i8042 *k = opaque;
    pthread_mutex_lock(&k->lock);
    uint8_t v = i8042_read_status(k);
    pthread_mutex_unlock(&k->lock);
    return v;
}

static void i8042_cmd_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)offset; (void)size;
    struct i8042 *k = opaque;
    pthread_mutex_lock(&k->lock);
    k->status_cmd = STR_CMD;
    i8042_write_command(k, (uint8_t)value);
    i8042_update_irq(k);
    pthread_mutex_unlock(&k->lock);
}

static const struct bus_ops i8042_data_ops = {.read = i8042_data_read, .write = i8042_data_write};
static const struct bus_ops i8042_cmd_ops = {.read = i8042_cmd_read, .write = i8042_cmd_write};

struct i8042 *i8042_create(struct vm *vm)
{
    struct i8042 *k = calloc(1, sizeof(*k));
    if (!k) {
        err_set(-ENOMEM, "i8042: out of memory");
        return NULL;
    }
    k->vm = vm;
    /* As firmware leaves it: keyboard IRQ on, translation on, AUX off. */
    k->ctr = CTR_KBDINT | CTR_SYS | CTR_XLATE | CTR_AUXDIS;
    k->outport = 0x03; /* reset line high (inactive), A20 enabled */
    k->scancode_set = 2;
    pthread_mutex_init(&k->lock, NULL);
    if (hw_register(&vm->pio, PORT_I8042_DATA, 1, &i8042_data_ops, k, "i8042 data") < 0 ||
        hw_register(&vm->pio, PORT_I8042_CMD, 1, &i8042_cmd_ops, k, "i8042 command") < 0) {
        pthread_mutex_destroy(&k->lock);
        free(k);
        return NULL;
    }
    return k;
}

void i8042_destroy(struct i8042 *k)
{
    if (!k)
        return;
    pthread_mutex_destroy(&k->lock);
    free(k);
}
