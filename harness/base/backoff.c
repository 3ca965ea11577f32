#include "backoff.h"

#include <errno.h>

#include "clock.h"

lg_backoff lg_backoff_doubling(int64_t first_ms, int64_t max_ms)
{
    return (lg_backoff){ .next_ms = first_ms < max_ms ? first_ms : max_ms, .max_ms = max_ms };
}

lg_backoff lg_backoff_linear(int64_t first_ms, int64_t step_ms, int64_t max_ms)
{
    return (lg_backoff){ .next_ms = first_ms < max_ms ? first_ms : max_ms, .max_ms = max_ms, .step_ms = step_ms };
}

int64_t lg_backoff_next(lg_backoff *b)
{
    int64_t now = b->next_ms;
    int64_t grown = b->step_ms ? now + b->step_ms : now * 2;
    b->next_ms = grown < b->max_ms ? grown : b->max_ms;
    return now;
}

/* how often a wait between tries looks at stop */
#define RETRY_SLICE_MS 100

int lg_backoff_retry(lg_backoff *b, int64_t within_ms, int (*attempt)(void *opaque), bool (*stop)(void *opaque),
                     void *opaque, int *tries)
{
    int64_t until_ms = lg_now_ms() + within_ms;
    int n = 0;
    int rc = -ETIMEDOUT;
    for (;;) {
        if (stop && stop(opaque)) {
            rc = -ECANCELED;
            break;
        }
        n++;
        if (attempt(opaque) >= 0) {
            rc = 0;
            break;
        }
        int64_t left = until_ms - lg_now_ms();
        if (left <= 0) {
            rc = -ETIMEDOUT;
            break;
        }
        int64_t pause = lg_backoff_next(b);
        int64_t wake_ms = lg_now_ms() + (pause < left ? pause : left);
        while (lg_now_ms() < wake_ms && !(stop && stop(opaque))) {
            int64_t slice = wake_ms - lg_now_ms();
            lg_sleep_ms(slice < RETRY_SLICE_MS ? slice : RETRY_SLICE_MS);
        }
    }
    if (tries)
        *tries = n;
    return rc;
}
