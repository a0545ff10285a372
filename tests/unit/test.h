/* A minimal unit-test harness: CHECK records failures without stopping, so
 * one run reports every broken expectation; main returns non-zero if any. */
#ifndef BRUME_TESTS_UNIT_TEST_H
#define BRUME_TESTS_UNIT_TEST_H

#include <inttypes.h>
#include <stdio.h>

static int test_failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            test_failures++;                                                 \
        }                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                       \
    do {                                                                     \
        uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                     \
        if (_a != _b) {                                                      \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = 0x%" PRIx64 ", %s = 0x%" PRIx64 "\n", \
                    __FILE__, __LINE__, #a, _a, #b, _b);                     \
            test_failures++;                                                 \
        }                                                                    \
    } while (0)

#define TEST_MAIN_END() return test_failures ? 1 : 0

#endif
