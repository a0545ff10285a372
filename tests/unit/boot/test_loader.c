/* boot_linux() end to end on crafted images: a good bzImage and ELF64
 * (memory contents, boot_params, GDT, page tables, entry state), and every
 * bad input giving a clear error instead of a crash. */
#include <errno.h>
#include <string.h>

#include "../test.h"
#include "boot_test.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/memory.h"

#define MiB (1ull << 20)

static const struct boot_params *params(struct vm *vm)
{
    return gpa_to_hva(&vm->mem, BOOT_PARAMS_ADDR, sizeof(struct boot_params));
}

/* Runs boot_linux on a fresh VM and returns its result; *msg gets err_get(). */
static int boot(uint64_t mem, const char *kernel, const char *initrd, const char *cmdline,
                struct vm *vm, struct cpu_state *st)
{
    CHECK_EQ(test_vm_init(vm, mem, 1), 0);
    vm->config.kernel_path = kernel;
    vm->config.initrd_path = initrd;
    vm->config.cmdline = cmdline;
    err_clear();
    memset(st, 0x5A, sizeof(*st));
    return boot_linux(vm, st);
}

/* Expects boot_linux to fail with errnum and a message containing want. */
static void expect_fail(uint64_t mem, const char *kernel, const char *initrd, const char *cmdline,
                        int errnum, const char *want)
{
    struct vm vm;
    struct cpu_state st;
    int rc = boot(mem, kernel, initrd, cmdline, &vm, &st);
    CHECK_EQ(rc, errnum);
    if (!strstr(err_get(), want)) {
        fprintf(stderr, "expected '%s' in: %s\n", want, err_get());
        test_failures++;
    }
    test_vm_destroy(&vm);
}

static void check_entry_state(const struct cpu_state *s, uint64_t entry)
{
    CHECK_EQ(s->rip, entry);
    CHECK_EQ(s->regs[GPR_RSI], BOOT_PARAMS_ADDR);
    CHECK_EQ(s->rflags, 2);
    CHECK(s->regs[GPR_RSP] != 0);
    CHECK_EQ(s->cr0 & (CR0_PE | CR0_PG | CR0_ET | CR0_NE), CR0_PE | CR0_PG | CR0_ET | CR0_NE);
    CHECK_EQ(s->cr4 & CR4_PAE, CR4_PAE);
    CHECK_EQ(s->cr3, BOOT_PML4_ADDR);
    CHECK_EQ(s->msr.efer, EFER_LME | EFER_LMA);
    CHECK_EQ(s->seg[SEG_CS].selector, 0x10);
    CHECK_EQ(s->seg[SEG_CS].l, 1);
    CHECK_EQ(s->seg[SEG_CS].db, 0);
    CHECK_EQ(s->seg[SEG_CS].present, 1);
    CHECK_EQ(s->seg[SEG_CS].type, 0xB);
    for (int i = 0; i < SEG_COUNT; i++) {
        if (i == SEG_CS)
            continue;
        CHECK_EQ(s->seg[i].selector, 0x18);
        CHECK_EQ(s->seg[i].type, 0x3);
        CHECK_EQ(s->seg[i].present, 1);
        CHECK_EQ(s->seg[i].limit, 0xFFFFFFFF);
    }
    CHECK_EQ(s->gdt.base, BOOT_GDT_ADDR);
    CHECK_EQ(s->tr.type, 0xB);
    CHECK_EQ(s->run_state, CPU_RUNNABLE);
    /* The caller's local APIC page is left alone. */
    CHECK_EQ(s->lapic[0], 0x5A);
    CHECK_EQ(s->lapic[CPU_LAPIC_REGS_SIZE - 1], 0x5A);
}

static void check_long_mode_tables(struct vm *vm)
{
    const uint64_t *gdt = gpa_to_hva(&vm->mem, BOOT_GDT_ADDR, 8 * BOOT_GDT_ENTRIES);
    CHECK_EQ(gdt[0], 0);
    CHECK_EQ(gdt[2], 0x00AF9B000000FFFFull);   /* 0x10: 64-bit code */
    CHECK_EQ(gdt[3], 0x00CF93000000FFFFull);   /* 0x18: data */
    const uint64_t *pml4 = gpa_to_hva(&vm->mem, BOOT_PML4_ADDR, 4096);
    const uint64_t *pdpt = gpa_to_hva(&vm->mem, BOOT_PDPT_ADDR, 4096);
    const uint64_t *pd = gpa_to_hva(&vm->mem, BOOT_PD_ADDR, 4 * 4096);
    CHECK_EQ(pd[0], 0x83);
    CHECK_EQ(pd[4 * 512 - 1], 0xFFE00000ull | 0x83);
    CHECK_EQ(pml4[0], BOOT_PDPT_ADDR | 3);
    CHECK_EQ(pml4[1], 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pdpt[i], (BOOT_PD_ADDR + 4096 * (uint64_t)i) | 3);
    CHECK_EQ(pdpt[4], 0);
    /* Walk a few addresses through the tables: identity, 2 MiB pages. */
    const uint64_t probes[] = { 0, 0x1234567, 0xBFFFFFFF, 0xFEE00000, 0xFFFFFFFF };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        uint64_t va = probes[i];
        uint64_t pdpte = pdpt[(va >> 30) & 511];
        CHECK(pdpte & 1);
        const uint64_t *pdt = gpa_to_hva(&vm->mem, pdpte & ~0xFFFull, 4096);
        uint64_t pde = pdt[(va >> 21) & 511];
        CHECK_EQ(pde & 0x83, 0x83);               /* present, writable, 2 MiB */
        CHECK_EQ((pde & ~0x1FFFFFull & ~(1ull << 63)) | (va & 0x1FFFFF), va);
    }
}

static void test_good_bzimage(void)
{
    struct setup_header *h;
    size_t size, payload = 64 * 1024;
    uint8_t *img = test_bzimage(payload, &h, &size);
    char *kernel = test_write_file(img, size);
    uint8_t initrd_data[10000];
    for (size_t i = 0; i < sizeof(initrd_data); i++)
        initrd_data[i] = (uint8_t)(i ^ 0x3C);
    char *initrd = test_write_file(initrd_data, sizeof(initrd_data));

    struct vm vm;
    struct cpu_state st;
    const char *cmdline = "console=ttyS0 reboot=k panic=1 expect=42";
    CHECK_EQ(boot(128 * MiB, kernel, initrd, cmdline, &vm, &st), 0);
    const struct boot_params *bp = params(&vm);

    /* The payload is at pref_address, the entry 0x200 above it. */
    const uint8_t *k = gpa_to_hva(&vm.mem, 0x1000000, payload);
    int same = 1;
    for (size_t i = 0; i < payload; i++)
        same &= k[i] == test_payload_byte(i);
    CHECK(same);
    check_entry_state(&st, 0x1000200);
    check_long_mode_tables(&vm);

    /* boot_params: the header copied, our fields filled in. */
    CHECK_EQ(bp->hdr.header, SETUP_HDR_MAGIC);
    CHECK_EQ(bp->hdr.version, 0x020F);
    CHECK_EQ(bp->hdr.pref_address, 0x1000000);
    CHECK_EQ(bp->hdr.init_size, 0x400000);
    CHECK_EQ(bp->hdr.type_of_loader, 0xFF);
    CHECK_EQ(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
    CHECK_EQ(bp->hdr.code32_start, 0x1000000);
    CHECK(strcmp(gpa_to_hva(&vm.mem, BOOT_CMDLINE_ADDR, 1), cmdline) == 0);
    CHECK_EQ(bp->acpi_rsdp_addr, BOOT_ACPI_RSDP_ADDR);
    CHECK_EQ(bp->e820_entries, 4);
    CHECK_EQ(bp->e820_table[3].addr, MiB);
    CHECK_EQ(bp->e820_table[3].size, 127 * MiB);
    CHECK_EQ(bp->e820_table[3].type, E820_RAM);

    /* The initrd: page-aligned, as high as possible, intact. */
    CHECK_EQ(bp->hdr.ramdisk_size, sizeof(initrd_data));
    CHECK_EQ(bp->hdr.ramdisk_image % 4096, 0);
    CHECK_EQ(bp->hdr.ramdisk_image, (128 * MiB - sizeof(initrd_data)) & ~0xFFFull);
    CHECK(memcmp(gpa_to_hva(&vm.mem, bp->hdr.ramdisk_image, sizeof(initrd_data)), initrd_data,
                 sizeof(initrd_data)) == 0);
    test_vm_destroy(&vm);

    /* An old protocol (2.12, 2.13) has no acpi_rsdp_addr: leave it 0. */
    h->version = 0x020C;
    test_remove_file(kernel);
    kernel = test_write_file(img, size);
    CHECK_EQ(boot(128 * MiB, kernel, NULL, "", &vm, &st), 0);
    CHECK_EQ(params(&vm)->acpi_rsdp_addr, 0);
    CHECK_EQ(params(&vm)->hdr.ramdisk_image, 0);
    test_vm_destroy(&vm);

    /* initrd_addr_max below the end of RAM caps the initrd. */
    h->version = 0x020F;
    h->initrd_addr_max = 0x37FFFFF;     /* 56 MiB - 1 */
    test_remove_file(kernel);
    kernel = test_write_file(img, size);
    CHECK_EQ(boot(128 * MiB, kernel, initrd, "", &vm, &st), 0);
    CHECK_EQ(params(&vm)->hdr.ramdisk_image, (0x3800000 - sizeof(initrd_data)) & ~0xFFFull);
    test_vm_destroy(&vm);

    /* A small VM: pref_address + init_size does not fit in 16 MiB, so the
     * relocatable kernel goes to the first aligned address above 1 MiB. */
    CHECK_EQ(boot(16 * MiB, kernel, initrd, "", &vm, &st), 0);
    CHECK_EQ(st.rip, 0x200000 + 0x200);
    CHECK(params(&vm)->hdr.ramdisk_image >= 0x200000 + 0x400000);
    test_vm_destroy(&vm);

    /* The same kernel, not relocatable: pref_address or nothing. */
    h->relocatable_kernel = 0;
    test_remove_file(kernel);
    kernel = test_write_file(img, size);
    expect_fail(16 * MiB, kernel, NULL, "", -ENOMEM, "the kernel needs");

    test_remove_file(kernel);
    test_remove_file(initrd);
    free(img);
}

static void test_bad_bzimages(void)
{
    struct setup_header *h;
    size_t size;
    char *kernel;
    uint8_t *img = test_bzimage(4096, &h, &size);

#define WITH(mutation, errnum, msg)                                          \
    do {                                                                     \
        struct setup_header saved = *h;                                      \
        mutation;                                                            \
        kernel = test_write_file(img, size);                                 \
        expect_fail(128 * MiB, kernel, NULL, "", errnum, msg);               \
        test_remove_file(kernel);                                            \
        *h = saved;                                                          \
    } while (0)

    WITH(h->version = 0x020A, -EINVAL, "32-bit-only bzImage");
    WITH(h->xloadflags = 0, -EINVAL, "32-bit-only bzImage");
    WITH(h->loadflags = 0, -EINVAL, "zImage");
    WITH(h->syssize = 0x10000, -EINVAL, "truncated bzImage");
    WITH(h->setup_sects = 200, -EINVAL, "truncated bzImage");
    WITH(h->kernel_alignment = 3, -EINVAL, "absurd kernel_alignment");
    WITH(h->kernel_alignment = 0, -EINVAL, "absurd kernel_alignment");
    WITH(h->cmdline_size = 0, -EINVAL, "absurd cmdline_size");
    WITH(h->init_size = 0xF0000000, -ENOMEM, "the kernel needs");
    WITH(h->pref_address = 0xFFFFFFFFFFFFF000ull, 0, "");   /* relocates */
#undef WITH

    /* A command line longer than the kernel's cmdline_size. */
    h->cmdline_size = 16;
    kernel = test_write_file(img, size);
    expect_fail(128 * MiB, kernel, NULL, "console=ttyS0 reboot=k panic=1", -E2BIG, "at most 16");
    test_remove_file(kernel);
    h->cmdline_size = 2047;

    /* The file cut inside the payload and inside the header. */
    kernel = test_write_file(img, TEST_SETUP_SIZE + 100);
    expect_fail(128 * MiB, kernel, NULL, "", -EINVAL, "truncated bzImage");
    test_remove_file(kernel);
    kernel = test_write_file(img, 0x210);
    expect_fail(128 * MiB, kernel, NULL, "", -ENOEXEC, "not a bzImage or ELF64 kernel");
    test_remove_file(kernel);

    /* An initrd larger than memory, and one that only misses by a bit. */
    kernel = test_write_file(img, size);
    uint8_t *big = calloc(1, 13 * MiB);
    char *initrd = test_write_file(big, 13 * MiB);
    expect_fail(16 * MiB, kernel, initrd, "", -ENOMEM, "does not fit in memory");
    test_remove_file(initrd);
    initrd = test_write_file(big, 9 * MiB);   /* kernel at 2..6 MiB: 10 MiB free */
    struct vm vm;
    struct cpu_state st;
    CHECK_EQ(boot(16 * MiB, kernel, initrd, "", &vm, &st), 0);
    test_vm_destroy(&vm);
    test_remove_file(initrd);
    free(big);

    /* Too little memory for anything. */
    expect_fail(1 * MiB, kernel, NULL, "", -EINVAL, "too little");
    test_remove_file(kernel);
    free(img);
}

static void test_bad_files(void)
{
    expect_fail(64 * MiB, "/nonexistent/vmlinuz", NULL, "", -ENOENT, "/nonexistent/vmlinuz");
    expect_fail(64 * MiB, "/tmp", NULL, "", -EINVAL, "not a regular file");
    char *empty = test_write_file("", 0);
    expect_fail(64 * MiB, empty, NULL, "", -EINVAL, "empty file");
    uint8_t junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 31);
    char *garbage = test_write_file(junk, sizeof(junk));
    expect_fail(64 * MiB, garbage, NULL, "", -ENOEXEC, "not a bzImage or ELF64 kernel");

    /* A good kernel with a missing initrd. */
    struct test_elf e;
    test_elf_init(&e, 0x200000, 64, 64);
    char *elf = test_write_file(&e, sizeof(e));
    expect_fail(64 * MiB, elf, "/nonexistent/initrd", "", -ENOENT, "initrd /nonexistent/initrd");

    /* A kernel larger than the whole guest. */
    uint8_t *huge = calloc(1, 3 * MiB);
    char *big = test_write_file(huge, 3 * MiB);
    expect_fail(2 * MiB, big, NULL, "", -EFBIG, "larger than the guest's RAM");
    test_remove_file(big);
    free(huge);
    test_remove_file(elf);
    test_remove_file(empty);
    test_remove_file(garbage);
}

static void test_good_elf(void)
{
    struct test_elf e;
    test_elf_init(&e, 0x200000, 200, 0x3000);   /* .bss after 200 bytes */
    char *path = test_write_file(&e, sizeof(e));
    uint8_t initrd_data[5000];
    memset(initrd_data, 0xC3, sizeof(initrd_data));
    char *initrd = test_write_file(initrd_data, sizeof(initrd_data));

    struct vm vm;
    CHECK_EQ(test_vm_init(&vm, 64 * MiB, 2), 0);
    /* Dirty memory first: the loader must zero the .bss. */
    memset(gpa_to_hva(&vm.mem, 0x200000, 0x3000), 0xEE, 0x3000);
    vm.config.kernel_path = path;
    vm.config.initrd_path = initrd;
    vm.config.cmdline = "guest=elf";
    struct cpu_state st;
    memset(&st, 0x5A, sizeof(st));
    CHECK_EQ(boot_linux(&vm, &st), 0);
    const uint8_t *m = gpa_to_hva(&vm.mem, 0x200000, 0x3000);
    CHECK(memcmp(m, e.data, 200) == 0);
    int zero = 1;
    for (size_t i = 200; i < 0x3000; i++)
        zero &= m[i] == 0;
    CHECK(zero);
    check_entry_state(&st, 0x200010);
    check_long_mode_tables(&vm);
    const struct boot_params *bp = params(&vm);
    CHECK_EQ(bp->hdr.header, SETUP_HDR_MAGIC);
    CHECK_EQ(bp->hdr.boot_flag, SETUP_BOOT_FLAG);
    CHECK_EQ(bp->hdr.type_of_loader, 0xFF);
    CHECK_EQ(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
    CHECK(strcmp(gpa_to_hva(&vm.mem, BOOT_CMDLINE_ADDR, 1), "guest=elf") == 0);
    CHECK_EQ(bp->hdr.ramdisk_size, sizeof(initrd_data));
    CHECK_EQ(bp->hdr.ramdisk_image, (64 * MiB - sizeof(initrd_data)) & ~0xFFFull);
    CHECK_EQ(bp->acpi_rsdp_addr, BOOT_ACPI_RSDP_ADDR);
    CHECK_EQ(bp->e820_entries, 4);
    test_vm_destroy(&vm);
    test_remove_file(path);
    test_remove_file(initrd);
}

static void test_bad_elfs(void)
{
    struct test_elf e;
    char *path;
#define WITH(mutation, errnum, msg)                                          \
    do {                                                                     \
        test_elf_init(&e, 0x200000, 64, 0x1000);                             \
        mutation;                                                            \
        path = test_write_file(&e, sizeof(e));                               \
        expect_fail(64 * MiB, path, NULL, "", errnum, msg);                  \
        test_remove_file(path);                                              \
    } while (0)

    WITH((void)0, 0, "");
    WITH(e.eh.e_ident[EI_CLASS] = ELFCLASS32, -ENOEXEC, "not a bzImage or ELF64 kernel");
    WITH(e.eh.e_machine = EM_AARCH64, -EINVAL, "not for little-endian x86-64");
    WITH(e.eh.e_type = ET_DYN, -EINVAL, "not an executable ELF");
    WITH(e.eh.e_phnum = 0, -EINVAL, "absurd ELF program header table");
    WITH(e.eh.e_phnum = 60000, -EINVAL, "absurd ELF program header table");
    WITH(e.eh.e_phentsize = 12, -EINVAL, "absurd ELF program header table");
    WITH(e.eh.e_phoff = 1ull << 40, -EINVAL, "truncated ELF");
    WITH(e.ph.p_offset = 1ull << 40, -EINVAL, "truncated ELF");
    WITH(e.ph.p_filesz = 0x2000, -EINVAL, "more file bytes");
    WITH((e.ph.p_paddr = 0x7000, e.eh.e_entry = 0x7010), -EINVAL, "overlaps the boot structures");
    WITH((e.ph.p_paddr = 0x1F000, e.eh.e_entry = 0x20010), -EINVAL, "overlaps the boot structures");
    WITH((e.ph.p_paddr = 0xF0000, e.eh.e_entry = 0xF0010), -EINVAL, "overlaps the EBDA/ACPI area");
    WITH((e.ph.p_paddr = 0x3FFF800, e.eh.e_entry = 0x3FFF810), -EINVAL, "outside RAM");
    WITH((e.ph.p_paddr = 0xFFFFFFFFFFFFF000ull, e.eh.e_entry = 0xFFFFFFFFFFFFF010ull),
         -EINVAL, "outside RAM");
    WITH(e.eh.e_entry = 0x900000, -EINVAL, "entry point 0x900000 is outside");
    WITH(e.ph.p_type = PT_NOTE, -EINVAL, "no loadable segment");
#undef WITH

    /* Cut inside the header. */
    test_elf_init(&e, 0x200000, 64, 0x1000);
    path = test_write_file(&e, 40);
    expect_fail(64 * MiB, path, NULL, "", -EINVAL, "truncated ELF header");
    test_remove_file(path);

    /* An initrd that collides with an ELF kernel loaded near the top. */
    test_elf_init(&e, 0x3E00000, 64, 0x100000);
    path = test_write_file(&e, sizeof(e));
    uint8_t *blob = calloc(1, 2 * MiB);
    char *initrd = test_write_file(blob, 2 * MiB);
    expect_fail(64 * MiB, path, initrd, "", -ENOMEM, "does not fit in memory");
    test_remove_file(initrd);
    test_remove_file(path);
    free(blob);
}

int main(void)
{
    test_good_bzimage();
    test_bad_bzimages();
    test_bad_files();
    test_good_elf();
    test_bad_elfs();
    TEST_MAIN_END();
}
