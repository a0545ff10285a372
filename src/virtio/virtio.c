/* The device half shared by every virtio device: queues, interrupts,
 * NEEDS_RESET, and the eventfd hand-off from vCPU threads to the I/O loop.
 * See virtio.h for the threading rules. */
#include "virtio/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"
#include "vm/loop.h"

int virtio_dev_init(struct virtio_dev *dev, const char *name, int nqueues, uint16_t max_size)
{
    if (nqueues < 1 || nqueues > VIRTIO_MAX_QUEUES || max_size == 0 || (max_size & (max_size - 1)))
        return err_set(-EINVAL, "%s: bad queue layout", name);
    /* Recursive: a back-end may complete a request inline, from inside
     * the queue handler that submitted it. */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init(&dev->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc)
        return err_set(-rc, "%s: %s", name, strerror(rc));
    dev->name = name;
    dev->nqueues = nqueues;
    dev->host_features |= 1ull << VIRTIO_F_VERSION_1;
    for (int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
        virtq_reset(&dev->queues[i].vq);
        dev->queues[i].max_size = i < nqueues ? max_size : 0;
        dev->queues[i].eventfd = -1;
        dev->queues[i].dev = dev;
        dev->queues[i].index = i;
    }
    if (dev->loop) {
        struct io_loop *loop = dev->loop;
        int rc2 = virtio_dev_attach_loop(dev, loop);
        if (rc2 < 0) {
            virtio_dev_destroy(dev);
            return rc2;
        }
    }
    return 0;
}

void virtio_dev_destroy(struct virtio_dev *dev)
{
    for (int i = 0; i < dev->nqueues; i++) {
        if (dev->queues[i].eventfd >= 0) {
            if (dev->loop)
                loop_remove_fd(dev->loop, dev->queues[i].eventfd);
            close(dev->queues[i].eventfd);
            dev->queues[i].eventfd = -1;
        }
    }
    pthread_mutex_destroy(&dev->lock);
}

static void queue_event(void *opaque, uint32_t events)
{
    (void)events;
    struct virtio_queue_state *qs = opaque;
    uint64_t v;
    if (read(qs->eventfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        log_debug("%s: eventfd read: %s", qs->dev->name, strerror(errno));
    virtio_dev_kick(qs->dev, qs->index);
}

int virtio_dev_attach_loop(struct virtio_dev *dev, struct io_loop *loop)
{
    dev->loop = loop;
    for (int i = 0; i < dev->nqueues; i++) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            return err_set(-errno, "%s: eventfd: %s", dev->name, strerror(errno));
        dev->queues[i].eventfd = fd;
        int rc = loop_add_fd(loop, fd, EPOLLIN, queue_event, &dev->queues[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void virtio_dev_kick(struct virtio_dev *dev, int q)
{
    pthread_mutex_lock(&dev->lock);
    if (virtio_queue_live(dev, q) && dev->ops->queue_notify)
        dev->ops->queue_notify(dev, q);
    pthread_mutex_unlock(&dev->lock);
}

bool virtio_queue_live(struct virtio_dev *dev, int q)
{
    if (q < 0 || q >= dev->nqueues)
        return false;
    if (!(dev->status & VIRTIO_STATUS_DRIVER_OK) || (dev->status & VIRTIO_STATUS_NEEDS_RESET))
        return false;
    return dev->queues[q].vq.ready;
}

static void irq_update(struct virtio_dev *dev)
{
    bool level = dev->isr != 0;
    if (level == dev->irq_level)
        return;
    dev->irq_level = level;
    if (dev->irq_fn)
        dev->irq_fn(dev->irq_opaque, dev->gsi, level);
}

void virtio_dev_raise(struct virtio_dev *dev, uint32_t bits)
{
    dev->isr |= bits;
    irq_update(dev);
}

void virtio_dev_ack(struct virtio_dev *dev, uint32_t bits)
{
    dev->isr &= ~bits;
    irq_update(dev);
}

void virtio_dev_fail(struct virtio_dev *dev, const char *reason)
{
    if (dev->status & VIRTIO_STATUS_NEEDS_RESET)
        return;
    dev->status |= VIRTIO_STATUS_NEEDS_RESET;
    for (int i = 0; i < dev->nqueues; i++)
        dev->queues[i].vq.ready = false;
    if (!dev->broken_logged) {
        dev->broken_logged = true;
        log_warn("%s: %s; device stopped (needs reset)", dev->name, reason);
    }
    dev->config_generation++;
    virtio_dev_raise(dev, VIRTIO_ISR_CONFIG);
}

int virtio_pop(struct virtio_dev *dev, int q, struct virtq_elem *e)
{
    if (!virtio_queue_live(dev, q))
        return 0;
    struct virtq *vq = &dev->queues[q].vq;
    int rc = virtq_pop(vq, e);
    if (rc < 0) {
        char reason[200];
        snprintf(reason, sizeof(reason), "queue %d: %s", q, vq->reason);
        virtio_dev_fail(dev, reason);
    }
    return rc;
}

void virtio_notify(struct virtio_dev *dev, int q)
{
    if (q < 0 || q >= dev->nqueues)
        return;
    if (virtq_should_notify(&dev->queues[q].vq))
        virtio_dev_raise(dev, VIRTIO_ISR_QUEUE);
}

void virtio_push_notify(struct virtio_dev *dev, int q, uint16_t head, uint32_t len)
{
    if (q < 0 || q >= dev->nqueues)
        return;
    virtq_push(&dev->queues[q].vq, head, len);
    virtio_notify(dev, q);
}

void virtio_config_changed(struct virtio_dev *dev)
{
    dev->config_generation++;
    if (dev->status & VIRTIO_STATUS_DRIVER_OK)
        virtio_dev_raise(dev, VIRTIO_ISR_CONFIG);
}
