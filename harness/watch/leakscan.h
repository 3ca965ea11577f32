/* A kernel leak detector's report as findings: kmemleak's debugfs file
 * holds one block per unreferenced object ("unreferenced object 0x...
 * (size N):", the allocating task, a hex dump, the allocation backtrace).
 * Each block is titled as the console scanner titles a leak ("memory leak
 * in FUNCTION", the first frame that is not the allocator's), and equal
 * titles are counted. */
#pragma once
#include <stddef.h>

/* NULL when the report names no object; otherwise one line for the job's
 * timeline: "kmemleak: 3 unreferenced objects: memory leak in f (2),
 * memory leak in g" (at most LG_LEAKSCAN_MAX_TITLES titles, the most
 * frequent first, then "and N more").  n_objects (may be NULL) receives the
 * number of objects.  text is untrusted guest output: bounded, cleaned by
 * the scanner. */
#define LG_LEAKSCAN_MAX_TITLES 4
char *lg_leakscan_summarize(const char *text, size_t len, size_t *n_objects);
