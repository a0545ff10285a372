/* brume img: create, inspect, check and convert disk images, with verbs and
 * options modeled on qemu-img. Each verb lives in its own img_<verb>.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/img.h"
#include "util/log.h"
#include "util/size.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} verbs[] = {
    { "create", img_create_main, "create [-f fmt] [-b backing [-F fmt]] [-o opts] [-u] file [size]" },
    { "info", img_info_main, "info [-f fmt] [-U] [--backing-chain] [--output=human|json] file" },
    { "check", img_check_main, "check [-f fmt] [-r leaks|all] [-U] [--output=human|json] file" },
    { "convert", img_convert_main,
      "convert [-f fmt] [-O fmt] [-c] [-p] [-n] [-B backing [-F fmt]] [-t unsafe] [-o opts] [-U] src dst" },
    { "resize", img_resize_main, "resize [-f fmt] file [+|-]size" },
    { "commit", img_commit_main, "commit [-f fmt] [-p] [-d] file" },
    { "rebase", img_rebase_main, "rebase [-f fmt] [-u] [-p] -b backing [-F fmt] file" },
    { "map", img_map_main, "map [-f fmt] [-U] [--output=human|json] file" },
    { "compare", img_compare_main, "compare [-f fmt] [-F fmt] [-s] [-p] [-U] file1 file2" },
};

static void usage(FILE *out)
{
    fputs("usage: brume img <verb> [options]\n\nverbs:\n", out);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(out, "  %s\n", verbs[i].help);
    fputs("\nformats: raw, qcow2 (read/write); vmdk, vdi (read: convert them to import)\n"
          "create options (-o): cluster_size, preallocation=off|metadata|falloc|full,\n"
          "  compression_type=zlib|zstd, compat=0.10|1.1, refcount_bits, backing_file, backing_fmt\n", out);
}

int cli_img_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "brume: img: unknown verb '%s' (try brume img --help)\n", argv[1]);
    return 1;
}

void img_error(const char *verb, const char *what, int err)
{
    const char *why = err_get();
    if (why[0])
        fprintf(stderr, "brume: img %s: %s\n", verb, why);
    else
        fprintf(stderr, "brume: img %s: %s: %s\n", verb, what, strerror(-err));
}

int img_parse_create_opts(char *text, struct block_create_opts *o)
{
    for (char *save = NULL, *kv = strtok_r(text, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *val = strchr(kv, '=');
        if (!val) {
            fprintf(stderr, "brume: img: option '%s' needs a value (key=value)\n", kv);
            return -1;
        }
        *val++ = 0;
        uint64_t n;
        if (!strcmp(kv, "cluster_size")) {
            if (size_parse(val, &n) || n > (2u << 20)) {
                fprintf(stderr, "brume: img: bad cluster_size '%s'\n", val);
                return -1;
            }
            o->cluster_size = (uint32_t)n;
        } else if (!strcmp(kv, "preallocation")) {
            o->preallocation = val;
        } else if (!strcmp(kv, "compression_type")) {
            o->compression = val;
        } else if (!strcmp(kv, "backing_file")) {
            o->backing_file = val;
        } else if (!strcmp(kv, "backing_fmt")) {
            o->backing_fmt = val;
        } else if (!strcmp(kv, "size")) {
            if (size_parse(val, &o->size)) {
                fprintf(stderr, "brume: img: bad size '%s'\n", val);
                return -1;
            }
        } else if (!strcmp(kv, "compat")) {
            if (!strcmp(val, "0.10") || !strcmp(val, "v2"))
                o->version = 2;
            else if (!strcmp(val, "1.1") || !strcmp(val, "v3"))
                o->version = 3;
            else {
                fprintf(stderr, "brume: img: compat must be 0.10 or 1.1\n");
                return -1;
            }
        } else if (!strcmp(kv, "refcount_bits")) {
            o->refcount_bits = atoi(val);
        } else if (!strcmp(kv, "lazy_refcounts") || !strcmp(kv, "extended_l2")) {
            if (strcmp(val, "off") && strcmp(val, "false")) {
                fprintf(stderr, "brume: img: %s is not supported\n", kv);
                return -1;
            }
        } else {
            fprintf(stderr, "brume: img: unknown option '%s'\n", kv);
            return -1;
        }
    }
    return 0;
}

struct block_dev *img_open(const char *verb, const char *path, const char *fmt, bool read_only, bool force_share)
{
    struct block_open_opts o = { .format = fmt, .read_only = read_only, .no_lock = force_share };
    struct block_dev *bd;
    int r = block_open(path, &o, &bd);
    if (r) {
        img_error(verb, path, r);
        return NULL;
    }
    return bd;
}

int img_chain_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum, int *depth, uint64_t *host)
{
    int d = 0;
    for (struct block_dev *b = bd; b; b = block_backing(b), d++) {
        struct block_info info;
        block_get_info(b, &info);
        if (off >= info.virtual_size) {   /* past a shorter backing file: zeroes */
            *pnum = len;
            *depth = d;
            return BLOCK_STATUS_ZERO;
        }
        uint64_t l = info.virtual_size - off < len ? info.virtual_size - off : len;
        uint64_t n;
        int s = block_status(b, off, l, &n, host);
        if (s < 0)
            return s;
        if (s & BLOCK_STATUS_ALLOCATED) {
            *pnum = n;
            *depth = d;
            return s;
        }
        len = n;   /* unallocated here: the next layer decides for at most this much */
    }
    *pnum = len;
    *depth = d;
    return BLOCK_STATUS_ZERO;
}

bool img_is_zero(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        if (v)
            return false;
    }
    for (; i < len; i++)
        if (p[i])
            return false;
    return true;
}

void img_progress_start(struct img_progress *p, bool wanted)
{
    p->on = wanted && isatty(STDOUT_FILENO);
    p->last = -1;
    if (p->on)
        img_progress_update(p, 0, 1);
}

void img_progress_update(struct img_progress *p, uint64_t done, uint64_t total)
{
    if (!p->on || !total)
        return;
    int pct = (int)(done * 10000 / total);
    if (pct == p->last)
        return;
    p->last = pct;
    printf("\r    (%d.%02d/100%%)", pct / 100, pct % 100);
    fflush(stdout);
}

void img_progress_end(struct img_progress *p)
{
    if (p->on) {
        printf("\r    (100.00/100%%)\n");
        fflush(stdout);
    }
}

void img_human_size(uint64_t v, char *out, size_t cap)
{
    static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int u = 0;
    double d = (double)v;
    while (d >= 1024 && u < 6) {
        d /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%llu B", (unsigned long long)v);
    else
        snprintf(out, cap, "%.3g %s", d, units[u]);
}
