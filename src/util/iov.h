/* Scatter-gather lists (struct iovec): slicing, copying, filling.
 * Shared by the block layer and the virtio devices. Offsets count bytes
 * from the start of the list. */
#ifndef BRUME_UTIL_IOV_H
#define BRUME_UTIL_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Total bytes of the list. */
size_t iov_total(const struct iovec *iov, int cnt);

/* Describes bytes [offset, offset+len) of iov in dst (at most max
 * entries). Returns the entry count, or -1 when the range runs past the
 * list or needs more than max entries. */
int iov_slice(const struct iovec *iov, int cnt, size_t offset, size_t len,
              struct iovec *dst, int max);

/* Copy between the list (from offset) and a flat buffer; return the bytes
 * copied, fewer than len when the list ends first. */
size_t iov_to_buf(const struct iovec *iov, int cnt, size_t offset, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, int cnt, size_t offset, const void *buf, size_t len);

/* Fills len bytes of the list, from offset, with c; returns bytes filled. */
size_t iov_memset(const struct iovec *iov, int cnt, size_t offset, int c, size_t len);

#endif
