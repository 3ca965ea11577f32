/* Which libvirt URIs name another machine, and how that machine's own SSH
 * is reached.  Decided here, once: every URI whose transport is not a local
 * unix socket of a daemon running as us is remote (qemu+ssh, qemu+libssh,
 * qemu+libssh2, qemu+tls, qemu+tcp, qemu+ext, a host name, a socket= path
 * of someone else's daemon), and nothing of such a host is read or written
 * as a local file: disks and dumps go through its storage pool, the guest's
 * forwarded port and the hypervisor's logs through its SSH. */
#pragma once
#include <stdbool.h>

/* true: the URI's daemon may not share this machine's files (or user). */
bool lg_uri_is_remote(const char *uri);
/* The daemon listens on a unix socket, so it runs on this machine (perhaps
 * as another user: lg_uri_is_remote says its files are not ours): the
 * guests' forwarded ports are on this machine's loopback, no SSH needed. */
bool lg_uri_on_this_machine(const char *text);
/* true: the URI's path is /session (a per-user daemon). */
bool lg_uri_is_session(const char *uri);

/* The host's SSH, from the libvirt URI: user@host:port for the ssh
 * transports (the URI's port is sshd's), port 22 for tls/tcp (the URI's
 * port is libvirtd's); keyfile= and known_hosts= from its query (absolute
 * paths; none: the ssh agent's defaults ~/.ssh/id_* and ~/.ssh/known_hosts
 * of the user running labgate). */
typedef struct lg_host_ssh {
    char *user;
    char *host;
    int port;
    char *keyfile;     /* private key, or NULL */
    char *known_hosts; /* OpenSSH known_hosts file */
} lg_host_ssh;

/* 0, or -EINVAL with a message naming the URI and what is wrong with it
 * (no host, a user or host that could be read as an option, a port out of
 * range, a relative key path, known_hosts checks turned off). */
int lg_uri_host_ssh(const char *uri, lg_host_ssh *out);
void lg_host_ssh_clear(lg_host_ssh *ssh);

/* Where libvirt keeps a domain's hypervisor log on a remote host, as a
 * path for its shell (relative to the SSH user's home for a session
 * daemon); NULL for a URI that is not remote.  The domain name must be
 * labgate's (letters, digits, '-', '_', '.'), else NULL. */
char *lg_uri_remote_log_path(const char *uri, const char *domain, bool swtpm);
