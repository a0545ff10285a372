/* The KVM_RUN loop: runs guest code until the VM stops, and turns each
 * exit into a bus access or a stop request.
 *
 * Port and MMIO accesses go to vm->pio and vm->mmio. The exit record lives
 * in memory shared with the kernel, but the numbers in it still come from
 * guest behaviour: sizes and offsets are checked before use. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm.h"
#include "util/log.h"
#include "vm/vm.h"

static const char *const exit_names[] = {
    [KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
    [KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
    [KVM_EXIT_IO] = "KVM_EXIT_IO",
    [KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
    [KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
    [KVM_EXIT_HLT] = "KVM_EXIT_HLT",
    [KVM_EXIT_MMIO] = "KVM_EXIT_MMIO",
    [KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
    [KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN",
    [KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
    [KVM_EXIT_INTR] = "KVM_EXIT_INTR",
    [KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
    [KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS",
    [KVM_EXIT_NMI] = "KVM_EXIT_NMI",
    [KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
    [KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
    [KVM_EXIT_IOAPIC_EOI] = "KVM_EXIT_IOAPIC_EOI",
    [KVM_EXIT_X86_RDMSR] = "KVM_EXIT_X86_RDMSR",
    [KVM_EXIT_X86_WRMSR] = "KVM_EXIT_X86_WRMSR",
    [KVM_EXIT_X86_BUS_LOCK] = "KVM_EXIT_X86_BUS_LOCK",
    [KVM_EXIT_NOTIFY] = "KVM_EXIT_NOTIFY",
};

const char *kvm_exit_name(uint32_t reason)
{
    if (reason < sizeof exit_names / sizeof exit_names[0] && exit_names[reason])
        return exit_names[reason];
    return "unknown";
}

static const char *const internal_names[] = {
    [KVM_INTERNAL_ERROR_EMULATION] = "emulation failure",
    [KVM_INTERNAL_ERROR_SIMUL_EX] = "simultaneous exceptions",
    [KVM_INTERNAL_ERROR_DELIVERY_EV] = "exit during event delivery",
    [KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON] = "unexpected exit reason",
};

/* ---- port I/O ---- */

static uint64_t load_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, p, size);   /* x86 hosts only: little-endian */
    return v;
}

int kvm_handle_io(struct vm *vm, struct kvm_run *run, size_t run_size)
{
    unsigned size = run->io.size;
    uint64_t count = run->io.count;
    uint64_t off = run->io.data_offset;
    if ((size != 1 && size != 2 && size != 4) || count == 0 ||
        off < sizeof(struct kvm_run) || off > run_size || count * size > run_size - off)
        return err_set(-EINVAL, "kvm: malformed port I/O exit (port 0x%x, size %u, count %u, offset %llu)",
                       run->io.port, size, run->io.count, (unsigned long long)off);
    /* string I/O (INS/OUTS with REP) arrives as count items at one port */
    uint8_t *data = (uint8_t *)run + off;
    for (uint64_t i = 0; i < count; i++, data += size) {
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            bus_write(&vm->pio, run->io.port, size, load_le(data, size));
        } else {
            uint64_t v = 0;
            bus_read(&vm->pio, run->io.port, size, &v);
            memcpy(data, &v, size);
        }
    }
    return 0;
}

/* ---- MMIO ---- */

int kvm_handle_mmio(struct vm *vm, struct kvm_run *run)
{
    unsigned len = run->mmio.len;
    uint64_t addr = run->mmio.phys_addr;
    if (len == 0 || len > 8)
        return err_set(-EINVAL, "kvm: malformed MMIO exit (0x%" PRIx64 ", %u bytes)", addr, len);
    if (len == 1 || len == 2 || len == 4 || len == 8) {
        if (run->mmio.is_write) {
            bus_write(&vm->mmio, addr, len, load_le(run->mmio.data, len));
        } else {
            uint64_t v = 0;
            bus_read(&vm->mmio, addr, len, &v);
            memcpy(run->mmio.data, &v, len);
        }
        return 0;
    }
    /* KVM splits accesses at page boundaries, leaving odd-sized pieces
     * (3, 5, 6, 7 bytes): the bus speaks 1/2/4/8, so go byte by byte */
    for (unsigned i = 0; i < len; i++) {
        if (run->mmio.is_write) {
            bus_write(&vm->mmio, addr + i, 1, run->mmio.data[i]);
        } else {
            uint64_t v = 0xff;
            bus_read(&vm->mmio, addr + i, 1, &v);
            run->mmio.data[i] = (uint8_t)v;
        }
    }
    return 0;
}

/* ---- fatal exits ---- */

void kvm_describe_exit(const struct kvm_run *run, uint64_t rip, char *buf, size_t n)
{
    int w = 0;
#define PUT(...)                                                             \
    do {                                                                     \
        if ((size_t)w < n)                                                   \
            w += snprintf(buf + w, n - (size_t)w, __VA_ARGS__);              \
    } while (0)
    switch (run->exit_reason) {
    case KVM_EXIT_INTERNAL_ERROR: {
        uint32_t sub = run->internal.suberror;
        const char *name = sub < sizeof internal_names / sizeof internal_names[0] && internal_names[sub]
                               ? internal_names[sub] : "unknown";
        PUT("KVM internal error %u (%s) at RIP 0x%" PRIx64, sub, name, rip);
        if (sub == KVM_INTERNAL_ERROR_EMULATION && run->emulation_failure.ndata >= 3 &&
            (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
            unsigned len = run->emulation_failure.insn_size;
            if (len > sizeof run->emulation_failure.insn_bytes)
                len = sizeof run->emulation_failure.insn_bytes;
            PUT(", instruction");
            for (unsigned i = 0; i < len; i++)
                PUT(" %02x", run->emulation_failure.insn_bytes[i]);
        }
        if (sub == KVM_INTERNAL_ERROR_EMULATION)
            PUT(": the host's instruction emulator refused it (nested or emulated KVM?"
                " try --accel emu)");
        break;
    }
    case KVM_EXIT_FAIL_ENTRY:
        PUT("KVM could not enter the guest at RIP 0x%" PRIx64 ": hardware entry failure reason 0x%llx"
            " on host CPU %u",
            rip, (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
            run->fail_entry.cpu);
        break;
    case KVM_EXIT_UNKNOWN:
        PUT("KVM exit with unknown hardware reason 0x%llx at RIP 0x%" PRIx64,
            (unsigned long long)run->hw.hardware_exit_reason, rip);
        break;
    default:
        PUT("unexpected KVM exit %s (%u) at RIP 0x%" PRIx64, kvm_exit_name(run->exit_reason),
            run->exit_reason, rip);
        break;
    }
#undef PUT
}

static uint64_t vcpu_rip(struct kvm_vcpu_data *v)
{
    struct kvm_regs regs;
    if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
        return 0;
    return regs.rip;
}

/* KVM finishes an IN or an MMIO read on the next entry: enter once with
 * immediate_exit so that the state a snapshot reads is consistent. */
static void complete_pending_io(struct kvm_vcpu_data *v)
{
    if (!v->io_pending)
        return;
    v->run->immediate_exit = 1;
    ioctl(v->fd, KVM_RUN, 0);
    v->run->immediate_exit = 0;
    v->io_pending = false;
}

/* Handles one exit. Returns 1 to keep running, 0 when the VM stops
 * (stop requested), -1 on engine error (VM stop requested as well). */
static int handle_exit(struct vcpu *cpu, struct kvm_vcpu_data *v)
{
    struct vm *vm = cpu->vm;
    struct kvm_run *run = v->run;
    char msg[200];

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        v->io_pending = true;
        if (kvm_handle_io(vm, run, v->run_size) < 0)
            goto error_errget;
        return 1;
    case KVM_EXIT_MMIO:
        v->io_pending = true;
        if (kvm_handle_mmio(vm, run) < 0)
            goto error_errget;
        return 1;
    case KVM_EXIT_SHUTDOWN:
        vm_request_stop(vm, VM_STOP_TRIPLE_FAULT, "vCPU %d: triple fault at RIP 0x%" PRIx64,
                        cpu->index, vcpu_rip(v));
        return 0;
    case KVM_EXIT_SYSTEM_EVENT:
        switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
            vm_request_stop(vm, VM_STOP_POWEROFF, NULL);
            return 0;
        case KVM_SYSTEM_EVENT_RESET:
            vm_request_stop(vm, VM_STOP_RESET, NULL);
            return 0;
        default:
            err_set(-EIO, "vCPU %d: KVM system event %u (guest crash)", cpu->index,
                    run->system_event.type);
            goto error_errget;
        }
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_INTR:
        return 1;
    default:
        /* internal errors, failed entries, and exits brume never enables
         * (HLT cannot happen with the in-kernel LAPIC) */
        kvm_describe_exit(run, vcpu_rip(v), msg, sizeof msg);
        err_set(-EIO, "vCPU %d: %s", cpu->index, msg);
        vm_request_stop(vm, VM_STOP_ERROR, "vCPU %d: %s", cpu->index, msg);
        return -1;
    }
error_errget:
    vm_request_stop(vm, VM_STOP_ERROR, "vCPU %d: %s", cpu->index, err_get());
    return -1;
}

int kvm_vcpu_run(struct vcpu *cpu)
{
    struct kvm_vcpu_data *v = cpu->accel_data;
    struct vm *vm = cpu->vm;
    int result = VCPU_EXIT_STOP;

    /* the kick must reach this thread even if whoever created it blocked
     * signals (as threads that leave signals to the main thread do) */
    sigset_t kick;
    sigemptyset(&kick);
    sigaddset(&kick, KVM_KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
    v->thread = pthread_self();
    atomic_store(&v->in_run, true);
    for (;;) {
        if (vm_stopping(vm))
            break;
        int rc = ioctl(v->fd, KVM_RUN, 0);
        if (rc < 0) {
            int e = errno;
            if (e == EINTR || e == EAGAIN) {
                /* a kick (or a stray signal): clear the flag, then look at
                 * the stop request; the fence keeps the load after the store */
                __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                atomic_thread_fence(memory_order_seq_cst);
                /* io_pending stays: older kernels test immediate_exit before
                 * completing the access, and completing twice is harmless */
                continue;
            }
            err_set(-e, "vCPU %d: KVM_RUN: %s", cpu->index, strerror(e));
            vm_request_stop(vm, VM_STOP_ERROR, "vCPU %d: KVM_RUN: %s", cpu->index, strerror(e));
            result = VCPU_EXIT_ERROR;
            break;
        }
        v->io_pending = false;
        int h = handle_exit(cpu, v);
        if (h < 0) {
            result = VCPU_EXIT_ERROR;
            break;
        }
        if (h == 0)
            break;
    }
    atomic_store(&v->in_run, false);
    complete_pending_io(v);
    return result;
}
