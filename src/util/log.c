#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[512];
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

int err_set(int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    return errnum;
}

const char *err_get(void)
{
    return last_error;
}

void err_clear(void)
{
    last_error[0] = '\0';
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&stderr_lock);
    fputs("brume: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&stderr_lock);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    static int enabled = -1;
    if (enabled < 0)
        enabled = getenv("BRUME_DEBUG") != NULL;
    if (!enabled)
        return;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&stderr_lock);
    fputs("brume[debug]: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&stderr_lock);
    va_end(ap);
}
