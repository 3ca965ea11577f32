/* A run holds an exclusive lock on STATE_DIR/run-RUN_ID.lock for as long as
 * it lives (the kernel drops it when the process dies, however it dies).
 * `labgate gc` tells a killed harness's leftovers from a live run's by it,
 * never by a domain's name or a PID that may have been reused. */
#pragma once
#include <stdbool.h>

/* Takes the lock and records the run's results directory in it; returns
 * the fd to keep open (close it, or exit, to drop it), or a negative errno
 * with the message set. */
int lg_run_lock_take(const char *run_id, const char *results_dir);
/* The results directory a lock file records, or NULL. */
char *lg_run_lock_results_dir(const char *lock_path);
/* Drops the lock and removes its file. */
void lg_run_lock_release(const char *run_id, int fd);
/* The lock file of run_id (in the state directory of this process). */
char *lg_run_lock_path(const char *run_id);
/* Whether a live process holds the lock at path (the path a domain's
 * metadata names, whatever this process's state directory is). */
bool lg_run_lock_held(const char *path);
