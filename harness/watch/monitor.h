/* The per-job monitor: every signal source (console stream, libvirt events,
 * heartbeat, step deadlines) posts here from its own thread; the first
 * decisive signal decides the verdict, and stronger evidence arriving within
 * the grace window may name the root cause or a better title. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "model/evidence.h"
#include "model/failure.h"

typedef struct lg_monitor lg_monitor;

/* console_log_path receives every console byte; grace_ms is how long to keep
 * collecting after the first decision. */
int lg_monitor_new(const char *console_log_path, int grace_ms, lg_monitor **out);
void lg_monitor_free(lg_monitor *mon);

/* --- inputs (any thread) --- */
void lg_monitor_console(lg_monitor *mon, const char *data, size_t len);
/* A failure the job met: its kind decides verdict, signal and title
 * (model/failure.h); the arguments are those the kind's title takes. */
void lg_monitor_fail(lg_monitor *mon, lg_failure kind, ...);
/* A finding by verdict and signal directly: for the monitor's own tests. */
void lg_monitor_post(lg_monitor *mon, lg_verdict verdict, lg_signal signal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Like lg_monitor_post with a title that names what failed (a decoded stop
 * code), which outranks a generic one for the same verdict. */
void lg_monitor_post_specific(lg_monitor *mon, lg_verdict verdict, lg_signal signal, const char *title);
/* Something worth a line in the job's timeline (evidence signals) that
 * decides nothing: a verdict of PASS under signal.  A later note for the
 * same signal replaces the title, a decision on it keeps the note. */
void lg_monitor_note(lg_monitor *mon, lg_signal signal, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* QEMU's own timestamp (wall clock, microseconds since the epoch) of the
 * guest's panic notification, converted here to the job's clock. */
void lg_monitor_panic_time(lg_monitor *mon, int64_t qemu_wall_us);
/* The guest answered the heartbeat. */
void lg_monitor_heartbeat(lg_monitor *mon);
/* libvirt reboot event (debounced here: one guest reset emits several). */
void lg_monitor_reset_event(lg_monitor *mon);
/* A step is about to reboot the guest: the next reset (one debounced burst)
 * is not a failure; resets after it, before the guest is ready, are. */
void lg_monitor_expect_reboot(lg_monitor *mon);
/* The guest reached ready in boot number `boot`. */
void lg_monitor_ready(lg_monitor *mon, int boot);

/* The profile's ready line ("labgate: ready %d", see model/readyline.h):
 * from now on the console is watched for it (and the last console lines
 * are looked at once, in case it came already).  Setting the same pattern
 * again changes nothing. */
void lg_monitor_set_ready_line(lg_monitor *mon, const char *pattern);

/* The agent's process names (the build's processes attribute), copied: a
 * console line saying one of them segfaulted or was OOM-killed is named as
 * the agent's in the timeline (signal process); any other process's is
 * noted too, unless an agent process's came first. */
void lg_monitor_set_agent_processes(lg_monitor *mon, char *const *names, size_t n);

/* --- queries --- */
bool lg_monitor_decided(lg_monitor *mon);
/* Waits up to timeout_ms for a decision; returns whether one exists. */
bool lg_monitor_wait(lg_monitor *mon, int64_t timeout_ms);
/* Waits until the console has shown the ready line with a boot number
 * above after_boot, a decision exists, or until_ms (lg_now_ms time) has
 * passed.  Returns that boot number, 0 on timeout, -ECANCELED on a decision. */
int lg_monitor_wait_ready_line(lg_monitor *mon, int after_boot, int64_t until_ms);
/* After a decision: waits out the grace window so the evidence holds the
 * whole report (returns early once a crash has both a pvpanic and a titled
 * console report).  Bounded by the grace time. */
void lg_monitor_wait_evidence(lg_monitor *mon);
/* The freeze at the decision (run/freeze.c stops the guest's vCPUs so that
 * the excerpt, screenshot, boot count and memory dump show the deciding
 * moment).  Waits until a decision exists and its moment to freeze has come
 * (see freeze_due() in monitor.c for the rule and why), or until until_ms
 * (lg_now_ms clock).  1: freeze now; 0: not yet; -ECANCELED: this decision
 * freezes nothing (it does not block). */
int lg_monitor_wait_freeze(lg_monitor *mon, int64_t until_ms);
/* The guest's vCPUs are stopped: from now on its silence (heartbeat, step
 * deadlines, network probes) decides nothing, the evidence waits only for
 * the console to drain, and the result says when it was frozen. */
void lg_monitor_frozen(lg_monitor *mon);
bool lg_monitor_is_frozen(lg_monitor *mon);
/* pending: the candidate (build or content) is not on the guest yet, so a
 * failure decided now is the guest image's own (a baseline failure, which
 * lg_monitor_result reports as INFRA_ERROR "baseline: ...").  false once a
 * step starts putting it there: every failure after that counts against the
 * candidate.  A new monitor counts everything against the candidate. */
void lg_monitor_candidate_pending(lg_monitor *mon, bool pending);
/* warnings_report: a WARNING report is a finding in the timeline, not a
 * crash (policy warnings="report"; a strict guest panics on one anyway).
 * A kmemleak leak is a finding under either policy.  The OOM killer killing one of the agent's
 * processes (lg_monitor_set_agent_processes) is AGENT_FAILURE, killing
 * another process is a finding. */
void lg_monitor_set_warnings_report(lg_monitor *mon, bool warnings_report);
/* The verdict so far (PASS while nothing decided). */
lg_verdict lg_monitor_verdict(lg_monitor *mon);
/* The boot number the console last announced (0 before the first). */
int lg_monitor_boot(lg_monitor *mon);
/* When console output last arrived (lg_now_ms clock), 0 before any. */
int64_t lg_monitor_console_ms(lg_monitor *mon);
/* The highest boot number the ready line announced (0 none, or no ready
 * line set). */
int lg_monitor_ready_line_boot(lg_monitor *mon);
/* Copies the decision (PASS with no title when nothing fired). */
void lg_monitor_result(lg_monitor *mon, lg_evidence *out);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_monitor, lg_monitor_free)
