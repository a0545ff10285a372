/* The TAP back-end moving real frames, inside a network namespace of its
 * own (so the host's network is untouched): a frame the guest sends comes
 * out of the interface, a frame sent into the interface reaches the guest,
 * and pausing reception holds frames in the kernel until it resumes.
 * Skips (77) where namespaces or /dev/net/tun are not available. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../test.h"
#include "net/net.h"
#include "util/log.h"
#include "vm/loop.h"

#define ETHERTYPE_TEST 0x88b5  /* IEEE local experimental */
#define IFNAME "brumetap0"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int got;
static char last_payload[32];

static void rx(void *opaque, const uint8_t *f, size_t len)
{
    (void)opaque;
    if (len < 14 + 8 || f[12] != 0x88 || f[13] != 0xb5)
        return;  /* not ours (e.g. IPv6 router solicitations) */
    pthread_mutex_lock(&lock);
    got++;
    memcpy(last_payload, f + 14, 8);
    last_payload[8] = '\0';
    pthread_mutex_unlock(&lock);
}

static int count(void)
{
    pthread_mutex_lock(&lock);
    int n = got;
    pthread_mutex_unlock(&lock);
    return n;
}

static void frame(uint8_t *f, const char *payload)
{
    memset(f, 0xff, 6);
    const uint8_t src[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    memset(f + 14, 0, 46);
    memcpy(f + 14, payload, strlen(payload));
}

static bool wait_count(int n)
{
    for (int i = 0; i < 3000 && count() < n; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    return count() >= n;
}

int main(void)
{
    if (unshare(CLONE_NEWNET) < 0) {
        printf("skipped: cannot create a network namespace (%s)\n", strerror(errno));
        return 77;
    }
    struct io_loop *loop;
    CHECK_EQ(loop_create(&loop), 0);
    struct net_backend *be;
    if (net_tap_open(loop, IFNAME, &be) < 0) {
        printf("skipped: %s\n", err_get());
        loop_destroy(loop);
        return 77;
    }
    be->rx = rx;
    CHECK_EQ(loop_start(loop), 0);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, IFNAME);
    CHECK_EQ(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    CHECK_EQ(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
    close(s);
    int ifindex = (int)if_nametoindex(IFNAME);
    CHECK(ifindex > 0);

    int ps = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE_TEST));
    CHECK(ps >= 0);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE_TEST),
                              .sll_ifindex = ifindex};
    CHECK_EQ(bind(ps, (struct sockaddr *)&sll, sizeof(sll)), 0);
    struct timeval tv = {3, 0};
    setsockopt(ps, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    /* guest -> world */
    uint8_t f[60], in[2048];
    frame(f, "brume-tx");
    struct iovec iov[2] = {{f, 20}, {f + 20, 40}};
    CHECK_EQ(be->ops->send(be, iov, 2), 0);
    ssize_t n = recv(ps, in, sizeof(in), 0);
    CHECK_EQ(n, 60);
    CHECK(n >= 22 && memcmp(in + 14, "brume-tx", 8) == 0);

    /* world -> guest */
    frame(f, "brume-rx");
    CHECK_EQ(send(ps, f, 60, 0), 60);
    CHECK(wait_count(1));
    CHECK(strcmp(last_payload, "brume-rx") == 0);

    /* paused: the frame stays in the kernel's queue, then arrives */
    be->ops->set_receive(be, false);
    frame(f, "brume-p1");
    CHECK_EQ(send(ps, f, 60, 0), 60);
    nanosleep(&(struct timespec){0, 50000000}, NULL);
    CHECK_EQ(count(), 1);
    be->ops->set_receive(be, true);
    CHECK(wait_count(2));
    CHECK(strcmp(last_payload, "brume-p1") == 0);

    close(ps);
    loop_stop(loop);
    net_backend_close(be);
    loop_destroy(loop);
    TEST_MAIN_END();
}
