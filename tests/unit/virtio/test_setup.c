/* virtio_devices_create on a minimal machine (memory, I/O loop, MMIO bus,
 * an engine stand-in that records interrupt lines): the devices land at
 * the fixed addresses with the right ids and GSIs, the command-line
 * fragment matches, and every start-up error is one line - a missing
 * image, an image locked by another VM in this process, a busy host port -
 * with nothing left registered. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../test.h"
#include "util/log.h"
#include "virtio/devices.h"
#include "virtio/options.h"
#include "vm/loop.h"
#include "vm/vm.h"

static int last_gsi = -1, last_level = -1;

static int rec_irq(struct vm *vm, unsigned gsi, int level)
{
    (void)vm;
    last_gsi = (int)gsi;
    last_level = level;
    return 0;
}

static const struct accel_ops fake_accel = {.name = "test", .irq_line = rec_irq};

static void vm_init_min(struct vm *vm)
{
    memset(vm, 0, sizeof(*vm));
    CHECK_EQ(guest_memory_init(&vm->mem, 64 << 20), 0);
    CHECK_EQ(loop_create(&vm->loop), 0);
    vm->accel = &fake_accel;
}

static void vm_fini_min(struct vm *vm)
{
    loop_destroy(vm->loop);
    bus_destroy(&vm->mmio);
    guest_memory_destroy(&vm->mem);
}

static uint32_t rd(struct vm *vm, uint64_t addr)
{
    uint64_t v = 0;
    CHECK_EQ(bus_read(&vm->mmio, addr, 4, &v), 0);
    return (uint32_t)v;
}

static void make_image(const char *path, uint64_t size)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ(ftruncate(fileno(f), (off_t)size), 0);
        fclose(f);
    }
}

int main(void)
{
    char img[] = "/tmp/brume-test-setup-XXXXXX", ro[64], log[64];
    int fd = mkstemp(img);
    close(fd);
    make_image(img, 8 << 20);
    snprintf(ro, sizeof(ro), "%s.ro", img);
    snprintf(log, sizeof(log), "%s.hvc0", img);
    make_image(ro, 1 << 20);

    struct vm vm;
    vm_init_min(&vm);
    struct virtio_config cfg;
    virtio_config_init(&cfg);
    char arg[200];
    snprintf(arg, sizeof(arg), "%s,format=raw", img);
    CHECK_EQ(virtio_parse_disk(&cfg, arg), 0);
    snprintf(arg, sizeof(arg), "%s,format=raw,readonly=on,iops=1000", ro);
    CHECK_EQ(virtio_parse_disk(&cfg, arg), 0);
    CHECK_EQ(virtio_parse_net(&cfg, "user"), 0);
    snprintf(arg, sizeof(arg), "file:%s", log);
    CHECK_EQ(virtio_parse_console(&cfg, arg), 0);
    CHECK_EQ(virtio_parse_balloon(&cfg, "16M"), 0);

    struct virtio_devices *devs = NULL;
    char extra[512];
    int rc = virtio_devices_create(&vm, &cfg, &devs, extra, sizeof(extra));
    CHECK_EQ(rc, 0);
    if (rc < 0)
        fprintf(stderr, "create: %s\n", err_get());
    static const uint32_t ids[] = {VIRTIO_ID_BLOCK, VIRTIO_ID_BLOCK, VIRTIO_ID_NET,
                                   VIRTIO_ID_CONSOLE, VIRTIO_ID_RNG, VIRTIO_ID_BALLOON};
    for (int i = 0; i < 6; i++) {
        uint64_t base = VIRTIO_MMIO_BASE + (uint64_t)i * VIRTIO_MMIO_SIZE;
        CHECK_EQ(rd(&vm, base), 0x74726976);
        CHECK_EQ(rd(&vm, base + 4), 2);
        CHECK_EQ(rd(&vm, base + 8), ids[i]);
    }
    CHECK(bus_find(&vm.mmio, VIRTIO_MMIO_BASE + 6 * VIRTIO_MMIO_SIZE) == NULL);
    /* capacity of vda: 8 MiB / 512 */
    CHECK_EQ(rd(&vm, VIRTIO_MMIO_BASE + 0x100), (8 << 20) / 512);
    /* vdb offers RO */
    uint64_t vdb = VIRTIO_MMIO_BASE + VIRTIO_MMIO_SIZE;
    bus_write(&vm.mmio, vdb + 0x14, 4, 0);
    CHECK(rd(&vm, vdb + 0x10) & (1u << VIRTIO_BLK_F_RO));
    /* net0's default MAC */
    uint64_t net = VIRTIO_MMIO_BASE + 2 * VIRTIO_MMIO_SIZE;
    CHECK_EQ(rd(&vm, net + 0x100), 0x12005452);  /* 52:54:00:12 */
    CHECK_EQ(rd(&vm, net + 0x104) & 0xffff, 0x5634);    /* 34:56 */
    /* balloon target: 16 MiB of 4 KiB pages */
    CHECK_EQ(rd(&vm, VIRTIO_MMIO_BASE + 5 * VIRTIO_MMIO_SIZE + 0x100), 4096);
    CHECK(virtio_devices_balloon(devs) != NULL);
    CHECK(strcmp(extra, "virtio_mmio.device=4K@0xd0000000:16 virtio_mmio.device=4K@0xd0001000:17 "
                        "virtio_mmio.device=4K@0xd0002000:18 virtio_mmio.device=4K@0xd0003000:19 "
                        "virtio_mmio.device=4K@0xd0004000:20 virtio_mmio.device=4K@0xd0005000:21") == 0);
    if (strncmp(extra, "virtio_mmio", 11))
        fprintf(stderr, "extra: %s\n", extra);
    /* a config interrupt goes to the device's GSI through the engine */
    uint64_t bal = VIRTIO_MMIO_BASE + 5 * VIRTIO_MMIO_SIZE;
    virtio_balloon_set_target(virtio_devices_balloon(devs), 10);
    CHECK_EQ(last_gsi, -1);  /* nothing before DRIVER_OK */
    bus_write(&vm.mmio, bal + 0x70, 4, 3);
    bus_write(&vm.mmio, bal + 0x24, 4, 1);
    bus_write(&vm.mmio, bal + 0x20, 4, 1);     /* VERSION_1 */
    bus_write(&vm.mmio, bal + 0x70, 4, 0xb);
    bus_write(&vm.mmio, bal + 0x70, 4, 0xf);
    CHECK_EQ(rd(&vm, bal + 0x70), 0xf);
    virtio_balloon_set_target(virtio_devices_balloon(devs), 20);
    CHECK_EQ(last_gsi, GSI_VIRTIO_FIRST + 5);
    CHECK_EQ(last_level, 1);
    CHECK_EQ(rd(&vm, bal + 0x60), VIRTIO_ISR_CONFIG);
    bus_write(&vm.mmio, bal + 0x64, 4, VIRTIO_ISR_CONFIG);
    CHECK_EQ(last_level, 0);
    CHECK_EQ(rd(&vm, bal + 0x100), 20);

    /* a second VM in this process cannot take the same image */
    struct vm vm2;
    vm_init_min(&vm2);
    struct virtio_config c2;
    virtio_config_init(&c2);
    snprintf(arg, sizeof(arg), "%s,format=raw", img);
    CHECK_EQ(virtio_parse_disk(&c2, arg), 0);
    struct virtio_devices *d2 = NULL;
    rc = virtio_devices_create(&vm2, &c2, &d2, NULL, 0);
    CHECK(rc < 0);
    CHECK(strstr(err_get(), img) != NULL);
    CHECK(strchr(err_get(), '\n') == NULL);
    fprintf(stderr, "expected error (locked): %s\n", err_get());
    CHECK(bus_find(&vm2.mmio, VIRTIO_MMIO_BASE) == NULL);
    virtio_config_free(&c2);

    /* a missing image */
    virtio_config_init(&c2);
    CHECK_EQ(virtio_parse_disk(&c2, "/nonexistent/disk.img"), 0);
    rc = virtio_devices_create(&vm2, &c2, &d2, NULL, 0);
    CHECK(rc == -ENOENT);
    CHECK(strstr(err_get(), "/nonexistent/disk.img") != NULL);
    fprintf(stderr, "expected error (missing): %s\n", err_get());
    virtio_config_free(&c2);

    /* a busy host port: one line, nothing registered */
    int busy = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(busy, (struct sockaddr *)&sin, sizeof(sin));
    listen(busy, 1);
    socklen_t sl = sizeof(sin);
    getsockname(busy, (struct sockaddr *)&sin, &sl);
    virtio_config_init(&c2);
    c2.rng = true;
    snprintf(arg, sizeof(arg), "user,hostfwd=tcp:127.0.0.1:%u-:22", ntohs(sin.sin_port));
    CHECK_EQ(virtio_parse_net(&c2, arg), 0);
    rc = virtio_devices_create(&vm2, &c2, &d2, NULL, 0);
    CHECK_EQ(rc, -EADDRINUSE);
    CHECK(strstr(err_get(), "already in use") != NULL);
    fprintf(stderr, "expected error (port): %s\n", err_get());
    CHECK(bus_find(&vm2.mmio, VIRTIO_MMIO_BASE) == NULL);
    virtio_config_free(&c2);
    close(busy);
    vm_fini_min(&vm2);

    virtio_devices_destroy(devs);
    virtio_config_free(&cfg);
    vm_fini_min(&vm);
    /* once released, the image can be opened again */
    vm_init_min(&vm2);
    virtio_config_init(&c2);
    snprintf(arg, sizeof(arg), "%s,format=raw", img);
    CHECK_EQ(virtio_parse_disk(&c2, arg), 0);
    c2.rng = false;
    CHECK_EQ(virtio_devices_create(&vm2, &c2, &d2, NULL, 0), 0);
    virtio_devices_destroy(d2);
    virtio_config_free(&c2);
    vm_fini_min(&vm2);
    unlink(img);
    unlink(ro);
    unlink(log);
    TEST_MAIN_END();
}
