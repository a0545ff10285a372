/* Parsing of human sizes such as "512M", "2G" or "1048576". */
#ifndef BRUME_UTIL_SIZE_H
#define BRUME_UTIL_SIZE_H

#include <stdint.h>

/* Parses a byte count with an optional binary suffix (K, M, G, T; case
 * insensitive, an optional trailing "iB" or "B" accepted). Returns 0 and
 * stores the value, or -EINVAL on syntax errors and -ERANGE on overflow. */
int size_parse(const char *text, uint64_t *out);

#endif
