/* The libslirp back-end: it answers the guest's ARP for the gateway,
 * forwards a host port (a connection to it becomes frames for the guest),
 * and refuses a host port already in use with a one-line reason. The loop
 * thread is not started: the test thread plays it, so slirp stays
 * single-threaded. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../test.h"
#include "net/net.h"
#include "util/log.h"
#include "vm/loop.h"

static int nframes, nother;
static uint8_t last[2048], other[2048];
static size_t last_len;

static bool is_arp_reply(const uint8_t *f, size_t len)
{
    return len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2;
}

static void rx(void *opaque, const uint8_t *frame, size_t len)
{
    (void)opaque;
    nframes++;
    last_len = len < sizeof(last) ? len : sizeof(last);
    memcpy(last, frame, last_len);
    if (!is_arp_reply(frame, len)) {
        nother++;
        memcpy(other, frame, last_len);
    }
}

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static int send_arp_for_gateway(struct net_backend *be)
{
    uint8_t f[42] = {0};
    memset(f, 0xff, 6);
    memcpy(f + 6, guest_mac, 6);
    f[12] = 0x08; f[13] = 0x06;                 /* ARP */
    f[14] = 0; f[15] = 1;                       /* Ethernet */
    f[16] = 0x08; f[17] = 0x00;                 /* IPv4 */
    f[18] = 6; f[19] = 4; f[20] = 0; f[21] = 1; /* request */
    memcpy(f + 22, guest_mac, 6);
    uint8_t spa[4] = {10, 0, 2, 15}, tpa[4] = {10, 0, 2, 2};
    memcpy(f + 28, spa, 4);
    memcpy(f + 38, tpa, 4);
    struct iovec iov = {f, sizeof(f)};
    return be->ops->send(be, &iov, 1);
}

/* A free loopback port: bind to 0 and read it back. */
static uint16_t free_port(int type, int *keep_fd)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&sin, sizeof(sin));
    socklen_t sl = sizeof(sin);
    getsockname(fd, (struct sockaddr *)&sin, &sl);
    if (type == SOCK_STREAM)
        listen(fd, 1);
    if (keep_fd)
        *keep_fd = fd;
    else
        close(fd);
    return ntohs(sin.sin_port);
}

int main(void)
{
    struct io_loop *loop;
    CHECK_EQ(loop_create(&loop), 0);

    struct net_user_opts o = {0};
    o.nfwd = 2;
    o.fwd[0] = (struct net_hostfwd){false, htonl(INADDR_LOOPBACK), free_port(SOCK_STREAM, NULL), 0, 22};
    o.fwd[1] = (struct net_hostfwd){true, htonl(INADDR_LOOPBACK), free_port(SOCK_DGRAM, NULL), 0, 53};
    struct net_backend *be = NULL;
    int rc = net_slirp_open(loop, &o, &be);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err_get());
        return 1;
    }
    be->rx = rx;

    /* ARP: who has 10.0.2.2? slirp answers with the gateway's MAC */
    CHECK_EQ(send_arp_for_gateway(be), 0);
    CHECK(nframes >= 1);
    CHECK(last_len >= 42);
    CHECK_EQ(last[12], 0x08);
    CHECK_EQ(last[13], 0x06);
    CHECK_EQ(last[21], 2);                     /* reply */
    CHECK(memcmp(last, guest_mac, 6) == 0);    /* to us */
    CHECK(last[28] == 10 && last[31] == 2);    /* from 10.0.2.2 */

    /* a host connection to the forwarded port turns into guest frames */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(o.fwd[0].host_port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_EQ(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
    /* each send runs a slirp cycle, which accepts the connection */
    for (int i = 0; i < 200 && nother == 0; i++) {
        send_arp_for_gateway(be);
        usleep(1000);
    }
    CHECK(nother > 0);
    /* slirp sends the SYN (IPv4), or first asks who has 10.0.2.15 */
    bool syn_or_arp = (other[12] == 0x08 && other[13] == 0x00) ||
                      (other[12] == 0x08 && other[13] == 0x06 && other[21] == 1 &&
                       other[38] == 10 && other[41] == 15);
    CHECK(syn_or_arp);
    close(c);
    net_backend_close(be);

    /* a host port already in use: one line that says so */
    int busy;
    uint16_t port = free_port(SOCK_STREAM, &busy);
    struct net_user_opts o2 = {0};
    o2.nfwd = 1;
    o2.fwd[0] = (struct net_hostfwd){false, htonl(INADDR_LOOPBACK), port, 0, 22};
    rc = net_slirp_open(loop, &o2, &be);
    CHECK_EQ(rc, -EADDRINUSE);
    CHECK(strstr(err_get(), "already in use") != NULL);
    CHECK(strchr(err_get(), '\n') == NULL);
    fprintf(stderr, "expected error: %s\n", err_get());
    close(busy);

    /* TAP: without /dev/net/tun or the right to create one, a clear error */
    rc = net_tap_open(loop, "brumetest0", &be);
    if (rc == 0) {
        net_backend_close(be);
    } else {
        CHECK(strstr(err_get(), "--net tap,ifname=brumetest0") != NULL);
        fprintf(stderr, "tap: %s\n", err_get());
    }
    rc = net_tap_open(loop, "a-name-that-is-far-too-long", &be);
    CHECK_EQ(rc, -EINVAL);

    loop_destroy(loop);
    TEST_MAIN_END();
}
