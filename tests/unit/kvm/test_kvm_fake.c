/* The kvm engine against a scripted stand-in for /dev/kvm, so that the
 * ioctl sequences run on hosts without KVM: VM set-up order and contents,
 * vCPU set-up (CPUID before MSRs, the boot MSRs, LINT0/LINT1), the order of
 * state writes, and the KVM_RUN loop with port, MMIO, triple-fault and
 * internal-error exits and a kick from another thread.
 *
 * The test links with -Wl,--wrap=ioctl,--wrap=open,--wrap=open64: the
 * engine's calls land in __wrap_* below. The fake's fds are memfds, so the
 * engine's mmap of the vCPU fd is a real shared mapping. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "accel/kvm/kvm.h"
#include "util/log.h"
#include "vm/vm.h"

#define FAKE_RUN_SIZE 8192

int __real_ioctl(int fd, unsigned long req, ...);
int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);

enum step_kind { STEP_IO_OUT, STEP_IO_IN, STEP_MMIO_READ, STEP_SHUTDOWN, STEP_EMUL_FAIL, STEP_BLOCK };

static struct fake {
    int sys_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;   /* the fake's own view of the vCPU page */
    unsigned long log[512];
    int nlog;
    uint64_t idmap, tss;
    struct kvm_userspace_memory_region slots[4];
    int nslots;
    int pit_flags;
    struct kvm_irq_routing_entry routes[64];
    int nroutes;
    struct kvm_cpuid_entry2 cpuid[64];
    int ncpuid;
    struct { uint32_t index; uint64_t data; } msrs[64];
    int nmsrs;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
    enum step_kind script[16];
    int nscript, pos;
    int runs, eintr_runs;
    bool calib;                /* answer KVM_RUN like the probe's guest */
    uint32_t calib_counts[16];
    bool pmu_disabled;
    long slow_ns;              /* pretend each guest instruction costs this */
    int ncalib;
} F;

static void log_req(unsigned long req)
{
    if (F.nlog < 512)
        F.log[F.nlog++] = req;
}

static int first(unsigned long req)
{
    for (int i = 0; i < F.nlog; i++)
        if (F.log[i] == req)
            return i;
    return -1;
}

static int last(unsigned long req)
{
    for (int i = F.nlog - 1; i >= 0; i--)
        if (F.log[i] == req)
            return i;
    return -1;
}

static int fake_fd(const char *name, size_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd >= 0 && size)
        CHECK_EQ(ftruncate(fd, (off_t)size), 0);
    return fd;
}

int __wrap_open(const char *path, int flags, ...)
{
    if (strcmp(path, "/dev/kvm") == 0)
        return F.sys_fd = fake_fd("fake-kvm", 0);
    va_list ap;
    va_start(ap, flags);
    int mode = va_arg(ap, int);
    va_end(ap);
    return __real_open(path, flags, mode);
}

int __wrap_open64(const char *path, int flags, ...)
{
    if (strcmp(path, "/dev/kvm") == 0)
        return F.sys_fd = fake_fd("fake-kvm", 0);
    va_list ap;
    va_start(ap, flags);
    int mode = va_arg(ap, int);
    va_end(ap);
    return __real_open64(path, flags, mode);
}

static const uint32_t host_msr_index[] = {MSR_STAR, MSR_LSTAR, MSR_TSC_AUX, MSR_IA32_TSC};

static int fake_run(void)
{
    struct kvm_run *run = F.run;
    F.runs++;
    if (run->immediate_exit) {
        F.eintr_runs++;
        errno = EINTR;
        return -1;
    }
    uint8_t *data = (uint8_t *)run + 4096;
    if (F.calib) {
        /* the probe's loop: mov ecx, count; dec ecx; jnz; out 0x10, al */
        const uint8_t *code = (const uint8_t *)(uintptr_t)F.slots[F.nslots - 1].userspace_addr + 0x1000;
        CHECK(code[0] == 0x66 && code[1] == 0xb9 && code[6] == 0x66 && code[7] == 0x49 &&
              code[8] == 0x75 && code[9] == 0xfc && code[10] == 0xe6);
        CHECK_EQ(F.regs.rip, 0x1000);
        CHECK_EQ(F.sregs.cs.base, 0);
        uint32_t count;
        memcpy(&count, code + 2, 4);
        if (F.ncalib < 16)
            F.calib_counts[F.ncalib++] = count;
        if (F.slow_ns) {
            /* busy-wait: sleeping is far too coarse on some hosts */
            long ns = F.slow_ns * 2 * (long)count;
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            do
                clock_gettime(CLOCK_MONOTONIC, &b);
            while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < ns);
        }
        run->exit_reason = KVM_EXIT_IO;
        run->io.direction = KVM_EXIT_IO_OUT;
        run->io.size = 1;
        run->io.port = code[11];
        run->io.count = 1;
        run->io.data_offset = 4096;
        return 0;
    }
    if (F.pos >= F.nscript) {
        run->exit_reason = KVM_EXIT_HLT;   /* off the script: treated as an error */
        return 0;
    }
    switch (F.script[F.pos++]) {
    case STEP_IO_OUT:
        run->exit_reason = KVM_EXIT_IO;
        run->io.direction = KVM_EXIT_IO_OUT;
        run->io.size = 1;
        run->io.port = 0x3f8;
        run->io.count = 2;
        run->io.data_offset = 4096;
        memcpy(data, "hi", 2);
        break;
    case STEP_IO_IN:
        run->exit_reason = KVM_EXIT_IO;
        run->io.direction = KVM_EXIT_IO_IN;
        run->io.size = 1;
        run->io.port = 0x3f9;
        run->io.count = 1;
        run->io.data_offset = 4096;
        data[0] = 0;
        break;
    case STEP_MMIO_READ:
        run->exit_reason = KVM_EXIT_MMIO;
        run->mmio.phys_addr = 0xD0000000;
        run->mmio.len = 4;
        run->mmio.is_write = 0;
        break;
    case STEP_SHUTDOWN:
        run->exit_reason = KVM_EXIT_SHUTDOWN;
        break;
    case STEP_EMUL_FAIL:
        run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
        run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
        run->emulation_failure.ndata = 3;
        run->emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
        run->emulation_failure.insn_size = 4;
        memcpy(run->emulation_failure.insn_bytes, "\x48\x0f\xc7\x0f", 4);   /* cmpxchg16b */
        break;
    case STEP_BLOCK:
        /* a guest in HLT: KVM_RUN sleeps until a signal arrives */
        for (int i = 0; i < 5000 && !run->immediate_exit; i++) {
            struct timespec ts = {.tv_nsec = 1000000};
            if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
                break;
        }
        F.eintr_runs++;
        run->exit_reason = KVM_EXIT_INTR;
        errno = EINTR;
        return -1;
    }
    return 0;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (fd != F.sys_fd && fd != F.vm_fd && fd != F.vcpu_fd)
        return __real_ioctl(fd, req, arg);
    log_req(req);

    switch (req) {
    case KVM_GET_API_VERSION: return 12;
    case KVM_CHECK_EXTENSION: return 1;
    case KVM_GET_VCPU_MMAP_SIZE: return FAKE_RUN_SIZE;
    case KVM_CREATE_VM: return F.vm_fd = fake_fd("fake-vm", 0);
    case KVM_SET_IDENTITY_MAP_ADDR: F.idmap = *(uint64_t *)arg; return 0;
    case KVM_SET_TSS_ADDR: F.tss = (uint64_t)(uintptr_t)arg; return 0;
    case KVM_SET_USER_MEMORY_REGION:
        if (F.nslots < 4)
            F.slots[F.nslots++] = *(struct kvm_userspace_memory_region *)arg;
        return 0;
    case KVM_CREATE_IRQCHIP: return 0;
    case KVM_ENABLE_CAP: {
        struct kvm_enable_cap *c = arg;
        F.pmu_disabled = c->cap == KVM_CAP_PMU_CAPABILITY && c->args[0] == KVM_PMU_CAP_DISABLE;
        return 0;
    }
    case KVM_CREATE_PIT2: F.pit_flags = (int)((struct kvm_pit_config *)arg)->flags; return 0;
    case KVM_SET_GSI_ROUTING: {
        struct kvm_irq_routing *r = arg;
        F.nroutes = (int)r->nr;
        memcpy(F.routes, r->entries, r->nr * sizeof r->entries[0]);
        return 0;
    }
    case KVM_GET_SUPPORTED_CPUID: {
        struct kvm_cpuid2 *c = arg;
        static const struct kvm_cpuid_entry2 host[] = {
            {.function = 0, .eax = 0xd},
            {.function = 1, .ecx = (1u << 26) | (1u << 20), .edx = 1 | (1u << 25)},
            {.function = 0xb, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX},
            {.function = 0xd, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 7},
            {.function = 0x80000000, .eax = 0x80000008},
        };
        if (c->nent < 5) {
            errno = E2BIG;
            return -1;
        }
        c->nent = 5;
        memcpy(c->entries, host, sizeof host);
        return 0;
    }
    case KVM_GET_MSR_INDEX_LIST: {
        struct kvm_msr_list *l = arg;
        uint32_t n = sizeof host_msr_index / sizeof host_msr_index[0];
        if (l->nmsrs < n) {
            l->nmsrs = n;
            errno = E2BIG;
            return -1;
        }
        l->nmsrs = n;
        memcpy(l->indices, host_msr_index, sizeof host_msr_index);
        return 0;
    }
    case KVM_CREATE_VCPU: {
        if (F.run)
            munmap(F.run, FAKE_RUN_SIZE);
        F.vcpu_fd = fake_fd("fake-vcpu", FAKE_RUN_SIZE);
        F.run = mmap(NULL, FAKE_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, F.vcpu_fd, 0);
        F.lapic.regs[0x23] = (char)(uintptr_t)arg;   /* APIC ID = vcpu id */
        F.lapic.regs[0x30] = 0x14;
        return F.vcpu_fd;
    }
    case KVM_GET_TSC_KHZ: return 2500000;
    case KVM_SET_CPUID2: {
        struct kvm_cpuid2 *c = arg;
        F.ncpuid = (int)c->nent;
        memcpy(F.cpuid, c->entries, c->nent * sizeof c->entries[0]);
        return 0;
    }
    case KVM_SET_MSRS: {
        struct kvm_msrs *m = arg;
        for (uint32_t i = 0; i < m->nmsrs; i++) {
            int j;
            for (j = 0; j < F.nmsrs && F.msrs[j].index != m->entries[i].index; j++)
                ;
            if (j == F.nmsrs && F.nmsrs < 64)
                F.nmsrs++;
            F.msrs[j].index = m->entries[i].index;
            F.msrs[j].data = m->entries[i].data;
        }
        return (int)m->nmsrs;
    }
    case KVM_GET_MSRS: {
        struct kvm_msrs *m = arg;
        for (uint32_t i = 0; i < m->nmsrs; i++) {
            m->entries[i].data = 0;
            for (int j = 0; j < F.nmsrs; j++)
                if (F.msrs[j].index == m->entries[i].index)
                    m->entries[i].data = F.msrs[j].data;
        }
        return (int)m->nmsrs;
    }
    case KVM_GET_LAPIC: *(struct kvm_lapic_state *)arg = F.lapic; return 0;
    case KVM_SET_LAPIC: F.lapic = *(struct kvm_lapic_state *)arg; return 0;
    case KVM_GET_REGS: *(struct kvm_regs *)arg = F.regs; return 0;
    case KVM_SET_REGS: F.regs = *(struct kvm_regs *)arg; return 0;
    case KVM_GET_SREGS: *(struct kvm_sregs *)arg = F.sregs; return 0;
    case KVM_SET_SREGS: F.sregs = *(struct kvm_sregs *)arg; return 0;
    case KVM_GET_MP_STATE: *(struct kvm_mp_state *)arg = F.mp; return 0;
    case KVM_SET_MP_STATE: F.mp = *(struct kvm_mp_state *)arg; return 0;
    case KVM_GET_FPU: memset(arg, 0, sizeof(struct kvm_fpu)); return 0;
    case KVM_GET_DEBUGREGS: memset(arg, 0, sizeof(struct kvm_debugregs)); return 0;
    case KVM_GET_VCPU_EVENTS: memset(arg, 0, sizeof(struct kvm_vcpu_events)); return 0;
    case KVM_SET_FPU: case KVM_SET_DEBUGREGS: case KVM_SET_VCPU_EVENTS: return 0;
    case KVM_IRQ_LINE: return 0;
    case KVM_RUN: return fake_run();
    }
    errno = ENOTTY;
    return -1;
}

/* ---- devices for the run loop ---- */

static char out[16];
static int nout;

static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
    (void)opaque; (void)size;
    return 0xA0 + off;
}

static void dev_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    (void)opaque; (void)off; (void)size;
    if (nout < 15)
        out[nout++] = (char)val;
}

static const struct bus_ops dev_ops = {dev_read, dev_write};

static void *stop_later(void *arg)
{
    struct timespec ts = {.tv_nsec = 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    vm_request_stop(arg, VM_STOP_USER, NULL);
    return NULL;
}

static void script(struct vm *vm, const enum step_kind *steps, int n)
{
    memcpy(F.script, steps, (size_t)n * sizeof *steps);
    F.nscript = n;
    F.pos = 0;
    atomic_store(&vm->stop_reason, VM_RUNNING);
    vm->stop_message[0] = '\0';
}

int main(void)
{
    F.sys_fd = F.vm_fd = F.vcpu_fd = -1;
    static struct vm vm;
    static struct vcpu cpu;
    pthread_mutex_init(&vm.stop_lock, NULL);
    pthread_cond_init(&vm.stopped, NULL);
    vm.accel = &accel_kvm_ops;
    vm.config.ncpus = 2;
    vm.ncpus = 1;
    vm.vcpus = &cpu;
    cpu.vm = &vm;
    cpu.index = 0;
    CHECK_EQ(guest_memory_init(&vm.mem, 4ull << 20), 0);
    CHECK_EQ(bus_register(&vm.pio, 0x3f8, 8, &dev_ops, NULL, "com1"), 0);
    CHECK_EQ(bus_register(&vm.mmio, 0xD0000000, 0x1000, &dev_ops, NULL, "virtio0"), 0);

    /* ---- the probe: capabilities, then the calibration guest ---- */
    struct accel_probe p;
    F.calib = true;
    CHECK_EQ(kvm_probe_path("/dev/kvm", &p), 0);
    F.calib = false;
    if (!p.usable)
        fprintf(stderr, "probe: %s\n", p.reason);
    CHECK(p.usable);
    CHECK(strstr(p.reason, "/dev/kvm runs guest code at") != NULL);
    CHECK(p.ns_per_insn > 0);
    CHECK_EQ(p.max_cpus, 1);   /* KVM_CHECK_EXTENSION answers 1 here */
    CHECK(first(KVM_CHECK_EXTENSION) >= 0);
    CHECK(first(KVM_SET_TSS_ADDR) < first(KVM_CREATE_VCPU));
    /* a count of one (entry and exit cost), then the loops */
    CHECK(F.ncalib >= 5);
    CHECK_EQ(F.calib_counts[0], 1);
    CHECK_EQ(F.calib_counts[3], 1000);
    CHECK_EQ(F.calib_counts[F.ncalib - 1], 50000);
    /* every OUT is completed with an immediate-exit entry */
    CHECK_EQ(F.eintr_runs, F.ncalib);

    /* a KVM that is itself emulated: 1.5 µs per instruction. The short
     * loop already tells, the long one is skipped, and auto picks emu. */
    F.nlog = F.nslots = F.eintr_runs = F.ncalib = 0;
    F.slow_ns = 1500;
    F.calib = true;
    CHECK_EQ(kvm_probe_path("/dev/kvm", &p), 0);
    F.calib = false;
    F.slow_ns = 0;
    CHECK(p.usable);
    CHECK(p.ns_per_insn >= KVM_AUTO_MAX_NS_PER_INSN);   /* >= 1.5 µs less noise: no timing asserted */
    CHECK_EQ(F.ncalib, 4);
    CHECK_EQ(F.calib_counts[3], 1000);
    char why[200];
    CHECK(!kvm_auto_verdict(&p, why, sizeof why));
    CHECK(strstr(why, "auto: using emu (/dev/kvm runs guest code at ") == why);
    CHECK(strstr(why, " per instruction, emulated)") != NULL);
    printf("%s\n", why);
    F.nlog = F.nslots = F.eintr_runs = 0;

    /* ---- vm_init ---- */
    int rc = accel_kvm_ops.vm_init(&vm);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "vm_init: %s\n", err_get());
        return 1;
    }
    CHECK_EQ(F.idmap, KVM_IDENTITY_MAP_ADDR);
    CHECK_EQ(F.tss, KVM_TSS_ADDR);
    CHECK_EQ(F.nslots, vm.mem.nregions);
    CHECK_EQ(F.slots[0].guest_phys_addr, 0);
    CHECK_EQ(F.slots[0].memory_size, 4ull << 20);
    CHECK_EQ(F.slots[0].userspace_addr, (uintptr_t)vm.mem.regions[0].hva);
    CHECK(first(KVM_CREATE_IRQCHIP) >= 0);
    CHECK(first(KVM_CREATE_IRQCHIP) < first(KVM_CREATE_PIT2));
    CHECK(first(KVM_CREATE_PIT2) < first(KVM_SET_GSI_ROUTING));
    CHECK_EQ(F.pit_flags, 0);
    CHECK(F.pmu_disabled);
    CHECK(first(KVM_ENABLE_CAP) < first(KVM_CREATE_IRQCHIP));
    struct kvm_irq_routing_entry want[64];
    int nwant = kvm_gsi_routing_build(want, 64);
    CHECK_EQ(F.nroutes, nwant);
    CHECK(memcmp(F.routes, want, (size_t)nwant * sizeof want[0]) == 0);
    struct kvm_vm_data *k = vm.accel_data;
    /* the optional MSRs follow the index list: TSC_AUX yes, SPEC_CTRL no */
    bool aux = false, spec = false;
    for (int i = 0; i < k->nmsrs; i++) {
        aux |= k->msr_list[i] == MSR_TSC_AUX;
        spec |= k->msr_list[i] == MSR_IA32_SPEC_CTRL;
    }
    CHECK(aux);
    CHECK(!spec);
    CHECK_EQ(k->nmsrs, kvm_nstate_msrs - 1);
    CHECK(k->mxcsr_mask != 0);

    /* ---- vcpu_init ---- */
    rc = accel_kvm_ops.vcpu_init(&cpu);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "vcpu_init: %s\n", err_get());
        return 1;
    }
    CHECK(first(KVM_SET_TSS_ADDR) < first(KVM_CREATE_VCPU));
    CHECK(first(KVM_SET_IDENTITY_MAP_ADDR) < first(KVM_CREATE_VCPU));
    CHECK(first(KVM_SET_CPUID2) < first(KVM_SET_MSRS));
    const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(F.cpuid, F.ncpuid, 1, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK(!(e->ecx & (1u << 26)));    /* XSAVE hidden */
        CHECK(e->ecx & (1u << 20));       /* SSE4.2 kept */
        CHECK(e->ecx & (1u << 31));       /* hypervisor */
        CHECK_EQ((e->ebx >> 16) & 0xff, 2);   /* counted from the config */
    }
    CHECK(kvm_cpuid_find(F.cpuid, F.ncpuid, 0xd, 0) == NULL);
    e = kvm_cpuid_find(F.cpuid, F.ncpuid, 0x15, 0);
    CHECK(e && e->ebx == 2500000);
    uint64_t apic_base = 0, pat = 0, misc = 0;
    for (int i = 0; i < F.nmsrs; i++) {
        if (F.msrs[i].index == MSR_IA32_APIC_BASE) apic_base = F.msrs[i].data;
        if (F.msrs[i].index == MSR_IA32_PAT) pat = F.msrs[i].data;
        if (F.msrs[i].index == MSR_IA32_MISC_ENABLE) misc = F.msrs[i].data;
    }
    CHECK_EQ(apic_base, 0xFEE00900);
    CHECK_EQ(pat, 0x0007040600070406ull);
    CHECK_EQ(misc, 1);
    uint32_t lvt0, lvt1;
    memcpy(&lvt0, F.lapic.regs + 0x350, 4);
    memcpy(&lvt1, F.lapic.regs + 0x360, 4);
    CHECK_EQ(lvt0, 0x700);
    CHECK_EQ(lvt1, 0x400);

    /* ---- state: the write order, and an empty LAPIC page kept out ---- */
    static struct cpu_state s;
    CHECK_EQ(accel_kvm_ops.vcpu_get_state(&cpu, &s), 0);
    CHECK_EQ(s.lapic[0x23], 0);
    CHECK_EQ(s.lapic[0x30], 0x14);
    memset(s.lapic, 0, sizeof s.lapic);
    s.rip = 0x100000;
    s.rflags = RFLAGS_FIXED;
    s.msr.pat = 0x0606060606060606ull;
    int before = F.nlog;
    CHECK_EQ(accel_kvm_ops.vcpu_set_state(&cpu, &s), 0);
    CHECK(last(KVM_SET_LAPIC) < before);   /* not written */
    CHECK_EQ(F.lapic.regs[0x30], 0x14);
    CHECK_EQ(F.regs.rip, 0x100000);
    int sregs = last(KVM_SET_SREGS), msrs = last(KVM_SET_MSRS), mp = last(KVM_SET_MP_STATE),
        ev = last(KVM_SET_VCPU_EVENTS);
    CHECK(sregs > before && sregs < msrs && msrs < mp && mp < ev);
    s.lapic[0x30] = 0x15;
    CHECK_EQ(accel_kvm_ops.vcpu_set_state(&cpu, &s), 0);
    CHECK(last(KVM_SET_LAPIC) > last(KVM_SET_MP_STATE));
    CHECK(last(KVM_SET_LAPIC) < last(KVM_SET_VCPU_EVENTS));
    CHECK_EQ(F.lapic.regs[0x30], 0x15);
    /* another vCPU's page (or stack garbage) is refused before any write */
    s.lapic[0x23] = 5;
    before = F.nlog;
    CHECK_EQ(accel_kvm_ops.vcpu_set_state(&cpu, &s), -EINVAL);
    CHECK(strstr(err_get(), "APIC ID 5") != NULL);
    CHECK_EQ(F.nlog, before);
    s.lapic[0x23] = 0;
    s.xcr0 = 7;
    CHECK_EQ(accel_kvm_ops.vcpu_set_state(&cpu, &s), -EINVAL);
    CHECK(strstr(err_get(), "xcr0") != NULL);
    s.xcr0 = 1;

    /* ---- run: port out (string), port in, MMIO, then a triple fault ---- */
    static const enum step_kind run1[] = {STEP_IO_OUT, STEP_IO_IN, STEP_MMIO_READ, STEP_SHUTDOWN};
    script(&vm, run1, 4);
    F.regs.rip = 0xffffffff81000abcull;
    CHECK_EQ(accel_kvm_ops.vcpu_run(&cpu), VCPU_EXIT_STOP);
    CHECK_EQ(nout, 2);
    CHECK(memcmp(out, "hi", 2) == 0);
    CHECK_EQ(atomic_load(&vm.stop_reason), VM_STOP_TRIPLE_FAULT);
    CHECK(strstr(vm.stop_message, "triple fault at RIP 0xffffffff81000abc") != NULL);

    /* the IN result went into the shared page, the MMIO read into run->mmio */
    static const enum step_kind run_in[] = {STEP_IO_IN, STEP_SHUTDOWN};
    script(&vm, run_in, 2);
    CHECK_EQ(accel_kvm_ops.vcpu_run(&cpu), VCPU_EXIT_STOP);
    CHECK_EQ(((uint8_t *)F.run)[4096], 0xA1);

    /* a kick left over from an earlier stop makes one KVM_RUN return EINTR
     * and is then forgotten; a kick while KVM_RUN blocks (a halted guest)
     * interrupts it; the port access before it is completed on the way out */
    static const enum step_kind run2[] = {STEP_IO_OUT, STEP_BLOCK};
    script(&vm, run2, 2);
    vm_request_stop(&vm, VM_STOP_POWEROFF, NULL);
    atomic_store(&vm.stop_reason, VM_RUNNING);   /* the kick flag is now set */
    int eintr0 = F.eintr_runs;
    pthread_t t;
    pthread_create(&t, NULL, stop_later, &vm);
    CHECK_EQ(accel_kvm_ops.vcpu_run(&cpu), VCPU_EXIT_STOP);
    pthread_join(t, NULL);
    CHECK_EQ(atomic_load(&vm.stop_reason), VM_STOP_USER);
    CHECK(F.eintr_runs >= eintr0 + 2);   /* the stale kick, then the real one */
    CHECK_EQ(F.run->immediate_exit, 0);

    /* an instruction the host refuses */
    static const enum step_kind run3[] = {STEP_EMUL_FAIL};
    script(&vm, run3, 1);
    CHECK_EQ(accel_kvm_ops.vcpu_run(&cpu), VCPU_EXIT_ERROR);
    CHECK_EQ(atomic_load(&vm.stop_reason), VM_STOP_ERROR);
    CHECK(strstr(vm.stop_message, "instruction 48 0f c7 0f") != NULL);
    printf("stop message: %s\n", vm.stop_message);

    /* irq lines */
    CHECK_EQ(accel_kvm_ops.irq_line(&vm, 4, 1), 0);
    CHECK_EQ(accel_kvm_ops.irq_line(&vm, 2, 1), -EINVAL);
    CHECK_EQ(accel_kvm_ops.irq_line(&vm, 24, 1), -EINVAL);

    accel_kvm_ops.vcpu_destroy(&cpu);
    CHECK(cpu.accel_data == NULL);
    accel_kvm_ops.vm_destroy(&vm);
    CHECK(vm.accel_data == NULL);
    munmap(F.run, FAKE_RUN_SIZE);
    guest_memory_destroy(&vm.mem);
    bus_destroy(&vm.pio);
    bus_destroy(&vm.mmio);
    TEST_MAIN_END();
}
