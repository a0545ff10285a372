/* The 8259A programmable interrupt controller pair (emu engine only).
 *
 * Master at 0x20 (IRQ 0-7), slave at 0xA0 (IRQ 8-15) cascaded on the
 * master's IRQ 2, and the ELCR at 0x4D0/0x4D1 that selects edge or level
 * triggering per input (as on PIIX/ICH chipsets; ICW1's LTIM bit is
 * ignored there too). Modelled: ICW1-4, OCW1 (IMR), OCW2 (non-specific,
 * specific and rotating EOI, set priority), OCW3 (read IRR/ISR, poll,
 * special mask), auto-EOI, special fully nested mode and spurious IRQ 7/15.
 *
 * The master's INT output goes to the BSP's local APIC (LINT0 in ExtINT
 * mode, see lapic.c), which calls pic_has_interrupt() and, on an INTA
 * cycle, pic_acknowledge(). When the output rises the BSP is kicked so a
 * halted CPU notices.
 *
 * Locking: inputs change from any thread (device back-ends, the PIT timer
 * on the loop thread) and the vCPUs program the chips: p->lock protects
 * both chips. The kick happens after the lock is dropped. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t line;            /* input levels, for edge detection */
    uint8_t elcr, elcr_mask; /* 1 = level triggered */
    uint8_t priority_add;    /* the IRQ with the highest priority */
    uint8_t irq_base;        /* ICW2: vector of IRQ 0 of this chip */
    uint8_t init_state;      /* 0 ready, 1-3: expecting ICW2-ICW4 */
    bool init4, single;
    bool read_isr, poll, special_mask;
    bool auto_eoi, rotate_on_auto_eoi, special_fully_nested;
};

struct pic {
    struct vm *vm;
    pthread_mutex_t lock;
    struct pic_chip chip[2]; /* master, slave */
    bool output;             /* master INT */
};

/* Priority level (0 highest) of the highest-priority bit in mask, or 8. */
static int pic_priority(const struct pic_chip *c, uint8_t mask)
{
    if (!mask)
        return 8;
    int p = 0;
    while (!(mask & (1u << ((p + c->priority_add) & 7))))
        p++;
    return p;
}

/* The IRQ this chip would signal now, or -1. */
static int pic_chip_irq(const struct pic_chip *c, bool master)
{
    int p = pic_priority(c, c->irr & (uint8_t)~c->imr);
    if (p == 8)
        return -1;
    uint8_t in_service = c->isr;
    if (master && c->special_fully_nested)
        in_service &= (uint8_t)~(1u << 2); /* the slave nests its own priorities */
    if (c->special_mask)
        in_service &= (uint8_t)~c->imr;
    if (p < pic_priority(c, in_service))
        return (p + c->priority_add) & 7;
    return -1;
}

static void pic_chip_input(struct pic_chip *c, unsigned irq, int level)
{
    uint8_t bit = (uint8_t)(1u << irq);
    if (c->elcr & bit) {
        if (level) {
            c->irr |= bit;
            c->line |= bit;
        } else {
            c->irr &= (uint8_t)~bit;
            c->line &= (uint8_t)~bit;
        }
    } else if (level) {
        if (!(c->line & bit))
            c->irr |= bit; /* latched on the rising edge */
        c->line |= bit;
    } else {
        c->line &= (uint8_t)~bit;
    }
}

/* Recomputes the cascade and the master output; returns true when the
 * output rose (the caller kicks the BSP after unlocking). */
static bool pic_update(struct pic *p)
{
    struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
    if (pic_chip_irq(s, false) >= 0) {
        /* a pulse, so that a still-pending slave re-latches IRQ 2 */
        pic_chip_input(m, 2, 1);
        pic_chip_input(m, 2, 0);
    }
    bool out = pic_chip_irq(m, true) >= 0;
    bool rose = out && !p->output;
    p->output = out;
    return rose;
}

static void pic_kick_bsp(struct pic *p)
{
    struct vm *vm = p->vm;
    if (vm->vcpus && vm->ncpus > 0 && vm->accel && vm->accel->vcpu_kick)
        vm->accel->vcpu_kick(&vm->vcpus[0]);
}

static void pic_chip_intack(struct pic_chip *c, int irq)
{
    uint8_t bit = (uint8_t)(1u << irq);
    if (c->auto_eoi) {
        if (c->rotate_on_auto_eoi)
            c->priority_add = (uint8_t)((irq + 1) & 7);
    } else {
        c->isr |= bit;
    }
    if (!(c->elcr & bit))
        c->irr &= (uint8_t)~bit; /* a level input stays requested */
}

void pic_set_irq(struct pic *p, unsigned irq, int level)
{
    if (irq > 15)
        return;
    pthread_mutex_lock(&p->lock);
    pic_chip_input(&p->chip[irq >> 3], irq & 7, level);
    bool kick = pic_update(p);
    pthread_mutex_unlock(&p->lock);
    if (kick)
        pic_kick_bsp(p);
}

bool pic_has_interrupt(struct pic *p)
{
    pthread_mutex_lock(&p->lock);
    bool out = pic_chip_irq(&p->chip[0], true) >= 0;
    pthread_mutex_unlock(&p->lock);
    return out;
}

int pic_acknowledge(struct pic *p)
{
    struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
    int vector;
    pthread_mutex_lock(&p->lock);
    int irq = pic_chip_irq(m, true);
    if (irq < 0) {
        vector = m->irq_base + 7; /* spurious IRQ 7 */
    } else {
        pic_chip_intack(m, irq);
        if (irq == 2) {
            int irq2 = pic_chip_irq(s, false);
            if (irq2 >= 0)
                pic_chip_intack(s, irq2);
            else
                irq2 = 7; /* spurious IRQ 15 */
            vector = s->irq_base + irq2;
        } else {
            vector = m->irq_base + irq;
        }
    }
    bool kick = pic_update(p);
    pthread_mutex_unlock(&p->lock);
    if (kick)
        pic_kick_bsp(p);
    return vector;
}

static void pic_chip_reset(struct pic_chip *c)
{
    c->irr &= c->elcr; /* level inputs that are still asserted stay requested */
    c->isr = 0;
    c->imr = 0;
    c->line &= c->elcr;
    c->priority_add = 0;
    c->irq_base = 0;
    c->init_state = 0;
    c->init4 = c->single = false;
    c->read_isr = c->poll = c->special_mask = false;
    c->auto_eoi = c->rotate_on_auto_eoi = c->special_fully_nested = false;
}

/* OCW2: end of interrupt and priority rotation. */
static void pic_ocw2(struct pic_chip *c, uint8_t v)
{
    unsigned cmd = v >> 5;
    int irq;
    switch (cmd) {
    case 0: c->rotate_on_auto_eoi = false; break;
    case 4: c->rotate_on_auto_eoi = true; break;
    case 1: /* non-specific EOI */
    case 5: /* rotate on non-specific EOI */
        irq = pic_priority(c, c->isr);
        if (irq == 8)
            break;
        irq = (irq + c->priority_add) & 7;
        c->isr &= (uint8_t)~(1u << irq);
        if (cmd == 5)
            c->priority_add = (uint8_t)((irq + 1) & 7);
        break;
    case 3: /* specific EOI */
    case 7: /* rotate on specific EOI */
        irq = v & 7;
        c->isr &= (uint8_t)~(1u << irq);
        if (cmd == 7)
            c->priority_add = (uint8_t)((irq + 1) & 7);
        break;
    case 6: /* set priority: IRQ v&7 becomes the lowest */
        c->priority_add = (uint8_t)(((v & 7) + 1) & 7);
        break;
    case 2: /* no operation */
        break;
    }
}

static void pic_chip_write(struct pic_chip *c, unsigned port, uint8_t v)
{
    if (port == 0) {
        if (v & 0x10) { /* ICW1 */
            pic_chip_reset(c);
            c->init_state = 1;
            c->init4 = v & 0x01;
            c->single = v & 0x02;
        } else if (v & 0x08) { /* OCW3 */
            if (v & 0x04)
                c->poll = true;
            if (v & 0x02)
                c->read_isr = v & 0x01;
            if (v & 0x40)
                c->special_mask = (v >> 5) & 1;
        } else {
            pic_ocw2(c, v);
        }
        return;
    }
    switch (c->init_state) {
    case 0: /* OCW1 */
        c->imr = v;
        break;
    case 1: /* ICW2 */
        c->irq_base = v & 0xF8;
        c->init_state = c->single ? (c->init4 ? 3 : 0) : 2;
        break;
    case 2: /* ICW3: the cascade wiring is fixed */
        c->init_state = c->init4 ? 3 : 0;
        break;
    case 3: /* ICW4 */
        c->special_fully_nested = (v >> 4) & 1;
        c->auto_eoi = (v >> 1) & 1;
        c->init_state = 0;
        break;
    }
}

static uint8_t pic_chip_read(struct pic_chip *c, unsigned port, bool master)
{
    if (c->poll) {
        /* Poll mode: the read is the acknowledge. */
        c->poll = false;
        int irq = pic_chip_irq(c, master);
        if (irq < 0)
            return 0;
        pic_chip_intack(c, irq);
        return (uint8_t)(0x80 | irq);
    }
    if (port == 0)
        return c->read_isr ? c->isr : c->irr;
    return c->imr;
}

static uint64_t pic_bus_read(struct pic *p, unsigned chip, uint64_t offset)
{
    pthread_mutex_lock(&p->lock);
    uint8_t v = pic_chip_read(&p->chip[chip], (unsigned)offset & 1, chip == 0);
    bool kick = pic_update(p);
    pthread_mutex_unlock(&p->lock);
    if (kick)
        pic_kick_bsp(p);
    return v;
}

static void pic_bus_write(struct pic *p, unsigned chip, uint64_t offset, uint64_t value)
{
    pthread_mutex_lock(&p->lock);
    pic_chip_write(&p->chip[chip], (unsigned)offset & 1, (uint8_t)value);
    bool kick = pic_update(p);
    pthread_mutex_unlock(&p->lock);
    if (kick)
        pic_kick_bsp(p);
}

static uint64_t pic_master_read(void *o, uint64_t off, unsigned size) { (void)size; return pic_bus_read(o, 0, off); }
static uint64_t pic_slave_read(void *o, uint64_t off, unsigned size) { (void)size; return pic_bus_read(o, 1, off); }
static void pic_master_write(void *o, uint64_t off, unsigned size, uint64_t v) { (void)size; pic_bus_write(o, 0, off, v); }
static void pic_slave_write(void *o, uint64_t off, unsigned size, uint64_t v) { (void)size; pic_bus_write(o, 1, off, v); }

/* ELCR: 0x4D0 for IRQ 0-7, 0x4D1 for IRQ 8-15; a 16-bit access covers both. */
static uint64_t pic_elcr_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pic *p = opaque;
    uint64_t v = 0;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < size && offset + i < 2; i++)
        v |= (uint64_t)p->chip[offset + i].elcr << (8 * i);
    pthread_mutex_unlock(&p->lock);
    return v;
}

static void pic_elcr_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct pic *p = opaque;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < size && offset + i < 2; i++) {
        struct pic_chip *c = &p->chip[offset + i];
        c->elcr = (uint8_t)(value >> (8 * i)) & c->elcr_mask;
    }
    bool kick = pic_update(p);
    pthread_mutex_unlock(&p->lock);
    if (kick)
        pic_kick_bsp(p);
}

static const struct bus_ops pic_master_ops = {.read = pic_master_read, .write = pic_master_write};
static const struct bus_ops pic_slave_ops = {.read = pic_slave_read, .write = pic_slave_write};
static const struct bus_ops pic_elcr_ops = {.read = pic_elcr_read, .write = pic_elcr_write};

struct pic *pic_create(struct vm *vm)
{
    struct pic *p = calloc(1, sizeof(*p));
    if (!p) {
        err_set(-ENOMEM, "pic: out of memory");
        return NULL;
    }
    p->vm = vm;
    for (int i = 0; i < 2; i++) {
        pic_chip_reset(&p->chip[i]);
        /* As firmware leaves them: all masked, BIOS vectors. */
        p->chip[i].imr = 0xFF;
        p->chip[i].irq_base = i ? 0x70 : 0x08;
    }
    /* IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge triggered. */
    p->chip[0].elcr_mask = 0xF8;
    p->chip[1].elcr_mask = 0xDE;
    pthread_mutex_init(&p->lock, NULL);
    if (hw_register(&vm->pio, PORT_PIC_MASTER, 2, &pic_master_ops, p, "pic master") < 0 ||
        hw_register(&vm->pio, PORT_PIC_SLAVE, 2, &pic_slave_ops, p, "pic slave") < 0 ||
        hw_register(&vm->pio, PORT_ELCR, 2, &pic_elcr_ops, p, "elcr") < 0) {
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

void pic_destroy(struct pic *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p);
}
