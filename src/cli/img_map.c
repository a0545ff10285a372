/* brume img map [-f fmt] [-U] [--output=human|json] file
 * Lists the runs of the guest disk: which layer of the chain provides
 * them, whether they read as zeroes, and where the data lies. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli/img.h"

struct run {
    uint64_t start, len, offset;
    int depth, status;
    bool has_offset;
};

static void emit(const struct run *m, bool json, bool *first, const char *path)
{
    if (json) {
        printf("%s{ \"start\": %llu, \"length\": %llu, \"depth\": %d, \"present\": %s, \"zero\": %s, "
               "\"data\": %s", *first ? "[" : ",\n", (unsigned long long)m->start, (unsigned long long)m->len,
               m->depth, (m->status & BLOCK_STATUS_ALLOCATED) ? "true" : "false",
               (m->status & BLOCK_STATUS_ZERO) ? "true" : "false", (m->status & BLOCK_STATUS_DATA) ? "true" : "false");
        if (m->has_offset)
            printf(", \"offset\": %llu", (unsigned long long)m->offset);
        printf("}");
    } else if (m->status & BLOCK_STATUS_DATA) {
        if (*first)
            printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
        if (m->has_offset)
            printf("%#-16llx%#-16llx%#-16llx%s\n", (unsigned long long)m->start, (unsigned long long)m->len,
                   (unsigned long long)m->offset, path);
        else
            printf("%#-16llx%#-16llx%-16s%s\n", (unsigned long long)m->start, (unsigned long long)m->len, "-", path);
    } else {
        return;
    }
    *first = false;
}

int img_map_main(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human";
    bool force = false;
    static const struct option lo[] = { { "output", required_argument, 0, 'O' }, { 0, 0, 0, 0 } };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:U", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': force = true; break;
        case 'O': output = optarg; break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "brume: img map: expecting a file name\n");
        return 1;
    }
    bool json = strcmp(output, "json") == 0;
    const char *path = argv[optind];
    struct block_dev *bd = img_open("map", path, fmt, true, force);
    if (!bd)
        return 1;
    struct block_info info;
    block_get_info(bd, &info);
    struct run cur = { 0 };
    bool have = false, first = true;
    int rc = 0;
    for (uint64_t off = 0; off < info.virtual_size;) {
        uint64_t pnum, host = 0;
        int depth;
        int s = img_chain_status(bd, off, info.virtual_size - off, &pnum, &depth, &host);
        if (s < 0) {
            img_error("map", path, s);
            rc = 1;
            break;
        }
        struct run m = { off, pnum, host, depth, s & (BLOCK_STATUS_DATA | BLOCK_STATUS_ZERO), false };
        /* "present": allocated somewhere in the chain */
        struct block_dev *b = bd;
        int layers = 0;
        for (; b; b = block_backing(b))
            layers++;
        if (depth < layers)
            m.status |= BLOCK_STATUS_ALLOCATED;
        m.has_offset = (s & BLOCK_STATUS_OFFSET) && (s & BLOCK_STATUS_DATA);
        if (have && cur.depth == m.depth && cur.status == m.status && cur.has_offset == m.has_offset &&
            (!m.has_offset || cur.offset + cur.len == m.offset)) {
            cur.len += m.len;
        } else {
            if (have)
                emit(&cur, json, &first, path);
            cur = m;
            have = true;
        }
        off += pnum;
    }
    if (have && !rc)
        emit(&cur, json, &first, path);
    if (json && !rc)
        printf("%s]\n", first ? "[" : "");
    block_close(bd);
    return rc;
}
