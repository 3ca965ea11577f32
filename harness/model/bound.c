#include "bound.h"

#include <errno.h>
#include <float.h>
#include <math.h>

#include "base/buf.h"

/* n above this is reported as this: no run gets near it, and the long it
 * goes into stays exact */
#define CYCLES_CLAMP 1e12
/* a quotient this close to an integer is that integer: p and c come from
 * decimal text and are rounded already, so a last-bit excess must not add a
 * whole cycle */
#define INTEGER_SLACK 1e-12

long lg_bound_cycles(double max_failure_rate, double confidence)
{
    double p = max_failure_rate, c = confidence;
    if (!(p > 0 && p < 1) || !(c > 0 && c < 1))
        return -EINVAL;
    /* log1p keeps the digits of ln(1 - p) for a small p, where 1 - p
     * would round most of them away */
    double x = log1p(-c) / log1p(-p);
    if (!isfinite(x) || x >= CYCLES_CLAMP)
        return (long)CYCLES_CLAMP;
    double n = ceil(x);
    if (n - 1 >= 1 && n - 1 >= x * (1 - INTEGER_SLACK))
        n -= 1;
    return n < 1 ? 1 : (long)n;
}

char *lg_bound_claim(long trials, const char *unit, double max_failure_rate, double confidence)
{
    return lg_strdup_printf("0 failures in %ld %s: failure rate < %g at confidence %g", trials, unit,
                            max_failure_rate, confidence);
}

/* One term aa of a modified Lentz evaluation: updates c and d (kept away
 * from zero) and returns the factor the fraction's value changes by. */
static double lentz_term(double aa, double *c, double *d)
{
    const double tiny = DBL_MIN / DBL_EPSILON;
    *d = 1 + aa * *d;
    if (fabs(*d) < tiny)
        *d = tiny;
    *c = 1 + aa / *c;
    if (fabs(*c) < tiny)
        *c = tiny;
    *d = 1 / *d;
    return *d * *c;
}

/* The continued fraction of I_x(a, b) (modified Lentz), which converges
 * quickly for x < (a + 1) / (a + b + 2). */
static double beta_fraction(double a, double b, double x)
{
    const double tiny = DBL_MIN / DBL_EPSILON;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m;
        h *= lentz_term(m * (b - m) * x / ((qam + m2) * (a + m2)), &c, &d);
        double step = lentz_term(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &c, &d);
        h *= step;
        if (fabs(step - 1) < 1e-15)
            break;
    }
    return h;
}

double lg_beta_inc(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1))
        return NAN;
    if (x == 0)
        return 0;
    if (x == 1)
        return 1;
    /* x^a (1-x)^b / B(a, b), in logarithms: a and b run to thousands */
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2))
        return front * beta_fraction(a, b, x) / a;
    return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

/* The x in [0, 1] with I_x(a, b) = q: I_x rises with x, so bisection finds
 * it whatever the shape. */
static double beta_quantile(double a, double b, double q)
{
    double lo = 0, hi = 1;
    for (int i = 0; i < 200 && hi - lo > 1e-13; i++) {
        double mid = (lo + hi) / 2;
        if (lg_beta_inc(a, b, mid) < q)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

int lg_clopper_pearson(long k, long n, double confidence, double *lower, double *upper)
{
    if (n < 1 || k < 0 || k > n || !(confidence > 0 && confidence < 1))
        return -EINVAL;
    double tail = (1 - confidence) / 2;
    *lower = k == 0 ? 0 : beta_quantile((double)k, (double)(n - k + 1), tail);
    *upper = k == n ? 1 : beta_quantile((double)(k + 1), (double)(n - k), 1 - tail);
    return 0;
}
