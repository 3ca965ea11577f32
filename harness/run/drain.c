#include "drain.h"

#include <stdlib.h>

#include "base/log.h"
#include "base/buf.h"
#include "base/mem.h"

LG_LOG_INIT("drain");

typedef struct drain_host {
    bool drained;
    char *reason;
    int infra_in_a_row;
} drain_host;

struct lg_drain {
    drain_host *hosts;
    size_t n_hosts;
    int drain_after;
};

lg_drain *lg_drain_new(size_t n_hosts, int drain_after)
{
    lg_drain *d = lg_calloc(1, sizeof(*d));
    d->hosts = lg_calloc(n_hosts ? n_hosts : 1, sizeof(*d->hosts));
    d->n_hosts = n_hosts;
    d->drain_after = drain_after < 1 ? 1 : drain_after;
    return d;
}

void lg_drain_free(lg_drain *d)
{
    if (!d)
        return;
    for (size_t h = 0; h < d->n_hosts; h++)
        free(d->hosts[h].reason);
    free(d->hosts);
    free(d);
}

bool lg_drain_host(lg_drain *d, size_t host, const char *why)
{
    if (host >= d->n_hosts || d->hosts[host].drained)
        return false;
    d->hosts[host].drained = true;
    d->hosts[host].reason = lg_strdup(why ? why : "drained");
    LG_DEBUG("host %zu drained: %s", host, d->hosts[host].reason);
    return true;
}

bool lg_drain_is_drained(const lg_drain *d, size_t host)
{
    return host >= d->n_hosts || d->hosts[host].drained;
}

const char *lg_drain_reason(const lg_drain *d, size_t host)
{
    return host < d->n_hosts ? d->hosts[host].reason : NULL;
}

size_t lg_drain_hosts_left(const lg_drain *d)
{
    size_t left = 0;
    for (size_t h = 0; h < d->n_hosts; h++)
        left += !d->hosts[h].drained;
    return left;
}

bool lg_drain_job_ended(lg_drain *d, size_t host, bool infra_error, const char *title)
{
    if (host >= d->n_hosts)
        return false;
    drain_host *dh = &d->hosts[host];
    if (!infra_error) {
        dh->infra_in_a_row = 0;
        return false;
    }
    dh->infra_in_a_row++;
    /* the last host left keeps running its jobs: each gets its own
     * INFRA_ERROR (a bad image is no reason to drop the others) rather
     * than "no host left" */
    if (dh->infra_in_a_row < d->drain_after || dh->drained || lg_drain_hosts_left(d) <= 1)
        return false;
    LG_AUTOFREE char *why = lg_strdup_printf("%d job(s) in a row ended INFRA_ERROR (the last: %s)", dh->infra_in_a_row,
                                             title && *title ? title : "no title");
    return lg_drain_host(d, host, why);
}

bool lg_drain_retry_wanted(const lg_job_result *res, int tries, int infra_retries, bool interrupted)
{
    return res->evidence.verdict == LG_VERDICT_INFRA_ERROR && !interrupted && !res->kept_domain &&
           tries < 1 + infra_retries;
}
