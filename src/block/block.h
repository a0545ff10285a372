/* The block layer: one interface in front of every image format.
 *
 * A struct block_dev is an opened image (a driver plus its state, and for
 * formats with backing files, the chain behind it). Synchronous calls are
 * used by `brume img` and by tests; virtio-blk uses block_submit(), whose
 * completions run on the VM's I/O loop thread.
 *
 * Drivers live in block/<format>.c and are found through a probe list
 * (each driver's probe says "mine" or "not mine"), not a chain of ifs.
 *
 * Offsets and lengths are bytes. Every call returns 0 (or a byte count where
 * stated) or a negative errno with a reason in err_get(). */
#ifndef BRUME_BLOCK_BLOCK_H
#define BRUME_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct block_dev;
struct io_loop;

struct block_open_opts {
    const char *format;   /* "raw", "qcow2", "vmdk", "vdi", or NULL to probe */
    bool read_only;
    bool no_lock;         /* skip the image lock (used by `img info -U`) */
};

struct block_info {
    const char *format;   /* driver name */
    uint64_t virtual_size;
    uint64_t actual_size; /* bytes allocated on the host */
    uint32_t cluster_size; /* 0 where the format has none */
    bool read_only;
    bool probed_raw;      /* format was probed and found raw: warn as QEMU does */
    char backing_file[4096];
    char backing_format[32];
};

int block_open(const char *path, const struct block_open_opts *opts, struct block_dev **out);
void block_close(struct block_dev *bd);
int block_get_info(struct block_dev *bd, struct block_info *info);

/* Synchronous I/O. Requests past the virtual size fail with -EINVAL. */
int block_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t offset);
int block_pwritev(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t offset);
int block_flush(struct block_dev *bd);
int block_discard(struct block_dev *bd, uint64_t offset, uint64_t len);
/* may_unmap: the range may be deallocated as long as it reads as zeroes. */
int block_write_zeroes(struct block_dev *bd, uint64_t offset, uint64_t len, bool may_unmap);

/* ---- asynchronous I/O for devices ---- */
enum block_op { BLOCK_OP_READ, BLOCK_OP_WRITE, BLOCK_OP_FLUSH, BLOCK_OP_DISCARD, BLOCK_OP_WRITE_ZEROES };

struct block_request {
    enum block_op op;
    uint64_t offset;
    uint64_t len;               /* DISCARD / WRITE_ZEROES */
    const struct iovec *iov;    /* READ / WRITE: buffers stay valid until done */
    int iovcnt;
    bool may_unmap;             /* WRITE_ZEROES */
    /* Called once on the I/O loop thread with 0 or a negative errno. */
    void (*done)(struct block_request *req, int result);
    void *opaque;
};

/* Routes completions of bd's requests to loop. Must be called before the
 * first block_submit(). Uses io_uring where the kernel allows it, and a
 * thread pool otherwise (or for drivers without native async I/O). */
int block_attach_loop(struct block_dev *bd, struct io_loop *loop);

/* Queues req. Returns 0 (done() will be called) or a negative errno
 * (done() will not be called). */
int block_submit(struct block_dev *bd, struct block_request *req);

#endif
