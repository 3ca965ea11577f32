#include "mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void lg_oom(void)
{
    static const char msg[] = "labgate: out of memory\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)ignored;
    abort();
}

void *lg_malloc0(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p)
        lg_oom();
    return p;
}

void *lg_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        lg_oom();
    return p;
}

void *lg_realloc_n(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        lg_oom();
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        lg_oom();
    return q;
}

char *lg_strdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        lg_oom();
    return d;
}

char *lg_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = strndup(s, n);
    if (!d)
        lg_oom();
    return d;
}
