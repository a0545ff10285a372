/* brume img convert [-f fmt] [-O fmt] [-c] [-p] [-o opts] [-U] src dst
 * Copies the guest-visible content of src (through its backing chain) into
 * a new image; runs that read as zeroes are skipped so the output stays
 * sparse; -c stores qcow2 clusters compressed. The output is flushed
 * before exit unless -t unsafe (qemu-img's default) is given. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int img_convert_main(int argc, char **argv)
{
    const char *fmt = NULL;
    struct block_create_opts o = { .format = "raw" };
    bool compress = false, progress = false, force = false, unsafe = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:O:co:pUqWt:T:")) != -1) {
        switch (c) {
        case 't': unsafe = strcmp(optarg, "unsafe") == 0; break;
        case 'T': break;
        case 'f': fmt = optarg; break;
        case 'O': o.format = optarg; break;
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
        fprintf(stderr, "usage: brume img convert [-f fmt] [-O fmt] [-c] [-p] [-o opts] src dst\n");
        return 1;
    }
    if (compress && strcmp(o.format, "qcow2")) {
        fprintf(stderr, "brume: img convert: -c needs -O qcow2\n");
        return 1;
    }
    if (o.backing_file) {
        fprintf(stderr, "brume: img convert: output backing files are not supported (use rebase after)\n");
        return 1;
    }
    const char *src_path = argv[optind], *dst_path = argv[optind + 1];
    struct block_dev *src = img_open("convert", src_path, fmt, true, force);
    if (!src)
        return 1;
    struct block_info si;
    block_get_info(src, &si);
    o.size = (si.virtual_size + 511) & ~511ull;
    int r = block_create(dst_path, &o);
    if (r) {
        img_error("convert", dst_path, r);
        block_close(src);
        return 1;
    }
    struct block_dev *dst = img_open("convert", dst_path, o.format, false, false);
    if (!dst) {
        block_close(src);
        return 1;
    }
    struct block_info di;
    block_get_info(dst, &di);
    bool prealloc = o.preallocation && strcmp(o.preallocation, "off");
    uint8_t *buf = aligned_alloc(4096, CONVERT_CHUNK);
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
    block_close(dst);
    block_close(src);
    return r || !buf ? 1 : 0;
}
