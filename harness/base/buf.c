#include "buf.h"
#include "mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Growth that cannot be had aborts (base/mem.h). */
static void buf_reserve(lg_buf *buf, size_t extra)
{
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap *= 2;
    char *data = lg_realloc_n(buf->data, cap, 1);
    /* a fresh buffer is a string too (lg_buf_steal of an empty buffer) */
    data[buf->len] = '\0';
    buf->data = data;
    buf->cap = cap;
}

int lg_buf_append(lg_buf *buf, const void *data, size_t len)
{
    buf_reserve(buf, len);
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

int lg_buf_puts(lg_buf *buf, const char *s)
{
    return lg_buf_append(buf, s, strlen(s));
}

int lg_buf_vprintf(lg_buf *buf, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return -EINVAL;
    buf_reserve(buf, (size_t)n);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return 0;
}

int lg_buf_printf(lg_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = lg_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

void lg_buf_keep_tail(lg_buf *buf, size_t max_len)
{
    if (buf->len <= max_len)
        return;
    memmove(buf->data, buf->data + buf->len - max_len, max_len);
    buf->len = max_len;
    buf->data[buf->len] = '\0';
}

void lg_buf_clear(lg_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

char *lg_buf_steal(lg_buf *buf)
{
    if (!buf->data)
        buf_reserve(buf, 0);
    char *s = buf->data;
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return s;
}

void lg_buf_free(lg_buf *buf)
{
    if (!buf)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

char *lg_strdup_printf(const char *fmt, ...)
{
    lg_buf buf = LG_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    int rc = lg_buf_vprintf(&buf, fmt, ap);
    va_end(ap);
    if (rc < 0)
        lg_oom(); /* vsnprintf refuses only a result beyond INT_MAX bytes */
    return lg_buf_steal(&buf);
}

char *lg_shell_quote(const char *s)
{
    lg_buf buf = LG_BUF_INIT;
    lg_buf_puts(&buf, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            lg_buf_puts(&buf, "'\\''");
        else
            lg_buf_append(&buf, p, 1);
    }
    lg_buf_puts(&buf, "'");
    return lg_buf_steal(&buf);
}

const char *lg_buf_last_line(lg_buf *buf)
{
    if (!buf->data)
        return "";
    while (buf->len && strchr("\n\r ", buf->data[buf->len - 1]))
        buf->data[--buf->len] = '\0';
    char *nl = strrchr(buf->data, '\n');
    return nl ? nl + 1 : buf->data;
}
