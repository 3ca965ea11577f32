#include "run/leakcheck.h"

#include <errno.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "watch/leakscan.h"

LG_LOG_INIT("leakcheck");

#define LEAK_SCAN_FILE "leak-scan.txt"

int lg_leakcheck_run(const lg_backend_ops *ops, lg_session *session, const lg_profile *profile, lg_monitor *mon,
                     const char *out_dir, const char *job_id, lg_deadline dl, char **file_rel)
{
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = -1;
    int rc = ops->exec(session, profile->leak_scan_command, NULL, 0, dl, &out, &status);
    if (rc < 0)
        return rc;
    /* the report as the guest gave it (capped by the transport), beside
     * the job's other files */
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/jobs/%s/files", out_dir, job_id);
    LG_AUTOFREE char *rel = lg_strdup_printf("jobs/%s/files/%s", job_id, LEAK_SCAN_FILE);
    LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", out_dir, rel);
    if (lg_mkdir_p(dir, 0755) == 0 && lg_write_file(path, out.data ? out.data : "", out.len) == 0)
        *file_rel = LG_STEAL(rel);
    else
        LG_DEBUG("%s: cannot keep the leak scan's output in %s", job_id, path);
    if (status != 0) {
        /* no detector (kmemleak off, or disabled itself at boot): the job
         * says it was not checked, the guest's words stay in the file */
        lg_monitor_note(mon, LG_SIGNAL_LEAK_SCAN, "leak scan not done: the command exited %d (see %s)", status,
                        LEAK_SCAN_FILE);
        return 0;
    }
    size_t objects = 0;
    LG_AUTOFREE char *summary = lg_leakscan_summarize(out.data ? out.data : "", out.len, &objects);
    LG_DEBUG("%s: leak scan: %zu objects", job_id, objects);
    if (summary)
        lg_monitor_note(mon, LG_SIGNAL_LEAK_SCAN, "%s", summary);
    return 0;
}
