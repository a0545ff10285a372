/* brume img info [-f fmt] [-U] [--backing-chain] [--output=human|json] file */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli/img.h"

static json_object *info_json(const char *path, const struct block_info *i)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "virtual-size", json_object_new_int64((int64_t)i->virtual_size));
    json_object_object_add(o, "filename", json_object_new_string(path));
    if (i->cluster_size)
        json_object_object_add(o, "cluster-size", json_object_new_int64(i->cluster_size));
    json_object_object_add(o, "format", json_object_new_string(i->format));
    json_object_object_add(o, "actual-size", json_object_new_int64((int64_t)i->actual_size));
    if (i->backing_file[0]) {
        json_object_object_add(o, "backing-filename", json_object_new_string(i->backing_file));
        if (i->backing_format[0])
            json_object_object_add(o, "backing-filename-format", json_object_new_string(i->backing_format));
    }
    json_object_object_add(o, "dirty-flag", json_object_new_boolean(0));
    return o;
}

static void info_human(const char *path, const struct block_info *i)
{
    char vs[32], ds[32];
    img_human_size(i->virtual_size, vs, sizeof(vs));
    img_human_size(i->actual_size, ds, sizeof(ds));
    printf("image: %s\nfile format: %s\nvirtual size: %s (%llu bytes)\ndisk size: %s\n", path, i->format, vs,
           (unsigned long long)i->virtual_size, ds);
    if (i->cluster_size)
        printf("cluster_size: %u\n", i->cluster_size);
    if (i->backing_file[0])
        printf("backing file: %s\n", i->backing_file);
    if (i->backing_format[0])
        printf("backing file format: %s\n", i->backing_format);
}

int img_info_main(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human";
    bool force = false, chain = false;
    static const struct option lo[] = {
        { "output", required_argument, 0, 'O' }, { "backing-chain", no_argument, 0, 'B' },
        { "force-share", no_argument, 0, 'U' }, { 0, 0, 0, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:U", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': force = true; break;
        case 'O': output = optarg; break;
        case 'B': chain = true; break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "brume: img info: expecting a file name\n");
        return 1;
    }
    bool json = strcmp(output, "json") == 0;
    if (!json && strcmp(output, "human")) {
        fprintf(stderr, "brume: img info: --output must be human or json\n");
        return 1;
    }
    const char *path = argv[optind];
    struct block_dev *bd = img_open("info", path, fmt, true, force);
    if (!bd)
        return 1;
    json_object *arr = json && chain ? json_object_new_array() : NULL;
    int n = 0;
    for (struct block_dev *b = bd; b; b = chain ? block_backing(b) : NULL, n++) {
        struct block_info i;
        block_get_info(b, &i);
        const char *name = path;
        if (n > 0) {
            /* the name each layer was opened by, as its child wrote it */
            static char nm[4096];
            struct block_dev *p = bd;
            for (int k = 1; k < n; k++)
                p = block_backing(p);
            struct block_info pi;
            block_get_info(p, &pi);
            snprintf(nm, sizeof(nm), "%s", pi.backing_file);
            name = nm;
        }
        if (json) {
            json_object *o = info_json(name, &i);
            if (arr)
                json_object_array_add(arr, o);
            else {
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
                json_object_put(o);
            }
        } else {
            if (n)
                printf("\n");
            info_human(name, &i);
        }
        if (i.probed_raw && n == 0 && !fmt)
            fprintf(stderr, "brume: warning: %s: image format was not specified and probed as raw; "
                            "writes to block 0 are restricted in QEMU, pass format=raw\n", path);
    }
    if (arr) {
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        json_object_put(arr);
    }
    block_close(bd);
    return 0;
}
