/* VMware sparse extents (monolithicSparse and streamOptimized), read-only,
 * so that `brume img convert` imports VMware disks. The header names a
 * grain directory (GD) whose entries point at grain tables (GT); a GT
 * entry is the sector of a grain. streamOptimized grains are deflated,
 * each behind a (lba, size) marker, and the GD may sit in a footer. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

#include "block/qcow2.h"   /* the bounded table cache */
#include "util/log.h"

#define VMDK_MAGIC 0x564d444bu      /* "KDMV" little-endian */
#define VMDK_FLAG_ZERO_GRAIN (1u << 2)
#define VMDK_FLAG_COMPRESS (1u << 16)
#define VMDK_FLAG_MARKER (1u << 17)
#define VMDK_GD_AT_END UINT64_MAX

struct vmdk {
    uint32_t flags;
    uint64_t grain;        /* bytes */
    uint32_t gtes;         /* entries per grain table */
    uint64_t gd_entries;
    uint32_t *gd;
    struct qcow2_cache gtc;
    uint8_t *gbuf, *zbuf;  /* one grain, decompressed / compressed */
    uint64_t gbuf_sector;  /* which grain gbuf holds (0: none) */
    uint64_t fsize;
};

static int vmdk_probe(const uint8_t *buf, size_t len)
{
    return len >= 4 && rd32le(buf) == VMDK_MAGIC ? 100 : 0;
}

static void vmdk_close(struct block_dev *bd)
{
    struct vmdk *v = bd->priv;
    if (!v)
        return;
    qcow2_cache_free(&v->gtc);
    free(v->gd);
    free(v->gbuf);
    free(v->zbuf);
    free(v);
    bd->priv = NULL;
}

static int vmdk_open(struct block_dev *bd)
{
    uint8_t h[512];
    struct stat st;
    if (fstat(bd->fd, &st) < 0)
        return -errno;
    int r = file_pread_all(bd->fd, h, sizeof(h), 0);
    if (r)
        return err_set(r, "%s: cannot read the header", bd->path);
    if (rd32le(h) != VMDK_MAGIC)
        return err_set(-EINVAL, "%s: not a VMDK sparse extent", bd->path);
    if (rd64le(h + 56) == VMDK_GD_AT_END) {
        /* streamOptimized: the real header is the footer, 1 KiB before the end */
        if ((uint64_t)st.st_size < 1536 ||
            (r = file_pread_all(bd->fd, h, sizeof(h), (uint64_t)st.st_size - 1024)) != 0 ||
            rd32le(h) != VMDK_MAGIC)
            return err_set(-EINVAL, "%s: VMDK footer missing (truncated stream?)", bd->path);
    }
    struct vmdk *v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    bd->priv = v;
    v->fsize = (uint64_t)st.st_size;
    uint32_t version = rd32le(h + 4);
    v->flags = rd32le(h + 8);
    uint64_t cap = rd64le(h + 12), grain = rd64le(h + 20);
    v->gtes = rd32le(h + 44);
    uint64_t gd = rd64le(h + 56);
    uint16_t calg = rd16le(h + 77);
    if (version < 1 || version > 3) {
        r = err_set(-ENOTSUP, "%s: VMDK version %u not supported", bd->path, version);
        goto fail;
    }
    if (!grain || grain > 2048 || (grain & (grain - 1)) || v->gtes < 1 || v->gtes > 4096 ||
        cap > (1ull << 40) || !cap) {
        r = err_set(-EINVAL, "%s: bad VMDK geometry (capacity %llu sectors, grain %llu, %u per table)", bd->path,
                    (unsigned long long)cap, (unsigned long long)grain, v->gtes);
        goto fail;
    }
    if ((v->flags & VMDK_FLAG_COMPRESS) && calg != 1) {
        r = err_set(-ENOTSUP, "%s: unknown VMDK compression %u", bd->path, calg);
        goto fail;
    }
    v->grain = grain * 512;
    bd->size = cap * 512;
    uint64_t per_gt = (uint64_t)v->gtes * grain;
    v->gd_entries = (cap + per_gt - 1) / per_gt;
    if (gd == 0 || gd * 512 + v->gd_entries * 4 > v->fsize || v->gd_entries > (64u << 20)) {
        r = err_set(-EINVAL, "%s: VMDK grain directory outside the file", bd->path);
        goto fail;
    }
    v->gd = malloc(v->gd_entries * 4);
    v->gbuf = malloc(v->grain);
    v->zbuf = malloc(v->grain * 2 + 4096);
    if (!v->gd || !v->gbuf || !v->zbuf || qcow2_cache_init(&v->gtc, 16, v->gtes * 4)) {
        r = err_set(-ENOMEM, "out of memory");
        goto fail;
    }
    r = file_pread_all(bd->fd, v->gd, v->gd_entries * 4, gd * 512);
    if (r)
        goto fail;
    for (uint64_t i = 0; i < v->gd_entries; i++)
        v->gd[i] = le32toh(v->gd[i]);
    bd->read_only = true;
    return 0;
fail:
    vmdk_close(bd);
    return r;
}

/* The GT entry (grain sector) for guest offset g. */
static int grain_of(struct block_dev *bd, uint64_t g, uint32_t *sector)
{
    struct vmdk *v = bd->priv;
    uint64_t gi = g / v->grain;
    uint64_t d = gi / v->gtes;
    *sector = 0;
    if (d >= v->gd_entries || !v->gd[d])
        return 0;
    uint64_t gt_off = (uint64_t)v->gd[d] * 512;
    if (gt_off + v->gtes * 4ull > v->fsize)
        return err_set(-EIO, "%s: VMDK grain table outside the file", bd->path);
    uint8_t *gt;
    int r = qcow2_cache_get(bd, &v->gtc, gt_off, &gt);
    if (r)
        return r;
    *sector = rd32le(gt + 4 * (gi % v->gtes));
    return 0;
}

static int read_compressed(struct block_dev *bd, uint32_t sector)
{
    struct vmdk *v = bd->priv;
    if (v->gbuf_sector == sector)
        return 0;
    uint64_t off = (uint64_t)sector * 512;
    uint8_t m[12];
    int r = file_pread_all(bd->fd, m, 12, off);
    if (r)
        return r;
    uint32_t size = rd32le(m + 8);
    if (size == 0 || size > v->grain * 2 + 4096 - 12 || off + 12 + size > v->fsize)
        return err_set(-EIO, "%s: bad VMDK compressed grain at sector %u", bd->path, sector);
    r = file_pread_all(bd->fd, v->zbuf, size, off + 12);
    if (r)
        return r;
    uLongf out = (uLongf)v->grain;
    int z = uncompress(v->gbuf, &out, v->zbuf, size);
    if (z != Z_OK && !(z == Z_BUF_ERROR && out == v->grain))
        return err_set(-EIO, "%s: VMDK grain at sector %u does not decompress", bd->path, sector);
    if (out < v->grain)
        memset(v->gbuf + out, 0, v->grain - out);
    v->gbuf_sector = sector;
    return 0;
}

static int vmdk_preadv(struct block_dev *bd, const struct iovec *iov, int iovcnt, uint64_t off, uint64_t len)
{
    struct vmdk *v = bd->priv;
    uint64_t done = 0;
    struct iovec s[BLOCK_MAX_IOV];
    while (done < len) {
        uint64_t g = off + done, in = g % v->grain;
        uint64_t n = v->grain - in < len - done ? v->grain - in : len - done;
        uint32_t sec;
        int r = grain_of(bd, g, &sec);
        if (r)
            return r;
        int k = iov_slice(iov, iovcnt, done, n, s, BLOCK_MAX_IOV);
        if (k < 0)
            return k;
        if (sec == 0 || (sec == 1 && (v->flags & VMDK_FLAG_ZERO_GRAIN))) {
            iov_memset(s, k, 0, 0, n);
        } else if (v->flags & VMDK_FLAG_COMPRESS) {
            r = read_compressed(bd, sec);
            if (r)
                return r;
            iov_from_buf(s, k, 0, v->gbuf + in, n);
        } else {
            if ((uint64_t)sec * 512 + v->grain > v->fsize + v->grain)
                return err_set(-EIO, "%s: VMDK grain past the end of the file", bd->path);
            r = file_preadv_all(bd->fd, s, k, (uint64_t)sec * 512 + in, n);
            if (r)
                return r;
        }
        done += n;
    }
    return 0;
}

static int vmdk_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum, uint64_t *host)
{
    struct vmdk *v = bd->priv;
    uint32_t sec;
    int r = grain_of(bd, off, &sec);
    if (r)
        return r;
    uint64_t n = v->grain - off % v->grain;
    *pnum = n < len ? n : len;
    *host = 0;
    if (sec == 0 || (sec == 1 && (v->flags & VMDK_FLAG_ZERO_GRAIN)))
        return BLOCK_STATUS_ZERO | BLOCK_STATUS_ALLOCATED;
    return BLOCK_STATUS_DATA | BLOCK_STATUS_ALLOCATED;
}

static int vmdk_info(struct block_dev *bd, struct block_info *info)
{
    info->cluster_size = (uint32_t)((struct vmdk *)bd->priv)->grain;
    return 0;
}

const struct block_driver block_vmdk_driver = {
    .name = "vmdk",
    .probe = vmdk_probe,
    .open = vmdk_open,
    .close = vmdk_close,
    .preadv = vmdk_preadv,
    .status = vmdk_status,
    .info = vmdk_info,
};
