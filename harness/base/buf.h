/* Growable byte/string buffer; always NUL-terminated.  Growth that cannot
 * be had aborts (base/mem.h): lg_buf_append and lg_buf_puts always return 0,
 * lg_buf_printf fails only (-EINVAL) when vsnprintf refuses the format. */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include "cleanup.h"

typedef struct lg_buf {
    char *data;
    size_t len;
    size_t cap;
} lg_buf;

#define LG_BUF_INIT { NULL, 0, 0 }

int lg_buf_append(lg_buf *buf, const void *data, size_t len);
int lg_buf_puts(lg_buf *buf, const char *s);
int lg_buf_printf(lg_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lg_buf_vprintf(lg_buf *buf, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Keeps only the last max_len bytes. */
void lg_buf_keep_tail(lg_buf *buf, size_t max_len);
void lg_buf_clear(lg_buf *buf);
/* The last non-empty line (a command's output usually says why it failed
 * there); trailing blanks are dropped from buf.  "" for an empty buffer. */
const char *lg_buf_last_line(lg_buf *buf);
/* Hands the string to the caller (never NULL); buffer is reset. */
char *lg_buf_steal(lg_buf *buf);
void lg_buf_free(lg_buf *buf);

static inline void lg_buf_autoclear(lg_buf *buf) { lg_buf_free(buf); }
#define LG_AUTOBUF __attribute__((cleanup(lg_buf_autoclear))) lg_buf

/* printf into a new string; never NULL (a result vsnprintf refuses, over
 * INT_MAX bytes, aborts like an allocation failure). */
char *lg_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Quote for a POSIX shell: 'it'\''s'.  Never NULL. */
char *lg_shell_quote(const char *s);
