/* Hosts that fail, during a run: which hosts are drained (no new job
 * starts there) and why, and when a job that ended INFRA_ERROR runs again
 * elsewhere.  A host is drained when it fails its check at the start of
 * the run (run/hostcheck.h), when its libvirt connection is lost for good,
 * or when its jobs end INFRA_ERROR policy host-drain-after times in a row.
 * Plain bookkeeping: the scheduler holds its own lock around every call. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "job.h"

typedef struct lg_drain lg_drain;

/* n_hosts hosts, none drained; drain_after: INFRA_ERRORs in a row that
 * drain a host (< 1: 1). */
lg_drain *lg_drain_new(size_t n_hosts, int drain_after);
void lg_drain_free(lg_drain *d);

/* Drains host for why (the first reason is kept).  true when it was not
 * drained before. */
bool lg_drain_host(lg_drain *d, size_t host, const char *why);
bool lg_drain_is_drained(const lg_drain *d, size_t host);
/* why it was drained, or NULL */
const char *lg_drain_reason(const lg_drain *d, size_t host);
size_t lg_drain_hosts_left(const lg_drain *d);

/* A job ended on host: an INFRA_ERROR counts towards draining it, any
 * other verdict starts the count again.  true when this drained it; the
 * last host not drained never is (only lg_drain_host drains it). */
bool lg_drain_job_ended(lg_drain *d, size_t host, bool infra_error, const char *title);

/* Whether a job that ended so runs again on another host: INFRA_ERROR (no
 * guest verdict), not interrupted, no VM kept for an engineer, and fewer
 * than 1 + infra_retries hosts tried (tries: those tried so far). */
bool lg_drain_retry_wanted(const lg_job_result *res, int tries, int infra_retries, bool interrupted);
