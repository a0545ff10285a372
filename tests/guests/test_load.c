/* The ELF64 loader on the real test guests, without any engine: boot each
 * guest image in a VM that has only memory and check that every PT_LOAD
 * segment landed at its physical address (file bytes, then zeroes), that
 * the entry state points at the ELF entry with RSI = boot_params, and that
 * boot_params carries the command line and the e820 map. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test.h"
#include "boot/boot.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/memory.h"
#include "vm/vm.h"

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    uint8_t *buf = malloc(*size);
    if (buf && fread(buf, 1, *size, f) != *size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static void check_guest(const char *path)
{
    size_t size;
    uint8_t *img = slurp(path, &size);
    CHECK(img != NULL);
    if (!img)
        return;
    struct vm vm;
    memset(&vm, 0, sizeof(vm));
    vm.config.kernel_path = path;
    vm.config.cmdline = "console=ttyS0 expect_mem=134217728";
    vm.config.ncpus = vm.ncpus = 2;
    CHECK_EQ(guest_memory_init(&vm.mem, 128ull << 20), 0);
    struct cpu_state st;
    memset(&st, 0, sizeof(st));
    int rc = boot_linux(&vm, &st);
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", path, err_get());
    CHECK_EQ(rc, 0);

    Elf64_Ehdr eh;
    memcpy(&eh, img, sizeof(eh));
    CHECK_EQ(st.rip, eh.e_entry);
    CHECK_EQ(st.regs[GPR_RSI], BOOT_PARAMS_ADDR);
    CHECK_EQ(st.msr.efer & EFER_LMA, EFER_LMA);
    CHECK_EQ(eh.e_entry, 0x200000);        /* _start leads .text */
    int loads = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, img + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD)
            continue;
        loads++;
        CHECK(ph.p_paddr >= 0x200000);
        const uint8_t *m = gpa_to_hva(&vm.mem, ph.p_paddr, ph.p_memsz);
        CHECK(m != NULL);
        if (!m)
            continue;
        CHECK(memcmp(m, img + ph.p_offset, ph.p_filesz) == 0);
        size_t nonzero = 0;
        for (uint64_t j = ph.p_filesz; j < ph.p_memsz; j++)
            nonzero += m[j] != 0;
        CHECK_EQ(nonzero, 0);
    }
    CHECK(loads >= 1);
    const struct boot_params *bp = gpa_to_hva(&vm.mem, BOOT_PARAMS_ADDR, sizeof(*bp));
    CHECK(strcmp(gpa_to_hva(&vm.mem, bp->hdr.cmd_line_ptr, 1), vm.config.cmdline) == 0);
    CHECK_EQ(bp->e820_entries, 4);
    CHECK_EQ(bp->acpi_rsdp_addr, BOOT_ACPI_RSDP_ADDR);
    guest_memory_destroy(&vm.mem);
    free(img);
    printf("%s: loaded, entry 0x%llx\n", path, (unsigned long long)st.rip);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s GUEST.elf...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        check_guest(argv[i]);
    TEST_MAIN_END();
}
