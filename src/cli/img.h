/* Shared helpers of the `brume img` verbs (img_*.c). */
#ifndef BRUME_CLI_IMG_H
#define BRUME_CLI_IMG_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"

int img_create_main(int argc, char **argv);
int img_info_main(int argc, char **argv);
int img_check_main(int argc, char **argv);
int img_convert_main(int argc, char **argv);
int img_resize_main(int argc, char **argv);
int img_commit_main(int argc, char **argv);
int img_rebase_main(int argc, char **argv);
int img_map_main(int argc, char **argv);
int img_compare_main(int argc, char **argv);

/* Prints "brume: img <verb>: <what>: <reason>" (reason from err_get()). */
void img_error(const char *verb, const char *what, int err);

/* Parses -o key=value[,key=value] into o (strings point into text, which
 * is modified). Returns 0 or prints an error and returns -1. */
int img_parse_create_opts(char *text, struct block_create_opts *o);

/* Opens path; on failure prints the reason and returns NULL. */
struct block_dev *img_open(const char *verb, const char *path, const char *fmt, bool read_only, bool force_share);

/* Status of [off, off+len) through the whole backing chain of bd: returns
 * BLOCK_STATUS_DATA or BLOCK_STATUS_ZERO; *pnum is the run length; *depth
 * the layer that decides (the chain length when none does). */
int img_chain_status(struct block_dev *bd, uint64_t off, uint64_t len, uint64_t *pnum, int *depth, uint64_t *host);

bool img_is_zero(const void *buf, size_t len);

/* Progress on a terminal: "    (12.50/100%)" rewritten in place. */
struct img_progress { bool on; int last; };
void img_progress_start(struct img_progress *p, bool wanted);
void img_progress_update(struct img_progress *p, uint64_t done, uint64_t total);
void img_progress_end(struct img_progress *p);

/* "1 GiB"-style sizes as qemu-img prints them. */
void img_human_size(uint64_t v, char *out, size_t cap);

#endif
