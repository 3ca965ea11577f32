#include "monitor.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "scanner.h"

#define RING_LINES 40
#define EXCERPT_BEFORE 10
#define EXCERPT_AFTER 120
/* One guest reset emits a burst of reboot events within about a second (more under TCG). */
#define RESET_DEBOUNCE_MS 3000
#define BOOT_LOOP_RESETS 2

struct lg_monitor {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int64_t start_ms;
    int grace_ms;
    FILE *console_log;
    lg_scanner *scanner;

    /* console lines, for evidence */
    char *ring[RING_LINES];
    size_t ring_line_no[RING_LINES];
    size_t ring_next;
    lg_buf excerpt;
    bool excerpt_started;
    size_t excerpt_last_line;

    lg_buf before_reset;      /* console lines before the last counted reset */
    int boot;                 /* from "labgate: boot N" */
    bool reboot_expected;
    int resets_since_ready;
    int64_t last_reset_ms;

    bool decided;
    int64_t decided_ms;
    lg_finding finding;       /* title owned below */
    char *title;
    int decided_boot;
    bool saw_pvpanic;
};

static void on_console_line(void *opaque, const char *line, size_t line_no);
/* The last RING_LINES console lines, oldest first. */
static void ring_text(lg_monitor *mon, lg_buf *out)
{
    lg_buf_clear(out);
    for (size_t i = 0; i < RING_LINES; i++) {
        size_t slot = (mon->ring_next + i) % RING_LINES;
        if (mon->ring[slot]) {
            lg_buf_puts(out, mon->ring[slot]);
            lg_buf_puts(out, "\n");
        }
    }
}

static void start_excerpt(lg_monitor *mon, size_t hit_line);

int lg_monitor_new(const char *console_log_path, int grace_ms, lg_monitor **out)
{
    lg_monitor *mon = calloc(1, sizeof(*mon));
    if (!mon)
        return -ENOMEM;
    pthread_mutex_init(&mon->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&mon->cond, &attr);
    pthread_condattr_destroy(&attr);
    mon->start_ms = lg_now_ms();
    mon->grace_ms = grace_ms;
    mon->scanner = lg_scanner_new();
    if (console_log_path) {
        mon->console_log = fopen(console_log_path, "wb");
        if (!mon->console_log) {
            int err = errno;
            lg_monitor_free(mon);
            return -err;
        }
    }
    if (!mon->scanner) {
        lg_monitor_free(mon);
        return -ENOMEM;
    }
    lg_scanner_set_line_fn(mon->scanner, on_console_line, mon);
    *out = mon;
    return 0;
}

void lg_monitor_free(lg_monitor *mon)
{
    if (!mon)
        return;
    if (mon->console_log)
        fclose(mon->console_log);
    lg_scanner_free(mon->scanner);
    for (size_t i = 0; i < RING_LINES; i++)
        free(mon->ring[i]);
    lg_buf_free(&mon->excerpt);
    lg_buf_free(&mon->before_reset);
    free(mon->title);
    pthread_cond_destroy(&mon->cond);
    pthread_mutex_destroy(&mon->lock);
    free(mon);
}

/* Called with the lock held. */
static void decide(lg_monitor *mon, lg_verdict verdict, lg_signal signal, const char *title, bool specific)
{
    lg_finding incoming = { .verdict = verdict, .signal = signal, .title = title, .title_is_specific = specific };
    int64_t now = lg_now_ms();
    bool in_grace = mon->decided && now - mon->decided_ms <= mon->grace_ms;
    lg_merge merge = lg_verdict_merge(mon->decided ? &mon->finding : NULL, &incoming, in_grace);
    if (merge == LG_MERGE_KEEP) {
        LG_DEBUG("monitor", "%s (%s) noted, decision stands: %s", lg_verdict_name(verdict),
                 lg_signal_name(signal), title);
        return;
    }
    free(mon->title);
    mon->title = strdup(title);
    mon->finding.title = mon->title;
    mon->finding.title_is_specific = specific;
    if (merge == LG_MERGE_REPLACE) {
        mon->finding.verdict = verdict;
        mon->finding.signal = signal;
        if (!mon->decided) {
            mon->decided_ms = now;
            mon->decided_boot = mon->boot;
        }
        mon->decided = true;
    }
    LG_DEBUG("monitor", "decision: %s via %s: %s", lg_verdict_name(mon->finding.verdict),
             lg_signal_name(mon->finding.signal), mon->title);
    pthread_cond_broadcast(&mon->cond);
}

static void excerpt_add(lg_monitor *mon, const char *line)
{
    lg_buf_puts(&mon->excerpt, line);
    lg_buf_puts(&mon->excerpt, "\n");
}

/* Called by the scanner, lock held (scanner runs under it). */
static void on_console_line(void *opaque, const char *line, size_t line_no)
{
    lg_monitor *mon = opaque;
    /* The scanner saw a report header on the previous line.  Start the
     * excerpt now, while the ring still holds the header: one chunk of
     * console output can carry the whole report and more than RING_LINES
     * lines after it. */
    if (!mon->excerpt_started && lg_scanner_hit(mon->scanner))
        start_excerpt(mon, lg_scanner_hit_line(mon->scanner));
    size_t slot = mon->ring_next++ % RING_LINES;
    free(mon->ring[slot]);
    mon->ring[slot] = strdup(line);
    mon->ring_line_no[slot] = line_no;

    int n;
    if (sscanf(line, "labgate: boot %d", &n) == 1)
        mon->boot = n;
    if (mon->excerpt_started && line_no <= mon->excerpt_last_line)
        excerpt_add(mon, line);
}

static void start_excerpt(lg_monitor *mon, size_t hit_line)
{
    mon->excerpt_started = true;
    mon->excerpt_last_line = hit_line + EXCERPT_AFTER;
    size_t first = hit_line > EXCERPT_BEFORE ? hit_line - EXCERPT_BEFORE : 1;
    /* the ring holds the lines up to now, in order from ring_next */
    for (size_t i = 0; i < RING_LINES; i++) {
        size_t slot = (mon->ring_next + i) % RING_LINES;
        if (mon->ring[slot] && mon->ring_line_no[slot] >= first)
            excerpt_add(mon, mon->ring[slot]);
    }
}

void lg_monitor_console(lg_monitor *mon, const char *data, size_t len)
{
    pthread_mutex_lock(&mon->lock);
    if (mon->console_log) {
        fwrite(data, 1, len, mon->console_log);
        fflush(mon->console_log);
    }
    bool changed = lg_scanner_feed(mon->scanner, data, len);
    /* the header was the chunk's last line (otherwise on_console_line started it) */
    if (!mon->excerpt_started && lg_scanner_hit(mon->scanner))
        start_excerpt(mon, lg_scanner_hit_line(mon->scanner));
    if (changed)
        decide(mon, LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, lg_scanner_title(mon->scanner),
               lg_scanner_title_specific(mon->scanner));
    pthread_mutex_unlock(&mon->lock);
}

void lg_monitor_post(lg_monitor *mon, lg_verdict verdict, lg_signal signal, const char *fmt, ...)
{
    lg_buf title = LG_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    lg_buf_vprintf(&title, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&mon->lock);
    if (signal == LG_SIGNAL_PVPANIC)
        mon->saw_pvpanic = true;
    decide(mon, verdict, signal, title.data ? title.data : "", false);
    pthread_mutex_unlock(&mon->lock);
    lg_buf_free(&title);
}

void lg_monitor_post_specific(lg_monitor *mon, lg_verdict verdict, lg_signal signal, const char *title)
{
    pthread_mutex_lock(&mon->lock);
    if (signal == LG_SIGNAL_PVPANIC)
        mon->saw_pvpanic = true;
    decide(mon, verdict, signal, title, true);
    pthread_mutex_unlock(&mon->lock);
}

void lg_monitor_reset_event(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    int64_t now = lg_now_ms();
    bool duplicate = mon->last_reset_ms && now - mon->last_reset_ms < RESET_DEBOUNCE_MS;
    mon->last_reset_ms = now;
    if (!duplicate && mon->reboot_expected) {
        /* the reset a step asked for; any further one before ready is not */
        mon->reboot_expected = false;
    } else if (!duplicate) {
        mon->resets_since_ready++;
        /* what the guest said just before it reset is the evidence of a
         * boot loop; by the time it is decided the next boot is printing */
        ring_text(mon, &mon->before_reset);
        LG_DEBUG("monitor", "unexpected guest reset (%d since last ready)", mon->resets_since_ready);
        if (mon->resets_since_ready >= BOOT_LOOP_RESETS) {
            char title[128];
            snprintf(title, sizeof(title), "boot loop: guest reset %d times in a row without reaching ready",
                     mon->resets_since_ready);
            decide(mon, LG_VERDICT_BOOT_LOOP, LG_SIGNAL_REBOOT, title, false);
        }
    }
    pthread_mutex_unlock(&mon->lock);
}

void lg_monitor_expect_reboot(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    mon->reboot_expected = true;
    pthread_mutex_unlock(&mon->lock);
}

void lg_monitor_ready(lg_monitor *mon, int boot)
{
    pthread_mutex_lock(&mon->lock);
    mon->reboot_expected = false;
    mon->resets_since_ready = 0;
    if (boot > mon->boot)
        mon->boot = boot;
    pthread_mutex_unlock(&mon->lock);
}

bool lg_monitor_decided(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    bool d = mon->decided;
    pthread_mutex_unlock(&mon->lock);
    return d;
}

static void timed_wait(lg_monitor *mon, int64_t until_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t left = until_ms - lg_now_ms();
    if (left <= 0)
        return;
    ts.tv_sec += left / 1000;
    ts.tv_nsec += (left % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&mon->cond, &mon->lock, &ts);
}

bool lg_monitor_wait(lg_monitor *mon, int64_t timeout_ms)
{
    int64_t until = lg_now_ms() + timeout_ms;
    pthread_mutex_lock(&mon->lock);
    while (!mon->decided && lg_now_ms() < until)
        timed_wait(mon, until);
    bool d = mon->decided;
    pthread_mutex_unlock(&mon->lock);
    return d;
}

void lg_monitor_wait_evidence(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    if (mon->decided) {
        int64_t until = mon->decided_ms + mon->grace_ms;
        int64_t complete_since = 0;
        while (lg_now_ms() < until) {
            bool complete = mon->finding.verdict == LG_VERDICT_CRASH && mon->saw_pvpanic &&
                            mon->finding.title_is_specific;
            if (complete && !complete_since) {
                /* the rest of the report (call trace) follows within a moment */
                complete_since = lg_now_ms();
                if (complete_since + 1000 < until)
                    until = complete_since + 1000;
            }
            timed_wait(mon, until);
        }
    }
    pthread_mutex_unlock(&mon->lock);
}

lg_verdict lg_monitor_verdict(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    lg_verdict v = mon->decided ? mon->finding.verdict : LG_VERDICT_PASS;
    pthread_mutex_unlock(&mon->lock);
    return v;
}

int lg_monitor_boot(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    int b = mon->boot;
    pthread_mutex_unlock(&mon->lock);
    return b;
}

void lg_monitor_result(lg_monitor *mon, lg_evidence *out)
{
    pthread_mutex_lock(&mon->lock);
    memset(out, 0, sizeof(*out));
    out->verdict = mon->decided ? mon->finding.verdict : LG_VERDICT_PASS;
    out->signal = mon->decided ? mon->finding.signal : LG_SIGNAL_NONE;
    out->title = mon->title ? strdup(mon->title) : NULL;
    out->time_s = mon->decided ? (double)(mon->decided_ms - mon->start_ms) / 1000.0 : 0;
    out->boot = mon->decided ? mon->decided_boot : mon->boot;
    if (mon->decided) {
        if (mon->excerpt.len) {
            out->console_excerpt = strdup(mon->excerpt.data);
        } else if (mon->finding.verdict == LG_VERDICT_BOOT_LOOP && mon->before_reset.len) {
            out->console_excerpt = strdup(mon->before_reset.data);
        } else {
            /* no console report: the last lines the guest printed */
            lg_buf tail = LG_BUF_INIT;
            ring_text(mon, &tail);
            out->console_excerpt = lg_buf_steal(&tail);
        }
    }
    pthread_mutex_unlock(&mon->lock);
}

void lg_evidence_clear(lg_evidence *ev)
{
    free(ev->title);
    free(ev->console_excerpt);
    memset(ev, 0, sizeof(*ev));
}
