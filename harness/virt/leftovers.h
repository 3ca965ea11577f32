/* labgate's domains on a libvirt host, recognised by the labgate <metadata>
 * element every job's domain carries (never by name alone), for
 * `labgate gc`. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "conn.h"

typedef struct lg_labgate_domain {
    char *name;
    char *run_id;
    char *job_id;
    char *overlay; /* the job's overlay disk, or NULL */
    char *lock;    /* the run's lock file, or NULL */
    bool active;   /* running or paused */
} lg_labgate_domain;

/* Every domain (defined or transient) with labgate metadata. */
int lg_labgate_domains(lg_conn *conn, lg_labgate_domain **out, size_t *n);
void lg_labgate_domains_free(lg_labgate_domain *doms, size_t n);
/* lg_virt_domain_remove by name. */
int lg_labgate_domain_remove(lg_conn *conn, const char *name);
