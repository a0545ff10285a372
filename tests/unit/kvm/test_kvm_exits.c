/* The kvm engine's pure pieces around KVM_RUN: port and MMIO exits
 * against real buses (string I/O, odd MMIO sizes, malformed records), the
 * one-line descriptions of fatal exits, GSI routing, and the auto verdict.
 * Exit records are built by hand, so no /dev/kvm is needed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "accel/kvm/kvm.h"
#include "vm/vm.h"

struct dev {
    uint64_t log_off[64], log_val[64];
    unsigned log_size[64];
    int writes, reads;
    uint8_t mem[16];
};

static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
    struct dev *d = opaque;
    d->reads++;
    uint64_t v = 0;
    if (off + size <= sizeof d->mem)
        memcpy(&v, d->mem + off, size);
    else
        v = 0x40 + d->reads;   /* a port: a new value per read */
    return v;
}

static void dev_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct dev *d = opaque;
    if (d->writes < 64) {
        d->log_off[d->writes] = off;
        d->log_val[d->writes] = val;
        d->log_size[d->writes] = size;
    }
    d->writes++;
    if (off + size <= sizeof d->mem)
        memcpy(d->mem + off, &val, size);
}

static const struct bus_ops dev_ops = {dev_read, dev_write};

#define RUN_SIZE 8192

static void test_io(struct vm *vm, struct dev *port)
{
    struct kvm_run *run = aligned_alloc(4096, RUN_SIZE);
    memset(run, 0, RUN_SIZE);
    uint8_t *page = (uint8_t *)run + 4096;

    /* OUT dx, ax */
    run->exit_reason = KVM_EXIT_IO;
    run->io.direction = KVM_EXIT_IO_OUT;
    run->io.size = 2;
    run->io.port = 0x3f9;
    run->io.count = 1;
    run->io.data_offset = 4096;
    page[0] = 0x34;
    page[1] = 0x12;
    CHECK_EQ(kvm_handle_io(vm, run, RUN_SIZE), 0);
    CHECK_EQ(port->writes, 1);
    CHECK_EQ(port->log_off[0], 1);
    CHECK_EQ(port->log_size[0], 2);
    CHECK_EQ(port->log_val[0], 0x1234);

    /* REP OUTSB of 5 bytes: five writes to the same port, in order */
    run->io.size = 1;
    run->io.port = 0x3f8;
    run->io.count = 5;
    memcpy(page, "hello", 5);
    CHECK_EQ(kvm_handle_io(vm, run, RUN_SIZE), 0);
    CHECK_EQ(port->writes, 6);
    CHECK_EQ(port->log_val[1], 'h');
    CHECK_EQ(port->log_val[5], 'o');
    CHECK_EQ(port->log_off[5], 0);

    /* REP INSD of 3 dwords from an unclaimed port reads all ones */
    run->io.direction = KVM_EXIT_IO_IN;
    run->io.size = 4;
    run->io.port = 0x1234;
    run->io.count = 3;
    memset(page, 0, 12);
    CHECK_EQ(kvm_handle_io(vm, run, RUN_SIZE), 0);
    uint32_t dw[3];
    memcpy(dw, page, 12);
    CHECK_EQ(dw[0], 0xffffffff);
    CHECK_EQ(dw[2], 0xffffffff);

    /* IN al from the device */
    run->io.size = 1;
    run->io.port = 0x3ff;   /* offset 7 */
    run->io.count = 1;
    page[0] = 0;
    port->mem[7] = 0x5a;
    CHECK_EQ(kvm_handle_io(vm, run, RUN_SIZE), 0);
    CHECK_EQ(page[0], 0x5a);

    /* malformed records are refused, never followed */
    run->io.size = 3;
    CHECK_EQ(kvm_handle_io(vm, run, RUN_SIZE), -EINVAL);
    run->io.size = 4;
    run->io.count = 1025;   /* 4100 bytes from offset 4096: past the mapping */
    CHECK_EQ(kvm_handle_io(vm, run, RUN_SIZE), -EINVAL);
    run->io.count = 1;
    run->io.data_offset = RUN_SIZE - 2;
    CHECK_EQ(kvm_handle_io(vm, run, RUN_SIZE), -EINVAL);
    run->io.data_offset = 8;   /* inside the header */
    CHECK_EQ(kvm_handle_io(vm, run, RUN_SIZE), -EINVAL);
    run->io.data_offset = 4096;
    run->io.count = 0;
    CHECK_EQ(kvm_handle_io(vm, run, RUN_SIZE), -EINVAL);
    free(run);
}

static void test_mmio(struct vm *vm, struct dev *d)
{
    struct kvm_run *run = aligned_alloc(4096, RUN_SIZE);
    memset(run, 0, RUN_SIZE);
    run->exit_reason = KVM_EXIT_MMIO;

    /* 4-byte write then read back */
    run->mmio.phys_addr = 0xD0000004;
    run->mmio.len = 4;
    run->mmio.is_write = 1;
    uint32_t v = 0xdeadbeef;
    memcpy(run->mmio.data, &v, 4);
    int w0 = d->writes;
    CHECK_EQ(kvm_handle_mmio(vm, run), 0);
    CHECK_EQ(d->writes, w0 + 1);
    CHECK_EQ(d->log_size[w0], 4);
    CHECK_EQ(d->log_off[w0], 4);
    CHECK_EQ(d->log_val[w0], 0xdeadbeef);
    run->mmio.is_write = 0;
    memset(run->mmio.data, 0, 8);
    CHECK_EQ(kvm_handle_mmio(vm, run), 0);
    memcpy(&v, run->mmio.data, 4);
    CHECK_EQ(v, 0xdeadbeef);

    /* a 3-byte piece (an access split at a page boundary) goes byte-wise */
    run->mmio.is_write = 1;
    run->mmio.phys_addr = 0xD0000008;
    run->mmio.len = 3;
    memcpy(run->mmio.data, "\x11\x22\x33", 3);
    w0 = d->writes;
    CHECK_EQ(kvm_handle_mmio(vm, run), 0);
    CHECK_EQ(d->writes, w0 + 3);
    CHECK_EQ(d->mem[8], 0x11);
    CHECK_EQ(d->mem[10], 0x33);
    run->mmio.is_write = 0;
    run->mmio.len = 3;
    memset(run->mmio.data, 0, 8);
    CHECK_EQ(kvm_handle_mmio(vm, run), 0);
    CHECK_EQ(run->mmio.data[0], 0x11);
    CHECK_EQ(run->mmio.data[2], 0x33);

    /* unclaimed MMIO reads as all ones */
    run->mmio.phys_addr = 0xE0000000;
    run->mmio.len = 8;
    CHECK_EQ(kvm_handle_mmio(vm, run), 0);
    uint64_t q;
    memcpy(&q, run->mmio.data, 8);
    CHECK_EQ(q, UINT64_MAX);

    run->mmio.len = 0;
    CHECK_EQ(kvm_handle_mmio(vm, run), -EINVAL);
    run->mmio.len = 9;
    CHECK_EQ(kvm_handle_mmio(vm, run), -EINVAL);
    free(run);
}

static void test_describe(void)
{
    struct kvm_run run;
    char buf[256];

    memset(&run, 0, sizeof run);
    run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run.emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
    run.emulation_failure.ndata = 3;
    run.emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
    run.emulation_failure.insn_size = 3;
    memcpy(run.emulation_failure.insn_bytes, "\x0f\x01\xd0", 3);   /* xgetbv */
    kvm_describe_exit(&run, 0xffffffff81000123ull, buf, sizeof buf);
    CHECK(strstr(buf, "emulation failure") != NULL);
    CHECK(strstr(buf, "RIP 0xffffffff81000123") != NULL);
    CHECK(strstr(buf, "instruction 0f 01 d0") != NULL);
    CHECK(strstr(buf, "--accel emu") != NULL);

    /* without the bytes flag, no bytes; insn_size is never trusted past 15 */
    run.emulation_failure.flags = 0;
    kvm_describe_exit(&run, 0x1000, buf, sizeof buf);
    CHECK(strstr(buf, ", instruction ") == NULL);
    run.emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
    run.emulation_failure.insn_size = 200;
    kvm_describe_exit(&run, 0x1000, buf, sizeof buf);
    CHECK(strlen(buf) < sizeof buf - 1);

    run.internal.suberror = 99;
    kvm_describe_exit(&run, 0x1000, buf, sizeof buf);
    CHECK(strstr(buf, "internal error 99 (unknown)") != NULL);

    memset(&run, 0, sizeof run);
    run.exit_reason = KVM_EXIT_FAIL_ENTRY;
    run.fail_entry.hardware_entry_failure_reason = 0x21;
    run.fail_entry.cpu = 1;
    kvm_describe_exit(&run, 0xfff0, buf, sizeof buf);
    CHECK(strstr(buf, "reason 0x21") != NULL);
    CHECK(strstr(buf, "RIP 0xfff0") != NULL);

    run.exit_reason = KVM_EXIT_HLT;
    kvm_describe_exit(&run, 0x10, buf, sizeof buf);
    CHECK(strstr(buf, "KVM_EXIT_HLT") != NULL);

    /* a tiny buffer is never overrun */
    char small[8];
    run.exit_reason = KVM_EXIT_FAIL_ENTRY;
    kvm_describe_exit(&run, 0x10, small, sizeof small);
    CHECK_EQ(strlen(small), 7);

    CHECK(strcmp(kvm_exit_name(KVM_EXIT_SHUTDOWN), "KVM_EXIT_SHUTDOWN") == 0);
    CHECK(strcmp(kvm_exit_name(12345), "unknown") == 0);
    CHECK(strcmp(kvm_exit_name(19), "unknown") == 0);   /* a hole in the table */
}

static void test_gsi_routing(void)
{
    struct kvm_irq_routing_entry e[64];
    int n = kvm_gsi_routing_build(e, 64);
    CHECK_EQ(n, 15 + 23);   /* PIC pins 0-15 but the cascade; IOAPIC 0-23 but GSI 2 */
    int pic_m[8] = {0}, pic_s[8] = {0}, ioapic[24] = {0};
    for (int i = 0; i < n; i++) {
        CHECK_EQ(e[i].type, KVM_IRQ_ROUTING_IRQCHIP);
        CHECK(e[i].gsi != 2);
        unsigned chip = e[i].u.irqchip.irqchip, pin = e[i].u.irqchip.pin;
        if (chip == KVM_IRQCHIP_PIC_MASTER) {
            CHECK_EQ(pin, e[i].gsi);
            pic_m[pin]++;
        } else if (chip == KVM_IRQCHIP_PIC_SLAVE) {
            CHECK_EQ(pin, e[i].gsi - 8);
            pic_s[pin]++;
        } else {
            CHECK_EQ(chip, KVM_IRQCHIP_IOAPIC);
            CHECK(pin < 24);
            CHECK_EQ(pin, e[i].gsi == 0 ? 2 : e[i].gsi);
            ioapic[pin]++;
        }
    }
    CHECK_EQ(pic_m[0], 1);
    CHECK_EQ(pic_m[2], 0);
    CHECK_EQ(pic_s[7], 1);
    CHECK_EQ(ioapic[0], 0);   /* nothing drives IOAPIC pin 0 */
    CHECK_EQ(ioapic[2], 1);   /* the PIT */
    CHECK_EQ(ioapic[4], 1);
    CHECK_EQ(ioapic[23], 1);
    CHECK_EQ(kvm_gsi_routing_build(e, 10), -ENOSPC);
}

static void test_verdict(void)
{
    char why[200], buf[32];
    kvm_format_ns(0.42, buf, sizeof buf);
    CHECK(strcmp(buf, "0.4 ns") == 0);
    kvm_format_ns(1312.0, buf, sizeof buf);
    CHECK(strcmp(buf, "1.3 µs") == 0);

    struct accel_probe p = {.usable = false};
    snprintf(p.reason, sizeof p.reason, "no /dev/kvm");
    CHECK(!kvm_auto_verdict(&p, why, sizeof why));
    CHECK(strcmp(why, "auto: using emu (no /dev/kvm)") == 0);

    p = (struct accel_probe){.usable = true, .ns_per_insn = 1300.0, .max_cpus = 8};
    CHECK(!kvm_auto_verdict(&p, why, sizeof why));
    CHECK(strcmp(why, "auto: using emu (/dev/kvm runs guest code at 1.3 µs per instruction, emulated)") == 0);

    p.ns_per_insn = 0.35;
    CHECK(kvm_auto_verdict(&p, why, sizeof why));
    CHECK(strcmp(why, "auto: using kvm (0.3 ns per guest instruction)") == 0 ||
          strcmp(why, "auto: using kvm (0.4 ns per guest instruction)") == 0);

    p.ns_per_insn = KVM_AUTO_MAX_NS_PER_INSN;   /* the line itself loses */
    CHECK(!kvm_auto_verdict(&p, why, sizeof why));
    p.ns_per_insn = 0;                          /* usable but unmeasured */
    CHECK(!kvm_auto_verdict(&p, why, sizeof why));
}

int main(void)
{
    static struct vm vm;
    static struct dev port, mmio;
    memset(&vm, 0, sizeof vm);
    CHECK_EQ(bus_register(&vm.pio, 0x3f8, 8, &dev_ops, &port, "com1"), 0);
    CHECK_EQ(bus_register(&vm.mmio, 0xD0000000, 0x1000, &dev_ops, &mmio, "virtio0"), 0);
    test_io(&vm, &port);
    test_mmio(&vm, &mmio);
    test_describe();
    test_gsi_routing();
    test_verdict();
    bus_destroy(&vm.pio);
    bus_destroy(&vm.mmio);
    TEST_MAIN_END();
}
