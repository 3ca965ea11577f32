/* Diagnostics for bad input: every problem is reported as FILE:LINE: message. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct lg_diag {
    char *file;
    int line;     /* 0 when the problem is not tied to a line */
    bool warning; /* warnings do not make input invalid */
    char *message;
} lg_diag;

typedef struct lg_diags {
    lg_diag *items;
    size_t n;
} lg_diags;

void lg_diags_add(lg_diags *diags, const char *file, int line, bool warning,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
size_t lg_diags_errors(const lg_diags *diags);
void lg_diags_print(const lg_diags *diags, FILE *out);
void lg_diags_clear(lg_diags *diags);
