/* The ELF64 loader: vmlinux-style kernels and brume's test guests.
 *
 * Each PT_LOAD segment is copied to its physical address (p_paddr) and the
 * rest of its memory size zeroed; the entry point is e_entry, entered in
 * the same 64-bit state as a bzImage. Nothing is relocated. Every segment
 * must lie in RAM, clear of the boot structures and the legacy area below
 * 1 MiB, and inside the file. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "boot/loader.h"
#include "util/log.h"
#include "vm/machine.h"
#include "vm/memory.h"

#define ELF_MAX_PHDRS 64

/* Guest ranges no kernel segment may touch, and why. */
static const struct { uint64_t start, end; const char *what; } forbidden[] = {
    { 0, BOOT_CMDLINE_ADDR + BOOT_CMDLINE_MAX, "the boot structures (GDT, boot_params, page tables, command line)" },
    { BOOT_EBDA_START, BOOT_BIOS_END, "the EBDA/ACPI area below 1 MiB" },
};

static int check_segment(struct guest_memory *mem, const char *path, int i,
                         uint64_t paddr, uint64_t memsz)
{
    if (paddr + memsz < paddr || !gpa_to_hva(mem, paddr, memsz))
        return err_set(-EINVAL, "%s: ELF segment %d (0x%llx, %llu bytes) is outside RAM",
                       path, i, (unsigned long long)paddr, (unsigned long long)memsz);
    for (size_t f = 0; f < sizeof(forbidden) / sizeof(forbidden[0]); f++)
        if (paddr < forbidden[f].end && paddr + memsz > forbidden[f].start)
            return err_set(-EINVAL, "%s: ELF segment %d (0x%llx..0x%llx) overlaps %s",
                           path, i, (unsigned long long)paddr,
                           (unsigned long long)(paddr + memsz), forbidden[f].what);
    return 0;
}

int elf_load(struct guest_memory *mem, const char *path, const uint8_t *image,
             size_t size, const struct boot_window *win, struct boot_kernel *out)
{
    (void)win;
    Elf64_Ehdr eh;
    if (size < EI_NIDENT || memcmp(image, ELFMAG, SELFMAG) != 0)
        return -ENOEXEC;
    if (image[EI_CLASS] != ELFCLASS64)
        return -ENOEXEC;   /* a 32-bit ELF is not an ELF64 kernel */
    if (size < sizeof(eh))
        return err_set(-EINVAL, "%s: truncated ELF header", path);
    memcpy(&eh, image, sizeof(eh));
    if (image[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
        return err_set(-EINVAL, "%s: an ELF64 file, but not for little-endian x86-64", path);
    if (eh.e_type != ET_EXEC)
        return err_set(-EINVAL, "%s: not an executable ELF (e_type %u); link the kernel with -static -no-pie",
                       path, eh.e_type);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > ELF_MAX_PHDRS)
        return err_set(-EINVAL, "%s: absurd ELF program header table (%u entries of %u bytes)",
                       path, eh.e_phnum, eh.e_phentsize);
    if (eh.e_phoff > size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
        return err_set(-EINVAL, "%s: truncated ELF (program headers past the end of the file)", path);

    memset(out, 0, sizeof(*out));
    out->format = "ELF64";
    out->start = UINT64_MAX;
    bool entry_found = false;
    int loaded = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, image + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz)
            return err_set(-EINVAL, "%s: ELF segment %d has more file bytes (%llu) than memory (%llu)",
                           path, i, (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
        if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
            return err_set(-EINVAL, "%s: truncated ELF (segment %d ends past the end of the file)", path, i);
        int rc = check_segment(mem, path, i, ph.p_paddr, ph.p_memsz);
        if (rc < 0)
            return rc;
        uint8_t *dst = gpa_to_hva(mem, ph.p_paddr, ph.p_memsz);
        memcpy(dst, image + ph.p_offset, ph.p_filesz);
        memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        if (ph.p_paddr < out->start)
            out->start = ph.p_paddr;
        if (ph.p_paddr + ph.p_memsz > out->end)
            out->end = ph.p_paddr + ph.p_memsz;
        if (eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_memsz)
            entry_found = true;
        loaded++;
    }
    if (loaded == 0)
        return err_set(-EINVAL, "%s: the ELF file has no loadable segment", path);
    if (!entry_found)
        return err_set(-EINVAL, "%s: the ELF entry point 0x%llx is outside every loaded segment",
                       path, (unsigned long long)eh.e_entry);
    out->entry = eh.e_entry;
    return 0;
}
