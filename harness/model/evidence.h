/* What a job's verdict rests on: the deciding signal, its title and time,
 * the timeline of every signal, and the console excerpt.  Every path that
 * makes a result starts from lg_evidence_init, so a time nobody measured
 * reads "unknown" (< 0), never 0.000 s. */
#pragma once
#include <stddef.h>

#include "verdict.h"

/* A signal as it fired, decisive or not: the timeline behind a verdict. */
typedef struct lg_signal_note {
    lg_signal signal;
    lg_verdict verdict;
    double time_s;      /* first time this signal fired, since job start */
    char *title;
} lg_signal_note;

typedef struct lg_evidence {
    lg_verdict verdict;
    lg_signal signal;
    char *title;
    double time_s;      /* when decided, since job start (0: before it started) */
    int boot;           /* boot number when decided (1 = first boot) */
    char *console_excerpt;
    /* Every signal that fired, once each, in the order they first fired. */
    lg_signal_note *signals;
    size_t n_signals;
    /* When the guest's kernel panicked, by QEMU's clock (the pvpanic write),
     * since job start; < 0 when no panic device reported one. */
    double panic_time_s;
    /* When the guest printed the first line of the crash report the console
     * scanner found, since job start; < 0 when unknown.  Estimated from the
     * kernel's printk timestamps: see the comment at console_clock_*() in
     * watch/monitor.c. */
    double report_time_s;
    /* When the guest last answered the heartbeat (or a readiness probe),
     * since job start; < 0 never. */
    double last_answer_s;
    /* When labgate stopped the guest's vCPUs for the evidence (the freeze
     * at the decision), since job start; < 0 when it kept running. */
    double frozen_time_s;
    /* The guest failed before the candidate (build, content) was put on it:
     * the verdict is INFRA_ERROR, and baseline_verdict what the guest's own
     * failure was (CRASH, HANG, ...).  LG_VERDICT_PASS when not a baseline
     * failure. */
    bool baseline;
    lg_verdict baseline_verdict;
} lg_evidence;

/* PASS, nothing fired, every time unknown. */
#define LG_EVIDENCE_INIT                                                                                       \
    ((lg_evidence){ .verdict = LG_VERDICT_PASS, .signal = LG_SIGNAL_NONE, .time_s = 0, .panic_time_s = -1,     \
                    .report_time_s = -1, .last_answer_s = -1, .frozen_time_s = -1 })
void lg_evidence_init(lg_evidence *ev);
/* Turns a guest failure that came before the candidate was on the guest
 * into INFRA_ERROR "baseline: ...": the image (or the host) failed, not the
 * candidate.  Evidence that does not block is left as it is. */
void lg_evidence_mark_baseline(lg_evidence *ev);
/* dst becomes a deep copy of src (dst owns nothing before). */
void lg_evidence_copy(lg_evidence *dst, const lg_evidence *src);
/* Frees what ev owns and leaves it as lg_evidence_init does. */
void lg_evidence_clear(lg_evidence *ev);
