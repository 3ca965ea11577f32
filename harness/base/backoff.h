/* Growing waits between retries: a guest that is almost there is tried
 * again within milliseconds, one that is far off is not hammered. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

typedef struct lg_backoff {
    int64_t next_ms;
    int64_t max_ms;
    int64_t step_ms; /* 0: double each time; otherwise add this */
} lg_backoff;

/* first, 2 x first, 4 x first, ... capped at max_ms */
lg_backoff lg_backoff_doubling(int64_t first_ms, int64_t max_ms);
/* first, first + step, first + 2 x step, ... capped at max_ms */
lg_backoff lg_backoff_linear(int64_t first_ms, int64_t step_ms, int64_t max_ms);
/* The wait to use now; the next call returns the grown one. */
int64_t lg_backoff_next(lg_backoff *b);

/* Calls attempt(opaque) until it returns >= 0, waiting as b says between
 * tries (never past the deadline), for at most within_ms.  stop (may be
 * NULL) is asked between tries and ends the waiting early.  Returns 0 once
 * an attempt succeeded, -ETIMEDOUT once within_ms has passed, or
 * -ECANCELED when stop said so; *tries (may be NULL) counts the attempts. */
int lg_backoff_retry(lg_backoff *b, int64_t within_ms, int (*attempt)(void *opaque), bool (*stop)(void *opaque),
                     void *opaque, int *tries);
