/* A run holds an exclusive lock on STATE_DIR/run-RUN_ID.lock for as long as
 * it lives (the kernel drops it when the process dies, however it dies).
 * `labgate gc` tells a killed harness's leftovers from a live run's by it,
 * never by a domain's name or a PID that may have been reused. */
#pragma once
#include <stdbool.h>

/* Checks the state directory (base/statedir.h), takes the lock (a new
 * file, 0600) and records the run's results directory in it; returns the fd
 * to keep open (close it, or exit, to drop it), or a negative errno
 * with the message set. */
int lg_run_lock_take(const char *run_id, const char *results_dir);
/* The results directory a lock file records (*out NULL when none), read
 * only from a lock this user created: a regular file, not a symlink, owned
 * by the effective user; -EPERM / -errno with the message set otherwise. */
int lg_run_lock_results_dir(const char *lock_path, char **out);
/* Called for each console log found: rc 0 (removed, or would be in a dry
 * run) or -errno. */
typedef void (*lg_run_log_fn)(const char *log, int rc, void *opaque);
/* A run killed before it wrote run.xml leaves partial console logs
 * (jobs/JOB/console.log in the results directory its lock records): removes
 * them (lists them when dry_run).  Trusts the lock as above, and touches a
 * results directory only if it is owned by this user and reached through no
 * symlink; a run.xml there means the run finished: nothing is touched, and
 * a job with a journal entry (jobs/JOB/result.xml) ended: its log is kept.
 * Returns the number of logs that could not be removed, or -errno with the
 * message set when the lock or the results directory is not trusted. */
int lg_run_lock_clear_partial_logs(const char *lock_path, bool dry_run, lg_run_log_fn fn, void *opaque);
/* Drops the lock and removes its file. */
void lg_run_lock_release(const char *run_id, int fd);
/* The lock file of run_id (in the state directory of this process). */
char *lg_run_lock_path(const char *run_id);
/* A run id as labgate makes them: up to 64 letters, digits, '-', '_' and
 * '.', starting with a letter or digit.  Ids read back from files
 * (run-meta.xml, a domain's metadata) name files in the state directory,
 * domains and reports: one that could name another directory or carry
 * terminal controls is refused. */
bool lg_run_id_ok(const char *id);
/* The lock of run_id (lg_run_id_ok) to believe for a domain whose metadata
 * claims claimed (or NULL): claimed when it is that run's lock file in an
 * existing directory that passes the state-directory check (a run with
 * another state directory), this user's state directory's otherwise. */
char *lg_run_lock_path_claimed(const char *run_id, const char *claimed);
/* Whether a live process holds the lock at path (the path a domain's
 * metadata names, whatever this process's state directory is). */
bool lg_run_lock_held(const char *path);
