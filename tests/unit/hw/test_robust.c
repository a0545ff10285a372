/* Every emu device under random guest accesses (fixed seed): nothing may
 * crash, hang or trip the sanitizers, and read-only identity registers
 * must survive. Run under ASan/UBSan by `make check`. */
#include "hw_test.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const uint16_t ports[] = {
    0x20, 0x21, 0xA0, 0xA1, 0x40, 0x41, 0x42, 0x43, 0x60, 0x61, 0x64, 0x70, 0x71, 0x80,
    0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0x4D0, 0x4D1,
    0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x608, 0x60C,
};

int main(void)
{
    struct test_vm *t = test_vm_new(2, true);
    t->route = true;
    CHECK_EQ(hw_create(&t->vm, -1), 0);
    static const unsigned sizes[] = {1, 2, 4};
    for (int i = 0; i < 300000; i++) {
        uint64_t r = next();
        unsigned what = r & 7;
        uint16_t port = ports[(r >> 8) % (sizeof(ports) / sizeof(ports[0]))];
        unsigned size = sizes[(r >> 16) % 3];
        uint64_t v = next();
        uint64_t dummy;
        struct lapic *l = t->vcpus[(r >> 20) & 1].lapic;
        switch (what) {
        case 0: case 1:
            if (port == 0x60C || port == 0x604 || port == 0x605 || port == 0x64)
                break; /* resets and power-off: exercised elsewhere */
            bus_write(&t->vm.pio, port, size, v);
            break;
        case 2: case 3:
            bus_read(&t->vm.pio, port, size, &dummy);
            break;
        case 4:
            bus_write(&t->vm.mmio, IOAPIC_ADDR + ((v >> 32) & 0x1C), 4, v & 0xFFFFFFFF);
            break;
        case 5:
            lapic_mmio_write(l, (uint32_t)(v >> 32) & 0x3F0, (uint32_t)v);
            break;
        case 6:
            vm_irq_line(&t->vm, (unsigned)(v % 28), (int)((v >> 8) & 1));
            break;
        case 7:
            lapic_poll_timer(l, vm_clock_ns());
            if (lapic_has_interrupt(l))
                lapic_take_interrupt(l);
            lapic_take_init(l);
            lapic_take_sipi(l);
            break;
        }
    }
    CHECK_EQ(lapic_mmio_read(t->vcpus[0].lapic, 0x30), 0x00050014);
    mmio_wr(t, IOAPIC_ADDR, 1);
    CHECK_EQ(mmio_rd(t, IOAPIC_ADDR + 0x10), 0x11u | ((IOAPIC_PINS - 1u) << 16));
    test_vm_free(t);
    TEST_MAIN_END();
}
