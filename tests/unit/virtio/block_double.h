/* A test double for the block layer (block.h), private to the virtio unit
 * tests: an in-memory disk whose asynchronous completions arrive later on
 * the I/O loop thread, through an eventfd, as the real block layer's do. */
#ifndef BRUME_TESTS_BLOCK_DOUBLE_H
#define BRUME_TESTS_BLOCK_DOUBLE_H

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "block/block.h"
#include "vm/loop.h"
#include "vm/vm.h"

struct block_dev {
    uint8_t *data;
    uint64_t size;
    bool read_only;
    int efd;
    pthread_mutex_t lock;
    struct { struct block_request *req; int result; } done[1024];
    int ndone;
    int flushes, discards, zeroes, reads, writes;
    uint64_t submit_ns[64];
    int nsubmits;
};

static inline struct block_dev *bdouble_new(uint64_t size, bool ro)
{
    struct block_dev *bd = calloc(1, sizeof(*bd));
    bd->data = calloc(1, size);
    bd->size = size;
    bd->read_only = ro;
    bd->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&bd->lock, NULL);
    return bd;
}

int block_get_info(struct block_dev *bd, struct block_info *info)
{
    memset(info, 0, sizeof(*info));
    info->format = "raw";
    info->virtual_size = bd->size;
    info->read_only = bd->read_only;
    return 0;
}

static void bdouble_event(void *opaque, uint32_t events)
{
    (void)events;
    struct block_dev *bd = opaque;
    uint64_t v;
    if (read(bd->efd, &v, sizeof(v)) < 0) { /* spurious */ }
    for (;;) {
        pthread_mutex_lock(&bd->lock);
        if (!bd->ndone) {
            pthread_mutex_unlock(&bd->lock);
            return;
        }
        struct block_request *req = bd->done[0].req;
        int result = bd->done[0].result;
        memmove(&bd->done[0], &bd->done[1], (size_t)--bd->ndone * sizeof(bd->done[0]));
        pthread_mutex_unlock(&bd->lock);
        req->done(req, result);
    }
}

int block_attach_loop(struct block_dev *bd, struct io_loop *loop)
{
    return loop_add_fd(loop, bd->efd, EPOLLIN, bdouble_event, bd);
}

int block_submit(struct block_dev *bd, struct block_request *req)
{
    int result = 0;
    uint64_t len = req->len, off = req->offset;
    if (req->op == BLOCK_OP_READ || req->op == BLOCK_OP_WRITE) {
        len = 0;
        for (int i = 0; i < req->iovcnt; i++)
            len += req->iov[i].iov_len;
    }
    if (off > bd->size || len > bd->size - off)
        return -EINVAL;
    pthread_mutex_lock(&bd->lock);
    if (bd->nsubmits < 64)
        bd->submit_ns[bd->nsubmits] = vm_clock_ns();
    bd->nsubmits++;
    switch (req->op) {
    case BLOCK_OP_READ:
        bd->reads++;
        for (int i = 0; i < req->iovcnt; i++) {
            memcpy(req->iov[i].iov_base, bd->data + off, req->iov[i].iov_len);
            off += req->iov[i].iov_len;
        }
        break;
    case BLOCK_OP_WRITE:
        bd->writes++;
        if (bd->read_only) {
            result = -EROFS;
            break;
        }
        for (int i = 0; i < req->iovcnt; i++) {
            memcpy(bd->data + off, req->iov[i].iov_base, req->iov[i].iov_len);
            off += req->iov[i].iov_len;
        }
        break;
    case BLOCK_OP_FLUSH: bd->flushes++; break;
    case BLOCK_OP_DISCARD: bd->discards++; memset(bd->data + off, 0, len); break;
    case BLOCK_OP_WRITE_ZEROES: bd->zeroes++; memset(bd->data + off, 0, len); break;
    }
    bd->done[bd->ndone].req = req;
    bd->done[bd->ndone].result = result;
    bd->ndone++;
    pthread_mutex_unlock(&bd->lock);
    uint64_t one = 1;
    if (write(bd->efd, &one, sizeof(one)) < 0)
        return -errno;
    return 0;
}
#endif
