/* Allocation failure aborts, as in libvirt and GLib: no caller handles it,
 * and no branch pretends to.  Use these instead of malloc/calloc/realloc/
 * strdup/strndup (tests/style.py's raw-alloc rule enforces it outside this
 * file's mem.c); they never return NULL (lg_strdup(NULL) and
 * lg_strndup(NULL, n) are NULL).  lg_buf grows through them too. */
#pragma once
#include <stddef.h>

void *lg_malloc0(size_t size);
void *lg_calloc(size_t n, size_t size);
/* Grows (or shrinks) p to n elements of size bytes; overflow aborts too. */
void *lg_realloc_n(void *p, size_t n, size_t size);
char *lg_strdup(const char *s);
char *lg_strndup(const char *s, size_t n);
/* Called when memory runs out: prints and aborts. */
_Noreturn void lg_oom(void);

#define LG_NEW0(type) ((type *)lg_malloc0(sizeof(type)))
