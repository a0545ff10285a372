/* Building the virtio devices of a machine from a struct virtio_config:
 * back-ends opened, devices created as virtio-mmio device n (address and
 * GSI from vm/machine.h) and registered on the MMIO bus. See options.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "net/net.h"
#include "util/log.h"
#include "virtio/devices.h"
#include "virtio/options.h"
#include "vm/vm.h"

enum slot_kind { SLOT_BLK, SLOT_NET, SLOT_CONSOLE, SLOT_RNG, SLOT_BALLOON };

struct slot {
    enum slot_kind kind;
    char name[24];
    struct virtio_dev dev;
    struct block_dev *bd;       /* SLOT_BLK */
    bool initialized;
};

struct virtio_devices {
    struct vm *vm;
    int n;
    struct slot *slots[VIRTIO_MMIO_MAX];
    int console_fd;
    int balloon;                /* slot index or -1 */
};

static void irq_line(void *opaque, unsigned gsi, int level)
{
    vm_irq_line(opaque, gsi, level);
}

static struct slot *slot_new(struct virtio_devices *d, enum slot_kind kind, const char *name)
{
    if (d->n == VIRTIO_MMIO_MAX) {
        err_set(-ENOSPC, "too many virtio devices (at most %d)", VIRTIO_MMIO_MAX);
        return NULL;
    }
    struct slot *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(-ENOMEM, "virtio: out of memory");
        return NULL;
    }
    s->kind = kind;
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->dev.mem = &d->vm->mem;
    s->dev.loop = d->vm->loop;
    s->dev.irq_fn = irq_line;
    s->dev.irq_opaque = d->vm;
    s->dev.gsi = GSI_VIRTIO_FIRST + (unsigned)d->n;
    d->slots[d->n++] = s;
    return s;
}

static void slot_free(struct slot *s)
{
    if (s->initialized) {
        switch (s->kind) {
        case SLOT_BLK: virtio_blk_fini(&s->dev); break;
        case SLOT_NET: virtio_net_fini(&s->dev); break;
        case SLOT_CONSOLE: virtio_console_fini(&s->dev); break;
        case SLOT_RNG: virtio_rng_fini(&s->dev); break;
        case SLOT_BALLOON: virtio_balloon_fini(&s->dev); break;
        }
    }
    block_close(s->bd);
    free(s);
}

static int add_disk(struct virtio_devices *d, const struct virtio_disk_config *c, int index)
{
    char name[24];
    snprintf(name, sizeof(name), "vd%c", 'a' + index);
    struct slot *s = slot_new(d, SLOT_BLK, name);
    if (!s)
        return -ENOSPC;
    struct block_open_opts bo = {.format = c->format, .read_only = c->read_only};
    int rc = block_open(c->path, &bo, &s->bd);
    if (rc < 0) {
        /* the block layer's reason names the image; make sure it does */
        if (!strstr(err_get(), c->path))
            err_set(rc, "--disk %s: %s", c->path, err_get());
        return rc;
    }
    struct block_info info;
    if (block_get_info(s->bd, &info) == 0 && info.probed_raw)
        log_warn("%s: format probed as raw; add format=raw to silence this (writes to sector 0 "
                 "stay raw)", c->path);
    struct virtio_blk_opts o = {
        .read_only = c->read_only, .iops = c->iops, .iops_burst = c->iops_burst,
        .bps = c->bps, .bps_burst = c->bps_burst, .serial = c->serial[0] ? c->serial : NULL,
    };
    rc = virtio_blk_init(&s->dev, s->name, s->bd, &o);
    if (rc == 0)
        s->initialized = true;
    return rc;
}

static int add_net(struct virtio_devices *d, const struct virtio_net_config *c, int index)
{
    char name[24];
    snprintf(name, sizeof(name), "net%d", index);
    struct slot *s = slot_new(d, SLOT_NET, name);
    if (!s)
        return -ENOSPC;
    struct net_backend *be = NULL;
    int rc = c->kind == VIRTIO_NET_TAP ? net_tap_open(d->vm->loop, c->ifname, &be)
                                       : net_slirp_open(d->vm->loop, &c->user, &be);
    if (rc < 0)
        return rc;
    struct virtio_net_opts o = {
        /* QEMU's prefix, locally administered; the last byte follows the NIC */
        .mac = {0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + index)},
        .bps = c->bps, .bps_burst = c->bps_burst,
    };
    if (c->mac_set)
        memcpy(o.mac, c->mac, 6);
    rc = virtio_net_init(&s->dev, s->name, be, &o);
    if (rc < 0) {
        net_backend_close(be);
        return rc;
    }
    s->initialized = true;
    return 0;
}

static int add_simple(struct virtio_devices *d, enum slot_kind kind, const char *name,
                      const struct virtio_config *cfg)
{
    struct slot *s = slot_new(d, kind, name);
    if (!s)
        return -ENOSPC;
    int rc = 0;
    switch (kind) {
    case SLOT_CONSOLE:
        d->console_fd = open(cfg->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (d->console_fd < 0)
            return err_set(-errno, "--virtio-console file:%s: %s", cfg->console_path, strerror(errno));
        rc = virtio_console_init(&s->dev, s->name, cfg->console_in_fd, d->console_fd);
        break;
    case SLOT_RNG:
        rc = virtio_rng_init(&s->dev, s->name);
        break;
    case SLOT_BALLOON:
        rc = virtio_balloon_init(&s->dev, s->name, (uint32_t)(cfg->balloon_bytes / 4096));
        d->balloon = d->n - 1;
        break;
    default:
        rc = -EINVAL;
    }
    if (rc == 0)
        s->initialized = true;
    return rc;
}

int virtio_devices_create(struct vm *vm, const struct virtio_config *cfg,
                          struct virtio_devices **out, char *cmdline_extra, size_t len)
{
    struct virtio_devices *d = calloc(1, sizeof(*d));
    if (!d)
        return err_set(-ENOMEM, "virtio: out of memory");
    d->vm = vm;
    d->console_fd = -1;
    d->balloon = -1;
    int rc = 0;
    for (int i = 0; i < cfg->ndisks && rc == 0; i++)
        rc = add_disk(d, &cfg->disks[i], i);
    for (int i = 0; i < cfg->nnets && rc == 0; i++)
        rc = add_net(d, &cfg->nets[i], i);
    if (rc == 0 && cfg->console)
        rc = add_simple(d, SLOT_CONSOLE, "hvc0", cfg);
    if (rc == 0 && cfg->rng)
        rc = add_simple(d, SLOT_RNG, "rng0", cfg);
    if (rc == 0 && cfg->balloon)
        rc = add_simple(d, SLOT_BALLOON, "balloon0", cfg);
    if (cmdline_extra && len)
        cmdline_extra[0] = '\0';
    /* bus_register has no undo: check the whole window first */
    for (int i = 0; i < d->n && rc == 0; i++) {
        uint64_t base = VIRTIO_MMIO_BASE + (uint64_t)i * VIRTIO_MMIO_SIZE;
        const struct bus_range *r = bus_find(&vm->mmio, base);
        if (!r)
            r = bus_find(&vm->mmio, base + VIRTIO_MMIO_SIZE - 1);
        if (r)
            rc = err_set(-EEXIST, "virtio: MMIO 0x%llx is taken by %s", (unsigned long long)base, r->name);
    }
    size_t used = 0;
    for (int i = 0; i < d->n && rc == 0; i++) {
        uint64_t base = VIRTIO_MMIO_BASE + (uint64_t)i * VIRTIO_MMIO_SIZE;
        struct slot *s = d->slots[i];
        rc = bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, &s->dev, s->name);
        if (rc < 0)
            break;
        if (cmdline_extra && len) {
            int n = snprintf(cmdline_extra + used, len - used, "%svirtio_mmio.device=4K@0x%llx:%u",
                             used ? " " : "", (unsigned long long)base, s->dev.gsi);
            if (n < 0 || (size_t)n >= len - used) {
                rc = err_set(-ENOSPC, "virtio: kernel command line fragment too long");
                break;
            }
            used += (size_t)n;
        }
    }
    if (rc < 0) {
        /* nothing was registered: the window was checked first, and the
         * command line fragment is built after the last registration */
        virtio_devices_destroy(d);
        return rc;
    }
    *out = d;
    return 0;
}

void virtio_devices_destroy(struct virtio_devices *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n; i++)
        slot_free(d->slots[i]);
    if (d->console_fd >= 0)
        close(d->console_fd);
    free(d);
}

struct virtio_dev *virtio_devices_balloon(struct virtio_devices *d)
{
    return d && d->balloon >= 0 ? &d->slots[d->balloon]->dev : NULL;
}
