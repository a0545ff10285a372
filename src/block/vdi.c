/* VirtualBox VDI images (dynamic and fixed), read-only, for importing
 * VirtualBox disks. A block map gives, per block, its index in the data
 * area, or "unallocated"/"zero" (both read as zeroes). */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "block/block_int.h"
#include "util/log.h"

#define VDI_MAGIC 0xbeda107fu
#define VDI_UNALLOCATED 0xffffffffu
#define VDI_ZERO 0xfffffffeu

struct vdi {
    uint32_t *bmap;
    uint32_t blocks;
    uint32_t block_size;
    uint64_t data_off;      /* offset of block 0's data (after its extra bytes) */
    uint64_t fsize;
};

static int vdi_probe(const uint8_t *buf, size_t len)
{
    return len >= 68 && rd32le(buf + 64) == VDI_MAGIC ? 100 : 0;
}

static void vdi_close(struct block_dev *bd)
{
    struct vdi *v = bd->priv;
    if (v) {
        free(v->bmap);
        free(v);
    }
    bd->priv = NULL;
}

static int vdi_open(struct block_dev *bd)
{
    uint8_t h[512];
    struct stat st;
    if (fstat(bd->fd, &st) < 0)
        return -errno;
    int r = file_pread_all(bd->fd, h, sizeof(h), 0);
    if (r)
        return r;
    if (rd32le(h + 64) != VDI_MAGIC)
        return err_set(-EINVAL, "%s: not a VDI image", bd->path);
    uint32_t version = rd32le(h + 68), type = rd32le(h + 76);
    if (version >> 16 != 1)
        return err_set(-ENOTSUP, "%s: VDI version %u.%u not supported", bd->path, version >> 16, version & 0xffff);
    if (type != 1 && type != 2)
        return err_set(-ENOTSUP, "%s: VDI image type %u not supported (dynamic and fixed only)", bd->path, type);
    uint32_t off_bmap = rd32le(h + 340), off_data = rd32le(h + 344);
    uint64_t size = rd64le(h + 368);
    uint32_t bs = rd32le(h + 376), extra = rd32le(h + 380), blocks = rd32le(h + 384);
    if (bs < 512 || bs > (256u << 20) || (bs & (bs - 1)) || extra > bs ||
        size > (uint64_t)blocks * bs || blocks > (64u << 20))
        return err_set(-EINVAL, "%s: bad VDI geometry (size %llu, %u blocks of %u bytes)", bd->path,
                       (unsigned long long)size, blocks, bs);
    if ((uint64_t)off_bmap + (uint64_t)blocks * 4 > (uint64_t)st.st_size)
        return err_set(-EINVAL, "%s: VDI block map past the end of the file", bd->path);
    struct vdi *v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    bd->priv = v;
    v->bmap = malloc((size_t)blocks * 4 + 4);
    if (!v->bmap) {
        vdi_close(bd);
        return err_set(-ENOMEM, "out of memory");
    }
    r = file_pread_all(bd->fd, v->bmap, (size_t)blocks * 4, off_bmap);
    if (r) {
        vdi_close(bd);
        return r;
    }
    for (uint32_t i = 0; i < blocks; i++)
        v->bmap[i] = le32toh(v->bmap[i]);
    v->blocks = blocks;
    v->block_size = bs;
    v->data_off = (uint64_t)off_data + extra;
    v->fsize = (uint64_t)st.st_size;
    bd->size = size;
    bd->read_only = true;
    return 0;
}

static int vdi_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
    struct vdi *v = bd->priv;
    struct iovec s[BLOCK_MAX_IOV];
    uint64_t done = 0;
    while (done < len) {
        uint64_t g = off + done, b = g / v->block_size, in = g % v->block_size;
        uint64_t n = v->block_size - in < len - done ? v->block_size - in : len - done;
        int k = iov_slice(iov, iovcnt, done, n, s, BLOCK_MAX_IOV);
        if (k < 0)
            return k;
        uint32_t e = b < v->blocks ? v->bmap[b] : VDI_UNALLOCATED;
        if (e >= VDI_ZERO) {
            iov_memset(s, k, 0, 0, n);
        } else {
            uint64_t h = v->data_off + (uint64_t)e * v->block_size + in;
            if (e >= v->blocks || h + n > v->fsize)
                return err_set(-EIO, "%s: VDI block %llu points past the end of the file", bd->path,
                               (unsigned long long)b);
            int r = file_preadv_all(bd->fd, s, k, h, n);
            if (r)
                return r;
        }
        done += n;
    }
    return 0;
}

static int vdi_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host)
{
    struct vdi *v = bd->priv;
    uint64_t b = off / v->block_size, n = v->block_size - off % v->block_size;
    *pnum = n < len ? n : len;
    uint32_t e = b < v->blocks ? v->bmap[b] : VDI_UNALLOCATED;
    if (e >= VDI_ZERO)
        return BLOCK_STATUS_ZERO | BLOCK_STATUS_ALLOCATED;
    *host = v->data_off + (uint64_t)e * v->block_size + off % v->block_size;
    return BLOCK_STATUS_DATA | BLOCK_STATUS_ALLOCATED | BLOCK_STATUS_OFFSET;
}

static int vdi_info(struct block_dev *bd, struct block_info *info)
{
    info->cluster_size = ((struct vdi *)bd->priv)->block_size;
    return 0;
}

const struct block_driver block_vdi_driver = {
    .name = "vdi",
    .probe = vdi_probe,
    .open = vdi_open,
    .close = vdi_close,
    .preadv = vdi_preadv,
    .status = vdi_status,
    .info = vdi_info,
};
