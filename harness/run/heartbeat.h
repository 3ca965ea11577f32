/* The heartbeat: while the guest is ready, asks it every interval whether
 * it lives (and, once the agent is installed, whether the agent does), on
 * its own thread and its own session.  It reports to the monitor: HANG
 * when the guest has not answered for interval x misses, AGENT_FAILURE when
 * the health command failed twice in a row while the OS answered. */
#pragma once
#include <stdbool.h>

#include "backend.h"
#include "netprobe.h"
#include "watch/monitor.h"

typedef struct lg_heartbeat lg_heartbeat;

typedef struct lg_heartbeat_params {
    lg_monitor *mon;
    lg_backend *backend;
    lg_vm *vm;
    lg_transport_target target;  /* its cancel function ends a check early */
    int interval_s;
    int misses;
    const char *health_command;  /* copied; NULL: no health check */
    const char *job_id;          /* for debug lines */
    lg_netprobe *netprobe;       /* the network probes, run every so often with the checks; or NULL */
} lg_heartbeat_params;

/* Starts the thread (idle until the guest is ready). */
lg_heartbeat *lg_heartbeat_start(const lg_heartbeat_params *params);
/* The guest reached ready (true), or is being rebooted (false). */
void lg_heartbeat_set_ready(lg_heartbeat *hb, bool ready);
/* The guest's forwarded port changed (a cold boot starts a new QEMU, which
 * picks a new one): later checks connect there. */
void lg_heartbeat_set_port(lg_heartbeat *hb, int port);
/* The build's health command applies from now on. */
void lg_heartbeat_agent_installed(lg_heartbeat *hb);
/* Stops and joins the thread.  Accepts NULL. */
void lg_heartbeat_stop(lg_heartbeat *hb);
