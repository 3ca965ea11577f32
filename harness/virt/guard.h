/* A deadline for a libvirt call that waits on QEMU and has none of its own:
 * a screenshot or a memory dump (QEMU's monitor, then a job that can run for
 * minutes), or a resume.  Past the deadline the guard aborts the domain's
 * job (virDomainAbortJob ends a dump); if the call still has not returned
 * after the grace time, it destroys the domain, which ends any call waiting
 * on that QEMU.  Calls that do not wait on QEMU are bounded by the
 * connection's keepalive (virt/conn.c), calls into the guest agent by their
 * own timeout. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#define LG_GUARD_GRACE_MS 5000

typedef struct lg_guard lg_guard;

/* Starts the clock (a thread that holds its own reference to DOM); NULL
 * when no thread could be started (the call then runs unguarded). */
lg_guard *lg_guard_arm(virDomainPtr dom, int64_t timeout_ms, int64_t grace_ms, const char *what);
/* Whether the deadline has passed (the guard has acted). */
bool lg_guard_fired(lg_guard *g);
/* Stops the clock and frees the guard; true when it fired.  Accepts NULL. */
bool lg_guard_disarm(lg_guard *g);
