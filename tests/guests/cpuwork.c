/* The cpuloop workload (see cpuwork.h). Its mix is meant to look like
 * kernel and libc code rather than a single tight loop: loads and stores,
 * data-dependent branches, calls, shifts, multiplies and a divide. */
#include "cpuwork.h"

#define WORDS 256

static uint32_t words[WORDS];
static uint8_t sieve[4096];

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Shell sort: data-dependent branches and strided memory access. */
static void shell_sort(uint32_t *a, unsigned n)
{
    static const unsigned gaps[] = { 57, 23, 10, 4, 1 };
    for (unsigned g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        unsigned gap = gaps[g];
        for (unsigned i = gap; i < n; i++) {
            uint32_t v = a[i];
            unsigned j = i;
            while (j >= gap && a[j - gap] > v) {
                a[j] = a[j - gap];
                j -= gap;
            }
            a[j] = v;
        }
    }
}

/* FNV-1a over bytes: byte loads, xor, multiply. */
static uint64_t fnv1a(const void *p, unsigned n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Counts primes below sizeof sieve: byte stores in strided loops. */
static unsigned count_primes(void)
{
    unsigned n = sizeof sieve, count = 0;
    for (unsigned i = 0; i < n; i++)
        sieve[i] = 1;
    for (unsigned i = 2; i * i < n; i++)
        if (sieve[i])
            for (unsigned j = i * i; j < n; j += i)
                sieve[j] = 0;
    for (unsigned i = 2; i < n; i++)
        count += sieve[i];
    return count;
}

uint64_t cpuwork_run(uint64_t iters)
{
    uint64_t seed = 88172645463325252ull, sum = 0;
    for (uint64_t it = 0; it < iters; it++) {
        for (unsigned i = 0; i < WORDS; i++)
            words[i] = (uint32_t)xorshift(&seed);
        shell_sort(words, WORDS);
        sum = sum * 31 + fnv1a(words, sizeof words);
        sum += count_primes();
        /* a divide whose divisor is never zero */
        sum ^= (sum >> 17) / ((seed & 0xffff) | 1);
    }
    return sum;
}
