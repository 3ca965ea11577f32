#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

void lg_error_set(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
}

const char *lg_error_msg(void)
{
    return last_error[0] ? last_error : "unknown error";
}

void lg_error_clear(void)
{
    last_error[0] = '\0';
}

void lg_error_save(lg_error_saved *saved)
{
    memcpy(saved->msg, last_error, sizeof(saved->msg));
}

void lg_error_restore(lg_error_saved *saved)
{
    memcpy(last_error, saved->msg, sizeof(last_error));
}
