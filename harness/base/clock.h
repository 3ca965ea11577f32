/* Monotonic time and deadlines: every wait in labgate is bounded by one. */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lg_deadline {
    int64_t at_ms; /* monotonic ms */
} lg_deadline;

int64_t lg_now_ms(void);
/* Monotonic microseconds (same clock as lg_now_ms). */
int64_t lg_now_us(void);
/* A wall-clock instant (microseconds since the epoch, as QEMU stamps its
 * events) on the monotonic clock, by the current offset between the two. */
int64_t lg_wall_us_to_mono_us(int64_t wall_us);
/* Wall-clock time as ISO-8601 UTC into out (>= 21 bytes). */
void lg_wall_iso8601(char *out, size_t len);
lg_deadline lg_deadline_in_ms(int64_t ms);
int64_t lg_deadline_left_ms(lg_deadline dl);
bool lg_deadline_passed(lg_deadline dl);
/* The earlier of two deadlines. */
lg_deadline lg_deadline_min(lg_deadline a, lg_deadline b);
/* Sleeps ms milliseconds (restarting after signals). */
void lg_sleep_ms(int64_t ms);
/* A condition variable whose timed waits run on this clock (a wall-clock
 * step does not stretch or cut them short). */
void lg_cond_init_monotonic(pthread_cond_t *cond);
/* One wait on cond (mutex held) until woken or until_ms (lg_now_ms time)
 * has passed; returns at once when it has.  Callers loop on their
 * condition: wake-ups may be spurious. */
void lg_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t until_ms);
