/* User-mode networking through libslirp: NAT, DHCP, DNS and host port
 * forwarding, without privileges.
 *
 * libslirp is poll()-shaped; the I/O loop is epoll. Each "cycle" runs the
 * due slirp timers, asks slirp which sockets it wants (slirp_pollfds_fill),
 * polls them without waiting, lets slirp handle what is ready, and then
 * brings the loop's watches in line with what slirp wants next (EPOLLIN
 * only while slirp can take data, so level-triggered epoll never spins).
 * A cycle runs when a watched socket is ready, when the guest sends a
 * frame, and on one loop timer armed for slirp's next deadline. All of it
 * runs on the loop thread; libslirp is not thread-safe and needs nothing
 * more. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <libslirp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "util/log.h"
#include "vm/loop.h"
#include "vm/vm.h"

struct slirp_timer {
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms;        /* -1: not armed */
    struct slirp_timer *next;
};

struct watched {
    int fd;
    uint32_t events;
};

struct slirp_be {
    struct net_backend be;
    Slirp *slirp;
    struct slirp_timer *timers;
    int timer_id;             /* the loop timer */
    struct pollfd *pfds;
    int npfds, pfd_cap;
    struct watched *w;
    int nw, w_cap;
    bool in_cycle, again;
};

static void cycle(struct slirp_be *s);

static int64_t now_ms(void)
{
    return (int64_t)(vm_clock_ns() / 1000000);
}

/* ---- SlirpCb ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct slirp_be *s = opaque;
    if (s->be.rx)
        s->be.rx(s->be.rx_opaque, buf, len);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    log_debug("slirp: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return (int64_t)vm_clock_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct slirp_be *s = opaque;
    struct slirp_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = s->timers;
    s->timers = t;
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct slirp_be *s = opaque;
    for (struct slirp_timer **p = &s->timers; *p; p = &(*p)->next) {
        if (*p == timer) {
            *p = ((struct slirp_timer *)timer)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_time, void *opaque)
{
    struct slirp_be *s = opaque;
    ((struct slirp_timer *)timer)->expire_ms = expire_time;
    s->again = true;  /* re-arm the loop timer at the end of this cycle */
    if (!s->in_cycle)
        loop_set_timer(s->be.loop, s->timer_id, 1);
}

static void fd_ready(void *opaque, uint32_t events);

static struct watched *find_watch(struct slirp_be *s, int fd)
{
    for (int i = 0; i < s->nw; i++)
        if (s->w[i].fd == fd)
            return &s->w[i];
    return NULL;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;  /* watched lazily, with the events slirp asks for */
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
    struct slirp_be *s = opaque;
    struct watched *w = find_watch(s, fd);
    if (!w)
        return;
    /* called before slirp closes fd: the number is still ours */
    loop_remove_fd(s->be.loop, fd);
    *w = s->w[--s->nw];
}

static void cb_notify(void *opaque)
{
    struct slirp_be *s = opaque;
    s->again = true;
    if (!s->in_cycle)
        loop_set_timer(s->be.loop, s->timer_id, 1);
}

static const SlirpCb slirp_cbs = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
};

/* ---- the poll bridge ---- */

static int add_poll(int fd, int events, void *opaque)
{
    struct slirp_be *s = opaque;
    if (s->npfds == s->pfd_cap) {
        int cap = s->pfd_cap ? 2 * s->pfd_cap : 16;
        struct pollfd *p = realloc(s->pfds, (size_t)cap * sizeof(*p));
        if (!p)
            return -1;
        s->pfds = p;
        s->pfd_cap = cap;
    }
    short ev = 0;
    if (events & SLIRP_POLL_IN) ev |= POLLIN;
    if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
    s->pfds[s->npfds] = (struct pollfd){.fd = fd, .events = ev};
    return s->npfds++;
}

static int get_revents(int idx, void *opaque)
{
    struct slirp_be *s = opaque;
    if (idx < 0 || idx >= s->npfds)
        return 0;
    short r = s->pfds[idx].revents;
    int ev = 0;
    if (r & POLLIN) ev |= SLIRP_POLL_IN;
    if (r & POLLOUT) ev |= SLIRP_POLL_OUT;
    if (r & POLLPRI) ev |= SLIRP_POLL_PRI;
    if (r & POLLERR) ev |= SLIRP_POLL_ERR;
    if (r & POLLHUP) ev |= SLIRP_POLL_HUP;
    return ev;
}

/* Makes the loop watch exactly what the last fill asked for. */
static void reconcile(struct slirp_be *s)
{
    for (int i = 0; i < s->npfds; i++) {
        int fd = s->pfds[i].fd;
        uint32_t ev = 0;
        if (s->pfds[i].events & POLLIN) ev |= EPOLLIN;
        if (s->pfds[i].events & POLLOUT) ev |= EPOLLOUT;
        if (s->pfds[i].events & POLLPRI) ev |= EPOLLPRI;
        struct watched *w = find_watch(s, fd);
        if (w) {
            if (w->events != ev && loop_mod_fd(s->be.loop, fd, ev) == 0)
                w->events = ev;
            continue;
        }
        if (s->nw == s->w_cap) {
            int cap = s->w_cap ? 2 * s->w_cap : 16;
            struct watched *n = realloc(s->w, (size_t)cap * sizeof(*n));
            if (!n)
                continue;
            s->w = n;
            s->w_cap = cap;
        }
        if (loop_add_fd(s->be.loop, fd, ev, fd_ready, s) == 0)
            s->w[s->nw++] = (struct watched){fd, ev};
    }
    /* sockets slirp no longer lists (but has not closed) stay quiet */
    for (int i = 0; i < s->nw; i++) {
        bool listed = false;
        for (int k = 0; k < s->npfds && !listed; k++)
            listed = s->pfds[k].fd == s->w[i].fd;
        if (!listed && s->w[i].events && loop_mod_fd(s->be.loop, s->w[i].fd, 0) == 0)
            s->w[i].events = 0;
    }
}

static void cycle(struct slirp_be *s)
{
    if (s->in_cycle)
        return;
    s->in_cycle = true;
    int64_t now = now_ms();
    /* due timers (a callback may add, free or re-arm timers: restart) */
    for (bool fired = true; fired;) {
        fired = false;
        for (struct slirp_timer *t = s->timers; t; t = t->next) {
            if (t->expire_ms >= 0 && t->expire_ms <= now) {
                t->expire_ms = -1;
                t->cb(t->cb_opaque);
                fired = true;
                break;
            }
        }
    }
    uint32_t timeout = UINT32_MAX;
    s->npfds = 0;
    slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
    int rc = s->npfds ? poll(s->pfds, (nfds_t)s->npfds, 0) : 0;
    slirp_pollfds_poll(s->slirp, rc < 0, get_revents, s);

    timeout = UINT32_MAX;
    s->npfds = 0;
    slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
    reconcile(s);

    int64_t next = timeout == UINT32_MAX ? 1000 : (int64_t)timeout;
    for (struct slirp_timer *t = s->timers; t; t = t->next)
        if (t->expire_ms >= 0 && t->expire_ms - now < next)
            next = t->expire_ms - now;
    if (s->again) {
        s->again = false;
        next = 0;
    }
    if (next < 1)
        next = 1;
    s->in_cycle = false;
    loop_set_timer(s->be.loop, s->timer_id, (uint64_t)next * 1000000ull);
}

static void fd_ready(void *opaque, uint32_t events)
{
    (void)events;
    cycle(opaque);
}

static uint64_t timer_fired(void *opaque)
{
    cycle(opaque);
    return 0;  /* cycle re-armed it */
}

/* ---- back-end ops ---- */

static int slirp_send(struct net_backend *be, const struct iovec *iov, int iovcnt)
{
    struct slirp_be *s = (struct slirp_be *)be;
    static_assert(NET_MAX_FRAME < 70000, "frame buffer size");
    uint8_t buf[NET_MAX_FRAME];
    size_t len = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > sizeof(buf) - len)
            return -EMSGSIZE;
        memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    slirp_input(s->slirp, buf, (int)len);
    cycle(s);
    return 0;
}

static void slirp_close(struct net_backend *be)
{
    struct slirp_be *s = (struct slirp_be *)be;
    if (s->timer_id >= 0)
        loop_set_timer(be->loop, s->timer_id, 0);
    for (int i = 0; i < s->nw; i++)
        loop_remove_fd(be->loop, s->w[i].fd);
    s->nw = 0;
    if (s->slirp)
        slirp_cleanup(s->slirp);
    while (s->timers) {
        struct slirp_timer *t = s->timers;
        s->timers = t->next;
        free(t);
    }
    free(s->pfds);
    free(s->w);
    free(s);
}

static const struct net_backend_ops slirp_ops = {
    .send = slirp_send,
    .close = slirp_close,
};

/* Why a forward failed: try the bind ourselves to get the errno. */
static int hostfwd_error(const struct net_hostfwd *f)
{
    char addr[INET_ADDRSTRLEN];
    struct in_addr a = {f->host_addr};
    inet_ntop(AF_INET, &a, addr, sizeof(addr));
    const char *proto = f->udp ? "udp" : "tcp";
    int fd = socket(AF_INET, f->udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    int e = EADDRINUSE;
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(f->host_port), .sin_addr = a};
        if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
            e = errno;
        close(fd);
    }
    if (e == EADDRINUSE)
        return err_set(-EADDRINUSE, "hostfwd=%s:%s:%u: host port %u is already in use",
                       proto, addr, f->host_port, f->host_port);
    return err_set(-e, "hostfwd=%s:%s:%u: cannot listen: %s", proto, addr, f->host_port, strerror(e));
}

int net_slirp_open(struct io_loop *loop, const struct net_user_opts *opts, struct net_backend **out)
{
    struct slirp_be *s = calloc(1, sizeof(*s));
    if (!s)
        return err_set(-ENOMEM, "--net user: out of memory");
    s->be.ops = &slirp_ops;
    s->be.loop = loop;
    s->timer_id = loop_add_timer(loop, 0, timer_fired, s);
    if (s->timer_id < 0) {
        int rc = s->timer_id;
        free(s);
        return rc;
    }

    SlirpConfig cfg = {0};
    cfg.version = 1;
    cfg.restricted = 0;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.in6_enabled = false;
    cfg.vhostname = "brume";
    cfg.if_mtu = 1500;
    cfg.if_mru = 1500;
    s->slirp = slirp_new(&cfg, &slirp_cbs, s);
    if (!s->slirp) {
        s->be.ops->close(&s->be);
        return err_set(-ENOMEM, "--net user: libslirp failed to start");
    }
    for (int i = 0; i < opts->nfwd; i++) {
        const struct net_hostfwd *f = &opts->fwd[i];
        struct in_addr h = {f->host_addr}, g = {f->guest_addr};
        if (slirp_add_hostfwd(s->slirp, f->udp, h, f->host_port, g, f->guest_port) < 0) {
            int rc = hostfwd_error(f);
            s->be.ops->close(&s->be);
            return rc;
        }
    }
    cycle(s);  /* watch the forwarding sockets */
    *out = &s->be;
    return 0;
}
