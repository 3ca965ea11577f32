/* Helpers shared by the unit test programs (header-only: each program is
 * one translation unit).  Include after <cmocka.h>'s prerequisites. */
#pragma once
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/util.h"

#define FIXTURE(rel) LG_FIXTURES_DIR "/" rel

/* Group state for suites that need a scratch directory. */
typedef struct tmpdir_suite {
    char dir[64];
} tmpdir_suite;

/* Group setup/teardown: a fresh /tmp directory per test program. */
static inline int suite_setup_tmpdir(void **state)
{
    tmpdir_suite *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    snprintf(s->dir, sizeof(s->dir), "/tmp/lg-unit-XXXXXX");
    if (!mkdtemp(s->dir)) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static inline int suite_teardown_tmpdir(void **state)
{
    tmpdir_suite *s = *state;
    lg_remove_tree(s->dir);
    free(s);
    return 0;
}

/* Reads a whole fixture file; fails the test when it cannot. */
static inline char *read_fixture(const char *path, size_t *len)
{
    char *data = NULL;
    size_t n = 0;
    int rc = lg_read_file(path, 64u << 20, &data, &n);
    if (rc < 0)
        fail_msg("cannot read fixture %s: %d", path, rc);
    if (len)
        *len = n;
    return data;
}

/* 1-based number of the first line of `path` containing `needle`; the test
 * fails when there is none (so a fixture edit cannot silently move it). */
static inline int line_containing(const char *path, const char *needle)
{
    size_t len;
    char *text = read_fixture(path, &len);
    int line = 1;
    int found = 0;
    for (char *p = text; *p; line++) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char saved = p[n];
        p[n] = '\0';
        if (strstr(p, needle))
            found = line;
        p[n] = saved;
        if (found || !nl)
            break;
        p = nl + 1;
    }
    free(text);
    if (!found)
        fail_msg("no line of %s contains \"%s\"", path, needle);
    return found;
}

/* The resolved absolute path (the harness stores realpath()s). */
static inline char *real_path(const char *path)
{
    char buf[PATH_MAX];
    if (!realpath(path, buf))
        fail_msg("realpath(%s) failed", path);
    return strdup(buf);
}

/* Prints multi-line text as TAP comments ("# " on every line), so that a
 * failing test's context does not confuse the TAP reader. */
static inline void print_lines(const char *text)
{
    for (const char *p = text; p && *p;) {
        size_t n = strcspn(p, "\n");
        print_message("# %.*s\n", (int)n, p);
        p += n;
        p += *p == '\n';
    }
}
