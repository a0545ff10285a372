/* virtio-console (virtio 1.x, 5.3) with a single port: the guest's hvc0.
 *
 * Queue 0 (receiveq) carries host input to the guest, queue 1
 * (transmitq) guest output to the host. Output is written to out_fd on the
 * loop thread. Input: in_fd is watched on the loop while the guest has
 * posted receive buffers; when it has none, the watch is paused (so a
 * level-triggered epoll does not spin) and resumed by the guest's next
 * receiveq notification. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/log.h"
#include "virtio/devices.h"
#include "vm/loop.h"

#define CON_RX 0
#define CON_TX 1

struct console {
    int in_fd, out_fd;
    bool watching;       /* in_fd's EPOLLIN is enabled on the loop */
    bool in_eof;
    struct virtq_elem elem;
};

static void set_watch(struct virtio_dev *dev, bool on)
{
    struct console *c = dev->priv;
    if (c->in_fd < 0 || c->in_eof || !dev->loop || c->watching == on)
        return;
    c->watching = on;
    loop_mod_fd(dev->loop, c->in_fd, on ? EPOLLIN : 0);
}

static void write_all(int fd, const struct iovec *iov, int cnt)
{
    for (int i = 0; i < cnt; i++) {
        const uint8_t *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left) {
            ssize_t n = write(fd, p, left);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return;  /* output lost; the guest must not stall on it */
            }
            p += n;
            left -= (size_t)n;
        }
    }
}

static void tx(struct virtio_dev *dev)
{
    struct console *c = dev->priv;
    while (virtio_pop(dev, CON_TX, &c->elem) > 0) {
        if (c->out_fd >= 0)
            write_all(c->out_fd, c->elem.iov, c->elem.nout);
        virtq_push(&dev->queues[CON_TX].vq, c->elem.head, 0);
    }
    virtio_notify(dev, CON_TX);
}

/* Moves what in_fd has into posted receive buffers (lock held). */
static void rx(struct virtio_dev *dev)
{
    struct console *c = dev->priv;
    if (c->in_fd < 0 || c->in_eof)
        return;
    for (;;) {
        int rc = virtio_pop(dev, CON_RX, &c->elem);
        if (rc <= 0) {
            set_watch(dev, false);  /* no buffers: wait for the guest */
            break;
        }
        if (c->elem.nin == 0) {
            virtq_push(&dev->queues[CON_RX].vq, c->elem.head, 0);
            continue;
        }
        ssize_t n = readv(c->in_fd, c->elem.iov + c->elem.nout, c->elem.nin > 64 ? 64 : c->elem.nin);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            virtq_unpop(&dev->queues[CON_RX].vq);
            set_watch(dev, true);
            break;
        }
        if (n <= 0) {
            /* EOF or error: no more input, ever */
            virtq_unpop(&dev->queues[CON_RX].vq);
            if (dev->loop)
                loop_remove_fd(dev->loop, c->in_fd);
            c->in_eof = true;
            c->watching = false;
            break;
        }
        virtq_push(&dev->queues[CON_RX].vq, c->elem.head, (uint32_t)n);
        /* one read per wake-up keeps the loop fair; epoll calls again */
        set_watch(dev, true);
        break;
    }
    virtio_notify(dev, CON_RX);
}

static void input_ready(void *opaque, uint32_t events)
{
    (void)events;
    struct virtio_dev *dev = opaque;
    pthread_mutex_lock(&dev->lock);
    if (virtio_queue_live(dev, CON_RX))
        rx(dev);
    else
        set_watch(dev, false);
    pthread_mutex_unlock(&dev->lock);
}

static void con_queue_notify(struct virtio_dev *dev, int q)
{
    if (q == CON_TX)
        tx(dev);
    else
        set_watch(dev, true);  /* new receive buffers: input may flow */
}

static void con_driver_ok(struct virtio_dev *dev)
{
    set_watch(dev, true);
}

static const struct virtio_dev_ops con_ops = {
    .queue_notify = con_queue_notify,
    .driver_ok = con_driver_ok,
};

int virtio_console_init(struct virtio_dev *dev, const char *name, int in_fd, int out_fd)
{
    struct console *c = calloc(1, sizeof(*c));
    if (!c)
        return err_set(-ENOMEM, "%s: out of memory", name);
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    dev->device_id = VIRTIO_ID_CONSOLE;
    dev->ops = &con_ops;
    dev->priv = c;
    dev->host_features = (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX);
    dev->config_len = 12;  /* cols, rows, max_nr_ports, emerg_wr: all unused */
    int rc = virtio_dev_init(dev, name, 2, 128);
    if (rc < 0)
        goto fail;
    if (in_fd >= 0 && dev->loop) {
        /* registered paused; DRIVER_OK turns it on */
        rc = loop_add_fd(dev->loop, in_fd, 0, input_ready, dev);
        if (rc < 0) {
            virtio_dev_destroy(dev);
            goto fail;
        }
    }
    return 0;
fail:
    free(c);
    dev->priv = NULL;
    return rc;
}

void virtio_console_fini(struct virtio_dev *dev)
{
    struct console *c = dev->priv;
    if (!c)
        return;
    if (c->in_fd >= 0 && !c->in_eof && dev->loop)
        loop_remove_fd(dev->loop, c->in_fd);
    virtio_dev_destroy(dev);
    free(c);
    dev->priv = NULL;
}
