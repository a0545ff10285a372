/* AML encodings; see aml.h. Opcodes from the ACPI specification, 20.2. */
#include "boot/aml.h"

#include <errno.h>
#include <string.h>

enum {
    AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE = 0x0A,
    AML_WORD = 0x0B, AML_DWORD = 0x0C, AML_STRING = 0x0D, AML_QWORD = 0x0E,
    AML_SCOPE = 0x10, AML_BUFFER = 0x11, AML_PACKAGE = 0x12, AML_EXT = 0x5B,
    AML_DEVICE = 0x82, AML_ROOT = 0x5C, AML_ONES = 0xFF,
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
    memset(a, 0, sizeof(*a));
    a->buf = buf;
    a->cap = cap;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
    if (a->err)
        return;
    if (n > a->cap - a->len) {
        a->err = -ENOSPC;
        return;
    }
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
    aml_bytes(a, &b, 1);
}

int aml_pkglength(size_t content, uint8_t out[4])
{
    /* The length counts its own bytes. One byte holds 6 bits; longer forms
     * put the low nibble in the lead byte and whole bytes after it. */
    if (content + 1 < 0x40) {
        out[0] = (uint8_t)(content + 1);
        return 1;
    }
    for (int extra = 1; extra <= 3; extra++) {
        size_t total = content + 1 + (size_t)extra;
        if (total < (1ull << (4 + 8 * extra))) {
            out[0] = (uint8_t)((extra << 6) | (total & 0xF));
            for (int i = 0; i < extra; i++)
                out[1 + i] = (uint8_t)(total >> (4 + 8 * i));
            return 1 + extra;
        }
    }
    return 0;
}

/* Starts a block whose PkgLength comes right after the opcode bytes. */
static void block_open(struct aml *a, const uint8_t *op, size_t oplen)
{
    aml_bytes(a, op, oplen);
    if (a->err)
        return;
    if (a->depth >= AML_MAX_DEPTH) {
        a->err = -E2BIG;
        return;
    }
    a->open[a->depth++] = a->len;
}

void aml_close(struct aml *a)
{
    if (a->err)
        return;
    if (a->depth == 0) {
        a->err = -EINVAL;
        return;
    }
    size_t start = a->open[--a->depth];
    size_t content = a->len - start;
    uint8_t pl[4];
    int n = aml_pkglength(content, pl);
    if (n == 0 || (size_t)n > a->cap - a->len) {
        a->err = -ENOSPC;
        return;
    }
    memmove(a->buf + start + n, a->buf + start, content);
    memcpy(a->buf + start, pl, (size_t)n);
    a->len += (size_t)n;
}

void aml_scope_open(struct aml *a, const char path[4])
{
    static const uint8_t op[] = { AML_SCOPE };
    block_open(a, op, sizeof(op));
    aml_byte(a, AML_ROOT);
    aml_bytes(a, path, 4);
}

void aml_device_open(struct aml *a, const char name[4])
{
    static const uint8_t op[] = { AML_EXT, AML_DEVICE };
    block_open(a, op, sizeof(op));
    aml_bytes(a, name, 4);
}

static void aml_int(struct aml *a, uint64_t v)
{
    if (v == 0) {
        aml_byte(a, AML_ZERO);
    } else if (v == 1) {
        aml_byte(a, AML_ONE);
    } else if (v == UINT64_MAX) {
        aml_byte(a, AML_ONES);
    } else {
        int size = v <= 0xFF ? 1 : v <= 0xFFFF ? 2 : v <= 0xFFFFFFFF ? 4 : 8;
        aml_byte(a, size == 1 ? AML_BYTE : size == 2 ? AML_WORD : size == 4 ? AML_DWORD : AML_QWORD);
        for (int i = 0; i < size; i++)
            aml_byte(a, (uint8_t)(v >> (8 * i)));
    }
}

static void aml_name_start(struct aml *a, const char name[4])
{
    aml_byte(a, AML_NAME);
    aml_bytes(a, name, 4);
}

void aml_name_int(struct aml *a, const char name[4], uint64_t value)
{
    aml_name_start(a, name);
    aml_int(a, value);
}

void aml_name_string(struct aml *a, const char name[4], const char *s)
{
    aml_name_start(a, name);
    aml_byte(a, AML_STRING);
    aml_bytes(a, s, strlen(s) + 1);
}

void aml_name_buffer(struct aml *a, const char name[4], const uint8_t *data, size_t n)
{
    static const uint8_t op[] = { AML_BUFFER };
    aml_name_start(a, name);
    block_open(a, op, sizeof(op));
    aml_int(a, n);
    aml_bytes(a, data, n);
    aml_close(a);
}

void aml_name_package(struct aml *a, const char name[4], const uint64_t *values, int count)
{
    static const uint8_t op[] = { AML_PACKAGE };
    aml_name_start(a, name);
    block_open(a, op, sizeof(op));
    aml_byte(a, (uint8_t)count);
    for (int i = 0; i < count; i++)
        aml_int(a, values[i]);
    aml_close(a);
}
