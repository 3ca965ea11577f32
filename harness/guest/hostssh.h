/* A remote libvirt host's own SSH: one libssh2 connection per host, owned
 * by one thread, that carries
 *   forwards: a listener on this machine's 127.0.0.1 (a port of the
 *     kernel's choosing) per guest; each connection accepted there is
 *     pumped through a direct-tcpip channel to 127.0.0.1:PORT on the host,
 *     where QEMU forwards it into the guest.  The guest transports and the
 *     network probe connect to the local port as they do for a local host.
 *   reverse forwards: a listener on the host's 127.0.0.1 (port 0: sshd
 *     chooses) whose connections are pumped to a port on this machine's
 *     127.0.0.1 (the network probe's listener, which a guest reaches
 *     through QEMU's guestfwd on the host).
 * The host key is checked against known_hosts (the URI's, or
 * ~/.ssh/known_hosts): an unknown or different key is refused, never
 * accepted.  Every call has a deadline; lg_hostssh_free closes every
 * listener, channel and descriptor and joins the thread. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "virt/remote.h"

typedef struct lg_hostssh lg_hostssh;

/* Connects, checks the host key, authenticates (the URI's keyfile, else
 * ~/.ssh/id_ed25519, id_ecdsa, id_rsa) and starts the pump thread.
 * Errors: -ETIMEDOUT, -ECONNREFUSED/-ECONNRESET, -EKEYREJECTED (host key
 * unknown or different: the message says which and where to add it),
 * -EACCES (no key accepted), -EIO; message set. */
int lg_hostssh_open(const lg_host_ssh *params, int64_t timeout_ms, lg_hostssh **out);
void lg_hostssh_free(lg_hostssh *h);
/* The connection failed after it was opened (every forward is dead). */
bool lg_hostssh_broken(lg_hostssh *h);

/* A local listener for the host's 127.0.0.1:host_port; *local_port. */
int lg_hostssh_forward(lg_hostssh *h, int host_port, int *local_port);
void lg_hostssh_forward_close(lg_hostssh *h, int local_port);
/* The forward at local_port is there and its connection works. */
bool lg_hostssh_forward_alive(lg_hostssh *h, int local_port);
/* A listener on the host's 127.0.0.1 for this machine's
 * 127.0.0.1:local_port; *host_port is the host's port. */
int lg_hostssh_reverse(lg_hostssh *h, int local_port, int64_t timeout_ms, int *host_port);
void lg_hostssh_reverse_close(lg_hostssh *h, int host_port);

/* Runs command on the host (a shell command line; the caller quotes) and
 * collects its stdout, at most max_bytes (-EFBIG beyond), within
 * timeout_ms.  *exit_status: the command's. */
int lg_hostssh_exec(lg_hostssh *h, const char *command, size_t max_bytes, int64_t timeout_ms, lg_buf *out,
                    int *exit_status);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_hostssh, lg_hostssh_free)
