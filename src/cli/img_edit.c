/* Verbs that change an existing image: resize, commit, rebase. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/img.h"
#include "util/size.h"

#define EDIT_CHUNK (1u << 20)

/* brume img resize [-f fmt] [--shrink] file [+|-]size */
int img_resize_main(int argc, char **argv)
{
    const char *fmt = NULL;
    static const struct option lo[] = { { "shrink", no_argument, 0, 'S' }, { 0, 0, 0, 0 } };
    int c;
    optind = 1;
    /* "-1G" looks like an option: stop at the first non-option */
    while ((c = getopt_long(argc, argv, "+f:q", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': case 'S': break;
        default: return 1;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: brume img resize [-f fmt] file [+|-]size\n");
        return 1;
    }
    const char *path = argv[optind], *arg = argv[optind + 1];
    int sign = arg[0] == '+' ? 1 : arg[0] == '-' ? -1 : 0;
    uint64_t v;
    if (size_parse(arg + (sign != 0), &v)) {
        fprintf(stderr, "brume: img resize: bad size '%s'\n", arg);
        return 1;
    }
    struct block_dev *bd = img_open("resize", path, fmt, false, false);
    if (!bd)
        return 1;
    struct block_info i;
    block_get_info(bd, &i);
    uint64_t ns = sign > 0 ? i.virtual_size + v : sign < 0 ? (v > i.virtual_size ? 0 : i.virtual_size - v) : v;
    int r = block_truncate(bd, ns);
    block_close(bd);
    if (r) {
        img_error("resize", path, r);
        return 1;
    }
    printf("Image resized.\n");
    return 0;
}

/* Makes every cluster of path unallocated (its backing file shows through
 * again), as qemu-img commit does after committing. The image is opened
 * without its backing file so that discard leaves entries unallocated
 * rather than zero. */
static int empty_image(const char *path, const char *fmt)
{
    struct block_open_opts o = { .format = fmt, .no_backing = true };
    struct block_dev *bd;
    int r = block_open(path, &o, &bd);
    if (r)
        return r;
    struct block_info i;
    block_get_info(bd, &i);
    r = block_discard(bd, 0, i.virtual_size);
    if (!r)
        r = block_flush(bd);
    block_close(bd);
    return r;
}

/* brume img commit [-f fmt] [-p] [-d] file: writes what file holds into its
 * backing file, then empties file (every cluster unallocated, so it reads
 * through to the backing file again) unless -d is given, as qemu-img does. */
int img_commit_main(int argc, char **argv)
{
    const char *fmt = NULL;
    bool progress = false, keep = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:pdqt:")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'p': progress = true; break;
        case 'd': keep = true; break;
        case 'q': case 't': break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "brume: img commit: expecting a file name\n");
        return 1;
    }
    const char *path = argv[optind];
    struct block_open_opts o = { .format = fmt, .backing_writable = true };
    struct block_dev *top;
    int r = block_open(path, &o, &top);
    if (r) {
        img_error("commit", path, r);
        return 1;
    }
    struct block_dev *base = block_backing(top);
    if (!base) {
        fprintf(stderr, "brume: img commit: %s has no backing file\n", path);
        block_close(top);
        return 1;
    }
    struct block_info ti, bi;
    block_get_info(top, &ti);
    block_get_info(base, &bi);
    if (bi.virtual_size < ti.virtual_size)
        r = block_truncate(base, ti.virtual_size);
    uint8_t *buf = malloc(EDIT_CHUNK);
    struct img_progress pg;
    img_progress_start(&pg, progress);
    for (uint64_t off = 0; !r && buf && off < ti.virtual_size;) {
        uint64_t n = ti.virtual_size - off < EDIT_CHUNK ? ti.virtual_size - off : EDIT_CHUNK, pnum, host;
        int s = block_status(top, off, n, &pnum, &host);
        if (s < 0) {
            r = s;
            break;
        }
        if (s & BLOCK_STATUS_ALLOCATED) {
            if (s & BLOCK_STATUS_ZERO) {
                r = block_write_zeroes(base, off, pnum, false);
            } else {
                struct iovec v = { buf, pnum };
                r = block_preadv(top, &v, 1, off);
                if (!r)
                    r = block_pwritev(base, &v, 1, off);
            }
        }
        off += pnum;
        img_progress_update(&pg, off, ti.virtual_size);
    }
    if (!r)
        r = block_flush(base);
    free(buf);
    block_close(top);
    if (!r && !keep)
        r = empty_image(path, fmt);   /* the base is flushed: the top's content is safe there */
    if (r) {
        img_error("commit", path, r);
        return 1;
    }
    img_progress_end(&pg);
    printf("Image committed.\n");
    return 0;
}

static char *relative_to(const char *image, const char *name)
{
    const char *slash = strrchr(image, '/');
    if (name[0] == '/' || !slash)
        return strdup(name);
    size_t dl = (size_t)(slash - image) + 1;
    char *p = malloc(dl + strlen(name) + 1);
    if (p) {
        memcpy(p, image, dl);
        strcpy(p + dl, name);
    }
    return p;
}

/* brume img rebase [-f fmt] [-u] [-p] -b backing [-F fmt] file: makes file
 * read the same over a new backing file (-b "" for none), copying into it
 * what differs (unless -u, which only rewrites the reference). */
int img_rebase_main(int argc, char **argv)
{
    const char *fmt = NULL, *nb = NULL, *nbf = NULL;
    bool unsafe = false, progress = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:b:F:upqt:T:")) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'b': nb = optarg; break;
        case 'F': nbf = optarg; break;
        case 'u': unsafe = true; break;
        case 'p': progress = true; break;
        case 'q': case 't': case 'T': break;
        default: return 1;
        }
    }
    if (optind >= argc || !nb) {
        fprintf(stderr, "usage: brume img rebase [-f fmt] [-u] -b backing [-F fmt] file\n");
        return 1;
    }
    const char *path = argv[optind];
    struct block_open_opts o = { .format = fmt };
    struct block_dev *bd = NULL, *newb = NULL;
    int r = 0;
    if (unsafe) {
        /* the old backing file may be gone: open without following it */
        o.no_backing = true;
        r = block_open(path, &o, &bd);
        if (r) {
            img_error("rebase", path, r);
            return 1;
        }
    } else {
        r = block_open(path, &o, &bd);
        if (r) {
            img_error("rebase", path, r);
            return 1;
        }
        if (nb[0]) {
            char *np = relative_to(path, nb);
            struct block_open_opts no = { .format = nbf, .read_only = true };
            r = np ? block_open(np, &no, &newb) : -12;
            free(np);
            if (r) {
                img_error("rebase", nb, r);
                block_close(bd);
                return 1;
            }
        }
        struct block_info i;
        block_get_info(bd, &i);
        struct block_info ni = { 0 };
        if (newb)
            block_get_info(newb, &ni);
        uint8_t *a = malloc(EDIT_CHUNK), *b = malloc(EDIT_CHUNK);
        struct img_progress pg;
        img_progress_start(&pg, progress);
        for (uint64_t off = 0; !r && a && b && off < i.virtual_size;) {
            uint64_t n = i.virtual_size - off < EDIT_CHUNK ? i.virtual_size - off : EDIT_CHUNK, pnum, host;
            int s = block_status(bd, off, n, &pnum, &host);
            if (s < 0) {
                r = s;
                break;
            }
            if (!(s & BLOCK_STATUS_ALLOCATED)) {
                struct iovec va = { a, pnum };
                r = block_preadv(bd, &va, 1, off);   /* the old chain's content */
                memset(b, 0, pnum);
                uint64_t have = off < ni.virtual_size ? (ni.virtual_size - off < pnum ? ni.virtual_size - off : pnum) : 0;
                struct iovec vb = { b, have };
                if (!r && have)
                    r = block_preadv(newb, &vb, 1, off);
                if (!r && memcmp(a, b, pnum))
                    r = block_pwritev(bd, &va, 1, off);
            }
            off += pnum;
            img_progress_update(&pg, off, i.virtual_size);
        }
        if (!a || !b)
            r = -12;
        free(a);
        free(b);
        if (!r)
            img_progress_end(&pg);
    }
    if (!r)
    {
        struct block_info ni = { 0 };
        if (newb)
            block_get_info(newb, &ni);
        const char *f = nbf ? nbf : newb ? ni.format : NULL;
        r = block_set_backing(bd, nb[0] ? nb : NULL, nb[0] ? f : NULL);
    }
    if (!r)
        r = block_flush(bd);
    if (newb)
        block_close(newb);
    block_close(bd);
    if (r) {
        img_error("rebase", path, r);
        return 1;
    }
    return 0;
}
