/* virtio devices on the virtio-mmio transport (virtio 1.x, "version 2").
 *
 * A struct virtio_dev is the part every device shares: feature bits,
 * status, queues, interrupt status and config space. mmio.c gives the guest
 * its registers; blk.c, net.c, console.c, rng.c and balloon.c implement the
 * device types through struct virtio_dev_ops.
 *
 * Threading (one lock per device):
 *   - dev->lock (recursive) protects every field of struct virtio_dev and the device
 *     type's own state.
 *   - MMIO register accesses come from vCPU threads and take the lock. A
 *     write to QueueNotify does no device work there: it signals the
 *     queue's eventfd, and the I/O loop thread runs ops->queue_notify with
 *     the lock held. Back-end completions (disk I/O, network packets,
 *     console input, timers) also run on the loop thread under the lock.
 *   - Without a loop (unit tests), notify runs ops->queue_notify directly
 *     on the calling thread, still under the lock.
 *   - Interrupt lines are driven through dev->irq_fn from whichever thread
 *     holds the lock. */
#ifndef BRUME_VIRTIO_VIRTIO_H
#define BRUME_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtqueue.h"
#include "vm/bus.h"

/* Device status bits (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE  0x01
#define VIRTIO_STATUS_DRIVER       0x02
#define VIRTIO_STATUS_DRIVER_OK    0x04
#define VIRTIO_STATUS_FEATURES_OK  0x08
#define VIRTIO_STATUS_NEEDS_RESET  0x40
#define VIRTIO_STATUS_FAILED       0x80

/* Interrupt status bits */
#define VIRTIO_ISR_QUEUE   0x1
#define VIRTIO_ISR_CONFIG  0x2

/* Feature bits shared by every device */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32

#define VIRTIO_ID_NET      1
#define VIRTIO_ID_BLOCK    2
#define VIRTIO_ID_CONSOLE  3
#define VIRTIO_ID_RNG      4
#define VIRTIO_ID_BALLOON  5

#define VIRTIO_VENDOR_ID   0x656d7562u  /* "brum", little-endian */
#define VIRTIO_MAX_QUEUES  8
#define VIRTIO_CONFIG_MAX  256

struct virtio_dev;
struct io_loop;

struct virtio_dev_ops {
    /* The driver added buffers to queue q (loop thread, lock held). */
    void (*queue_notify)(struct virtio_dev *dev, int q);
    /* The driver wrote size bytes of value at offset of the config space
     * (vCPU thread, lock held; offset+size <= config_len). The device
     * stores what it allows. NULL: the config space is read-only. */
    void (*config_write)(struct virtio_dev *dev, unsigned offset, unsigned size, uint64_t value);
    /* The driver set DRIVER_OK (lock held). May be NULL. */
    void (*driver_ok)(struct virtio_dev *dev);
    /* The driver reset the device; queues are already reset (lock held).
     * In-flight back-end requests must be forgotten or waited for. */
    void (*reset)(struct virtio_dev *dev);
};

struct virtio_queue_state {
    struct virtq vq;
    uint16_t max_size;      /* QueueNumMax */
    int eventfd;            /* -1 without a loop */
    struct virtio_dev *dev; /* back pointer for the loop handler */
    int index;
};

struct virtio_dev {
    pthread_mutex_t lock;
    const char *name;                  /* "virtio-blk0": for messages */
    const struct virtio_dev_ops *ops;
    void *priv;                        /* the device type's state */
    const struct guest_memory *mem;
    struct io_loop *loop;              /* NULL in unit tests */

    uint32_t device_id;
    uint64_t host_features;
    uint64_t driver_features;
    uint32_t status;
    uint32_t isr;
    uint32_t config_generation;
    uint8_t config[VIRTIO_CONFIG_MAX];
    uint32_t config_len;

    int nqueues;
    struct virtio_queue_state queues[VIRTIO_MAX_QUEUES];

    /* transport registers */
    uint32_t device_features_sel, driver_features_sel, queue_sel;

    /* interrupt line */
    void (*irq_fn)(void *opaque, unsigned gsi, int level);
    void *irq_opaque;
    unsigned gsi;
    bool irq_level;

    bool broken_logged;                /* NEEDS_RESET announced on stderr */
};

/* Prepares dev with nqueues queues of max_size entries. The machine sets
 * mem, loop (may be NULL), irq_fn/irq_opaque/gsi in a zeroed dev; the device
 * type sets device_id, host_features, config_len, ops and priv, then calls
 * this. With a loop, the queue eventfds are created and watched here.
 * Returns 0 or -errno. */
int virtio_dev_init(struct virtio_dev *dev, const char *name, int nqueues, uint16_t max_size);
void virtio_dev_destroy(struct virtio_dev *dev);

/* Creates the per-queue eventfds and watches them on loop. */
int virtio_dev_attach_loop(struct virtio_dev *dev, struct io_loop *loop);

/* True when the driver negotiated feature bit. */
static inline bool virtio_has_feature(const struct virtio_dev *dev, unsigned bit)
{
    return (dev->driver_features >> bit) & 1;
}

/* Queue q usable: driver ready, device not broken. */
bool virtio_queue_live(struct virtio_dev *dev, int q);

/* Pops from queue q; when the queue breaks, marks the device NEEDS_RESET
 * (and says so once on stderr). Same returns as virtq_pop. Lock held. */
int virtio_pop(struct virtio_dev *dev, int q, struct virtq_elem *e);

/* Pushes a used element and interrupts the driver if it wants it. */
void virtio_push_notify(struct virtio_dev *dev, int q, uint16_t head, uint32_t len);
/* Interrupts the driver for queue q if it wants it (after several pushes). */
void virtio_notify(struct virtio_dev *dev, int q);

/* Config space changed (lock held): bumps the generation, interrupts. */
void virtio_config_changed(struct virtio_dev *dev);

/* Sets / clears interrupt status bits and drives the line (lock held). */
void virtio_dev_raise(struct virtio_dev *dev, uint32_t bits);
void virtio_dev_ack(struct virtio_dev *dev, uint32_t bits);

/* Marks the device broken: NEEDS_RESET, a config interrupt, one warning. */
void virtio_dev_fail(struct virtio_dev *dev, const char *reason);

/* Runs a queue notification as the loop thread would (takes the lock). */
void virtio_dev_kick(struct virtio_dev *dev, int q);

/* ---- the virtio-mmio transport (mmio.c) ---- */
#define VIRTIO_MMIO_REGION_SIZE 0x1000

uint64_t virtio_mmio_read(void *opaque, uint64_t offset, unsigned size);
void virtio_mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value);
extern const struct bus_ops virtio_mmio_ops;

#endif
