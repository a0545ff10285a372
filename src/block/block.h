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
    bool backing_writable; /* open the backing chain read-write too (`img commit`) */
    bool no_backing;      /* do not open backing files (`img rebase -u`) */
    bool no_flush;        /* flushes do nothing, like QEMU's cache=unsafe (`img convert -t unsafe`):
                             a host crash may then corrupt the image */
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

/* ---- used by `brume img` ---- */

/* Allocation status of a range (block_status). */
#define BLOCK_STATUS_DATA      1u  /* reads come from stored data */
#define BLOCK_STATUS_ZERO      2u  /* reads as zeroes */
#define BLOCK_STATUS_ALLOCATED 4u  /* decided by this layer, not its backing file */
#define BLOCK_STATUS_OFFSET    8u  /* *host_off is where the data lies in this file */

/* Status of the run starting at offset in bd alone (not its backing file):
 * returns BLOCK_STATUS_* bits and stores the run length (<= len) in *pnum. */
int block_status(struct block_dev *bd, uint64_t offset, uint64_t len, uint64_t *pnum, uint64_t *host_off);

/* The backing file of bd, or NULL. Owned by bd. */
struct block_dev *block_backing(struct block_dev *bd);

/* Changes the virtual size (growing; qcow2 also refuses to shrink). */
int block_truncate(struct block_dev *bd, uint64_t size);

/* Writes one whole cluster compressed (qcow2 only; offset cluster-aligned).
 * Returns -ENOTSUP where the format cannot, -EAGAIN if it did not shrink. */
int block_write_compressed(struct block_dev *bd, const void *buf, uint64_t offset);

/* Rewrites the backing file reference (NULL file: no backing file). Does
 * not change the data; `img rebase` copies what must be copied first. */
int block_set_backing(struct block_dev *bd, const char *file, const char *fmt);

struct block_check {
    uint64_t corruptions, leaks, check_errors;
    uint64_t corruptions_fixed, leaks_fixed;
    uint64_t total_clusters, allocated_clusters, fragmented_clusters, compressed_clusters;
    uint64_t image_end_offset;
};
#define BLOCK_CHECK_REPAIR_LEAKS 1
#define BLOCK_CHECK_REPAIR_ALL   3
/* Consistency check (qcow2). Returns 0 when the check ran (results in *res),
 * -ENOTSUP for formats without one, other -errno if it could not complete. */
int block_check(struct block_dev *bd, struct block_check *res, int repair);

struct block_create_opts {
    const char *format;          /* "raw" or "qcow2" */
    uint64_t size;               /* 0: take the backing file's size */
    uint32_t cluster_size;       /* qcow2: 0 for 64 KiB */
    int version;                 /* qcow2: 2 or 3 (0: 3) */
    const char *preallocation;   /* "off", "metadata", "falloc", "full" (NULL: off) */
    const char *compression;     /* "zlib" or "zstd" (NULL: zlib) */
    const char *backing_file;
    const char *backing_fmt;
    int refcount_bits;           /* 0: 16 */
};
int block_create(const char *path, const struct block_create_opts *opts);

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
 * first block_submit(). Raw images use io_uring where the kernel allows it
 * (and BRUME_NO_IO_URING is unset); other formats, and raw images where it
 * is not, use a worker thread per disk. */
int block_attach_loop(struct block_dev *bd, struct io_loop *loop);

/* Undoes block_attach_loop(): waits for the requests the kernel or the
 * worker is running and delivers them, completes the queued ones with
 * -ECANCELED (done() runs on the calling thread). block_close() calls it;
 * a device calls it first when its completions need the device alive. */
void block_detach_loop(struct block_dev *bd);

/* "io_uring" or "thread" once attached, NULL before (logs and tests). */
const char *block_async_backend(struct block_dev *bd);

/* Queues req. Returns 0 (done() will be called) or a negative errno
 * (done() will not be called). */
int block_submit(struct block_dev *bd, struct block_request *req);

#endif
