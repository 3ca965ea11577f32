#include "backoff.h"

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
