#include "monitor.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "model/readyline.h"
#include "scanner.h"
#include "userfault.h"

LG_LOG_INIT("monitor");

#define RING_LINES 40
#define EXCERPT_BEFORE 10
#define EXCERPT_AFTER 120
/* One guest reset emits a burst of reboot events within about a second (more under TCG). */
#define RESET_DEBOUNCE_MS 3000
/* how much longer than the grace time a boot loop's evidence may take to
 * come down the console, a boot or two at TCG speed */
#define BOOT_LOOP_EVIDENCE_MS 20000
#define BOOT_LOOP_RESETS 2
/* printk timestamp samples kept for the console clock */
#define CLOCK_SAMPLES 256
/* only samples this close (guest time) to the report line estimate its
 * delivery: the guest's clock rate is only as good as its calibration */
#define CLOCK_WINDOW_US 5000000
/* A crash report the guest survives is complete once the console has been
 * quiet this long (lg_monitor_wait_freeze). */
#define FREEZE_QUIET_MS 2000
/* A frozen guest's console is drained once quiet this long: what QEMU's
 * chardev, the pty and libvirtd's stream still held (lg_monitor_wait_evidence). */
#define DRAIN_QUIET_MS 1500

struct lg_monitor {
    pthread_mutex_t lock;
    pthread_cond_t cond;
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

    /* BOOT_LOOP evidence.  The libvirt reset event and the console lines of
     * the boot it ended come by different ways (QEMU's monitor vs. the
     * serial port, pty and libvirtd's stream), either can come first, and
     * on a loaded host the console can be a whole boot behind.  So no clock
     * decides which boot looped: the tail of a boot is taken when the
     * console shows the next boot starting, and it is loop evidence when
     * that boot never reached ready (the boot number it printed is past the
     * last ready one, or it printed none). */
    lg_buf before_reset;      /* the ring when the last counted reset came (fallback) */
    lg_buf loop_tail;         /* the last lines of the last boot that ended unready */
    int boot;                 /* from "labgate: boot N" */
    int console_boot;         /* the number the boot now printing printed, -1 none yet */
    int ready_boot;           /* the boot last reported ready, 0 none */
    bool reboot_expected;
    int resets_since_ready;
    int64_t last_reset_ms;

    /* the console clock: for each recent line with a printk timestamp, its
     * arrival here minus the guest's stamp; a new boot starts a new epoch */
    int64_t chunk_arrival_us;
    struct { int64_t guest_us, delta_us; } clock[CLOCK_SAMPLES];
    size_t clock_next, clock_count;
    int64_t clock_last_guest_us;
    int64_t ring_guest_us[RING_LINES]; /* printk stamp of each ring line, -1 none */
    int64_t report_guest_us;           /* stamp of the first report header, -1 none */
    int64_t report_arrival_us;

    int64_t start_us;
    int64_t panic_us;        /* QEMU's panic timestamp on our clock, 0 none */
    int64_t last_answer_us;  /* 0 never */
    lg_signal_note notes[LG_SIGNAL_MAX];
    size_t note_order[LG_SIGNAL_MAX];
    size_t n_notes;

    /* the profile's ready line, and the highest boot number it showed */
    char *ready_line;
    int ready_line_boot;

    /* the agent's process names; whether one of them died on the console */
    char **agent_processes;
    size_t n_agent_processes;
    bool agent_fault_noted;

    bool decided;
    int64_t decided_us;
    lg_finding finding;       /* title owned below */
    char *title;
    int decided_boot;
    bool saw_pvpanic;
    bool candidate_pending;         /* the candidate is not on the guest yet */
    bool warnings_report;           /* policy warnings="report": a WARNING is a finding */
    bool report_noted;              /* the scanner's report was taken as a finding */
    bool decided_before_candidate;  /* the decision came before it: a baseline failure */

    /* the guest's vCPUs were stopped for the evidence (lg_monitor_frozen) */
    int64_t frozen_us;              /* 0: running */
    size_t boot_start_line;         /* console line the last boot started at, 0 none */
};

static void on_console_line(void *opaque, const char *stamped, const char *line, size_t line_no);
static void note_locked(lg_monitor *mon, lg_signal signal, const char *title);
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

/* The ring's lines from console line first_line on (all it holds when that
 * line has left it), oldest first. */
static void ring_text_since(lg_monitor *mon, size_t first_line, lg_buf *out)
{
    lg_buf_clear(out);
    for (size_t i = 0; i < RING_LINES; i++) {
        size_t slot = (mon->ring_next + i) % RING_LINES;
        if (mon->ring[slot] && mon->ring_line_no[slot] >= first_line) {
            lg_buf_puts(out, mon->ring[slot]);
            lg_buf_puts(out, "\n");
        }
    }
}

/* A console line, lock held: the ready line wakes whoever waits for it. */
static void ready_line_seen(lg_monitor *mon, const char *line)
{
    int n;
    if (!mon->ready_line || !lg_ready_line_match(mon->ready_line, line, &n))
        return;
    LG_DEBUG("console: ready line, boot %d", n);
    if (n > mon->ready_line_boot)
        mon->ready_line_boot = n;
    pthread_cond_broadcast(&mon->cond);
}

/* ------------------------------------------------------------ console clock
 * When did the guest print the crash report?  Its kernel stamps each line
 * ("[   12.345678] ...") on its own clock; we see each line arrive on ours.
 * For every line, arrival minus stamp = the clock offset + that line's
 * delivery delay (serial port, QEMU, libvirtd, RPC), and the delay is never
 * negative, so the smallest difference among nearby lines is the best
 * estimate of the offset, and stamp + offset is when the report line was
 * printed, too late by at most the smallest delay seen (about a
 * millisecond).  Nearby: within CLOCK_WINDOW_US of guest time, so a guest
 * clock that runs a little fast or slow does not skew it. */

/* "[    4.123456] ..." -> microseconds; -1 when the line has no stamp. */
static int64_t printk_stamp_us(const char *line)
{
    if (*line != '[')
        return -1;
    const char *p = line + 1;
    while (*p == ' ')
        p++;
    int64_t sec = 0, usec = 0;
    int digits = 0;
    /* count every digit but add up only as many as can count: a guest's
     * "[12345678901234567890.000000]" must not overflow (undefined) */
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        if (digits < 9)
            sec = sec * 10 + (*p - '0');
    if (!digits || digits > 9 || *p != '.')
        return -1;
    p++;
    digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        if (digits < 6)
            usec = usec * 10 + (*p - '0');
    if (digits != 6 || *p != ']')
        return -1;
    return sec * 1000000 + usec;
}

/* Records the line's sample; returns its stamp or -1. */
static int64_t console_clock_sample(lg_monitor *mon, const char *line)
{
    int64_t guest_us = printk_stamp_us(line);
    if (guest_us < 0)
        return -1;
    if (guest_us + 1000000 < mon->clock_last_guest_us)
        mon->clock_count = 0; /* the guest rebooted: a new clock */
    mon->clock_last_guest_us = guest_us;
    mon->clock[mon->clock_next].guest_us = guest_us;
    mon->clock[mon->clock_next].delta_us = mon->chunk_arrival_us - guest_us;
    mon->clock_next = (mon->clock_next + 1) % CLOCK_SAMPLES;
    if (mon->clock_count < CLOCK_SAMPLES)
        mon->clock_count++;
    return guest_us;
}

/* When the report header was printed, on our clock; -1 unknown. */
static int64_t console_clock_report_us(lg_monitor *mon)
{
    if (mon->report_guest_us < 0)
        return -1;
    /* the header's own sample is one of them, so there is always one */
    int64_t best = mon->report_arrival_us - mon->report_guest_us;
    for (size_t i = 0; i < mon->clock_count; i++) {
        int64_t g = mon->clock[i].guest_us;
        if (g >= mon->report_guest_us - CLOCK_WINDOW_US && g <= mon->report_guest_us + CLOCK_WINDOW_US &&
            mon->clock[i].delta_us < best)
            best = mon->clock[i].delta_us;
    }
    return mon->report_guest_us + best;
}

int lg_monitor_new(const char *console_log_path, int grace_ms, lg_monitor **out)
{
    lg_monitor *mon = LG_NEW0(lg_monitor);
    pthread_mutex_init(&mon->lock, NULL);
    lg_cond_init_monotonic(&mon->cond);
    mon->start_us = lg_now_us();
    mon->report_guest_us = -1;
    mon->console_boot = -1;
    for (size_t i = 0; i < RING_LINES; i++)
        mon->ring_guest_us[i] = -1;
    mon->grace_ms = grace_ms;
    mon->scanner = lg_scanner_new();
    if (console_log_path) {
        mon->console_log = lg_fopen_write_nofollow(console_log_path);
        if (!mon->console_log) {
            int err = errno;
            lg_monitor_free(mon);
            return -err;
        }
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
    lg_buf_free(&mon->loop_tail);
    free(mon->title);
    free(mon->ready_line);
    for (size_t i = 0; i < mon->n_agent_processes; i++)
        free(mon->agent_processes[i]);
    free(mon->agent_processes);
    for (size_t i = 0; i < LG_SIGNAL_MAX; i++)
        free(mon->notes[i].title);
    pthread_cond_destroy(&mon->cond);
    pthread_mutex_destroy(&mon->lock);
    free(mon);
}

/* Lock held.  A signal that decides nothing (yet): in the timeline with
 * verdict PASS, its latest title kept until a finding on it replaces it. */
static void note_locked(lg_monitor *mon, lg_signal signal, const char *title)
{
    lg_signal_note *note = &mon->notes[signal];
    if (!note->title) {
        *note = (lg_signal_note){
            .signal = signal, .verdict = LG_VERDICT_PASS,
            .time_s = (double)(lg_now_us() - mon->start_us) / 1e6, .title = lg_strdup(title),
        };
        mon->note_order[mon->n_notes++] = signal;
    } else if (note->verdict == LG_VERDICT_PASS) {
        free(note->title);
        note->title = lg_strdup(title);
    }
}

/* Signals a guest whose vCPUs labgate stopped gives of itself: it stops
 * answering, its steps and probes time out.  None of that is the guest's
 * doing, so none of it can replace the decision the freeze kept. */
static bool frozen_silences(lg_signal signal)
{
    return signal == LG_SIGNAL_HEARTBEAT || signal == LG_SIGNAL_DEADLINE || signal == LG_SIGNAL_NETWORK ||
           signal == LG_SIGNAL_STEP;
}

/* Called with the lock held. */
static void decide(lg_monitor *mon, lg_verdict verdict, lg_signal signal, const char *title, bool specific)
{
    lg_finding incoming = { .verdict = verdict, .signal = signal, .title = title, .title_is_specific = specific };
    if (mon->frozen_us && frozen_silences(signal)) {
        LG_DEBUG("%s (%s) after the freeze: the harness stopped the guest: %s", lg_verdict_name(verdict),
                 lg_signal_name(signal), title);
        return;
    }
    int64_t now_us = lg_now_us();
    int64_t now = lg_now_ms();
    if ((int)signal >= 0 && signal < LG_SIGNAL_MAX && !mon->notes[signal].title) {
        mon->notes[signal] = (lg_signal_note){
            .signal = signal, .verdict = verdict,
            .time_s = (double)(now_us - mon->start_us) / 1e6, .title = lg_strdup(title),
        };
        mon->note_order[mon->n_notes++] = signal;
    } else if ((int)signal >= 0 && signal < LG_SIGNAL_MAX && mon->notes[signal].verdict == LG_VERDICT_PASS) {
        /* a note (lg_monitor_note) gives way to a finding on its signal */
        free(mon->notes[signal].title);
        mon->notes[signal].title = lg_strdup(title);
        mon->notes[signal].verdict = verdict;
    } else if ((int)signal >= 0 && signal < LG_SIGNAL_MAX && specific) {
        /* the same signal naming what failed (a console report's guilty
         * function): a better title, first time kept */
        free(mon->notes[signal].title);
        mon->notes[signal].title = lg_strdup(title);
    }
    bool in_grace = mon->decided && now - mon->decided_us / 1000 <= mon->grace_ms;
    lg_merge merge = lg_verdict_merge(mon->decided ? &mon->finding : NULL, &incoming, in_grace);
    if (merge == LG_MERGE_KEEP) {
        LG_DEBUG("%s (%s) noted, decision stands: %s", lg_verdict_name(verdict),
                 lg_signal_name(signal), title);
        return;
    }
    free(mon->title);
    mon->title = lg_strdup(title);
    mon->finding.title = mon->title;
    mon->finding.title_is_specific = specific;
    if (merge == LG_MERGE_REPLACE) {
        mon->finding.verdict = verdict;
        mon->finding.signal = signal;
        if (!mon->decided) {
            mon->decided_us = now_us;
            mon->decided_boot = mon->boot;
            mon->decided_before_candidate = mon->candidate_pending;
        }
        mon->decided = true;
    }
    LG_DEBUG("decision: %s via %s: %s", lg_verdict_name(mon->finding.verdict),
             lg_signal_name(mon->finding.signal), mon->title);
    pthread_cond_broadcast(&mon->cond);
    /* the guest went down after a report it had carried on from (the OOM
     * killer, then "System is deadlocked on memory"): that report says why */
    if (mon->report_noted && verdict == LG_VERDICT_CRASH && signal != LG_SIGNAL_CONSOLE) {
        mon->report_noted = false;
        const lg_failure_info *info = lg_failure_info_of(LG_FAIL_CONSOLE_REPORT);
        /* says more than any panic device's "kernel panic" */
        decide(mon, info->verdict, info->signal, lg_scanner_title(mon->scanner), true);
    }
}

static void excerpt_add(lg_monitor *mon, const char *line)
{
    lg_buf_puts(&mon->excerpt, line);
    lg_buf_puts(&mon->excerpt, "\n");
}

/* The first line of a boot: the kernel banner (also when a reset cut the
 * last line of the boot before and the banner ends up behind it), or a
 * printk clock that went back to zero.  Lock held. */
static bool new_boot_starts(lg_monitor *mon, const char *stamped, const char *line)
{
    if (strncmp(line, "Linux version ", 14) == 0 || strstr(line, "] Linux version "))
        return true;
    int64_t stamp = printk_stamp_us(stamped);
    return stamp >= 0 && stamp + 1000000 < mon->clock_last_guest_us;
}

/* A user process died on the console (watch/userfault.h): a timeline note,
 * naming the agent when it is one of its processes.  Lock held. */
static void userfault_seen(lg_monitor *mon, const char *line)
{
    lg_userfault fault;
    if (!lg_userfault_parse(line, &fault))
        return;
    bool agent = lg_userfault_is_agent(&fault, mon->agent_processes, mon->n_agent_processes);
    if (!agent && mon->agent_fault_noted)
        return; /* the agent's own death stays the note */
    mon->agent_fault_noted |= agent;
    LG_AUTOFREE char *name = lg_clean_term(fault.name);
    char *title = lg_strdup_printf("%s %s[%d]: %s (boot %d)", agent ? "agent process" : "process", name, fault.pid,
                                   lg_userfault_kind_describe(fault.kind), mon->boot);
    LG_DEBUG("console: %s", title);
    note_locked(mon, LG_SIGNAL_PROCESS, title);
    free(title);
}

/* Called by the scanner, lock held (scanner runs under it). */
static void on_console_line(void *opaque, const char *stamped, const char *line, size_t line_no)
{
    lg_monitor *mon = opaque;
    /* The scanner saw a report header on the previous line.  Start the
     * excerpt now, while the ring still holds the header: one chunk of
     * console output can carry the whole report and more than RING_LINES
     * lines after it. */
    if (!mon->excerpt_started && lg_scanner_hit(mon->scanner))
        start_excerpt(mon, lg_scanner_hit_line(mon->scanner));
    if (new_boot_starts(mon, stamped, line)) {
        if (mon->console_boot < 0 || mon->console_boot > mon->ready_boot) {
            ring_text(mon, &mon->loop_tail);
            pthread_cond_broadcast(&mon->cond);
        }
        mon->console_boot = -1;
        mon->boot_start_line = line_no;
    }
    size_t slot = mon->ring_next++ % RING_LINES;
    free(mon->ring[slot]);
    mon->ring[slot] = lg_strdup(line);
    mon->ring_line_no[slot] = line_no;
    mon->ring_guest_us[slot] = console_clock_sample(mon, stamped);

    int n;
    if (strncmp(line, "labgate: boot ", 14) == 0 && lg_parse_int(line + 14, &n) == 0) {
        mon->boot = n;
        mon->console_boot = n;
    }
    ready_line_seen(mon, line);
    userfault_seen(mon, line);
    if (mon->excerpt_started && line_no <= mon->excerpt_last_line)
        excerpt_add(mon, line);
}

static void start_excerpt(lg_monitor *mon, size_t hit_line)
{
    /* the header is in the ring: remember when the guest printed it */
    for (size_t i = 0; i < RING_LINES; i++) {
        if (mon->ring[i] && mon->ring_line_no[i] == hit_line && mon->ring_guest_us[i] >= 0) {
            mon->report_guest_us = mon->ring_guest_us[i];
            mon->report_arrival_us = mon->chunk_arrival_us;
        }
    }
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

static bool is_agent_process(const lg_monitor *mon, const char *name)
{
    for (size_t i = 0; i < mon->n_agent_processes; i++)
        if (strcmp(mon->agent_processes[i], name) == 0)
            return true;
    return false;
}

/* Lock held.  The scanner's report, new or renamed: a crash, the agent's
 * process killed by the OOM killer (AGENT_FAILURE), or a finding the guest
 * carries on after -- the OOM killer taking another process, a WARNING
 * under warnings="report" -- noted in the timeline, and crash evidence
 * should the guest go down after all (a panic that follows an OOM report
 * is titled by it). */
static void console_report(lg_monitor *mon)
{
    const char *kind = lg_scanner_kind(mon->scanner);
    const char *title = lg_scanner_title(mon->scanner);
    const char *killed = lg_scanner_oom_killed(mon->scanner);
    bool oom_kill = kind && strcmp(kind, "OOM") == 0 && killed;
    if (oom_kill && is_agent_process(mon, killed)) {
        LG_AUTOFREE char *agent = lg_failure_title(LG_FAIL_AGENT_OOM_KILLED, killed, title);
        const lg_failure_info *info = lg_failure_info_of(LG_FAIL_AGENT_OOM_KILLED);
        decide(mon, info->verdict, info->signal, agent, true);
        return;
    }
    /* a leak detector's report: the kernel carries on, whatever the
     * warnings policy (the debug guest's leak scan reports leaks as findings) */
    bool leak = kind && strcmp(kind, LG_SCANNER_KIND_LEAK) == 0;
    bool finding = oom_kill || leak || (mon->warnings_report && lg_scanner_kind_is_warning(kind));
    if (finding && !(mon->decided && mon->finding.verdict == LG_VERDICT_CRASH)) {
        note_locked(mon, LG_SIGNAL_CONSOLE, title);
        mon->report_noted = true;
        if (!oom_kill)
            lg_scanner_replaceable(mon->scanner);
        return;
    }
    mon->report_noted = false;
    /* the table's kind, with the scanner's say on how specific it is */
    const lg_failure_info *info = lg_failure_info_of(LG_FAIL_CONSOLE_REPORT);
    decide(mon, info->verdict, info->signal, title, lg_scanner_title_specific(mon->scanner));
}

void lg_monitor_console(lg_monitor *mon, const char *data, size_t len)
{
    pthread_mutex_lock(&mon->lock);
    mon->chunk_arrival_us = lg_now_us();
    if (mon->console_log) {
        fwrite(data, 1, len, mon->console_log);
        fflush(mon->console_log);
    }
    bool changed = lg_scanner_feed(mon->scanner, data, len);
    /* the header was the chunk's last line (otherwise on_console_line started it) */
    if (!mon->excerpt_started && lg_scanner_hit(mon->scanner))
        start_excerpt(mon, lg_scanner_hit_line(mon->scanner));
    if (changed)
        console_report(mon);
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

void lg_monitor_fail(lg_monitor *mon, lg_failure kind, ...)
{
    const lg_failure_info *info = lg_failure_info_of(kind);
    va_list ap;
    va_start(ap, kind);
    char *title = lg_failure_vtitle(kind, ap);
    va_end(ap);
    pthread_mutex_lock(&mon->lock);
    if (info->signal == LG_SIGNAL_PVPANIC)
        mon->saw_pvpanic = true;
    decide(mon, info->verdict, info->signal, title, info->specific);
    pthread_mutex_unlock(&mon->lock);
    free(title);
}

void lg_monitor_post_specific(lg_monitor *mon, lg_verdict verdict, lg_signal signal, const char *title)
{
    pthread_mutex_lock(&mon->lock);
    if (signal == LG_SIGNAL_PVPANIC)
        mon->saw_pvpanic = true;
    decide(mon, verdict, signal, title, true);
    pthread_mutex_unlock(&mon->lock);
}

void lg_monitor_note(lg_monitor *mon, lg_signal signal, const char *fmt, ...)
{
    if ((int)signal < 0 || signal >= LG_SIGNAL_MAX)
        return;
    lg_buf title = LG_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    lg_buf_vprintf(&title, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&mon->lock);
    note_locked(mon, signal, title.data ? title.data : "");
    pthread_mutex_unlock(&mon->lock);
    lg_buf_free(&title);
}

void lg_monitor_set_agent_processes(lg_monitor *mon, char *const *names, size_t n)
{
    pthread_mutex_lock(&mon->lock);
    for (size_t i = 0; i < mon->n_agent_processes; i++)
        free(mon->agent_processes[i]);
    free(mon->agent_processes);
    mon->agent_processes = lg_calloc(n ? n : 1, sizeof(*mon->agent_processes));
    for (size_t i = 0; i < n; i++)
        mon->agent_processes[i] = lg_strdup(names[i]);
    mon->n_agent_processes = n;
    pthread_mutex_unlock(&mon->lock);
}

void lg_monitor_panic_time(lg_monitor *mon, int64_t qemu_wall_us)
{
    int64_t mono_us = lg_wall_us_to_mono_us(qemu_wall_us);
    pthread_mutex_lock(&mon->lock);
    if (!mon->panic_us)
        mon->panic_us = mono_us;
    pthread_mutex_unlock(&mon->lock);
}

void lg_monitor_heartbeat(lg_monitor *mon)
{
    int64_t now_us = lg_now_us();
    pthread_mutex_lock(&mon->lock);
    mon->last_answer_us = now_us;
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
        LG_DEBUG("unexpected guest reset (%d since last ready)", mon->resets_since_ready);
        if (mon->resets_since_ready >= BOOT_LOOP_RESETS) {
            const lg_failure_info *info = lg_failure_info_of(LG_FAIL_BOOT_LOOP);
            LG_AUTOFREE char *title = lg_failure_title(LG_FAIL_BOOT_LOOP, mon->resets_since_ready);
            decide(mon, info->verdict, info->signal, title, info->specific);
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
    /* boots that ended unready before this one belong to no loop now */
    lg_buf_clear(&mon->loop_tail);
    if (boot > mon->ready_boot)
        mon->ready_boot = boot;
    if (boot > mon->boot)
        mon->boot = boot;
    pthread_mutex_unlock(&mon->lock);
}

void lg_monitor_set_warnings_report(lg_monitor *mon, bool warnings_report)
{
    pthread_mutex_lock(&mon->lock);
    mon->warnings_report = warnings_report;
    pthread_mutex_unlock(&mon->lock);
}

void lg_monitor_candidate_pending(lg_monitor *mon, bool pending)
{
    pthread_mutex_lock(&mon->lock);
    mon->candidate_pending = pending;
    pthread_mutex_unlock(&mon->lock);
}

bool lg_monitor_decided(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    bool d = mon->decided;
    pthread_mutex_unlock(&mon->lock);
    return d;
}

bool lg_monitor_wait(lg_monitor *mon, int64_t timeout_ms)
{
    int64_t until = lg_now_ms() + timeout_ms;
    pthread_mutex_lock(&mon->lock);
    while (!mon->decided && lg_now_ms() < until)
        lg_cond_wait_until(&mon->cond, &mon->lock, until);
    bool d = mon->decided;
    pthread_mutex_unlock(&mon->lock);
    return d;
}

void lg_monitor_set_ready_line(lg_monitor *mon, const char *pattern)
{
    pthread_mutex_lock(&mon->lock);
    if (pattern && (!mon->ready_line || strcmp(mon->ready_line, pattern) != 0)) {
        free(mon->ready_line);
        mon->ready_line = lg_strdup(pattern);
        /* set late: the line may have come already */
        for (size_t i = 0; i < RING_LINES; i++)
            if (mon->ring[i])
                ready_line_seen(mon, mon->ring[i]);
    }
    pthread_mutex_unlock(&mon->lock);
}

int lg_monitor_wait_ready_line(lg_monitor *mon, int after_boot, int64_t until_ms)
{
    pthread_mutex_lock(&mon->lock);
    while (!mon->decided && mon->ready_line_boot <= after_boot && lg_now_ms() < until_ms)
        lg_cond_wait_until(&mon->cond, &mon->lock, until_ms);
    int rc = mon->decided ? -ECANCELED : mon->ready_line_boot > after_boot ? mon->ready_line_boot : 0;
    pthread_mutex_unlock(&mon->lock);
    return rc;
}

int64_t lg_monitor_console_ms(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    int64_t ms = mon->chunk_arrival_us / 1000;
    pthread_mutex_unlock(&mon->lock);
    return ms;
}

int lg_monitor_ready_line_boot(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    int boot = mon->ready_line_boot;
    pthread_mutex_unlock(&mon->lock);
    return boot;
}

/* Lock held.  When the guest should be frozen for the decision: 1 now, 0
 * not yet (with *due_ms the time to look again, lg_now_ms clock),
 * -ECANCELED never.
 *
 * The rule, and why:
 * - A decision that does not block (INFRA_ERROR: the harness failed, the
 *   run was interrupted) keeps nothing worth stopping the guest for.
 * - A crash report on the console with no panic device behind it yet: the
 *   kernel is still printing it.  An oops the guest survives prints its
 *   registers and call trace after the header, and the title's guilty
 *   function comes from them; in strict mode the panic follows and fires
 *   the panic device.  So: at the panic device, or once the console has
 *   been quiet FREEZE_QUIET_MS, or at the end of the grace time.
 * - Anything else at once.  A panic device fired: the kernel has printed
 *   all it will (QEMU paused it already, on_crash preserve).  The deciding
 *   reset of a boot loop: the next boot must not print, or its banner,
 *   boot number and screen would pass for the loop's.  A hang, a timeout,
 *   an agent failure, an unreachable guest: the guest as it was when it
 *   failed.
 * Stopping the vCPUs does not lose console output: QEMU's chardev (and the
 * pty and libvirtd's stream after it) deliver what the guest wrote to the
 * serial port before the pause, which lg_monitor_wait_evidence drains. */
static int freeze_due(lg_monitor *mon, int64_t *due_ms)
{
    if (!mon->decided)
        return 0;
    if (!lg_verdict_blocks(mon->finding.verdict))
        return -ECANCELED;
    if (mon->finding.signal != LG_SIGNAL_CONSOLE || mon->saw_pvpanic)
        return 1;
    int64_t grace_end_ms = mon->decided_us / 1000 + mon->grace_ms;
    int64_t quiet_end_ms = mon->chunk_arrival_us / 1000 + FREEZE_QUIET_MS;
    int64_t now = lg_now_ms();
    if (now >= grace_end_ms || now >= quiet_end_ms)
        return 1;
    *due_ms = quiet_end_ms < grace_end_ms ? quiet_end_ms : grace_end_ms;
    return 0;
}

int lg_monitor_wait_freeze(lg_monitor *mon, int64_t until_ms)
{
    pthread_mutex_lock(&mon->lock);
    int rc;
    for (;;) {
        int64_t due_ms = until_ms;
        rc = freeze_due(mon, &due_ms);
        if (rc != 0 || lg_now_ms() >= until_ms)
            break;
        lg_cond_wait_until(&mon->cond, &mon->lock, due_ms < until_ms ? due_ms : until_ms);
    }
    pthread_mutex_unlock(&mon->lock);
    return rc;
}

void lg_monitor_frozen(lg_monitor *mon)
{
    int64_t now_us = lg_now_us();
    pthread_mutex_lock(&mon->lock);
    if (!mon->frozen_us) {
        mon->frozen_us = now_us;
        LG_DEBUG("guest frozen %.3f s after the decision", (double)(now_us - mon->decided_us) / 1e6);
    }
    pthread_cond_broadcast(&mon->cond);
    pthread_mutex_unlock(&mon->lock);
}

bool lg_monitor_is_frozen(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    bool frozen = mon->frozen_us != 0;
    pthread_mutex_unlock(&mon->lock);
    return frozen;
}

/* Lock held.  A frozen guest prints nothing more, but what it wrote before
 * the freeze may still be on its way (QEMU's chardev, the pty, libvirtd's
 * stream; a whole boot behind on a loaded host): wait until the console
 * has been quiet DRAIN_QUIET_MS since the freeze, within the grace time. */
static void drain_frozen(lg_monitor *mon)
{
    int64_t until = mon->frozen_us / 1000 + (mon->grace_ms > DRAIN_QUIET_MS ? mon->grace_ms : DRAIN_QUIET_MS);
    if (!mon->grace_ms)
        until = mon->frozen_us / 1000; /* no grace: nothing more is waited for */
    for (;;) {
        int64_t last_ms = mon->chunk_arrival_us > mon->frozen_us ? mon->chunk_arrival_us / 1000
                                                                 : mon->frozen_us / 1000;
        int64_t quiet_ms = last_ms + DRAIN_QUIET_MS;
        int64_t now = lg_now_ms();
        if (now >= quiet_ms || now >= until)
            break;
        lg_cond_wait_until(&mon->cond, &mon->lock, quiet_ms < until ? quiet_ms : until);
    }
}

void lg_monitor_wait_evidence(lg_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    if (mon->decided && mon->frozen_us) {
        drain_frozen(mon);
    } else if (mon->decided) {
        int64_t until = mon->decided_us / 1000 + mon->grace_ms;
        int64_t complete_since = 0;
        if (mon->finding.verdict == LG_VERDICT_BOOT_LOOP) {
            /* the guest goes on looping: wait for the console to show a
             * looping boot end, however far behind it is */
            int64_t tail_until = until + BOOT_LOOP_EVIDENCE_MS;
            while (!mon->loop_tail.len && lg_now_ms() < tail_until)
                lg_cond_wait_until(&mon->cond, &mon->lock, tail_until);
        }
        while (lg_now_ms() < until) {
            bool complete = mon->finding.verdict == LG_VERDICT_CRASH && mon->saw_pvpanic &&
                            mon->finding.title_is_specific;
            if (complete && !complete_since) {
                /* the rest of the report (call trace) follows within a moment */
                complete_since = lg_now_ms();
                if (complete_since + 1000 < until)
                    until = complete_since + 1000;
            }
            lg_cond_wait_until(&mon->cond, &mon->lock, until);
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
    *out = LG_EVIDENCE_INIT;
    out->verdict = mon->decided ? mon->finding.verdict : LG_VERDICT_PASS;
    out->signal = mon->decided ? mon->finding.signal : LG_SIGNAL_NONE;
    out->title = lg_strdup(mon->title);
    out->time_s = mon->decided ? (double)(mon->decided_us - mon->start_us) / 1e6 : 0;
    out->panic_time_s = mon->panic_us ? (double)(mon->panic_us - mon->start_us) / 1e6 : -1;
    int64_t report_us = console_clock_report_us(mon);
    out->report_time_s = report_us >= 0 ? (double)(report_us - mon->start_us) / 1e6 : -1;
    out->last_answer_s = mon->last_answer_us ? (double)(mon->last_answer_us - mon->start_us) / 1e6 : -1;
    out->signals = lg_calloc(mon->n_notes ? mon->n_notes : 1, sizeof(*out->signals));
    for (size_t i = 0; i < mon->n_notes; i++) {
        out->signals[i] = mon->notes[mon->note_order[i]];
        out->signals[i].title = lg_strdup(mon->notes[mon->note_order[i]].title);
    }
    out->n_signals = mon->n_notes;
    /* frozen at once: the guest never got past the boot it was in at the
     * decision, however far behind the console was then.  A console report
     * is frozen only once the console is quiet: a guest that rebooted
     * meanwhile has printed a later boot's number, so its decision's counts */
    bool frozen_at_once = mon->frozen_us && mon->finding.signal != LG_SIGNAL_CONSOLE;
    out->boot = mon->decided ? (frozen_at_once ? mon->boot : mon->decided_boot) : mon->boot;
    out->frozen_time_s = mon->frozen_us ? (double)(mon->frozen_us - mon->start_us) / 1e6 : -1;
    if (mon->decided) {
        if (mon->excerpt.len) {
            out->console_excerpt = lg_strdup(mon->excerpt.data);
        } else if (mon->frozen_us && mon->finding.verdict == LG_VERDICT_BOOT_LOOP) {
            /* frozen at the deciding reset: the console's last boot is the
             * deciding one, and what it printed before it reset says why */
            lg_buf tail = LG_BUF_INIT;
            ring_text_since(mon, mon->boot_start_line, &tail);
            out->console_excerpt = lg_buf_steal(&tail);
        } else if (mon->finding.verdict == LG_VERDICT_BOOT_LOOP &&
                   (mon->before_reset.len || mon->loop_tail.len)) {
            /* the tail of the last boot that ended unready (the guest goes
             * on looping, every such boot says why); else what the console
             * had shown when the deciding reset came */
            out->console_excerpt = lg_strdup(mon->loop_tail.len ? mon->loop_tail.data : mon->before_reset.data);
        } else {
            /* no console report: the last lines the guest printed */
            lg_buf tail = LG_BUF_INIT;
            ring_text(mon, &tail);
            out->console_excerpt = lg_buf_steal(&tail);
        }
        if (mon->decided_before_candidate)
            lg_evidence_mark_baseline(out);
    }
    pthread_mutex_unlock(&mon->lock);
}
