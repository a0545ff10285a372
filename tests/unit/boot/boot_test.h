/* Helpers shared by the boot unit tests: a VM with just memory, and
 * crafted kernel images written to temporary files. */
#ifndef BRUME_TESTS_UNIT_BOOT_TEST_H
#define BRUME_TESTS_UNIT_BOOT_TEST_H

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/bootparam.h"
#include "vm/vm.h"

/* A VM with only guest memory: what boot_linux() needs. */
static inline int test_vm_init(struct vm *vm, uint64_t mem, int ncpus)
{
    memset(vm, 0, sizeof(*vm));
    vm->config.mem_size = mem;
    vm->config.ncpus = ncpus;
    vm->config.cmdline = "console=ttyS0";
    vm->ncpus = ncpus;
    return guest_memory_init(&vm->mem, mem);
}

static inline void test_vm_destroy(struct vm *vm)
{
    guest_memory_destroy(&vm->mem);
}

/* Writes len bytes to a new temporary file; returns its malloc'd path. */
static inline char *test_write_file(const void *data, size_t len)
{
    char *path = strdup("/tmp/brume-boot-test-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        exit(2);
    }
    if (len && write(fd, data, len) != (ssize_t)len) {
        perror("write");
        exit(2);
    }
    close(fd);
    return path;
}

static inline void test_remove_file(char *path)
{
    unlink(path);
    free(path);
}

/* A synthetic 64-bit bzImage: 1 setup sector + boot sector, then a
 * payload of payload_len bytes with a recognisable pattern. */
#define TEST_SETUP_SECTS 1
#define TEST_SETUP_SIZE ((TEST_SETUP_SECTS + 1) * 512)

static inline uint8_t test_payload_byte(size_t i)
{
    return (uint8_t)(i * 7 + 3);
}

static inline uint8_t *test_bzimage(size_t payload_len, struct setup_header **hdr_out,
                                    size_t *size_out)
{
    size_t size = TEST_SETUP_SIZE + payload_len;
    uint8_t *img = calloc(1, size);
    struct setup_header h = {0};
    h.setup_sects = TEST_SETUP_SECTS;
    h.boot_flag = SETUP_BOOT_FLAG;
    h.jump = 0x6AEB;                        /* jmp to 0x26C: the header's end */
    h.header = SETUP_HDR_MAGIC;
    h.version = 0x020F;
    h.loadflags = LOADED_HIGH;
    h.initrd_addr_max = 0x7FFFFFFF;
    h.kernel_alignment = 0x200000;
    h.relocatable_kernel = 1;
    h.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
    h.cmdline_size = 2047;
    h.pref_address = 0x1000000;
    h.init_size = 0x400000;
    h.syssize = (uint32_t)(payload_len / 16);
    memcpy(img + SETUP_HDR_OFFSET, &h, sizeof(h));
    for (size_t i = 0; i < payload_len; i++)
        img[TEST_SETUP_SIZE + i] = test_payload_byte(i);
    *hdr_out = (struct setup_header *)(img + SETUP_HDR_OFFSET);
    *size_out = size;
    return img;
}

/* A minimal ELF64 executable with one PT_LOAD segment at paddr: filesz
 * bytes of code/data (pattern) and memsz bytes in memory. */
struct test_elf {
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    uint8_t data[256];
} __attribute__((packed));

static inline void test_elf_init(struct test_elf *e, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
    memset(e, 0, sizeof(*e));
    memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
    e->eh.e_ident[EI_CLASS] = ELFCLASS64;
    e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    e->eh.e_ident[EI_VERSION] = EV_CURRENT;
    e->eh.e_type = ET_EXEC;
    e->eh.e_machine = EM_X86_64;
    e->eh.e_version = EV_CURRENT;
    e->eh.e_entry = paddr + 0x10;
    e->eh.e_phoff = offsetof(struct test_elf, ph);
    e->eh.e_ehsize = sizeof(Elf64_Ehdr);
    e->eh.e_phentsize = sizeof(Elf64_Phdr);
    e->eh.e_phnum = 1;
    e->ph.p_type = PT_LOAD;
    e->ph.p_flags = PF_R | PF_X;
    e->ph.p_offset = offsetof(struct test_elf, data);
    e->ph.p_vaddr = paddr;
    e->ph.p_paddr = paddr;
    e->ph.p_filesz = filesz;
    e->ph.p_memsz = memsz;
    e->ph.p_align = 0x1000;
    for (size_t i = 0; i < sizeof(e->data); i++)
        e->data[i] = test_payload_byte(i);
}

#endif
