/* The virtio part of `brume run`: option strings to configs, configs to
 * devices on the machine.
 *
 *   --disk PATH[,format=raw|qcow2|...][,readonly=on|off][,iops=N][,iops_burst=N]
 *              [,bps=SIZE][,bps_burst=SIZE][,serial=STR]            (repeatable)
 *   --net user[,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...
 *              [,mac=52:54:00:12:34:56][,bps=SIZE][,bps_burst=SIZE] (repeatable)
 *   --net tap,ifname=NAME[,mac=..][,bps=SIZE][,bps_burst=SIZE]
 *   --balloon SIZE            memory the host asks the guest to give back
 *   --virtio-console file:PATH | none    a second console (hvc0), output to PATH
 *   --virtio-rng on|off       (on by default)
 *
 * A comma inside a path is written twice (",,"), as in QEMU. Every parse
 * error is one line naming the option and what was expected, left in
 * err_get() with -EINVAL. */
#ifndef BRUME_VIRTIO_OPTIONS_H
#define BRUME_VIRTIO_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

#define VIRTIO_MAX_DISKS 8
#define VIRTIO_MAX_NETS  4

struct virtio_disk_config {
    char *path;                 /* owned */
    const char *format;         /* static string, or NULL to probe */
    bool read_only;
    uint64_t iops, iops_burst, bps, bps_burst;
    char serial[21];            /* "" = default */
};

enum virtio_net_kind { VIRTIO_NET_USER, VIRTIO_NET_TAP };

struct virtio_net_config {
    enum virtio_net_kind kind;
    char ifname[16];            /* tap */
    struct net_user_opts user;  /* user */
    bool mac_set;
    uint8_t mac[6];
    uint64_t bps, bps_burst;
};

struct virtio_config {
    struct virtio_disk_config disks[VIRTIO_MAX_DISKS];
    int ndisks;
    struct virtio_net_config nets[VIRTIO_MAX_NETS];
    int nnets;
    bool rng;                   /* default true */
    bool console;
    char *console_path;         /* owned: hvc0 output file */
    int console_in_fd;          /* -1: no input (default) */
    bool balloon;
    uint64_t balloon_bytes;     /* to take back from the guest */
};

/* Defaults: no disks, no network, rng on, no console, no balloon. */
void virtio_config_init(struct virtio_config *c);
void virtio_config_free(struct virtio_config *c);

/* Each parses one option's argument into c (appending a disk or a NIC).
 * Return 0 or -EINVAL with the reason in err_get(). */
int virtio_parse_disk(struct virtio_config *c, const char *arg);
int virtio_parse_net(struct virtio_config *c, const char *arg);
int virtio_parse_balloon(struct virtio_config *c, const char *arg);
int virtio_parse_console(struct virtio_config *c, const char *arg);
int virtio_parse_rng(struct virtio_config *c, const char *arg);

/* ---- building the devices (setup.c) ---- */
struct vm;
struct virtio_devices;

/* Opens the back-ends (disk images with their locks, network), creates the
 * devices in order (disks, NICs, console, rng, balloon) as virtio-mmio
 * device n at VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_SIZE with GSI
 * GSI_VIRTIO_FIRST + n, and registers them on vm->mmio, so that
 * boot_linux() describes them in the DSDT (how Debian's kernel finds them:
 * its CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES is off).
 *
 * Needs vm->mem and vm->loop; call it after hw_create() and before
 * boot_linux(). cmdline_extra (len bytes, may be NULL) receives the
 * equivalent `virtio_mmio.device=4K@0xADDR:GSI ...` fragment for kernels
 * that take devices from the command line instead of ACPI; do not append
 * it for an ACPI kernel (each device would be probed twice).
 * Returns 0 and *out, or -errno with a one-line reason in err_get()
 * (missing image, permission denied, image locked, busy host port, ...);
 * on failure nothing is left registered or open. */
int virtio_devices_create(struct vm *vm, const struct virtio_config *cfg,
                          struct virtio_devices **out, char *cmdline_extra, size_t len);

/* Releases the devices and back-ends. Call after the I/O loop and the vCPUs
 * have stopped, before guest memory is freed. NULL is fine. */
void virtio_devices_destroy(struct virtio_devices *d);

/* The balloon device, or NULL: for virtio_balloon_set_target/get_info. */
struct virtio_dev *virtio_devices_balloon(struct virtio_devices *d);

#endif
