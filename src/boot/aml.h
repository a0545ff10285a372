/* A tiny AML (ACPI Machine Language) emitter for the DSDT.
 *
 * brume's DSDT holds only data objects (Name, Package, Buffer) inside
 * Scope and Device blocks, so this emits exactly those encodings (ACPI 6.x,
 * section 20 "ACPI Machine Language Specification"). Blocks that carry a
 * PkgLength are opened and closed; the length is filled in on close, in
 * the shortest encoding. Errors (overflow, unbalanced blocks) stick in
 * a->err and are reported once by the caller. */
#ifndef BRUME_BOOT_AML_H
#define BRUME_BOOT_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

struct aml {
    uint8_t *buf;
    size_t len, cap;
    size_t open[AML_MAX_DEPTH];  /* where each open block's content starts */
    int depth;
    int err;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* Scope(\NAME) { ... } — path is a 4-character root-level name such as "_SB_". */
void aml_scope_open(struct aml *a, const char path[4]);
/* Device(NAME) { ... } */
void aml_device_open(struct aml *a, const char name[4]);
void aml_close(struct aml *a);
/* Name(NAME, value) for an integer, a string and a buffer. */
void aml_name_int(struct aml *a, const char name[4], uint64_t value);
void aml_name_string(struct aml *a, const char name[4], const char *s);
void aml_name_buffer(struct aml *a, const char name[4], const uint8_t *data, size_t n);
/* Name(NAME, Package() { values... }) with integer elements. */
void aml_name_package(struct aml *a, const char name[4], const uint64_t *values, int count);

/* Encodes a PkgLength for `content` bytes of content; returns its size
 * (1..4) or 0 if too large. Exposed for tests. */
int aml_pkglength(size_t content, uint8_t out[4]);

#endif
