/* virtio-rng, virtio-console and virtio-balloon through virtio-mmio with
 * the real I/O loop: what the guest receives, what the host sees, and the
 * balloon giving guest pages back to the host. */
#include <fcntl.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "virtio/devices.h"
#include "ring.h"
#include "vm/loop.h"

#define BUF 0x200000ull

static struct guest_memory mem;
static struct io_loop *loop;

static void no_irq(void *o, unsigned g, int l) { (void)o; (void)g; (void)l; }

static void dev_prep(struct virtio_dev *d)
{
    memset(d, 0, sizeof(*d));
    d->mem = &mem;
    d->loop = loop;
    d->irq_fn = no_irq;
}

static bool wait_used(struct ring *r, uint16_t n)
{
    for (int i = 0; i < 5000; i++) {
        if (__atomic_load_n(ring_used16(r) + 1, __ATOMIC_ACQUIRE) == n)
            return true;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    fprintf(stderr, "timed out waiting for used idx %u (at %u)\n", n, ring_used16(r)[1]);
    return false;
}

static void *ram(uint64_t gpa) { return fake_ram_ptr(&mem, gpa); }

static void test_rng(void)
{
    struct virtio_dev d;
    struct ring r;
    dev_prep(&d);
    CHECK_EQ(virtio_rng_init(&d, "rng0"), 0);
    CHECK_EQ(mmio_rd(&d, 0x008), VIRTIO_ID_RNG);
    CHECK(mmio_negotiate(&d, ~0ull) & 8);
    ring_init_at(&r, &mem, NULL, 16, 0x1000);
    mmio_setup_queue(&d, 0, &r);
    mmio_driver_ok(&d);
    memset(ram(BUF), 0, 64);
    ring_set_desc(&r, 0, BUF, 32, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    ring_set_desc(&r, 1, BUF + 32, 32, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&r, 0);
    mmio_wr(&d, 0x050, 0);
    CHECK(wait_used(&r, 1));
    CHECK_EQ(ring_used_elem(&r, 0)[1], 64);
    int zeros = 0;
    for (int i = 0; i < 64; i++)
        zeros += ((uint8_t *)ram(BUF))[i] == 0;
    CHECK(zeros < 16);  /* 64 random bytes: chance of this failing ~0 */
    virtio_rng_fini(&d);
}

static void test_console(void)
{
    int in[2], out[2];
    CHECK_EQ(pipe2(in, O_NONBLOCK | O_CLOEXEC), 0);
    CHECK_EQ(pipe2(out, O_CLOEXEC), 0);
    struct virtio_dev d;
    struct ring rx, tx;
    dev_prep(&d);
    CHECK_EQ(virtio_console_init(&d, "hvc0", in[0], out[1]), 0);
    CHECK_EQ(mmio_rd(&d, 0x008), VIRTIO_ID_CONSOLE);
    /* input typed before the driver is up waits for it */
    CHECK_EQ(write(in[1], "early", 5), 5);
    CHECK(mmio_negotiate(&d, ~0ull) & 8);
    ring_init_at(&rx, &mem, NULL, 16, 0x1000);
    ring_init_at(&tx, &mem, NULL, 16, 0x40000);
    mmio_setup_queue(&d, 0, &rx);
    mmio_setup_queue(&d, 1, &tx);
    mmio_driver_ok(&d);

    memcpy(ram(BUF), "hello, host", 11);
    ring_set_desc(&tx, 0, BUF, 11, 0, 0);
    ring_add(&tx, 0);
    mmio_wr(&d, 0x050, 1);
    CHECK(wait_used(&tx, 1));
    char got[32] = {0};
    CHECK_EQ(read(out[0], got, sizeof(got)), 11);
    CHECK(memcmp(got, "hello, host", 11) == 0);

    ring_set_desc(&rx, 0, BUF + 0x100, 64, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&rx, 0);
    mmio_wr(&d, 0x050, 0);
    CHECK(wait_used(&rx, 1));
    CHECK_EQ(ring_used_elem(&rx, 0)[1], 5);
    CHECK(memcmp(ram(BUF + 0x100), "early", 5) == 0);

    /* later input goes into the next posted buffer */
    ring_set_desc(&rx, 1, BUF + 0x200, 64, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&rx, 1);
    mmio_wr(&d, 0x050, 0);
    CHECK_EQ(write(in[1], "ls\n", 3), 3);
    CHECK(wait_used(&rx, 2));
    CHECK_EQ(ring_used_elem(&rx, 1)[1], 3);
    CHECK(memcmp(ram(BUF + 0x200), "ls\n", 3) == 0);
    virtio_console_fini(&d);
    close(in[0]); close(in[1]); close(out[0]); close(out[1]);
}

static bool page_is_zero(uint64_t gpa)
{
    const uint8_t *p = ram(gpa);
    for (int i = 0; i < 4096; i++)
        if (p[i])
            return false;
    return true;
}

static void test_balloon(void)
{
    struct virtio_dev d;
    struct ring inf, def, st, rep;
    struct virtio_balloon_info info;
    dev_prep(&d);
    CHECK_EQ(virtio_balloon_init(&d, "balloon0", 10), 0);
    CHECK_EQ(mmio_rd(&d, 0x008), VIRTIO_ID_BALLOON);
    CHECK_EQ(mmio_rd(&d, 0x100), 10);
    /* stats + page reporting: queues 0 1 2 3 */
    CHECK(mmio_negotiate(&d, (1ull << VIRTIO_F_VERSION_1) | (1ull << 1) | (1ull << 5)) & 8);
    ring_init_at(&inf, &mem, NULL, 16, 0x1000);
    ring_init_at(&def, &mem, NULL, 16, 0x40000);
    ring_init_at(&st, &mem, NULL, 16, 0x70000);
    ring_init_at(&rep, &mem, NULL, 16, 0xa0000);
    mmio_setup_queue(&d, 0, &inf);
    mmio_setup_queue(&d, 1, &def);
    mmio_setup_queue(&d, 2, &st);
    mmio_setup_queue(&d, 3, &rep);
    mmio_driver_ok(&d);

    memset(ram(0x400000), 0xaa, 2 * 4096);
    uint32_t pfns[3] = {0x400, 0x401, 0xfffff000u};  /* the last is not RAM */
    memcpy(ram(BUF), pfns, sizeof(pfns));
    ring_set_desc(&inf, 0, BUF, sizeof(pfns), 0, 0);
    ring_add(&inf, 0);
    mmio_wr(&d, 0x050, 0);
    CHECK(wait_used(&inf, 1));
    CHECK(page_is_zero(0x400000));   /* dropped from the memfd */
    CHECK(page_is_zero(0x401000));
    virtio_mmio_write(&d, 0x104, 4, 2);   /* actual */
    virtio_mmio_write(&d, 0x100, 4, 99);  /* num_pages is not the driver's */
    virtio_balloon_get_info(&d, &info);
    CHECK_EQ(info.inflated_pages, 2);
    CHECK_EQ(info.actual_pages, 2);
    CHECK_EQ(info.target_pages, 10);

    ring_set_desc(&def, 0, BUF, 4, 0, 0);
    ring_add(&def, 0);
    mmio_wr(&d, 0x050, 1);
    CHECK(wait_used(&def, 1));
    virtio_balloon_get_info(&d, &info);
    CHECK_EQ(info.deflated_pages, 1);

    uint8_t stat[20] = {0};
    uint16_t tag = 4;            /* VIRTIO_BALLOON_S_MEMFREE */
    uint64_t val = 123456789;
    memcpy(stat, &tag, 2);
    memcpy(stat + 2, &val, 8);
    memcpy(ram(BUF + 0x100), stat, 10);
    ring_set_desc(&st, 0, BUF + 0x100, 10, 0, 0);
    ring_add(&st, 0);
    mmio_wr(&d, 0x050, 2);
    for (int i = 0; i < 5000; i++) {
        virtio_balloon_get_info(&d, &info);
        if (info.stats_valid)
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    CHECK(info.stats_valid);
    CHECK_EQ(info.stats[4], 123456789);

    memset(ram(0x500000), 0x55, 4096);
    ring_set_desc(&rep, 0, 0x500000, 4096, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&rep, 0);
    mmio_wr(&d, 0x050, 3);
    CHECK(wait_used(&rep, 1));
    CHECK(page_is_zero(0x500000));
    virtio_balloon_get_info(&d, &info);
    CHECK_EQ(info.reported_pages, 1);

    uint32_t gen = mmio_rd(&d, 0x0fc);
    virtio_balloon_set_target(&d, 5);
    CHECK_EQ(mmio_rd(&d, 0x100), 5);
    CHECK(mmio_rd(&d, 0x0fc) != gen);
    CHECK(mmio_rd(&d, 0x060) & VIRTIO_ISR_CONFIG);

    /* without STATS_VQ, the reporting queue is number 2 */
    CHECK(mmio_negotiate(&d, (1ull << VIRTIO_F_VERSION_1) | (1ull << 5)) & 8);
    ring_init_at(&inf, &mem, NULL, 16, 0x1000);
    ring_init_at(&def, &mem, NULL, 16, 0x40000);
    ring_init_at(&rep, &mem, NULL, 16, 0xa0000);
    mmio_setup_queue(&d, 0, &inf);
    mmio_setup_queue(&d, 1, &def);
    mmio_setup_queue(&d, 2, &rep);
    mmio_driver_ok(&d);
    memset(ram(0x600000), 0x77, 4096);
    ring_set_desc(&rep, 0, 0x600000, 4096, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&rep, 0);
    mmio_wr(&d, 0x050, 2);
    CHECK(wait_used(&rep, 1));
    CHECK(page_is_zero(0x600000));
    virtio_balloon_fini(&d);
}

int main(void)
{
    fake_ram_init(&mem);
    CHECK_EQ(loop_create(&loop), 0);
    CHECK_EQ(loop_start(loop), 0);
    test_rng();
    test_console();
    test_balloon();
    loop_destroy(loop);
    fake_ram_destroy(&mem);
    TEST_MAIN_END();
}
