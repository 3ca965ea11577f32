#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model/baseline.h"
#include "model/plan.h"
#include "model/shard.h"
#include "model/verdict.h"
#include "run/sched.h"
#include "virt/conn.h"

/* Loads the matrix named by the only argument; prints every problem. */
static int load(int argc, char **argv, const char *help, lg_matrix **out)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(help, stdout);
        return -1;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fputs(help, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    return lg_cli_load_matrix(argv[1], out);
}

int lg_cmd_validate(int argc, char **argv)
{
    LG_AUTO(lg_matrix) m = NULL;
    int rc = load(argc, argv,
                  "usage: labgate validate MATRIX\n"
                  "Checks MATRIX and the guest profiles it names against matrix/schema.rng and for\n"
                  "meaning (unique ids, known references, files that exist).  Prints FILE:LINE: problem\n"
                  "for every error; exits 0 when valid, 2 otherwise.\n",
                  &m);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    lg_diags diags = { 0 };
    rc = lg_sched_check_hosts(m, &diags);
    lg_virt_shutdown();
    lg_diags_print(&diags, stderr);
    lg_diags_clear(&diags);
    if (rc < 0)
        return LG_EXIT_BAD_INPUT;
    LG_AUTO(lg_plan) plan = lg_plan_expand(m);
    printf("%s: valid: %zu guest(s), %zu build(s), %zu content set(s), %zu scenario(s) -> %zu job(s)",
           argv[1], m->n_guests, m->n_builds, m->n_contents, m->n_scenarios, plan->n_jobs);
    if (plan->n_excluded)
        printf(" (%zu excluded)", plan->n_excluded);
    printf("\n");
    return 0;
}

/* baseline="first": what each profile boots before its jobs */
static void print_baselines(const lg_plan *plan)
{
    size_t n = 0;
    LG_AUTOFREE const lg_profile **profiles = lg_plan_profiles(plan, &n);
    printf("\nbaseline=\"first\": before its jobs, each profile boots once on each host with nothing installed:\n");
    for (size_t i = 0; i < n; i++) {
        LG_AUTO(lg_scenario) sc = lg_baseline_scenario(plan, profiles[i]);
        lg_scenario_counts counts;
        lg_scenario_count(sc, &counts);
        /* how often each restart kind comes, in the order they first come */
        static const lg_step_kind kinds[] = { LG_STEP_REBOOT, LG_STEP_POWER_CYCLE, LG_STEP_COLD_BOOT };
        printf("  baseline %-20s  %d boot%s: ready", profiles[i]->id, counts.boots, counts.boots == 1 ? "" : "s");
        for (size_t k = 0; k < LG_N_ELEMENTS(kinds); k++) {
            int times = 0;
            for (size_t j = 0; j < sc->n_steps; j++)
                if (sc->steps[j].kind == kinds[k])
                    times += lg_step_boots(&sc->steps[j]);
            if (times)
                printf(", %s x%d", lg_step_kind_name(kinds[k]), times);
        }
        printf("\n");
    }
}

int lg_cmd_plan(int argc, char **argv)
{
    /* --shard I/N (anywhere): the shard's jobs only, as `run --shard` runs them */
    lg_shard shard = { 0 };
    char *rest[3] = { argv[0], NULL, NULL };
    int n_rest = 1;
    for (int i = 1; i < argc; i++) {
        const char *value = strncmp(argv[i], "--shard=", 8) == 0 ? argv[i] + 8 : NULL;
        if (!value && strcmp(argv[i], "--shard") == 0 && i + 1 < argc)
            value = argv[++i];
        if (value) {
            if (lg_cli_parse_shard("plan", value, &shard) != 0)
                return LG_EXIT_BAD_INPUT;
            continue;
        }
        if (n_rest == 3) {
            n_rest++;
            break;
        }
        rest[n_rest++] = argv[i];
    }
    LG_AUTO(lg_matrix) m = NULL;
    int rc = load(n_rest > 3 ? argc : n_rest, n_rest > 3 ? argv : rest,
                  "usage: labgate plan MATRIX [--shard I/N]\n"
                  "Prints one line per job: id, guest, build, content, scenario, seed, the cycles\n"
                  "of its <repeat>s (\"auto\": those of the failure-rate bound) and the boots it\n"
                  "goes through when every step passes.  Job ids and seeds depend only on the\n"
                  "names in the matrix, so they are the same on every run; so does the moment of\n"
                  "each <apply-content cut-power-within-ms> power cut.  --shard I/N lists only\n"
                  "the jobs of shard I of N (a hash of the job id mod N), as run --shard runs them.\n"
                  "With policy baseline=\"first\", also each profile's baseline boot: the boots it\n"
                  "goes through before its jobs.\n",
                  &m);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    LG_AUTO(lg_plan) plan = lg_plan_expand(m);
    size_t whole = plan->n_jobs;
    char plan_sha256[LG_SHA256_HEX_LEN + 1];
    lg_plan_digest(plan, plan_sha256);
    lg_plan_keep_shard(plan, shard);
    if (shard.count)
        printf("shard %d of %d: %zu of %zu jobs (plan digest %.12s...)\n", shard.index, shard.count, plan->n_jobs,
               whole, plan_sha256);
    printf("%-12s  %-20s  %-20s  %-16s  %-20s  %-10s  %-16s  %s\n", "JOB", "GUEST", "BUILD", "CONTENT",
           "SCENARIO", "SEED", "CYCLES", "BOOTS");
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const lg_job *j = &plan->jobs[i];
        lg_scenario_counts counts;
        lg_scenario_count(j->scenario, &counts);
        char cycles[64] = "-";
        if (counts.auto_cycles && counts.auto_cycles == counts.cycles)
            snprintf(cycles, sizeof(cycles), "%d (auto)", counts.cycles);
        else if (counts.auto_cycles)
            snprintf(cycles, sizeof(cycles), "%d (%d auto)", counts.cycles, counts.auto_cycles);
        else if (counts.cycles)
            snprintf(cycles, sizeof(cycles), "%d", counts.cycles);
        printf("%-12s  %-20s  %-20s  %-16s  %-20s  %-10" PRIu64 "  %-16s  %d", j->id, j->guest->id,
               j->build->id, j->content->id, j->scenario->id, j->seed, cycles, counts.boots);
        /* when each power cut comes: known before the run, the same in repro */
        for (size_t k = 0; k < j->scenario->n_steps; k++) {
            const lg_step *st = &j->scenario->steps[k];
            if (st->kind == LG_STEP_APPLY_CONTENT && st->cut_power_within_ms > 0)
                printf("  power cut: step %zu at %d ms", k + 1, lg_plan_cut_ms(j, k, st->cut_power_within_ms));
        }
        printf("\n");
    }
    const lg_policy *pol = &m->policy;
    if (pol->baseline_first)
        print_baselines(plan);
    if (pol->bound_cycles)
        printf("\nfailure-rate bound: count=\"auto\" runs %ld cycles: 0 failures in %ld cycles show a failure rate "
               "< %g at confidence %g\n",
               pol->bound_cycles, pol->bound_cycles, pol->max_failure_rate, pol->confidence);
    return 0;
}
