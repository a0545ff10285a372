/* libFuzzer harness over the image parsers: the input is an image file
 * (qcow2, vmdk, vdi or raw, probed). It is opened read-only without its
 * backing files, every sector run is mapped and read, and qcow2 images are
 * checked; then it is opened for writing and a few writes, zeroes, discards
 * and a flush go through (allocation, write-back and refcount updates over
 * malformed metadata). Anything but a clean error is a bug. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-image", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    struct block_open_opts o = { .read_only = true, .no_lock = true, .no_backing = true };
    struct block_dev *bd;
    if (block_open(path, &o, &bd) == 0) {
        struct block_info info;
        block_get_info(bd, &info);
        static uint8_t buf[1 << 16];
        uint64_t off = 0;
        /* walk at most 64 runs, reading the start of each */
        for (int i = 0; i < 64 && off < info.virtual_size; i++) {
            uint64_t pnum = 0, host;
            int s = block_status(bd, off, info.virtual_size - off, &pnum, &host);
            if (s < 0 || pnum == 0)
                break;
            uint64_t n = pnum < sizeof(buf) ? pnum : sizeof(buf);
            struct iovec v = { buf, n };
            if (block_preadv(bd, &v, 1, off) < 0)
                break;
            off += pnum;
        }
        struct block_check c;
        (void)block_check(bd, &c, 0);
        block_close(bd);
    }
    o.read_only = false;
    if (block_open(path, &o, &bd) == 0) {
        struct block_info info;
        block_get_info(bd, &info);
        static uint8_t wbuf[3 * 4096];
        memset(wbuf, 0xa5, sizeof(wbuf));
        /* offsets from the input's last bytes: the fuzzer steers them too */
        uint64_t seed = size >= 8 ? (uint64_t)data[size - 1] << 24 | (uint64_t)data[size - 2] << 16 |
                                        (uint64_t)data[size - 3] << 8 | data[size - 4]
                                  : 0;
        for (int i = 0; i < 4 && info.virtual_size >= sizeof(wbuf); i++) {
            uint64_t off = ((seed >> (8 * i)) * 4093) % (info.virtual_size - sizeof(wbuf) + 1);
            struct iovec v = { wbuf, sizeof(wbuf) - (size_t)(i * 1000) };
            int r = i == 2 ? block_write_zeroes(bd, off, 8192, i & 1) : i == 3 ? block_discard(bd, off, 8192)
                                                                               : block_pwritev(bd, &v, 1, off);
            if (r)
                break;
        }
        (void)block_flush(bd);
        block_close(bd);
    }
    close(fd);
    return 0;
}
