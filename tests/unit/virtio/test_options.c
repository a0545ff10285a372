/* --disk / --net / --balloon / --virtio-console / --virtio-rng parsing:
 * what good strings become, and that every bad one gives one line naming
 * the problem. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "../test.h"
#include "util/log.h"
#include "virtio/options.h"

static void bad(int (*parse)(struct virtio_config *, const char *), const char *arg, const char *needle)
{
    struct virtio_config c;
    virtio_config_init(&c);
    int rc = parse(&c, arg);
    const char *e = err_get();
    if (rc != -EINVAL || !strstr(e, needle) || strchr(e, '\n')) {
        fprintf(stderr, "'%s': rc=%d error='%s' (wanted '%s')\n", arg, rc, e, needle);
        test_failures++;
    }
    virtio_config_free(&c);
}

static void test_disk(void)
{
    struct virtio_config c;
    virtio_config_init(&c);
    CHECK(c.rng);
    CHECK_EQ(virtio_parse_disk(&c, "disk.img"), 0);
    CHECK_EQ(virtio_parse_disk(&c, "/a,,b.qcow2,format=qcow2,readonly=on,iops=100,iops_burst=200,"
                                   "bps=10M,bps_burst=20M,serial=ABC123"), 0);
    CHECK_EQ(virtio_parse_disk(&c, "path=x.raw,readonly"), 0);
    CHECK_EQ(c.ndisks, 3);
    CHECK(strcmp(c.disks[0].path, "disk.img") == 0);
    CHECK(c.disks[0].format == NULL && !c.disks[0].read_only && c.disks[0].iops == 0);
    CHECK(strcmp(c.disks[1].path, "/a,b.qcow2") == 0);
    CHECK(strcmp(c.disks[1].format, "qcow2") == 0);
    CHECK(c.disks[1].read_only);
    CHECK_EQ(c.disks[1].iops, 100);
    CHECK_EQ(c.disks[1].iops_burst, 200);
    CHECK_EQ(c.disks[1].bps, 10 << 20);
    CHECK_EQ(c.disks[1].bps_burst, 20 << 20);
    CHECK(strcmp(c.disks[1].serial, "ABC123") == 0);
    CHECK(strcmp(c.disks[2].path, "x.raw") == 0 && c.disks[2].read_only);
    for (int i = 3; i < VIRTIO_MAX_DISKS; i++)
        CHECK_EQ(virtio_parse_disk(&c, "more.img"), 0);
    CHECK_EQ(virtio_parse_disk(&c, "one-too-many.img"), -EINVAL);
    CHECK(strstr(err_get(), "at most"));
    virtio_config_free(&c);

    bad(virtio_parse_disk, "", "missing image path");
    bad(virtio_parse_disk, ",readonly=on", "missing image path");
    bad(virtio_parse_disk, "d.img,format=qcow3", "unknown format");
    bad(virtio_parse_disk, "d.img,readonly=maybe", "expected on or off");
    bad(virtio_parse_disk, "d.img,iops=fast", "not a number");
    bad(virtio_parse_disk, "d.img,iops=-5", "needs a number");
    bad(virtio_parse_disk, "d.img,bps=lots", "expected bytes per second");
    bad(virtio_parse_disk, "d.img,cache=none", "unknown option 'cache'");
    bad(virtio_parse_disk, "d.img,serial=123456789012345678901", "1 to 20");
    bad(virtio_parse_disk, "d.img,iops_burst=5", "iops_burst without iops");
}

static void test_net(void)
{
    struct virtio_config c;
    virtio_config_init(&c);
    CHECK_EQ(virtio_parse_net(&c, "user"), 0);
    CHECK_EQ(virtio_parse_net(&c, "user,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-10.0.2.15:53,"
                                  "hostfwd=:127.0.0.1:8080-:80,mac=52:54:00:aa:bb:cc,bps=1M"), 0);
    CHECK_EQ(virtio_parse_net(&c, "tap,ifname=tap0,bps_burst=2M,bps=1M"), 0);
    CHECK_EQ(c.nnets, 3);
    CHECK_EQ(c.nets[0].kind, VIRTIO_NET_USER);
    CHECK_EQ(c.nets[0].user.nfwd, 0);
    CHECK(!c.nets[0].mac_set);
    const struct net_user_opts *u = &c.nets[1].user;
    CHECK_EQ(u->nfwd, 3);
    CHECK(!u->fwd[0].udp);
    CHECK_EQ(u->fwd[0].host_addr, htonl(0x7f000001));
    CHECK_EQ(u->fwd[0].host_port, 2222);
    CHECK_EQ(u->fwd[0].guest_addr, 0);
    CHECK_EQ(u->fwd[0].guest_port, 22);
    CHECK(u->fwd[1].udp);
    CHECK_EQ(u->fwd[1].host_addr, 0);
    CHECK_EQ(u->fwd[1].host_port, 5353);
    CHECK_EQ(u->fwd[1].guest_addr, htonl(0x0a00020f));
    CHECK_EQ(u->fwd[2].host_port, 8080);
    CHECK(c.nets[1].mac_set);
    CHECK_EQ(c.nets[1].mac[3], 0xaa);
    CHECK_EQ(c.nets[1].mac[5], 0xcc);
    CHECK_EQ(c.nets[1].bps, 1 << 20);
    CHECK_EQ(c.nets[2].kind, VIRTIO_NET_TAP);
    CHECK(strcmp(c.nets[2].ifname, "tap0") == 0);
    CHECK_EQ(c.nets[2].bps_burst, 2 << 20);
    virtio_config_free(&c);

    bad(virtio_parse_net, "bridge", "expected user or tap");
    bad(virtio_parse_net, "", "expected user or tap");
    bad(virtio_parse_net, "tap", "ifname=NAME is required");
    bad(virtio_parse_net, "tap,ifname=averyveryverylongname", "1 to 15");
    bad(virtio_parse_net, "tap,ifname=t0,hostfwd=tcp::1-:2", "does not apply to tap");
    bad(virtio_parse_net, "user,ifname=t0", "does not apply to user");
    bad(virtio_parse_net, "user,hostfwd=tcp:127.0.0.1:2222", "expected [tcp|udp]");
    bad(virtio_parse_net, "user,hostfwd=tcp:127.0.0.1:99999-:22", "not a port");
    bad(virtio_parse_net, "user,hostfwd=tcp:127.0.0.1:0-:22", "not a port");
    bad(virtio_parse_net, "user,hostfwd=tcp:localhost:22-:22", "not an IPv4 address");
    bad(virtio_parse_net, "user,hostfwd=tcp::2222-:22,hostfwd=tcp::2222-:23", "forwarded twice");
    bad(virtio_parse_net, "user,hostfwd=sctp:1.2.3.4:1-:2", "not an IPv4 address");
    bad(virtio_parse_net, "user,mac=52:54:00:12:34", "six hex bytes");
    bad(virtio_parse_net, "user,mac=52:54:00:12:34:5g", "six hex bytes");
    bad(virtio_parse_net, "user,mac=01:00:5e:00:00:01", "multicast");
    bad(virtio_parse_net, "user,speed=1G", "unknown option 'speed'");
    bad(virtio_parse_net, "user,bps_burst=1M", "bps_burst without bps");
}

static void test_misc(void)
{
    struct virtio_config c;
    virtio_config_init(&c);
    CHECK_EQ(virtio_parse_balloon(&c, "256M"), 0);
    CHECK(c.balloon);
    CHECK_EQ(c.balloon_bytes, 256 << 20);
    CHECK_EQ(virtio_parse_console(&c, "file:/tmp/hvc0.log"), 0);
    CHECK(c.console && strcmp(c.console_path, "/tmp/hvc0.log") == 0);
    CHECK_EQ(virtio_parse_rng(&c, "off"), 0);
    CHECK(!c.rng);
    virtio_config_free(&c);
    bad(virtio_parse_balloon, "lots", "expected a size");
    bad(virtio_parse_balloon, "1001", "multiple of 4 KiB");
    bad(virtio_parse_console, "stdio", "expected file:PATH or none");
    bad(virtio_parse_console, "file:", "expected file:PATH or none");
    bad(virtio_parse_rng, "sometimes", "expected on or off");
}

int main(void)
{
    test_disk();
    test_net();
    test_misc();
    TEST_MAIN_END();
}
