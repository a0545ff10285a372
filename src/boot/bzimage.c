/* The bzImage loader (Linux x86 boot protocol, 64-bit entry).
 *
 * A bzImage is the real-mode setup code (setup_sects + 1 sectors, with the
 * setup header at 0x1F1) followed by the protected-mode payload. brume
 * skips the real-mode part entirely: it copies the payload to its load
 * address and enters at load + 0x200, the 64-bit entry that kernels
 * advertising XLF_KERNEL_64 provide. Every header field that steers a copy
 * is checked against the file size and the memory window first. */
#include <errno.h>
#include <string.h>

#include "boot/loader.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/memory.h"

#define SECTOR 512u
#define ENTRY64_OFFSET 0x200u
#define MAX_ALIGNMENT (1u << 30)

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static bool fits(const struct boot_window *win, uint64_t addr, uint64_t len)
{
    return addr >= win->low && addr <= win->high && len <= win->high - addr;
}

/* Picks the load address: the preferred one when it fits, else (for a
 * relocatable kernel) the lowest aligned address in the window. */
static int choose_load_addr(const char *path, const struct setup_header *h,
                            uint64_t need, const struct boot_window *win, uint64_t *out)
{
    uint64_t pref = h->pref_address;
    if (h->relocatable_kernel) {
        uint64_t align = h->kernel_alignment;
        if (pref % align == 0 && fits(win, pref, need)) {
            *out = pref;
            return 0;
        }
        uint64_t addr = align_up(win->low, align);
        if (fits(win, addr, need)) {
            *out = addr;
            return 0;
        }
    } else if (fits(win, pref, need)) {
        *out = pref;
        return 0;
    }
    return err_set(-ENOMEM, "%s: the kernel needs %llu MiB at 0x%llx%s, more than the %llu MiB of low RAM available",
                   path, (unsigned long long)((need + (1 << 20) - 1) >> 20),
                   (unsigned long long)pref, h->relocatable_kernel ? " or above" : "",
                   (unsigned long long)((win->high - win->low) >> 20));
}

int bzimage_load(struct guest_memory *mem, const char *path, const uint8_t *image,
                 size_t size, const struct boot_window *win, struct boot_kernel *out)
{
    struct setup_header h;
    if (size < SETUP_HDR_END)
        return -ENOEXEC;
    memcpy(&h, image + SETUP_HDR_OFFSET, sizeof(h));
    if (h.header != SETUP_HDR_MAGIC)
        return -ENOEXEC;

    if (h.version < BOOT_PROTO_MIN_64BIT || !(h.xloadflags & XLF_KERNEL_64))
        return err_set(-EINVAL, "%s: a 32-bit-only bzImage (boot protocol %u.%02u%s); brume needs the 64-bit entry (protocol 2.12+, XLF_KERNEL_64)",
                       path, h.version >> 8, h.version & 0xFF,
                       h.version >= BOOT_PROTO_MIN_64BIT ? ", no XLF_KERNEL_64" : "");
    if (!(h.loadflags & LOADED_HIGH))
        return err_set(-EINVAL, "%s: a zImage (not loaded high); only bzImage kernels are supported", path);

    unsigned sects = h.setup_sects ? h.setup_sects : SETUP_SECTS_DEFAULT;
    uint64_t setup_size = (uint64_t)(sects + 1) * SECTOR;
    if (setup_size + ENTRY64_OFFSET >= size)
        return err_set(-EINVAL, "%s: truncated bzImage (%zu bytes, but the setup code alone takes %llu)",
                       path, size, (unsigned long long)setup_size);
    uint64_t payload = size - setup_size;
    if ((uint64_t)h.syssize * 16 > payload)
        return err_set(-EINVAL, "%s: truncated bzImage (the header announces %llu bytes of kernel, the file has %llu)",
                       path, (unsigned long long)h.syssize * 16, (unsigned long long)payload);

    if (h.relocatable_kernel &&
        (h.kernel_alignment < 4096 || h.kernel_alignment > MAX_ALIGNMENT ||
         (h.kernel_alignment & (h.kernel_alignment - 1))))
        return err_set(-EINVAL, "%s: absurd kernel_alignment 0x%x in the setup header", path,
                       h.kernel_alignment);
    if (h.cmdline_size == 0)
        return err_set(-EINVAL, "%s: absurd cmdline_size 0 in the setup header", path);

    uint64_t need = h.init_size > payload ? h.init_size : payload;
    uint64_t load = 0;
    int rc = choose_load_addr(path, &h, need, win, &load);
    if (rc < 0)
        return rc;
    if (guest_write(mem, load, image + setup_size, payload) < 0)
        return err_set(-EFAULT, "%s: cannot copy the kernel to 0x%llx", path, (unsigned long long)load);

    /* The header ends where the jump at 0x200 lands: 0x202 + its byte. */
    size_t hdr_end = 0x202u + image[0x201];
    if (hdr_end > SETUP_HDR_END)
        hdr_end = SETUP_HDR_END;
    memset(out, 0, sizeof(*out));
    out->format = "bzImage";
    out->entry = load + ENTRY64_OFFSET;
    out->start = load;
    out->end = load + need;
    out->has_setup_header = true;
    out->hdr_len = hdr_end - SETUP_HDR_OFFSET;
    memcpy(&out->hdr, image + SETUP_HDR_OFFSET, out->hdr_len);
    if (out->hdr.initrd_addr_max == 0)
        out->hdr.initrd_addr_max = 0x37FFFFFF;   /* the protocol's default */
    out->hdr.code32_start = (uint32_t)load;
    return 0;
}
