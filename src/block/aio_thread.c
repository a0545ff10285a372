/* The thread back-end of block_submit(): a worker thread per disk runs the
 * synchronous driver calls in order (so drivers need no locking), and hands
 * results back through an eventfd that the VM's I/O loop watches; done()
 * therefore runs on the loop thread.
 *
 * Every format can use it; qcow2, vmdk and vdi always do, because one of
 * their requests is a chain of dependent metadata and data operations. Raw
 * images use it where io_uring is unavailable (aio_uring.c). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "block/aio.h"
#include "util/log.h"
#include "vm/loop.h"

struct thread_aio {
    struct block_dev *bd;
    struct io_loop *loop;
    int efd;
    pthread_t worker;
    pthread_mutex_t lock;      /* guards both queues and stop */
    pthread_cond_t wake;
    struct aio_queue todo, done;
    bool stop;
};

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

static void *worker_main(void *opaque)
{
    struct thread_aio *t = opaque;
    pthread_mutex_lock(&t->lock);
    for (;;) {
        struct aio_item it;
        while (!t->stop && !aio_queue_pop(&t->todo, &it))
            pthread_cond_wait(&t->wake, &t->lock);
        if (t->stop)
            break;
        pthread_mutex_unlock(&t->lock);
        int result = run_request(t->bd, it.req);
        pthread_mutex_lock(&t->lock);
        if (aio_queue_push(&t->done, it.req, result > 0 ? 0 : result) == 0)
            aio_eventfd_kick(t->efd);
        else
            log_warn("%s: out of memory: a request is lost", t->bd->path);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Loop thread: delivers finished requests. */
static void thread_complete(void *opaque, uint32_t events)
{
    struct thread_aio *t = opaque;
    (void)events;
    uint64_t v;
    ssize_t r = read(t->efd, &v, sizeof(v));
    (void)r;
    aio_queue_deliver(&t->done, &t->lock);
}

static void thread_free(struct thread_aio *t)
{
    if (t->efd >= 0)
        close(t->efd);
    aio_queue_free(&t->todo);
    aio_queue_free(&t->done);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    free(t);
}

static void thread_detach(void *state)
{
    struct thread_aio *t = state;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->worker, NULL);
    loop_remove_fd(t->loop, t->efd);
    loop_sync(t->loop);  /* the loop may be in thread_complete() right now */
    thread_complete(t, 0);
    struct aio_item it;
    while (aio_queue_pop(&t->todo, &it))
        it.req->done(it.req, -ECANCELED);
    thread_free(t);
}

static int thread_attach(struct block_dev *bd, struct io_loop *loop, void **state)
{
    struct thread_aio *t = calloc(1, sizeof(*t));
    if (!t)
        return err_set(-ENOMEM, "out of memory");
    t->bd = bd;
    t->loop = loop;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (t->efd < 0) {
        int e = errno;
        thread_free(t);
        return err_set(-e, "%s: eventfd: %s", bd->path, strerror(e));
    }
    int r = loop_add_fd(loop, t->efd, EPOLLIN, thread_complete, t);
    if (r) {
        thread_free(t);
        return err_set(r, "%s: cannot watch completions: %s", bd->path, strerror(-r));
    }
    r = pthread_create(&t->worker, NULL, worker_main, t);
    if (r) {
        loop_remove_fd(loop, t->efd);
        thread_free(t);
        return err_set(-r, "%s: cannot start the I/O worker", bd->path);
    }
    *state = t;
    return 0;
}

static int thread_submit(void *state, struct block_request *req)
{
    struct thread_aio *t = state;
    pthread_mutex_lock(&t->lock);
    int r = aio_queue_push(&t->todo, req, 0);
    if (!r)
        pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    return r ? err_set(r, "out of memory") : 0;
}

const struct aio_backend aio_thread_backend = {
    .name = "thread",
    .attach = thread_attach,
    .submit = thread_submit,
    .detach = thread_detach,
};
