/* Asynchronous block requests for devices: a worker thread per device runs
 * the synchronous driver calls in order (so drivers need no locking), and
 * hands results back through an eventfd that the VM's I/O loop watches;
 * done() therefore always runs on the loop thread.
 *
 * io_uring is not used yet: a qcow2 request is a chain of dependent
 * metadata and data operations, which the worker serializes; raw images
 * would gain from io_uring (see the report for issue 5). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "block/block_int.h"
#include "util/log.h"
#include "vm/loop.h"

struct aio_item {
    struct block_request *req;
    int result;
};

struct aio_queue {
    struct aio_item *items;
    size_t head, count, cap;
};

struct block_async {
    struct block_dev *bd;
    struct io_loop *loop;
    int efd;
    pthread_t worker;
    pthread_mutex_t lock;      /* guards both queues and stop */
    pthread_cond_t wake;
    struct aio_queue todo, done;
    bool stop;
};

static int queue_push(struct aio_queue *q, struct aio_item it)
{
    if (q->count == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 64;
        struct aio_item *n = malloc(ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        for (size_t i = 0; i < q->count; i++)
            n[i] = q->items[(q->head + i) % q->cap];
        free(q->items);
        q->items = n;
        q->cap = ncap;
        q->head = 0;
    }
    q->items[(q->head + q->count) % q->cap] = it;
    q->count++;
    return 0;
}

static bool queue_pop(struct aio_queue *q, struct aio_item *it)
{
    if (!q->count)
        return false;
    *it = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return true;
}

static int run_request(struct block_dev *bd, struct block_request *r)
{
    switch (r->op) {
    case BLOCK_OP_READ: return block_preadv(bd, r->iov, r->iovcnt, r->offset);
    case BLOCK_OP_WRITE: return block_pwritev(bd, r->iov, r->iovcnt, r->offset);
    case BLOCK_OP_FLUSH: return block_flush(bd);
    case BLOCK_OP_DISCARD: return block_discard(bd, r->offset, r->len);
    case BLOCK_OP_WRITE_ZEROES: return block_write_zeroes(bd, r->offset, r->len, r->may_unmap);
    }
    return -EINVAL;
}

static void *aio_worker(void *opaque)
{
    struct block_async *a = opaque;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        struct aio_item it;
        while (!a->stop && !queue_pop(&a->todo, &it))
            pthread_cond_wait(&a->wake, &a->lock);
        if (a->stop)
            break;
        pthread_mutex_unlock(&a->lock);
        it.result = run_request(a->bd, it.req);
        if (it.result > 0)
            it.result = 0;
        pthread_mutex_lock(&a->lock);
        if (queue_push(&a->done, it) == 0) {
            uint64_t one = 1;
            ssize_t w = write(a->efd, &one, sizeof(one));
            (void)w;
        }
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* Loop thread: delivers finished requests. */
static void aio_complete(void *opaque, uint32_t events)
{
    struct block_async *a = opaque;
    (void)events;
    uint64_t v;
    ssize_t r = read(a->efd, &v, sizeof(v));
    (void)r;
    for (;;) {
        struct aio_item it;
        pthread_mutex_lock(&a->lock);
        bool got = queue_pop(&a->done, &it);
        pthread_mutex_unlock(&a->lock);
        if (!got)
            break;
        it.req->done(it.req, it.result);
    }
}

static void aio_free(struct block_async *a)
{
    if (a->efd >= 0)
        close(a->efd);
    free(a->todo.items);
    free(a->done.items);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->wake);
    free(a);
}

/* Stops the worker; requests still queued complete with -ECANCELED on the
 * calling thread (the device must be quiesced before its disk closes). */
static void aio_detach(struct block_dev *bd)
{
    struct block_async *a = bd->aio;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->worker, NULL);
    loop_remove_fd(a->loop, a->efd);
    aio_complete(a, 0);
    struct aio_item it;
    while (queue_pop(&a->todo, &it))
        it.req->done(it.req, -ECANCELED);
    aio_free(a);
    bd->aio = NULL;
    bd->aio_detach = NULL;
}

int block_attach_loop(struct block_dev *bd, struct io_loop *loop)
{
    if (bd->aio)
        return err_set(-EBUSY, "%s: already attached to an I/O loop", bd->path);
    struct block_async *a = calloc(1, sizeof(*a));
    if (!a)
        return err_set(-ENOMEM, "out of memory");
    a->bd = bd;
    a->loop = loop;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->wake, NULL);
    a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (a->efd < 0) {
        int e = errno;
        aio_free(a);
        return err_set(-e, "%s: eventfd: %s", bd->path, strerror(e));
    }
    int r = loop_add_fd(loop, a->efd, EPOLLIN, aio_complete, a);
    if (r) {
        aio_free(a);
        return err_set(r, "%s: cannot watch completions: %s", bd->path, strerror(-r));
    }
    r = pthread_create(&a->worker, NULL, aio_worker, a);
    if (r) {
        loop_remove_fd(loop, a->efd);
        aio_free(a);
        return err_set(-r, "%s: cannot start the I/O worker", bd->path);
    }
    bd->aio = a;
    bd->aio_detach = aio_detach;
    return 0;
}

int block_submit(struct block_dev *bd, struct block_request *req)
{
    struct block_async *a = bd->aio;
    if (!a)
        return err_set(-EINVAL, "%s: block_submit before block_attach_loop", bd->path);
    if (!req->done)
        return err_set(-EINVAL, "block request without completion");
    pthread_mutex_lock(&a->lock);
    int r = queue_push(&a->todo, (struct aio_item){ req, 0 });
    if (!r)
        pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    return r ? err_set(r, "out of memory") : 0;
}
