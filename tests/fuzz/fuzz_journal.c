/* libFuzzer target: the run's journal as `labgate run --resume` reads it
 * back (reports/journal.c): the bytes as a job's entry (jobs/ID/result.xml)
 * and as run-meta.xml.  An entry that reads is written again and must read
 * back: what the reader accepts, the writer can write. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JOB_ID "0123456789ab"

static char dir[] = "/tmp/lg-fuzz-journal-XXXXXX";
static char entry[sizeof(dir) + 64], meta[sizeof(dir) + 32], job_dir[sizeof(dir) + 32], jobs_dir[sizeof(dir) + 16];

static void remove_dir(void)
{
    unlink(entry);
    unlink(meta);
    rmdir(job_dir);
    rmdir(jobs_dir);
    rmdir(dir);
}

static void put(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!*entry) {
        if (!mkdtemp(dir))
            abort();
        snprintf(jobs_dir, sizeof(jobs_dir), "%s/jobs", dir);
        snprintf(job_dir, sizeof(job_dir), "%s/" JOB_ID, jobs_dir);
        snprintf(entry, sizeof(entry), "%s/result.xml", job_dir);
        snprintf(meta, sizeof(meta), "%s/run-meta.xml", dir);
        if (mkdir(jobs_dir, 0700) < 0 || mkdir(job_dir, 0700) < 0)
            abort();
        atexit(remove_dir);
    }
    put(entry, data, size);
    put(meta, data, size);

    lg_job job;
    memset(&job, 0, sizeof(job));
    memcpy(job.id, JOB_ID, sizeof(JOB_ID));
    lg_diags diags = { 0 };
    lg_job_result res;
    lg_job_result_init(&res);
    if (lg_journal_read_job(dir, &job, &res, &diags) == 0) {
        /* the writer needs the job's names; none of them come from the entry */
        lg_guest guest = { .id = (char *)"g" };
        lg_build build = { .id = (char *)"b" };
        lg_content content = { .id = (char *)"c" };
        lg_scenario scenario = { .id = (char *)"s" };
        job.guest = &guest;
        job.build = &build;
        job.content = &content;
        job.scenario = &scenario;
        if (lg_journal_write_job(dir, &job, &res) < 0)
            abort();
        lg_job_result again;
        lg_job_result_init(&again);
        lg_diags again_diags = { 0 };
        if (lg_journal_read_job(dir, &job, &again, &again_diags) != 0 || again.evidence.verdict != res.evidence.verdict ||
            again.n_files != res.n_files || again.evidence.n_signals != res.evidence.n_signals)
            abort();
        lg_job_result_clear(&again);
        lg_diags_clear(&again_diags);
    }
    lg_job_result_clear(&res);
    lg_run_meta *m = NULL;
    if (lg_journal_read_meta(dir, &m, &diags) == 0)
        lg_run_meta_free(m);
    lg_diags_clear(&diags);
    return 0;
}
