/* The profile's leak scan at the end of a job (the debug guest's kmemleak,
 * <leak-scan command="..."/>): the command's output is the detector's
 * report, kept as the job's file files/leak-scan.txt; its leaks are one
 * finding in the job's timeline (signal leak-scan), never a verdict. */
#pragma once
#include "model/matrix.h"
#include "run/backend.h"
#include "watch/monitor.h"

/* Runs profile->leak_scan_command over the session before deadline.
 * out_dir/jobs/JOB_ID/files/leak-scan.txt receives the output; *file_rel
 * (relative to out_dir, for the job's artifacts) is set when it was
 * written.  Returns 0, or the transport's negative code (the caller turns
 * that into the job's transport failure); a command that fails is a note
 * saying so, not an error. */
int lg_leakcheck_run(const lg_backend_ops *ops, lg_session *session, const lg_profile *profile, lg_monitor *mon,
                     const char *out_dir, const char *job_id, lg_deadline dl, char **file_rel);
