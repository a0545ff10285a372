/* The I/O loop: epoll over back-end fds, with timers as timerfds. */
#include "vm/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util/log.h"

/* One watched fd. Watches are freed only by loop_destroy(): a handler
 * removed while the loop thread may be about to call it must stay valid. */
struct watch {
    int fd;
    bool removed;
    bool is_timer;
    loop_fd_fn fd_fn;
    loop_timer_fn timer_fn;
    void *opaque;
    struct watch *next;
};

struct io_loop {
    int epfd;
    int stop_fd;          /* eventfd that wakes the loop to stop */
    int wake_fd;          /* eventfd that wakes the loop for loop_sync() */
    pthread_t thread;
    bool running;
    pthread_mutex_t lock; /* protects the watch list and timer table, batches, exited */
    pthread_cond_t batch_done;
    uint64_t batches;     /* epoll_wait rounds fully handled */
    bool exited;          /* the loop thread returned */
    struct watch *watches;
    struct watch **timers;
    int ntimers, timer_cap;
};

/* The wake_fd's epoll tag: not a watch, not NULL (NULL means stop). */
static struct watch wake_tag;

int loop_create(struct io_loop **out)
{
    struct io_loop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return err_set(-ENOMEM, "I/O loop: out of memory");
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (loop->epfd < 0 || loop->stop_fd < 0 || loop->wake_fd < 0) {
        int e = errno;
        if (loop->epfd >= 0)
            close(loop->epfd);
        if (loop->stop_fd >= 0)
            close(loop->stop_fd);
        if (loop->wake_fd >= 0)
            close(loop->wake_fd);
        free(loop);
        return err_set(-e, "I/O loop: %s", strerror(e));
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop_fd, &ev);
    ev.data.ptr = &wake_tag;
    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wake_fd, &ev);
    pthread_mutex_init(&loop->lock, NULL);
    pthread_cond_init(&loop->batch_done, NULL);
    *out = loop;
    return 0;
}

static struct watch *watch_new(struct io_loop *loop, int fd)
{
    struct watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->fd = fd;
    pthread_mutex_lock(&loop->lock);
    w->next = loop->watches;
    loop->watches = w;
    pthread_mutex_unlock(&loop->lock);
    return w;
}

static struct watch *watch_find(struct io_loop *loop, int fd)
{
    struct watch *found = NULL;
    pthread_mutex_lock(&loop->lock);
    for (struct watch *w = loop->watches; w; w = w->next)
        if (w->fd == fd && !w->removed)
            found = w;
    pthread_mutex_unlock(&loop->lock);
    return found;
}

int loop_add_fd(struct io_loop *loop, int fd, uint32_t events, loop_fd_fn fn, void *opaque)
{
    struct watch *w = watch_new(loop, fd);
    if (!w)
        return -ENOMEM;
    w->fd_fn = fn;
    w->opaque = opaque;
    struct epoll_event ev = { .events = events, .data.ptr = w };
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        w->removed = true;
        return err_set(-errno, "I/O loop: cannot watch fd %d: %s", fd, strerror(errno));
    }
    return 0;
}

int loop_mod_fd(struct io_loop *loop, int fd, uint32_t events)
{
    struct watch *w = watch_find(loop, fd);
    if (!w)
        return -ENOENT;
    struct epoll_event ev = { .events = events, .data.ptr = w };
    return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int loop_remove_fd(struct io_loop *loop, int fd)
{
    struct watch *w = watch_find(loop, fd);
    if (!w)
        return -ENOENT;
    w->removed = true;
    return epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

static int timer_arm(int fd, uint64_t delay_ns)
{
    struct itimerspec its = { 0 };
    /* A zero it_value disarms; a due-now timer still needs a non-zero one. */
    if (delay_ns) {
        its.it_value.tv_sec = (time_t)(delay_ns / 1000000000ull);
        its.it_value.tv_nsec = (long)(delay_ns % 1000000000ull);
    }
    return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int loop_add_timer(struct io_loop *loop, uint64_t delay_ns, loop_timer_fn fn, void *opaque)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (fd < 0)
        return err_set(-errno, "I/O loop: timerfd_create: %s", strerror(errno));
    struct watch *w = watch_new(loop, fd);
    if (!w) {
        close(fd);
        return -ENOMEM;
    }
    w->is_timer = true;
    w->timer_fn = fn;
    w->opaque = opaque;

    pthread_mutex_lock(&loop->lock);
    if (loop->ntimers == loop->timer_cap) {
        int cap = loop->timer_cap ? loop->timer_cap * 2 : 8;
        struct watch **t = realloc(loop->timers, (size_t)cap * sizeof(*t));
        if (!t) {
            pthread_mutex_unlock(&loop->lock);
            w->removed = true;
            return -ENOMEM;
        }
        loop->timers = t;
        loop->timer_cap = cap;
    }
    int id = loop->ntimers++;
    loop->timers[id] = w;
    pthread_mutex_unlock(&loop->lock);

    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return err_set(-errno, "I/O loop: cannot watch a timer: %s", strerror(errno));
    timer_arm(fd, delay_ns);
    return id;
}

int loop_set_timer(struct io_loop *loop, int timer_id, uint64_t delay_ns)
{
    pthread_mutex_lock(&loop->lock);
    struct watch *w = timer_id >= 0 && timer_id < loop->ntimers ? loop->timers[timer_id] : NULL;
    pthread_mutex_unlock(&loop->lock);
    if (!w)
        return -ENOENT;
    return timer_arm(w->fd, delay_ns);
}

static void loop_exited(struct io_loop *loop)
{
    pthread_mutex_lock(&loop->lock);
    loop->exited = true;
    pthread_cond_broadcast(&loop->batch_done);
    pthread_mutex_unlock(&loop->lock);
}

static void *loop_thread(void *arg)
{
    struct io_loop *loop = arg;
    struct epoll_event events[32];
    for (;;) {
        int n = epoll_wait(loop->epfd, events, 32, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_warn("I/O loop: epoll_wait: %s", strerror(errno));
            loop_exited(loop);
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            struct watch *w = events[i].data.ptr;
            if (!w) {
                loop_exited(loop);
                return NULL; /* the stop eventfd */
            }
            if (w == &wake_tag) {
                uint64_t v;
                ssize_t r = read(loop->wake_fd, &v, sizeof(v));
                (void)r;
                continue;
            }
            if (w->removed)
                continue;
            if (w->is_timer) {
                uint64_t expirations;
                if (read(w->fd, &expirations, sizeof(expirations)) != sizeof(expirations))
                    continue;
                uint64_t next = w->timer_fn(w->opaque);
                if (next)
                    timer_arm(w->fd, next);
            } else {
                w->fd_fn(w->opaque, events[i].events);
            }
        }
        pthread_mutex_lock(&loop->lock);
        loop->batches++;
        pthread_cond_broadcast(&loop->batch_done);
        pthread_mutex_unlock(&loop->lock);
    }
}

/* The round of handlers in progress (if any) ends; the next one sees every
 * removal made before this call. The wake-up makes an idle loop go round. */
void loop_sync(struct io_loop *loop)
{
    if (!loop->running || pthread_equal(pthread_self(), loop->thread))
        return;
    pthread_mutex_lock(&loop->lock);
    uint64_t target = loop->batches + 1;
    uint64_t one = 1;
    if (write(loop->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_warn("I/O loop: cannot wake: %s", strerror(errno));
    while (loop->batches < target && !loop->exited)
        pthread_cond_wait(&loop->batch_done, &loop->lock);
    pthread_mutex_unlock(&loop->lock);
}

int loop_start(struct io_loop *loop)
{
    loop->exited = false;
    int rc = pthread_create(&loop->thread, NULL, loop_thread, loop);
    if (rc)
        return err_set(-rc, "I/O loop: cannot start thread: %s", strerror(rc));
    loop->running = true;
    return 0;
}

void loop_stop(struct io_loop *loop)
{
    if (!loop->running)
        return;
    uint64_t one = 1;
    if (write(loop->stop_fd, &one, sizeof(one)) < 0)
        log_warn("I/O loop: cannot signal stop: %s", strerror(errno));
    pthread_join(loop->thread, NULL);
    loop->running = false;
}

void loop_destroy(struct io_loop *loop)
{
    if (!loop)
        return;
    loop_stop(loop);
    struct watch *w = loop->watches;
    while (w) {
        struct watch *next = w->next;
        if (w->is_timer)
            close(w->fd);
        free(w);
        w = next;
    }
    free(loop->timers);
    close(loop->epfd);
    close(loop->stop_fd);
    close(loop->wake_fd);
    pthread_mutex_destroy(&loop->lock);
    pthread_cond_destroy(&loop->batch_done);
    free(loop);
}
