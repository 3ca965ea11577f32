#include <stdio.h>

#include "base/buf.h"
#include "base/util.h"
#include "cli.h"

int lg_cli_load_matrix(const char *path, lg_matrix **out)
{
    lg_diags diags = { 0 };
    int rc = lg_matrix_load(path, out, &diags);
    lg_diags_print(&diags, stderr);
    lg_diags_clear(&diags);
    return rc < 0 ? LG_EXIT_BAD_INPUT : 0;
}

int lg_cli_load_run(const char *cmd, const char *dir, lg_run_record **out)
{
    if (!lg_is_dir(dir)) {
        fprintf(stderr, "labgate %s: %s: %s\n", cmd, dir,
                lg_is_file(dir) ? "not a directory (give a run's results directory)" : "no such directory");
        return LG_EXIT_BAD_INPUT;
    }
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run.xml", dir);
    lg_diags diags = { 0 };
    int rc = lg_run_record_load(path, out, &diags);
    lg_diags_print(&diags, stderr);
    lg_diags_clear(&diags);
    return rc < 0 ? LG_EXIT_BAD_INPUT : 0;
}
