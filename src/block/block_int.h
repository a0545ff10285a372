/* Internals shared by the block drivers: the driver table entry, the opened
 * device, and small helpers (endianness, iovec slicing, whole-range I/O).
 * Nothing outside src/block includes this file. */
#ifndef BRUME_BLOCK_BLOCK_INT_H
#define BRUME_BLOCK_BLOCK_INT_H

#include <endian.h>
#include <pthread.h>
#include <string.h>

#include "block/block.h"
#include "util/iov.h"

#define BLOCK_MAX_CHAIN 64          /* backing chains longer than this are refused */
#define BLOCK_MAX_IOV 1024

struct block_driver {
    const char *name;
    /* Returns a score > 0 if buf (the first bytes of the file) is this format. */
    int (*probe)(const uint8_t *buf, size_t len);
    int (*open)(struct block_dev *bd);
    void (*close)(struct block_dev *bd);
    int (*preadv)(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len);
    int (*pwritev)(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len);
    int (*flush)(struct block_dev *bd);
    int (*discard)(struct block_dev *bd, uint64_t off, uint64_t len);
    int (*write_zeroes)(struct block_dev *bd, uint64_t off, uint64_t len, bool may_unmap);
    /* Fills *pnum (<= len) with the length of the run at off that shares
     * one status; returns BLOCK_STATUS_* bits or -errno. */
    int (*status)(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host_off);
    int (*info)(struct block_dev *bd, struct block_info *info);
    int (*truncate)(struct block_dev *bd, uint64_t size);
    int (*check)(struct block_dev *bd, struct block_check *res, int repair);
    int (*set_backing)(struct block_dev *bd, const char *file, const char *fmt);
    int (*write_compressed)(struct block_dev *bd, const void *buf, uint64_t off);
};

struct block_async;

struct block_dev {
    const struct block_driver *drv;
    int fd;
    char *path;
    bool read_only;
    uint64_t size;               /* virtual size */
    void *priv;                  /* driver state */
    struct block_dev *backing;   /* NULL when none */
    char backing_file[4096];     /* as written in the image */
    char backing_fmt[32];
    int depth;                   /* 0 for the top of a chain */
    bool probed_raw;
    bool locked;
    struct block_async *aio;
    void (*aio_detach)(struct block_dev *bd);  /* set by block_attach_loop */
    const struct block_open_opts *opts;
};

/* Drivers (block/<name>.c). */
extern const struct block_driver block_raw_driver;
extern const struct block_driver block_qcow2_driver;
extern const struct block_driver block_vmdk_driver;
extern const struct block_driver block_vdi_driver;

/* lock.c: QEMU-compatible OFD byte-range locks. */
int block_lock_take(int fd, const char *path, bool write);
void block_lock_release(int fd);

/* Opens a backing file named by bd's image (relative to bd's directory). */
int block_open_backing(struct block_dev *bd, const char *name, const char *fmt);

/* Reads len bytes at off from bd's backing file into the iovec, or zeroes
 * when there is no backing file (or the backing file is shorter). */
int block_read_backing(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len);


/* Loops over short transfers and EINTR; returns 0 or -errno. A read past
 * the end of file fills the rest with zeroes. */
int file_pread_all(int fd, void *buf, size_t len, uint64_t off);
int file_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
int file_preadv_all(int fd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len);
int file_pwritev_all(int fd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len);

static inline uint64_t rd64be(const void *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }
static inline uint32_t rd32be(const void *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static inline uint16_t rd16be(const void *p) { uint16_t v; memcpy(&v, p, 2); return be16toh(v); }
static inline void wr64be(void *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); }
static inline void wr32be(void *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static inline void wr16be(void *p, uint16_t v) { v = htobe16(v); memcpy(p, &v, 2); }
static inline uint64_t rd64le(const void *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }
static inline uint32_t rd32le(const void *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static inline uint16_t rd16le(const void *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }

#endif
