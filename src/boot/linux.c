/* boot_linux(): brume as the boot loader and the firmware.
 *
 * Order of work: read the kernel and hand it to each loader in turn (a
 * list; the first that recognises the format loads it), place the initrd
 * as high as the kernel allows, write the command line, build boot_params
 * with the e820 map and the ACPI tables, then the GDT, page tables and the
 * BSP's entry state. Every size and address is checked before anything is
 * copied, and every failure is one err_set() line naming the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/loader.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/memory.h"
#include "vm/vm.h"

#define PAGE 4096ull

static const struct { const char *name; boot_loader_fn load; } loaders[] = {
    { "bzImage", bzimage_load },
    { "ELF64", elf_load },
};

/* Opens path as a regular file and returns its size; what names it in
 * messages ("kernel", "initrd"). */
static int open_image(const char *path, const char *what, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(-errno, "%s %s: %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return err_set(-e, "%s %s: %s", what, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(-EINVAL, "%s %s: not a regular file", what, path);
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

/* Reads exactly len bytes from fd at offset 0 into buf. */
static int read_all(int fd, const char *path, const char *what, uint8_t *buf, uint64_t len)
{
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done > (1u << 30) ? (1u << 30) : len - done,
                          (off_t)done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_set(-errno, "%s %s: read: %s", what, path, strerror(errno));
        }
        if (n == 0)
            return err_set(-EIO, "%s %s: file shrank while being read", what, path);
        done += (uint64_t)n;
    }
    return 0;
}

static int load_kernel(struct guest_memory *mem, const char *path,
                       const struct boot_window *win, struct boot_kernel *k)
{
    uint64_t size;
    int fd = open_image(path, "kernel", &size);
    if (fd < 0)
        return fd;
    int rc;
    if (size == 0) {
        rc = err_set(-EINVAL, "kernel %s: empty file", path);
        goto out;
    }
    if (size > mem->ram_size) {
        rc = err_set(-EFBIG, "kernel %s: %llu MiB, larger than the guest's RAM", path,
                     (unsigned long long)(size >> 20));
        goto out;
    }
    uint8_t *image = malloc(size);
    if (!image) {
        rc = err_set(-ENOMEM, "kernel %s: out of memory reading it", path);
        goto out;
    }
    rc = read_all(fd, path, "kernel", image, size);
    if (rc == 0) {
        rc = -ENOEXEC;
        for (size_t i = 0; rc == -ENOEXEC && i < sizeof(loaders) / sizeof(loaders[0]); i++)
            rc = loaders[i].load(mem, path, image, size, win, k);
    }
    if (rc == -ENOEXEC)
        rc = err_set(-ENOEXEC, "kernel %s: not a bzImage or ELF64 kernel", path);
    free(image);
out:
    close(fd);
    return rc;
}

/* Places the initrd page-aligned as high as possible below
 * min(initrd_addr_max + 1, end of low RAM), clear of the kernel. */
static int load_initrd(struct guest_memory *mem, const char *path, const struct boot_kernel *k,
                       uint64_t low_end, struct setup_header *hdr)
{
    uint64_t size;
    int fd = open_image(path, "initrd", &size);
    if (fd < 0)
        return fd;
    int rc = 0;
    uint64_t top = (uint64_t)hdr->initrd_addr_max + 1;
    if (top > low_end)
        top = low_end;
    top &= ~(PAGE - 1);
    uint64_t floor = k->end > BOOT_KERNEL_ADDR ? k->end : BOOT_KERNEL_ADDR;
    floor = (floor + PAGE - 1) & ~(PAGE - 1);
    if (size == 0)
        goto out;   /* nothing to place: ramdisk_size stays 0 */
    if (size > top || ((top - size) & ~(PAGE - 1)) < floor) {
        rc = err_set(-ENOMEM, "initrd %s: %llu MiB does not fit in memory between the kernel (ends at %llu MiB) and %llu MiB; give the VM more --mem",
                     path, (unsigned long long)((size + (1 << 20) - 1) >> 20),
                     (unsigned long long)(floor >> 20), (unsigned long long)(top >> 20));
        goto out;
    }
    uint64_t addr = (top - size) & ~(PAGE - 1);
    uint8_t *dst = gpa_to_hva(mem, addr, size);
    if (!dst) {
        rc = err_set(-EFAULT, "initrd %s: 0x%llx is not RAM", path, (unsigned long long)addr);
        goto out;
    }
    rc = read_all(fd, path, "initrd", dst, size);
    if (rc == 0) {
        hdr->ramdisk_image = (uint32_t)addr;
        hdr->ramdisk_size = (uint32_t)size;
        log_debug("boot: initrd %s at 0x%llx, %llu bytes", path, (unsigned long long)addr,
                  (unsigned long long)size);
    }
out:
    close(fd);
    return rc;
}

static int write_cmdline(struct guest_memory *mem, const char *cmdline, struct setup_header *hdr)
{
    size_t len = cmdline ? strlen(cmdline) : 0;
    uint64_t max = hdr->cmdline_size;
    if (max > BOOT_CMDLINE_MAX - 1)
        max = BOOT_CMDLINE_MAX - 1;
    if (len > max)
        return err_set(-E2BIG, "kernel command line: %zu bytes, the kernel accepts at most %llu",
                       len, (unsigned long long)max);
    if (guest_write(mem, BOOT_CMDLINE_ADDR, cmdline ? cmdline : "", len) < 0 ||
        guest_write(mem, BOOT_CMDLINE_ADDR + len, "", 1) < 0)
        return err_set(-EFAULT, "kernel command line: cannot write it at 0x%llx",
                       (unsigned long long)BOOT_CMDLINE_ADDR);
    hdr->cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
    return 0;
}

/* The setup header an ELF kernel gets: what a bzImage of the latest
 * protocol would say, so one guest-side parser reads both. */
static void synth_header(struct setup_header *hdr)
{
    memset(hdr, 0, sizeof(*hdr));
    hdr->boot_flag = SETUP_BOOT_FLAG;
    hdr->header = SETUP_HDR_MAGIC;
    hdr->version = 0x020F;
    hdr->loadflags = LOADED_HIGH;
    hdr->xloadflags = XLF_KERNEL_64;
    hdr->initrd_addr_max = 0x7FFFFFFF;
    hdr->cmdline_size = BOOT_CMDLINE_MAX - 1;
}

/* Bit n set for each virtio-mmio slot n that has a device on the bus. */
static uint32_t virtio_slots(const struct vm *vm)
{
    uint32_t mask = 0;
    for (unsigned n = 0; n < VIRTIO_MMIO_MAX; n++)
        if (bus_find(&vm->mmio, VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_SIZE))
            mask |= 1u << n;
    return mask;
}

int boot_linux(struct vm *vm, struct cpu_state *bsp)
{
    struct guest_memory *mem = &vm->mem;
    const struct vm_config *cfg = &vm->config;
    uint64_t ram = mem->ram_size;
    if (ram < BOOT_MIN_RAM)
        return err_set(-EINVAL, "boot: %llu KiB of RAM is too little (brume needs at least %llu MiB)",
                       (unsigned long long)(ram >> 10), (unsigned long long)(BOOT_MIN_RAM >> 20));
    if (!cfg->kernel_path)
        return err_set(-EINVAL, "boot: no kernel given (--kernel PATH)");
    uint64_t low_end = ram < MEM_HOLE_START ? ram : MEM_HOLE_START;
    const struct boot_window win = { BOOT_KERNEL_ADDR, low_end };

    static const struct boot_params zero_params;
    struct boot_params *bp = malloc(sizeof(*bp));
    if (!bp)
        return err_set(-ENOMEM, "boot: out of memory");
    *bp = zero_params;

    struct boot_kernel k;
    int rc = load_kernel(mem, cfg->kernel_path, &win, &k);
    if (rc < 0)
        goto out;
    log_debug("boot: %s %s at 0x%llx..0x%llx, entry 0x%llx", k.format, cfg->kernel_path,
              (unsigned long long)k.start, (unsigned long long)k.end, (unsigned long long)k.entry);
    if (k.has_setup_header)
        bp->hdr = k.hdr;
    else
        synth_header(&bp->hdr);
    bp->hdr.type_of_loader = BOOT_LOADER_UNDEFINED;
    bp->hdr.loadflags &= (uint8_t)~KEEP_SEGMENTS;

    if ((rc = write_cmdline(mem, cfg->cmdline, &bp->hdr)) < 0)
        goto out;
    if (cfg->initrd_path && (rc = load_initrd(mem, cfg->initrd_path, &k, low_end, &bp->hdr)) < 0)
        goto out;

    rc = boot_e820_build(ram, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
    if (rc < 0)
        goto out;
    bp->e820_entries = (uint8_t)rc;

    int ncpus = vm->ncpus > 0 ? vm->ncpus : cfg->ncpus;
    if ((rc = acpi_build(mem, ncpus, virtio_slots(vm))) < 0)
        goto out;
    if (!k.has_setup_header || bp->hdr.version >= BOOT_PROTO_RSDP_ADDR)
        bp->acpi_rsdp_addr = BOOT_ACPI_RSDP_ADDR;

    if (guest_write(mem, BOOT_PARAMS_ADDR, bp, sizeof(*bp)) < 0) {
        rc = err_set(-EFAULT, "boot: cannot write boot_params at 0x%llx",
                     (unsigned long long)BOOT_PARAMS_ADDR);
        goto out;
    }
    if ((rc = boot_setup_long_mode(mem)) < 0)
        goto out;
    boot_cpu_entry_state(bsp, k.entry, BOOT_PARAMS_ADDR);
    rc = 0;
out:
    free(bp);
    return rc;
}
