/* The host side of the serial console: the user's terminal.
 *
 * Puts a terminal stdin into raw mode (restored on every exit path), feeds
 * typed bytes to COM1, and implements QEMU's escape: Ctrl-A x quits,
 * Ctrl-A Ctrl-A sends one Ctrl-A. */
#ifndef BRUME_CLI_CONSOLE_H
#define BRUME_CLI_CONSOLE_H

struct vm;

/* Starts forwarding stdin to the guest's COM1. Call after vm_create(). */
int console_attach(struct vm *vm);

/* Restores the terminal. Safe to call more than once and from atexit. */
void console_restore(void);

#endif
