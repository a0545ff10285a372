#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "../test.h"
#include "vm/loop.h"

struct ctx { atomic_int fires; atomic_int reads; int pipe_rd; };

static uint64_t on_timer(void *opaque)
{
    struct ctx *c = opaque;
    int n = atomic_fetch_add(&c->fires, 1) + 1;
    return n < 3 ? 1000000 : 0;   /* re-arm twice, then stop */
}

static void on_read(void *opaque, uint32_t events)
{
    (void)events;
    struct ctx *c = opaque;
    char b;
    if (read(c->pipe_rd, &b, 1) == 1)
        atomic_fetch_add(&c->reads, 1);
}

/* A slow handler: loop_sync() must wait until it has returned. */
struct slow { atomic_int inside, entered; int fd; };

static void on_slow(void *opaque, uint32_t events)
{
    (void)events;
    struct slow *s = opaque;
    char b;
    atomic_store(&s->inside, 1);
    atomic_fetch_add(&s->entered, 1);
    usleep(100000);
    if (read(s->fd, &b, 1) < 0)
        b = 0;
    atomic_store(&s->inside, 0);
}

static void wait_for(atomic_int *v, int target)
{
    for (int i = 0; i < 2000 && atomic_load(v) < target; i++)
        usleep(1000);
}

int main(void)
{
    struct io_loop *loop;
    CHECK_EQ(loop_create(&loop), 0);
    struct ctx c = { 0 };
    int p[2];
    CHECK_EQ(pipe(p), 0);
    c.pipe_rd = p[0];
    CHECK_EQ(loop_add_fd(loop, p[0], 1 /* EPOLLIN */, on_read, &c), 0);
    int id = loop_add_timer(loop, 1000000, on_timer, &c);
    CHECK(id >= 0);
    CHECK_EQ(loop_start(loop), 0);
    CHECK_EQ(write(p[1], "xy", 2), 2);
    wait_for(&c.reads, 2);
    CHECK_EQ(atomic_load(&c.reads), 2);
    wait_for(&c.fires, 3);
    usleep(20000);
    CHECK_EQ(atomic_load(&c.fires), 3);          /* stopped re-arming itself */
    CHECK_EQ(loop_set_timer(loop, id, 1000000), 0);
    wait_for(&c.fires, 4);
    CHECK_EQ(atomic_load(&c.fires), 4);
    CHECK_EQ(loop_set_timer(loop, 99, 1), -2 /* -ENOENT */);
    CHECK_EQ(loop_remove_fd(loop, p[0]), 0);

    /* loop_sync: returns on an idle loop, and only after a running handler */
    loop_sync(loop);
    struct slow s = { 0 };
    int q[2];
    CHECK_EQ(pipe(q), 0);
    s.fd = q[0];
    CHECK_EQ(loop_add_fd(loop, q[0], 1 /* EPOLLIN */, on_slow, &s), 0);
    CHECK_EQ(write(q[1], "z", 1), 1);
    wait_for(&s.entered, 1);
    CHECK_EQ(loop_remove_fd(loop, q[0]), 0);
    loop_sync(loop);
    CHECK_EQ(atomic_load(&s.entered), 1);
    CHECK_EQ(atomic_load(&s.inside), 0);
    loop_stop(loop);
    loop_sync(loop);                              /* stopped: returns at once */
    close(q[0]);
    close(q[1]);
    loop_destroy(loop);
    close(p[0]);
    close(p[1]);
    TEST_MAIN_END();
}
