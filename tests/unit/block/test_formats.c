/* raw, vmdk and vdi through the block layer: images crafted here (valid
 * and malformed), probing, iovec handling and bounds. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../test.h"
#include "block/block.h"
#include "util/log.h"

static char dir[] = "/tmp/brume-test-formats-XXXXXX";

static const char *tmp(const char *name)
{
    static char paths[4][256];
    static int n;
    char *p = paths[n++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void put32le(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64le(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static void write_file(const char *p, const void *buf, size_t n)
{
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, buf, n) == (ssize_t)n);
    close(fd);
}

static struct block_dev *open_ro(const char *p, int *err)
{
    struct block_open_opts o = { .read_only = true };
    struct block_dev *bd = NULL;
    err_clear();
    *err = block_open(p, &o, &bd);
    return bd;
}

static int rd(struct block_dev *bd, uint64_t off, void *buf, size_t len)
{
    struct iovec v = { buf, len };
    return block_preadv(bd, &v, 1, off);
}

/* VMDK monolithicSparse, 1 MiB, 4 KiB grains: GD at sector 1, GT at
 * sector 2, grains from sector 8. Grain 3 holds 'A's, grain 5 'B's. */
static size_t make_vmdk(uint8_t *img, bool compressed)
{
    memset(img, 0, 64 << 10);
    put32le(img, 0x564d444b);
    put32le(img + 4, 1);
    put32le(img + 8, compressed ? (1u << 16) | (1u << 17) : 0);
    put64le(img + 12, 2048);
    put64le(img + 20, 8);
    put32le(img + 44, 512);
    put64le(img + 56, 1);
    img[77] = compressed ? 1 : 0;
    put32le(img + 512, 2);
    size_t at = 8 * 512;
    for (int g = 3; g <= 5; g += 2) {
        uint8_t grain[4096];
        memset(grain, g == 3 ? 'A' : 'B', sizeof(grain));
        put32le(img + 1024 + 4 * g, (uint32_t)(at / 512));
        if (compressed) {
            uLongf n = 4096;
            compress(img + at + 12, &n, grain, sizeof(grain));
            put64le(img + at, (uint64_t)g * 8);
            put32le(img + at + 8, (uint32_t)n);
            at += (12 + n + 511) & ~511ul;
        } else {
            memcpy(img + at, grain, sizeof(grain));
            at += 4096;
        }
    }
    return at;
}

static void test_vmdk(void)
{
    uint8_t *img = malloc(64 << 10), *buf = malloc(1 << 20);
    for (int c = 0; c < 2; c++) {
        size_t n = make_vmdk(img, c);
        const char *p = tmp("t.vmdk");
        write_file(p, img, n);
        int err;
        struct block_dev *bd = open_ro(p, &err);
        CHECK_EQ(err, 0);
        if (!bd)
            continue;
        struct block_info i;
        block_get_info(bd, &i);
        CHECK(strcmp(i.format, "vmdk") == 0);
        CHECK_EQ(i.virtual_size, 1 << 20);
        CHECK_EQ(rd(bd, 0, buf, 1 << 20), 0);
        bool ok = true;
        for (size_t j = 0; j < (1 << 20); j++) {
            char want = j / 4096 == 3 ? 'A' : j / 4096 == 5 ? 'B' : 0;
            ok &= buf[j] == (uint8_t)want;
        }
        CHECK(ok);
        struct iovec v = { buf, 1 };
        CHECK_EQ(block_pwritev(bd, &v, 1, 0), -EROFS);
        block_close(bd);
    }
    /* malformed: grain size, GD past the end, GT past the end, bad deflate */
    size_t n = make_vmdk(img, false);
    const char *p = tmp("bad.vmdk");
    int err;
    put64le(img + 20, 3);
    write_file(p, img, n);
    CHECK(open_ro(p, &err) == NULL && strstr(err_get(), "geometry"));
    make_vmdk(img, false);
    put64le(img + 56, 1u << 30);
    write_file(p, img, n);
    CHECK(open_ro(p, &err) == NULL && strstr(err_get(), "outside the file"));
    make_vmdk(img, false);
    put32le(img + 512, 1u << 30);
    write_file(p, img, n);
    struct block_dev *bd = open_ro(p, &err);
    CHECK(bd != NULL);
    if (bd) {
        CHECK_EQ(rd(bd, 3 * 4096, buf, 4096), -EIO);
        block_close(bd);
    }
    n = make_vmdk(img, true);
    memset(img + 8 * 512 + 12, 0x55, 40);
    write_file(p, img, n);
    bd = open_ro(p, &err);
    if (bd) {
        CHECK_EQ(rd(bd, 3 * 4096, buf, 4096), -EIO);
        CHECK(strstr(err_get(), "decompress") != NULL);
        block_close(bd);
    }
    write_file(p, img, 100);   /* truncated header */
    CHECK(open_ro(p, &err) == NULL || (block_close(open_ro(p, &err)), 0));
    free(img);
    free(buf);
}

/* VDI dynamic, 4 blocks of 1 MiB; block 1 stored first in the data area,
 * block 2 "zero", others unallocated. */
static size_t make_vdi(uint8_t *img)
{
    memset(img, 0, 4096 + (1 << 20));
    strcpy((char *)img, "<<< Oracle VM VirtualBox Disk Image >>>\n");
    put32le(img + 64, 0xbeda107f);
    put32le(img + 68, 0x00010001);
    put32le(img + 72, 400);
    put32le(img + 76, 1);
    put32le(img + 340, 1024);
    put32le(img + 344, 4096);
    put64le(img + 368, 4 << 20);
    put32le(img + 376, 1 << 20);
    put32le(img + 384, 4);
    put32le(img + 388, 1);
    put32le(img + 1024, 0xffffffff);
    put32le(img + 1028, 0);
    put32le(img + 1032, 0xfffffffe);
    put32le(img + 1036, 0xffffffff);
    memset(img + 4096, 'V', 1 << 20);
    return 4096 + (1 << 20);
}

static void test_vdi(void)
{
    uint8_t *img = malloc(4096 + (1 << 20)), *buf = malloc(4 << 20);
    size_t n = make_vdi(img);
    const char *p = tmp("t.vdi");
    write_file(p, img, n);
    int err;
    struct block_dev *bd = open_ro(p, &err);
    CHECK_EQ(err, 0);
    if (bd) {
        CHECK_EQ(rd(bd, 0, buf, 4 << 20), 0);
        bool ok = true;
        for (size_t j = 0; j < (4u << 20); j++)
            ok &= buf[j] == (j >> 20 == 1 ? 'V' : 0);
        CHECK(ok);
        block_close(bd);
    }
    make_vdi(img);
    put32le(img + 376, 1000);
    write_file(p, img, n);
    CHECK(open_ro(p, &err) == NULL && strstr(err_get(), "geometry"));
    make_vdi(img);
    put32le(img + 340, 1u << 30);
    write_file(p, img, n);
    CHECK(open_ro(p, &err) == NULL && strstr(err_get(), "past the end"));
    make_vdi(img);
    put32le(img + 1028, 3);
    write_file(p, img, n);
    bd = open_ro(p, &err);
    if (bd) {
        CHECK_EQ(rd(bd, 1 << 20, buf, 512), -EIO);
        block_close(bd);
    }
    make_vdi(img);
    put32le(img + 76, 4);
    write_file(p, img, n);
    CHECK(open_ro(p, &err) == NULL && strstr(err_get(), "type"));
    free(img);
    free(buf);
}

static void test_raw(void)
{
    const char *p = tmp("r.raw");
    struct block_create_opts o = { .format = "raw", .size = 1 << 20 };
    CHECK_EQ(block_create(p, &o), 0);
    struct block_open_opts oo = { 0 };
    struct block_dev *bd;
    CHECK_EQ(block_open(p, &oo, &bd), 0);
    struct block_info i;
    block_get_info(bd, &i);
    CHECK(i.probed_raw);
    char a[100] = "hello", b[100] = "world", c[200];
    struct iovec v[2] = { { a, 100 }, { b, 100 } };
    CHECK_EQ(block_pwritev(bd, v, 2, 1000), 0);
    CHECK_EQ(block_preadv(bd, &(struct iovec){ c, 200 }, 1, 1000), 0);
    CHECK(memcmp(c, "hello", 5) == 0 && memcmp(c + 100, "world", 5) == 0);
    CHECK_EQ(block_pwritev(bd, v, 2, (1 << 20) - 100), -EINVAL);   /* past the end */
    CHECK_EQ(block_write_zeroes(bd, 1000, 100, true), 0);
    CHECK_EQ(block_preadv(bd, &(struct iovec){ c, 100 }, 1, 1000), 0);
    CHECK(c[0] == 0 && c[99] == 0);
    CHECK_EQ(block_truncate(bd, 2 << 20), 0);
    block_get_info(bd, &i);
    CHECK_EQ(i.virtual_size, 2 << 20);
    block_close(bd);
    struct block_open_opts bad = { .format = "qcow3" };
    CHECK_EQ(block_open(p, &bad, &bd), -EINVAL);
    CHECK(strstr(err_get(), "unknown image format") != NULL);
    CHECK(block_open(tmp("missing"), &oo, &bd) < 0);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_raw();
    test_vmdk();
    test_vdi();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    TEST_MAIN_END();
}
