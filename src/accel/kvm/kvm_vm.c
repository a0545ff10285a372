/* The KVM virtual machine: memory slots, the in-kernel interrupt
 * controllers and PIT, GSI routing, and interrupt lines.
 *
 * With kvm, the PICs, IOAPIC, local APICs and PIT (including port 0x61 and
 * the PIC's ELCR ports 0x4D0-0x4D1) live in the host kernel; devices in
 * src/hw that model them are not created (see hw_create()). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "accel/kvm/kvm.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/vm.h"

/* A PC's wiring: ISA IRQ n goes to PIC pin n (master 0-7, slave 8-15) and
 * IOAPIC pin n, except IRQ 0 (the PIT), which the IOAPIC sees on pin 2 (the
 * MADT says so with an interrupt source override). GSI 2 is the cascade
 * and drives nothing; GSIs 16-23 exist on the IOAPIC only. */
int kvm_gsi_routing_build(struct kvm_irq_routing_entry *entries, int max)
{
    int n = 0;
#define ROUTE(g, chip, p)                                                  \
    do {                                                                   \
        if (n >= max)                                                      \
            return -ENOSPC;                                                \
        entries[n++] = (struct kvm_irq_routing_entry){                     \
            .gsi = (g), .type = KVM_IRQ_ROUTING_IRQCHIP,                   \
            .u.irqchip = {.irqchip = (chip), .pin = (p)}};                 \
    } while (0)
    for (unsigned gsi = 0; gsi < IOAPIC_PINS; gsi++) {
        if (gsi == 2)
            continue;
        if (gsi < 8)
            ROUTE(gsi, KVM_IRQCHIP_PIC_MASTER, gsi);
        else if (gsi < 16)
            ROUTE(gsi, KVM_IRQCHIP_PIC_SLAVE, gsi - 8);
        ROUTE(gsi, KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi);
    }
#undef ROUTE
    return n;
}

static int set_gsi_routing(int vm_fd)
{
    enum { MAX_ROUTES = 2 * IOAPIC_PINS };
    struct kvm_irq_routing *r = calloc(1, sizeof *r + MAX_ROUTES * sizeof r->entries[0]);
    if (!r)
        return err_set(-ENOMEM, "kvm: out of memory for GSI routing");
    int n = kvm_gsi_routing_build(r->entries, MAX_ROUTES);
    int rc = 0;
    r->nr = (uint32_t)n;
    if (n < 0)
        rc = err_set(n, "kvm: GSI routing table too small");
    else if (ioctl(vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
        rc = err_set(-errno, "kvm: KVM_SET_GSI_ROUTING: %s", strerror(errno));
    free(r);
    return rc;
}

/* KVM_GET_SUPPORTED_CPUID wants a buffer big enough and says E2BIG if not. */
static int read_supported_cpuid(struct kvm_vm_data *k)
{
    for (int nent = 128; nent <= 4096; nent *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof *c + (size_t)nent * sizeof c->entries[0]);
        if (!c)
            return err_set(-ENOMEM, "kvm: out of memory for CPUID");
        c->nent = (uint32_t)nent;
        if (ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            k->supported = c;
            return 0;
        }
        int e = errno;
        free(c);
        if (e != E2BIG)
            return err_set(-e, "kvm: KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
    }
    return err_set(-E2BIG, "kvm: KVM_GET_SUPPORTED_CPUID: table too large");
}

/* The MSRs a vCPU state carries: every one of kvm_state_msrs, except the
 * optional ones this KVM does not list in KVM_GET_MSR_INDEX_LIST. */
static int build_msr_list(struct kvm_vm_data *k)
{
    struct kvm_msr_list probe = {.nmsrs = 0};
    ioctl(k->sys_fd, KVM_GET_MSR_INDEX_LIST, &probe);   /* E2BIG, with the count */
    struct kvm_msr_list *list = calloc(1, sizeof *list + (probe.nmsrs + 1) * sizeof(uint32_t));
    if (!list)
        return err_set(-ENOMEM, "kvm: out of memory for the MSR list");
    list->nmsrs = probe.nmsrs;
    if (ioctl(k->sys_fd, KVM_GET_MSR_INDEX_LIST, list) < 0)
        list->nmsrs = 0;   /* keep only the MSRs every KVM has */

    k->nmsrs = 0;
    for (int i = 0; i < kvm_nstate_msrs; i++) {
        uint32_t idx = kvm_state_msrs[i];
        bool listed = !kvm_msr_is_optional(idx);
        for (uint32_t j = 0; !listed && j < list->nmsrs; j++)
            listed = list->indices[j] == idx;
        if (listed && k->nmsrs < (int)(sizeof k->msr_list / sizeof k->msr_list[0]))
            k->msr_list[k->nmsrs++] = idx;
    }
    free(list);
    return 0;
}

/* The guest runs on the host FPU, so its MXCSR_MASK is the host's; KVM's
 * FPU ioctls do not report it. */
static uint32_t host_mxcsr_mask(void)
{
    struct cpu_fxsave fx;
    memset(&fx, 0, sizeof fx);
    __asm__ volatile("fxsave64 %0" : "=m"(fx));
    return fx.mxcsr_mask ? fx.mxcsr_mask : 0xffbf;   /* 0: the SDM's default */
}

static int add_memory_slots(struct vm *vm, struct kvm_vm_data *k)
{
    for (int i = 0; i < vm->mem.nregions; i++) {
        const struct mem_region *r = &vm->mem.regions[i];
        struct kvm_userspace_memory_region slot = {
            .slot = (uint32_t)i, .flags = 0, .guest_phys_addr = r->gpa,
            .memory_size = r->size, .userspace_addr = (uintptr_t)r->hva,
        };
        if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
            return err_set(-errno, "kvm: memory slot %d (0x%llx, %llu bytes): %s", i,
                           (unsigned long long)r->gpa, (unsigned long long)r->size, strerror(errno));
    }
    return 0;
}

int kvm_vm_init(struct vm *vm)
{
    struct kvm_vm_data *k = calloc(1, sizeof *k);
    if (!k)
        return err_set(-ENOMEM, "kvm: out of memory");
    k->sys_fd = -1;
    k->vm_fd = -1;
    vm->accel_data = k;
    int rc;

    k->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (k->sys_fd < 0) {
        rc = err_set(-errno, "kvm: /dev/kvm: %s", strerror(errno));
        goto fail;
    }
    if (ioctl(k->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        rc = err_set(-EINVAL, "kvm: /dev/kvm does not speak KVM API %d", KVM_API_VERSION);
        goto fail;
    }
    int run_size = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run)) {
        rc = err_set(-EINVAL, "kvm: bad KVM_GET_VCPU_MMAP_SIZE %d", run_size);
        goto fail;
    }
    k->run_size = (size_t)run_size;
    k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
    if (k->vm_fd < 0) {
        rc = err_set(-errno, "kvm: KVM_CREATE_VM: %s", strerror(errno));
        goto fail;
    }
    /* No virtual PMU: its counters live in MSRs snapshots do not carry
     * (CPUID leaf 0xA is hidden too). Best effort: kernels before 5.18
     * lack the switch, and Linux then only finds counters it cannot use. */
    int pmu = ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PMU_CAPABILITY);
    if (pmu > 0 && (pmu & KVM_PMU_CAP_DISABLE)) {
        struct kvm_enable_cap cap = {.cap = KVM_CAP_PMU_CAPABILITY, .args = {KVM_PMU_CAP_DISABLE}};
        if (ioctl(k->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
            log_debug("kvm: could not disable the virtual PMU: %s", strerror(errno));
    }
    /* both before any vCPU exists (Intel needs them for real mode) */
    uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
    if (ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
        rc = err_set(-errno, "kvm: KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
        goto fail;
    }
    if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
        rc = err_set(-errno, "kvm: KVM_SET_TSS_ADDR: %s", strerror(errno));
        goto fail;
    }
    if ((rc = add_memory_slots(vm, k)) < 0)
        goto fail;
    if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        rc = err_set(-errno, "kvm: KVM_CREATE_IRQCHIP: %s", strerror(errno));
        goto fail;
    }
    struct kvm_pit_config pit = {.flags = 0};
    if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
        rc = err_set(-errno, "kvm: KVM_CREATE_PIT2: %s", strerror(errno));
        goto fail;
    }
    if ((rc = set_gsi_routing(k->vm_fd)) < 0)
        goto fail;
    if ((rc = read_supported_cpuid(k)) < 0)
        goto fail;
    if ((rc = build_msr_list(k)) < 0)
        goto fail;
    k->mxcsr_mask = host_mxcsr_mask();
    kvm_kick_signal_install();
    return 0;
fail:
    kvm_vm_destroy(vm);
    return rc;
}

void kvm_vm_destroy(struct vm *vm)
{
    struct kvm_vm_data *k = vm->accel_data;
    if (!k)
        return;
    if (k->vm_fd >= 0)
        close(k->vm_fd);
    if (k->sys_fd >= 0)
        close(k->sys_fd);
    free(k->supported);
    free(k);
    vm->accel_data = NULL;
}

int kvm_irq_line(struct vm *vm, unsigned gsi, int level)
{
    struct kvm_vm_data *k = vm->accel_data;
    if (gsi >= IOAPIC_PINS || gsi == 2)
        return err_set(-EINVAL, "kvm: GSI %u is not routed", gsi);
    struct kvm_irq_level irq = {.irq = gsi, .level = level ? 1 : 0};
    if (ioctl(k->vm_fd, KVM_IRQ_LINE, &irq) < 0)
        return err_set(-errno, "kvm: KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
    return 0;
}
