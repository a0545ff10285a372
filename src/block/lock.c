/* Image locks compatible with QEMU's file-posix locking, so that brume and
 * qemu-img/QEMU see each other: open file description (OFD) locks on single
 * bytes. Byte 100+i is held (shared) by whoever uses permission i; byte
 * 200+i by whoever refuses to share permission i with others. A user that
 * wants permission i conflicts with anyone holding 200+i, and one refusing
 * to share i conflicts with anyone holding 100+i. */
#include <errno.h>
#include <fcntl.h>

#include "block/block_int.h"
#include "util/log.h"

enum {
    LOCK_PERM_BASE = 100,
    LOCK_SHARED_BASE = 200,
    PERM_CONSISTENT_READ = 0x1,
    PERM_WRITE = 0x2,
    PERM_WRITE_UNCHANGED = 0x4,
    PERM_RESIZE = 0x8,
    PERM_ALL = 0xf,
};

static int lock_byte(int fd, int type, int cmd, off_t byte, int *conflict)
{
    struct flock fl = { .l_type = (short)type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    if (fcntl(fd, cmd, &fl) < 0)
        return -errno;
    if (conflict)
        *conflict = fl.l_type != F_UNLCK;
    return 0;
}

static const char *perm_name(int bit)
{
    static const char *names[] = { "consistent read", "write", "write unchanged", "resize" };
    return names[bit];
}

/* Takes the locks for a reader (write=false) or a writer. A reader shares
 * everything but write and resize (a backing file must not change under a
 * VM); a writer shares only reading. */
int block_lock_take(int fd, const char *path, bool write)
{
    int perm = PERM_CONSISTENT_READ | (write ? PERM_WRITE | PERM_RESIZE : 0);
    int shared = write ? (PERM_CONSISTENT_READ | PERM_WRITE_UNCHANGED) : (PERM_ALL & ~(PERM_WRITE | PERM_RESIZE));
    for (int i = 0; i < 4; i++) {
        int r = 0;
        if (perm & (1 << i))
            r = lock_byte(fd, F_RDLCK, F_OFD_SETLK, LOCK_PERM_BASE + i, NULL);
        if (!r && !(shared & (1 << i)))
            r = lock_byte(fd, F_RDLCK, F_OFD_SETLK, LOCK_SHARED_BASE + i, NULL);
        if (r == -EAGAIN || r == -EACCES) {
            block_lock_release(fd);
            return err_set(-EAGAIN, "%s: image is locked by another process (is a VM using it?): "
                           "cannot get shared \"%s\" lock", path, perm_name(i));
        }
        if (r) {
            block_lock_release(fd);
            return err_set(r, "%s: cannot lock image: %s", path, strerror(-r));
        }
    }
    for (int i = 0; i < 4; i++) {
        int conflict = 0, r = 0;
        if (perm & (1 << i))
            r = lock_byte(fd, F_WRLCK, F_OFD_GETLK, LOCK_SHARED_BASE + i, &conflict);
        if (!r && !conflict && !(shared & (1 << i)))
            r = lock_byte(fd, F_WRLCK, F_OFD_GETLK, LOCK_PERM_BASE + i, &conflict);
        if (r || conflict) {
            block_lock_release(fd);
            if (r)
                return err_set(r, "%s: cannot test image lock: %s", path, strerror(-r));
            return err_set(-EAGAIN, "%s: image is locked by another process (is a VM using it?): "
                           "failed to get \"%s\" lock", path, perm_name(i));
        }
    }
    return 0;
}

void block_lock_release(int fd)
{
    struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = LOCK_PERM_BASE, .l_len = 200 };
    (void)fcntl(fd, F_OFD_SETLK, &fl);
}
