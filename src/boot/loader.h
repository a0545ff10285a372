/* Kernel image loaders, internal to src/boot.
 *
 * Each loader looks at the image and returns -ENOEXEC when the image is not
 * its format, so that boot_linux() can try the next one (a list, not an
 * if-chain). Any other negative errno is a real error in an image of the
 * loader's format, with the reason in err_get(). */
#ifndef BRUME_BOOT_LOADER_H
#define BRUME_BOOT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/bootparam.h"

struct guest_memory;

/* What a loader leaves behind. */
struct boot_kernel {
    const char *format;         /* "bzImage", "ELF64" */
    uint64_t entry;             /* 64-bit entry point (physical) */
    uint64_t start, end;        /* guest range the kernel owns, incl. its
                                   decompression room (init_size) */
    bool has_setup_header;      /* bzImage: hdr is the image's header */
    struct setup_header hdr;    /* copied into boot_params */
    size_t hdr_len;             /* bytes of hdr taken from the image */
};

/* The guest range a kernel may occupy: above the boot structures and
 * below the end of low RAM. */
struct boot_window {
    uint64_t low;               /* first usable address */
    uint64_t high;              /* one past the last usable address */
};

typedef int (*boot_loader_fn)(struct guest_memory *mem, const char *path,
                              const uint8_t *image, size_t size,
                              const struct boot_window *win,
                              struct boot_kernel *out);

int bzimage_load(struct guest_memory *mem, const char *path, const uint8_t *image,
                 size_t size, const struct boot_window *win, struct boot_kernel *out);
int elf_load(struct guest_memory *mem, const char *path, const uint8_t *image,
             size_t size, const struct boot_window *win, struct boot_kernel *out);

#endif
