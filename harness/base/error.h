/* Functions return 0 or a negative errno-style code.  The wrapper module that
 * translates a library's failure records the human message here (per thread),
 * keeping the library's own words, so the caller that decides can print it. */
#pragma once

void lg_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last message set on this thread, or a generic one. */
const char *lg_error_msg(void);
void lg_error_clear(void);
