/* libFuzzer target: run.xml as `labgate compare`, `verify-release` and
 * `repro` read it (reports/compare.c), and a run that reads compared with
 * itself. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "reports/compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/lg-fuzz-runxml-XXXXXX";
static char input[sizeof(dir) + 16];
static FILE *devnull;

static void remove_dir(void)
{
    unlink(input);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!*input) {
        if (!mkdtemp(dir) || !(devnull = fopen("/dev/null", "w")))
            abort();
        snprintf(input, sizeof(input), "%s/run.xml", dir);
        atexit(remove_dir);
    }
    int fd = open(input, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);

    lg_diags diags = { 0 };
    lg_run_record *r = NULL;
    if (lg_run_record_load(input, &r, &diags) == 0) {
        lg_comparison *c = lg_compare_runs(r, r);
        /* a run compared with itself changes nothing */
        if (c->count[LG_CHANGE_NEW_FAILURE] || c->count[LG_CHANGE_FIXED] || c->count[LG_CHANGE_ONLY_OLD] ||
            c->count[LG_CHANGE_ONLY_NEW] || c->n_jobs != r->n_jobs)
            abort();
        lg_compare_print(c, r, r, devnull);
        lg_comparison_free(c);
        for (size_t i = 0; i < r->n_jobs; i++) {
            if (lg_run_record_job(r, r->jobs[i].id) != &r->jobs[i])
                abort();
            lg_run_record_build(r, r->jobs[i].build);
            lg_run_record_content(r, r->jobs[i].content);
        }
    }
    lg_run_record_free(r);
    lg_diags_clear(&diags);
    return 0;
}
