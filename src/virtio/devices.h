/* The virtio device types. Each *_init fills a zeroed struct virtio_dev
 * (device id, features, config space, queues, ops) and allocates the type's
 * own state in dev->priv; *_fini releases it. The transport (mmio.c) and the
 * machine wiring (virtio_devices_create in options.h) are the same for all.
 * Every function returns 0 or -errno with a reason in err_get(). */
#ifndef BRUME_VIRTIO_DEVICES_H
#define BRUME_VIRTIO_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio.h"

struct block_dev;
struct net_backend;

/* ---- virtio-blk (blk.c) ---- */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK           0
#define VIRTIO_BLK_S_IOERR        1
#define VIRTIO_BLK_S_UNSUPP       2

#define VIRTIO_BLK_QUEUE_SIZE     256
#define VIRTIO_BLK_SEG_MAX        (VIRTIO_BLK_QUEUE_SIZE - 2)
#define VIRTIO_BLK_SIZE_MAX       (1u << 20)
#define VIRTIO_BLK_ID_BYTES       20

struct virtio_blk_opts {
    bool read_only;
    uint64_t iops, iops_burst;    /* 0: unlimited; burst 0: one second's worth */
    uint64_t bps, bps_burst;
    const char *serial;           /* GET_ID answer (up to 20 bytes); NULL: "brume-<name>" */
};

/* bd stays owned by the caller and must outlive the device. */
int virtio_blk_init(struct virtio_dev *dev, const char *name, struct block_dev *bd,
                    const struct virtio_blk_opts *opts);
void virtio_blk_fini(struct virtio_dev *dev);

/* ---- virtio-rng (rng.c) ---- */
int virtio_rng_init(struct virtio_dev *dev, const char *name);
void virtio_rng_fini(struct virtio_dev *dev);

/* ---- virtio-console (console.c): one port, hvc0 in the guest ---- */
/* Guest output goes to out_fd (-1: dropped); in_fd (-1: none) is read on
 * the I/O loop and fed to the guest. The fds stay owned by the caller. */
int virtio_console_init(struct virtio_dev *dev, const char *name, int in_fd, int out_fd);
void virtio_console_fini(struct virtio_dev *dev);

/* ---- virtio-balloon (balloon.c) ---- */
/* target_pages: how many 4 KiB pages the host asks the guest to give back. */
int virtio_balloon_init(struct virtio_dev *dev, const char *name, uint32_t target_pages);
void virtio_balloon_fini(struct virtio_dev *dev);
/* Changes the target (any thread); the guest is told by a config interrupt. */
void virtio_balloon_set_target(struct virtio_dev *dev, uint32_t target_pages);
struct virtio_balloon_info {
    uint32_t target_pages, actual_pages;
    uint64_t inflated_pages, deflated_pages, reported_pages;
    bool stats_valid;
    uint64_t stats[16];  /* indexed by VIRTIO_BALLOON_S_* tag */
};
void virtio_balloon_get_info(struct virtio_dev *dev, struct virtio_balloon_info *info);

/* ---- virtio-net (net.c) ---- */
struct virtio_net_opts {
    uint8_t mac[6];
    uint64_t bps, bps_burst;      /* per direction; 0: unlimited */
};
/* On success be is owned by the device (closed by fini, which must run
 * after the I/O loop has stopped); on failure the caller still owns it. */
int virtio_net_init(struct virtio_dev *dev, const char *name, struct net_backend *be,
                    const struct virtio_net_opts *opts);
void virtio_net_fini(struct virtio_dev *dev);

#endif
