/* virtio-net with a recording back-end and the real I/O loop: transmit
 * strips the virtio header, receive prepends it, frames wait for buffers,
 * the MAC is in config space, and the rate limiter delays transmit. */
#include <stdatomic.h>
#include <time.h>

#include "../test.h"
#include "net/net.h"
#include "ring.h"
#include "virtio/devices.h"
#include "vm/loop.h"
#include "vm/vm.h"

#define BUF 0x200000ull

static struct guest_memory mem;
static struct io_loop *loop;

struct rec_be {
    struct net_backend be;
    pthread_mutex_t lock;
    int nsent;
    size_t last_len;
    uint8_t last[2048];
    uint64_t sent_ns[8];
    bool closed;
};

static int rec_send(struct net_backend *be, const struct iovec *iov, int cnt)
{
    struct rec_be *r = (struct rec_be *)be;
    pthread_mutex_lock(&r->lock);
    r->last_len = iov_to_buf(iov, cnt, 0, r->last, sizeof(r->last));
    if (r->nsent < 8)
        r->sent_ns[r->nsent] = vm_clock_ns();
    r->nsent++;
    pthread_mutex_unlock(&r->lock);
    return 0;
}

static void rec_close(struct net_backend *be)
{
    ((struct rec_be *)be)->closed = true;
}

static const struct net_backend_ops rec_ops = {.send = rec_send, .close = rec_close};

static void no_irq(void *o, unsigned g, int l) { (void)o; (void)g; (void)l; }

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

static void open_dev(struct virtio_dev *d, struct rec_be *be, struct ring *rx, struct ring *tx,
                     uint64_t bps)
{
    memset(be, 0, sizeof(*be));
    be->be.ops = &rec_ops;
    be->be.loop = loop;
    pthread_mutex_init(&be->lock, NULL);
    memset(d, 0, sizeof(*d));
    d->mem = &mem;
    d->loop = loop;
    d->irq_fn = no_irq;
    struct virtio_net_opts o = {.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, .bps = bps, .bps_burst = bps};
    CHECK_EQ(virtio_net_init(d, "net0", &be->be, &o), 0);
    CHECK(mmio_negotiate(d, ~0ull) & 8);
    ring_init_at(rx, &mem, NULL, 16, 0x1000);
    ring_init_at(tx, &mem, NULL, 16, 0x40000);
    mmio_setup_queue(d, 0, rx);
    mmio_setup_queue(d, 1, tx);
    mmio_driver_ok(d);
}

static void send_frame(struct virtio_dev *d, struct ring *tx, unsigned slot, const char *payload, size_t len)
{
    uint64_t hdr = BUF + 0x10000 + slot * 0x1000, data = hdr + 0x100;
    memset(ram(hdr), 0, 12);
    memcpy(ram(data), payload, len);
    ring_set_desc(tx, 2 * slot, hdr, 12, VIRTQ_DESC_F_NEXT, 2 * slot + 1);
    ring_set_desc(tx, 2 * slot + 1, data, (uint32_t)len, 0, 0);
    ring_add(tx, 2 * slot);
    mmio_wr(d, 0x050, 1);
}

static void test_basic(void)
{
    struct virtio_dev d;
    struct rec_be be;
    struct ring rx, tx;
    open_dev(&d, &be, &rx, &tx, 0);
    CHECK_EQ(mmio_rd(&d, 0x008), VIRTIO_ID_NET);
    CHECK_EQ(virtio_mmio_read(&d, 0x100, 1), 0x52);
    CHECK_EQ(virtio_mmio_read(&d, 0x105, 1), 0x56);
    CHECK_EQ(virtio_mmio_read(&d, 0x106, 2), 1);  /* link up */

    char frame[64];
    for (int i = 0; i < 64; i++)
        frame[i] = (char)i;
    send_frame(&d, &tx, 0, frame, 64);
    CHECK(wait_used(&tx, 1));
    CHECK_EQ(be.nsent, 1);
    CHECK_EQ(be.last_len, 64);
    CHECK(memcmp(be.last, frame, 64) == 0);

    /* a frame before any receive buffer waits in the backlog */
    be.be.rx(be.be.rx_opaque, (const uint8_t *)"0123456789abcdef", 16);
    ring_set_desc(&rx, 0, BUF, 1526, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&rx, 0);
    mmio_wr(&d, 0x050, 0);
    CHECK(wait_used(&rx, 1));
    CHECK_EQ(ring_used_elem(&rx, 0)[1], 12 + 16);
    CHECK_EQ(((uint8_t *)ram(BUF))[10], 1);   /* num_buffers */
    CHECK(memcmp((uint8_t *)ram(BUF) + 12, "0123456789abcdef", 16) == 0);

    /* with a buffer posted, delivery is immediate */
    ring_set_desc(&rx, 1, BUF + 0x1000, 1526, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&rx, 1);
    mmio_wr(&d, 0x050, 0);
    nanosleep(&(struct timespec){0, 10000000}, NULL);
    be.be.rx(be.be.rx_opaque, (const uint8_t *)"xyz", 3);
    CHECK(wait_used(&rx, 2));
    CHECK(memcmp((uint8_t *)ram(BUF + 0x1000) + 12, "xyz", 3) == 0);

    /* a tx buffer shorter than the header is dropped, not sent */
    ring_set_desc(&tx, 6, BUF, 4, 0, 0);
    ring_add(&tx, 6);
    mmio_wr(&d, 0x050, 1);
    CHECK(wait_used(&tx, 2));
    CHECK_EQ(be.nsent, 1);
    virtio_net_fini(&d);
    CHECK(be.closed);
}

/* slirp answers ARP and DHCP from inside send(): the receive path then runs
 * while transmit still holds its chain. Each path must return its own
 * chain's head to its own used ring (they once shared one element, and
 * transmit returned the receive head: "id 1 is not a head" in the guest). */
static int echo_send(struct net_backend *be, const struct iovec *iov, int cnt)
{
    rec_send(be, iov, cnt);
    struct rec_be *r = (struct rec_be *)be;
    be->rx(be->rx_opaque, r->last, r->last_len);
    return 0;
}

static const struct net_backend_ops echo_ops = {.send = echo_send, .close = rec_close};

static void test_reply_inside_send(void)
{
    struct virtio_dev d;
    struct rec_be be;
    struct ring rx, tx;
    open_dev(&d, &be, &rx, &tx, 0);
    be.be.ops = &echo_ops;
    /* receive buffer with head 5, transmit chain with head 2 (slot 1) */
    ring_set_desc(&rx, 5, BUF, 1526, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&rx, 5);
    mmio_wr(&d, 0x050, 0);
    nanosleep(&(struct timespec){0, 10000000}, NULL);
    send_frame(&d, &tx, 1, "ping-pong", 9);
    CHECK(wait_used(&tx, 1));
    CHECK(wait_used(&rx, 1));
    CHECK_EQ(ring_used_elem(&tx, 0)[0], 2);        /* tx head back on tx */
    CHECK_EQ(ring_used_elem(&rx, 0)[0], 5);        /* rx head back on rx */
    CHECK_EQ(ring_used_elem(&rx, 0)[1], 12 + 9);
    CHECK(memcmp((uint8_t *)ram(BUF) + 12, "ping-pong", 9) == 0);
    virtio_net_fini(&d);
}

static void test_rate_limit(void)
{
    struct virtio_dev d;
    struct rec_be be;
    struct ring rx, tx;
    open_dev(&d, &be, &rx, &tx, 10000);   /* 10 kB/s, burst 10 kB */
    char big[1500] = {0};
    for (int i = 0; i < 3; i++)
        send_frame(&d, &tx, (unsigned)i, big, 1500);
    for (int i = 3; i < 7; i++)
        send_frame(&d, &tx, (unsigned)i, big, 1500);
    CHECK(wait_used(&tx, 7));
    CHECK_EQ(be.nsent, 7);
    /* six frames take 9000 of the 10000-byte burst; the 7th needs 1500, so
     * it waits for 500 bytes of refill (>= 50 ms): a lower bound of the
     * arithmetic, not a timing */
    CHECK(be.sent_ns[6] - be.sent_ns[0] >= 49000000ull);
    CHECK(be.sent_ns[5] - be.sent_ns[0] < be.sent_ns[6] - be.sent_ns[0]);
    virtio_net_fini(&d);
}

int main(void)
{
    fake_ram_init(&mem);
    CHECK_EQ(loop_create(&loop), 0);
    CHECK_EQ(loop_start(loop), 0);
    test_basic();
    test_reply_inside_send();
    test_rate_limit();
    loop_destroy(loop);
    fake_ram_destroy(&mem);
    TEST_MAIN_END();
}
