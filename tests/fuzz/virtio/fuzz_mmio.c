/* libFuzzer harness for the virtio-mmio transport with real devices
 * (rng, console, balloon, and virtio-blk on a
 * raw image without an I/O loop, so its requests complete at once with
 * IOERR: the request parsing is what gets fuzzed) behind it: the input is a guest that writes and
 * reads registers in any order and fills a small guest RAM with rings.
 * Queue notifications run inline (no I/O loop). ASan/UBSan catch memory
 * errors; the asserts check the transport's invariants. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "block/block.h"
#include "util/log.h"
#include "virtio/devices.h"
#include "vm/memory.h"

#define RAM (1u << 20)

static struct guest_memory mem;
static struct block_dev *disk;

static void irq(void *opaque, unsigned gsi, int level)
{
    (void)opaque;
    (void)gsi;
    assert(level == 0 || level == 1);
}

/* registers a driver touches, so most writes hit something */
static const uint16_t regs[] = {
    0x000, 0x004, 0x008, 0x010, 0x014, 0x020, 0x024, 0x030, 0x034, 0x038, 0x044, 0x050,
    0x060, 0x064, 0x070, 0x080, 0x084, 0x090, 0x094, 0x0a0, 0x0a4, 0x0fc, 0x100, 0x104, 0x108,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!mem.nregions && guest_memory_init(&mem, RAM) < 0)
        abort();
    if (!disk) {
        char path[] = "/tmp/brume-fuzz-blk-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
            abort();
        struct block_open_opts o = {.format = "raw", .no_lock = true};
        if (block_open(path, &o, &disk) < 0)
            abort();
        unlink(path);
        close(fd);
    }
    if (size < 2)
        return 0;
    /* byte 1: number of 6-byte commands; they follow, and the rest of the
     * input becomes the first bytes of RAM (where the rings go) */
    size_t ncmd = data[1];
    size_t cmd_bytes = ncmd * 6 < size - 2 ? ncmd * 6 : (size - 2) / 6 * 6;
    const uint8_t *cmds = data + 2;
    size_t ram_part = size - 2 - cmd_bytes;
    if (ram_part > 16384)
        ram_part = 16384;
    memset(mem.regions[0].hva, 0, 65536);
    memcpy(mem.regions[0].hva, cmds + cmd_bytes, ram_part);

    struct virtio_dev dev;
    memset(&dev, 0, sizeof(dev));
    dev.mem = &mem;
    dev.irq_fn = irq;
    int kind = data[0] % 4, rc;
    struct virtio_blk_opts bo = {.read_only = data[0] & 4, .iops = data[0] & 8 ? 1000 : 0};
    if (kind == 0)
        rc = virtio_rng_init(&dev, "rng0");
    else if (kind == 1)
        rc = virtio_console_init(&dev, "hvc0", -1, -1);
    else if (kind == 2)
        rc = virtio_balloon_init(&dev, "balloon0", 16);
    else
        rc = virtio_blk_init(&dev, "vda", disk, &bo);
    assert(rc == 0);

    /* 6-byte commands: op/register, 4-byte value, access size */
    const uint8_t *p = cmds;
    size_t left = cmd_bytes;
    for (; left >= 6; p += 6, left -= 6) {
        uint32_t v;
        memcpy(&v, p + 1, 4);
        uint64_t off = regs[(p[0] & 0x7f) % (sizeof(regs) / sizeof(regs[0]))];
        unsigned sz = 1u << (p[5] & 3);
        if (!(p[5] & 4))
            sz = 4;
        if (off == 0x080 || off == 0x090 || off == 0x0a0)
            v %= 16384;  /* keep rings in the fuzzed part of RAM, mostly */
        if (p[0] & 0x80) {
            (void)virtio_mmio_read(&dev, off, sz);
        } else {
            virtio_mmio_write(&dev, off, sz, v);
        }
        uint32_t status = (uint32_t)virtio_mmio_read(&dev, 0x070, 4);
        /* DRIVER_OK only after FEATURES_OK; NEEDS_RESET only by the device */
        assert(!(status & VIRTIO_STATUS_DRIVER_OK) || (status & VIRTIO_STATUS_FEATURES_OK));
        assert(dev.irq_level == (dev.isr != 0));
    }
    if (kind == 0)
        virtio_rng_fini(&dev);
    else if (kind == 1)
        virtio_console_fini(&dev);
    else if (kind == 2)
        virtio_balloon_fini(&dev);
    else
        virtio_blk_fini(&dev);
    return 0;
}
