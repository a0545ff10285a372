/* The back-ends behind block_submit() (aio.c chooses one per disk):
 *
 *   io_uring (aio_uring.c): raw images only. Requests become SQEs on the
 *     image's fd; the kernel runs them concurrently and signals completions
 *     through an eventfd registered with the ring.
 *   thread (aio_thread.c): every format. One worker thread per disk runs the
 *     synchronous driver calls in order, so drivers with metadata (qcow2,
 *     vmdk, vdi) need no locking.
 *
 * Both call done() on the I/O loop thread (or, in detach, on the caller's
 * thread) exactly once for every request submit() accepted. Nothing outside
 * src/block includes this file. */
#ifndef BRUME_BLOCK_AIO_H
#define BRUME_BLOCK_AIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "block/block_int.h"

struct io_loop;

/* Requests one disk keeps in the kernel at once; more wait in a queue.
 * Equal to the virtio-blk queue size, so a guest never waits on it. */
#define AIO_QUEUE_DEPTH 256

struct aio_backend {
    const char *name;  /* "io_uring", "thread" */
    /* Prepares completions for bd on loop. Returns 0 with *state set, or
     * -errno (io_uring: the kernel refused it; the caller falls back). */
    int (*attach)(struct block_dev *bd, struct io_loop *loop, void **state);
    /* Accepts req: returns 0 (done() will be called) or -errno (not). */
    int (*submit)(void *state, struct block_request *req);
    /* Waits for requests already in the kernel, delivers them, completes
     * the ones not started with -ECANCELED, and frees state. */
    void (*detach)(void *state);
};

extern const struct aio_backend aio_uring_backend;
extern const struct aio_backend aio_thread_backend;

/* A FIFO of requests with their results (grows as needed). */
struct aio_item {
    struct block_request *req;
    int result;
};

struct aio_queue {
    struct aio_item *items;
    size_t head, count, cap;
};

/* Makes room for cap items; push fails only past it, when memory runs out. */
int aio_queue_reserve(struct aio_queue *q, size_t cap);
int aio_queue_push(struct aio_queue *q, struct block_request *req, int result);
bool aio_queue_pop(struct aio_queue *q, struct aio_item *it);
/* Pops each item under lock and calls its done() with the lock released
 * (done() may submit more requests), until the queue is empty. */
void aio_queue_deliver(struct aio_queue *q, pthread_mutex_t *lock);
void aio_queue_free(struct aio_queue *q);

/* Wakes an eventfd (adds 1); used to have the loop deliver completions. */
void aio_eventfd_kick(int efd);

#endif
