#include "cli/console.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "hw/devices.h"
#include "util/log.h"
#include "vm/loop.h"
#include "vm/vm.h"

#define ESCAPE_CHAR 0x01 /* Ctrl-A */

/* The terminal is process-wide state, so this is the one place with
 * globals: the saved termios must be reachable from atexit and signals. */
static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

struct console {
    struct vm *vm;
    bool escape_pending;
    uint8_t pending[256]; /* typed but not yet taken by the UART */
    size_t npending;
    int retry_timer;      /* fired at once, on the loop thread, when the UART drains */
};

static struct console console_state;

void console_restore(void)
{
    if (termios_saved) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        termios_saved = 0;
    }
}

static void restore_and_die(int sig)
{
    console_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int enter_raw_mode(void)
{
    if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
        return -errno;
    struct termios raw = saved_termios;
    /* Everything goes to the guest, Ctrl-C included; the escape sequence
     * is the way out. Output processing stays on so host messages keep
     * their line breaks. */
    raw.c_iflag &= ~(unsigned)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    raw.c_lflag &= ~(unsigned)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw.c_cflag |= CS8;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
        return -errno;
    termios_saved = 1;
    atexit(console_restore);
    signal(SIGTERM, restore_and_die);
    signal(SIGHUP, restore_and_die);
    signal(SIGINT, restore_and_die);
    signal(SIGQUIT, restore_and_die);
    return 0;
}

static void flush_pending(struct console *c)
{
    size_t taken = uart_receive(c->vm->devices->com1, c->pending, c->npending);
    memmove(c->pending, c->pending + taken, c->npending - taken);
    c->npending -= taken;
    /* Stop reading the terminal while the guest is not keeping up; the
     * UART's rx-notify says when it has drained its FIFO. */
    loop_mod_fd(c->vm->loop, STDIN_FILENO, c->npending ? 0 : EPOLLIN);
}

/* The UART drained a FIFO that had refused bytes. Runs on a vCPU thread:
 * hand the retry to the loop thread, which owns the pending buffer. */
static void on_uart_drained(void *opaque)
{
    struct console *c = opaque;
    loop_set_timer(c->vm->loop, c->retry_timer, 1);
}

static uint64_t on_retry(void *opaque)
{
    flush_pending(opaque);
    return 0;
}

static void on_stdin(void *opaque, uint32_t events)
{
    (void)events;
    struct console *c = opaque;
    uint8_t buf[128];
    size_t room = sizeof(c->pending) - c->npending;
    if (room == 0)
        return; /* flush_pending() paused this watch; a timer retries */
    ssize_t n = read(STDIN_FILENO, buf, room < sizeof(buf) ? room : sizeof(buf));
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            loop_remove_fd(c->vm->loop, STDIN_FILENO); /* EOF: the guest just gets no input */
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        uint8_t ch = buf[i];
        if (c->escape_pending) {
            c->escape_pending = false;
            if (ch == 'x' || ch == 'X') {
                vm_request_stop(c->vm, VM_STOP_USER, NULL);
                return;
            }
            if (ch != ESCAPE_CHAR && c->npending < sizeof(c->pending))
                c->pending[c->npending++] = ESCAPE_CHAR;
        } else if (ch == ESCAPE_CHAR) {
            c->escape_pending = true;
            continue;
        }
        if (c->npending < sizeof(c->pending))
            c->pending[c->npending++] = ch;
    }
    flush_pending(c);
}

int console_attach(struct vm *vm)
{
    if (vm->config.console != CONSOLE_STDIO || !vm->devices || !vm->devices->com1)
        return 0;
    struct console *c = &console_state;
    memset(c, 0, sizeof(*c));
    c->vm = vm;
    if (isatty(STDIN_FILENO)) {
        int rc = enter_raw_mode();
        if (rc < 0)
            log_warn("console: cannot put the terminal in raw mode: %s", strerror(-rc));
    }
    c->retry_timer = loop_add_timer(vm->loop, 0, on_retry, c);
    if (c->retry_timer < 0)
        return c->retry_timer;
    uart_set_rx_notify(vm->devices->com1, on_uart_drained, c);
    /* stdin may be a file or /dev/null (CI): epoll refuses regular files,
     * and then the guest simply gets no input. */
    if (loop_add_fd(vm->loop, STDIN_FILENO, EPOLLIN, on_stdin, c) < 0)
        err_clear();
    return 0;
}
