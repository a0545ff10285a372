/* The kvm engine on a real /dev/kvm (skipped without one): a VM with
 * brume's memory, in-kernel irqchip and routing; a real-mode guest that
 * writes to a port, does REP OUTSB and powers off through a device; the
 * state round trip through KVM; and a kick that stops a spinning guest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "accel/kvm/kvm.h"
#include "util/log.h"
#include "vm/vm.h"

struct sink {
    struct vm *vm;
    char out[64];
    int n;
};

static uint64_t sink_read(void *opaque, uint64_t off, unsigned size)
{
    (void)opaque; (void)off; (void)size;
    return 0;
}

static void sink_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct sink *s = opaque;
    (void)off; (void)size;
    if (s->n < (int)sizeof s->out - 1)
        s->out[s->n++] = (char)val;
}

static void poweroff_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct vm *vm = opaque;
    (void)off; (void)size; (void)val;
    vm_request_stop(vm, VM_STOP_POWEROFF, NULL);
}

static const struct bus_ops sink_ops = {sink_read, sink_write};
static const struct bus_ops poweroff_ops = {sink_read, poweroff_write};

static const uint8_t guest_code[] = {
    0xba, 0xf8, 0x03,   /* mov dx, 0x3f8 */
    0xb0, 'o',          /* mov al, 'o' */
    0xee,               /* out dx, al */
    0xb0, 'k',          /* mov al, 'k' */
    0xee,               /* out dx, al */
    0xbe, 0x00, 0x11,   /* mov si, 0x1100 */
    0xb9, 0x03, 0x00,   /* mov cx, 3 */
    0xfc,               /* cld */
    0xf3, 0x6e,         /* rep outsb */
    0xba, 0x01, 0x05,   /* mov dx, 0x501 */
    0xee,               /* out dx, al: power off */
    0xf4,               /* hlt */
    0xeb, 0xfd,         /* jmp to the hlt */
};

static void *stop_later(void *arg)
{
    struct vm *vm = arg;
    struct timespec ts = {.tv_nsec = 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    vm_request_stop(vm, VM_STOP_USER, NULL);
    return NULL;
}

static void real_mode_at(struct cpu_state *s, uint64_t rip)
{
    for (int i = 0; i < SEG_COUNT; i++) {
        s->seg[i].base = 0;
        s->seg[i].selector = 0;
    }
    s->rip = rip;
}

int main(void)
{
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("skipped: no /dev/kvm\n");
        return 77;
    }
    struct accel_probe p;
    accel_kvm_ops.probe(&p);
    if (!p.usable) {
        printf("skipped: /dev/kvm is not usable: %s\n", p.reason);
        return 77;
    }
    printf("probe: %s, max %d vCPUs\n", p.reason, p.max_cpus);

    static struct vm vm;
    static struct vcpu cpu;
    static struct sink sink;
    pthread_mutex_init(&vm.stop_lock, NULL);
    pthread_cond_init(&vm.stopped, NULL);
    vm.accel = &accel_kvm_ops;
    vm.ncpus = 1;
    vm.vcpus = &cpu;
    cpu.vm = &vm;
    cpu.index = 0;
    sink.vm = &vm;
    CHECK_EQ(guest_memory_init(&vm.mem, 4ull << 20), 0);
    CHECK_EQ(bus_register(&vm.pio, 0x3f8, 8, &sink_ops, &sink, "sink"), 0);
    CHECK_EQ(bus_register(&vm.pio, 0x501, 1, &poweroff_ops, &vm, "poweroff"), 0);
    CHECK_EQ(guest_write(&vm.mem, 0x1000, guest_code, sizeof guest_code), 0);
    CHECK_EQ(guest_write(&vm.mem, 0x1100, "abc", 3), 0);
    CHECK_EQ(guest_write(&vm.mem, 0x1200, "\xeb\xfe", 2), 0);   /* jmp $ */

    int rc = accel_kvm_ops.vm_init(&vm);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "vm_init: %s\n", err_get());
        return 1;
    }
    rc = accel_kvm_ops.vcpu_init(&cpu);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "vcpu_init: %s\n", err_get());
        return 1;
    }
    CHECK_EQ(accel_kvm_ops.irq_line(&vm, 4, 1), 0);
    CHECK_EQ(accel_kvm_ops.irq_line(&vm, 4, 0), 0);
    CHECK_EQ(accel_kvm_ops.irq_line(&vm, 24, 1), -EINVAL);

    /* the reset state: real mode, the APIC enabled as BSP, our PAT */
    static struct cpu_state s, s2;
    CHECK_EQ(accel_kvm_ops.vcpu_get_state(&cpu, &s), 0);
    CHECK_EQ(s.msr.apic_base, APIC_BASE_DEFAULT | APIC_BASE_ENABLE | APIC_BASE_BSP);
    CHECK_EQ(s.msr.pat, 0x0007040600070406ull);
    CHECK_EQ(s.msr.misc_enable & 1, 1);
    CHECK_EQ(s.run_state, CPU_RUNNABLE);
    CHECK_EQ(s.lapic[0x23], 0);   /* APIC ID 0 in bits 31:24 of 0x20 */
    real_mode_at(&s, 0x1000);
    s.regs[GPR_RBX] = 0x1122334455667788ull;
    CHECK_EQ(accel_kvm_ops.vcpu_set_state(&cpu, &s), 0);
    CHECK_EQ(accel_kvm_ops.vcpu_get_state(&cpu, &s2), 0);
    CHECK_EQ(s2.rip, 0x1000);
    CHECK_EQ(s2.regs[GPR_RBX], 0x1122334455667788ull);
    CHECK(memcmp(s.seg, s2.seg, sizeof s.seg) == 0);
    CHECK(memcmp(&s.fx, &s2.fx, sizeof s.fx) == 0);
    CHECK_EQ(s2.msr.pat, s.msr.pat);

    CHECK_EQ(accel_kvm_ops.vcpu_run(&cpu), VCPU_EXIT_STOP);
    CHECK_EQ(atomic_load(&vm.stop_reason), VM_STOP_POWEROFF);
    sink.out[sink.n] = '\0';
    CHECK(strcmp(sink.out, "okabc") == 0);
    CHECK_EQ(accel_kvm_ops.vcpu_get_state(&cpu, &s2), 0);
    CHECK_EQ(s2.rip, 0x1000 + 22);   /* after the OUT that powered off */

    /* a spinning guest stopped from another thread through the kick */
    atomic_store(&vm.stop_reason, VM_RUNNING);
    real_mode_at(&s2, 0x1200);
    CHECK_EQ(accel_kvm_ops.vcpu_set_state(&cpu, &s2), 0);
    pthread_t t;
    pthread_create(&t, NULL, stop_later, &vm);
    CHECK_EQ(accel_kvm_ops.vcpu_run(&cpu), VCPU_EXIT_STOP);
    pthread_join(t, NULL);
    CHECK_EQ(atomic_load(&vm.stop_reason), VM_STOP_USER);
    CHECK_EQ(accel_kvm_ops.vcpu_get_state(&cpu, &s2), 0);
    CHECK(s2.rip == 0x1200);

    /* a triple fault: with an empty real-mode IVT (limit 0), #UD (ud2)
     * escalates to #GP, #DF and shutdown. Some nested KVMs emulate real
     * mode without the IVT limit check and vector through the table
     * anyway; every vector there leads to code that prints 'V' and powers
     * off, so that case is told apart (guest-kvm-triple_fault still
     * covers shutdown exits in long mode there). */
    atomic_store(&vm.stop_reason, VM_RUNNING);
    sink.n = 0;
    static const uint8_t ivt_ignored[] = {
        0xba, 0xf8, 0x03, 0xb0, 'V', 0xee,   /* mov dx,0x3f8; mov al,'V'; out */
        0xba, 0x01, 0x05, 0xee,              /* mov dx,0x501; out: power off */
        0xf4, 0xeb, 0xfd,                    /* hlt; jmp hlt */
    };
    CHECK_EQ(guest_write(&vm.mem, 0x1400, ivt_ignored, sizeof ivt_ignored), 0);
    for (uint32_t vec = 0; vec < 256; vec++)
        CHECK_EQ(guest_write(&vm.mem, vec * 4, "\x00\x14\x00\x00", 4), 0);
    CHECK_EQ(guest_write(&vm.mem, 0x1300, "\x0f\x0b", 2), 0);
    real_mode_at(&s2, 0x1300);
    s2.idt.base = 0;
    s2.idt.limit = 0;
    CHECK_EQ(accel_kvm_ops.vcpu_set_state(&cpu, &s2), 0);
    CHECK_EQ(accel_kvm_ops.vcpu_run(&cpu), VCPU_EXIT_STOP);
    if (atomic_load(&vm.stop_reason) == VM_STOP_POWEROFF && sink.n == 1 && sink.out[0] == 'V') {
        printf("note: this host's KVM ignores the real-mode IVT limit; "
               "shutdown exits are covered by guest-kvm-triple_fault\n");
    } else {
        CHECK_EQ(atomic_load(&vm.stop_reason), VM_STOP_TRIPLE_FAULT);
        CHECK(strstr(vm.stop_message, "triple fault at RIP") != NULL);
        printf("stop message: %s\n", vm.stop_message);
    }

    accel_kvm_ops.vcpu_destroy(&cpu);
    accel_kvm_ops.vm_destroy(&vm);
    guest_memory_destroy(&vm.mem);
    bus_destroy(&vm.pio);
    TEST_MAIN_END();
}
