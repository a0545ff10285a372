/* emucore: boots a test guest with brume's boot path on the emu CPU core
 * alone, with a minimal platform instead of brume's devices: COM1 output,
 * the ACPI PM1a control block (S5 = power off) and PM timer, the i8042
 * reset command, a CMOS clock read from the host, and a local APIC that
 * only has an ID. It takes the same options as `brume run` and follows
 * its exit status (0 for power-off and reset, 1 for a triple fault or an
 * error, with a "brume: " line), so tests/guests/run-guest.sh can drive it
 * with BRUME=.../guest-emucore.
 *
 * Why: it checks boot_linux()'s memory image and entry state against the
 * real CPU core, independently of the VM lifecycle and the device models
 * (and before they exist). Guests that need interrupts (timer, smp) need
 * the real machine. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accel/emu/emu.h"
#include "boot/boot.h"
#include "util/log.h"
#include "util/size.h"
#include "vm/machine.h"
#include "vm/memory.h"
#include "vm/vm.h"

enum { RUNNING, POWEROFF, RESET, TRIPLE, ERROR };

struct plat {
    struct emu_cpu cpu;         /* first: the host callbacks get &cpu */
    struct vm vm;
    int stop;
    char why[256];
    uint8_t cmos_index;
    uint64_t t0;
    pthread_mutex_t split_lock;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct plat *plat_of(struct emu_cpu *c)
{
    return (struct plat *)c;
}

static bool lapic_page(uint64_t gpa)
{
    return (gpa & ~0xFFFull) == LAPIC_ADDR;
}

static uint8_t *ram_page(struct emu_cpu *c, uint64_t gpa)
{
    if (lapic_page(gpa))
        return NULL;
    return gpa_to_hva(&plat_of(c)->vm.mem, gpa & ~0xFFFull, 0x1000);
}

static uint64_t mmio_read(struct emu_cpu *c, uint64_t gpa, unsigned size)
{
    (void)c;
    if (lapic_page(gpa))
        return (gpa & 0xFFF) == 0x30 ? 0x00050014 : 0;   /* version; ID 0 */
    return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void mmio_write(struct emu_cpu *c, uint64_t gpa, unsigned size, uint64_t v)
{
    (void)c; (void)gpa; (void)size; (void)v;
}

static uint8_t bcd(int v)
{
    return (uint8_t)((v / 10) << 4 | (v % 10));
}

static uint8_t cmos_read(uint8_t index)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    switch (index) {
    case 0x00: return bcd(tm.tm_sec);
    case 0x02: return bcd(tm.tm_min);
    case 0x04: return bcd(tm.tm_hour);
    case 0x07: return bcd(tm.tm_mday);
    case 0x08: return bcd(tm.tm_mon + 1);
    case 0x09: return bcd(tm.tm_year % 100);
    case 0x32: return bcd((tm.tm_year + 1900) / 100);
    case 0x0A: return 0x26;
    case 0x0B: return 0x02;      /* 24 hours, BCD */
    default: return 0;
    }
}

static uint64_t pio_in(struct emu_cpu *c, uint16_t port, unsigned size)
{
    struct plat *p = plat_of(c);
    if (port == PORT_COM1 + 5)
        return 0x60;                                  /* transmitter empty */
    if (port == PORT_RTC + 1)
        return cmos_read(p->cmos_index);
    if (port == PORT_ACPI_PM_TMR && size == 4)
        return (uint32_t)((now_ns() - p->t0) * ACPI_PM_TIMER_HZ / 1000000000ull);
    return size == 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1;
}

static void pio_out(struct emu_cpu *c, uint16_t port, unsigned size, uint64_t v)
{
    struct plat *p = plat_of(c);
    (void)size;
    if (port == PORT_COM1) {
        char ch = (char)v;
        if (write(STDOUT_FILENO, &ch, 1) < 0)
            p->stop = ERROR;
    } else if (port == PORT_RTC) {
        p->cmos_index = (uint8_t)(v & 0x7F);
    } else if (port == PORT_ACPI_PM1A_CNT && (v & (1u << 13))) {
        if (((v >> 10) & 7) == ACPI_S5_SLP_TYP) {
            p->stop = POWEROFF;
            c->exit = EMU_EXIT_KICK;
        }
    } else if (port == PORT_I8042_CMD && (v & 0xFF) == 0xFE) {
        p->stop = RESET;
        c->exit = EMU_EXIT_KICK;
    }
}

static uint64_t clock_ns(struct emu_cpu *c)
{
    (void)c;
    return now_ns();
}

static const struct emu_host_ops host = {
    .ram_page = ram_page, .mmio_read = mmio_read, .mmio_write = mmio_write,
    .pio_in = pio_in, .pio_out = pio_out, .clock_ns = clock_ns,
};

static int usage(void)
{
    fprintf(stderr, "usage: guest-emucore run --kernel PATH [--initrd PATH] [--append CMDLINE] [--mem SIZE] "
                    "[--cpus N] [--accel emu] [--console stdio]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "run") != 0)
        return usage();
    static struct plat p;
    struct vm_config *cfg = &p.vm.config;
    cfg->cmdline = "console=ttyS0 reboot=k panic=1";
    cfg->mem_size = 512ull << 20;
    cfg->ncpus = 1;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        i++;
        if (strcmp(o, "--kernel") == 0)
            cfg->kernel_path = v;
        else if (strcmp(o, "--initrd") == 0)
            cfg->initrd_path = v;
        else if (strcmp(o, "--append") == 0)
            cfg->cmdline = v;
        else if (strcmp(o, "--mem") == 0) {
            if (size_parse(v, &cfg->mem_size) < 0)
                return usage();
        } else if (strcmp(o, "--cpus") == 0)
            cfg->ncpus = atoi(v);
        else if (strcmp(o, "--accel") != 0 && strcmp(o, "--console") != 0)
            return usage();
    }
    p.vm.ncpus = cfg->ncpus;
    if (guest_memory_init(&p.vm.mem, cfg->mem_size) < 0) {
        fprintf(stderr, "brume: %s\n", err_get());
        return 1;
    }
    struct cpu_state st;
    memset(&st, 0, sizeof(st));
    if (boot_linux(&p.vm, &st) < 0) {
        fprintf(stderr, "brume: %s\n", err_get());
        return 1;
    }

    struct emu_cpu *c = &p.cpu;
    pthread_mutex_init(&p.split_lock, NULL);
    c->host = &host;
    c->split_lock = &p.split_lock;
    c->apic_id = 0;
    emu_cpu_reset(c);
    emu_set_state(c, &st);
    p.t0 = now_ns();

    /* Bounded: a guest that never ends is an error, not a hang. */
    uint64_t deadline = now_ns() + 60ull * 1000000000ull;
    while (p.stop == RUNNING) {
        if (now_ns() > deadline) {
            p.stop = ERROR;
            snprintf(p.why, sizeof(p.why), "emucore: the guest ran for 60 s without ending (RIP 0x%llx)",
                     (unsigned long long)c->rip);
            break;
        }
        c->exit = EMU_EXIT_NONE;
        emu_run(c, 100000);
        switch (c->exit) {
        case EMU_EXIT_HLT:
            p.stop = ERROR;
            snprintf(p.why, sizeof(p.why), "emucore: HLT at RIP 0x%llx; this platform has no interrupts",
                     (unsigned long long)c->rip);
            break;
        case EMU_EXIT_UNIMPL:
        case EMU_EXIT_ERROR:
            p.stop = ERROR;
            snprintf(p.why, sizeof(p.why), "%s", c->exit_msg);
            break;
        case EMU_EXIT_TRIPLE_FAULT:
            p.stop = TRIPLE;
            snprintf(p.why, sizeof(p.why), "triple fault: %s", c->exit_msg);
            break;
        default:
            break;
        }
    }
    guest_memory_destroy(&p.vm.mem);
    switch (p.stop) {
    case POWEROFF:
        fprintf(stderr, "brume: emucore: the guest powered off after %llu instructions\n",
                (unsigned long long)c->insns);
        return 0;
    case RESET:
        fprintf(stderr, "brume: emucore: the guest reset the machine\n");
        return 0;
    default:
        fprintf(stderr, "brume: %s\n", p.why);
        return 1;
    }
}
