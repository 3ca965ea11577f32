/* Console signature scanner: fed raw serial bytes in chunks of any size, it
 * reassembles lines and recognises kernel crash reports.  Titles are
 * canonical (kind + guilty function, no addresses or numbers), so the same bug
 * gets the same title on every run and every machine. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct lg_scanner lg_scanner;

/* Called for every complete line (printk timestamp removed). */
typedef void (*lg_scanner_line_fn)(void *opaque, const char *line, size_t line_no);

lg_scanner *lg_scanner_new(void);
void lg_scanner_free(lg_scanner *sc);
void lg_scanner_set_line_fn(lg_scanner *sc, lg_scanner_line_fn fn, void *opaque);
/* Returns true when this chunk produced the first hit or refined its title. */
bool lg_scanner_feed(lg_scanner *sc, const char *data, size_t len);
/* Scans a last line that has no newline (end of a saved log). */
bool lg_scanner_finish(lg_scanner *sc);

bool lg_scanner_hit(const lg_scanner *sc);
/* Title of the first crash report, or NULL. */
const char *lg_scanner_title(const lg_scanner *sc);
/* True once the title names the guilty function. */
bool lg_scanner_title_specific(const lg_scanner *sc);
/* 1-based line number where the first report starts (0 if none). */
size_t lg_scanner_hit_line(const lg_scanner *sc);

/* Canonical title for one report: exposed for tests. */
char *lg_scanner_canonical_title(const char *kind, const char *function);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_scanner, lg_scanner_free)
