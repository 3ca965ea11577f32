/* Failure rates from counts: how many cycles make "no failure seen" a bound
 * on the failure rate, and the exact (Clopper-Pearson) interval of an
 * observed rate.  Plain arithmetic, no state. */
#pragma once
#include <stdbool.h>

/* The most cycles one count="auto" asks for: at TCG speed (several seconds
 * a boot) 10000 reboots are a day of one guest.  A policy needing more is
 * refused rather than left to run for weeks. */
#define LG_BOUND_MAX_CYCLES 10000

/* The fewest independent cycles n after which zero failures show, at
 * confidence c, that the failure rate is below p:
 *   (1 - p)^n <= 1 - c,   n = ceil(ln(1 - c) / ln(1 - p))
 * (29 for p = 0.1, c = 0.95; 299 for p = 0.01, c = 0.95).  A quotient within
 * a relative 1e-12 of an integer counts as that integer, so (0.5, 0.75)
 * gives 2, not 3.  Returns n >= 1, capped at 1e12 (compare it with
 * LG_BOUND_MAX_CYCLES), or -EINVAL unless 0 < p < 1 and 0 < c < 1. */
long lg_bound_cycles(double max_failure_rate, double confidence);

/* What zero failures in `trials` cycles show, in the words the reports use:
 * "0 failures in 29 boots: failure rate < 0.1 at confidence 0.95".  unit is
 * "boots" or "cycles".  A new string. */
char *lg_bound_claim(long trials, const char *unit, double max_failure_rate, double confidence);

/* The regularized incomplete beta function I_x(a, b), a, b > 0,
 * 0 <= x <= 1 (the binomial distribution's tail: P(X >= k) for X ~
 * Binomial(n, x) is I_x(k, n - k + 1)).  NaN for arguments outside that. */
double lg_beta_inc(double a, double b, double x);

/* The exact two-sided Clopper-Pearson interval of a failure rate, k
 * failures in n trials, at confidence (0.95: each tail 2.5 %): the beta
 * quantiles, found by bisection on lg_beta_inc to 1e-12.  0 with *lower and
 * *upper; -EINVAL unless 0 <= k <= n, n >= 1 and 0 < confidence < 1. */
int lg_clopper_pearson(long k, long n, double confidence, double *lower, double *upper);
