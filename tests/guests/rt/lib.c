/* The few libc pieces a freestanding guest needs, the command line and a
 * CRC-32 to check the initrd with. */
#include "rt.h"

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

uint32_t rt_crc32(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= *b++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

struct boot_params *rt_boot_params;

const char *rt_cmdline(void)
{
    if (!rt_boot_params || !rt_boot_params->hdr.cmd_line_ptr)
        return "";
    return (const char *)(uintptr_t)rt_boot_params->hdr.cmd_line_ptr;
}

bool rt_cmdline_u64(const char *key, uint64_t *value)
{
    const char *s = rt_cmdline();
    size_t klen = strlen(key);
    while (*s) {
        while (*s == ' ')
            s++;
        if (memcmp(s, key, klen) == 0 && s[klen] == '=') {
            const char *v = s + klen + 1;
            unsigned base = 10;
            if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
                base = 16;
                v += 2;
            }
            uint64_t r = 0;
            int digits = 0;
            for (;; v++, digits++) {
                unsigned d;
                if (*v >= '0' && *v <= '9')
                    d = (unsigned)(*v - '0');
                else if (base == 16 && *v >= 'a' && *v <= 'f')
                    d = (unsigned)(*v - 'a' + 10);
                else if (base == 16 && *v >= 'A' && *v <= 'F')
                    d = (unsigned)(*v - 'A' + 10);
                else
                    break;
                r = r * base + d;
            }
            if (digits == 0 || (*v && *v != ' '))
                return false;
            *value = r;
            return true;
        }
        while (*s && *s != ' ')
            s++;
    }
    return false;
}
