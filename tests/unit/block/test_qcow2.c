/* qcow2 through the block layer: round trips over cluster sizes, refcount
 * table growth, zero clusters, discard, compressed clusters, backing
 * files, write-back of L2/L1 tables, the consistency check, and malformed images crafted here (each
 * must fail with a clear error, never crash). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "block/block.h"
#include "block/qcow2.h"
#include "util/log.h"

static char dir[] = "/tmp/brume-test-qcow2-XXXXXX";

static const char *tmp(const char *name)
{
    static char paths[8][256];
    static int n;
    char *p = paths[n++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static struct block_dev *open_rw(const char *path)
{
    struct block_open_opts o = { 0 };
    struct block_dev *bd = NULL;
    int r = block_open(path, &o, &bd);
    if (r)
        fprintf(stderr, "open %s: %s\n", path, err_get());
    return bd;
}

static int wr(struct block_dev *bd, uint64_t off, const void *buf, size_t len)
{
    struct iovec v = { (void *)buf, len };
    return block_pwritev(bd, &v, 1, off);
}

static int rd(struct block_dev *bd, uint64_t off, void *buf, size_t len)
{
    struct iovec v = { buf, len };
    return block_preadv(bd, &v, 1, off);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 31 + seed * 7 + (i >> 9)) | 1);
}

static void test_roundtrip(uint32_t cs, int version, int rbits)
{
    const char *p = tmp("rt.qcow2");
    struct block_create_opts o = { .format = "qcow2", .size = 8 << 20, .cluster_size = cs, .version = version,
                                   .refcount_bits = rbits };
    CHECK_EQ(block_create(p, &o), 0);
    struct block_dev *bd = open_rw(p);
    CHECK(bd != NULL);
    if (!bd)
        return;
    size_t n = 3 << 20;
    uint8_t *a = malloc(n), *b = malloc(n);
    uint8_t *ref = calloc(1, 8 << 20);
    fill(a, n, cs);
    /* unaligned writes crossing clusters and L2 tables, then overwrite */
    CHECK_EQ(wr(bd, 12345, a, n), 0);
    memcpy(ref + 12345, a, n);
    CHECK_EQ(wr(bd, (5 << 20) + 1, a + 77, 100000), 0);
    memcpy(ref + (5 << 20) + 1, a + 77, 100000);
    CHECK_EQ(wr(bd, 12345 + 4000, a + 999, 3000), 0);
    memcpy(ref + 12345 + 4000, a + 999, 3000);
    CHECK_EQ(block_write_zeroes(bd, 1 << 20, 300000, true), 0);
    memset(ref + (1 << 20), 0, 300000);
    CHECK_EQ(block_discard(bd, 0, 1 << 20), 0);   /* no backing: discarded clusters read zero */
    memset(ref, 0, 1 << 20);
    /* the discard may keep partial clusters: re-read ref from the image there */
    uint8_t *all = malloc(8 << 20);
    CHECK_EQ(rd(bd, 0, all, 8 << 20), 0);
    CHECK(memcmp(all + (1 << 20), ref + (1 << 20), (7 << 20)) == 0);
    for (size_t i = 0; i < (1 << 20); i++)
        if (all[i] && i < ((1u << 20) & ~(cs - 1)) && i >= cs) {
            CHECK(!"discarded cluster not zero");
            break;
        }
    CHECK_EQ(block_flush(bd), 0);
    block_close(bd);
    struct block_open_opts ro = { .read_only = true };
    CHECK_EQ(block_open(p, &ro, &bd), 0);
    CHECK_EQ(rd(bd, 1 << 20, b, 7 << 20 > n ? n : 7 << 20), 0);
    CHECK(memcmp(b, all + (1 << 20), n) == 0);
    struct block_check c;
    CHECK_EQ(block_check(bd, &c, 0), 0);
    CHECK_EQ(c.corruptions, 0);
    CHECK_EQ(c.leaks, 0);
    block_close(bd);
    free(a);
    free(b);
    free(ref);
    free(all);
}

/* 512-byte clusters with 64-bit refcounts: the refcount table moves many
 * times while data is written. */
static void test_refcount_growth(void)
{
    const char *p = tmp("grow.qcow2");
    struct block_create_opts o = { .format = "qcow2", .size = 16 << 20, .cluster_size = 512, .refcount_bits = 64 };
    CHECK_EQ(block_create(p, &o), 0);
    struct block_dev *bd = open_rw(p);
    if (!bd)
        return;
    uint8_t *a = malloc(8 << 20), *b = malloc(8 << 20);
    fill(a, 8 << 20, 3);
    CHECK_EQ(wr(bd, 4096, a, 8 << 20), 0);
    CHECK_EQ(rd(bd, 4096, b, 8 << 20), 0);
    CHECK(memcmp(a, b, 8 << 20) == 0);
    struct qcow2 *q = bd->priv;
    CHECK(q->rt_clusters > 1);
    struct block_check c;
    CHECK_EQ(block_check(bd, &c, 0), 0);
    CHECK_EQ(c.corruptions, 0);
    CHECK_EQ(c.leaks, 0);
    block_close(bd);
    free(a);
    free(b);
}

static uint64_t disk64(struct block_dev *bd, uint64_t off)
{
    uint8_t b[8] = { 0 };
    CHECK_EQ(pread(bd->fd, b, 8, (off_t)off), 8);
    return rd64be(b);
}

/* L2/L1 tables are written back at a flush, not at each write; frees wait
 * until the cleared entries are on disk; a cache full of dirty tables
 * writes them back instead of losing them. */
static void test_writeback(void)
{
    const char *p = tmp("wb.qcow2");
    struct block_create_opts o = { .format = "qcow2", .size = 16 << 20, .cluster_size = 512 };
    CHECK_EQ(block_create(p, &o), 0);
    struct block_dev *bd = open_rw(p);
    if (!bd)
        return;
    struct qcow2 *q = bd->priv;
    uint8_t buf[512], back[512];
    fill(buf, sizeof(buf), 9);
    CHECK_EQ(wr(bd, 0, buf, sizeof(buf)), 0);
    CHECK_EQ(disk64(bd, q->l1_offset), 0);          /* not yet: the refcount is not flushed */
    CHECK(q->l1[0] != 0);
    CHECK_EQ(block_flush(bd), 0);
    uint64_t l2 = disk64(bd, q->l1_offset) & QCOW2_OFFSET_MASK;
    CHECK(l2 != 0);
    uint64_t host = disk64(bd, l2) & QCOW2_OFFSET_MASK;
    CHECK(host != 0);
    CHECK_EQ(block_discard(bd, 0, 512), 0);
    uint64_t rc = 9;
    CHECK_EQ(qcow2_refcount_get(bd, host >> 9, &rc), 0);
    CHECK_EQ(rc, 1);                                 /* the entry on disk still points there */
    CHECK_EQ(block_flush(bd), 0);
    CHECK_EQ(disk64(bd, l2), 0);
    CHECK_EQ(qcow2_refcount_get(bd, host >> 9, &rc), 0);
    CHECK_EQ(rc, 0);
    /* one cluster in each of 300 L2 tables: more than the 256 the cache holds */
    for (unsigned i = 0; i < 300; i++) {
        fill(buf, sizeof(buf), i);
        CHECK_EQ(wr(bd, (uint64_t)i * 32768 + 512, buf, sizeof(buf)), 0);
    }
    for (unsigned i = 0; i < 300; i++) {
        fill(buf, sizeof(buf), i);
        CHECK_EQ(rd(bd, (uint64_t)i * 32768 + 512, back, sizeof(back)), 0);
        CHECK(memcmp(buf, back, sizeof(buf)) == 0);
    }
    block_close(bd);
    bd = open_rw(p);
    if (!bd)
        return;
    struct block_check c;
    CHECK_EQ(block_check(bd, &c, 0), 0);
    CHECK_EQ(c.corruptions, 0);
    CHECK_EQ(c.leaks, 0);
    fill(buf, sizeof(buf), 299);
    CHECK_EQ(rd(bd, 299ull * 32768 + 512, back, sizeof(back)), 0);
    CHECK(memcmp(buf, back, sizeof(buf)) == 0);
    block_close(bd);
}

static void test_backing_and_compressed(void)
{
    const char *base = tmp("base.qcow2"), *top = tmp("top.qcow2");
    struct block_create_opts o = { .format = "qcow2", .size = 2 << 20 };
    CHECK_EQ(block_create(base, &o), 0);
    struct block_dev *bd = open_rw(base);
    if (!bd)
        return;
    uint8_t *a = malloc(65536), *b = malloc(65536);
    fill(a, 65536, 9);
    CHECK_EQ(block_write_compressed(bd, a, 65536), 0);       /* compressible pattern */
    uint8_t rnd[65536];
    for (size_t i = 0; i < sizeof(rnd); i++)
        rnd[i] = (uint8_t)(rand() >> 7);
    CHECK_EQ(block_write_compressed(bd, rnd, 131072), -EAGAIN); /* does not shrink */
    uint64_t pnum, host;
    CHECK_EQ(block_status(bd, 65536, 65536, &pnum, &host), BLOCK_STATUS_DATA | BLOCK_STATUS_ALLOCATED);
    block_close(bd);
    struct block_create_opts t = { .format = "qcow2", .backing_file = "base.qcow2", .backing_fmt = "qcow2" };
    CHECK_EQ(block_create(top, &t), 0);
    bd = open_rw(top);
    if (!bd)
        return;
    CHECK_EQ(rd(bd, 65536, b, 65536), 0);
    CHECK(memcmp(a, b, 65536) == 0);
    /* partial write over a backing cluster copies the rest of it up */
    CHECK_EQ(wr(bd, 65536 + 100, "xyz", 3), 0);
    CHECK_EQ(rd(bd, 65536, b, 65536), 0);
    CHECK(memcmp(b, a, 100) == 0 && memcmp(b + 100, "xyz", 3) == 0 && memcmp(b + 103, a + 103, 65536 - 103) == 0);
    /* discard with a backing file must not expose the backing data (v3: zero flag) */
    CHECK_EQ(block_discard(bd, 65536, 65536), 0);
    CHECK_EQ(rd(bd, 65536, b, 65536), 0);
    memset(a, 0, 65536);
    CHECK(memcmp(a, b, 65536) == 0);
    CHECK_EQ(block_status(bd, 65536, 65536, &pnum, &host), BLOCK_STATUS_ZERO | BLOCK_STATUS_ALLOCATED);
    CHECK_EQ(block_status(bd, 0, 65536, &pnum, &host), 0);   /* unallocated: from the backing file */
    /* the backing file is locked against writers while the chain is open */
    struct block_dev *w = NULL;
    struct block_open_opts rw = { 0 };
    CHECK_EQ(block_open(base, &rw, &w), -EAGAIN);
    CHECK(strstr(err_get(), "locked") != NULL);
    block_close(bd);
    free(a);
    free(b);
}

/* Patches bytes of a file. */
static void patch(const char *p, uint64_t off, const void *buf, size_t n)
{
    int fd = open(p, O_RDWR);
    CHECK(fd >= 0 && pwrite(fd, buf, n, (off_t)off) == (ssize_t)n);
    close(fd);
}

static void patch64(const char *p, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    wr64be(b, v);
    patch(p, off, b, 8);
}

static void patch32(const char *p, uint64_t off, uint32_t v)
{
    uint8_t b[4];
    wr32be(b, v);
    patch(p, off, b, 4);
}

/* A fresh 4 MiB image: header 0, refcount table 64K, block 128K, L1 192K. */
static const char *fresh(void)
{
    const char *p = tmp("bad.qcow2");
    struct block_create_opts o = { .format = "qcow2", .size = 4 << 20 };
    CHECK_EQ(block_create(p, &o), 0);
    return p;
}

static int try_open(const char *p, const char *want)
{
    struct block_open_opts o = { .read_only = true };
    struct block_dev *bd = NULL;
    err_clear();
    int r = block_open(p, &o, &bd);
    if (r == 0) {
        block_close(bd);
        fprintf(stderr, "malformed image opened (expected '%s')\n", want);
        return 0;
    }
    if (!strstr(err_get(), want))
        fprintf(stderr, "error '%s' does not mention '%s'\n", err_get(), want);
    return strstr(err_get(), want) != NULL;
}

static void test_malformed(void)
{
    const char *p;
    p = fresh();
    truncate(p, 50);
    CHECK(try_open(p, "truncated"));
    p = fresh();
    truncate(p, 3 * 65536);   /* L1 table cut off */
    CHECK(try_open(p, "past the end"));
    p = fresh();
    patch32(p, 4, 7);
    CHECK(try_open(p, "not a qcow2 image") || try_open(p, "version"));
    p = fresh();
    patch32(p, 20, 30);
    CHECK(try_open(p, "cluster size"));
    p = fresh();
    patch64(p, 24, 1ull << 62);
    CHECK(try_open(p, "absurd"));
    p = fresh();
    patch32(p, 36, 0x7fffffff);
    CHECK(try_open(p, "absurd"));
    p = fresh();
    patch64(p, 40, 65536);       /* L1 table over the refcount table */
    CHECK(try_open(p, "overlap"));
    p = fresh();
    patch64(p, 40, 0);
    CHECK(try_open(p, "overlaps the header"));
    p = fresh();
    patch32(p, 56, 1u << 30);
    CHECK(try_open(p, "refcount table"));
    p = fresh();
    patch64(p, 72, 1ull << 20);  /* unknown incompatible feature */
    CHECK(try_open(p, "unsupported qcow2 feature"));
    p = fresh();
    patch32(p, 112, QCOW2_EXT_BACKING_FORMAT);
    patch32(p, 116, 60000);
    CHECK(try_open(p, "overflows the header"));
    p = fresh();
    patch64(p, 8, 65000);
    patch32(p, 16, 2000);
    CHECK(try_open(p, "backing file name"));
    p = fresh();
    patch32(p, 96, 9);
    CHECK(try_open(p, "refcount order"));

    /* L2 entries past the end of the file, and an unaligned L2 table */
    p = fresh();
    {
        struct block_dev *bd = open_rw(p);
        uint8_t x[512] = { 1 };
        CHECK_EQ(wr(bd, 0, x, sizeof(x)), 0);
        block_close(bd);
    }
    /* L1[0] -> L2 at cluster 4, data at cluster 5: point data far away */
    patch64(p, 4 * 65536, QCOW2_OFLAG_COPIED | (1ull << 40));
    {
        struct block_open_opts o = { .read_only = true };
        struct block_dev *bd;
        CHECK_EQ(block_open(p, &o, &bd), 0);
        uint8_t x[512];
        err_clear();
        CHECK_EQ(rd(bd, 0, x, sizeof(x)), -EIO);
        CHECK(strstr(err_get(), "outside the file") != NULL);
        struct block_check c;
        CHECK_EQ(block_check(bd, &c, 0), 0);
        CHECK(c.corruptions > 0);
        block_close(bd);
    }
    patch64(p, 3 * 65536, QCOW2_OFLAG_COPIED | (4 * 65536 + 512));
    {
        struct block_dev *bd = open_rw(p);
        uint8_t x[512];
        CHECK(bd != NULL);
        if (bd) {
            CHECK_EQ(rd(bd, 0, x, sizeof(x)), -EIO);
            CHECK(strstr(err_get(), "not aligned") != NULL);
            /* a writable image with broken metadata is marked corrupt */
            block_close(bd);
            struct block_open_opts o = { 0 };
            CHECK_EQ(block_open(p, &o, &bd), -EROFS);
            CHECK(strstr(err_get(), "marked corrupt") != NULL);
        }
    }

    /* refcount overflow: a refcount at its maximum cannot be incremented */
    p = fresh();
    {
        struct block_dev *bd = open_rw(p);
        if (bd) {
            uint8_t m[2] = { 0xff, 0xff };
            patch(p, 2 * 65536 + 2 * 3, m, 2);
            qcow2_cache_drop(&((struct qcow2 *)bd->priv)->rbc, 2 * 65536);
            err_clear();
            CHECK_EQ(qcow2_refcount_update(bd, 3, 1, +1), -EIO);
            CHECK(strstr(err_get(), "refcount overflow") != NULL);
            block_close(bd);
        }
        struct block_open_opts o = { .read_only = true };
        struct block_dev *r;
        if (block_open(p, &o, &r) == 0) {
            struct block_check c;
            CHECK_EQ(block_check(r, &c, 0), 0);
            CHECK(c.leaks > 0 || c.corruptions > 0);
            block_close(r);
        }
    }

    /* loops in backing chains: a -> b -> a, and an image backing itself */
    {
        const char *a = tmp("la.qcow2"), *b = tmp("lb.qcow2");
        struct block_create_opts o = { .format = "qcow2", .size = 1 << 20 };
        CHECK_EQ(block_create(a, &o), 0);
        struct block_create_opts ob = { .format = "qcow2", .size = 1 << 20, .backing_file = "la.qcow2",
                                        .backing_fmt = "qcow2" };
        CHECK_EQ(block_create(b, &ob), 0);
        struct block_dev *bd = open_rw(a);
        if (bd) {
            CHECK_EQ(block_set_backing(bd, "lb.qcow2", "qcow2"), 0);
            block_close(bd);
        }
        CHECK(try_open(b, "loop"));
        bd = open_rw(b);
        CHECK(bd == NULL);
        struct block_open_opts nb = { .no_backing = true };
        if (block_open(b, &nb, &bd) == 0) {
            CHECK_EQ(block_set_backing(bd, "lb.qcow2", NULL), 0);
            block_close(bd);
        }
        CHECK(try_open(b, "loop"));
    }
}

static void test_lock(void)
{
    const char *p = fresh();
    struct block_dev *a = open_rw(p), *b = NULL;
    struct block_open_opts o = { 0 }, ro = { .read_only = true }, force = { .read_only = true, .no_lock = true };
    CHECK_EQ(block_open(p, &o, &b), -EAGAIN);
    CHECK_EQ(block_open(p, &ro, &b), -EAGAIN);
    CHECK_EQ(block_open(p, &force, &b), 0);
    block_close(b);
    block_close(a);
    CHECK_EQ(block_open(p, &ro, &a), 0);
    CHECK_EQ(block_open(p, &ro, &b), 0);   /* readers share */
    block_close(a);
    block_close(b);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    static const uint32_t sizes[] = { 4096, 65536, 2u << 20 };
    for (int i = 0; i < 3; i++) {
        test_roundtrip(sizes[i], 3, 16);
        test_roundtrip(sizes[i], 2, 16);
    }
    test_roundtrip(65536, 3, 1);
    test_roundtrip(4096, 3, 8);
    test_refcount_growth();
    test_writeback();
    test_backing_and_compressed();
    test_malformed();
    test_lock();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    TEST_MAIN_END();
}
