/* brume img convert [-f fmt] [-O fmt] [-c] [-p] [-o opts] [-U] [-n]
 *                   [-B backing [-F backing_fmt]] src dst
 * Copies the guest-visible content of src (through its backing chain) into
 * a new image; runs that read as zeroes are skipped so the output stays
 * sparse; -c stores qcow2 clusters compressed. The output is flushed
 * before exit unless -t unsafe (qemu-img's default) is given.
 * -B: the new image gets a backing file and only the clusters whose
 * content differs from what the backing file shows are written (qemu-img
 * 7.2 writes every cluster the source allocates; the content is the same).
 * -n: dst exists already (not created); it must be at least as large as
 * src, and clusters that differ from src are rewritten, zeroes included. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/img.h"

#define CONVERT_CHUNK (2u << 20)

static int copy_chunk(struct block_dev *dst, uint8_t *buf, uint64_t off, uint64_t n, bool compress, uint32_t cs)
{
    if (!compress || !cs) {
        struct iovec v = { buf, n };
        return block_pwritev(dst, &v, 1, off);
    }
    for (uint64_t p = 0; p < n; p += cs) {
        uint64_t l = n - p < cs ? n - p : cs;
        if (img_is_zero(buf + p, l))
            continue;
        int r = -EAGAIN;
        if (l == cs)
            r = block_write_compressed(dst, buf + p, off + p);
        if (r == -EAGAIN) {
            struct iovec v = { buf + p, l };
            r = block_pwritev(dst, &v, 1, off + p);
        }
        if (r)
            return r;
    }
    return 0;
}

/* Differential copy for -B and -n: the output already shows something
 * (its backing file, or its old content), so each cluster-sized unit of
 * [off, off+n) is compared with it and only what differs is written. */
static int copy_diff(struct block_dev *dst, uint8_t *src_buf, uint8_t *old, uint64_t off, uint64_t n, uint32_t unit)
{
    struct iovec v = { old, n };
    int r = block_preadv(dst, &v, 1, off);
    for (uint64_t p = 0; !r && p < n;) {
        uint64_t l = n - p < unit ? n - p : unit;
        if (!memcmp(src_buf + p, old + p, l)) {
            p += l;
            continue;
        }
        if (img_is_zero(src_buf + p, l)) {
            r = block_write_zeroes(dst, off + p, l, false);
            p += l;
            continue;
        }
        /* a run of differing units that hold data: one write */
        uint64_t e = p + l;
        while (e < n) {
            uint64_t l2 = n - e < unit ? n - e : unit;
            if (!memcmp(src_buf + e, old + e, l2) || img_is_zero(src_buf + e, l2))
                break;
            e += l2;
        }
        struct iovec w = { src_buf + p, e - p };
        r = block_pwritev(dst, &w, 1, off + p);
        p = e;
    }
    return r;
}

int img_convert_main(int argc, char **argv)
{
    const char *fmt = NULL;
    struct block_create_opts o = { .format = "raw" };
    bool compress = false, progress = false, force = false, unsafe = false, no_create = false, out_fmt = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:O:co:pUqWt:T:nB:F:")) != -1) {
        switch (c) {
        case 'n': no_create = true; break;
        case 'B': o.backing_file = optarg; break;
        case 'F': o.backing_fmt = optarg; break;
        case 't': unsafe = strcmp(optarg, "unsafe") == 0; break;
        case 'T': break;
        case 'f': fmt = optarg; break;
        case 'O': o.format = optarg; out_fmt = true; break;
        case 'c': compress = true; break;
        case 'p': progress = true; break;
        case 'U': force = true; break;
        case 'q': case 'W': break;
        case 'o':
            if (img_parse_create_opts(optarg, &o))
                return 1;
            break;
        default: return 1;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: brume img convert [-f fmt] [-O fmt] [-c] [-p] [-n] [-B backing [-F fmt]] [-o opts] "
                        "src dst\n");
        return 1;
    }
    if (compress && strcmp(o.format, "qcow2")) {
        fprintf(stderr, "brume: img convert: -c needs -O qcow2\n");
        return 1;
    }
    if (o.backing_file && no_create) {
        fprintf(stderr, "brume: img convert: -B cannot be used with -n (the output exists already)\n");
        return 1;
    }
    if (o.backing_file && strcmp(o.format, "qcow2")) {
        fprintf(stderr, "brume: img convert: -B needs -O qcow2\n");
        return 1;
    }
    const char *src_path = argv[optind], *dst_path = argv[optind + 1];
    struct block_dev *src = img_open("convert", src_path, fmt, true, force);
    if (!src)
        return 1;
    struct block_info si;
    block_get_info(src, &si);
    o.size = (si.virtual_size + 511) & ~511ull;
    int r = no_create ? 0 : block_create(dst_path, &o);
    if (r) {
        img_error("convert", dst_path, r);
        block_close(src);
        return 1;
    }
    struct block_open_opts doo = { .format = no_create && !out_fmt ? NULL : o.format, .no_flush = unsafe };
    struct block_dev *dst;
    r = block_open(dst_path, &doo, &dst);
    if (r) {
        img_error("convert", dst_path, r);
        if (!no_create)
            unlink(dst_path);   /* e.g. a -B file that does not open: leave nothing half made */
        block_close(src);
        return 1;
    }
    struct block_info di;
    block_get_info(dst, &di);
    if (di.virtual_size < si.virtual_size) {
        fprintf(stderr, "brume: img convert: %s: output file is smaller than input file\n", dst_path);
        block_close(dst);
        block_close(src);
        return 1;
    }
    bool prealloc = o.preallocation && strcmp(o.preallocation, "off");
    bool diff = no_create || o.backing_file;
    uint32_t unit = di.cluster_size ? di.cluster_size : 65536;
    uint8_t *buf = aligned_alloc(4096, CONVERT_CHUNK);
    uint8_t *old = diff ? aligned_alloc(4096, CONVERT_CHUNK) : NULL;
    if (diff && !old) {
        free(buf);
        buf = NULL;
    }
    struct img_progress pg;
    img_progress_start(&pg, progress);
    uint64_t off = 0, size = si.virtual_size;
    while (!r && buf && off < size) {
        uint64_t n = size - off < CONVERT_CHUNK ? size - off : CONVERT_CHUNK;
        /* keep chunks cluster-aligned so compressed clusters are whole */
        uint64_t pnum, host;
        int depth;
        int s = img_chain_status(src, off, n, &pnum, &depth, &host);
        if (s < 0) {
            r = s;
            break;
        }
        if (di.cluster_size && pnum < n) {
            uint64_t end = (off + pnum + di.cluster_size - 1) / di.cluster_size * di.cluster_size;
            pnum = (end < off + n ? end : off + n) - off;
            s = BLOCK_STATUS_DATA;   /* a run boundary inside a cluster: copy it */
        }
        if (diff) {
            /* zero runs too: the output may show something else there */
            struct iovec v = { buf, pnum };
            if (s & BLOCK_STATUS_DATA)
                r = block_preadv(src, &v, 1, off);
            else
                memset(buf, 0, pnum);
            if (!r)
                r = copy_diff(dst, buf, old, off, pnum, unit);
            off += pnum;
            img_progress_update(&pg, off, size);
            continue;
        }
        if (!(s & BLOCK_STATUS_DATA) && !prealloc) {
            off += pnum;
            continue;
        }
        struct iovec v = { buf, pnum };
        r = block_preadv(src, &v, 1, off);
        if (!r && !img_is_zero(buf, pnum))
            r = copy_chunk(dst, buf, off, pnum, compress, di.cluster_size);
        else if (!r && prealloc)
            r = block_write_zeroes(dst, off, pnum, false);
        off += pnum;
        img_progress_update(&pg, off, size);
    }
    if (!buf)
        fprintf(stderr, "brume: img convert: out of memory\n");
    if (!r && !unsafe)
        r = block_flush(dst);
    if (r)
        img_error("convert", dst_path, r);
    else
        img_progress_end(&pg);
    free(buf);
    free(old);
    block_close(dst);
    block_close(src);
    return r || !buf ? 1 : 0;
}
