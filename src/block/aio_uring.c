/* The io_uring back-end of block_submit(), for raw images: a request is
 * one SQE on the image's fd (readv, writev, fsync with DATASYNC, fallocate),
 * so the kernel runs up to AIO_QUEUE_DEPTH of them at once. An eventfd
 * registered with the ring wakes the VM's I/O loop, whose handler reaps
 * completions and calls done().
 *
 * It keeps the raw driver's semantics (raw.c), which the thread back-end
 * gets by calling it: a read past the end of the file fills the rest with
 * zeroes, short transfers continue where they stopped, discard punches a
 * hole (and is a no-op where the file system cannot), write-zeroes uses
 * ZERO_RANGE (PUNCH_HOLE when the guest allows unmapping) and falls back to
 * writing zero buffers where fallocate fails.
 *
 * Requests beyond AIO_QUEUE_DEPTH wait in a queue, so the rings never
 * overflow (the completion ring has twice the room of the submission ring).
 * Threads: submit runs on whichever thread calls block_submit() (the loop
 * thread for virtio-blk), completions on the loop thread; one lock covers
 * the ring and the slots, and done() is always called without it. */
#include <errno.h>
#include <linux/falloc.h>
#include <liburing.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "block/aio.h"
#include "util/log.h"
#include "vm/loop.h"

#define ZERO_CHUNK (1u << 20)  /* write-zeroes fallback: bytes per write */

/* One request in the kernel. */
struct uring_slot {
    struct block_request *req;
    uint64_t total;          /* bytes the request covers */
    uint64_t done;           /* bytes transferred (or zeroed by writing) so far */
    struct iovec *rest;      /* after a short transfer: what remains (malloc'd) */
    int nrest;
    bool zero_fill;          /* WRITE_ZEROES: fallocate failed, writing zeroes */
    struct uring_slot *next_free;
};

struct uring_aio {
    struct block_dev *bd;
    struct io_loop *loop;
    struct io_uring ring;
    int efd;                     /* registered with the ring, watched by the loop */
    pthread_mutex_t lock;        /* everything below */
    struct uring_slot slots[AIO_QUEUE_DEPTH];
    struct uring_slot *free_slots;
    unsigned inflight;           /* slots with an SQE in the kernel */
    bool unsubmitted;            /* io_uring_submit() failed: the loop retries */
    bool stopping;               /* detach: no follow-up SQEs */
    struct aio_queue waiting;    /* accepted while every slot was busy */
    struct aio_queue finished;   /* results the loop delivers */
    void *zeroes;                /* ZERO_CHUNK zero bytes, on first need */
};

/* The block layer's checks (block.c), which the thread back-end gets from
 * block_preadv() and friends. Returns -errno, 0 when the request needs I/O
 * (*len set), or 1 when it is complete without any. */
static int request_check(struct block_dev *bd, const struct block_request *r, uint64_t *len)
{
    switch (r->op) {
    case BLOCK_OP_READ:
    case BLOCK_OP_WRITE:
        if (r->iovcnt < 0 || r->iovcnt > BLOCK_MAX_IOV || (r->iovcnt && !r->iov))
            return -EINVAL;
        *len = iov_total(r->iov, r->iovcnt);
        break;
    case BLOCK_OP_FLUSH:
        *len = 0;
        return bd->read_only ? 1 : 0;
    case BLOCK_OP_DISCARD:
    case BLOCK_OP_WRITE_ZEROES:
        *len = r->len;
        break;
    default:
        return -EINVAL;
    }
    if (r->op != BLOCK_OP_READ && bd->read_only)
        return -EROFS;
    if (r->offset > bd->size || *len > bd->size - r->offset)
        return -EINVAL;
    return *len ? 0 : 1;
}

/* Queues the next SQE of s (not yet submitted). */
static int slot_issue(struct uring_aio *u, struct uring_slot *s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return -EBUSY;  /* cannot happen: one SQE per slot, as many slots as entries */
    struct block_request *r = s->req;
    int fd = u->bd->fd;
    off_t off = (off_t)(r->offset + s->done);
    switch (r->op) {
    case BLOCK_OP_READ:
    case BLOCK_OP_WRITE: {
        const struct iovec *iov = s->rest ? s->rest : r->iov;
        unsigned n = (unsigned)(s->rest ? s->nrest : r->iovcnt);
        if (r->op == BLOCK_OP_READ)
            io_uring_prep_readv(sqe, fd, iov, n, (uint64_t)off);
        else
            io_uring_prep_writev(sqe, fd, iov, n, (uint64_t)off);
        break;
    }
    case BLOCK_OP_FLUSH:
        io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
        break;
    case BLOCK_OP_DISCARD:
        io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, (off_t)r->len);
        break;
    case BLOCK_OP_WRITE_ZEROES:
        if (s->zero_fill) {
            uint64_t left = s->total - s->done;
            unsigned n = left < ZERO_CHUNK ? (unsigned)left : ZERO_CHUNK;
            io_uring_prep_write(sqe, fd, u->zeroes, n, (uint64_t)off);
        } else {
            int mode = r->may_unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
                                    : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
            io_uring_prep_fallocate(sqe, fd, mode, off, (off_t)r->len);
        }
        break;
    }
    io_uring_sqe_set_data(sqe, s);
    u->inflight++;
    return 0;
}

/* Hands the queued SQEs to the kernel. A failure (the kernel short of
 * memory) leaves them in the ring; the loop is woken to try again. */
static void ring_submit(struct uring_aio *u)
{
    int r = io_uring_submit(&u->ring);
    u->unsubmitted = r < 0;
    if (r < 0) {
        log_debug("%s: io_uring_submit: %s (retrying)", u->bd->path, strerror(-r));
        aio_eventfd_kick(u->efd);
    }
}

static void slot_finish(struct uring_aio *u, struct uring_slot *s, int result)
{
    if (aio_queue_push(&u->finished, s->req, result) < 0)
        log_warn("%s: out of memory: a request is lost", u->bd->path);
    free(s->rest);
    *s = (struct uring_slot){ .next_free = u->free_slots };
    u->free_slots = s;
}

/* Starts req. Returns 1 when an SQE was queued, 0 when req finished at once
 * or waits for a slot, -ENOMEM when it could not be queued (done() will
 * not be called). */
static int request_start(struct uring_aio *u, struct block_request *req)
{
    uint64_t len = 0;
    int r = request_check(u->bd, req, &len);
    if (r != 0)
        return aio_queue_push(&u->finished, req, r < 0 ? r : 0);
    struct uring_slot *s = u->free_slots;
    if (!s)
        return aio_queue_push(&u->waiting, req, 0);
    u->free_slots = s->next_free;
    *s = (struct uring_slot){ .req = req, .total = len };
    r = slot_issue(u, s);
    if (r < 0) {
        slot_finish(u, s, r);
        return 0;
    }
    return 1;
}

/* Accounts one completion of s. Returns true when the request is finished
 * (*result set), false when it needs another SQE. */
static bool slot_step(struct uring_aio *u, struct uring_slot *s, int res, int *result)
{
    struct block_request *r = s->req;
    if (res == -EINTR || res == -EAGAIN)
        return false;  /* same SQE again */
    switch (r->op) {
    case BLOCK_OP_READ:
    case BLOCK_OP_WRITE:
        if (res < 0) {
            *result = res;
            return true;
        }
        if (res == 0) {
            /* end of file: a read sees zeroes, a write cannot go on */
            if (r->op == BLOCK_OP_WRITE) {
                *result = -EIO;
                return true;
            }
            iov_memset(r->iov, r->iovcnt, (size_t)s->done, 0, (size_t)(s->total - s->done));
            s->done = s->total;
        }
        s->done += (uint64_t)res;
        if (s->done >= s->total) {
            *result = 0;
            return true;
        }
        if (!s->rest) {
            s->rest = malloc((size_t)r->iovcnt * sizeof(*s->rest));
            if (!s->rest) {
                *result = -ENOMEM;
                return true;
            }
        }
        s->nrest = iov_slice(r->iov, r->iovcnt, (size_t)s->done, (size_t)(s->total - s->done), s->rest,
                             r->iovcnt);
        if (s->nrest <= 0) {
            *result = -EIO;
            return true;
        }
        return false;
    case BLOCK_OP_FLUSH:
        *result = res < 0 ? res : 0;
        return true;
    case BLOCK_OP_DISCARD:
        *result = res < 0 && res != -EOPNOTSUPP ? res : 0;  /* discard is a hint */
        return true;
    case BLOCK_OP_WRITE_ZEROES:
        if (!s->zero_fill) {
            if (res >= 0) {
                *result = 0;
                return true;
            }
            /* e.g. ZERO_RANGE on tmpfs or a block device: write zeroes */
            if (!u->zeroes && !(u->zeroes = calloc(1, ZERO_CHUNK))) {
                *result = -ENOMEM;
                return true;
            }
            s->zero_fill = true;
            return false;
        }
        if (res <= 0) {
            *result = res < 0 ? res : -EIO;
            return true;
        }
        s->done += (uint64_t)res;
        if (s->done >= s->total) {
            *result = 0;
            return true;
        }
        return false;
    }
    *result = -EINVAL;
    return true;
}

/* Takes every completion from the ring, queues follow-up SQEs and waiting
 * requests, and submits them. Called with the lock held. */
static void ring_reap(struct uring_aio *u)
{
    bool queued = false;
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        struct uring_slot *s = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&u->ring, cqe);
        u->inflight--;
        int result;
        if (!slot_step(u, s, res, &result)) {
            if (!u->stopping) {
                int r = slot_issue(u, s);
                if (r == 0) {
                    queued = true;
                    continue;
                }
                result = r;
            } else {
                result = -ECANCELED;
            }
        }
        slot_finish(u, s, result);
    }
    struct aio_item it;
    while (!u->stopping && u->free_slots && aio_queue_pop(&u->waiting, &it)) {
        int r = request_start(u, it.req);
        if (r < 0)
            log_warn("%s: out of memory: a request is lost", u->bd->path);
        queued |= r > 0;
    }
    if (queued || u->unsubmitted)
        ring_submit(u);
}

/* Calls done() for finished requests, without the lock: done() may submit. */
static void deliver(struct uring_aio *u)
{
    aio_queue_deliver(&u->finished, &u->lock);
}

/* Loop thread: the eventfd fired (a CQE was posted, or a kick). Reading it
 * first means a CQE posted while we reap wakes us again. */
static void uring_complete(void *opaque, uint32_t events)
{
    struct uring_aio *u = opaque;
    (void)events;
    uint64_t v;
    ssize_t n = read(u->efd, &v, sizeof(v));
    (void)n;
    pthread_mutex_lock(&u->lock);
    ring_reap(u);
    pthread_mutex_unlock(&u->lock);
    deliver(u);
}

static int uring_submit(void *state, struct block_request *req)
{
    struct uring_aio *u = state;
    pthread_mutex_lock(&u->lock);
    size_t before = u->finished.count;
    int r = request_start(u, req);
    if (r > 0)
        ring_submit(u);
    bool finished_now = u->finished.count != before;
    pthread_mutex_unlock(&u->lock);
    if (finished_now)
        aio_eventfd_kick(u->efd);  /* done() must run on the loop thread */
    return r < 0 ? err_set(r, "out of memory") : 0;
}

static void uring_free(struct uring_aio *u)
{
    io_uring_queue_exit(&u->ring);
    if (u->efd >= 0)
        close(u->efd);
    aio_queue_free(&u->waiting);
    aio_queue_free(&u->finished);
    free(u->zeroes);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

static void uring_detach(void *state)
{
    struct uring_aio *u = state;
    loop_remove_fd(u->loop, u->efd);
    loop_sync(u->loop);  /* the loop may be in uring_complete() right now */
    pthread_mutex_lock(&u->lock);
    u->stopping = true;
    if (u->unsubmitted)
        ring_submit(u);
    /* the kernel may still write into the requests' buffers: wait */
    while (u->inflight) {
        struct io_uring_cqe *cqe;
        int r = io_uring_wait_cqe(&u->ring, &cqe);
        if (r < 0 && r != -EINTR && r != -EAGAIN) {
            log_warn("%s: waiting for I/O in flight: %s", u->bd->path, strerror(-r));
            break;
        }
        ring_reap(u);
    }
    struct aio_item it;
    while (aio_queue_pop(&u->waiting, &it))
        aio_queue_push(&u->finished, it.req, -ECANCELED);
    pthread_mutex_unlock(&u->lock);
    deliver(u);
    uring_free(u);
}

static bool ops_supported(struct io_uring *ring)
{
    static const int ops[] = { IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_WRITE, IORING_OP_FSYNC,
                               IORING_OP_FALLOCATE };
    struct io_uring_probe *p = io_uring_get_probe_ring(ring);
    if (!p)
        return false;
    bool ok = true;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        ok = ok && io_uring_opcode_supported(p, ops[i]);
    io_uring_free_probe(p);
    return ok;
}

static int uring_attach(struct block_dev *bd, struct io_loop *loop, void **state)
{
    struct uring_aio *u = calloc(1, sizeof(*u));
    if (!u)
        return err_set(-ENOMEM, "out of memory");
    u->bd = bd;
    u->loop = loop;
    u->efd = -1;
    int r = io_uring_queue_init(AIO_QUEUE_DEPTH, &u->ring, 0);
    if (r < 0) {
        free(u);
        return err_set(r, "io_uring_queue_init: %s", strerror(-r));
    }
    pthread_mutex_init(&u->lock, NULL);
    if (!ops_supported(&u->ring)) {
        uring_free(u);
        return err_set(-ENOTSUP, "the kernel's io_uring lacks readv, writev, fsync or fallocate");
    }
    /* room for every slot's result: finishing a request never allocates */
    if (aio_queue_reserve(&u->finished, 2 * AIO_QUEUE_DEPTH) < 0) {
        uring_free(u);
        return err_set(-ENOMEM, "out of memory");
    }
    u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (u->efd < 0) {
        r = -errno;
        uring_free(u);
        return err_set(r, "eventfd: %s", strerror(-r));
    }
    r = io_uring_register_eventfd(&u->ring, u->efd);
    if (r < 0) {
        uring_free(u);
        return err_set(r, "io_uring_register_eventfd: %s", strerror(-r));
    }
    r = loop_add_fd(loop, u->efd, EPOLLIN, uring_complete, u);
    if (r < 0) {
        uring_free(u);
        return err_set(r, "%s: cannot watch completions: %s", bd->path, strerror(-r));
    }
    for (int i = AIO_QUEUE_DEPTH - 1; i >= 0; i--) {
        u->slots[i].next_free = u->free_slots;
        u->free_slots = &u->slots[i];
    }
    *state = u;
    return 0;
}

const struct aio_backend aio_uring_backend = {
    .name = "io_uring",
    .attach = uring_attach,
    .submit = uring_submit,
    .detach = uring_detach,
};
