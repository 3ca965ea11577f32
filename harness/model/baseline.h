/* Policy baseline="first": before any job of a guest profile runs on a
 * host, the profile boots there once with nothing of the candidate on it,
 * through the reboots its jobs' scenario makes, with the heartbeat
 * watching.  A guest that fails that way fails by itself (its image, its
 * host), so its jobs are not run and are INFRA_ERROR "baseline failed".
 * Here: what that boot does, from the plan alone (plan prints it). */
#pragma once
#include <stdbool.h>

#include "plan.h"

/* The step kinds a baseline keeps: those that restart the guest without
 * putting anything on it (reboot, power-cycle, cold-boot). */
bool lg_step_is_restart(lg_step_kind kind);

/* The baseline's scenario for profile (id "baseline"): wait-ready, then
 * the restart steps (lg_step_is_restart) of whichever scenario of the
 * plan's jobs on that profile boots the guest most often through them
 * (the first such in plan order on a tie).  NULL when no job of the plan
 * uses the profile.  Free with lg_baseline_scenario_free. */
lg_scenario *lg_baseline_scenario(const lg_plan *plan, const lg_profile *profile);
void lg_baseline_scenario_free(lg_scenario *sc);

/* Each guest of a matrix loads its profile: two guests of one profile
 * hold two copies.  The same profile: the same id. */
bool lg_profile_same(const lg_profile *a, const lg_profile *b);

/* The plan's profiles that have jobs, each once, in the order of their
 * first job; *n set.  A new array of borrowed pointers (free() it). */
const lg_profile **lg_plan_profiles(const lg_plan *plan, size_t *n);

/* The directory of a profile's baseline results, relative to the run's:
 * baseline/PROFILE, or baseline/PROFILE/HOST when the matrix has more
 * than one host.  A new string. */
char *lg_baseline_dir(const lg_matrix *m, const lg_profile *profile, const lg_host *host);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_scenario, lg_baseline_scenario_free)
