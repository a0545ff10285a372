/* Malformed kernels by the thousand: random header corruptions and
 * truncations of a valid bzImage and a valid ELF64 must each give either
 * success or a negative errno with a reason, never a crash or an access
 * outside guest memory (run under ASan/UBSan in the sanitizer build).
 * Seeded, so a failure is repeatable. */
#include <errno.h>
#include <string.h>

#include "../test.h"
#include "boot_test.h"
#include "util/log.h"

#define MiB (1ull << 20)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    /* xorshift64*: enough to spread mutations over the headers. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static int outcomes[2];

static void try_image(struct vm *vm, const char *path, const uint8_t *img, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(img, 1, size, f) != size)) {
        perror(path);
        exit(2);
    }
    fclose(f);
    err_clear();
    struct cpu_state st;
    memset(&st, 0, sizeof(st));
    int rc = boot_linux(vm, &st);
    if (rc < 0) {
        CHECK(err_get()[0] != '\0');       /* every failure says why */
        outcomes[0]++;
    } else {
        CHECK_EQ(rc, 0);
        CHECK(st.rip != 0);
        outcomes[1]++;
    }
}

/* Corrupts 1-4 bytes within the first span bytes, or truncates. */
static void mutate_runs(struct vm *vm, const char *path, const uint8_t *orig, size_t size,
                        size_t span, int runs)
{
    uint8_t *img = malloc(size);
    for (int r = 0; r < runs; r++) {
        memcpy(img, orig, size);
        size_t len = size;
        if (rng() % 8 == 0) {
            len = rng() % size;
        } else {
            int flips = 1 + (int)(rng() % 4);
            for (int i = 0; i < flips; i++) {
                size_t at = rng() % span;
                /* Favour boundary values, which find the edge cases. */
                static const uint8_t special[] = { 0x00, 0xFF, 0x7F, 0x80, 0x01 };
                img[at] = rng() % 2 ? special[rng() % sizeof(special)] : (uint8_t)rng();
            }
        }
        try_image(vm, path, img, len);
    }
    free(img);
}

int main(void)
{
    struct vm vm;
    CHECK_EQ(test_vm_init(&vm, 64 * MiB, 2), 0);
    char *path = test_write_file("", 0);
    vm.config.kernel_path = path;
    vm.config.cmdline = "console=ttyS0";

    struct setup_header *h;
    size_t size;
    uint8_t *bz = test_bzimage(8192, &h, &size);
    try_image(&vm, path, bz, size);
    CHECK_EQ(outcomes[1], 1);                 /* the unmutated image boots */
    mutate_runs(&vm, path, bz, size, SETUP_HDR_END + 16, 1500);
    free(bz);

    struct test_elf e;
    test_elf_init(&e, 0x200000, 128, 0x2000);
    mutate_runs(&vm, path, (const uint8_t *)&e, sizeof(e),
                offsetof(struct test_elf, data), 1500);

    printf("mutations: %d rejected with a reason, %d booted\n", outcomes[0], outcomes[1]);
    CHECK(outcomes[0] > 500);                 /* the corruptions did bite */
    test_remove_file(path);
    test_vm_destroy(&vm);
    TEST_MAIN_END();
}
