/* Is KVM usable here, and does it run guest code at hardware speed?
 *
 * Usable means: the device opens, speaks API 12, has every capability
 * brume relies on, and runs a tiny real-mode guest to completion. That
 * guest is also the calibration: a counted loop of DEC/JNZ ending in OUT,
 * timed against a run of the same code with a count of one, gives the cost
 * of a guest instruction without the cost of entering and leaving the
 * guest. On hardware that is a fraction of a nanosecond; where KVM itself
 * is nested inside an emulator it is microseconds, and --accel auto must
 * then prefer brume's own engine. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "accel/kvm/kvm.h"
#include "vm/machine.h"

const struct kvm_cap_need kvm_caps_needed[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
    {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
    {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
    {KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS"},
    {KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
};
const int kvm_ncaps_needed = sizeof kvm_caps_needed / sizeof kvm_caps_needed[0];

#define CALIB_CODE_GPA  0x1000u
#define CALIB_MEM_SIZE  0x2000u
#define CALIB_PORT      0x10u
#define CALIB_TIMEOUT_S 2

/* 16-bit real-mode code: mov ecx, count; 1: dec ecx; jnz 1b; out 0x10, al; hlt */
static size_t calib_code(uint8_t *p, uint32_t count)
{
    static const uint8_t code[] = {
        0x66, 0xb9, 0, 0, 0, 0,   /* mov ecx, imm32 */
        0x66, 0x49,               /* dec ecx */
        0x75, 0xfc,               /* jnz -4 (the dec) */
        0xe6, CALIB_PORT,         /* out CALIB_PORT, al */
        0xf4,                     /* hlt */
    };
    memcpy(p, code, sizeof code);
    memcpy(p + 2, &count, 4);
    return sizeof code;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct calib {
    int vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *mem;
    timer_t timer;
    bool have_timer;
};

static void calib_free(struct calib *c)
{
    if (c->have_timer)
        timer_delete(c->timer);
    if (c->run && c->run != MAP_FAILED)
        munmap(c->run, c->run_size);
    if (c->mem && c->mem != MAP_FAILED)
        munmap(c->mem, CALIB_MEM_SIZE);
    if (c->vcpu_fd >= 0)
        close(c->vcpu_fd);
    if (c->vm_fd >= 0)
        close(c->vm_fd);
}

/* Runs the loop once with count; *ns gets the time KVM_RUN took. */
static int calib_run(struct calib *c, uint32_t count, uint64_t *ns, char *why, size_t n)
{
    calib_code(c->mem + CALIB_CODE_GPA, count);
    struct kvm_regs regs = {.rip = CALIB_CODE_GPA, .rflags = 2};
    if (ioctl(c->vcpu_fd, KVM_SET_REGS, &regs) < 0) {
        snprintf(why, n, "KVM_SET_REGS failed: %s", strerror(errno));
        return -1;
    }
    /* a watchdog so that a guest that never exits cannot hang the probe */
    struct itimerspec its = {.it_value = {.tv_sec = CALIB_TIMEOUT_S}};
    timer_settime(c->timer, 0, &its, NULL);
    uint64_t t0 = now_ns();
    int rc = ioctl(c->vcpu_fd, KVM_RUN, 0);
    uint64_t t1 = now_ns();
    int err = errno;
    struct itimerspec off = {0};
    timer_settime(c->timer, 0, &off, NULL);
    if (rc < 0) {
        snprintf(why, n, "calibration guest did not finish: KVM_RUN: %s", strerror(err));
        return -1;
    }
    if (c->run->exit_reason != KVM_EXIT_IO || c->run->io.port != CALIB_PORT) {
        snprintf(why, n, "calibration guest stopped with %s (exit %u) instead of OUT",
                 kvm_exit_name(c->run->exit_reason), c->run->exit_reason);
        return -1;
    }
    /* complete the OUT before the next KVM_SET_REGS (KVM finishes port I/O
     * on the next entry) */
    c->run->immediate_exit = 1;
    ioctl(c->vcpu_fd, KVM_RUN, 0);
    c->run->immediate_exit = 0;
    *ns = t1 - t0;
    return 0;
}

/* Builds a one-vCPU VM without irqchip and measures ns per instruction. */
static int calibrate(int sys_fd, size_t run_size, double *ns_per_insn, char *why, size_t n)
{
    struct calib c = {.vm_fd = -1, .vcpu_fd = -1, .run_size = run_size};
    int ret = -1;

    /* the watchdog's signal must get through while KVM_RUN blocks */
    kvm_kick_signal_install();
    sigset_t kick, old;
    sigemptyset(&kick);
    sigaddset(&kick, KVM_KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &kick, &old);
    c.vm_fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
    if (c.vm_fd < 0) {
        snprintf(why, n, "KVM_CREATE_VM failed: %s", strerror(errno));
        goto out;
    }
    uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
    if (ioctl(c.vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 ||
        ioctl(c.vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
        snprintf(why, n, "KVM_SET_TSS_ADDR failed: %s", strerror(errno));
        goto out;
    }
    c.mem = mmap(NULL, CALIB_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c.mem == MAP_FAILED) {
        snprintf(why, n, "out of memory for the calibration guest");
        goto out;
    }
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = CALIB_MEM_SIZE,
        .userspace_addr = (uintptr_t)c.mem,
    };
    if (ioctl(c.vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        snprintf(why, n, "KVM_SET_USER_MEMORY_REGION failed: %s", strerror(errno));
        goto out;
    }
    c.vcpu_fd = ioctl(c.vm_fd, KVM_CREATE_VCPU, 0);
    if (c.vcpu_fd < 0) {
        snprintf(why, n, "KVM_CREATE_VCPU failed: %s", strerror(errno));
        goto out;
    }
    c.run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c.vcpu_fd, 0);
    if (c.run == MAP_FAILED) {
        snprintf(why, n, "mmap of the vCPU failed: %s", strerror(errno));
        goto out;
    }
    struct kvm_sregs sregs;
    if (ioctl(c.vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
        snprintf(why, n, "KVM_GET_SREGS failed: %s", strerror(errno));
        goto out;
    }
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(c.vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
        snprintf(why, n, "KVM_SET_SREGS failed: %s", strerror(errno));
        goto out;
    }
    struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = KVM_KICK_SIGNAL};
    sev._sigev_un._tid = gettid();  /* sigev_notify_thread_id in newer glibc */
    if (timer_create(CLOCK_MONOTONIC, &sev, &c.timer) < 0) {
        snprintf(why, n, "timer_create failed: %s", strerror(errno));
        goto out;
    }
    c.have_timer = true;

    /* one iteration: the cost of entering and leaving the guest */
    uint64_t base = UINT64_MAX, t;
    for (int i = 0; i < 3; i++) {
        if (calib_run(&c, 1, &t, why, n) < 0)
            goto out;
        if (t < base)
            base = t;
    }
    /* a short loop first: an emulated KVM shows itself within 2000
     * instructions, and the long loop would cost it 100 ms */
    uint32_t count = 1000;
    if (calib_run(&c, count, &t, why, n) < 0)
        goto out;
    double ns = t > base ? (double)(t - base) / (2.0 * (count - 1)) : 0.0;
    if (ns < 10 * KVM_AUTO_MAX_NS_PER_INSN) {
        count = 50000;
        uint64_t best = UINT64_MAX;
        for (int i = 0; i < 3; i++) {
            if (calib_run(&c, count, &t, why, n) < 0)
                goto out;
            if (t < best)
                best = t;
        }
        ns = best > base ? (double)(best - base) / (2.0 * (count - 1)) : 0.0;
    }
    /* a loop faster than the clock can tell is still hardware speed */
    *ns_per_insn = ns > 0.01 ? ns : 0.01;
    ret = 0;
out:
    calib_free(&c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ret;
}

int kvm_probe_path(const char *path, struct accel_probe *p)
{
    memset(p, 0, sizeof *p);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            snprintf(p->reason, sizeof p->reason, "no %s", path);
        else if (errno == EACCES || errno == EPERM)
            snprintf(p->reason, sizeof p->reason, "%s: permission denied (is the user in group kvm?)", path);
        else
            snprintf(p->reason, sizeof p->reason, "%s: %s", path, strerror(errno));
        return 0;
    }
    int api = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        if (api < 0)
            snprintf(p->reason, sizeof p->reason, "%s is not a KVM device (KVM_GET_API_VERSION: %s)",
                     path, strerror(errno));
        else
            snprintf(p->reason, sizeof p->reason, "%s speaks KVM API %d, brume needs %d",
                     path, api, KVM_API_VERSION);
        goto out;
    }
    for (int i = 0; i < kvm_ncaps_needed; i++) {
        if (ioctl(fd, KVM_CHECK_EXTENSION, kvm_caps_needed[i].cap) <= 0) {
            snprintf(p->reason, sizeof p->reason, "%s lacks %s", path, kvm_caps_needed[i].name);
            goto out;
        }
    }
    int max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (max <= 0)
        max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    if (max <= 0)
        max = 4;   /* the API's documented default */
    p->max_cpus = max < MACHINE_MAX_CPUS ? max : MACHINE_MAX_CPUS;

    int run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run)) {
        snprintf(p->reason, sizeof p->reason, "%s: bad KVM_GET_VCPU_MMAP_SIZE %d", path, run_size);
        goto out;
    }
    char why[sizeof p->reason];
    if (calibrate(fd, (size_t)run_size, &p->ns_per_insn, why, sizeof why) < 0) {
        snprintf(p->reason, sizeof p->reason, "%.32s: %.120s", path, why);
        p->ns_per_insn = 0;
        goto out;
    }
    char cost[32];
    kvm_format_ns(p->ns_per_insn, cost, sizeof cost);
    snprintf(p->reason, sizeof p->reason, "%s runs guest code at %s per instruction", path, cost);
    p->usable = true;
out:
    close(fd);
    return 0;
}

void kvm_format_ns(double ns, char *buf, size_t n)
{
    if (ns >= 1000.0)
        snprintf(buf, n, "%.1f µs", ns / 1000.0);
    else
        snprintf(buf, n, "%.1f ns", ns);
}

bool kvm_auto_verdict(const struct accel_probe *p, char *why, size_t n)
{
    if (!p->usable) {
        snprintf(why, n, "auto: using emu (%s)", p->reason[0] ? p->reason : "kvm is not usable");
        return false;
    }
    char cost[32];
    kvm_format_ns(p->ns_per_insn, cost, sizeof cost);
    if (p->ns_per_insn <= 0) {
        snprintf(why, n, "auto: using emu (the speed of /dev/kvm is unknown)");
        return false;
    }
    if (p->ns_per_insn >= KVM_AUTO_MAX_NS_PER_INSN) {
        snprintf(why, n, "auto: using emu (/dev/kvm runs guest code at %s per instruction, emulated)", cost);
        return false;
    }
    snprintf(why, n, "auto: using kvm (%s per guest instruction)", cost);
    return true;
}
