#include "watch/leakscan.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "watch/scanner.h"

LG_LOG_INIT("leakscan");

/* A report bigger than this is the detector gone wild: the first objects say enough. */
#define MAX_OBJECTS 100000
#define MAX_TITLES 256

typedef struct leak_title {
    char *title;
    size_t count;
    size_t first; /* order of first appearance, for ties */
} leak_title;

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* The line at p (up to end) opens an object's block: "unreferenced object
 * 0x", possibly behind kmemleak.verbose's "kmemleak: " and a timestamp. */
static bool opens_block(const char *p, const char *end)
{
    static const char open[] = "unreferenced object 0x";
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    size_t n = (size_t)(line_end - p);
    for (size_t i = 0; i + sizeof(open) - 1 <= n; i++)
        if (memcmp(p + i, open, sizeof(open) - 1) == 0)
            return i == 0 || p[i - 1] == ' ' || p[i - 1] == ']';
    return false;
}

static int by_count(const void *a, const void *b)
{
    const leak_title *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* One block, through a scanner of its own: its title. */
static char *block_title(const char *start, const char *end)
{
    LG_AUTO(lg_scanner) sc = lg_scanner_new();
    lg_scanner_feed(sc, start, (size_t)(end - start));
    lg_scanner_finish(sc);
    const char *title = lg_scanner_title(sc);
    return lg_strdup(title ? title : "memory leak");
}

/* Counts the block from start to end under its title. */
static void add_block(leak_title *titles, size_t *n_titles, size_t *overflow, const char *start, const char *end)
{
    LG_AUTOFREE char *title = block_title(start, end);
    for (size_t i = 0; i < *n_titles; i++) {
        if (strcmp(titles[i].title, title) == 0) {
            titles[i].count++;
            return;
        }
    }
    if (*n_titles == MAX_TITLES) {
        (*overflow)++;
        return;
    }
    titles[*n_titles] = (leak_title){ .title = LG_STEAL(title), .count = 1, .first = *n_titles };
    (*n_titles)++;
}

char *lg_leakscan_summarize(const char *text, size_t len, size_t *n_objects)
{
    const char *end = text + len;
    leak_title titles[MAX_TITLES];
    size_t n_titles = 0, objects = 0, untitled_overflow = 0;
    const char *block = NULL;
    for (const char *p = text; p < end && objects < MAX_OBJECTS;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (opens_block(skip_blanks(p, end), end)) {
            if (block) {
                add_block(titles, &n_titles, &untitled_overflow, block, p);
                objects++;
            }
            block = p;
        }
        p = nl ? nl + 1 : end;
    }
    if (block && objects < MAX_OBJECTS) {
        add_block(titles, &n_titles, &untitled_overflow, block, end);
        objects++;
    }
    if (n_objects)
        *n_objects = objects;
    if (objects == 0)
        return NULL;
    qsort(titles, n_titles, sizeof(titles[0]), by_count);
    lg_buf out = LG_BUF_INIT;
    lg_buf_printf(&out, "kmemleak: %zu unreferenced object%s: ", objects, objects == 1 ? "" : "s");
    for (size_t i = 0; i < n_titles && i < LG_LEAKSCAN_MAX_TITLES; i++) {
        lg_buf_printf(&out, "%s%s", i ? ", " : "", titles[i].title);
        if (titles[i].count > 1)
            lg_buf_printf(&out, " (%zu)", titles[i].count);
    }
    size_t more = (n_titles > LG_LEAKSCAN_MAX_TITLES ? n_titles - LG_LEAKSCAN_MAX_TITLES : 0) + untitled_overflow;
    if (more)
        lg_buf_printf(&out, " and %zu more", more);
    for (size_t i = 0; i < n_titles; i++)
        free(titles[i].title);
    LG_DEBUG("%zu objects, %zu titles", objects, n_titles);
    return lg_buf_steal(&out);
}
