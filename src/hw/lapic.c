/* The local APIC, xAPIC mode (emu engine only; kvm has its own).
 *
 * One per vCPU. The register page is kept exactly as KVM's struct
 * kvm_lapic_state lays it out (each 32-bit register at its MMIO offset),
 * so lapic_get_state/lapic_set_state are copies plus the few registers
 * that are computed (PPR, APR, the timer's current count).
 *
 * Interrupt sources: the IOAPIC and other local APICs (apic_deliver), the
 * local timer (lapic_poll_timer, run by the vCPU's own thread), and the
 * PIC through LINT0 when it is unmasked in ExtINT mode (virtual wire mode:
 * the BSP's LINT0 comes out of reset that way, as KVM sets it up).
 *
 * The timer counts at MACHINE_CRYSTAL_HZ divided by the divide
 * configuration; one-shot and periodic modes (no TSC-deadline). It keeps
 * only its next deadline; the current count is computed on read.
 *
 * Locking: l->lock protects the page and the pending INIT/SIPI/ExtINT
 * state. A lapic never holds its lock while calling another lapic or the
 * IOAPIC (IPIs and EOIs are sent after unlocking); it does call the PIC
 * under it (lock order: ioapic -> lapic -> pic). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_priv.h"
#include "util/log.h"
#include "vm/vm.h"

/* Register offsets */
#define APIC_ID      0x020
#define APIC_VER     0x030
#define APIC_TPR     0x080
#define APIC_APR     0x090
#define APIC_PPR     0x0A0
#define APIC_EOI     0x0B0
#define APIC_RRD     0x0C0
#define APIC_LDR     0x0D0
#define APIC_DFR     0x0E0
#define APIC_SVR     0x0F0
#define APIC_ISR     0x100
#define APIC_TMR     0x180
#define APIC_IRR     0x200
#define APIC_ESR     0x280
#define APIC_LVT_CMCI 0x2F0
#define APIC_ICR     0x300
#define APIC_ICR2    0x310
#define APIC_LVTT    0x320
#define APIC_LVTTHMR 0x330
#define APIC_LVTPC   0x340
#define APIC_LVT0    0x350
#define APIC_LVT1    0x360
#define APIC_LVTERR  0x370
#define APIC_TMICT   0x380
#define APIC_TMCCT   0x390
#define APIC_TDCR    0x3E0

#define APIC_VERSION   (0x14u | (5u << 16)) /* integrated APIC, 6 LVT entries */
#define SVR_ENABLE     0x100u
#define LVT_MASKED     (1u << 16)
#define LVT_PERIODIC   (1u << 17)
#define LVT_DM(v)      (((v) >> 8) & 7)
#define DM_FIXED 0
#define DM_LOWEST 1
#define DM_SMI 2
#define DM_NMI 4
#define DM_INIT 5
#define DM_SIPI 6
#define DM_EXTINT 7
#define ICR_LOGICAL    (1u << 11)
#define ICR_ASSERT     (1u << 14)
#define ICR_LEVEL      (1u << 15)
#define ESR_SEND_ILLEGAL 0x20u
#define ESR_RECV_ILLEGAL 0x40u
#define ESR_ILLEGAL_REG  0x80u

struct lapic {
    struct vcpu *cpu;
    struct vm *vm;
    pthread_mutex_t lock;
    uint8_t regs[CPU_LAPIC_REGS_SIZE];
    uint32_t esr_pending;    /* errors since the last ESR write */
    uint64_t deadline;       /* next timer expiry (vm_clock_ns), UINT64_MAX: idle */
    uint64_t period_ns;      /* periodic mode: the reload period; 0 one-shot */
    bool init_pending;
    int sipi_vector;         /* -1: none */
    bool extint_pending;     /* an ExtINT message from the IOAPIC */
};

static uint32_t reg_get(const struct lapic *l, uint32_t off)
{
    uint32_t v;
    memcpy(&v, &l->regs[off], 4);
    return v;
}

static void reg_set(struct lapic *l, uint32_t off, uint32_t v)
{
    memcpy(&l->regs[off], &v, 4);
}

static bool vec_test(const struct lapic *l, uint32_t base, unsigned vec)
{
    return reg_get(l, base + (vec / 32) * 0x10) & (1u << (vec % 32));
}

static void vec_set(struct lapic *l, uint32_t base, unsigned vec, bool on)
{
    uint32_t off = base + (vec / 32) * 0x10, v = reg_get(l, off);
    v = on ? v | (1u << (vec % 32)) : v & ~(1u << (vec % 32));
    reg_set(l, off, v);
}

/* The highest vector set in a 256-bit array, or -1. */
static int vec_highest(const struct lapic *l, uint32_t base)
{
    for (int i = 7; i >= 0; i--) {
        uint32_t v = reg_get(l, base + (uint32_t)i * 0x10);
        if (v)
            return i * 32 + 31 - __builtin_clz(v);
    }
    return -1;
}

static bool lapic_sw_enabled(const struct lapic *l)
{
    return reg_get(l, APIC_SVR) & SVR_ENABLE;
}

static uint32_t lapic_ppr(const struct lapic *l)
{
    uint32_t tpr = reg_get(l, APIC_TPR) & 0xFF;
    int isrv = vec_highest(l, APIC_ISR);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    return (tpr & 0xF0) >= isr_class ? tpr : isr_class;
}

static uint32_t lapic_apr(const struct lapic *l)
{
    uint32_t tpr = reg_get(l, APIC_TPR) & 0xFF;
    int isrv = vec_highest(l, APIC_ISR), irrv = vec_highest(l, APIC_IRR);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    uint32_t irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xF0;
    if ((tpr & 0xF0) >= irr_class && (tpr & 0xF0) > isr_class)
        return tpr;
    uint32_t m = tpr & 0xF0;
    if (isr_class > m) m = isr_class;
    if (irr_class > m) m = irr_class;
    return m;
}

/* Records an error in ESR and raises the error LVT if unmasked. */
static void lapic_error(struct lapic *l, uint32_t bits)
{
    l->esr_pending |= bits;
    uint32_t lvt = reg_get(l, APIC_LVTERR);
    if (!(lvt & LVT_MASKED) && (lvt & 0xFF) >= 16)
        vec_set(l, APIC_IRR, lvt & 0xFF, true);
}

/* A local interrupt from an LVT entry (timer, error...). */
static void lapic_local_irq(struct lapic *l, uint32_t lvt)
{
    if ((lvt & LVT_MASKED) || !lapic_sw_enabled(l))
        return;
    unsigned vec = lvt & 0xFF;
    if (vec < 16) {
        lapic_error(l, ESR_RECV_ILLEGAL);
        return;
    }
    vec_set(l, APIC_IRR, vec, true);
    vec_set(l, APIC_TMR, vec, false);
}

/* ---- timer ---- */

static uint32_t lapic_divider(const struct lapic *l)
{
    uint32_t d = reg_get(l, APIC_TDCR);
    uint32_t code = (d & 3) | ((d & 8) >> 1);
    return 1u << ((code + 1) & 7); /* 2, 4, ... 128, then 1 for 0b111 */
}

static uint64_t lapic_count_ns(const struct lapic *l, uint64_t count)
{
    return hw_ticks_to_ns(count * lapic_divider(l), MACHINE_CRYSTAL_HZ);
}

static uint32_t lapic_current_count(const struct lapic *l, uint64_t now)
{
    if (l->deadline == UINT64_MAX)
        return 0;
    uint64_t left;
    if (now < l->deadline)
        left = l->deadline - now;
    else if (l->period_ns)
        left = l->period_ns - (now - l->deadline) % l->period_ns;
    else
        return 0;
    uint64_t ticks = hw_ns_to_ticks(left, MACHINE_CRYSTAL_HZ) / lapic_divider(l);
    uint32_t initial = reg_get(l, APIC_TMICT);
    return ticks > initial ? initial : (uint32_t)ticks;
}

/* Starts the timer with count ticks left (0 stops it). */
static void lapic_timer_start(struct lapic *l, uint64_t count, uint64_t now)
{
    uint32_t initial = reg_get(l, APIC_TMICT);
    if (!count || !initial) {
        l->deadline = UINT64_MAX;
        l->period_ns = 0;
        return;
    }
    l->deadline = now + lapic_count_ns(l, count);
    l->period_ns = (reg_get(l, APIC_LVTT) & LVT_PERIODIC) ? lapic_count_ns(l, initial) : 0;
}

uint64_t lapic_poll_timer(struct lapic *l, uint64_t now_ns)
{
    pthread_mutex_lock(&l->lock);
    if (l->deadline != UINT64_MAX && now_ns >= l->deadline) {
        lapic_local_irq(l, reg_get(l, APIC_LVTT));
        if (l->period_ns) {
            /* Periods missed while the host was late are dropped. */
            uint64_t missed = (now_ns - l->deadline) / l->period_ns;
            l->deadline += (missed + 1) * l->period_ns;
        } else {
            l->deadline = UINT64_MAX;
        }
    }
    uint64_t d = l->deadline;
    pthread_mutex_unlock(&l->lock);
    return d;
}

/* ---- reset, delivery ---- */

static void lapic_reset(struct lapic *l)
{
    memset(l->regs, 0, sizeof(l->regs));
    reg_set(l, APIC_ID, (uint32_t)l->cpu->index << 24);
    reg_set(l, APIC_VER, APIC_VERSION);
    reg_set(l, APIC_DFR, 0xFFFFFFFFu);
    reg_set(l, APIC_SVR, 0xFF);
    static const uint32_t lvts[] = {APIC_LVT_CMCI, APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC,
                                    APIC_LVT0, APIC_LVT1, APIC_LVTERR};
    for (size_t i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
        reg_set(l, lvts[i], LVT_MASKED);
    /* Virtual wire on the BSP: PIC interrupts reach it before the guest
     * programs its APIC, and Linux keeps LINT0 so when it finds it so. */
    if (l->cpu->index == 0)
        reg_set(l, APIC_LVT0, DM_EXTINT << 8);
    l->esr_pending = 0;
    l->deadline = UINT64_MAX;
    l->period_ns = 0;
    l->extint_pending = false;
}

static void lapic_kick(struct lapic *l)
{
    const struct accel_ops *ops = l->vm->accel;
    if (ops && ops->vcpu_kick)
        ops->vcpu_kick(l->cpu);
}

/* Accepts one interrupt message; kicks the vCPU when something arrived. */
static void lapic_accept(struct lapic *l, unsigned mode, uint8_t vector, bool level)
{
    bool kick = true;
    pthread_mutex_lock(&l->lock);
    switch (mode) {
    case DM_FIXED:
    case DM_LOWEST:
        if (!lapic_sw_enabled(l)) {
            kick = false; /* a software-disabled APIC drops them (as KVM) */
        } else if (vector < 16) {
            lapic_error(l, ESR_RECV_ILLEGAL);
        } else {
            vec_set(l, APIC_IRR, vector, true);
            vec_set(l, APIC_TMR, vector, level);
        }
        break;
    case DM_INIT:
        lapic_reset(l);
        l->init_pending = true;
        l->sipi_vector = -1;
        break;
    case DM_SIPI:
        l->sipi_vector = vector;
        break;
    case DM_EXTINT:
        l->extint_pending = true;
        break;
    case DM_NMI: /* the engine has no NMI entry point yet */
    case DM_SMI:
    default:
        log_debug("lapic %d: delivery mode %u ignored", l->cpu->index, mode);
        kick = false;
        break;
    }
    pthread_mutex_unlock(&l->lock);
    if (kick)
        lapic_kick(l);
}

/* Whether l is addressed by dest in physical or logical mode. */
static bool lapic_matches(struct lapic *l, uint8_t dest, bool logical)
{
    pthread_mutex_lock(&l->lock);
    bool m;
    if (!logical) {
        m = dest == 0xFF || (reg_get(l, APIC_ID) >> 24) == dest;
    } else if (dest == 0xFF) {
        m = true;
    } else {
        uint8_t ldr = (uint8_t)(reg_get(l, APIC_LDR) >> 24);
        if ((reg_get(l, APIC_DFR) >> 28) == 0xF) /* flat */
            m = (ldr & dest) != 0;
        else /* cluster: high nibble the cluster, low nibble a mask */
            m = (ldr >> 4) == (dest >> 4) && (ldr & dest & 0x0F) != 0;
    }
    pthread_mutex_unlock(&l->lock);
    return m;
}

enum { DEST_FIELD, DEST_SELF, DEST_ALL, DEST_ALL_BUT_SELF };

/* Sends a message to the APICs the shorthand and destination select. For
 * lowest priority, the one with the lowest PPR among the enabled
 * candidates takes it. */
static void apic_send(struct vm *vm, struct lapic *self, unsigned shorthand, uint8_t dest,
                      bool logical, unsigned mode, uint8_t vector, bool level)
{
    struct lapic *best = NULL;
    uint32_t best_ppr = 0x100;
    for (int i = 0; i < vm->ncpus; i++) {
        struct lapic *l = vm->vcpus ? vm->vcpus[i].lapic : NULL;
        if (!l)
            continue;
        bool m;
        switch (shorthand) {
        case DEST_SELF: m = l == self; break;
        case DEST_ALL: m = true; break;
        case DEST_ALL_BUT_SELF: m = l != self; break;
        default: m = lapic_matches(l, dest, logical); break;
        }
        if (!m)
            continue;
        if (mode == DM_LOWEST) {
            pthread_mutex_lock(&l->lock);
            uint32_t ppr = lapic_sw_enabled(l) ? lapic_ppr(l) : 0x100;
            pthread_mutex_unlock(&l->lock);
            if (ppr < best_ppr || !best) {
                best = l;
                best_ppr = ppr;
            }
            continue;
        }
        lapic_accept(l, mode, vector, level);
    }
    if (best)
        lapic_accept(best, DM_LOWEST, vector, level);
}

void apic_deliver(struct vm *vm, uint8_t dest, bool logical, uint8_t mode,
                  uint8_t vector, bool level_triggered)
{
    apic_send(vm, NULL, DEST_FIELD, dest, logical, mode, vector, level_triggered);
}

/* ---- ExtINT (the PIC through LINT0) ---- */

static bool lapic_accepts_pic(const struct lapic *l)
{
    uint32_t lvt0 = reg_get(l, APIC_LVT0);
    return l->extint_pending || (!(lvt0 & LVT_MASKED) && LVT_DM(lvt0) == DM_EXTINT);
}

static struct pic *lapic_pic(const struct lapic *l)
{
    return l->vm->devices ? l->vm->devices->pic : NULL;
}

bool lapic_has_interrupt(struct lapic *l)
{
    pthread_mutex_lock(&l->lock);
    bool yes = false;
    struct pic *pic = lapic_pic(l);
    if (pic && lapic_accepts_pic(l) && pic_has_interrupt(pic))
        yes = true;
    if (!yes && lapic_sw_enabled(l)) {
        int irrv = vec_highest(l, APIC_IRR);
        yes = irrv >= 0 && ((uint32_t)irrv & 0xF0) > (lapic_ppr(l) & 0xF0);
    }
    pthread_mutex_unlock(&l->lock);
    return yes;
}

int lapic_take_interrupt(struct lapic *l)
{
    int vector = -1;
    pthread_mutex_lock(&l->lock);
    struct pic *pic = lapic_pic(l);
    if (pic && lapic_accepts_pic(l) && pic_has_interrupt(pic)) {
        l->extint_pending = false;
        vector = pic_acknowledge(pic); /* the INTA cycle */
    } else if (lapic_sw_enabled(l)) {
        int irrv = vec_highest(l, APIC_IRR);
        if (irrv >= 0 && ((uint32_t)irrv & 0xF0) > (lapic_ppr(l) & 0xF0)) {
            vec_set(l, APIC_IRR, (unsigned)irrv, false);
            vec_set(l, APIC_ISR, (unsigned)irrv, true);
            vector = irrv;
        }
    }
    pthread_mutex_unlock(&l->lock);
    return vector;
}

bool lapic_take_init(struct lapic *l)
{
    pthread_mutex_lock(&l->lock);
    bool r = l->init_pending;
    l->init_pending = false;
    pthread_mutex_unlock(&l->lock);
    return r;
}

int lapic_take_sipi(struct lapic *l)
{
    pthread_mutex_lock(&l->lock);
    int v = l->sipi_vector;
    l->sipi_vector = -1;
    pthread_mutex_unlock(&l->lock);
    return v;
}

/* ---- registers ---- */

uint32_t lapic_mmio_read_at(struct lapic *l, uint32_t offset, uint64_t now)
{
    if (offset >= CPU_LAPIC_REGS_SIZE || (offset & 0xF))
        return 0;
    pthread_mutex_lock(&l->lock);
    uint32_t v;
    switch (offset) {
    case APIC_APR:   v = lapic_apr(l); break;
    case APIC_PPR:   v = lapic_ppr(l); break;
    case APIC_EOI:   v = 0; break; /* write-only */
    case APIC_TMCCT: v = lapic_current_count(l, now); break;
    case APIC_ICR:   v = reg_get(l, APIC_ICR) & ~(1u << 12); break; /* always idle */
    default:         v = reg_get(l, offset); break;
    }
    pthread_mutex_unlock(&l->lock);
    return v;
}

uint32_t lapic_mmio_read(struct lapic *l, uint32_t offset)
{
    return lapic_mmio_read_at(l, offset, vm_clock_ns());
}

/* Writable bits of each LVT entry. */
static uint32_t lvt_write_mask(uint32_t offset)
{
    switch (offset) {
    case APIC_LVTT:   return 0xFF | LVT_MASKED | LVT_PERIODIC;
    case APIC_LVT0:
    case APIC_LVT1:   return 0xFF | 0x700 | (1u << 13) | (1u << 15) | LVT_MASKED;
    case APIC_LVTERR: return 0xFF | LVT_MASKED;
    default:          return 0xFF | 0x700 | LVT_MASKED; /* thermal, perf, CMCI */
    }
}

/* What an ICR write asks for, sent after the lock is dropped. */
struct ipi {
    bool send;
    unsigned shorthand, mode;
    uint8_t dest, vector;
    bool logical, level;
};

static void lapic_write_icr(struct lapic *l, uint32_t v, struct ipi *ipi)
{
    reg_set(l, APIC_ICR, v & ~(1u << 12));
    ipi->mode = LVT_DM(v);
    ipi->vector = (uint8_t)v;
    ipi->shorthand = (v >> 18) & 3;
    ipi->logical = v & ICR_LOGICAL;
    ipi->level = v & ICR_LEVEL;
    ipi->dest = (uint8_t)(reg_get(l, APIC_ICR2) >> 24);
    if (ipi->mode == DM_INIT && (v & ICR_LEVEL) && !(v & ICR_ASSERT))
        return; /* INIT level de-assert: no effect on xAPICs since the P4 */
    if ((ipi->mode == DM_FIXED || ipi->mode == DM_LOWEST) && ipi->vector < 16) {
        lapic_error(l, ESR_SEND_ILLEGAL);
        return;
    }
    ipi->send = true;
}

void lapic_mmio_write_at(struct lapic *l, uint32_t offset, uint32_t v, uint64_t now)
{
    if (offset >= CPU_LAPIC_REGS_SIZE || (offset & 0xF))
        return;
    struct ipi ipi = {0};
    int eoi_vector = -1;
    pthread_mutex_lock(&l->lock);
    switch (offset) {
    case APIC_ID:
        reg_set(l, APIC_ID, v & 0xFF000000u);
        break;
    case APIC_TPR:
        reg_set(l, APIC_TPR, v & 0xFF);
        break;
    case APIC_EOI: {
        int isrv = vec_highest(l, APIC_ISR);
        if (isrv >= 0) {
            vec_set(l, APIC_ISR, (unsigned)isrv, false);
            if (vec_test(l, APIC_TMR, (unsigned)isrv))
                eoi_vector = isrv;
        }
        break;
    }
    case APIC_LDR:
        reg_set(l, APIC_LDR, v & 0xFF000000u);
        break;
    case APIC_DFR:
        reg_set(l, APIC_DFR, (v & 0xF0000000u) | 0x0FFFFFFFu);
        break;
    case APIC_SVR:
        reg_set(l, APIC_SVR, v & 0x3FF);
        if (!(v & SVR_ENABLE)) {
            /* Software disable masks every LVT entry. */
            for (uint32_t o = APIC_LVTT; o <= APIC_LVTERR; o += 0x10)
                reg_set(l, o, reg_get(l, o) | LVT_MASKED);
            reg_set(l, APIC_LVT_CMCI, reg_get(l, APIC_LVT_CMCI) | LVT_MASKED);
        }
        break;
    case APIC_ESR:
        /* A write latches the errors seen since the previous write. */
        reg_set(l, APIC_ESR, l->esr_pending);
        l->esr_pending = 0;
        break;
    case APIC_ICR:
        lapic_write_icr(l, v, &ipi);
        break;
    case APIC_ICR2:
        reg_set(l, APIC_ICR2, v & 0xFF000000u);
        break;
    case APIC_LVTT: {
        uint32_t old = reg_get(l, APIC_LVTT);
        uint32_t nv = v & lvt_write_mask(offset);
        if (!lapic_sw_enabled(l))
            nv |= LVT_MASKED;
        reg_set(l, APIC_LVTT, nv);
        if ((old ^ nv) & LVT_PERIODIC) /* a mode change restarts the count */
            lapic_timer_start(l, reg_get(l, APIC_TMICT), now);
        break;
    }
    case APIC_LVT_CMCI: case APIC_LVTTHMR: case APIC_LVTPC:
    case APIC_LVT0: case APIC_LVT1: case APIC_LVTERR: {
        uint32_t nv = v & lvt_write_mask(offset);
        if (!lapic_sw_enabled(l))
            nv |= LVT_MASKED;
        reg_set(l, offset, nv);
        break;
    }
    case APIC_TMICT:
        reg_set(l, APIC_TMICT, v);
        lapic_timer_start(l, v, now);
        break;
    case APIC_TDCR: {
        uint32_t left = lapic_current_count(l, now);
        reg_set(l, APIC_TDCR, v & 0xB);
        if (l->deadline != UINT64_MAX)
            lapic_timer_start(l, left, now);
        break;
    }
    case APIC_VER: case APIC_APR: case APIC_PPR: case APIC_RRD: case APIC_TMCCT:
        break; /* read-only */
    default:
        if (offset >= APIC_ISR && offset < APIC_ESR)
            break; /* ISR, TMR, IRR are read-only */
        lapic_error(l, ESR_ILLEGAL_REG);
        break;
    }
    pthread_mutex_unlock(&l->lock);
    if (eoi_vector >= 0)
        ioapic_eoi(l->vm, (uint8_t)eoi_vector);
    if (ipi.send)
        apic_send(l->vm, l, ipi.shorthand, ipi.dest, ipi.logical, ipi.mode, ipi.vector, ipi.level);
}

void lapic_mmio_write(struct lapic *l, uint32_t offset, uint32_t value)
{
    lapic_mmio_write_at(l, offset, value, vm_clock_ns());
}

/* ---- snapshots ---- */

void lapic_get_state(struct lapic *l, uint8_t regs[CPU_LAPIC_REGS_SIZE])
{
    uint64_t now = vm_clock_ns();
    pthread_mutex_lock(&l->lock);
    reg_set(l, APIC_PPR, lapic_ppr(l));
    reg_set(l, APIC_APR, lapic_apr(l));
    reg_set(l, APIC_TMCCT, lapic_current_count(l, now));
    memcpy(regs, l->regs, CPU_LAPIC_REGS_SIZE);
    pthread_mutex_unlock(&l->lock);
}

void lapic_set_state(struct lapic *l, const uint8_t regs[CPU_LAPIC_REGS_SIZE])
{
    uint64_t now = vm_clock_ns();
    pthread_mutex_lock(&l->lock);
    memcpy(l->regs, regs, CPU_LAPIC_REGS_SIZE);
    reg_set(l, APIC_VER, APIC_VERSION);
    reg_set(l, APIC_LVTT, reg_get(l, APIC_LVTT) & lvt_write_mask(APIC_LVTT));
    reg_set(l, APIC_TDCR, reg_get(l, APIC_TDCR) & 0xB);
    l->esr_pending = 0;
    l->extint_pending = false;
    /* The timer resumes with the count it had when the state was taken. */
    l->deadline = UINT64_MAX;
    l->period_ns = 0;
    lapic_timer_start(l, reg_get(l, APIC_TMCCT), now);
    pthread_mutex_unlock(&l->lock);
}

struct lapic *lapic_create(struct vcpu *cpu)
{
    struct lapic *l = calloc(1, sizeof(*l));
    if (!l) {
        err_set(-ENOMEM, "lapic %d: out of memory", cpu->index);
        return NULL;
    }
    l->cpu = cpu;
    l->vm = cpu->vm;
    l->sipi_vector = -1;
    pthread_mutex_init(&l->lock, NULL);
    lapic_reset(l);
    return l;
}

void lapic_destroy(struct lapic *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}
