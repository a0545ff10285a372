/* The I/O loop: one thread per VM that waits (epoll) on back-end file
 * descriptors (console input, disk completions, network sockets, timers) and
 * calls their handlers. Handlers run on the loop thread; a device whose state
 * is also touched by vCPU threads takes its own lock. */
#ifndef BRUME_VM_LOOP_H
#define BRUME_VM_LOOP_H

#include <stdint.h>

struct io_loop;

/* Called with the epoll events that fired (EPOLLIN, ...). */
typedef void (*loop_fd_fn)(void *opaque, uint32_t events);
/* Called when a timer expires; returns the next delay in ns, or 0 to stop. */
typedef uint64_t (*loop_timer_fn)(void *opaque);

int loop_create(struct io_loop **out);
void loop_destroy(struct io_loop *loop);

/* Watches fd for events (EPOLLIN and/or EPOLLOUT). Returns 0 or -errno. */
int loop_add_fd(struct io_loop *loop, int fd, uint32_t events, loop_fd_fn fn, void *opaque);
int loop_mod_fd(struct io_loop *loop, int fd, uint32_t events);
int loop_remove_fd(struct io_loop *loop, int fd);
/* Returns once the loop thread has finished any handler it was running:
 * after loop_remove_fd() then loop_sync(), the removed handler's opaque may
 * be freed. Returns at once when the loop is not running, or when called
 * on the loop thread itself. */
void loop_sync(struct io_loop *loop);

/* Runs fn after delay_ns, then again after each delay it returns.
 * Returns a timer id >= 0 or -errno. */
int loop_add_timer(struct io_loop *loop, uint64_t delay_ns, loop_timer_fn fn, void *opaque);
/* Re-arms a timer (0 disarms it). Thread-safe. */
int loop_set_timer(struct io_loop *loop, int timer_id, uint64_t delay_ns);

/* Starts the loop thread / stops and joins it. */
int loop_start(struct io_loop *loop);
void loop_stop(struct io_loop *loop);

#endif
