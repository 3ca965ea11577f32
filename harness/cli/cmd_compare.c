#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "cli.h"
#include "model/verdict.h"
#include "reports/compare.h"

static const char usage[] =
    "usage: labgate compare OLD_DIR NEW_DIR\n"
    "Compares two runs' results (OLD_DIR/run.xml, NEW_DIR/run.xml) job by job.  Jobs\n"
    "match by their id, which derives from the matrix names (guest, build, content,\n"
    "scenario), so the same names are the same job in any run.  Lists NEW FAILURES\n"
    "(PASS or absent before, a failure now), STILL FAILING (saying when the verdict or\n"
    "crash title changed), FIXED, INCOMPLETE (INFRA_ERROR or no verdict on either\n"
    "side: never counted as failure or fix), jobs only in one run, and builds or\n"
    "content whose digest changed under the same id.\n"
    "Exit 1 when there is a new failure, 0 otherwise, 2 for bad input.\n";

int lg_cmd_compare(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        fputs(usage, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    LG_AUTO(lg_run_record) old_run = NULL;
    LG_AUTO(lg_run_record) new_run = NULL;
    int rc = lg_cli_load_run("compare", argv[1], &old_run);
    /* both, so that a user fixes every bad input at once */
    int rc_new = lg_cli_load_run("compare", argv[2], &new_run);
    if (rc || rc_new)
        return LG_EXIT_BAD_INPUT;
    LG_AUTO(lg_comparison) c = lg_compare_runs(old_run, new_run);
    lg_compare_print(c, old_run, new_run, stdout);
    return lg_compare_exit_code(c);
}
