/* virtio-blk through the virtio-mmio registers, with the real I/O loop and
 * the real block layer on a raw image: reads, writes, flush, GET_ID, discard and
 * write-zeroes, errors, read-only disks, a malformed request breaking the
 * device (and a reset reviving it), and the rate limiter holding requests
 * back on a timer. */
#include <stdatomic.h>
#include <time.h>

#include "../test.h"
#include "util/log.h"
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "block/block.h"
#include "vm/loop.h"
#include "vm/vm.h"
#include "virtio/devices.h"
#include "ring.h"

#define DISK_SIZE (1 << 20)
#define BUF 0x100000ull

static struct guest_memory mem;
static struct io_loop *loop;
static atomic_int irq_level, irq_raises;

static void irq(void *opaque, unsigned gsi, int level)
{
    (void)opaque;
    CHECK_EQ(gsi, 21);
    if (level)
        atomic_fetch_add(&irq_raises, 1);
    atomic_store(&irq_level, level);
}

struct tdev {
    struct virtio_dev dev;
    struct block_dev *bd;
    char path[64];
    int fd;                      /* the image, to look at what the guest wrote */
    struct ring r;
    unsigned next_desc;
};

static void tdev_open(struct tdev *t, bool ro, const struct virtio_blk_opts *o)
{
    memset(t, 0, sizeof(*t));
    strcpy(t->path, "/tmp/brume-test-blk-XXXXXX");
    t->fd = mkstemp(t->path);
    CHECK(t->fd >= 0);
    CHECK_EQ(ftruncate(t->fd, DISK_SIZE), 0);
    struct block_open_opts bo = {.format = "raw", .read_only = ro};
    if (block_open(t->path, &bo, &t->bd) < 0) {
        fprintf(stderr, "block_open: %s\n", err_get());
        exit(1);
    }
    t->dev.mem = &mem;
    t->dev.loop = loop;
    t->dev.irq_fn = irq;
    t->dev.gsi = 21;
    struct virtio_blk_opts def = {.read_only = ro};
    CHECK_EQ(virtio_blk_init(&t->dev, "vda", t->bd, o ? o : &def), 0);
}

static void tdev_start(struct tdev *t)
{
    uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                    (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_BLK_F_FLUSH) |
                    (1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_DISCARD) |
                    (1ull << VIRTIO_BLK_F_WRITE_ZEROES) | (1ull << VIRTIO_BLK_F_SEG_MAX);
    CHECK_EQ(mmio_negotiate(&t->dev, want) & 8, 8);
    ring_init_at(&t->r, &mem, NULL, 64, 0x1000);
    t->next_desc = 0;
    mmio_setup_queue(&t->dev, 0, &t->r);
    mmio_driver_ok(&t->dev);
    CHECK_EQ(mmio_rd(&t->dev, 0x070), 0xf);
}

static void tdev_close(struct tdev *t)
{
    virtio_blk_fini(&t->dev);
    block_close(t->bd);
    close(t->fd);
    unlink(t->path);
}

/* Queues a request: header, optional data (in or out), status byte.
 * Returns the gpa of the status byte. */
static uint64_t post(struct tdev *t, uint32_t type, uint64_t sector, uint64_t data, uint32_t len, bool data_in)
{
    unsigned h = t->next_desc % 64, d = (h + 1) % 64, s = (h + 2) % 64;
    uint64_t hdr = BUF + 0x10000 + 64ull * h, status = hdr + 32;
    struct { uint32_t type, reserved; uint64_t sector; } rq = {type, 0, sector};
    memcpy(fake_ram_ptr(&mem, hdr), &rq, sizeof(rq));
    *(uint8_t *)fake_ram_ptr(&mem, status) = 0xee;
    if (len) {
        ring_set_desc(&t->r, h, hdr, 16, VIRTQ_DESC_F_NEXT, d);
        ring_set_desc(&t->r, d, data, len, VIRTQ_DESC_F_NEXT | (data_in ? VIRTQ_DESC_F_WRITE : 0), s);
    } else {
        ring_set_desc(&t->r, h, hdr, 16, VIRTQ_DESC_F_NEXT, s);
    }
    ring_set_desc(&t->r, s, status, 1, VIRTQ_DESC_F_WRITE, 0);
    t->next_desc += 3;
    ring_add(&t->r, h);
    return status;
}

static void kick(struct tdev *t)
{
    mmio_wr(&t->dev, 0x050, 0);
}

/* Waits (bounded) until the device has used n entries in total. */
static bool wait_used(struct tdev *t, uint16_t n)
{
    for (int i = 0; i < 5000; i++) {
        if (__atomic_load_n(ring_used16(&t->r) + 1, __ATOMIC_ACQUIRE) == n)
            return true;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    fprintf(stderr, "timed out waiting for used idx %u (at %u)\n", n, ring_used16(&t->r)[1]);
    return false;
}

static void image_read(struct tdev *t, uint64_t off, void *buf, size_t len)
{
    CHECK_EQ(pread(t->fd, buf, len, (off_t)off), (ssize_t)len);
}

static uint8_t status_at(uint64_t gpa)
{
    return *(volatile uint8_t *)fake_ram_ptr(&mem, gpa);
}

static void test_io(void)
{
    struct tdev t;
    tdev_open(&t, false, NULL);
    CHECK_EQ(mmio_rd(&t.dev, 0x000), 0x74726976);
    CHECK_EQ(mmio_rd(&t.dev, 0x004), 2);
    CHECK_EQ(mmio_rd(&t.dev, 0x008), VIRTIO_ID_BLOCK);
    CHECK_EQ(virtio_mmio_read(&t.dev, 0x100, 8), DISK_SIZE / 512);      /* capacity */
    CHECK_EQ(virtio_mmio_read(&t.dev, 0x100 + 12, 4), VIRTIO_BLK_SEG_MAX);
    tdev_start(&t);

    uint8_t *wbuf = fake_ram_ptr(&mem, BUF);
    for (int i = 0; i < 4096; i++)
        wbuf[i] = (uint8_t)(i * 7 + 1);
    uint64_t st = post(&t, VIRTIO_BLK_T_OUT, 8, BUF, 4096, false);
    kick(&t);
    CHECK(wait_used(&t, 1));
    CHECK_EQ(status_at(st), VIRTIO_BLK_S_OK);
    uint8_t img[4096];
    image_read(&t, 8 * 512, img, 4096);
    CHECK(memcmp(img, wbuf, 4096) == 0);
    CHECK_EQ(ring_used_elem(&t.r, 0)[1], 1);
    CHECK(atomic_load(&irq_level));
    CHECK_EQ(mmio_rd(&t.dev, 0x060), VIRTIO_ISR_QUEUE);
    mmio_wr(&t.dev, 0x064, VIRTIO_ISR_QUEUE);
    CHECK(!atomic_load(&irq_level));

    st = post(&t, VIRTIO_BLK_T_IN, 8, BUF + 0x2000, 4096, true);
    kick(&t);
    CHECK(wait_used(&t, 2));
    CHECK_EQ(status_at(st), VIRTIO_BLK_S_OK);
    CHECK(memcmp(fake_ram_ptr(&mem, BUF + 0x2000), wbuf, 4096) == 0);
    CHECK_EQ(ring_used_elem(&t.r, 1)[1], 4097);

    /* past the end, and a partial sector: IOERR */
    st = post(&t, VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, BUF, 1024, true);
    uint64_t st2 = post(&t, VIRTIO_BLK_T_OUT, 0, BUF, 100, false);
    kick(&t);
    CHECK(wait_used(&t, 4));
    CHECK_EQ(status_at(st), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(status_at(st2), VIRTIO_BLK_S_IOERR);

    st = post(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    uint64_t id = post(&t, VIRTIO_BLK_T_GET_ID, 0, BUF + 0x4000, 20, true);
    uint64_t un = post(&t, 99, 0, 0, 0, false);
    kick(&t);
    CHECK(wait_used(&t, 7));
    CHECK_EQ(status_at(st), VIRTIO_BLK_S_OK);
    CHECK_EQ(status_at(id), VIRTIO_BLK_S_OK);
    CHECK(memcmp(fake_ram_ptr(&mem, BUF + 0x4000), "brume-vda", 10) == 0);
    CHECK_EQ(status_at(un), VIRTIO_BLK_S_UNSUPP);

    /* write-zeroes with unmap, and discard, over the sectors written */
    struct { uint64_t sector; uint32_t num, flags; } seg = {8, 4, 1};
    memcpy(fake_ram_ptr(&mem, BUF + 0x5000), &seg, 16);
    st = post(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF + 0x5000, 16, false);
    kick(&t);
    CHECK(wait_used(&t, 8));
    CHECK_EQ(status_at(st), VIRTIO_BLK_S_OK);
    image_read(&t, 8 * 512, img, 4096);
    CHECK_EQ(img[0], 0);
    CHECK_EQ(img[4 * 512 - 1], 0);
    CHECK_EQ(img[4 * 512], wbuf[4 * 512]);
    seg = (typeof(seg)){12, 4, 1};  /* discard must not carry the unmap flag */
    memcpy(fake_ram_ptr(&mem, BUF + 0x5000), &seg, 16);
    st = post(&t, VIRTIO_BLK_T_DISCARD, 0, BUF + 0x5000, 16, false);
    kick(&t);
    CHECK(wait_used(&t, 9));
    CHECK_EQ(status_at(st), VIRTIO_BLK_S_UNSUPP);
    seg.flags = 0;
    memcpy(fake_ram_ptr(&mem, BUF + 0x5000), &seg, 16);
    st = post(&t, VIRTIO_BLK_T_DISCARD, 0, BUF + 0x5000, 16, false);
    kick(&t);
    CHECK(wait_used(&t, 10));
    CHECK_EQ(status_at(st), VIRTIO_BLK_S_OK);
    /* discarded sectors of a raw file read back as zeroes */
    image_read(&t, 12 * 512, img, 2048);
    CHECK_EQ(img[0], 0);
    CHECK_EQ(img[2047], 0);

    /* a malformed request (no status byte) breaks the device, once */
    ring_set_desc(&t.r, 60, BUF, 16, 0, 0);
    ring_add(&t.r, 60);
    kick(&t);
    for (int i = 0; i < 5000 && !(mmio_rd(&t.dev, 0x070) & VIRTIO_STATUS_NEEDS_RESET); i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    CHECK(mmio_rd(&t.dev, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
    CHECK(mmio_rd(&t.dev, 0x060) & VIRTIO_ISR_CONFIG);
    /* further requests are ignored */
    uint16_t used_before = ring_used16(&t.r)[1];
    post(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    kick(&t);
    nanosleep(&(struct timespec){0, 20000000}, NULL);
    CHECK_EQ(ring_used16(&t.r)[1], used_before);
    /* reset and renegotiate: works again */
    mmio_wr(&t.dev, 0x070, 0);
    CHECK_EQ(mmio_rd(&t.dev, 0x070), 0);
    CHECK(!atomic_load(&irq_level));
    tdev_start(&t);
    st = post(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    kick(&t);
    CHECK(wait_used(&t, 1));
    CHECK_EQ(status_at(st), VIRTIO_BLK_S_OK);
    tdev_close(&t);
}

static void test_read_only(void)
{
    struct tdev t;
    tdev_open(&t, true, NULL);
    CHECK(t.dev.host_features & (1ull << VIRTIO_BLK_F_RO));
    CHECK(!(t.dev.host_features & (1ull << VIRTIO_BLK_F_DISCARD)));
    tdev_start(&t);
    uint64_t st = post(&t, VIRTIO_BLK_T_OUT, 0, BUF, 512, false);
    kick(&t);
    CHECK(wait_used(&t, 1));
    CHECK_EQ(status_at(st), VIRTIO_BLK_S_IOERR);
    uint8_t img[512];
    image_read(&t, 0, img, 512);
    CHECK_EQ(img[0], 0);
    CHECK_EQ(img[511], 0);
    tdev_close(&t);
}

static void test_features(void)
{
    struct tdev t;
    tdev_open(&t, false, NULL);
    /* a legacy driver (no VERSION_1) is refused FEATURES_OK */
    CHECK_EQ(mmio_negotiate(&t.dev, 1ull << VIRTIO_BLK_F_FLUSH) & 8, 0);
    /* features the device did not offer are refused */
    mmio_wr(&t.dev, 0x070, 0);
    mmio_wr(&t.dev, 0x070, 3);
    mmio_wr(&t.dev, 0x024, 1);
    mmio_wr(&t.dev, 0x020, 1 | 0x80);
    mmio_wr(&t.dev, 0x070, 0xb);
    CHECK_EQ(mmio_rd(&t.dev, 0x070) & 8, 0);
    /* DRIVER_OK without FEATURES_OK does not stick */
    mmio_wr(&t.dev, 0x070, 0x7);
    CHECK_EQ(mmio_rd(&t.dev, 0x070) & 4, 0);
    /* queue registers: max size, out-of-range selector reads as absent */
    mmio_wr(&t.dev, 0x030, 0);
    CHECK_EQ(mmio_rd(&t.dev, 0x034), VIRTIO_BLK_QUEUE_SIZE);
    mmio_wr(&t.dev, 0x030, 5);
    CHECK_EQ(mmio_rd(&t.dev, 0x034), 0);
    mmio_wr(&t.dev, 0x044, 1);  /* ready on a missing queue: ignored */
    /* a ring outside RAM marks the device broken at QueueReady */
    mmio_negotiate(&t.dev, ~0ull);
    mmio_wr(&t.dev, 0x030, 0);
    mmio_wr(&t.dev, 0x038, 64);
    mmio_wr(&t.dev, 0x080, 0xD0000000u);
    mmio_wr(&t.dev, 0x044, 1);
    CHECK(mmio_rd(&t.dev, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
    CHECK_EQ(mmio_rd(&t.dev, 0x044), 0);
    /* sub-word and unaligned register accesses read as zero */
    CHECK_EQ(virtio_mmio_read(&t.dev, 0, 2), 0);
    CHECK_EQ(virtio_mmio_read(&t.dev, 2, 4), 0);
    /* config space past its end reads as zero */
    CHECK_EQ(virtio_mmio_read(&t.dev, 0x100 + 60, 4), 0);
    tdev_close(&t);
}

static void test_rate_limit(void)
{
    struct tdev t;
    struct virtio_blk_opts o = {.iops = 10, .iops_burst = 2};
    tdev_open(&t, false, &o);
    tdev_start(&t);
    for (int i = 0; i < 5; i++)
        post(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    uint64_t t0 = vm_clock_ns();
    kick(&t);
    CHECK(wait_used(&t, 5));
    /* 2 at once, then one per 100 ms: the 5th cannot complete before
     * 300 ms (a lower bound the token arithmetic guarantees, not a timing);
     * the burst was full when the disk was opened. */
    CHECK(vm_clock_ns() - t0 >= 300000000ull - 1000000ull);
    tdev_close(&t);
}

int main(void)
{
    fake_ram_init(&mem);
    CHECK_EQ(loop_create(&loop), 0);
    CHECK_EQ(loop_start(loop), 0);
    test_io();
    test_read_only();
    test_features();
    test_rate_limit();
    loop_destroy(loop);
    fake_ram_destroy(&mem);
    TEST_MAIN_END();
}
