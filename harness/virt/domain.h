/* One labgate guest domain: defined, started, watched, and always torn down
 * (destroyed and undefined) by lg_domain_free. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

typedef struct lg_domain lg_domain;

/* Called on libvirt's event thread; never after lg_domain_free returns. */
typedef struct lg_domain_handlers {
    void (*console)(void *opaque, const char *data, size_t len);
    void (*lifecycle)(void *opaque, int event, int detail);
    void (*reboot)(void *opaque);
    /* action: a virDomainEventWatchdogAction */
    void (*watchdog)(void *opaque, int action);
    /* QEMU's GUEST_PANICKED event data (JSON), with the guest's own crash
     * details where it has them (hyper-v crash MSRs), and QEMU's timestamp of
     * it (wall clock, microseconds since the epoch) */
    void (*panic_details)(void *opaque, const char *details_json, int64_t qemu_wall_us);
    void *opaque;
} lg_domain_handlers;

/* Defines the domain, registers its events, starts it paused, attaches the
 * serial console stream, then resumes it, so no console byte is missed. */
int lg_domain_launch(lg_conn *conn, const char *xml, const lg_domain_handlers *handlers,
                     lg_domain **out);
const char *lg_domain_name(lg_domain *dom);
/* virDomainGetState: the backstop when an event was missed. */
int lg_domain_state(lg_domain *dom, int *state, int *reason);
/* Evidence (virt/evidence.c).  The screenshot needs the display the domain
 * XML gives every guest; it is written to path_stem plus the extension of
 * the format libvirt delivers, and that path returned (NULL on failure).
 * The memory dump is kdump-compressed, memory only. */
char *lg_domain_screenshot(lg_domain *dom, const char *path_stem);
int lg_domain_memory_dump(lg_domain *dom, const char *path);
lg_conn *lg_domain_conn(lg_domain *dom);
virDomainPtr lg_domain_virt(lg_domain *dom);
/* Destroys (if running) and undefines any domain, with its UEFI varstore
 * and TPM state: what lg_domain_free and `labgate gc` both do.  0, or -EIO
 * with the message set. */
int lg_virt_domain_remove(virDomainPtr dom);
/* Detaches handlers, destroys and undefines.  Accepts NULL. */
void lg_domain_free(lg_domain *dom);
/* Detaches handlers and leaves the domain as it is (crashed, paused or
 * running) for an engineer to attach to.  Accepts NULL. */
void lg_domain_release(lg_domain *dom);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_domain, lg_domain_free)
