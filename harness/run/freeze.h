/* The freeze at the decision: a thread of the job that stops the guest's
 * vCPUs (the backend's suspend) at the moment the monitor's rule says
 * (lg_monitor_wait_freeze), so the console excerpt, screenshot, boot count
 * and memory dump show the deciding moment, not the boots and minutes after
 * it.  It runs from the launch until the job collects its evidence. */
#pragma once
#include <stdint.h>

#include "backend.h"
#include "watch/monitor.h"

/* One monitor command: QEMU answers at once unless it is wedged. */
#define LG_FREEZE_SUSPEND_MS 30000

typedef struct lg_freezer lg_freezer;

/* Starts watching mon for a decision to freeze vm for; NULL when no thread
 * could be started (the guest is then not frozen). */
lg_freezer *lg_freezer_start(lg_monitor *mon, lg_backend *backend, lg_vm *vm);
/* Waits until the freeze is done (or there is none to do) or until_ms
 * (lg_now_ms clock) has passed, then stops the thread and frees fz.  1: the
 * guest is frozen; 0: it was not (no decision, none that freezes, or not
 * due by until_ms); < 0: the suspend failed, *why says how (the caller
 * frees).  Accepts NULL (0). */
int lg_freezer_finish(lg_freezer *fz, int64_t until_ms, char **why);
