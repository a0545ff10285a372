/* Crafted rings against the split virtqueue: well-formed chains pop as
 * expected, and every kind of malformed ring breaks the queue instead of
 * crashing or looping. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "ring.h"

static struct guest_memory mem;
static struct virtq q;
static struct ring r;
static struct virtq_elem *e;

static void setup(uint16_t size, bool indirect, bool event_idx)
{
    ring_init(&r, &mem, &q, size);
    q.indirect = indirect;
    q.event_idx = event_idx;
    CHECK_EQ(virtq_map(&q, &mem), 0);
}

static void expect_broken(const char *what, const char *needle)
{
    int rc = virtq_pop(&q, e);
    if (rc != -EIO || !q.broken || !strstr(q.reason, needle)) {
        fprintf(stderr, "%s: pop=%d broken=%d reason='%s' (wanted '%s')\n", what, rc, q.broken, q.reason, needle);
        test_failures++;
    }
    /* Broken stays broken. */
    CHECK_EQ(virtq_pop(&q, e), -EIO);
}

static void test_simple_chain(void)
{
    setup(8, false, false);
    CHECK_EQ(virtq_pop(&q, e), 0);
    CHECK(!virtq_has_work(&q));
    ring_set_desc(&r, 3, RING_DATA, 16, VIRTQ_DESC_F_NEXT, 5);
    ring_set_desc(&r, 5, RING_DATA + 0x100, 100, VIRTQ_DESC_F_NEXT, 0);
    ring_set_desc(&r, 0, RING_DATA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&r, 3);
    CHECK(virtq_has_work(&q));
    CHECK_EQ(virtq_pop(&q, e), 1);
    CHECK_EQ(e->head, 3);
    CHECK_EQ(e->nout, 2);
    CHECK_EQ(e->nin, 1);
    CHECK_EQ(e->out_len, 116);
    CHECK_EQ(e->in_len, 1);
    CHECK(e->iov[0].iov_base == fake_ram_ptr(&mem, RING_DATA));
    CHECK(e->iov[2].iov_base == fake_ram_ptr(&mem, RING_DATA + 0x200));
    CHECK_EQ(virtq_pop(&q, e), 0);
    virtq_push(&q, 3, 1);
    CHECK_EQ(ring_used16(&r)[1], 1);
    CHECK_EQ(ring_used_elem(&r, 0)[0], 3);
    CHECK_EQ(ring_used_elem(&r, 0)[1], 1);
    CHECK(virtq_should_notify(&q));
    /* the driver suppresses interrupts */
    ring_avail(&r)[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    virtq_push(&q, 3, 1);
    CHECK(!virtq_should_notify(&q));
}

static void test_unpop_and_wrap(void)
{
    setup(4, false, false);
    ring_set_desc(&r, 1, RING_DATA, 8, 0, 0);
    /* Drive the 16-bit indices across the wrap. */
    for (unsigned i = 0; i < 70000; i++) {
        ring_add(&r, 1);
        if (virtq_pop(&q, e) != 1) {
            CHECK(!"pop failed across wrap");
            return;
        }
        if (i == 65530) {
            virtq_unpop(&q);
            CHECK_EQ(virtq_pop(&q, e), 1);
        }
        virtq_push(&q, e->head, 0);
    }
    CHECK_EQ(ring_used16(&r)[1], (uint16_t)70000);
    CHECK(!q.broken);
}

static void test_zero_length(void)
{
    setup(8, false, false);
    /* zero-length buffers may point anywhere; they are skipped */
    ring_set_desc(&r, 0, 0xdead0000000ull, 0, VIRTQ_DESC_F_NEXT, 1);
    ring_set_desc(&r, 1, RING_DATA, 4, VIRTQ_DESC_F_WRITE, 0);
    ring_add(&r, 0);
    CHECK_EQ(virtq_pop(&q, e), 1);
    CHECK_EQ(e->nout, 0);
    CHECK_EQ(e->nin, 1);
}

static void test_loop(void)
{
    setup(8, false, false);
    ring_set_desc(&r, 0, RING_DATA, 4, VIRTQ_DESC_F_NEXT, 1);
    ring_set_desc(&r, 1, RING_DATA, 4, VIRTQ_DESC_F_NEXT, 0);
    ring_add(&r, 0);
    expect_broken("two-descriptor loop", "loops");
    setup(8, false, false);
    ring_set_desc(&r, 2, RING_DATA, 4, VIRTQ_DESC_F_NEXT, 2);
    ring_add(&r, 2);
    expect_broken("self loop", "loops");
}

static void test_bad_addresses(void)
{
    setup(8, false, false);
    ring_set_desc(&r, 0, 0xC0000000ull, 4, 0, 0); /* the MMIO hole */
    ring_add(&r, 0);
    expect_broken("address in the hole", "outside guest RAM");

    setup(8, false, false);
    ring_set_desc(&r, 0, 0xfffffffffffff000ull, 0x2000, 0, 0);
    ring_add(&r, 0);
    expect_broken("overflowing address+len", "outside guest RAM");

    setup(8, false, false);
    /* straddles the end of low RAM */
    ring_set_desc(&r, 0, mem.regions[0].size - 8, 16, 0, 0);
    ring_add(&r, 0);
    expect_broken("straddles end of RAM", "outside guest RAM");

    setup(8, false, false);
    ring_set_desc(&r, 0, 0x100000000ull, 0x10000, 0, 0); /* all of high RAM: fine */
    ring_add(&r, 0);
    CHECK_EQ(virtq_pop(&q, e), 1);
    ring_set_desc(&r, 0, 0x100000000ull, 0x10001, 0, 0);
    ring_add(&r, 0);
    expect_broken("past high RAM", "outside guest RAM");
}

static void test_indices(void)
{
    setup(8, false, false);
    ring_avail(&r)[1] = 9; /* 9 entries in a ring of 8 */
    expect_broken("avail ahead", "ahead");

    setup(8, false, false);
    ring_add(&r, 8);
    expect_broken("head out of range", "head descriptor");

    setup(8, false, false);
    ring_set_desc(&r, 0, RING_DATA, 4, VIRTQ_DESC_F_NEXT, 200);
    ring_add(&r, 0);
    expect_broken("next out of range", "next descriptor");

    setup(8, false, false);
    ring_set_desc(&r, 0, RING_DATA, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    ring_set_desc(&r, 1, RING_DATA, 4, 0, 0);
    ring_add(&r, 0);
    expect_broken("readable after writable", "readable buffer after");
}

static void test_indirect(void)
{
    uint64_t table = RING_DATA + 0x1000;
    struct virtq_desc *t = fake_ram_ptr(&mem, table);
    setup(8, true, false);
    t[0] = (struct virtq_desc){RING_DATA, 16, VIRTQ_DESC_F_NEXT, 1};
    t[1] = (struct virtq_desc){RING_DATA + 0x100, 512, VIRTQ_DESC_F_NEXT, 2};
    t[2] = (struct virtq_desc){RING_DATA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0};
    ring_set_desc(&r, 4, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
    ring_add(&r, 4);
    CHECK_EQ(virtq_pop(&q, e), 1);
    CHECK_EQ(e->head, 4);
    CHECK_EQ(e->nout, 2);
    CHECK_EQ(e->nin, 1);
    CHECK_EQ(e->out_len, 528);

    setup(8, false, false);
    ring_set_desc(&r, 4, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
    ring_add(&r, 4);
    expect_broken("indirect not negotiated", "without VIRTIO_RING_F_INDIRECT_DESC");

    setup(8, true, false);
    t[1] = (struct virtq_desc){table, 48, VIRTQ_DESC_F_INDIRECT, 0};
    ring_set_desc(&r, 4, table, 48, VIRTQ_DESC_F_INDIRECT, 0);
    ring_add(&r, 4);
    expect_broken("nested indirect", "inside an indirect");

    setup(8, true, false);
    ring_set_desc(&r, 4, table, 47, VIRTQ_DESC_F_INDIRECT, 0);
    ring_add(&r, 4);
    expect_broken("indirect len not multiple of 16", "indirect table of 47");

    setup(8, true, false);
    ring_set_desc(&r, 4, table, 0, VIRTQ_DESC_F_INDIRECT, 0);
    ring_add(&r, 4);
    expect_broken("empty indirect", "indirect table of 0");

    setup(8, true, false);
    ring_set_desc(&r, 4, 0xF0000000ull, 64, VIRTQ_DESC_F_INDIRECT, 0);
    ring_add(&r, 4);
    expect_broken("indirect outside RAM", "outside guest RAM");

    setup(8, true, false);
    ring_set_desc(&r, 4, table, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 5);
    ring_add(&r, 4);
    expect_broken("indirect with next", "NEXT");

    setup(8, true, false);
    t[0] = (struct virtq_desc){RING_DATA, 16, VIRTQ_DESC_F_NEXT, 1};
    t[1] = (struct virtq_desc){RING_DATA, 16, VIRTQ_DESC_F_NEXT, 0};
    ring_set_desc(&r, 4, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
    ring_add(&r, 4);
    expect_broken("loop inside indirect table", "loops");

    setup(8, true, false);
    ring_set_desc(&r, 4, table, 16 * (VIRTQ_MAX_SEGS + 1), VIRTQ_DESC_F_INDIRECT, 0);
    ring_add(&r, 4);
    expect_broken("oversized indirect table", "indirect table of");
}

static void test_too_many(void)
{
    /* a 2048-entry ring with a 1025-buffer chain: no loop, but too long */
    setup(2048, false, false);
    for (unsigned i = 0; i < VIRTQ_MAX_SEGS + 1; i++)
        ring_set_desc(&r, i, RING_DATA + i, 1, i < VIRTQ_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0, i + 1);
    ring_add(&r, 0);
    expect_broken("too many buffers", "more than");

    setup(2048, false, false);
    for (unsigned i = 0; i < VIRTQ_MAX_SEGS - 1; i++)
        ring_set_desc(&r, i, RING_DATA + i, 1, VIRTQ_DESC_F_NEXT, i + 1);
    ring_set_desc(&r, VIRTQ_MAX_SEGS - 1, RING_DATA, 1, 0, 0);
    ring_add(&r, 0);
    CHECK_EQ(virtq_pop(&q, e), 1);
    CHECK_EQ(e->nout, VIRTQ_MAX_SEGS);
}

static void test_map(void)
{
    ring_init(&r, &mem, &q, 8);
    q.desc_gpa = r.desc + 8;
    CHECK_EQ(virtq_map(&q, &mem), -EINVAL);
    CHECK(q.broken && strstr(q.reason, "misaligned"));

    ring_init(&r, &mem, &q, 8);
    q.size = 6;
    CHECK_EQ(virtq_map(&q, &mem), -EINVAL);

    ring_init(&r, &mem, &q, 8);
    q.used_gpa = mem.regions[0].size - 16;
    CHECK_EQ(virtq_map(&q, &mem), -EFAULT);
    CHECK(!q.ready);
    CHECK_EQ(virtq_pop(&q, e), -EIO);
}

static void test_event_idx(void)
{
    setup(8, false, true);
    ring_set_desc(&r, 0, RING_DATA, 4, 0, 0);
    uint16_t *used_event = &ring_avail(&r)[2 + 8];
    uint16_t *avail_event = (uint16_t *)fake_ram_ptr(&mem, r.used + 4 + 8 * 8);
    for (int i = 0; i < 4; i++)
        ring_add(&r, 0);
    CHECK_EQ(virtq_pop(&q, e), 1);
    CHECK_EQ(*avail_event, 1); /* device asks to hear about entry 1 onwards */
    virtq_push(&q, 0, 0);
    CHECK(virtq_should_notify(&q)); /* the first one always */
    *used_event = 1;  /* interrupt me once used idx passes 1 */
    CHECK_EQ(virtq_pop(&q, e), 1);
    virtq_push(&q, 0, 0);  /* used idx 2: crossed 1 */
    CHECK(virtq_should_notify(&q));
    CHECK_EQ(virtq_pop(&q, e), 1);
    virtq_push(&q, 0, 0);  /* used idx 3: no */
    CHECK(!virtq_should_notify(&q));
    *used_event = 5;
    CHECK_EQ(virtq_pop(&q, e), 1);
    virtq_push(&q, 0, 0);  /* 4 */
    CHECK(!virtq_should_notify(&q));
    CHECK(!virtq_should_notify(&q)); /* nothing new */
    virtq_set_notify(&q, true);
    CHECK_EQ(*avail_event, 4);

    setup(8, false, false);
    virtq_set_notify(&q, false);
    CHECK_EQ(ring_used16(&r)[0], VIRTQ_USED_F_NO_NOTIFY);
    virtq_set_notify(&q, true);
    CHECK_EQ(ring_used16(&r)[0], 0);
}

static void test_iov_helpers(void)
{
    uint8_t a[4] = {1, 2, 3, 4}, b[3] = {5, 6, 7}, out[7];
    struct iovec iov[2] = {{a, 4}, {b, 3}}, s[2];
    CHECK_EQ(iov_total(iov, 2), 7);
    CHECK_EQ(iov_to_buf(iov, 2, 2, out, 4), 4);
    CHECK(out[0] == 3 && out[1] == 4 && out[2] == 5 && out[3] == 6);
    CHECK_EQ(iov_to_buf(iov, 2, 5, out, 10), 2);
    CHECK_EQ(iov_slice(iov, 2, 3, 3, s, 2), 2);
    CHECK(s[0].iov_base == a + 3 && s[0].iov_len == 1 && s[1].iov_len == 2);
    CHECK_EQ(iov_slice(iov, 2, 3, 5, s, 2), -1);
    CHECK_EQ(iov_slice(iov, 2, 0, 7, s, 1), -1);
    uint8_t nine[2] = {9, 9};
    CHECK_EQ(iov_from_buf(iov, 2, 3, nine, 2), 2);
    CHECK(a[3] == 9 && b[0] == 9);
}

int main(void)
{
    e = malloc(sizeof(*e));
    fake_ram_init(&mem);
    test_simple_chain();
    test_unpop_and_wrap();
    test_zero_length();
    test_loop();
    test_bad_addresses();
    test_indices();
    test_indirect();
    test_too_many();
    test_map();
    test_event_idx();
    test_iov_helpers();
    fake_ram_destroy(&mem);
    free(e);
    TEST_MAIN_END();
}
