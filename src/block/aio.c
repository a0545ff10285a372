/* Asynchronous block requests for devices: chooses a back-end per disk
 * (aio.h) and routes block_submit() to it.
 *
 * Raw images go through io_uring: their requests map one to one onto the
 * file, so the kernel can run many at once. Every other format, raw images
 * on kernels without io_uring (or where it is forbidden: ENOSYS, EPERM from
 * a seccomp profile or io_uring_disabled), and every disk when
 * BRUME_NO_IO_URING is set to a value other than "0", use a worker thread. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "block/aio.h"
#include "util/log.h"

struct block_async {
    const struct aio_backend *be;
    void *state;
};

int aio_queue_reserve(struct aio_queue *q, size_t cap)
{
    if (cap <= q->cap)
        return 0;
    struct aio_item *n = malloc(cap * sizeof(*n));
    if (!n)
        return -ENOMEM;
    for (size_t i = 0; i < q->count; i++)
        n[i] = q->items[(q->head + i) % q->cap];
    free(q->items);
    q->items = n;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int aio_queue_push(struct aio_queue *q, struct block_request *req, int result)
{
    if (q->count == q->cap && aio_queue_reserve(q, q->cap ? q->cap * 2 : 64) < 0)
        return -ENOMEM;
    q->items[(q->head + q->count) % q->cap] = (struct aio_item){ req, result };
    q->count++;
    return 0;
}

bool aio_queue_pop(struct aio_queue *q, struct aio_item *it)
{
    if (!q->count)
        return false;
    *it = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return true;
}

void aio_queue_deliver(struct aio_queue *q, pthread_mutex_t *lock)
{
    for (;;) {
        struct aio_item it;
        pthread_mutex_lock(lock);
        bool got = aio_queue_pop(q, &it);
        pthread_mutex_unlock(lock);
        if (!got)
            return;
        it.req->done(it.req, it.result);
    }
}

void aio_queue_free(struct aio_queue *q)
{
    free(q->items);
    *q = (struct aio_queue){ 0 };
}

void aio_eventfd_kick(int efd)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the loop will wake. */
    ssize_t w = write(efd, &one, sizeof(one));
    (void)w;
}

static bool uring_forbidden_by_env(void)
{
    const char *v = getenv("BRUME_NO_IO_URING");
    return v && *v && strcmp(v, "0") != 0;
}

void block_detach_loop(struct block_dev *bd)
{
    struct block_async *a = bd->aio;
    if (!a)
        return;
    a->be->detach(a->state);
    free(a);
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
    int r = -ENOTSUP;
    if (bd->drv == &block_raw_driver && !uring_forbidden_by_env()) {
        a->be = &aio_uring_backend;
        r = a->be->attach(bd, loop, &a->state);
        if (r)
            log_debug("%s: io_uring unavailable (%s), using a worker thread", bd->path, err_get());
    }
    if (r) {
        a->be = &aio_thread_backend;
        r = a->be->attach(bd, loop, &a->state);
    }
    if (r) {
        free(a);
        return r;
    }
    log_debug("%s: asynchronous I/O through %s", bd->path, a->be->name);
    bd->aio = a;
    bd->aio_detach = block_detach_loop;
    return 0;
}

const char *block_async_backend(struct block_dev *bd)
{
    return bd->aio ? bd->aio->be->name : NULL;
}

int block_submit(struct block_dev *bd, struct block_request *req)
{
    struct block_async *a = bd->aio;
    if (!a)
        return err_set(-EINVAL, "%s: block_submit before block_attach_loop", bd->path);
    if (!req->done)
        return err_set(-EINVAL, "block request without completion");
    return a->be->submit(a->state, req);
}
