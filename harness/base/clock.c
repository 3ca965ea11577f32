#include "clock.h"

#include <stddef.h>

#include <time.h>

int64_t lg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t lg_wall_us_to_mono_us(int64_t wall_us)
{
    struct timespec wall, mono;
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    int64_t wall_now = (int64_t)wall.tv_sec * 1000000 + wall.tv_nsec / 1000;
    int64_t mono_now = (int64_t)mono.tv_sec * 1000000 + mono.tv_nsec / 1000;
    return mono_now - (wall_now - wall_us);
}

void lg_wall_iso8601(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

lg_deadline lg_deadline_in_ms(int64_t ms)
{
    return (lg_deadline){ .at_ms = lg_now_ms() + ms };
}

int64_t lg_deadline_left_ms(lg_deadline dl)
{
    int64_t left = dl.at_ms - lg_now_ms();
    return left > 0 ? left : 0;
}

bool lg_deadline_passed(lg_deadline dl)
{
    return lg_now_ms() >= dl.at_ms;
}

lg_deadline lg_deadline_min(lg_deadline a, lg_deadline b)
{
    return a.at_ms < b.at_ms ? a : b;
}

void lg_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

void lg_cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

void lg_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t until_ms)
{
    int64_t left = until_ms - lg_now_ms();
    if (left <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += left / 1000;
    ts.tv_nsec += (long)(left % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(cond, mutex, &ts);
}
