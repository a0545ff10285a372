/* qcow2 compressed clusters: reading (deflate or zstd, per the header's
 * compression type) and writing them for `img convert -c`. Compressed
 * clusters are packed byte by byte into host clusters; each compressed
 * cluster holds one reference on every host cluster it touches. */
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

#include "block/qcow2.h"
#include "util/log.h"

static int inflate_raw(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
    z_stream z = { 0 };
    if (inflateInit2(&z, -12) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)inlen;
    z.next_out = out;
    z.avail_out = (uInt)outlen;
    int r = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    /* the stored length is rounded to sectors: trailing bytes are allowed */
    return (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) && z.avail_out == 0 ? 0 : -EIO;
}

static int unzstd(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d)
        return -ENOMEM;
    ZSTD_inBuffer ib = { in, inlen, 0 };
    ZSTD_outBuffer ob = { out, outlen, 0 };
    int r = 0;
    while (ob.pos < ob.size) {
        size_t z = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(z)) {
            r = -EIO;
            break;
        }
        if (z == 0 || ib.pos == ib.size)
            break;
    }
    ZSTD_freeDCtx(d);
    return r == 0 && ob.pos == ob.size ? 0 : -EIO;
}

int qcow2_decompress(struct block_dev *bd, uint64_t entry, uint8_t *out)
{
    struct qcow2 *q = QS(bd);
    if (entry == q->last_comp_entry && out == q->comp_cache)
        return 0;
    uint64_t off, len;
    qcow2_compressed_range(q, entry, &off, &len);
    if (len > 2ull * q->cluster_size + 512 || off < q->cluster_size)
        return qcow2_mark_corrupt(bd, "bad compressed cluster descriptor");
    int r = file_pread_all(bd->fd, q->zbuf, len, off);
    if (r)
        return err_set(r, "%s: read error: %s", bd->path, strerror(-r));
    q->last_comp_entry = 0;
    r = q->compression == 1 ? unzstd(q->zbuf, len, out, q->cluster_size)
                            : inflate_raw(q->zbuf, len, out, q->cluster_size);
    if (r)
        return err_set(-EIO, "%s: compressed cluster at %llu does not decompress", bd->path, (unsigned long long)off);
    if (out == q->comp_cache)
        q->last_comp_entry = entry;
    return 0;
}

/* Compresses one cluster into q->zbuf; returns the length or 0 if it does
 * not shrink. */
static size_t compress_cluster(struct qcow2 *q, const void *buf)
{
    size_t cap = q->cluster_size - 512;
    if (q->compression == 1) {
        size_t n = ZSTD_compress(q->zbuf, cap, buf, q->cluster_size, 3);
        return ZSTD_isError(n) ? 0 : n;
    }
    z_stream z = { 0 };
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)buf;
    z.avail_in = q->cluster_size;
    z.next_out = q->zbuf;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return r == Z_STREAM_END ? n : 0;
}

int qcow2_write_compressed(struct block_dev *bd, const void *buf, uint64_t off)
{
    struct qcow2 *q = QS(bd);
    if (off & (q->cluster_size - 1) || off >= bd->size)
        return err_set(-EINVAL, "%s: compressed writes must be whole clusters", bd->path);
    size_t n = compress_cluster(q, buf);
    if (!n)
        return -EAGAIN;
    uint64_t old;
    int r = qcow2_l2_entry(bd, off, &old);
    if (r)
        return r;
    uint64_t at = q->comp_next;
    uint64_t cs = q->cluster_size;
    if (at && (at & (cs - 1)) && (at & (cs - 1)) + n <= cs) {
        r = qcow2_refcount_update(bd, at >> q->cluster_bits, 1, +1);   /* shares a host cluster */
    } else {
        r = qcow2_alloc_clusters(bd, 1, &at);
    }
    if (r)
        return r;
    r = file_pwrite_all(bd->fd, q->zbuf, n, at);
    if (r)
        return err_set(r, "%s: write error: %s", bd->path, strerror(-r));
    q->comp_next = at + n;
    uint32_t x = 62 - (q->cluster_bits - 8);
    uint64_t nsec = ((at + n - 1) >> 9) - (at >> 9);
    uint64_t e = QCOW2_OFLAG_COMPRESSED | (nsec << x) | at;

    r = qcow2_set_l2_entry(bd, off, e);
    if (!r && qcow2_entry_kind(q, old) != QK_UNALLOC)
        r = qcow2_free_entry_later(bd, old);
    return r;
}
