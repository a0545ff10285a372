/* brume img create [-f fmt] [-b backing [-F fmt]] [-o opts] [-u] file [size] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/img.h"
#include "util/size.h"

int img_create_main(int argc, char **argv)
{
    struct block_create_opts o = { .format = "raw" };
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:b:F:o:uqh")) != -1) {
        switch (c) {
        case 'f': o.format = optarg; break;
        case 'b': o.backing_file = optarg; break;
        case 'F': o.backing_fmt = optarg; break;
        case 'o':
            if (img_parse_create_opts(optarg, &o))
                return 1;
            break;
        case 'u': break;   /* the backing file is only opened to learn its size */
        case 'q': quiet = true; break;
        default:
            fprintf(stderr, "usage: brume img create [-f fmt] [-b backing [-F fmt]] [-o opts] file [size]\n");
            return c == 'h' ? 0 : 1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "brume: img create: expecting a file name\n");
        return 1;
    }
    const char *path = argv[optind];
    if (optind + 1 < argc) {
        if (size_parse(argv[optind + 1], &o.size)) {
            fprintf(stderr, "brume: img create: bad size '%s'\n", argv[optind + 1]);
            return 1;
        }
    } else if (!o.backing_file && !o.size) {
        fprintf(stderr, "brume: img create: a size is required without a backing file\n");
        return 1;
    }
    if (!o.size && o.backing_file) {
        /* Like qemu-img: the new image takes the backing file's size, and
         * the message names it. */
        struct block_dev *back;
        struct block_open_opts bo = { .format = o.backing_fmt, .read_only = true };
        struct block_info bi;
        if (block_open(o.backing_file, &bo, &back) == 0) {
            if (block_get_info(back, &bi) == 0)
                o.size = bi.virtual_size;
            block_close(back);
        }
    }
    if (!quiet) {
        printf("Formatting '%s', fmt=%s size=%llu", path, o.format, (unsigned long long)o.size);
        if (o.backing_file)
            printf(" backing_file=%s", o.backing_file);
        if (o.backing_fmt)
            printf(" backing_fmt=%s", o.backing_fmt);
        printf("\n");
    }
    int r = block_create(path, &o);
    if (r) {
        img_error("create", path, r);
        return 1;
    }
    return 0;
}
