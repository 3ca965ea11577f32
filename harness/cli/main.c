#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "base/log.h"
#include "cli.h"
#include "lg-config.h"
#include "model/verdict.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: labgate COMMAND [ARGS]\n"
            "\n"
            "A release gate for endpoint agents and their kernel drivers: boots a matrix of\n"
            "guests, installs agent builds and content, reboots, and blocks the release\n"
            "when any guest crashes, boot-loops or stops responding.\n"
            "\n"
            "commands:\n"
            "  validate MATRIX          check a matrix file and its guest profiles\n"
            "  plan MATRIX              list the jobs a run would execute\n"
            "  run MATRIX [--out DIR]   run the matrix; exit code is the gate (--shard I/N: one CI shard)\n"
            "  triage FILE              title of the first kernel crash in a saved console log\n"
            "  domxml PROFILE           the libvirt domain XML a run would define for a profile\n"
            "  gc [--dry-run]           remove domains and overlays a killed labgate left behind\n"
            "  repro DIR JOB_ID         run one job of a run again; --keep, --until-fail N\n"
            "  verify-release DIR --build PATH --content PATH\n"
            "                           did run DIR test exactly these files, and pass?\n"
            "  compare OLD_DIR NEW_DIR  new failures, fixes and changes between two runs\n"
            "  merge DIR... --out DIR   join the results of a run's CI shards into one run\n"
            "\n"
            "exit codes of run: 0 release may ship, 1 release blocked, 2 bad input,\n"
            "3 run incomplete (harness or hypervisor failure)\n"
            "\n"
            "environment: LABGATE_ACCEL=auto|kvm|tcg, LABGATE_STATE_DIR (overlays, run locks;\n"
            "default /var/lib/labgate as root, else ~/.local/state/labgate),\n"
            "LABGATE_DEBUG=module,... (virt,ssh,monitor,heartbeat,job or all)\n"
            "\n"
            "'labgate COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
    xmlInitParser();
    lg_log_init(false, false);
    if (argc < 2) {
        usage(stderr);
        return LG_EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("labgate %s\n", LG_VERSION);
        return 0;
    }
    int rc;
    if (strcmp(cmd, "validate") == 0)
        rc = lg_cmd_validate(argc - 1, argv + 1);
    else if (strcmp(cmd, "plan") == 0)
        rc = lg_cmd_plan(argc - 1, argv + 1);
    else if (strcmp(cmd, "run") == 0)
        rc = lg_cmd_run(argc - 1, argv + 1);
    else if (strcmp(cmd, "triage") == 0)
        rc = lg_cmd_triage(argc - 1, argv + 1);
    else if (strcmp(cmd, "domxml") == 0)
        rc = lg_cmd_domxml(argc - 1, argv + 1);
    else if (strcmp(cmd, "gc") == 0)
        rc = lg_cmd_gc(argc - 1, argv + 1);
    else if (strcmp(cmd, "repro") == 0)
        rc = lg_cmd_repro(argc - 1, argv + 1);
    else if (strcmp(cmd, "verify-release") == 0)
        rc = lg_cmd_verify_release(argc - 1, argv + 1);
    else if (strcmp(cmd, "compare") == 0)
        rc = lg_cmd_compare(argc - 1, argv + 1);
    else if (strcmp(cmd, "merge") == 0)
        rc = lg_cmd_merge(argc - 1, argv + 1);
    else {
        fprintf(stderr, "labgate: unknown command '%s'\n\n", cmd);
        usage(stderr);
        rc = LG_EXIT_BAD_INPUT;
    }
    xmlCleanupParser();
    return rc;
}
