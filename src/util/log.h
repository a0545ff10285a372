/* Diagnostics shared by every subsystem.
 *
 * Library code (everything outside src/cli) reports failures by returning a
 * negative errno and, where the caller cannot know the context, by leaving a
 * one-line reason with err_set(). Only src/cli prints and exits. */
#ifndef BRUME_UTIL_LOG_H
#define BRUME_UTIL_LOG_H

#include <stdarg.h>

/* Records the reason for the last failure on this thread (printf format).
 * Returns -errnum so that callers can write `return err_set(-EINVAL, ...)`. */
int err_set(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The reason recorded by the last err_set() on this thread, or "" if none. */
const char *err_get(void);

/* Clears the recorded reason. */
void err_clear(void);

/* Writes "brume: <message>\n" to stderr. For warnings that do not stop the
 * VM (a device marked broken, a probed image format). Thread-safe. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes a message only when BRUME_DEBUG is set in the environment. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
