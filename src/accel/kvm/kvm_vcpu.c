/* KVM vCPUs: creation, CPUID and boot MSRs, state in and out, kicks, and
 * the engine's ops table. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/kvm/kvm.h"
#include "util/log.h"
#include "vm/vm.h"

/* ---- the kick signal ---- */

static void kick_handler(int sig)
{
    (void)sig;   /* its only job is to make a blocking KVM_RUN return EINTR */
}

static void kick_install_once(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = kick_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;   /* no SA_RESTART: KVM_RUN must not be restarted */
    sigaction(KVM_KICK_SIGNAL, &sa, NULL);
}

/* A process has one disposition per signal, whatever the number of VMs:
 * the handler is process state by nature, installed once. */
void kvm_kick_signal_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, kick_install_once);
}

static void kvm_vcpu_kick(struct vcpu *cpu)
{
    struct kvm_vcpu_data *v = cpu->accel_data;
    if (!v || !v->run)
        return;
    /* seen by the next KVM_RUN if the thread is not inside one now */
    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (atomic_load(&v->in_run))
        pthread_kill(v->thread, KVM_KICK_SIGNAL);
}

/* ---- creation ---- */

static int set_cpuid(struct vcpu *cpu, struct kvm_vm_data *k, struct kvm_vcpu_data *v)
{
    /* vm->ncpus may still be counting up while vCPUs are created */
    int ncpus = cpu->vm->config.ncpus > cpu->vm->ncpus ? cpu->vm->config.ncpus : cpu->vm->ncpus;
    struct kvm_cpuid_ctx ctx = {
        .apic_id = (unsigned)cpu->index,
        .ncpus = (unsigned)(ncpus > 0 ? ncpus : 1),
        .tsc_khz = 0,
    };
    int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
    if (khz > 0)
        ctx.tsc_khz = (uint32_t)khz;

    int max = (int)k->supported->nent + 8;
    struct kvm_cpuid2 *c = calloc(1, sizeof *c + (size_t)max * sizeof c->entries[0]);
    if (!c)
        return err_set(-ENOMEM, "kvm: out of memory for CPUID");
    int n = kvm_cpuid_build(k->supported->entries, (int)k->supported->nent, &ctx, c->entries, max);
    int rc = 0;
    if (n < 0) {
        rc = err_set(n, "kvm: CPUID table overflow");
    } else {
        c->nent = (uint32_t)n;
        if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
            rc = err_set(-errno, "kvm: vCPU %d: KVM_SET_CPUID2: %s", cpu->index, strerror(errno));
    }
    free(c);
    return rc;
}

/* struct kvm_msrs ends in a flexible array: allocate it with n entries. */
static struct kvm_msrs *msrs_alloc(int n)
{
    struct kvm_msrs *m = calloc(1, sizeof *m + (size_t)n * sizeof m->entries[0]);
    if (m)
        m->nmsrs = (uint32_t)n;
    return m;
}

static int set_msrs(struct vcpu *cpu, int fd, const struct kvm_msr_entry *e, int n)
{
    struct kvm_msrs *m = msrs_alloc(n);
    if (!m)
        return err_set(-ENOMEM, "kvm: out of memory for MSRs");
    memcpy(m->entries, e, (size_t)n * sizeof *e);
    int done = ioctl(fd, KVM_SET_MSRS, m);
    int rc = 0;
    if (done < 0)
        rc = err_set(-errno, "kvm: vCPU %d: KVM_SET_MSRS: %s", cpu->index, strerror(errno));
    else if (done < n)
        rc = err_set(-EINVAL, "kvm: vCPU %d: KVM refused MSR 0x%x = 0x%llx", cpu->index,
                     e[done].index, (unsigned long long)e[done].data);
    free(m);
    return rc;
}

/* The MSR values firmware leaves for Linux: fast strings on, the PAT power-on
 * value, the APIC enabled at its default base (BSP flag on vCPU 0). The BSP's
 * full boot state arrives later through vcpu_set_state. */
static int set_boot_msrs(struct vcpu *cpu, int fd)
{
    uint64_t apic = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (cpu->index == 0 ? APIC_BASE_BSP : 0);
    const struct kvm_msr_entry e[] = {
        {.index = MSR_IA32_MISC_ENABLE, .data = 1},   /* fast strings */
        {.index = MSR_IA32_PAT, .data = 0x0007040600070406ull},
        {.index = MSR_IA32_APIC_BASE, .data = apic},
        {.index = MSR_IA32_TSC, .data = 0},
    };
    return set_msrs(cpu, fd, e, (int)(sizeof e / sizeof e[0]));
}

/* LINT0 in ExtINT mode (the PIC's output) and LINT1 as NMI: the virtual wire
 * a PC's firmware sets up, which Linux expects before it programs the
 * IOAPIC. */
static int set_lint(struct vcpu *cpu, int fd)
{
    struct kvm_lapic_state l;
    if (ioctl(fd, KVM_GET_LAPIC, &l) < 0)
        return err_set(-errno, "kvm: vCPU %d: KVM_GET_LAPIC: %s", cpu->index, strerror(errno));
    uint32_t lvt0 = 0x700, lvt1 = 0x400;   /* delivery modes ExtINT, NMI; unmasked */
    memcpy(l.regs + 0x350, &lvt0, 4);
    memcpy(l.regs + 0x360, &lvt1, 4);
    if (ioctl(fd, KVM_SET_LAPIC, &l) < 0)
        return err_set(-errno, "kvm: vCPU %d: KVM_SET_LAPIC: %s", cpu->index, strerror(errno));
    return 0;
}

static void kvm_vcpu_destroy(struct vcpu *cpu)
{
    struct kvm_vcpu_data *v = cpu->accel_data;
    if (!v)
        return;
    if (v->run)
        munmap(v->run, v->run_size);
    if (v->fd >= 0)
        close(v->fd);
    free(v);
    cpu->accel_data = NULL;
}

static int kvm_vcpu_init(struct vcpu *cpu)
{
    struct kvm_vm_data *k = cpu->vm->accel_data;
    struct kvm_vcpu_data *v = calloc(1, sizeof *v);
    if (!v)
        return err_set(-ENOMEM, "kvm: out of memory");
    cpu->accel_data = v;
    v->run_size = k->run_size;
    atomic_init(&v->in_run, false);
    int rc;

    /* the vCPU id is the APIC ID; id 0 is KVM's BSP */
    v->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, (unsigned long)cpu->index);
    if (v->fd < 0) {
        rc = err_set(-errno, "kvm: KVM_CREATE_VCPU %d: %s", cpu->index, strerror(errno));
        goto fail;
    }
    void *run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (run == MAP_FAILED) {
        rc = err_set(-errno, "kvm: vCPU %d: mmap: %s", cpu->index, strerror(errno));
        goto fail;
    }
    v->run = run;
    /* CPUID first: KVM derives what the vCPU may do (and which MSRs it
     * accepts) from it */
    if ((rc = set_cpuid(cpu, k, v)) < 0 || (rc = set_boot_msrs(cpu, v->fd)) < 0 ||
        (rc = set_lint(cpu, v->fd)) < 0)
        goto fail;
    /* APs start in KVM's UNINITIALIZED state and wait for INIT and SIPI
     * from the BSP through the in-kernel local APICs */
    return 0;
fail:
    kvm_vcpu_destroy(cpu);
    return rc;
}

/* ---- state ---- */

static int kvm_vcpu_get_state(struct vcpu *cpu, struct cpu_state *out)
{
    struct kvm_vm_data *k = cpu->vm->accel_data;
    struct kvm_vcpu_data *v = cpu->accel_data;
    struct kvm_cpu_regs *r = calloc(1, sizeof *r);
    if (!r)
        return err_set(-ENOMEM, "kvm: out of memory");
    int rc = 0;
    const char *what = NULL;
    struct kvm_msrs *m = msrs_alloc(k->nmsrs);
    if (!m) {
        free(r);
        return err_set(-ENOMEM, "kvm: out of memory for MSRs");
    }
    for (int i = 0; i < k->nmsrs; i++)
        m->entries[i].index = k->msr_list[i];

    if (ioctl(v->fd, KVM_GET_REGS, &r->regs) < 0) what = "KVM_GET_REGS";
    else if (ioctl(v->fd, KVM_GET_SREGS, &r->sregs) < 0) what = "KVM_GET_SREGS";
    else if (ioctl(v->fd, KVM_GET_FPU, &r->fpu) < 0) what = "KVM_GET_FPU";
    else if (ioctl(v->fd, KVM_GET_DEBUGREGS, &r->dregs) < 0) what = "KVM_GET_DEBUGREGS";
    else if (ioctl(v->fd, KVM_GET_LAPIC, &r->lapic) < 0) what = "KVM_GET_LAPIC";
    else if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &r->events) < 0) what = "KVM_GET_VCPU_EVENTS";
    else if (ioctl(v->fd, KVM_GET_MP_STATE, &r->mp) < 0) what = "KVM_GET_MP_STATE";
    if (what) {
        rc = err_set(-errno, "kvm: vCPU %d: %s: %s", cpu->index, what, strerror(errno));
        goto out;
    }
    int got = ioctl(v->fd, KVM_GET_MSRS, m);
    if (got < 0 || got < k->nmsrs) {
        rc = got < 0 ? err_set(-errno, "kvm: vCPU %d: KVM_GET_MSRS: %s", cpu->index, strerror(errno))
                     : err_set(-EIO, "kvm: vCPU %d: KVM could not read MSR 0x%x", cpu->index,
                               m->entries[got].index);
        goto out;
    }
    memcpy(r->msrs, m->entries, (size_t)k->nmsrs * sizeof m->entries[0]);
    r->nmsrs = k->nmsrs;
    rc = kvm_state_from_kvm(r, k->mxcsr_mask, out);
out:
    free(m);
    free(r);
    return rc;
}

/* The order follows what KVM depends on: control registers and EFER (with
 * the APIC base) before MSRs, the APIC base before the LAPIC page, the MP
 * state before events. */
static int kvm_vcpu_set_state(struct vcpu *cpu, const struct cpu_state *in)
{
    struct kvm_vm_data *k = cpu->vm->accel_data;
    struct kvm_vcpu_data *v = cpu->accel_data;
    struct kvm_cpu_regs *r = calloc(1, sizeof *r);
    if (!r)
        return err_set(-ENOMEM, "kvm: out of memory");
    bool set_lapic = !kvm_lapic_page_empty(in->lapic);
    int rc = kvm_state_to_kvm(in, k->msr_list, k->nmsrs, r);
    if (rc < 0 || (set_lapic && (rc = kvm_lapic_check(in->lapic, cpu->index)) < 0))
        goto out;
    const char *what = NULL;
    if (ioctl(v->fd, KVM_SET_REGS, &r->regs) < 0) what = "KVM_SET_REGS";
    else if (ioctl(v->fd, KVM_SET_FPU, &r->fpu) < 0) what = "KVM_SET_FPU";
    else if (ioctl(v->fd, KVM_SET_SREGS, &r->sregs) < 0) what = "KVM_SET_SREGS";
    if (what) {
        rc = err_set(-errno, "kvm: vCPU %d: %s: %s", cpu->index, what, strerror(errno));
        goto out;
    }
    if ((rc = set_msrs(cpu, v->fd, r->msrs, r->nmsrs)) < 0)
        goto out;
    if (ioctl(v->fd, KVM_SET_MP_STATE, &r->mp) < 0) what = "KVM_SET_MP_STATE";
    /* a state built from scratch may leave the LAPIC page empty: keep the
     * vCPU's own then (its APIC ID and version must not become zero) */
    else if (set_lapic && ioctl(v->fd, KVM_SET_LAPIC, &r->lapic) < 0)
        what = "KVM_SET_LAPIC";
    else if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &r->events) < 0) what = "KVM_SET_VCPU_EVENTS";
    else if (ioctl(v->fd, KVM_SET_DEBUGREGS, &r->dregs) < 0) what = "KVM_SET_DEBUGREGS";
    if (what)
        rc = err_set(-errno, "kvm: vCPU %d: %s: %s", cpu->index, what, strerror(errno));
out:
    free(r);
    return rc;
}

static int kvm_probe(struct accel_probe *p)
{
    return kvm_probe_path("/dev/kvm", p);
}

const struct accel_ops accel_kvm_ops = {
    .name = "kvm",
    .kind = ACCEL_KVM,
    .probe = kvm_probe,
    .vm_init = kvm_vm_init,
    .vm_destroy = kvm_vm_destroy,
    .vcpu_init = kvm_vcpu_init,
    .vcpu_destroy = kvm_vcpu_destroy,
    .vcpu_run = kvm_vcpu_run,
    .vcpu_get_state = kvm_vcpu_get_state,
    .vcpu_set_state = kvm_vcpu_set_state,
    .vcpu_kick = kvm_vcpu_kick,
    .irq_line = kvm_irq_line,
};
