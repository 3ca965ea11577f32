/* The port QEMU chose for a guest's forward.  The domain asks for
 * hostfwd=tcp:127.0.0.1:0-:PORT (virt/domxml.h ssh_port_auto): QEMU binds
 * a free port on the host's loopback itself, so no port is chosen by
 * labgate and then raced for, and a remote host's port is the host's own.
 * It is read back with HMP `info usernet`. */
#pragma once
#include <stdint.h>

#include "domain.h"

/* The hypervisor's reply is bounded: more than this is not a usernet table. */
#define LG_USERNET_REPLY_MAX (64 * 1024)

/* From `info usernet` text: the host port of the one TCP host forward on
 * 127.0.0.1 to guest_port.  -ENOENT none, -EPROTO the text is not the
 * table (a line that is not the shape QEMU prints, a port out of range,
 * two forwards to the port, too long); message set.  Pure: unit-tested. */
int lg_usernet_hostfwd_port(const char *text, int guest_port, int *host_port);

/* Asks QEMU (virDomainQemuMonitorCommand, HMP, under a deadline) and
 * parses the reply.  Errors as above, or -EIO (libvirt's message),
 * -ETIMEDOUT. */
int lg_domain_hostfwd_port(lg_domain *dom, int guest_port, int64_t timeout_ms, int *host_port);
