/* brume img check [-f fmt] [-r leaks|all] [-U] [--output=human|json] file
 * Exit codes as qemu-img: 0 clean, 1 check not completed, 2 corruptions,
 * 3 leaks only, 63 format without checks. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli/img.h"

static void report(const char *path, const char *fmt, const struct block_check *r, bool json, bool quiet)
{
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "image-end-offset", json_object_new_int64((int64_t)r->image_end_offset));
        json_object_object_add(o, "total-clusters", json_object_new_int64((int64_t)r->total_clusters));
        json_object_object_add(o, "check-errors", json_object_new_int64((int64_t)r->check_errors));
        if (r->leaks)
            json_object_object_add(o, "leaks", json_object_new_int64((int64_t)r->leaks));
        if (r->corruptions)
            json_object_object_add(o, "corruptions", json_object_new_int64((int64_t)r->corruptions));
        if (r->leaks_fixed)
            json_object_object_add(o, "leaks-fixed", json_object_new_int64((int64_t)r->leaks_fixed));
        if (r->corruptions_fixed)
            json_object_object_add(o, "corruptions-fixed", json_object_new_int64((int64_t)r->corruptions_fixed));
        json_object_object_add(o, "filename", json_object_new_string(path));
        json_object_object_add(o, "format", json_object_new_string(fmt));
        json_object_object_add(o, "allocated-clusters", json_object_new_int64((int64_t)r->allocated_clusters));
        json_object_object_add(o, "fragmented-clusters", json_object_new_int64((int64_t)r->fragmented_clusters));
        json_object_object_add(o, "compressed-clusters", json_object_new_int64((int64_t)r->compressed_clusters));
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        json_object_put(o);
        return;
    }
    if (quiet)
        return;
    if (!r->corruptions && !r->leaks && !r->check_errors)
        printf("No errors were found on the image.\n");
    if (r->corruptions)
        printf("\n%llu errors were found on the image.\n"
               "Data may be corrupted, or further writes to the image may corrupt it.\n",
               (unsigned long long)r->corruptions);
    if (r->leaks)
        printf("\n%llu leaked clusters were found on the image.\n"
               "This means waste of disk space, but no harm to data.\n", (unsigned long long)r->leaks);
    if (r->check_errors)
        printf("\n%llu internal errors have occurred during the check.\n", (unsigned long long)r->check_errors);
    if (r->total_clusters)
        printf("%llu/%llu = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% compressed clusters\n",
               (unsigned long long)r->allocated_clusters, (unsigned long long)r->total_clusters,
               100.0 * (double)r->allocated_clusters / (double)r->total_clusters,
               r->allocated_clusters ? 100.0 * (double)r->fragmented_clusters / (double)r->allocated_clusters : 0.0,
               r->allocated_clusters ? 100.0 * (double)r->compressed_clusters / (double)r->allocated_clusters : 0.0);
    printf("Image end offset: %llu\n", (unsigned long long)r->image_end_offset);
}

int img_check_main(int argc, char **argv)
{
    const char *fmt = NULL, *output = "human";
    bool force = false, quiet = false;
    int repair = 0;
    static const struct option lo[] = {
        { "output", required_argument, 0, 'O' }, { "repair", required_argument, 0, 'r' },
        { "force-share", no_argument, 0, 'U' }, { 0, 0, 0, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:r:Uq", lo, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': force = true; break;
        case 'q': quiet = true; break;
        case 'O': output = optarg; break;
        case 'r':
            if (!strcmp(optarg, "leaks"))
                repair = BLOCK_CHECK_REPAIR_LEAKS;
            else if (!strcmp(optarg, "all"))
                repair = BLOCK_CHECK_REPAIR_ALL;
            else {
                fprintf(stderr, "brume: img check: -r must be leaks or all\n");
                return 1;
            }
            break;
        default: return 1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "brume: img check: expecting a file name\n");
        return 1;
    }
    bool json = strcmp(output, "json") == 0;
    const char *path = argv[optind];
    struct block_dev *bd = img_open("check", path, fmt, !repair, force && !repair);
    if (!bd)
        return 1;
    struct block_info info;
    block_get_info(bd, &info);
    struct block_check res;
    int r = block_check(bd, &res, repair);
    if (r) {
        block_close(bd);
        if (r == -ENOTSUP) {
            fprintf(stderr, "brume: img check: %s: this image format (%s) does not support checks\n", path,
                    info.format);
            return 63;
        }
        img_error("check", path, r);
        return 1;
    }
    if (repair && (res.leaks_fixed || res.corruptions_fixed)) {
        if (!quiet && !json)
            printf("The following inconsistencies were found and repaired:\n\n    %llu leaked clusters\n"
                   "    %llu corruptions\n\nDouble checking the fixed image now...\n",
                   (unsigned long long)res.leaks_fixed, (unsigned long long)res.corruptions_fixed);
        struct block_check again;
        block_flush(bd);
        if (block_check(bd, &again, 0) == 0) {
            again.leaks_fixed = res.leaks_fixed;
            again.corruptions_fixed = res.corruptions_fixed;
            res = again;
        }
    }
    report(path, info.format, &res, json, quiet);
    block_close(bd);
    if (res.check_errors)
        return 1;
    if (res.corruptions)
        return 2;
    if (res.leaks)
        return 3;
    return 0;
}
