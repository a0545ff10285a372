/* brume img compare [-f fmt] [-F fmt] [-s] [-p] [-U] file1 file2
 * Exit codes as qemu-img: 0 identical, 1 different, 2 error. Without -s,
 * images of different sizes are equal when the extra part reads as zeroes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/img.h"

#define CMP_CHUNK (1u << 20)

int img_compare_main(int argc, char **argv)
{
    const char *f1 = NULL, *f2 = NULL;
    bool strict = false, force = false, quiet = false, progress = false;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:F:spqU")) != -1) {
        switch (c) {
        case 'f': f1 = optarg; break;
        case 'F': f2 = optarg; break;
        case 's': strict = true; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'U': force = true; break;
        default: return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: brume img compare [-f fmt] [-F fmt] [-s] file1 file2\n");
        return 2;
    }
    struct block_dev *a = img_open("compare", argv[optind], f1, true, force);
    if (!a)
        return 2;
    struct block_dev *b = img_open("compare", argv[optind + 1], f2, true, force);
    if (!b) {
        block_close(a);
        return 2;
    }
    struct block_info ia, ib;
    block_get_info(a, &ia);
    block_get_info(b, &ib);
    int rc = 0;
    if (strict && ia.virtual_size != ib.virtual_size) {
        if (!quiet)
            printf("Strict mode: Image size mismatch!\n");
        rc = 1;
    }
    uint8_t *ba = malloc(CMP_CHUNK), *bb = malloc(CMP_CHUNK);
    uint64_t max = ia.virtual_size > ib.virtual_size ? ia.virtual_size : ib.virtual_size;
    struct img_progress pg;
    img_progress_start(&pg, progress);
    for (uint64_t off = 0; !rc && ba && bb && off < max;) {
        uint64_t n = max - off < CMP_CHUNK ? max - off : CMP_CHUNK;
        uint64_t na = off < ia.virtual_size ? (ia.virtual_size - off < n ? ia.virtual_size - off : n) : 0;
        uint64_t nb = off < ib.virtual_size ? (ib.virtual_size - off < n ? ib.virtual_size - off : n) : 0;
        memset(ba, 0, n);
        memset(bb, 0, n);
        struct iovec va = { ba, na }, vb = { bb, nb };
        int r = na ? block_preadv(a, &va, 1, off) : 0;
        if (!r && nb)
            r = block_preadv(b, &vb, 1, off);
        if (r) {
            img_error("compare", "read", r);
            rc = 2;
            break;
        }
        if (memcmp(ba, bb, n)) {
            uint64_t i = 0;
            while (ba[i] == bb[i])
                i++;
            if (!quiet)
                printf("Content mismatch at offset %llu!\n", (unsigned long long)((off + i) & ~511ull));
            rc = 1;
            break;
        }
        off += n;
        img_progress_update(&pg, off, max);
    }
    if (!ba || !bb) {
        fprintf(stderr, "brume: img compare: out of memory\n");
        rc = 2;
    }
    if (rc == 0) {
        img_progress_end(&pg);
        if (!quiet)
            printf("Images are identical.\n");
    }
    free(ba);
    free(bb);
    block_close(b);
    block_close(a);
    return rc;
}
